from __future__ import annotations

from dataclasses import replace

import pytest

from core.catalog import Catalog
from core.errors import RoutingError
from core.events import Attempt
from core.ports import AllHealthy
from core.request import DataPolicy
from core.routing import RoutingPolicy, fallback_chain
from tests.fakes import DownModels, FixedSpend, job


@pytest.fixture()
def policy(catalog: Catalog) -> RoutingPolicy:
    return RoutingPolicy(catalog)


@pytest.mark.parametrize(
    ("tier", "overrides", "down", "expected_model"),
    [
        (1, {}, (), "llama-3-1-8b"),  # cheapest tier-1 model
        (2, {}, (), "gpt-4-1-mini"),
        (3, {}, (), "gpt-4o"),
        (1, {"quality_floor": 3}, (), "gpt-4o"),  # the request's floor wins over the classifier
        (1, {"preferred_tier": 2}, (), "gpt-4-1-mini"),
        (1, {}, ("llama-3-1-8b",), "qwen-2-5-7b-selfhosted"),  # breaker open: next cheapest
        (1, {"data_policy": DataPolicy(pii=True)}, (), "qwen-2-5-7b-selfhosted"),  # standard privacy skipped
        (1, {"data_policy": DataPolicy(region="eu")}, (), "qwen-2-5-7b-selfhosted"),
        (1, {"data_policy": DataPolicy(allowed_providers=["openai"])}, (), "gpt-4o-mini"),
        (3, {"data_policy": DataPolicy(allowed_providers=["anthropic"])}, (), "claude-sonnet-4"),
        (2, {"data_policy": DataPolicy(pii=True)}, (), "gpt-4-1-mini"),
    ],
)
def test_routing_table(policy: RoutingPolicy, tier: int, overrides: dict, down: tuple, expected_model: str) -> None:
    d = policy.decide(job(tier, **overrides), DownModels(*down))
    assert d.model == expected_model
    assert sum(1 for c in d.candidates if c.skipped is None) == 1
    assert len(d.candidates) == len(policy.catalog.models)


def test_skip_reasons_are_recorded(policy: RoutingPolicy) -> None:
    d = policy.decide(job(1, data_policy=DataPolicy(pii=True)), DownModels("qwen-2-5-7b-selfhosted"))
    reasons = {c.model: c.skipped for c in d.candidates}
    assert reasons["llama-3-1-8b"] == "pii_privacy"
    assert reasons["qwen-2-5-7b-selfhosted"] == "breaker_open"
    assert d.model == "gemini-2-0-flash-lite"  # zero retention: may see PII
    assert reasons["gpt-4o"] == "higher_tier"


def test_low_confidence_defaults_up_a_tier(policy: RoutingPolicy) -> None:
    j = job(1)
    assert j.classification is not None
    j.classification.low_confidence = True
    assert policy.decide(j, AllHealthy()).tier == 2


def test_unclassified_goes_to_the_top_tier(policy: RoutingPolicy) -> None:
    j = job(1)
    j.classification = None
    assert policy.decide(j, AllHealthy()).tier == 3


def test_escalation_target_raises_the_tier(policy: RoutingPolicy) -> None:
    j = job(1)
    j.target_tier = 2
    assert policy.decide(j, AllHealthy()).tier == 2


def test_context_window_skips_small_models(policy: RoutingPolicy) -> None:
    long_text = "word " * 160_000  # ~200k tokens: beyond every model but the 1M-context ones
    d = policy.decide(job(1, messages=[{"role": "user", "content": long_text}]), AllHealthy())
    assert d.model == "gemini-2-0-flash-lite"
    decided = policy.decide(job(2, messages=[{"role": "user", "content": long_text}]), AllHealthy())
    assert decided.model == "gpt-4-1-mini"
    assert {c.skipped for c in d.candidates if c.model != d.model} >= {"context_window"}


def test_max_cost_skips_expensive_models(policy: RoutingPolicy) -> None:
    with pytest.raises(RoutingError) as info:
        policy.decide(job(3, max_cost_usd=0.000001), AllHealthy())
    assert info.value.code == "over_budget"


def test_nobody_allowed_gives_a_stable_code(policy: RoutingPolicy) -> None:
    with pytest.raises(RoutingError) as info:
        policy.decide(job(1, data_policy=DataPolicy(allowed_providers=["nobody"])), AllHealthy())
    assert info.value.code == "no_allowed_model"


def test_all_down_gives_a_stable_code(policy: RoutingPolicy) -> None:
    with pytest.raises(RoutingError) as info:
        policy.decide(job(1), DownModels(*policy.catalog.models))
    assert info.value.code == "all_providers_down"


def test_fallback_chain_respects_policy(policy: RoutingPolicy) -> None:
    d = policy.decide(job(1), AllHealthy())
    assert fallback_chain(d, policy.catalog) == ["llama-3-1-8b", "gemini-2-0-flash-lite", "gpt-4o-mini"]
    d = policy.decide(job(1, data_policy=DataPolicy(allowed_providers=["groq"])), AllHealthy())
    assert fallback_chain(d, policy.catalog) == ["llama-3-1-8b"]  # gpt-4o-mini is not allowed


