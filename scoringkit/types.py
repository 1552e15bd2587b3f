"""The data types that flow through the scoringkit pipeline.

Every stage is a plain function on these plain objects::

    text ─segment_story─> [Scene] ─analyze_text─> [Emotion] ─emotion_to_intent─> [MusicalIntent]
         ─compose─> Score ─score_story─> Soundtrack of Cue ─render / write─> WAV, MIDI, MusicXML

Conventions
-----------
* **Beats** are quarter notes. Note onsets and lengths are stored in beats, so a
  score can change tempo without moving a single note; seconds are derived from
  the tempo map (:meth:`Score.seconds_at`).
* **Valence and arousal** lie in [-1, 1]. The quadrant numbering follows EMOPIA:
  1 = +valence +arousal (joy), 2 = -valence +arousal (tension, anger, fear),
  3 = -valence -arousal (sadness), 4 = +valence -arousal (calm, tenderness).
* **Programs** are General MIDI program numbers 0-127 (0 = acoustic grand piano).

This module imports nothing heavy; converters to MIDI / pretty_midi / music21 live in
:mod:`scoringkit.io` and are imported only when called.

Examples
--------
>>> from scoringkit.types import Emotion, Note, Track, Score
>>> Emotion(0.6, -0.4).quadrant
4
>>> s = Score([Track("melody", 73, [Note(72, 0.0, 1.0, 90)])], tempo=60.0)
>>> s.duration
1.0
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Iterable, Iterator

from .errors import InputError

__all__ = [
    "EMOTION_LABELS",
    "QUADRANT_NAMES",
    "PITCH_CLASS_NAMES",
    "Emotion",
    "Scene",
    "MusicalIntent",
    "Note",
    "Track",
    "Score",
    "Cue",
    "Soundtrack",
    "parse_key",
    "key_name",
]

#: The seven emotion categories every backend reports (Ekman's six plus neutral).
EMOTION_LABELS = ("anger", "disgust", "fear", "joy", "sadness", "surprise", "neutral")

#: Short names of the four valence/arousal quadrants (EMOPIA numbering).
QUADRANT_NAMES = {
    1: "happy / excited",
    2: "tense / angry",
    3: "sad / depressed",
    4: "calm / tender",
}

_SHARP_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "G#", "A", "Bb", "B")
_MAJOR_NAMES = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
#: Pitch-class spellings used for key names (index = pitch class, 0 = C).
PITCH_CLASS_NAMES = _SHARP_NAMES
_LETTER_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


#: Modal colours and the key mode each belongs to (see :attr:`MusicalIntent.scale`).
SCALE_NAMES = {"ionian": "major", "lydian": "major", "mixolydian": "major",
               "aeolian": "minor", "dorian": "minor", "phrygian": "minor", "harmonic minor": "minor"}
#: Loudness curves a cue can follow (see :attr:`MusicalIntent.dynamics`).
DYNAMIC_CURVES = ("steady", "crescendo", "decrescendo", "arch")


def parse_key(key: str) -> tuple[int, str]:
    """Split a key name such as ``"F# minor"`` into ``(pitch_class, mode)``.

    Parameters
    ----------
    key : str
        A tonic letter with optional ``#``/``b`` and a mode, ``"major"`` or ``"minor"``
        (``"C"`` alone means C major, ``"Am"`` means A minor).

    Returns
    -------
    (int, str)
        Pitch class 0-11 (0 = C) and ``"major"`` or ``"minor"``.

    Examples
    --------
    >>> parse_key("Bb major")
    (10, 'major')
    >>> parse_key("c# minor")
    (1, 'minor')
    """
    if not isinstance(key, str) or not key.strip():
        raise InputError(f"a key must be a name like 'D major' or 'A minor', not {key!r}")
    text = key.strip()
    parts = text.split()
    tonic = parts[0]
    mode = parts[1].lower() if len(parts) > 1 else "major"
    if len(parts) == 1 and len(tonic) > 1 and tonic.endswith("m"):
        tonic, mode = tonic[:-1], "minor"
    letter = tonic[:1].upper()
    if letter not in _LETTER_PC or mode not in ("major", "minor") or len(parts) > 2:
        raise InputError(f"cannot read the key {key!r}; write it like 'D major' or 'A minor'")
    pc = _LETTER_PC[letter]
    for accidental in tonic[1:]:
        if accidental == "#":
            pc += 1
        elif accidental in "b-":
            pc -= 1
        else:
            raise InputError(f"cannot read the key {key!r}; write it like 'F# minor' or 'Bb major'")
    return pc % 12, mode


def key_name(pitch_class: int, mode: str) -> str:
    """Spell a key from its tonic pitch class and mode.

    Examples
    --------
    >>> key_name(10, "major"), key_name(1, "minor")
    ('Bb major', 'C# minor')
    """
    names = _MAJOR_NAMES if mode == "major" else _SHARP_NAMES
    return f"{names[int(pitch_class) % 12]} {mode}"


def _check_unit_interval(name: str, value) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number in [-1, 1], not {value!r}") from None
    if not math.isfinite(number) or not -1.0 - 1e-9 <= number <= 1.0 + 1e-9:
        raise InputError(f"{name} must lie in [-1, 1], got {value!r}")
    return min(1.0, max(-1.0, number))


@dataclass(frozen=True)
class Emotion:
    """An emotion as a point on the valence/arousal plane plus category probabilities.

    Parameters
    ----------
    valence : float
        Unpleasant (-1) to pleasant (+1).
    arousal : float
        Calm, low energy (-1) to excited, high energy (+1).
    probs : dict of str to float, optional
        Probability of each label in :data:`EMOTION_LABELS`; normalised to sum to 1.
    source : str, optional
        What produced it (e.g. ``"lexicon"``), for reports.

    Examples
    --------
    >>> e = Emotion(-0.7, -0.5, probs={"sadness": 3, "neutral": 1})
    >>> e.quadrant, e.label, round(e.probs["sadness"], 2)
    (3, 'sadness', 0.75)
    """

    valence: float
    arousal: float
    probs: dict | None = None
    source: str = ""

    def __post_init__(self):
        object.__setattr__(self, "valence", _check_unit_interval("valence", self.valence))
        object.__setattr__(self, "arousal", _check_unit_interval("arousal", self.arousal))
        if self.probs is not None:
            object.__setattr__(self, "probs", _normalise_probs(self.probs))

    @property
    def quadrant(self) -> int:
        """EMOPIA quadrant 1-4 (1 = +V+A, 2 = -V+A, 3 = -V-A, 4 = +V-A); zero counts as positive."""
        if self.arousal >= 0:
            return 1 if self.valence >= 0 else 2
        return 4 if self.valence >= 0 else 3

    @property
    def quadrant_name(self) -> str:
        """Words for the quadrant, e.g. ``"sad / depressed"``."""
        return QUADRANT_NAMES[self.quadrant]

    @property
    def label(self) -> str:
        """The most probable category, or the quadrant's name when there are no probabilities."""
        if not self.probs:
            return self.quadrant_name
        return max(self.probs.items(), key=lambda item: item[1])[0]

    def to_dict(self) -> dict:
        """Plain-data view (for JSON, CSV, data frames)."""
        return {
            "valence": round(self.valence, 4),
            "arousal": round(self.arousal, 4),
            "quadrant": self.quadrant,
            "label": self.label,
            "probs": {k: round(v, 4) for k, v in (self.probs or {}).items()},
            "source": self.source,
        }


