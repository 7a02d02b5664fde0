"""Where a worker's CPU time goes, for the benchmarks: py-spy samples each worker from outside.

py-spy reads the worker's Python stacks from another process (no GIL, no code in the worker) and
only counts samples where the thread is on a CPU, so the shares below are shares of CPU time. Each
sample is filed under a *stage* (the agent whose coroutine is on the stack: classify, route,
invoke, verify, sink; otherwise Faust's and the Kafka client's own tasks and callbacks) and a
*layer* (whose code is at the top of the stack: ours, Faust/mode, aiokafka, the HTTP client,
asyncio, ClickHouse, or other).
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

_LAYERS = (  # first match on the top frame's file wins
    ("/faust/", "faust"), ("/mode/", "faust"), ("/aiokafka/", "aiokafka"), ("/kafka/", "aiokafka"),
    ("/httpx", "http client"), ("/httpcore/", "http client"), ("/aiohttp/", "http client"),
    ("/asyncio/", "asyncio"), ("/uvloop/", "asyncio"), ("/clickhouse_connect/", "clickhouse"),
    ("/chdb/", "clickhouse"), ("/logging/", "logging"),
)
_OURS = ("core", "models", "agents", "providers", "streams")
BACKGROUND = "Faust and Kafka client tasks"


def _file(frame: str) -> str:
    """The frame's file as "/pkg/module.py" (py-spy prints paths relative to sys.path)."""
    return "/" + frame.rsplit(" (", 1)[-1].rstrip(")").rsplit(":", 1)[0].lstrip("/")


def layer_of(frame: str) -> str:
    path = _file(frame)
    for part, name in _LAYERS:
        if part in path:
            return name
    for ours in _OURS:
        if f"/{ours}/" in path:
            return f"ours ({ours})"
    return "other"


def stage_of(frames: list[str]) -> str:
    for frame in reversed(frames):  # innermost agent on the stack
        path = _file(frame)
        if "/agents/" in path and not path.endswith("__init__.py"):
            return Path(path).stem
    for frame in frames:
        if "/agents/__init__.py" in _file(frame):
            return "agents (shared)"
        if "/mode/threads.py" in _file(frame):  # the consumer's service (streams/consumer_loop.py)
            return "Faust consumer service"
    return BACKGROUND


def parse_raw(text: str) -> Counter[tuple[str, str]]:
    """py-spy's raw output ("root;...;leaf count" per line) as samples per (stage, layer)."""
    counts: Counter[tuple[str, str]] = Counter()
    for line in text.splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack or not n.isdigit():
            continue
        frames = stack.split(";")
        counts[(stage_of(frames), layer_of(frames[-1]))] += int(n)
    return counts


def table(counts: Counter[tuple[str, str]]) -> list[str]:
    """One line per stage: its share of the samples, split by layer."""
    total = sum(counts.values()) or 1
    by_stage: Counter[str] = Counter()
    for (stage, _), n in counts.items():
        by_stage[stage] += n
    lines = []
    for stage, n in by_stage.most_common():
        layers = sorted(((lay, m) for (s, lay), m in counts.items() if s == stage), key=lambda x: -x[1])
        detail = ", ".join(f"{lay} {100 * m / total:.1f}%" for lay, m in layers if 100 * m / total >= 0.5)
        lines.append(f"{stage:<30} {100 * n / total:5.1f}%  ({detail})")
    return lines


class Sampling:
    """``py-spy record`` on each pid until ``stop()``; ``results()`` gives counts per name."""

    def __init__(self, pids: dict[str, int], out_dir: Path, rate: int = 200) -> None:
        self.out_dir, self.procs, self.missing = out_dir, {}, ""
        exe = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
        if exe is None:
            self.missing = "py-spy is not installed (pip install -e '.[dev]')"
            return
        out_dir.mkdir(parents=True, exist_ok=True)
        for name, pid in pids.items():
            cmd = [exe, "record", "--pid", str(pid), "--rate", str(rate), "--format", "raw", "--nonblocking",
                   "--output", str(out_dir / f"{name}.txt")]
            self.procs[name] = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def stop(self) -> dict[str, Counter[tuple[str, str]]]:
        out = {}
        for name, proc in self.procs.items():
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
            path = self.out_dir / f"{name}.txt"
            if path.exists():
                out[name] = parse_raw(path.read_text(encoding="utf-8", errors="replace"))
            else:
                err = proc.stderr.read().decode(errors="replace").strip() if proc.stderr else ""
                self.missing = f"py-spy wrote nothing for {name}: {err[-300:]}"
        return out
