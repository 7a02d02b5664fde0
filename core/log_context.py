"""Which request a log line is about (pure): stages set it around the work on one request, and the
worker's log formatter adds it to every line written meanwhile (``streams/logs.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_CURRENT: ContextVar[tuple[str, str, str] | None] = ContextVar("request_context", default=None)


@contextmanager
def about(stage: str, request_id: object, tenant: object) -> Iterator[None]:
    """Lines logged inside carry ``stage``, ``request_id`` and ``tenant`` (non-strings become "")."""
    token = _CURRENT.set((stage, request_id if isinstance(request_id, str) else "",
                          tenant if isinstance(tenant, str) else ""))
    try:
        yield
    finally:
        _CURRENT.reset(token)


def current() -> dict[str, str]:
    """The request the running code works on: ``{"stage", "request_id", "tenant"}``, or empty."""
    value = _CURRENT.get()
    return {} if value is None else dict(zip(("stage", "request_id", "tenant"), value, strict=True))
