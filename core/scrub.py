"""Remove secrets from text that leaves the process: provider error bodies, exception messages.

Two layers: the exact secrets the caller knows (the API key it sent), and anything shaped like
a credential (vendor key prefixes, bearer tokens, ``key=`` query parameters, long opaque
tokens). A provider that echoes the key in a 401 body must not put it into a response, an
event, a ClickHouse row or a log.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

REDACTED = "[redacted]"
_SHAPES = re.compile(
    r"(?:sk|pk|rk)-(?:ant-|proj-|live-|test-)?[A-Za-z0-9_\-]{12,}"  # OpenAI, Anthropic and look-alikes
    r"|AIza[0-9A-Za-z_\-]{20,}"  # Google API keys
    r"|gsk_[A-Za-z0-9]{20,}|xai-[A-Za-z0-9]{20,}|hf_[A-Za-z0-9]{20,}"
    r"|(?i:bearer|basic)\s+[A-Za-z0-9._~+/=\-]{8,}"
    r"|(?i:(?:api[_-]?key|key|token|secret|password|authorization)[\"']?\s*[:=]\s*[\"']?(?:bearer\s+|basic\s+)?)"
    r"[^\s\"'&,;}]{6,}"
    r"|\b[A-Za-z0-9_\-]{40,}\b"  # any long opaque token
)


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every known secret and every credential-shaped string replaced."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    return _SHAPES.sub(_keep_label, text)


def _keep_label(m: re.Match[str]) -> str:
    found = m.group(0)
    label = re.match(r"(?i)(?:(?:api[_-]?key|key|token|secret|password|authorization)[\"']?\s*[:=]\s*[\"']?"
                     r"(?:bearer\s+|basic\s+)?|bearer\s+|basic\s+)", found)
    return (label.group(0) if label else "") + REDACTED
