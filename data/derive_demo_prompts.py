"""Derive data/demo_prompts.jsonl from ../shared/data (run once; the output is committed).

    python data/derive_demo_prompts.py [--shared ../shared/data]

Deterministic (fixed seed). Each row: {"source", "category", "prompt"}. Licences: LICENSES.md.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
from pathlib import Path

OUT = Path(__file__).with_name("demo_prompts.jsonl")

# Hand-written prompts for what the public sets lack: Japanese, extraction, summarisation, chat.
HANDWRITTEN = [
    ("ja", "chat", "こんにちは！今日のおすすめの夕食を教えてください。"),
    ("ja", "writing", "春をテーマにした短い詩を書いてください。"),
    ("ja", "code", "Pythonでリストの重複を削除する関数を書いてください。"),
    ("ja", "math", "方程式 3x + 5 = 20 を解いてください。途中の計算も示してください。"),
    ("ja", "summarization", "次の文章を三行で要約してください：東京は日本の首都であり、世界最大級の都市圏を持つ。"
     "政治、経済、文化の中心地として発展してきた。近年は観光客も増えている。"),
    ("ja", "knowledge_qa", "富士山の標高は何メートルですか？"),
    ("ja", "reasoning", "なぜ空は青いのか、子供にもわかるように説明してください。"),
    ("ja", "extraction", "次のメールから日付と場所を抽出してください：「来週の火曜日、3月12日に大阪支社で会議を行います。」"),
    ("en", "extraction", "Extract every person and organisation named in: 'Ada Lovelace worked with Charles Babbage "
     "on the Analytical Engine, later studied by the Science Museum in London.'"),
    ("en", "extraction", "Classify the sentiment of this review as positive, negative or neutral: 'The battery lasts "
     "two days but the screen scratches far too easily.'"),
    ("en", "summarization", "Summarize in two sentences: The committee met for three hours and agreed to postpone "
     "the budget vote until the auditors deliver their report, expected in late spring."),
    ("en", "chat", "hey, how's it going?"),
    ("en", "chat", "Thanks, that helped a lot!"),
    ("en", "roleplay", "Pretend you are a medieval innkeeper and greet a tired traveller."),
    ("de", "knowledge_qa", "Wie hoch ist die Zugspitze?"),
    ("fr", "writing", "Écris un court message pour remercier un collègue de son aide."),
    ("zh", "knowledge_qa", "长城有多长？"),
    ("ko", "chat", "안녕하세요, 오늘 날씨 어때요?"),
]


def _jsonl(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def derive(shared: Path, rng: random.Random) -> list[dict]:
    rows: list[dict] = []

    def take(source: str, category: str, prompts: list[str], n: int) -> None:
        for p in rng.sample(prompts, min(n, len(prompts))):
            rows.append({"source": source, "category": category, "prompt": p})

    take("gsm8k", "math", [r["question"] for r in _jsonl(shared / "gsm8k/train.jsonl")], 60)
    take("math", "math", [r["problem"] for r in _jsonl(shared / "math/train.jsonl.gz")], 40)
    take("mbpp", "code", [r["text"] for r in _jsonl(shared / "mbpp/mbpp.jsonl")], 50)
    take("humaneval", "code", ["Complete this Python function:\n" + r["prompt"]
                               for r in _jsonl(shared / "humaneval/HumanEval.jsonl.gz")], 30)
    mmlu = _jsonl(shared / "mmlu_pro/questions.jsonl.gz")
    take("mmlu_pro", "knowledge_qa", [
        r["question"] + "\nOptions:\n" + "\n".join(f"{chr(65 + i)}. {o}" for i, o in enumerate(r["options"]))
        for r in mmlu], 70)
    vicuna = _jsonl(shared / "vicuna_bench/question.jsonl")
    for r in vicuna:
        rows.append({"source": "vicuna_bench", "category": r["category"], "prompt": r["turns"][0]})
    take("arena_hard", "hard", [r["turns"][0]["content"] for r in _jsonl(shared / "arena_hard/question.jsonl")], 60)
    for lang, category, prompt in HANDWRITTEN:
        rows.append({"source": f"handwritten-{lang}", "category": category, "prompt": prompt})
    rng.shuffle(rows)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    args = parser.parse_args()
    rows = derive(args.shared, random.Random(20261122))
    with OUT.open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} prompts to {OUT}")


if __name__ == "__main__":
    main()
