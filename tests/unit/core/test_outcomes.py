"""The column list the sink writes must match the DDL in sql/ exactly."""

from __future__ import annotations

import re

import pytest

from core.config import REPO_ROOT
from core.outcomes import COLUMNS
from core.topics import TopicNames

NAMES = TopicNames("llm.")

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


def test_rows_are_packed_within_the_budget_and_split_back_in_order() -> None:
    from core.outcomes import encode, pack, rows_in

    rows = [encode("requests", {"request_id": f"r{i}", "text": "line\nbreak"}) for i in range(50)]
    messages = pack(rows, budget=400)
    assert 1 < len(messages) < 50 and all(len(m) <= 400 for m in messages)
    assert [r for m in messages for r in rows_in(m)] == rows  # a newline inside a string never splits a row
    assert pack([b"x" * 500, b"y"], budget=400) == [b"x" * 500, b"y"]  # an oversized row stays alone
    assert rows_in(None) == [None] and rows_in(b"") == [b""]


def test_a_batch_of_outs_sends_its_rows_as_one_message_after_the_rest() -> None:
    from core.messages import Out, packed
    from core.outcomes import encode

    outs = [Out(NAMES.outcomes, b"a", encode("requests", {"request_id": "a"})), Out(NAMES.routed, b"a", b"{}"),
            Out(NAMES.outcomes, b"b", encode("decisions", {"request_id": "b"}))]
    sent = packed(outs, NAMES.outcomes, 10_000)
    assert [o.topic for o in sent] == [NAMES.routed, NAMES.outcomes]
    assert sent[1].value == outs[0].value + b"\n" + outs[2].value
    assert packed(outs[:2], NAMES.outcomes, 10_000) == outs[:2]
