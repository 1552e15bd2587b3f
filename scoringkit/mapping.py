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
* **Harmony and tension**: dissonance, diminished and augmented chords and
  chromaticism read as unpleasant, tense or fearful; consonance as calm and pleasant
  (Gabrielsson & Lindström 2010; Hevner 1936).
* **Modal colour**: lydian brighter than ionian, dorian and phrygian darker, in a
  brightness order lydian > ionian > mixolydian > dorian > aeolian > phrygian
  (Temperley & Tan 2013, *Music Perception* 30(3)).
* **Rhythm**: syncopation, drums and faster harmonic rhythm raise arousal; slow chord
  changes read as calm (Gabrielsson & Lindström 2010; Juslin 2001).
* **Dynamics over time**: crescendi build tension toward a climax, decrescendi
  let it go (Huron 2006, *Sweet Anticipation*).
* **Space (reverb)**: more reverberation makes instruments sound more romantic, sad,
  mysterious and distant, less happy, comic or heroic (Mo, Wu & Horner 2015, *J.
  Audio Eng. Soc.* 63(12)); calm and sad scenes get a larger room, excited ones a
  drier, closer sound.
* **Texture**: a second, softer voice against the melody (the ``counter`` role) fills
  the sound without adding notes outside the chords.

Checked against EMOPIA (``benchmarks/emopia_vs_table.py``, 1,078 pop-piano clips): the
data agrees on the strongest cues -- high-arousal clips are much louder (+24 velocity)
and busier (+4.5 notes/s), positive ones far more often in major keys (+42 points) with
fewer minor chords -- and played tempo rises with arousal, though only by about 9 BPM.
It disagrees on register: EMOPIA's positive and negative clips have the same mean pitch.
We keep the register rule (and the steeper tempo line) because listening experiments
that vary one cue at a time find both effects (Gabrielsson & Lindström 2010), while
EMOPIA's pianists vary everything at once and use the whole keyboard; the music-emotion
model trained on EMOPIA still places the composer's cues in their quadrants
(``benchmarks/bench_quadrants.py``).

On top of the linear rules and quadrant choices: :data:`CATEGORY_COLOURS` adds a
colour for the most probable emotion category (fear: harmonic minor and clusters;
anger: phrygian and heavier drums; ...), and :data:`STYLES` presets (film, game,
jingle, lullaby, horror) reshape the result. Edited tables are checked by
:func:`validate_table`, whose errors name the field and its valid range.

Matching a reference track
--------------------------
``emotion_to_intent(emotion, reference=track)`` scores a scene "like that track": the
reference's features (:func:`reference_features`) are turned into intent units
(:func:`reference_targets`) and blended into the emotion's values with the weight
``w = reference_weight`` (default :data:`REFERENCE_WEIGHT` = 0.5)::

    value = clip((1 - w) * emotion_value + w * clip(reference_value, low, high), low, high)

with ``low``/``high`` from the table. Tempo, register, velocity and density blend this
way; key follows the rule in :func:`emotion_to_intent`; articulation, instruments and
meter stay the emotion's. Whatever the reference cannot say (silence has no tempo,
a drum loop no key) keeps the emotion's value, and the reason says so.

