"""The pipeline's stages as objects, each built once with what it works with (pure: no Kafka, no Faust).

An agent reads a batch and hands it to its stage; the facts the stage returns go to the
publisher, and the messages it makes of them are sent. The three job stages (route, invoke,
verify) share one shape: ``check`` (is this internal event one this stage may act on: a forged
or impossible job is set aside, never acted on) and ``step`` (the job in, what happened out).
The classify stage works on raw requests and owns its last resort:
a batch that raised is retried one request at a time, and a request that still raises is answered
``internal_error``, so one bad request never costs the others their answer.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from core import event_checks
from core.clock import Clock
from core.dedup import SeenCache
from core.drift import DriftMonitor
from core.events import Job
from core.facts import Fact
from core.ingress import Ingress, RefusedRequest
from core.invocation import Invoker
from core.messages import Incoming
from core.ports import Classifier, HealthView, Outbox, QualityView, SpendView, Verifier
from core.publisher import Publisher
from core.routing import RoutingPolicy
from core.stages import accept_requests, invoke, route, verify_answer
from core.topics import TopicNames
from core.verification import CascadeLimits

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Classify:
    ingress: Ingress
    classifier: Classifier
    clock: Clock
    seen: SeenCache
    drift: DriftMonitor | None = None
    store_prompts: bool = False
    name: str = "classify"

    def run(self, batch: Sequence[Incoming]) -> list[Fact]:
        try:
            return self._accept(batch)
        except Exception:
            log.exception("classify batch failed; retrying one by one")
        facts: list[Fact] = []
        for msg in batch:
            try:
                facts.extend(self._accept([msg]))
            except Exception as exc:
                log.exception("classify failed for offset %s", msg.offset)
                why = RefusedRequest([f"internal error while classifying ({type(exc).__name__})"], "internal_error")
                facts.append(self.ingress.refuse(msg, why, self.clock.now_ms()))
        return facts

    def _accept(self, batch: Sequence[Incoming]) -> list[Fact]:
        return accept_requests(batch, self.classifier, self.ingress, self.clock.now_ms(), self.drift,
                               self.store_prompts, self.seen)


@dataclass(frozen=True, slots=True)
class Route:
    policy: RoutingPolicy
    health: HealthView
    spend: SpendView
    clock: Clock
    quality: QualityView | None = None  # the quality memory's estimates (None: the tier rule alone)
    name: str = "route"

    def check(self, job: Job) -> str | None:
        return event_checks.for_routing(job, self.policy)

    def prepare(self, jobs: Sequence[Job]) -> None:
        """Estimate the whole batch for every model at once before routing it job by job,
        leaving out the jobs whose decision will not ask (escalations, pinned models)."""
        if self.quality is not None:
            asking = [j for j in jobs if self.policy.weighs_quality(j)]
            self.quality.prepare(asking, list(self.policy.catalog.models), self.clock.now_ms())

    def step(self, job: Job) -> list[Fact]:
        return route(job, self.policy, self.health, self.clock.now_ms(), self.spend, self.quality)


@dataclass(frozen=True, slots=True)
class Invoke:
    invoker: Invoker
    policy: RoutingPolicy
    worker: str = ""
    name: str = "invoke"

    def check(self, job: Job) -> str | None:
        return event_checks.for_invoking(job, self.policy)

    async def step(self, job: Job) -> list[Fact]:
        return await invoke(job, self.invoker, self.worker)


@dataclass(frozen=True, slots=True)
class Verify:
    limits: CascadeLimits
    policy: RoutingPolicy
    clock: Clock
    verifier: Verifier | None = None
    name: str = "verify"

    def check(self, job: Job) -> str | None:
        return event_checks.for_verifying(job, self.policy)

    def prepare(self, jobs: Sequence[Job]) -> None:
        """Nothing to do ahead of a batch."""

    def step(self, job: Job) -> list[Fact]:
        return verify_answer(job, self.limits, self.clock.now_ms(), self.verifier)


@dataclass(frozen=True, slots=True)
class Tuning:
    batch: int = 500  # per-stage batch (classify, route, verify)
    within_s: float = 0.002  # how long a batch waits to fill after its first event
    max_in_flight: int = 2000  # provider calls in flight per worker


@dataclass(frozen=True, slots=True)
class Pipeline:
    """A pipeline worker's stages and what their agents share: the publisher (facts to messages),
    where to send, the clock, and the replay cache (one per worker: a job seen by a stage is not
    worked on twice)."""

    classify: Classify
    route: Route
    invoke: Invoke
    verify: Verify
    clock: Clock
    outbox: Outbox
    seen: SeenCache
    publisher: Publisher
    tuning: Tuning = field(default_factory=Tuning)

    @property
    def names(self) -> TopicNames:
        """The topics the agents read: the ones the publisher writes to (one source for both)."""
        return self.publisher.names
