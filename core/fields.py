"""Reading fields of a decoded JSON payload: types, and optional fields whose wrong type is a named
problem rather than an exception (pure; shared by the request parser and its OpenAI parameters)."""

from __future__ import annotations

from typing import Any

MAX_ID_LEN = 200


def type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class Fields:
    """Reads optional fields, appending a named problem for each wrong type."""

    def __init__(self, data: dict[str, Any], problems: list[str]) -> None:
        self.data = data
        self.problems = problems

    def _get(self, name: str) -> Any:
        return self.data.get(name)

    def text(self, name: str) -> str | None:
        v = self._get(name)
        if v is None or isinstance(v, str):
            return v
        self.problems.append(f"{name}: expected string, got {type_name(v)}")
        return None

    def obj(self, name: str) -> dict[str, Any] | None:
        v = self._get(name)
        if v is None or isinstance(v, dict):
            return v
        self.problems.append(f"{name}: expected object, got {type_name(v)}")
        return None

    def positive_int(self, name: str) -> int | None:
        v = self._get(name)
        if v is None:
            return None
        if not is_int(v) or v <= 0:
            self.problems.append(f"{name}: expected a positive integer, got {v!r}")
            return None
        return int(v)

    def non_negative_number(self, name: str) -> float | None:
        v = self._get(name)
        if v is None:
            return None
        if not is_number(v) or v < 0:
            self.problems.append(f"{name}: expected a non-negative number, got {v!r}")
            return None
        return float(v)

    def tier(self, name: str) -> int | None:
        v = self._get(name)
        if v is None:
            return None
        if not is_int(v) or not 1 <= v <= 9:
            self.problems.append(f"{name}: expected a tier number from 1 to 9, got {v!r}")
            return None
        return int(v)
