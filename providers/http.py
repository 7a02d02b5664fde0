"""Pooled provider endpoints (httpx over aiohttp) and the one place where transport errors become ProviderErrors."""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import aiohttp
import httpx
import orjson
from httpx_aiohttp import AiohttpTransport

from core.errors import (
    ProviderError,
    ProviderProtocolError,
    ProviderRateLimitedError,
    ProviderRejectedError,
    ProviderTimeoutError,
    ProviderUnavailableError,
)
from core.payload import MAX_ERROR_TEXT
from core.scrub import scrub

CONNECT_TIMEOUT_S = 5.0
WRITE_TIMEOUT_S = 10.0
POOL_TIMEOUT_S = 10.0
MAX_REPLY_BYTES = 32 * 1024 * 1024  # far above any answer a Kafka message could carry on


class Endpoint:
    """One provider's pooled connection: its base URL, the headers every call carries (the key) and
    an httpx transport (aiohttp's, or ``httpx.MockTransport`` in tests).

    A call goes to the transport directly, without ``httpx.AsyncClient``'s per-call layers (default
    merging, auth and redirect hooks, a cookie jar, JSON through the standard library): the same
    request on the wire, built once as an ``httpx.Request``, for 0.27 instead of 0.48 ms of CPU per
    call against the simulator (2026-12-03). Nothing is lost by it: no provider call follows a
    redirect or sends a cookie, and the timeouts travel in the request as the client would put them."""

    def __init__(self, base_url: str, headers: dict[str, str], transport: httpx.AsyncBaseTransport,
                 max_reply_bytes: int = MAX_REPLY_BYTES) -> None:
        self.base_url = base_url.rstrip("/")
        self.headers = httpx.Headers({**_DEFAULT_HEADERS, **headers})
        self.transport = transport
        self.max_reply_bytes = max_reply_bytes
        self._urls: dict[str, httpx.URL] = {}  # parsing a URL took 20 of a call's 270 us: once per path

    def url(self, path: str) -> httpx.URL:
        url = self._urls.get(path)
        if url is None:
            if len(self._urls) >= 1024:  # paths come from the catalog (one per model at most): bounded anyway
                self._urls.clear()
            url = self._urls[path] = httpx.URL(self.base_url + path)
        return url

    async def post(self, path: str, body: bytes, timeout: httpx.Timeout) -> httpx.Response:
        """POST ``body`` (JSON) to ``path`` and read the whole reply, at most ``max_reply_bytes`` of
        it once decoded (``ReplyTooLarge`` beyond: a provider that floods, or a compressed bomb, must
        not take the worker's memory with it)."""
        request = httpx.Request("POST", self.url(path), content=body, headers=self.headers,
                                extensions={"timeout": timeout.as_dict()})
        response = await self.transport.handle_async_request(request)
        response.request = request  # as the client would: the error path reads what was sent (to scrub it)
        try:
            length = response.headers.get("content-length", "")
            if length.isdigit() and "content-encoding" not in response.headers:
                if int(length) > self.max_reply_bytes:  # said so up front: not a byte read
                    raise ReplyTooLarge(self.max_reply_bytes)
                await response.aread()  # the transport reads exactly what was declared
                return response
            return await self._capped(response)
        finally:
            await response.aclose()

    async def _capped(self, response: httpx.Response) -> httpx.Response:
        """A reply of unknown decoded size (chunked, or compressed), read chunk by chunk up to the cap."""
        decoded = bytearray()
        async for chunk in response.aiter_bytes():
            decoded += chunk
            if len(decoded) > self.max_reply_bytes:
                raise ReplyTooLarge(self.max_reply_bytes)
        headers = [(k, v) for k, v in response.headers.raw if k.lower() not in _FRAMING]
        return httpx.Response(response.status_code, headers=headers, content=bytes(decoded),
                              request=response.request)

    async def aclose(self) -> None:
        await self.transport.aclose()

    async def __aenter__(self) -> Endpoint:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class ReplyTooLarge(ValueError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"reply larger than {limit:,} bytes")


_FRAMING = (b"content-encoding", b"content-length", b"transfer-encoding")  # of the bytes as sent, not as read
_DEFAULT_HEADERS = {"Accept": "application/json", "Accept-Encoding": "gzip, deflate",
                    "Content-Type": "application/json", "User-Agent": f"llm-router (python-httpx/{httpx.__version__})"}


def make_endpoint(base_url: str, max_connections: int, headers: dict[str, str],
                  transport: httpx.AsyncBaseTransport | None = None) -> Endpoint:
    """One long-lived endpoint per provider: an explicit connection limit, aiohttp's transport, and no
    cookies kept (httpx's layer keeps none without a client; aiohttp's jar is a dummy)."""
    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
    return Endpoint(base_url, headers, transport or _cookieless_aiohttp(limits))


