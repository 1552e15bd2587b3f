"""Solutions to the notebooks' exercises.

Try an exercise first; then call its solution, or read how it works with
``scoringkit.nb.solutions.ex01_low_arousal_clip??`` in a notebook cell. Each function is
named after its notebook (``ex01_...`` belongs to ``01_audio_features.ipynb``).
"""

from __future__ import annotations

__all__ = [
    "ex00_sad_ending",
    "ex01_low_arousal_clip",
    "ex02_part_starts",
    "ex02_boundary_settings",
    "ex03_clearer_table",
    "ex04_motif_variants",
    "ex04_dorian_cue",
    "ex05_valence_walk",
    "ex06_temperature_sweep",
    "ex07_rho_comparison",
    "ex08_rescue_a_style",
]

#: The sad last scene of :func:`ex00_sad_ending`: loss told with unpleasant, low-energy words (lost,
#: alone, empty, cried), no exclamation marks, more than 25 words so that it stays a scene of its own.
SAD_ENDING = (
    "The boat brought them home at last, but old Tom, who had stood beside Nina at the rail, was not "
    "among the rescued. She waited on the empty quay long after the music stopped and the crowd went "
    "home. The lights went out one by one. Alone in the cold drizzle, she held his faded cap and cried "
    "quietly for her lost friend."
)


def ex00_sad_ending(story: str) -> str:
    """Notebook 00: the same story with its last scene replaced by a sad one.

    The last paragraph (the text after the last blank line) becomes :data:`SAD_ENDING`:
    a homecoming where someone is missing. What moves the cue is the choice of words, because
    the quickstart reads emotion with the lexicon backend (:func:`scoringkit.analyze_text`):

    * **valence** falls because VADER rates *lost*, *cried*, *alone* and *empty* as
      unpleasant, outweighing the two pleasant words left (*rescued*, *friend*);
    * **arousal** falls because the NRC word lists file *lost* under *sadness*, a low-energy
      category, and nothing pulls it up: no words of fear or anger, no ``!``, only plain
      sentences ending in full stops.

    Negative valence with negative arousal is **quadrant 3** (sad), and the mapping table
    (:func:`scoringkit.emotion_to_intent`) answers with a **minor key** (valence chooses the
    mode) and a **slower tempo** (both axes lower it): on the Night Ferry story the last cue goes
    from about 124 BPM in D major to about 78 BPM in D minor, and the arc shows valence *and*
    arousal falling.

    Parameters
    ----------
    story : str
        A story with paragraphs separated by blank lines, e.g. the notebook's ``story``.

    Returns
    -------
    str
        The story with its last paragraph replaced; everything before it is kept as written.

    Raises
    ------
    InputError
        If ``story`` is not a string or holds no words.

    Examples
    --------
    >>> import scoringkit as sk
    >>> story = sk.example_story()
    >>> lexicon = dict(backend="lexicon")  # as in notebook 00
    >>> before = sk.score_story(story, **lexicon).cues[-1]
    >>> after = sk.score_story(ex00_sad_ending(story), **lexicon).cues[-1]
    >>> before.emotion.quadrant, after.emotion.quadrant
    (4, 3)
    >>> after.intent.tempo < before.intent.tempo, after.intent.key.endswith("minor")
    (True, True)
    """
    import re

    from ..errors import InputError

    if not isinstance(story, str):
        raise InputError(f"ex00_sad_ending takes the story as a string, not {type(story).__name__}")
    if not re.search(r"\w", story):
        raise InputError("the story is empty: write a few paragraphs separated by blank lines first")
    paragraphs = re.split(r"\n[ \t]*\n", story.strip())
    while not re.search(r"\w", paragraphs[-1]):  # a trailing *** break is not a scene
        paragraphs.pop()
    return "\n\n".join(paragraphs[:-1] + [SAD_ENDING]) + "\n"


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


