"""The prompt embedder: offline WordLlama vectors, tokenised a word at a time through a bounded cache."""

from __future__ import annotations

import numpy as np
import pytest

from models import embedding
from models.embedding import DIM, PromptEmbedder


@pytest.fixture(scope="module")
def embedder() -> PromptEmbedder:
    return PromptEmbedder()


def test_vectors_are_unit_length_and_near_for_prompts_about_the_same_thing(embedder: PromptEmbedder) -> None:
    v = embedder.embed(["Write a Python function that reverses a linked list.",
                        "Implement linked list reversal in Python.",
                        "What is the capital of France?", ""])
    assert v.shape == (4, DIM) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v[:3], axis=1), 1.0, atol=1e-5)
    assert not v[3].any()  # nothing to embed: a zero vector, which the memory treats as no evidence
    assert v[0] @ v[1] > v[0] @ v[2] + 0.1


def test_word_at_a_time_ids_equal_the_whole_string_ones_on_plain_text(embedder: PromptEmbedder) -> None:
    text = "Explain how a hash map resolves collisions, with an example in Java and its cost."
    whole = embedder._tokenizer.encode(text, add_special_tokens=False).ids
    assert embedder.token_ids(text) == whole
    assert embedder.token_ids(text) == whole  # and again from the cache
    assert embedder.token_ids("x" * 5000) == embedder.token_ids("x" * embedding.MAX_CHARS)  # only the head


def test_the_word_cache_is_bounded(embedder: PromptEmbedder, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedding, "WORD_CACHE", 50)
    for i in range(400):
        embedder.token_ids(f"word{i} other{i} third{i}")
        assert len(embedder._words) <= 50
    assert embedder.token_ids("word7 other7") == embedder._tokenizer.encode("word7 other7",
                                                                            add_special_tokens=False).ids


def test_neighbour_agreement_counts_rows_whose_neighbours_share_their_task() -> None:
    from training.embedding_eval import agreement

    rng = np.random.default_rng(0)
    centres = rng.normal(size=(2, DIM))
    vecs = np.concatenate([c + 0.05 * rng.normal(size=(12, DIM)) for c in centres]).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    tasks = ["math"] * 12 + ["code"] * 12
    assert agreement(vecs, tasks, k=5, chunk=7).all()
    tasks[0] = "code"  # a mislabelled row: its neighbours say math
    assert not agreement(vecs, tasks, k=5)[0]
