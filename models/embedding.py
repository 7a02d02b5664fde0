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
MAX_CHARS = 2000  # the head of a long prompt says what it is about; bounds the per-prompt cost


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
            self._model = WordLlama.load(config="l2_supercat", dim=DIM, cache_dir=folder, disable_download=True)
        except Exception as exc:  # noqa: BLE001 - any failure here is a broken install
            msg = f"cannot load the bundled WordLlama weights from {folder}: {type(exc).__name__}: {exc}"
            raise ModelError(msg) from None

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors, one row per text (float32)."""
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        vecs = np.asarray(self._model.embed([t[:MAX_CHARS] or " " for t in texts], norm=True), dtype=np.float32)
        return vecs
