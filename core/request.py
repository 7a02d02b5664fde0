"""The public request contract (design §3): the Request record and its ingress validation.

``parse_request`` validates a raw payload into a :class:`Request`, collecting every problem (not
just the first) so the error response names each bad field. Unknown fields are kept in ``extra``.
OpenAI's parameters are read in ``core/openai_params.py``, message content in ``core/content.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from core.content import message_images, message_text
from core.errors import InvalidRequestError
from core.fields import MAX_ID_LEN, Fields, is_number, type_name
from core.openai_params import (
    Sampling,
    output_limit,
    pinned_model,
    sampling,
    tool_calls_problems,
    tools,
    unsupported,
)

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
_EPOCH_MIN_S, _EPOCH_MAX_S = 946_684_800, 32_503_679_999  # deadlines from 2000 to the end of 2999


@dataclass(slots=True)
class DataPolicy:
    pii: bool | None = None
    region: str | None = None
    allowed_providers: list[str] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"pii": self.pii, "region": self.region, "allowed_providers": self.allowed_providers}


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


# --- ingress validation -------------------------------------------------------------------


def decode_json_object(raw: bytes) -> dict[str, Any]:
    """Decode a payload that must be a JSON object, or raise InvalidRequestError."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        msg = f"body: not valid JSON ({exc})"
        raise InvalidRequestError([msg]) from None
    if not isinstance(data, dict):
        raise InvalidRequestError([f"body: expected a JSON object, got {type_name(data)}"])
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
    opt = Fields(data, problems)
    task_type = opt.text("task_type")
    max_out = output_limit(opt, problems)
    sampled = sampling(opt, data, problems)
    pinned = pinned_model(data.get("model"), problems)
    offered, tool_choice, parallel = tools(data, problems)
    unsupported(data, problems)
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
        sampling=sampled,
        model=pinned,
        tools=offered,
        tool_choice=tool_choice,
        parallel_tool_calls=parallel,
    )


def _required_str(data: dict[str, Any], name: str, problems: list[str]) -> str:
    value = data.get(name)
    if name not in data:
        problems.append(f"{name}: required field missing")
    elif not isinstance(value, str):
        problems.append(f"{name}: expected string, got {type_name(value)}")
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
        problems.append(f"messages: expected array, got {type_name(messages)}")
        return []
    if not messages:
        problems.append("messages: must contain at least one message")
    for i, m in enumerate(messages):
        if not isinstance(m, dict):
            problems.append(f"messages[{i}]: expected object, got {type_name(m)}")
            continue
        role = m.get("role")
        if role not in ROLES:
            problems.append(f"messages[{i}].role: expected one of {', '.join(sorted(ROLES))}, got {role!r}")
        content = m.get("content")
        calls = m.get("tool_calls")
        if role == "assistant" and calls is not None:
            problems.extend(f"messages[{i}].{p}" for p in tool_calls_problems(calls))
            if content is not None and not isinstance(content, (str, list)):
                problems.append(f"messages[{i}].content: expected string, array of parts or null, got "
                                f"{type_name(content)}")
        elif not isinstance(content, (str, list)):
            problems.append(f"messages[{i}].content: expected string or array of parts, got {type_name(content)}")
        if role == "tool" and not (isinstance(m.get("tool_call_id"), str) and m["tool_call_id"]):
            problems.append(f"messages[{i}].tool_call_id: a tool result names the call it answers")
    return messages


def _deadline(value: Any, problems: list[str]) -> int | None:
    """Accept an ISO-8601 timestamp with a zone or epoch seconds; return epoch milliseconds."""
    if value is None:
        return None
    if is_number(value):
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
    problems.append(f"deadline: expected ISO-8601 string or epoch seconds, got {type_name(value)}")
    return None


def _data_policy(value: Any, problems: list[str]) -> DataPolicy:
    if value is None:
        return DataPolicy()
    if not isinstance(value, dict):
        problems.append(f"data_policy: expected object, got {type_name(value)}")
        return DataPolicy()
    pii = value.get("pii")
    if pii is not None and not isinstance(pii, bool):
        problems.append(f"data_policy.pii: expected boolean, got {type_name(pii)}")
        pii = None
    region = value.get("region")
    if region is not None and not isinstance(region, str):
        problems.append(f"data_policy.region: expected string, got {type_name(region)}")
        region = None
    allowed = value.get("allowed_providers")
    if allowed is not None and not (isinstance(allowed, list) and all(isinstance(p, str) for p in allowed)):
        problems.append("data_policy.allowed_providers: expected an array of provider names")
        allowed = None
    return DataPolicy(pii, region, allowed)
