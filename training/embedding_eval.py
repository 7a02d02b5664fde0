"""How well the prompt embedding groups prompts by task, per language: ``python -m training.embedding_eval``.

For every labelled prompt of the training corpus (shared data plus the templated rows), the task
most common among its 10 nearest other prompts (cosine, over all languages) is compared with its
own: with the embedding alone, and with the vector the quality memory compares (the embedding and
the prompt's word buckets, ``core/lexical.py``). Non-English prompts here are templated
(``training/synthetic.py``), so their figures are an upper bound: near-duplicates of one template find
each other easily. English rows are real prompts.
"""

from __future__ import annotations

import argparse
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from core.lexical import word_buckets
from core.prompt_vector import decode_vector, encode_vector
from models.embedding import PromptEmbedder
from training.train import DEFAULT_DATA, corpus

K = 10


def agreement(vecs: np.ndarray, tasks: list[str], k: int = K, chunk: int = 2048) -> np.ndarray:
    """Per row: 1 when the majority task of its k nearest other rows is its own task."""
    hits = np.zeros(len(tasks), dtype=bool)
    for lo in range(0, len(tasks), chunk):
        sims = vecs[lo:lo + chunk] @ vecs.T
        for i in range(sims.shape[0]):
            sims[i, lo + i] = -2.0  # not itself
        top = np.argpartition(-sims, k, axis=1)[:, :k]
        for i, nn in enumerate(top):
            hits[lo + i] = Counter(tasks[j] for j in nn).most_common(1)[0][0] == tasks[lo + i]
    return hits


def _joined(vec: np.ndarray, text: str) -> np.ndarray:
    out = decode_vector(encode_vector(vec, word_buckets(text)))
    assert out is not None  # a finite unit vector always decodes
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.embedding_eval", description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args(argv)
    rows = [r for r in corpus(args.data) if r.task is not None]
    vecs = PromptEmbedder().embed([r.text for r in rows])
    joined = np.stack([_joined(v, r.text) for v, r in zip(vecs, rows, strict=True)])
    tasks = [str(r.task) for r in rows]
    by_lang: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
    for r, h, j in zip(rows, agreement(vecs, tasks), agreement(joined, tasks), strict=True):
        by_lang[r.lang].append((bool(h), bool(j)))
    print(f"| language | prompts | task of the {K} nearest = own task: embedding | embedding and words |\n"
          "|---|---|---|---|")
    for lang, hs in sorted(by_lang.items(), key=lambda kv: -len(kv[1])):
        print(f"| {lang} | {len(hs)} | {np.mean([h for h, _ in hs]):.3f} | {np.mean([j for _, j in hs]):.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
