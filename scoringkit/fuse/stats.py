r"""Small statistics for evaluation reports: intervals, an exact binomial test, rater agreement.

Pure functions on counts and lists of numbers, used by :mod:`scoringkit.fuse.evaluation`
(quadrant accuracy of a generator) and :mod:`scoringkit.fuse.listening` (listening tests).

=====================  ==========================================================================
function               what
=====================  ==========================================================================
``wilson_interval``    confidence interval of a proportion ``k / n`` (Wilson score interval)
``mean_interval``      mean of ratings with its Student-t confidence interval
``binomial_p_value``   exact two-sided binomial test of ``k`` successes in ``n`` against ``p``
``fleiss_kappa``       chance-corrected agreement of several raters on categories (Fleiss' kappa)
``percent_agreement``  share of agreeing rater pairs, averaged over items (no chance correction)
=====================  ==========================================================================

References
----------
* E. B. Wilson, "Probable inference, the law of succession, and statistical inference",
  JASA 22, 209-212, 1927.
* A. Agresti, B. A. Coull, "Approximate is better than 'exact' for interval estimation of
  binomial proportions", The American Statistician 52, 119-126, 1998 (why Wilson and not
  the textbook ``p ± z·sqrt(p(1-p)/n)``, which collapses to a point at 0 and 1 and covers
  far less than 95 % for small ``n``).
* J. L. Fleiss, "Measuring nominal scale agreement among many raters", Psychological
  Bulletin 76, 378-382, 1971.

Examples
--------
>>> [round(x, 4) for x in wilson_interval(8, 10)]
[0.4902, 0.9433]
>>> round(binomial_p_value(9, 10), 4)
0.0215
"""

from __future__ import annotations

import math
import numbers

from ..errors import InputError

__all__ = ["wilson_interval", "mean_interval", "binomial_p_value", "fleiss_kappa", "percent_agreement"]


def _z(confidence: float) -> float:
    """Two-sided standard-normal quantile for ``confidence`` (1.959964 for 0.95)."""
    from statistics import NormalDist

    _check_confidence(confidence)
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def _check_confidence(confidence) -> float:
    if isinstance(confidence, bool) or not isinstance(confidence, numbers.Real) or not 0 < confidence < 1:
        raise InputError(f"confidence must be a number between 0 and 1 (e.g. 0.95), got {confidence!r}")
    return float(confidence)


def _check_count(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise InputError(f"{what} must be a whole number >= 0, got {value!r}")
    return int(value)


def wilson_interval(k: int, n: int, *, confidence: float = 0.95) -> tuple:
    r"""Wilson score interval of a proportion: ``k`` successes out of ``n`` trials.

    With :math:`\hat p = k / n` and :math:`z` the two-sided normal quantile
    (1.96 for 95 %):

    .. math::

        \frac{\hat p + \frac{z^2}{2n}}{1 + \frac{z^2}{n}} \pm
        \frac{z}{1 + \frac{z^2}{n}} \sqrt{\frac{\hat p (1 - \hat p)}{n} + \frac{z^2}{4 n^2}}

    It stays inside [0, 1], is not a single point at 0 or 1, and covers close to the
    nominal level even for a dozen trials (Agresti & Coull 1998), which is the size of
    a classroom listening test.

    Parameters
    ----------
    k, n : int
        Successes and trials, ``0 <= k <= n``.
    confidence : float
        Coverage, default 0.95.

    Returns
    -------
    tuple of float
        ``(low, high)``; ``(nan, nan)`` when ``n == 0`` (no data, no interval).

    Raises
    ------
    InputError
        ``k`` or ``n`` negative or not whole numbers, ``k > n``, or ``confidence``
        outside (0, 1).

    Examples
    --------
    >>> [round(x, 4) for x in wilson_interval(0, 10)]
    [0.0, 0.2775]
    >>> [round(x, 4) for x in wilson_interval(5, 10)]
    [0.2366, 0.7634]
    >>> wilson_interval(0, 0)
    (nan, nan)
    """
    k, n = _check_count(k, "k"), _check_count(n, "n")
    if k > n:
        raise InputError(f"k ({k}) cannot exceed n ({n}): k counts successes among n trials")
    z = _z(confidence)
    if n == 0:
        return (math.nan, math.nan)
    p = k / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (max(0.0, centre - half), min(1.0, centre + half))


def mean_interval(values, *, confidence: float = 0.95) -> dict:
    r"""Mean of ``values`` with its Student-t confidence interval.

    .. math:: \bar x \pm t_{1 - \alpha/2,\; n - 1} \; \frac{s}{\sqrt n}

    with :math:`s` the sample standard deviation (``ddof=1``). The t interval assumes the
    mean is roughly normal; for 1-5 ratings it is the usual choice in listening tests
    (e.g. MUSHRA reports, ITU-R BS.1534) and is close to a bootstrap interval from about
    ten ratings on. NaNs are left out.

    Parameters
    ----------
    values : iterable of float
    confidence : float
        Coverage, default 0.95.

    Returns
    -------
    dict
        ``{"n", "mean", "sd", "low", "high"}``; ``mean`` is NaN without values, ``sd``,
        ``low`` and ``high`` are NaN with fewer than two (one rating has no spread).

    Examples
    --------
    >>> r = mean_interval([4, 5, 3, 4, 4])
    >>> r["n"], r["mean"], round(r["sd"], 4), round(r["low"], 3), round(r["high"], 3)
    (5, 4.0, 0.7071, 3.122, 4.878)
    >>> mean_interval([3])["high"]
    nan
    """
    from scipy.stats import t as student_t

    confidence = _check_confidence(confidence)
    try:
        numbers_ = [float(v) for v in values]
    except (TypeError, ValueError):
        raise InputError("values must be numbers (e.g. ratings from 1 to 5)") from None
    numbers_ = [v for v in numbers_ if not math.isnan(v)]
    n = len(numbers_)
    if n == 0:
        return {"n": 0, "mean": math.nan, "sd": math.nan, "low": math.nan, "high": math.nan}
    mean = sum(numbers_) / n
    if n == 1:
        return {"n": 1, "mean": mean, "sd": math.nan, "low": math.nan, "high": math.nan}
    sd = math.sqrt(sum((v - mean) ** 2 for v in numbers_) / (n - 1))
    half = float(student_t.ppf(0.5 + confidence / 2, n - 1)) * sd / math.sqrt(n)
    return {"n": n, "mean": mean, "sd": sd, "low": mean - half, "high": mean + half}


def binomial_p_value(k: int, n: int, *, p: float = 0.5) -> float:
    r"""Exact two-sided binomial test: how surprising are ``k`` successes in ``n`` if the rate is ``p``?

    The p-value sums the probabilities of every outcome no more likely than the one
    observed, :math:`\sum_{i:\,P(i) \le P(k)} \binom{n}{i} p^i (1-p)^{n-i}` (the
    definition of ``scipy.stats.binomtest``), with a relative tolerance of 1e-7 for ties.
    For a preference test ``p = 0.5``: "the listeners choose at random".

    Returns
    -------
    float
        In [0, 1]; 1.0 when ``n == 0``.

    Examples
    --------
    >>> binomial_p_value(5, 10)
    1.0
    >>> round(binomial_p_value(10, 10), 5)
    0.00195
    """
    k, n = _check_count(k, "k"), _check_count(n, "n")
    if k > n:
        raise InputError(f"k ({k}) cannot exceed n ({n})")
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p <= 1:
        raise InputError(f"p must be a probability in [0, 1], got {p!r}")
    if n == 0:
        return 1.0

    def pmf(i: int) -> float:
        if p in (0, 1):
            return float(i == (n if p == 1 else 0))
        return math.exp(math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1)
                        + i * math.log(p) + (n - i) * math.log1p(-p))

    observed = pmf(k)
    total = math.fsum(q for q in map(pmf, range(n + 1)) if q <= observed * (1 + 1e-7))
    return min(1.0, round(total, 12))  # round off the last bits of log-space arithmetic


