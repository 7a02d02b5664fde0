"""Sentence embeddings of prompts, for the quality memory (issue 13): static and offline.

WordLlama's ``l2_supercat_256`` (MIT) ships its weights and tokenizer config inside the wheel;
it is loaded from the package's own folder with downloads disabled, so nothing is fetched at
run time (``HF_HUB_OFFLINE`` is set too, for the tokenizer library). A prompt becomes the
mean of its token vectors, L2-normalised: 256 floats, carried on the job as float16 bytes
(512 bytes, base64 in JSON) so cosine similarity is a dot product.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from core.errors import ModelError

DIM = 256
MAX_CHARS = 512  # the head of a prompt says what it is about; tokenising is most of the cost (~0.3 us/char)


class PromptEmbedder:
    name = "wordllama-l2_supercat_256"

    def __init__(self) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            import wordllama  # noqa: PLC0415 - heavy; only workers that embed load it
            from wordllama import WordLlama  # noqa: PLC0415
        except ImportError as exc:
            msg = f"the prompt embedder needs the wordllama package ({exc})"
            raise ModelError(msg) from None
        folder = Path(wordllama.__file__).parent
        try:
            model = WordLlama.load(config="l2_supercat", dim=DIM, cache_dir=folder, disable_download=True)
        except Exception as exc:  # noqa: BLE001 - any failure here is a broken install
            msg = f"cannot load the bundled WordLlama weights from {folder}: {type(exc).__name__}: {exc}"
            raise ModelError(msg) from None
        self._tokenizer = model.tokenizer
        self._tokenizer.no_padding()  # WordLlama pads every batch to its longest text: 30x the work here
        self._table = np.asarray(model.embedding, dtype=np.float32)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors, one row per text (float32): the mean of its token vectors, normalised (what
        WordLlama's own ``embed`` computes, without padding the batch)."""
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        if not texts:
            return out
        heads = [t[:MAX_CHARS] for t in texts]
        # one text: the plain call, which skips handing the work to the tokenizer's thread pool (the p99 tail)
        encodings = ([self._tokenizer.encode(heads[0], add_special_tokens=False)] if len(heads) == 1 else
                     self._tokenizer.encode_batch(heads, add_special_tokens=False))
        table = self._table
        for i, enc in enumerate(encodings):
            if enc.ids:
                out[i] = table[np.asarray(enc.ids, dtype=np.int64)].mean(axis=0)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms > 0, norms, 1.0)
