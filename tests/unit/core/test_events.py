from __future__ import annotations

import orjson
import pytest

from core.errors import InvalidRequestError
from core.events import Attempt, Candidate, Classification, Decision, Job, Verification
from core.request import parse_request


def _raw(**fields: object) -> bytes:
    base: dict[str, object] = {"request_id": "r1", "tenant": "acme", "messages": [{"role": "user", "content": "hi"}]}
    base.update(fields)
    return orjson.dumps({k: v for k, v in base.items() if v is not ...})


def problems(raw: bytes) -> list[str]:
    with pytest.raises(InvalidRequestError) as info:
        parse_request(raw)
    return info.value.problems


def test_minimal_request_is_valid() -> None:
    r = parse_request(_raw())
    assert (r.request_id, r.tenant, r.latency_class) == ("r1", "acme", "realtime")


def test_bad_json_names_the_body() -> None:
    assert problems(b"{nope")[0].startswith("body: not valid JSON")


def test_non_object_body() -> None:
    assert problems(b"[1, 2]") == ["body: expected a JSON object, got list"]


def test_every_problem_is_reported_with_its_field() -> None:
    found = problems(_raw(request_id=..., tenant=5, messages="hi", max_output_tokens="lots",
                          latency_class="soon", data_policy={"pii": "yes"}))
    assert "request_id: required field missing" in found
    assert "tenant: expected string, got int" in found
    assert "messages: expected array, got str" in found
    assert "max_output_tokens: expected a positive integer, got 'lots'" in found
    assert any(p.startswith("latency_class:") for p in found)
    assert "data_policy.pii: expected boolean, got str" in found


def test_message_shape_is_checked_per_message() -> None:
    found = problems(_raw(messages=[{"role": "wizard", "content": "x"}, {"role": "user"}, "text"]))
    assert any(p.startswith("messages[0].role:") for p in found)
    assert "messages[1].content: expected string or array of parts, got null" in found
    assert "messages[2]: expected object, got str" in found


def test_empty_messages_rejected() -> None:
    assert problems(_raw(messages=[])) == ["messages: must contain at least one message"]


def test_bool_is_not_an_integer() -> None:
    assert problems(_raw(max_output_tokens=True))[0].startswith("max_output_tokens:")


def test_unknown_fields_are_kept() -> None:
    r = parse_request(_raw(trace_id="abc", experimental={"x": 1}))
    assert r.extra == {"trace_id": "abc", "experimental": {"x": 1}}


def test_deadline_iso_and_epoch() -> None:
    assert parse_request(_raw(deadline="2026-01-01T00:00:00Z")).deadline_ms == 1767225600000
    assert parse_request(_raw(deadline=1767225600)).deadline_ms == 1767225600000
    assert problems(_raw(deadline="2026-01-01T00:00:00"))[0].startswith("deadline: timestamp needs a time zone")
    assert problems(_raw(deadline="tomorrow"))[0].startswith("deadline: not an ISO-8601")


def test_japanese_text_and_content_parts() -> None:
    r = parse_request(_raw(messages=[{"role": "user", "content": [{"type": "text", "text": "富士山の高さは？"}]}]))
    assert r.prompt_text() == "富士山の高さは？"


def test_unsupported_schema_version() -> None:
    assert problems(_raw(schema_version=2))[0].startswith("schema_version: unsupported value 2")


def test_job_round_trips_through_json() -> None:
    job = Job(request=parse_request(_raw(metadata={"k": "v"}, data_policy={"region": "eu"})), received_at_ms=5)
    job.classification = Classification("code", 2, 0.7, {"code": 0.7}, {"2": 1.0}, False, True, "v1", "f1")
    job.decision = Decision("m", "p", 2, 0.01, "why", [Candidate("m", 2, 0.01, None), Candidate("x", 1, 0.0, "region")])
    job.attempts.append(Attempt(1, "m", "p", 2, "ok", 6, 12.5, content="答え", finish_reason="stop"))
    job.verifications.append(Verification(1.0, True, "", {"not_empty": True}))
    job.escalations.append("empty")
    again = Job.decode(job.encode())
    assert again == job
