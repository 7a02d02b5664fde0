"""Start and stop the whole stack on one machine: broker, simulator, sink and pipeline workers.

Used by the demo, the benchmark and the integration tests, so all three run exactly what a
user runs. Each run gets its own topic prefix and consumer groups, so runs never mix.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

from core.config import REPO_ROOT, Settings
from core.topics import TopicNames
from devenv.kafka import LocalBroker, free_port, start_broker, terminate


class StackError(RuntimeError):
    """A part of the local stack did not come up; the message names it and its log."""


@dataclass
class Proc:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    health_url: str = ""

    def stop(self, timeout: float = 30.0) -> None:
        terminate(self.process, timeout)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def cpu_seconds(self) -> float:
        """User+system CPU time of the process so far (from /proc)."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def thread_cpu_seconds(self, *prefixes: str) -> dict[str, float]:
        """User+system CPU time so far of each of the process's threads whose name starts with a
        prefix, by thread id (a thread that has ended is missing: subtract per thread, not sums)."""
        out = {}
        for task in Path(f"/proc/{self.process.pid}/task").glob("*"):
            try:
                if (task / "comm").read_text().startswith(prefixes):
                    fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
                    out[task.name] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            except OSError:  # the thread ended
                continue
        return out

    def rss_mb(self) -> float:
        try:
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0


def wait_http(url: str, proc: Proc | None, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.process.poll() is not None:
            raise StackError(f"{proc.name} exited with code {proc.process.returncode}; log tail:\n"
                             + _tail(proc.log_path))
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2.0).status_code == 200:
                return
        time.sleep(0.2)
    name = proc.name if proc else url
    raise StackError(f"{name} did not answer {url} within {timeout:.0f}s" +
                     (f"; log tail:\n{_tail(proc.log_path)}" if proc else ""))


