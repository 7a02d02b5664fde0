from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

from aiohttp import web

from providers.http import parse_retry_after


def test_retry_after_seconds_and_http_date() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("0.5") == 0.5
    assert parse_retry_after("Thu, 01 Jan 2026 12:00:10 GMT", now) == 10.0
    assert parse_retry_after("Thu, 01 Jan 2026 11:00:00 GMT", now) == 0.0  # in the past: retry now
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


async def test_a_provider_that_echoes_the_key_never_gets_it_into_an_error(catalog) -> None:
    """Every adapter: a 401 body quoting the key (and key-shaped strings) comes back scrubbed."""
    import httpx
    import pytest

    from core.errors import ProviderRejectedError
    from core.ports import CompletionRequest
    from tests.unit.providers.conftest import adapter

    secrets = {"openai": ("OPENAI_API_KEY", "hunter2-not-shaped-like-a-key"),
               "anthropic": ("ANTHROPIC_API_KEY", "sk-ant-api03-" + "A" * 30),
               "google": ("GEMINI_API_KEY", "AIza" + "b" * 35)}
    for provider_name, (env_name, key) in secrets.items():
        def echo(request: httpx.Request, key: str = key) -> httpx.Response:
            body = {"error": {"message": f"Incorrect API key provided: {key}. Also sk-live-{'9' * 24} "
                                         f"and Bearer {key}"}}
            return httpx.Response(401, json=body)

        p = adapter(catalog, provider_name, echo, {env_name: key})
        model = next(m for m in catalog.models.values() if m.provider == provider_name)
        with pytest.raises(ProviderRejectedError) as info:
            await p.complete(model, CompletionRequest([{"role": "user", "content": "hi"}], 8), 5.0)
        text = str(info.value)
        assert key not in text and "9" * 24 not in text, provider_name
        assert "[redacted]" in text and len(text) < 400


async def test_no_cookie_a_provider_sets_is_sent_back_on_a_later_call() -> None:
    """The endpoint is shared by every tenant's calls to a provider: a Set-Cookie from one answer must
    not ride along on the next call, in the httpx layer (MockTransport) nor in aiohttp's (a real server)."""
    import httpx
    import orjson

    from providers.http import call_timeout, make_endpoint

    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("cookie"))
        return httpx.Response(200, json={}, headers={"set-cookie": "session=tenant-a; Path=/"})

    async with make_endpoint("http://provider.test", 4, {}, httpx.MockTransport(handler)) as endpoint:
        await endpoint.post("/first", b"{}", call_timeout(5))
        await endpoint.post("/second", b"{}", call_timeout(5))
    assert seen == [None, None]

    async def sets(request: web.Request) -> web.Response:
        response = web.json_response({"cookie": request.headers.get("Cookie")})
        response.set_cookie("session", "tenant-a")
        return response

    # localhost, not 127.0.0.1: aiohttp's own jar would not keep a cookie of an IP address anyway
    async with _serving("/call", sets) as port, make_endpoint(f"http://localhost:{port}", 4, {}) as endpoint:
        first = await endpoint.post("/call", b"{}", call_timeout(5))
        second = await endpoint.post("/call", b"{}", call_timeout(5))
    assert first.headers.get("set-cookie", "").startswith("session=tenant-a")  # the server did set one
    assert orjson.loads(second.content) == {"cookie": None}


async def test_a_call_is_one_json_post_to_the_base_url_with_the_key_and_the_timeouts() -> None:
    """What the endpoint puts on the wire without an httpx client: the joined URL, the adapter's
    headers over the defaults, the body as given, and each timeout where a transport looks for it."""
    import httpx

    from providers.http import call_timeout, make_endpoint

    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ok": True})

    async with make_endpoint("https://api.provider.test/v1/", 4, {"Authorization": "Bearer k-1"},
                             httpx.MockTransport(handler)) as endpoint:
        reply = await endpoint.post("/chat/completions", b'{"model":"m"}', call_timeout(2.5))
    (request,) = seen
    assert (request.method, str(request.url)) == ("POST", "https://api.provider.test/v1/chat/completions")
    assert request.headers["authorization"] == "Bearer k-1"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["content-length"] == "13" and request.content == b'{"model":"m"}'
    assert request.extensions["timeout"] == {"connect": 2.5, "read": 2.5, "write": 2.5, "pool": 2.5}
    assert reply.status_code == 200 and reply.content == b'{"ok":true}'


async def test_a_reply_over_the_cap_is_refused_however_it_comes() -> None:
    """Declared too long, streamed without a length, or compressed into a bomb: the call fails as a
    protocol error naming the cap instead of reading on; a compressed reply within it reads whole."""
    import gzip

    import httpx
    import pytest

    from core.errors import ProviderProtocolError
    from providers.http import Endpoint, post_json

    big = b'{"text": "' + b"x" * 5000 + b'"}'

    async def chunks():
        for i in range(0, len(big), 100):
            yield big[i:i + 100]

    replies = {
        "declared": lambda: httpx.Response(200, content=big),
        "chunked": lambda: httpx.Response(200, content=chunks()),
        "bomb": lambda: httpx.Response(200, content=gzip.compress(big), headers={"content-encoding": "gzip"}),
    }
    assert len(gzip.compress(big)) < 1000  # the bomb is small on the wire: only its decoded size is over
    for reply in replies.values():
        async with Endpoint("http://provider.test", {}, httpx.MockTransport(lambda r, reply=reply: reply()),
                            max_reply_bytes=1000) as endpoint:
            with pytest.raises(ProviderProtocolError, match="reply larger than 1,000 bytes"):
                await post_json(endpoint, "/chat", {}, "p", "m", 5.0)
    small = gzip.compress(b'{"ok": true}')
    gz = httpx.MockTransport(lambda r: httpx.Response(200, content=small, headers={"content-encoding": "gzip"}))
    async with Endpoint("http://provider.test", {}, gz, max_reply_bytes=1000) as endpoint:
        assert await post_json(endpoint, "/chat", {}, "p", "m", 5.0) == {"ok": True}


async def test_a_compressed_chunked_reply_from_a_real_server_reads_whole() -> None:
    """Through aiohttp's transport (not a mock): gzip on the wire, no length, decoded within the cap."""
    from providers.http import make_endpoint, post_json

    async def answer(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_compression(web.ContentCoding.gzip)
        response.content_type = "application/json"
        await response.prepare(request)
        await response.write(b'{"choices": [')
        await response.write(b'"' + b"y" * 3000 + b'"]}')
        await response.write_eof()
        return response

    async with _serving("/v1/chat", answer) as port, make_endpoint(f"http://127.0.0.1:{port}/v1", 4, {}) as endpoint:
        assert await post_json(endpoint, "/chat", {}, "p", "m", 5.0) == {"choices": ["y" * 3000]}


@contextlib.asynccontextmanager
async def _serving(path: str, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> AsyncIterator[int]:
    """A real aiohttp server answering POST ``path`` with ``handler``, on a free port (yielded)."""
    app = web.Application()
    app.router.add_post(path, handler)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield runner.addresses[0][1]
    finally:
        await runner.cleanup()
