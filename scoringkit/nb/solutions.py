"""Solutions to the notebooks' exercises.

Try an exercise first; then call its solution, or read how it works with
``scoringkit.nb.solutions.ex01_low_arousal_clip??`` in a notebook cell. Each function is
named after its notebook (``ex01_...`` belongs to ``01_audio_features.ipynb``).
"""

from __future__ import annotations

__all__ = ["ex01_low_arousal_clip", "ex03_clearer_table", "ex04_motif_variants", "ex04_dorian_cue"]


def ex01_low_arousal_clip(*, sr: int = 22050, duration: float = 12.0, seed: int = 0):
    """Notebook 01: a clip whose *estimated* arousal (audio model) is low.

    Asking the mapping for a calm emotion is the obvious half: it gives a slow tempo, soft
    velocities, few notes per beat and legato (:func:`scoringkit.emotion_to_intent`). On its
    own that is not enough, because the audio emotion model
    (:func:`scoringkit.music_emotion` on samples) learned from EMOPIA's **solo-piano**
    clips: the sustained strings and pads the mapping picks for calm scenes are far from
    anything it heard, and it tends to call them agitated. Playing every part on a piano
    (General MIDI program 0) brings the clip back to what the model knows, and the
    estimate follows the music: the lesson is to test a model on the kind of input it was
    trained on, or to know that you are not.

    Parameters
    ----------
    sr : int
        Sample rate of the render in Hz.
    duration : float
        Length of the composed music in seconds.
    seed : int
        The composer's seed.

    Returns
    -------
    numpy.ndarray
        float32 mono samples at ``sr``.

    Examples
    --------
    >>> import scoringkit as sk
    >>> from scoringkit.nb.solutions import ex01_low_arousal_clip
    >>> audio = ex01_low_arousal_clip()
    >>> sk.music_emotion(audio, sr=22050).arousal < 0
    True
    """
    import dataclasses

    from ..generate import compose
    from ..mapping import emotion_to_intent
    from ..synth import render
    from ..types import Emotion

    calm = emotion_to_intent(Emotion(valence=0.3, arousal=-0.9))  # slow, soft, sparse, legato
    on_piano = dataclasses.replace(calm, instruments={part: 0 for part in calm.instruments})
    return render(compose(on_piano, duration=duration, seed=seed), sr=sr)


def ex03_clearer_table() -> dict:
    """Notebook 03: a mapping table whose near-centre cues are heard in their own quadrants.

    Near the middle of the valence/arousal plane, e.g. at ``(0.3, 0.3)``, the built-in
    table asks for music only a little faster and louder than at ``(0.3, -0.3)``, and for
    some seeds the music-emotion model hears a mildly excited cue as calm (quadrant 4).
    The fix is in the table, not in the emotion: make the two strongest arousal cues
    steeper. Loudness and note density are what listeners (Juslin 2001) and EMOPIA's
    pianists (+24 velocity and +4.5 notes per second from low to high arousal) use most
    to signal energy, so their **arousal weights are doubled**: velocity 34 → 68 per unit
    of arousal, density 0.6 → 1.2 notes per beat. The bases stay, so the neutral point
    sounds as before, and the ranges (low, high) still keep every value playable.

    Returns
    -------
    dict
        A table shaped like :func:`scoringkit.mapping.default_table`, to pass as ``table=``.

    Examples
    --------
    >>> import scoringkit as sk
    >>> from scoringkit.nb.solutions import ex03_clearer_table
    >>> table = ex03_clearer_table()
    >>> intent = sk.emotion_to_intent(sk.Emotion(0.3, 0.3), table=table)
    >>> [sk.music_emotion(sk.compose(intent, duration=10, seed=seed)).quadrant for seed in (0, 2)]
    [1, 1]
    """
    from ..mapping import default_table, validate_table

    table = default_table()
    for name in ("velocity", "density"):
        base, valence_weight, arousal_weight, low, high, reason = table["linear"][name]
        table["linear"][name] = (base, valence_weight, 2 * arousal_weight, low, high,
                                 reason + " (arousal weight doubled: a clearer energy cue near the centre)")
    return validate_table(table)


def ex04_motif_variants(degrees, rhythm) -> dict:
    """Notebook 04: a motif and its four classic transformations.

    A motif is written as scale **degrees** (0 = the tonic, 1 = the next scale note,
    7 = the octave, -1 = the note below the tonic) and a **rhythm** (note lengths in
    beats). Working in degrees rather than MIDI pitches keeps every variant inside the
    key: a step is a scale step, whatever the mode.

    * **sequence**: the whole motif one scale step higher (``d + 1``);
    * **inversion**: every interval turned upside down, mirrored around the first note
      (``2 * d[0] - d``): a rising third becomes a falling third;
    * **retrograde**: the motif backwards, pitches and lengths both;
    * **retrograde inversion**: the inversion played backwards.

    Parameters
    ----------
    degrees : sequence of int
    rhythm : sequence of float
        One length per degree.

    Returns
    -------
    dict of str to (list of int, list of float)
        Keys ``"original"``, ``"sequence"``, ``"inversion"``, ``"retrograde"`` and
        ``"retrograde inversion"``, each ``(degrees, rhythm)``.

    Examples
    --------
    >>> variants = ex04_motif_variants([0, 2, 4, 3], [1, 1, 1.5, 0.5])
    >>> variants["inversion"][0], variants["retrograde"]
    ([0, -2, -4, -3], ([3, 4, 2, 0], [0.5, 1.5, 1, 1]))
    >>> variants["retrograde inversion"][0]
    [-3, -4, -2, 0]
    """
    from ..errors import InputError

    degrees, rhythm = [int(d) for d in degrees], list(rhythm)
    if not degrees or len(degrees) != len(rhythm):
        raise InputError("a motif needs as many note lengths as degrees, at least one")
    inversion = [2 * degrees[0] - d for d in degrees]
    return {
        "original": (degrees, rhythm),
        "sequence": ([d + 1 for d in degrees], list(rhythm)),
        "inversion": (inversion, list(rhythm)),
        "retrograde": (degrees[::-1], rhythm[::-1]),
        "retrograde inversion": (inversion[::-1], rhythm[::-1]),
    }


