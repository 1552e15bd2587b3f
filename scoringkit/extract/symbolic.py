"""Features of symbolic music: a :class:`~scoringkit.Score` or a MIDI file.

:func:`symbolic_features` measures what a listener hears in the notes themselves:
how many notes and onsets per second, where the pitches lie, how loud and how
connected (legato) the playing is, the key and how clearly it is stated, how many
notes sound at once, the pitch-class histogram, and the tempo.

All times are in seconds (through the score's tempo map), so a score and the audio
rendered from it are measured on the same clock. Drum tracks (MIDI channel 10) count
for the rhythm features (onset rate, velocity, tempo) but not for pitch, key, polyphony,
articulation or note density.

Examples
--------
>>> import scoringkit as sk
>>> notes = [sk.Note(p, i * 0.5, 0.5, 80) for i, p in enumerate([57, 60, 64, 69, 64, 60, 57, 52])]
>>> f = symbolic_features(sk.Score([sk.Track("piano", 0, notes)], tempo=120))
>>> f.note_density, f.pitch_range, f.key
(4.0, 17, 'A minor')
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from ..types import PITCH_CLASS_NAMES, Score

__all__ = ["SymbolicFeatures", "symbolic_features", "SYMBOLIC_FEATURE_NAMES"]

#: Onsets closer than this (seconds) count as one (a strummed or rolled chord).
ONSET_MERGE = 0.03
#: Inter-onset intervals longer than this (seconds) are rests and skipped by ``articulation``.
MAX_IOI = 2.0
#: Frame rate (Hz) of the onset envelope used for :attr:`SymbolicFeatures.tempo_estimate`.
ENVELOPE_RATE = 100.0

#: Names of the entries of :meth:`SymbolicFeatures.vector`, in order.
SYMBOLIC_FEATURE_NAMES = (
    "note_density", "onset_rate", "pitch_mean", "pitch_std", "pitch_range", "velocity_mean", "velocity_std",
    "articulation", "polyphony", "key_clarity", "mode_strength", "tempo", "tempo_estimate",
) + tuple(f"pc_{name}" for name in PITCH_CLASS_NAMES)

_MIDI_SUFFIXES = (".mid", ".midi", ".smf", ".kar", "")


@dataclass(repr=False)
class SymbolicFeatures:
    """Features of a score (returned by :func:`symbolic_features`).

    Attributes
    ----------
    duration : float
        Seconds from the start to the end of the last note.
    n_notes, n_drum_notes : int
        Pitched notes and drum hits.
    note_density : float
        Pitched notes per second.
    onset_rate : float
        Distinct onsets per second over all tracks, drums included (onsets within 30 ms
        merge, so a chord counts once).
    pitch_mean, pitch_std : float or None
        Mean and standard deviation of the MIDI pitches of the pitched notes (each note
        counts once).
    pitch_min, pitch_max, pitch_range : int or None
        Lowest and highest pitch and their distance in semitones.
    velocity_mean, velocity_std : float
        Mean and standard deviation of the MIDI velocities of all notes.
    articulation : float or None
        Legato ratio: within each pitched track, for each onset followed by another
        within 2 s, the longest note starting there divided by the inter-onset interval,
        capped at 2, averaged. About 1 = legato, below 0.7 = detached / staccato, above 1
        = overlapping (pedalled) notes. ``None`` when no track has two such onsets.
    key : str or None
        Krumhansl-Schmuckler key estimate (e.g. ``"D major"``) of :attr:`pc_histogram`
        (:func:`scoringkit.extract.estimate_key`); ``None`` without pitched notes.
    mode : str or None
        ``"major"`` or ``"minor"``.
    key_clarity : float
        Correlation (-1..1) of the histogram with the best key profile (0 without key).
    mode_strength : float
        Best major minus best minor correlation (> 0 leans major).
    declared_key : str
        The key the score itself states at beat 0 (a MIDI key signature, or the
        composer's key); compare with :attr:`key`.
    polyphony : float
        Mean number of pitched notes sounding together, over the time at least one sounds.
    max_polyphony : int
        Most pitched notes sounding at once.
    pc_histogram : ndarray, shape (12,)
        Duration-weighted (seconds) pitch-class histogram of the pitched notes, index
        0 = C, summing to 1 (all zeros without pitched notes).
    tempo : float
        Tempo from the score's tempo map in BPM: beats per minute averaged over the
        duration (``60 * end_beat / duration``). For a performance MIDI file (e.g.
        EMOPIA, transcribed at a fixed nominal 120 BPM) this is **not** the musical
        tempo; use :attr:`tempo_estimate`.
    tempo_estimate : float or None
        Tempo estimated from the note onsets alone, independent of the tempo map: the
        onsets, each weighted by its energy ``(velocity / 127) ** 4`` (the squared amplitude
        scoringkit's synth gives it) and summed over a chord, form a 100 Hz envelope whose
        autocorrelation is read by :func:`scoringkit.extract.estimate_tempo`, as for audio.
        ``None`` without a periodic pulse (or fewer than 3 onsets).
    tempo_confidence : float
        Autocorrelation height at the estimated beat period (0-1).

    Examples
    --------
    >>> import scoringkit as sk
    >>> f = symbolic_features(sk.Score([sk.Track("p", 0, [sk.Note(60, 0, 1), sk.Note(64, 0, 2)])], tempo=60))
    >>> f.polyphony, f.max_polyphony, f.summary()["pc_E"]
    (1.5, 2, 0.666667)
    """

    duration: float
    n_notes: int
    n_drum_notes: int
    note_density: float
    onset_rate: float
    pitch_mean: float | None
    pitch_std: float | None
    pitch_min: int | None
    pitch_max: int | None
    pitch_range: int | None
    velocity_mean: float
    velocity_std: float
    articulation: float | None
    key: str | None
    mode: str | None
    key_clarity: float
    mode_strength: float
    declared_key: str
    polyphony: float
    max_polyphony: int
    pc_histogram: object = field(default=None)
    tempo: float = 120.0
    tempo_estimate: float | None = None
    tempo_confidence: float = 0.0

    @staticmethod
    def feature_names() -> tuple:
        """Names of the entries of :meth:`vector`."""
        return SYMBOLIC_FEATURE_NAMES

    def summary(self) -> dict:
        """The features as an ordered ``{name: float}`` dict (see :data:`SYMBOLIC_FEATURE_NAMES`).

        Fillers for missing values: no pitched notes -> pitch features 0; no
        articulation -> 1 (legato); no tempo estimate -> 0. Values are rounded to 6
        decimals.
        """
        values = {
            "note_density": self.note_density,
            "onset_rate": self.onset_rate,
            "pitch_mean": self.pitch_mean or 0.0,
            "pitch_std": self.pitch_std or 0.0,
            "pitch_range": self.pitch_range or 0,
            "velocity_mean": self.velocity_mean,
            "velocity_std": self.velocity_std,
            "articulation": 1.0 if self.articulation is None else self.articulation,
            "polyphony": self.polyphony,
            "key_clarity": self.key_clarity,
            "mode_strength": self.mode_strength,
            "tempo": self.tempo,
            "tempo_estimate": self.tempo_estimate or 0.0,
        }
        values.update({f"pc_{name}": float(v) for name, v in zip(PITCH_CLASS_NAMES, self.pc_histogram)})
        return {name: round(float(values[name]), 6) for name in SYMBOLIC_FEATURE_NAMES}

    def vector(self):
        """:meth:`summary` as a float32 array of length ``len(SYMBOLIC_FEATURE_NAMES)``."""
        import numpy as np

        return np.array(list(self.summary().values()), dtype=np.float32)

    def to_dict(self) -> dict:
        """Plain data (for JSON and tables)."""
        out = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if name == "pc_histogram":
                value = [round(float(v), 4) for v in value]
            elif isinstance(value, float):
                value = round(value, 4)
            out[name] = value
        return out

    def __repr__(self) -> str:
        tempo = "no tempo estimate" if self.tempo_estimate is None else f"~{self.tempo_estimate:.0f} BPM played"
        return (f"SymbolicFeatures({self.duration:.1f} s, {self.n_notes} notes, {self.note_density:.2f} notes/s, "
                f"{self.key or 'no key'}, {tempo}, polyphony {self.polyphony:.2f})")


def symbolic_features(score_or_midi_path) -> SymbolicFeatures:
    """Measure density, pitch, dynamics, articulation, key, polyphony and tempo of a score.

    Parameters
    ----------
    score_or_midi_path : Score, str, Path, bytes or binary file object
        A :class:`~scoringkit.Score`, or a Standard MIDI File (path, its bytes, or an
        open file) read with :meth:`Score.from_midi <scoringkit.Score.from_midi>`.

    Returns
    -------
    SymbolicFeatures

    Raises
    ------
    InputError
        A missing file, a file that is not MIDI (broken header, MusicXML, audio), a score
        or file without any notes, or an argument of another type.

    Examples
    --------
    >>> import scoringkit as sk
    >>> notes = [sk.Note(60 + 12 * (b % 2), b, 0.5, 100) for b in range(16)]
    >>> f = symbolic_features(sk.Score([sk.Track("piano", 0, notes)], tempo=90))
    >>> f.tempo, round(f.tempo_estimate), f.articulation
    (90.0, 90, 0.5)
    """
    import numpy as np

    score, name = _load(score_or_midi_path)
    pitched = [(track, note) for track in score.tracks if not track.is_drum for note in track.notes]
    drums = [(track, note) for track in score.tracks if track.is_drum for note in track.notes]
    if not pitched and not drums:
        raise InputError(f"{name} has no notes; symbolic features need at least one note")
    sec = _seconds_function(score)
    duration = max(score.duration, 1e-9)

    starts = np.array([sec(n.start) for _, n in pitched], dtype=float)
    ends = np.array([sec(n.end) for _, n in pitched], dtype=float)
    lengths = ends - starts
    pitches = np.array([n.pitch for _, n in pitched], dtype=float)
    velocities = np.array([n.velocity for _, n in pitched + drums], dtype=float)
    onset_list = np.array([sec(n.start) for _, n in pitched + drums], dtype=float)
    all_onsets = np.sort(onset_list)

    histogram = np.zeros(12)
    if len(pitched):
        np.add.at(histogram, pitches.astype(int) % 12, lengths)
        histogram /= histogram.sum()
    found = _estimate_key(histogram) if len(pitched) else None

    onset_times = _merge_onsets(all_onsets)
    tempo_estimate, confidence = _tempo_from_onsets(onset_list, velocities, duration)
    polyphony, max_polyphony = _polyphony(starts, ends)

    return SymbolicFeatures(
        duration=float(score.duration),
        n_notes=len(pitched),
        n_drum_notes=len(drums),
        note_density=len(pitched) / duration,
        onset_rate=len(onset_times) / duration,
        pitch_mean=float(pitches.mean()) if len(pitched) else None,
        pitch_std=float(pitches.std()) if len(pitched) else None,
        pitch_min=int(pitches.min()) if len(pitched) else None,
        pitch_max=int(pitches.max()) if len(pitched) else None,
        pitch_range=int(pitches.max() - pitches.min()) if len(pitched) else None,
        velocity_mean=float(velocities.mean()),
        velocity_std=float(velocities.std()),
        articulation=_articulation(score, sec),
        key=found["key"] if found else None,
        mode=found["mode"] if found else None,
        key_clarity=found["clarity"] if found else 0.0,
        mode_strength=found["mode_strength"] if found else 0.0,
        declared_key=score.key,
        polyphony=polyphony,
        max_polyphony=max_polyphony,
        pc_histogram=histogram,
        tempo=float(60.0 * score.end_beat / duration),
        tempo_estimate=tempo_estimate,
        tempo_confidence=confidence,
    )


def _load(obj):
    if isinstance(obj, Score):
        return obj, "the score"
    if isinstance(obj, (str, os.PathLike)):
        path = Path(obj)
        if path.suffix.lower() in (".xml", ".musicxml", ".mxl", ".wav", ".flac", ".mp3", ".ogg", ".aif", ".aiff"):
            hint = ("for audio use scoringkit.extract.audio_features" if path.suffix.lower() not in (".xml", ".musicxml", ".mxl")
                    else "convert MusicXML to MIDI first (e.g. music21.converter.parse(path).write('midi'))")
            raise InputError(f"symbolic_features reads MIDI files, not {path.suffix} ({str(path)!r}); {hint}")
        score = Score.from_midi(path)
        return score, repr(str(path))
    if isinstance(obj, (bytes, bytearray)) or hasattr(obj, "read"):
        return Score.from_midi(bytes(obj) if isinstance(obj, bytearray) else obj), "the MIDI data"
    raise InputError(
        f"symbolic_features takes a Score, a MIDI file path, MIDI bytes or a binary file object, "
        f"not {type(obj).__name__}"
    )


def _seconds_function(score):
    """Beat -> seconds through the score's tempo map (piecewise linear, precomputed breakpoints)."""
    import numpy as np

    beats = np.array([b for b, _ in score.tempo_map], dtype=float)
    secs = np.array([score.seconds_at(b) for b in beats], dtype=float)
    spb = np.array([60.0 / bpm for _, bpm in score.tempo_map], dtype=float)

    def sec(beat):
        i = int(np.searchsorted(beats, beat, side="right")) - 1
        i = max(i, 0)
        return float(secs[i] + (beat - beats[i]) * spb[i])

    return sec


def _estimate_key(histogram):
    from .audio import estimate_key

    return estimate_key(histogram)


def _merge_onsets(onsets):
    import numpy as np

    if not len(onsets):
        return onsets
    keep = [onsets[0]]
    for t in onsets[1:]:
        if t - keep[-1] > ONSET_MERGE:
            keep.append(t)
    return np.asarray(keep)


def _tempo_from_onsets(onsets, velocities, duration):
    import numpy as np

    from .audio import estimate_tempo

    n = int(math.ceil(duration * ENVELOPE_RATE)) + 2
    if n < 16 or len(onsets) < 3:
        return None, 0.0
    envelope = np.zeros(n)
    energy = (velocities / 127.0) ** 4  # squared amplitude: scoringkit's synth plays velocity v at (v/127)^2
    np.add.at(envelope, np.minimum((onsets * ENVELOPE_RATE).round().astype(int), n - 1), energy)
    tempo, confidence = estimate_tempo(envelope, ENVELOPE_RATE)
    return tempo, confidence


def _polyphony(starts, ends):
    import numpy as np

    if not len(starts):
        return 0.0, 0
    times = np.concatenate([starts, ends])
    steps = np.concatenate([np.ones(len(starts)), -np.ones(len(ends))])
    order = np.lexsort((steps, times))  # at equal times, note-offs (-1) first
    times, steps = times[order], steps[order]
    counts = np.cumsum(steps)
    spans = np.diff(times)
    active = counts[:-1]
    sounding = spans[active > 0].sum()
    mean = float((active * spans).sum() / sounding) if sounding > 0 else float(counts.max())
    return round(mean, 6), int(counts.max())


def _articulation(score, sec):
    import numpy as np

    ratios = []
    for track in score.tracks:
        if track.is_drum or len(track.notes) < 2:
            continue
        groups: dict = {}
        for note in track.notes:
            start = sec(note.start)
            groups.setdefault(round(start / ONSET_MERGE), []).append((start, sec(note.end) - start))
        ordered = sorted((min(s for s, _ in g), max(d for _, d in g)) for g in groups.values())
        for (start, length), (next_start, _) in zip(ordered, ordered[1:]):
            ioi = next_start - start
            if 0 < ioi <= MAX_IOI:
                ratios.append(min(length / ioi, 2.0))
    return round(float(np.mean(ratios)), 6) if ratios else None