def test_models_already_tried_are_skipped(policy: RoutingPolicy) -> None:
    j = job(3)
    j.attempts = [Attempt(1, "gpt-4o", "openai", 3, "ok", 0, 1.0, content="")]
    j.target_tier = 3
    d = policy.decide(j, AllHealthy())
    assert d.model == "claude-sonnet-4"
    assert {c.model: c.skipped for c in d.candidates}["gpt-4o"] == "already_tried"


def test_task_capability_is_preferred(policy: RoutingPolicy) -> None:
    j = job(1)
    assert j.classification is not None
    j.classification.task_type = "code"
    d = policy.decide(j, AllHealthy())
    assert d.model == "gpt-4o-mini"  # the cheaper tier-1 models lack "code"
    assert {c.model: c.skipped for c in d.candidates}["llama-3-1-8b"] == "capability"


def test_multilingual_prompt_needs_a_multilingual_model(policy: RoutingPolicy) -> None:
    d = policy.decide(job(1, messages=[{"role": "user", "content": "こんにちは、元気？"}]), AllHealthy())
    assert d.model == "qwen-2-5-7b-selfhosted"


def test_realtime_skips_slow_models(catalog: Catalog) -> None:
    slow = RoutingPolicy(catalog)
    d = slow.decide(job(3, latency_class="realtime"), DownModels("gpt-4o"))
    assert d.model == "claude-sonnet-4"  # 4 s typical: within the 8 s realtime budget
    strict = RoutingPolicy(replace(catalog, realtime_latency_ms=3500))
    with pytest.raises(RoutingError) as info:
        strict.decide(job(3, latency_class="realtime"), DownModels("gpt-4o"))
    assert info.value.code in ("no_realtime_model", "all_providers_down")
    assert strict.decide(job(3, latency_class="batch"), DownModels("gpt-4o")).model == "claude-sonnet-4"


def test_load_spreads_across_equivalent_models(policy: RoutingPolicy) -> None:
    clone = replace(policy.catalog.model("llama-3-1-8b"), name="llama-clone")
    equal = replace(policy.catalog, models={**policy.catalog.models, "llama-clone": clone})
    p = RoutingPolicy(equal)
    assert p.decide(job(1), DownModels(loads={"llama-3-1-8b": 0.9, "llama-clone": 0.1})).model == "llama-clone"
    d = p.decide(job(1), DownModels(loads={"llama-3-1-8b": 0.1, "llama-clone": 0.9}))
    assert d.model == "llama-3-1-8b"
    assert {c.model: c.skipped for c in d.candidates}["llama-clone"] == "more_loaded"


def test_budget_downgrade_and_exhaustion(policy: RoutingPolicy) -> None:
    # default budget: $50/day, $1000/month, downgrade at 80%
    assert policy.decide(job(2, tenant="acme"), AllHealthy(), FixedSpend(10, 100), 0).tier == 2
    d = policy.decide(job(2, tenant="acme"), AllHealthy(), FixedSpend(41, 100), 0)
    assert d.tier == 1 and "budget" in d.reason
    with pytest.raises(RoutingError) as info:
        policy.decide(job(2, tenant="acme"), AllHealthy(), FixedSpend(1, 1000), 0)
    assert info.value.code == "budget_exhausted"


def test_escalation_is_not_downgraded_by_budget(policy: RoutingPolicy) -> None:
    j = job(1, tenant="acme")
    j.escalations = ["empty"]
    j.target_tier = 2
    assert policy.decide(j, AllHealthy(), FixedSpend(41, 100), 0).tier == 2


def test_fallback_chain_skips_models_removed_from_the_catalog(policy: RoutingPolicy) -> None:
    d = policy.decide(job(1), AllHealthy())
    smaller = replace(policy.catalog, models={k: v for k, v in policy.catalog.models.items() if k != "gpt-4o-mini"})
    assert fallback_chain(d, smaller) == ["llama-3-1-8b", "gemini-2-0-flash-lite"]


def test_a_pinned_model_is_used_alone_or_refused_with_why(policy: RoutingPolicy, catalog: Catalog) -> None:
    from core.catalog_ref import CatalogRef
    from core.events import Verification
    from core.verification import CascadeLimits, Step, next_step

    d = policy.decide(job(1, model="gpt-4o"), AllHealthy())
    assert (d.model, d.reason, [c.model for c in d.candidates]) == ("gpt-4o", "pinned by the request", ["gpt-4o"])
    assert fallback_chain(d, catalog) == ["gpt-4o"]  # no fallbacks to a model the request did not name
    with pytest.raises(RoutingError) as unknown:
        policy.decide(job(1, model="gpt-9"), AllHealthy())
    assert unknown.value.code == "model_not_found"
    with pytest.raises(RoutingError) as forbidden:
        policy.decide(job(1, model="gpt-4o", data_policy=DataPolicy(allowed_providers=["vllm"])), AllHealthy())
    assert forbidden.value.code == "pinned_model_unavailable" and "provider_not_allowed" in str(forbidden.value)
    with pytest.raises(RoutingError, match="breaker_open"):
        policy.decide(job(1, model="gpt-4o"), DownModels("gpt-4o"))
    pinned = job(1, model="gpt-4o")
    pinned.decision = d
    pinned.attempts.append(Attempt(1, "gpt-4o", "openai", 3, "ok", 0, 1.0, content="x"))
    failed = Verification(0.0, False, "too_short")
    limits = CascadeLimits(2, CatalogRef(catalog))
    assert next_step(pinned, failed, limits, 0) is Step.BEST_EFFORT  # never escalated past the pinned model