def ex02_part_starts(story: str, scenes) -> list:
    """Notebook 02: the scenes that open a new part of the story (the first after each ``***`` line).

    Each scene's text is looked up in the story, in order and with whitespace normalised, and
    the ``***`` lines before it are counted; a scene whose count differs from the previous
    scene's opens a new part. These are the cue boundaries a reader would draw from the
    story's layout, to compare with what :func:`scoringkit.change_points` hears.

    Parameters
    ----------
    story : str
        The text the scenes were cut from.
    scenes : list of Scene
        From :func:`scoringkit.segment_story` on ``story``.

    Returns
    -------
    list of int
        Sorted scene indices, in the convention of :func:`scoringkit.change_points`.

    Raises
    ------
    InputError
        If a scene's text cannot be found in ``story``.

    Examples
    --------
    >>> import scoringkit as sk
    >>> story = sk.example_story()
    >>> ex02_part_starts(story, sk.segment_story(story, min_words=1, max_words=40))
    [5, 10, 13]
    """
    from ..errors import InputError

    flat = " ".join(story.split())
    starts, position, previous_part = [], 0, None
    for i, scene in enumerate(scenes):
        text = " ".join(scene.text.split())
        found = flat.find(text, position)
        if not text or found < 0:
            raise InputError(f"scene {i} ({text[:40]!r}) is not in the story: pass the story the scenes "
                             "were cut from, e.g. ex02_part_starts(story, sk.segment_story(story))")
        part = flat.count("***", 0, found)
        if previous_part is not None and part != previous_part:
            starts.append(i)
        previous_part, position = part, found + len(text)
    return starts


def ex02_boundary_settings(arc, part_starts, *, thresholds=(0.1, 0.25, 0.4, 0.5), min_gaps=(1, 2, 3)) -> list:
    """Notebook 02: the ``change_points`` settings whose cue boundaries fall where the story's parts begin.

    Every combination of the two settings is tried on ``arc``, and its proposed boundaries are
    compared with ``part_starts`` (the reader's boundaries, from :func:`ex02_part_starts`):
    *found* are boundaries in both lists, *missed* are part starts with no boundary, *extra*
    are boundaries inside a part. The agreement is the F1 score,
    ``2 · found / (proposed + part starts)``: 1 when the lists are equal, 0 when they share
    nothing. Rows come best first (F1, then fewer extras; ties keep the grid's order).

    On the example story with the encoder backend no setting finds all three part starts:

    * the defaults (``threshold=0.25, min_gap=2``) find the storm (scene 5) and the spring
      (scene 13) but also cut *inside* the first part, at scene 2, where the calm morning turns
      into the joyful reunion: a real change of emotion that the story's layout does not mark;
    * ``threshold=0.1, min_gap=3`` agrees best: a lower threshold lets the move from terror
      to grief (the storm to the empty dawn, scene 10, both unpleasant but one agitated and one
      still) count as a change, and three scenes per cue forbid the short first cue. It then
      misses the spring, whose last cue would be only two scenes long;
    * from ``threshold=0.6`` on nothing is proposed.

    The lesson: the parts are the plot's divisions, the boundaries the emotion's, and a music
    cue follows the emotion; a composer would keep the morning-to-reunion change.

    Parameters
    ----------
    arc : EmotionArc
        From :func:`scoringkit.emotion_arc`.
    part_starts : list of int
        The boundaries to agree with.
    thresholds, min_gaps : sequence
        The settings to try.

    Returns
    -------
    list of dict
        One row per setting, with keys ``threshold``, ``min_gap``, ``boundaries``, ``found``,
        ``missed``, ``extra`` (lists of scene indices) and ``f1``.

    Examples
    --------
    >>> import scoringkit as sk
    >>> calm, tense, sad = sk.Emotion(0.4, -0.5), sk.Emotion(-0.5, 0.6), sk.Emotion(-0.6, -0.5)
    >>> arc = sk.emotion_arc([calm] * 4 + [tense] * 4 + [sad] * 4)
    >>> best = ex02_boundary_settings(arc, [4, 8])[0]
    >>> best["boundaries"], best["f1"]
    ([4, 8], 1.0)
    """
    from ..emotion.arc import change_points

    wanted = sorted({int(i) for i in part_starts})
    rows = []
    for threshold in thresholds:
        for min_gap in min_gaps:
            proposed = change_points(arc, threshold=threshold, min_gap=min_gap)
            found = [i for i in proposed if i in wanted]
            total = len(proposed) + len(wanted)
            rows.append({
                "threshold": threshold,
                "min_gap": min_gap,
                "boundaries": proposed,
                "found": found,
                "missed": [i for i in wanted if i not in proposed],
                "extra": [i for i in proposed if i not in wanted],
                "f1": 2 * len(found) / total if total else 1.0,
            })
    return sorted(rows, key=lambda row: (-row["f1"], len(row["extra"])))


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


