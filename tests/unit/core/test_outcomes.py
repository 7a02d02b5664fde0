"""The column list the sink writes must match the DDL in sql/ exactly."""

from __future__ import annotations

import re

import pytest

from core.config import REPO_ROOT
from core.outcomes import COLUMNS

_COLUMN = re.compile(r"^\s{4}([a-z_]+)\s+[A-Z]", re.MULTILINE)


_ADD = re.compile(r"ALTER TABLE llm\.(\w+) ADD COLUMN IF NOT EXISTS (\w+)")


def ddl_columns(table: str) -> list[str]:
    """Columns after every migration: the CREATE TABLE, then ADD COLUMNs in file order."""
    columns: list[str] = []
    for path in sorted((REPO_ROOT / "sql").glob("*.sql")):
        text = path.read_text()
        marker = f"CREATE TABLE IF NOT EXISTS llm.{table}\n"
        if marker in text:
            body = text.split(marker, 1)[1].split("(", 1)[1].split("\n)\n", 1)[0]
            columns = [c for c in _COLUMN.findall(body) if c != "INDEX"]
        columns += [col for t, col in _ADD.findall(text) if t == table]
    assert columns, f"no DDL for llm.{table}"
    return columns


@pytest.mark.parametrize("table", sorted(COLUMNS))
def test_columns_match_ddl(table: str) -> None:
    assert list(COLUMNS[table]) == ddl_columns(table)


def test_a_row_is_recognised_by_its_table_without_decoding() -> None:
    from core.outcomes import encode, is_row_of

    value = encode("requests", {"request_id": "r", "cost_usd": 0.1})
    assert is_row_of(value, "requests")
    assert not is_row_of(value, "verdicts") and not is_row_of(encode("requests_x", {}), "requests")
    assert not is_row_of(None, "requests") and not is_row_of(b"", "requests")
