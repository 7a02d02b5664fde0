"""``make bench``: pipeline overhead and sustained throughput, simulator answering at once.

Overhead of a request = broker timestamp of its response - timestamp of its request (both
stamped when produced, on this machine's clock). Two phases:
  burst  - every request published at once: sustained requests per second end to end;
  load   - paced at 10, 25, 50 and 75 % of the burst rate: p50/p99 overhead per load, each
           tenth of every run against its median, and the time per stage hop beside a bare
           Kafka hop on the same broker (tooling/latency.py).
CPU seconds per process are read from /proc, so it is visible what the simulator and the
broker took from the 2 cores; beside the pipeline's CPU per request, the Kafka client's own floor for
the same four hops (tooling/kafka_floor.py).
"""

from __future__ import annotations

import re
import resource
import shutil
import statistics
import time
from typing import Any

import httpx
import orjson

from core.config import Settings
from streams.app import PRODUCER_LINGER_MS
from tooling import latency, profile
from tooling.client import collect, publish, run
from tooling.kafka_floor import HOPS, relay_floor
from tooling.latency import percentile
from tooling.stack import Proc, Stack, run_settings


def _requests(prefix: str, n: int) -> list[tuple[bytes, bytes]]:
    out = []
    for i in range(n):
        rid = f"{prefix}{i:07d}"
        body = {"request_id": rid, "tenant": "bench", "messages": [{"role": "user", "content": f"Say hi #{i}"}]}
        out.append((rid.encode(), orjson.dumps(body)))
    return out


def _phase(stack: Stack, prefix: str, n: int, rate: float | None) -> dict[str, Any]:
    msgs = _requests(prefix, n)
    ids = {k.decode() for k, _ in msgs}
    sent = run(publish(stack.settings.kafka_bootstrap, stack.names.requests, msgs, rate=rate))
    got = run(collect(stack.settings.kafka_bootstrap, stack.names.responses, ids, 300, settle_s=0.5))
    order = sorted(got.responses, key=lambda rid: sent[rid.encode()])
    overheads = [got.timestamps_ms[rid] - sent[rid.encode()] for rid in order]
    tenth = max(1, len(overheads) // 10)
    first, last = min(sent.values()), max(got.timestamps_ms.values())
    return {
        "requests": n, "answered": len(got.responses), "duplicates": got.duplicates,
        "rps": round(len(got.responses) / max(0.001, (last - first) / 1000), 1),
        "p50_ms": percentile(overheads, 0.50), "p99_ms": percentile(overheads, 0.99),
        "mean_ms": round(statistics.fmean(overheads), 1),
        "p50_by_tenth_ms": [int(statistics.median(overheads[i:i + tenth])) for i in range(0, tenth * 10, tenth)],
    }


def _metered(stack: Stack, procs: dict[str, Proc], prefix: str, n: int, rate: float | None) -> dict[str, Any]:
    """``_phase`` and each process's CPU per request over it (ms): at moderate load a request costs
    several times what it costs in a burst (small batches, a Kafka round trip each), which is what
    saturates the two cores and queues the paced phases."""
    before, mine = _cpu(procs), resource.getrusage(resource.RUSAGE_SELF)
    result = _phase(stack, prefix, n, rate)
    after, mine_after = _cpu(procs), resource.getrusage(resource.RUSAGE_SELF)
    after["load generator"] = mine_after.ru_utime + mine_after.ru_stime  # this process: publisher and reader
    before["load generator"] = mine.ru_utime + mine.ru_stime
    result["cpu_ms"] = {name: round(1000 * (after[name] - before[name]) / max(1, n), 2) for name in after}
    return result


_JIT = ("C1 CompilerThre", "C2 CompilerThre")  # the JVM's compiler threads (names cut at 15 characters)


def _cpu(procs: dict[str, Proc]) -> dict[str, float]:
    return {name: p.cpu_seconds() for name, p in procs.items()}


def run_bench(settings: Settings, n: int, workers: int, latency_ms: int = 0) -> int:
    run_dir = settings.data_dir / "bench"
    shutil.rmtree(run_dir, ignore_errors=True)
    s = run_settings(settings, "bench", run_dir)
    answering = f"answering in {latency_ms} ms" if latency_ms else "answering at once"
    print(f"[bench] {n} requests, {workers} pipeline worker(s), simulator {answering}", flush=True)
    if latency_ms:
        return _slow_provider_bench(s, run_dir, n, latency_ms)
    with Stack(s, run_dir, sim_config={"default": {"latency_ms": 0}}, pipeline_workers=workers).start(
            lambda m: print(f"[bench] {m}", flush=True)) as stack:
        procs = stack.processes()
        _phase(stack, "warm-", 500, None)
        pids = {p.name: p.process.pid for p in [stack.sink, *stack.pipelines] if p is not None}
        sampling = profile.Sampling(pids, run_dir / "profile")
        broker = procs.get("kafka")
        jit0 = broker.thread_cpu_seconds(*_JIT) if broker else {}
        cpu0, t0 = _cpu(procs), time.monotonic()
        burst = _phase(stack, "burst-", n, None)
        cpu1, t1 = _cpu(procs), time.monotonic()
        # the compiler threads still there at the end (the JVM stops idle ones: a lower bound)
        jit = sum(t - jit0.get(tid, 0.0) for tid, t in broker.thread_cpu_seconds(*_JIT).items()) if broker else 0.0
        profiles = sampling.stop()
        table = latency.load_table(lambda prefix, count, rate: _metered(stack, procs, prefix, count, rate),
                                   burst["rps"])
        paced = next(r for r in table if r["fraction"] == 0.5)  # the headline row
        quarter = next(r for r in table if r["fraction"] == 0.25)
        names = stack.names
        stage_topics = [names.requests, names.classified, names.routed, names.invoked, names.responses]
        hop_table = latency.hops(stack.settings.kafka_bootstrap, stage_topics, "load25-")
        reference = latency.kafka_hop(stack.settings.kafka_bootstrap, linger_ms=PRODUCER_LINGER_MS)
        floor = relay_floor(stack.settings.kafka_bootstrap)
        floor_paced = relay_floor(stack.settings.kafka_bootstrap, n=max(50, int(paced["rate"] * 8)),
                                  rate=paced["rate"])
        wall = t1 - t0
        print()
        print(f"burst : {burst['answered']}/{burst['requests']} answered, {burst['duplicates']} duplicates, "
              f"sustained {burst['rps']} req/s, overhead p50 {burst['p50_ms']} ms, p99 {burst['p99_ms']} ms "
              f"(includes queueing)")
        latency.print_load_table(table)
        print(f"where the time goes at {quarter['rate']:g} req/s (broker timestamps of each request's messages; "
              f"a bare aiokafka produce-to-consume hop on this broker: p50 {reference[0]} ms, p90 {reference[1]} ms):")
        for hop, p50, p90 in hop_table:
            print(f"  {hop:<26} p50 {p50:4d} ms, p90 {p90:4d} ms")
        print(f"CPU during the burst ({wall:.1f}s wall, 2 cores = {2 * wall:.1f} core-seconds):")
        for name, proc in procs.items():
            used = cpu1[name] - cpu0[name]
            print(f"  {name:<12} {used:6.1f} s  ({100 * used / wall:5.1f}% of one core), "
                  f"peak RSS {proc.rss_mb():.0f} MiB, {1000 * used / max(1, burst['answered']):.2f} ms per request"
                  + (f"; of it the JIT compiler {jit:.1f} s" if proc is broker else ""))
        pipeline_s = sum(cpu1[k] - cpu0[k] for k in procs if k.startswith("pipeline"))
        pipeline_ms = 1000 * pipeline_s / max(1, burst["answered"])
        print(f"the Kafka client's floor for {HOPS} hops (a bare aiokafka relay through {HOPS} topics in one process, "
              f"no stage work; its load and reader included): {floor['rps']} req/s, "
              f"{floor['cpu_ms_per_request']} ms of CPU per request; the pipeline's {pipeline_ms:.2f} ms is "
              f"{pipeline_ms / max(floor['cpu_ms_per_request'], 1e-9):.1f}x that")
        print(f"  paced at {paced['rate']:g} req/s (the 50 % row): the bare relay's p50 {floor_paced['p50_ms']} ms, "
              f"p90 {floor_paced['p90_ms']} ms, p99 {floor_paced['p99_ms']} ms end to end, "
              f"{floor_paced['cpu_ms_per_request']} ms of CPU per request (the pipeline worker "
              f"{paced['cpu_ms'].get('pipeline-0', 0.0)} ms); the pipeline's p50 {paced['p50_ms']} ms, "
              f"p99 {paced['p99_ms']} ms")
        print("Where each worker's CPU time went during the burst (py-spy; stage: the agent on the stack, "
              "layer: whose code was running):" + (f" unavailable: {sampling.missing}" if sampling.missing else ""))
        for name, counts in profiles.items():
            print(f"  {name}:")
            for line in profile.table(counts):
                print(f"    {line}")
        result = {"burst": burst, "paced": paced, "load": table, "hops": hop_table, "kafka_hop_ms": reference,
                  "kafka_relay_floor": floor, "kafka_relay_floor_paced": floor_paced,
                  "workers": workers,
                  "cpu_s": {k: round(cpu1[k] - cpu0[k], 2) for k in procs}, "broker_jit_cpu_s": round(jit, 2),
                  "wall_s": round(wall, 2)}
        result["profile"] = {name: profile.table(c) for name, c in profiles.items()}
        (run_dir / "result.json").write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))
    return 0


