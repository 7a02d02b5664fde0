"""Routing over the real broker: privacy (who received what), budgets from the ledger, hot reload."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from core.config import REPO_ROOT
from tests.integration.conftest import running_stack, wait_until
from tooling.client import collect, publish, run
from tooling.stack import Stack

STANDARD_PRIVACY = ("llama-3.1-8b-instant", "claude-3-5-haiku-latest", "claude-sonnet-4-20250514")
BUDGET = "\n[budgets.it-budget]\ndaily_usd = 0.01\nmonthly_usd = 1.0\ndowngrade_at = 0.5\n"


@pytest.fixture(scope="module")
def routed(bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    run_dir = tmp_path_factory.mktemp("routing")
    catalog = run_dir / "catalog.toml"
    shutil.copy(REPO_ROOT / "config" / "catalog.toml", catalog)
    catalog.write_text(catalog.read_text() + BUDGET)
    # the tier rule alone: these tests pin which model the catalog's tiers and budgets select
    with running_stack(bootstrap, run_dir, "rt", catalog_path=catalog, quality_memory=False) as s:
        yield s


def ask(stack: Stack, rid: str, content: str, **kw: object) -> dict:
    body = {"request_id": rid, "tenant": kw.pop("tenant", "it"), "messages": [{"role": "user", "content": content}],
            **kw}
    run(publish(stack.settings.kafka_bootstrap, stack.names.requests, [(rid.encode(), orjson.dumps(body))]))
    got = run(collect(stack.settings.kafka_bootstrap, stack.names.responses, {rid}, 60, settle_s=0.1))
    return got.responses[rid]


def test_pii_never_reaches_a_standard_privacy_model(routed: Stack) -> None:
    token = uuid.uuid4().hex[:10]
    prompts = [f"hi, my email is jane.{token}@example.com", f"Call me at 090-1234-5678 ({token})",
               f"My card 4111 1111 1111 1111, ref {token}. Write a poem about it."]
    for i, text in enumerate(prompts):
        for floor in (1, 3):
            response = ask(routed, f"pii-{token}-{i}-{floor}", text, quality_floor=floor)
            assert response["status"] == "ok"
    received = routed.sim_stats()["received"]
    leaked = {m: n for m, prompts_seen in received.items() if m in STANDARD_PRIVACY
              for n in [sum(token in p for p in prompts_seen)] if n}
    assert leaked == {}
    assert sum(token in p for seen in received.values() for p in seen) == len(prompts) * 2


def test_budget_is_enforced_from_the_ledger(routed: Stack) -> None:
    outcomes = []
    for i in range(40):
        r = ask(routed, f"budget-{uuid.uuid4().hex[:6]}-{i}", "Explain why the sky is blue.", tenant="it-budget",
                quality_floor=3, max_output_tokens=150)
        outcomes.append(r)
        if r["status"] == "error":
            break
    assert outcomes[0]["status"] == "ok" and outcomes[0]["tier"] == 3
    assert outcomes[-1]["status"] == "error" and outcomes[-1]["error"]["code"] == "budget_exhausted"
    assert any(r["status"] == "ok" and r["tier"] < 3 for r in outcomes)  # downgraded past half the budget
    spent = sum(r["cost_usd"] for r in outcomes)
    assert 0.0075 <= spent <= 0.015  # near the daily budget; overshoot bounded by what the ledger had not seen


def test_catalog_change_applies_without_restart(routed: Stack) -> None:
    before = ask(routed, f"reload-{uuid.uuid4().hex[:6]}", "hello")
    assert before["model"] == "llama-3-1-8b"
    path: Path = routed.settings.catalog_path
    original = path.read_text()
    path.write_text(original.replace('provider_model = "llama-3.1-8b-instant"\ntier = 1',
                                     'provider_model = "llama-3.1-8b-instant"\ntier = 2'))
    try:
        models: list[str] = []
        wait_until(lambda: models.append(ask(routed, f"reload-{uuid.uuid4().hex[:6]}", "hello")["model"])
                   or models[-1] != "llama-3-1-8b", timeout=30, what="routing to follow the new tiers")
        assert models[-1] == "qwen-2-5-7b-selfhosted"
    finally:
        path.write_text(original)
