"""What a chat message carries: its text and its images (OpenAI content parts), read the same way
by validation, routing and every provider adapter (pure)."""

from __future__ import annotations

from typing import Any


def message_text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # OpenAI content parts
        return "\n".join(
            str(p.get("text", "")) for p in content if isinstance(p, dict) and p.get("type") == "text"
        )
    return ""


def image_url(part: Any) -> str | None:
    """The URL of an OpenAI ``image_url`` content part (``{"url": ...}`` or the bare string)."""
    if not isinstance(part, dict) or part.get("type") != "image_url":
        return None
    value = part.get("image_url")
    url = value.get("url") if isinstance(value, dict) else value
    return url if isinstance(url, str) else None


def message_images(message: dict[str, Any]) -> list[str]:
    content = message.get("content")
    return [u for p in (content if isinstance(content, list) else []) if (u := image_url(p)) is not None]


def data_url(url: str) -> tuple[str, str] | None:
    """(media type, base64 data) of a ``data:image/...;base64,`` URL; None for any other URL."""
    head, sep, data = url.partition(",")
    if not sep or not head.startswith("data:") or not head.endswith(";base64"):
        return None
    return head.removeprefix("data:").removesuffix(";base64"), data
