import json
from pathlib import Path

import numpy as np
import pytest

from training.route_bounds import _load, apgr


def test_apgr_worked_by_hand() -> None:
    # gains 0, 1, 1, -1: the two winners first, then the tie, then the loser; PGR 0, 1, 2, 2, 1
    weak, strong = np.array([1.0, 0, 0, 1]), np.array([1.0, 1, 1, 0])
    assert apgr(strong - weak, weak, strong) == pytest.approx(1.375)
    assert apgr(weak - strong, weak, strong) == pytest.approx(-0.375)  # the worst order: PGR 0, -1, -1, 0, 1


def test_apgr_of_a_random_order_is_near_a_half() -> None:
    rng = np.random.default_rng(1)
    weak, strong = (rng.random(20_000) < 0.4).astype(float), (rng.random(20_000) < 0.7).astype(float)
    assert apgr(rng.random(20_000), weak, strong) == pytest.approx(0.5, abs=0.02)


def test_rows_are_read_whole_even_with_line_separators_inside_a_prompt(tmp_path: Path) -> None:
    rows = [{"messages": [{"role": "user", "content": "a\u2028b"}], "outcomes": {"w": {"score": 1}, "s": {"score": 0}}},
            {"messages": [{"role": "user", "content": "c"}], "outcomes": {"w": {"score": 0}}}]
    path = tmp_path / "rows.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n")
    got = _load(path, "w", "s")
    assert [r["messages"][0]["content"] for r in got] == ["a\u2028b"]  # the second lacks the strong model


def test_a_row_that_is_not_in_the_format_is_named_by_its_line(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text('{"messages": [{"role": "user", "content": "a"}], "outcomes": {}}\n{"outcomes": {}}\n')
    with pytest.raises(ValueError, match=r"rows.jsonl:2: not a row"):
        _load(path, "w", "s")
