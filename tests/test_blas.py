"""blas_threads: the one helper that sets the BLAS thread count (audio features, Transformer sampling)."""

import pytest

threadpoolctl = pytest.importorskip("threadpoolctl")

import numpy  # noqa: E402,F401  (loads NumPy's BLAS before the scan)

from scoringkit._blas import blas_threads  # noqa: E402


def blas_counts():
    return [lib["num_threads"] for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas"]


def test_blas_threads_limits_inside_the_block_and_restores_after():
    before = blas_counts()
    assert before, "NumPy's BLAS should be visible to threadpoolctl"
    with blas_threads(1):
        assert blas_counts() == [1] * len(before)
    assert blas_counts() == before
    with blas_threads(1):  # the kept scan serves a second time
        assert blas_counts() == [1] * len(before)
    assert blas_counts() == before
