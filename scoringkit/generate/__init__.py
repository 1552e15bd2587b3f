"""Composition: one ``compose`` call in front of every generator.

Examples
--------
>>> import scoringkit as sk
>>> score = sk.compose(sk.Emotion(-0.6, -0.5), duration=6, seed=2)
>>> score.key
'D minor'
"""

from __future__ import annotations

import math
import numbers

from ..errors import InputError, choice_error
from ..types import Emotion, MusicalIntent, Score

__all__ = ["compose", "GENERATORS", "MAX_CUE_SECONDS"]

#: Generators available in this version (learned ones arrive with their checkpoints).
GENERATORS = ("rules",)
#: Longest single cue ``compose`` writes, in seconds.
MAX_CUE_SECONDS = 3600.0


def compose(emotion_or_intent, *, generator: str = "rules", duration: float = 20.0, seed: int = 0) -> Score:
    """Write music for an emotion (or a ready :class:`~scoringkit.types.MusicalIntent`).

    Parameters
    ----------
    emotion_or_intent : Emotion or MusicalIntent
        An :class:`Emotion` is first turned into an intent with
        :func:`scoringkit.emotion_to_intent`. To score "like a reference track", build
        the intent yourself: ``compose(emotion_to_intent(emotion, reference="track.wav"))``.
    generator : str
        ``"rules"`` (the theory-driven composer, :mod:`scoringkit.generate.rules`).
    duration : float
        Seconds, > 0 and ≤ 3600; the result is rounded to whole bars.
    seed : int
        Same inputs and seed → same music.

    Returns
    -------
    Score

    Examples
    --------
    >>> import scoringkit as sk
    >>> s = sk.compose(sk.Emotion(0.8, 0.7), duration=10)
    >>> abs(s.duration - 10) < 60 / s.tempo * 4
    True
    """
    if isinstance(emotion_or_intent, Emotion):
        from ..mapping import emotion_to_intent

        intent = emotion_to_intent(emotion_or_intent)
    elif isinstance(emotion_or_intent, MusicalIntent):
        intent = emotion_or_intent
    else:
        raise InputError(
            f"compose needs an Emotion or a MusicalIntent, not {type(emotion_or_intent).__name__}; "
            "e.g. compose(Emotion(valence=0.5, arousal=-0.3))"
        )
    if not isinstance(generator, str) or generator not in GENERATORS:
        raise choice_error("generator", generator, GENERATORS)
    if isinstance(duration, bool) or not isinstance(duration, numbers.Real) or not math.isfinite(duration) \
            or not 0 < duration <= MAX_CUE_SECONDS:
        raise InputError(f"duration must be a number of seconds in (0, {MAX_CUE_SECONDS:g}], got {duration!r}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise InputError(f"seed must be an integer, got {seed!r}")
    from .rules import compose_rules

    return compose_rules(intent, duration=float(duration), seed=int(seed))
