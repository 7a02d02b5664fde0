from __future__ import annotations

from datetime import UTC, datetime

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
