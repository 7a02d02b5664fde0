"""What a simulated model does with a call: latency, answer quality and failures (pure)."""

from __future__ import annotations

import zlib
from dataclasses import asdict, dataclass, fields, replace
from typing import Any


@dataclass(frozen=True, slots=True)
class Behaviour:
    latency_ms: float = 0.0  # fixed delay before answering
    ms_per_output_token: float = 0.0  # added per generated token
    empty_rate: float = 0.0  # share of prompts answered with an empty string
    truncate_rate: float = 0.0  # share of prompts cut off at max_tokens (finish_reason length)
    error_rate: float = 0.0  # share of calls answered with error_status
    error_status: int = 500
    down: bool = False  # every call gets 503 (an outage)
    hang: bool = False  # never answer (the client's timeout must fire)
    retry_after: float | None = None  # sent with 429/503 when set
    answer_tokens: int = 60  # typical answer length; each prompt gets 0.5x to 2x of it
    echo_key: bool = False  # error bodies quote the API key the client sent (as some real 401s do)
    flood_lines: int = 0  # every answer is this many distinct numbered lines (a misbehaving model's flood)
    reply_bytes: int = 0  # every answer is this many bytes of text (a reply larger than a client should read)

    def with_overrides(self, raw: dict[str, Any]) -> Behaviour:
        known = {f.name for f in fields(self)}
        unknown = set(raw) - known
        if unknown:
            msg = f"unknown behaviour keys: {sorted(unknown)}"
            raise ValueError(msg)
        return replace(self, **raw)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Outcome:
    kind: str  # ok | empty | truncated | error | down | hang
    status: int = 200
    content: str = ""
    output_tokens: int = 0
    finish_reason: str = "stop"
    delay_s: float = 0.0


def stable_unit(*parts: str) -> float:
    """A number in [0, 1) fixed by the inputs, so a replayed prompt meets the same fate."""
    return zlib.crc32("\x1f".join(parts).encode()) / 2**32


def decide(b: Behaviour, model: str, prompt: str, max_tokens: int, roll: float) -> Outcome:
    """``roll`` is a fresh random number for transient errors; quality is fixed per prompt."""
    if b.hang:
        return Outcome("hang")
    if b.down:
        return Outcome("down", status=503, delay_s=b.latency_ms / 1000)
    if roll < b.error_rate:
        return Outcome("error", status=b.error_status, delay_s=b.latency_ms / 1000)
    if b.flood_lines:
        return Outcome("ok", content="\n".join(f"line {i}" for i in range(b.flood_lines)),
                       output_tokens=2 * b.flood_lines, delay_s=b.latency_ms / 1000)
    if b.reply_bytes:
        return Outcome("ok", content="x" * b.reply_bytes, output_tokens=b.reply_bytes // 4,
                       delay_s=b.latency_ms / 1000)
    u = stable_unit(model, prompt)
    if u < b.empty_rate:
        return Outcome("empty", content="", output_tokens=0, delay_s=b.latency_ms / 1000)
    if u < b.empty_rate + b.truncate_rate:
        n = max_tokens
        text = _answer(model, prompt, n)
        return Outcome("truncated", content=text, output_tokens=n, finish_reason="length",
                       delay_s=(b.latency_ms + n * b.ms_per_output_token) / 1000)
    natural = max(1, int(b.answer_tokens * (0.5 + 1.5 * stable_unit("length", prompt))))
    if natural > max_tokens:  # the answer does not fit: cut off, as a real model would be
        return Outcome("truncated", content=_answer(model, prompt, max_tokens), output_tokens=max_tokens,
                       finish_reason="length", delay_s=(b.latency_ms + max_tokens * b.ms_per_output_token) / 1000)
    return Outcome("ok", content=_answer(model, prompt, natural), output_tokens=natural,
                   delay_s=(b.latency_ms + natural * b.ms_per_output_token) / 1000)


_EN = ("the", "answer", "depends", "on", "several", "factors", "first", "consider", "data", "result", "value",
       "because", "therefore", "example", "step", "method", "case", "we", "can", "see", "that", "this", "model",
       "simple", "clear", "important", "next", "finally", "approach", "works", "well", "for", "most", "inputs")
_JA = ("まず", "結果", "理由", "例えば", "次に", "方法", "重要", "考え", "答え", "簡単", "つまり", "最後に", "場合", "です", "ます")
_ZH = ("首先", "结果", "因为", "例如", "然后", "方法", "重要", "答案", "所以", "最后")
_KO = ("먼저", "결과", "이유", "예를", "다음", "방법", "중요", "답변", "그래서", "마지막")


def _answer(model: str, prompt: str, tokens: int) -> str:
    """Plausible filler in the prompt's script, varied (not a degenerate loop), fixed per prompt."""
    import random  # noqa: PLC0415

    rng = random.Random(f"{model}\x1f{prompt}")
    head = prompt.strip().splitlines()[0][:80] if prompt.strip() else ""
    vocab: tuple[str, ...] = _EN
    sep = " "
    if any("\u3040" <= ch <= "\u30ff" for ch in prompt[:500]):
        vocab, sep = _JA, ""
    elif any("\uac00" <= ch <= "\ud7af" for ch in prompt[:500]):
        vocab, sep = _KO, " "
    elif any("\u4e00" <= ch <= "\u9fff" for ch in prompt[:500]):
        vocab, sep = _ZH, ""
    words = [rng.choice(vocab) for _ in range(max(0, tokens - 12))]
    return f"[{model}] {head}: " + sep.join(words)


def prompt_tokens(text: str) -> int:
    return max(1, len(text) // 4)
