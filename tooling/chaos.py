"""Chaos suite: ``python -m tooling chaos`` (``make chaos``; ``--short`` is what CI runs).

One stack (its own broker, simulator, sink and pipeline worker) goes through every failure this
project promises to survive, with valid traffic flowing throughout, and one table reports per
scenario: requests sent, answered exactly once, duplicate responses, lost (never answered),
``requests`` rows in ClickHouse, the longest gap between two responses while requests were
outstanding, the recovery time, and RSS growth. The target is 0 lost, every request answered
once, a row per request, and no gap beyond the planned outage.
"""

from __future__ import annotations

import itertools
import logging
import re
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson

from core.config import Settings
from tooling.chaos_poison import POISON_SCENARIOS
from tooling.client import collect, publish, run
from tooling.stack import Stack, environment, run_settings


@dataclass
class Outcome:
    scenario: str
    sent: int = 0
    answered_once: int = 0
    duplicates: int = 0
    lost: int = 0
    rows: int = 0
    max_gap_s: float = 0.0
    recovery_s: float | None = None
    rss_growth_mb: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.lost == 0 and self.rows == self.answered_once == self.sent and not any(
            n.startswith("FAIL") for n in self.notes)


def requests(prefix: str, n: int, **extra: object) -> list[tuple[bytes, bytes]]:
    out = []
    for i in range(n):
        rid = f"{prefix}{i}"
        body = {"request_id": rid, "tenant": "chaos", "messages": [{"role": "user", "content": f"Say hi #{i}."}],
                **extra}
        out.append((rid.encode(), orjson.dumps(body)))
    return out


Fault = Callable[[Callable[[], None]], "float | None"]


def drive(stack: Stack, name: str, n: int, rate: float, fault: Fault | None = None,
          fault_at_s: float = 2.0, timeout_s: float = 180.0) -> Outcome:
    """Publish ``n`` requests at ``rate``/s, run ``fault`` ``fault_at_s`` into it, collect every
    response, count rows. A fault returns its own recovery time in seconds, or calls the ``mark``
    it is given at the moment from which recovery counts (the first response after it ends it)."""
    prefix = f"chaos-{uuid.uuid4().hex[:6]}-"
    msgs = requests(prefix, n)
    ids = {k.decode() for k, _ in msgs}
    marks: dict[str, float | None] = {}

    def mark() -> None:
        marks["from_ms"] = time.time() * 1000

    def inject() -> None:
        time.sleep(fault_at_s)
        assert fault is not None
        marks["recovery"] = fault(mark)

    thread = threading.Thread(target=inject, daemon=True) if fault else None
    if thread:
        thread.start()
    run(publish(stack.settings.kafka_bootstrap, stack.names.requests, msgs, rate=rate))
    got = run(collect(stack.settings.kafka_bootstrap, stack.names.responses, ids, timeout_s, settle_s=2.0))
    if thread:
        thread.join()
    out = Outcome(name, sent=n, answered_once=len(got.responses), duplicates=got.duplicates,
                  lost=len(got.missing_from(ids)))
    stamps = sorted(got.timestamps_ms.values())
    out.max_gap_s = round(max((b - a for a, b in itertools.pairwise(stamps)), default=0) / 1000, 1)
    out.recovery_s = marks.get("recovery")
    from_ms = marks.get("from_ms")
    if out.recovery_s is None and from_ms is not None:
        after = [t for t in stamps if t > from_ms]
        out.recovery_s = round((after[0] - from_ms) / 1000, 1) if after else None
    out.rows = wait_rows(stack, prefix, out.answered_once)
    return out


def wait_rows(stack: Stack, prefix: str, expected: int, timeout_s: float = 60.0) -> int:
    deadline = time.monotonic() + timeout_s
    ids = 0
    while time.monotonic() < deadline:
        try:
            counts = {r["table"]: int(r["ids"]) for r in stack.query("request_counts", prefix=prefix)}
            ids = counts.get("requests", 0)
        except Exception:  # noqa: BLE001 - the sink may be restarting
            ids = 0
        if ids >= expected:
            return ids
        time.sleep(0.5)
    return ids


def provider_calls(stack: Stack) -> int:
    return sum(stack.sim_stats()["calls"].values())


def kill_pipeline(stack: Stack, mark: Callable[[], None], baseline: int) -> None:
    """SIGKILL the pipeline worker mid-invoke (once 20 of the scenario's provider calls started) and
    start its replacement at once; recovery runs from the kill to the first response after it."""
    deadline = time.monotonic() + 60
    while provider_calls(stack) < baseline + 20 and time.monotonic() < deadline:
        time.sleep(0.05)
    stack.pipelines.pop().kill()
    mark()
    stack.start_pipeline()


def kill_sink(stack: Stack, mark: Callable[[], None]) -> float:
    """SIGKILL the sink mid-write and restart it; recovery is the time until it serves again."""
    t0 = time.monotonic()
    assert stack.sink is not None
    stack.sink.kill()
    stack.start_sink()
    return round(time.monotonic() - t0, 1)


def restart_broker(stack: Stack, mark: Callable[[], None], log: Callable[[str], None]) -> None:
    """SIGKILL the broker, keep it down 10 s, restart it; recovery runs from the restart."""
    took = stack.restart_broker(10.0, log)
    log(f"broker start took {took:.1f}s")
    mark()


