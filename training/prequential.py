"""Prequential routing evaluation (test, then learn): how the quality memory does on traffic.

    python -m training.prequential var/eval/llmrouter.jsonl --models mistral-7b-instruct-v0.3,\\
        llama-3.1-nemotron-51b-instruct --feedback full --all-rows

Rows (the JSONL of ``training.route_eval``) go through the real classifier (with the prompt
embedder) and the real ``RoutingPolicy`` with a ``QualityMemory``, in a seeded random order. After
each chunk of decisions the outcomes are revealed and learned: with ``full`` feedback every
model's (a labelled set replayed), with ``bandit`` feedback only the chosen model's and, when it
failed, the next tier's (the cascade's escalation). At checkpoints the memory is frozen and the
rows not yet seen are routed at every quality target: quality against the share of calls to the
strongest model gives APGR, CPT(50%), CPT(80%) and the cost saved at 95% of all-strong quality,
beside the prior alone (today's router: a threshold on the classifier's P(tier >= 2)).
Per-row decisions (id, chosen model, each model's estimate) go to JSONL so anyone can recompute.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.catalog import parse_catalog
from core.events import Classification, Job
from core.memory_view import tier_prior
from core.ports import AllHealthy
from core.prompt_vector import DIM, decode_vector
from core.quality_memory import Estimate, MemoryConfig, QualityMemory
from core.request import Request
from core.routing import RoutingPolicy
from models.classifier import ARTIFACTS, LgbmClassifier
from models.embedding import PromptEmbedder
from training.route_eval import _cost
from training.train import fold_of, split_of

CHECKPOINTS = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7)
TARGETS = tuple(np.round(np.concatenate([np.linspace(0, 0.8, 9), np.linspace(0.82, 1.0, 19)]), 3))
CHUNK = 50  # decisions made before their outcomes are learned (a pipeline batch)


@dataclass
class Rows:
    ids: list[str]
    requests: list[Request]
    classes: list[Classification]
    vecs: np.ndarray
    quality: np.ndarray  # (rows, models) outcome scores
    cost: np.ndarray  # (rows, models) USD


class FrozenView:
    """Estimates precomputed for a set of rows (the memory frozen at a checkpoint)."""

    def __init__(self) -> None:
        self.by_id: dict[str, dict[str, Estimate]] = {}

    def estimates(self, job: Job, models: Any, now_ms: int) -> dict[str, Estimate]:
        return self.by_id[job.request_id]

    def prepare(self, jobs: Any, models: Any, now_ms: int) -> None:
        """Nothing to do: the estimates were computed when the memory was frozen."""


def load(path: Path, models: list[str], all_rows: bool, prior_dir: Path, prices: list[float], folds: int = 0
         ) -> Rows:
    raw = [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]
    raw = [r for r in raw if all(m in r["outcomes"] for m in models)
           and (all_rows or split_of(r["messages"][-1]["content"]) == "test")]
    if not raw:
        raise SystemExit(f"no rows with outcomes for all of {models}")
    requests = [Request(r.get("id") or f"row{i}", "eval", r["messages"]) for i, r in enumerate(raw)]
    embedder = PromptEmbedder()
    if folds:  # cross-fitted: each row classified by the prior trained without its fold
        by_fold = [fold_of(r["messages"][-1]["content"], folds) for r in raw]
        priors = [LgbmClassifier(Path(f"{prior_dir}{f}"), embedder) for f in range(folds)]
        classes = [priors[f].classify_batch([q])[0] for f, q in zip(by_fold, requests, strict=True)]
    else:
        classes = LgbmClassifier(prior_dir, embedder).classify_batch(requests)
    decoded = [decode_vector(c.embedding) for c in classes]
    vecs = np.stack([v if v is not None else np.zeros(DIM, dtype=np.float32) for v in decoded])
    quality = np.array([[r["outcomes"][m]["score"] for m in models] for r in raw], dtype=np.float64)
    cost = np.array([[_cost(r, m, (prices[2 * i], prices[2 * i + 1])) for i, m in enumerate(models)] for r in raw])
    return Rows([q.request_id for q in requests], requests, classes, vecs, quality, cost)


def catalog(models: list[str], prices: list[float], explore: float, thompson: bool = True) -> Any:
    tiers = [1] if len(models) == 1 else [1 + round(2 * i / (len(models) - 1)) for i in range(len(models))]
    return parse_catalog({
        "routing": {"explore_share": explore, "thompson": thompson},  # min_evidence as in production
        "providers": {"p": {"wire": "openai", "base_url": "http://eval"}},
        "models": {m: {"provider": "p", "tier": t, "input_per_mtok": prices[2 * i],
                       "output_per_mtok": prices[2 * i + 1],
                       "context_window": 10_000_000, "privacy": "zero_retention"}
                   for i, (m, t) in enumerate(zip(models, tiers, strict=True))},
    }, "<prequential>")


def _job(rows: Rows, i: int, target: float | None = None) -> Job:
    req = rows.requests[i]
    if target is not None:
        req = Request(req.request_id, req.tenant, req.messages, quality_target=target)
    return Job(request=req, received_at_ms=0, classification=rows.classes[i])


def _estimates(memory: QualityMemory, policy: RoutingPolicy, rows: Rows, idx: np.ndarray,
               models: list[str]) -> dict[str, dict[str, Estimate]]:
    out: dict[str, dict[str, Estimate]] = {rows.ids[i]: {} for i in idx}
    priors = {m: [tier_prior(rows.classes[i].tier_probs, policy.catalog.models[m].tier) for i in idx] for m in models}
    for m, estimates in memory.estimate_models(rows.vecs[idx], priors, 0).items():
        for i, e in zip(idx, estimates, strict=True):
            out[rows.ids[i]][m] = e
    return out


def dial_settings(view: FrozenView, ids: Sequence[str]) -> list[float]:
    """The quality targets a curve routes at: the fixed grid plus one per 2.5 % quantile of the gap
    between the best and the worst estimate a row has, so that the router's curve is sampled as
    finely as the prior-alone sweep (whose threshold follows its own quantiles)."""
    gaps = [max(e.p for e in est.values()) - min(e.p for e in est.values())
            for est in (view.by_id[i] for i in ids) if est]
    extra = 1.0 - np.quantile(gaps, np.linspace(0, 1, 41)) if gaps else np.array([])
    return sorted({float(t) for t in TARGETS} | {round(float(t), 6) for t in np.clip(extra, 0.0, 1.0)})


def curve(policy: RoutingPolicy, rows: Rows, idx: np.ndarray, models: list[str], view: FrozenView
          ) -> list[dict[str, float]]:
    """Route the rows at every quality target: (share to the strongest, quality, cost) per target."""
    points = []
    for target in dial_settings(view, [rows.ids[i] for i in idx]):
        chosen = [models.index(policy.decide(_job(rows, i, float(target)), AllHealthy(), quality=view).model)
                  for i in idx]
        q = rows.quality[idx, chosen]
        c = rows.cost[idx, chosen]
        points.append({"target": float(target), "strong_share": float(np.mean(np.array(chosen) == len(models) - 1)),
                       "quality": float(q.mean()), "cost_usd": float(c.sum())})
    return points


def summary(points: list[dict[str, float]], q: np.ndarray, c: np.ndarray) -> dict[str, Any]:
    """APGR and friends for a curve over rows whose per-model outcomes are ``q`` (weakest first)."""
    qw, qs = float(q[:, 0].mean()), float(q[:, -1].mean())
    pts = sorted([(0.0, qw), (1.0, qs)] + [(p["strong_share"], p["quality"]) for p in points])
    shares = np.array([s for s, _ in pts])
    gap = qs - qw
    pgr = np.array([(v - qw) / gap if gap else 0.0 for _, v in pts])
    best: dict[float, float] = {}
    for s, v in zip(shares, pgr, strict=True):  # the router's frontier: best quality at each share
        best[s] = max(best.get(s, -9), v)
    xs = np.array(sorted(best))
    ys = np.maximum.accumulate(np.array([best[x] for x in xs]))
    at95 = [p for p in points if p["quality"] >= 0.95 * qs]
    cheapest = min(at95, key=lambda p: p["cost_usd"]) if at95 else None
    return {"apgr": round(float(np.trapezoid(ys, xs)), 4),
            "cpt50": _cpt(xs, ys, 0.5), "cpt80": _cpt(xs, ys, 0.8),
            "cost_saved_at_95pct": None if cheapest is None else
            round(100 * (1 - cheapest["cost_usd"] / float(c[:, -1].sum())), 1)}


def _cpt(xs: np.ndarray, ys: np.ndarray, level: float) -> float | None:
    hit = xs[ys >= level]
    return round(float(hit.min()), 4) if len(hit) else None


def prior_alone(rows: Rows, idx: np.ndarray) -> dict[str, Any]:
    """Today's router on the same rows: strong when P(tier >= 2) is over a swept threshold."""
    need = np.array([rows.classes[i].tier_probs.get("2", 0) + rows.classes[i].tier_probs.get("3", 0) for i in idx])
    q, c = rows.quality[idx], rows.cost[idx]
    points = []
    for t in np.quantile(need, np.linspace(0, 1, 41)):
        strong = need >= t
        points.append({"strong_share": float(strong.mean()),
                       "quality": float(np.where(strong, q[:, -1], q[:, 0]).mean()),
                       "cost_usd": float(np.where(strong, c[:, -1], c[:, 0]).sum())})
    return summary(points, q[:, [0, -1]], c[:, [0, -1]])


