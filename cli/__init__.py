"""``llm-router``: one command for what operators do, over the packages' own entry points.

    llm-router --version
    llm-router worker --role pipeline|sink|gateway   the service (python -m streams worker)
    llm-router catalog check [PATH]             validate a catalog, every problem named
    llm-router catalog schema                   the catalog's JSON Schema (config/catalog.schema.json)
    llm-router migrate                          apply the ClickHouse migrations
    llm-router publish FILE|-                   send one request, print its response (exit 1 if not ok)
    llm-router tail [responses|dlq|internal-dlq|outcomes-dlq]   follow a topic as JSON lines
    llm-router dlq replay requests|internal|outcomes [--dry-run] [--request-id ID] [--code C] [--limit N]
                                                re-publish dead-lettered messages after a fix (exit 1 if some skipped)
    llm-router report | grafana                 analytics (python -m analytics ...)
    llm-router demo | bench | chaos | faults    tooling (python -m tooling ...)
    llm-router train | eval | eval-routing | prequential   training (python -m training.<module>)

Exit codes: 0 success; 1 a run that found failures (chaos, faults, tests of the data); 2 bad usage or
configuration (the message names what was wrong).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from importlib import import_module, metadata
from pathlib import Path

_TOOLING = ("demo", "bench", "bench-sink", "peer-bench", "chaos", "faults")
_ANALYTICS = ("report", "grafana")
_TRAINING = {"train": "training.train", "eval": "training.evaluate", "eval-routing": "training.route_eval",
             "prequential": "training.prequential"}


def version() -> str:
    try:
        return metadata.version("llm-router")
    except metadata.PackageNotFoundError:
        return "0.1.0+checkout"


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if args else 2
    command, rest = args[0], args[1:]
    if command == "--version":
        print(f"llm-router {version()}")
        return 0
    run = _route(command)
    if run is None:
        print(f"llm-router: unknown command {command!r} (llm-router --help lists them)", file=sys.stderr)
        return 2
    return run(rest)


def _route(command: str) -> Callable[[list[str]], int] | None:
    if command == "worker":
        return lambda rest: _module_main("streams.__main__")(["worker", *rest])
    if command in _TOOLING:
        return lambda rest: _module_main("tooling.__main__")([command, *rest])
    if command in _ANALYTICS:
        return lambda rest: _module_main("analytics.__main__")([command, *rest])
    if command in _TRAINING:
        return _module_main(_TRAINING[command])
    if command == "catalog":
        return catalog
    if command == "migrate":
        return migrate
    if command == "dlq":
        from cli import dlq  # noqa: PLC0415 - the Kafka client only for the commands that use it

        return dlq.main
    if command in ("publish", "tail"):
        from cli import kafka_commands  # noqa: PLC0415 - the Kafka client only for these two

        return kafka_commands.publish if command == "publish" else kafka_commands.tail
    return None


def _module_main(module: str) -> Callable[[list[str]], int]:
    main_: Callable[[list[str]], int] = import_module(module).main
    return main_


def catalog(rest: list[str]) -> int:
    """``catalog check [PATH]``: load the catalog as a worker would (with ROUTER_CATALOG_OVERRIDES),
    validated by the schema ``catalog schema`` prints; 0 and a summary, or 2 and each problem."""
    from core.catalog import load_catalog  # noqa: PLC0415
    from core.catalog_schema import json_schema  # noqa: PLC0415
    from core.config import Settings  # noqa: PLC0415
    from core.errors import ConfigError  # noqa: PLC0415

    if rest == ["schema"]:
        print(json.dumps(json_schema(), indent=2))
        return 0
    if not rest or rest[0] != "check" or len(rest) > 2:
        print("usage: llm-router catalog check [PATH]  (default: ROUTER_CATALOG)\n"
              "       llm-router catalog schema        (the catalog's JSON Schema, for editors)", file=sys.stderr)
        return 2
    try:
        settings = Settings.from_env()
        path = Path(rest[1]) if len(rest) == 2 else settings.catalog_path
        c = load_catalog(path, settings.catalog_placeholders(), settings.catalog_overrides)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{path}: ok: {len(c.providers)} providers, {len(c.models)} models in tiers "
          f"{', '.join(map(str, c.tiers))}, {len(c.budgets)} tenant budgets")
    return 0


def migrate(rest: list[str]) -> int:
    """Apply the ClickHouse migrations not yet recorded (CLICKHOUSE_URL, or the embedded path)."""
    from core.config import Settings  # noqa: PLC0415
    from core.errors import ConfigError  # noqa: PLC0415
    from streams.clickhouse import connect  # noqa: PLC0415
    from streams.clickhouse import migrate as apply  # noqa: PLC0415

    if rest:
        print("usage: llm-router migrate", file=sys.stderr)
        return 2
    try:
        settings = Settings.from_env()
        applied = apply(connect(settings.effective_clickhouse_url, settings.clickhouse_password), settings.sql_dir)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"applied {len(applied)} migrations" + (f": {', '.join(applied)}" if applied else " (up to date)"))
    return 0
