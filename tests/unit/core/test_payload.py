from __future__ import annotations

from core.payload import cap_problems, dumps_within, payload_copy, too_deep


def test_too_deep_counts_levels_without_recursing() -> None:
    v: list = []
    node = v
    for _ in range(5000):  # deeper than Python's recursion limit
        node.append([])
        node = node[0]
    assert too_deep(v)
    assert not too_deep({"a": [{"b": 1}]}, limit=3)
    assert too_deep({"a": [{"b": [1]}]}, limit=3)


def test_cap_problems_keeps_a_count_of_the_rest() -> None:
    assert cap_problems(["p"] * 3, limit=5) == ["p"] * 3
    assert cap_problems(["p"] * 7, limit=5)[-1] == "... and 2 more problems"
    assert len(cap_problems(["x" * 5000])[0]) == 300


def test_payload_copy_keeps_text_as_text_and_bytes_as_base64() -> None:
    assert payload_copy(b'{"a": 1}')["payload"] == '{"a": 1}'
    assert "payload_b64" in payload_copy(b"\xff\xfe")
    cut = payload_copy(("é" * 10).encode(), limit=5)  # the cut splits a two-byte character
    assert cut["payload"] == "éé" and cut["payload_truncated"]


def test_dumps_within_drops_named_fields_until_it_fits() -> None:
    body = {"id": "r", "metadata": {"x": "y" * 1000}}
    assert len(dumps_within(body, 2000, ["metadata"]) or b"") > 1000
    small = dumps_within(body, 200, ["metadata"])
    assert small is not None and b"too large" in small
    assert dumps_within({"id": "z" * 500}, 100, ["metadata"]) is None