def _nonempty(values, what: str) -> list:
    """``values`` as a list; InputError if it is empty or not a sequence."""
    from ..errors import InputError

    try:
        values = list(values)
    except TypeError:
        raise InputError(f"{what} must be a list of values, not {type(values).__name__}") from None
    if not values:
        raise InputError(f"{what} is empty: give at least one value")
    return values


def ex05_valence_walk(*, steps: int = 8, seeds=range(4)) -> dict:
    """Notebook 05: does the music-emotion model follow a sad → happy walk as well as calm → tense?

    Walks the shipped VAE's latent space twice, with
    :func:`scoringkit.generate.models.vae.interpolation_trend`: from quadrant 3 (sad) to 1
    (happy), a walk along **valence**, and from quadrant 4 (calm) to 2 (tense), the notebook's
    walk along **arousal**. Each step is two bars at the same tempo (120 BPM), loudness and
    piano, so only the notes change; :func:`scoringkit.music_emotion` hears every step for
    every seed, and the Spearman rank correlation of the heard valence and arousal with the
    step index says whether they rise (+1), fall (−1) or wander (near 0) along the walk.

    What to expect: arousal follows the walks well, valence does not. Going from sad to happy
    the music gets busier and higher, which the model hears as *more excited*, while the
    heard valence barely moves or even falls. Two reasons: in EMOPIA, which both models learned
    from, the notes of happy and sad pieces differ less than those of calm and tense ones
    (the music-emotion model's weak axis is valence, see its model card), and valence lives
    largely in the mode and key, which these plain steps leave to chance; ``compose`` adds the
    intent's key, tempo and loudness on top.

    Parameters
    ----------
    steps : int
        Points along each walk (>= 2).
    seeds : iterable of int
        One walk per seed (a different "piece" in the two moods); the trend is their mean.

    Returns
    -------
    dict
        ``"sad → happy"`` and ``"calm → tense"``, each the dict of ``interpolation_trend``:
        mean ``valence`` and ``arousal`` per step, ``valence_spearman``, ``arousal_spearman``.

    Examples
    --------
    >>> walks = ex05_valence_walk(steps=4, seeds=[0])
    >>> list(walks), len(walks["sad → happy"]["valence"])
    (['sad → happy', 'calm → tense'], 4)
    >>> walks["sad → happy"]["arousal_spearman"] > walks["sad → happy"]["valence_spearman"]
    True
    """
    from ..generate.models import vae

    seeds = _nonempty(seeds, "seeds")
    generator = vae.load_vae()
    return {name: vae.interpolation_trend(generator, a, b, steps=steps, seeds=seeds)
            for name, (a, b) in {"sad → happy": (3, 1), "calm → tense": (4, 2)}.items()}


