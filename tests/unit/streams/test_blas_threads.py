"""A worker keeps numpy's BLAS on one thread (a second one spun on two cores)."""

from __future__ import annotations

import os
import subprocess
import sys

_COUNT_THREADS = ("import streams.__main__ as m; m.one_blas_thread(); import numpy, os; "
                  "print(len(os.listdir('/proc/self/task')))")


def test_numpy_starts_no_blas_threads_in_a_worker() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", _COUNT_THREADS], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "1"


def test_an_operators_own_setting_wins() -> None:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "2"}
    code = "import streams.__main__ as m, os; m.one_blas_thread(); print(os.environ['OPENBLAS_NUM_THREADS'])"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "2"