def _slow_provider_bench(s: Settings, run_dir: Any, n: int, latency_ms: int) -> int:
    """Many calls in flight: a burst of ``n`` requests against providers that take ``latency_ms``.
    The catalog's per-model max_concurrency is lifted, so what is measured is the worker itself."""
    run_dir.mkdir(parents=True, exist_ok=True)
    catalog = run_dir / "catalog.toml"
    catalog.write_text(re.sub(r"(?m)^max_concurrency = \d+$", "max_concurrency = 0", s.catalog_path.read_text()))
    s = s.with_(catalog_path=catalog)
    sim = {"default": {"latency_ms": latency_ms}}
    with Stack(s, run_dir, sim_config=sim).start(lambda m: print(f"[bench] {m}", flush=True)) as stack:
        _phase(stack, "warm-", 200, None)
        httpx.post(stack.settings.sim_url + "/_sim/reset", timeout=10)
        burst = _phase(stack, "slow-", n, None)
        peak = stack.sim_stats()["peak_in_flight"]
        calls_per_s = burst["rps"]
        in_flight = calls_per_s * latency_ms / 1000
        print()
        print(f"{burst['answered']}/{burst['requests']} answered, {burst['duplicates']} duplicates; "
              f"{calls_per_s} responses/s with providers answering in {latency_ms} ms "
              f"(about {in_flight:.0f} calls in flight on average, peak {peak} at the simulator)")
        print(f"latency p50 {burst['p50_ms']} ms, p99 {burst['p99_ms']} ms end to end, including the "
              f"{latency_ms} ms provider time and queueing behind the burst")
        print(f"p50 by tenth of the burst (ms): {burst['p50_by_tenth_ms']}")
        sim_cpu = stack.sim.cpu_seconds() if stack.sim else 0.0
        print(f"simulator CPU over the run: {sim_cpu:.1f} s")
    return 0
