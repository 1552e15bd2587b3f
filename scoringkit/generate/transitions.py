"""Transitions between cues, and cues that loop.

How cue ``i`` hands over to cue ``i + 1`` (``score_story(..., transition=...)``):

``"pivot"`` (the default) — a *composed* transition, written into the notes, so the WAV,
    MIDI and MusicXML files all carry it:

    * **pivot-chord modulation**: when the keys differ, the last bar of the outgoing cue is
      re-harmonised as *pivot chord → V of the new key*; the incoming cue then opens on its
      own chord (usually the new tonic). The pivot is a triad that belongs to both keys
      (e.g. Am: vi in C major = ii in G major), heard first as a chord of the old key and
      re-read as one of the new (Kostka, Payne & Almén, *Tonal Harmony*, 8th ed. 2018,
      ch. 18; Aldwell & Schachter, *Harmony and Voice Leading*, ch. 27). Among common
      chords the one with the strongest pre-dominant function in the new key wins
      (ii, IV, iv, ii°, then vi, ...). Keys with no common triad (F major and D major share
      none) borrow from the new key's parallel mode (Gm: ii in F major = iv in D minor,
      borrowed into D major), and failing that from both parallel modes or the
      Neapolitan; :func:`find_pivot` reports which ``kind`` it found.
    * **tempo ramp**: when the tempos differ by more than :data:`RAMP_THRESHOLD` BPM, the
      outgoing cue's last bar moves toward the new tempo one beat at a time in equal
      ratios (geometric steps, :func:`tempo_ramp`), so the tempo changes monotonically
      and never leaves the range between the two tempos.

``"crossfade"`` — an *edited* transition, made in the audio only: every cue is rendered on
    its own, placed at its start time, and the outgoing cue's tail (the release of its last
    chord) is mixed under the incoming cue with equal-power fades over ``crossfade``
    seconds (default :data:`CROSSFADE_SECONDS`) starting at the incoming cue's start:
    ``g_out = cos(πt/2)``, ``g_in = sin(πt/2)``, so ``g_out² + g_in² = 1`` and the loudness
    of two unrelated signals stays constant (the constant-power law of panning and
    crossfades, e.g. Roads, *The Computer Music Tutorial*, 1996). The notes are left
    exactly as composed. Cue start times are untouched, so the cue sheet and subtitle
    time codes still say where each cue begins; a cue's tail rings on for ``crossfade``
    seconds after the next one has begun.

``"cut"`` — cues butt-joined: key and tempo change at the barline, no fades.

Why ``"pivot"`` is the default: a story score plays its cues back to back, and a
modulation through a shared chord with a tempo ramp is how a composer joins them; it is
in every output file (the MIDI and MusicXML agree with the WAV), and each cue still
enters at full strength on its time code, where a fade-in would soften the entry that
marks the scene change.

Loops for games: :func:`loop_cue` rewrites the last bar as a turnaround
(*pre-dominant → V of the opening chord*) so the harmony leads back to bar 1, keeps the
accompaniment's pattern running through the last bar and drops any final ritardando;
:func:`render_loop` renders it with the release tail wrapped onto the beginning, exactly
``round(seconds of the bars × sr)`` samples long, so it repeats without a seam.

Examples
--------
>>> print(find_pivot("C major", "G major"))
Am: vi in C major = ii in G major, then D (V of G major)
>>> from scoringkit.types import MusicalIntent
>>> from scoringkit.generate.rules import compose_rules
>>> cue = compose_rules(MusicalIntent(tempo=90, key="C major"), duration=8, seed=0)
>>> moved = pivot_modulation(cue, "G major")
>>> [chord_name(chord_at(moved, b, b + 2)) for b in (8, 10)]
['Am', 'D']
"""

from __future__ import annotations

import math
import numbers
from typing import NamedTuple

from ..errors import InputError, choice_error
from ..types import Note, Score, Track, key_name, parse_key

__all__ = [
    "TRANSITIONS",
    "DEFAULT_TRANSITION",
    "CROSSFADE_SECONDS",
    "MAX_CROSSFADE",
    "RAMP_THRESHOLD",
    "DIATONIC",
    "PIVOT_PREFERENCE",
    "Pivot",
    "find_pivot",
    "chord_at",
    "chord_name",
    "pivot_modulation",
    "tempo_ramp",
    "apply_transitions",
    "check_transition",
    "crossfade_render",
    "loop_cue",
    "loop_beats",
    "render_loop",
]

