"""The simulator's HTTP server: OpenAI chat completions, Anthropic Messages and Gemini
generateContent, plus /_sim admin.

Admin endpoints (loopback only, for tests and benchmarks):
  GET  /_sim/health            liveness
  GET  /_sim/stats             calls and outcomes per model, and what each model received
  POST /_sim/config            {"default": {...}, "models": {"<model>": {...}}} behaviour overrides
  POST /_sim/reset             clear stats
"""

from __future__ import annotations

import asyncio
import random
import zlib
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web

from simulator.behaviour import Behaviour, Outcome, decide, prompt_tokens


class SimState:
    def __init__(self, default: Behaviour | None = None, models: dict[str, Behaviour] | None = None) -> None:
        self.default = default or Behaviour()
        self.models = models or {}
        self.calls: Counter[str] = Counter()
        self.outcomes: dict[str, Counter[str]] = defaultdict(Counter)
        self.received: dict[str, list[str]] = defaultdict(list)  # model -> start of each prompt it received
        self.rng = random.Random()
        self.in_flight = 0
        self.peak_in_flight = 0
        self.replay: dict[int, dict[str, int]] = {}  # crc32(question) -> {tier: correct 0/1}
        self.model_tiers: dict[str, int] = {}

    def behaviour(self, model: str) -> Behaviour:
        return self.models.get(model, self.default)

    def configure(self, raw: dict[str, Any]) -> None:
        if raw.get("replay"):  # per-question outcomes from a dataset: a tier fails what it failed there
            self.replay = load_replay(Path(raw["replay"]))
        if "model_tiers" in raw:
            self.model_tiers = {str(k): int(v) for k, v in raw["model_tiers"].items()}
        if "default" in raw:
            self.default = Behaviour().with_overrides(raw["default"])
        for name, overrides in (raw.get("models") or {}).items():
            self.models[name] = self.default.with_overrides(overrides)

    def record(self, model: str, outcome: Outcome, prompt: str) -> None:
        self.calls[model] += 1
        self.outcomes[model][outcome.kind] += 1
        if len(self.received[model]) < 100_000:  # tests check who received what (privacy routing)
            self.received[model].append(prompt[:200])


STATE: web.AppKey[SimState] = web.AppKey("state", SimState)


def load_replay(path: Path) -> dict[int, dict[str, int]]:
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = orjson.loads(line)
            out[zlib.crc32(row["prompt"].strip().encode())] = row["correct_by_tier"]
    return out


def _replayed_failure(state: SimState, model: str, question: str) -> bool:
    outcomes = state.replay.get(zlib.crc32(question.strip().encode())) if state.replay else None
    tier = state.model_tiers.get(model)
    return bool(outcomes and tier and outcomes.get(str(tier)) == 0)


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=orjson.dumps(body), status=status, content_type="application/json", headers=headers)


JSON_TYPES = ("json_object", "json_schema")


def _tool_to_call(names: list[Any], messages: list[Any], result_marker: str) -> str | None:
    """The first offered tool, unless the conversation already carries a tool result (then the
    model answers in text): enough for a client's tool loop to run against the simulator."""
    if not names or not isinstance(names[0], str):
        return None
    return None if result_marker in orjson.dumps(messages).decode() else names[0]


def _as_json(text: str) -> str:
    return orjson.dumps({"answer": text}).decode() if text else ""


def _last_user(messages: list[Any]) -> str:
    users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    return _text_of(users[-1:]) if users else ""


def _text_of(messages: list[Any]) -> str:
    parts = []
    for m in messages:
        c = m.get("content") if isinstance(m, dict) else None
        if isinstance(c, str):
            parts.append(c)
        elif isinstance(c, list):
            parts.extend(str(p.get("text", "")) for p in c if isinstance(p, dict))
    return "\n".join(parts)


