"""OpenAI-compatible chat completions (OpenAI, vLLM, Ollama, OpenRouter, DeepSeek, Groq, ...)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from core.catalog import ModelSpec
from core.ports import Completion, CompletionRequest
from providers.http import call_timeout, mapped_errors, protocol_error, raise_for_status


def build_payload(model: str, request: CompletionRequest) -> dict[str, Any]:
    payload: dict[str, Any] = {"model": model, "messages": request.messages, "max_tokens": request.max_output_tokens}
    if request.response_format is not None:
        payload["response_format"] = request.response_format
    return payload


def parse_reply(body: Any, provider: str, model: str) -> Completion:
    try:
        choice = body["choices"][0]
        message = choice["message"]
        content = message.get("content") or ""
        finish = choice.get("finish_reason") or ""
        usage = body.get("usage") or {}
        return Completion(
            content=content if isinstance(content, str) else "",
            finish_reason=str(finish),
            input_tokens=int(usage.get("prompt_tokens") or 0),
            output_tokens=int(usage.get("completion_tokens") or 0),
        )
    except (KeyError, IndexError, TypeError, AttributeError, ValueError) as exc:
        raise protocol_error(provider, model, f"no choices[0].message ({type(exc).__name__})") from None


def auth_headers(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"} if api_key else {}


class OpenAICompatProvider:
    def __init__(self, name: str, client: httpx.AsyncClient) -> None:
        self.name = name
        self.client = client

    async def complete(self, model: ModelSpec, request: CompletionRequest, timeout_s: float) -> Completion:
        with mapped_errors(self.name, model.name):
            async with asyncio.timeout(timeout_s):
                response = await self.client.post(
                    "/chat/completions", json=build_payload(model.wire_model, request), timeout=call_timeout(timeout_s)
                )
                raise_for_status(response, self.name, model.name)
                try:
                    body = response.json()
                except ValueError:
                    raise protocol_error(self.name, model.name, "body is not JSON") from None
        return parse_reply(body, self.name, model.name)
