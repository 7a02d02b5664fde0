"""The wheel is the product: built from the checkout, installed into a fresh virtualenv outside
it, and run from its console script with no checkout files, it migrates ClickHouse from its own
package data, loads its own catalog and model artifacts, and answers a request on the real broker.

The new virtualenv gets its third-party dependencies by a path file pointing at this
environment's site-packages (installing them again from the registry would take minutes); our
own packages come only from the wheel, which the test checks.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import uuid
import venv
from pathlib import Path

import orjson

from core.config import REPO_ROOT
from core.topics import TopicNames
from devenv.kafka import free_port, terminate
from tooling.client import collect, publish, run
from tooling.stack import Proc, wait_http


def _spawn(name: str, cmd: list[str], env: dict[str, str], cwd: Path) -> Proc:
    log_path = cwd / f"{name}.log"
    with open(log_path, "ab") as log:
        p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=cwd, start_new_session=True)
    return Proc(name, p, log_path)


def test_the_installed_wheel_runs_a_sink_and_a_pipeline_that_answer_a_request(bootstrap: str, tmp_path: Path) -> None:
    wheels, src = tmp_path / "wheels", tmp_path / "src"  # built from a copy: pip builds in-tree, leaving build/
    shutil.copytree(REPO_ROOT, src, ignore=shutil.ignore_patterns(".venv", "var", "build", ".git", "*.egg-info",
                                                                 "__pycache__", ".pytest_cache", "*.so"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "-q",
                    "-w", str(wheels)], check=True, timeout=600, cwd=tmp_path)
    wheel = next(wheels.glob("llm_router-*.whl"))
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    py = env_dir / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "--no-index", "-q",
                    str(wheel)], check=True, timeout=300, cwd=tmp_path)
    purelib = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    Path(purelib, "deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")

    env = {k: v for k, v in os.environ.items() if not k.startswith(("ROUTER_", "PYTHON", "KAFKA_", "CLICKHOUSE_"))}
    where = subprocess.run([str(py), "-c", "import core, llm_router_sql, models; "
                            "print(core.__file__, llm_router_sql.__file__, models.__file__)"],
                           check=True, capture_output=True, text=True, env=env, cwd=tmp_path).stdout.split()
    assert all(path.startswith(str(env_dir)) for path in where), where  # nothing from the checkout
    version = subprocess.run([str(env_dir / "bin" / "llm-router"), "--version"], check=True, capture_output=True,
                             text=True, env=env, cwd=tmp_path).stdout
    assert "0.1.0" in version

    prefix = f"wheel.{uuid.uuid4().hex[:8]}."
    sim_port, sink_port, pipe_port = free_port(), free_port(), free_port()
    sim_cfg = tmp_path / "sim.json"
    sim_cfg.write_bytes(orjson.dumps({"default": {"latency_ms": 0}}))
    env |= {"KAFKA_BOOTSTRAP_SERVERS": bootstrap, "ROUTER_TOPIC_PREFIX": prefix, "ROUTER_APP_ID": f"wheel-{prefix}",
            "ROUTER_DATA_DIR": str(tmp_path / "data"), "ROUTER_SIM_URL": f"http://127.0.0.1:{sim_port}",
            "ROUTER_PARTITIONS": "2"}
    procs = [_spawn("simulator", [str(py), "-m", "simulator", "--port", str(sim_port), "--config", str(sim_cfg)],
                    env, tmp_path)]
    try:
        wait_http(f"http://127.0.0.1:{sim_port}/_sim/health", procs[0], 30)
        for role, port in (("sink", sink_port), ("pipeline", pipe_port)):
            procs.append(_spawn(role, [str(env_dir / "bin" / "llm-router"), "worker", "--role", role,
                                       "--web-port", str(port)], env, tmp_path))
            wait_http(f"http://127.0.0.1:{port}/health/", procs[-1], 120)
        names = TopicNames(prefix)
        body = {"request_id": "from-the-wheel", "tenant": "acme",
                "messages": [{"role": "user", "content": "What is the capital of France?"}]}
        run(publish(bootstrap, names.requests, [(b"from-the-wheel", orjson.dumps(body))]))
        got = run(collect(bootstrap, names.responses, {"from-the-wheel"}, 120, settle_s=0.2))
        assert got.responses["from-the-wheel"]["status"] == "ok", got.responses
    finally:
        for p in reversed(procs):
            terminate(p.process, 30)