async def _play(state: SimState, model: str, text: str, max_tokens: int, question: str = "") -> Outcome:
    outcome = decide(state.behaviour(model), model, text, max_tokens, state.rng.random())
    if outcome.kind in ("ok", "truncated") and _replayed_failure(state, model, question):
        outcome = Outcome("replay_fail", content="", output_tokens=0, delay_s=outcome.delay_s)
    state.record(model, outcome, text)
    state.in_flight += 1
    state.peak_in_flight = max(state.peak_in_flight, state.in_flight)
    try:
        if outcome.kind == "hang":
            await asyncio.Event().wait()  # until the client gives up and the connection closes
        if outcome.delay_s:
            await asyncio.sleep(outcome.delay_s)
    finally:
        state.in_flight -= 1
    return outcome


def _error_text(state: SimState, model: str, request: web.Request, kind: str) -> str:
    if not state.behaviour(model).echo_key:
        return f"simulated {kind}"
    sent = request.headers.get("Authorization") or request.headers.get("x-api-key") or \
        request.headers.get("x-goog-api-key") or request.query.get("key", "")
    return f"Incorrect API key provided: {sent.removeprefix('Bearer ')}. You passed {sent!r}."


def _error_headers(state: SimState, model: str) -> dict[str, str]:
    ra = state.behaviour(model).retry_after
    return {"Retry-After": f"{ra:g}"} if ra is not None else {}


async def openai_chat(request: web.Request) -> web.Response:
    state: SimState = request.app[STATE]
    try:
        body = orjson.loads(await request.read())
        model, messages = body["model"], body["messages"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return _json({"error": {"message": "model and messages are required", "type": "invalid_request_error"}}, 400)
    text = _text_of(messages)
    max_tokens = int(body.get("max_tokens") or body.get("max_completion_tokens") or 512)
    out = await _play(state, model, text, max_tokens, _last_user(messages))
    if out.status != 200:
        err = {"error": {"message": _error_text(state, model, request, out.kind), "type": "server_error",
                         "code": out.status}}
        return _json(err, out.status, _error_headers(state, model))
    content = _as_json(out.content) if (body.get("response_format") or {}).get("type") in JSON_TYPES else out.content
    tool = _tool_to_call([t.get("function", {}).get("name") for t in body.get("tools") or []], messages,
                         '"role":"tool"')
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool:
        message = {"role": "assistant", "content": None,
                   "tool_calls": [{"id": "call_sim_1", "type": "function",
                                   "function": {"name": tool, "arguments": '{"q": "sim"}'}}]}
    return _json({
        "id": "chatcmpl-sim", "object": "chat.completion", "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if tool else out.finish_reason}],
        "usage": {"prompt_tokens": prompt_tokens(text), "completion_tokens": out.output_tokens,
                  "total_tokens": prompt_tokens(text) + out.output_tokens},
    })


async def anthropic_messages(request: web.Request) -> web.Response:
    state: SimState = request.app[STATE]
    try:
        body = orjson.loads(await request.read())
        model, messages, max_tokens = body["model"], body["messages"], int(body["max_tokens"])
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        err = {"type": "error", "error": {"type": "invalid_request_error",
                                          "message": "model, messages and max_tokens are required"}}
        return _json(err, 400)
    text = "\n".join(filter(None, [body.get("system") if isinstance(body.get("system"), str) else "",
                                   _text_of(messages)]))
    out = await _play(state, model, text, max_tokens, _last_user(messages))
    if out.status != 200:
        kind = "overloaded_error" if out.status in (503, 529) else "api_error"
        message = _error_text(state, model, request, out.kind)
        return _json({"type": "error", "error": {"type": kind, "message": message}},
                     out.status, _error_headers(state, model))
    stop = "max_tokens" if out.finish_reason == "length" else "end_turn"
    tool = _tool_to_call([t.get("name") for t in body.get("tools") or []], messages, '"type":"tool_result"')
    system = body.get("system") if isinstance(body.get("system"), str) else ""
    wants_json = bool((body.get("output_config") or {}).get("format")) or "JSON value only" in system
    blocks: list[dict[str, Any]] = [{"type": "text", "text": _as_json(out.content) if wants_json else out.content}]
    if tool:
        blocks, stop = [{"type": "tool_use", "id": "toolu_sim_1", "name": tool, "input": {"q": "sim"}}], "tool_use"
    return _json({
        "id": "msg_sim", "type": "message", "role": "assistant", "model": model,
        "content": blocks, "stop_reason": stop, "stop_sequence": None,
        "usage": {"input_tokens": prompt_tokens(text), "output_tokens": out.output_tokens},
    })


async def gemini_generate(request: web.Request) -> web.Response:
    state: SimState = request.app[STATE]
    model, _, action = request.match_info["model_action"].partition(":")
    try:
        body = orjson.loads(await request.read())
        contents = body["contents"]
        max_tokens = int((body.get("generationConfig") or {}).get("maxOutputTokens") or 512)
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return _json({"error": {"code": 400, "message": "contents is required", "status": "INVALID_ARGUMENT"}}, 400)
    if action != "generateContent":
        return _json({"error": {"code": 404, "message": f"unknown action {action}", "status": "NOT_FOUND"}}, 404)
    system = " ".join(p.get("text", "") for p in (body.get("systemInstruction") or {}).get("parts", []))
    text = "\n".join(filter(None, [system, *(p.get("text", "") for c in contents for p in c.get("parts", []))]))
    users = [c for c in contents if c.get("role") == "user"]
    question = " ".join(p.get("text", "") for p in users[-1].get("parts", [])) if users else ""
    out = await _play(state, model, text, max_tokens, question)
    if out.status != 200:
        status = {429: "RESOURCE_EXHAUSTED", 503: "UNAVAILABLE"}.get(out.status, "INTERNAL")
        return _json({"error": {"code": out.status, "message": _error_text(state, model, request, out.kind),
                                "status": status}},
                     out.status, _error_headers(state, model))
    finish = "MAX_TOKENS" if out.finish_reason == "length" else "STOP"
    wants_json = (body.get("generationConfig") or {}).get("responseMimeType") == "application/json"
    content = _as_json(out.content) if wants_json else out.content
    declared = [f.get("name") for t in body.get("tools") or [] for f in t.get("functionDeclarations") or []]
    tool = _tool_to_call(declared, contents, '"functionResponse"')
    parts: list[dict[str, Any]] = [{"functionCall": {"name": tool, "args": {"q": "sim"}}}] if tool else \
        [{"text": content}]
    return _json({
        "candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": finish,
                        "index": 0}],
        "usageMetadata": {"promptTokenCount": prompt_tokens(text), "candidatesTokenCount": out.output_tokens,
                          "totalTokenCount": prompt_tokens(text) + out.output_tokens},
        "modelVersion": model,
    })