def run(rows: Rows, models: list[str], prices: list[float], feedback: str, seed: int, explore: float,
        decisions_path: Path | None = None, memory_config: MemoryConfig | None = None) -> list[dict[str, Any]]:
    policy = RoutingPolicy(catalog(models, prices, explore))  # the learning pass explores
    frozen = RoutingPolicy(catalog(models, prices, 0.0, thompson=False))  # the curves measure the estimates alone
    memory = QualityMemory(models, memory_config or MemoryConfig())
    order = np.random.default_rng(seed).permutation(len(rows.ids))
    marks = sorted({int(f * len(order)) for f in CHECKPOINTS})
    table: list[dict[str, Any]] = []
    log = decisions_path.open("w", encoding="utf-8") if decisions_path else None
    seen = 0
    try:
        while seen < len(order):
            if seen in marks:
                table.append(_checkpoint(frozen, memory, rows, order, seen, models))
                print(_line(table[-1]), flush=True)
            stop = min(len(order), seen + CHUNK, *[m for m in marks if m > seen])
            _learn_chunk(policy, memory, rows, order[seen:stop], models, feedback, log)
            seen = stop
    finally:
        if log:
            log.close()
    return table


def _learn_chunk(policy: RoutingPolicy, memory: QualityMemory, rows: Rows, idx: np.ndarray, models: list[str],
                 feedback: str, log: Any) -> None:
    view = FrozenView()
    view.by_id = _estimates(memory, policy, rows, idx, models)
    revealed: dict[str, list[int]] = {m: [] for m in models}
    escalated: dict[str, list[bool]] = {m: [] for m in models}
    for i in idx:
        d = policy.decide(_job(rows, i), AllHealthy(), quality=view)
        k = models.index(d.model)
        shown = list(range(len(models))) if feedback == "full" else [k]
        if feedback == "bandit" and rows.quality[i, k] < 0.5 and k + 1 < len(models):
            shown.append(k + 1)  # the cascade escalates a rejected answer one tier up
        for j in shown:
            revealed[models[j]].append(int(i))
            escalated[models[j]].append(feedback == "bandit" and j != k)
        if log:
            log.write(json.dumps({"id": rows.ids[i], "chosen": d.model, "explored": d.explored,
                                  "estimates": {m: round(e.p, 4) for m, e in view.by_id[rows.ids[i]].items()},
                                  "revealed": [models[j] for j in shown]}) + "\n")
    for m, ids in revealed.items():
        if ids:
            sel = np.array(ids)
            tier = policy.catalog.models[m].tier
            memory.learn(rows.vecs[sel], m, rows.quality[sel, models.index(m)].tolist(),
                         [tier_prior(rows.classes[i].tier_probs, tier) for i in sel], [0] * len(sel),
                         escalated=escalated[m])


