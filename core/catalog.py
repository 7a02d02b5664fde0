"""The model catalog: providers, models, tiers, prices and fallback chains, from one TOML file.

Loading validates everything up front against the schema in ``core/catalog_schema.py`` and names
the file (or the environment override), the key and the problem, so a bad catalog stops the
worker before it joins the consumer group.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from core.catalog_schema import CatalogFile, problems
from core.errors import ConfigError
from core.openai_params import AUTO


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
    cached_input_per_mtok: float | None = None  # price of prompt tokens read from the provider's cache

    @property
    def wire_model(self) -> str:
        return self.provider_model or self.name

    def cost_usd(self, input_tokens: int, output_tokens: int, cached_input_tokens: int = 0) -> float:
        """``input_tokens`` includes the cached ones, which cost ``cached_input_per_mtok`` when the
        catalog gives it (else the input price)."""
        cached = min(max(cached_input_tokens, 0), input_tokens)
        cached_price = self.input_per_mtok if self.cached_input_per_mtok is None else self.cached_input_per_mtok
        return ((input_tokens - cached) * self.input_per_mtok + cached * cached_price
                + output_tokens * self.output_per_mtok) / 1e6


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
class Alias:
    """A name a request's ``model`` may say besides a catalog model's: ``model`` pins that model;
    otherwise routing starts at ``tier`` (escalation still climbs), never below ``min_tier``, with
    ``quality_target`` as the dial (the request's own quality fields win where it sets them)."""

    name: str
    model: str | None = None
    tier: int | None = None
    min_tier: int | None = None
    quality_target: float | None = None


def builtin_aliases(tiers: tuple[int, ...]) -> dict[str, Alias]:
    """``router/cheap`` starts at the lowest tier with a loose dial (verification still escalates a
    weak answer); ``router/best`` keeps to the top tier. A catalog's ``[aliases]`` may redefine them."""
    return {"router/cheap": Alias("router/cheap", tier=tiers[0], quality_target=0.8),
            "router/best": Alias("router/best", min_tier=tiers[-1])}


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
    aliases: dict[str, Alias] = field(default_factory=dict)  # besides AUTO and the models' own names

    def budget(self, tenant: str) -> Budget:
        return self.budgets.get(tenant) or self.budgets.get("default") or Budget()

    @property
    def top_tier(self) -> int:
        return self.tiers[-1]

    def model(self, name: str) -> ModelSpec:
        return self.models[name]


def load_catalog(path: str | Path, placeholders: Mapping[str, str] | None = None, overrides: str = "") -> Catalog:
    """Read and validate a catalog file. ``{name}`` in a base URL becomes ``placeholders[name]`` (the
    worker passes ``{sim}``: the provider simulator's address, from ROUTER_SIM_URL). ``overrides``:
    TOML (ROUTER_CATALOG_OVERRIDES) merged over the file before validation, for the values that
    differ per environment, e.g. ``providers.openai.base_url = "https://proxy/v1"`` or
    ``budgets.acme.daily_usd = 20``; its keys are checked like the file's."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        msg = f"{path}: catalog file not found"
        raise ConfigError(msg) from None
    except tomllib.TOMLDecodeError as exc:
        msg = f"{path}: not valid TOML: {exc}"
        raise ConfigError(msg) from None
    extra: dict[str, Any] = {}
    if overrides.strip():
        try:
            extra = tomllib.loads(overrides)
        except tomllib.TOMLDecodeError as exc:
            msg = f"{OVERRIDES_ENV}: not valid TOML: {exc}"
            raise ConfigError(msg) from None
    return parse_catalog(_merged(data, extra), str(path), placeholders, extra)


OVERRIDES_ENV = "ROUTER_CATALOG_OVERRIDES"


def _merged(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        out[key] = _merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def _overridden(path: tuple[str, ...], extra: dict[str, Any]) -> bool:
    node: Any = extra
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def _references(data: dict[str, Any], source_of: Callable[[tuple[str, ...]], str]) -> list[str]:
    """Each model's provider and fallbacks must exist (read from the raw tables, so these are
    reported together with the schema's problems)."""
    providers: dict[str, Any] = data["providers"] if isinstance(data.get("providers"), dict) else {}
    models: dict[str, Any] = data["models"] if isinstance(data.get("models"), dict) else {}
    found = []
    for name, m in models.items():
        if not isinstance(m, dict):
            continue
        if isinstance(m.get("provider"), str) and m["provider"] not in providers:
            found.append(f"{source_of(('models', name, 'provider'))}: models.{name}.provider: "
                         f"unknown provider {m['provider']!r}")
        fallbacks: list[Any] = m["fallbacks"] if isinstance(m.get("fallbacks"), list) else []
        found.extend(f"{source_of(('models', name, 'fallbacks'))}: models.{name}.fallbacks: unknown model {fb!r}"
                     for fb in fallbacks if isinstance(fb, str) and fb not in models)
    tiers = {m.get("tier") for m in models.values() if isinstance(m, dict)}
    aliases: dict[str, Any] = data["aliases"] if isinstance(data.get("aliases"), dict) else {}
    for name, a in aliases.items():
        where = f"{source_of(('aliases', name))}: aliases.{name}"
        if name == AUTO or name in models:
            what = "the router's own choice" if name == AUTO else "a model's name"
            found.append(f"{where}: {name!r} is {what} and cannot be an alias")
        if not isinstance(a, dict):
            continue
        if isinstance(a.get("model"), str) and a["model"] not in models:
            found.append(f"{where}.model: unknown model {a['model']!r}")
        routes = [k for k in ("tier", "min_tier", "quality_target") if a.get(k) is not None]
        if a.get("model") is not None and routes:
            found.append(f"{where}: either model (pin it) or {'/'.join(routes)} (route), not both")
        found.extend(f"{where}.{k}: no model has tier {a[k]}" for k in ("tier", "min_tier")
                     if isinstance(a.get(k), int) and a[k] not in tiers)
    return found


def parse_catalog(data: dict[str, Any], source: str = "<catalog>", placeholders: Mapping[str, str] | None = None,
                  overrides: dict[str, Any] | None = None) -> Catalog:
    """Validate with the schema (core/catalog_schema.py), then the cross-references; every problem
    is named with where its value came from (the file, or ROUTER_CATALOG_OVERRIDES)."""
    extra = overrides or {}

    def source_of(path: tuple[str, ...]) -> str:
        return OVERRIDES_ENV if extra and _overridden(path, extra) else source

    found = _references(data, source_of)
    try:
        spec = CatalogFile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError("invalid catalog:\n  " + "\n  ".join([*problems(exc, source_of), *found])) from None
    providers = {name: ProviderSpec(name=name, wire=p.wire, api_key_env=p.api_key_env, timeout_s=p.timeout_s,
                                    max_connections=p.max_connections,
                                    base_url=_fill(p.base_url, placeholders or {},
                                                   f"{source_of(('providers', name, 'base_url'))}: providers.{name}"
                                                   ".base_url", found).rstrip("/"))
                 for name, p in spec.providers.items()}
    models = {name: ModelSpec(name=name, provider=m.provider, tier=m.tier, input_per_mtok=m.input_per_mtok,
                              output_per_mtok=m.output_per_mtok, context_window=m.context_window,
                              provider_model=m.provider_model, region=m.region, privacy=m.privacy,
                              capabilities=tuple(m.capabilities), fallbacks=tuple(m.fallbacks), rpm=m.rpm, tpm=m.tpm,
                              max_concurrency=m.max_concurrency, typical_latency_ms=m.typical_latency_ms,
                              cached_input_per_mtok=m.cached_input_per_mtok)
              for name, m in spec.models.items()}
    if found:
        raise ConfigError("invalid catalog:\n  " + "\n  ".join(found))
    r = spec.routing
    quality = QualityRouting(r.quality_target, r.explore_share, r.min_evidence, dict(spec.quality_targets),
                             r.thompson)
    tiers = tuple(sorted({m.tier for m in models.values()}))
    aliases = builtin_aliases(tiers) | {name: Alias(name, a.model, a.tier, a.min_tier, a.quality_target)
                                        for name, a in spec.aliases.items()}
    return Catalog(providers=providers, models=models, tiers=tiers, aliases=aliases,
                   budgets={t: Budget(b.daily_usd, b.monthly_usd, b.downgrade_at) for t, b in spec.budgets.items()},
                   realtime_latency_ms=int(r.realtime_latency_ms), quality=quality,
                   reply_topics={t: tuple(p) for t, p in spec.reply_topics.items()})


def _fill(text: str, placeholders: Mapping[str, str], where: str, problems: list[str]) -> str:
    """``{name}`` replaced from ``placeholders``; a name it does not hold is a problem, not a literal."""
    def one(m: re.Match[str]) -> str:
        if m.group(1) in placeholders:
            return placeholders[m.group(1)]
        problems.append(f"{where}: no value for {{{m.group(1)}}} (known: {', '.join(sorted(placeholders)) or 'none'})")
        return m.group(0)

    return re.sub(r"\{(\w+)\}", one, text)

