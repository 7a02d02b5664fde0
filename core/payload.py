"""Size and shape limits on what the pipeline reads and writes (pure).

Kafka refuses a message over the producer's ``max_request_size``; an oversized output must be
cut or refused with a clear code before it reaches the producer, never raise inside a batch.
JSON nested deeper than orjson can write back (254 levels) is refused on the way in.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import orjson

MAX_MESSAGE_BYTES = 1_000_000  # the producer's max_request_size (Faust's default)
ENVELOPE_BYTES = 4_096  # Kafka record and batch overhead, key included, kept free under the limit
MAX_REQUEST_BYTES = 768 * 1024  # a request larger than this is answered with payload_too_large
MAX_DEPTH = 64  # JSON nesting accepted in a request
MAX_PROBLEMS = 20  # problems listed in one error response; the rest are counted
DLQ_PAYLOAD_BYTES = 64 * 1024  # how much of a refused payload its DLQ copy keeps (the source offset has all)
MAX_ERROR_TEXT = 300  # characters of a provider's error text carried on events


def message_budget(limit: int = MAX_MESSAGE_BYTES) -> int:
    """The largest value (key included) a stage may hand the producer."""
    return limit - ENVELOPE_BYTES


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """True when ``value`` nests objects/arrays more than ``limit`` levels (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        v, depth = stack.pop()
        if isinstance(v, dict):
            children: Any = v.values()
        elif isinstance(v, list):
            children = v
        else:
            continue
        if depth > limit:
            return True
        stack.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))
    return False


def cap_problems(problems: list[str], limit: int = MAX_PROBLEMS) -> list[str]:
    """At most ``limit`` problems, each at most 300 characters, plus a count of the rest."""
    capped = [p if len(p) <= 300 else p[:297] + "..." for p in problems[:limit]]
    if len(problems) > limit:
        capped.append(f"... and {len(problems) - limit} more problems")
    return capped


def payload_copy(raw: bytes, limit: int = DLQ_PAYLOAD_BYTES) -> dict[str, Any]:
    """A bounded, lossless-where-it-fits copy of a raw payload for a dead-letter record.

    Valid UTF-8 is kept as text, anything else as base64 (decoding with replacement characters
    would triple its size); the whole payload's size and SHA-256 let an operator match the
    original, which stays readable at the recorded source offset.
    """
    head = raw[:limit]
    out: dict[str, Any] = {"payload_bytes": len(raw), "payload_sha256": hashlib.sha256(raw).hexdigest(),
                           "payload_truncated": len(raw) > limit}
    try:
        out["payload"] = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if len(raw) > limit and exc.start >= limit - 3:  # only the cut split a character
            out["payload"] = head[: exc.start].decode("utf-8")
        else:
            out["payload_b64"] = base64.b64encode(head).decode("ascii")
    return out


def dumps_within(body: dict[str, Any], budget: int, shrink: list[str]) -> bytes | None:
    """Encode ``body``; while over ``budget`` (or unencodable), replace the fields in ``shrink``
    one by one with a note. None when even that does not fit."""
    body = dict(body)
    for name in [None, *shrink]:
        if name is not None and name in body:
            body[name] = {"omitted": "too large to carry"} if isinstance(body[name], dict) else None
        try:
            raw = orjson.dumps(body)
        except (orjson.JSONEncodeError, TypeError):
            continue
        if len(raw) <= budget:
            return raw
    return None
