"""Story → soundtrack: one cue per scene, placed end to end on one timeline.

Cue lengths follow reading time: a scene of ``w`` words read at ``words_per_minute``
lasts ``60 * w / words_per_minute`` seconds, kept between ``min_cue`` and ``max_cue``
and rounded to whole bars by the composer.

Examples
--------
>>> st = score_story("The sea was calm.\\n\\nThen the storm came screaming in!", min_words=1)
>>> [c.emotion.quadrant for c in st.cues]
[4, 2]
"""

from __future__ import annotations

import math
import numbers

from ..emotion import DEFAULT_BACKEND
from ..errors import InputError
from ..mapping import REFERENCE_WEIGHT
from ..types import Cue, Score, Soundtrack, Track
from .leitmotif import main_name

__all__ = ["score_story", "assemble"]


def score_story(
    text: str,
    *,
    backend: str = DEFAULT_BACKEND,
    generator: str = "rules",
    seed: int = 0,
    words_per_minute: float = 160.0,
    min_cue: float = 8.0,
    max_cue: float = 60.0,
    min_words: int = 25,
    max_words: int = 150,
    format: str = "auto",
    title: str | None = None,
    progress: bool = False,
    reference=None,
    reference_weight: float = REFERENCE_WEIGHT,
    reference_sr: float | None = None,
    candidates: int = 1,
    leitmotifs: bool = True,
    transition: str = "pivot",
    crossfade: float | None = None,
) -> Soundtrack:
    """Score a story: segment it, read each scene's emotion, compose a cue per scene.

    Parameters
    ----------
    text : str
        The story (paragraphs separated by blank lines; ``***`` lines mark scene breaks).
    backend : str
        Emotion backend for :func:`scoringkit.analyze_text`: ``"encoder"`` (default),
        ``"lexicon"`` or ``"hf:<model id or path>"``.
    generator : str
        Generator for :func:`scoringkit.compose`.
    seed : int
        Base seed; cue ``i`` uses ``seed + i``.
    words_per_minute : float
        Reading speed that sets cue lengths (160 ≈ reading aloud).
    min_cue, max_cue : float
        Bounds on a cue's length in seconds.
    min_words, max_words, format
        Passed to :func:`scoringkit.segment_story` (``format``: ``"auto"``, ``"prose"``,
        ``"screenplay"`` or ``"srt"``). For subtitles each cue starts at its scene's
        time code and fills the whole bars that fit before the next scene (silence in
        between), so the soundtrack lines up with the film; ``words_per_minute``,
        ``min_cue`` and ``max_cue`` then do not apply.
    title : str, optional
        Stored on the soundtrack (default: the story's first line if it looks like a title).
    progress : bool
        Show a progress bar over the cues.
    reference : path, ndarray, Score, AudioFeatures or SymbolicFeatures, optional
        Score the story "like that track": it is analysed once
        (:func:`scoringkit.mapping.reference_features`) and blended into every cue's
        intent by :func:`scoringkit.emotion_to_intent`, so all cues lean the same way
        while still following their scenes' emotions.
    reference_weight : float
        Share of the reference in [0, 1] (default 0.5; 0 = ignore it).
    reference_sr : float, optional
        Sample rate of a ``reference`` given as an array of samples.
    candidates : int
        Rerank each cue: compose this many candidates (seeds ``seed + i``,
        ``seed + i + 1``, ...) and keep the best emotion match with the scene (see
        :func:`scoringkit.compose`). Each candidate is judged as it will sound, with its
        leitmotif statement; the transition, written afterwards, only rewrites the last
        bar. Default 1 = no reranking; 8 costs about 0.3 s more per cue
        (``benchmarks/bench_fuse.py``).
    leitmotifs : bool
        Give each name the story keeps returning to (a character, a place; see
        :func:`scoringkit.generate.leitmotif.find_names`) a theme, and state it in
        every cue whose scene names it, varied by the cue's emotion
        (:mod:`scoringkit.generate.leitmotif`). The cue sheet's ``leitmotif`` column
        says whose theme each cue carries.
    transition : str
        How each cue hands over to the next (:mod:`scoringkit.generate.transitions`):
        ``"pivot"`` (default) re-harmonises the outgoing cue's last bar through a chord
        common to both keys to the new key's V and ramps its tempo toward the next
        cue's, in the notes, so WAV, MIDI and MusicXML agree; ``"crossfade"`` leaves the
        notes as composed and overlaps each cue's tail with the next cue's head in the
        audio (equal-power fades); ``"cut"`` joins them at the barline. Cue start times
        (and subtitle time codes) are the same for all three.
    crossfade : float, optional
        Fade length in seconds for ``transition="crossfade"`` (default 1.5, at most 8).

    Returns
    -------
    Soundtrack

    Examples
    --------
    >>> from scoringkit.assets import example_story
    >>> st = score_story(example_story())
    >>> len(st.cues) >= 4 and st.duration > 60
    True

    Every cue leans toward a reference (here a fast cue; a WAV or MIDI path works too): each
    tempo moves toward the reference's, and the slowest cue gets much faster:

    >>> import scoringkit as sk
    >>> fast = sk.compose(sk.Emotion(0.8, 0.8), duration=10, seed=2)
    >>> matched = score_story(example_story(), reference=fast)
    >>> ref = sk.symbolic_features(fast).tempo
    >>> all(abs(m.intent.tempo - ref) <= abs(c.intent.tempo - ref) for m, c in zip(matched.cues, st.cues))
    True
    >>> min(m.intent.tempo for m in matched.cues) > min(c.intent.tempo for c in st.cues) + 10
    True

    Crossfades in the audio instead of composed modulations:

    >>> faded = score_story(example_story(), transition="crossfade", crossfade=2.0)
    >>> faded.crossfade, [c.start for c in faded.cues][:2] == [0.0, faded.cues[0].end]
    (2.0, True)
    """
    from ..emotion import analyze_text, segment_story
    from ..generate import compose
    from ..fuse.rerank import check_candidates
    from ..mapping import _check_weight, emotion_to_intent, reference_features

    candidates = check_candidates(candidates)
    from .transitions import apply_transitions, check_transition

    fade = check_transition(transition, crossfade)

    check_cue_lengths(words_per_minute, min_cue, max_cue)
    reference_weight = _check_weight(reference_weight)
    if reference is not None:
        reference = reference_features(reference, sr=reference_sr)  # analysed once, used by every cue
    scenes = segment_story(text, min_words=min_words, max_words=max_words, format=format)
    if not isinstance(leitmotifs, bool):
        raise InputError(f"leitmotifs must be True or False, got {leitmotifs!r}")
    motifs = {}
    if leitmotifs:
        from .leitmotif import find_names, make_leitmotif

        motifs = {name: make_leitmotif(name) for name in find_names(scenes)}
    emotions = analyze_text([s.text for s in scenes], backend=backend)
    cues, start = [], 0.0
    iterator = enumerate(zip(scenes, emotions))
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(iterator, total=len(scenes), desc="composing cues", unit="cue")
    timed = all(scene.start is not None for scene in scenes)  # subtitles: follow the film's clock
    for index, (scene, emotion) in iterator:
        intent = emotion_to_intent(emotion, reference=reference, reference_weight=reference_weight)
        if timed:
            start = max(start, scene.start)
            slot_end = scenes[index + 1].start if index + 1 < len(scenes) else scene.end
            bar_seconds = 60.0 / intent.tempo * intent.meter[0] * 4.0 / intent.meter[1]
            target = max(1, math.floor((slot_end - start) / bar_seconds + 1e-9)) * bar_seconds  # whole bars that fit
        else:
            target = min(max_cue, max(min_cue, 60.0 * scene.words / words_per_minute))
        name = main_name(scene.text, motifs)

        def make_cue(cue_seed, intent=intent, target=target, name=name):
            score = compose(intent, generator=generator, duration=target, seed=cue_seed)
            if name is not None:
                from .leitmotif import apply_leitmotif

                apply_leitmotif(score, intent, motifs[name])
            return score

        if candidates == 1:
            score = make_cue(seed + index)
        else:  # rerank the cue as it will sound, leitmotif included (see the fuse issue)
            from ..fuse.rerank import rerank

            score = rerank(make_cue, emotion, candidates, seed=seed + index).best
        length = score.seconds_at(_whole_bar_beats(score))
        cues.append(Cue(index, scene, emotion, intent, score, start, start + length, generator, leitmotif=name))
        start += length
    cues = apply_transitions(cues, transition=transition, timed=timed)
    return Soundtrack(cues, assemble(cues), title=title or scenes[0].heading or "soundtrack",
                      transition=transition, crossfade=fade)


