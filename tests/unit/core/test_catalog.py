from __future__ import annotations

from pathlib import Path

import pytest

from core.catalog import Catalog, load_catalog, parse_catalog
from core.errors import ConfigError


def test_default_catalog_has_three_tiers_and_prices(catalog: Catalog) -> None:
    assert catalog.tiers == (1, 2, 3)
    assert all(m.input_per_mtok > 0 and m.output_per_mtok > 0 for m in catalog.models.values())
    assert catalog.providers["openai"].base_url == "http://sim.test/openai/v1"


def test_cost_uses_prices_per_million(catalog: Catalog) -> None:
    gpt4o = catalog.model("gpt-4o")
    assert gpt4o.cost_usd(1_000_000, 1_000_000) == pytest.approx(12.5)


def test_errors_name_file_key_and_problem() -> None:
    data = {
        "providers": {"p": {"wire": "grpc", "base_url": "http://x"}},
        "models": {"m": {"provider": "nope", "tier": 12, "input_per_mtok": -1, "output_per_mtok": 1,
                         "fallbacks": ["ghost"]}},
    }
    with pytest.raises(ConfigError) as info:
        parse_catalog(data, "cat.toml")
    text = str(info.value)
    assert "cat.toml: providers.p.wire: expected one of ['anthropic', 'gemini', 'openai'], got 'grpc'" in text
    assert "cat.toml: models.m.provider: unknown provider 'nope'" in text
    assert "cat.toml: models.m.tier: expected an integer from 1 to 9, got 12" in text
    assert "cat.toml: models.m.input_per_mtok: expected a non-negative number, got -1" in text
    assert "cat.toml: models.m.context_window: required number" in text
    assert "cat.toml: models.m.fallbacks: unknown model 'ghost'" in text


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="catalog file not found"):
        load_catalog(tmp_path / "none.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[providers\n")
    with pytest.raises(ConfigError, match=r"bad.toml: not valid TOML"):
        load_catalog(bad)


def test_unknown_keys_and_wrong_shapes_are_refused_by_name() -> None:
    data = {
        "providers": {"p": {"wire": "openai", "base_url": "http://x", "timeout": 5}},
        "models": {"m": {"provider": "p", "tier": 1, "input_per_mtok": 1, "output_per_mtok": 1,
                         "context_window": 1000, "capabilities": "code"}},
        "budgets": {"acme": {"monthy_usd": 10}},
        "routing": {"explore": 0.1},
        "model": {},
    }
    with pytest.raises(ConfigError) as info:
        parse_catalog(data, "cat.toml")
    text = str(info.value)
    assert "cat.toml: budgets.acme.monthy_usd: unknown key (did you mean 'monthly_usd'?)" in text
    assert "cat.toml: providers.p.timeout: unknown key" in text
    assert "cat.toml: routing.explore: unknown key" in text
    assert "cat.toml: model: unknown key (did you mean 'models'?)" in text
    assert "cat.toml: models.m.capabilities: expected an array of strings, got 'code'" in text


def test_base_url_placeholders_come_from_the_caller_and_an_unknown_one_is_named() -> None:
    def catalog_with(url: str) -> dict:
        return {"providers": {"p": {"wire": "openai", "base_url": url}},
                "models": {"m": {"provider": "p", "tier": 1, "input_per_mtok": 1, "output_per_mtok": 1,
                                 "context_window": 1000}}}

    assert parse_catalog(catalog_with("{sim}/openai/v1"), "c.toml", {"sim": "http://127.0.0.1:9"}
                         ).providers["p"].base_url == "http://127.0.0.1:9/openai/v1"
    with pytest.raises(ConfigError, match=r"c.toml: providers.p.base_url: no value for \{gateway\} \(known: sim\)"):
        parse_catalog(catalog_with("{gateway}/v1"), "c.toml", {"sim": "http://x"})


def test_the_exported_json_schema_is_current_and_agrees_with_the_parser() -> None:
    import json
    import tomllib

    import jsonschema

    from core.catalog_schema import json_schema
    from core.config import REPO_ROOT

    committed = json.loads((REPO_ROOT / "config" / "catalog.schema.json").read_text())
    assert committed == json_schema(), "run: llm-router catalog schema > config/catalog.schema.json"
    example = tomllib.loads((REPO_ROOT / "config" / "catalog.toml").read_text())
    jsonschema.validate(example, committed)  # what editors check is what workers accept
    example["budgets"]["default"]["monthy_usd"] = 5
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(example, committed)
    with pytest.raises(ConfigError, match="monthy_usd"):
        parse_catalog(example)


