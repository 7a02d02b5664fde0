"""The public request contract (design §3): the Request record and its ingress validation.

``parse_request`` validates a raw payload into a :class:`Request`, collecting every problem (not
just the first) so the error response names each bad field. Unknown fields are kept in ``extra``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from core.errors import InvalidRequestError

SCHEMA_VERSION = 1
ROLES = frozenset({"system", "user", "assistant", "tool", "developer"})
LATENCY_CLASSES = frozenset({"realtime", "batch"})
KNOWN_FIELDS = frozenset(
    {
        "schema_version", "request_id", "tenant", "messages", "task_type", "max_output_tokens",
        "response_format", "latency_class", "deadline", "max_cost_usd", "data_policy",
        "quality_floor", "preferred_tier", "reply_topic", "metadata", "quality_target",
        # OpenAI chat parameters, honoured (sampling, aliases) or checked (n, stream, model)
        "temperature", "top_p", "stop", "seed", "user", "max_tokens", "max_completion_tokens", "n", "stream", "model",
        "tools", "tool_choice", "parallel_tool_calls",
    }
)
OUTPUT_LIMIT_ALIASES = ("max_output_tokens", "max_completion_tokens", "max_tokens")
ROUTER_MODELS = frozenset({"router/auto"})  # what ``model`` may say: the router chooses
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
MAX_ID_LEN = 200
_EPOCH_MIN_S, _EPOCH_MAX_S = 946_684_800, 32_503_679_999  # deadlines from 2000 to the end of 2999


@dataclass(slots=True)
class DataPolicy:
    pii: bool | None = None
    region: str | None = None
    allowed_providers: list[str] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"pii": self.pii, "region": self.region, "allowed_providers": self.allowed_providers}


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


@dataclass(slots=True)
class Request:
    """A validated request. ``extra`` keeps unknown fields so nothing a client sent is lost."""

    request_id: str
    tenant: str
    messages: list[dict[str, Any]]
    schema_version: int = SCHEMA_VERSION
    task_type: str | None = None
    max_output_tokens: int | None = None
    response_format: dict[str, Any] | None = None
    latency_class: str = "realtime"
    deadline_ms: int | None = None
    max_cost_usd: float | None = None
    data_policy: DataPolicy = field(default_factory=DataPolicy)
    quality_floor: int | None = None
    preferred_tier: int | None = None
    reply_topic: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    quality_target: float | None = None  # the dial: 1 - quality_target is how far below the best estimate is fine
    sampling: Sampling = field(default_factory=Sampling)
    model: str | None = None  # a catalog model the request pins (None: the router chooses)
    tools: list[dict[str, Any]] | None = None  # OpenAI function tools
    tool_choice: Any = None  # "none" | "auto" | "required" | {"type": "function", "function": {"name": ...}}
    parallel_tool_calls: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "request_id": self.request_id,
            "tenant": self.tenant,
            "messages": self.messages,
            "task_type": self.task_type,
            "max_output_tokens": self.max_output_tokens,
            "response_format": self.response_format,
            "latency_class": self.latency_class,
            "deadline_ms": self.deadline_ms,
            "max_cost_usd": self.max_cost_usd,
            "data_policy": self.data_policy.to_dict(),
            "quality_floor": self.quality_floor,
            "preferred_tier": self.preferred_tier,
            "reply_topic": self.reply_topic,
            "metadata": self.metadata,
            "extra": self.extra,
            "quality_target": self.quality_target,
            "sampling": self.sampling.to_dict(),
            "model": self.model,
            "tools": self.tools,
            "tool_choice": self.tool_choice,
            "parallel_tool_calls": self.parallel_tool_calls,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Request:
        dp = d.get("data_policy") or {}
        return cls(
            request_id=d["request_id"],
            tenant=d["tenant"],
            messages=d["messages"],
            schema_version=d.get("schema_version", SCHEMA_VERSION),
            task_type=d.get("task_type"),
            max_output_tokens=d.get("max_output_tokens"),
            response_format=d.get("response_format"),
            latency_class=d.get("latency_class") or "realtime",
            deadline_ms=d.get("deadline_ms"),
            max_cost_usd=d.get("max_cost_usd"),
            data_policy=DataPolicy(dp.get("pii"), dp.get("region"), dp.get("allowed_providers")),
            quality_floor=d.get("quality_floor"),
            preferred_tier=d.get("preferred_tier"),
            reply_topic=d.get("reply_topic"),
            metadata=d.get("metadata") or {},
            extra=d.get("extra") or {},
            quality_target=d.get("quality_target"),
            sampling=Sampling.from_dict(d.get("sampling")),
            model=d.get("model"),
            tools=d.get("tools"),
            tool_choice=d.get("tool_choice"),
            parallel_tool_calls=d.get("parallel_tool_calls"),
        )

    def prompt_text(self) -> str:
        """All message text joined, for token estimates and PII checks."""
        return "\n".join(message_text(m) for m in self.messages)

    def task_text(self) -> str:
        """What the user asked: every non-system message, for the classifier's features."""
        return "\n".join(message_text(m) for m in self.messages if m.get("role") not in ("system", "developer"))

    @property
    def uses_tools(self) -> bool:
        """Tools offered, or a tool call or tool result in the conversation."""
        return bool(self.tools) or any(m.get("tool_calls") or m.get("role") == "tool" for m in self.messages)

    def images(self) -> list[str]:
        """Every image URL in the messages (data: or http(s)), in order."""
        return [u for m in self.messages for u in message_images(m)]

    @property
    def has_system(self) -> bool:
        return any(m.get("role") in ("system", "developer") for m in self.messages)


