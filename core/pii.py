"""Detect personal data in prompt text (pure). Routing sends PII only to models allowed to see it.

Kinds: e-mail addresses, phone numbers (international, North American and Japanese formats),
payment card numbers (Luhn-checked), IBANs (mod-97 checked), Japanese My Number (check digit)
and US social security numbers. Checksums keep ordinary long numbers from counting as PII.
"""

from __future__ import annotations

import re

# Starts only where a run of address characters starts: without the look-behind, a long run with no
# "@" after it was re-scanned from every one of its characters (quadratic: 40,000 characters took
# 6 s, a 700 KB prompt half an hour of the classify stage's event loop). Same matches otherwise: the
# leftmost match of a run always started at the run's first character.
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+\.[\w.-]+")
# A maximal run of digits with the separators people write inside numbers ("+81 90-1234-5678",
# "(555) 123-4567", "4111 1111 1111 1111"); each run is classified once, by digit count and checksum.
_NUMBER_RUN = re.compile(r"\+?\(?\d[\d ()-]{5,}\d")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b")
_SSN = re.compile(r"(?<!\d)(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?!\d)")
_JP_MOBILE = re.compile(r"0[789]0\d{8}")
_HAS_DIGIT_RUN = re.compile(r"\d{3}")


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_ok(iban: str) -> bool:
    s = iban.replace(" ", "")
    if not 15 <= len(s) <= 34:
        return False
    rearranged = s[4:] + s[:4]
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(number) % 97 == 1


def my_number_ok(digits: str) -> bool:
    """Japanese individual number: 11 digits and a check digit (Cabinet Office ordinance)."""
    if len(digits) != 12:
        return False
    body, check = digits[:11], int(digits[11])
    total = 0
    for n in range(1, 12):
        p = int(body[11 - n])
        q = n + 1 if n <= 6 else n - 5
        total += p * q
    remainder = total % 11
    return check == (0 if remainder <= 1 else 11 - remainder)


def classify_number(run: str) -> str | None:
    """What a run of digits and separators is, if it is personal data."""
    digits = re.sub(r"\D", "", run)
    n = len(digits)
    if 13 <= n <= 19 and luhn_ok(digits):
        return "card"
    if n == 12 and my_number_ok(digits):
        return "my_number"
    separated = any(ch in run for ch in " -()")
    if run.startswith("+") and 8 <= n <= 15:
        return "phone"
    if separated and 10 <= n <= 11:
        return "phone"
    if not separated and n == 11 and _JP_MOBILE.fullmatch(digits):
        return "phone"
    return None


def detect_pii(text: str) -> set[str]:
    """The kinds of personal data found in ``text``."""
    found: set[str] = set()
    if "@" in text and _EMAIL.search(text):
        found.add("email")
    if _IBAN.search(text) and any(iban_ok(m.group()) for m in _IBAN.finditer(text)):
        found.add("iban")
    if not _HAS_DIGIT_RUN.search(text):
        return found
    if _SSN.search(text):
        found.add("ssn")
    for m in _NUMBER_RUN.finditer(text):
        kind = classify_number(m.group().strip())
        if kind:
            found.add(kind)
    return found


def contains_pii(text: str) -> bool:
    return bool(detect_pii(text))


_PLACEHOLDER = {"card": "[CARD]", "my_number": "[MY_NUMBER]", "phone": "[PHONE]"}


def redact(text: str) -> str:
    """The text with e-mail addresses, SSNs and personal numbers replaced by placeholders."""
    text = _SSN.sub("[SSN]", _EMAIL.sub("[EMAIL]", text))
    text = _IBAN.sub(lambda m: "[IBAN]" if iban_ok(m.group()) else m.group(), text)

    def number(m: re.Match[str]) -> str:
        kind = classify_number(m.group().strip())
        return _PLACEHOLDER[kind] if kind else m.group()

    return _NUMBER_RUN.sub(number, text)
