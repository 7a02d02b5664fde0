"""Request features for the classifier: deterministic, numpy, versioned.

``FEATURE_VERSION`` names the exact layout (ordered names in ``FEATURE_NAMES``); it travels on
every classification event and in the model manifest, and the loader refuses a model trained on
another layout. Scalars first (lengths, structure, script shares, code/math/task markers), then
hashed character trigrams. Only the first ``MAX_CHARS`` characters are scanned (markers: the
head and the tail), so the cost per request is bounded however long the prompt is.

The hot path is native (``models/native/features.c``, configured from the spec below); ``reference_featurize_into``
is the same layout in Python and numpy, the readable definition the native code is tested against
bit for bit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from models import _native

FEATURE_VERSION = "f1"
MAX_CHARS = 1000  # scanned for structure, scripts and trigrams
HEAD_CHARS, TAIL_CHARS = 250, 100  # scanned for markers: instructions lead, questions close
N_HASH = 256

# Unicode ranges -> script bucket (searchsorted over the lower bounds).
_SCRIPT_BOUNDS = np.array([0, 48, 58, 65, 91, 97, 123, 0xC0, 0x250, 0x400, 0x500, 0x600, 0x700,
                           0x3040, 0x30A0, 0x3100, 0x4E00, 0xA000, 0xAC00, 0xD7B0, 0xFF00, 0xFFF0],
                          dtype=np.uint32)
#                        0      1        2      3        4      5        6        7        8           9
_SCRIPT_OF_BUCKET = ["punct", "digit", "punct", "upper", "punct", "latin", "punct", "latin", "other", "cyrillic",
                     #  10      11        12       13          14          15       16      17       18
                     "other", "arabic", "other", "hiragana", "katakana", "other", "han", "other", "hangul",
                     #  19       20           21
                     "other", "fullwidth", "other"]
SCRIPTS = ("latin", "upper", "digit", "punct", "han", "hiragana", "katakana", "hangul", "cyrillic", "arabic",
           "fullwidth", "other")
_BUCKET_TO_SCRIPT = np.array([SCRIPTS.index(s) for s in _SCRIPT_OF_BUCKET], dtype=np.int64)

# Substring markers (counted on the lowercased text). Grouped names keep the layout readable.
MARKERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("code_fence", ("```",)),
    ("code_kw", ("def ", "return ", "import ", "class ", "function ", "#include", "public ", "const ", "=>",
                 "print(", "console.", "select ", "lambda", "self.")),
    ("code_sym", ("{", "}", ";", "()", "[]", "==", "!=", "->")),
    ("code_word", ("python", "javascript", "java ", "c++", "rust", "sql", "code", "program", "algorithm",
                   "compile", "bug", "regex", "コード", "関数", "プログラム")),
    ("math_sym", ("$", "\\frac", "^", "\\sqrt", "=", "+", "×", "÷", "%")),
    ("math_word", ("solve", "equation", "integer", "probability", "how many", "how much", "calculate",
                   "sum of", "product", "percent", "average", "計算", "方程式", "何個", "何人", "いくつ", "求め")),
    ("summarize", ("summar", "tl;dr", "key points", "in brief", "要約", "まとめ")),
    ("extract", ("extract", "list all", "find all", "identify the", "named entit", "json", "抽出", "取り出")),
    ("classify", ("classify", "categor", "sentiment", "label", "which category", "分類", "感情")),
    ("translate", ("translate", "translation", "翻訳", "訳して")),
    ("write", ("write", "compose", "draft", "poem", "story", "essay", "lyrics", "slogan", "書いて", "作って",
               "詩", "物語")),
    ("roleplay", ("pretend", "roleplay", "role-play", "act as", "you are a", "imagine you", "になりきって")),
    ("chat", ("hello", "hi ", "hey", "thanks", "thank you", "how are you", "こんにちは", "ありがとう")),
    ("reason", ("why", "explain", "reason", "because", "step by step", "therefore", "if ", "なぜ", "理由",
                "説明")),
    ("question", ("what", "who", "when", "where", "which", "how ", "何", "誰", "いつ", "どこ")),
    ("choice", ("options:", "a.", "b.", "c.", "(a)", "(b)", "answer:", "choose", "選択")),
    ("hard", ("prove", "optimi", "design", "architecture", "edge case", "complexity", "rigorous", "derive",
              "distributed", "concurren", "trade-off", "証明", "設計")),
)

SCALAR_NAMES: tuple[str, ...] = (
    "log_chars", "log_words", "log_lines", "n_messages", "has_system", "avg_word_len", "question_marks",
    "ends_with_question", "list_lines", "indented_lines", "numbers", "log_max_line",
    *(f"script_{s}" for s in SCRIPTS),
    *(f"marker_{name}" for name, _ in MARKERS),
)
FEATURE_NAMES: tuple[str, ...] = (*SCALAR_NAMES, *(f"tri_{i}" for i in range(N_HASH)))
N_FEATURES = len(FEATURE_NAMES)
_N_SCALARS = len(SCALAR_NAMES)
_K1, _K2, _K3 = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F), np.uint64(0x165667B19E3779F9)
_MASK = np.uint64(N_HASH - 1)
_SHIFT = np.uint64(40)


def reference_featurize_into(out: np.ndarray, text: str, n_messages: int = 1, has_system: bool = False) -> None:
    """Write one request's features into ``out`` (a float32 row of length N_FEATURES), in Python."""
    full_len = len(text)
    t = text[:MAX_CHARS].lower()
    lines = t.split("\n")
    words = t.split()
    n_words = len(words)
    out[0] = math.log1p(full_len)
    out[1] = math.log1p(n_words)
    out[2] = math.log1p(len(lines))
    out[3] = n_messages
    out[4] = 1.0 if has_system else 0.0
    out[5] = (len(t) - t.count(" ")) / n_words if n_words else 0.0
    out[6] = t.count("?") + t.count("？")
    stripped = t.rstrip()
    out[7] = 1.0 if stripped.endswith(("?", "？")) else 0.0
    out[8] = sum(1 for ln in lines if ln.lstrip().startswith(("- ", "* ", "1.", "2.", "・")))
    out[9] = sum(1 for ln in lines if ln.startswith(("    ", "\t")))
    out[11] = math.log1p(max(map(len, lines)) if lines else 0)
    cp = np.frombuffer(text[:MAX_CHARS].encode("utf-32-le"), dtype=np.uint32)
    n = len(cp)
    base = 12
    if n:
        buckets = np.searchsorted(_SCRIPT_BOUNDS, cp, side="right") - 1
        shares = np.bincount(_BUCKET_TO_SCRIPT[buckets], minlength=len(SCRIPTS)) / n
        out[base:base + len(SCRIPTS)] = shares
        out[10] = shares[SCRIPTS.index("digit")] * n
    else:
        out[base:base + len(SCRIPTS)] = 0.0
        out[10] = 0.0
    i = base + len(SCRIPTS)
    window = t if len(t) <= HEAD_CHARS + TAIL_CHARS else t[:HEAD_CHARS] + "\n" + t[-TAIL_CHARS:]
    count = window.count
    for _, needles in MARKERS:
        out[i] = sum(map(count, needles))
        i += 1
    out[_N_SCALARS:] = 0.0
    if n >= 3:
        low = np.frombuffer(t.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
        h = ((low[:-2] * _K1) ^ (low[1:-1] * _K2) ^ (low[2:] * _K3)) >> _SHIFT & _MASK
        counts = np.bincount(h.astype(np.int64), minlength=N_HASH)
        out[_N_SCALARS:] = np.sqrt(counts / max(1, len(h)))


_native.configure(bounds=_SCRIPT_BOUNDS.tolist(), bucket_to_script=_BUCKET_TO_SCRIPT.tolist(), n_scripts=len(SCRIPTS),
                  digit_script=SCRIPTS.index("digit"), markers=[needles for _, needles in MARKERS], n_hash=N_HASH,
                  max_chars=MAX_CHARS, head_chars=HEAD_CHARS, tail_chars=TAIL_CHARS, n_features=N_FEATURES)
featurize_into = _native.featurize_into  # (out, text, n_messages, has_system): one float32 row, in place


def featurize(text: str, n_messages: int = 1, has_system: bool = False) -> np.ndarray:
    row = np.empty(N_FEATURES, dtype=np.float32)
    featurize_into(row, text, n_messages, has_system)
    return row


def featurize_rows(texts: Sequence[str], n_messages: Sequence[int], has_system: Sequence[bool]) -> np.ndarray:
    """One row per request, from three parallel sequences (the batch path: one native call)."""
    x = np.empty((len(texts), N_FEATURES), dtype=np.float32)
    _native.featurize_rows(x, texts, n_messages, has_system)
    return x


def featurize_batch(items: Sequence[tuple[str, int, bool]]) -> np.ndarray:
    """Rows for (text, n_messages, has_system) triples."""
    return featurize_rows([i[0] for i in items], [i[1] for i in items], [i[2] for i in items])
