"""Debouncing shared by the widgets that react to typing or dragging (text box, emotion pad).

A widget keeps ``debounce`` (seconds), a lock ``_lock`` and a timer ``_timer``; each change
calls :func:`restart_timer`, so the work runs once, ``debounce`` seconds after the last change.
"""

from __future__ import annotations

import math

from ..errors import InputError


def check_debounce(debounce) -> float:
    """``debounce`` as a float >= 0, or :class:`InputError`.

    Examples
    --------
    >>> check_debounce("0.25")
    0.25
    """
    try:
        wait = float(debounce)
    except (TypeError, ValueError):
        wait = math.nan
    if not math.isfinite(wait) or wait < 0:
        raise InputError(f"debounce is a pause in seconds and must be a number >= 0, got {debounce!r}")
    return wait


def restart_timer(owner, callback) -> None:
    """Cancel ``owner``'s pending timer and start a new one that calls ``callback`` after ``owner.debounce`` s."""
    import threading

    with owner._lock:
        if owner._timer is not None:
            owner._timer.cancel()
        owner._timer = threading.Timer(owner.debounce, callback)
        owner._timer.daemon = True
        owner._timer.start()