#: Ways to join consecutive cues (see the module docstring).
TRANSITIONS = ("pivot", "crossfade", "cut")
#: What :func:`scoringkit.score_story` uses unless told otherwise.
DEFAULT_TRANSITION = "pivot"
#: Default crossfade length in seconds for ``transition="crossfade"``.
CROSSFADE_SECONDS = 1.5
#: Longest crossfade accepted, in seconds.
MAX_CROSSFADE = 8.0
#: Tempos closer than this (BPM) change at the barline without a ramp.
RAMP_THRESHOLD = 5.0

#: The triads of a key, as :data:`scoringkit.generate.rules.CHORDS` numerals. Minor uses the
#: natural-minor chords with the major V of harmonic minor, as the rules composer does.
DIATONIC = {
    "major": ("I", "ii", "iii", "IV", "V", "vi", "vii°"),
    "minor": ("i", "ii°", "III", "iv", "V", "VI", "VII"),
}
#: Order in which a common chord is preferred as pivot, by its function in the new key:
#: pre-dominants first (they lead to V), then the submediant, tonic, mediant; V last.
PIVOT_PREFERENCE = ("ii", "IV", "iv", "ii°", "bII", "vi", "VI", "I", "i", "iii", "III", "VII", "vii°", "V")

_SCALES = {"major": (0, 2, 4, 5, 7, 9, 11), "minor": (0, 2, 3, 5, 7, 8, 10)}
_QUALITIES = {"": (0, 4, 7), "m": (0, 3, 7), "°": (0, 3, 6)}
_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
_EPS = 1e-6


# -- chords and keys ------------------------------------------------------------------------
def _triad(numeral: str, tonic: int) -> tuple:
    from .rules import chord_pitch_classes

    return chord_pitch_classes(numeral, tonic)


def chord_name(chord) -> str:
    """Short name of a triad given as ``(root, third, fifth)`` pitch classes.

    Examples
    --------
    >>> chord_name((9, 0, 4)), chord_name((2, 6, 9)), chord_name((11, 2, 5))
    ('Am', 'D', 'B°')
    """
    if chord is None:
        return "-"
    root = chord[0]
    shape = tuple((pc - root) % 12 for pc in chord)
    suffix = next((s for s, q in _QUALITIES.items() if q == shape), "?")
    return _NAMES[root % 12] + suffix


def _key_scale(key: str) -> list:
    tonic, mode = parse_key(key)
    return [(tonic + step) % 12 for step in _SCALES[mode]]


def _scale_with(scale, chord) -> tuple:
    """``scale`` with each chord tone it lacks swapped in for its nearest degree (e.g. a raised 7th over V)."""
    scale = list(scale)
    for pc in chord:
        if pc not in scale:
            nearest = min(range(len(scale)), key=lambda i: (min((scale[i] - pc) % 12, (pc - scale[i]) % 12), i))
            scale[nearest] = pc
    return tuple(sorted(set(scale)))


def _chords_of(key: str, *, borrowed: bool) -> dict:
    """``frozenset(pcs) -> (triad, description)`` for a key's chords (plus its parallel mode's and bII)."""
    tonic, mode = parse_key(key)
    found = {}
    for numeral in DIATONIC[mode]:
        triad = _triad(numeral, tonic)
        found.setdefault(frozenset(triad), (triad, f"{numeral} in {key}", numeral))
    if borrowed:
        other = "minor" if mode == "major" else "major"
        parallel = key_name(tonic, other)
        for numeral in DIATONIC[other]:
            triad = _triad(numeral, tonic)
            found.setdefault(frozenset(triad), (triad, f"{numeral} in {parallel}, borrowed into {key}", numeral))
        triad = _triad("bII", tonic)
        found.setdefault(frozenset(triad), (triad, f"bII (Neapolitan) in {key}", "bII"))
    return found