def ex06_temperature_sweep(temperatures=(0.7, 1.0, 1.3), *, seeds=range(4), duration: float = 10.0) -> list:
    """Notebook 06: what the sampling temperature does to the shipped Transformer's sad cue.

    The model gives a probability to every possible next token; sampling divides its logits by
    the **temperature** ``t`` first. Below 1 the likely tokens get likelier (the model plays
    safe, which in theory makes it repeat its favourite patterns); above 1 the distribution
    flattens and unlikely tokens, wrong notes among them, get their chance. For each temperature this
    generates the notebook's sad cue (``QUADRANT_TARGETS[3]`` through
    :func:`scoringkit.emotion_to_intent`) for several seeds and measures, with
    :func:`scoringkit.fuse.quality_metrics` and :func:`scoringkit.extract.symbolic_features`:

    * ``pitch_class_entropy``: how evenly the 12 pitch classes are used (bits, at most 3.58):
      it grows with the temperature;
    * ``scale_consistency``: the share of notes in the best-fitting scale: it falls when the
      temperature is high (the cue *loses the key*);
    * ``self_similarity`` and ``repetition_rate``: how much the bars resemble and repeat each
      other (does the cue *repeat itself*?);
    * ``keys``: the key estimated for each cue, to compare with the intent's (a minor key and
      its relative major share their notes, so the estimate often names either).

    The generator steers toward the intent's scale by default (``scale_penalty``), which hides
    part of the effect: pass ``scale_penalty=0, steer=False`` to
    ``shipped.generate`` to hear the model alone. With a few seeds the differences are small
    and noisy: listen, and add seeds before you believe a trend.

    Parameters
    ----------
    temperatures : sequence of float
        Each in (0, 5].
    seeds : iterable of int
    duration : float
        Seconds of each cue.

    Returns
    -------
    list of dict
        One row per temperature: ``temperature``, the four metrics' means over the seeds and
        ``keys`` (the estimated key of each cue).

    Examples
    --------
    >>> rows = ex06_temperature_sweep((0.7, 1.3), seeds=[0], duration=6)
    >>> [row["temperature"] for row in rows], 0 <= rows[0]["scale_consistency"] <= 1
    ([0.7, 1.3], True)
    """
    from ..extract import symbolic_features
    from ..fuse import QUADRANT_TARGETS
    from ..generate.models import transformer
    from ..mapping import emotion_to_intent
    from ..types import Emotion

    temperatures, seeds = _nonempty(temperatures, "temperatures"), _nonempty(seeds, "seeds")
    shipped = transformer.load_generator()
    intent = emotion_to_intent(Emotion(*QUADRANT_TARGETS[3]))
    rows = []
    for temperature in temperatures:
        cues = [shipped.generate(intent, duration=duration, seed=seed, temperature=temperature) for seed in seeds]
        row = {"temperature": temperature}
        row.update(_mean_metrics(cues, ("pitch_class_entropy", "scale_consistency", "self_similarity",
                                        "repetition_rate")))
        row["keys"] = [symbolic_features(cue).key for cue in cues]
        rows.append(row)
    return rows


def _mean_metrics(cues, names) -> dict:
    """Mean of each named :func:`scoringkit.fuse.quality_metrics` entry over ``cues`` (NaNs skipped)."""
    import numpy as np

    from ..fuse import quality_metrics

    metrics = [quality_metrics(cue) for cue in cues]
    return {name: float(np.nanmean([m[name] for m in metrics])) for name in names}


def ex07_rho_comparison(rhos=(0.0, 0.8, 0.95), *, seeds=range(2), duration: float = 12.0) -> list:
    """Notebook 07: how ``rho`` changes the shipped GAN's passages from bar to bar.

    The GAN writes one bar per latent vector. Its generator walks through latent space with an
    AR(1) process, :math:`z_{b+1} = \\rho\\, z_b + \\sqrt{1 - \\rho^2}\\, \\varepsilon_b`: with
    ``rho = 0`` every bar is drawn independently, with ``rho`` near 1 each bar is a small
    step from the last. For each ``rho`` this generates a plain cue per quadrant and seed
    (:func:`~scoringkit.generate.models.pianoroll.plain_intent`: 120 BPM, C major, so only the
    notes differ) and averages :func:`scoringkit.fuse.quality_metrics`:

    * ``self_similarity`` (how alike neighbouring bars are) and ``repetition_rate`` (how many
      bars repeat an earlier one exactly) rise with ``rho``;
    * ``groove_consistency`` (rhythmic agreement of neighbouring bars) rises too;
    * ``pitch_class_entropy`` falls a little: closer bars reuse the same notes.

    Which sounds more like music? Independent bars sound like a shuffle of fragments;
    ``rho = 0.95`` starts to loop (about a quarter of its bars repeat exactly); the default
    ``0.8`` keeps a passage together while it still moves. Music is repetition *with* variation.

    Parameters
    ----------
    rhos : sequence of float
        Each in [0, 1).
    seeds : iterable of int
    duration : float
        Seconds of each cue.

    Returns
    -------
    list of dict
        One row per ``rho``: ``rho`` and the means of the four metrics over quadrants and seeds.

    Examples
    --------
    >>> rows = ex07_rho_comparison((0.0, 0.95), seeds=[0], duration=8)
    >>> rows[1]["self_similarity"] > rows[0]["self_similarity"]
    True
    """
    from ..generate.models import gan
    from ..generate.models.pianoroll import plain_intent

    rhos, seeds = _nonempty(rhos, "rhos"), _nonempty(seeds, "seeds")
    shipped = gan.load_gan()
    rows = []
    for rho in rhos:
        cues = [shipped.generate(plain_intent(q), duration=duration, seed=seed, rho=rho)
                for q in (1, 2, 3, 4) for seed in seeds]
        row = {"rho": rho}
        row.update(_mean_metrics(cues, ("self_similarity", "repetition_rate", "groove_consistency",
                                        "pitch_class_entropy")))
        rows.append(row)
    return rows