def soak(stack: Stack, seconds: float, rate: float) -> Outcome:
    procs = {p.name: p for p in [stack.sink, *stack.pipelines] if p is not None}
    warm = drive(stack, "warm-up", int(rate * 5), rate)  # settle caches before the baseline
    start = {name: _rss_now(p.process.pid) for name, p in procs.items()}
    out = drive(stack, f"soak {seconds:.0f} s at {rate:.0f} req/s", int(rate * seconds), rate)
    end = {name: _rss_now(p.process.pid) for name, p in procs.items()}
    out.rss_growth_mb = round(max(end[n] - start[n] for n in procs), 1)
    out.notes.append("RSS MiB " + ", ".join(f"{n} {start[n]:.0f}->{end[n]:.0f}" for n in procs))
    out.notes.extend(warm.notes)
    return out


def _rss_now(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def table(results: list[Outcome]) -> str:
    lines = ["| scenario | sent | answered once | duplicates | lost | rows | max gap s | recovery s | RSS growth MiB "
             "| notes |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        rec = "-" if r.recovery_s is None else f"{r.recovery_s}"
        rss = "-" if r.rss_growth_mb is None else f"{r.rss_growth_mb}"
        lines.append(f"| {r.scenario} | {r.sent} | {r.answered_once} | {r.duplicates} | {r.lost} | {r.rows} | "
                     f"{r.max_gap_s} | {rec} | {rss} | {'; '.join(r.notes) or '-'} |")
    return "\n".join(lines)


def run_chaos(settings: Settings, short: bool = False, soak_s: float = 300.0) -> int:
    run_dir = settings.data_dir / "chaos"
    shutil.rmtree(run_dir, ignore_errors=True)
    s = run_settings(settings.with_(kafka_bootstrap="", log_level="info"), "chaos", run_dir)  # info: rebalances
    scale = 0.25 if short else 1.0
    soak_s = 20.0 if short else soak_s

    def log(m: str) -> None:
        print(f"[chaos] {m}", flush=True)

    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # the load client's reconnect noise during outages
    keys = {name: f"sk-chaos-{uuid.uuid4().hex}" for name in CHAOS_KEYS}  # the workers send them to the simulator
    with environment(keys):
        results = _scenarios(s, run_dir, scale, soak_s, log)
    print(table(results))
    bad = [r.scenario for r in results if not r.ok]
    if bad:
        print(f"[chaos] FAILED: {', '.join(bad)}")
        for path in sorted(run_dir.glob("*.log")):
            print(f"[chaos] {path.name}, what it said apart from connection noise:\n{log_digest(path, keys.values())}")
    return 1 if bad else 0


_NOISE = re.compile(r"Unable connect to node|Unable to update metadata|Failed fetch messages|Got error produce response"
                    r"|Group Coordinator Request failed|could not list topics|OffsetCommit failed for group")


def log_digest(path: Path, secrets: Iterable[str], lines: int = 80) -> str:
    """The last ``lines`` lines of a worker's log that are not the broker-outage noise, each run of
    repeats folded to one line with its count, secrets masked: what CI shows when a scenario fails."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    for secret in secrets:
        text = text.replace(secret, "***")
    kept: list[str] = []
    repeats = 0
    for line in text.splitlines():
        if _NOISE.search(line):
            continue
        body = line.split("] ", 2)[-1][:300]
        if kept and kept[-1].split("] ", 2)[-1][:300] == body:
            repeats += 1
            continue
        if repeats:
            kept.append(f"    (the line above {repeats} more times)")
            repeats = 0
        kept.append(line[:400])
    if repeats:
        kept.append(f"    (the line above {repeats} more times)")
    return "\n".join(kept[-lines:])


CHAOS_KEYS = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GROQ_API_KEY")


def _scenarios(s: Settings, run_dir: Path, scale: float, soak_s: float, log: Callable[[str], None]) -> list[Outcome]:
    results: list[Outcome] = []
    with Stack(s, run_dir, sim_config={"default": {"latency_ms": 20}}).start(log) as st:
        st.configure_sim({"default": {"latency_ms": 1000}})
        baseline = provider_calls(st)
        results.append(drive(st, "pipeline worker SIGKILL mid-invoke (1 s providers), replaced at once",
                             int(800 * scale), 100, lambda mark: kill_pipeline(st, mark, baseline), fault_at_s=0.0,
                             timeout_s=240))
        st.configure_sim({"default": {"latency_ms": 20}})
        results.append(drive(st, "sink SIGKILL mid-write, restarted", int(2000 * scale), 200,
                             lambda mark: kill_sink(st, mark)))
        results.append(drive(st, "broker SIGKILL, down 10 s, restarted", int(600 * scale), 50,
                             lambda mark: restart_broker(st, mark, log), timeout_s=240))
        for scenario in POISON_SCENARIOS:
            results.append(scenario(st, scale))
            log(f"{results[-1].scenario}: done")
        results.append(soak(st, soak_s, 60))
        for r in results:
            if not r.ok:
                r.notes.extend(not_live(st))  # what the workers' own probes say about a failed run
                break
    return results


def not_live(stack: Stack) -> list[str]:
    """A note per worker whose /health/live is failing (the stalled partitions and their lag)."""
    notes = []
    for proc in [stack.sink, *stack.pipelines]:
        if proc is None:
            continue
        try:
            r = httpx.get(proc.health_url.removesuffix("/health/") + "/health/live", timeout=5)
        except httpx.HTTPError as exc:
            notes.append(f"{proc.name} probe unreachable ({type(exc).__name__})")
            continue
        if r.status_code != 200:
            notes.append(f"{proc.name} not live: {r.text[:300]}")
    return notes
