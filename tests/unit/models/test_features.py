from __future__ import annotations

import numpy as np

from models.features import FEATURE_NAMES, MAX_CHARS, N_FEATURES, featurize, featurize_batch


def _get(row: np.ndarray, name: str) -> float:
    return float(row[FEATURE_NAMES.index(name)])


def test_layout_is_fixed_and_deterministic() -> None:
    assert len(FEATURE_NAMES) == N_FEATURES == len(set(FEATURE_NAMES))
    a = featurize("def f(x):\n    return x + 1\n")
    b = featurize("def f(x):\n    return x + 1\n")
    assert a.dtype == np.float32 and a.shape == (N_FEATURES,)
    assert np.array_equal(a, b)


def test_scripts_are_measured() -> None:
    ja = featurize("富士山の高さは何メートルですか？")
    assert _get(ja, "script_han") > 0 and _get(ja, "script_hiragana") > 0 and _get(ja, "script_katakana") > 0
    assert _get(ja, "ends_with_question") == 1.0
    en = featurize("What is the capital of France?")
    assert _get(en, "script_latin") > 0.5 and _get(en, "script_han") == 0.0


def test_markers_count_code_and_math() -> None:
    code = featurize("```python\ndef add(a, b):\n    return a + b\n```")
    assert _get(code, "marker_code_fence") == 2 and _get(code, "marker_code_kw") >= 2
    assert _get(code, "indented_lines") == 1
    math = featurize("Solve the equation 3x + 5 = 20. How many solutions?")
    assert _get(math, "marker_math_word") >= 2 and _get(math, "marker_math_sym") >= 2


def test_long_text_cost_is_bounded_but_length_is_real() -> None:
    long_text = "word " * 100_000
    row = featurize(long_text)
    assert _get(row, "log_chars") > np.log1p(MAX_CHARS)  # the real length still counts
    assert np.array_equal(featurize_batch([(long_text, 1, False)])[0], row)


def test_trigram_part_is_normalised() -> None:
    tri = featurize("abcabcabc")[-256:]
    assert np.isclose((tri ** 2).sum(), 1.0, atol=1e-5)  # sqrt of shares: unit length
