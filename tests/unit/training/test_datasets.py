from __future__ import annotations

import gzip
import json
from pathlib import Path

from training import datasets


def test_mmlu_readers(tmp_path: Path) -> None:
    (tmp_path / "mmlu_pro").mkdir()
    q = {"question_id": 7, "question": "2+2?", "options": ["3", "4"], "category": "math"}
    with gzip.open(tmp_path / "mmlu_pro/questions.jsonl.gz", "wt") as f:
        f.write(json.dumps(q) + "\n")
    with gzip.open(tmp_path / "mmlu_pro/correctness_matrix.csv.gz", "wt") as f:
        f.write("question_id,Meta-Llama-3_1-8B-Instruct,gemini-1.5-flash-002,Meta-Llama-3_1-70B-Instruct\n7,0,1,\n")
    assert list(datasets.read_jsonl(tmp_path / "mmlu_pro/questions.jsonl.gz")) == [q]
    assert datasets.mmlu_text(q) == "2+2?\nOptions:\nA. 3\nB. 4"
    rows = list(datasets.mmlu_pro(tmp_path))
    assert [(r.text, r.tier, r.domain) for r in rows] == [("2+2?\nOptions:\nA. 3\nB. 4", 2, "math")]