def _normalise_probs(probs) -> dict:
    if not isinstance(probs, dict):
        raise InputError(f"probs must be a dict of label -> probability, not {type(probs).__name__}")
    unknown = set(probs) - set(EMOTION_LABELS)
    if unknown:
        raise InputError(
            f"unknown emotion label(s) {sorted(unknown)}; use only {list(EMOTION_LABELS)}"
        )
    values = {}
    for label, value in probs.items():
        number = float(value)
        if not math.isfinite(number) or number < 0:
            raise InputError(f"probability of {label!r} must be a finite number >= 0, got {value!r}")
        values[label] = number
    total = sum(values.values())
    if total <= 0:
        raise InputError("probs must not all be zero")
    return {label: values.get(label, 0.0) / total for label in EMOTION_LABELS}


@dataclass(frozen=True)
class Scene:
    """One passage of a story that gets one music cue.

    Parameters
    ----------
    index : int
        Position in the story, from 0.
    text : str
        The passage.
    start, end : float, optional
        Time in seconds when it is known from the source (subtitles); ``None`` for prose.
    heading : str, optional
        A scene heading, if the source had one.

    Examples
    --------
    >>> Scene(0, "The tide came in slowly.").words
    5
    """

    index: int
    text: str
    start: float | None = None
    end: float | None = None
    heading: str | None = None

    @property
    def words(self) -> int:
        """Number of whitespace-separated words."""
        return len(self.text.split())

    def excerpt(self, length: int = 80) -> str:
        """The text on one line, cut to ``length`` characters with an ellipsis."""
        flat = " ".join(self.text.split())
        return flat if len(flat) <= length else flat[: length - 1].rstrip() + "…"


