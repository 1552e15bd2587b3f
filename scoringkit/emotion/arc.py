"""Emotion arcs: a story's valence and arousal scene by scene, smoothed, with a band and change points.

An arc is the data behind the "shape of a story" plot (Reagan et al., 2016, read emotion
arcs of novels the same way): one valence/arousal point per scene, a smoothed line through
them, a band saying how much the scenes around each point disagree, and the places where the
story moves from one emotional region to another, which are good places to start a new
music cue. Plotting lives in :mod:`scoringkit.nb`; this module only computes.

Examples
--------
>>> from scoringkit.types import Emotion
>>> from scoringkit.emotion.arc import emotion_arc, change_points
>>> story = [Emotion(0.5, -0.5)] * 6 + [Emotion(-0.6, 0.7)] * 6     # calm, then tense
>>> arc = emotion_arc(story, smoothing=1.0)
>>> change_points(arc)
[6]
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..types import Emotion, Scene

__all__ = ["EmotionArc", "emotion_arc", "change_points", "gaussian_smooth"]


@dataclass(frozen=True, eq=False)
class EmotionArc:
    """Valence and arousal over a story, raw and smoothed, with an uncertainty band.

    Built by :func:`emotion_arc`. All arrays have shape ``(n_scenes,)`` and are read-only.

    Attributes
    ----------
    times : ndarray
        Position of each point: the scene's time midpoint in seconds when the scenes carry
        times (subtitles), otherwise its index 0, 1, 2, ...
    valence, arousal : ndarray
        The emotions as given, in [-1, 1].
    valence_smooth, arousal_smooth : ndarray
        Gaussian-smoothed over neighbouring scenes (see :func:`gaussian_smooth`).
    valence_band, arousal_band : ndarray
        Half-width of the uncertainty band (>= 0): the kernel-weighted standard deviation of
        the raw values around each smoothed value.
    labels : tuple of str
        Each emotion's most probable category (or quadrant name), for hover text.
    smoothing : float
        The Gaussian width in scenes that was used.
    """

    times: np.ndarray
    valence: np.ndarray
    arousal: np.ndarray
    valence_smooth: np.ndarray
    arousal_smooth: np.ndarray
    valence_band: np.ndarray
    arousal_band: np.ndarray
    labels: tuple
    smoothing: float

    def __len__(self) -> int:
        return len(self.times)

    @property
    def valence_lower(self) -> np.ndarray:
        """Lower edge of the valence band, clipped to -1."""
        return np.clip(self.valence_smooth - self.valence_band, -1.0, 1.0)

    @property
    def valence_upper(self) -> np.ndarray:
        """Upper edge of the valence band, clipped to 1."""
        return np.clip(self.valence_smooth + self.valence_band, -1.0, 1.0)

    @property
    def arousal_lower(self) -> np.ndarray:
        """Lower edge of the arousal band, clipped to -1."""
        return np.clip(self.arousal_smooth - self.arousal_band, -1.0, 1.0)

    @property
    def arousal_upper(self) -> np.ndarray:
        """Upper edge of the arousal band, clipped to 1."""
        return np.clip(self.arousal_smooth + self.arousal_band, -1.0, 1.0)

    def to_rows(self) -> list[dict]:
        """One plain-data row per point (for tables, CSV, data frames).

        Examples
        --------
        >>> emotion_arc([Emotion(0.2, 0.1), Emotion(0.4, 0.3)], smoothing=0).to_rows()[1]["valence"]
        0.4
        """
        columns = ("times", "valence", "arousal", "valence_smooth", "arousal_smooth", "valence_band", "arousal_band")
        rows = []
        for i in range(len(self)):
            row = {("time" if name == "times" else name): round(float(getattr(self, name)[i]), 4) for name in columns}
            row["label"] = self.labels[i]
            rows.append(row)
        return rows

    def __repr__(self) -> str:
        return f"EmotionArc({len(self)} points, smoothing={self.smoothing:g})"


def gaussian_smooth(values, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian-smooth a 1-D series and measure the spread around each smoothed value.

    With weights :math:`w_{ij} = \\exp(-(i-j)^2 / 2\\sigma^2)` for :math:`|i-j| \\le \\lceil 3\\sigma \\rceil`,

    .. math::

        s_i = \\frac{\\sum_j w_{ij} x_j}{\\sum_j w_{ij}}, \\qquad
        b_i = \\sqrt{\\frac{\\sum_j w_{ij} (x_j - s_i)^2}{\\sum_j w_{ij}}} .

    At the ends the kernel is cut and renormalised over the points that exist (no padding is
    invented, so the first and last scenes are not pulled toward a made-up value).

    Parameters
    ----------
    values : array_like, shape (n,)
    sigma : float
        Kernel width in samples; 0 returns the values unchanged and a zero band.

    Returns
    -------
    smoothed, band : ndarray, shape (n,)

    Examples
    --------
    >>> s, b = gaussian_smooth([0.0, 0.0, 1.0, 0.0, 0.0], 1.0)
    >>> s.round(2).tolist(), bool(b[2] > b[0])
    ([0.08, 0.26, 0.4, 0.26, 0.08], True)
    """
    x = np.asarray(values, dtype=float)
    n = len(x)
    if sigma == 0 or n < 2:
        return x.copy(), np.zeros(n)
    reach = min(n - 1, int(math.ceil(3 * sigma)))
    offsets = np.arange(-reach, reach + 1)
    kernel = np.exp(-(offsets**2) / (2.0 * sigma**2))
    total, weight = np.zeros(n), np.zeros(n)
    for offset, w in zip(offsets, kernel):  # x[i + offset] contributes to point i
        lo, hi = max(0, -offset), min(n, n - offset)
        total[lo:hi] += w * x[lo + offset: hi + offset]
        weight[lo:hi] += w
    smoothed = total / weight
    spread = np.zeros(n)
    for offset, w in zip(offsets, kernel):
        lo, hi = max(0, -offset), min(n, n - offset)
        spread[lo:hi] += w * (x[lo + offset: hi + offset] - smoothed[lo:hi]) ** 2
    return smoothed, np.sqrt(spread / weight)