def _cookieless_aiohttp(limits: httpx.Limits) -> AiohttpTransport:
    """The aiohttp transport with the session it would build itself, but a jar that keeps nothing
    (aiohttp's own jar would otherwise store and resend what httpx's no longer does)."""
    transport = AiohttpTransport(limits=limits)

    def session() -> aiohttp.ClientSession:  # called on the first request, inside the event loop
        connector = aiohttp.TCPConnector(keepalive_timeout=limits.keepalive_expiry, ssl=transport.ssl_context,
                                         limit=limits.max_connections or 100)
        return aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar())

    transport.client = session
    return transport


def call_timeout(total_s: float) -> httpx.Timeout:
    return httpx.Timeout(total_s, connect=min(CONNECT_TIMEOUT_S, total_s), write=min(WRITE_TIMEOUT_S, total_s),
                         pool=min(POOL_TIMEOUT_S, total_s))


@contextlib.contextmanager
def mapped_errors(provider: str, model: str) -> Iterator[None]:
    """Translate httpx and timeout errors into the most specific ProviderError."""
    try:
        yield
    except ProviderError:
        raise
    except (httpx.TimeoutException, TimeoutError) as exc:
        msg = f"{provider}/{model}: timed out ({type(exc).__name__})"
        raise ProviderTimeoutError(msg, provider=provider, model=model) from exc
    except httpx.TransportError as exc:
        msg = f"{provider}/{model}: transport error ({type(exc).__name__}: {scrub(str(exc))[:MAX_ERROR_TEXT]})"
        raise ProviderUnavailableError(msg, provider=provider, model=model) from exc


def raise_for_status(response: httpx.Response, provider: str, model: str) -> None:
    """Map an HTTP error status to a ProviderError carrying the provider's own message."""
    status = response.status_code
    if status < 400:
        return
    detail = _error_detail(response)
    msg = f"{provider}/{model}: HTTP {status}: {detail}"
    kw: dict[str, Any] = {"provider": provider, "model": model, "status": status}
    if status == 429:
        raise ProviderRateLimitedError(msg, retry_after=parse_retry_after(response.headers.get("retry-after")), **kw)
    if status in (408, 504):
        raise ProviderTimeoutError(msg, **kw)
    if status >= 500 or status == 409:
        raise ProviderUnavailableError(msg, retry_after=parse_retry_after(response.headers.get("retry-after")), **kw)
    raise ProviderRejectedError(msg, **kw)


def _error_detail(response: httpx.Response) -> str:
    """The provider's own error message, capped and scrubbed of the key we sent and of anything
    shaped like a credential (a provider may echo the key in a 401 body)."""
    return scrub(_raw_detail(response), _sent_secrets(response))[:MAX_ERROR_TEXT]


def _sent_secrets(response: httpx.Response) -> list[str]:
    try:
        headers = response.request.headers
    except RuntimeError:  # a response built without a request (tests)
        return []
    values = [headers.get(h, "") for h in ("authorization", "x-api-key", "x-goog-api-key", "api-key")]
    return [v.split(" ", 1)[-1] for v in values if v] + [v for v in values if v]


def _raw_detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except (ValueError, RecursionError):  # RecursionError: JSON nested deeper than the decoder goes
        return response.text[:2000]
    err = body.get("error") if isinstance(body, dict) else None
    if isinstance(body, list) and body and isinstance(body[0], dict):  # Gemini may wrap errors in a list
        err = body[0].get("error")
    if isinstance(err, dict):
        return str(err.get("message") or err.get("type") or err)[:2000]
    if isinstance(err, str):
        return err[:2000]
    return str(body)[:2000]


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as delta-seconds or an HTTP-date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


async def post_json(endpoint: Endpoint, path: str, payload: dict[str, Any], provider: str, model: str,
                    timeout_s: float) -> Any:
    """POST a JSON body and return the decoded JSON reply; every failure is a ProviderError."""
    with mapped_errors(provider, model):
        async with asyncio.timeout(timeout_s):  # the whole call, body included, within the budget
            try:
                response = await endpoint.post(path, orjson.dumps(payload), call_timeout(timeout_s))
            except ReplyTooLarge as exc:
                raise protocol_error(provider, model, str(exc)) from None
            raise_for_status(response, provider, model)
            try:
                return orjson.loads(response.content)
            except orjson.JSONDecodeError as exc:
                deep = str(exc).startswith("depth limit")
                raise protocol_error(provider, model, "body is JSON nested too deep to read" if deep
                                     else "body is not JSON") from None


def protocol_error(provider: str, model: str, problem: str) -> ProviderProtocolError:
    return ProviderProtocolError(f"{provider}/{model}: unexpected reply: {problem}", provider=provider, model=model)


def call_arguments(raw: Any) -> dict[str, Any]:
    """A tool call's arguments (OpenAI sends a JSON string) as the object Anthropic and Gemini take;
    anything that is not a JSON object becomes {} rather than failing the call."""
    try:
        value = json.loads(raw or "{}")
    except (TypeError, ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}
