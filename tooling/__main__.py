"""``python -m tooling``: the demo, benchmarks, fault injection and the chaos suite (each starts its
own local stack unless KAFKA_BOOTSTRAP_SERVERS is set)."""

from __future__ import annotations

import argparse
import logging
import sys

from core.config import Settings
from core.errors import ConfigError, ModelError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tooling", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("demo", help="start everything, send a mixed workload, print a report from ClickHouse")
    d.add_argument("--requests", type=int, default=1200)
    pb = sub.add_parser("peer-bench", help="this pipeline and LiteLLM's Router against the same simulator")
    pb.add_argument("--requests", type=int, default=4000)
    bs = sub.add_parser("bench-sink", help="insert rate and dashboard query times on synthetic outcome rows")
    bs.add_argument("--rows", type=int, default=10_000_000)
    c = sub.add_parser("chaos", help="every failure scenario with traffic flowing; prints one table")
    c.add_argument("--short", action="store_true", help="fewer requests and a 20 s soak (what CI runs)")
    c.add_argument("--soak-s", type=float, default=300.0)
    f = sub.add_parser("faults", help="fault injection through the simulator; prints a table")
    f.add_argument("--requests", type=int, default=100)
    b = sub.add_parser("bench", help="pipeline overhead and throughput with the simulator answering at once")
    b.add_argument("--requests", type=int, default=5000)
    b.add_argument("--workers", type=int, default=1)
    b.add_argument("--latency-ms", type=int, default=0, help="simulator answer time (e.g. 1000 for 1 s)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return _run(args, Settings.from_env())
    except (ConfigError, ModelError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace, settings: Settings) -> int:
    # each command imports only what it runs, so the CLI starts fast
    if args.command == "demo":
        from tooling.demo import run_demo  # noqa: PLC0415

        return run_demo(settings, args.requests)
    if args.command == "peer-bench":
        from tooling.peer_bench import run_peer_bench  # noqa: PLC0415

        return run_peer_bench(settings, args.requests)
    if args.command == "bench-sink":
        from tooling.bench_sink import run_bench_sink  # noqa: PLC0415

        return run_bench_sink(settings, args.rows)
    if args.command == "chaos":
        from tooling.chaos import run_chaos  # noqa: PLC0415

        return run_chaos(settings, args.short, args.soak_s)
    if args.command == "faults":
        from tooling.faults import run_faults  # noqa: PLC0415

        return run_faults(settings, args.requests)
    from tooling.bench import run_bench  # noqa: PLC0415

    return run_bench(settings, args.requests, args.workers, args.latency_ms)


if __name__ == "__main__":
    sys.exit(main())
