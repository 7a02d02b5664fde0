"""Hand-written fakes of our own ports, for unit tests (no MagicMock of our classes)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from core.catalog import ModelSpec
from core.errors import ProviderError
from core.events import Classification, Job
from core.messages import Out
from core.ports import Completion, CompletionRequest
from core.request import Request


class FakeClock:
    def __init__(self, now_ms: int = 1_800_000_000_000) -> None:
        self._now_ms = now_ms
        self._mono = 0.0
        self.slept: list[float] = []

    def now_ms(self) -> int:
        return self._now_ms

    def monotonic(self) -> float:
        return self._mono

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        self._mono += seconds
        self._now_ms += int(seconds * 1000)

    def jitter(self) -> float:
        return 0.5


class ScriptedProvider:
    """Replies from a script per model name: a Completion or a ProviderError to raise."""

    def __init__(self, script: dict[str, list[Completion | ProviderError]], clock: FakeClock | None = None,
                 latency_s: float = 0.01) -> None:
        self.script = script
        self.calls: list[tuple[str, CompletionRequest, float]] = []
        self.clock = clock
        self.latency_s = latency_s

    async def complete(self, model: ModelSpec, request: CompletionRequest, timeout_s: float) -> Completion:
        self.calls.append((model.name, request, timeout_s))
        if self.clock:
            self.clock.advance(self.latency_s)
        queue = self.script.get(model.name) or [ok()]
        item = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(item, ProviderError):
            raise item
        return item


def ok(content: str = "an answer", finish: str = "stop", tin: int = 10, tout: int = 20) -> Completion:
    return Completion(content, finish, tin, tout)


class StubClassifier:
    version = "stub"

    def __init__(self, tier: int = 1, task: str = "chat", confidence: float = 0.9, pii: bool = False) -> None:
        self.tier, self.task, self.confidence, self.pii = tier, task, confidence, pii

    def classify_batch(self, requests: Sequence[Request]) -> list[Classification]:
        return [Classification(self.task, self.tier, self.confidence, pii=self.pii, model_version="stub",
                               low_confidence=self.confidence < 0.35) for _ in requests]


class DownModels:
    def __init__(self, *down: str, loads: dict[str, float] | None = None) -> None:
        self.down = set(down)
        self.loads = loads or {}

    def unavailable(self, model: str) -> str | None:
        return "breaker_open" if model in self.down else None

    def load(self, model: str) -> float:
        return self.loads.get(model, 0.0)


class FixedSpend:
    def __init__(self, day: float, month: float) -> None:
        self.day, self.month = day, month

    def spent(self, tenant: str, now_ms: int) -> tuple[float, float]:
        return self.day, self.month


def request(**overrides: Any) -> Request:
    base: dict[str, Any] = {"request_id": "r1", "tenant": "acme",
                            "messages": [{"role": "user", "content": "hello there"}]}
    base.update(overrides)
    return Request(**base)


def job(tier: int = 1, **overrides: Any) -> Job:
    j = Job(request=request(**overrides), received_at_ms=1_800_000_000_000)
    j.classification = Classification("chat", tier, 0.9, model_version="stub")
    return j


class RecordingOutbox:
    """An ``Outbox`` that keeps what it was given and accepts at once (as the broker would)."""

    def __init__(self) -> None:
        self.outs: list[Out] = []
        self.batches_accepted = 0

    async def send_all(self, outs: Sequence[Out], accepted: Callable[[], None] | None = None) -> None:
        self.outs.extend(outs)
        if accepted is not None:
            accepted()
            self.batches_accepted += 1

    def on(self, topic: str) -> list[Out]:
        return [o for o in self.outs if o.topic == topic]
