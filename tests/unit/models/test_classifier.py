"""The committed classifier artifact: loads, agrees between paths, and handles other languages."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from core.config import REPO_ROOT
from core.errors import ModelError
from core.request import Request
from models.classifier import ARTIFACTS, LgbmClassifier
from models.features import FEATURE_VERSION

CHECK_SET = [json.loads(line) for line in (REPO_ROOT / "tests/golden/multilingual_check.jsonl").open()]


def _req(text: str, **kw: object) -> Request:
    return Request(request_id="r", tenant="t", messages=[{"role": "user", "content": text}], **kw)


@pytest.fixture(scope="module")
def clf() -> LgbmClassifier:
    return LgbmClassifier()


def test_version_and_probabilities(clf: LgbmClassifier) -> None:
    c = clf.classify_one(_req("Write a Python function that reverses a linked list."))
    assert c.model_version == clf.version and c.feature_version == FEATURE_VERSION
    assert c.task_type == "code"
    assert sum(c.task_probs.values()) == pytest.approx(1.0, abs=1e-3)
    assert sum(c.tier_probs.values()) == pytest.approx(1.0, abs=1e-3)
    assert c.tier in (1, 2, 3) and 0 < c.confidence <= 1


def test_single_and_batch_paths_agree(clf: LgbmClassifier) -> None:
    reqs = [_req(row["text"]) for row in CHECK_SET[:20]]
    batched = clf.classify_batch(reqs)
    for r, b in zip(reqs, batched, strict=True):
        assert clf.classify_one(r) == b


def test_caller_hint_wins_but_probabilities_stay(clf: LgbmClassifier) -> None:
    c = clf.classify_one(_req("hello there", task_type="summarization"))
    assert c.task_type == "summarization"
    assert max(c.task_probs, key=c.task_probs.get) != "summarization"


def test_pii_flag(clf: LgbmClassifier) -> None:
    assert clf.classify_one(_req("Email jane.doe@example.com about the invoice")).pii
    assert clf.classify_one(_req("カードは 4111 1111 1111 1111 です")).pii
    assert not clf.classify_one(_req("What is 2+2? Order #12345678-9 shipped.")).pii


def test_multilingual_check_set(clf: LgbmClassifier) -> None:
    """Hand-written prompts phrased unlike the training templates (mostly Japanese)."""
    preds = clf.classify_batch([_req(row["text"]) for row in CHECK_SET])
    hits = [p.task_type == row["task"] for p, row in zip(preds, CHECK_SET, strict=True)]
    ja_hits = [h for h, row in zip(hits, CHECK_SET, strict=True) if row["lang"] == "ja"]
    misses = [(r["text"][:20], p.task_type) for r, p, h in zip(CHECK_SET, preds, hits, strict=True) if not h]
    assert sum(hits) / len(hits) >= 0.6, misses
    assert sum(ja_hits) / len(ja_hits) >= 0.5


def test_feature_layout_mismatch_is_refused(tmp_path: Path) -> None:
    shutil.copytree(ARTIFACTS, tmp_path / "a")
    manifest = json.loads((tmp_path / "a/manifest.json").read_text())
    manifest["feature_version"] = "f0"
    (tmp_path / "a/manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="trained on features 'f0'"):
        LgbmClassifier(tmp_path / "a")


def test_missing_artifact_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"python -m training\.train"):
        LgbmClassifier(tmp_path)