def _tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@dataclass
class Stack:
    """One running stack. ``settings`` is rewritten with the addresses actually in use."""

    settings: Settings
    run_dir: Path
    sim_config: dict[str, Any] = field(default_factory=dict)
    pipeline_workers: int = 1
    broker: LocalBroker | None = None
    sim: Proc | None = None
    sink: Proc | None = None
    pipelines: list[Proc] = field(default_factory=list)
    gateway: Proc | None = None
    sink_port: int = 0

    @property
    def names(self) -> TopicNames:
        return TopicNames(self.settings.topic_prefix)

    def start(self, log: Callable[[str], None] = print) -> Stack:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._start_broker(log)
            self._start_simulator(log)
            self.start_sink()
            for _ in range(self.pipeline_workers):
                self.start_pipeline()
            log(f"workers up: 1 sink + {self.pipeline_workers} pipeline")
        except BaseException:
            self.stop()
            raise
        return self

    def _start_broker(self, log: Callable[[str], None]) -> None:
        if self.settings.kafka_bootstrap:
            log(f"using Kafka at {self.settings.kafka_bootstrap} (KAFKA_BOOTSTRAP_SERVERS)")
            return
        t0 = time.monotonic()
        self.broker = start_broker(self.run_dir / "kafka")
        self.settings = self.settings.with_(kafka_bootstrap=self.broker.bootstrap)
        log(f"started Kafka 3.9.1 (KRaft) at {self.broker.bootstrap} in {time.monotonic() - t0:.1f}s")

    def _start_simulator(self, log: Callable[[str], None]) -> None:
        port = free_port()
        cfg = self.run_dir / "sim.json"
        cfg.write_bytes(orjson.dumps(self.sim_config))
        self.sim = self._spawn("simulator", [sys.executable, "-m", "simulator", "--port", str(port),
                                             "--config", str(cfg)], {})
        url = f"http://127.0.0.1:{port}"
        self.sim.health_url = f"{url}/_sim/health"
        wait_http(self.sim.health_url, self.sim, 30)
        self.settings = self.settings.with_(sim_url=url)
        log(f"provider simulator at {url}")

    def restart_broker(self, down_s: float = 0.0, log: Callable[[str], None] = print) -> float:
        """SIGKILL the stack's own broker, keep it down ``down_s`` seconds, start it again on the same
        port with its data; return how long the restart took."""
        assert self.broker is not None, "the stack does not own its broker (KAFKA_BOOTSTRAP_SERVERS was set)"
        port = int(self.broker.bootstrap.rsplit(":", 1)[1])
        self.broker.process.kill()
        self.broker.process.wait(10)
        time.sleep(down_s)
        t0 = time.monotonic()
        self.broker = start_broker(self.run_dir / "kafka", port=port, fresh=False)
        log(f"broker restarted after {down_s:.0f}s down ({time.monotonic() - t0:.1f}s to start)")
        return time.monotonic() - t0

    def start_sink(self) -> Proc:
        self.sink_port = free_port()
        self.sink = self._worker("sink", self.sink_port)
        return self.sink

    def start_pipeline(self) -> Proc:
        proc = self._worker("pipeline", free_port(), index=len(self.pipelines))
        self.pipelines.append(proc)
        return proc

    def start_gateway(self, keys: Path) -> Proc:
        """The OpenAI-compatible gateway role, with the API keys file ``keys``."""
        self.gateway = self._worker("gateway", free_port(), extra_env={"ROUTER_GATEWAY_KEYS": str(keys)})
        return self.gateway

    def _worker(self, role: str, port: int, index: int = 0, extra_env: dict[str, str] | None = None) -> Proc:
        s = self.settings
        env = {
            "KAFKA_BOOTSTRAP_SERVERS": s.kafka_bootstrap,
            "KAFKA_SECURITY_PROTOCOL": s.kafka_security_protocol,
            "KAFKA_SASL_MECHANISM": s.kafka_sasl_mechanism,
            "KAFKA_SASL_USERNAME": s.kafka_username,
            "KAFKA_SASL_PASSWORD": s.kafka_password,
            "CLICKHOUSE_URL": s.clickhouse_url,
            "ROUTER_DATA_DIR": str(s.data_dir),
            "ROUTER_SIM_URL": s.sim_url,
            "ROUTER_TOPIC_PREFIX": s.topic_prefix,
            "ROUTER_APP_ID": s.app_id,
            "ROUTER_CATALOG": str(s.catalog_path),
            "ROUTER_MODEL_DIR": str(s.model_dir),
            "ROUTER_MAX_ESCALATIONS": str(s.max_escalations),
            "ROUTER_PARTITIONS": str(s.partitions),
            "ROUTER_DRIFT_WINDOW_S": str(s.drift_window_s),
            "ROUTER_STORE_PROMPTS": "1" if s.store_prompts else "0",
            "ROUTER_QUALITY_MEMORY": "1" if s.quality_memory else "0",
            "ROUTER_SESSION_TIMEOUT_S": str(int(s.session_timeout_s)),
            "ROUTER_MAX_IN_FLIGHT": str(s.max_in_flight),
            "ROUTER_VERIFY_THRESHOLDS": ",".join(map(str, s.verify_thresholds)),
            "ROUTER_LOG_LEVEL": s.log_level,
            "ROUTER_LOG_FORMAT": s.log_format,
            "ROUTER_STALL_AFTER_S": str(int(s.stall_after_s)),
            "ROUTER_TENANT_TOPICS": ",".join(s.tenant_topics),
            "ROUTER_SHARED_REQUESTS": "1" if s.shared_requests else "0",
            **(extra_env or {}),
        }
        name = f"{role}-{index}"
        proc = self._spawn(name, [sys.executable, "-m", "streams", "worker", "--role", role,
                                  "--web-port", str(port)], env)
        proc.health_url = f"http://127.0.0.1:{port}/health/"
        wait_http(proc.health_url, proc, 90)
        return proc

    def _spawn(self, name: str, cmd: list[str], env: dict[str, str]) -> Proc:
        log_path = self.run_dir / f"{name}.log"
        full_env = {**os.environ, **env, "PYTHONPATH": str(REPO_ROOT)}
        with open(log_path, "ab") as log:
            p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=full_env, cwd=REPO_ROOT,
                                 start_new_session=True)
        return Proc(name, p, log_path)

    def processes(self) -> dict[str, Proc]:
        """The running processes by name (sink, simulator, pipelines, the broker when it is ours)."""
        found = {"sink": self.sink, "simulator": self.sim, **{p.name: p for p in self.pipelines}}
        procs = {k: v for k, v in found.items() if v is not None}
        if self.broker is not None:
            procs["kafka"] = Proc("kafka", self.broker.process, self.broker.log_path)
        return procs

    def sink_url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.sink_port}{path}"

    def query(self, name: str, **params: str) -> list[dict[str, Any]]:
        """Run a named query through the sink worker (it owns the embedded ClickHouse)."""
        r = httpx.get(self.sink_url(f"/queries/{name}/"), params=params, timeout=30)
        body = r.json()
        if r.status_code != 200:
            raise StackError(f"query {name} failed: {body.get('error')}")
        return [dict(zip(body["columns"], row, strict=True)) for row in body["rows"]]

    def rows_written(self) -> dict[str, int]:
        return dict(httpx.get(self.sink_url("/sink/status/"), timeout=10).json()["rows_written"])

    def configure_sim(self, config: dict[str, Any]) -> None:
        assert self.sim is not None
        r = httpx.post(self.settings.sim_url + "/_sim/config", content=orjson.dumps(config), timeout=10)
        r.raise_for_status()

    def sim_stats(self) -> dict[str, Any]:
        return dict(httpx.get(self.settings.sim_url + "/_sim/stats", timeout=10).json())

    def stop(self) -> None:
        for proc in [self.gateway, *self.pipelines, self.sink, self.sim]:
            if proc is not None:
                proc.stop()
        if self.broker is not None:
            self.broker.stop()

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables (which workers started meanwhile inherit), then restore them."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run_settings(base: Settings, label: str, run_dir: Path) -> Settings:
    """Settings for an isolated run: its own topic prefix, consumer groups and ClickHouse path."""
    run_id = uuid.uuid4().hex[:8]
    return base.with_(
        topic_prefix=f"{label}.{run_id}.",
        app_id=f"llm-router-{label}-{run_id}",
        data_dir=run_dir,
    )
