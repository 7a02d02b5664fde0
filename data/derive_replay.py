"""Derive data/replay_quality.jsonl: real per-tier outcomes for the MMLU-Pro prompts in the demo workload,
and data/learning_phase.jsonl: the same for 400 MMLU-Pro questions the classifier never trained on
(its hash split's test part), for the demo's learning phase.

    python data/derive_replay.py [--shared ../shared/data]

For each MMLU-Pro question in data/demo_prompts.jsonl: whether the model standing in for each tier
answered it correctly in the MMLU-Pro correctness matrix (tier 1 Llama-3.1-8B-Instruct, tier 2
Gemini-1.5-Flash, tier 3 GPT-4o). The simulator replays these so a weak tier fails the questions
it really failed. Licence: see LICENSES.md (MMLU-Pro, Apache-2.0 / MIT).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import random
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
TIER_MODELS = {"1": "Meta-Llama-3_1-8B-Instruct", "2": "gemini-1.5-flash-002", "3": "gpt-4o-2024-05-13"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", type=Path, default=HERE.parents[1] / "shared" / "data")
    args = parser.parse_args()
    with gzip.open(args.shared / "mmlu_pro/correctness_matrix.csv.gz", "rt") as f:
        matrix = {r["question_id"]: r for r in csv.DictReader(io.StringIO(f.read()))}
    by_text = {}
    with gzip.open(args.shared / "mmlu_pro/questions.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            q = json.loads(line)
            text = q["question"] + "\nOptions:\n" + "\n".join(f"{chr(65 + i)}. {o}" for i, o in enumerate(q["options"]))
            row = matrix.get(str(q["question_id"]))
            if row and all(row.get(m) in ("0", "1") for m in TIER_MODELS.values()):
                by_text[text] = {t: int(row[m]) for t, m in TIER_MODELS.items()}
    out = []
    with (HERE / "demo_prompts.jsonl").open(encoding="utf-8") as f:
        for line in f:
            p = json.loads(line)
            if p["source"] == "mmlu_pro" and p["prompt"] in by_text:
                out.append({"prompt": p["prompt"], "correct_by_tier": by_text[p["prompt"]]})
    with (HERE / "replay_quality.jsonl").open("w", encoding="utf-8") as f:
        for r in out:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"wrote {len(out)} prompts with per-tier outcomes")
    # held out from the classifier: crc32(text) % 100 >= 90 is training.train's test split
    unseen = sorted(t for t in by_text if zlib.crc32(t.encode()) % 100 >= 90)
    picked = random.Random(13).sample(unseen, min(400, len(unseen)))
    with (HERE / "learning_phase.jsonl").open("w", encoding="utf-8") as f:
        for t in picked:
            f.write(json.dumps({"prompt": t, "correct_by_tier": by_text[t]}, ensure_ascii=False) + "\n")
    print(f"wrote {len(picked)} held-out questions for the learning phase")


if __name__ == "__main__":
    main()
