"""Prequential evaluation on a small labelled set where the weak model fails one kind of prompt."""

from __future__ import annotations

import json
from pathlib import Path

from models import prequential

MODELS = ["weak", "strong"]


def _rows(path: Path) -> Path:
    lines = []
    for i in range(120):
        if i % 2:
            text, weak = f"Compute the integral of x^{i % 7 + 2} sin(x) from 0 to pi and prove it step by step.", 0.0
        else:
            text, weak = f"Say hello to my friend number {i} in a cheerful way.", 1.0
        lines.append(json.dumps({"id": f"q{i}", "messages": [{"role": "user", "content": text}],
                                 "outcomes": {"weak": {"score": weak}, "strong": {"score": 1.0}}}))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_the_memory_learns_which_prompts_the_weak_model_fails(tmp_path: Path) -> None:
    prices = [0.05, 0.08, 2.5, 10.0]
    rows = prequential.load(_rows(tmp_path / "rows.jsonl"), MODELS, True, prequential.ARTIFACTS, prices)
    for feedback, explore in (("full", 0.05), ("bandit", 0.3)):  # 84 rows: bandit learns only by exploring
        table = prequential.run(rows, MODELS, prices, feedback, seed=1, explore=explore,
                                decisions_path=tmp_path / f"{feedback}.jsonl")
        late = table[-1]
        assert late["seen_share"] == 0.7
        # half the prompts need the strong model: a perfect router's APGR is 0.75, random's 0.5
        assert late["memory"]["apgr"] > 0.72, (feedback, late["memory"])
        assert late["memory"]["apgr"] > late["prior_alone"]["apgr"] + 0.2
        assert late["memory"]["cost_saved_at_95pct"] > 30
    decisions = [json.loads(line) for line in (tmp_path / "bandit.jsonl").read_text().splitlines()]
    assert len(decisions) == 120 and set(decisions[0]["estimates"]) == set(MODELS)
    assert all(d["revealed"][0] == d["chosen"] for d in decisions)  # bandit: the chosen model's outcome first
