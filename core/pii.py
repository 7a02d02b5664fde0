"""Detect personal data in prompt text (pure). Routing sends PII only to models allowed to see it."""

from __future__ import annotations

import re

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
# The core of a phone number; an optional "+81 " or "(03)" in front cannot change whether one exists,
# and leaving it out lets the regex engine scan for a digit instead of trying every position.
_PHONE = re.compile(r"\d{2,4}[ -]\d{3,4}[ -]\d{3,4}")


def contains_pii(text: str) -> bool:
    if "@" in text and _EMAIL.search(text):  # the substring test is ~50x cheaper than the regex
        return True
    return bool(_PHONE.search(text))


def redact(text: str) -> str:
    """The text with every detected e-mail address and phone number replaced by a placeholder."""
    return _PHONE.sub("[PHONE]", _EMAIL.sub("[EMAIL]", text))