async def sim_health(request: web.Request) -> web.Response:
    return _json({"status": "ok"})


async def sim_stats(request: web.Request) -> web.Response:
    state: SimState = request.app[STATE]
    return _json({"calls": dict(state.calls), "outcomes": {m: dict(c) for m, c in state.outcomes.items()},
                  "received": state.received, "in_flight": state.in_flight, "peak_in_flight": state.peak_in_flight})


async def sim_config(request: web.Request) -> web.Response:
    state: SimState = request.app[STATE]
    try:
        state.configure(orjson.loads(await request.read()))
    except (orjson.JSONDecodeError, ValueError, TypeError) as exc:
        return _json({"error": str(exc)}, 400)
    return _json({"default": state.default.to_dict(), "models": {k: v.to_dict() for k, v in state.models.items()}})


async def sim_reset(request: web.Request) -> web.Response:
    state: SimState = request.app[STATE]
    state.calls.clear()
    state.outcomes.clear()
    state.peak_in_flight = state.in_flight
    state.received.clear()
    return _json({"status": "reset"})


def create_app(state: SimState) -> web.Application:
    app = web.Application(client_max_size=16 * 1024 * 1024)
    app[STATE] = state
    app.router.add_get("/_sim/health", sim_health)
    app.router.add_get("/_sim/stats", sim_stats)
    app.router.add_post("/_sim/config", sim_config)
    app.router.add_post("/_sim/reset", sim_reset)
    app.router.add_post(r"/{prefix:.*}/chat/completions", openai_chat)
    app.router.add_post(r"/{prefix:.*}/messages", anthropic_messages)
    app.router.add_post(r"/{prefix:.*}/models/{model_action}", gemini_generate)
    return app
