"""Quality, availability, privacy and cost routing over the catalog: a pure policy.

``RoutingPolicy.decide`` looks at every model in the catalog, records why each one was
skipped, and picks the cheapest eligible model at the lowest tier that meets the target.
"""

from __future__ import annotations

from collections import Counter

from core.catalog import Catalog, ModelSpec
from core.errors import RoutingError
from core.events import Candidate, Decision, Job
from core.ports import HealthView
from core.tokens import estimate_tokens

DEFAULT_OUTPUT_TOKENS = 512

# Reasons that forbid a model outright (also for fallbacks); the others only rank it lower.
HARD_SKIPS = frozenset(
    {"provider_not_allowed", "region", "pii_privacy", "context_window", "over_max_cost", "breaker_open",
     "already_tried"}
)
SOFT_SKIPS = frozenset({"not_cheapest", "higher_tier"})
_FAILURE_CODES = {
    "provider_not_allowed": "no_allowed_model",
    "region": "no_allowed_model",
    "pii_privacy": "no_allowed_model",
    "over_max_cost": "over_budget",
    "breaker_open": "all_providers_down",
    "context_window": "context_too_long",
    "already_tried": "no_untried_model",
}


class RoutingPolicy:
    """Pick a model for a job. Built once per catalog; ``decide`` is pure."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        # cheapest first within a tier, by blended price (1:1 in/out as the tie-breaker basis)
        self._ordered = sorted(
            catalog.models.values(), key=lambda m: (m.tier, m.input_per_mtok + m.output_per_mtok, m.name)
        )

    def target_tier(self, job: Job) -> int:
        """Classifier tier, raised by low confidence (cold start), request floors and escalations."""
        c = job.classification
        if c is None:
            tier = self.catalog.top_tier
        else:
            tier = c.tier + 1 if c.low_confidence else c.tier
        req = job.request
        tier = max(tier, req.quality_floor or 0, req.preferred_tier or 0, job.target_tier)
        return min(max(tier, self.catalog.tiers[0]), self.catalog.top_tier)

    def decide(self, job: Job, health: HealthView) -> Decision:
        target = self.target_tier(job)
        req = job.request
        input_tokens = estimate_tokens(req.prompt_text())
        output_tokens = req.max_output_tokens or DEFAULT_OUTPUT_TOKENS
        pii = bool(req.data_policy.pii) or bool(job.classification and job.classification.pii)
        candidates: list[Candidate] = []
        chosen: tuple[ModelSpec, Candidate] | None = None
        tried = {a.model for a in job.attempts}
        for model in self._ordered:
            cost = model.cost_usd(input_tokens, output_tokens)
            reason = "already_tried" if model.name in tried else None
            reason = reason or self._hard_skip(model, job, health, input_tokens + output_tokens, cost, pii)
            if reason is None:
                if model.tier < target:
                    reason = "below_tier"
                elif chosen is None:
                    pass
                elif model.tier > chosen[0].tier:
                    reason = "higher_tier"
                else:
                    reason = "not_cheapest"
            cand = Candidate(model.name, model.tier, round(cost, 9), reason)
            candidates.append(cand)
            if reason is None:
                chosen = (model, cand)
        if chosen is None:
            raise self._failure(candidates, target)
        model, cand = chosen
        why = f"cheapest eligible at tier {model.tier} (target {target})"
        return Decision(model.name, model.provider, model.tier, cand.expected_cost_usd, why, candidates)

    def _hard_skip(
        self, model: ModelSpec, job: Job, health: HealthView, tokens: int, cost: float, pii: bool
    ) -> str | None:
        policy = job.request.data_policy
        if policy.allowed_providers is not None and model.provider not in policy.allowed_providers:
            return "provider_not_allowed"
        if policy.region and model.region != policy.region:
            return "region"
        if pii and model.privacy == "standard":
            return "pii_privacy"
        if tokens > model.context_window:
            return "context_window"
        if job.request.max_cost_usd is not None and cost > job.request.max_cost_usd:
            return "over_max_cost"
        if not health.is_available(model.name):
            return "breaker_open"
        return None

    @staticmethod
    def _failure(candidates: list[Candidate], target: int) -> RoutingError:
        reasons = Counter(c.skipped for c in candidates if c.tier >= target and c.skipped in HARD_SKIPS)
        if not reasons:
            return RoutingError(f"no model at tier {target} or above")
        top, _ = reasons.most_common(1)[0]
        detail = ", ".join(f"{r}: {n}" for r, n in reasons.most_common())
        return RoutingError(f"no model at tier {target} or above may take this request ({detail})", _FAILURE_CODES[top])


def fallback_chain(decision: Decision, catalog: Catalog) -> list[str]:
    """The chosen model, then its catalog fallbacks that routing did not forbid, without repeats."""
    allowed = {c.model for c in decision.candidates if c.skipped is None or c.skipped in SOFT_SKIPS}
    chain = [decision.model]
    for name in catalog.model(decision.model).fallbacks:
        if name in allowed and name not in chain:
            chain.append(name)
    return chain