class Pivot(NamedTuple):
    """The chord a modulation passes through (found by :func:`find_pivot`).

    Attributes
    ----------
    chord : tuple of int
        Pitch classes ``(root, third, fifth)`` of the pivot chord.
    old, new : str
        What the chord is in the old and in the new key, e.g. ``"vi in C major"``.
    kind : str
        ``"diatonic"`` (a triad of both keys), ``"borrowed"`` (one key's triad, borrowed
        from the other key's parallel mode) or ``"chromatic"`` (borrowed on both sides).
    dominant : tuple of int
        The V of the new key, which follows the pivot.
    new_key : str
    """

    chord: tuple
    old: str
    new: str
    kind: str
    dominant: tuple
    new_key: str

    def __str__(self) -> str:
        return f"{chord_name(self.chord)}: {self.old} = {self.new}, then {chord_name(self.dominant)} (V of {self.new_key})"


def find_pivot(old_key: str, new_key: str) -> Pivot:
    """Choose the pivot chord for a modulation from ``old_key`` to ``new_key``.

    Searches, in order: triads of both keys (``"diatonic"``); triads of one key that the
    other borrows from its parallel mode (``"borrowed"``); chords borrowed on both sides,
    Neapolitan included (``"chromatic"``; every pair of keys has one). Within the first
    level that has any, the chord whose function in the new key comes first in
    :data:`PIVOT_PREFERENCE` wins (ii, IV, iv, ii°, ...: chords that lead to V).

    Parameters
    ----------
    old_key, new_key : str
        Key names such as ``"F major"``, ``"C# minor"``.

    Returns
    -------
    Pivot

    Examples
    --------
    >>> p = find_pivot("F major", "C minor")
    >>> chord_name(p.chord), p.kind, p.new
    ('Bb', 'diatonic', 'VII in C minor')
    >>> print(find_pivot("F major", "D major"))   # no common triad: borrow from D minor
    Gm: ii in F major = iv in D minor, borrowed into D major, then A (V of D major)
    """
    old_tonic, _ = parse_key(old_key)
    new_tonic, new_mode = parse_key(new_key)
    old_key, new_key = key_name(*parse_key(old_key)), key_name(new_tonic, new_mode)
    dominant = _triad("V", new_tonic)
    old_plain, old_wide = _chords_of(old_key, borrowed=False), _chords_of(old_key, borrowed=True)
    new_plain, new_wide = _chords_of(new_key, borrowed=False), _chords_of(new_key, borrowed=True)
    levels = (
        ("diatonic", old_plain, new_plain),
        ("borrowed", old_plain, new_wide),
        ("borrowed", old_wide, new_plain),
        ("chromatic", old_wide, new_wide),
    )
    for kind, old_set, new_set in levels:
        common = [pcs for pcs in new_set if pcs in old_set]
        if common:
            rank = lambda pcs: (PIVOT_PREFERENCE.index(new_set[pcs][2]), new_set[pcs][0])  # noqa: E731
            best = min(common, key=rank)
            return Pivot(new_set[best][0], old_set[best][1], new_set[best][1], kind, dominant, new_key)
    raise AssertionError("unreachable: every pair of keys shares a borrowed chord")  # pragma: no cover


def chord_at(score: Score, start: float, end: float):
    """The triad that best explains the notes sounding between two beats.

    Each pitch class is weighted by how long it sounds in ``[start, end)`` (melody at
    half weight, drums ignored); a triad scores the weight of its tones minus the weight
    of the others, plus a bonus when its root is the lowest note.

    Parameters
    ----------
    score : Score
    start, end : float
        Beats.

    Returns
    -------
    tuple of int or None
        ``(root, third, fifth)`` pitch classes of a major, minor or diminished triad;
        ``None`` when nothing sounds.

    Examples
    --------
    >>> s = Score([Track("pad", 48, [Note(57, 0, 4), Note(60, 0, 4), Note(64, 0, 4)])])
    >>> chord_name(chord_at(s, 0, 4))
    'Am'
    """
    weights, lowest = [0.0] * 12, None
    for track in score.tracks:
        if track.is_drum:
            continue
        for note in track.notes:
            overlap = min(note.end, end) - max(note.start, start)
            if overlap > _EPS:
                weights[note.pitch % 12] += overlap * (0.5 if track.name == "melody" else 1.0)
                lowest = note.pitch if lowest is None else min(lowest, note.pitch)
    total = sum(weights)
    if total <= 0:
        return None
    best, best_score = None, -math.inf
    for suffix, shape in _QUALITIES.items():
        for root in range(12):
            tones = [(root + step) % 12 for step in shape]
            inside = sum(weights[pc] for pc in tones)
            score_ = 2 * inside - total + (0.5 * total if lowest % 12 == root else 0.0) - (0.01 if suffix == "°" else 0)
            if score_ > best_score + 1e-12:
                best, best_score = tuple(tones), score_
    return best


