"""Settings: built once from the environment at start-up, frozen, passed down explicitly.

This is the only module that reads environment variables. Secrets (provider keys) are not
settings: adapters read them by the name the catalog gives, and never log them.
"""

from __future__ import annotations

import difflib
import importlib.resources
import os
import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from core.errors import ConfigError
from core.payload import MAX_REQUEST_BYTES

REPO_ROOT = Path(__file__).resolve().parent.parent


def packaged(package: str, checkout_dir: str) -> Path:
    """A folder of run-time files shipped in the wheel as package data: ``sql/`` is the package
    ``llm_router_sql``, ``config/`` is ``llm_router_config`` (pyproject's package-dir). Found through
    importlib.resources in an installed wheel and in an editable checkout alike; a checkout run
    without installing falls back to the folder itself."""
    try:
        return Path(str(importlib.resources.files(package)))
    except ModuleNotFoundError:
        return REPO_ROOT / checkout_dir


def default_data_dir() -> Path:
    """``var/`` in a checkout; outside one (an installed wheel) the user's data folder."""
    if (REPO_ROOT / "pyproject.toml").is_file():
        return REPO_ROOT / "var"
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "llm-router"


@dataclass(frozen=True, slots=True)
class Settings:
    kafka_bootstrap: str = ""  # empty: the local broker started by devenv
    kafka_security_protocol: str = "PLAINTEXT"  # or SASL_PLAINTEXT, SSL, SASL_SSL
    kafka_sasl_mechanism: str = "PLAIN"  # PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512
    kafka_username: str = ""  # the pipeline's own principal: the only one ACLs let write internal topics
    kafka_password: str = field(default="", repr=False)  # secret: never printed
    kafka_ssl_cafile: str = ""  # TLS: the CA bundle that signed the brokers' certificates (empty: the system's)
    kafka_ssl_certfile: str = ""  # TLS client certificate (mutual TLS), with kafka_ssl_keyfile
    kafka_ssl_keyfile: str = ""
    kafka_replication_factor: int = 1  # for the topics the router creates; 3 on a production cluster
    tenant_topics: tuple[str, ...] = ()  # tenants with their own request topic (llm.requests.v1.<tenant>)
    shared_requests: bool = True  # False: the shared requests topic is refused (tenant isolation)
    gateway_keys: Path | None = None  # the HTTP gateway's API keys file ([keys.<sha256>] tenant, rpm, tpm)
    gateway_timeout_s: float = 120.0  # how long the gateway waits for an answer
    clickhouse_url: str = ""  # empty: embedded chDB under data_dir
    clickhouse_password: str = field(default="", repr=False)  # secret: never printed
    data_dir: Path = field(default_factory=default_data_dir)
    catalog_path: Path = field(default_factory=lambda: packaged("llm_router_config", "config") / "catalog.toml")
    model_dir: Path = field(default_factory=lambda: packaged("models", "models") / "artifacts")
    catalog_overrides: str = ""  # TOML merged over the catalog file (ROUTER_CATALOG_OVERRIDES), per environment
    sql_dir: Path = field(default_factory=lambda: packaged("llm_router_sql", "sql"))  # migrations and named queries
    sim_url: str = "http://127.0.0.1:8700"
    topic_prefix: str = ""
    app_id: str = "llm-router"
    partitions: int = 6
    max_escalations: int = 2
    max_attempts_per_model: int = 2
    max_in_flight: int = 2000
    session_timeout_s: float = 8.0  # a dead worker's partitions move after this (issue 12: was 30 s)
    stall_after_s: float = 60.0  # /health/live turns false when a partition has lag and no progress this long
    max_request_bytes: int = MAX_REQUEST_BYTES
    sink_batch: int = 500  # outcome messages per insert batch; each carries a stage batch's rows
    sink_within_s: float = 0.5
    web_port: int = 6066
    web_bind: str = "127.0.0.1"  # health, metrics and queries; 0.0.0.0 in a container so probes reach it
    drift_window_s: int = 60
    store_prompts: bool = False  # keep redacted prompt text (30-day TTL) for retraining
    quality_memory: bool = True  # embed prompts and route on the quality memory (issue 13)
    verify_thresholds: tuple[float, ...] = (0.3, 0.25, 0.0)  # learned-score floor per tier (1, 2, 3)
    log_level: str = "warning"
    log_format: str = "text"  # or "json": one JSON object per line, with request_id, tenant and stage

    def catalog_placeholders(self) -> dict[str, str]:
        """What ``{name}`` in the catalog's base URLs stands for: ``{sim}``, the provider simulator."""
        return {"sim": self.sim_url}

    def kafka_client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for aiokafka clients (producer, consumer, admin) to authenticate."""
        if self.kafka_security_protocol == "PLAINTEXT":
            return {}
        kwargs: dict[str, Any] = {"security_protocol": self.kafka_security_protocol}
        if self.kafka_security_protocol.startswith("SASL_"):
            kwargs |= {"sasl_mechanism": self.kafka_sasl_mechanism, "sasl_plain_username": self.kafka_username,
                       "sasl_plain_password": self.kafka_password}
        if self.kafka_security_protocol.endswith("SSL"):
            kwargs["ssl_context"] = self.kafka_ssl_context()
        return kwargs

    def kafka_ssl_context(self) -> ssl.SSLContext:
        """The TLS context for the brokers: verifies their certificates (the CA file, else the
        system's), and presents a client certificate when one is configured."""
        try:
            context = ssl.create_default_context(cafile=self.kafka_ssl_cafile or None)
            if self.kafka_ssl_certfile:
                context.load_cert_chain(self.kafka_ssl_certfile, self.kafka_ssl_keyfile or None)
        except (OSError, ssl.SSLError) as exc:
            msg = f"KAFKA_SSL_CAFILE/CERTFILE/KEYFILE: cannot build the TLS context: {type(exc).__name__}: {exc}"
            raise ConfigError(msg) from None
        return context

    @property
    def gateway_reply_topic(self) -> str:
        """Where the gateway's answers come back (the catalog's default reply-topic patterns allow it)."""
        return f"{self.topic_prefix}llm-gateway.replies"

    @property
    def chdb_path(self) -> Path:
        return self.data_dir / "chdb"

    @property
    def effective_clickhouse_url(self) -> str:
        return self.clickhouse_url or f"chdb://{self.chdb_path.resolve()}"

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        base = cls()

        read = {"ROUTER_VERIFY_THRESHOLDS"}  # every ROUTER_* variable this reads (the rest are refused)

        def get(name: str, default: str) -> str:
            read.add(name)
            return env.get(name, default)

        def get_int(name: str, default: int) -> int:
            read.add(name)
            raw = env.get(name)
            if raw is None:
                return default
            try:
                return int(raw)
            except ValueError:
                msg = f"environment variable {name}: expected an integer, got {raw!r}"
                raise ConfigError(msg) from None

        protocol = get("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT").upper()
        if protocol not in ("PLAINTEXT", "SASL_PLAINTEXT", "SSL", "SASL_SSL"):
            msg = f"KAFKA_SECURITY_PROTOCOL: expected PLAINTEXT, SASL_PLAINTEXT, SSL or SASL_SSL, got {protocol!r}"
            raise ConfigError(msg)
        mechanism = get("KAFKA_SASL_MECHANISM", "PLAIN").upper()
        if mechanism not in ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"):
            msg = f"KAFKA_SASL_MECHANISM: expected PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512, got {mechanism!r}"
            raise ConfigError(msg)
        log_format = get("ROUTER_LOG_FORMAT", base.log_format).lower()
        if log_format not in ("text", "json"):
            msg = f"ROUTER_LOG_FORMAT: expected text or json, got {log_format!r}"
            raise ConfigError(msg)
        username, password = get("KAFKA_SASL_USERNAME", ""), provider_key("KAFKA_SASL_PASSWORD", env)
        if protocol.startswith("SASL_") and not (username and password):
            msg = f"KAFKA_SECURITY_PROTOCOL={protocol} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD(_FILE)"
            raise ConfigError(msg)
        settings = cls(
            kafka_bootstrap=get("KAFKA_BOOTSTRAP_SERVERS", ""),
            kafka_security_protocol=protocol,
            kafka_sasl_mechanism=mechanism,
            kafka_username=username,
            kafka_password=password,
            kafka_ssl_cafile=get("KAFKA_SSL_CAFILE", ""),
            kafka_ssl_certfile=get("KAFKA_SSL_CERTFILE", ""),
            kafka_ssl_keyfile=get("KAFKA_SSL_KEYFILE", ""),
            kafka_replication_factor=get_int("ROUTER_REPLICATION_FACTOR", base.kafka_replication_factor),
            tenant_topics=_tenants(get("ROUTER_TENANT_TOPICS", "")),
            shared_requests=get("ROUTER_SHARED_REQUESTS", "1").lower() in ("1", "true", "yes", "on"),
            gateway_keys=Path(keys) if (keys := get("ROUTER_GATEWAY_KEYS", "")) else None,
            gateway_timeout_s=float(get_int("ROUTER_GATEWAY_TIMEOUT_S", int(base.gateway_timeout_s))),
            clickhouse_url=get("CLICKHOUSE_URL", ""),
            clickhouse_password=provider_key("CLICKHOUSE_PASSWORD", env),
            data_dir=Path(get("ROUTER_DATA_DIR", str(base.data_dir))),
            catalog_path=Path(get("ROUTER_CATALOG", str(base.catalog_path))),
            model_dir=Path(get("ROUTER_MODEL_DIR", str(base.model_dir))),
            sql_dir=Path(get("ROUTER_SQL_DIR", str(base.sql_dir))),
            catalog_overrides=get("ROUTER_CATALOG_OVERRIDES", ""),
            sim_url=get("ROUTER_SIM_URL", base.sim_url),
            topic_prefix=get("ROUTER_TOPIC_PREFIX", ""),
            app_id=get("ROUTER_APP_ID", base.app_id),
            partitions=get_int("ROUTER_PARTITIONS", base.partitions),
            max_escalations=get_int("ROUTER_MAX_ESCALATIONS", base.max_escalations),
            web_port=get_int("ROUTER_WEB_PORT", base.web_port),
            web_bind=get("ROUTER_WEB_BIND", base.web_bind),
            max_in_flight=get_int("ROUTER_MAX_IN_FLIGHT", base.max_in_flight),
            max_request_bytes=get_int("ROUTER_MAX_REQUEST_BYTES", base.max_request_bytes),
            session_timeout_s=float(get_int("ROUTER_SESSION_TIMEOUT_S", int(base.session_timeout_s))),
            stall_after_s=float(get_int("ROUTER_STALL_AFTER_S", int(base.stall_after_s))),
            drift_window_s=get_int("ROUTER_DRIFT_WINDOW_S", base.drift_window_s),
            store_prompts=get("ROUTER_STORE_PROMPTS", "0").lower() in ("1", "true", "yes", "on"),
            quality_memory=get("ROUTER_QUALITY_MEMORY", "1").lower() in ("1", "true", "yes", "on"),
            verify_thresholds=_floats("ROUTER_VERIFY_THRESHOLDS", env, base.verify_thresholds),
            log_level=get("ROUTER_LOG_LEVEL", base.log_level),
            log_format=log_format,
        )
        unknown = sorted(k for k in env if k.startswith("ROUTER_") and k not in read)
        if unknown:  # a misspelt setting must not silently mean its default
            hints = [f"{k}{_did_you_mean(k, read)}" for k in unknown]
            msg = f"unknown settings in the environment: {'; '.join(hints)}"
            raise ConfigError(msg)
        return settings


def _tenants(raw: str) -> tuple[str, ...]:
    names = tuple(t.strip() for t in raw.split(",") if t.strip())
    bad = [t for t in names if not _TENANT.fullmatch(t)]
    if bad:
        msg = f"ROUTER_TENANT_TOPICS: tenant names are letters, digits, '.', '_' and '-' only, got {bad}"
        raise ConfigError(msg)
    return names


_TENANT = re.compile(r"[A-Za-z0-9._-]{1,100}")


def _did_you_mean(name: str, known: set[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def _floats(name: str, env: Mapping[str, str], default: tuple[float, ...]) -> tuple[float, ...]:
    raw = env.get(name)
    if raw is None:
        return default
    try:
        values = tuple(float(v) for v in raw.split(","))
    except ValueError:
        msg = f"environment variable {name}: expected comma-separated numbers (one per tier), got {raw!r}"
        raise ConfigError(msg) from None
    if any(not 0 <= v <= 1 for v in values):
        msg = f"environment variable {name}: thresholds must be between 0 and 1, got {raw!r}"
        raise ConfigError(msg)
    return values


def provider_key(env_name: str, env: Mapping[str, str] | None = None) -> str:
    """The secret for a provider: $NAME, or the contents of the file named by $NAME_FILE."""
    env = os.environ if env is None else env
    if not env_name:
        return ""
    if env.get(env_name):
        return env[env_name]
    file_name = env.get(f"{env_name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text(encoding="utf-8").strip()
        except OSError as exc:
            msg = f"{env_name}_FILE: cannot read secret file ({exc.strerror})"
            raise ConfigError(msg) from None
    return ""
