"""Topic clusters: bounded, deterministic, found topics where the traffic is and follow it."""

from __future__ import annotations

import numpy as np

from core.topic_clusters import TopicClusters

DIM = 64


def _unit(seed: int, n: int = 1) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=(n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _around(centre: np.ndarray, seed: int, n: int, noise: float = 0.01) -> np.ndarray:
    v = centre + noise * np.random.default_rng(seed).normal(size=(n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_an_empty_level_assigns_nothing_and_the_first_prompts_found_topics() -> None:
    clusters = TopicClusters((4,), DIM)
    assert (clusters.assign(_unit(1, 3)) == -1).all()
    topics = _unit(2, 3)
    clusters.update(np.concatenate([_around(t, i, 5) for i, t in enumerate(topics)]))
    assert clusters._used == [3]  # near-duplicates joined their topic instead of founding one
    got = clusters.assign(np.concatenate([_around(t, 10 + i, 4) for i, t in enumerate(topics)]))[:, 0]
    assert [len(set(got[i * 4:(i + 1) * 4])) for i in range(3)] == [1, 1, 1] and len(set(got)) == 3


def test_size_is_bounded_and_centroids_stay_unit_vectors() -> None:
    clusters = TopicClusters((8, 32), DIM)
    before = clusters.nbytes()
    for s in range(30):
        clusters.update(_unit(s, 50))
    assert clusters.nbytes() == before and clusters._used == [8, 32]
    for cents in clusters._centroids:
        assert np.allclose(np.linalg.norm(cents, axis=1), 1.0, atol=1e-4)


def test_a_full_level_follows_the_traffic() -> None:
    clusters = TopicClusters((1,), DIM, max_weight=10)
    old, new = _unit(1)[0], _unit(2)[0]
    clusters.update(_around(old, 3, 20))
    assert float(clusters._centroids[0][0] @ old) > 0.99
    for s in range(10):
        clusters.update(_around(new, 10 + s, 20))
    assert float(clusters._centroids[0][0] @ new) > 0.95  # the one centroid moved to where prompts are now


def test_the_same_prompts_in_the_same_order_give_the_same_topics() -> None:
    a, b = TopicClusters((16, 64), DIM), TopicClusters((16, 64), DIM)
    for s in range(5):
        batch = _unit(s, 40)
        a.update(batch)
        b.update(batch)
    probe = _unit(99, 100)
    assert (a.assign(probe) == b.assign(probe)).all()
