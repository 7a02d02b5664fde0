"""Command line: ``python -m streams {worker,demo,bench}``."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import sys
from functools import partial
from pathlib import Path

from core.config import Settings
from core.errors import ConfigError, ModelError
from core.topics import TopicNames


def _worker(args: argparse.Namespace, settings: Settings) -> int:
    import faust

    from streams.app import create_pipeline_app, create_sink_app
    from streams.runtime import pipeline_runtime, sink_writer
    from streams.topics import ensure_topics

    if not settings.kafka_bootstrap:
        print("error: KAFKA_BOOTSTRAP_SERVERS is not set (make demo starts a local broker for you)", file=sys.stderr)
        return 2
    import uvloop

    from streams.kafka_compat import patch_closed_transport_send

    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())  # the worker's loop: measured faster
    patch_closed_transport_send()  # so a broker restart cannot end aiokafka's tasks under uvloop
    asyncio.run(ensure_topics(settings.kafka_bootstrap, TopicNames(settings.topic_prefix), settings.partitions, 1,
                              **settings.kafka_client_kwargs()))
    if args.role == "sink":
        writer = sink_writer(settings)
        app = create_sink_app(settings, writer, args.web_port)
    else:
        app = create_pipeline_app(settings, partial(pipeline_runtime, settings), args.web_port)
    worker = faust.Worker(app, loglevel=settings.log_level.upper(), quiet=True)
    # Faust's terminal spinner sets the root logger to DEBUG so it can spin on every record: every
    # aiokafka debug call then built a LogRecord per message (~3 % of the pipeline's CPU, py-spy).
    worker.spinner = None
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per provider call otherwise
    gc.freeze()  # modules, models and the catalog live as long as the process: keep them out of collections
    worker.execute_from_commandline()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m streams", description="LLM router on Kafka")
    sub = parser.add_subparsers(dest="command", required=True)
    w = sub.add_parser("worker", help="run one worker (pipeline stages or the ClickHouse sink)")
    w.add_argument("--role", choices=("pipeline", "sink"), default="pipeline")
    w.add_argument("--web-port", type=int, default=None, help="health/status HTTP port; 0 turns it off")
    d = sub.add_parser("demo", help="start everything, send a mixed workload, print a report from ClickHouse")
    d.add_argument("--requests", type=int, default=1200)
    r = sub.add_parser("report", help="dashboard tables, PNG charts and an HTML page from ClickHouse")
    r.add_argument("--sink", default="", help="a sink worker's URL (e.g. http://127.0.0.1:6067); default: "
                   "query ClickHouse directly (CLICKHOUSE_URL or the embedded path)")
    r.add_argument("--out", type=Path, default=None, help="output directory (default var/report)")
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
        settings = Settings.from_env()
        if args.command == "worker":
            if args.web_port is None:
                args.web_port = settings.web_port + (1 if args.role == "sink" else 0)
            return _worker(args, settings)
        if args.command == "demo":
            from streams.demo import run_demo

            return run_demo(settings, args.requests)
        if args.command == "report":
            from streams.report import direct_query, http_query, write_report

            query = http_query(args.sink) if args.sink else direct_query(settings.effective_clickhouse_url,
                                                                         settings.clickhouse_password)
            text, page = write_report(query, args.out or settings.data_dir / "report")
            print(text)
            print(f"charts and HTML report: {page}")
            return 0
        if args.command == "peer-bench":
            from streams.peer_bench import run_peer_bench

            return run_peer_bench(settings, args.requests)
        if args.command == "bench-sink":
            from streams.bench_sink import run_bench_sink

            return run_bench_sink(settings, args.rows)
        if args.command == "chaos":
            from streams.chaos import run_chaos

            return run_chaos(settings, args.short, args.soak_s)
        if args.command == "faults":
            from streams.faults import run_faults

            return run_faults(settings, args.requests)
        from streams.bench import run_bench

        return run_bench(settings, args.requests, args.workers, args.latency_ms)
    except (ConfigError, ModelError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