def _whole_bar_beats(score: Score) -> float:
    """Beats from the cue's start to the end of its last bar (a cue always fills whole bars)."""
    bar = score.beats_per_bar
    return math.ceil(score.end_beat / bar - 1e-9) * bar


def check_cue_lengths(words_per_minute, min_cue, max_cue) -> None:
    """Raise :class:`InputError` unless all three are positive numbers and ``min_cue <= max_cue``."""
    for name, value in (("words_per_minute", words_per_minute), ("min_cue", min_cue), ("max_cue", max_cue)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value <= 0:
            raise InputError(f"{name} must be a positive number, got {value!r}")
    if min_cue > max_cue:
        raise InputError(f"min_cue ({min_cue}) must not exceed max_cue ({max_cue})")


def assemble(cues) -> Score:
    """Join the cues' scores into one score, each at its ``cue.start`` (rests fill any gap).

    One track per role name; when a cue uses another instrument for a role, the
    track gets a program change at the cue's first beat. Tempo, key and reverb change at
    each cue boundary, and wherever a cue's own tempo or key map changes inside it
    (e.g. a tempo ramp written by :func:`scoringkit.generate.transitions.apply_transitions`).
    """
    tracks: dict[str, Track] = {}
    tempo_map, key_map, reverb_map = [], [], []
    offset, clock = 0.0, 0.0  # beat and second where the previous cue ended
    meter = cues[0].score.meter if cues else (4, 4)
    for cue in cues:
        score = cue.score
        gap = max(0.0, cue.start - clock)  # silence before a cue (subtitles), at the tempo in force
        offset += gap * (tempo_map[-1][1] if tempo_map else score.tempo) / 60.0
        if not tempo_map and offset > 0:
            tempo_map.append((0.0, score.tempo))
            key_map.append((0.0, score.key))
            reverb_map.append((0.0, score.reverb))
        tempo_map += [(offset + beat, bpm) for beat, bpm in score.tempo_map]
        key_map += [(offset + beat, key) for beat, key in score.key_map]
        reverb_map += [(offset + beat, amount) for beat, amount in score.reverb_map]
        for track in score.tracks:
            merged = tracks.get(track.name)
            if merged is None:
                merged = tracks[track.name] = Track(track.name, track.program, [], is_drum=track.is_drum)
                if offset > 0:
                    merged.program_changes.append((offset, track.program))
            elif merged.program_at(offset) != track.program:
                merged.program_changes.append((offset, track.program))
            for note in track.notes:
                merged.notes.append(type(note)(note.pitch, note.start + offset, note.duration, note.velocity))
        length = _whole_bar_beats(score)
        offset += length
        clock = max(clock, cue.start) + score.seconds_at(length)
    return Score(list(tracks.values()), meter=meter, tempo_map=tempo_map or None, key_map=key_map or None,
                 reverb_map=reverb_map or None)