def emotion_arc(emotions, *, times=None, smoothing: float = 1.0) -> EmotionArc:
    """Build the emotion arc of a story from one emotion per scene.

    Parameters
    ----------
    emotions : list of Emotion
        One per scene, in story order (e.g. ``analyze_text([s.text for s in scenes])``).
    times : list of float or list of Scene, optional
        Where each point sits on the x axis. Numbers are used as given (non-decreasing).
        Scenes give their time midpoint ``(start + end) / 2`` when they all carry times
        (subtitles), else their index. Default: indices 0, 1, 2, ...
    smoothing : float
        Width (sigma) of the Gaussian kernel in scenes, >= 0; ``0`` leaves the values as they
        are. It works on scene order, not on seconds: each scene gets one cue, so a long
        quiet scene counts once, like a short one.

    Returns
    -------
    EmotionArc
        With raw and smoothed valence/arousal and a band per point.

    Notes
    -----
    The band is the kernel-weighted standard deviation of the raw scene values around the
    smoothed value (:func:`gaussian_smooth`): it is wide where the scenes being averaged
    disagree (a mixed or turbulent passage, or a turn in the story) and narrow where they
    agree, so it says how well the smoothed line stands for the scenes near it. It works the
    same for every backend, including those without category probabilities. With
    ``smoothing=0`` nothing is averaged and the band is zero.

    Raises
    ------
    InputError
        For an empty list, items that are not Emotions, ``times`` of another length or
        decreasing or not finite, or a negative smoothing.

    Examples
    --------
    >>> from scoringkit.types import Emotion, Scene
    >>> scenes = [Scene(0, "a", start=0.0, end=4.0), Scene(1, "b", start=4.0, end=10.0)]
    >>> arc = emotion_arc([Emotion(0.5, 0.1), Emotion(-0.5, 0.3)], times=scenes)
    >>> arc.times.tolist(), bool((arc.valence_band >= 0).all())
    ([2.0, 7.0], True)
    """
    if isinstance(emotions, Emotion) or not isinstance(emotions, (list, tuple)):
        raise InputError(f"emotion_arc takes a list of Emotion objects (one per scene), not {type(emotions).__name__}")
    if not emotions:
        raise InputError("emotion_arc needs at least one emotion; analyse the scenes first, e.g. "
                         "analyze_text([s.text for s in segment_story(text)])")
    for i, emotion in enumerate(emotions):
        if not isinstance(emotion, Emotion):
            raise InputError(f"item {i} of emotions is a {type(emotion).__name__}, not an Emotion")
    try:
        sigma = float(smoothing)
    except (TypeError, ValueError):
        sigma = math.nan
    if not math.isfinite(sigma) or sigma < 0:
        raise InputError(f"smoothing is a Gaussian width in scenes and must be a number >= 0, got {smoothing!r}")

    positions = _positions(times, len(emotions))
    valence = np.array([e.valence for e in emotions], dtype=float)
    arousal = np.array([e.arousal for e in emotions], dtype=float)
    valence_smooth, valence_band = gaussian_smooth(valence, sigma)
    arousal_smooth, arousal_band = gaussian_smooth(arousal, sigma)
    arrays = [positions, valence, arousal, valence_smooth, arousal_smooth, valence_band, arousal_band]
    for array in arrays:
        array.setflags(write=False)
    return EmotionArc(*arrays, labels=tuple(e.label for e in emotions), smoothing=sigma)