# -- re-harmonising the end of a score -------------------------------------------------------
def loop_beats(score: Score) -> float:
    """Beats from the start to the end of the score's last bar (a cue fills whole bars).

    Examples
    --------
    >>> loop_beats(Score([Track("p", 0, [Note(60, 0, 5)])]))
    8.0
    """
    bar = score.beats_per_bar
    return max(1, math.ceil(score.end_beat / bar - 1e-9)) * bar


def _signed(interval: int) -> int:
    """Interval folded into [-6, 5] semitones (the shorter way; a tritone goes down)."""
    return (interval + 6) % 12 - 6


def _nearest_with_pc(target: int, pcs) -> int:
    return min((target + d for d in range(-6, 7) if (target + d) % 12 in pcs), key=lambda p: (abs(p - target), p))


def _map_pitch(pitch: int, old, new, scale, *, root: bool = False) -> int:
    """Move a note from chord ``old`` to chord ``new``: chord tones keep their role, the rest snap to ``scale``.

    ``root=True`` puts it on the new chord's root instead (a bass note on a chord change).
    """
    target = pitch + _signed(new[0] - old[0])
    pc = pitch % 12
    goal = {new[0]} if root else {new[old.index(pc)]} if pc in old else set(scale)
    moved = _nearest_with_pc(target, goal)
    while moved > 127:
        moved -= 12
    while moved < 0:
        moved += 12
    return moved


def _copy_track(track: Track, notes) -> Track:
    return Track(track.name, track.program, notes, is_drum=track.is_drum, program_changes=list(track.program_changes))


def _rebuild(score: Score, tracks, tempo_map=None) -> Score:
    return Score(tracks, meter=score.meter, tempo_map=tempo_map or list(score.tempo_map), key_map=list(score.key_map),
                 reverb_map=list(score.reverb_map))


def _reharmonise(score: Score, segments, *, copy_from_previous=()) -> Score:
    """Re-harmonise everything sounding from ``segments[0][0]`` to the last segment's end.

    ``segments`` is a list of ``(start, end, chord, scale)`` in beats, back to back. Every
    pitched note is cut at the segment boundaries and moved from the chord it sounded
    over (:func:`chord_at` of the original) to the segment's chord, keeping its role
    (root, third, fifth) or snapping to the segment's scale; the ``bass`` track plays
    the root wherever a chord begins. Pieces of one note that end up on the same pitch
    stay one note (common tones are held). Tracks named in ``copy_from_previous`` first
    take the previous bar's notes as their material.
    """
    begin, finish = segments[0][0], segments[-1][1]
    span = finish - begin
    old_chords = {}

    def old_chord(index, shift):
        if (index, shift) not in old_chords:
            start, end = segments[index][0] - shift, segments[index][1] - shift
            fallback = tuple((parse_key(score.key_at(start))[0] + s) % 12 for s in (0, 4, 7))
            old_chords[index, shift] = chord_at(score, start, end) or fallback
        return old_chords[index, shift]

    tracks = []
    for track in score.tracks:
        copy = track.name in copy_from_previous and begin - span >= -_EPS
        kept, material, heads = [], [], {}
        for note in track.notes:
            if note.end <= begin + _EPS or (track.is_drum and not copy):  # drums keep their hits
                if note.start < finish - _EPS:
                    kept.append(Note(note.pitch, note.start, min(note.end, finish) - note.start, note.velocity))
                continue
            if note.start < begin - _EPS:  # sounding into the rewritten span: keep its head
                kept.append(Note(note.pitch, note.start, begin - note.start, note.velocity))
                heads[id(note)] = kept[-1]
            if not copy:
                material.append((note, 0.0))
        if copy:
            material = [(n, span) for n in track.notes if n.end > begin - span + _EPS and n.start < begin - _EPS]
        for note, shift in material:
            start, end = max(note.start + shift, begin), min(note.end + shift, finish)
            if end - start <= _EPS:
                continue
            if track.is_drum:
                kept.append(Note(note.pitch, start, end - start, note.velocity))
                continue
            head = heads.get(id(note)) if shift == 0 else None
            pieces = [[head.pitch, head.start, head.end]] if head is not None else []
            for index, (seg_start, seg_end, chord, scale) in enumerate(segments):
                s, e = max(start, seg_start), min(end, seg_end)
                if e - s > _EPS:
                    on_change = track.name == "bass" and abs(s - seg_start) < _EPS
                    pitch = _map_pitch(note.pitch, old_chord(index, shift), chord, scale, root=on_change)
                    if pieces and pieces[-1][0] == pitch and abs(pieces[-1][2] - s) < _EPS:
                        pieces[-1][2] = e  # a common tone: hold it
                    else:
                        pieces.append([pitch, s, e])
            if head is not None:  # the head is already kept: lengthen it if its pitch held on
                kept.remove(head)
            kept += [Note(p, s, e - s, note.velocity) for p, s, e in pieces]
        kept.sort(key=lambda n: (n.start, n.pitch))
        tracks.append(_copy_track(track, kept))
    return _rebuild(score, tracks)


