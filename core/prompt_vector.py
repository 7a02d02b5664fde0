"""The prompt as the quality memory compares it, and as it travels on the job (pure).

The classify stage embeds the prompt (``models/embedding.py``, 256 dims) and hashes its words
(``core/lexical.py``); the job carries both compactly (``encode_vector``); the route stage and
every worker learning from verdicts rebuild the one vector the memory compares (``decode_vector``).
"""

from __future__ import annotations

import base64

import numpy as np

from core.lexical import BUCKETS, MAX_WORDS, lexical_vector

EMBEDDING_DIM = 256  # the sentence embedding's (models/embedding.py)
DIM = EMBEDDING_DIM + BUCKETS  # what the memory compares: the embedding and the words, half each
_HALF = np.float32(np.sqrt(0.5))


def encode_vector(vec: np.ndarray, buckets: bytes = b"") -> str:
    """What travels on the job: the prompt's unit embedding as float16 bytes (512), then its words'
    buckets (``core/lexical.py``, one byte each), base64."""
    return base64.b64encode(np.asarray(vec, dtype=np.float16).tobytes() + buckets[:MAX_WORDS]).decode("ascii")


def decode_vector(text: str) -> np.ndarray | None:
    """The vector the memory compares for what a job carries: the embedding and the lexical vector
    joined, each scaled by sqrt(1/2), so that a dot product is the mean of the two cosines. None when
    there is none, or it is not a finite 256-d float16 embedding followed by at most ``MAX_WORDS``
    bucket bytes."""
    size = EMBEDDING_DIM * 2
    if not text or len(text) > 4 * ((size + MAX_WORDS + 2) // 3):
        return None
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError:
        return None
    if not size <= len(raw) <= size + MAX_WORDS:
        return None
    emb = np.frombuffer(raw[:size], dtype=np.float16).astype(np.float32)
    if not bool(np.all(np.isfinite(emb))):
        return None
    return np.concatenate([emb, lexical_vector(raw[size:])]) * _HALF