def ex04_dorian_cue(*, duration: float = 30.0, seed: int = 0):
    """Notebook 04: a bittersweet cue in D dorian, played by cello, harp and strings.

    Start from the mapping's intent for a mildly sad, calm scene (quadrant 3: D minor, the
    *lament* progressions) and change three things with :func:`dataclasses.replace`:

    * ``scale="dorian"``: the minor scale with a **major sixth** (B natural in D). The
      composer then swaps the progressions' iv and VI chords for dorian's characteristic
      **major IV** (G major in D), away from the cadences (:data:`scoringkit.generate.rules.MODAL_CHORDS`);
    * ``instruments``: cello melody (42), orchestral harp accompaniment (46), slow
      strings pad (49), acoustic bass (32);
    * one chord per bar (``harmonic_rhythm=1``), so a short cue still has room for the IV.

    The major IV lifts the sadness, and for some seeds the music-emotion model hears the
    cue as calm and tender (quadrant 4) rather than sad: modal colour is a valence cue.

    Returns
    -------
    Score

    Examples
    --------
    >>> from scoringkit.generate.rules import chord_pitch_classes
    >>> score = ex04_dorian_cue(seed=3)
    >>> g_major = set(chord_pitch_classes("IV", 2))
    >>> bars = [{n.pitch % 12 for n in score.track("pad").notes if n.start == 4 * bar} for bar in range(9)]
    >>> sum(bar == g_major for bar in bars) >= 2
    True
    """
    import dataclasses

    from ..generate import compose
    from ..mapping import emotion_to_intent
    from ..types import Emotion

    sad = emotion_to_intent(Emotion(valence=-0.4, arousal=-0.5))  # D minor, lament progressions
    bittersweet = dataclasses.replace(
        sad, scale="dorian", harmonic_rhythm=1.0,
        instruments={"melody": 42, "accompaniment": 46, "pad": 49, "bass": 32},
    )
    return compose(bittersweet, duration=duration, seed=seed)


def timecode(seconds: float, *, fps: int = 24) -> str:
    """A time in seconds as SMPTE-style timecode ``HH:MM:SS:FF`` (non-drop frame) at ``fps`` frames per second.

    Examples
    --------
    >>> timecode(24.5), timecode(3725.25, fps=25)
    ('00:00:24:12', '01:02:05:06')
    """
    frames = round(seconds * fps)
    hours, rest = divmod(frames, 3600 * fps)
    minutes, rest = divmod(rest, 60 * fps)
    secs, frame = divmod(rest, fps)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}:{frame:02d}"


def ex09_spotting_list(soundtrack, *, fps: int = 24) -> list:
    """Notebook 09: the soundtrack's cues as a film composer's *spotting list*.

    In a spotting session the director, editor and composer watch the film and decide
    where music starts and stops; the music editor writes it down as a list of cues,
    numbered by reel (``1M1`` is reel 1, music cue 1), each with its *in* and *out*
    timecode (``HH:MM:SS:FF``, hours, minutes, seconds and frames at the film's frame
    rate, here :func:`timecode`), its length and a note on what the music must do. This
    builds that list from ``soundtrack.cue_sheet()``, one line per cue: number, in, out,
    length (m:ss.s), quadrant and emotion, tempo and key, and the scene's first words.

    Parameters
    ----------
    soundtrack : Soundtrack
        From :func:`scoringkit.score_story` (or :attr:`scoringkit.nb.Studio.soundtrack`).
    fps : int
        Frame rate of the timecodes (24 for film, 25 for PAL video, 30 for NTSC).

    Returns
    -------
    list of str

    Examples
    --------
    >>> import scoringkit as sk
    >>> st = sk.score_story(sk.example_story())
    >>> rows = ex09_spotting_list(st)
    >>> len(rows) == len(st.cues), rows[0].startswith("1M1  00:00:00:00  "), "The morning was calm." in rows[0]
    (True, True, True)
    >>> rows[1].split()[1] == timecode(st.cues[1].start)       # cue 2 comes in where cue 1 goes out
    True
    """
    rows = []
    for row in soundtrack.cue_sheet():
        length = row["end"] - row["start"]
        minutes, seconds = divmod(length, 60)
        scene = row["scene"] if len(row["scene"]) <= 36 else row["scene"][:35].rstrip() + "…"
        rows.append(
            f"1M{row['cue']:<2d} {timecode(row['start'], fps=fps)}  {timecode(row['end'], fps=fps)}  "
            f"{int(minutes)}:{seconds:04.1f}  Q{row['quadrant']} {row['emotion']:<9s} {row['tempo']:>4.0f} BPM  "
            f"{row['key']:<9s} {scene}"
        )
    return rows


__all__ += ["timecode", "ex09_spotting_list"]
