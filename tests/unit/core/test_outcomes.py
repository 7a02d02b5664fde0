"""The column list the sink writes must match the DDL in sql/ exactly."""

from __future__ import annotations

import re

import pytest

from core.config import REPO_ROOT
from core.outcomes import COLUMNS

_COLUMN = re.compile(r"^\s{4}([a-z_]+)\s+[A-Z]", re.MULTILINE)


def ddl_columns(table: str) -> list[str]:
    for path in sorted((REPO_ROOT / "sql").glob("*.sql")):
        text = path.read_text()
        if f"CREATE TABLE IF NOT EXISTS llm.{table}\n" in text:
            body = text.split("(", 1)[1].split("\n)\n", 1)[0]
            return [c for c in _COLUMN.findall(body) if c != "INDEX"]
    raise AssertionError(f"no DDL for llm.{table}")


@pytest.mark.parametrize("table", sorted(COLUMNS))
def test_columns_match_ddl(table: str) -> None:
    assert list(COLUMNS[table]) == ddl_columns(table)
