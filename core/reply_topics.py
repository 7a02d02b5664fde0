"""Which topics a request may name as its ``reply_topic`` (pure; design §2).

Internal topics are never valid: a response written into them would be read back as a job, a
request or an outcome row. Other topics must match the tenant's allow-list (catalog
``[reply_topics]``, fnmatch patterns where ``{tenant}`` stands for the tenant's own name) and
must exist: a missing topic is refused up front, because a send to it would wait for metadata
and stall the stage.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from core.topics import TopicNames

_LEGAL = re.compile(r"^[A-Za-z0-9._-]{1,249}$")  # Kafka's own rule for topic names


@dataclass(frozen=True, slots=True)
class ReplyTopics:
    names: TopicNames
    allowed: Mapping[str, tuple[str, ...]]
    app_id: str = "llm-router"

    def is_internal(self, topic: str) -> bool:
        return (topic in self.names.all() or topic.startswith(("__", f"{self.names.prefix}llm.", self.app_id))
                or topic.startswith("llm."))

    def problem(self, tenant: str, topic: str, exists: Callable[[str], bool] | None = None) -> str | None:
        """Why ``topic`` may not carry this tenant's responses, or None when it may."""
        if topic == self.names.responses:
            return None
        if not _LEGAL.match(topic):
            return f"reply_topic: {topic[:80]!r} is not a legal Kafka topic name"
        if self.is_internal(topic):
            return f"reply_topic: {topic!r} is an internal topic of the router"
        patterns = self.allowed.get(tenant, self.allowed.get("default", ()))
        if not any(fnmatch.fnmatchcase(topic, p.replace("{tenant}", tenant)) for p in patterns):
            shown = ", ".join(p.replace("{tenant}", tenant) for p in patterns) or "none"
            return f"reply_topic: {topic!r} is not allowed for tenant {tenant!r} (allowed: {shown})"
        if exists is not None and not exists(topic):
            return f"reply_topic: {topic!r} does not exist (create it before naming it)"
        return None
