"""OpenAI-compatible chat completions (OpenAI, vLLM, Ollama, OpenRouter, DeepSeek, Groq, ...)."""

from __future__ import annotations

from typing import Any

from core.catalog import ModelSpec
from core.ports import Completion, CompletionRequest
from providers.http import Endpoint, post_json, protocol_error


def build_payload(model: str, request: CompletionRequest) -> dict[str, Any]:
    payload: dict[str, Any] = {"model": model, "messages": request.messages, "max_tokens": request.max_output_tokens}
    if request.response_format is not None:
        payload["response_format"] = request.response_format
    payload.update(request.sampling.to_dict())  # temperature, top_p, stop, seed, user: the same names here
    for key, value in (("tools", request.tools), ("tool_choice", request.tool_choice),
                       ("parallel_tool_calls", request.parallel_tool_calls)):
        if value is not None:
            payload[key] = value
    return payload


def parse_reply(body: Any, provider: str, model: str) -> Completion:
    try:
        choice = body["choices"][0]
        message = choice["message"]
        content = message.get("content") or ""
        finish = choice.get("finish_reason") or ""
        usage = body.get("usage") or {}
        refusal = message.get("refusal")
        calls = message.get("tool_calls") if isinstance(message.get("tool_calls"), list) else []
        return Completion(
            content=content if isinstance(content, str) else "",
            finish_reason=str(finish),
            input_tokens=int(usage.get("prompt_tokens") or 0),
            output_tokens=int(usage.get("completion_tokens") or 0),
            cached_input_tokens=int((usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0),
            reasoning_tokens=int((usage.get("completion_tokens_details") or {}).get("reasoning_tokens") or 0),
            refusal=refusal if isinstance(refusal, str) else "",
            tool_calls=[{"id": str(c["id"]), "type": "function",
                         "function": {"name": str(c["function"]["name"]),
                                      "arguments": str(c["function"].get("arguments") or "{}")}} for c in calls],
        )
    except (KeyError, IndexError, TypeError, AttributeError, ValueError) as exc:
        raise protocol_error(provider, model, f"no choices[0].message ({type(exc).__name__})") from None


def auth_headers(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"} if api_key else {}


class OpenAICompatProvider:
    def __init__(self, name: str, endpoint: Endpoint) -> None:
        self.name = name
        self.endpoint = endpoint

    async def complete(self, model: ModelSpec, request: CompletionRequest, timeout_s: float) -> Completion:
        payload = build_payload(model.wire_model, request)
        body = await post_json(self.endpoint, "/chat/completions", payload, self.name, model.name, timeout_s)
        return parse_reply(body, self.name, model.name)
