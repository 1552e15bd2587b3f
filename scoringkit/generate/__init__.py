"""Composition: one ``compose`` call in front of every generator.

Examples
--------
>>> import scoringkit as sk
>>> score = sk.compose(sk.Emotion(-0.6, -0.5), duration=6, seed=2)
>>> score.key
'D minor'
"""

from __future__ import annotations

import math
import numbers

from ..errors import InputError, choice_error
from ..types import Emotion, MusicalIntent, Score

__all__ = ["compose", "GENERATORS", "MAX_CUE_SECONDS", "SEARCHES", "BEAM_GENERATORS"]

#: Generators available in this version (learned ones arrive with their checkpoints).
GENERATORS = ("rules", "transformer", "vae", "gan")
#: Learned generators: name -> module (relative to this package) with ``generate(intent, duration, seed)``.
LEARNED_GENERATORS = {"transformer": ".models.transformer", "vae": ".models.vae", "gan": ".models.gan"}
#: Longest single cue ``compose`` writes, in seconds.
MAX_CUE_SECONDS = 3600.0


def compose(emotion_or_intent, *, generator: str = "rules", duration: float = 20.0, seed: int = 0,
            candidates: int = 1, loop: bool = False, search: str = "sample", beams=None, lm_weight=None) -> Score:
    """Write music for an emotion (or a ready :class:`~scoringkit.types.MusicalIntent`).

    Parameters
    ----------
    emotion_or_intent : Emotion or MusicalIntent
        An :class:`Emotion` is first turned into an intent with
        :func:`scoringkit.emotion_to_intent`. To score "like a reference track", build
        the intent yourself: ``compose(emotion_to_intent(emotion, reference="track.wav"))``.
    generator : str
        ``"rules"`` (the theory-driven composer, :mod:`scoringkit.generate.rules`) or
        ``"transformer"`` (the emotion-conditioned Transformer trained on EMOPIA,
        :mod:`scoringkit.generate.models.transformer`; needs torch and the shipped checkpoint,
        else :class:`~scoringkit.ModelError` says how to train it); ``"vae"`` (a conditional
        VAE over two-bar piano rolls, :mod:`scoringkit.generate.models.vae`) or ``"gan"`` (a
        conditional GAN over one-bar piano rolls, :mod:`scoringkit.generate.models.gan`),
        both trained on EMOPIA, shipped as small checkpoints, and played on the piano.
    duration : float
        Seconds, > 0 and ≤ 3600; the result is rounded to whole bars.
    seed : int
        Same inputs and seed → same music.
    candidates : int
        Reranking (:func:`scoringkit.fuse.rerank`): compose this many candidates with
        seeds ``seed, seed + 1, ...`` and keep the one whose
        :func:`scoringkit.emotion_match` with the target emotion (the Emotion given, or
        ``intent.emotion``) is highest. 1 (default) composes once, exactly as without
        reranking; each extra candidate costs one more composition and one music-emotion
        estimate (about 40 ms for a 20 s cue). The Transformer draws its candidates in
        batches of 8 (:meth:`~scoringkit.generate.models.transformer.TransformerGenerator.generate_batch`),
        which costs far less than N separate calls, one sequence each: without reranking it
        writes the best of 8 drafts by mode, a choice the reranker makes redundant.
    loop : bool
        Write a loopable cue for games (:func:`scoringkit.generate.transitions.loop_cue`):
        the last bar turns back toward the first (pre-dominant, then V of the opening
        chord), the accompaniment keeps going and there is no final ritardando. Render it
        seamlessly with :func:`scoringkit.generate.transitions.render_loop`.
    search : {"sample", "beam"}
        ``"sample"`` (default) draws the cue from the generator. ``"beam"`` (Transformer
        only) runs a stochastic bi-objective beam search that weighs the language model's
        likelihood against the music-emotion model's agreement with the intended quadrant
        while decoding (Ferreira et al. 2020, Bardo Composer; see
        :meth:`~scoringkit.generate.models.transformer.TransformerGenerator.beam_search` for
        the objective). Slower than one sample (several sequences are decoded and judged),
        usually closer to the intended quadrant.
    beams : int, optional
        With ``search="beam"``: sequences kept (1-64, default 4); each is extended by 2
        sampled continuations every 64 tokens.
    lm_weight : float, optional
        With ``search="beam"``: λ in [0, 1] (default 0.5), the weight of the mean token
        log-likelihood against ``1 - λ`` for the log-probability of the intended quadrant;
        1 is a pure likelihood search.

    Returns
    -------
    Score

    Examples
    --------
    >>> import scoringkit as sk
    >>> s = sk.compose(sk.Emotion(0.8, 0.7), duration=10)
    >>> abs(s.duration - 10) < 60 / s.tempo * 4
    True

    Best of 4 by emotion match:

    >>> sad = sk.Emotion(-0.7, -0.5)
    >>> sk.music_emotion(sk.compose(sad, duration=10, candidates=4)).quadrant
    3

    Beam search toward the quadrant (Transformer):

    >>> cue = sk.compose(sad, generator="transformer", duration=8, search="beam", beams=2)
    >>> cue.tempo == sk.emotion_to_intent(sad).tempo
    True

    A loop for a game level: the last bar leads back to the first.

    >>> from scoringkit.generate.transitions import loop_beats, render_loop
    >>> loop = sk.compose(sk.Emotion(0.6, 0.6), duration=8, loop=True)
    >>> len(render_loop(loop, sr=8000, synth="numpy")) == round(loop.seconds_at(loop_beats(loop)) * 8000)
    True
    """
    if isinstance(emotion_or_intent, Emotion):
        from ..mapping import emotion_to_intent

        intent = emotion_to_intent(emotion_or_intent)
    elif isinstance(emotion_or_intent, MusicalIntent):
        intent = emotion_or_intent
    else:
        raise InputError(
            f"compose needs an Emotion or a MusicalIntent, not {type(emotion_or_intent).__name__}; "
            "e.g. compose(Emotion(valence=0.5, arousal=-0.3))"
        )
    if not isinstance(generator, str) or generator not in GENERATORS:
        raise choice_error("generator", generator, GENERATORS)
    if isinstance(duration, bool) or not isinstance(duration, numbers.Real) or not math.isfinite(duration) \
            or not 0 < duration <= MAX_CUE_SECONDS:
        raise InputError(f"duration must be a number of seconds in (0, {MAX_CUE_SECONDS:g}], got {duration!r}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise InputError(f"seed must be an integer, got {seed!r}")
    if not isinstance(loop, bool):
        raise InputError(f"loop must be True or False, got {loop!r}")
    from ..fuse.rerank import check_candidates

    candidates = check_candidates(candidates)
    if candidates > 1 and intent.emotion is None:
        raise InputError("candidates > 1 reranks by emotion match, but this MusicalIntent carries no emotion; "
                         "pass an Emotion, build the intent with emotion_to_intent, or set intent.emotion")
    beam_options = _check_search(search, generator, beams, lm_weight)
    from .rules import compose_rules

    def learned():  # imports torch; a missing checkpoint raises ModelError
        import importlib

        return importlib.import_module(LEARNED_GENERATORS[generator], __name__)

    def finish(score):
        if generator in LEARNED_GENERATORS:
            score.reverb_map = [(0.0, intent.reverb)]  # the room is the intent's, whoever wrote the notes
        if loop:
            from .transitions import loop_cue

            score = loop_cue(score)
        return score

    def make(candidate_seed):
        if beam_options is not None:
            score = learned().beam_search(intent, duration=float(duration), seed=candidate_seed, **beam_options)
        elif generator in LEARNED_GENERATORS:
            score = learned().generate(intent, duration=float(duration), seed=candidate_seed)
        else:
            score = compose_rules(intent, duration=float(duration), seed=candidate_seed)
        return finish(score)

    if candidates == 1:
        return make(int(seed))
    from ..fuse.rerank import rerank

    seeds = list(range(int(seed), int(seed) + candidates))
    if beam_options is None and generator in LEARNED_GENERATORS and hasattr(learned(), "generate_batch"):
        # one batched pass for all candidates (the Transformer): the same cues as one call per seed with
        # draws=1. The music-emotion model picks among them, which makes the generator's own choice of
        # a draft by mode redundant; skipping it keeps N candidates at N sequences instead of 8 N.
        pool = dict(zip(seeds, learned().generate_batch(intent, duration=float(duration), seeds=seeds, draws=1)))
        return rerank(lambda s: finish(pool[s]), intent.emotion, candidates, seed=int(seed)).best
    return rerank(make, intent.emotion, candidates, seed=int(seed)).best


#: Ways to draw a cue from a generator (``compose(..., search=...)``).
SEARCHES = ("sample", "beam")
#: Generators that support ``search="beam"``.
BEAM_GENERATORS = ("transformer",)


def _check_search(search, generator, beams, lm_weight):
    """Validate ``search``, ``beams`` and ``lm_weight``; return the beam-search options, or None for sampling."""
    if not isinstance(search, str) or search not in SEARCHES:
        raise choice_error("search", search, SEARCHES)
    if search == "sample":
        for name, value in (("beams", beams), ("lm_weight", lm_weight)):
            if value is not None:
                raise InputError(f"{name}= only applies to search='beam' (the Transformer's beam search), "
                                 f"not to search='sample'")
        return None
    if generator not in BEAM_GENERATORS:
        raise InputError(f"search='beam' needs a generator that decodes token by token "
                         f"({', '.join(repr(g) for g in BEAM_GENERATORS)}), not {generator!r}; "
                         "candidates=N reranks any generator")
    beams = 4 if beams is None else beams
    lm_weight = 0.5 if lm_weight is None else lm_weight
    if isinstance(beams, bool) or not isinstance(beams, numbers.Integral) or not 1 <= beams <= 64:
        raise InputError(f"beams must be an integer from 1 to 64, got {beams!r}")
    if isinstance(lm_weight, bool) or not isinstance(lm_weight, numbers.Real) or not math.isfinite(lm_weight) \
            or not 0 <= lm_weight <= 1:
        raise InputError(f"lm_weight (λ) must be a number in [0, 1], got {lm_weight!r}")
    return {"beams": int(beams), "lm_weight": float(lm_weight)}
