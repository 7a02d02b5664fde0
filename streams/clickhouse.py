"""ClickHouse through clickhouse-connect: embedded chDB (``chdb:///path``) or a server URL.

Owns the client, the numbered migrations in ``sql/`` (applied in order, recorded in
``llm.schema_migrations``, safe to run twice) and batch inserts of outcome rows.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import clickhouse_connect
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import OperationalError

from core.config import packaged
from core.errors import ConfigError, SinkError
from core.outcomes import COLUMNS

SQL_DIR = packaged("llm_router_sql", "sql")  # the default; workers use settings.sql_dir (ROUTER_SQL_DIR)
QUERY_DIR = SQL_DIR / "dashboards"  # the analysts' named queries
CHECK_DIR = SQL_DIR / "checks"  # operational checks (served too, not dashboards)


def query_dirs(sql_dir: Path) -> tuple[Path, Path]:
    """Where the named queries of a sql folder live: dashboards, then operational checks."""
    return sql_dir / "dashboards", sql_dir / "checks"
_MIGRATION = re.compile(r"^(\d{3})_[\w-]+\.sql$")
_SAFE_URL = re.compile(r"//[^/@]*@")


def redact_url(url: str) -> str:
    return _SAFE_URL.sub("//***@", url)


def connect(url: str, password: str = "") -> Client:
    """``chdb:///abs/path`` for the embedded engine, or ``http(s)://user@host:port`` for a server
    (the password from CLICKHOUSE_PASSWORD or CLICKHOUSE_PASSWORD_FILE, or in the URL)."""
    try:
        if url.startswith("chdb://"):
            Path(url.removeprefix("chdb://")).mkdir(parents=True, exist_ok=True)
            return clickhouse_connect.get_client(dsn=url)
        if password:
            return clickhouse_connect.get_client(dsn=url, password=password)
        return clickhouse_connect.get_client(dsn=url)
    except Exception as exc:  # noqa: BLE001 - any driver error becomes one ConfigError naming the URL (redacted)
        msg = f"cannot open ClickHouse at {redact_url(url)}: {type(exc).__name__}: {exc}"
        raise ConfigError(msg) from None


def migrations(sql_dir: Path = SQL_DIR) -> list[tuple[int, str, Path]]:
    found = []
    for path in sorted(sql_dir.glob("*.sql")):
        m = _MIGRATION.match(path.name)
        if m:
            found.append((int(m.group(1)), path.stem, path))
    return found


def split_statements(sql: str) -> list[str]:
    body = "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))
    return [s.strip() for s in body.split(";") if s.strip()]


def migrate(client: Client, sql_dir: Path = SQL_DIR) -> list[str]:
    """Apply the migrations not yet recorded; return the names applied now."""
    client.command("CREATE DATABASE IF NOT EXISTS llm")
    client.command(
        "CREATE TABLE IF NOT EXISTS llm.schema_migrations (version UInt32, name String, "
        "applied_at DateTime64(3, 'UTC') DEFAULT now64(3)) ENGINE = ReplacingMergeTree ORDER BY version"
    )
    done = {row[0] for row in client.query("SELECT version FROM llm.schema_migrations FINAL").result_rows}
    applied = []
    for version, name, path in migrations(sql_dir):
        if version in done:
            continue
        for statement in split_statements(path.read_text(encoding="utf-8")):
            client.command(statement)
        client.insert("llm.schema_migrations", [[version, name]], column_names=["version", "name"])
        applied.append(name)
    return applied


# ClickHouse error codes that say the server cannot take writes now, whatever the rows: unknown
# table/database (mid-migration), read-only, memory, disk, parts, timeouts, network, keeper.
_SERVER_CODES = frozenset({3, 60, 81, 159, 164, 202, 209, 210, 241, 242, 243, 252, 319, 425, 999})
_CODE = re.compile(r"Code: (\d+)")


def server_trouble(exc: BaseException) -> bool:
    """True when an insert failed because of the server, so the same rows may succeed later."""
    if isinstance(exc, (OperationalError, ConnectionError, TimeoutError)):
        return True
    m = _CODE.search(str(exc))
    return m is not None and int(m.group(1)) in _SERVER_CODES


class OutcomeWriter:
    """Batch inserts of outcome rows; one instance per process that owns the data path."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self._lock = threading.Lock()
        self.rows_written: dict[str, int] = dict.fromkeys(COLUMNS, 0)
        self.observer: Callable[[str, int, float], None] | None = None  # (table, rows, seconds): the metrics

    def insert(self, table: str, rows: Sequence[dict[str, Any]]) -> None:
        """Insert rows of one table; SinkError says whether trying again can help (``retryable``)."""
        try:
            cols = COLUMNS[table]
            data = [[r[c] for r in rows] for c in cols]
        except (KeyError, TypeError) as exc:
            msg = f"rows for llm.{table} do not fit the table: {type(exc).__name__}: {exc}"
            raise SinkError(msg, retryable=False) from None
        started = time.perf_counter()
        try:
            with self._lock:
                self.client.insert(f"llm.{table}", data, column_names=list(cols), column_oriented=True)
        except Exception as exc:
            if server_trouble(exc):  # the server or its connection, not the rows: try again later
                raise SinkError(f"insert into llm.{table} failed: {type(exc).__name__}: {str(exc)[:500]}") from exc
            msg = f"insert into llm.{table} refused: {type(exc).__name__}: {str(exc)[:500]}"
            raise SinkError(msg, retryable=False) from exc
        self.rows_written[table] += len(rows)
        if self.observer is not None:
            self.observer(table, len(rows), time.perf_counter() - started)

    def recent_request_ids(self, minutes: int = 10, limit: int = 500_000) -> list[str]:
        """Request ids of rows completed lately: a restarted sink skips their replayed rows."""
        sql = ("SELECT DISTINCT request_id FROM llm.requests "
               "WHERE completed_at >= now64(3) - toIntervalMinute({m:UInt32}) LIMIT {n:UInt32}")
        return [r[0] for r in self.query(sql, {"m": minutes, "n": limit})[1]]

    def query(self, sql: str, parameters: dict[str, Any] | None = None) -> tuple[list[str], list[list[Any]]]:
        with self._lock:
            result = self.client.query(sql, parameters=parameters or {})
        return list(result.column_names), [list(r) for r in result.result_rows]


