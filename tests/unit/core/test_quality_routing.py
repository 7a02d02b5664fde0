"""Routing on the quality memory: the cheapest model within the dial of the best estimate."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from core.catalog import Catalog
from core.events import Attempt, Job
from core.ports import AllHealthy
from core.quality_memory import Estimate
from core.request import DataPolicy
from core.routing import RoutingPolicy, stable_unit
from tests.fakes import job


class Estimates:
    """A QualityView that answers from a table (model -> (p, evidence)); the rest get the default."""

    def __init__(self, table: dict[str, tuple[float, float]], default: tuple[float, float] = (0.5, 10.0)) -> None:
        self.table, self.default = table, default

    def estimates(self, job: Job, models: Sequence[str], now_ms: int) -> dict[str, Estimate]:
        out = {}
        for m in models:
            p, ev = self.table.get(m, self.default)
            out[m] = Estimate(p, ev, 0.5, p)
        return out


def test_a_cheap_model_as_good_as_the_best_wins_even_for_a_hard_prompt(catalog: Catalog) -> None:
    view = Estimates({"llama-3-1-8b": (0.9, 20), "gpt-4o": (0.92, 20)}, default=(0.6, 20))
    d = RoutingPolicy(catalog).decide(job(tier=3, request_id="r-cheap"), AllHealthy(), quality=view)
    assert d.model == "llama-3-1-8b" and not d.explored
    by_model = {c.model: c for c in d.candidates}
    assert by_model["gpt-4o"].quality == 0.92 and by_model["gpt-4o"].skipped == "not_cheapest"
    assert by_model["claude-3-5-haiku"].skipped == "lower_quality"


def test_when_small_models_fail_such_prompts_the_strong_one_is_chosen(catalog: Catalog) -> None:
    view = Estimates({"gpt-4o": (0.9, 20), "claude-sonnet-4": (0.88, 20)}, default=(0.3, 20))
    d = RoutingPolicy(catalog).decide(job(tier=1, request_id="r-hard"), AllHealthy(), quality=view)
    assert d.model in ("gpt-4o", "claude-sonnet-4") and d.tier == 3


def test_the_dial_trades_quality_for_cost(catalog: Catalog) -> None:
    view = Estimates({"gpt-4o": (0.9, 20)}, default=(0.8, 20))
    policy = RoutingPolicy(catalog)
    strict = policy.decide(job(request_id="r-d1", quality_target=0.99), AllHealthy(), quality=view)
    loose = policy.decide(job(request_id="r-d1", quality_target=0.85), AllHealthy(), quality=view)
    assert strict.model == "gpt-4o" and loose.tier == 1


def test_an_alias_brings_its_dial_and_the_request_own_wins(catalog: Catalog) -> None:
    view = Estimates({"gpt-4o": (0.9, 5000)}, default=(0.75, 5000))  # tight draws: the means decide
    policy = RoutingPolicy(catalog)
    cheap = policy.decide(job(tier=3, request_id="r-a1", model="router/cheap"), AllHealthy(), quality=view)
    best = policy.decide(job(tier=1, request_id="r-a1", model="router/best"), AllHealthy(), quality=view)
    strict = policy.decide(job(tier=3, request_id="r-a1", model="router/cheap", quality_target=0.99), AllHealthy(),
                           quality=view)
    assert (cheap.tier, best.tier, strict.model) == (1, 3, "gpt-4o")
    assert cheap.reason.startswith("alias router/cheap:")


def test_privacy_and_the_request_floor_still_bind(catalog: Catalog) -> None:
    view = Estimates({"claude-sonnet-4": (0.99, 50)}, default=(0.5, 20))
    pii = job(request_id="r-pii", data_policy=DataPolicy(pii=True))
    d = RoutingPolicy(catalog).decide(pii, AllHealthy(), quality=view)
    assert catalog.models[d.model].privacy != "standard"
    floor = RoutingPolicy(catalog).decide(job(request_id="r-f", quality_floor=2), AllHealthy(),
                                          quality=Estimates({}, default=(0.9, 20)))
    assert floor.tier >= 2


def test_a_cold_start_routes_on_the_classifier_word_and_the_dial_applies_at_once(catalog: Catalog) -> None:
    means = replace(catalog, quality=replace(catalog.quality, thompson=False))
    tier_of = {m: spec.tier for m, spec in catalog.models.items()}
    # no verdicts: each estimate is the prior, P(the request needs no more than the model's tier)
    view = Estimates({m: ({1: 0.7, 2: 0.9, 3: 1.0}[t], 0.0) for m, t in tier_of.items()})
    strict = RoutingPolicy(means).decide(job(tier=1, request_id="r-cold"), AllHealthy(), quality=view)
    middle = RoutingPolicy(means).decide(job(tier=1, request_id="r-cold", quality_target=0.9), AllHealthy(),
                                         quality=view)
    loose = RoutingPolicy(means).decide(job(tier=3, request_id="r-cold", quality_target=0.7), AllHealthy(),
                                        quality=view)
    assert (strict.tier, middle.tier, loose.tier) == (3, 2, 1)  # whatever the classifier's single tier says
    assert all(c.evidence == 0.0 for c in strict.candidates if c.quality is not None)


def test_an_escalation_keeps_the_one_tier_up_rule(catalog: Catalog) -> None:
    j = job(tier=1, request_id="r-esc")
    j.escalations.append("empty")
    j.target_tier = 2
    j.attempts.append(Attempt(1, "llama-3-1-8b", "groq", 1, "ok", 0, 1.0))
    d = RoutingPolicy(catalog).decide(j, AllHealthy(), quality=Estimates({}, default=(0.9, 20)))
    assert d.tier == 2


def test_exploration_is_a_bounded_share_of_less_known_models_and_repeats_on_replay(catalog: Catalog) -> None:
    view = Estimates({"llama-3-1-8b": (0.95, 20), "gpt-4o": (0.5, 40)}, default=(0.5, 2))
    policy = RoutingPolicy(catalog)
    decisions = [policy.decide(job(request_id=f"r{i}"), AllHealthy(), quality=view) for i in range(2000)]
    by_share = [d for d in decisions if d.reason.startswith("explored:")]  # the rest explored by a Thompson draw
    assert 0.03 < len(by_share) / len(decisions) < 0.07  # the catalog's explore_share is 0.05
    assert all(d.model not in ("llama-3-1-8b", "gpt-4o") for d in by_share)  # only less known ones
    again = policy.decide(job(request_id="r7"), AllHealthy(), quality=view)
    assert (again.model, again.explored) == (decisions[7].model, decisions[7].explored)


def test_thompson_draws_try_uncertain_estimates_and_settle_with_evidence(catalog: Catalog) -> None:
    policy = RoutingPolicy(catalog)
    ids = [f"r-t{i}" for i in range(400) if stable_unit(f"r-t{i}\x1f0") >= catalog.quality.explore_share]

    def cheap_share(evidence: float) -> float:
        view = Estimates({"llama-3-1-8b": (0.80, evidence), "gpt-4o": (0.88, evidence)}, default=(0.3, 2000.0))
        picks = [policy.decide(job(request_id=r), AllHealthy(), quality=view) for r in ids]
        assert all(d.explored == (d.model == "llama-3-1-8b") for d in picks)  # greedy on the means is gpt-4o
        return sum(d.model == "llama-3-1-8b" for d in picks) / len(picks)

    assert 0.1 < cheap_share(4.0) < 0.9  # uncertain: the cheap model gets tried
    assert cheap_share(2000.0) < 0.02  # certain: the means decide
    view = Estimates({"llama-3-1-8b": (0.80, 4.0), "gpt-4o": (0.88, 4.0)}, default=(0.3, 2000.0))
    first = [policy.decide(job(request_id=r), AllHealthy(), quality=view).model for r in ids[:50]]
    assert first == [policy.decide(job(request_id=r), AllHealthy(), quality=view).model for r in ids[:50]]


def test_thompson_can_be_switched_off(catalog: Catalog) -> None:
    greedy = RoutingPolicy(replace(catalog, quality=replace(catalog.quality, thompson=False)))
    view = Estimates({"llama-3-1-8b": (0.80, 4.0), "gpt-4o": (0.88, 4.0)}, default=(0.3, 0.0))
    ids = [f"r-g{i}" for i in range(200) if stable_unit(f"r-g{i}\x1f0") >= catalog.quality.explore_share]
    assert {greedy.decide(job(request_id=r), AllHealthy(), quality=view).model for r in ids} == {"gpt-4o"}


def test_too_little_evidence_is_judged_on_the_estimate_not_a_nearly_uniform_draw(catalog: Catalog) -> None:
    policy = RoutingPolicy(catalog)
    ids = [f"r-u{i}" for i in range(300) if stable_unit(f"r-u{i}\x1f0") >= catalog.quality.explore_share]
    view = Estimates({"llama-3-1-8b": (0.80, 1.0), "gpt-4o": (0.88, 1.0)}, default=(0.3, 2000.0))
    assert {policy.decide(job(request_id=r), AllHealthy(), quality=view).model for r in ids} == {"gpt-4o"}


def test_only_decisions_that_ask_the_memory_are_estimated_ahead(catalog: Catalog) -> None:
    """The route stage estimates a batch before routing it: escalations and pinned models never ask."""
    from core.pipeline import Route
    from core.ports import NoSpend
    from tests.fakes import FakeClock

    class Recording(Estimates):
        def __init__(self) -> None:
            super().__init__({})
            self.prepared: list[str] = []

        def prepare(self, jobs: Sequence[Job], models: Sequence[str], now_ms: int) -> None:
            self.prepared += [j.request_id for j in jobs]

    escalated = job(tier=1, request_id="r-esc")
    escalated.escalations.append("empty")
    pinned_alias = next(name for name, a in catalog.aliases.items() if a.model is not None)
    routed_alias = next(name for name, a in catalog.aliases.items() if a.model is None)
    jobs = [job(tier=1, request_id="r-auto"), escalated, job(tier=1, request_id="r-pin", model="gpt-4o"),
            job(tier=1, request_id="r-pin-alias", model=pinned_alias),
            job(tier=1, request_id="r-alias", model=routed_alias)]
    quality = Recording()
    Route(RoutingPolicy(catalog), AllHealthy(), NoSpend(), FakeClock(), quality).prepare(jobs)
    assert quality.prepared == ["r-auto", "r-alias"]