def test_aliases_route_their_way_and_a_model_alias_pins(catalog: Catalog) -> None:
    from core.catalog import Alias
    from core.catalog_ref import CatalogRef
    from core.events import Verification
    from core.verification import CascadeLimits, Step, next_step

    aliases = catalog.aliases | {"house-fast": Alias("house-fast", model="gpt-4o-mini")}
    policy = RoutingPolicy(replace(catalog, aliases=aliases))
    cheap = policy.decide(job(3, model="router/cheap"), AllHealthy())  # the classifier said tier 3
    assert (cheap.model, cheap.tier, cheap.pinned) == ("llama-3-1-8b", 1, False)
    assert cheap.reason.startswith("alias router/cheap: cheapest eligible at tier 1")
    assert policy.target_tier(job(3, model="router/cheap")) == 1  # what the decision row records as the target
    assert policy.target_tier(job(1, model="router/best")) == policy.catalog.top_tier
    best = policy.decide(job(1, model="router/best"), AllHealthy())
    assert best.tier == policy.catalog.top_tier and best.reason.startswith("alias router/best:")
    escalated = job(3, model="router/cheap")
    escalated.decision, escalated.target_tier = cheap, 2
    escalated.attempts.append(Attempt(1, cheap.model, cheap.provider, 1, "ok", 0, 1.0, content="x"))
    limits = CascadeLimits(2, CatalogRef(policy.catalog))
    assert next_step(escalated, Verification(0.0, False, "too_short"), limits, 0) is Step.ESCALATE
    assert policy.decide(escalated, AllHealthy()).tier == 2  # escalation still climbs from the alias's tier
    fast = policy.decide(job(3, model="house-fast"), AllHealthy())
    assert (fast.model, fast.pinned, fast.reason) == ("gpt-4o-mini", True, "pinned by the request (alias house-fast)")
    with pytest.raises(RoutingError, match="neither a catalog model nor an alias") as unknown:
        policy.decide(job(1, model="router/fastest"), AllHealthy())
    assert unknown.value.code == "model_not_found"


def test_a_request_with_images_goes_only_to_models_that_see_them(policy: RoutingPolicy, catalog: Catalog) -> None:
    def with_image(url: str) -> list[dict]:
        return [{"role": "user", "content": [{"type": "text", "text": "what is in this picture?"},
                                             {"type": "image_url", "image_url": {"url": url}}]}]

    inline = policy.decide(job(1, messages=with_image("data:image/png;base64,iVBORw0KGgo=")), AllHealthy())
    assert "vision" in catalog.model(inline.model).capabilities
    assert {c.model for c in inline.candidates if c.skipped == "vision"} == \
        {m for m, spec in catalog.models.items() if "vision" not in spec.capabilities}
    web = policy.decide(job(1, messages=with_image("https://example.org/cat.jpg")), AllHealthy())
    gemini = {m for m, spec in catalog.models.items() if catalog.providers[spec.provider].wire == "gemini"}
    assert web.model not in gemini and {c.skipped for c in web.candidates if c.model in gemini} == {"image_url"}
    with pytest.raises(RoutingError) as blind:
        policy.decide(job(1, messages=with_image("https://example.org/cat.jpg"),
                          data_policy=DataPolicy(allowed_providers=["groq", "vllm"])), AllHealthy())
    assert blind.value.code in ("no_capable_model", "no_allowed_model")


def test_a_request_with_tools_goes_only_to_models_with_function_calling(policy: RoutingPolicy,
                                                                        catalog: Catalog) -> None:
    tools = [{"type": "function", "function": {"name": "f"}}]
    d = policy.decide(job(1, tools=tools), AllHealthy())
    assert "tools" in catalog.model(d.model).capabilities
    assert {c.model for c in d.candidates if c.skipped == "tools"} == \
        {m for m, spec in catalog.models.items() if "tools" not in spec.capabilities}


def test_an_answer_that_calls_tools_is_accepted_as_it_is() -> None:
    from core.verification import verify

    call = {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    v = verify(Attempt(1, "m", "p", 1, "ok", 0, 1.0, content="", finish_reason="tool_calls", tool_calls=[call]))
    assert v.passed and v.checks == {"provider_ok": True, "tool_calls": True}
