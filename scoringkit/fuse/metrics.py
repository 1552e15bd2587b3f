"""Music-quality metrics: pure functions of a score, and a comparison with a reference corpus.

Objective metrics do not say whether music is good; they say whether generated music has
the same statistics as real music (Yang & Lerch 2020), e.g. whether its pitches keep to a
scale, whether its rhythm holds a groove, whether it repeats itself as songs do. Each
function takes a :class:`~scoringkit.Score` (or a MIDI path) and returns one float:

=====================  ==============================================  =================
metric                 what                                            notes used
=====================  ==============================================  =================
pitch_class_entropy    spread of the pitch-class histogram (bits)      pitched
scale_consistency      share of notes in the best-fitting major scale  pitched
pitch_range            highest minus lowest pitch (semitones)          pitched
polyphony              pitches sounding at once, when any sound        pitched
empty_beat_rate        share of beats in which nothing sounds          all, drums too
groove_consistency     bar-to-bar similarity of onset patterns         all, drums too
self_similarity        mean cosine similarity of bar chroma vectors    pitched
repetition_rate        share of note n-grams heard before in a track   pitched
=====================  ==============================================  =================

Conventions (decided here, and tested):

* **Drums** (``Track.is_drum``) are left out of every pitch metric (a drum "pitch" is a
  drum sound, not a pitch) and kept in the rhythm metrics (a drum hit is not silence).
* **An empty score** (no notes in any track) raises :class:`~scoringkit.InputError`:
  it is almost always a mistake (a failed generation, a wrong file), and metrics of
  silence say nothing.
* **Undefined values are NaN**: a drums-only score has no pitch metrics; groove
  consistency needs two bars, self-similarity two bars with pitched notes, repetition
  rate a track of ``n + 1`` pitched notes. :func:`compare_to_corpus` skips NaNs and
  reports how many values each statistic rests on (as MusPy returns NaN for undefined
  metrics).
* Time is quantised to a grid of :data:`RESOLUTION` steps per beat (a beat is a quarter
  note, as everywhere in scoringkit), which holds sixteenths and triplets exactly.
* Bars follow the score's meter from beat 0 (one meter per score, as in :class:`Score`).

Everything is computed with numpy on arrays of the notes, so 100 cues take a few tens of
milliseconds (``benchmarks/bench_fuse.py``).

References
----------
* H.-W. Dong, K. Chen, J. McAuley, T. Berg-Kirkpatrick, "MusPy: A toolkit for symbolic
  music generation", ISMIR 2020 (definitions of most metrics here).
* L.-C. Yang, A. Lerch, "On the evaluation of generative models in music", Neural
  Computing and Applications 32, 4773-4784, 2020 (comparing generated music with a
  corpus: per-feature distributions and their overlapping area).
* S.-L. Wu, Y.-H. Yang, "The Jazz Transformer on the front line: exploring the
  shortcomings of AI-composed music through quantitative measures", ISMIR 2020
  (pitch-class entropy, groove consistency).
* O. Mogren, "C-RNN-GAN: continuous recurrent neural networks with adversarial
  training", NeurIPS Constructive Machine Learning workshop, 2016 (scale consistency,
  polyphony).
* J. Foote, "Visualizing music and audio using self-similarity", ACM Multimedia 1999
  (self-similarity matrices).

Examples
--------
>>> import scoringkit as sk
>>> m = quality_metrics(sk.compose(sk.Emotion(0.7, 0.6), duration=12, seed=0))
>>> m["scale_consistency"] > 0.9, 0 < m["pitch_class_entropy"] < 3.59
(True, True)
"""

from __future__ import annotations

import math
import numbers
import os
from pathlib import Path

from ..errors import InputError
from ..types import Score

__all__ = ["quality_metrics", "compare_to_corpus", "comparison_markdown", "METRIC_NAMES", "RESOLUTION",
           "pitch_class_entropy", "scale_consistency", "pitch_range", "polyphony", "empty_beat_rate",
           "groove_consistency", "self_similarity", "repetition_rate"]

#: Grid steps per beat (quarter note) used to quantise time: 12 holds 16ths and triplets.
RESOLUTION = 12
#: The metrics :func:`quality_metrics` reports, in order.
METRIC_NAMES = ("pitch_class_entropy", "scale_consistency", "pitch_range", "polyphony", "empty_beat_rate",
                "groove_consistency", "self_similarity", "repetition_rate")
