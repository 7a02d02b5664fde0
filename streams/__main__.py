"""Command line: ``python -m streams {worker,demo,bench}``."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import sys
from functools import partial

from core.config import Settings
from core.errors import ConfigError, ModelError
from core.topics import TopicNames


def one_blas_thread() -> None:
    """Keep numpy's OpenBLAS to the calling thread; call before numpy is first imported.

    On two cores OpenBLAS starts a second thread that spins between the quality memory's small
    matrix products: measured 2026-12-02 in a burst, 1.35 ms of CPU per request (a quarter of the
    pipeline worker's) on that thread alone, for products that take microseconds on one. An
    operator's own ``OPENBLAS_NUM_THREADS`` wins."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def _worker(args: argparse.Namespace, settings: Settings) -> int:
    one_blas_thread()
    import faust

    from streams.app import create_pipeline_app, create_sink_app
    from streams.runtime import pipeline_runtime, sink_writer
    from streams.topics import ensure_topics

    if not settings.kafka_bootstrap:
        print("error: KAFKA_BOOTSTRAP_SERVERS is not set (make demo starts a local broker for you)", file=sys.stderr)
        return 2
    import uvloop

    from streams.kafka_compat import patch_closed_transport_send
    from streams.logs import logging_config

    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())  # the worker's loop: measured faster
    patch_closed_transport_send()  # so a broker restart cannot end aiokafka's tasks under uvloop
    asyncio.run(ensure_topics(settings.kafka_bootstrap, TopicNames(settings.topic_prefix), settings.partitions,
                              settings.kafka_replication_factor, settings.tenant_topics,
                              (settings.gateway_reply_topic,), **settings.kafka_client_kwargs()))
    if args.role == "gateway":
        from aiohttp import web

        from streams.gateway import create_gateway_app

        logging.basicConfig(level=settings.log_level.upper())
        web.run_app(create_gateway_app(settings), host=settings.web_bind, port=args.web_port, print=None)
        return 0
    if args.role == "sink":
        writer = sink_writer(settings)
        app = create_sink_app(settings, writer, args.web_port)
    else:
        app = create_pipeline_app(settings, partial(pipeline_runtime, settings), args.web_port)
    worker = faust.Worker(app, loglevel=settings.log_level.upper(), quiet=True,
                          logging_config=logging_config(settings.log_level, settings.log_format))
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
    w.add_argument("--role", choices=("pipeline", "sink", "gateway"), default="pipeline")
    w.add_argument("--web-port", type=int, default=None, help="health/status HTTP port; 0 turns it off")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.from_env()
        if args.command == "worker":
            if args.web_port is None:
                args.web_port = settings.web_port + {"pipeline": 0, "sink": 1, "gateway": 2}[args.role]
            return _worker(args, settings)
        return 2  # argparse allows only the commands above
    except (ConfigError, ModelError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