def change_points(arc: EmotionArc, *, min_gap: int = 2, threshold: float = 0.25) -> list[int]:
    """Propose cue boundaries: the scenes where the story's valence/arousal trajectory changes most.

    The 2-D series :math:`x_i = (v_i, a_i)` of the scenes' valence and arousal is cut into
    segments of at least ``min_gap`` scenes by exact penalised least squares (optimal
    partitioning, Jackson et al. 2005; the objective PELT, Killick et al. 2012, solves faster):

    .. math::

        \\min_{\\tau} \\sum_{k} \\sum_{i \\in \\text{segment } k} \\lVert x_i - \\bar x_k \\rVert^2
        + \\beta \\cdot (\\text{number of boundaries}), \\qquad
        \\beta = \\max\\left(\\tfrac12\\, \\text{min\\_gap} \\cdot \\text{threshold}^2,\\;
        3 \\hat\\sigma^2 \\log n\\right).

    The first term makes a jump of exactly ``threshold`` between two segments of ``min_gap``
    scenes worth exactly one boundary. The second is the BIC penalty for a mean change in two
    dimensions, with the scene-to-scene noise :math:`\\hat\\sigma` estimated robustly from the
    median absolute difference of neighbouring scenes (per axis, :math:`\\text{median}|\\Delta x|
    / (0.6745\\sqrt 2)`, averaged), so a noisy backend does not buy a cue per wobble. Then every
    boundary whose two neighbouring segments have mean emotions closer than ``threshold``
    (Euclidean distance on the valence/arousal plane) is dropped, weakest first: each
    proposed boundary separates passages whose mean emotion differs by at least ``threshold``.

    The segmentation reads the raw per-scene values, not the smoothed line: least squares
    already averages within each segment, and smoothing first would turn every step into a
    ramp that it would cut into several short pieces. The smoothed line and band are for
    looking at; use ``min_gap`` and ``threshold`` to ask for fewer, larger cues.

    Parameters
    ----------
    arc : EmotionArc
    min_gap : int
        Fewest scenes in a segment (between two boundaries, and before the first / after the
        last), >= 1.
    threshold : float
        Smallest change of mean emotion, on the [-1, 1] scales, worth a new cue (>= 0).

    Returns
    -------
    list of int
        Sorted scene indices ``i`` where a new cue should start (between scene ``i - 1`` and
        scene ``i``); empty if the arc never moves by ``threshold``.

    Raises
    ------
    InputError
        If ``arc`` is not an EmotionArc, or for a bad ``min_gap`` or ``threshold``.

    Examples
    --------
    >>> from scoringkit.types import Emotion
    >>> calm, tense = Emotion(0.4, -0.5), Emotion(-0.5, 0.6)
    >>> change_points(emotion_arc([calm] * 5 + [tense] * 5 + [calm] * 5))
    [5, 10]
    >>> change_points(emotion_arc([calm] * 5 + [tense] * 5), threshold=2.0)
    []
    """
    if not isinstance(arc, EmotionArc):
        raise InputError(f"change_points takes an EmotionArc from emotion_arc(), not {type(arc).__name__}")
    if not isinstance(min_gap, (int, np.integer)) or isinstance(min_gap, bool) or min_gap < 1:
        raise InputError(f"min_gap is a number of scenes and must be a whole number >= 1, got {min_gap!r}")
    try:
        limit = float(threshold)
    except (TypeError, ValueError):
        limit = math.nan
    if not math.isfinite(limit) or limit < 0:
        raise InputError(f"threshold is a change of mean emotion and must be a number >= 0, got {threshold!r}")
    min_gap = int(min_gap)
    series = np.column_stack([arc.valence, arc.arousal])
    n = len(series)
    if n < 2 * min_gap:
        return []
    noise_variance = float(np.mean((np.median(np.abs(np.diff(series, axis=0)), axis=0) / (0.6745 * math.sqrt(2))) ** 2))
    penalty = max(0.5 * min_gap * limit**2, 3.0 * noise_variance * math.log(n))
    points = _optimal_partition(series, min_gap=min_gap, penalty=penalty)
    return _merge_small_changes(series, points, limit)


