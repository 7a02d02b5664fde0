"""Build the dependencies of each role from Settings (catalog, classifier, providers, ClickHouse)."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from agents import SinkDeps
from core.budget import Ledger
from core.catalog import load_catalog
from core.catalog_ref import CatalogRef
from core.clock import SystemClock
from core.config import Settings
from core.dedup import SeenCache
from core.drift import DriftMonitor
from core.health import HealthBoard
from core.ingress import Ingress
from core.invocation import Invoker, RetryPolicy
from core.memory_view import MemoryView
from core.outcomes import reference_rows
from core.pipeline import Classify, Invoke, Pipeline, Route, Tuning, Verify
from core.ports import Outbox
from core.publisher import Publisher
from core.quality_memory import QualityMemory
from core.reply_topics import ReplyTopics
from core.routing import RoutingPolicy
from core.topics import TopicNames
from core.verification import CascadeLimits
from models.classifier import LgbmClassifier
from models.embedding import PromptEmbedder
from models.verifier import LgbmVerifier
from providers.http import Endpoint
from providers.registry import build_providers
from streams.clickhouse import OutcomeWriter, connect, migrate
from streams.reload import CatalogReloader


@dataclass
class PipelineRuntime:
    """Everything a pipeline worker builds at start-up."""

    pipeline: Pipeline
    endpoints: list[Endpoint]
    ledger: Ledger
    reloader: CatalogReloader
    memory: QualityMemory | None


def pipeline_runtime(settings: Settings, outbox: Outbox,
                     topic_exists: Callable[[str], bool] | None = None) -> PipelineRuntime:
    catalog = load_catalog(settings.catalog_path, settings.catalog_placeholders(), settings.catalog_overrides)
    ref = CatalogRef(catalog)  # the one holder: every part below reads the running catalog through it
    providers, endpoints = build_providers(catalog)
    clock = SystemClock()
    memory = QualityMemory(catalog.models) if settings.quality_memory else None
    classifier = LgbmClassifier(settings.model_dir, PromptEmbedder() if memory is not None else None)
    worker = f"{socket.gethostname()}-{os.getpid()}"
    board, ledger, policy = HealthBoard(ref, clock), Ledger(), RoutingPolicy(ref)
    invoker = Invoker(ref, providers, clock, RetryPolicy(settings.max_attempts_per_model), board)
    names = TopicNames(settings.topic_prefix)
    reply_topics = ReplyTopics(names, _ReplyPatterns(ref), settings.app_id)
    seen = SeenCache()  # one per worker: no stage works twice on a job this worker already handled
    ingress = Ingress(names, reply_topics, topic_exists, settings.max_request_bytes,
                      shared_requests=settings.shared_requests)
    drift = DriftMonitor(classifier.training_distribution, classifier.version, worker, settings.drift_window_s * 1000)
    quality = None if memory is None else MemoryView(memory, lambda m: ref.current.models[m].tier)
    limits = CascadeLimits(settings.max_escalations, ref, settings.verify_thresholds)
    pipeline = Pipeline(
        classify=Classify(ingress, classifier, clock, seen, drift, settings.store_prompts),
        route=Route(policy, board, ledger, clock, quality),
        invoke=Invoke(invoker, policy, worker),
        verify=Verify(limits, policy, clock, LgbmVerifier(settings.model_dir)),
        clock=clock, outbox=outbox, seen=seen, publisher=Publisher(names),
        tuning=Tuning(max_in_flight=settings.max_in_flight),
    )
    reloader = CatalogReloader(settings.catalog_path, settings.catalog_placeholders(), ref, memory,
                               settings.catalog_overrides)
    return PipelineRuntime(pipeline, endpoints, ledger, reloader, memory)


class _ReplyPatterns(Mapping[str, tuple[str, ...]]):
    """The running catalog's reply-topic patterns (a catalog reload applies at once)."""

    def __init__(self, ref: CatalogRef) -> None:
        self.ref = ref

    def __getitem__(self, tenant: str) -> tuple[str, ...]:
        return self.ref.current.reply_topics[tenant]

    def __iter__(self) -> Iterator[str]:
        return iter(self.ref.current.reply_topics)

    def __len__(self) -> int:
        return len(self.ref.current.reply_topics)


def sink_writer(settings: Settings) -> OutcomeWriter:
    """Open ClickHouse, apply migrations, and record the catalog's prices and budgets."""
    client = connect(settings.effective_clickhouse_url, settings.clickhouse_password)
    migrate(client, settings.sql_dir)
    writer = OutcomeWriter(client)
    catalog = load_catalog(settings.catalog_path, settings.catalog_placeholders(), settings.catalog_overrides)
    for table, rows in reference_rows(catalog, SystemClock().now_ms()).items():
        if rows:
            writer.insert(table, rows)
    return writer


def sink_deps(settings: Settings, writer: OutcomeWriter, outbox: Outbox) -> SinkDeps:
    deps = SinkDeps(writer=writer, clock=SystemClock(), outbox=outbox, names=TopicNames(settings.topic_prefix),
                    batch=settings.sink_batch, within_s=settings.sink_within_s)
    now = deps.clock.now_ms()
    for rid in writer.recent_request_ids():  # a restarted sink skips the rows it wrote before it stopped
        deps.written_requests.first(rid, now)
    return deps
