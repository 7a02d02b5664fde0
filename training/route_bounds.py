"""How much routing signal a set's prompts carry at all: ceilings for a weak/strong pair, measured
without the router, so that a routing target can be checked against what the data allows.

    python -m training.route_bounds var/eval/mmlu_pro.jsonl --weak Meta-Llama-3_1-8B-Instruct \\
        --strong gpt-4o-2024-05-13

Rows in ``training.route_eval``'s JSONL format. Each line scores every row by some signal, routes
the top share of rows to the strong model, sweeps that share from 0 to 1 and reports APGR (the
area under the performance-gap-recovered curve; random routing 0.5). The signals:

- ``category``: each category's true mean strong-minus-weak gain, taken from all rows (in-sample,
  so an upper bound for anything that knows only the subject);
- ``text model``: a logistic regression on TF-IDF word 1-2-grams and character 3-5-grams predicting
  "the strong model wins", trained on a share of the rows (30 % as the prequential targets allow
  the memory, and 80 %, five folds) and scored on the rest: a supervised learner with far more
  capacity for the prompts' wording than the router's static embedding;
- ``other models' outcomes``: how every other model in the file did on the same question (five
  folds): a per-question difficulty signal no router has at decision time, showing how much of the
  gap is predictable once a question's difficulty is known.

Needs scikit-learn and scipy, which ``make eval-bounds`` installs into the venv: this is analysis,
not part of the router, so they are not dependencies of the package.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np


def apgr(score: np.ndarray, q_weak: np.ndarray, q_strong: np.ndarray) -> float:
    """APGR of routing the highest-scored rows to the strong model, every share from none to all
    (ties broken by row order)."""
    gap = float(q_strong.mean() - q_weak.mean())
    if gap == 0 or len(score) == 0:
        return 0.0
    order = np.argsort(-score, kind="stable")
    quality = (q_weak.sum() + np.concatenate([[0.0], np.cumsum((q_strong - q_weak)[order])])) / len(score)
    pgr = (quality - q_weak.mean()) / gap
    return float(np.trapezoid(pgr, np.linspace(0.0, 1.0, len(score) + 1)))


def _load(path: Path, weak: str, strong: str) -> list[dict[str, Any]]:
    rows = []
    # split on newlines only: str.splitlines would also cut at a U+2028 inside a prompt
    for number, line in enumerate(path.read_text().split("\n"), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            outcomes, text = row["outcomes"], row["messages"][-1]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise ValueError(f"{path}:{number}: not a row of the route_eval format "
                             f"(messages, outcomes): {exc!r}") from None
        if weak in outcomes and strong in outcomes and isinstance(text, str):
            rows.append(row)
    return rows


def bounds(path: Path, weak: str, strong: str, seed: int = 0) -> dict[str, Any]:
    from sklearn.model_selection import KFold  # noqa: PLC0415 (analysis only: installed by make eval-bounds)

    rows = _load(path, weak, strong)
    if len(rows) < 50:
        raise ValueError(f"{path}: {len(rows)} rows have outcomes for both {weak} and {strong}; need 50")
    q_weak = np.array([r["outcomes"][weak]["score"] for r in rows], dtype=float)
    q_strong = np.array([r["outcomes"][strong]["score"] for r in rows], dtype=float)
    texts = [r["messages"][-1]["content"] for r in rows]
    wins = q_strong > q_weak
    rng = np.random.default_rng(seed)
    jitter = 1e-9 * rng.random(len(rows))  # ties in a coarse score are broken at random, not by file order
    out: dict[str, Any] = {"weak": weak, "strong": strong, "rows": len(rows),
                           "all_weak": round(float(q_weak.mean()), 4), "all_strong": round(float(q_strong.mean()), 4)}

    cats = [str(r.get("category") or "") for r in rows]
    mean_gain = {c: float(np.mean([s - w for s, w, k in zip(q_strong, q_weak, cats, strict=True) if k == c]))
                 for c in set(cats)}
    out["category"] = round(apgr(np.array([mean_gain[c] for c in cats]) + jitter, q_weak, q_strong), 4)

    trained_30 = rng.permutation(len(rows))[: int(0.3 * len(rows))]
    rest = np.setdiff1d(np.arange(len(rows)), trained_30)
    p = _text_model(texts, wins, trained_30, rest)
    out["text_model_30pct"] = round(apgr(p, q_weak[rest], q_strong[rest]), 4)
    folds = KFold(5, shuffle=True, random_state=seed).split(texts)
    out["text_model_80pct"] = round(float(np.mean([
        apgr(_text_model(texts, wins, tr, te), q_weak[te], q_strong[te]) for tr, te in folds])), 4)

    others = sorted({m for r in rows for m in r["outcomes"]} - {weak, strong})
    if others:
        x = np.array([[r["outcomes"].get(m, {}).get("score", 0.5) for m in others] for r in rows], dtype=float)
        score = np.empty(len(rows))
        for tr, te in KFold(5, shuffle=True, random_state=seed).split(x):
            score[te] = _logistic(x[tr], wins[tr], x[te])
        out["other_models"] = {"models": len(others), "apgr": round(apgr(score, q_weak, q_strong), 4)}
    return out


def _logistic(x_train: Any, y_train: np.ndarray, x_test: Any) -> np.ndarray:
    from sklearn.linear_model import LogisticRegression  # noqa: PLC0415

    if len(set(y_train.tolist())) < 2:
        return np.zeros(x_test.shape[0])
    return np.asarray(LogisticRegression(max_iter=2000).fit(x_train, y_train).predict_proba(x_test)[:, 1])


def _text_model(texts: list[str], wins: np.ndarray, train: np.ndarray, test: np.ndarray) -> np.ndarray:
    from scipy.sparse import hstack  # noqa: PLC0415
    from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: PLC0415

    words = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, max_features=200_000)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=3, sublinear_tf=True,
                            max_features=200_000)
    tr = [texts[i] for i in train]
    te = [texts[i] for i in test]
    x_train = hstack([words.fit_transform(tr), chars.fit_transform(tr)]).tocsr()
    x_test = hstack([words.transform(te), chars.transform(te)]).tocsr()
    return _logistic(x_train, wins[train], x_test)


def render(b: dict[str, Any]) -> str:
    lines = [f"{b['weak']} vs {b['strong']}, {b['rows']} rows (all weak {b['all_weak']}, all strong "
             f"{b['all_strong']}); APGR, random routing 0.5:",
             "| signal | APGR |", "|---|---|",
             f"| each category's true mean gain (in-sample) | {b['category']} |",
             f"| text model (TF-IDF words + characters), trained on 30 % of rows | {b['text_model_30pct']} |",
             f"| text model, trained on 80 % (five folds) | {b['text_model_80pct']} |"]
    if "other_models" in b:
        lines.append(f"| how the other {b['other_models']['models']} models did on the question (five folds; "
                     f"no router has this) | {b['other_models']['apgr']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m training.route_bounds", description=__doc__.split("\n\n")[0])
    ap.add_argument("path", type=Path)
    ap.add_argument("--weak", required=True)
    ap.add_argument("--strong", required=True)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    print(render(bounds(args.path, args.weak, args.strong, args.seed)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
