"""How many threads the BLAS under NumPy and SciPy may use inside a block of code.

Small matrix products run fastest on one thread: extra BLAS threads only add start-up and
contention costs, badly so on a busy 2-core machine. :func:`blas_threads` is the one place
that sets it (audio feature extraction, Transformer sampling).
"""

from __future__ import annotations

import contextlib
import sys

_SCAN = {"modules": -1, "controller": None}


def blas_threads(n: int):
    """A context manager that lets BLAS use ``n`` threads inside its block.

    threadpoolctl finds the BLAS libraries by scanning the loaded shared libraries, which takes
    about a millisecond; the scan is kept and made again only when modules have been imported
    since (an import may load another BLAS), so entering the block usually costs ~20 µs.
    Without threadpoolctl (it comes with scikit-learn) the block runs unchanged.

    Parameters
    ----------
    n : int
        Threads, at least 1.

    Examples
    --------
    >>> import numpy as np
    >>> with blas_threads(1):
    ...     float(np.ones((4, 4)).dot(np.ones(4)).sum())
    16.0
    """
    if _SCAN["modules"] != len(sys.modules):
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
            return contextlib.nullcontext()
        _SCAN["controller"] = ThreadpoolController()
        _SCAN["modules"] = len(sys.modules)
    return _SCAN["controller"].limit(limits=max(1, int(n)), user_api="blas")
