"""Evaluation reports: does a generator hit the quadrant it is asked for, and how do settings compare?

* :func:`quadrant_confusion`: compose music for one target emotion per quadrant with any
  generator (and style preset, and number of reranking candidates), hear it with
  :func:`scoringkit.music_emotion`, and count intended against estimated quadrants: the
  confusion matrix, accuracies with Wilson intervals, the mean emotion match, the cost in
  time.
* :func:`metric_table` / :func:`metric_table_markdown`: the music-quality metrics of
  :mod:`scoringkit.fuse.metrics` for several sets of scores side by side (generators,
  settings, a reference corpus such as EMOPIA), one row per set and metric.

The figures live in :mod:`scoringkit.nb.evaluation` (``sk.nb.confusion_figure``,
``sk.nb.metrics_figure``); the functions here return plain data.

A caveat that belongs in every report made with these functions: the "estimated" quadrant
comes from the music-emotion model, which picks EMOPIA's quadrant about two times in
three on held-out clips (see its model card), so a confusion matrix measures agreement
with that model, not with listeners; :mod:`scoringkit.fuse.listening` measures the latter.

Examples
--------
>>> r = quadrant_confusion("rules", seeds=2, duration=6)
>>> [sum(row) for row in r["confusion"]]     # each row: the pieces meant for Q1, Q2, Q3, Q4
[2, 2, 2, 2]
>>> r["accuracy"] == sum(r["confusion"][i][i] for i in range(4)) / r["n"]
True
"""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Mapping

from ..errors import InputError, choice_error

__all__ = ["QUADRANT_TARGETS", "quadrant_confusion", "metric_table", "metric_table_markdown"]

#: Default target emotion of each quadrant ``(valence, arousal)``: well inside it, not at the corner.
QUADRANT_TARGETS = {1: (0.7, 0.7), 2: (-0.7, 0.7), 3: (-0.7, -0.6), 4: (0.6, -0.6)}


def _seed_list(seeds) -> list:
    if isinstance(seeds, numbers.Integral) and not isinstance(seeds, bool):
        if seeds < 1:
            raise InputError(f"seeds must be >= 1 (the number of pieces per quadrant) or a list of seeds, got {seeds}")
        return list(range(int(seeds)))
    if isinstance(seeds, (str, bytes)) or not hasattr(seeds, "__iter__"):
        raise InputError(f"seeds must be a number of pieces per quadrant or a list of integer seeds, not {seeds!r}")
    result = list(seeds)
    bad = [s for s in result if isinstance(s, bool) or not isinstance(s, numbers.Integral)]
    if bad or not result:
        raise InputError(f"seeds must be a non-empty list of integers, got {result!r}")
    return [int(s) for s in result]


def _targets(targets) -> dict:
    from ..types import Emotion

    given = QUADRANT_TARGETS if targets is None else targets
    if not isinstance(given, Mapping) or set(given) != {1, 2, 3, 4}:
        raise InputError("targets must map each quadrant 1, 2, 3, 4 to an Emotion or a (valence, arousal) pair")
    result = {}
    for q in (1, 2, 3, 4):
        value = given[q]
        emotion = value if isinstance(value, Emotion) else Emotion(*value)
        if emotion.quadrant != q:
            raise InputError(f"the target for quadrant {q} lies in quadrant {emotion.quadrant} "
                             f"(valence {emotion.valence:+.2f}, arousal {emotion.arousal:+.2f}); move it into Q{q}")
        result[q] = emotion
    return result


def _setting_name(generator: str, candidates: int, style) -> str:
    name = generator
    if candidates > 1:
        name += f" + rerank ×{candidates}"
    if style not in (None, "film"):
        name += f" · {style}"
    return name


