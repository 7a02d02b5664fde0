from __future__ import annotations

import pytest

from core.events import Attempt, Classification
from core.validators import code_syntax, conforms, json_problem, refusal, repetition, wrong_language
from core.verification import verify
from tests.fakes import job

SCHEMA = {"type": "json_schema", "json_schema": {"name": "s", "schema": {
    "type": "object", "required": ["city", "population"],
    "properties": {"city": {"type": "string"}, "population": {"type": "integer"},
                   "tags": {"type": "array", "items": {"type": "string"}}}}}}


@pytest.mark.parametrize(("answer", "expected"), [
    ("I'm sorry, but I can't help with that request.", True),
    ("As an AI language model, I cannot provide medical advice.", True),
    ("申し訳ありませんが、その質問にはお答えできません。", True),
    ("Sorry for the wait! The answer is 42.", False),
    ("The function cannot be called twice; here is why...", False),
])
def test_refusal(answer: str, expected: bool) -> None:
    assert refusal(answer) is expected


def test_json_against_the_requested_schema() -> None:
    assert json_problem('{"city": "Lima", "population": 10000000}', SCHEMA) is None
    assert json_problem('```json\n{"city": "Lima", "population": 1}\n```', SCHEMA) is None
    assert json_problem('{"city": "Lima"}', SCHEMA) == "json_schema"
    assert json_problem('{"city": "Lima", "population": "ten"}', SCHEMA) == "json_schema"
    assert json_problem("[" * 100_000 + "]" * 100_000, SCHEMA) == "json_invalid"  # too deep to decode: invalid
    assert json_problem("Lima has ten million people", SCHEMA) == "json_invalid"
    assert json_problem("anything", None) is None
    assert conforms({"tags": ["a", 1]}, SCHEMA["json_schema"]["schema"] | {"required": []}) is False


def test_python_that_does_not_parse() -> None:
    assert code_syntax("```python\ndef f(x):\n    return x +\n```")
    assert not code_syntax("```python\ndef f(x):\n    return x + 1\n```")
    assert code_syntax("```js\nfunction f() { return [1, 2;\n```")
    assert not code_syntax("no code here")


def test_wrong_language() -> None:
    assert wrong_language("富士山の高さは何メートルですか？", "Mount Fuji is 3,776 metres tall, the highest in Japan.")
    assert not wrong_language("富士山の高さは何メートルですか？", "富士山の高さは3,776メートルです。")
    assert not wrong_language("How tall is Mount Fuji?", "富士山 is 3,776 m tall, the highest peak in Japan.")


def test_repetition() -> None:
    assert repetition("the same words again " * 60)
    assert repetition("\n".join(["Step: repeat"] * 10))
    assert not repetition("A varied answer with enough different words to look like a real reply. " * 2)
    assert not repetition("\n".join(["Step: repeat"] * 5 + [f"step {i}" for i in range(6)]))  # 5 of 11: not most


@pytest.mark.timeout(60)  # a liveness guard, not a speed target: the check takes milliseconds here
def test_a_provider_answer_of_a_hundred_thousand_distinct_lines_is_checked_without_stalling_the_worker() -> None:
    answer = "\n".join(f"line {i}" for i in range(100_000))  # about 1 MB: the largest answer a message carries
    assert not repetition(answer)  # counting each distinct line on its own took about two minutes
    assert repetition(answer + "\n" + "\n".join(["again"] * 100_001))


def test_verify_reports_the_first_failing_check() -> None:
    j = job(1, response_format=SCHEMA)
    j.classification = Classification("code", 1, 0.9)
    a = Attempt(1, "m", "p", 1, "ok", 0, 1.0, content='{"city": "Lima"}', finish_reason="stop")
    v = verify(a, j)
    assert (v.passed, v.reason) == (False, "json_schema")
    assert v.checks["not_empty"] and not v.checks["json_schema"]