def _counts_matrix(counts):
    rows = []
    for index, row in enumerate(counts):
        try:
            values = [_check_count(v, f"counts[{index}]") for v in row]
        except TypeError:
            raise InputError("counts must be a table: one row per item, one count per category") from None
        rows.append(values)
    if rows and len({len(r) for r in rows}) != 1:
        raise InputError("every row of counts must have one count per category (rows of equal length)")
    return rows


def fleiss_kappa(counts) -> float:
    r"""Fleiss' kappa: agreement of several raters putting items into categories, beyond chance.

    ``counts[i][j]`` is how many raters put item ``i`` into category ``j``. With
    :math:`n_i = \sum_j n_{ij}` raters of item ``i`` (items with fewer than two are left
    out: one rater cannot agree with anyone):

    .. math::

        P_i = \frac{\sum_j n_{ij}^2 - n_i}{n_i (n_i - 1)}, \qquad
        \bar P = \frac{1}{N} \sum_i P_i, \qquad
        p_j = \frac{\sum_i n_{ij}}{\sum_i n_i}, \qquad
        \bar P_e = \sum_j p_j^2, \qquad
        \kappa = \frac{\bar P - \bar P_e}{1 - \bar P_e}

    :math:`P_i` is the share of rater pairs that agree on item ``i``, :math:`\bar P_e` the
    agreement expected by chance. Fleiss (1971) has the same number of raters for every
    item; with unequal numbers this is the usual generalisation (each item weighs the
    same). 1 = perfect agreement, 0 = what chance gives, < 0 = worse than chance; by the
    often-quoted scale of Landis & Koch (1977) 0.21-0.40 is "fair", 0.41-0.60
    "moderate".

    Returns
    -------
    float
        Kappa; NaN when no item has two raters, or when every rating falls into one
        category (:math:`\bar P_e = 1`: agreement cannot be told from chance).

    Examples
    --------
    The example of Fleiss' kappa on Wikipedia: 10 items, 14 raters, 5 categories.

    >>> table = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
    ...          [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]
    >>> round(fleiss_kappa(table), 3), round(percent_agreement(table), 3)
    (0.21, 0.378)
    """
    rows = [r for r in _counts_matrix(counts) if sum(r) >= 2]
    if not rows:
        return math.nan
    observed = percent_agreement(rows)
    total = sum(sum(r) for r in rows)
    shares = [sum(r[j] for r in rows) / total for j in range(len(rows[0]))]
    chance = sum(s * s for s in shares)
    if chance >= 1 - 1e-12:
        return math.nan
    return (observed - chance) / (1 - chance)


def percent_agreement(counts) -> float:
    r"""Mean share of agreeing rater pairs per item, :math:`\bar P` of :func:`fleiss_kappa`.

    Easy to read ("two listeners picked the same answer 60 % of the time") but not
    corrected for chance: with 4 answers chosen at random, pairs agree 25 % of the time.

    Returns
    -------
    float
        In [0, 1]; NaN when no item has two raters.

    Examples
    --------
    >>> percent_agreement([[2, 0], [1, 1], [3, 0]])
    0.6666666666666666
    """
    rows = [r for r in _counts_matrix(counts) if sum(r) >= 2]
    if not rows:
        return math.nan
    shares = [(sum(v * v for v in r) - sum(r)) / (sum(r) * (sum(r) - 1)) for r in rows]
    return sum(shares) / len(shares)
