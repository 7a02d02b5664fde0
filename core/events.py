"""The internal work event: one :class:`Job` travels from stage to stage.

Each stage adds what it learned (classification, routing decision, attempts, verification) and
forwards it keyed by ``request_id``; no stage needs shared state to do its work. The public
request contract lives in ``core.request``; the response in ``core.responses``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from core.request import Request


@dataclass(slots=True)
class Classification:
    task_type: str
    tier: int
    confidence: float
    task_probs: dict[str, float] = field(default_factory=dict)
    tier_probs: dict[str, float] = field(default_factory=dict)
    low_confidence: bool = False
    pii: bool = False
    model_version: str = ""
    feature_version: str = ""
    domain: str = ""
    embedding: str = ""  # the prompt's sentence embedding, base64 float16 (models/embedding.py)

    def to_dict(self) -> dict[str, Any]:
        return {
            "task_type": self.task_type, "tier": self.tier, "confidence": self.confidence,
            "task_probs": self.task_probs, "tier_probs": self.tier_probs,
            "low_confidence": self.low_confidence, "pii": self.pii,
            "model_version": self.model_version, "feature_version": self.feature_version,
            "domain": self.domain, "embedding": self.embedding,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Classification:
        return cls(**d)


@dataclass(slots=True)
class Candidate:
    model: str
    tier: int
    expected_cost_usd: float
    skipped: str | None = None  # reason code, or None for eligible
    quality: float | None = None  # estimated P(acceptable), when the quality memory was asked
    evidence: float = 0.0  # weighted count of similar past verdicts behind that estimate

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "tier": self.tier, "expected_cost_usd": self.expected_cost_usd,
                "skipped": self.skipped, "quality": self.quality, "evidence": self.evidence}


@dataclass(slots=True)
class Decision:
    model: str
    provider: str
    tier: int
    expected_cost_usd: float
    reason: str
    candidates: list[Candidate] = field(default_factory=list)
    explored: bool = False  # chosen off-policy so a rarely chosen model keeps being learned
    pinned: bool = False  # the request named its model: no fallbacks, no escalation

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model, "provider": self.provider, "tier": self.tier,
            "expected_cost_usd": self.expected_cost_usd, "reason": self.reason,
            "candidates": [c.to_dict() for c in self.candidates], "explored": self.explored,
            "pinned": self.pinned,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Decision:
        cands = [Candidate(**c) for c in d.get("candidates", [])]
        return cls(d["model"], d["provider"], d["tier"], d["expected_cost_usd"], d["reason"], cands,
                   bool(d.get("explored", False)), bool(d.get("pinned", False)))


@dataclass(slots=True)
class Attempt:
    """One provider call."""

    attempt_no: int
    model: str
    provider: str
    tier: int
    status: str  # ok | error
    started_at_ms: int
    latency_ms: float
    error_code: str = ""
    error_message: str = ""
    http_status: int = 0
    content: str = ""
    finish_reason: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    fallback: bool = False
    cached_input_tokens: int = 0
    reasoning_tokens: int = 0
    refusal: str = ""
    tool_calls: list[dict[str, Any]] = field(default_factory=list)  # OpenAI's shape, whatever the wire

    def to_dict(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in self.__slots__}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Attempt:
        return cls(**d)


@dataclass(slots=True)
class Verification:
    score: float
    passed: bool
    reason: str  # "" when passed, else the first failing check's code
    checks: dict[str, bool] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"score": self.score, "passed": self.passed, "reason": self.reason, "checks": self.checks}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Verification:
        return cls(**d)


@dataclass(slots=True)
class Job:
    """A request in flight, with everything each stage has added to it."""

    request: Request
    received_at_ms: int
    target_tier: int = 0
    classification: Classification | None = None
    decision: Decision | None = None
    attempts: list[Attempt] = field(default_factory=list)
    verifications: list[Verification] = field(default_factory=list)
    escalations: list[str] = field(default_factory=list)  # reason per escalation, in order
    round_attempts: int = 0  # attempts made by the latest invoke round

    @property
    def request_id(self) -> str:
        return self.request.request_id

    def encode(self) -> bytes:
        return orjson.dumps(
            {
                "request": self.request.to_dict(),
                "received_at_ms": self.received_at_ms,
                "target_tier": self.target_tier,
                "classification": self.classification.to_dict() if self.classification else None,
                "decision": self.decision.to_dict() if self.decision else None,
                "attempts": [a.to_dict() for a in self.attempts],
                "verifications": [v.to_dict() for v in self.verifications],
                "escalations": self.escalations,
                "round_attempts": self.round_attempts,
            }
        )

    @classmethod
    def decode(cls, raw: bytes) -> Job:
        d = orjson.loads(raw)
        c, dec = d.get("classification"), d.get("decision")
        return cls(
            request=Request.from_dict(d["request"]),
            received_at_ms=d["received_at_ms"],
            target_tier=d.get("target_tier", 0),
            classification=Classification.from_dict(c) if c else None,
            decision=Decision.from_dict(dec) if dec else None,
            attempts=[Attempt.from_dict(a) for a in d.get("attempts", [])],
            verifications=[Verification.from_dict(v) for v in d.get("verifications", [])],
            escalations=list(d.get("escalations", [])),
            round_attempts=d.get("round_attempts", 0),
        )
