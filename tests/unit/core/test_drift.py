from __future__ import annotations

from core.drift import DriftMonitor, length_bucket, script_bucket


def test_buckets() -> None:
    assert length_bucket(10) == "<50" and length_bucket(10_000) == ">=4000"
    assert script_bucket("hello") == "ascii"
    assert script_bucket("こんにちは") == "japanese"
    assert script_bucket("안녕하세요") == "hangul"
    assert script_bucket("你好") == "han"


def test_windows_close_and_report_every_reference_bucket() -> None:
    ref = {"task": {"code": 0.5, "math": 0.5}, "script": {"ascii": 1.0}}
    m = DriftMonitor(ref, "v1", "w1", window_ms=60_000)
    assert m.observe([("code", 1, "def f(): pass"), ("code", 2, "こんにちは")], now_ms=60_000 * 10 + 5) == []
    rows = m.observe([("math", 1, "1+1")], now_ms=60_000 * 11 + 1)  # a new window closes the old one
    got = {(r["dimension"], r["bucket"]): (r["count"], r["expected_share"]) for r in rows}
    assert got[("task", "code")] == (2, 0.5)
    assert got[("task", "math")] == (0, 0.5)  # seen in training, not in this window: still reported
    assert got[("script", "japanese")] == (1, 0.0)  # never seen in training
    assert all(r["window_start"] == 600_000 and r["worker"] == "w1" for r in rows)
    assert {r["dimension"] for r in m.flush(0)} >= {"task", "tier"}