def test_environment_overrides_apply_and_their_mistakes_are_named_as_theirs(tmp_path: Path) -> None:
    from core.config import REPO_ROOT

    path = REPO_ROOT / "config" / "catalog.toml"
    over = 'providers.openai.base_url = "https://proxy.internal/v1"\nbudgets.initech.daily_usd = 7.5\n' \
           'models."gpt-4o".rpm = 120\n'
    c = load_catalog(path, {"sim": "http://sim.test"}, over)
    assert c.providers["openai"].base_url == "https://proxy.internal/v1"
    assert c.budget("initech").daily_usd == 7.5 and c.budget("initech").monthly_usd == 2.0  # the rest stays
    assert c.model("gpt-4o").rpm == 120
    with pytest.raises(ConfigError) as info:
        load_catalog(path, {"sim": "http://sim.test"}, 'budgets.initech.daly_usd = 1\nmodels."gpt-4o".tier = "3"')
    text = str(info.value)
    assert "ROUTER_CATALOG_OVERRIDES: budgets.initech.daly_usd: unknown key (did you mean 'daily_usd'?)" in text
    assert "ROUTER_CATALOG_OVERRIDES: models.gpt-4o.tier: expected an integer from 1 to 9, got '3'" in text
    with pytest.raises(ConfigError, match="ROUTER_CATALOG_OVERRIDES: not valid TOML"):
        load_catalog(path, {"sim": "x"}, "budgets = [")


def test_cached_prompt_tokens_are_priced_at_the_cached_price(catalog: Catalog) -> None:
    gpt4o = catalog.model("gpt-4o")  # 2.50 in, 1.25 cached, 10.00 out per million
    assert gpt4o.cost_usd(1_000_000, 0, cached_input_tokens=800_000) == pytest.approx(0.2 * 2.5 + 0.8 * 1.25)
    assert gpt4o.cost_usd(1_000, 0, cached_input_tokens=5_000) == pytest.approx(1_000 * 1.25 / 1e6)  # capped
    no_cache_price = catalog.model("llama-3-1-8b")
    assert no_cache_price.cost_usd(1_000_000, 0, 500_000) == no_cache_price.cost_usd(1_000_000, 0)


def test_aliases_extend_the_builtin_ones_and_their_mistakes_are_named() -> None:
    models = {"small": {"provider": "p", "tier": 1, "input_per_mtok": 1, "output_per_mtok": 1, "context_window": 9},
              "big": {"provider": "p", "tier": 3, "input_per_mtok": 9, "output_per_mtok": 9, "context_window": 9}}
    base = {"providers": {"p": {"wire": "openai", "base_url": "http://x"}}, "models": models}
    ok = parse_catalog({**base, "aliases": {"fast": {"model": "small"}, "router/cheap": {"tier": 3}}})
    assert ok.aliases["fast"].model == "small"
    assert ok.aliases["router/cheap"].tier == 3 and ok.aliases["router/cheap"].quality_target is None  # replaced
    assert ok.aliases["router/best"].min_tier == 3  # built in, from this catalog's tiers
    bad = {"ghost": {"model": "nobody"}, "both": {"model": "small", "tier": 1}, "router/auto": {"tier": 1},
           "big": {"tier": 1}, "t2": {"min_tier": 2}, "loose": {"quality_target": 2}, "typo": {"teir": 1}}
    with pytest.raises(ConfigError) as info:
        parse_catalog({**base, "aliases": bad}, "cat.toml")
    text = str(info.value)
    assert "cat.toml: aliases.ghost.model: unknown model 'nobody'" in text
    assert "cat.toml: aliases.both: either model (pin it) or tier (route), not both" in text
    assert "cat.toml: aliases.router/auto: 'router/auto' is the router's own choice and cannot be an alias" in text
    assert "cat.toml: aliases.big: 'big' is a model's name and cannot be an alias" in text
    assert "cat.toml: aliases.t2.min_tier: no model has tier 2" in text
    assert "cat.toml: aliases.loose.quality_target: expected a share from 0 to 1, got 2" in text
    assert "cat.toml: aliases.typo.teir: unknown key (did you mean 'tier'?)" in text
