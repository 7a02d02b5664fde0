"""LightGBM text models flattened for the native scorer (``models._native.Forest``).

The text model is the artifact (small, diffable, what ``lgb.Booster`` reads); this module turns its
numerical trees into one node array: a split goes left when ``x[feature] <= threshold``, a leaf
points to itself. Thresholds become the largest float32 not above LightGBM's float64 threshold, so
comparing the float32 feature gives the same branch LightGBM takes. Categorical splits and
zero-as-missing nodes are refused by name (our features are never missing, and NaN-missing nodes
then behave as plain comparisons).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.errors import ModelError
from models import _native

_CATEGORICAL, _MISSING_ZERO = 1, 1  # decision_type bit 0; missing type in bits 2-3


def _ints(block: dict[str, str], key: str) -> list[int]:
    return [int(v) for v in block[key].split()] if block.get(key) else []


def _floats(block: dict[str, str], key: str) -> list[float]:
    return [float(v) for v in block[key].split()] if block.get(key) else []


def _blocks(text: str) -> tuple[dict[str, str], list[dict[str, str]]]:
    header, *trees = text.split("\nTree=")
    def parse(chunk: str) -> dict[str, str]:
        return dict(line.split("=", 1) for line in chunk.splitlines() if "=" in line)
    last = trees[-1].split("\nend of trees", 1)[0] if trees else ""
    return parse(header), [parse(t) for t in trees[:-1]] + ([parse(last)] if trees else [])


def _round_down_f32(thresholds: np.ndarray) -> np.ndarray:
    t32 = thresholds.astype(np.float32)
    above = t32.astype(np.float64) > thresholds
    t32[above] = np.nextafter(t32[above], np.float32(-np.inf))
    return t32


def load_forest(path: Path) -> _native.Forest:
    """The native scorer for a LightGBM text model; raw scores equal ``Booster.predict(raw_score=True)``."""
    header, trees = _blocks(path.read_text(encoding="utf-8"))
    if "average_output" in header or not trees:
        raise ModelError(f"{path}: only boosted tree models are supported (no trees or random-forest averaging)")
    n_class = int(header.get("num_tree_per_iteration", "1"))
    n_features = int(header["max_feature_idx"]) + 1
    feat: list[int] = []
    thr: list[float] = []
    left: list[int] = []
    right: list[int] = []
    value: list[float] = []
    root: list[int] = []
    depth: list[int] = []
    for t, tree in enumerate(trees):
        base = len(feat)
        root.append(base)
        leaves = _floats(tree, "leaf_value")
        n_split = int(tree["num_leaves"]) - 1  # a single-leaf tree has no split lines at all
        for d in _ints(tree, "decision_type"):
            if d & _CATEGORICAL or (d >> 2) & 3 == _MISSING_ZERO:
                raise ModelError(f"{path}: tree {t} has categorical or zero-as-missing splits, which the native "
                                 "scorer does not implement")

        def node(child: int, base: int = base, n_split: int = n_split) -> int:
            return base + child if child >= 0 else base + n_split + ~child

        feat += _ints(tree, "split_feature")
        thr += _floats(tree, "threshold")
        left += [node(c) for c in _ints(tree, "left_child")]
        right += [node(c) for c in _ints(tree, "right_child")]
        value += [0.0] * n_split
        leaf_nodes = range(base + n_split, base + n_split + len(leaves))  # after the splits, looping to themselves
        feat += [0] * len(leaves)
        thr += [np.inf] * len(leaves)
        left += leaf_nodes
        right += leaf_nodes
        value += leaves
        depth.append(_depth(left[base:], right[base:], base))
    if max(depth) > 255:
        raise ModelError(f"{path}: a tree deeper than 255 splits; the native scorer caps depth at 255")
    if len(trees) % n_class:
        raise ModelError(f"{path}: {len(trees)} trees is not a multiple of {n_class} classes")
    return _native.Forest(
        np.asarray(feat, dtype=np.int32), _round_down_f32(np.asarray(thr, dtype=np.float64)),
        np.asarray(left, dtype=np.int32), np.asarray(right, dtype=np.int32), np.asarray(value, dtype=np.float64),
        np.asarray(root, dtype=np.int32), np.asarray(depth, dtype=np.uint8), n_class, n_features)


def _depth(left: list[int], right: list[int], base: int) -> int:
    """Splits on the longest root-to-leaf path (leaves point to themselves)."""
    best, stack = 0, [(base, 0)]
    while stack:
        i, d = stack.pop()
        lo, hi = left[i - base], right[i - base]
        if lo == i:
            best = max(best, d)
            continue
        stack += [(lo, d + 1), (hi, d + 1)]
    return best