def image_url(part: Any) -> str | None:
    """The URL of an OpenAI ``image_url`` content part (``{"url": ...}`` or the bare string)."""
    if not isinstance(part, dict) or part.get("type") != "image_url":
        return None
    value = part.get("image_url")
    url = value.get("url") if isinstance(value, dict) else value
    return url if isinstance(url, str) else None


def message_images(message: dict[str, Any]) -> list[str]:
    content = message.get("content")
    return [u for p in (content if isinstance(content, list) else []) if (u := image_url(p)) is not None]


def data_url(url: str) -> tuple[str, str] | None:
    """(media type, base64 data) of a ``data:image/...;base64,`` URL; None for any other URL."""
    head, sep, data = url.partition(",")
    if not sep or not head.startswith("data:") or not head.endswith(";base64"):
        return None
    return head.removeprefix("data:").removesuffix(";base64"), data


def _image_problem(part: dict[str, Any]) -> str | None:
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


def message_text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # OpenAI content parts
        return "\n".join(
            str(p.get("text", "")) for p in content if isinstance(p, dict) and p.get("type") == "text"
        )
    return ""


# --- ingress validation -------------------------------------------------------------------


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def decode_json_object(raw: bytes) -> dict[str, Any]:
    """Decode a payload that must be a JSON object, or raise InvalidRequestError."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        msg = f"body: not valid JSON ({exc})"
        raise InvalidRequestError([msg]) from None
    if not isinstance(data, dict):
        raise InvalidRequestError([f"body: expected a JSON object, got {_type_name(data)}"])
    return data


def parse_request(raw: bytes) -> Request:
    """Validate a raw request payload; raise InvalidRequestError naming every bad field."""
    return request_from_payload(decode_json_object(raw))


def request_from_payload(data: dict[str, Any]) -> Request:
    problems: list[str] = []
    request_id = _required_str(data, "request_id", problems)
    tenant = _required_str(data, "tenant", problems)
    messages = _messages(data, problems)
    version = data.get("schema_version", SCHEMA_VERSION)
    if version != SCHEMA_VERSION:
        problems.append(f"schema_version: unsupported value {version!r} (supported: {SCHEMA_VERSION})")
    opt = _Optional(data, problems)
    task_type = opt.text("task_type")
    max_out = _output_limit(opt, problems)
    sampling = _sampling(opt, data, problems)
    pinned = _pinned(data.get("model"), problems)
    tools, tool_choice, parallel = _tools(data, problems)
    _unsupported(data, problems)
    response_format = opt.obj("response_format")
    latency_class = opt.text("latency_class")
    if latency_class is not None and latency_class not in LATENCY_CLASSES:
        problems.append(f"latency_class: expected one of realtime, batch, got {latency_class!r}")
    deadline_ms = _deadline(data.get("deadline"), problems)
    max_cost = opt.non_negative_number("max_cost_usd")
    policy = _data_policy(data.get("data_policy"), problems)
    quality_floor = opt.tier("quality_floor")
    preferred_tier = opt.tier("preferred_tier")
    reply_topic = opt.text("reply_topic")
    metadata = opt.obj("metadata")
    quality_target = opt.non_negative_number("quality_target")
    if quality_target is not None and quality_target > 1:
        problems.append(f"quality_target: expected a share from 0 to 1, got {quality_target!r}")
    if problems:
        raise InvalidRequestError(problems)
    return Request(
        request_id=request_id,
        tenant=tenant,
        messages=messages,
        task_type=task_type,
        max_output_tokens=max_out,
        response_format=response_format,
        latency_class=latency_class or "realtime",
        deadline_ms=deadline_ms,
        max_cost_usd=max_cost,
        data_policy=policy,
        quality_floor=quality_floor,
        preferred_tier=preferred_tier,
        reply_topic=reply_topic,
        metadata=metadata or {},
        extra={k: v for k, v in data.items() if k not in KNOWN_FIELDS},
        quality_target=quality_target,
        sampling=sampling,
        model=pinned,
        tools=tools,
        tool_choice=tool_choice,
        parallel_tool_calls=parallel,
    )


def _output_limit(opt: _Optional, problems: list[str]) -> int | None:
    """``max_output_tokens``, or its OpenAI aliases ``max_completion_tokens`` and ``max_tokens``."""
    given = {name: opt.positive_int(name) for name in OUTPUT_LIMIT_ALIASES if opt.data.get(name) is not None}
    values = {v for v in given.values() if v is not None}
    if len(values) > 1:
        problems.append(f"{', '.join(given)}: different output limits; they are one setting (max_output_tokens)")
        return None
    return values.pop() if values else None


def _sampling(opt: _Optional, data: dict[str, Any], problems: list[str]) -> Sampling:
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
    if seed is not None and not _is_int(seed):
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


def _pinned(model: Any, problems: list[str]) -> str | None:
    """``model``: absent or ``router/auto`` lets the router choose; a catalog model's name pins it
    (checked against the catalog when routed: an unknown one is answered ``model_not_found``)."""
    if model is None or (isinstance(model, str) and model in ROUTER_MODELS):
        return None
    if not isinstance(model, str) or not model.strip() or len(model) > MAX_ID_LEN:
        problems.append(f"model: expected a catalog model's name or router/auto, got {model!r}")
        return None
    return model


def _unsupported(data: dict[str, Any], problems: list[str]) -> None:
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
                problem = _image_problem(part)
                if problem:
                    problems.append(f"messages[{i}].content[{j}].image_url: {problem}")
            elif kind != "text":
                problems.append(f"messages[{i}].content[{j}]: {kind!r} parts are not supported yet (text and "
                                "image_url only; the model chosen might not see them)")


def _required_str(data: dict[str, Any], name: str, problems: list[str]) -> str:
    value = data.get(name)
    if name not in data:
        problems.append(f"{name}: required field missing")
    elif not isinstance(value, str):
        problems.append(f"{name}: expected string, got {_type_name(value)}")
    elif not value.strip():
        problems.append(f"{name}: must not be empty")
    elif len(value) > MAX_ID_LEN:
        problems.append(f"{name}: longer than {MAX_ID_LEN} characters")
    else:
        return value
    return ""


def _messages(data: dict[str, Any], problems: list[str]) -> list[dict[str, Any]]:
    if "messages" not in data:
        problems.append("messages: required field missing")
        return []
    messages = data["messages"]
    if not isinstance(messages, list):
        problems.append(f"messages: expected array, got {_type_name(messages)}")
        return []
    if not messages:
        problems.append("messages: must contain at least one message")
    for i, m in enumerate(messages):
        if not isinstance(m, dict):
            problems.append(f"messages[{i}]: expected object, got {_type_name(m)}")
            continue
        role = m.get("role")
        if role not in ROLES:
            problems.append(f"messages[{i}].role: expected one of {', '.join(sorted(ROLES))}, got {role!r}")
        content = m.get("content")
        calls = m.get("tool_calls")
        if role == "assistant" and calls is not None:
            problems.extend(f"messages[{i}].{p}" for p in _tool_calls_problems(calls))
            if content is not None and not isinstance(content, (str, list)):
                problems.append(f"messages[{i}].content: expected string, array of parts or null, got "
                                f"{_type_name(content)}")
        elif not isinstance(content, (str, list)):
            problems.append(f"messages[{i}].content: expected string or array of parts, got {_type_name(content)}")
        if role == "tool" and not (isinstance(m.get("tool_call_id"), str) and m["tool_call_id"]):
            problems.append(f"messages[{i}].tool_call_id: a tool result names the call it answers")
    return messages


def _tool_calls_problems(calls: Any) -> list[str]:
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


def _tools(data: dict[str, Any], problems: list[str]) -> tuple[list[dict[str, Any]] | None, Any, bool | None]:
    tools = data.get("tools")
    if tools is not None:
        if not isinstance(tools, list):
            problems.append(f"tools: expected an array of function tools, got {_type_name(tools)}")
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


class _Optional:
    """Reads optional fields, appending a named problem for each wrong type."""

    def __init__(self, data: dict[str, Any], problems: list[str]) -> None:
        self.data = data
        self.problems = problems

    def _get(self, name: str) -> Any:
        return self.data.get(name)

    def text(self, name: str) -> str | None:
        v = self._get(name)
        if v is None or isinstance(v, str):
            return v
        self.problems.append(f"{name}: expected string, got {_type_name(v)}")
        return None

    def obj(self, name: str) -> dict[str, Any] | None:
        v = self._get(name)
        if v is None or isinstance(v, dict):
            return v
        self.problems.append(f"{name}: expected object, got {_type_name(v)}")
        return None

    def positive_int(self, name: str) -> int | None:
        v = self._get(name)
        if v is None:
            return None
        if not _is_int(v) or v <= 0:
            self.problems.append(f"{name}: expected a positive integer, got {v!r}")
            return None
        return int(v)

    def non_negative_number(self, name: str) -> float | None:
        v = self._get(name)
        if v is None:
            return None
        if not _is_number(v) or v < 0:
            self.problems.append(f"{name}: expected a non-negative number, got {v!r}")
            return None
        return float(v)

    def tier(self, name: str) -> int | None:
        v = self._get(name)
        if v is None:
            return None
        if not _is_int(v) or not 1 <= v <= 9:
            self.problems.append(f"{name}: expected a tier number from 1 to 9, got {v!r}")
            return None
        return int(v)


def _deadline(value: Any, problems: list[str]) -> int | None:
    """Accept an ISO-8601 timestamp with a zone or epoch seconds; return epoch milliseconds."""
    if value is None:
        return None
    if _is_number(value):
        if not _EPOCH_MIN_S <= value <= _EPOCH_MAX_S:
            problems.append(f"deadline: epoch seconds out of range (2000-01-01 to 2999-12-31), got {value!r}")
            return None
        return int(value * 1000)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            problems.append(f"deadline: not an ISO-8601 timestamp: {value!r}")
            return None
        if parsed.tzinfo is None:
            problems.append("deadline: timestamp needs a time zone (e.g. 2026-01-01T12:00:00Z)")
            return None
        return _deadline(parsed.timestamp(), problems)
    problems.append(f"deadline: expected ISO-8601 string or epoch seconds, got {_type_name(value)}")
    return None


def _data_policy(value: Any, problems: list[str]) -> DataPolicy:
    if value is None:
        return DataPolicy()
    if not isinstance(value, dict):
        problems.append(f"data_policy: expected object, got {_type_name(value)}")
        return DataPolicy()
    pii = value.get("pii")
    if pii is not None and not isinstance(pii, bool):
        problems.append(f"data_policy.pii: expected boolean, got {_type_name(pii)}")
        pii = None
    region = value.get("region")
    if region is not None and not isinstance(region, str):
        problems.append(f"data_policy.region: expected string, got {_type_name(region)}")
        region = None
    allowed = value.get("allowed_providers")
    if allowed is not None and not (isinstance(allowed, list) and all(isinstance(p, str) for p in allowed)):
        problems.append("data_policy.allowed_providers: expected an array of provider names")
        allowed = None
    return DataPolicy(pii, region, allowed)
