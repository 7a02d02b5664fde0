"""The two message shapes the pure stages trade with the agents: what was read, what to send."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core import outcomes
from core.topics import TopicNames


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


def row_out(names: TopicNames, key: bytes, table: str, row: dict[str, Any]) -> Out:
    """An outcome row for the sink."""
    return Out(names.outcomes, key, outcomes.encode(table, row))
