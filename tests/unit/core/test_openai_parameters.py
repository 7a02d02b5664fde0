"""OpenAI chat parameters in a request: honoured (and carried on the job) or refused by name, never dropped."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from core.errors import InvalidRequestError
from core.events import Job
from core.openai_params import UNSUPPORTED
from core.request import request_from_payload


def _req(**fields: Any) -> dict[str, Any]:
    return {"request_id": "r1", "tenant": "acme", "messages": [{"role": "user", "content": "hi"}], **fields}


def _problems(**fields: Any) -> list[str]:
    with pytest.raises(InvalidRequestError) as info:
        request_from_payload(_req(**fields))
    return info.value.problems


def test_sampling_parameters_and_output_limit_aliases_are_kept_and_travel_on_the_job() -> None:
    r = request_from_payload(_req(temperature=0.2, top_p=0.5, stop="###", seed=11, user="end-user-7",
                                  max_completion_tokens=300, n=1, stream=False, model="router/auto"))
    assert (r.sampling.temperature, r.sampling.top_p, r.sampling.stop, r.sampling.seed, r.sampling.user) == \
        (0.2, 0.5, ["###"], 11, "end-user-7")
    assert r.max_output_tokens == 300 and "max_completion_tokens" not in r.extra
    assert request_from_payload(_req(max_tokens=40)).max_output_tokens == 40
    assert request_from_payload(_req(max_tokens=40, max_output_tokens=40)).max_output_tokens == 40
    again = Job.decode(Job(request=r, received_at_ms=1).encode()).request
    assert again.sampling == r.sampling  # carried through every stage to the adapter
    assert r.model is None and request_from_payload(_req(model="gpt-4o")).model == "gpt-4o"  # pinned


def test_values_out_of_range_are_named() -> None:
    problems = _problems(temperature=3, top_p=0, stop=["a", "b", "c", "d", "e"], seed=1.5, max_tokens=10,
                         max_output_tokens=20, n=2, stream=True, model=["gpt-4o"])
    text = "\n".join(problems)
    assert "temperature: expected a number from 0 to 2, got 3.0" in text
    assert "top_p: expected a number above 0 and at most 1, got 0.0" in text
    assert "stop: expected a string or an array of 1 to 4 non-empty strings" in text
    assert "seed: expected an integer, got 1.5" in text
    assert "max_output_tokens, max_tokens: different output limits" in text
    assert "n: one answer per request is supported, got 2" in text
    assert "stream: responses on Kafka are whole messages" in text
    assert "model: expected a catalog model's name or an alias such as router/auto, got ['gpt-4o']" in text


@pytest.mark.parametrize("name", sorted(UNSUPPORTED))
def test_each_unsupported_openai_field_is_refused_by_name(name: str) -> None:
    value: Any = {"functions": [{"name": "f"}], "function_call": "auto", "logprobs": True, "top_logprobs": 3,
                  "logit_bias": {"50256": -100}, "frequency_penalty": 0.5,
                  "presence_penalty": 0.5, "audio": {"voice": "alloy"}, "modalities": ["text", "audio"],
                  "prediction": {"type": "content"}, "stream_options": {"include_usage": True}}[name]
    assert any(p.startswith(f"{name}: ") for p in _problems(**{name: value}))


def test_values_that_ask_for_nothing_are_accepted() -> None:
    r = request_from_payload(_req(tools=[], tool_choice="none", logprobs=False, frequency_penalty=0,
                                  presence_penalty=0, modalities=["text"], logit_bias={}))
    assert r.request_id == "r1"


def test_images_are_accepted_and_bad_image_parts_audio_and_malformed_tool_turns_refused_where_they_are() -> None:
    ok = request_from_payload(_req(messages=[{"role": "user", "content": [
        {"type": "text", "text": "what is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA"}},
        {"type": "image_url", "image_url": {"url": "https://example.org/cat.jpg", "detail": "low"}}]}]))
    assert ok.images() == ["data:image/png;base64,AA", "https://example.org/cat.jpg"]
    messages = [{"role": "user", "content": [{"type": "text", "text": "what is this?"},
                                             {"type": "input_audio", "input_audio": {"data": "AA"}},
                                             {"type": "image_url", "image_url": {"url": "ftp://x/cat.png"}},
                                             {"type": "image_url", "image_url": {"url": "data:text/plain,hi"}}]},
                {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function"}]},
                {"role": "tool", "content": "42"}]
    text = "\n".join(_problems(messages=messages))
    assert "messages[0].content[1]: 'input_audio' parts are not supported yet" in text
    assert "messages[0].content[2].image_url: expected a data: or http(s) URL, got 'ftp://x/cat.png'" in text
    assert "messages[0].content[3].image_url: a data URL must be data:image/<type>;base64,<data>" in text
    assert "messages[1].tool_calls[0]: expected {id, type: function, function: {name, arguments" in text
    assert "messages[2].tool_call_id: a tool result names the call it answers" in text
    assert orjson.dumps(messages)  # (the request itself stays intact for the DLQ copy)


def test_a_fenced_json_answer_reaches_the_consumer_unfenced() -> None:
    from core.validators import json_problem, unwrapped_json

    asked = {"type": "json_object"}
    fenced = 'Here you go:\n```json\n{"city": "Paris"}\n```\n'
    assert unwrapped_json(fenced, asked) == '{"city": "Paris"}'
    assert json_problem(unwrapped_json(fenced, asked), asked) is None
    assert unwrapped_json('  {"a": 1}\n', asked) == '{"a": 1}'
    assert unwrapped_json(fenced, None) == fenced  # no JSON asked for: the answer as it came
    assert unwrapped_json("```json\n{not json}\n```", asked) == "```json\n{not json}\n```"  # verification judges it


def test_a_tool_loop_is_accepted_and_carried_on_the_job() -> None:
    weather = {"name": "get_weather", "description": "weather by city",
               "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}
    tools = [{"type": "function", "function": weather}]
    messages = [{"role": "user", "content": "Weather in Paris?"},
                {"role": "assistant", "content": None, "tool_calls": [
                    {"id": "call_1", "type": "function",
                     "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}]},
                {"role": "tool", "tool_call_id": "call_1", "content": "18 C, sunny"}]
    r = request_from_payload(_req(messages=messages, tools=tools, tool_choice="auto", parallel_tool_calls=False))
    assert r.uses_tools and r.tools == tools and (r.tool_choice, r.parallel_tool_calls) == ("auto", False)
    again = Job.decode(Job(request=r, received_at_ms=1).encode()).request
    assert (again.tools, again.tool_choice, again.parallel_tool_calls) == (tools, "auto", False)
    text = "\n".join(_problems(tools=[{"type": "function", "function": {"name": "bad name!"}}], tool_choice="any"))
    assert "tools[0]: expected {type: function" in text and "tool_choice: expected none, auto, required" in text
    assert "tool_choice: there are no tools to choose from" in "\n".join(_problems(tool_choice="required"))
