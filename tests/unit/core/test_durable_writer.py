"""The sink's writer: a bad row is isolated and set aside, a down server is waited for."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from core.dedup import SeenCache
from core.durable_writer import DurableWriter, first_copies, group_rows, row_problem
from core.errors import SinkError
from core.outcomes import COLUMNS
from core.publisher import Publisher
from core.topics import TopicNames
from tests.fakes import FakeClock, RecordingOutbox

NAMES = TopicNames("t.")


class FakeTable:
    """Refuses rows whose cost is not a number; can be 'down' for a number of calls."""

    def __init__(self, down_calls: int = 0) -> None:
        self.rows: list[dict[str, Any]] = []
        self.down_calls = down_calls
        self.rows_written: dict[str, int] = {}

    def insert(self, table: str, rows: Sequence[dict[str, Any]]) -> None:
        if self.down_calls:
            self.down_calls -= 1
            raise SinkError("connection refused")
        if any(not isinstance(r.get("cost_usd", 0), (int, float)) for r in rows):
            raise SinkError("Cannot parse cost_usd", retryable=False)
        self.rows.extend(rows)


def _row(i: int, cost: object = 0.1) -> dict[str, Any]:
    return {**dict.fromkeys(COLUMNS["requests"], 0), "request_id": f"r{i}", "cost_usd": cost}


async def test_one_bad_row_is_set_aside_and_the_rest_written() -> None:
    table, sent = FakeTable(), RecordingOutbox()
    writer = DurableWriter(table, FakeClock(), sent, Publisher(NAMES))
    rows = [_row(i) for i in range(9)] + [_row(9, "lots")]
    refused = await writer.write("requests", rows)
    assert [r.row["request_id"] for r in refused] == ["r9"]
    assert len(table.rows) == 9
    await writer.set_aside(refused)
    dlq = [o for o in sent.outs if o.topic == NAMES.outcomes_dlq]
    assert len(dlq) == 1 and orjson.loads(dlq[0].value)["row"]["request_id"] == "r9"
    assert table.rows[-1]["reason"].startswith("sink_error") or "Cannot parse" in table.rows[-1]["reason"]


async def test_a_down_server_is_retried_with_backoff_until_it_answers() -> None:
    clock = FakeClock()
    table = FakeTable(down_calls=4)
    writer = DurableWriter(table, clock, RecordingOutbox(), Publisher(NAMES), max_backoff_s=0.4)
    refused = await writer.write("requests", [_row(1)])
    assert refused == [] and len(table.rows) == 1
    assert clock.slept == [0.1, 0.2, 0.4, 0.4]


async def test_a_batch_of_only_bad_rows_is_set_aside_without_stalling() -> None:
    table = FakeTable()
    writer = DurableWriter(table, FakeClock(), RecordingOutbox(), Publisher(NAMES))
    refused = await writer.write("requests", [_row(1, "x"), _row(2, "y")])
    assert [r.row["request_id"] for r in refused] == ["r1", "r2"] and table.rows == []


def test_row_problem_names_what_is_missing() -> None:
    assert row_problem("nope", {}) == "unknown table 'nope'"
    assert row_problem("requests", []) == "expected an object, got list"
    row = _row(1)
    del row["tenant"]
    assert row_problem("requests", row) == "missing columns: tenant"
    assert row_problem("requests", _row(1)) is None


def test_group_rows_keeps_sources_and_refuses_what_cannot_be_written() -> None:
    good = orjson.dumps({"t": "requests", "r": _row(1)})
    msgs = [(good, ("o", 0, 1)), (b"\xff", ("o", 0, 2)), (orjson.dumps({"t": "nope", "r": {}}), ("o", 1, 3)),
            (orjson.dumps({"t": ["requests"], "r": {}}), ("o", 1, 4)), (None, ("o", 1, 5))]
    tables, sources, bad = group_rows(msgs)
    assert [r["request_id"] for r in tables["requests"]] == ["r1"]
    assert sources[id(tables["requests"][0])] == ("o", 0, 1)
    assert [(b.source[2], b.reason.split(" (")[0]) for b in bad] == [
        (2, "unreadable outcome message"), (3, "unknown table 'nope'"), (4, "table name is not a string"),
        (5, "unreadable outcome message")]


def test_first_copies_writes_each_request_once() -> None:
    seen = SeenCache()
    seen.first("r1", 0)
    rows = [_row(1), _row(2), {**_row(2), "cost_usd": 9.0}, _row(3)]
    assert [(r["request_id"], r["cost_usd"]) for r in first_copies(rows, seen, 10)] == [("r2", 0.1), ("r3", 0.1)]


def test_group_rows_reads_every_row_of_a_packed_message() -> None:
    packed = orjson.dumps({"t": "requests", "r": _row(1)}) + b"\n" + orjson.dumps({"t": "nope", "r": {}}) + b"\n" + \
        orjson.dumps({"t": "requests", "r": _row(2)})
    tables, sources, bad = group_rows([(packed, ("o", 0, 7))])
    assert [r["request_id"] for r in tables["requests"]] == ["r1", "r2"]
    assert {sources[id(r)] for r in tables["requests"]} == {("o", 0, 7)}
    assert [(b.source, b.reason) for b in bad] == [(("o", 0, 7), "unknown table 'nope'")]