def ex08_rescue_a_style(styles=None, candidates=(1, 4), *, seeds: int = 6, duration: float = 10.0) -> list:
    """Notebook 08: for which style presets does reranking raise the confusion-matrix accuracy?

    For each preset of :data:`scoringkit.mapping.STYLES` and each number of candidates this
    runs :func:`scoringkit.fuse.quadrant_confusion`: ``seeds`` pieces per quadrant, heard by
    the music-emotion model. With ``N`` candidates the seeds are spaced ``N`` apart
    (``0, N, 2N, ...``) so that the pieces' candidate pools do not overlap. A style counts as
    **rescued** when the best reranked accuracy's Wilson 95 % interval lies wholly above the
    plain one's; overlapping intervals mean the gain may be chance.

    Why some styles cannot be rescued: reranking only *chooses* among candidates. A preset
    that fixes what carries the emotion for every candidate fails by design: *horror* sets the
    minor mode, so no candidate of a happy scene sounds happy (quadrant 1 is heard as 2). A
    preset that pulls every cue one way, like the *lullaby* (slow, soft, music box and harp,
    no dissonance), makes sad scenes sound tender (quadrant 3 heard as 4); more candidates
    find a sad-sounding one only sometimes, and each costs a composition and a listen, so
    ``seconds_per_piece`` grows about linearly with ``N``. Presets that leave the emotion's
    cues alone are already near the ceiling. Results depend on the composer and the mapping
    table: run it again after changing either.

    Parameters
    ----------
    styles : sequence of str, optional
        Names in :data:`scoringkit.mapping.STYLES` (default: all).
    candidates : sequence of int
        Numbers of candidates to compare; the first is the baseline (usually 1).
    seeds : int
        Pieces per quadrant.
    duration : float
        Seconds of each piece.

    Returns
    -------
    list of dict
        One row per style, most improved first: ``style``, ``results`` (candidates →
        ``{"accuracy", "accuracy_ci", "per_quadrant", "seconds_per_piece"}``), ``gain`` (best
        reranked accuracy minus the baseline's), ``best_candidates`` and ``rescued``.

    Raises
    ------
    InputError
        For an unknown style (the message lists the presets).

    Examples
    --------
    >>> (row,) = ex08_rescue_a_style(["horror"], (1, 2), seeds=2, duration=6)
    >>> row["results"][1]["per_quadrant"][1], row["rescued"]   # a happy scene is never heard as happy
    (0.0, False)
    """
    from ..errors import choice_error
    from ..fuse import quadrant_confusion
    from ..mapping import STYLES

    styles = list(STYLES) if styles is None else _nonempty(styles, "styles")
    for style in styles:
        if style not in STYLES:
            raise choice_error("style", style, list(STYLES))
    candidates = [int(n) for n in _nonempty(candidates, "candidates")]
    rows = []
    for style in styles:
        results = {}
        for n in candidates:
            r = quadrant_confusion(seeds=range(0, seeds * n, n), duration=duration, style=style, candidates=n)
            results[n] = {key: r[key] for key in ("accuracy", "accuracy_ci", "per_quadrant", "seconds_per_piece")}
        baseline, others = results[candidates[0]], candidates[1:]
        best = max(others, key=lambda n: results[n]["accuracy"]) if others else candidates[0]
        rows.append({
            "style": style,
            "results": results,
            "gain": results[best]["accuracy"] - baseline["accuracy"],
            "best_candidates": best,
            "rescued": bool(others) and results[best]["accuracy_ci"][0] > baseline["accuracy_ci"][1],
        })
    return sorted(rows, key=lambda row: -row["gain"])


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
