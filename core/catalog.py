"""The model catalog: providers, models, tiers, prices and fallback chains, from one TOML file.

Loading validates everything up front and names the file, the key and the problem, so a bad
catalog stops the worker before it joins the consumer group.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import ConfigError

WIRE_FORMATS = frozenset({"openai", "anthropic", "gemini"})
PRIVACY_CLASSES = frozenset({"self_hosted", "zero_retention", "standard"})


@dataclass(frozen=True, slots=True)
class ProviderSpec:
    name: str
    wire: str
    base_url: str
    api_key_env: str = ""
    timeout_s: float = 30.0
    max_connections: int = 2000  # matches the invoke agent's max_in_flight


@dataclass(frozen=True, slots=True)
class ModelSpec:
    name: str
    provider: str
    tier: int
    input_per_mtok: float
    output_per_mtok: float
    context_window: int
    provider_model: str = ""  # the id the provider knows it by; defaults to name
    region: str = "us"
    privacy: str = "standard"
    capabilities: tuple[str, ...] = ()
    fallbacks: tuple[str, ...] = ()
    rpm: int = 0  # requests per minute the provider allows us (0: unlimited)
    tpm: int = 0  # tokens per minute
    max_concurrency: int = 0  # calls in flight at once (0: unlimited)
    typical_latency_ms: int = 1000  # time to a full answer, for latency-class routing

    @property
    def wire_model(self) -> str:
        return self.provider_model or self.name

    def cost_usd(self, input_tokens: int, output_tokens: int) -> float:
        return (input_tokens * self.input_per_mtok + output_tokens * self.output_per_mtok) / 1e6


@dataclass(frozen=True, slots=True)
class Budget:
    daily_usd: float = 0.0  # 0: no limit
    monthly_usd: float = 0.0
    downgrade_at: float = 0.8  # share of a limit past which routing drops one tier


@dataclass(frozen=True, slots=True)
class QualityRouting:
    """How the quality memory steers routing (catalog ``[routing]`` and ``[quality_targets]``)."""

    target: float = 0.95  # pick the cheapest model whose estimate is within 1 - target of the best one's
    explore_share: float = 0.05  # of decisions, chosen at random among eligible models to keep learning
    min_evidence: float = 3.0  # weighted neighbours needed before the memory overrides the tier rule
    tenant_targets: dict[str, float] = field(default_factory=dict)
    thompson: bool = True  # judge on a draw from each estimate (uncertainty-aware) rather than its mean

    def target_for(self, tenant: str, requested: float | None) -> float:
        if requested is not None:
            return requested
        return self.tenant_targets.get(tenant, self.target)


@dataclass(frozen=True, slots=True)
class Catalog:
    providers: dict[str, ProviderSpec]
    models: dict[str, ModelSpec]
    tiers: tuple[int, ...] = field(default=())
    budgets: dict[str, Budget] = field(default_factory=dict)  # by tenant; "default" for the rest
    realtime_latency_ms: int = 8000  # realtime requests skip models typically slower than this
    quality: QualityRouting = field(default_factory=lambda: QualityRouting())
    # reply-topic patterns by tenant ("default" for the rest); {tenant} stands for the tenant's name
    reply_topics: dict[str, tuple[str, ...]] = field(default_factory=lambda: {"default": ("{tenant}.*",)})

    def budget(self, tenant: str) -> Budget:
        return self.budgets.get(tenant) or self.budgets.get("default") or Budget()

    @property
    def top_tier(self) -> int:
        return self.tiers[-1]

    def model(self, name: str) -> ModelSpec:
        return self.models[name]


def load_catalog(path: str | Path, placeholders: Mapping[str, str] | None = None) -> Catalog:
    """Read and validate a catalog file. ``{name}`` in a base URL becomes ``placeholders[name]`` (the
    worker passes ``{sim}``: the provider simulator's address, from ROUTER_SIM_URL)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        msg = f"{path}: catalog file not found"
        raise ConfigError(msg) from None
    except tomllib.TOMLDecodeError as exc:
        msg = f"{path}: not valid TOML: {exc}"
        raise ConfigError(msg) from None
    return parse_catalog(data, str(path), placeholders)


_TOP_KEYS = {"providers", "models", "budgets", "routing", "reply_topics", "quality_targets"}
_ROUTING_KEYS = {"realtime_latency_ms", "quality_target", "explore_share", "min_evidence", "thompson"}
_PROVIDER_KEYS = {"wire", "base_url", "api_key_env", "timeout_s", "max_connections"}
_MODEL_KEYS = {"provider", "tier", "input_per_mtok", "output_per_mtok", "context_window", "provider_model", "region",
               "privacy", "capabilities", "fallbacks", "rpm", "tpm", "max_concurrency", "typical_latency_ms"}
_BUDGET_KEYS = {"daily_usd", "monthly_usd", "downgrade_at"}


def _unknown(d: dict[str, Any], known: set[str], where: str, problems: list[str]) -> None:
    """A misspelt key must not silently mean "not set" (``monthy_usd`` would lift a budget)."""
    for key in sorted(set(d) - known):
        close = difflib.get_close_matches(key, sorted(known), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(sorted(known))})"
        problems.append(f"{where}{key if where.endswith(': ') else '.' + key}: unknown key{hint}")


