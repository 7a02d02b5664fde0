"""The demo's learning phase: the quality memory filling up on questions the classifier never saw.

400 held-out MMLU-Pro questions (``data/learning_phase.jsonl``) go through the running pipeline in
waves while the simulator replays how each tier really did on each question (a weak tier fails the
questions its stand-in model failed). After each wave, the first routing decision of every
question is read back from ClickHouse and the cascade is replayed on the recorded outcomes: did
the first choice answer correctly, and what did the cascade cost (each model's expected cost from
the decision row, escalating one tier at a time until a tier that answered). The same is done
for the tier rule alone (today's router: the classifier's tier, no memory), so the report shows
what the memory changed, wave by wave, on identical questions.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from core.config import REPO_ROOT
from core.events import Job
from core.ports import AllHealthy
from core.request import Request
from core.routing import RoutingPolicy
from tooling.client import collect, publish, run
from tooling.stack import Stack

QUESTIONS = REPO_ROOT / "data" / "learning_phase.jsonl"
WAVES = 4
RATE = 50.0


def load() -> list[dict[str, Any]]:
    return [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]


def replay_file(run_dir: Path, *sources: Path) -> Path:
    """One replay file for the simulator: the demo's own prompts and the learning phase's."""
    path = run_dir / "replay.jsonl"
    path.write_text("".join(s.read_text(encoding="utf-8") for s in sources), encoding="utf-8")
    return path


def cascade(first: str, row: dict[str, Any], correct: dict[str, int]) -> tuple[int, float]:
    """(first choice correct, cost of the cascade) replayed from a decision row's candidates."""
    tiers = dict(zip(row["candidate_models"], row["candidate_tiers"], strict=True))
    costs = dict(zip(row["candidate_models"], row["candidate_costs"], strict=True))
    allowed = {m for m, skip in zip(row["candidate_models"], row["candidate_skips"], strict=True)
               if skip not in ("pii_privacy", "region", "provider_not_allowed", "context_window", "too_slow")}
    tier, model, cost = tiers[first], first, 0.0
    ok_first = correct.get(str(tier), 0)
    while True:
        cost += costs[model]
        if correct.get(str(tier), 0) or tier >= max(tiers.values()):
            return ok_first, cost
        tier += 1
        up = [m for m in allowed if tiers[m] == tier]
        if not up:
            return ok_first, cost
        model = min(up, key=lambda m: costs[m])


def run_phase(stack: Stack, policy: RoutingPolicy, classify: Callable[[list[Request]], list[Any]],
              say: Callable[[str], None]) -> list[dict[str, Any]]:
    questions = load()
    per_wave = len(questions) // WAVES
    rows_out = []
    for w in range(WAVES):
        batch = questions[w * per_wave:(w + 1) * per_wave]
        prefix = f"learn-w{w}-"
        reqs = {f"{prefix}{i}": q for i, q in enumerate(batch)}
        msgs = [(rid.encode(), orjson.dumps({"request_id": rid, "tenant": "learning",
                                              "messages": [{"role": "user", "content": q["prompt"]}]}))
                for rid, q in reqs.items()]
        run(publish(stack.settings.kafka_bootstrap, stack.names.requests, msgs, rate=RATE))
        run(collect(stack.settings.kafka_bootstrap, stack.names.responses, set(reqs), 120, settle_s=0.2))
        decisions = _decisions(stack, prefix, len(reqs))
        prior = _tier_rule(policy, classify, reqs)
        mem = [cascade(decisions[rid]["model"], decisions[rid], q["correct_by_tier"])
               for rid, q in reqs.items() if rid in decisions]
        base = [cascade(prior[rid], decisions[rid], q["correct_by_tier"])
                for rid, q in reqs.items() if rid in decisions]
        n = max(1, len(mem))
        rows_out.append({"wave": w + 1, "questions": len(mem),
                         "first_try_correct": round(sum(a for a, _ in mem) / n, 3),
                         "cost_per_question": round(sum(c for _, c in mem) / n, 6),
                         "tier_rule_first_try_correct": round(sum(a for a, _ in base) / n, 3),
                         "tier_rule_cost_per_question": round(sum(c for _, c in base) / n, 6),
                         "explored": sum(bool(decisions[r]["explored"]) for r in decisions)})
        say(f"learning wave {w + 1}/{WAVES}: first try correct {rows_out[-1]['first_try_correct']} "
            f"(tier rule {rows_out[-1]['tier_rule_first_try_correct']}), cost per question "
            f"${rows_out[-1]['cost_per_question']:.6f} (tier rule ${rows_out[-1]['tier_rule_cost_per_question']:.6f})")
    return rows_out


def _decisions(stack: Stack, prefix: str, expected: int) -> dict[str, dict[str, Any]]:
    deadline = time.monotonic() + 60
    rows: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        rows = stack.query("first_decisions", prefix=prefix)
        if len(rows) >= expected:
            break
        time.sleep(0.5)
    return {r["request_id"]: r for r in rows}


def _tier_rule(policy: RoutingPolicy, classify: Callable[[list[Request]], list[Any]],
               reqs: dict[str, dict[str, Any]]) -> dict[str, str]:
    requests = [Request(rid, "learning", [{"role": "user", "content": q["prompt"]}]) for rid, q in reqs.items()]
    out = {}
    for req, c in zip(requests, classify(requests), strict=True):
        out[req.request_id] = policy.decide(Job(request=req, received_at_ms=0, classification=c), AllHealthy()).model
    return out


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["Learning phase (held-out MMLU-Pro questions; cascade replayed on their real per-tier outcomes):",
             "  wave  questions  first try correct  tier rule  cost per question  tier rule  explored"]
    for r in rows:
        lines.append(f"  {r['wave']:>4}  {r['questions']:>9}  {r['first_try_correct']:>17}  "
                     f"{r['tier_rule_first_try_correct']:>9}  {r['cost_per_question']:>17.6f}  "
                     f"{r['tier_rule_cost_per_question']:>9.6f}  {r['explored']:>8}")
    return "\n".join(lines) + "\n"


def chart(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    waves = [r["wave"] for r in rows]
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.6))
    a.plot(waves, [r["first_try_correct"] for r in rows], marker="o", label="with the quality memory")
    a.plot(waves, [r["tier_rule_first_try_correct"] for r in rows], "--", marker="o", label="tier rule alone")
    a.set_title("first choice answered correctly", fontsize=9)
    b.plot(waves, [r["cost_per_question"] for r in rows], marker="o", label="with the quality memory")
    b.plot(waves, [r["tier_rule_cost_per_question"] for r in rows], "--", marker="o", label="tier rule alone")
    b.set_title("cascade cost per question (USD)", fontsize=9)
    for ax in (a, b):
        ax.set_xlabel("wave (100 questions each)")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
