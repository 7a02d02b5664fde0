"""Stages refuse forged or impossible internal events."""

from __future__ import annotations

from core import event_checks
from core.catalog import Catalog
from core.events import Attempt, Decision, Job
from core.request import DataPolicy
from core.routing import RoutingPolicy
from core.topics import TopicNames
from tests.fakes import job

NAMES = TopicNames("t.")
NOW = 1_800_000_000_000


def _routed(model: str, provider: str, **request: object) -> Job:
    j = job(**request)
    j.decision = Decision(model, provider, 3, 0.01, "forged", [])
    return j


def test_a_routed_job_that_breaks_its_own_data_policy_is_refused(catalog: Catalog) -> None:
    policy = RoutingPolicy(catalog)
    pii_to_vllm_only = DataPolicy(pii=True, allowed_providers=["vllm"])
    forged = _routed("claude-sonnet-4", "anthropic", data_policy=pii_to_vllm_only)
    assert "provider_not_allowed" in (event_checks.for_invoking(forged, policy) or "")
    capped = _routed("claude-sonnet-4", "anthropic", max_cost_usd=1e-7)
    assert "over_max_cost" in (event_checks.for_invoking(capped, policy) or "")
    assert "not in the catalog" in (event_checks.for_invoking(_routed("gpt-9", "openai"), policy) or "")
    assert "provider" in (event_checks.for_invoking(_routed("gpt-4o", "anthropic"), policy) or "")
    assert event_checks.for_invoking(_routed("gpt-4o", "openai"), policy) is None


def test_invoked_and_classified_jobs_must_be_complete(catalog: Catalog) -> None:
    policy = RoutingPolicy(catalog)
    empty = _routed("gpt-4o", "openai")
    assert "attempts" in (event_checks.for_verifying(empty, policy) or "")
    unclassified = job()
    unclassified.classification = None
    assert "classification" in (event_checks.for_routing(unclassified, policy) or "")
    assert event_checks.for_routing(job(), policy) is None
    negative = _routed("gpt-4o", "openai")
    negative.attempts = [Attempt(1, "gpt-4o", "openai", 3, "ok", NOW, 5.0, cost_usd=-12345.0)]
    negative.round_attempts = 1
    assert "cost" in (event_checks.for_verifying(negative, policy) or "")