def _strings(m: dict[str, Any], key: str, where: str, problems: list[str]) -> tuple[str, ...]:
    v = m.get(key, [])
    if not isinstance(v, list) or not all(isinstance(x, str) and x for x in v):
        problems.append(f"{where}.{key}: expected an array of strings, got {v!r}")
        return ()
    return tuple(v)


def parse_catalog(data: dict[str, Any], source: str = "<catalog>", placeholders: Mapping[str, str] | None = None
                  ) -> Catalog:
    problems: list[str] = []
    _unknown(data, _TOP_KEYS, f"{source}: ", problems)
    if isinstance(data.get("routing"), dict):
        _unknown(data["routing"], _ROUTING_KEYS, f"{source}: routing", problems)
    providers = _providers(data.get("providers"), source, placeholders or {}, problems)
    models = _models(data.get("models"), source, providers, problems)
    for m in models.values():
        for fb in m.fallbacks:
            if fb not in models:
                problems.append(f"{source}: models.{m.name}.fallbacks: unknown model {fb!r}")
    budgets = _budgets(data.get("budgets", {}), source, problems)
    routing = data.get("routing", {})
    realtime = _number(routing, "realtime_latency_ms", 8000, f"{source}: routing", problems)
    reply_topics = _reply_topics(data.get("reply_topics", {"default": ["{tenant}.*"]}), source, problems)
    quality = _quality(routing, data.get("quality_targets", {}), source, problems)
    if problems:
        raise ConfigError("invalid catalog:\n  " + "\n  ".join(problems))
    tiers = tuple(sorted({m.tier for m in models.values()}))
    return Catalog(providers=providers, models=models, tiers=tiers, budgets=budgets,
                   realtime_latency_ms=int(realtime), reply_topics=reply_topics, quality=quality)


def _quality(routing: dict[str, Any], targets: Any, source: str, problems: list[str]) -> QualityRouting:
    where = f"{source}: routing"
    thompson = routing.get("thompson", True)
    if not isinstance(thompson, bool):
        problems.append(f"{where}.thompson: expected true or false, got {thompson!r}")
    q = QualityRouting(_number(routing, "quality_target", 0.95, where, problems),
                       _number(routing, "explore_share", 0.05, where, problems),
                       _number(routing, "min_evidence", 3.0, where, problems), thompson=thompson is not False)
    for key, value in (("quality_target", q.target), ("explore_share", q.explore_share)):
        if not 0 <= value <= 1:
            problems.append(f"{where}.{key}: expected a share from 0 to 1, got {value}")
    if not isinstance(targets, dict) or not all(isinstance(v, (int, float)) and 0 <= v <= 1 for v in targets.values()):
        problems.append(f"{source}: [quality_targets]: expected tenant = share from 0 to 1")
        return q
    return QualityRouting(q.target, q.explore_share, q.min_evidence, {t: float(v) for t, v in targets.items()},
                          q.thompson)


def _reply_topics(raw: Any, source: str, problems: list[str]) -> dict[str, tuple[str, ...]]:
    if not isinstance(raw, dict):
        problems.append(f"{source}: [reply_topics]: expected tenant = [patterns] entries")
        return {}
    out = {}
    for tenant, patterns in raw.items():
        if not (isinstance(patterns, list) and all(isinstance(p, str) and p for p in patterns)):
            problems.append(f"{source}: reply_topics.{tenant}: expected an array of topic patterns")
            continue
        out[tenant] = tuple(patterns)
    return out


def _budgets(raw: Any, source: str, problems: list[str]) -> dict[str, Budget]:
    if not isinstance(raw, dict):
        problems.append(f"{source}: [budgets]: expected tables of tenant budgets")
        return {}
    out = {}
    for tenant, b in raw.items():
        where = f"{source}: budgets.{tenant}"
        if not isinstance(b, dict):
            problems.append(f"{where}: expected a table")
            continue
        _unknown(b, _BUDGET_KEYS, where, problems)
        downgrade = _number(b, "downgrade_at", 0.8, where, problems)
        if downgrade > 1:
            problems.append(f"{where}.downgrade_at: expected a share from 0 to 1, got {downgrade}")
        out[tenant] = Budget(_number(b, "daily_usd", 0, where, problems), _number(b, "monthly_usd", 0, where, problems),
                             downgrade)
    return out


