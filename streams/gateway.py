"""The OpenAI-compatible HTTP gateway: a worker role of its own (``llm-router worker --role gateway``).

``POST /v1/chat/completions`` authenticates the API key (stored as its SHA-256 in the keys file,
ROUTER_GATEWAY_KEYS; each key maps to a tenant with optional per-key request and token rates,
answered with 429 and Retry-After), publishes the request on Kafka (the tenant's own request topic
when it has one, else the shared one) with the gateway's reply topic, and waits for the response
there; ``GET /v1/models`` lists the router's names (``router/auto``, the catalog's aliases) and the
catalog's models. Errors use OpenAI's error shape with the router's code. ``stream: true`` answers in
OpenAI's SSE chunk format once the answer was verified (the router verifies whole answers, and may
escalate a weak one, so tokens are not streamed as they are generated: a consumer never sees text
that is then withdrawn).

Every gateway instance reads the whole reply topic and keeps the answers whose ids it published.
"""

from __future__ import annotations

import asyncio
import logging
import time
import tomllib
import uuid
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from core import openai_wire as wire
from core.catalog import load_catalog
from core.config import Settings
from core.errors import ConfigError
from core.openai_params import AUTO
from core.topics import TopicNames

log = logging.getLogger(__name__)


def load_keys(path: Path | None) -> dict[str, wire.ApiKey]:
    if path is None:
        msg = "ROUTER_GATEWAY_KEYS: the gateway needs a keys file ([keys.<sha256 of the key>] tenant = ...)"
        raise ConfigError(msg)
    try:
        return wire.parse_keys(tomllib.loads(path.read_text(encoding="utf-8")), str(path))
    except (OSError, tomllib.TOMLDecodeError, ValueError, TypeError) as exc:
        raise ConfigError(f"ROUTER_GATEWAY_KEYS: {exc}") from None