def quadrant_confusion(generator: str = "rules", *, seeds=8, duration: float = 12.0, candidates: int = 1,
                       style=None, targets=None, model=None) -> dict:
    """Confusion matrix of intended against estimated quadrant for one generator setting.

    For each quadrant ``q`` and each seed ``s``: ``intent = emotion_to_intent(target_q,
    style=style)``, ``score = compose(intent, generator=generator, duration=duration,
    seed=s, candidates=candidates)``, then :func:`scoringkit.emotion_match` of the score
    with ``target_q`` gives the estimated quadrant (the argmax of the music model's
    quadrant probabilities' expectation, as in :func:`scoringkit.music_emotion`) and the
    match score.

    Parameters
    ----------
    generator : str
        Any name in ``scoringkit.generate.GENERATORS`` (``"rules"``; learned generators when
        their checkpoints are installed).
    seeds : int or iterable of int
        A count ``n`` means seeds ``0 .. n-1``; every quadrant uses the same seeds, so
        each row of the matrix sums to their number. With ``candidates = N`` the piece
        for seed ``s`` is the best of seeds ``s .. s+N-1`` (as in :func:`scoringkit.compose`):
        pass spaced seeds, e.g. ``range(0, 8 * N, N)``, for candidate pools that do not
        overlap.
    duration : float
        Seconds of each piece.
    candidates : int
        Reranking: 1 composes once; ``N`` keeps the best of ``N`` by emotion match.
    style : str, optional
        A preset of :data:`scoringkit.mapping.STYLES` (``"game"``, ``"horror"``, ...).
    targets : dict, optional
        Quadrant → :class:`~scoringkit.Emotion` or ``(valence, arousal)`` to aim at;
        default :data:`QUADRANT_TARGETS`.
    model : MusicEmotionModel, optional
        Passed to :func:`scoringkit.emotion_match` (default: the shipped symbolic model).

    Returns
    -------
    dict
        ``name`` (a readable setting name), ``generator``, ``style``, ``candidates``,
        ``duration``, ``seeds``;
        ``labels`` ``["Q1", "Q2", "Q3", "Q4"]``;
        ``confusion``: 4 × 4 list of counts, row = intended quadrant, column = estimated;
        ``n``: pieces in all; ``accuracy`` (the diagonal's share) and ``accuracy_ci``
        (Wilson 95 % interval, :func:`scoringkit.fuse.stats.wilson_interval`);
        ``per_quadrant``: quadrant → share of its pieces estimated in it (recall);
        ``arousal_accuracy`` / ``valence_accuracy``: estimated on the intended side of
        the arousal axis (Q1/Q2 vs Q3/Q4) / valence axis (Q1/Q4 vs Q2/Q3);
        ``mean_match``: mean :func:`~scoringkit.emotion_match` score;
        ``seconds`` and ``seconds_per_piece``: wall time of composing and estimating.

    Raises
    ------
    InputError
        An unknown generator or style (the message lists the valid names), ``seeds`` empty
        or not integers, ``candidates`` < 1, a bad duration, or a target outside its quadrant.

    Examples
    --------
    >>> r = quadrant_confusion(seeds=[0, 1, 2], duration=6, candidates=2)
    >>> r["name"], r["labels"], [sum(row) for row in r["confusion"]]
    ('rules + rerank ×2', ['Q1', 'Q2', 'Q3', 'Q4'], [3, 3, 3, 3])
    >>> r["accuracy_ci"][0] <= r["accuracy"] <= r["accuracy_ci"][1]
    True
    """
    from ..generate import GENERATORS, compose
    from ..mapping import STYLES, emotion_to_intent
    from .match import emotion_match
    from .rerank import check_candidates
    from .stats import wilson_interval

    if not isinstance(generator, str) or generator not in GENERATORS:
        raise choice_error("generator", generator, GENERATORS)
    if style is not None and style not in STYLES:
        raise choice_error("style", style, STYLES)
    candidates = check_candidates(candidates)
    seed_list = _seed_list(seeds)
    goal = _targets(targets)
    confusion = [[0] * 4 for _ in range(4)]
    matches = []
    started = time.perf_counter()
    for q in (1, 2, 3, 4):
        intent = emotion_to_intent(goal[q], style=style)
        for seed in seed_list:
            score = compose(intent, generator=generator, duration=duration, seed=seed, candidates=candidates)
            match = emotion_match(goal[q], score, model=model)
            confusion[q - 1][match.estimated.quadrant - 1] += 1
            matches.append(match.score)
    seconds = time.perf_counter() - started
    n = 4 * len(seed_list)
    correct = sum(confusion[i][i] for i in range(4))
    high_arousal, high_valence = (0, 1), (0, 3)

    def side_accuracy(side) -> float:
        agree = sum(confusion[t][e] for t in range(4) for e in range(4) if (t in side) == (e in side))
        return agree / n

    return {
        "name": _setting_name(generator, candidates, style),
        "generator": generator, "style": style, "candidates": candidates, "duration": float(duration),
        "seeds": seed_list,
        "labels": ["Q1", "Q2", "Q3", "Q4"],
        "confusion": confusion,
        "n": n,
        "accuracy": correct / n,
        "accuracy_ci": wilson_interval(correct, n),
        "per_quadrant": {q: confusion[q - 1][q - 1] / len(seed_list) for q in (1, 2, 3, 4)},
        "arousal_accuracy": side_accuracy(high_arousal),
        "valence_accuracy": side_accuracy(high_valence),
        "mean_match": sum(matches) / len(matches),
        "seconds": seconds,
        "seconds_per_piece": seconds / n,
    }