def _providers(raw: Any, source: str, placeholders: Mapping[str, str], problems: list[str]
               ) -> dict[str, ProviderSpec]:
    if not isinstance(raw, dict) or not raw:
        problems.append(f"{source}: [providers]: at least one provider table is required")
        return {}
    out: dict[str, ProviderSpec] = {}
    for name, p in raw.items():
        where = f"{source}: providers.{name}"
        if not isinstance(p, dict):
            problems.append(f"{where}: expected a table")
            continue
        _unknown(p, _PROVIDER_KEYS, where, problems)
        wire = p.get("wire")
        if wire not in WIRE_FORMATS:
            problems.append(f"{where}.wire: expected one of {sorted(WIRE_FORMATS)}, got {wire!r}")
        base_url = p.get("base_url")
        if not isinstance(base_url, str) or not base_url:
            problems.append(f"{where}.base_url: required string")
            base_url = ""
        out[name] = ProviderSpec(
            name=name,
            wire=str(wire),
            base_url=_fill(base_url, placeholders, f"{where}.base_url", problems).rstrip("/"),
            api_key_env=str(p.get("api_key_env", "")),
            timeout_s=_number(p, "timeout_s", 30.0, where, problems),
            max_connections=int(_number(p, "max_connections", 2000, where, problems)),
        )
    return out


def _models(raw: Any, source: str, providers: dict[str, ProviderSpec], problems: list[str]) -> dict[str, ModelSpec]:
    if not isinstance(raw, dict) or not raw:
        problems.append(f"{source}: [models]: at least one model table is required")
        return {}
    out: dict[str, ModelSpec] = {}
    for name, m in raw.items():
        where = f"{source}: models.{name}"
        if not isinstance(m, dict):
            problems.append(f"{where}: expected a table")
            continue
        _unknown(m, _MODEL_KEYS, where, problems)
        provider = m.get("provider")
        if provider not in providers:
            problems.append(f"{where}.provider: unknown provider {provider!r}")
        tier = m.get("tier")
        if not isinstance(tier, int) or isinstance(tier, bool) or not 1 <= tier <= 9:
            problems.append(f"{where}.tier: expected an integer from 1 to 9, got {tier!r}")
            tier = 1
        privacy = m.get("privacy", "standard")
        if privacy not in PRIVACY_CLASSES:
            problems.append(f"{where}.privacy: expected one of {sorted(PRIVACY_CLASSES)}, got {privacy!r}")
        out[name] = ModelSpec(
            name=name,
            provider=str(provider),
            tier=tier,
            input_per_mtok=_number(m, "input_per_mtok", None, where, problems),
            output_per_mtok=_number(m, "output_per_mtok", None, where, problems),
            context_window=int(_number(m, "context_window", None, where, problems)),
            provider_model=str(m.get("provider_model", "")),
            region=str(m.get("region", "us")),
            privacy=str(privacy),
            capabilities=_strings(m, "capabilities", where, problems),
            fallbacks=_strings(m, "fallbacks", where, problems),
            rpm=int(_number(m, "rpm", 0, where, problems)),
            tpm=int(_number(m, "tpm", 0, where, problems)),
            max_concurrency=int(_number(m, "max_concurrency", 0, where, problems)),
            typical_latency_ms=int(_number(m, "typical_latency_ms", 1000, where, problems)),
        )
    return out


def _fill(text: str, placeholders: Mapping[str, str], where: str, problems: list[str]) -> str:
    """``{name}`` replaced from ``placeholders``; a name it does not hold is a problem, not a literal."""
    def one(m: re.Match[str]) -> str:
        if m.group(1) in placeholders:
            return placeholders[m.group(1)]
        problems.append(f"{where}: no value for {{{m.group(1)}}} (known: {', '.join(sorted(placeholders)) or 'none'})")
        return m.group(0)

    return re.sub(r"\{(\w+)\}", one, text)


def _number(d: dict[str, Any], key: str, default: float | None, where: str, problems: list[str]) -> float:
    if key not in d:
        if default is None:
            problems.append(f"{where}.{key}: required number")
            return 0.0
        return float(default)
    v = d[key]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
        problems.append(f"{where}.{key}: expected a non-negative number, got {v!r}")
        return 0.0
    return float(v)