def _check_score(score, what="score"):
    if not isinstance(score, Score):
        raise InputError(f"{what} must be a Score (e.g. from scoringkit.compose), not {type(score).__name__}")
    if not score.n_notes:
        raise InputError(f"{what} has no notes; compose one first with scoringkit.compose")


def pivot_modulation(score: Score, new_key: str) -> Score:
    """Re-harmonise a cue's last bar so it modulates to ``new_key`` through a pivot chord.

    The first half of the last bar becomes the pivot chord (:func:`find_pivot`), the
    second half the dominant (V) of ``new_key``; when the pivot *is* that V, the whole bar
    is V. Every pitched track follows (each note keeps its role in the chord; passing
    notes snap to the scale), drums are untouched, and the length stays the same.

    Parameters
    ----------
    score : Score
        The outgoing cue (not modified).
    new_key : str
        Key of the next cue, e.g. ``"G major"``.

    Returns
    -------
    Score
        A new score; the same one (unchanged) when the keys already agree.

    Examples
    --------
    >>> from scoringkit.types import MusicalIntent
    >>> from scoringkit.generate.rules import compose_rules
    >>> cue = compose_rules(MusicalIntent(tempo=100, key="F major"), duration=10, seed=1)
    >>> moved = pivot_modulation(cue, "C minor")
    >>> end = loop_beats(moved)
    >>> chord_name(chord_at(moved, end - 4, end - 2)), chord_name(chord_at(moved, end - 2, end))
    ('Bb', 'G')
    """
    _check_score(score)
    bar = score.beats_per_bar
    end = loop_beats(score)
    start = end - bar
    old_key = score.key_at(start)
    if parse_key(old_key) == parse_key(new_key):
        return score
    pivot = find_pivot(old_key, new_key)
    old_scale, new_scale = _key_scale(old_key), _key_scale(new_key)
    dominant = (end - bar / 2 if pivot.chord != pivot.dominant else start, end, pivot.dominant,
                _scale_with(new_scale, pivot.dominant))
    segments = [dominant] if pivot.chord == pivot.dominant else [
        (start, end - bar / 2, pivot.chord, _scale_with(old_scale, pivot.chord)), dominant]
    return _reharmonise(score, segments)


