"""Quality, availability, privacy and budget routing over the catalog: a pure policy.

``RoutingPolicy.decide`` looks at every model in the catalog, records why each one was skipped,
and picks among the eligible models at the lowest tier that meets the target:

- the request's ``model``: a catalog model (or an alias naming one) is pinned; a routing alias
  (``router/cheap``, ``router/best``, the catalog's own) sets the starting tier, floor and dial;
- quality: the target tier comes from the classifier (one tier up when it is unsure or the task
  is unknown), the request's ``quality_floor``/``preferred_tier`` and escalations; with the quality
  memory, the cheapest model estimated within the dial of the best (see ``_by_quality``); models lacking
  a capability the task needs (code, math, creative, multilingual, long_context) are skipped
  when a model at that tier has it;
- availability: models whose breaker is open or that are saturated are skipped; among models
  of the chosen tier costing within 10% of the cheapest, the least loaded wins (load spreading);
- privacy: PII only goes to ``self_hosted``/``zero_retention`` models; ``region`` and
  ``allowed_providers`` restrict further;
- budget: a tenant past ``downgrade_at`` of its daily or monthly budget is routed one tier
  lower; past the budget, requests are rejected; ``max_cost_usd`` bounds the estimated cost.
"""

from __future__ import annotations

import zlib
from collections import Counter
from dataclasses import dataclass, replace

import numpy as np

from core.catalog import Alias, Catalog, ModelSpec
from core.catalog_ref import CatalogRef, as_ref
from core.errors import RoutingError
from core.events import Candidate, Decision, Job
from core.ports import HealthView, NoSpend, QualityView, SpendView
from core.tokens import estimate_tokens

DEFAULT_OUTPUT_TOKENS = 512
LONG_CONTEXT_TOKENS = 32_000
SPREAD_WITHIN = 1.10  # models costing within 10% of the cheapest count as equivalent
TASK_CAPABILITY = {"code": "code", "math": "math", "writing": "creative"}

# Reasons that forbid a model outright (also for fallbacks); the others only rank it lower.
HARD_SKIPS = frozenset(
    {"provider_not_allowed", "region", "pii_privacy", "context_window", "over_max_cost", "over_budget",
     "breaker_open", "saturated", "too_slow", "already_tried", "capability", "vision", "image_url", "tools"}
)
SOFT_SKIPS = frozenset({"not_cheapest", "higher_tier", "more_loaded", "lower_quality"})
_FAILURE_CODES = {
    "provider_not_allowed": "no_allowed_model",
    "region": "no_allowed_model",
    "pii_privacy": "no_allowed_model",
    "over_max_cost": "over_budget",
    "over_budget": "budget_exhausted",
    "breaker_open": "all_providers_down",
    "saturated": "all_providers_down",
    "context_window": "context_too_long",
    "too_slow": "no_realtime_model",
    "already_tried": "no_untried_model",
    "capability": "no_capable_model",
    "vision": "no_capable_model",
    "image_url": "no_capable_model",
    "tools": "no_capable_model",
}


@dataclass(frozen=True, slots=True)
class _Need:
    """What the request needs, computed once per decision."""

    input_tokens: int
    output_tokens: int
    pii: bool
    capabilities: frozenset[str]
    remaining_budget: float | None


