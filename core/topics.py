"""Topic names (design §2). Every message is keyed by request_id; names carry a schema version."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TopicNames:
    prefix: str = ""

    def _t(self, name: str) -> str:
        return f"{self.prefix}{name}"

    @property
    def requests(self) -> str:
        return self._t("llm.requests.v1")

    @property
    def requests_dlq(self) -> str:
        return self._t("llm.requests.dlq.v1")

    @property
    def internal_dlq(self) -> str:
        """Internal events a stage refused (malformed, impossible, too large), with the reason."""
        return self._t("llm.internal.dlq.v1")

    @property
    def outcomes_dlq(self) -> str:
        """Outcome rows ClickHouse refused, with the reason; the rest of their batch is written."""
        return self._t("llm.outcomes.dlq.v1")

    @property
    def classified(self) -> str:
        return self._t("llm.classified.v1")

    @property
    def routed(self) -> str:
        return self._t("llm.routed.v1")

    @property
    def invoked(self) -> str:
        return self._t("llm.invoked.v1")

    @property
    def escalations(self) -> str:
        return self._t("llm.escalations.v1")

    @property
    def responses(self) -> str:
        return self._t("llm.responses.v1")

    @property
    def outcomes(self) -> str:
        return self._t("llm.outcomes.v1")

    @property
    def control(self) -> str:
        return self._t("llm.control.v1")

    @property
    def feedback(self) -> str:
        return self._t("llm.feedback.v1")

    def tenant_requests(self, tenant: str) -> str:
        """A tenant's own request topic: only that tenant's principal may write it (Kafka ACLs), so
        the tenant a request spends for comes from where it was published, not from its payload."""
        return f"{self.requests}.{tenant}"

    def tenant_of(self, topic: str) -> str | None:
        """The tenant whose own request topic ``topic`` is; None for any other topic."""
        head = f"{self.requests}."
        return topic[len(head):] if topic.startswith(head) and len(topic) > len(head) else None

    def all(self) -> list[str]:
        return [self.requests, self.requests_dlq, self.classified, self.routed, self.invoked, self.escalations,
                self.responses, self.outcomes, self.control, self.feedback, self.internal_dlq, self.outcomes_dlq]
