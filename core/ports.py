"""The seams between pure logic and I/O. Adapters implement these; tests use hand-written fakes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from core.catalog import ModelSpec
from core.events import Classification, Job
from core.messages import Out
from core.openai_params import Sampling
from core.quality_memory import Estimate
from core.request import Request


@dataclass(frozen=True, slots=True)
class Completion:
    """A provider's reply, normalised across wire formats."""

    content: str
    finish_reason: str  # stop | length | content_filter | tool_calls | ...
    input_tokens: int  # every prompt token, cached ones included
    output_tokens: int  # every generated token, reasoning ones included
    cached_input_tokens: int = 0  # prompt tokens served from the provider's cache (priced lower)
    reasoning_tokens: int = 0
    refusal: str = ""  # the model's refusal message, when it refused
    tool_calls: list[dict[str, Any]] = field(default_factory=list)  # OpenAI shape: id, type, function


@dataclass(frozen=True, slots=True)
class CompletionRequest:
    messages: list[dict[str, Any]]
    max_output_tokens: int
    response_format: dict[str, Any] | None = None
    sampling: Sampling = field(default_factory=Sampling)
    tools: list[dict[str, Any]] | None = None
    tool_choice: Any = None
    parallel_tool_calls: bool | None = None


class Provider(Protocol):
    """One wire format over one HTTP client. Raises core.errors.ProviderError subclasses."""

    async def complete(self, model: ModelSpec, request: CompletionRequest, timeout_s: float) -> Completion: ...


class Classifier(Protocol):
    version: str

    def classify_batch(self, requests: Sequence[Request]) -> list[Classification]: ...


class HealthView(Protocol):
    """What routing may know about a model's availability right now."""

    def unavailable(self, model: str) -> str | None:
        """None when the model can take calls, else why not ("breaker_open", "saturated")."""
        ...

    def load(self, model: str) -> float:
        """Calls in flight relative to the model's limit (0 = idle), for spreading load."""
        ...


class AllHealthy:
    def unavailable(self, model: str) -> str | None:
        return None

    def load(self, model: str) -> float:
        return 0.0


class SpendView(Protocol):
    def spent(self, tenant: str, now_ms: int) -> tuple[float, float]:
        """USD spent today and this month (UTC)."""
        ...


class NoSpend:
    def spent(self, tenant: str, now_ms: int) -> tuple[float, float]:
        return 0.0, 0.0


class Verifier(Protocol):
    """P(an answer from a model of ``tier`` to ``request`` is acceptable), in [0, 1]."""

    version: str

    def score(self, request: Request, tier: int) -> float: ...


class Outbox(Protocol):
    async def send_all(self, outs: Sequence[Out], accepted: Callable[[], None] | None = None) -> None: ...


class RowWriter(Protocol):
    rows_written: dict[str, int]

    def insert(self, table: str, rows: Sequence[dict[str, Any]]) -> None: ...


class QualityView(Protocol):
    """Estimated P(acceptable answer) per candidate model for a job (core.quality_memory.MemoryView)."""

    def estimates(self, job: Job, models: Sequence[str], now_ms: int) -> dict[str, Estimate]: ...

    def prepare(self, jobs: Sequence[Job], models: Sequence[str], now_ms: int) -> None:
        """Estimate a batch at once before its jobs are routed one by one (optional speed-up)."""