def tempo_ramp(score: Score, target_tempo: float, *, bars: int = 1, amount: float = 1.0,
               threshold: float = RAMP_THRESHOLD) -> Score:
    """Ramp the tempo over the last bar(s) toward the next cue's tempo, one step per beat.

    With ``n`` steps from tempo ``T0`` (in force where the ramp starts) toward ``T1``,
    step ``j`` (``j = 1 .. n``) plays at ``T0 · (T1 / T0) ** (amount · j / (n + 1))``: equal
    ratios, monotonic, strictly between the two tempos, and the next cue's ``T1`` is one
    more equal step on. Earlier tempo changes inside the ramp are replaced.

    Parameters
    ----------
    score : Score
        The outgoing cue (not modified).
    target_tempo : float
        The next cue's tempo in BPM.
    bars : int
        How many bars at the end the ramp covers.
    amount : float
        Share of the way to go, in [0, 1] (1 = all of it; smaller when the ramp must not
        lengthen the cue too much, e.g. before a subtitle time code).
    threshold : float
        No ramp when the tempos differ by this many BPM or less.

    Returns
    -------
    Score

    Examples
    --------
    >>> s = Score([Track("p", 0, [Note(60, 0, 8)])], tempo=80)
    >>> [round(bpm, 1) for _, bpm in tempo_ramp(s, 120).tempo_map]
    [80.0, 86.8, 94.1, 102.0, 110.7]
    """
    _check_score(score)
    if isinstance(target_tempo, bool) or not isinstance(target_tempo, numbers.Real) or not 1 <= target_tempo <= 1000:
        raise InputError(f"target_tempo must be a tempo in BPM (1-1000), got {target_tempo!r}")
    if isinstance(bars, bool) or not isinstance(bars, numbers.Integral) or bars < 1:
        raise InputError(f"bars must be a whole number of bars >= 1, got {bars!r}")
    if not 0 <= amount <= 1:
        raise InputError(f"amount must lie in [0, 1], got {amount!r}")
    bar = score.beats_per_bar
    end = loop_beats(score)
    start = max(0.0, end - bars * bar)
    before = [(b, t) for b, t in score.tempo_map if b < start - _EPS]
    tempo = before[-1][1] if before else score.tempo_map[0][1]
    if abs(target_tempo - tempo) <= threshold or amount == 0:
        return score
    steps = max(1, int(round(end - start)))
    ratio = target_tempo / tempo
    ramp = [(start + j * (end - start) / steps, tempo * ratio ** (amount * (j + 1) / (steps + 1))) for j in range(steps)]
    if not before:
        ramp = [(0.0, tempo)] + ramp if start > 0 else ramp
    return _rebuild(score, [_copy_track(t, list(t.notes)) for t in score.tracks], tempo_map=before + ramp)


# -- soundtrack assembly ---------------------------------------------------------------------
def check_transition(transition, crossfade=None) -> float:
    """Validate a transition name and crossfade length; return the crossfade in seconds (0 if none).

    Examples
    --------
    >>> check_transition("crossfade"), check_transition("crossfade", 2), check_transition("pivot")
    (1.5, 2.0, 0.0)
    """
    if not isinstance(transition, str) or transition not in TRANSITIONS:
        raise choice_error("transition", transition, TRANSITIONS)
    if crossfade is None:
        return CROSSFADE_SECONDS if transition == "crossfade" else 0.0
    if transition != "crossfade":
        raise InputError(f"crossfade= sets the fade length of transition='crossfade'; "
                         f"with transition={transition!r} leave it out, or use transition='crossfade'")
    if isinstance(crossfade, bool) or not isinstance(crossfade, numbers.Real) or not math.isfinite(crossfade) \
            or not 0 < crossfade <= MAX_CROSSFADE:
        raise InputError(f"crossfade must be a number of seconds in (0, {MAX_CROSSFADE:g}], got {crossfade!r}")
    return float(crossfade)


def _cue_seconds(score: Score) -> float:
    return score.seconds_at(loop_beats(score))


def apply_transitions(cues, *, transition: str = DEFAULT_TRANSITION, timed: bool = False) -> list:
    """Write the composed transitions into a list of cues and re-time them.

    For ``"pivot"`` every cue but the last gets :func:`pivot_modulation` toward the next
    cue's key and :func:`tempo_ramp` toward its tempo. ``"crossfade"`` and ``"cut"``
    leave the notes alone (the crossfade happens when rendering, see
    :func:`crossfade_render`).

    Parameters
    ----------
    cues : list of Cue
    transition : str
        One of :data:`TRANSITIONS`.
    timed : bool
        True when cue starts are fixed time codes (subtitles). Starts then stay where they
        are, and a ramp is shortened (to 3/4, 1/2, 1/4 of the way, or dropped) if it would
        make the cue run past the next time code or leave a gap of a bar or more.

    Returns
    -------
    list of Cue
        New cues (the input is not modified); prose cues are re-tiled end to end.
    """
    from dataclasses import replace

    check_transition(transition)
    cues = list(cues)
    if transition != "pivot" or len(cues) < 2:
        return cues
    scores = []
    for cue, following in zip(cues, cues[1:]):
        score = pivot_modulation(cue.score, following.score.key)
        target = following.score.tempo
        ramped = tempo_ramp(score, target)
        if timed and ramped is not score:  # keep the cue inside its subtitle slot
            last_bar = loop_beats(cue.score)
            bar_seconds = cue.score.seconds_at(last_bar) - cue.score.seconds_at(last_bar - cue.score.beats_per_bar)
            limit = max(cue.end, following.start)
            for amount in (1.0, 0.75, 0.5, 0.25):
                ramped = tempo_ramp(score, target, amount=amount)
                end = cue.start + _cue_seconds(ramped)
                if end <= limit + 1e-9 and following.start - end < bar_seconds - 1e-9:
                    break
            else:  # no ramp fits: change tempo at the barline
                ramped = score
        scores.append(ramped)
    scores.append(cues[-1].score)
    out, clock = [], cues[0].start
    for cue, score in zip(cues, scores):
        start = max(cue.scene.start, clock) if timed and cue.scene.start is not None else clock
        end = start + _cue_seconds(score)
        out.append(replace(cue, score=score, start=start, end=end))
        clock = end
    return out


