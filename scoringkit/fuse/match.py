"""Emotion match: how well a piece of music expresses a target emotion, as one number in [0, 1].

The music is heard by :func:`scoringkit.music_emotion` (models trained on EMOPIA), which
gives four quadrant probabilities ``p1..p4`` and their expectation on the
valence/arousal plane, the estimate ``(v̂, â)``. For a target ``(v, a)`` in quadrant
``q`` the match is

.. math::

    \\text{score} = w \\, p_q + (1 - w) \\left(1 - \\frac{|\\hat v - v| + |\\hat a - a|}{4}\\right),
    \\qquad w = 0.5

that is, the probability the music model gives to the target's quadrant blended half
and half with one minus half the mean absolute valence/arousal error (each error lies in
[0, 2], so the second term also lies in [0, 1]).

Why both parts:

* ``p_q`` (quadrant agreement) is what the music model was trained to predict (EMOPIA
  labels are quadrants) and what the evaluation counts (intended vs heard quadrant), so it
  carries most of the signal; but it is a step function of the target: a target at
  valence +0.05 and one at -0.05 ask for opposite halves of the plane.
* the valence/arousal term is continuous in the target, so a target near an axis prefers
  music near that axis instead of music deep inside either quadrant, and a mild target
  prefers a milder estimate. The estimate's distance from the centre reflects the model's
  confidence rather than a measured intensity, so this term is a soft preference; it is
  kept at half weight.

Examples
--------
>>> import scoringkit as sk
>>> sad = sk.Emotion(-0.7, -0.6)
>>> m = emotion_match(sad, sk.compose(sad, duration=12, seed=0))
>>> 0.0 <= m.score <= 1.0, m.estimated.quadrant
(True, 3)
>>> emotion_match(sad, sk.compose(sk.Emotion(0.8, 0.8), duration=12)).score < m.score
True
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

from ..errors import InputError
from ..types import Emotion, MusicalIntent

__all__ = ["Match", "emotion_match", "QUADRANT_WEIGHT"]

#: Weight ``w`` of the quadrant probability in :func:`emotion_match` (the rest goes to the
#: valence/arousal closeness).
QUADRANT_WEIGHT = 0.5


@dataclass(frozen=True)
class Match:
    """How well music matches a target emotion (built by :func:`emotion_match`).

    Parameters
    ----------
    score : float
        The match in [0, 1] (1 = the model is sure of the target's quadrant and its
        estimate sits on the target).
    valence_error, arousal_error : float
        Absolute differences ``|v̂ - v|`` and ``|â - a|`` in [0, 2].
    quadrant_agreement : float
        Probability in [0, 1] the music model gives to the target's quadrant.
    quadrant_match : bool
        Whether the estimated emotion's quadrant is the target's.
    estimated : Emotion
        What the music expresses, by :func:`scoringkit.music_emotion`.
    target : Emotion
        What was asked for.
    probabilities : tuple of float
        The music model's quadrant probabilities ``(p1, p2, p3, p4)``.

    Examples
    --------
    >>> m = Match(0.9, 0.1, 0.1, 0.85, True, Emotion(0.6, 0.5), Emotion(0.7, 0.6), (0.85, 0.1, 0.0, 0.05))
    >>> m.to_dict()["quadrant_match"]
    True
    """

    score: float
    valence_error: float
    arousal_error: float
    quadrant_agreement: float
    quadrant_match: bool
    estimated: Emotion
    target: Emotion
    probabilities: tuple

    def to_dict(self) -> dict:
        """Plain data (for JSON, CSV, data frames)."""
        return {
            "score": round(self.score, 4),
            "valence_error": round(self.valence_error, 4),
            "arousal_error": round(self.arousal_error, 4),
            "quadrant_agreement": round(self.quadrant_agreement, 4),
            "quadrant_match": self.quadrant_match,
            "target_quadrant": self.target.quadrant,
            "estimated_quadrant": self.estimated.quadrant,
            "estimated_valence": round(self.estimated.valence, 4),
            "estimated_arousal": round(self.estimated.arousal, 4),
        }


def emotion_match(target: Emotion, music, *, sr=None, model=None, weight: float = QUADRANT_WEIGHT) -> Match:
    """Score how well ``music`` expresses the ``target`` emotion.

    Parameters
    ----------
    target : Emotion
        The emotion the music should express (e.g. a scene's, from
        :func:`scoringkit.analyze_text`, or ``intent.emotion``).
    music : Score, str, Path, ndarray or AudioFeatures
        A :class:`~scoringkit.Score`, a MIDI file, an audio file, an array of samples
        (with ``sr``) or features from :func:`scoringkit.audio_features`; anything
        :func:`scoringkit.music_emotion` accepts.
    sr : float, optional
        Sample rate of an array of samples.
    model : MusicEmotionModel or path, optional
        A music-emotion model to use instead of the shipped one.
    weight : float
        Share ``w`` in [0, 1] of the quadrant probability in the score (default 0.5);
        ``1 - w`` goes to the valence/arousal closeness. See the module docstring for the
        formula and why.

    Returns
    -------
    Match
        ``score`` in [0, 1] and its parts.

    Raises
    ------
    InputError
        ``target`` is not an :class:`Emotion`, ``weight`` outside [0, 1], or the music
        cannot be heard (see :func:`scoringkit.music_emotion`: unreadable input, no
        pitched notes, silent audio, an array without ``sr``).

    Examples
    --------
    >>> import scoringkit as sk
    >>> calm = sk.Emotion(0.6, -0.6)
    >>> m = sk.emotion_match(calm, sk.compose(calm, duration=12, seed=1))
    >>> m.quadrant_match, m.quadrant_agreement > 0.5
    (True, True)
    """
    from .emotion_model import _classify, emotion_from_probabilities, quadrant_probabilities

    if isinstance(target, MusicalIntent):
        raise InputError("emotion_match needs the target Emotion, not a MusicalIntent; pass intent.emotion "
                         "(set when the intent comes from emotion_to_intent)")
    if not isinstance(target, Emotion):
        raise InputError(f"emotion_match needs a target Emotion, not {type(target).__name__}; "
                         "e.g. emotion_match(Emotion(valence=-0.5, arousal=0.6), score)")
    weight = _check_weight(weight)
    kind, _ = _classify(music)
    p = quadrant_probabilities(music, sr=sr, model=model)
    estimated = emotion_from_probabilities(p, source=f"music:{kind}")
    valence_error = abs(estimated.valence - target.valence)
    arousal_error = abs(estimated.arousal - target.arousal)
    agreement = float(p[target.quadrant - 1])
    closeness = 1.0 - (valence_error + arousal_error) / 4.0
    score = min(1.0, max(0.0, weight * agreement + (1.0 - weight) * closeness))
    return Match(score, valence_error, arousal_error, agreement, estimated.quadrant == target.quadrant,
                 estimated, target, tuple(float(v) for v in p))


def _check_weight(weight) -> float:
    if isinstance(weight, bool) or not isinstance(weight, numbers.Real) or not math.isfinite(weight) \
            or not 0.0 <= weight <= 1.0:
        raise InputError(f"weight must be a number in [0, 1] (the quadrant probability's share), got {weight!r}")
    return float(weight)
