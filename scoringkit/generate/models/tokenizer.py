"""REMI-like tokens for :class:`~scoringkit.types.Score`: the vocabulary of the learned generators.

A score becomes one flat sequence of integer ids, read left to right like a bar-by-bar
listing of the music (REMI, Huang & Yang 2020, "Pop Music Transformer"; with a Program
token per instrument as in REMI+ / MMT)::

    BOS Q2 TimeSig_4/4 Key_C_minor Tempo_120.0                header: condition, meter, key, tempo
    Bar Position_0 Program_0 Pitch_48 Velocity_68 Duration_1  bar 1, beat 1: a piano C3 ...
        Pitch_60 Velocity_76 Duration_0.5                     ... and a C4 at the same onset
        Program_drums DrumPitch_36 Velocity_100 Duration_0.25
        Position_4 Tempo_113.3 Program_0 Pitch_63 ...           beat 2: the tempo changes
    Bar ...                                                   every bar gets a Bar, empty or not
    EOS

Token families (in vocabulary order)
------------------------------------
``PAD BOS EOS``
    Padding (id 0), start and end of a piece.
``Q1 Q2 Q3 Q4 Qnone``
    The condition: an EMOPIA quadrant (1 = +V+A, 2 = -V+A, 3 = -V-A, 4 = +V-A) or
    ``Qnone`` for unlabelled music (pre-training data, unconditional sampling).
``TimeSig_n/d``
    The meter, from :data:`METERS`; one per piece, in the header.
``Key_<tonic>_<mode>``
    24 keys; in the header and wherever the key map changes.
``Tempo_<bpm>``
    ``tempo_bins`` log-spaced bins over ``tempo_range``; by default 41 bins from 30 to
    302 BPM, a ratio of 2^(1/12) (5.9 %) apart, so that 60, 120 (EMOPIA's nominal tempo)
    and 240 BPM are bin centres. In the header and wherever the binned tempo changes.
``Bar``
    Start of the next bar (bars are ``meter`` long; long rests are runs of ``Bar``).
``Position_i``
    Onset within the bar, in grid steps of ``1 / resolution`` beat. The default
    resolution 4 is a sixteenth-note grid (16 positions in a 4/4 bar), as in REMI and
    EMOPIA's own models; ``resolution=12`` also holds eighth- and sixteenth-note triplets.
``Program_p`` and ``Program_drums``
    The instrument (General MIDI program 0-127, or the drum kit) of the notes that
    follow. It is written for the first note of every bar and whenever it changes, so
    any window that starts at a ``Bar`` is self-contained.
``Pitch_p`` / ``DrumPitch_p``
    MIDI key 0-127 of a pitched note / of a drum (GM percussion key map).
``Velocity_v``
    ``velocity_bins`` equal bins of MIDI velocity (default 16, 8 wide), named by centre.
``Duration_b``
    Length in grid steps, named in beats: 1 step up to ``max_duration`` beats (default
    16 beats: 64 tokens); longer notes are cut to the cap.

A note is always ``Pitch Velocity Duration`` (or ``DrumPitch ...``) after a
``Position`` and a ``Program``. At one onset, notes are sorted by program (drums last)
and then by pitch.

What is lost (quantisation)
---------------------------
Onsets and durations snap to the grid (durations to at least one step, at most the
cap), velocities and tempi to their bins; notes of one program that land on the same
onset with the same pitch merge into one (longest duration, loudest velocity); tracks
are regrouped by program, so two tracks with the same program become one (named by
its instrument family) and ``program_changes`` become notes of another program; the
key map and tempo map snap to the grid; a meter outside :data:`METERS` cannot be
encoded. Everything else survives: ``encode(decode(encode(s))) == encode(s)``.

Decoding what a sampler writes
------------------------------
:meth:`RemiTokenizer.decode` accepts *any* sequence of valid ids and never fails on
its order: ill-formed events are skipped. Precisely: ``PAD``, ``BOS`` and condition
tokens are ignored; ``EOS`` ends the piece (later ids are ignored); a ``TimeSig``
after the first ``Bar`` is ignored (the meter defaults to 4/4); a ``Position`` before
the first ``Bar``, past the end of the bar, or not after the previous position of the
same bar is skipped, and so are the notes that follow it until the next valid
``Position``; a note needs a valid ``Position`` and a ``Program`` in its bar, a
``Pitch`` under a pitched program or a ``DrumPitch`` under ``Program_drums``, then a
``Velocity``, then a ``Duration`` (a note missing any part is dropped); ``Tempo`` and
``Key`` apply at the current position (the bar's start when no position is valid).
Only ids outside ``0 .. vocab_size - 1`` (or non-integers) raise
:class:`~scoringkit.InputError`.

Examples
--------
>>> from scoringkit.types import Note, Score, Track
>>> tok = RemiTokenizer()
>>> score = Score([Track("piano", 0, [Note(60, 0, 1, 80), Note(64, 1.5, 0.5, 70)])], tempo=100)
>>> ids = tok.encode(score, quadrant=4)
>>> tok.token_names(ids)[:8]
['BOS', 'Q4', 'TimeSig_4/4', 'Key_C_major', 'Tempo_100.9', 'Bar', 'Position_0', 'Program_0']
>>> [(n.pitch, n.start, n.duration, n.velocity) for n in tok.decode(ids).tracks[0].notes]
[(60, 0.0, 1.0, 84), (64, 1.5, 0.5, 68)]
>>> tok.encode(tok.decode(ids), quadrant=4) == ids
True
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
from pathlib import Path

from ...errors import InputError, ModelError
from ...types import Note, Score, Track, key_name, parse_key

__all__ = ["RemiTokenizer", "METERS", "DRUMS", "PIANO_RANGE", "VOCAB_FORMAT"]

#: Meters that have a ``TimeSig`` token, as ``(numerator, denominator)``.
METERS = ((2, 4), (3, 4), (4, 4), (5, 4), (6, 4), (7, 4), (2, 2), (3, 2),
          (3, 8), (5, 8), (6, 8), (7, 8), (9, 8), (12, 8))
#: Program value that stands for the drum kit (``Program_drums``).
DRUMS = 128
#: Lowest and highest key of the piano (A0, C8): the range transposition keeps notes in.
PIANO_RANGE = (21, 108)
#: ``format`` field of a saved vocabulary.
VOCAB_FORMAT = "scoringkit.remi"
_VERSION = 1

# kinds of token (internal codes used by the decoder's state machine)
_PAD, _BOS, _EOS, _COND, _METER, _KEY, _TEMPO, _BAR, _POS, _PROG, _PITCH, _DRUM, _VEL, _DUR = range(14)
_GM_FAMILIES = ("piano", "chromatic percussion", "organ", "guitar", "bass", "strings", "ensemble", "brass",
                "reed", "pipe", "synth lead", "synth pad", "synth effects", "ethnic", "percussive", "sound effects")


def _round_half_up(x: float) -> int:
    return int(math.floor(x + 0.5))


def _check_int(name, value, low, high):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not low <= value <= high:
        raise InputError(f"{name} must be an integer in [{low}, {high}], got {value!r}")
    return int(value)


class RemiTokenizer:
    """The REMI-like event vocabulary (see the module docstring for the token families).

    Parameters
    ----------
    resolution : int
        Grid steps per beat (quarter note), 2-48. 4 (default) = sixteenth notes,
        16 positions per 4/4 bar; 12 also holds triplets.
    max_duration : float
        Longest note in beats (default 16); longer notes are cut to it.
    velocity_bins : int
        Number of equal velocity bins, 2-64 (default 16).
    tempo_bins : int
        Number of log-spaced tempo bins, 2-128 (default 41).
    tempo_range : (float, float), optional
        Centres of the lowest and highest tempo bin in BPM (default 30 and
        ``30 * 2 ** (40 / 12)`` = 302.4, i.e. bins a twelfth of an octave apart); tempi
        outside are clamped.

    Attributes
    ----------
    vocab : list of str
        Token names; the index of a name is its id.
    vocab_size : int

    Examples
    --------
    >>> tok = RemiTokenizer()
    >>> tok.vocab_size, tok["Bar"], tok.vocab[tok["Pitch_60"]]
    (581, 87, 'Pitch_60')
    >>> RemiTokenizer(resolution=12).token_names([5, 6])
    ['Q3', 'Q4']
    """

    def __init__(self, *, resolution: int = 4, max_duration: float = 16.0, velocity_bins: int = 16,
                 tempo_bins: int = 41, tempo_range=None):
        self.resolution = _check_int("resolution", resolution, 2, 48)
        if isinstance(max_duration, bool) or not isinstance(max_duration, numbers.Real) \
                or not math.isfinite(max_duration) or not 1.0 / self.resolution <= max_duration <= 64:
            raise InputError(f"max_duration must be a number of beats in [1/resolution, 64], got {max_duration!r}")
        self.max_duration = float(max_duration)
        self.velocity_bins = _check_int("velocity_bins", velocity_bins, 2, 64)
        self.tempo_bins = _check_int("tempo_bins", tempo_bins, 2, 128)
        if tempo_range is None:
            tempo_range = (30.0, 30.0 * 2 ** (40 / 12))
        try:
            low, high = (float(t) for t in tempo_range)
        except (TypeError, ValueError):
            raise InputError(f"tempo_range must be two numbers (low, high) in BPM, got {tempo_range!r}") from None
        if not (1 <= low < high <= 1000):
            raise InputError(f"tempo_range must satisfy 1 <= low < high <= 1000 BPM, got {tempo_range!r}")
        self.tempo_range = (low, high)
        self.max_steps = max(1, _round_half_up(self.max_duration * self.resolution))
        self.bar_positions = max(_round_half_up(n * 4 * self.resolution / d) for n, d in METERS)
        self._build()

    # -- the vocabulary ---------------------------------------------------------------------
    def _build(self):
        names, kinds = [], []

        def add(kind, items):
            start = len(names)
            for name, value in items:
                names.append(name)
                kinds.append((kind, value))
            return start

        add(_PAD, [("PAD", 0)])
        self.bos_id = add(_BOS, [("BOS", 0)])
        self.eos_id = add(_EOS, [("EOS", 0)])
        self._cond0 = add(_COND, [(f"Q{q}", q) for q in (1, 2, 3, 4)] + [("Qnone", 0)])
        self._meter0 = add(_METER, [(f"TimeSig_{n}/{d}", (n, d)) for n, d in METERS])
        keys = [(pc, mode) for mode in ("major", "minor") for pc in range(12)]
        self._key0 = add(_KEY, [("Key_" + key_name(pc, mode).replace(" ", "_"), (pc, mode)) for pc, mode in keys])
        self.tempo_centres = [self._tempo_centre(b) for b in range(self.tempo_bins)]
        self._tempo0 = add(_TEMPO, [(f"Tempo_{bpm:.1f}", b) for b, bpm in enumerate(self.tempo_centres)])
        self.bar_id = add(_BAR, [("Bar", 0)])
        self._pos0 = add(_POS, [(f"Position_{i}", i) for i in range(self.bar_positions)])
        self._prog0 = add(_PROG, [(f"Program_{p}", p) for p in range(128)] + [("Program_drums", DRUMS)])
        self._pitch0 = add(_PITCH, [(f"Pitch_{p}", p) for p in range(128)])
        self._drum0 = add(_DRUM, [(f"DrumPitch_{p}", p) for p in range(128)])
        self.velocity_centres = [self._velocity_centre(b) for b in range(self.velocity_bins)]
        self._vel0 = add(_VEL, [(f"Velocity_{v}", b) for b, v in enumerate(self.velocity_centres)])
        self._dur0 = add(_DUR, [(f"Duration_{s / self.resolution:g}", s) for s in range(1, self.max_steps + 1)])
        if len(set(names)) != len(names):  # pragma: no cover - guarded by the parameter limits
            raise InputError("these settings give two tokens the same name; use fewer tempo bins")
        self.vocab = names
        self._kinds = kinds
        self._index = {name: i for i, name in enumerate(names)}

    @property
    def vocab_size(self) -> int:
        """Number of tokens (ids are ``0 .. vocab_size - 1``)."""
        return len(self.vocab)

    @property
    def pad_id(self) -> int:
        """Id of ``PAD`` (always 0)."""
        return 0

    def __len__(self) -> int:
        return len(self.vocab)

    def __getitem__(self, name: str) -> int:
        """Id of a token name, e.g. ``tok["Bar"]``."""
        try:
            return self._index[name]
        except KeyError:
            raise InputError(f"no token named {name!r} in this vocabulary "
                             f"(names look like 'Bar', 'Pitch_60', 'Q1')") from None

    def config(self) -> dict:
        """The settings that define the vocabulary (what :meth:`save` stores)."""
        return {"resolution": self.resolution, "max_duration": self.max_duration,
                "velocity_bins": self.velocity_bins, "tempo_bins": self.tempo_bins,
                "tempo_range": list(self.tempo_range)}

    @property
    def vocab_hash(self) -> str:
        """SHA-256 of the token names in order: equal hashes mean interchangeable ids."""
        return hashlib.sha256("\n".join(self.vocab).encode()).hexdigest()

    def __eq__(self, other) -> bool:
        return isinstance(other, RemiTokenizer) and other.vocab == self.vocab

    __hash__ = None

    def __repr__(self) -> str:
        return f"RemiTokenizer({self.vocab_size} tokens, resolution {self.resolution}/beat)"

    # -- bins ------------------------------------------------------------------------------
    def _tempo_centre(self, b: int) -> float:
        low, high = self.tempo_range
        return round(low * (high / low) ** (b / (self.tempo_bins - 1)), 3)

    def tempo_bin(self, bpm: float) -> int:
        """Index of the tempo bin nearest to ``bpm`` on a log scale (clamped to the range)."""
        low, high = self.tempo_range
        bpm = min(max(float(bpm), low), high)
        return min(self.tempo_bins - 1, max(0, _round_half_up(
            math.log(bpm / low) / math.log(high / low) * (self.tempo_bins - 1))))

    def _velocity_centre(self, b: int) -> int:
        return min(127, max(1, int((b + 0.5) * 128 / self.velocity_bins)))

    def velocity_bin(self, velocity: int) -> int:
        """Index of the bin of a MIDI velocity (bins are ``128 / velocity_bins`` wide)."""
        return min(self.velocity_bins - 1, max(0, int(velocity) * self.velocity_bins // 128))

    def condition_id(self, quadrant=None) -> int:
        """Id of the condition token: ``Q1``-``Q4`` for quadrant 1-4, ``Qnone`` for None (or 0)."""
        if quadrant is None:
            quadrant = 0
        if isinstance(quadrant, bool) or not isinstance(quadrant, numbers.Integral) or not 0 <= quadrant <= 4:
            raise InputError(f"quadrant must be 1, 2, 3 or 4 (EMOPIA quadrant) or None (no condition), "
                             f"got {quadrant!r}")
        return self._cond0 + (4 if quadrant == 0 else quadrant - 1)

    def meter_id(self, meter) -> int:
        """Id of the ``TimeSig`` token of ``(numerator, denominator)``."""
        meter = (int(meter[0]), int(meter[1]))
        if meter not in METERS:
            raise InputError(f"meter {meter[0]}/{meter[1]} has no token; the tokenizer knows "
                             + ", ".join(f"{n}/{d}" for n, d in METERS))
        return self._meter0 + METERS.index(meter)

    def key_id(self, key: str) -> int:
        """Id of the ``Key`` token of a key name such as ``"F# minor"``."""
        pc, mode = parse_key(key)
        return self._key0 + (12 if mode == "minor" else 0) + pc

    def id_ranges(self) -> dict:
        """First id and count of each token family (for masks and fast vectorised edits).

        Examples
        --------
        >>> RemiTokenizer().id_ranges()["Pitch"]
        (245, 128)
        """
        return {"condition": (self._cond0, 5), "TimeSig": (self._meter0, len(METERS)), "Key": (self._key0, 24),
                "Tempo": (self._tempo0, self.tempo_bins), "Bar": (self.bar_id, 1),
                "Position": (self._pos0, self.bar_positions), "Program": (self._prog0, 129),
                "Pitch": (self._pitch0, 128), "DrumPitch": (self._drum0, 128),
                "Velocity": (self._vel0, self.velocity_bins), "Duration": (self._dur0, self.max_steps)}

    # -- Score -> ids ------------------------------------------------------------------------
    def note_events(self, score: Score) -> list:
        """The notes of ``score`` after quantisation: what tokens keep of them.

        Returns
        -------
        list of (int, int, int, int, int)
            Sorted ``(onset_step, program, pitch, duration_steps, velocity_bin)``, with
            ``program`` = :data:`DRUMS` (128) for drum tracks and merged duplicates.
        """
        if not isinstance(score, Score):
            raise InputError(f"expected a scoringkit Score, not {type(score).__name__}; "
                             "read MIDI files with Score.from_midi(path)")
        res = self.resolution
        merged: dict = {}
        for track in score.tracks:
            for note in track.notes:
                program = DRUMS if track.is_drum else track.program_at(note.start)
                step = _round_half_up(note.start * res)
                length = min(self.max_steps, max(1, _round_half_up(note.duration * res)))
                velocity = self.velocity_bin(note.velocity)
                key = (step, program, note.pitch)
                old = merged.get(key)
                merged[key] = (length, velocity) if old is None else (max(old[0], length), max(old[1], velocity))
        return sorted((s, p, pitch, d, v) for (s, p, pitch), (d, v) in merged.items())

    def _changes(self, entries, to_id) -> dict:
        """Grid step -> token id of a tempo/key map's later entries (last one wins per step)."""
        out = {}
        for beat, value in entries[1:]:
            out[_round_half_up(beat * self.resolution)] = to_id(value)
        return out

    def encode(self, score: Score, quadrant=None) -> list:
        """Tokenise a score.

        Parameters
        ----------
        score : Score
        quadrant : {1, 2, 3, 4} or None
            EMOPIA quadrant written as the condition token (``Q1``-``Q4``); None writes
            ``Qnone`` (unlabelled).

        Returns
        -------
        list of int
            ``BOS``, condition, ``TimeSig``, ``Key``, ``Tempo``, the bars, ``EOS``.

        Raises
        ------
        InputError
            If ``score`` is not a Score, ``quadrant`` is not 1-4 or None, or the meter
            has no token (see :data:`METERS`).

        Examples
        --------
        >>> from scoringkit.types import Note, Score, Track
        >>> tok = RemiTokenizer()
        >>> ids = tok.encode(Score([Track("drums", 0, [Note(36, 0.5, 0.25, 100)], is_drum=True)]))
        >>> tok.token_names(ids)[5:]
        ['Bar', 'Position_2', 'Program_drums', 'DrumPitch_36', 'Velocity_100', 'Duration_0.25', 'EOS']
        """
        events = self.note_events(score)  # checks the type
        cond = self.condition_id(quadrant)
        meter = self.meter_id(score.meter)
        bar_steps = score.meter[0] * 4 * self.resolution / score.meter[1]
        if bar_steps != int(bar_steps):
            raise InputError(f"meter {score.meter[0]}/{score.meter[1]} does not fit a grid of "
                             f"{self.resolution} steps per beat; use an even resolution")
        bar_steps = int(bar_steps)
        tempo_ids = self._changes(score.tempo_map, lambda bpm: self._tempo0 + self.tempo_bin(bpm))
        key_ids = self._changes(score.key_map, self.key_id)
        tempo = tempo_ids.pop(0, self._tempo0 + self.tempo_bin(score.tempo_map[0][1]))
        key = key_ids.pop(0, self.key_id(score.key_map[0][1]))
        ids = [self.bos_id, cond, meter, key, tempo]

        by_step: dict = {}
        for event in events:
            by_step.setdefault(event[0], []).append(event)
        # drop map entries that do not change the binned value
        for changes, current in ((tempo_ids, tempo), (key_ids, key)):
            for step in sorted(changes):
                if changes[step] == current:
                    del changes[step]
                else:
                    current = changes[step]
        steps = sorted(set(by_step) | set(tempo_ids) | set(key_ids))
        n_bars = steps[-1] // bar_steps + 1 if steps else 0
        index = 0
        for bar in range(n_bars):
            ids.append(self.bar_id)
            program = None
            end = (bar + 1) * bar_steps
            while index < len(steps) and steps[index] < end:
                step = steps[index]
                index += 1
                ids.append(self._pos0 + step - bar * bar_steps)
                if step in tempo_ids:
                    ids.append(tempo_ids[step])
                if step in key_ids:
                    ids.append(key_ids[step])
                for _, prog, pitch, length, velocity in by_step.get(step, ()):
                    if prog != program:
                        ids.append(self._prog0 + prog)
                        program = prog
                    ids += [(self._drum0 if prog == DRUMS else self._pitch0) + pitch,
                            self._vel0 + velocity, self._dur0 + length - 1]
        ids.append(self.eos_id)
        return ids

    # -- ids -> Score ------------------------------------------------------------------------
    def _check_ids(self, ids) -> list:
        if hasattr(ids, "tolist"):  # numpy arrays and torch tensors
            ids = ids.tolist()
        try:
            ids = list(ids)
        except TypeError:
            raise InputError(f"token ids must be a sequence of integers, not {type(ids).__name__}") from None
        size = len(self.vocab)
        for i in ids:
            if isinstance(i, bool) or not isinstance(i, numbers.Integral):
                raise InputError(f"token ids must be integers, found {i!r}; pass one flat sequence of ids")
            if not 0 <= i < size:
                raise InputError(f"token id {i} is outside this vocabulary (ids 0-{size - 1}); "
                                 "was the sequence made with another tokenizer?")
        return [int(i) for i in ids]

    def token_names(self, ids) -> list:
        """Names of token ids, e.g. ``['BOS', 'Q1', ...]``.

        Raises
        ------
        InputError
            If an id is not an integer in ``0 .. vocab_size - 1``.
        """
        return [self.vocab[i] for i in self._check_ids(ids)]

    def condition(self, ids):
        """Quadrant 1-4 of the first condition token in ``ids`` (None for ``Qnone`` or none)."""
        for i in self._check_ids(ids):
            kind, value = self._kinds[i]
            if kind == _COND:
                return value or None
        return None

    def decode(self, ids) -> Score:
        """Turn token ids back into a Score; ill-formed events are skipped (see the module docstring).

        Parameters
        ----------
        ids : sequence of int, numpy array or torch tensor (1-D)

        Returns
        -------
        Score
            One track per program (``"piano 0"``, ``"bass 33"``, ..., ``"drums"``),
            notes on the grid, the tempo and key maps, the meter (4/4 if none is given).

        Raises
        ------
        InputError
            If an id is outside the vocabulary or not an integer.

        Examples
        --------
        >>> tok = RemiTokenizer()
        >>> garbage = [tok["Pitch_60"], tok["Bar"], tok["Duration_1"], tok["Position_0"], tok["Program_0"],
        ...            tok["Pitch_60"], tok["Velocity_84"], tok["Duration_1"], tok["Position_0"]]
        >>> tok.decode(garbage).tracks[0].notes
        [Note(pitch=60, start=0.0, duration=1.0, velocity=84)]
        """
        ids = self._check_ids(ids)
        res = self.resolution
        meter, bar, pos, last_pos, program, pending = None, -1, None, -1, None, None
        bar_beats = 4.0
        tempi, keys, notes = {}, {}, {}
        for i in ids:
            kind, value = self._kinds[i]
            if kind == _EOS:
                break
            expected = _VEL if pending is not None and len(pending) == 1 else _DUR
            if pending is not None and kind != expected:
                pending = None  # an unfinished note: drop it
            if kind == _BAR:
                if bar < 0:
                    meter = meter or (4, 4)
                    bar_beats = meter[0] * 4.0 / meter[1]
                bar, pos, last_pos, program = bar + 1, None, -1, None
            elif kind == _POS:
                if bar >= 0 and value > last_pos and value < bar_beats * res - 1e-9:
                    pos = last_pos = value
                else:
                    pos = None
            elif kind == _PROG:
                program = value if bar >= 0 else None
            elif kind in (_PITCH, _DRUM):
                if pos is not None and program is not None and (program == DRUMS) == (kind == _DRUM):
                    pending = [value]
            elif kind == _VEL:
                if pending is not None:
                    pending.append(self.velocity_centres[value])
            elif kind == _DUR:
                if pending is not None:
                    start = bar * bar_beats + pos / res
                    notes.setdefault(program, []).append(Note(pending[0], start, value / res, pending[1]))
                    pending = None
            elif kind in (_TEMPO, _KEY):
                beat = 0.0 if bar < 0 else bar * bar_beats + (pos or 0) / res
                if kind == _TEMPO:
                    tempi[beat] = self.tempo_centres[value]
                else:
                    keys[beat] = key_name(*value)
            elif kind == _METER:
                if bar < 0 and meter is None:
                    meter = value
            # PAD, BOS and condition tokens carry no music
        tempi.setdefault(0.0, 120.0)
        keys.setdefault(0.0, "C major")
        tracks = []
        for prog in sorted(notes):
            name = "drums" if prog == DRUMS else f"{_GM_FAMILIES[prog // 8]} {prog}"
            tracks.append(Track(name, 0 if prog == DRUMS else prog,
                                sorted(notes[prog], key=lambda n: (n.start, n.pitch)), is_drum=prog == DRUMS))
        return Score(tracks, meter=meter or (4, 4), tempo_map=sorted(tempi.items()), key_map=sorted(keys.items()))

    # -- transposition -------------------------------------------------------------------
    def transpose_table(self, semitones: int):
        """A lookup table ``t`` (numpy int array) with ``t[ids]`` = ids transposed by ``semitones``.

        ``Pitch`` and ``Key`` tokens move; drums and everything else stay. Pitches pushed
        outside 0-127 are left unchanged, so check the range first
        (:meth:`pitch_range`, :func:`scoringkit.generate.models.data.transpositions`).

        Examples
        --------
        >>> tok = RemiTokenizer()
        >>> table = tok.transpose_table(2)
        >>> tok.token_names(table[[tok["Key_A_minor"], tok["Pitch_60"], tok["DrumPitch_36"]]])
        ['Key_B_minor', 'Pitch_62', 'DrumPitch_36']
        """
        import numpy as np

        semitones = int(semitones)
        table = np.arange(len(self.vocab), dtype=np.int64)
        pitches = np.arange(128)
        moved = pitches + semitones
        ok = (moved >= 0) & (moved <= 127)
        table[self._pitch0 + pitches[ok]] = self._pitch0 + moved[ok]
        for mode_offset in (0, 12):
            pcs = np.arange(12)
            table[self._key0 + mode_offset + pcs] = self._key0 + mode_offset + (pcs + semitones) % 12
        return table

    def pitch_range(self, ids):
        """Lowest and highest pitched (non-drum) note in ``ids``, or None if there is none."""
        import numpy as np

        ids = np.asarray(ids)
        pitched = ids[(ids >= self._pitch0) & (ids < self._pitch0 + 128)] - self._pitch0
        return (int(pitched.min()), int(pitched.max())) if pitched.size else None

    # -- files ---------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """Plain-data form: format, version, settings and the token names."""
        return {"format": VOCAB_FORMAT, "version": _VERSION, "config": self.config(), "vocab": list(self.vocab),
                "sha256": self.vocab_hash}

    def save(self, path, *, overwrite: bool = False) -> Path:
        """Write the vocabulary as JSON (atomically; refuses to overwrite unless asked).

        Examples
        --------
        >>> import tempfile, pathlib
        >>> path = RemiTokenizer().save(pathlib.Path(tempfile.mkdtemp()) / "vocab.json")
        >>> RemiTokenizer.load(path) == RemiTokenizer()
        True
        """
        from ...io import atomic_write

        text = json.dumps(self.to_dict(), indent=1)
        return atomic_write(path, lambda f: f.write(text), overwrite=overwrite, binary=False)

    @classmethod
    def from_dict(cls, data) -> "RemiTokenizer":
        """Rebuild a tokenizer from :meth:`to_dict`; the stored names must match the settings."""
        if not isinstance(data, dict) or data.get("format") != VOCAB_FORMAT or not isinstance(data.get("config"), dict):
            raise ModelError(f"not a scoringkit REMI vocabulary (expected format {VOCAB_FORMAT!r})")
        if data.get("version") != _VERSION:
            raise ModelError(f"vocabulary version {data.get('version')!r} is not supported (this scoringkit "
                             f"reads version {_VERSION}); re-create it with this version")
        try:
            tok = cls(**data["config"])
        except (TypeError, InputError) as err:
            raise ModelError(f"the vocabulary's settings are invalid ({err})") from None
        if data.get("vocab") is not None and data["vocab"] != tok.vocab:
            raise ModelError("the stored token names do not match the settings; the file was edited or "
                             "made by another version")
        return tok

    @classmethod
    def load(cls, path) -> "RemiTokenizer":
        """Read a vocabulary written by :meth:`save`.

        Raises
        ------
        InputError
            If the file is missing.
        ModelError
            If it is not valid JSON of this format and version.
        """
        path = Path(path)
        if not path.is_file():
            raise InputError(f"no such vocabulary file: {str(path)!r}; check the path")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise ModelError(f"{str(path)!r} is not a readable vocabulary JSON file ({err})") from None
        return cls.from_dict(data)
