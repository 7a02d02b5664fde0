"""The chaos suite's hostile-publisher scenarios: poison, reply-topic abuse, oversized messages, a
provider that echoes its API key and one that floods its answers, each with valid traffic flowing."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

import orjson

from tooling.client import collect, publish, read_topic, run

if TYPE_CHECKING:
    from tooling.chaos import Outcome
    from tooling.stack import Stack


def _valid_after(stack: Stack, name: str, scale: float, poison: list[tuple[str, bytes, bytes]],
                 answered: set[str] | None = None) -> Outcome:
    """Publish ``poison`` (topic, key, value), then valid requests; count what the valid ones got.
    ``answered``: poison request ids that must get an (error) response each."""
    from tooling.chaos import drive  # noqa: PLC0415 - the runner imports this module

    before = _dead_letters(stack)
    for topic, key, value in poison:
        run(publish(stack.settings.kafka_bootstrap, topic, [(key, value)], max_request_size=8 * 1024 * 1024))
    out = drive(stack, name, max(20, int(200 * scale)), 100)
    out.notes.append(f"{len(poison)} poison messages; {_dead_letters(stack) - before} set aside as dead letters")
    if answered:
        got = run(collect(stack.settings.kafka_bootstrap, stack.names.responses, answered, 30, settle_s=0.5))
        codes = sorted({r["error"]["code"] for r in got.responses.values() if r["status"] == "error"})
        missing = len(got.missing_from(answered))
        out.notes.append(f"{'FAIL: ' if missing or got.duplicates else ''}{len(got.responses)}/{len(answered)} "
                         f"answered once with {', '.join(codes)}")
    return out


def _dead_letters(stack: Stack) -> int:
    try:
        return sum(int(r["n"]) for r in stack.query("dead_letters", prefix=stack.names.prefix))
    except Exception:  # noqa: BLE001
        return 0


def _req(rid: str, **kw: object) -> bytes:
    return orjson.dumps({"request_id": rid, "tenant": "chaos", "messages": [{"role": "user", "content": "hi"}], **kw})


def poison_every_topic(stack: Stack, scale: float) -> Outcome:
    n = stack.names
    junk = [b"\x00\xff garbage", b"[]", b'{"request": {}}', b'{"t": "requests", "r": {"request_id": "x"}}']
    poison = [(topic, f"junk-{i}".encode(), value) for topic in n.all() if topic != n.responses
              for i, value in enumerate(junk)]
    return _valid_after(stack, "poison on every topic", scale, poison)


def reply_topic_abuse(stack: Stack, scale: float) -> Outcome:
    n = stack.names
    topics = [n.routed, n.classified, n.escalations, n.invoked, n.outcomes, n.requests_dlq, n.requests,
              "chaos.does.not.exist", "someone.else.replies"]
    tag = uuid.uuid4().hex[:6]
    poison = [(n.requests, f"abuse-{tag}-{i}".encode(), _req(f"abuse-{tag}-{i}", reply_topic=t))
              for i, t in enumerate(topics)]
    return _valid_after(stack, "reply_topic abuse (internal, missing, foreign)", scale, poison,
                        {k.decode() for _, k, _ in poison})


def oversized(stack: Stack, scale: float) -> Outcome:
    n = stack.names
    tag = uuid.uuid4().hex[:6]
    roles = orjson.dumps({"request_id": f"roles-{tag}", "tenant": "chaos",
                          "messages": [{"role": "robot", "content": "x" * 20}] * 10_000})
    # a valid 700 KB prompt that is one word after an "@": the personal-data check once re-scanned
    # it from every character (half an hour of the worker's event loop); it must be answered as usual
    at_run = _req(f"at-{tag}", messages=[{"role": "user", "content": "@" + "x" * 700_000}])
    poison = [(n.requests, b"ff", b"\xff" * 400_000), (n.requests, b"roles", roles),
              (n.requests, b"huge", _req(f"huge-{tag}", messages=[{"role": "user", "content": "y" * 1_010_000}])),
              (n.requests, b"at-run", at_run)]
    return _valid_after(stack, "oversized messages (0xFF blob, 10,000 bad roles, 1.01 MB, a 700 KB word after @)",
                        scale, poison, {f"roles-{tag}", f"huge-{tag}", f"at-{tag}"})


def key_echo(stack: Stack, scale: float) -> Outcome:
    """Every provider answers 401 quoting the key it was sent; the key must appear nowhere."""
    from tooling.chaos import drive  # noqa: PLC0415

    stack.configure_sim({"default": {"echo_key": True, "error_rate": 1.0, "error_status": 401, "latency_ms": 20}})
    try:
        out = drive(stack, "provider echoes its API key in 401s", max(10, int(50 * scale)), 50)
    finally:
        stack.configure_sim({"default": {"echo_key": False, "error_rate": 0.0, "error_status": 500}})
    keys = [v.encode() for k, v in os.environ.items() if k.endswith("_API_KEY") and len(v) >= 8]
    leaks = 0
    for topic in (stack.names.responses, stack.names.routed, stack.names.invoked, stack.names.escalations):
        for _, value in run(read_topic(stack.settings.kafka_bootstrap, topic)):
            leaks += sum(value.count(k) for k in keys)
    for proc in [stack.sink, *stack.pipelines]:
        if proc is not None:
            text = proc.log_path.read_bytes()
            leaks += sum(text.count(k) for k in keys)
    out.notes.append(f"{'FAIL: ' if leaks else ''}key found {leaks} times in topics and logs ({len(keys)} keys set)")
    return out


def flood(stack: Stack, scale: float) -> Outcome:
    """Every provider answers with 60,000 distinct lines (about 600 KB): each answer is checked and
    delivered without stalling the worker (a quadratic check once took about 40 s per answer)."""
    from tooling.chaos import drive  # noqa: PLC0415

    stack.configure_sim({"default": {"flood_lines": 60_000, "latency_ms": 20}})
    try:
        out = drive(stack, "provider floods 60,000-line answers", max(5, int(20 * scale)), 10)
    finally:
        stack.configure_sim({"default": {"flood_lines": 0}})
    return out


def huge_reply(stack: Stack, scale: float) -> Outcome:
    """Every provider answers 40 MiB, over the 32 MiB a call reads (``providers/http.py``): each call
    fails as a protocol error without the reply being read, every request is answered, and the
    pipeline worker's memory does not grow by the replies."""
    from tooling.chaos import drive  # noqa: PLC0415

    stack.configure_sim({"default": {"reply_bytes": 40 * 1024 * 1024, "latency_ms": 20}})
    before = max(p.rss_mb() for p in stack.pipelines)
    try:
        out = drive(stack, "provider answers 40 MiB (over the read cap)", max(5, int(10 * scale)), 5)
    finally:
        stack.configure_sim({"default": {"reply_bytes": 0}})
    growth = max(p.rss_mb() for p in stack.pipelines) - before
    out.notes.append(f"{'FAIL: ' if growth > 100 else ''}pipeline RSS grew {growth:.0f} MiB")
    return out


POISON_SCENARIOS: tuple[Callable[[Stack, float], Outcome], ...] = (poison_every_topic, reply_topic_abuse, oversized,
                                                                    key_echo, flood, huge_reply)
