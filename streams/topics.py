"""Create the pipeline's topics explicitly with their partition counts (Faust creates only its own)."""

from __future__ import annotations

import contextlib
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, TopicAlreadyExistsError

from core.errors import ConfigError
from core.topics import TopicNames

OUTCOME_RETENTION_MS = 35 * 86_400_000  # budget ledgers are rebuilt from a month of outcomes


def topic_config(name: str, names: TopicNames) -> dict[str, str]:
    return {"retention.ms": str(OUTCOME_RETENTION_MS)} if name == names.outcomes else {}


async def ensure_topics(bootstrap: str, names: TopicNames, partitions: int, replication: int = 1,
                        tenants: tuple[str, ...] = (), extra: tuple[str, ...] = (), **client_kwargs: Any) -> list[str]:
    """Create missing topics; return the names created now."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30000, **client_kwargs)
    try:
        await admin.start()
    except KafkaConnectionError as exc:
        msg = f"cannot reach Kafka at {bootstrap}: {exc}"
        raise ConfigError(msg) from None
    try:
        existing = set(await admin.list_topics())
        every = [*names.all(), *(names.tenant_requests(t) for t in tenants), *extra]
        wanted = [n for n in every if n not in existing]
        if not wanted:
            return []
        with contextlib.suppress(TopicAlreadyExistsError):  # another process won the race: they exist, enough
            await admin.create_topics([NewTopic(n, num_partitions=partitions, replication_factor=replication,
                                                topic_configs=topic_config(n, names)) for n in wanted])
        return wanted
    finally:
        await admin.close()
