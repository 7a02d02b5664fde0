"""The attempt plan for one routing decision: retries with backoff, then the fallback chain.

Awaits only the ``Provider`` protocol and the injected clock, so it is tested with fakes.
Every call becomes an :class:`Attempt` (success or failure): nothing is thrown away.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from core.breaker import HEALTH_FAILURES
from core.catalog import Catalog, ModelSpec
from core.catalog_ref import CatalogRef, as_ref
from core.clock import Clock
from core.content import message_text
from core.errors import ProviderError
from core.events import Attempt, Job
from core.health import HealthBoard
from core.payload import MAX_ERROR_TEXT
from core.ports import CompletionRequest, Provider
from core.routing import DEFAULT_OUTPUT_TOKENS, fallback_chain
from core.scrub import scrub
from core.tokens import estimate_tokens
from core.validators import unwrapped_json


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts_per_model: int = 2
    base_backoff_s: float = 0.05
    max_backoff_s: float = 2.0

    def backoff(self, retry_no: int, jitter: float, retry_after: float | None) -> float:
        """Exponential backoff with full jitter; a provider's Retry-After wins when it is longer."""
        wait = min(self.max_backoff_s, self.base_backoff_s * (2**retry_no)) * (0.5 + jitter / 2)
        return float(max(wait, retry_after or 0.0))


class Invoker:
    """Runs the attempt plan for a job against the providers named by the catalog."""

    def __init__(
        self, catalog: Catalog | CatalogRef, providers: Mapping[str, Provider], clock: Clock,
        retry: RetryPolicy | None = None, board: HealthBoard | None = None,
    ) -> None:
        self.ref = as_ref(catalog)
        self.providers = providers
        self.clock = clock
        self.retry = retry or RetryPolicy()
        self.board = board or HealthBoard(self.ref, clock)

    @property
    def catalog(self) -> Catalog:
        return self.ref.current

    async def run(self, job: Job) -> list[Attempt]:
        assert job.decision is not None
        req = job.request
        creq = CompletionRequest(req.messages, req.max_output_tokens or DEFAULT_OUTPUT_TOKENS, req.response_format,
                                 req.sampling, req.tools, req.tool_choice, req.parallel_tool_calls)
        attempts: list[Attempt] = []
        first_no = len(job.attempts) + 1
        chain = fallback_chain(job.decision, self.catalog)
        if not self.board.has_slot(chain[0]):  # the choice is saturated: start where a slot is free
            chain.sort(key=lambda name: not self.board.has_slot(name))
        for i, name in enumerate(chain):
            model = self.catalog.models.get(name)
            if model is None:  # removed by a catalog reload while the request was in flight
                gone = Attempt(first_no + len(attempts), name, job.decision.provider, job.decision.tier, "error",
                               self.clock.now_ms(), 0.0, error_code="model_removed",
                               error_message=f"{name} is no longer in the catalog", fallback=i > 0)
                attempts.append(gone)
                continue
            for retry_no in range(self.retry.attempts_per_model):
                attempt, error = await self._call(model, creq, job, first_no + len(attempts), fallback=i > 0)
                attempts.append(attempt)
                if error is None or attempt.error_code in ("deadline_exceeded", "rate_limited_local"):
                    return attempts
                if not error.retryable or retry_no + 1 == self.retry.attempts_per_model:
                    break
                wait = self.retry.backoff(retry_no, self.clock.jitter(), error.retry_after)
                if not self._fits_deadline(job, wait):
                    return attempts
                await self.clock.sleep(wait)
        return attempts

    def _fits_deadline(self, job: Job, wait_s: float) -> bool:
        deadline = job.request.deadline_ms
        return deadline is None or self.clock.now_ms() + wait_s * 1000 < deadline

    async def _call(
        self, model: ModelSpec, creq: CompletionRequest, job: Job, no: int, fallback: bool
    ) -> tuple[Attempt, ProviderError | None]:
        provider_spec = self.catalog.providers[model.provider]
        started_ms = self.clock.now_ms()
        timeout = provider_spec.timeout_s
        if job.request.deadline_ms is not None:
            timeout = min(timeout, (job.request.deadline_ms - started_ms) / 1000)
        base = Attempt(no, model.name, model.provider, model.tier, "error", started_ms, 0.0, fallback=fallback)
        refused = await self._admit(model, creq, timeout)
        if refused is not None:
            base.error_code, base.error_message = refused.code, str(refused)
            return base, refused
        t0 = self.clock.monotonic()
        try:
            reply = await self.providers[model.provider].complete(model, creq, timeout)
        except ProviderError as exc:
            base.latency_ms = (self.clock.monotonic() - t0) * 1000
            base.error_code, base.error_message = exc.code, scrub(str(exc))[:MAX_ERROR_TEXT]
            base.http_status = exc.status or 0
            self.board.record(model.name, exc.code in HEALTH_FAILURES)
            return base, exc
        finally:
            self.board.release(model.name)
        self.board.record(model.name, False)
        base.latency_ms = (self.clock.monotonic() - t0) * 1000
        content = unwrapped_json(reply.content, job.request.response_format)  # a fenced JSON answer, unfenced
        base.status, base.content, base.finish_reason = "ok", content, reply.finish_reason
        base.input_tokens, base.output_tokens = reply.input_tokens, reply.output_tokens
        base.cached_input_tokens, base.reasoning_tokens = reply.cached_input_tokens, reply.reasoning_tokens
        base.refusal, base.tool_calls = reply.refusal, list(reply.tool_calls)
        base.cost_usd = round(model.cost_usd(reply.input_tokens, reply.output_tokens, reply.cached_input_tokens), 9)
        return base, None

    async def _admit(self, model: ModelSpec, creq: CompletionRequest, timeout: float) -> ProviderError | None:
        """Breaker, rate limits and a concurrency slot; on success a slot is held (release it)."""
        if timeout <= 0:
            return ProviderError("deadline passed before the call", model=model.name, code="deadline_exceeded")
        if not self.board.allow(model.name):
            return ProviderError(f"{model.name}: circuit breaker open", model=model.name, code="breaker_open")
        tokens = estimate_tokens("".join(message_text(m) for m in creq.messages)) + creq.max_output_tokens
        wait = self.board.rate_wait(model.name, tokens)
        if wait > 0:  # queue here rather than cause a storm of 429s
            if wait >= timeout:
                return ProviderError(f"{model.name}: rpm/tpm limit leaves no time before the deadline",
                                     model=model.name, code="rate_limited_local")
            await self.clock.sleep(wait)
            timeout -= wait
        if not await self.board.acquire(model.name, timeout):
            return ProviderError(f"{model.name}: no concurrency slot before the deadline", model=model.name,
                                 code="saturated")
        return None
