"""OpenAI chat parameters in a request: each honoured (sampling, output-limit aliases, tools, images,
a pinned model) or refused by name with why, never dropped (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from core.content import image_url
from core.fields import MAX_ID_LEN, Fields, is_int, type_name

OUTPUT_LIMIT_ALIASES = ("max_output_tokens", "max_completion_tokens", "max_tokens")
AUTO = "router/auto"  # what ``model`` may say for the router's own choice (as if absent)
# OpenAI chat parameters the router cannot honour on every model it may pick: refused by name, never
# dropped (an answer produced without them would silently differ from what was asked)
UNSUPPORTED = {
    "functions": "the legacy functions field is not supported: use tools",
    "function_call": "the legacy function_call field is not supported: use tool_choice",
    "logprobs": "log probabilities are not returned",
    "top_logprobs": "log probabilities are not returned",
    "logit_bias": "logit bias has no equivalent on every provider the router may pick",
    "frequency_penalty": "penalties have no equivalent on every provider the router may pick",
    "presence_penalty": "penalties have no equivalent on every provider the router may pick",
    "audio": "audio output is not supported",
    "modalities": "only text output is supported",
    "prediction": "predicted outputs are not supported",
    "stream_options": "responses on Kafka are whole messages, not streams",
}
_OFF_VALUES: dict[str, tuple[Any, ...]] = {  # values that ask for nothing, so are accepted
    "functions": ([], None), "logprobs": (False, None),
    "top_logprobs": (0, None), "logit_bias": ({}, None), "frequency_penalty": (0, None),
    "presence_penalty": (0, None), "modalities": (["text"], None),
    "stream_options": (None,), "audio": (None,), "prediction": (None,), "function_call": ("none", None)}
TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # what every provider accepts as a function name
MAX_STOP = 4


@dataclass(slots=True)
class Sampling:
    """OpenAI-style sampling parameters, forwarded by every adapter in its own wire format."""

    temperature: float | None = None  # 0 to 2 (Anthropic's scale ends at 1: higher values are sent as 1)
    top_p: float | None = None
    stop: list[str] | None = None
    seed: int | None = None  # best effort, as at OpenAI; Anthropic's API has no seed
    user: str | None = None  # the end user, for the provider's abuse monitoring

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in (("temperature", self.temperature), ("top_p", self.top_p), ("stop", self.stop),
                                  ("seed", self.seed), ("user", self.user)) if v is not None}

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> Sampling:
        d = d or {}
        return cls(d.get("temperature"), d.get("top_p"), d.get("stop"), d.get("seed"), d.get("user"))


def output_limit(opt: Fields, problems: list[str]) -> int | None:
    """``max_output_tokens``, or its OpenAI aliases ``max_completion_tokens`` and ``max_tokens``."""
    given = {name: opt.positive_int(name) for name in OUTPUT_LIMIT_ALIASES if opt.data.get(name) is not None}
    values = {v for v in given.values() if v is not None}
    if len(values) > 1:
        problems.append(f"{', '.join(given)}: different output limits; they are one setting (max_output_tokens)")
        return None
    return values.pop() if values else None


def sampling(opt: Fields, data: dict[str, Any], problems: list[str]) -> Sampling:
    temperature = opt.non_negative_number("temperature")
    if temperature is not None and temperature > 2:
        problems.append(f"temperature: expected a number from 0 to 2, got {temperature!r}")
    top_p = opt.non_negative_number("top_p")
    if top_p is not None and not 0 < top_p <= 1:
        problems.append(f"top_p: expected a number above 0 and at most 1, got {top_p!r}")
    stop = data.get("stop")
    if isinstance(stop, str):
        stop = [stop]
    if stop is not None and not (isinstance(stop, list) and 0 < len(stop) <= MAX_STOP
                                 and all(isinstance(x, str) and x for x in stop)):
        problems.append(f"stop: expected a string or an array of 1 to {MAX_STOP} non-empty strings, got {stop!r}")
        stop = None
    seed = data.get("seed")
    if seed is not None and not is_int(seed):
        problems.append(f"seed: expected an integer, got {seed!r}")
        seed = None
    user = opt.text("user")
    if user is not None and len(user) > MAX_ID_LEN:
        problems.append(f"user: longer than {MAX_ID_LEN} characters")
    n = data.get("n")
    if n is not None and n != 1:
        problems.append(f"n: one answer per request is supported, got {n!r}")
    if data.get("stream") not in (None, False):
        problems.append("stream: responses on Kafka are whole messages; omit stream or set it to false")
    return Sampling(temperature, top_p, stop, seed, user)


def pinned_model(model: Any, problems: list[str]) -> str | None:
    """``model``: absent or ``router/auto`` lets the router choose; a catalog model's name pins it, a
    catalog alias (``router/cheap``, ``router/best``, or the catalog's own) routes its way. Checked
    against the catalog when routed: an unknown name is answered ``model_not_found``."""
    if model is None or model == AUTO:
        return None
    if not isinstance(model, str) or not model.strip() or len(model) > MAX_ID_LEN:
        problems.append(f"model: expected a catalog model's name or an alias such as {AUTO}, got {model!r}")
        return None
    return model


def unsupported(data: dict[str, Any], problems: list[str]) -> None:
    """OpenAI fields and message parts the router cannot honour: each named, with why."""
    for name, why in UNSUPPORTED.items():
        if name in data and data[name] not in _OFF_VALUES.get(name, ()):
            problems.append(f"{name}: {why}")
    messages = data.get("messages")
    for i, m in enumerate(messages if isinstance(messages, list) else []):
        if not isinstance(m, dict):
            continue
        if m.get("function_call"):
            problems.append(f"messages[{i}].function_call: the legacy field is not supported: use tool_calls")
        content = m.get("content")
        for j, part in enumerate(content if isinstance(content, list) else []):
            kind = part.get("type") if isinstance(part, dict) else None
            if kind == "image_url":
                problem = image_problem(part)
                if problem:
                    problems.append(f"messages[{i}].content[{j}].image_url: {problem}")
            elif kind != "text":
                problems.append(f"messages[{i}].content[{j}]: {kind!r} parts are not supported yet (text and "
                                "image_url only; the model chosen might not see them)")


def tool_calls_problems(calls: Any) -> list[str]:
    if not isinstance(calls, list) or not calls:
        return ["tool_calls: expected a non-empty array of calls"]
    out = []
    for j, c in enumerate(calls):
        fn = c.get("function") if isinstance(c, dict) else None
        if not (isinstance(c, dict) and isinstance(c.get("id"), str) and c["id"] and isinstance(fn, dict)
                and isinstance(fn.get("name"), str) and isinstance(fn.get("arguments"), str)):
            out.append(f"tool_calls[{j}]: expected {{id, type: function, function: {{name, arguments (a JSON "
                       "string)}}}}")
    return out


def tools(data: dict[str, Any], problems: list[str]) -> tuple[list[dict[str, Any]] | None, Any, bool | None]:
    tools = data.get("tools")
    if tools is not None:
        if not isinstance(tools, list):
            problems.append(f"tools: expected an array of function tools, got {type_name(tools)}")
            tools = None
        else:
            for j, t in enumerate(tools):
                fn = t.get("function") if isinstance(t, dict) else None
                if not (isinstance(t, dict) and t.get("type") == "function" and isinstance(fn, dict)
                        and isinstance(fn.get("name"), str) and TOOL_NAME.match(fn["name"])
                        and isinstance(fn.get("parameters", {}), dict)
                        and isinstance(fn.get("description", ""), str)):
                    problems.append(f"tools[{j}]: expected {{type: function, function: {{name (letters, digits, _ "
                                    "or -, at most 64), description?, parameters? (a JSON Schema object)}}}}")
            tools = tools or None
    choice = data.get("tool_choice")
    named = isinstance(choice, dict) and choice.get("type") == "function" and \
        isinstance(choice.get("function"), dict) and isinstance(choice["function"].get("name"), str)
    if choice is not None and choice not in ("none", "auto", "required") and not named:
        problems.append(f"tool_choice: expected none, auto, required or {{type: function, function: {{name}}}}, "
                        f"got {str(choice)[:80]!r}")
        choice = None
    if choice is not None and choice not in ("none", "auto") and not tools:  # none/auto ask nothing without tools
        problems.append("tool_choice: there are no tools to choose from")
    parallel = data.get("parallel_tool_calls")
    if parallel is not None and not isinstance(parallel, bool):
        problems.append(f"parallel_tool_calls: expected true or false, got {parallel!r}")
        parallel = None
    return tools, choice, parallel


def image_problem(part: dict[str, Any]) -> str | None:
    url = image_url(part)
    if url is None:
        return "expected {\"url\": \"data:image/...;base64,...\" or \"https://...\"}"
    if url.startswith("data:"):
        head, sep, _ = url.partition(",")
        if not sep or not head.startswith("data:image/") or not head.endswith(";base64"):
            return "a data URL must be data:image/<type>;base64,<data>"
        return None
    if not url.startswith(("https://", "http://")):
        return f"expected a data: or http(s) URL, got {url[:40]!r}"
    return None