Examples
--------
>>> from scoringkit.types import Emotion
>>> sad, happy = emotion_to_intent(Emotion(-0.8, -0.6)), emotion_to_intent(Emotion(0.8, 0.6))
>>> sad.tempo < happy.tempo, sad.mode, happy.mode, sad.register < happy.register
(True, 'minor', 'major', True)
"""

from __future__ import annotations

import copy
import math
import numbers
import os
import sys

from .errors import InputError, choice_error
from .types import Emotion, MusicalIntent, key_name, parse_key

__all__ = [
    "emotion_to_intent",
    "reference_features",
    "reference_targets",
    "LINEAR_RULES",
    "QUADRANT_CHOICES",
    "STYLES",
    "CATEGORY_COLOURS",
    "validate_table",
    "REFERENCE_WEIGHT",
    "default_table",
]

#: ``attribute -> (base, valence weight, arousal weight, low, high, reason)``.
LINEAR_RULES = {
    "tempo": (94.0, 8.0, 40.0, 48.0, 176.0, "faster with arousal (and a little with valence): tempo is the strongest arousal cue"),
    "register": (66.0, 6.0, 3.0, 52.0, 80.0, "higher with valence: high pitch reads as bright, low as dark or sad"),
    "velocity": (70.0, 4.0, 34.0, 30.0, 118.0, "louder with arousal: loudness signals energy, softness tenderness or sadness"),
    "density": (1.0, 0.1, 0.6, 0.5, 2.0, "more notes per beat with arousal: busier rhythm reads as more active"),
    "articulation": (0.82, 0.0, -0.16, 0.55, 0.98, "legato at low arousal, detached at high arousal"),
    "tension": (0.2, -0.3, 0.2, 0.0, 1.0, "more dissonance for negative, aroused states (fear, anger): dissonant "
                "harmony reads as unpleasant and agitated"),
    "syncopation": (0.12, 0.05, 0.3, 0.0, 0.8, "more off-beat accents with arousal: rhythmic irregularity reads as "
                    "activity and excitement"),
    "percussion": (0.12, 0.05, 0.6, 0.0, 1.0, "drums enter and grow with arousal (below 0.2 there are none)"),
    "reverb": (0.32, -0.04, -0.2, 0.08, 0.7, "more room at low arousal (and a little for sadness): reverberation "
               "sounds distant, tender or sad, a dry close sound energetic"),
}

#: ``quadrant -> key, harmony family and General MIDI programs per role``.
QUADRANT_CHOICES = {
    1: {"key": "D major", "harmony": "bright",
        "instruments": {"melody": 73, "counter": 71, "accompaniment": 0, "pad": 48, "bass": 33},
        "scale": "ionian", "dynamics": "arch",
        "reason": "major mode and bright timbres (flute, piano, strings) for positive, energetic scenes"},
    2: {"key": "C minor", "harmony": "tense", "scale": "harmonic minor", "dynamics": "crescendo",
        "instruments": {"melody": 40, "counter": 42, "accompaniment": 48, "pad": 61, "bass": 43},
        "reason": "minor mode with dominant tension; strings and brass for threat and anger"},
    3: {"key": "D minor", "harmony": "lament", "scale": "aeolian", "dynamics": "decrescendo",
        "instruments": {"melody": 42, "counter": 69, "accompaniment": 0, "pad": 49, "bass": 43},
        "reason": "minor mode, descending progressions and dark timbres (cello, slow strings) for grief"},
    4: {"key": "F major", "harmony": "pastoral", "scale": "ionian", "dynamics": "steady",
        "instruments": {"melody": 71, "counter": 70, "accompaniment": 46, "pad": 89, "bass": 32},
        "reason": "major mode with plagal colour; soft timbres (clarinet, harp, warm pad) for calm"},
}

#: Below this arousal each chord lasts two bars (slow harmonic rhythm reads as calm).
SLOW_HARMONY_AROUSAL = -0.5

#: Colour by the most probable emotion category (used when its probability is at least
#: :data:`CATEGORY_MIN`): a modal scale (applied only when it fits the key's mode),
#: offsets to the linear attributes, a dynamics curve.
CATEGORY_COLOURS = {
    "joy": {"scale": "lydian", "add": {"register": 2},
            "reason": "joy: the raised fourth of lydian sounds bright and open"},
    "surprise": {"scale": "lydian", "add": {"syncopation": 0.2, "tension": 0.1},
                 "reason": "surprise: lydian brightness and unexpected off-beat accents"},
    "fear": {"scale": "harmonic minor", "add": {"tension": 0.35, "register": -3}, "dynamics": "crescendo",
             "reason": "fear: harmonic minor, chromatic neighbour notes and clusters, a growing crescendo"},
    "anger": {"scale": "phrygian", "add": {"percussion": 0.25, "velocity": 6, "tension": 0.2},
              "reason": "anger: the flat second of phrygian, heavier drums and accents"},
    "disgust": {"scale": "phrygian", "add": {"tension": 0.25},
                "reason": "disgust: phrygian's flat second and sour dissonance"},
    "sadness": {"scale": "dorian", "add": {"tension": -0.1, "register": -2}, "dynamics": "decrescendo",
                "reason": "sadness: dorian's bittersweet major sixth, low register, fading dynamics"},
}
#: Probability a category needs before its colour is applied.
CATEGORY_MIN = 0.4

#: Style presets layered on top of the table. ``scale_tempo`` multiplies the tempo,
#: ``add`` offsets attributes, ``set`` replaces values, ``instruments`` replaces roles'
#: General MIDI programs; everything stays clipped to the table's ranges.
STYLES = {
    "film": {"reason": "film: the table as it is"},
    "game": {"scale_tempo": 1.05, "add": {"percussion": 0.2, "syncopation": 0.1},
             "set": {"dynamics": "steady", "reverb": 0.1},
             "instruments": {"melody": 80, "bass": 38},
             "reason": "game loop: steady dynamics so it can repeat, a square-wave lead and synth bass, more drive"},
    "jingle": {"scale_tempo": 1.1, "add": {"register": 4, "velocity": 6, "syncopation": 0.2, "percussion": 0.2},
               "set": {"dynamics": "arch", "reverb": 0.1}, "instruments": {"melody": 9, "accompaniment": 0, "bass": 33},
               "reason": "ad jingle: brisk, high, catchy off-beats, glockenspiel hook"},
    "lullaby": {"scale_tempo": 0.7, "add": {"velocity": -18, "density": -0.4, "articulation": 0.1, "reverb": 0.1},
                "set": {"percussion": 0.0, "tension": 0.0, "syncopation": 0.0, "dynamics": "decrescendo",
                        "meter": (3, 4)},
                "instruments": {"melody": 10, "counter": 73, "accompaniment": 46, "pad": 89, "bass": 32},
                "reason": "lullaby: slow 3/4 rocking, soft music box and harp, no drums, no dissonance"},
    "horror": {"scale_tempo": 0.85, "scale": "phrygian", "add": {"tension": 0.5, "register": -6, "reverb": 0.3},
               "set": {"mode": "minor",
               "dynamics": "crescendo", "harmony": "tense"},
               "instruments": {"melody": 41, "counter": 42, "pad": 49, "bass": 43},
               "reason": "horror: minor mode, clusters and chromatic creeping, low viola and strings, a slow swell"},
}

_LINEAR_FIELDS = ("base", "valence weight", "arousal weight", "low", "high", "reason")
_LINEAR_LIMITS = {"tempo": (20.0, 300.0), "register": (24.0, 108.0), "velocity": (1.0, 127.0),
                  "density": (0.125, 4.0), "articulation": (0.05, 1.0), "tension": (0.0, 1.0),
                  "syncopation": (0.0, 1.0), "percussion": (0.0, 1.0), "reverb": (0.0, 1.0)}
_REQUIRED_LINEAR = ("tempo", "register", "velocity", "density", "articulation")  # the others default to 0
#: Instrument roles a quadrant choice or style can assign a General MIDI program to.
ROLES = ("melody", "counter", "accompaniment", "pad", "bass")


def validate_table(table) -> dict:
    """Check an edited mapping table; raise :class:`InputError` naming the bad field.

    Parameters
    ----------
    table : dict
        Shaped like :func:`default_table`: ``{"linear": {...}, "quadrants": {1: ..., 4: ...}}``.

    Returns
    -------
    dict
        The same table.

    Examples
    --------
    >>> t = default_table()
    >>> t["linear"]["tempo"] = (90, 0, 40, 48, 400, "too fast")
    >>> validate_table(t)
    Traceback (most recent call last):
    ...
    scoringkit.errors.InputError: table['linear']['tempo'] high must be within [20.0, 300.0], got 400
    """
    from .generate.rules import PROGRESSIONS
    from .types import DYNAMIC_CURVES, SCALE_NAMES

    if not isinstance(table, dict) or set(table) < {"linear", "quadrants"}:
        raise InputError("a mapping table is a dict with 'linear' and 'quadrants' entries; start from default_table()")
    linear = table["linear"]
    for name in _REQUIRED_LINEAR:
        if name not in linear:
            raise InputError(f"table['linear'] is missing {name!r}; every one of {list(_REQUIRED_LINEAR)} is needed")
    for name, rule in linear.items():
        where = f"table['linear'][{name!r}]"
        if name not in _LINEAR_LIMITS:
            raise InputError(f"{where}: unknown attribute; the table's attributes are {list(_LINEAR_LIMITS)}")
        if not isinstance(rule, (tuple, list)) or len(rule) != 6:
            raise InputError(f"{where} must be (base, valence weight, arousal weight, low, high, reason)")
        lo_limit, hi_limit = _LINEAR_LIMITS[name]
        for field_name, value in zip(_LINEAR_FIELDS[:5], rule[:5]):
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
                raise InputError(f"{where} {field_name} must be a finite number, got {value!r}")
        if not lo_limit <= rule[3] <= hi_limit:
            raise InputError(f"{where} low must be within [{lo_limit}, {hi_limit}], got {rule[3]!r}")
        if not lo_limit <= rule[4] <= hi_limit:
            raise InputError(f"{where} high must be within [{lo_limit}, {hi_limit}], got {rule[4]!r}")
        if rule[3] > rule[4]:
            raise InputError(f"{where} low ({rule[3]}) must not exceed high ({rule[4]})")
    quadrants = table["quadrants"]
    for q in (1, 2, 3, 4):
        if q not in quadrants:
            raise InputError(f"table['quadrants'] is missing quadrant {q}; quadrants 1-4 are needed")
        choice = quadrants[q]
        where = f"table['quadrants'][{q}]"
        for field_name in ("key", "harmony", "instruments"):
            if field_name not in choice:
                raise InputError(f"{where} is missing {field_name!r}")
        _, mode = parse_key(choice["key"])
        if choice["harmony"] not in PROGRESSIONS:
            raise InputError(f"{where}['harmony'] must be one of {sorted(PROGRESSIONS)}, got {choice['harmony']!r}")
        scale = choice.get("scale", "")
        if scale and SCALE_NAMES.get(scale) != mode:
            fits = sorted(n for n, m in SCALE_NAMES.items() if m == mode)
            raise InputError(f"{where}['scale'] must be one of {fits} for {choice['key']!r}, got {scale!r}")
        if choice.get("dynamics", "steady") not in DYNAMIC_CURVES:
            raise InputError(f"{where}['dynamics'] must be one of {list(DYNAMIC_CURVES)}, got {choice['dynamics']!r}")
        for role, program in choice["instruments"].items():
            if role not in ROLES:
                raise InputError(f"{where}['instruments'] has unknown role {role!r}; roles are {list(ROLES)}")
            if isinstance(program, bool) or not isinstance(program, numbers.Integral) or not 0 <= program <= 127:
                raise InputError(f"{where}['instruments'][{role!r}] must be a General MIDI program 0-127, "
                                 f"got {program!r}")
    return table


def _apply_colour(values, reasons, extra, colour, mode, table):
    """Apply a category colour or a style (``scale_tempo``, ``add``, ``set``) to the values."""
    from .types import SCALE_NAMES

    linear = table["linear"]
    if "scale_tempo" in colour:
        values["tempo"] *= colour["scale_tempo"]
    for name, delta in colour.get("add", {}).items():
        if name in values:
            values[name] += delta
    for name, value in colour.get("set", {}).items():
        if name in linear:
            values[name] = value
        elif name in _LINEAR_LIMITS:
            continue  # an attribute this table leaves out
        elif name in values:
            values[name] = value
        else:
            extra[name] = value
    for name in values:
        low, high = linear[name][3], linear[name][4]
        values[name] = min(high, max(low, values[name]))
    scale = colour.get("scale")
    if scale and SCALE_NAMES[scale] == mode:
        extra["scale"] = scale
    if "dynamics" in colour:
        extra["dynamics"] = colour["dynamics"]
    touched = set(colour.get("add", {})) | set(colour.get("set", {})) | ({"tempo"} if "scale_tempo" in colour else set())
    touched |= {"scale"} if scale else set()
    touched |= {"dynamics"} if "dynamics" in colour else set()
    touched |= {"instruments"} if "instruments" in colour else set()
    for name in touched:
        reasons[name] = (reasons.get(name, "") + "; " if reasons.get(name) else "") + colour["reason"]

# -- reference matching ------------------------------------------------------------------
#: Default share of a reference track in the intent: 0 = emotion only, 1 = reference only.
REFERENCE_WEIGHT = 0.5
#: From this weight on the reference's key (tonic and mode) is adopted; below it only
#: its key signature is (the emotion keeps its mode, see :func:`emotion_to_intent`).
KEY_ADOPT_WEIGHT = 0.5
#: A reference key estimate with a lower clarity (Krumhansl-Schmuckler correlation) is
#: ignored: white noise reads about 0.27, composed music 0.6-0.9.
KEY_CLARITY_MIN = 0.5
#: Spectral centroid (Hz) that reads as the neutral register :data:`REGISTER_NEUTRAL`;
#: scoringkit's own renders lie between about 650 and 1450 Hz.
CENTROID_NEUTRAL_HZ = 1200.0
#: Register semitones per octave of spectral centroid: half of a pure transposition
#: (12), since a mix's centroid moves with timbre (drums, brass, cymbals) as much as with pitch.
REGISTER_PER_CENTROID_OCTAVE = 6.0
#: Register and velocity of the neutral emotion (the built-in table's bases).
REGISTER_NEUTRAL = 66.0
VELOCITY_NEUTRAL = 70.0
#: Semitones from the mean pitch of all notes to the melody's register, as measured on the
#: rules composer's four-part texture (9.5 on average over the valence/arousal plane).
PITCH_TO_REGISTER = 9.5
#: Velocity steps from the mean velocity of all notes to the melody's velocity, measured the
#: same way (the composer plays accompaniment, pad and bass 6-28 steps under the melody).
VELOCITY_TO_MELODY = 12.0
#: Integrated loudness (LUFS) that reads as :data:`VELOCITY_NEUTRAL`: the EBU R 128
#: broadcast level, typical of film and TV mixes.
LOUDNESS_NEUTRAL_LUFS = -23.0
#: Velocity steps per LU of loudness: -14 LUFS (a streaming master) reads about 102,
#: -33 LUFS (very quiet) about 35.
VELOCITY_PER_LU = 3.5
#: File suffixes read as MIDI by :func:`reference_features` (anything else is audio).
MIDI_SUFFIXES = (".mid", ".midi", ".smf", ".kar")
_BLENDED = ("tempo", "register", "velocity", "density")
_UNITS = {"tempo": "{:.1f} BPM", "register": "MIDI {:.1f}", "velocity": "velocity {:.0f}",
          "density": "{:.2f} notes/beat"}


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


def emotion_to_intent(
    emotion: Emotion,
    *,
    reference=None,
    reference_weight: float = REFERENCE_WEIGHT,
    reference_sr: float | None = None,
    style: str | None = None,
    table: dict | None = None,
) -> MusicalIntent:
    """Choose tempo, key/mode, register, loudness, density, articulation and instruments for an emotion.

    Parameters
    ----------
    emotion : Emotion
        The target emotion: valence and arousal drive the table; when ``probs`` name a
        category with probability ≥ :data:`CATEGORY_MIN`, its colour from
        :data:`CATEGORY_COLOURS` is added (fear: harmonic minor and tension, ...).
    reference : path, ndarray, Score, AudioFeatures or SymbolicFeatures, optional
        A track to score "like": an audio file (WAV, FLAC, MP3, ...), a MIDI file
        (``.mid``, ``.midi``, ``.smf``, ``.kar``), samples (with ``reference_sr``), a
        :class:`~scoringkit.Score`, or features computed before (pass features when
        scoring many cues against one track, so it is analysed once). See
        :func:`reference_features`.
    reference_weight : float
        Share ``w`` of the reference, in [0, 1] (default :data:`REFERENCE_WEIGHT` = 0.5).
        0 gives exactly the intent without a reference.
    reference_sr : float, optional
        Sample rate in Hz of a ``reference`` given as an array (``sk.render`` uses 44100).
    style : str, optional
        A preset from :data:`STYLES` (``"film"``, the default, changes nothing).
    table : dict, optional
        A table shaped like :func:`default_table` to use instead of the built-in one.

    Returns
    -------
    MusicalIntent
        With a ``reasons`` entry for each attribute; with a reference, each blended
        attribute's reason shows the sum (e.g. ``"0.5 × reference 132.4 BPM (...) +
        0.5 × emotion 64.4 BPM = 98.4 BPM; ..."``) and ``reasons["reference"]`` lists what
        came from the reference and what did not.

    Raises
    ------
    InputError
        ``emotion`` is not an :class:`Emotion`; unknown ``style``; ``reference_weight``
        outside [0, 1]; a ``reference`` of another type, or a file that is missing or
        unreadable; an array without ``reference_sr``.

    Notes
    -----
    With a reference, ``tempo``, ``register``, ``velocity`` and ``density`` are
    ``clip((1 - w) * emotion_value + w * clip(reference_value, low, high), low, high)``
    (``low``, ``high`` from the table), where the reference values come from
    :func:`reference_targets`. The key follows the reference when its estimate is clear
    (``key_clarity`` ≥ :data:`KEY_CLARITY_MIN` = 0.5):

    * ``w`` ≥ :data:`KEY_ADOPT_WEIGHT` (0.5): the reference's key, tonic and mode. When
      its mode differs from the emotion's, the harmony family moves to the quadrant on
      the same arousal side with that mode (bright ↔ tense, pastoral ↔ lament), so that
      the progressions fit the mode.
    * 0 < ``w`` < 0.5: the emotion keeps its mode and takes the reference's key
      signature: the reference key itself when the modes agree, else its relative key
      (D major → B minor, A minor → C major), which shares all seven scale notes and
      is the closest key of the other mode (Krumhansl & Kessler 1982 key correlations:
      relative 0.65, parallel 0.51).

    An unclear or missing key (silence, drums, noise) keeps the emotion's key.
    Articulation, instruments and meter are always the emotion's.

    Examples
    --------
    >>> intent = emotion_to_intent(Emotion(0.7, 0.8))
    >>> intent.key, intent.tempo > 120
    ('D major', True)

    Score a sad scene like a fast cue in D major (a Score is analysed as symbolic music):

    >>> from scoringkit.generate import compose
    >>> track = compose(Emotion(0.8, 0.8), duration=10, seed=2)
    >>> sad = Emotion(-0.7, -0.6)
    >>> emotion_to_intent(sad).tempo, emotion_to_intent(sad).key
    (64.4, 'D minor')
    >>> matched = emotion_to_intent(sad, reference=track)
    >>> matched.tempo, matched.key
    (98.4, 'D major')
    >>> emotion_to_intent(sad, reference=track, reference_weight=0.25).key
    'B minor'
    """
    if not isinstance(emotion, Emotion):
        raise InputError(f"emotion_to_intent needs an Emotion, not {type(emotion).__name__}; e.g. Emotion(0.5, -0.2)")
    if style is not None and style not in STYLES:
        raise choice_error("style", style, STYLES)
    weight = _check_weight(reference_weight)
    if table is None:
        table = {"linear": LINEAR_RULES, "quadrants": QUADRANT_CHOICES}
    else:
        validate_table(table)
    v, a = emotion.valence, emotion.arousal
    values, reasons = {}, {}
    for name, (base, wv, wa, low, high, reason) in table["linear"].items():
        values[name] = min(high, max(low, base + wv * v + wa * a))
        reasons[name] = reason
    choice = table["quadrants"][emotion.quadrant]
    for name in ("key", "harmony", "instruments"):
        reasons[name] = choice["reason"]
    key, harmony = choice["key"], choice["harmony"]
    instruments = dict(choice["instruments"])
    extra = {"scale": choice.get("scale", ""), "dynamics": choice.get("dynamics", "steady")}
    reasons["scale"] = reasons["dynamics"] = choice["reason"]
    slow = a < SLOW_HARMONY_AROUSAL
    reasons["harmonic_rhythm"] = ("a chord per two bars: slow harmonic change reads as calm" if slow else
                                  "a chord per bar")
    mode = parse_key(key)[1]
    if emotion.probs:
        label, p = max(emotion.probs.items(), key=lambda item: item[1])
        if p >= CATEGORY_MIN and label in CATEGORY_COLOURS:
            _apply_colour(values, reasons, extra, CATEGORY_COLOURS[label], mode, table)
    if style is not None:
        preset = STYLES[style]
        if preset.get("set", {}).get("mode") == "minor" and mode == "major":
            tonic = parse_key(key)[0]
            key, harmony, mode = key_name(tonic, "minor"), "tense", "minor"
            extra["scale"] = ""
        _apply_colour(values, reasons, extra, preset, mode, table)
        instruments.update(preset.get("instruments", {}))
        harmony = extra.pop("harmony", harmony)
        extra.pop("mode", None)
    if reference is not None:
        features = reference_features(reference, sr=reference_sr)
        if weight > 0:
            old_mode = mode
            key, harmony = _blend_reference(features, weight, emotion, table, values, reasons, key, harmony)
            if parse_key(key)[1] != old_mode:
                extra["scale"] = ""  # the modal colour belonged to the other mode
                reasons["scale"] = f"the plain {parse_key(key)[1]} scale of the reference's key"
    from .types import SCALE_NAMES

    if extra.get("scale") and SCALE_NAMES[extra["scale"]] != parse_key(key)[1]:
        extra["scale"] = ""
        reasons["scale"] = f"the plain {parse_key(key)[1]} scale of the key"
    return MusicalIntent(
        tempo=round(values["tempo"], 1),
        key=key,
        register=int(round(values["register"])),
        velocity=int(round(values["velocity"])),
        density=round(values["density"], 3),
        articulation=round(values["articulation"], 3),
        instruments=instruments,
        meter=tuple(extra.get("meter", (4, 4))),
        harmony=harmony,
        emotion=emotion,
        reasons=reasons,
        scale=extra.get("scale", ""),
        tension=round(values.get("tension", 0.0), 3),
        syncopation=round(values.get("syncopation", 0.0), 3),
        percussion=round(values.get("percussion", 0.0), 3),
        dynamics=extra.get("dynamics", "steady"),
        harmonic_rhythm=0.5 if slow else 1.0,
        reverb=round(values.get("reverb", 0.0), 3),
    )


def reference_features(reference, *, sr: float | None = None):
    """Analyse a reference track once: features to pass as ``reference=`` many times.

    Parameters
    ----------
    reference : str, Path, ndarray, Score, AudioFeatures or SymbolicFeatures
        A path ending in ``.mid``, ``.midi``, ``.smf`` or ``.kar`` and a
        :class:`~scoringkit.Score` go to :func:`scoringkit.extract.symbolic_features`;
        any other path and a NumPy array of samples go to
        :func:`scoringkit.extract.audio_features` (``frames=False``: only the summaries
        are needed). Features are returned unchanged.
    sr : float, optional
        Sample rate of an array in Hz (required for arrays; ``sk.render`` uses 44100).

    Returns
    -------
    AudioFeatures or SymbolicFeatures

    Raises
    ------
    InputError
        Another type (a dict, a list, bytes, ...), a missing or unreadable file, an
        array without ``sr``.

    Examples
    --------
    >>> import scoringkit as sk
    >>> score = sk.Score([sk.Track("piano", 0, [sk.Note(60 + 4 * (b % 3), b, 1) for b in range(12)])], tempo=100)
    >>> reference_features(score).tempo
    100.0
    """
    from .extract import AudioFeatures, SymbolicFeatures, audio_features, symbolic_features
    from .types import Score

    if isinstance(reference, (AudioFeatures, SymbolicFeatures)):
        return reference
    if isinstance(reference, Score):
        return symbolic_features(reference)
    if isinstance(reference, (str, os.PathLike)):
        if os.path.splitext(os.fspath(reference))[1].lower() in MIDI_SUFFIXES:
            return symbolic_features(reference)
        return audio_features(reference, frames=False)
    numpy = sys.modules.get("numpy")  # an ndarray implies numpy is already imported
    if numpy is not None and isinstance(reference, numpy.ndarray):
        if sr is None:
            raise InputError("a reference given as samples needs its sample rate: pass reference_sr= "
                             "(e.g. 44100, the rate sk.render uses), or pass the file's path instead")
        return audio_features(reference, sr=sr, frames=False)
    raise InputError(
        f"reference must be an audio file path (WAV, FLAC, MP3, ...), a MIDI file path (.mid), a NumPy array "
        f"of samples (with reference_sr=), a Score, AudioFeatures or SymbolicFeatures, not {type(reference).__name__}"
    )


def reference_targets(features) -> dict:
    """What a reference says in the intent's units: tempo, key, register, velocity, density.

    Parameters
    ----------
    features : AudioFeatures or SymbolicFeatures
        From :func:`reference_features`.

    Returns
    -------
    dict
        ``name -> (value, source)`` for ``"tempo"``, ``"key"``, ``"register"``,
        ``"velocity"`` and ``"density"``; ``value`` is ``None`` when the reference
        cannot say (``source`` then says why), else ``source`` names the feature used.

    Notes
    -----
    Audio (:class:`~scoringkit.extract.AudioFeatures`):

    * tempo = ``tempo`` (BPM; ``None`` for silence or no steady pulse)
    * register = 66 + 6 · log2(centroid / 1200 Hz), centroid = mean spectral centroid
      (:data:`REGISTER_NEUTRAL`, :data:`REGISTER_PER_CENTROID_OCTAVE`,
      :data:`CENTROID_NEUTRAL_HZ`): a brighter mix reads as a higher register
    * velocity = 70 + 3.5 · (L + 23), L = integrated loudness in LUFS (the RMS level
      in dBFS when the loudness gate found nothing but the clip is not silent)
    * density = onset_density · 60 / tempo (onsets per beat; needs a tempo)

    Symbolic (:class:`~scoringkit.extract.SymbolicFeatures`):

    * tempo = ``tempo_estimate`` (the played pulse), else ``tempo`` (the tempo map)
    * register = pitch_mean + 9.5 (the melody lies above the mean of all parts)
    * velocity = velocity_mean + 12 (the melody is played above the mean of all parts)
    * density = onset_rate · 60 / tempo

    Key (both): the estimated ``key`` when ``key_clarity`` ≥ :data:`KEY_CLARITY_MIN`.

    Examples
    --------
    >>> import scoringkit as sk
    >>> notes = [sk.Note(p, b, 1, 80) for b, p in enumerate([60, 64, 67, 72] * 4)]
    >>> targets = reference_targets(reference_features(sk.Score([sk.Track("piano", 0, notes)], tempo=90)))
    >>> round(targets["tempo"][0]), targets["velocity"], round(targets["density"][0], 2)
    (90, (92.0, 'mean velocity 80'), 1.0)
    >>> targets["key"]
    ('C major', 'clarity 0.88')
    """
    from .extract import AudioFeatures, SymbolicFeatures

    if isinstance(features, AudioFeatures):
        out = {"tempo": (features.tempo, "audio tempo") if features.tempo is not None
               else (None, "the reference has no steady pulse" + (" (silence)" if features.silent else ""))}
        centroid = features.summary().get("centroid_mean") or 0.0
        if features.silent or not centroid > 0:
            out["register"] = (None, "the reference is silent (no spectral centroid)")
        else:
            octaves = math.log2(centroid / CENTROID_NEUTRAL_HZ)
            out["register"] = (REGISTER_NEUTRAL + REGISTER_PER_CENTROID_OCTAVE * octaves, f"spectral centroid {centroid:.0f} Hz")
        if features.loudness is not None:
            level, source = features.loudness, f"loudness {features.loudness:.1f} LUFS"
        elif not features.silent:
            level, source = features.rms_dbfs, f"RMS level {features.rms_dbfs:.1f} dBFS"
        else:
            level, source = None, "the reference is silent"
        velocity = None if level is None else VELOCITY_NEUTRAL + VELOCITY_PER_LU * (level - LOUDNESS_NEUTRAL_LUFS)
        out["velocity"] = (velocity, source)
        rate, rate_name = features.onset_density, "onsets/s"
    elif isinstance(features, SymbolicFeatures):
        if features.tempo_estimate is not None:
            out = {"tempo": (features.tempo_estimate, "played tempo")}
        else:
            out = {"tempo": (features.tempo, "tempo map")}
        out["register"] = ((None, "the reference has no pitched notes") if features.pitch_mean is None
                           else (features.pitch_mean + PITCH_TO_REGISTER, f"mean pitch {features.pitch_mean:.1f}"))
        out["velocity"] = (features.velocity_mean + VELOCITY_TO_MELODY, f"mean velocity {features.velocity_mean:.0f}")
        rate, rate_name = features.onset_rate, "onsets/s"
    else:
        raise InputError(f"reference_targets needs AudioFeatures or SymbolicFeatures (see reference_features), "
                         f"not {type(features).__name__}")
    tempo = out["tempo"][0]
    out["density"] = ((None, "no tempo to count onsets per beat") if tempo is None
                      else (rate * 60.0 / tempo, f"{rate:.2f} {rate_name}"))
    if features.key is None:
        out["key"] = (None, "the reference is silent (no key)" if isinstance(features, AudioFeatures)
                      else "the reference has no pitched notes (no key)")
    elif features.key_clarity < KEY_CLARITY_MIN:
        out["key"] = (None, f"its key estimate {features.key} is unclear (clarity {features.key_clarity:.2f} "
                            f"< {KEY_CLARITY_MIN:g})")
    else:
        out["key"] = (features.key, f"clarity {features.key_clarity:.2f}")
    return out


def _check_weight(weight) -> float:
    if isinstance(weight, bool) or not isinstance(weight, numbers.Real) or not 0 <= weight <= 1:
        raise InputError(f"reference_weight must be a number in [0, 1] (0 = the emotion only, "
                         f"1 = the reference only), not {weight!r}")
    return float(weight)


def _blend_reference(features, w, emotion, table, values, reasons, key, harmony):
    """Blend the reference into ``values``/``reasons`` in place; return the new key and harmony."""
    targets = reference_targets(features)
    kind = "audio" if type(features).__name__ == "AudioFeatures" else "symbolic"
    used, kept = [], []
    for name in _BLENDED:
        if name not in values:
            continue
        target, source = targets[name]
        if target is None:
            reasons[name] = f"the emotion's value: {source}; {reasons[name]}"
            kept.append(f"{name}: {source}")
            continue
        low, high = table["linear"][name][3:5]
        ref, emo = min(high, max(low, target)), values[name]
        values[name] = min(high, max(low, (1 - w) * emo + w * ref))
        unit = _UNITS[name]
        clipped = "" if ref == target else f", clipped from {unit.format(target)}"
        reasons[name] = (f"{w:g} × reference {unit.format(ref)} ({source}{clipped}) + {1 - w:.3g} × emotion "
                         f"{unit.format(emo)} = {unit.format(values[name])}; {reasons[name]}")
        used.append(name)
    ref_key, source = targets["key"]
    if ref_key is None:
        reasons["key"] = f"the emotion's key: {source}; {reasons['key']}"
        kept.append(f"key: {source}")
    else:
        key, harmony = _blend_key(ref_key, source, w, emotion, table, key, harmony, reasons)
        used.append("key")
    summary = f"{kind} reference at weight {w:g}: " + (", ".join(used) or "nothing") + " blended in"
    reasons["reference"] = summary + (f"; the emotion's values kept for {'; '.join(kept)}" if kept else "")
    return key, harmony


def _blend_key(ref_key, source, w, emotion, table, key, harmony, reasons):
    ref_tonic, ref_mode = parse_key(ref_key)
    mode = parse_key(key)[1]
    if w >= KEY_ADOPT_WEIGHT:
        reasons["key"] = f"the reference's key {ref_key} ({source}; weight {w:g} ≥ {KEY_ADOPT_WEIGHT:g} adopts it)"
        if ref_mode != mode:
            partner = table["quadrants"].get({1: 2, 2: 1, 3: 4, 4: 3}[emotion.quadrant])
            if partner and parse_key(partner["key"])[1] == ref_mode:
                harmony = partner["harmony"]
                reasons["harmony"] = (f"{harmony} progressions: the {ref_mode} family on the same arousal side, "
                                      f"to suit the reference's {ref_mode} mode")
        return ref_key, harmony
    if ref_mode == mode:
        new = ref_key
        how = f"the reference's key {ref_key}, same {mode} mode"
    else:
        new = key_name((ref_tonic + (9 if ref_mode == "major" else 3)) % 12, mode)
        how = f"the relative {mode} of the reference's {ref_key}: same key signature, the emotion's mode"
    reasons["key"] = f"{how} ({source}; weight {w:g} < {KEY_ADOPT_WEIGHT:g} keeps the mode)"
    return new, harmony
