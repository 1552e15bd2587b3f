"""Emotion → musical intent, as a table a student can read and edit.

Each continuous attribute is a straight line in valence (v) and arousal (a), clipped
to a range::

    value = clip(base + valence * v + arousal * a, low, high)

and the coefficients live in :data:`LINEAR_RULES`. Key, instruments and harmony are
looked up by quadrant in :data:`QUADRANT_CHOICES`. Change either dictionary (or pass
your own with ``table=``) and every generator follows.

The directions come from music-psychology reviews of what listeners hear as
emotional cues:

* **Tempo**: faster music is heard as more active/aroused, slower as calmer or
  sadder (Gabrielsson & Lindström 2010, *Handbook of Music and Emotion*, ch. 14;
  Juslin 2001 cue-utilisation model).
* **Mode**: major is heard as happy/positive, minor as sad/negative (Hevner 1935;
  Gabrielsson & Lindström 2010).
* **Register**: higher pitch goes with happiness and activity, lower pitch with
  sadness and solemnity (Gabrielsson & Lindström 2010).
* **Loudness**: louder goes with anger/excitement (high arousal), softer with
  tenderness and sadness (Juslin 2001; Juslin & Laukka 2003).
* **Articulation**: legato goes with sadness and tenderness, staccato with activity
  and happiness (Juslin 2001).
* **Rhythmic density**: more notes per beat raises perceived activity (Gabrielsson
  & Lindström 2010).

Examples
--------
>>> from scoringkit.types import Emotion
>>> sad, happy = emotion_to_intent(Emotion(-0.8, -0.6)), emotion_to_intent(Emotion(0.8, 0.6))
>>> sad.tempo < happy.tempo, sad.mode, happy.mode, sad.register < happy.register
(True, 'minor', 'major', True)
"""

from __future__ import annotations

import copy

from .errors import InputError, choice_error
from .types import Emotion, MusicalIntent

__all__ = ["emotion_to_intent", "LINEAR_RULES", "QUADRANT_CHOICES", "STYLES", "default_table"]

#: ``attribute -> (base, valence weight, arousal weight, low, high, reason)``.
LINEAR_RULES = {
    "tempo": (94.0, 8.0, 40.0, 48.0, 176.0, "faster with arousal (and a little with valence): tempo is the strongest arousal cue"),
    "register": (66.0, 6.0, 3.0, 52.0, 80.0, "higher with valence: high pitch reads as bright, low as dark or sad"),
    "velocity": (70.0, 4.0, 34.0, 30.0, 118.0, "louder with arousal: loudness signals energy, softness tenderness or sadness"),
    "density": (1.0, 0.1, 0.6, 0.5, 2.0, "more notes per beat with arousal: busier rhythm reads as more active"),
    "articulation": (0.82, 0.0, -0.16, 0.55, 0.98, "legato at low arousal, detached at high arousal"),
}

#: ``quadrant -> key, harmony family and General MIDI programs per role``.
QUADRANT_CHOICES = {
    1: {"key": "D major", "harmony": "bright",
        "instruments": {"melody": 73, "accompaniment": 0, "pad": 48, "bass": 33},
        "reason": "major mode and bright timbres (flute, piano, strings) for positive, energetic scenes"},
    2: {"key": "C minor", "harmony": "tense",
        "instruments": {"melody": 40, "accompaniment": 48, "pad": 61, "bass": 43},
        "reason": "minor mode with dominant tension; strings and brass for threat and anger"},
    3: {"key": "D minor", "harmony": "lament",
        "instruments": {"melody": 42, "accompaniment": 0, "pad": 49, "bass": 43},
        "reason": "minor mode, descending progressions and dark timbres (cello, slow strings) for grief"},
    4: {"key": "F major", "harmony": "pastoral",
        "instruments": {"melody": 71, "accompaniment": 46, "pad": 89, "bass": 32},
        "reason": "major mode with plagal colour; soft timbres (clarinet, harp, warm pad) for calm"},
}

#: Style presets layered on top of the table: multipliers/offsets per attribute.
STYLES = {
    "film": {},
}


def default_table() -> dict:
    """A deep copy of the built-in table, to edit and pass as ``table=``.

    Examples
    --------
    >>> table = default_table()
    >>> table["linear"]["tempo"] = (120.0, 0.0, 10.0, 100.0, 140.0, "narrow tempo range")
    >>> from scoringkit.types import Emotion
    >>> emotion_to_intent(Emotion(0, -1), table=table).tempo
    110.0
    """
    return {"linear": copy.deepcopy(LINEAR_RULES), "quadrants": copy.deepcopy(QUADRANT_CHOICES)}


def emotion_to_intent(emotion: Emotion, *, style: str | None = None, table: dict | None = None) -> MusicalIntent:
    """Choose tempo, key/mode, register, loudness, density, articulation and instruments for an emotion.

    Parameters
    ----------
    emotion : Emotion
        The target emotion (valence and arousal are used; categories do not change v1).
    style : str, optional
        A preset from :data:`STYLES` (``"film"``, the default, changes nothing).
    table : dict, optional
        A table shaped like :func:`default_table` to use instead of the built-in one.

    Returns
    -------
    MusicalIntent
        With a ``reasons`` entry for each attribute.

    Examples
    --------
    >>> intent = emotion_to_intent(Emotion(0.7, 0.8))
    >>> intent.key, intent.tempo > 120
    ('D major', True)
    """
    if not isinstance(emotion, Emotion):
        raise InputError(f"emotion_to_intent needs an Emotion, not {type(emotion).__name__}; e.g. Emotion(0.5, -0.2)")
    if style is not None and style not in STYLES:
        raise choice_error("style", style, STYLES)
    table = table or {"linear": LINEAR_RULES, "quadrants": QUADRANT_CHOICES}
    v, a = emotion.valence, emotion.arousal
    values, reasons = {}, {}
    for name, (base, wv, wa, low, high, reason) in table["linear"].items():
        values[name] = min(high, max(low, base + wv * v + wa * a))
        reasons[name] = reason
    choice = table["quadrants"][emotion.quadrant]
    for name in ("key", "harmony", "instruments"):
        reasons[name] = choice["reason"]
    return MusicalIntent(
        tempo=round(values["tempo"], 1),
        key=choice["key"],
        register=int(round(values["register"])),
        velocity=int(round(values["velocity"])),
        density=round(values["density"], 3),
        articulation=round(values["articulation"], 3),
        instruments=dict(choice["instruments"]),
        harmony=choice["harmony"],
        emotion=emotion,
        reasons=reasons,
    )