def crossfade_render(cues, *, seconds: float = CROSSFADE_SECONDS, sr: int = 44100, synth: str = "auto"):
    """Render cues one by one and mix them with equal-power crossfades.

    Cue ``i`` is rendered on its own and placed at ``round(cue.start * sr)``. From the
    start of cue ``i + 1`` on, cue ``i``'s tail is faded out with ``cos(πt/2)`` while cue
    ``i + 1`` fades in with ``sin(πt/2)``, ``t`` going 0 → 1 over ``seconds`` (capped at
    the incoming cue's length). The first cue enters and the last cue ends unfaded, so
    the total length is the last cue's start plus its own render (notes + release tail),
    the same as rendering the assembled score. Only if the mix would clip is the whole
    piece scaled down.

    Parameters
    ----------
    cues : list of Cue
    seconds : float
        Fade length, in (0, :data:`MAX_CROSSFADE`].
    sr : int
    synth : str
        As for :func:`scoringkit.render`.

    Returns
    -------
    numpy.ndarray
        float32 mono, peak ≤ 1.

    Examples
    --------
    >>> import scoringkit as sk
    >>> st = sk.score_story("A calm sea.\\n\\nA sudden storm screams!", min_words=1, min_cue=4, max_cue=4,
    ...                     transition="crossfade")
    >>> audio = crossfade_render(st.cues, seconds=1.0, sr=8000, synth="numpy")
    >>> abs(len(audio) - len(sk.render(st.score, sr=8000, synth="numpy"))) <= 1
    True
    """
    import numpy as np

    from ..synth import PEAK_LIMIT, TAIL_SECONDS, render

    seconds = check_transition("crossfade", seconds)
    cues = sorted(cues, key=lambda c: c.start)
    if not cues:
        return np.zeros(1, dtype=np.float32)
    pieces = []
    for index, cue in enumerate(cues):
        offset = int(round(cue.start * sr))
        following = cues[index + 1] if index + 1 < len(cues) else None
        tail = TAIL_SECONDS
        if following is not None:
            fade = min(seconds, following.end - following.start)
            tail = max(tail, following.start - cue.start - cue.score.duration + fade + 0.05)
        audio = render(cue.score, sr=sr, synth=synth, tail=tail).astype(np.float64)
        if index > 0:  # fade in
            n_in = min(len(audio), max(1, int(round(min(seconds, cue.end - cue.start) * sr))))
            audio[:n_in] *= np.sin(0.5 * np.pi * np.arange(n_in) / n_in)
        if following is not None:  # fade the tail out under the next cue
            begin = int(round(following.start * sr)) - offset
            n_out = max(1, int(round(min(seconds, following.end - following.start) * sr)))
            if begin < len(audio):
                span = audio[begin: begin + n_out]
                span *= np.cos(0.5 * np.pi * np.arange(len(span)) / n_out)
            audio = audio[: max(0, begin + n_out)]
        pieces.append((offset, audio))
    total = max(offset + len(audio) for offset, audio in pieces)
    out = np.zeros(total, dtype=np.float64)
    for offset, audio in pieces:
        out[offset: offset + len(audio)] += audio
    peak = float(np.max(np.abs(out))) if out.size else 0.0
    if peak > PEAK_LIMIT:
        out *= PEAK_LIMIT / peak
    return out.astype(np.float32)