class Gateway:
    def __init__(self, settings: Settings, keys: dict[str, wire.ApiKey], models: dict[str, str]) -> None:
        self.settings, self.keys, self.models = settings, keys, models
        self.names = TopicNames(settings.topic_prefix)
        self.reply_topic = settings.gateway_reply_topic
        self.pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.producer: AIOKafkaProducer | None = None
        self.consumer: AIOKafkaConsumer | None = None
        self._reader: asyncio.Task[None] | None = None

    async def start(self, _app: web.Application | None = None) -> None:
        kw = self.settings.kafka_client_kwargs()
        self.producer = AIOKafkaProducer(bootstrap_servers=self.settings.kafka_bootstrap, acks="all", linger_ms=0,
                                         **kw)
        self.consumer = AIOKafkaConsumer(bootstrap_servers=self.settings.kafka_bootstrap, group_id=None,
                                         enable_auto_commit=False, **kw)
        await self.producer.start()
        await self.consumer.start()
        await self.consumer._client.force_metadata_update()  # the reply topic's partitions (see cli/kafka_commands)
        parts = [TopicPartition(self.reply_topic, p)
                 for p in sorted(self.consumer.partitions_for_topic(self.reply_topic) or set())]
        if not parts:
            msg = f"the gateway's reply topic {self.reply_topic} does not exist (workers create it at start)"
            raise ConfigError(msg)
        self.consumer.assign(parts)
        await self.consumer.seek_to_end(*parts)  # only answers to what this instance publishes from now on
        self._reader = asyncio.create_task(self._read())

    async def stop(self, _app: web.Application | None = None) -> None:
        if self._reader is not None:
            self._reader.cancel()
        for client in (self.consumer, self.producer):
            if client is not None:
                await client.stop()

    async def _read(self) -> None:
        assert self.consumer is not None
        while True:
            try:
                batches = await self.consumer.getmany(timeout_ms=1000)
            except Exception:  # noqa: BLE001 - the broker may be down: keep reading when it is back
                log.warning("reading the reply topic failed; retrying", exc_info=True)
                await asyncio.sleep(1.0)
                continue
            for records in batches.values():
                for r in records:
                    waiting = self.pending.pop((r.key or b"").decode("utf-8", "replace"), None)
                    if waiting is not None and not waiting.done():
                        try:
                            waiting.set_result(orjson.loads(r.value or b"{}"))
                        except orjson.JSONDecodeError:
                            waiting.set_result({"status": "error", "error": {"code": "internal_error",
                                                                             "message": "unreadable response"}})

    # --- HTTP ----------------------------------------------------------------------------------

    async def chat(self, request: web.Request) -> web.StreamResponse:
        key = self.keys.get(wire.key_hash(wire.bearer(request.headers.get("Authorization")) or ""))
        if key is None:
            return _error(401, "invalid_api_key", "missing or unknown API key (Authorization: Bearer <key>)",
                          "authentication_error")
        try:
            body = orjson.loads(await request.read())
        except orjson.JSONDecodeError as exc:
            return _error(400, "invalid_request", f"body: not valid JSON ({exc})")
        if not isinstance(body, dict):
            return _error(400, "invalid_request", "body: expected a JSON object")
        wait = key.admit(wire.estimated_tokens(body), time.monotonic())
        if wait > 0:
            return _error(429, "rate_limit_exceeded", f"rate limit for this key; retry in {wait:.1f} s",
                          "rate_limit_error", {"Retry-After": wire.retry_after(wait)}, retry=True)
        rid = f"chatcmpl-{uuid.uuid4().hex}"
        topic = (self.names.tenant_requests(key.tenant) if key.tenant in self.settings.tenant_topics
                 else self.names.requests)
        answer: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.pending[rid] = answer
        assert self.producer is not None
        try:
            await self.producer.send_and_wait(topic, orjson.dumps(wire.router_request(body, rid, key.tenant,
                                                                                      self.reply_topic)),
                                              key=rid.encode())
            response = await asyncio.wait_for(answer, self.settings.gateway_timeout_s)
        except TimeoutError:
            return _error(504, "timeout", f"no answer within {self.settings.gateway_timeout_s:g} s", "timeout")
        finally:
            self.pending.pop(rid, None)
        if response.get("status") != "ok":
            err = response.get("error") or {}
            status, payload = wire.error(str(err.get("code") or "internal_error"), str(err.get("message") or ""))
            return web.json_response(payload, status=status, dumps=_dumps,
                                     headers={"x-should-retry": "true" if status >= 500 else "false"})
        created = int(time.time())
        if body.get("stream") is True:
            return await self._stream(request, wire.chunks(response, created))
        return web.json_response(wire.completion(response, created), dumps=_dumps)

    async def _stream(self, request: web.Request, chunks: list[dict[str, Any]]) -> web.StreamResponse:
        out = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await out.prepare(request)
        for chunk in chunks:
            await out.write(b"data: " + orjson.dumps(chunk) + b"\n\n")
        await out.write(b"data: [DONE]\n\n")
        await out.write_eof()
        return out

    async def list_models(self, request: web.Request) -> web.Response:
        data = [{"id": name, "object": "model", "created": 0, "owned_by": owner}
                 for name, owner in self.models.items()]
        return web.json_response({"object": "list", "data": data}, dumps=_dumps)

    async def ready(self, request: web.Request) -> web.Response:
        up = self._reader is not None and not self._reader.done()
        return web.json_response({"ready": up, "role": "gateway", "pending": len(self.pending)},
                                 status=200 if up else 503)


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _error(status: int, code: str, message: str, kind: str = "invalid_request_error",
           headers: dict[str, str] | None = None, retry: bool = False) -> web.Response:
    body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return web.json_response(body, status=status, dumps=_dumps,
                             headers={**(headers or {}), "x-should-retry": "true" if retry else "false"})


def create_gateway_app(settings: Settings) -> web.Application:
    catalog = load_catalog(settings.catalog_path, settings.catalog_placeholders(), settings.catalog_overrides)
    names = {AUTO: "llm-router"} | dict.fromkeys(catalog.aliases, "llm-router")
    gateway = Gateway(settings, load_keys(settings.gateway_keys),
                      names | {name: m.provider for name, m in catalog.models.items()})
    app = web.Application(client_max_size=settings.max_request_bytes)
    app.on_startup.append(gateway.start)
    app.on_cleanup.append(gateway.stop)
    app.router.add_post("/v1/chat/completions", gateway.chat)
    app.router.add_get("/v1/models", gateway.list_models)
    app.router.add_get("/health/", gateway.ready)
    app.router.add_get("/health/ready", gateway.ready)
    app.router.add_get("/health/live", gateway.ready)
    return app
