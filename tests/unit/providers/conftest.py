from __future__ import annotations

from collections.abc import Callable

import httpx

from core.catalog import Catalog
from core.ports import Provider
from providers.registry import build_providers

Handler = Callable[[httpx.Request], httpx.Response]


def adapter(catalog: Catalog, provider: str, handler: Handler, env: dict[str, str]) -> Provider:
    """The registry's adapter for ``provider``, talking to ``handler`` through httpx.MockTransport."""
    providers, _ = build_providers(catalog, env, httpx.MockTransport(handler))
    return providers[provider]