@dataclass
class MusicalIntent:
    """The musical choices for one cue, before any note is written.

    Produced by :func:`scoringkit.emotion_to_intent`; consumed by every generator.

    Parameters
    ----------
    tempo : float
        Beats (quarter notes) per minute.
    key : str
        Key name such as ``"D major"``; its mode is :attr:`mode`.
    register : int
        MIDI pitch around which the melody moves (60 = middle C).
    velocity : int
        Typical MIDI velocity 1-127 of the melody (loudness).
    density : float
        Melody notes per beat (0.5 = half notes on average, 2 = eighth notes).
    articulation : float
        Fraction of each note's slot that sounds: 1 = legato, 0.5 = staccato.
    instruments : dict of str to int
        General MIDI program for each role: ``melody``, ``accompaniment``, ``pad``, ``bass``.
    meter : tuple of int
        Time signature, e.g. ``(4, 4)``.
    harmony : str
        Name of the chord-progression family the composer should draw from.
    emotion : Emotion, optional
        The emotion this intent was derived from.
    reasons : dict of str to str
        One sentence per attribute explaining why it was chosen.
    scale : str
        Modal colour (:data:`SCALE_NAMES`): ``"ionian"``, ``"lydian"`` or ``"mixolydian"``
        for a major key; ``"aeolian"``, ``"dorian"``, ``"phrygian"`` or ``"harmonic minor"``
        for a minor one. Empty (the default) means the plain scale of the key's mode.
    tension : float
        0-1: how much dissonance (diminished and augmented chords, chromatic neighbour
        notes, clusters in the pad) the composer adds.
    syncopation : float
        0-1: how often melody rhythms and drum patterns push off the beat.
    percussion : float
        0-1: drum-kit intensity (below 0.2: no drums).
    dynamics : str
        Loudness curve over the cue (:data:`DYNAMIC_CURVES`): ``"steady"``,
        ``"crescendo"``, ``"decrescendo"`` or ``"arch"`` (louder toward a climax at
        two thirds, softer at the end).
    harmonic_rhythm : float
        Chords per bar: 1, or 0.5 (each chord held for two bars).
    reverb : float
        0-1: how much room the renderer adds (0 = dry, 1 = a long hall); the composer
        stores it in the score (:attr:`Score.reverb_map`) and :func:`scoringkit.render`
        applies it.

    Examples
    --------
    >>> intent = MusicalIntent(tempo=120, key="G major")
    >>> intent.mode, intent.tonic, intent.scale_name
    ('major', 7, 'ionian')
    """

    tempo: float
    key: str
    register: int = 67
    velocity: int = 80
    density: float = 1.0
    articulation: float = 0.85
    instruments: dict = field(default_factory=lambda: {"melody": 0, "accompaniment": 0, "pad": 48, "bass": 32})
    meter: tuple = (4, 4)
    harmony: str = "plain"
    emotion: Emotion | None = None
    reasons: dict = field(default_factory=dict)
    scale: str = ""
    tension: float = 0.0
    syncopation: float = 0.0
    percussion: float = 0.0
    dynamics: str = "steady"
    harmonic_rhythm: float = 1.0
    reverb: float = 0.0

    def __post_init__(self):
        tempo = float(self.tempo)
        if not math.isfinite(tempo) or not 20 <= tempo <= 300:
            raise InputError(f"tempo must be between 20 and 300 BPM, got {self.tempo!r}")
        self.tempo = tempo
        _, mode = parse_key(self.key)
        if self.scale:
            if self.scale not in SCALE_NAMES:
                raise InputError(f"unknown scale {self.scale!r}; choose one of {sorted(SCALE_NAMES)} (or '' for the plain "
                                 "scale of the key)")
            if SCALE_NAMES[self.scale] != mode:
                fits = sorted(name for name, m in SCALE_NAMES.items() if m == mode)
                raise InputError(f"the {self.scale} scale needs a {SCALE_NAMES[self.scale]} key, but the key is "
                                 f"{self.key!r}; for a {mode} key use one of {fits}")
        for name in ("tension", "syncopation", "percussion", "reverb"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise InputError(f"{name} must be a number from 0 to 1, got {value!r}")
            setattr(self, name, float(value))
        if self.dynamics not in DYNAMIC_CURVES:
            raise InputError(f"unknown dynamics curve {self.dynamics!r}; choose one of {list(DYNAMIC_CURVES)}")
        if self.harmonic_rhythm not in (0.5, 1, 1.0):
            raise InputError(f"harmonic_rhythm must be 1 (a chord per bar) or 0.5 (a chord per two bars), "
                             f"got {self.harmonic_rhythm!r}")
        self.harmonic_rhythm = float(self.harmonic_rhythm)

    @property
    def scale_name(self) -> str:
        """The modal colour in use: :attr:`scale`, or ionian/aeolian for a plain major/minor key."""
        return self.scale or ("ionian" if self.mode == "major" else "aeolian")

    @property
    def tonic(self) -> int:
        """Pitch class of the key's tonic (0 = C)."""
        return parse_key(self.key)[0]

    @property
    def mode(self) -> str:
        """``"major"`` or ``"minor"``."""
        return parse_key(self.key)[1]

    def explain(self) -> str:
        """A readable table of each choice and the reason for it."""
        rows = [
            ("tempo", f"{self.tempo:.0f} BPM"),
            ("key", self.key),
            ("register", f"MIDI {self.register}"),
            ("velocity", str(self.velocity)),
            ("density", f"{self.density:.2f} notes/beat"),
            ("articulation", f"{self.articulation:.2f}"),
            ("harmony", self.harmony),
            ("scale", self.scale_name),
            ("tension", f"{self.tension:.2f}"),
            ("syncopation", f"{self.syncopation:.2f}"),
            ("percussion", f"{self.percussion:.2f}" + (" (no drums)" if self.percussion < 0.2 else "")),
            ("dynamics", self.dynamics),
            ("harmonic_rhythm", f"{self.harmonic_rhythm:g} chord/bar"),
            ("reverb", f"{self.reverb:.2f}" + (" (dry)" if self.reverb == 0 else "")),
            ("instruments", ", ".join(f"{r}={p}" for r, p in self.instruments.items())),
        ]
        width = max(len(value) for _, value in rows) + 2
        return "\n".join(f"{name:<16}{value:<{width}}{self.reasons.get(name, '')}".rstrip() for name, value in rows)


def _check_reverb_map(pairs) -> list:
    """Sorted ``(beat, amount)`` pairs starting at beat 0, amounts in [0, 1], repeats merged."""
    try:
        pairs = sorted((float(b), float(a)) for b, a in pairs)
    except (TypeError, ValueError):
        raise InputError(f"reverb_map must be (beat, amount) pairs, got {pairs!r}") from None
    if pairs[0][0] != 0:
        raise InputError("reverb_map must start at beat 0")
    out = []
    for beat, amount in pairs:
        if not (math.isfinite(amount) and 0 <= amount <= 1):
            raise InputError(f"reverb must be a number from 0 (dry) to 1 (a long hall), got {amount!r}")
        if not out or amount != out[-1][1]:
            out.append((beat, amount))
    return out


@dataclass
class Note:
    """A pitched event, timed in beats.

    Parameters
    ----------
    pitch : int
        MIDI pitch 0-127.
    start : float
        Onset in beats from the start of the score.
    duration : float
        Length in beats (> 0).
    velocity : int
        MIDI velocity 1-127.

    Examples
    --------
    >>> Note(60, 0.0, 1.0, 80).end
    1.0
    """

    pitch: int
    start: float
    duration: float
    velocity: int = 80

    def __post_init__(self):
        if not 0 <= int(self.pitch) <= 127:
            raise InputError(f"note pitch must be a MIDI number 0-127, got {self.pitch!r}")
        if not (math.isfinite(self.start) and self.start >= 0):
            raise InputError(f"note start must be a beat >= 0, got {self.start!r}")
        if not (math.isfinite(self.duration) and self.duration > 0):
            raise InputError(f"note duration must be > 0 beats, got {self.duration!r}")
        self.pitch = int(self.pitch)
        self.velocity = int(min(127, max(1, round(self.velocity))))

    @property
    def end(self) -> float:
        """Beat at which the note stops."""
        return self.start + self.duration


@dataclass
class Track:
    """A named line of notes played by one General MIDI instrument.

    Parameters
    ----------
    name : str
        E.g. ``"melody"``.
    program : int
        General MIDI program 0-127 in force from beat 0.
    notes : list of Note
    is_drum : bool
        True for a percussion track (MIDI channel 10).
    program_changes : list of (float, int)
        Later ``(beat, program)`` changes, e.g. when a soundtrack moves to a new cue.

    Examples
    --------
    >>> t = Track("bass", 32, [Note(36, 0, 2), Note(43, 2, 2)])
    >>> t.end
    4
    """

    name: str
    program: int = 0
    notes: list = field(default_factory=list)
    is_drum: bool = False
    program_changes: list = field(default_factory=list)

    def __post_init__(self):
        if not 0 <= int(self.program) <= 127:
            raise InputError(f"program must be a General MIDI number 0-127, got {self.program!r}")
        self.program = int(self.program)

    @property
    def end(self) -> float:
        """Beat at which the last note ends (0 for an empty track)."""
        return max((n.end for n in self.notes), default=0)

    def program_at(self, beat: float) -> int:
        """Program in force at ``beat``."""
        program = self.program
        for change_beat, change_program in sorted(self.program_changes):
            if change_beat <= beat:
                program = change_program
        return program


class Score:
    """The one symbolic music type of scoringkit: tracks of notes in beats plus tempo, key and meter.

    Parameters
    ----------
    tracks : iterable of Track
    tempo : float
        Tempo in BPM at beat 0 (ignored when ``tempo_map`` is given).
    key : str
        Key at beat 0 (ignored when ``key_map`` is given).
    meter : tuple of int
        Time signature ``(numerator, denominator)``.
    tempo_map : list of (float, float), optional
        ``(beat, bpm)`` pairs; the first must be at beat 0.
    key_map : list of (float, str), optional
        ``(beat, key name)`` pairs; the first must be at beat 0.
    reverb : float
        Room the renderer adds, 0 (dry, the default) to 1 (a long hall); ignored when
        ``reverb_map`` is given. Written to MIDI as controller 91 (reverb send).
    reverb_map : list of (float, float), optional
        ``(beat, amount)`` pairs; the first must be at beat 0 (a soundtrack joins cues
        with different rooms).

    Examples
    --------
    >>> s = Score([Track("piano", 0, [Note(60, 0, 4)])], tempo=120, key="A minor")
    >>> s.duration, s.key, s.end_beat
    (2.0, 'A minor', 4)
    >>> s.seconds_at(2)
    1.0
    """

    def __init__(
        self,
        tracks: Iterable[Track] = (),
        *,
        tempo: float = 120.0,
        key: str = "C major",
        meter: tuple = (4, 4),
        tempo_map: list | None = None,
        key_map: list | None = None,
        reverb: float = 0.0,
        reverb_map: list | None = None,
    ):
        self.tracks = list(tracks)
        self.tempo_map = sorted((float(b), float(t)) for b, t in (tempo_map or [(0.0, tempo)]))
        self.key_map = sorted((float(b), k) for b, k in (key_map or [(0.0, key)]))
        self.meter = (int(meter[0]), int(meter[1]))
        if self.tempo_map[0][0] != 0 or self.key_map[0][0] != 0:
            raise InputError("tempo_map and key_map must start at beat 0")
        for _, bpm in self.tempo_map:
            if not (math.isfinite(bpm) and 1 <= bpm <= 1000):
                raise InputError(f"tempo must be between 1 and 1000 BPM, got {bpm!r}")
        for _, name in self.key_map:
            parse_key(name)
        self.reverb_map = _check_reverb_map(reverb_map if reverb_map else [(0.0, reverb)])
        for track in self.tracks:
            if not isinstance(track, Track):
                raise InputError(f"Score tracks must be Track objects, not {type(track).__name__}")

    # -- derived facts ------------------------------------------------------------------
    @property
    def tempo(self) -> float:
        """Tempo at beat 0 in BPM."""
        return self.tempo_map[0][1]

    @property
    def key(self) -> str:
        """Key at beat 0."""
        return self.key_map[0][1]

    @property
    def reverb(self) -> float:
        """Reverb amount at beat 0 (0 = dry, 1 = a long hall)."""
        return self.reverb_map[0][1]

    @property
    def end_beat(self) -> float:
        """Beat at which the last note of any track ends."""
        return max((t.end for t in self.tracks), default=0)

    @property
    def duration(self) -> float:
        """Length in seconds up to the end of the last note."""
        return self.seconds_at(self.end_beat)

    @property
    def beats_per_bar(self) -> float:
        """Quarter-note beats in one bar of :attr:`meter`."""
        return self.meter[0] * 4.0 / self.meter[1]

    def notes(self) -> Iterator[tuple[Track, Note]]:
        """Every ``(track, note)`` pair, track by track."""
        for track in self.tracks:
            for note in track.notes:
                yield track, note

    @property
    def n_notes(self) -> int:
        """Number of notes in all tracks."""
        return sum(len(t.notes) for t in self.tracks)

    def seconds_at(self, beat: float) -> float:
        """Time in seconds of ``beat``, following the tempo map."""
        seconds, last_beat, last_bpm = 0.0, 0.0, self.tempo_map[0][1]
        for change_beat, bpm in self.tempo_map[1:]:
            if change_beat >= beat:
                break
            seconds += (change_beat - last_beat) * 60.0 / last_bpm
            last_beat, last_bpm = change_beat, bpm
        return seconds + (beat - last_beat) * 60.0 / last_bpm

    def beat_at(self, seconds: float) -> float:
        """Inverse of :meth:`seconds_at`."""
        elapsed, last_beat, last_bpm = 0.0, 0.0, self.tempo_map[0][1]
        for change_beat, bpm in self.tempo_map[1:]:
            span = (change_beat - last_beat) * 60.0 / last_bpm
            if elapsed + span >= seconds:
                break
            elapsed += span
            last_beat, last_bpm = change_beat, bpm
        return last_beat + (seconds - elapsed) * last_bpm / 60.0

    def key_at(self, beat: float) -> str:
        """Key in force at ``beat``."""
        index = bisect_right([b for b, _ in self.key_map], beat) - 1
        return self.key_map[max(index, 0)][1]

    def reverb_at(self, beat: float) -> float:
        """Reverb amount in force at ``beat``."""
        index = bisect_right([b for b, _ in self.reverb_map], beat) - 1
        return self.reverb_map[max(index, 0)][1]

    def track(self, name: str) -> Track:
        """The first track called ``name``."""
        for track in self.tracks:
            if track.name == name:
                return track
        raise InputError(f"no track named {name!r}; tracks are {[t.name for t in self.tracks]}")

    def __repr__(self) -> str:
        return (
            f"Score({len(self.tracks)} tracks, {self.n_notes} notes, {self.end_beat:g} beats, "
            f"{self.duration:.1f} s, tempo {self.tempo:g}, {self.key}, {self.meter[0]}/{self.meter[1]})"
        )

    # -- converters (implemented in scoringkit.io) --------------------------------------
    def to_midi(self, path=None, *, overwrite: bool = False):
        """Convert to a ``mido.MidiFile``; write it to ``path`` if given.

        Refuses to replace an existing file unless ``overwrite=True``; writes atomically.
        """
        from . import io

        return io.score_to_midi(self, path, overwrite=overwrite)

    def to_pretty_midi(self):
        """Convert to a ``pretty_midi.PrettyMIDI`` object (tempo map included)."""
        from . import io

        return io.score_to_pretty_midi(self)

    def to_music21(self):
        """Convert to a ``music21.stream.Score`` (for notation and MusicXML)."""
        from . import io

        return io.score_to_music21(self)

    def to_musicxml(self, path, *, overwrite: bool = False):
        """Write MusicXML to ``path`` (atomically; refuses to overwrite unless asked)."""
        from . import io

        return io.score_to_musicxml(self, path, overwrite=overwrite)

    @classmethod
    def from_midi(cls, path_or_file) -> "Score":
        """Read a Standard MIDI File (path, bytes or file object) into a Score."""
        from . import io

        return io.score_from_midi(path_or_file)


@dataclass
class Cue:
    """One piece of music written for one scene, placed on the soundtrack's timeline.

    Parameters
    ----------
    index : int
        Position in the soundtrack, from 0.
    scene : Scene
    emotion : Emotion
    intent : MusicalIntent
    score : Score
        The cue's own music, starting at beat 0.
    start, end : float
        Where the cue sits in the soundtrack, in seconds.
    generator : str
        Name of the generator that composed it.
    leitmotif : str, optional
        Whose theme the cue states (see :mod:`scoringkit.generate.leitmotif`).
    """

    index: int
    scene: Scene
    emotion: Emotion
    intent: MusicalIntent
    score: Score
    start: float
    end: float
    generator: str = "rules"
    leitmotif: str | None = None

    @property
    def duration(self) -> float:
        """Length on the timeline in seconds."""
        return self.end - self.start

    def to_row(self) -> dict:
        """One row of the cue sheet (plain data for CSV / JSON)."""
        return {
            "cue": self.index + 1,
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "scene": self.scene.excerpt(120),
            "valence": round(self.emotion.valence, 3),
            "arousal": round(self.emotion.arousal, 3),
            "quadrant": self.emotion.quadrant,
            "emotion": self.emotion.label,
            "tempo": round(self.intent.tempo, 1),
            "key": self.intent.key,
            "mode": self.intent.mode,
            "generator": self.generator,
            "leitmotif": self.leitmotif or "",
        }


class Soundtrack:
    """The music for a whole story: cues on one timeline, plus their combined score.

    Built by :func:`scoringkit.score_story`. The combined :attr:`score` has one track
    per role with program changes and a tempo/key map at each cue boundary.

    Parameters
    ----------
    cues : list of Cue
    score : Score
        The cues joined on one timeline (:func:`scoringkit.generate.soundtrack.assemble`).
    title : str
    transition : str
        How the cues were joined (``"pivot"``, ``"crossfade"`` or ``"cut"``, see
        :mod:`scoringkit.generate.transitions`); reported in ``cues.json``.
    crossfade : float
        Seconds of equal-power crossfade between cues in :meth:`render`; 0 (default)
        renders :attr:`score` in one pass.

    Examples
    --------
    >>> import scoringkit as sk
    >>> st = sk.score_story("A quiet morning by the sea.", backend="lexicon")
    >>> len(st.cues), st.duration > 0
    (1, True)
    """

    def __init__(self, cues: list, score: Score, *, title: str = "soundtrack", transition: str = "cut",
                 crossfade: float = 0.0):
        self.cues = list(cues)
        self.score = score
        self.title = title
        self.transition = transition
        self.crossfade = float(crossfade)
        self._audio: dict = {}

    @property
    def duration(self) -> float:
        """Length in seconds (end of the last cue)."""
        return max((c.end for c in self.cues), default=0.0)

    def render(self, *, sr: int = 44100, synth: str = "auto"):
        """Audio of the whole soundtrack (float32, mono, peak ≤ 1); cached per ``(sr, synth)``.

        With :attr:`crossfade` > 0 each cue is rendered on its own and mixed with
        equal-power crossfades (:func:`scoringkit.generate.transitions.crossfade_render`);
        otherwise the combined :attr:`score` is rendered in one pass.
        """
        from .synth import render

        key = (sr, synth, self.crossfade)
        if key not in self._audio:
            if self.crossfade > 0 and len(self.cues) > 1:
                from .generate.transitions import crossfade_render

                self._audio[key] = crossfade_render(self.cues, seconds=self.crossfade, sr=sr, synth=synth)
            else:
                self._audio[key] = render(self.score, sr=sr, synth=synth)
        return self._audio[key]

    def cue_sheet(self) -> list[dict]:
        """One plain-data row per cue (what ``cues.csv`` and ``cues.json`` hold)."""
        return [cue.to_row() for cue in self.cues]

    def write(self, out_dir, *, overwrite: bool = False, sr: int = 44100, synth: str = "auto", progress: bool = False) -> dict:
        """Write ``soundtrack.wav``, ``.mid``, ``.musicxml``, ``cues.csv`` and ``cues.json``.

        Refuses (with :class:`~scoringkit.InputError`) before writing anything if any of
        those files exists, unless ``overwrite=True``. Each file is written atomically.

        Returns
        -------
        dict
            Kind of file (``"wav"``, ``"midi"``, ...) → path written.
        """
        from .io import write_soundtrack

        return write_soundtrack(self, out_dir, overwrite=overwrite, sr=sr, synth=synth, progress=progress)

    def __repr__(self) -> str:
        return f"Soundtrack({len(self.cues)} cues, {self.duration:.1f} s)"