# -- loops ------------------------------------------------------------------------------------
def loop_cue(score: Score) -> Score:
    """Make a cue loopable: its last bar leads back to its first.

    * **Harmony**: the last bar becomes a turnaround toward the opening chord ``X`` (read
      from bar 1 with :func:`chord_at`): first half a pre-dominant of ``X`` (ii of a major
      ``X``, iv of a minor one), second half ``V`` of ``X`` (a major triad a fifth above
      its root), which resolves onto bar 1 when the loop repeats. A one-bar cue keeps its
      first half and turns to ``V`` of ``X`` in the second.
    * **Groove**: a track that thins out in the last bar (a cadence's held chord or
      whole-note bass) plays the previous bar's pattern there instead, re-harmonised,
      so the texture runs through the seam. The melody keeps its own last bar.
    * **Time**: tempo changes in the last two bars (a final ritardando) are dropped and
      nothing sounds past the end of the last bar (no fermata).

    Parameters
    ----------
    score : Score
        A composed cue (not modified).

    Returns
    -------
    Score
        Same length in beats (:func:`loop_beats`); render it with :func:`render_loop`.

    Examples
    --------
    >>> from scoringkit.types import MusicalIntent
    >>> from scoringkit.generate.rules import compose_rules
    >>> cue = compose_rules(MusicalIntent(tempo=100, key="A minor"), duration=10, seed=0)
    >>> loop = loop_cue(cue)
    >>> end = loop_beats(loop)
    >>> chord_name(chord_at(loop, 0, 4)), chord_name(chord_at(loop, end - 2, end)), end == loop_beats(cue)
    ('Am', 'E', True)
    """
    _check_score(score)
    bar = score.beats_per_bar
    end = loop_beats(score)
    n_bars = int(round(end / bar))
    opening = chord_at(score, 0, min(bar, end))
    root = opening[0]
    major = (opening[1] - root) % 12 == 4
    predominant = tuple((root + (2 if major else 5) + s) % 12 for s in (0, 3, 7))
    dominant = tuple((root + 7 + s) % 12 for s in (0, 4, 7))
    scale = _key_scale(score.key_at(end - bar))
    half = end - bar / 2
    last = (half, end, dominant, _scale_with(scale, dominant))
    if n_bars == 1:
        segments, copy = [last], ()
    else:
        segments = [(end - bar, half, predominant, _scale_with(scale, predominant)), last]
        thinning = lambda t: _onsets(t, end - bar, end) < _onsets(t, end - 2 * bar, end - bar)  # noqa: E731
        copy = tuple(t.name for t in score.tracks if t.name != "melody" and thinning(t))
    looped = _reharmonise(score, segments, copy_from_previous=copy)
    cut = max(0.0, end - 2 * bar)
    tempo_map = [(b, t) for b, t in score.tempo_map if b < cut - _EPS or b == 0]
    return _rebuild(looped, looped.tracks, tempo_map=tempo_map)


def _onsets(track: Track, start: float, end: float) -> int:
    return sum(1 for n in track.notes if start - _EPS <= n.start < end - _EPS)


def render_loop(score: Score, *, sr: int = 44100, synth: str = "auto"):
    """Render a loop seamlessly: exactly its bars' length, release tail wrapped onto the start.

    The score is rendered with its release tail; whatever rings past the end of the last
    bar is mixed into the beginning, which is what a player looping the audio would hear
    from the second time round. The result is ``round(score.seconds_at(loop_beats(score))
    * sr)`` samples long, so playing it over and over has no gap and no click at the seam.
    Use a score from :func:`loop_cue` (or ``compose(..., loop=True)``) so the harmony
    leads back too.

    Parameters
    ----------
    score : Score
    sr : int
    synth : str
        As for :func:`scoringkit.render`.

    Returns
    -------
    numpy.ndarray
        float32 mono, peak ≤ 1.

    Examples
    --------
    >>> import scoringkit as sk
    >>> loop = sk.compose(sk.Emotion(0.6, 0.5), duration=6, loop=True)
    >>> audio = render_loop(loop, sr=8000, synth="numpy")
    >>> len(audio) == round(loop.seconds_at(loop_beats(loop)) * 8000)
    True
    """
    import numpy as np

    from ..synth import PEAK_LIMIT, render

    _check_score(score)
    audio = render(score, sr=sr, synth=synth).astype(np.float64)
    n = max(1, int(round(score.seconds_at(loop_beats(score)) * sr)))
    out = np.zeros(n, dtype=np.float64)
    for start in range(0, len(audio), n):
        chunk = audio[start: start + n]
        out[: len(chunk)] += chunk
    peak = float(np.max(np.abs(out)))
    if peak > PEAK_LIMIT:
        out *= PEAK_LIMIT / peak
    return out.astype(np.float32)
