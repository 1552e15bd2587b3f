"""Reranking: compose several candidates and keep the one whose emotion matches best.

The simplest way to optimise a generator for the story's emotion without touching it:
draw ``n`` candidates with seeds ``seed, seed + 1, ..., seed + n - 1``, score each with
:func:`scoringkit.emotion_match` against the target, keep the highest score (the lowest
seed wins a tie, so the result is deterministic). :func:`scoringkit.compose` does this
when given ``candidates=n``; it works with any generator because it only needs a
function ``seed -> music``.

Cost: ``n`` generations plus ``n`` music-emotion estimates (about 40 ms each for a
20 s cue on a laptop CPU; see ``benchmarks/bench_fuse.py``).

Examples
--------
>>> import scoringkit as sk
>>> from scoringkit.generate.rules import compose_rules
>>> intent = sk.emotion_to_intent(sk.Emotion(-0.6, -0.5))
>>> result = rerank(lambda s: compose_rules(intent, duration=8, seed=s), intent.emotion, 4)
>>> result.seed in result.seeds, result.match.score == max(m.score for m in result.matches)
(True, True)
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

from ..errors import InputError

__all__ = ["Reranked", "rerank", "check_candidates", "MAX_CANDIDATES"]

#: Most candidates one call may draw (a guard against a typo such as ``candidates=80000``).
MAX_CANDIDATES = 1000


@dataclass
class Reranked:
    """The winner of a reranking and every candidate's match.

    Parameters
    ----------
    best : object
        The chosen music (what ``make_candidate`` returned for :attr:`seed`).
    match : Match
        Its :func:`~scoringkit.emotion_match`.
    seed : int
        The seed that produced it.
    seeds : list of int
        Every candidate's seed, in the order they were drawn.
    matches : list of Match
        Every candidate's match, aligned with :attr:`seeds`.
    """

    best: object
    match: object
    seed: int
    seeds: list
    matches: list


def check_candidates(n) -> int:
    """Validate a number of candidates: an integer from 1 to :data:`MAX_CANDIDATES`.

    Examples
    --------
    >>> check_candidates(8)
    8
    >>> check_candidates(0)
    Traceback (most recent call last):
    ...
    scoringkit.errors.InputError: candidates must be an integer from 1 to 1000 (1 = no reranking), got 0
    """
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or not 1 <= n <= MAX_CANDIDATES:
        raise InputError(f"candidates must be an integer from 1 to {MAX_CANDIDATES} (1 = no reranking), got {n!r}")
    return int(n)


def rerank(make_candidate, target, n: int, *, seed: int = 0, sr=None, model=None) -> Reranked:
    """Draw ``n`` candidates and keep the best :func:`~scoringkit.emotion_match` with ``target``.

    Parameters
    ----------
    make_candidate : callable
        ``make_candidate(seed) -> music`` (a :class:`~scoringkit.Score`, a MIDI or audio
        path, or samples with ``sr``); called with ``seed, seed + 1, ..., seed + n - 1``.
    target : Emotion
        The emotion to match.
    n : int
        Number of candidates, 1 to :data:`MAX_CANDIDATES`.
    seed : int
        First seed.
    sr : float, optional
        Sample rate, when candidates are arrays of samples.
    model : MusicEmotionModel or path, optional
        Music-emotion model to score with instead of the shipped one.

    Returns
    -------
    Reranked
        ``best``, its ``match`` and ``seed``, and all ``seeds`` and ``matches``. Ties go
        to the earliest candidate.

    Examples
    --------
    >>> import scoringkit as sk
    >>> joy = sk.Emotion(0.7, 0.7)
    >>> r = rerank(lambda s: sk.compose(joy, duration=8, seed=s), joy, 3, seed=10)
    >>> r.seeds
    [10, 11, 12]
    """
    from .match import emotion_match

    n = check_candidates(n)
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise InputError(f"seed must be an integer, got {seed!r}")
    if not callable(make_candidate):
        raise InputError("make_candidate must be a function seed -> music, e.g. "
                         "lambda s: compose(emotion, seed=s)")
    best = best_match = best_seed = None
    seeds, matches = [], []
    for candidate_seed in range(int(seed), int(seed) + n):
        music = make_candidate(candidate_seed)
        match = emotion_match(target, music, sr=sr, model=model)
        seeds.append(candidate_seed)
        matches.append(match)
        if best_match is None or match.score > best_match.score:
            best, best_match, best_seed = music, match, candidate_seed
    return Reranked(best, best_match, best_seed, seeds, matches)
