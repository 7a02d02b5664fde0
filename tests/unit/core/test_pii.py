from __future__ import annotations

from core.pii import contains_pii, redact


def test_detects_and_redacts_email_and_phone() -> None:
    text = "Call +81 90-1234-5678 or mail taro@example.co.jp"
    assert contains_pii(text)
    assert redact(text) == "Call +81 [PHONE] or mail [EMAIL]"
    assert not contains_pii("What is 2+2? Version 3.11.7")