def metric_table(scores_by_name, *, reference=None) -> list:
    """Quality metrics of several sets of scores, side by side: one row per set and metric.

    Every set is measured with :func:`scoringkit.fuse.quality_metrics`; each row gives the
    mean, the sample standard deviation and the number of defined values (NaNs, e.g. the
    groove of a one-bar piece, are left out). With ``reference`` (the name of one of the
    sets, typically a corpus such as EMOPIA), each other set's row also gets the
    ``overlap`` (overlapping area of the two distributions, 1 = the same) and
    ``effect_size`` (Cohen's d against the reference) of
    :func:`scoringkit.fuse.compare_to_corpus`, whose docstring gives the maths.

    Parameters
    ----------
    scores_by_name : mapping of str to scores
        Name → a list of :class:`~scoringkit.Score` objects, MIDI paths or
        :func:`~scoringkit.fuse.quality_metrics` dicts, or a folder of MIDI files.
        The order of the mapping is the order of the rows.
    reference : str, optional
        The name of the set the others are compared with.

    Returns
    -------
    list of dict
        ``{"name", "metric", "mean", "std", "n", "overlap", "effect_size"}`` in the
        order name × :data:`~scoringkit.fuse.METRIC_NAMES`; ``overlap`` and
        ``effect_size`` are NaN without a reference and on the reference's own rows.
        ``pandas.DataFrame(rows)`` turns it into a data frame;
        :func:`metric_table_markdown` into a readable table.

    Raises
    ------
    InputError
        No sets, a set that is empty or holds an empty or unreadable score (the message
        names the set and the position), or a ``reference`` that is not one of the names.

    Examples
    --------
    >>> import scoringkit as sk
    >>> sets = {"happy": [sk.compose(sk.Emotion(0.7, 0.7), duration=6, seed=s) for s in range(3)],
    ...         "sad": [sk.compose(sk.Emotion(-0.7, -0.6), duration=6, seed=s) for s in range(3)]}
    >>> rows = metric_table(sets, reference="sad")
    >>> len(rows), rows[0]["name"], rows[0]["metric"], rows[0]["n"]
    (16, 'happy', 'pitch_class_entropy', 3)
    >>> [r["overlap"] for r in rows if r["name"] == "sad"][0]
    nan
    """
    from .metrics import METRIC_NAMES, _cohens_d, _metric_table, _overlap

    import numpy as np

    if not isinstance(scores_by_name, Mapping) or not scores_by_name:
        raise InputError("scores_by_name must be a non-empty dict of name -> list of scores "
                         "(e.g. {'rules': [score, ...], 'EMOPIA': 'path/to/midis'})")
    if reference is not None and reference not in scores_by_name:
        raise choice_error("reference", reference, list(scores_by_name))
    values = {}
    for name, items in scores_by_name.items():
        table = _metric_table(items, f"set {name!r}")
        values[name] = {m: np.array([row[m] for row in table], dtype=float) for m in METRIC_NAMES}
        values[name] = {m: v[np.isfinite(v)] for m, v in values[name].items()}
    rows = []
    for name, by_metric in values.items():
        for metric in METRIC_NAMES:
            a = by_metric[metric]
            compare = reference is not None and name != reference
            b = values[reference][metric] if compare else None
            rows.append({
                "name": str(name), "metric": metric,
                "mean": float(a.mean()) if a.size else math.nan,
                "std": float(a.std(ddof=1)) if a.size > 1 else (0.0 if a.size else math.nan),
                "n": int(a.size),
                "overlap": _overlap(a, b) if compare else math.nan,
                "effect_size": _cohens_d(a, b) if compare else math.nan,
            })
    return rows


def metric_table_markdown(rows, *, digits: int = 3) -> str:
    """A Markdown table of :func:`metric_table` rows: one line per metric, one column per set.

    Each cell is ``mean ± std``; when the rows carry a comparison with a reference set,
    ``(overlap 0.71)`` follows.

    Examples
    --------
    >>> rows = [{"name": "a", "metric": "polyphony", "mean": 2.0, "std": 0.5, "n": 4, "overlap": 0.8,
    ...          "effect_size": 0.3},
    ...         {"name": "corpus", "metric": "polyphony", "mean": 2.5, "std": 0.4, "n": 9,
    ...          "overlap": float("nan"), "effect_size": float("nan")}]
    >>> print(metric_table_markdown(rows))
    | metric | a | corpus |
    |---|---:|---:|
    | polyphony | 2.000 ± 0.500 (overlap 0.80) | 2.500 ± 0.400 |
    """
    names, metrics, cells = [], [], {}
    for row in rows:
        if row["name"] not in names:
            names.append(row["name"])
        if row["metric"] not in metrics:
            metrics.append(row["metric"])
        cell = f"{row['mean']:.{digits}f} ± {row['std']:.{digits}f}"
        if not math.isnan(row.get("overlap", math.nan)):
            cell += f" (overlap {row['overlap']:.2f})"
        cells[row["name"], row["metric"]] = cell
    lines = ["| metric | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    for metric in metrics:
        lines.append(f"| {metric} | " + " | ".join(cells.get((n, metric), "") for n in names) + " |")
    return "\n".join(lines)
