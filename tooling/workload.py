"""A realistic mixed workload: prompts from public datasets, several tenants, options and some
malformed requests, as upstream services would publish them."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from core.catalog import Catalog
from core.config import REPO_ROOT

PROMPTS = REPO_ROOT / "data" / "demo_prompts.jsonl"
REPLAY = REPO_ROOT / "data" / "replay_quality.jsonl"  # real per-tier outcomes for the MMLU-Pro prompts
TENANTS = (("acme", 0.5), ("globex", 0.3), ("initech", 0.2))
_INVALID = (
    b"{not json",
    b'["an", "array"]',
    orjson.dumps({"request_id": "{rid}", "tenant": "acme"}),  # messages missing
    orjson.dumps({"request_id": "{rid}", "tenant": "acme", "messages": "hello"}),
    orjson.dumps({"request_id": "{rid}", "tenant": "acme", "messages": [{"role": "user", "content": "hi"}],
                  "max_output_tokens": "lots"}),
)


@dataclass(frozen=True, slots=True)
class Item:
    request_id: str
    payload: bytes
    valid: bool


def load_prompts(path: Path = PROMPTS) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def build(n: int, prefix: str, seed: int = 7, invalid_share: float = 0.03) -> list[Item]:
    rng = random.Random(seed)
    prompts = load_prompts()
    tenants = [t for t, _ in TENANTS]
    weights = [w for _, w in TENANTS]
    items = []
    for i in range(n):
        rid = f"{prefix}{i:06d}"
        if rng.random() < invalid_share:
            template = _INVALID[i % len(_INVALID)]
            items.append(Item(rid, template.replace(b"{rid}", rid.encode()), False))
            continue
        p = prompts[rng.randrange(len(prompts))]
        req: dict[str, Any] = {
            "schema_version": 1,
            "request_id": rid,
            "tenant": rng.choices(tenants, weights)[0],
            "messages": [{"role": "user", "content": p["prompt"]}],
            "metadata": {"source": p["source"], "category": p["category"]},
        }
        roll = rng.random()
        if roll < 0.15:
            req["messages"].insert(0, {"role": "system", "content": "You are a concise, careful assistant."})
        elif roll < 0.20:
            req["max_output_tokens"] = 48
        elif roll < 0.25:
            req["data_policy"] = {"pii": True}
        elif roll < 0.28:
            req["quality_floor"] = 3
        elif roll < 0.31:
            req["latency_class"] = "batch"
        items.append(Item(rid, orjson.dumps(req), True))
    return items


def sim_profile(catalog: Catalog, fast: bool = False) -> dict[str, Any]:
    """Simulator behaviour per model: weaker tiers fail more often; latency grows with tier."""
    by_tier = {
        1: {"latency_ms": 20, "ms_per_output_token": 0.2, "empty_rate": 0.03, "truncate_rate": 0.10},
        2: {"latency_ms": 40, "ms_per_output_token": 0.4, "empty_rate": 0.01, "truncate_rate": 0.04},
        3: {"latency_ms": 80, "ms_per_output_token": 0.8, "empty_rate": 0.002, "truncate_rate": 0.01},
    }
    models = {}
    for m in catalog.models.values():
        b = dict(by_tier.get(m.tier, by_tier[3]))
        if fast:
            b.update(latency_ms=0, ms_per_output_token=0)
        models[m.wire_model] = b
    tiers = {m.wire_model: m.tier for m in catalog.models.values()}
    return {"default": {}, "models": models, "replay": str(REPLAY), "model_tiers": tiers}
