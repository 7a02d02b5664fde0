"""The contract's JSON Schemas (contract/*.schema.json) and the code agree.

- Requests: whatever the request schema accepts, the parser accepts (instances generated from the
  schema by hypothesis-jsonschema); a valid request broken in one of many ways is refused by both.
- Responses: every response the pipeline builds (ok, error, invalid request) satisfies the schema.
- Feedback: the schema and the feedback reader accept and refuse the same events.
- The README's example request and response satisfy the schemas.
"""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from core.config import REPO_ROOT
from core.errors import InvalidRequestError
from core.events import Attempt, Verification
from core.outcomes import feedback_row
from core.request import request_from_payload
from core.responses import error_response, invalid_request_response, ok_response
from tests.fakes import job

CONTRACT = REPO_ROOT / "contract"
REQUEST = json.loads((CONTRACT / "request.v1.schema.json").read_text())
RESPONSE = json.loads((CONTRACT / "response.v1.schema.json").read_text())
FEEDBACK = json.loads((CONTRACT / "feedback.v1.schema.json").read_text())
CHECKER = jsonschema.Draft202012Validator.FORMAT_CHECKER
# generating whole requests from the schema is slow and large by nature; derandomized, so every run
# checks the same examples and a failure reproduces
SLOW_GENERATION = [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large]


def _valid(schema: dict[str, Any], value: Any) -> bool:
    return jsonschema.Draft202012Validator(schema, format_checker=CHECKER).is_valid(value)


def test_the_schemas_are_valid_json_schemas() -> None:
    for schema in (REQUEST, RESPONSE, FEEDBACK):
        jsonschema.Draft202012Validator.check_schema(schema)


@settings(max_examples=60, deadline=None, suppress_health_check=SLOW_GENERATION, derandomize=True)
@given(from_schema(REQUEST))
def test_what_the_request_schema_accepts_the_parser_accepts(payload: dict[str, Any]) -> None:
    request = request_from_payload(payload)
    assert request.request_id == payload["request_id"]


BREAKS: list[tuple[str, Any]] = [  # (field, value): each makes a request invalid on its own
    ("request_id", None), ("request_id", ""), ("request_id", "x" * 201), ("tenant", 7), ("messages", []),
    ("messages", [{"role": "robot", "content": "hi"}]), ("messages", [{"role": "user"}]),
    ("messages", [{"role": "tool", "content": "42"}]),
    ("messages", [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:,"}}]}]),
    ("messages", [{"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": "AA"}}]}]),
    ("max_output_tokens", 0), ("max_tokens", -5), ("latency_class", "soon"), ("deadline", "tomorrow"),
    ("deadline", 5), ("max_cost_usd", -1), ("data_policy", {"pii": "yes"}), ("quality_floor", 10),
    ("preferred_tier", 0), ("quality_target", 1.5), ("temperature", 2.5), ("top_p", 0), ("stop", []),
    ("stop", ["a", "b", "c", "d", "e"]), ("seed", 1.5), ("n", 2), ("stream", True), ("model", ""), ("model", 5),
    ("tools", [{"type": "function"}]), ("tool_choice", "required"), ("logprobs", True), ("frequency_penalty", 1),
    ("schema_version", 2), ("metadata", "x"), ("response_format", "json"),
]


@pytest.mark.parametrize(("field", "value"), BREAKS, ids=[f"{f}={str(v)[:20]}" for f, v in BREAKS])
def test_what_breaks_a_request_is_refused_by_the_schema_and_by_the_parser(field: str, value: Any) -> None:
    payload = {"request_id": "r1", "tenant": "acme", "messages": [{"role": "user", "content": "hi"}], field: value}
    assert not _valid(REQUEST, payload)
    with pytest.raises(InvalidRequestError):
        request_from_payload(payload)


VALID = [  # requests the schema accepts, of every message kind, to break one way each
    {"request_id": "r1", "tenant": "acme", "messages": [{"role": "user", "content": "hi"}]},
    {"request_id": "r2", "tenant": "acme", "max_tokens": 50, "temperature": 0.3, "stop": ["x"], "metadata": {"a": 1},
     "messages": [{"role": "system", "content": "be brief"},
                  {"role": "user", "content": [{"type": "text", "text": "what is it?"},
                                               {"type": "image_url", "image_url": {"url": "https://x/a.png"}}]}]},
    {"request_id": "r3", "tenant": "acme", "tools": [{"type": "function", "function": {"name": "f"}}],
     "tool_choice": "required",
     "messages": [{"role": "user", "content": "call f"},
                  {"role": "assistant", "content": None,
                   "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
                  {"role": "tool", "tool_call_id": "c1", "content": "42"}]},
]


@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.sampled_from(VALID), st.sampled_from(BREAKS))
def test_a_valid_request_broken_in_one_way_is_refused_by_both(payload: dict[str, Any], brk: tuple) -> None:
    assert _valid(REQUEST, payload)
    request_from_payload(payload)
    field, value = brk
    broken = {**payload, field: value}
    if field == "tool_choice":  # the break is asking for a tool where none is offered
        broken.pop("tools", None)
    if field in ("max_tokens",):  # an alias: keep it the only output limit so the break is the value
        broken.pop("max_output_tokens", None)
        broken.pop("max_completion_tokens", None)
    assert not _valid(REQUEST, broken)
    with pytest.raises(InvalidRequestError):
        request_from_payload(broken)


def test_every_response_the_pipeline_builds_satisfies_the_response_schema() -> None:
    j = job(1)
    answer = Attempt(1, "gpt-4o-mini", "openai", 1, "ok", 0, 12.0, content="4", finish_reason="stop",
                     input_tokens=10, output_tokens=1, cost_usd=0.00001)
    j.attempts.append(answer)
    j.verifications.append(Verification(1.0, True, "", {"not_empty": True}))
    bodies = [ok_response(j, answer, 5), ok_response(j, answer, 5, best_effort=True),
              error_response(j, "provider_unavailable", "every model failed", 5),
              error_response(job(2), "no_eligible_model", "nothing fits", 5),
              invalid_request_response({"request_id": "r", "tenant": "t", "metadata": {"a": 1}}, ["x: bad"], 5),
              invalid_request_response(None, ["body: not valid JSON"], 5)]
    for body in bodies:
        jsonschema.validate(json.loads(json.dumps(body)), RESPONSE)
    assert not _valid(RESPONSE, {**bodies[0], "status": "maybe"})
    assert not _valid(RESPONSE, {**bodies[2], "error": {"message": "no code"}})


@settings(max_examples=100, deadline=None, derandomize=True)
@given(st.one_of(from_schema(FEEDBACK), st.dictionaries(st.sampled_from(["request_id", "score", "label", "source"]),
                                                        st.one_of(st.none(), st.text(max_size=5), st.floats(-1, 2),
                                                                  st.booleans(), st.integers(-2, 2)))))
def test_the_feedback_schema_and_reader_agree(event: dict[str, Any]) -> None:
    try:
        feedback_row(event, 0)
        accepted = True
    except InvalidRequestError:
        accepted = False
    assert accepted == _valid(FEEDBACK, event), event


def _readme_example(heading: str) -> dict[str, Any]:
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index(heading):]
    return json.loads(re.search(r"```json\n(.*?)```", section, re.DOTALL).group(1))  # type: ignore[union-attr]


def test_the_readme_examples_satisfy_the_schemas() -> None:
    assert _valid(REQUEST, _readme_example("### Request ("))
    request_from_payload(_readme_example("### Request ("))
    assert _valid(RESPONSE, _readme_example("### Response ("))
