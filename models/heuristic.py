"""A rule-based classifier: the stand-in until the LightGBM models land (issue 3).

It implements ``core.ports.Classifier`` exactly as the learned one will: a batch of requests
in, one ``Classification`` each out, with probabilities, a confidence and a version.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from core.events import Classification, Request

VERSION = "heuristic-1"

_CODE = re.compile(r"```|\bdef |\bclass |\bfunction\b|\bimport |#include|\breturn\b|\bpython\b|\bjavascript\b|"
                   r"\bSQL\b|\bcode\b|\bprogram\b|\bregex\b|コード|関数", re.IGNORECASE)
_MATH = re.compile(r"\d+\s*[-+*/^=]\s*\d+|\$[^$]+\$|\\frac|\bsolve\b|\bequation\b|\bintegral\b|\bprobability\b|"
                   r"\bhow many\b|\bhow much\b|\bcalculate\b|計算|方程式", re.IGNORECASE)
_SUMMARY = re.compile(r"\bsummar|\btl;?dr\b|要約", re.IGNORECASE)
_EXTRACT = re.compile(r"\bextract\b|\bclassify\b|\blabel\b|\bwhich of the following\b|\bcategor", re.IGNORECASE)
_WRITING = re.compile(r"\bwrite (a|an|me)\b|\bpoem\b|\bstory\b|\bessay\b|\bblog\b|\bemail\b|書いて|詩", re.IGNORECASE)
_ROLEPLAY = re.compile(r"\bpretend\b|\broleplay\b|\bact as\b|\byou are a\b", re.IGNORECASE)
_REASON = re.compile(r"\bwhy\b|\bexplain\b|\bprove\b|\breason\b|\bstep by step\b|\bcompare\b|なぜ", re.IGNORECASE)
_HARD = re.compile(r"\bprove\b|\boptimi[sz]e\b|\bdesign\b|\barchitecture\b|\bedge cases?\b|\bcomplexity\b|"
                   r"\brigorous\b|\bdistributed\b|\bconcurren", re.IGNORECASE)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_PHONE = re.compile(r"(?:\+\d{1,3}[ -]?)?(?:\(\d{2,4}\)|\d{2,4})[ -]\d{3,4}[ -]\d{3,4}")


class HeuristicClassifier:
    """Keyword and length rules mapped to the same outputs as the learned classifier."""

    version = VERSION

    def classify_batch(self, requests: Sequence[Request]) -> list[Classification]:
        return [self.classify(r) for r in requests]

    def classify(self, request: Request) -> Classification:
        text = request.prompt_text()
        scores = {
            "code": 2.0 * len(_CODE.findall(text)),
            "math": 2.0 * len(_MATH.findall(text)),
            "summarization": 3.0 * len(_SUMMARY.findall(text)),
            "extraction": 2.0 * len(_EXTRACT.findall(text)),
            "writing": 2.0 * len(_WRITING.findall(text)),
            "roleplay": 2.0 * len(_ROLEPLAY.findall(text)),
            "reasoning": 1.0 * len(_REASON.findall(text)),
            "knowledge_qa": 1.0 if text.rstrip().endswith("?") else 0.5,
            "chat": 0.4,
        }
        if request.task_type in scores:  # the caller's hint counts, but does not override evidence
            scores[request.task_type] += 3.0
        total = sum(scores.values())
        probs = {k: round(v / total, 4) for k, v in scores.items()}
        task = max(probs, key=probs.__getitem__)
        confidence = probs[task]
        tier = self._tier(text, task)
        return Classification(
            task_type=task,
            tier=tier,
            confidence=confidence,
            task_probs=probs,
            tier_probs={str(tier): 1.0},
            low_confidence=confidence < 0.35,
            pii=bool(_EMAIL.search(text) or _PHONE.search(text)),
            model_version=VERSION,
            feature_version="none",
        )

    @staticmethod
    def _tier(text: str, task: str) -> int:
        hard = len(_HARD.findall(text))
        if hard >= 2 or len(text) > 6000:
            return 3
        if hard == 1 or task in ("code", "math", "reasoning") or len(text) > 1500:
            return 2
        return 1
