"""What ``llm-router dlq replay`` sends for each kind of DLQ record (the pure part)."""

from __future__ import annotations

import base64

import orjson

from cli.dlq import Replay, plan
from core.payload import payload_copy
from core.topics import TopicNames

NAMES = TopicNames("t.")


def test_a_refused_request_goes_back_to_the_requests_topic_with_its_bytes() -> None:
    raw = b'{"request_id":"r1","messages":[]}'
    record = {"error": {"code": "invalid_request"}, "source": {"topic": NAMES.requests, "partition": 2, "offset": 9},
              **payload_copy(raw)}
    assert plan("requests", b"r1", record, NAMES) == Replay(NAMES.requests, b"r1", raw)
    binary = b"\xff\xfe not utf-8"
    assert plan("requests", b"k", {**record, **payload_copy(binary), "payload": None}, NAMES) == \
        Replay(NAMES.requests, b"k", binary)


def test_a_truncated_copy_is_read_from_its_source_offset_instead() -> None:
    record = {"source": {"topic": NAMES.requests, "partition": 1, "offset": 40}, **payload_copy(b"x" * 100, limit=10)}
    assert plan("requests", b"k", record, NAMES) == Replay(NAMES.requests, b"k", None, (NAMES.requests, 1, 40))
    no_source = {**payload_copy(b"x" * 100, limit=10)}
    assert "no source offset" in str(plan("requests", b"k", no_source, NAMES))


def test_internal_events_only_go_back_to_stage_topics_and_rows_to_the_outcomes_topic() -> None:
    job = {"source": {"topic": NAMES.routed, "partition": 0, "offset": 3}, "payload": '{"request": {}}'}
    assert plan("internal", b"r", job, NAMES) == Replay(NAMES.routed, b"r", b'{"request": {}}')
    forged = {"source": {"topic": NAMES.responses, "partition": 0, "offset": 3}, "payload": "{}"}
    assert "not a pipeline stage topic" in str(plan("internal", b"r", forged, NAMES))
    row = {"error": {"code": "row_refused"}, "table": "requests", "row": {"request_id": "r"}}
    assert plan("outcomes", b"r", row, NAMES) == Replay(NAMES.outcomes, b"r", orjson.dumps({"t": "requests",
                                                                                          "r": {"request_id": "r"}}))
    assert "nothing to replay" in str(plan("outcomes", b"r", {"table": "", "row": {"raw": "x"}}, NAMES))
    assert plan("requests", b"r", {"payload_b64": base64.b64encode(b"ab").decode()}, NAMES) == \
        Replay(NAMES.requests, b"r", b"ab")
