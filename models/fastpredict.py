"""Single-row LightGBM prediction through the C API's fast path.

``Booster.predict`` spends ~30 µs per call on Python-side checks for one row; the C API's
``LGBM_BoosterPredictForMatSingleRowFast`` with a prepared config skips them. Same library,
same model, same numbers (checked against ``Booster.predict`` in the tests).
"""

from __future__ import annotations

import ctypes

import lightgbm as lgb
import numpy as np
from lightgbm.basic import _LIB, _safe_call

_PREDICT_RAW_SCORE = 1
_DTYPE_FLOAT32 = 0


class FastRowPredictor:
    """Raw scores for one float32 row at a time; owns a C-side fast config."""

    def __init__(self, booster: lgb.Booster, n_features: int, n_classes: int) -> None:
        self._booster = booster  # keep the handle alive
        self._config = ctypes.c_void_p()
        _safe_call(_LIB.LGBM_BoosterPredictForMatSingleRowFastInit(
            booster._handle, ctypes.c_int(_PREDICT_RAW_SCORE), ctypes.c_int(0), ctypes.c_int(-1),
            ctypes.c_int(_DTYPE_FLOAT32), ctypes.c_int32(n_features), ctypes.c_char_p(b"num_threads=1"),
            ctypes.byref(self._config)))
        self._out = np.zeros(n_classes, dtype=np.float64)
        self._out_ptr = self._out.ctypes.data_as(ctypes.POINTER(ctypes.c_double))
        self._out_len = ctypes.c_int64(0)
        self._out_len_ref = ctypes.byref(self._out_len)
        self._fn = _LIB.LGBM_BoosterPredictForMatSingleRowFast

    def raw(self, row: np.ndarray) -> np.ndarray:
        """``row`` must be a contiguous float32 array of n_features; returns a fresh copy."""
        _safe_call(self._fn(self._config, row.ctypes.data_as(ctypes.c_void_p), self._out_len_ref, self._out_ptr))
        return self._out.copy()

    def close(self) -> None:
        if self._config:
            _LIB.LGBM_FastConfigFree(self._config)
            self._config = ctypes.c_void_p()

    def __del__(self) -> None:
        self.close()