_MAJOR_STEPS = (0, 2, 4, 5, 7, 9, 11)
_MIDI_SUFFIXES = (".mid", ".midi", ".smf", ".kar")


# -- the notes as arrays, built once per score ----------------------------------------------------

class _Notes:
    """A score's notes as numpy arrays plus grids derived from them on demand."""

    def __init__(self, score: Score, who: str):
        import numpy as np

        rows = [(n.pitch, n.start, n.start + n.duration, t.is_drum, i)
                for i, t in enumerate(score.tracks) for n in t.notes]
        if not rows:
            raise InputError(f"{who} needs notes, but the score is empty (no notes in any track); "
                             "compose or load some music first")
        table = np.array(rows, dtype=float)
        self.pitch = table[:, 0].astype(np.int64)
        self.drum = table[:, 3].astype(bool)
        self.track = table[:, 4].astype(np.int64)
        self.on = np.rint(table[:, 1] * RESOLUTION).astype(np.int64)
        self.off = np.maximum(self.on + 1, np.rint(table[:, 2] * RESOLUTION).astype(np.int64))
        self.bar = max(1, int(round(score.beats_per_bar * RESOLUTION)))  # steps per bar
        self.n_steps = int(self.off.max())
        self.n_bars = -(-self.n_steps // self.bar)
        self.n_beats = -(-self.n_steps // RESOLUTION)
        self.n_pad = max(self.n_bars * self.bar, self.n_beats * RESOLUTION)  # grid length: whole bars and beats
        self._cache = {}

    @property
    def pitched(self):
        return ~self.drum

    def sounding(self):
        """Bool per step (``n_pad`` steps): does any note (drums included) sound?"""
        if "sounding" not in self._cache:
            import numpy as np

            diff = np.zeros(self.n_pad + 1, dtype=np.int64)
            np.add.at(diff, self.on, 1)
            np.add.at(diff, self.off, -1)
            self._cache["sounding"] = np.cumsum(diff)[:-1] > 0
        return self._cache["sounding"]

    def roll(self):
        """(``n_pad`` steps, distinct pitches) bool piano roll of the pitched notes, and those pitches."""
        if "roll" not in self._cache:
            import numpy as np

            keep = self.pitched
            pitches, column = np.unique(self.pitch[keep], return_inverse=True)
            diff = np.zeros((self.n_pad + 1, len(pitches)), dtype=np.int64)
            np.add.at(diff, (self.on[keep], column), 1)
            np.add.at(diff, (self.off[keep], column), -1)
            self._cache["roll"] = (np.cumsum(diff, axis=0)[:-1] > 0, pitches)
        return self._cache["roll"]


def _as_score(music, who: str) -> Score:
    if isinstance(music, Score):
        return music
    if isinstance(music, (str, os.PathLike)):
        path = Path(music)
        if not path.is_file():
            raise InputError(f"no such file: {str(path)!r}")
        if path.suffix.lower() not in _MIDI_SUFFIXES:
            raise InputError(f"{who} reads scores and MIDI files ({', '.join(_MIDI_SUFFIXES)}), not {path.name!r}; "
                             "transcribe audio to MIDI first")
        return Score.from_midi(path)
    raise InputError(f"{who} needs a Score or a MIDI file path, not {type(music).__name__}")


def _notes(music, who: str) -> _Notes:
    return music if isinstance(music, _Notes) else _Notes(_as_score(music, who), who)


# -- pitch metrics (drums left out) ----------------------------------------------------------------

def _pc_counts(notes: _Notes):
    import numpy as np

    return np.bincount(notes.pitch[notes.pitched] % 12, minlength=12).astype(float)


def pitch_class_entropy(score) -> float:
    r"""Shannon entropy of the pitch-class histogram, in bits.

    .. math:: H = -\sum_{i=0}^{11} P(\mathrm{pc}=i) \log_2 P(\mathrm{pc}=i)

    where :math:`P(\mathrm{pc}=i)` is the share of pitched notes (counted once each,
    whatever their length) whose pitch class is :math:`i`. 0 for music on one pitch
    class, :math:`\log_2 12 \approx 3.585` when all twelve are equally used; tonal music
    usually lies around 2.7-3.3 (Wu & Yang 2020; MusPy ``pitch_class_entropy``,
    Dong et al. 2020).

    Parameters
    ----------
    score : Score or path
        A score or a MIDI file.

    Returns
    -------
    float
        Bits in [0, log2 12]; NaN if the score has no pitched (non-drum) notes.

    Examples
    --------
    >>> import scoringkit as sk
    >>> chromatic = sk.Score([sk.Track("p", 0, [sk.Note(60 + i, i, 1) for i in range(12)])])
    >>> round(pitch_class_entropy(chromatic), 4)
    3.585
    """
    import numpy as np

    counts = _pc_counts(_notes(score, "pitch_class_entropy"))
    total = counts.sum()
    if total == 0:
        return math.nan
    p = counts[counts > 0] / total
    return float(max(0.0, -(p * np.log2(p)).sum()))


def scale_consistency(score) -> float:
    r"""Share of pitched notes that belong to the best-fitting major (or natural minor) scale.

    .. math:: \mathrm{SC} = \max_{r \in 0..11,\ m \in \{\mathrm{major}, \mathrm{minor}\}}
              \frac{\#\{\text{notes with pitch class in scale}(r, m)\}}{\#\{\text{notes}\}}

    A natural minor scale has the pitch classes of its relative major, so the maximum
    runs over the 12 diatonic sets. 1 for music that keeps to one scale (Mogren 2016;
    MusPy ``scale_consistency``, Dong et al. 2020).

    Parameters
    ----------
    score : Score or path

    Returns
    -------
    float
        In [0, 1] (at least 7/12 for any chromatic mix); NaN without pitched notes.

    Examples
    --------
    >>> import scoringkit as sk
    >>> scale = [60, 62, 64, 65, 67, 69, 71, 72]
    >>> c_major = sk.Score([sk.Track("p", 0, [sk.Note(p, i, 1) for i, p in enumerate(scale)])])
    >>> scale_consistency(c_major)
    1.0
    """
    import numpy as np

    counts = _pc_counts(_notes(score, "scale_consistency"))
    total = counts.sum()
    if total == 0:
        return math.nan
    template = np.zeros(12)
    template[list(_MAJOR_STEPS)] = 1.0
    scales = np.stack([np.roll(template, root) for root in range(12)])  # (12 roots, 12 pitch classes)
    return float((scales @ counts).max() / total)


def pitch_range(score) -> float:
    r"""Highest minus lowest pitch of the pitched notes, in semitones.

    .. math:: \mathrm{PR} = \max_n \mathrm{pitch}_n - \min_n \mathrm{pitch}_n

    (MusPy ``pitch_range``, Dong et al. 2020; Yang & Lerch 2020 "PR").

    Parameters
    ----------
    score : Score or path

    Returns
    -------
    float
        Semitones ≥ 0; NaN without pitched notes.

    Examples
    --------
    >>> import scoringkit as sk
    >>> pitch_range(sk.Score([sk.Track("p", 0, [sk.Note(48, 0, 1), sk.Note(72, 1, 1)])]))
    24.0
    """
    notes = _notes(score, "pitch_range")
    pitches = notes.pitch[notes.pitched]
    if pitches.size == 0:
        return math.nan
    return float(pitches.max() - pitches.min())


def polyphony(score) -> float:
    r"""Mean number of distinct pitches sounding together, over the time when any pitch sounds.

    .. math:: \mathrm{poly} = \frac{\sum_t |P_t|}{\#\{t : |P_t| > 0\}}

    with :math:`P_t` the set of pitches sounding at grid step :math:`t`
    (:data:`RESOLUTION` steps per beat). Rests do not pull the value down (MusPy
    ``polyphony``, Dong et al. 2020). 1 for a melody alone, 3 for block triads.

    Parameters
    ----------
    score : Score or path

    Returns
    -------
    float
        ≥ 1; NaN without pitched notes.

    Examples
    --------
    >>> import scoringkit as sk
    >>> triads = sk.Score([sk.Track("p", 0, [sk.Note(p, b, 1) for b in range(4) for p in (60, 64, 67)])])
    >>> polyphony(triads)
    3.0
    """
    notes = _notes(score, "polyphony")
    if not notes.pitched.any():
        return math.nan
    roll, _ = notes.roll()
    active = roll.sum(axis=1)
    return float(active[active > 0].mean())


# -- rhythm metrics (drums included) ---------------------------------------------------------------

def empty_beat_rate(score) -> float:
    r"""Share of beats in which no note sounds (drums count as sound).

    .. math:: \mathrm{EBR} = \frac{\#\{\text{beats in which no note sounds}\}}{B},
              \qquad B = \lceil \text{end of the last note, in beats} \rceil

    A beat is a quarter note; a held note fills every beat it spans (MusPy
    ``empty_beat_rate``, Dong et al. 2020, after Pypianoroll).

    Parameters
    ----------
    score : Score or path

    Returns
    -------
    float
        In [0, 1).

    Examples
    --------
    >>> import scoringkit as sk
    >>> empty_beat_rate(sk.Score([sk.Track("p", 0, [sk.Note(60, 0, 1), sk.Note(62, 3, 1)])]))
    0.5
    """
    notes = _notes(score, "empty_beat_rate")
    sounding = notes.sounding()[: notes.n_beats * RESOLUTION].reshape(notes.n_beats, RESOLUTION).any(axis=1)
    return float(1.0 - sounding.mean())


def groove_consistency(score) -> float:
    r"""How steadily the onset pattern repeats from bar to bar; a silent bar breaks the groove.

    With :math:`G_b \in \{0, 1\}^Q` the onset pattern of bar :math:`b` (a 1 at each of
    the :math:`Q` grid steps of the bar where any note, drums included, starts):

    .. math:: \mathrm{GC} = \frac{1}{T - 1} \sum_{b=1}^{T-1} s_b, \qquad
              s_b = \begin{cases} 0 & \text{if bar } b \text{ or } b+1 \text{ is silent} \\
                    1 - d_H(G_b, G_{b+1}) / Q & \text{otherwise} \end{cases}

    over the :math:`T` bars from beat 0 to the last note, :math:`d_H` the Hamming
    distance (Wu & Yang 2020; MusPy ``groove_consistency``, Dong et al. 2020).

    **Silent bars** (no note sounds at all) are the one change from MusPy: there, two
    silent bars have identical (empty) patterns and count as perfectly consistent, so a
    generator that falls silent is rewarded. Here a pair with a silent bar scores 0: a
    silence is no groove, so a stretch of silence counts as a break, and music that
    dies out mid-way scores low. A bar whose only sound is a note held over from the
    bar before is not silent; its empty onset pattern is compared as usual.

    Parameters
    ----------
    score : Score or path

    Returns
    -------
    float
        In [0, 1]; NaN for a score of one bar (no neighbours to compare).

    Examples
    --------
    >>> import scoringkit as sk
    >>> bar = [0.0, 1.0, 1.5, 2.0, 3.0]
    >>> steady = sk.Score([sk.Track("p", 0, [sk.Note(60, b * 4 + t, 0.5) for b in range(4) for t in bar])])
    >>> groove_consistency(steady)
    1.0
    >>> gap = sk.Score([sk.Track("p", 0, [sk.Note(60, b * 4 + t, 0.5) for b in (0, 2) for t in bar])])
    >>> groove_consistency(gap)   # bar 2 is silent: both of its pairs score 0
    0.0
    """
    import numpy as np

    notes = _notes(score, "groove_consistency")
    if notes.n_bars < 2:
        return math.nan
    pattern = np.zeros((notes.n_bars, notes.bar), dtype=bool)
    pattern[notes.on // notes.bar, notes.on % notes.bar] = True
    silent = ~notes.sounding()[: notes.n_bars * notes.bar].reshape(notes.n_bars, notes.bar).any(axis=1)
    similarity = 1.0 - (pattern[:-1] != pattern[1:]).sum(axis=1) / notes.bar
    similarity[silent[:-1] | silent[1:]] = 0.0
    return float(similarity.mean())


# -- structure metrics -----------------------------------------------------------------------------

def self_similarity(score, *, matrix: bool = False):
    r"""Mean cosine similarity between the chroma vectors of every two bars (pitched notes).

    Each bar :math:`b` gets a 12-bin pitch-class vector :math:`c_b` (grid steps each pitch
    class sounds in that bar); bars without pitched notes are left out; with
    :math:`\hat c_b = c_b / \lVert c_b \rVert` and the self-similarity matrix
    :math:`S = \hat C \hat C^\top` (Foote 1999),

    .. math:: \mathrm{SS} = \frac{1}{K(K-1)} \sum_{i \ne j} S_{ij}

    over the :math:`K` non-empty bars. Near 1: every bar uses the same pitch classes
    (a drone, one chord); tonal music with a chord progression lies around 0.5-0.8;
    values well below a corpus's mean mean the music wanders without returning.

    Parameters
    ----------
    score : Score or path
    matrix : bool
        Also return the K x K matrix ``S`` (for a figure).

    Returns
    -------
    float, or (float, ndarray) with ``matrix=True``
        In [0, 1]; NaN when fewer than two bars hold pitched notes.

    Examples
    --------
    >>> import scoringkit as sk
    >>> same = sk.Score([sk.Track("p", 0, [sk.Note(p, 4 * b, 4) for b in range(3) for p in (60, 64, 67)])])
    >>> round(self_similarity(same), 6)
    1.0
    """
    import numpy as np

    notes = _notes(score, "self_similarity")
    if not notes.pitched.any():
        return (math.nan, np.zeros((0, 0))) if matrix else math.nan
    roll, pitches = notes.roll()
    per_bar = roll[: notes.n_bars * notes.bar].reshape(notes.n_bars, notes.bar, len(pitches)).sum(axis=1).astype(float)
    chroma = per_bar @ (np.arange(12)[None, :] == (pitches % 12)[:, None]).astype(float)
    norms = np.linalg.norm(chroma, axis=1)
    unit = chroma[norms > 0] / norms[norms > 0, None]
    k = len(unit)
    sim = unit @ unit.T
    value = math.nan if k < 2 else float(np.clip((sim.sum() - np.trace(sim)) / (k * (k - 1)), 0.0, 1.0))
    return (value, sim) if matrix else value


def repetition_rate(score, *, n: int = 4) -> float:
    r"""Share of note n-grams that were already heard earlier in the same track.

    Each pitched track is read as a sequence of notes ordered by onset (then pitch), and
    note :math:`k` becomes the token :math:`(p_k - p_{k-1},\ o_k - o_{k-1},\ d_k)`:
    interval in semitones, inter-onset interval and length in grid steps. So a motif
    repeated on another degree (a sequence) still counts as a repetition. With
    :math:`N` the number of token n-grams summed over tracks and :math:`U` the number of
    distinct n-grams per track (summed),

    .. math:: \mathrm{RR} = \frac{N - U}{N}

    0 when nothing recurs; near 1 for a loop. Songs sit in between: repetition with
    variation is what gives music structure (compare with a corpus rather than read
    the number alone). An n-gram statistic defined for scoringkit, in the spirit of the
    self-similarity view (Foote 1999) and of comparing such features to a corpus
    (Yang & Lerch 2020).

    Parameters
    ----------
    score : Score or path
    n : int
        Tokens per n-gram (≥ 1); 4 tokens = 5 notes, about a motif.

    Returns
    -------
    float
        In [0, 1); NaN when no pitched track has ``n + 1`` notes.

    Examples
    --------
    >>> import scoringkit as sk
    >>> motif = [(60, 1), (62, 1), (64, 2)]
    >>> loop = [sk.Note(p + 2 * (k % 2), 4 * k + t, d) for k in range(4) for t, (p, d) in enumerate(motif)]
    >>> round(repetition_rate(sk.Score([sk.Track("p", 0, loop)]), n=2), 3)
    0.5
    """
    import numpy as np
    from numpy.lib.stride_tricks import sliding_window_view

    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise InputError(f"n must be an integer >= 1 (tokens per n-gram), got {n!r}")
    notes = _notes(score, "repetition_rate")
    total = distinct = 0
    for track in np.unique(notes.track[notes.pitched]):
        mask = (notes.track == track) & notes.pitched
        order = np.lexsort((notes.pitch[mask], notes.on[mask]))
        pitch, on, off = notes.pitch[mask][order], notes.on[mask][order], notes.off[mask][order]
        if len(pitch) < n + 1:
            continue
        interval, ioi, length = np.diff(pitch) + 128, np.minimum(np.diff(on), 4095), np.minimum((off - on)[1:], 4095)
        token = (interval * 4096 + ioi) * 4096 + length   # one int64 per (interval, IOI, length)
        grams = sliding_window_view(token, n)
        total += len(grams)
        distinct += len(np.unique(grams, axis=0))
    return math.nan if total == 0 else float((total - distinct) / total)


# -- all at once, and against a corpus -------------------------------------------------------------

def quality_metrics(score) -> dict:
    """Every metric of :data:`METRIC_NAMES` for one score, computed from one pass over its notes.

    Parameters
    ----------
    score : Score or path
        A score or a MIDI file.

    Returns
    -------
    dict of str to float
        Metric name → value (NaN where undefined; see the module docstring).

    Raises
    ------
    InputError
        The score is empty (no notes in any track), or is not a Score or MIDI path.

    Examples
    --------
    >>> import scoringkit as sk
    >>> m = quality_metrics(sk.Score([sk.Track("p", 0, [sk.Note(60 + i, i, 1) for i in range(12)])]))
    >>> list(m) == list(METRIC_NAMES), m["polyphony"], m["empty_beat_rate"]
    (True, 1.0, 0.0)
    """
    notes = _notes(score, "quality_metrics")
    functions = (pitch_class_entropy, scale_consistency, pitch_range, polyphony, empty_beat_rate,
                 groove_consistency, self_similarity, repetition_rate)
    return {f.__name__: f(notes) for f in functions}


def compare_to_corpus(scores, corpus) -> dict:
    r"""Each metric of generated ``scores`` next to a reference ``corpus``: means, spreads, overlap.

    For every metric of :data:`METRIC_NAMES`, with :math:`x` the values over ``scores``
    and :math:`y` over ``corpus`` (NaNs left out):

    * ``mean``, ``std``, ``n`` and ``corpus_mean``, ``corpus_std``, ``corpus_n``
      (sample standard deviation, ``ddof=1``; 0 for a single value);
    * ``overlap``: the overlapping area of the two distributions (Yang & Lerch 2020),

      .. math:: \mathrm{OA} = \int \min(\hat f_x(t), \hat f_y(t))\, dt \in [0, 1],

      with :math:`\hat f` Gaussian kernel density estimates sharing one bandwidth, the
      larger of the two sets' Silverman bandwidths :math:`1.06\,\sigma\,n^{-1/5}` and at
      least 5 % of the pooled standard deviation (so both are smoothed alike, and a
      constant set, e.g. a generator that never leaves an empty beat, becomes a bump
      as wide as the other set's instead of a spike that overlaps nothing). 1 = the
      same distribution, 0 = disjoint; 1 when both sets hold one and the same constant;
    * ``effect_size``: the standardised mean difference (Cohen's d)
      :math:`(\bar x - \bar y) / s_p`, :math:`s_p` the pooled standard deviation; its
      sign says in which direction the generated music differs (0 when both sets are
      the same constant, ±inf when they are different constants).

    Parameters
    ----------
    scores, corpus : iterable, or a folder
        Scores, MIDI paths, or dicts already returned by :func:`quality_metrics`; a
        folder path means every MIDI file in it (sorted by name). For instance the
        EMOPIA MIDI folder or music21's Bach chorales converted to scores.

    Returns
    -------
    dict
        Metric name → dict of the statistics above. :func:`comparison_markdown` prints it.

    Raises
    ------
    InputError
        Either set is empty, or one of its items is empty or unreadable (the message
        names its position).

    Examples
    --------
    >>> import scoringkit as sk
    >>> mine = [sk.compose(sk.Emotion(0.5, 0.5), duration=8, seed=s) for s in range(4)]
    >>> ref = [sk.compose(sk.Emotion(-0.5, -0.5), duration=8, seed=s) for s in range(4)]
    >>> table = compare_to_corpus(mine, ref)
    >>> sorted(table["polyphony"])
    ['corpus_mean', 'corpus_n', 'corpus_std', 'effect_size', 'mean', 'n', 'overlap', 'std']
    >>> compare_to_corpus(mine, mine)["scale_consistency"]["overlap"]
    1.0
    """
    import numpy as np

    x = _metric_table(scores, "scores")
    y = _metric_table(corpus, "corpus")
    result = {}
    for name in METRIC_NAMES:
        a = np.array([row[name] for row in x], dtype=float)
        b = np.array([row[name] for row in y], dtype=float)
        a, b = a[np.isfinite(a)], b[np.isfinite(b)]
        result[name] = {
            "mean": _mean(a), "std": _std(a), "n": int(a.size),
            "corpus_mean": _mean(b), "corpus_std": _std(b), "corpus_n": int(b.size),
            "overlap": _overlap(a, b), "effect_size": _cohens_d(a, b),
        }
    return result


def comparison_markdown(comparison: dict) -> str:
    """A Markdown table of :func:`compare_to_corpus`'s result (one row per metric).

    Examples
    --------
    >>> row = {"mean": 1.0, "std": 0.1, "n": 3, "corpus_mean": 1.2, "corpus_std": 0.2, "corpus_n": 5,
    ...        "overlap": 0.5, "effect_size": -1.2}
    >>> print(comparison_markdown({"polyphony": row}).splitlines()[2])
    | polyphony | 1.000 ± 0.100 (3) | 1.200 ± 0.200 (5) | 0.500 | -1.20 |
    """
    lines = ["| metric | generated mean ± std (n) | corpus mean ± std (n) | overlap | effect size |",
             "|---|---:|---:|---:|---:|"]
    for name, r in comparison.items():
        lines.append(f"| {name} | {r['mean']:.3f} ± {r['std']:.3f} ({r['n']}) | "
                     f"{r['corpus_mean']:.3f} ± {r['corpus_std']:.3f} ({r['corpus_n']}) | "
                     f"{r['overlap']:.3f} | {r['effect_size']:.2f} |")
    return "\n".join(lines)


def _metric_table(items, what: str) -> list:
    if isinstance(items, (str, os.PathLike)):
        folder = Path(items)
        if not folder.is_dir():
            raise InputError(f"{what}: {str(folder)!r} is not a folder; "
                             "give a folder of MIDI files or a list of scores")
        items = sorted(p for p in folder.iterdir() if p.suffix.lower() in _MIDI_SUFFIXES)
    if isinstance(items, (Score, dict)):
        raise InputError(f"{what} must be a collection of scores (a list), not a single {type(items).__name__}")
    rows = []
    for index, item in enumerate(items):
        if isinstance(item, dict):
            missing = [name for name in METRIC_NAMES if name not in item]
            if missing:
                raise InputError(f"{what}[{index}] is a dict without {missing}; pass quality_metrics(score) dicts")
            rows.append(item)
            continue
        try:
            rows.append(quality_metrics(item))
        except InputError as err:
            raise InputError(f"{what}[{index}]: {err}") from None
    if not rows:
        raise InputError(f"{what} is empty; give at least one score (a Score, a MIDI path or a folder of MIDI files)")
    return rows


def _mean(a) -> float:
    return float(a.mean()) if a.size else math.nan


def _std(a) -> float:
    return float(a.std(ddof=1)) if a.size > 1 else (0.0 if a.size else math.nan)


def _cohens_d(a, b) -> float:
    import numpy as np

    if a.size == 0 or b.size == 0:
        return math.nan
    dof = a.size + b.size - 2
    pooled = math.sqrt(((a.size - 1) * _std(a) ** 2 + (b.size - 1) * _std(b) ** 2) / dof) if dof > 0 else 0.0
    diff = float(a.mean() - b.mean())
    if pooled > 0:
        return diff / pooled
    return 0.0 if abs(diff) < 1e-12 else float(np.sign(diff) * math.inf)


def _overlap(a, b) -> float:
    import numpy as np

    if a.size == 0 or b.size == 0:
        return math.nan
    both = np.concatenate([a, b])
    spread = float(both.std())
    if spread < 1e-12:
        return 1.0
    floor = 0.05 * spread

    def bandwidth(v):
        return max(1.06 * _std(v) * v.size ** -0.2, floor)

    h = max(bandwidth(a), bandwidth(b))
    pad = 5 * h
    grid = np.linspace(both.min() - pad, both.max() + pad, 2048)

    def density(v, h):
        z = (grid[:, None] - v[None, :]) / h
        return np.exp(-0.5 * z * z).sum(axis=1) / (v.size * h * math.sqrt(2 * math.pi))

    area = np.minimum(density(a, h), density(b, h))
    step = grid[1] - grid[0]
    return float(min(1.0, max(0.0, step * (area.sum() - 0.5 * (area[0] + area[-1])))))
