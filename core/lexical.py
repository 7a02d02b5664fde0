"""A prompt's words, hashed: the lexical half of what the quality memory compares (pure).

The sentence embedding (``models/embedding.py``) averages token vectors, so two prompts about the
same thing in different words are near, and two that share their exact wording (a template, a
benchmark's phrasing, a product name) are no nearer than that. The words themselves say the second:
each lower-cased word of the prompt's head goes to one of 256 buckets (CRC-32, the same in every
process), and the vector is the log of each bucket's count, unit length. It needs no weights and no
vocabulary, so it works on any language the regex calls words (a run of Japanese or Chinese
characters without spaces is one word).

On the job it travels as the bucket numbers themselves, one byte per word (about 80 bytes for a
512-character head), after the embedding's float16 bytes; ``core/quality_memory.py`` joins the two.
"""

from __future__ import annotations

import re
import zlib

import numpy as np

BUCKETS = 256
MAX_CHARS = 512  # the same head the embedding reads
MAX_WORDS = MAX_CHARS // 2 + 1  # words in 512 characters, at most (one letter, one space, ...)
_WORD = re.compile(r"\w+")
_CACHE_LIMIT = 200_000
_cache: dict[str, bytes] = {}  # a white-space-free part of a prompt -> its words' buckets


def word_buckets(text: str) -> bytes:
    """One byte per word of the head of ``text``: the word's bucket."""
    parts = text[:MAX_CHARS].split()  # words never span white space: look each part up whole
    try:
        return b"".join(map(_cache.__getitem__, parts))  # every part seen before: no Python loop
    except KeyError:
        if len(_cache) + len(parts) > _CACHE_LIMIT:
            _cache.clear()  # bounded
        for part in parts:
            if part not in _cache:
                _cache[part] = bytes(zlib.crc32(w.encode()) & (BUCKETS - 1) for w in _WORD.findall(part.lower()))
        return b"".join(map(_cache.__getitem__, parts))


def lexical_vector(buckets: bytes) -> np.ndarray:
    """The unit vector of log bucket counts (zeros for a prompt without words), float32."""
    counts = np.bincount(np.frombuffer(buckets, dtype=np.uint8), minlength=BUCKETS)
    vec = np.log1p(counts.astype(np.float32))
    norm = float(np.linalg.norm(vec))
    return vec / norm if norm > 0 else vec
