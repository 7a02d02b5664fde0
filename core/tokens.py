"""Cheap token estimates for cost and context checks before a provider has counted them."""

from __future__ import annotations


def estimate_tokens(text: str) -> int:
    """About 4 characters per token for ASCII; CJK and other wide scripts near 1 per character."""
    if text.isascii():
        return max(1, len(text) // 4)
    ascii_chars = sum(1 for ch in text if ch.isascii())
    return max(1, ascii_chars // 4 + (len(text) - ascii_chars))
