"""What the stages report: typed facts about what happened, with no topic, key or encoding.

A stage returns a list of these; ``core.publisher.Publisher`` alone decides which messages they
become (which topic, which key, how encoded, which outcome rows, and what to do when a message
would not fit). So a stage's tests read what it decided, and the wire format has one owner.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from core.breaker import Transition
from core.events import Attempt, Decision, Job, Verification
from core.messages import Incoming

Hop = Literal["classified", "routed", "invoked", "escalations"]  # the internal topic a job goes on to


@dataclass(frozen=True, slots=True)
class Classified:
    """A request passed ingress and was classified; ``keep_text``: its redacted prompt is stored."""

    job: Job
    at_ms: int
    keep_text: bool = False


@dataclass(frozen=True, slots=True)
class Routed:
    job: Job
    decision: Decision
    target_tier: int
    at_ms: int


@dataclass(frozen=True, slots=True)
class Invoked:
    """A round of provider calls (the attempts, fallbacks included) finished."""

    job: Job
    attempts: tuple[Attempt, ...]
    at_ms: int


@dataclass(frozen=True, slots=True)
class Judged:
    """The verifier's verdict on a model's answer: a lesson for the quality memory."""

    job: Job
    answer: Attempt
    verification: Verification
    prior: float
    round: int  # escalations before this answer's round
    at_ms: int


@dataclass(frozen=True, slots=True)
class Escalated:
    job: Job
    verification: Verification
    to_tier: int
    round: int  # the round being left (escalations before it)
    at_ms: int


@dataclass(frozen=True, slots=True)
class Answered:
    """The request is finished with ``answer`` (``best_effort``: the best of answers that failed a check)."""

    job: Job
    answer: Attempt
    at_ms: int
    best_effort: bool = False


@dataclass(frozen=True, slots=True)
class Failed:
    """The request is finished with an error."""

    job: Job
    code: str
    message: str
    at_ms: int


@dataclass(frozen=True, slots=True)
class Refused:
    """A raw request ingress refused. ``payload``: what could be decoded of it (None: nothing);
    ``reply_to``: its own reply topic when ingress found that topic acceptable (else the default
    responses topic gets the answer); ``answer``: False for a later copy of an answered id."""

    msg: Incoming
    payload: dict[str, Any] | None
    problems: list[str]
    code: str
    at_ms: int
    reply_to: str | None = None
    answer: bool = True


@dataclass(frozen=True, slots=True)
class SetAside:
    """A message a stage would not act on (unreadable, impossible, too large), with the reason."""

    msg: Incoming
    stage: str
    code: str
    reason: str
    at_ms: int
    request_id: str = ""


@dataclass(frozen=True, slots=True)
class BreakerChanged:
    transition: Transition
    worker: str
    at_ms: int


@dataclass(frozen=True, slots=True)
class DriftWindowClosed:
    """A closed window of the classifier's input statistics (rows for ``classifier_drift``)."""

    row: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RowRefused:
    """Something the sink could not write: a row ClickHouse refused for its content, or a message
    it could not read, and where that came in (topic, partition, offset)."""

    table: str
    row: Any
    reason: str
    source: tuple[str, int, int] = ("", 0, 0)

    @property
    def request_id(self) -> str:
        """The row's request id when it has a readable one, else ""."""
        rid = self.row.get("request_id", "") if isinstance(self.row, dict) else ""
        return rid if isinstance(rid, str) else ""


Fact = (Classified | Routed | Invoked | Judged | Escalated | Answered | Failed | Refused | SetAside | BreakerChanged
        | DriftWindowClosed | RowRefused)
