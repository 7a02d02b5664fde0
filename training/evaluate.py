"""Evaluation report for the committed classifier artifacts.

    python -m training.evaluate [--data ../shared/data] [--quick]

Writes models/artifacts/eval_report.md (and eval.json): per head accuracy, macro-F1,
per-class precision/recall, confusion matrix and calibration (ECE, reliability table) on the
held-out test rows; task accuracy per source; the hand-written multilingual check set; and,
unless --quick, leave-one-source-out results (retrain without a source, test on all of it),
which say how the classifier does on prompts unlike its training data.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from core.config import REPO_ROOT
from core.request import Request
from models.classifier import ARTIFACTS, LgbmClassifier
from models.features import featurize_batch
from training.datasets import Row
from training.metrics import report, softmax
from training.train import DEFAULT_DATA, HEADS, Head, corpus, split_of, train_head

CHECK_SET = REPO_ROOT / "tests" / "golden" / "multilingual_check.jsonl"
HOLDOUT_GROUPS = {
    "task": ("gsm8k", "math", "mbpp", "humaneval", "mmlu_pro", "llmrouter", "vicuna_bench", "arena_hard",
             "synthetic:ja"),
    "tier": ("math", "mmlu_pro", "llmrouter"),
}


def group_of(source: str) -> str:
    return source.split(":")[0] if source.startswith("llmrouter") else source


def head_report(clf: LgbmClassifier, head: Head, rows: list[Row], x: np.ndarray) -> dict[str, Any]:
    idx = [i for i in head.labelled(rows) if split_of(rows[i].text) == "test"]
    y = np.array([head.classes.index(head.label(rows[i])) for i in idx])
    probs = clf.heads[head.name].probs(np.ascontiguousarray(x[idx]))
    out = report(y, probs, head.classes)
    by_source: dict[str, list[bool]] = defaultdict(list)
    for i, yi, p in zip(idx, y, probs.argmax(axis=1), strict=True):
        by_source[group_of(rows[i].source)].append(bool(yi == p))
    out["accuracy_by_source"] = {s: round(float(np.mean(v)), 3) for s, v in sorted(by_source.items())}
    return out


def holdout(head: Head, rows: list[Row], x: np.ndarray, group: str) -> dict[str, Any]:
    """Train without ``group`` (its rows in no split), evaluate on every row of it."""
    idx = head.labelled(rows)
    inside = [i for i in idx if group_of(rows[i].source) == group]
    rest = [i for i in idx if group_of(rows[i].source) != group]
    if not inside:
        return {"n": 0}
    y = {i: head.classes.index(head.label(rows[i])) for i in idx}
    tr = [i for i in rest if split_of(rows[i].text) != "val"]
    va = [i for i in rest if split_of(rows[i].text) == "val"]
    booster = train_head(x[tr], np.array([y[i] for i in tr]), x[va], np.array([y[i] for i in va]),
                         len(head.classes), rounds=150)
    probs = softmax(np.asarray(booster.predict(x[inside], raw_score=True)))
    r = report(np.array([y[i] for i in inside]), probs, head.classes)
    return {k: r[k] for k in ("n", "accuracy", "macro_f1", "ece")}


def check_set(clf: LgbmClassifier) -> dict[str, Any]:
    rows = [json.loads(line) for line in CHECK_SET.open(encoding="utf-8")]
    preds = clf.classify_batch([Request("r", "t", [{"role": "user", "content": r["text"]}]) for r in rows])
    by_lang: dict[str, list[bool]] = defaultdict(list)
    misses = []
    for r, p in zip(rows, preds, strict=True):
        by_lang[r["lang"]].append(p.task_type == r["task"])
        if p.task_type != r["task"]:
            misses.append({"text": r["text"][:60], "expected": r["task"], "predicted": p.task_type})
    hits = [h for v in by_lang.values() for h in v]
    return {"n": len(hits), "accuracy": round(float(np.mean(hits)), 3),
            "by_language": {k: f"{sum(v)}/{len(v)}" for k, v in by_lang.items()}, "misses": misses}


def render(result: dict[str, Any]) -> str:
    lines = [f"# Classifier evaluation: {result['model_version']}", "",
             "Held-out test rows are 10% of every source, chosen by a hash of the text (the same split "
             "as training). Leave-one-source-out retrains without a source and tests on all of it.", ""]
    for name, r in result["heads"].items():
        lines += [f"## {name} head", "",
                  f"test rows {r['n']}, accuracy **{r['accuracy']}**, macro-F1 **{r['macro_f1']}**, "
                  f"ECE {r['ece']}", "", "| class | precision | recall | F1 | support |", "|---|---|---|---|---|"]
        lines += [f"| {c} | {m['precision']} | {m['recall']} | {m['f1']} | {m['support']} |"
                  for c, m in r["per_class"].items()]
        classes = list(r["per_class"])
        lines += ["", "Confusion (rows: true, columns: predicted):", "", "| | " + " | ".join(classes) + " |",
                  "|---|" + "---|" * len(classes)]
        lines += [f"| {c} | " + " | ".join(map(str, row)) + " |" for c, row in zip(classes, r["confusion"],
                                                                                   strict=True)]
        lines += ["", "Calibration (top-label confidence vs accuracy):", "", "| bin | n | confidence | accuracy |",
                  "|---|---|---|---|"]
        lines += [f"| {b['bin']} | {b['n']} | {b['confidence']} | {b['accuracy']} |" for b in r["reliability"]]
        lines += ["", "Accuracy by source (test rows): " + ", ".join(f"{s} {a}" for s, a in
                                                                    r["accuracy_by_source"].items()), ""]
    if result.get("holdout"):
        lines += ["## Leave one source out", "", "| head | held-out source | rows | accuracy | macro-F1 |",
                  "|---|---|---|---|---|"]
        for head, groups in result["holdout"].items():
            lines += [f"| {head} | {g} | {m['n']} | {m.get('accuracy', '-')} | {m.get('macro_f1', '-')} |"
                      for g, m in groups.items()]
        lines.append("")
    cs = result["check_set"]
    lines += ["## Multilingual check set (hand-written, tests/golden/multilingual_check.jsonl)", "",
              f"accuracy {cs['accuracy']} on {cs['n']} prompts; by language: "
              + ", ".join(f"{k} {v}" for k, v in cs["by_language"].items()), ""]
    lines += [f"- `{m['text']}`: expected {m['expected']}, got {m['predicted']}" for m in cs["misses"]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.evaluate")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=ARTIFACTS)
    parser.add_argument("--quick", action="store_true", help="skip the leave-one-source-out retraining")
    args = parser.parse_args(argv)
    clf = LgbmClassifier(args.out)
    rows = corpus(args.data)
    x = featurize_batch([(r.text, 1, False) for r in rows])
    result: dict[str, Any] = {"model_version": clf.version,
                              "heads": {h.name: head_report(clf, h, rows, x) for h in HEADS},
                              "check_set": check_set(clf)}
    if not args.quick:
        heads = {h.name: h for h in HEADS}
        result["holdout"] = {name: {g: holdout(heads[name], rows, x, g) for g in groups}
                             for name, groups in HOLDOUT_GROUPS.items()}
    (args.out / "eval.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    (args.out / "eval_report.md").write_text(render(result), encoding="utf-8")
    for name, r in result["heads"].items():
        print(f"{name}: accuracy {r['accuracy']} macro-F1 {r['macro_f1']} ECE {r['ece']}")
    print(f"check set: {result['check_set']['accuracy']} {result['check_set']['by_language']}")
    for head, groups in result.get("holdout", {}).items():
        print(f"holdout {head}: " + ", ".join(f"{g} {m.get('accuracy')}" for g, m in groups.items()))
    print(f"wrote {args.out / 'eval_report.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
