"""Build the dependencies of each role from Settings (catalog, classifier, providers, ClickHouse)."""

from __future__ import annotations

import os
import socket

import httpx

from core.catalog import load_catalog
from core.clock import SystemClock
from core.config import Settings
from core.drift import DriftMonitor
from core.invocation import Invoker, RetryPolicy
from core.ports import AllHealthy
from core.routing import RoutingPolicy
from core.topics import TopicNames
from core.verification import CascadeLimits
from agents import Outbox, PipelineDeps, SinkDeps
from models.classifier import LgbmClassifier
from providers.registry import build_providers
from streams.clickhouse import OutcomeWriter, connect, migrate


def pipeline_deps(settings: Settings, outbox: Outbox) -> tuple[PipelineDeps, list[httpx.AsyncClient]]:
    """The pipeline's dependencies, and the HTTP clients to close when the worker stops."""
    catalog = load_catalog(settings.catalog_path, settings.sim_url)
    providers, clients = build_providers(catalog)
    clock = SystemClock()
    classifier = LgbmClassifier(settings.model_dir)
    worker = f"{socket.gethostname()}-{os.getpid()}"
    deps = PipelineDeps(
        names=TopicNames(settings.topic_prefix),
        classifier=classifier,
        drift=DriftMonitor(classifier.training_distribution, classifier.version, worker,
                           settings.drift_window_s * 1000),
        policy=RoutingPolicy(catalog),
        health=AllHealthy(),
        invoker=Invoker(catalog, providers, clock, RetryPolicy(settings.max_attempts_per_model)),
        limits=CascadeLimits(settings.max_escalations, catalog.top_tier),
        clock=clock,
        outbox=outbox,
        invoke_batch=settings.invoke_batch,
        store_prompts=settings.store_prompts,
    )
    return deps, clients


def sink_writer(settings: Settings) -> OutcomeWriter:
    client = connect(settings.effective_clickhouse_url, settings.clickhouse_password)
    migrate(client)
    return OutcomeWriter(client)


def sink_deps(settings: Settings, writer: OutcomeWriter) -> SinkDeps:
    return SinkDeps(writer=writer, clock=SystemClock(), batch=settings.sink_batch, within_s=settings.sink_within_s)
