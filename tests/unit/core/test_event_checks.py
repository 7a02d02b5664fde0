"""Stages refuse forged or impossible internal events; a huge answer never becomes an oversized message."""

from __future__ import annotations

import orjson

from core import event_checks
from core.catalog import Catalog
from core.events import Attempt, Decision, Job
from core.payload import message_budget
from core.request import DataPolicy
from core.routing import RoutingPolicy
from core.stages import finish_ok, job_out
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


def test_a_job_that_outgrew_a_message_finishes_with_payload_too_large() -> None:
    j = job()
    j.attempts = [Attempt(1, "gpt-4o", "openai", 3, "ok", NOW, 5.0, content="z" * 1_200_000)]
    outs = job_out(NAMES.invoked, j, NAMES, NOW)
    assert NAMES.invoked not in [o.topic for o in outs]
    response = orjson.loads(next(o for o in outs if o.topic == NAMES.responses).value)
    assert response["error"]["code"] == "payload_too_large"
    assert {NAMES.internal_dlq, NAMES.outcomes} <= {o.topic for o in outs}
    assert all(len(o.value) <= message_budget() for o in outs)


def test_an_answer_too_large_to_deliver_is_an_error_not_a_crash() -> None:
    j = job()
    answer = Attempt(1, "gpt-4o", "openai", 3, "ok", NOW, 5.0, content="z" * 1_200_000)
    outs = finish_ok(j, answer, NAMES, NOW)
    response = orjson.loads(outs[0].value)
    assert response["status"] == "error" and response["error"]["code"] == "payload_too_large"
    assert orjson.loads(outs[1].value)["r"]["error_code"] == "payload_too_large"
