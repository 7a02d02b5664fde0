"""Anthropic Messages API (POST /v1/messages)."""

from __future__ import annotations

import json
from typing import Any

from core.catalog import ModelSpec
from core.content import data_url, image_url, message_images, message_text
from core.ports import Completion, CompletionRequest
from providers.http import Endpoint, call_arguments, post_json, protocol_error

API_VERSION = "2023-06-01"
STRUCTURED = "structured_outputs"  # catalog capability: the model takes output_config.format (JSON Schema)
JSON_INSTRUCTION = "Answer with one JSON value only: no prose before or after it and no code fence."
_STOP_REASONS = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length", "tool_use": "tool_calls",
                 "refusal": "content_filter"}


def build_payload(model: str, request: CompletionRequest, structured: bool = False) -> dict[str, Any]:
    """System messages move to the top-level ``system`` field; the rest keep their order.
    ``response_format``: a JSON Schema goes to ``output_config.format`` on a model that has
    ``structured`` outputs; otherwise (and for ``json_object``) the system prompt asks for JSON, with
    the schema if there is one (verification checks the answer either way)."""
    system = [message_text(m) for m in request.messages if m.get("role") in ("system", "developer")]
    output_config, instruction = _json_mode(request.response_format, structured)
    if instruction:
        system.append(instruction)
    messages: list[dict[str, Any]] = []
    for m in request.messages:
        if m.get("role") in ("system", "developer"):
            continue
        role = "assistant" if m.get("role") == "assistant" else "user"
        content = _content(m)
        if m.get("role") == "tool":  # tool results travel in a user turn; consecutive ones share it
            block = {"type": "tool_result", "tool_use_id": str(m.get("tool_call_id", "")), "content": message_text(m)}
            if messages and messages[-1]["role"] == "user" and isinstance(messages[-1]["content"], list) and \
                    all(b.get("type") == "tool_result" for b in messages[-1]["content"]):
                messages[-1]["content"].append(block)
                continue
            content = [block]
        messages.append({"role": role, "content": content})
    payload: dict[str, Any] = {"model": model, "max_tokens": request.max_output_tokens, "messages": messages}
    if system:
        payload["system"] = "\n\n".join(system)
    payload.update(_sampling(request))
    if output_config:
        payload["output_config"] = output_config
    if request.tools:
        payload["tools"] = [{"name": t["function"]["name"], "description": t["function"].get("description", ""),
                             "input_schema": t["function"].get("parameters") or {"type": "object", "properties": {}}}
                            for t in request.tools]
        choice = _tool_choice(request.tool_choice)
        if request.parallel_tool_calls is False and choice.get("type") in ("auto", "any"):
            choice["disable_parallel_tool_use"] = True
        payload["tool_choice"] = choice
    return payload


def _sampling(request: CompletionRequest) -> dict[str, Any]:
    s = request.sampling
    out: dict[str, Any] = {}
    if s.temperature is not None:
        out["temperature"] = min(s.temperature, 1.0)  # Anthropic's scale is 0 to 1
    if s.top_p is not None:
        out["top_p"] = s.top_p
    if s.stop:
        out["stop_sequences"] = s.stop
    if s.user:
        out["metadata"] = {"user_id": s.user}
    return out


def _json_mode(fmt: dict[str, Any] | None, structured: bool) -> tuple[dict[str, Any] | None, str]:
    kind = (fmt or {}).get("type")
    if kind not in ("json_object", "json_schema"):
        return None, ""
    schema = ((fmt or {}).get("json_schema") or {}).get("schema")
    if kind == "json_schema" and isinstance(schema, dict) and structured:
        return {"format": {"type": "json_schema", "schema": schema}}, ""
    if isinstance(schema, dict):
        return None, f"{JSON_INSTRUCTION} It must satisfy this JSON Schema: {json.dumps(schema, sort_keys=True)}"
    return None, JSON_INSTRUCTION


def _tool_choice(choice: Any) -> dict[str, Any]:
    if isinstance(choice, dict):
        return {"type": "tool", "name": choice["function"]["name"]}
    return {"type": {"required": "any", "none": "none"}.get(str(choice), "auto")}


def _content(message: dict[str, Any]) -> str | list[dict[str, Any]]:
    """Text stays a string; with images, content blocks in order (base64 or URL image sources); an
    assistant's tool calls become tool_use blocks after its text."""
    calls = message.get("tool_calls") or []
    if calls:
        text = message_text(message)
        uses = [{"type": "tool_use", "id": c["id"], "name": c["function"]["name"],
                 "input": call_arguments(c["function"].get("arguments"))} for c in calls]
        return [{"type": "text", "text": text}, *uses] if text else uses
    if not message_images(message):
        return message_text(message)
    blocks: list[dict[str, Any]] = []
    for part in message.get("content") or []:
        url = image_url(part)
        if url is None:
            if isinstance(part, dict) and part.get("type") == "text":
                blocks.append({"type": "text", "text": str(part.get("text", ""))})
            continue
        inline = data_url(url)
        source = ({"type": "base64", "media_type": inline[0], "data": inline[1]} if inline
                  else {"type": "url", "url": url})
        blocks.append({"type": "image", "source": source})
    return blocks


def parse_reply(body: Any, provider: str, model: str) -> Completion:
    try:
        blocks = body["content"]
        calls = [{"id": str(b["id"]), "type": "function",
                  "function": {"name": str(b["name"]), "arguments": json.dumps(b.get("input") or {})}}
                 for b in blocks if b.get("type") == "tool_use"]
        text = "".join(b.get("text", "") for b in blocks if b.get("type") == "text")
        usage = body.get("usage") or {}
        stop = body.get("stop_reason") or ""
        cached = int(usage.get("cache_read_input_tokens") or 0)
        written = int(usage.get("cache_creation_input_tokens") or 0)
        return Completion(  # Anthropic counts cache reads and writes apart from input_tokens: add them back
            content=text,
            finish_reason=_STOP_REASONS.get(stop, stop),
            input_tokens=int(usage.get("input_tokens") or 0) + cached + written,
            output_tokens=int(usage.get("output_tokens") or 0),
            cached_input_tokens=cached,
            refusal=text if stop == "refusal" else "",
            tool_calls=calls,
        )
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise protocol_error(provider, model, f"no content blocks ({type(exc).__name__})") from None


def auth_headers(api_key: str) -> dict[str, str]:
    headers = {"anthropic-version": API_VERSION}
    if api_key:
        headers["x-api-key"] = api_key
    return headers


class AnthropicProvider:
    def __init__(self, name: str, endpoint: Endpoint) -> None:
        self.name = name
        self.endpoint = endpoint

    async def complete(self, model: ModelSpec, request: CompletionRequest, timeout_s: float) -> Completion:
        payload = build_payload(model.wire_model, request, STRUCTURED in model.capabilities)
        body = await post_json(self.endpoint, "/messages", payload, self.name, model.name, timeout_s)
        return parse_reply(body, self.name, model.name)
