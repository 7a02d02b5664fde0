"""The catalog file's schema (pydantic v2): types, ranges and the keys each table may have.

``CatalogFile`` is the single definition: ``core.catalog.parse_catalog`` validates with it (unknown
keys refused, no type coercion: ``capabilities = "code"`` is an error, not four letters), and
``json_schema()`` exports it for editors (``config/catalog.schema.json``, kept identical by a test;
``llm-router catalog schema`` prints it). Cross-references (a model's provider, fallbacks, base URL
placeholders) are checked after this, in ``core.catalog``. ``problems`` turns pydantic's errors
into lines that name the source, the key and the problem.
"""

from __future__ import annotations

import difflib
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

NonNegative = Annotated[float, Field(ge=0)]
Share = Annotated[float, Field(ge=0, le=1)]
Count = Annotated[int, Field(ge=0)]
Name = Annotated[str, Field(min_length=1)]


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class ProviderIn(_Table):
    wire: Literal["openai", "anthropic", "gemini"]
    base_url: Name = Field(description="the API's base URL; {sim} stands for ROUTER_SIM_URL")
    api_key_env: str = Field("", description="environment variable holding the key (or <name>_FILE)")
    timeout_s: NonNegative = 30.0
    max_connections: Count = 2000


class ModelIn(_Table):
    provider: Name
    tier: Annotated[int, Field(ge=1, le=9)]
    input_per_mtok: NonNegative = Field(description="USD per million input tokens")
    output_per_mtok: NonNegative = Field(description="USD per million output tokens")
    context_window: Count
    provider_model: str = ""
    region: str = "us"
    privacy: Literal["self_hosted", "zero_retention", "standard"] = "standard"
    capabilities: list[Name] = []
    fallbacks: list[Name] = []
    rpm: Count = 0
    tpm: Count = 0
    max_concurrency: Count = 0
    typical_latency_ms: Count = 1000
    cached_input_per_mtok: NonNegative | None = Field(None, description="USD per million cached input tokens")


class BudgetIn(_Table):
    daily_usd: NonNegative = 0.0
    monthly_usd: NonNegative = 0.0
    downgrade_at: Share = 0.8


class RoutingIn(_Table):
    realtime_latency_ms: NonNegative = 8000
    quality_target: Share = 0.95
    explore_share: Share = 0.05
    min_evidence: NonNegative = 3.0
    thompson: bool = True


class AliasIn(_Table):
    """A name ``model`` may say besides a catalog model's: a model to pin, or a way to route."""

    model: Name | None = Field(None, description="pin this catalog model (no fallbacks, no escalation)")
    tier: Annotated[int, Field(ge=1, le=9)] | None = Field(
        None, description="routing starts at this tier instead of the classifier's (escalation still climbs)")
    min_tier: Annotated[int, Field(ge=1, le=9)] | None = Field(
        None, description="never a model below this tier (as the request field quality_floor)")
    quality_target: Share | None = Field(None, description="the quality dial for requests that name this alias")


class CatalogFile(_Table):
    """A model catalog (config/catalog.toml)."""

    providers: Annotated[dict[str, ProviderIn], Field(min_length=1)]
    models: Annotated[dict[str, ModelIn], Field(min_length=1)]
    budgets: dict[str, BudgetIn] = {}
    routing: RoutingIn = RoutingIn()
    reply_topics: dict[str, list[Name]] = {"default": ["{tenant}.*"]}
    quality_targets: dict[str, Share] = {}
    aliases: dict[str, AliasIn] = {}


def json_schema() -> dict[str, Any]:
    schema = CatalogFile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "llm-router model catalog"
    return schema


# --- error lines -----------------------------------------------------------------------------

_TABLES: dict[tuple[str, ...], type[_Table]] = {(): CatalogFile, ("routing",): RoutingIn}
_NAMED: dict[str, type[_Table]] = {"providers": ProviderIn, "models": ModelIn, "budgets": BudgetIn,
                                   "aliases": AliasIn}
_REQUIRED_TABLE = {"providers": "[providers]: at least one provider table is required",
                   "models": "[models]: at least one model table is required"}
_ARRAYS = {"capabilities", "fallbacks"}
_NUMBERS = {"timeout_s", "max_connections", "input_per_mtok", "output_per_mtok", "context_window", "rpm", "tpm",
            "max_concurrency", "typical_latency_ms", "daily_usd", "monthly_usd", "realtime_latency_ms",
            "min_evidence"}
_SHARES = {"downgrade_at", "quality_target", "explore_share"}
_QUOTED = re.compile(r"'([^']*)'")  # the choices in pydantic's literal_error context


def _table_of(path: tuple[str, ...]) -> type[_Table] | None:
    if path in _TABLES:
        return _TABLES[path]
    if len(path) == 2 and path[0] in _NAMED:
        return _NAMED[path[0]]
    return None


def _unknown_key(path: tuple[str, ...]) -> str:
    table = _table_of(path[:-1])
    known = sorted(table.model_fields) if table is not None else []
    close = difflib.get_close_matches(path[-1], known, n=1)
    if close:
        return f"unknown key (did you mean {close[0]!r}?)"
    return f"unknown key (known: {', '.join(known)})" if known else "unknown key"


def _message(err: Any) -> str:
    path = tuple(str(p) for p in err["loc"])
    kind, got = err["type"], err.get("input")
    field = next((p for p in reversed(path) if not p.isdigit()), "")
    if kind == "extra_forbidden":
        return _unknown_key(path)
    if path in (("providers",), ("models",)) and kind in ("missing", "too_short", "dict_type"):
        return _REQUIRED_TABLE[path[0]]
    if kind == "missing":
        return "required number" if field in _NUMBERS else "required string" if field != "tier" else \
            "expected an integer from 1 to 9, got nothing"
    if field in _ARRAYS:
        return f"expected an array of strings, got {got!r}"
    if field == "tier":
        return f"expected an integer from 1 to 9, got {got!r}"
    if field in _SHARES or path[:1] == ("quality_targets",):
        return f"expected a share from 0 to 1, got {got!r}"
    if field in _NUMBERS:
        return f"expected a non-negative number, got {got!r}"
    if kind == "literal_error":
        return f"expected one of {sorted(_QUOTED.findall(err['ctx']['expected']))}, got {got!r}"
    if kind in ("dict_type", "model_type"):
        return "expected a table"
    return f"{err['msg'].lower()}, got {got!r}"


def problems(exc: ValidationError, source_of: Any) -> list[str]:
    """One line per error: ``<source>: <dotted key>: <problem>``. ``source_of(path)`` names where the
    value came from (the file, or the environment's overrides)."""
    out = []
    for err in exc.errors():
        path = tuple(str(p) for p in err["loc"])
        key = ".".join(path) if path else "(top level)"
        if path in (("providers",), ("models",)) and err["type"] in ("missing", "too_short", "dict_type"):
            out.append(f"{source_of(path)}: {_message(err)}")
            continue
        out.append(f"{source_of(path)}: {key}: {_message(err)}")
    return out