class RoutingPolicy:
    """Pick a model for a job from the running catalog (read per call); ``decide`` is pure."""

    def __init__(self, catalog: Catalog | CatalogRef) -> None:
        self.ref = as_ref(catalog)
        self._ordered_for = (-1, list[ModelSpec]())

    @property
    def catalog(self) -> Catalog:
        return self.ref.current

    @property
    def _ordered(self) -> list[ModelSpec]:
        """The catalog's models, cheapest first within a tier (re-derived when the catalog changes)."""
        version, ordered = self._ordered_for
        if version != self.ref.version:
            ordered = sorted(self.catalog.models.values(),
                             key=lambda m: (m.tier, m.input_per_mtok + m.output_per_mtok, m.name))
            self._ordered_for = (self.ref.version, ordered)
        return ordered

    def target_tier(self, job: Job) -> int:
        """Classifier tier (or a routing alias's starting tier), raised by low confidence (cold
        start), request floors (and the alias's), and escalations."""
        c = job.classification
        alias = self._routing_alias(job)
        tier = self.catalog.top_tier if c is None else c.tier + int(c.low_confidence)
        if alias is not None and alias.tier is not None:
            tier = alias.tier
        req = job.request
        floor = (alias.min_tier or 0) if alias is not None else 0
        tier = max(tier, req.quality_floor or 0, req.preferred_tier or 0, job.target_tier, floor)
        return min(max(tier, self.catalog.tiers[0]), self.catalog.top_tier)

    def _routing_alias(self, job: Job) -> Alias | None:
        """The alias the request's ``model`` names, when it routes rather than pins."""
        name = job.request.model
        if name is None or name in self.catalog.models:
            return None
        alias = self.catalog.aliases.get(name)
        return alias if alias is not None and alias.model is None else None

    def weighs_quality(self, job: Job) -> bool:
        """Whether deciding ``job`` asks the quality memory: not for an escalation (one tier up) nor
        for a request that pins a model (by name or through an alias naming one)."""
        if job.escalations:
            return False
        name = job.request.model
        if name is None:
            return True
        alias = None if name in self.catalog.models else self.catalog.aliases.get(name)
        return alias is not None and alias.model is None

    def decide(self, job: Job, health: HealthView, spend: SpendView | None = None, now_ms: int = 0,
               quality: QualityView | None = None) -> Decision:
        """The request's ``model``: absent or router/auto, the router chooses; a catalog model's name
        (or an alias naming one) pins it; any other alias routes from its tier with its dial."""
        name = job.request.model
        if name is None:
            return self._route(job, health, spend, now_ms, quality)
        alias = None if name in self.catalog.models else self.catalog.aliases.get(name)
        if alias is None or alias.model is not None:
            pinned = self._pinned(job, name if alias is None else str(alias.model), health, spend or NoSpend(),
                                  now_ms)
            if alias is not None:
                pinned.reason += f" (alias {name})"
            return pinned
        req = job.request  # the alias's floor and starting tier apply through target_tier
        job = replace(job, request=replace(
            req, quality_target=alias.quality_target if req.quality_target is None else req.quality_target,
            quality_floor=max(req.quality_floor or 0, alias.min_tier or 0) or None))
        decision = self._route(job, health, spend, now_ms, quality)
        decision.reason = f"alias {name}: {decision.reason}"
        return decision

    def _route(self, job: Job, health: HealthView, spend: SpendView | None, now_ms: int,
               quality: QualityView | None) -> Decision:
        target = self.target_tier(job)
        remaining, downgraded = self._budget(job, spend or NoSpend(), now_ms)
        if downgraded and not job.escalations:
            target = max(self.catalog.tiers[0], target - 1)
        need = self._need(job, remaining)
        candidates = [self._candidate(m, job, health, need, target) for m in self._ordered]
        capable = {c.model for c in candidates if c.skipped is None and c.tier >= target}
        if need.capabilities:  # prefer models with the capability, if any at an eligible tier has it
            with_cap = {n for n in capable if need.capabilities <= set(self.catalog.model(n).capabilities)}
            if with_cap:
                for c in candidates:
                    if c.model in capable and c.model not in with_cap:
                        c.skipped = "capability"
        by_quality = None
        if quality is not None and not job.escalations:  # an escalation keeps the one-tier-up rule
            by_quality = self._by_quality(job, candidates, quality, health, now_ms)
        if by_quality is not None:
            chosen, why, explored = by_quality
        else:
            picked, explored = self._choose(candidates, health), False
            if picked is None:
                raise self._failure(candidates, target)
            chosen = picked
            why = f"cheapest eligible at tier {chosen.tier} (target {target})"
        model = self.catalog.model(chosen.model)
        if downgraded and not job.escalations and by_quality is None:
            why += "; tenant near its budget: one tier down"
        return Decision(model.name, model.provider, model.tier, chosen.expected_cost_usd, why, candidates, explored)

    def _pinned(self, job: Job, name: str, health: HealthView, spend: SpendView, now_ms: int) -> Decision:
        """The model the request names, if the request's own limits and the tenant's budget allow it;
        no fallbacks (the only candidate) and no escalation (see ``verification.next_step``)."""
        model = self.catalog.models.get(name)
        if model is None:
            msg = f"model {name!r} is neither a catalog model nor an alias (GET /v1/models lists both)"
            raise RoutingError(msg, "model_not_found")
        remaining, _ = self._budget(job, spend, now_ms)
        candidate = self._candidate(model, job, health, self._need(job, remaining), model.tier)
        if candidate.skipped is not None:
            msg = f"the pinned model {name} cannot take this request now: {candidate.skipped}"
            raise RoutingError(msg, "pinned_model_unavailable")
        return Decision(model.name, model.provider, model.tier, candidate.expected_cost_usd, "pinned by the request",
                        [candidate], pinned=True)

    def _by_quality(self, job: Job, candidates: list[Candidate], quality: QualityView, health: HealthView,
                    now_ms: int) -> tuple[Candidate, str, bool] | None:
        """The cheapest model whose estimated quality is within ``1 - quality_target`` of the best
        estimate, among the eligible models at any tier at or above the request's floor. Where the
        memory has no verdicts near the prompt, a model's estimate is its calibrated prior (the
        classifier's P(the request needs no more than this model's tier)), so the dial trades
        quality for cost from the first request, on the classifier's word, and a cold start is the
        prior alone. A share of decisions (``explore_share``) goes to a model with too little
        evidence here, so that it is learned. None: no eligible model (the tier rule says why)."""
        req, q = job.request, self.catalog.quality
        floor = max(req.quality_floor or 0, req.preferred_tier or 0)
        pool = [c for c in candidates if c.skipped in (None, "below_tier") and c.tier >= floor]
        default, _ = self._tier_pick(candidates, health)
        if not pool or default is None:
            return None
        estimates = quality.estimates(job, [c.model for c in pool], now_ms)
        for c in pool:
            e = estimates[c.model]
            c.quality, c.evidence = round(e.p, 4), round(e.evidence, 2)
        share = q.target_for(req.tenant, req.quality_target)
        u = stable_unit(f"{req.request_id}\x1f{len(job.escalations)}")
        unknown = [c for c in pool if c.evidence < q.min_evidence and c is not default]
        if unknown and u < q.explore_share:  # a model with too little evidence here: learn it
            chosen = unknown[int(u / q.explore_share * len(unknown)) % len(unknown)]
            why, explored = f"explored: {chosen.model} has evidence {chosen.evidence:.1f} here", True
        else:
            chosen, why, explored = self._cheapest_good(pool, share, health, req.request_id, len(job.escalations))
        best = max(c.quality or 0.0 for c in pool)
        for c in pool:
            if c is not chosen:
                c.skipped = "lower_quality" if (c.quality or 0.0) < best - (1.0 - share) - 1e-9 else "not_cheapest"
        chosen.skipped = None
        return chosen, why, explored

    def _cheapest_good(self, known: list[Candidate], share: float, health: HealthView, request_id: str,
                       round_no: int) -> tuple[Candidate, str, bool]:
        """The cheapest model within ``1 - share`` of the best, judged on a Thompson draw from each
        estimate (Beta with the evidence as its weight), so an uncertain estimate gets tried in
        proportion to its chance of being right; the draw is seeded by the request, so a replay
        repeats it. A model with less than ``min_evidence`` here is judged on its estimate (the
        prior, mostly) rather than a draw that would be nearly uniform: ``explore_share`` tries it.
        ``explored`` says the draw chose other than the estimates' means would."""

        def pick(values: dict[str, float]) -> Candidate:
            floor_q = max(values.values()) - (1.0 - share)
            good = [c for c in known if values[c.model] >= floor_q - 1e-9]
            return min(good, key=lambda c: (c.expected_cost_usd, health.load(c.model), c.model))

        means = {c.model: c.quality or 0.0 for c in known}
        greedy = pick(means)
        if not self.catalog.quality.thompson:
            chosen, drawn = greedy, means
        else:
            rng = np.random.default_rng(zlib.crc32(f"{request_id}\x1f{round_no}\x1fts".encode()))
            min_evidence = self.catalog.quality.min_evidence
            drawn = {c.model: float(rng.beta(means[c.model] * (c.evidence + 2) + 0.5,
                                             (1 - means[c.model]) * (c.evidence + 2) + 0.5))
                     if c.evidence >= min_evidence else means[c.model] for c in known}
            chosen = pick(drawn)
        why = (f"cheapest within {1 - share:.2f} of the best estimated quality ({means[chosen.model]:.2f} vs "
               f"{max(means.values()):.2f}; evidence {chosen.evidence:.1f})")
        if chosen is not greedy:
            why = f"explored (Thompson draw {drawn[chosen.model]:.2f}): " + why
        return chosen, why, chosen is not greedy

    def _budget(self, job: Job, spend: SpendView, now_ms: int) -> tuple[float | None, bool]:
        budget = self.catalog.budget(job.request.tenant)
        day, month = spend.spent(job.request.tenant, now_ms)
        shares, remaining = [], []
        for used, limit in ((day, budget.daily_usd), (month, budget.monthly_usd)):
            if limit > 0:
                shares.append(used / limit)
                remaining.append(limit - used)
        if not shares:
            return None, False
        if max(shares) >= 1.0:
            msg = f"tenant {job.request.tenant!r} has used its budget (day ${day:.4f}, month ${month:.4f})"
            raise RoutingError(msg, "budget_exhausted")
        return min(remaining), max(shares) >= budget.downgrade_at

    def _need(self, job: Job, remaining: float | None) -> _Need:
        req = job.request
        text = req.prompt_text()
        input_tokens = estimate_tokens(text)
        caps = set()
        task = job.classification.task_type if job.classification else ""
        if task in TASK_CAPABILITY:
            caps.add(TASK_CAPABILITY[task])
        if not text[:2000].isascii():
            caps.add("multilingual")
        if input_tokens > LONG_CONTEXT_TOKENS:
            caps.add("long_context")
        pii = bool(req.data_policy.pii) or bool(job.classification and job.classification.pii)
        return _Need(input_tokens, req.max_output_tokens or DEFAULT_OUTPUT_TOKENS, pii, frozenset(caps), remaining)

    def _candidate(self, model: ModelSpec, job: Job, health: HealthView, need: _Need, target: int) -> Candidate:
        cost = round(model.cost_usd(need.input_tokens, need.output_tokens), 9)
        reason = self._hard_skip(model, job, health, need, cost)
        if reason is None and model.tier < target:
            reason = "below_tier"
        return Candidate(model.name, model.tier, cost, reason)

    def violations(self, job: Job, model_names: list[str]) -> dict[str, str]:
        """Why the request's own limits (data policy, context, max cost) forbid each of these
        models, for those they forbid: what any routed job must satisfy, whoever wrote it."""
        need = self._need(job, None)
        out = {}
        for name in model_names:
            model = self.catalog.models.get(name)
            why = "unknown_model" if model is None else self._request_skip(
                model, job, need, round(model.cost_usd(need.input_tokens, need.output_tokens), 9))
            if why is not None:
                out[name] = why
        return out

    def _request_skip(self, model: ModelSpec, job: Job, need: _Need, cost: float) -> str | None:
        req = job.request
        policy = req.data_policy
        if policy.allowed_providers is not None and model.provider not in policy.allowed_providers:
            return "provider_not_allowed"
        if policy.region and model.region != policy.region:
            return "region"
        if need.pii and model.privacy == "standard":
            return "pii_privacy"
        if need.input_tokens + need.output_tokens > model.context_window:
            return "context_window"
        if req.uses_tools and "tools" not in model.capabilities:
            return "tools"  # a model without function calling would answer as if no tools existed
        images = req.images()
        if images and "vision" not in model.capabilities:
            return "vision"  # a model that cannot see the images would answer without them
        wire = self.catalog.providers[model.provider].wire if model.provider in self.catalog.providers else ""
        if wire == "gemini" and any(not u.startswith("data:") for u in images):
            return "image_url"  # generateContent takes inline images; a web URL it cannot fetch
        if req.max_cost_usd is not None and cost > req.max_cost_usd:
            return "over_max_cost"
        return None

    def _hard_skip(self, model: ModelSpec, job: Job, health: HealthView, need: _Need, cost: float) -> str | None:
        req = job.request
        if any(a.model == model.name for a in job.attempts):
            return "already_tried"
        request_skip = self._request_skip(model, job, need, cost)
        if request_skip is not None:
            return request_skip
        if need.remaining_budget is not None and cost > need.remaining_budget:
            return "over_budget"
        if req.latency_class == "realtime" and model.typical_latency_ms > self.catalog.realtime_latency_ms:
            return "too_slow"
        return health.unavailable(model.name)

    @staticmethod
    def _tier_pick(candidates: list[Candidate], health: HealthView) -> tuple[Candidate | None, list[Candidate]]:
        """The tier rule's choice (lowest eligible tier; within it, the least loaded of the models
        priced near the cheapest) and the models priced near it; marks nothing."""
        eligible = [c for c in candidates if c.skipped is None]
        if not eligible:
            return None, []
        tier = min(c.tier for c in eligible)
        at_tier = [c for c in eligible if c.tier == tier]
        cheapest = min(c.expected_cost_usd for c in at_tier)
        near = [c for c in at_tier if c.expected_cost_usd <= cheapest * SPREAD_WITHIN + 1e-12]
        return min(near, key=lambda c: (health.load(c.model), c.expected_cost_usd, c.model)), near

    @staticmethod
    def _choose(candidates: list[Candidate], health: HealthView) -> Candidate | None:
        """The tier rule's choice, with every other eligible model marked with why it lost."""
        chosen, near = RoutingPolicy._tier_pick(candidates, health)
        if chosen is None:
            return None
        for c in candidates:
            if c.skipped is None and c is not chosen:
                c.skipped = ("higher_tier" if c.tier > chosen.tier else "more_loaded" if c in near else "not_cheapest")
        return chosen

    @staticmethod
    def _failure(candidates: list[Candidate], target: int) -> RoutingError:
        reasons = Counter(c.skipped for c in candidates if c.tier >= target and c.skipped in HARD_SKIPS)
        if not reasons:
            return RoutingError(f"no model at tier {target} or above")
        top, _ = reasons.most_common(1)[0]
        detail = ", ".join(f"{r}: {n}" for r, n in reasons.most_common())
        return RoutingError(f"no model at tier {target} or above may take this request ({detail})", _FAILURE_CODES[top])


def stable_unit(key: str) -> float:
    """A number in [0, 1) fixed by ``key``: exploration that a replay repeats exactly."""
    return zlib.crc32(key.encode()) / 2**32


def fallback_chain(decision: Decision, catalog: Catalog) -> list[str]:
    """The chosen model, then its catalog fallbacks that routing did not forbid, without repeats."""
    allowed = {c.model for c in decision.candidates if c.skipped is None or c.skipped in SOFT_SKIPS}
    chain = [decision.model]
    spec = catalog.models.get(decision.model)
    for name in spec.fallbacks if spec else ():
        if name in allowed and name not in chain and name in catalog.models:
            chain.append(name)
    return chain
