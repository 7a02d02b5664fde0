"""Cheap answer checks, each returning a reason code when the answer fails (pure, stdlib only).

empty, truncated, refusal (English and Japanese), json_invalid / json_schema (against the request's
``response_format``), code_syntax (Python fenced blocks, via ``ast``), wrong_language (the prompt is in
a non-Latin script the answer does not use), repetition (degenerate loops).
"""

from __future__ import annotations

import ast
import json
import re
import zlib
from collections import Counter
from typing import Any

from core.drift import script_bucket

_REFUSAL = re.compile(
    r"^\W*(i'?m sorry,? but i can(?:not|'t)|i can(?:not|'t) (?:help|assist|comply)|i am unable to|i'?m unable to|"
    r"as an ai(?: language model)?,? i can(?:not|'t)|i won'?t be able to|"
    r"申し訳(?:ありません|ございません)が|お答えできません|お手伝いできません|対応できかねます|回答を控え)",
    re.IGNORECASE,
)
_FENCE = re.compile(r"```(\w*)\n(.*?)```", re.DOTALL)
_NON_LATIN = frozenset({"japanese", "hangul", "han", "cyrillic"})


def refusal(answer: str) -> bool:
    return bool(_REFUSAL.search(answer[:200]))


def repetition(answer: str) -> bool:
    """A degenerate loop: very compressible long text, or one line repeated many times."""
    if len(answer) >= 300 and len(zlib.compress(answer.encode())) / len(answer.encode()) < 0.12:
        return True
    lines = [ln for ln in (raw.strip() for raw in answer.splitlines()) if ln]
    # counted in one pass: counting each distinct line on its own took minutes of the event loop
    # for an answer of 100,000 distinct lines (a misbehaving provider's), stalling every stage
    return len(lines) >= 8 and Counter(lines).most_common(1)[0][1] > len(lines) / 2


def wrong_language(prompt: str, answer: str) -> bool:
    want = script_bucket(prompt)
    if want not in _NON_LATIN or len(answer.strip()) < 20:
        return False
    got = script_bucket(answer)
    return got != want and not (want == "japanese" and got == "han")


def code_syntax(answer: str) -> bool:
    """A fenced Python block that does not parse (other languages: unbalanced brackets)."""
    for match in _FENCE.finditer(answer):
        lang, body = match.group(1).lower(), match.group(2)
        if lang in ("python", "py", "python3"):
            try:
                ast.parse(body)
            except SyntaxError:
                return True
        elif lang and any(body.count(a) != body.count(b) for a, b in (("{", "}"), ("[", "]"), ("(", ")"))):
            return True
    return False


def unwrapped_json(answer: str, response_format: dict[str, Any] | None) -> str:
    """A JSON answer as the consumer should get it: when JSON was asked for and the model wrapped it
    in a Markdown fence (often with a line of prose), the fenced JSON alone; otherwise the answer."""
    if (response_format or {}).get("type") not in ("json_object", "json_schema"):
        return answer
    text = answer.strip()
    for candidate in (text, *(m.group(2).strip() for m in _FENCE.finditer(text))):
        try:
            json.loads(candidate)
        except (ValueError, RecursionError):  # RecursionError: nested deeper than the decoder goes
            continue
        return candidate
    return answer


def json_problem(answer: str, response_format: dict[str, Any] | None) -> str | None:
    """None when no JSON was asked for or the answer satisfies it; else the reason code."""
    kind = (response_format or {}).get("type")
    if kind not in ("json_object", "json_schema"):
        return None
    text = answer.strip()
    fenced = _FENCE.search(text)
    if fenced:
        text = fenced.group(2)
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the decoder goes
        return "json_invalid"
    schema = ((response_format or {}).get("json_schema") or {}).get("schema")
    if kind == "json_object" and not isinstance(value, dict):
        return "json_schema"
    try:
        return "json_schema" if schema and not conforms(value, schema) else None
    except RecursionError:  # a value nested almost as deep as the decoder goes
        return "json_schema"


_TYPES: dict[str, Any] = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}


def conforms(value: Any, schema: dict[str, Any]) -> bool:
    """The common core of JSON Schema: type, enum, required, properties, items, minItems."""
    t = schema.get("type")
    if isinstance(t, list):
        return any(conforms(value, {**schema, "type": one}) for one in t)
    if t == "integer" and not (isinstance(value, int) and not isinstance(value, bool)):
        return False
    if t == "number" and not (isinstance(value, (int, float)) and not isinstance(value, bool)):
        return False
    if t in _TYPES and not isinstance(value, _TYPES[t]):
        return False
    if "enum" in schema and value not in schema["enum"]:
        return False
    if isinstance(value, dict):
        if any(k not in value for k in schema.get("required", [])):
            return False
        props = schema.get("properties", {})
        if not all(conforms(v, props[k]) for k, v in value.items() if k in props):
            return False
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            return False
        if "items" in schema and not all(conforms(v, schema["items"]) for v in value):
            return False
    return True