def _checkpoint(policy: RoutingPolicy, memory: QualityMemory, rows: Rows, order: np.ndarray, seen: int,
                models: list[str]) -> dict[str, Any]:
    unseen = order[seen:]
    view = FrozenView()
    view.by_id = _estimates(memory, policy, rows, unseen, models)
    points = curve(policy, rows, unseen, models, view)
    blend = {m: round(memory.blend_weight(m), 3) for m in models}
    return {"seen": seen, "seen_share": round(seen / len(order), 3), "unseen": len(unseen), "blend_weight": blend,
            "memory": summary(points, rows.quality[unseen], rows.cost[unseen]),
            "prior_alone": prior_alone(rows, unseen), "curve": points,
            "frontier": frontier(points, rows.quality[unseen], rows.cost[unseen], models)}


def frontier(points: list[dict[str, float]], q: np.ndarray, c: np.ndarray, models: list[str]) -> dict[str, Any]:
    """Quality against cost: the router at each quality target, every single model, and the oracle
    (the cheapest model that answers each prompt acceptably, else the best one)."""
    ok = q >= 0.5
    cheapest_ok = np.where(ok.any(axis=1), np.argmax(ok, axis=1), np.argmax(q, axis=1))  # models sorted by price
    rows = np.arange(len(q))
    return {
        "router": [{"target": p["target"], "quality": round(p["quality"], 4), "cost_usd": round(p["cost_usd"], 6)}
                   for p in points],
        "single": {m: {"quality": round(float(q[:, i].mean()), 4), "cost_usd": round(float(c[:, i].sum()), 6)}
                   for i, m in enumerate(models)},
        "oracle": {"quality": round(float(q[rows, cheapest_ok].mean()), 4),
                   "cost_usd": round(float(c[rows, cheapest_ok].sum()), 6)},
    }


