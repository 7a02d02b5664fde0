"""Labelled training rows from ../shared/data (training time only; the service never imports this).

Each row: the prompt text, its source, a task type, and where the data gives them a tier (from
real per-model outcomes or MATH levels) and a domain. Tier targets:

- MMLU-Pro: the cheapest tier whose representative model answered correctly
  (1: Llama-3.1-8B-Instruct, 2: Gemini-1.5-Flash or Llama-3.1-70B-Instruct, 3: none of those).
- LLMRouter: the share of the seven general models scoring >= 0.5 (>= 5/7 -> 1, >= 2/7 -> 2, else 3).
- MATH: Level 1-2 -> 1, Level 3-4 -> 2, Level 5 -> 3.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TASKS = ("code", "math", "reasoning", "knowledge_qa", "extraction", "summarization", "writing", "chat")
# Only domains the data at hand covers (MMLU-Pro's non-MMLU part has no law, health or history rows).
DOMAINS = ("math", "science", "computer_science", "finance", "engineering", "social_science", "general")
_MMLU_DOMAIN = {
    "law": "law", "health": "health", "business": "finance", "economics": "finance", "physics": "science",
    "chemistry": "science", "biology": "science", "engineering": "engineering", "computer science":
    "computer_science", "history": "humanities", "philosophy": "humanities", "psychology": "social_science",
    "math": "math", "other": "general",
}
_TASK_DOMAIN = {"math": "math", "code": "computer_science"}
_LLMROUTER_DOMAIN = {"arc_challenge": "science", "openbook_qa": "science"}
_LLMROUTER_TASK = {
    "math": "math", "gsm8k": "math", "agentverse-mgsm": "math", "mbpp": "code", "human_eval": "code",
    "natural_qa": "knowledge_qa", "trivia_qa": "knowledge_qa", "commonsense_qa": "reasoning",
    "openbook_qa": "reasoning", "arc_challenge": "reasoning", "agentverse-logicgrid": "reasoning",
    "commongen": "writing",
}
_LLMROUTER_GENERAL = ("llama-3.1-nemotron-51b-instruct", "qwen2.5-7b-instruct", "llama-3.3-nemotron-super-49b-v1",
                      "llama-3.1-8b-instruct", "gemma-2-9b-it", "mistral-7b-instruct-v0.3", "codegemma-7b")
_VICUNA_TASK = {"writing": "writing", "roleplay": "chat", "coding": "code", "math": "math", "fermi": "reasoning",
                "common-sense": "reasoning", "counterfactual": "reasoning", "knowledge": "knowledge_qa",
                "generic": "knowledge_qa"}
MMLU_TIER_MODELS = (("Meta-Llama-3_1-8B-Instruct",), ("gemini-1.5-flash-002", "Meta-Llama-3_1-70B-Instruct"))


@dataclass(frozen=True, slots=True)
class Row:
    text: str
    source: str
    task: str | None  # None: no task label (the row only teaches the tier head)
    tier: int | None = None
    domain: str | None = None
    lang: str = "en"


def read_jsonl(path: Path) -> Iterator[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def gsm8k(root: Path) -> Iterator[Row]:
    for r in read_jsonl(root / "gsm8k/train.jsonl"):
        yield Row(r["question"], "gsm8k", "math", domain="math")


def math_competition(root: Path) -> Iterator[Row]:
    for r in read_jsonl(root / "math/train.jsonl.gz"):
        level = r.get("level", "")
        tier = {"Level 1": 1, "Level 2": 1, "Level 3": 2, "Level 4": 2, "Level 5": 3}.get(level)
        yield Row(r["problem"], "math", "math", tier=tier, domain="math")


def mbpp(root: Path) -> Iterator[Row]:
    for r in read_jsonl(root / "mbpp/mbpp.jsonl"):
        yield Row(r["text"], "mbpp", "code", domain="computer_science")


def humaneval(root: Path) -> Iterator[Row]:
    for r in read_jsonl(root / "humaneval/HumanEval.jsonl.gz"):
        yield Row("Complete this Python function:\n" + r["prompt"], "humaneval", "code", domain="computer_science")


def mmlu_text(q: dict[str, Any]) -> str:
    """An MMLU-Pro question as the router sees it: the question, then its lettered options."""
    return q["question"] + "\nOptions:\n" + "\n".join(f"{chr(65 + i)}. {o}" for i, o in enumerate(q["options"]))


def mmlu_outcomes(root: Path) -> dict[str, dict[str, str]]:
    """The MMLU-Pro correctness matrix by question id: model -> "1", "0" or "" (no answer recorded)."""
    with gzip.open(root / "mmlu_pro/correctness_matrix.csv.gz", "rt") as f:
        return {r["question_id"]: r for r in csv.DictReader(io.StringIO(f.read()))}


def mmlu_pro(root: Path) -> Iterator[Row]:
    outcomes = mmlu_outcomes(root)
    for q in read_jsonl(root / "mmlu_pro/questions.jsonl.gz"):
        domain = _MMLU_DOMAIN.get(q["category"], "other")
        yield Row(mmlu_text(q), "mmlu_pro", "knowledge_qa", tier=_mmlu_tier(outcomes.get(str(q["question_id"]))),
                  domain=domain)


def _mmlu_tier(row: dict | None) -> int | None:
    if row is None:
        return None
    for tier, models in enumerate(MMLU_TIER_MODELS, start=1):
        values = [row.get(m, "") for m in models]
        if all(v == "" for v in values):
            return None
        if any(v == "1" for v in values):
            return tier
    return 3


def llmrouter(root: Path) -> Iterator[Row]:
    for split in ("train.json", "test.json"):
        for r in json.loads((root / "llmrouter" / split).read_text()):
            task = _LLMROUTER_TASK.get(r["task_name"])
            if task is None:
                continue
            scores = r.get("scores") or {}
            ok = sum(1 for m in _LLMROUTER_GENERAL if scores.get(m, 0) >= 0.5)
            tier = 1 if ok >= 5 else 2 if ok >= 2 else 3
            domain = _LLMROUTER_DOMAIN.get(r["task_name"]) or _TASK_DOMAIN.get(task, "general")
            yield Row(r["question"], f"llmrouter:{r['task_name']}", task, tier=tier, domain=domain)


def vicuna(root: Path) -> Iterator[Row]:
    for r in read_jsonl(root / "vicuna_bench/question.jsonl"):
        task = _VICUNA_TASK.get(r["category"], "knowledge_qa")
        yield Row(r["turns"][0], "vicuna_bench", task, domain=_TASK_DOMAIN.get(task, "general"))


def arena_hard(root: Path) -> Iterator[Row]:
    """Hard real-user prompts; task from the topic cluster name where it says so."""
    for r in read_jsonl(root / "arena_hard/question.jsonl"):
        cluster = r.get("cluster", "").lower()
        if any(k in cluster for k in ("code", "program", "python", "sql", "script", "software", "web", "data",
                                      "api", "java", "c++", "linux", "excel", "bash", "development")):
            task = "code"
        elif any(k in cluster for k in ("math", "calcul", "probab", "geometry", "algebra", "number")):
            task = "math"
        elif any(k in cluster for k in ("writing", "story", "poem", "essay", "marketing", "content", "copy")):
            task = "writing"
        else:
            continue  # not sure what it is: leave it out rather than teach noise
        yield Row(r["turns"][0]["content"], "arena_hard", task, tier=3, domain=_TASK_DOMAIN.get(task, "general"))


SOURCES = (gsm8k, math_competition, mbpp, humaneval, mmlu_pro, llmrouter, vicuna, arena_hard)


def load_all(root: Path) -> list[Row]:
    rows: list[Row] = []
    for source in SOURCES:
        rows.extend(source(root))
    return rows
