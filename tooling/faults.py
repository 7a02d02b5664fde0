"""Fault injection through the simulator: ``python -m tooling faults`` (or ``make faults``).

Each scenario sends tier-1 requests (whose first choice is llama-3-1-8b on the groq provider)
while the simulator misbehaves, and counts what came back. "Failed over" counts answers that came
from another model than the primary (a fallback, an escalation, or routing around an open
breaker); "lost" (sent but never answered) must be 0.
"""

from __future__ import annotations

import shutil
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from core.catalog import load_catalog
from core.config import REPO_ROOT, Settings
from tooling.client import collect, publish, run
from tooling.stack import Stack, run_settings

PRIMARY = "llama-3.1-8b-instant"  # the wire id of the first choice for tier-1 chat
PRIMARY_MODEL = "llama-3-1-8b"  # its catalog name


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    during: Callable[[list[str]], dict[str, Any]]  # wire model ids -> simulator config while it runs
    heal_after_s: float | None = None  # heal mid-run (an outage of a few seconds)


SCENARIOS = (
    Scenario("outage of the primary for 3 s", lambda _: {"models": {PRIMARY: {"down": True}}}, heal_after_s=3.0),
    Scenario("burst of 5xx (60% HTTP 500 on two tier-1 models)",
             lambda _: {"models": {PRIMARY: {"error_rate": 0.6, "error_status": 500},
                                   "gpt-4o-mini": {"error_rate": 0.6, "error_status": 500}}}),
    Scenario("429 storm with Retry-After: 1", lambda _: {"models": {PRIMARY: {"error_rate": 0.8, "error_status": 429,
                                                                            "retry_after": 1}}}),
    Scenario("hanging endpoint (primary never answers)", lambda _: {"models": {PRIMARY: {"hang": True}}}),
    Scenario("all providers down", lambda models: {"models": {m: {"down": True} for m in models}}),
)


@dataclass
class Result:
    scenario: str
    sent: int
    answered_ok: int
    answered_error: int
    failed_over: int
    lost: int
    error_codes: dict[str, int]
    seconds: float


def _requests(tag: str, n: int) -> list[tuple[bytes, bytes]]:
    out = []
    for i in range(n):
        rid = f"fault-{tag}-{i}"
        body = {"request_id": rid, "tenant": "faults", "messages": [{"role": "user", "content": f"hello #{i}"}],
                "deadline": time.time() + 60}
        out.append((rid.encode(), orjson.dumps(body)))
    return out


def healthy(models: list[str]) -> dict[str, Any]:
    return {"models": {m: {"latency_ms": 20, "down": False, "hang": False, "error_rate": 0.0} for m in models}}


def run_scenario(stack: Stack, scenario: Scenario, n: int = 100) -> Result:
    catalog = load_catalog(stack.settings.catalog_path, stack.settings.catalog_placeholders())
    models = [m.wire_model for m in catalog.models.values()]
    stack.configure_sim(healthy(models))
    stack.configure_sim({"models": {m: {**healthy([m])["models"][m], **cfg} for m, cfg in
                                    scenario.during(models)["models"].items()}})
    timer = None
    if scenario.heal_after_s:
        timer = threading.Timer(scenario.heal_after_s, lambda: stack.configure_sim(healthy(models)))
        timer.start()
    tag = uuid.uuid4().hex[:6]
    msgs = _requests(tag, n)
    ids = {k.decode() for k, _ in msgs}
    t0 = time.monotonic()
    run(publish(stack.settings.kafka_bootstrap, stack.names.requests, msgs, rate=50))
    got = run(collect(stack.settings.kafka_bootstrap, stack.names.responses, ids, 120, settle_s=0.5))
    if timer:
        timer.join()
    stack.configure_sim(healthy(models))
    responses = list(got.responses.values())
    codes: dict[str, int] = {}
    for r in responses:
        if r["status"] == "error":
            codes[r["error"]["code"]] = codes.get(r["error"]["code"], 0) + 1
    return Result(
        scenario=scenario.name, sent=n,
        answered_ok=sum(r["status"] == "ok" for r in responses),
        answered_error=sum(r["status"] == "error" for r in responses),
        failed_over=sum(1 for r in responses if r["status"] == "ok" and r["model"] != PRIMARY_MODEL),
        lost=len(got.missing_from(ids)), error_codes=codes, seconds=round(time.monotonic() - t0, 1),
    )


def wait_recovered(stack: Stack, timeout_s: float = 60) -> None:
    """Breakers close after their cooldown and trial calls; wait until the primary answers again."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        rid = f"probe-{uuid.uuid4().hex[:6]}"
        body = orjson.dumps({"request_id": rid, "tenant": "faults", "messages": [{"role": "user", "content": "hi"}]})
        run(publish(stack.settings.kafka_bootstrap, stack.names.requests, [(rid.encode(), body)]))
        got = run(collect(stack.settings.kafka_bootstrap, stack.names.responses, {rid}, 30, settle_s=0.1))
        if got.responses.get(rid, {}).get("model") == PRIMARY_MODEL:
            return
        time.sleep(1)


def table(results: list[Result]) -> str:
    lines = ["| scenario | sent | answered ok | answered error | failed over | lost | error codes | seconds |",
             "|---|---|---|---|---|---|---|---|"]
    for r in results:
        codes = ", ".join(f"{k} {v}" for k, v in sorted(r.error_codes.items())) or "-"
        lines.append(f"| {r.scenario} | {r.sent} | {r.answered_ok} | {r.answered_error} | {r.failed_over} | "
                     f"{r.lost} | {codes} | {r.seconds} |")
    return "\n".join(lines)


def fault_catalog(run_dir: Path) -> Path:
    """The default catalog with a 2 s provider timeout, so a hanging endpoint is given up quickly."""
    path = run_dir / "catalog.toml"
    text = (REPO_ROOT / "config" / "catalog.toml").read_text()
    path.write_text(text.replace('api_key_env = "GROQ_API_KEY"', 'api_key_env = "GROQ_API_KEY"\ntimeout_s = 2'))
    return path


def run_faults(settings: Settings, n: int = 100) -> int:
    run_dir = settings.data_dir / "faults"
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    # the tier rule alone (no quality memory): "failed over" counts answers away from the catalog's primary
    s = run_settings(settings.with_(catalog_path=fault_catalog(run_dir), quality_memory=False), "faults", run_dir)
    results = []
    with Stack(s, run_dir, sim_config={"default": {"latency_ms": 20}}).start(lambda m: print(f"[faults] {m}")) as st:
        for scenario in SCENARIOS:
            wait_recovered(st)
            results.append(run_scenario(st, scenario, n))
            print(f"[faults] {scenario.name}: done", flush=True)
    print(table(results))
    return 0 if all(r.lost == 0 for r in results) else 1
