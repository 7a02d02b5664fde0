"""Build one adapter (and one pooled endpoint) per catalog provider."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import httpx

from core.catalog import Catalog
from core.config import provider_key
from core.ports import Provider
from providers import anthropic, gemini, openai_compat
from providers.http import Endpoint, make_endpoint

_HEADERS: dict[str, Callable[[str], dict[str, str]]] = {
    "openai": openai_compat.auth_headers,
    "anthropic": anthropic.auth_headers,
    "gemini": gemini.auth_headers,
}


def build_providers(
    catalog: Catalog, env: Mapping[str, str] | None = None, transport: httpx.AsyncBaseTransport | None = None
) -> tuple[dict[str, Provider], list[Endpoint]]:
    """Adapters by provider name, and the endpoints to close on shutdown."""
    providers: dict[str, Provider] = {}
    endpoints: list[Endpoint] = []
    for spec in catalog.providers.values():
        key = provider_key(spec.api_key_env, env)
        endpoint = make_endpoint(spec.base_url, spec.max_connections, _HEADERS[spec.wire](key), transport)
        endpoints.append(endpoint)
        if spec.wire == "anthropic":
            providers[spec.name] = anthropic.AnthropicProvider(spec.name, endpoint)
        elif spec.wire == "gemini":
            providers[spec.name] = gemini.GeminiProvider(spec.name, endpoint)
        else:
            providers[spec.name] = openai_compat.OpenAICompatProvider(spec.name, endpoint)
    return providers, endpoints
