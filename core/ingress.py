"""What a raw request must pass before it is classified, and where a refused one is answered (pure).

A refused request gets exactly one error response, on its reply topic only when that topic is
itself acceptable (else on the default responses topic), a dead-letter copy and a ``requests``
row; ``core.publisher`` builds them so that nothing a publisher sends can make them too large.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.errors import InvalidRequestError
from core.facts import Refused
from core.messages import Incoming
from core.payload import MAX_REQUEST_BYTES, too_deep
from core.reply_topics import ReplyTopics
from core.request import Request, decode_json_object, request_from_payload
from core.topics import TopicNames


class RefusedRequest(InvalidRequestError):
    """An invalid request with the error code its response carries."""

    def __init__(self, problems: list[str], code: str = "invalid_request",
                 payload: dict[str, Any] | None = None) -> None:
        super().__init__(problems)
        self.code = code
        self.payload = payload


@dataclass(frozen=True, slots=True)
class Ingress:
    names: TopicNames
    reply_topics: ReplyTopics
    topic_exists: Callable[[str], bool] | None = None  # None: do not check (unit tests, no broker)
    max_request_bytes: int = MAX_REQUEST_BYTES
    shared_requests: bool = True  # False: requests only on tenants' own topics (tenant isolation)

    @classmethod
    def default(cls, names: TopicNames) -> Ingress:
        return cls(names, ReplyTopics(names, {"default": ("{tenant}.*",)}))

    def admit(self, msg: Incoming) -> Request:
        """The validated request, or RefusedRequest naming every problem."""
        raw = msg.value or b""
        payload: dict[str, Any] | None = None
        try:
            payload = decode_json_object(raw)
        except InvalidRequestError as exc:
            raise RefusedRequest(exc.problems) from None
        if len(raw) > self.max_request_bytes:
            too_large = f"body: {len(raw):,} bytes, over the {self.max_request_bytes:,}-byte limit for a request"
            raise RefusedRequest([too_large], "payload_too_large", payload)
        if too_deep(payload):
            raise RefusedRequest(["body: JSON nested deeper than 64 levels"], payload=payload)
        try:
            request = request_from_payload(payload)
        except InvalidRequestError as exc:
            raise RefusedRequest(exc.problems, payload=payload) from None
        self._check_tenant(msg.topic, request.tenant, payload)
        if request.reply_topic is not None:
            problem = self.reply_topics.problem(request.tenant, request.reply_topic, self.topic_exists)
            if problem is not None:
                why = "reply_topic_missing" if problem.endswith("(create it before naming it)") else "invalid_request"
                raise RefusedRequest([problem], why, payload)
        return request

    def _check_tenant(self, topic: str, tenant: str, payload: dict[str, Any]) -> None:
        """On a tenant's own topic the payload must name that tenant; the shared topic may be closed.
        The refusal never goes to the reply topic the payload names (it may be another tenant's)."""
        owner = self.names.tenant_of(topic)
        unrouted = {k: v for k, v in payload.items() if k != "reply_topic"}
        if owner is not None and tenant != owner:
            problem = f"tenant: {topic} is tenant {owner!r}'s request topic; the request says {tenant!r}"
            raise RefusedRequest([problem], "tenant_mismatch", unrouted)
        if owner is None and not self.shared_requests:
            problem = (f"tenant: requests are accepted on each tenant's own topic ({self.names.requests}.<tenant>), "
                       f"not on {topic}")
            raise RefusedRequest([problem], "tenant_mismatch", unrouted)

    def reply_topic_for(self, payload: dict[str, Any] | None) -> str | None:
        """A refused request's own reply topic when that topic is acceptable (else None: the
        default responses topic gets the answer)."""
        if not payload:
            return None
        topic, tenant = payload.get("reply_topic"), payload.get("tenant")
        if (isinstance(topic, str) and isinstance(tenant, str) and topic
                and self.reply_topics.problem(tenant, topic, self.topic_exists) is None):
            return topic
        return None

    def refuse(self, msg: Incoming, why: RefusedRequest, now_ms: int, answer: bool = True) -> Refused:
        """What happened to a refused request (``answer`` False: a later copy of an answered id,
        only copied to the DLQ); the publisher answers it, copies it and records it."""
        return Refused(msg, why.payload, why.problems, why.code, now_ms, self.reply_topic_for(why.payload), answer)