def _line(row: dict[str, Any]) -> str:
    m, p = row["memory"], row["prior_alone"]
    return (f"| {row['seen_share']:.2f} | {row['seen']} | {m['apgr']} | {p['apgr']} | {m['cpt50']} | {m['cpt80']} | "
            f"{m['cost_saved_at_95pct']} |")


def plot(tables: dict[str, list[dict[str, Any]]], path: Path, title: str) -> None:
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for label, table in tables.items():
        ax.plot([r["seen_share"] for r in table], [r["memory"]["apgr"] for r in table], marker="o", label=label)
    first = next(iter(tables.values()))
    ax.plot([r["seen_share"] for r in first], [r["prior_alone"]["apgr"] for r in first], "--", label="prior alone")
    ax.axhline(0.5, color="grey", lw=0.8, label="random")
    ax.set_xlabel("share of rows seen (outcomes learned)")
    ax.set_ylabel("APGR on the rows not yet seen")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.prequential", description=__doc__.split("\n")[0])
    parser.add_argument("rows", type=Path)
    parser.add_argument("--models", required=True, help="comma-separated, weakest first (tiers 1..3 spread)")
    parser.add_argument("--prices", default="", help="input,output USD per Mtok per model (default 0.05,0.08 for "
                        "the weakest and 2.5,10 for the strongest, spread between)")
    parser.add_argument("--feedback", choices=("full", "bandit", "both"), default="both")
    parser.add_argument("--all-rows", action="store_true", help="every row, not only the classifier's held-out ones")
    parser.add_argument("--prior", type=Path, default=ARTIFACTS, help="classifier artifacts (e.g. one trained "
                        "with --leave-out SOURCE, for a source it never saw)")
    parser.add_argument("--folds", type=int, default=0, help="cross-fitted priors: --prior is a prefix, PRIOR0 .. "
                        "PRIOR{K-1} trained with training.train --fold F/K; each row gets the one that never saw it")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--explore", type=float, default=0.05)
    parser.add_argument("--capacity", type=int, default=MemoryConfig().capacity, help="verdicts kept per model")
    parser.add_argument("--k", type=int, default=MemoryConfig().k, help="neighbours behind the evidence count")
    parser.add_argument("--ks", default=",".join(map(str, MemoryConfig().ks)), help="neighbourhood sizes the blend "
                        "weighs (comma-separated)")
    parser.add_argument("--clusters", default=",".join(map(str, MemoryConfig().clusters)), help="topic cluster "
                        "levels (comma-separated; empty for none)")
    parser.add_argument("--out", type=Path, default=Path("var/eval"))
    args = parser.parse_args(argv)
    memory_config = MemoryConfig(capacity=args.capacity, k=args.k, ks=tuple(int(v) for v in args.ks.split(",") if v),
                                 clusters=tuple(int(v) for v in args.clusters.split(",") if v))
    models = args.models.split(",")
    prices = [float(v) for v in args.prices.split(",")] if args.prices else _spread_prices(len(models))
    rows = load(args.rows, models, args.all_rows, args.prior, prices, args.folds)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"{args.rows.stem}-prequential-{'-vs-'.join(models)}-seed{args.seed}"
    tables = {}
    for fb in (("full", "bandit") if args.feedback == "both" else (args.feedback,)):
        print(f"\n{fb} feedback, {len(rows.ids)} rows ({'all' if args.all_rows else 'held-out'}), seed {args.seed}")
        print("| seen share | rows seen | APGR memory+prior | APGR prior alone | CPT(50%) | CPT(80%) | "
              "cost saved at 95% |\n|---|---|---|---|---|---|---|")
        tables[fb] = run(rows, models, prices, fb, args.seed, args.explore, args.out / f"{stem}-{fb}-decisions.jsonl",
                        memory_config)
    (args.out / f"{stem}.json").write_text(json.dumps(tables, indent=1) + "\n")
    _print_frontier(tables, models)
    plot(tables, args.out / f"{stem}.png", f"{args.rows.stem}: {' vs '.join(models)} (seed {args.seed})")
    print(f"\nwrote {args.out / stem}.json, .png and the per-row decisions")
    return 0


def _print_frontier(tables: dict[str, list[dict[str, Any]]], models: list[str]) -> None:
    for fb, table in tables.items():
        at = next((r for r in table if r["seen_share"] >= 0.3), table[-1])
        f = at["frontier"]
        print(f"\nquality-cost frontier on the unseen rows after {at['seen_share']:.0%} seen ({fb} feedback)")
        print("| who | quality | cost USD |\n|---|---|---|")
        for m in models:
            print(f"| all {m} | {f['single'][m]['quality']} | {f['single'][m]['cost_usd']} |")
        print(f"| oracle | {f['oracle']['quality']} | {f['oracle']['cost_usd']} |")
        step = max(1, len(f["router"]) // 8)
        for p in f["router"][::step] + ([f["router"][-1]] if (len(f["router"]) - 1) % step else []):
            print(f"| router, quality_target {p['target']} | {p['quality']} | {p['cost_usd']} |")


def _spread_prices(n: int) -> list[float]:
    lo, hi = np.array([0.05, 0.08]), np.array([2.5, 10.0])
    return [float(v) for i in range(n) for v in (lo + (hi - lo) * (i / max(1, n - 1)) ** 2)]


if __name__ == "__main__":
    raise SystemExit(main())
