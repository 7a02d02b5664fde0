"""Habits checked mechanically: layering, module sizes, no import-time side effects."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.config import REPO_ROOT

PACKAGES = ("core", "providers", "models", "agents", "streams", "simulator", "devenv", "training", "tooling",
            "analytics", "cli")
OFFLINE = {"training", "tooling", "analytics"}  # never imported by what runs in production
FORBIDDEN = {
    "core": {"faust", "httpx", "httpx_aiohttp", "aiokafka", "lightgbm", "clickhouse_connect", "chdb", "aiohttp",
             "agents", "streams", "providers", "models", "simulator", "devenv", *OFFLINE},
    "agents": {"streams", "providers", "models", "simulator", "devenv", "httpx", "clickhouse_connect", "chdb",
               *OFFLINE},
    "providers": {"agents", "streams", "models", "faust", "aiokafka", *OFFLINE},
    "models": {"agents", "streams", "providers", "faust", "aiokafka", "httpx", "lightgbm", *OFFLINE},
    "streams": {"simulator", "devenv", "lightgbm", *OFFLINE},  # the service: only what runs in production
}


def modules(package: str) -> list[Path]:
    return sorted((REPO_ROOT / package).rglob("*.py"))


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_layering(package: str) -> None:
    offenders = {p.name: sorted(imported_roots(p) & FORBIDDEN[package]) for p in modules(package)}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_module_size_budgets() -> None:
    too_big = {}
    for package in PACKAGES:
        for p in modules(package):
            lines = len(p.read_text().splitlines())
            limit = 80 if package == "agents" and p.name != "__init__.py" else 600
            if lines > limit:
                too_big[str(p.relative_to(REPO_ROOT))] = lines
    assert too_big == {}


def test_every_module_imports_with_an_empty_environment() -> None:
    names = [".".join(p.relative_to(REPO_ROOT).with_suffix("").parts) for pkg in PACKAGES for p in modules(pkg)]
    names = [n.removesuffix(".__init__") for n in names if not n.endswith("__main__")]
    code = "import importlib,sys\nfor n in sys.argv[1:]: importlib.import_module(n)\nprint('ok')"
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.run([sys.executable, "-c", code, *names], env=env, capture_output=True, text=True,
                          cwd=REPO_ROOT, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_no_module_level_apps_or_clients() -> None:
    """Nothing is constructed at import: no faust.App, client or Settings at module level."""
    suspicious = {"App", "get_client", "AsyncClient", "from_env", "Settings", "start_broker"}
    found = []
    for package in PACKAGES:
        for p in modules(package):
            for node in ast.parse(p.read_text()).body:
                if isinstance(node, (ast.Assign, ast.AnnAssign, ast.Expr)) and node.value is not None:
                    for call in ast.walk(node.value):
                        if isinstance(call, ast.Call):
                            fn = call.func
                            name = fn.attr if isinstance(fn, ast.Attribute) else getattr(fn, "id", "")
                            if name in suspicious:
                                found.append(f"{p.relative_to(REPO_ROOT)}:{node.lineno} {name}()")
    assert found == []


@pytest.mark.parametrize("package", ["agents", "models", "streams"])
def test_generic_package_names_resolve_to_this_repo(package: str) -> None:
    mod = __import__(package)
    assert Path(mod.__file__).resolve().is_relative_to(REPO_ROOT)


def test_every_dashboard_query_is_documented_in_one_line() -> None:
    from streams.clickhouse import describe_queries, named_queries

    docs = describe_queries()
    assert set(docs) == set(named_queries())
    assert all(len(d) > 20 for d in docs.values()), docs