_PARAM = re.compile(r"\{(\w+):\w+\}")


def named_queries(*dirs: Path) -> dict[str, str]:
    """The read-only queries by file stem (comments removed): dashboards and checks unless told."""
    paths = [p for d in (dirs or (QUERY_DIR, CHECK_DIR)) for p in sorted(d.glob("*.sql"))]
    return {p.stem: split_statements(p.read_text(encoding="utf-8"))[0] for p in paths}


DEFAULT_RANGE_DAYS = 30  # a query asked without {from}/{to} covers the last 30 days, never all history


def query_params(sql: str, given: dict[str, str], now: datetime | None = None) -> dict[str, str]:
    """The parameters a query declares ({name:Type}), from ``given``; a missing time range is the
    last ``DEFAULT_RANGE_DAYS`` days (to a day ahead, for clock skew); others default to '' (all)."""
    now = now or datetime.now(UTC)
    defaults = {"from": (now - timedelta(days=DEFAULT_RANGE_DAYS)).strftime("%Y-%m-%d %H:%M:%S"),
                "to": (now + timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S")}
    return {name: given.get(name) or defaults.get(name, "") for name in _PARAM.findall(sql)}


def describe_queries(*dirs: Path) -> dict[str, str]:
    """Each named query's one-line description (its first comment line)."""
    out = {}
    for p in [p for d in (dirs or (QUERY_DIR, CHECK_DIR)) for p in sorted(d.glob("*.sql"))]:
        first = p.read_text(encoding="utf-8").splitlines()[0]
        out[p.stem] = first.removeprefix("--").strip()
    return out