# -- internals ----------------------------------------------------------------------------


def _positions(times, n: int) -> np.ndarray:
    if times is None:
        return np.arange(n, dtype=float)
    if not isinstance(times, (list, tuple, np.ndarray)):
        raise InputError(f"times must be a list of numbers or of Scenes, not {type(times).__name__}")
    if len(times) != n:
        raise InputError(f"times has {len(times)} entries but there are {n} emotions; give one time per emotion")
    if all(isinstance(t, Scene) for t in times):
        if all(s.start is not None and s.end is not None for s in times):
            values = [(s.start + s.end) / 2 for s in times]
        else:
            values = [s.index for s in times]
    else:
        try:
            values = [float(t) for t in times]
        except (TypeError, ValueError):
            raise InputError("times must be numbers (seconds or positions) or Scene objects, not a mix") from None
    positions = np.asarray(values, dtype=float)
    if not np.all(np.isfinite(positions)):
        raise InputError("times must be finite numbers")
    if np.any(np.diff(positions) < 0):
        at = int(np.argmax(np.diff(positions) < 0)) + 1
        raise InputError(f"times must not decrease; entry {at} ({positions[at]:g}) comes before entry {at - 1} "
                         f"({positions[at - 1]:g}); keep the emotions in story order")
    return positions


def _optimal_partition(series: np.ndarray, *, min_gap: int, penalty: float) -> list[int]:
    """Exact least-squares segmentation with a penalty per segment (O(n^2), fine for scene counts)."""
    n = len(series)
    sums = np.vstack([np.zeros(series.shape[1]), np.cumsum(series, axis=0)])
    squares = np.concatenate([[0.0], np.cumsum((series**2).sum(axis=1))])
    best = np.full(n + 1, np.inf)
    best[0] = -penalty
    previous = np.zeros(n + 1, dtype=int)
    for end in range(min_gap, n + 1):
        starts = np.concatenate([[0], np.arange(min_gap, end - min_gap + 1)])
        length = (end - starts)[:, None]
        segment_sum = sums[end] - sums[starts]
        cost = (squares[end] - squares[starts]) - (segment_sum**2 / length).sum(axis=1)
        total = best[starts] + np.maximum(cost, 0.0) + penalty
        choice = int(np.argmin(total))
        best[end], previous[end] = total[choice], starts[choice]
    points, end = [], n
    while end > 0:
        end = int(previous[end])
        if end > 0:
            points.append(end)
    return sorted(points)


def _merge_small_changes(series: np.ndarray, points: list[int], threshold: float) -> list[int]:
    """Drop boundaries between segments whose mean emotions differ by less than ``threshold``, weakest first."""
    points = list(points)
    while points:
        bounds = [0] + points + [len(series)]
        means = [series[a:b].mean(axis=0) for a, b in zip(bounds, bounds[1:])]
        distances = [float(np.linalg.norm(means[k + 1] - means[k])) for k in range(len(points))]
        weakest = int(np.argmin(distances))
        if distances[weakest] >= threshold:
            break
        points.pop(weakest)
    return points
