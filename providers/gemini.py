"""Google Gemini generateContent (POST /v1beta/models/{model}:generateContent)."""

from __future__ import annotations

import json
from typing import Any

from core.catalog import ModelSpec
from core.content import data_url, image_url, message_images, message_text
from core.ports import Completion, CompletionRequest
from providers.http import Endpoint, call_arguments, post_json, protocol_error

_FINISH = {"STOP": "stop", "MAX_TOKENS": "length", "SAFETY": "content_filter", "RECITATION": "content_filter",
           "BLOCKLIST": "content_filter", "PROHIBITED_CONTENT": "content_filter", "SPII": "content_filter"}


def build_payload(request: CompletionRequest) -> dict[str, Any]:
    """System messages become ``systemInstruction``; assistant turns have role ``model``."""
    system = [message_text(m) for m in request.messages if m.get("role") in ("system", "developer")]
    names = {c["id"]: c["function"]["name"] for m in request.messages for c in (m.get("tool_calls") or [])}
    contents = [
        {"role": "model" if m.get("role") == "assistant" else "user", "parts": _parts(m, names)}
        for m in request.messages
        if m.get("role") not in ("system", "developer")
    ]
    config: dict[str, Any] = {"maxOutputTokens": request.max_output_tokens}
    s = request.sampling
    for key, value in (("temperature", s.temperature), ("topP", s.top_p), ("stopSequences", s.stop), ("seed", s.seed)):
        if value is not None:
            config[key] = value
    fmt = request.response_format or {}
    if fmt.get("type") in ("json_object", "json_schema"):
        config["responseMimeType"] = "application/json"
        schema = (fmt.get("json_schema") or {}).get("schema")
        if schema:
            config["responseSchema"] = schema
    payload: dict[str, Any] = {"contents": contents, "generationConfig": config}
    if request.tools:
        payload["tools"] = [{"functionDeclarations": [
            {k: v for k, v in (("name", t["function"]["name"]), ("description", t["function"].get("description")),
                               ("parameters", t["function"].get("parameters"))) if v} for t in request.tools]}]
        payload["toolConfig"] = {"functionCallingConfig": _calling_config(request.tool_choice)}
    if system:
        payload["systemInstruction"] = {"parts": [{"text": "\n\n".join(system)}]}
    return payload


def _calling_config(choice: Any) -> dict[str, Any]:
    if isinstance(choice, dict):
        return {"mode": "ANY", "allowedFunctionNames": [choice["function"]["name"]]}
    return {"mode": {"required": "ANY", "none": "NONE"}.get(str(choice), "AUTO")}


def _parts(message: dict[str, Any], names: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Text as one part; with images, the parts in order, images inline (routing sends only
    data-URL images to Gemini models: generateContent cannot fetch a web URL); tool calls as
    functionCall parts, a tool result as a functionResponse named after the call it answers."""
    if message.get("role") == "tool":
        name = (names or {}).get(str(message.get("tool_call_id")), "tool")
        return [{"functionResponse": {"name": name, "response": {"content": message_text(message)}}}]
    calls = message.get("tool_calls") or []
    if calls:
        text = message_text(message)
        fc = [{"functionCall": {"name": c["function"]["name"], "args": call_arguments(c["function"].get("arguments"))}}
              for c in calls]
        return [{"text": text}, *fc] if text else fc
    if not message_images(message):
        return [{"text": message_text(message)}]
    parts: list[dict[str, Any]] = []
    for part in message.get("content") or []:
        url = image_url(part)
        if url is None:
            if isinstance(part, dict) and part.get("type") == "text":
                parts.append({"text": str(part.get("text", ""))})
            continue
        inline = data_url(url)
        parts.append({"inlineData": {"mimeType": inline[0], "data": inline[1]}} if inline
                     else {"fileData": {"fileUri": url}})
    return parts


def parse_reply(body: Any, provider: str, model: str) -> Completion:
    try:
        candidate = body["candidates"][0]
        parts = (candidate.get("content") or {}).get("parts") or []
        text = "".join(p.get("text", "") for p in parts if isinstance(p, dict))
        calls = [{"id": f"call_{i}", "type": "function",
                  "function": {"name": str(p["functionCall"]["name"]),
                               "arguments": json.dumps(p["functionCall"].get("args") or {})}}
                 for i, p in enumerate(x for x in parts if isinstance(x, dict) and "functionCall" in x)]
        finish = str(candidate.get("finishReason") or "")
        usage = body.get("usageMetadata") or {}
        thoughts = int(usage.get("thoughtsTokenCount") or 0)
        return Completion(  # thinking tokens are billed as output but counted apart from the candidates'
            content=text,
            finish_reason="tool_calls" if calls else _FINISH.get(finish, finish.lower()),
            input_tokens=int(usage.get("promptTokenCount") or 0),
            output_tokens=int(usage.get("candidatesTokenCount") or 0) + thoughts,
            cached_input_tokens=int(usage.get("cachedContentTokenCount") or 0),
            reasoning_tokens=thoughts,
            tool_calls=calls,
        )
    except (KeyError, IndexError, TypeError, AttributeError, ValueError) as exc:
        raise protocol_error(provider, model, f"no candidates[0] ({type(exc).__name__})") from None


def auth_headers(api_key: str) -> dict[str, str]:
    return {"x-goog-api-key": api_key} if api_key else {}


class GeminiProvider:
    def __init__(self, name: str, endpoint: Endpoint) -> None:
        self.name = name
        self.endpoint = endpoint

    async def complete(self, model: ModelSpec, request: CompletionRequest, timeout_s: float) -> Completion:
        path = f"/models/{model.wire_model}:generateContent"
        body = await post_json(self.endpoint, path, build_payload(request), self.name, model.name, timeout_s)
        return parse_reply(body, self.name, model.name)
