"""The two message shapes between the pure core and Kafka: what was read, what to send."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from core import outcomes


@dataclass(frozen=True, slots=True)
class Out:
    topic: str
    key: bytes
    value: bytes


@dataclass(frozen=True, slots=True)
class Incoming:
    """A raw message as read from Kafka, with where it came from."""

    value: bytes | None
    timestamp_ms: int
    topic: str
    partition: int
    offset: int


def packed(outs: Sequence[Out], outcomes_topic: str, budget: int) -> list[Out]:
    """``outs`` with their outcome rows packed into as few messages as fit ``budget`` (after the
    other messages, rows in order): one outcome message per batch instead of one per row."""
    rows = [o for o in outs if o.topic == outcomes_topic]
    if len(rows) < 2:
        return list(outs)
    key = rows[0].key[:200]
    values = outcomes.pack([o.value for o in rows], budget - len(key))
    return [*(o for o in outs if o.topic != outcomes_topic), *(Out(outcomes_topic, key, v) for v in values)]
