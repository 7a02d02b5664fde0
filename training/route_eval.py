"""Offline routing evaluation in RouteLLM's terms, on rows with real per-model outcomes.

    python -m training.route_eval convert --source mmlu_pro --out var/eval/mmlu_pro.jsonl
    python -m training.route_eval run var/eval/mmlu_pro.jsonl --weak Meta-Llama-3_1-8B-Instruct \\
        --strong gpt-4o-2024-05-13

Row format (JSONL): ``{"messages": [...], "category": "...", "outcomes": {"<model>": {"score": 0..1,
"cost_usd": optional}}}``. Only held-out rows count (the classifier's hash split: "test"). Each prompt
goes through the real classifier and the real ``RoutingPolicy`` over a two-model catalog (weak at
tier 1, strong at tier 3); the threshold on the classifier's P(needs tier 2 or 3) is swept, and the
recorded outcome of the chosen model is its quality. Reported: quality against the share of calls to
the strong model (PNG + table), APGR, CPT(50%) and CPT(80%), cost saved versus all-strong at 95% of
its quality, and the all-weak, all-strong, random and oracle baselines.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from core.catalog import parse_catalog
from core.events import Classification, Job
from core.ports import AllHealthy
from core.request import Request
from core.routing import RoutingPolicy
from core.tokens import estimate_tokens
from models.classifier import LgbmClassifier
from training import datasets
from training.train import DEFAULT_DATA, split_of

OUTPUT_TOKENS = 256  # assumed answer length for cost when the data has none


def convert(source: str, data: Path, out: Path) -> int:
    """Write the documented JSONL for a shared dataset with per-model outcomes."""
    out.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with out.open("w", encoding="utf-8") as f:
        for text, category, outcomes in _rows(source, data):
            row = {"messages": [{"role": "user", "content": text}], "category": category,
                   "outcomes": {m: {"score": s} for m, s in outcomes.items()}}
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
    return n


def _rows(source: str, data: Path) -> Any:
    if source == "mmlu_pro":
        matrix = datasets.mmlu_outcomes(data)
        for q in datasets.read_jsonl(data / "mmlu_pro/questions.jsonl.gz"):
            text = datasets.mmlu_text(q)
            row = matrix.get(str(q["question_id"])) or {}
            outcomes = {m: float(v) for m, v in row.items() if v in ("0", "1")}
            yield text, q["category"], outcomes
    elif source == "llmrouter":
        for split in ("train.json", "test.json"):
            for r in json.loads((data / "llmrouter" / split).read_text()):
                yield r["question"], r["task_name"], {m: float(s) for m, s in r["scores"].items()}
    else:
        msg = f"unknown source {source!r} (mmlu_pro, llmrouter)"
        raise SystemExit(msg)


def _catalog(weak: str, strong: str, prices: tuple[float, float, float, float]) -> Any:
    wi, wo, si, so = prices
    return parse_catalog({
        "providers": {"p": {"wire": "openai", "base_url": "http://eval"}},
        "models": {weak: {"provider": "p", "tier": 1, "input_per_mtok": wi, "output_per_mtok": wo,
                          "context_window": 1_000_000, "privacy": "zero_retention"},
                   strong: {"provider": "p", "tier": 3, "input_per_mtok": si, "output_per_mtok": so,
                            "context_window": 1_000_000, "privacy": "zero_retention"}},  # quality, not privacy
    }, "<eval>")


def evaluate(path: Path, weak: str, strong: str, prices: tuple[float, float, float, float]) -> dict[str, Any]:
    rows = [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]
    rows = [r for r in rows if weak in r["outcomes"] and strong in r["outcomes"]
            and split_of(r["messages"][-1]["content"]) == "test"]
    if not rows:
        msg = f"no held-out rows with outcomes for both {weak} and {strong}"
        raise SystemExit(msg)
    clf, policy = LgbmClassifier(), RoutingPolicy(_catalog(weak, strong, prices))
    reqs = [Request(f"e{i}", "eval", r["messages"]) for i, r in enumerate(rows)]
    classes = clf.classify_batch(reqs)
    need = np.array([c.tier_probs.get("2", 0) + c.tier_probs.get("3", 0) for c in classes])  # P(not tier 1)
    q_weak = np.array([r["outcomes"][weak]["score"] for r in rows])
    q_strong = np.array([r["outcomes"][strong]["score"] for r in rows])
    cost_weak = np.array([_cost(r, weak, prices[:2]) for r in rows])
    cost_strong = np.array([_cost(r, strong, prices[2:]) for r in rows])
    curve = []
    for t in np.unique(np.concatenate([[1.01], np.quantile(need, np.linspace(0, 1, 41))])):
        chosen = [_route(policy, req, c, float(s) >= t) for req, c, s in zip(reqs, classes, need, strict=True)]
        to_strong = np.array([m == strong for m in chosen])
        quality = float(np.where(to_strong, q_strong, q_weak).mean())
        cost = float(np.where(to_strong, cost_strong, cost_weak).sum())
        curve.append({"threshold": round(float(t), 4), "strong_share": round(float(to_strong.mean()), 4),
                      "quality": round(quality, 4), "cost_usd": round(cost, 6)})
    curve.sort(key=lambda p: p["strong_share"])
    return _summary(curve, q_weak, q_strong, cost_strong.sum(), weak, strong, len(rows))


def _cost(row: dict[str, Any], model: str, prices: tuple[float, float]) -> float:
    given = row["outcomes"][model].get("cost_usd")
    if given is not None:
        return float(given)
    tokens = estimate_tokens(row["messages"][-1]["content"])
    return (tokens * prices[0] + OUTPUT_TOKENS * prices[1]) / 1e6


def _route(policy: RoutingPolicy, req: Request, c: Classification, strong: bool) -> str:
    job = Job(request=req, received_at_ms=0, classification=replace(c, tier=3 if strong else 1, low_confidence=False))
    return policy.decide(job, AllHealthy()).model


def _summary(curve: list[dict[str, Any]], q_weak: np.ndarray, q_strong: np.ndarray, all_strong_cost: float,
             weak: str, strong: str, n: int) -> dict[str, Any]:
    qw, qs = float(q_weak.mean()), float(q_strong.mean())
    gap = qs - qw
    shares = np.array([p["strong_share"] for p in curve])
    pgr = np.array([(p["quality"] - qw) / gap if gap else 0.0 for p in curve])

    def cpt(level: float) -> float | None:
        hit = shares[pgr >= level]
        return round(float(hit.min()), 4) if len(hit) else None

    at95 = [p for p in curve if p["quality"] >= 0.95 * qs]
    best95 = min(at95, key=lambda p: p["cost_usd"]) if at95 else None
    oracle_strong = (q_weak < q_strong)  # strong only where it is better
    return {
        "weak": weak, "strong": strong, "rows": n,
        "all_weak": round(qw, 4), "all_strong": round(qs, 4),
        "oracle": {"quality": round(float(np.maximum(q_weak, q_strong).mean()), 4),
                   "strong_share": round(float(oracle_strong.mean()), 4)},
        "apgr": round(float(np.trapezoid(pgr, shares)), 4), "random_apgr": 0.5,
        "cpt50": cpt(0.5), "cpt80": cpt(0.8),
        "at_95pct_quality": None if best95 is None else {
            "strong_share": best95["strong_share"], "quality": best95["quality"],
            "cost_saved_pct": round(100 * (1 - best95["cost_usd"] / float(all_strong_cost)), 1)},
        "curve": curve,
    }


def plot(result: dict[str, Any], path: Path) -> None:
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, ax = plt.subplots(figsize=(7, 5))
    xs = [p["strong_share"] for p in result["curve"]]
    ax.plot(xs, [p["quality"] for p in result["curve"]], marker="o", ms=3, label="this router")
    ax.plot([0, 1], [result["all_weak"], result["all_strong"]], "--", color="grey", label="random")
    ax.scatter([result["oracle"]["strong_share"]], [result["oracle"]["quality"]], color="green", label="oracle",
               zorder=3)
    ax.axhline(result["all_strong"], color="#c44", lw=0.8, label=f"all {result['strong']}")
    ax.axhline(result["all_weak"], color="#44c", lw=0.8, label=f"all {result['weak']}")
    ax.set_xlabel(f"share of calls to {result['strong']}")
    ax.set_ylabel("quality (share answered acceptably)")
    ax.set_title(f"Quality vs strong-call share (APGR {result['apgr']}, {result['rows']} held-out prompts)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.route_eval")
    sub = parser.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("convert")
    c.add_argument("--source", required=True, choices=("mmlu_pro", "llmrouter"))
    c.add_argument("--data", type=Path, default=DEFAULT_DATA)
    c.add_argument("--out", type=Path, required=True)
    r = sub.add_parser("run")
    r.add_argument("rows", type=Path)
    r.add_argument("--weak", required=True)
    r.add_argument("--strong", required=True)
    r.add_argument("--prices", default="0.05,0.08,2.5,10", help="weak in,out and strong in,out USD per Mtok")
    r.add_argument("--out", type=Path, default=Path("var/eval"))
    args = parser.parse_args(argv)
    if args.cmd == "convert":
        print(f"wrote {convert(args.source, args.data, args.out)} rows to {args.out}")
        return 0
    prices = tuple(float(v) for v in args.prices.split(","))
    result = evaluate(args.rows, args.weak, args.strong, prices)  # type: ignore[arg-type]
    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"{args.rows.stem}-{args.weak}-vs-{args.strong}"
    (args.out / f"{stem}.json").write_text(json.dumps(result, indent=2) + "\n")
    plot(result, args.out / f"{stem}.png")
    print(f"{result['rows']} held-out prompts; all-weak {result['all_weak']}, all-strong {result['all_strong']}, "
          f"oracle {result['oracle']}")
    print(f"APGR {result['apgr']} (random 0.5); CPT(50%) {result['cpt50']}, CPT(80%) {result['cpt80']}; "
          f"at 95% of all-strong quality: {result['at_95pct_quality']}")
    print("| strong share | quality | threshold |\n|---|---|---|")
    for p in result["curve"][:: max(1, len(result["curve"]) // 10)]:
        print(f"| {p['strong_share']} | {p['quality']} | {p['threshold']} |")
    print(f"curve: {args.out / stem}.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
