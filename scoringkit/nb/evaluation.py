"""Figures of evaluation reports (notebook 08): confusion matrices, metric tables, listening tests.

Each function takes the plain data returned by a function of :mod:`scoringkit.fuse` and
returns a plotly figure, so a test (or you) can inspect it; the names are re-exported by
:mod:`scoringkit.nb` (``sk.nb.confusion_figure(...)``).

=====================  ==========================================================================
function               shows
=====================  ==========================================================================
``confusion_figure``   intended against estimated quadrant (:func:`~scoringkit.fuse.quadrant_confusion`,
                       or the ``evaluate`` dict of :mod:`scoringkit.fuse.train`), counts and row shares
``metrics_figure``     one panel per quality metric, one bar (mean ± standard deviation) per set of
                       scores (:func:`~scoringkit.fuse.metric_table`)
``listening_figure``   a listening test's mean fit rating and identification accuracy per setting,
                       with 95 % intervals (:func:`~scoringkit.fuse.summarize_listening`)
=====================  ==========================================================================

Examples
--------
>>> import scoringkit.nb
>>> fig = scoringkit.nb.confusion_figure([[5, 1, 0, 0], [0, 6, 0, 0], [0, 0, 4, 2], [1, 0, 0, 5]])
>>> fig.data[0].type, fig.data[0].text[0][0]
('heatmap', '5<br>83%')
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from ..errors import InputError
from ..types import QUADRANT_NAMES

__all__ = ["confusion_figure", "metrics_figure", "listening_figure", "SET_COLOURS"]

#: Bar colours of the sets (generators, settings, corpora) in :func:`metrics_figure` and
#: :func:`listening_figure`, in order.
SET_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#17becf")


def _confusion_matrix(confusion):
    source = confusion.get("confusion") if isinstance(confusion, Mapping) else confusion
    try:
        rows = [[float(v) for v in row] for row in source]
    except (TypeError, ValueError):
        rows = None
    if rows is None or len(rows) != 4 or any(len(r) != 4 for r in rows) \
            or any(not math.isfinite(v) or v < 0 for r in rows for v in r):
        raise InputError("confusion must be a 4 × 4 table of counts >= 0 (rows: intended Q1..Q4, columns: "
                         "estimated), or the dict returned by scoringkit.fuse.quadrant_confusion")
    return rows


def confusion_figure(confusion, *, title=None, height: int = 420):
    """Heatmap of a quadrant confusion matrix: intended quadrant down, estimated across.

    Each cell shows its count and its share of the row (of the pieces meant for that
    quadrant, how many were heard in each); the colour is that share, so rows with
    different numbers of pieces compare fairly. A perfect generator lights the diagonal.

    Parameters
    ----------
    confusion : dict or 4 × 4 array-like
        The dict of :func:`scoringkit.fuse.quadrant_confusion` (or of
        :func:`scoringkit.fuse.train.evaluate`: any dict with a ``"confusion"`` entry), or
        the matrix itself, rows = intended Q1..Q4, columns = estimated Q1..Q4.
    title : str, optional
        Default: the setting's name and its accuracy when the dict gives them.
    height : int
        Pixels.

    Returns
    -------
    plotly.graph_objects.Figure
        One heatmap trace named ``"confusion"``: ``z`` the row shares, ``customdata`` the
        counts, ``text`` "count<br>share".

    Raises
    ------
    InputError
        Not a 4 × 4 table of non-negative numbers.

    Examples
    --------
    >>> import scoringkit as sk
    >>> import scoringkit.fuse
    >>> import scoringkit.nb
    >>> result = sk.fuse.quadrant_confusion(seeds=2, duration=6)
    >>> fig = sk.nb.confusion_figure(result)
    >>> [round(sum(row), 6) for row in fig.data[0].z], fig.layout.title.text.startswith("rules: ")
    ([1.0, 1.0, 1.0, 1.0], True)
    """
    import plotly.graph_objects as go

    rows = _confusion_matrix(confusion)
    shares = [[v / sum(r) if sum(r) else 0.0 for v in r] for r in rows]
    text = [[f"{v:g}<br>{s:.0%}" for v, s in zip(r, sr)] for r, sr in zip(rows, shares)]
    names = [f"Q{q} {QUADRANT_NAMES[q]}" for q in (1, 2, 3, 4)]
    if title is None:
        total = sum(map(sum, rows))
        accuracy = sum(rows[i][i] for i in range(4)) / total if total else math.nan
        name = confusion.get("name") if isinstance(confusion, Mapping) else None
        title = (f"{name}: " if name else "") + f"intended vs estimated quadrant, accuracy {accuracy:.0%}"
        if isinstance(confusion, Mapping) and "accuracy_ci" in confusion:
            low, high = confusion["accuracy_ci"]
            title += f" (95% CI {low:.0%}–{high:.0%}, n = {total:g})"
    fig = go.Figure(go.Heatmap(
        z=shares, x=names, y=names, customdata=rows, text=text, texttemplate="%{text}", name="confusion",
        colorscale="Blues", zmin=0, zmax=1, colorbar={"title": "share of row", "tickformat": ".0%"},
        hovertemplate="intended %{y}<br>estimated %{x}<br>%{customdata:g} pieces (%{z:.0%} of the row)<extra></extra>",
    ))
    fig.update_layout(
        title=title, height=height,
        xaxis={"title": "estimated by music_emotion", "side": "bottom"},
        yaxis={"title": "intended", "autorange": "reversed"},
        margin={"t": 60, "b": 60, "l": 150, "r": 20},
    )
    return fig


def metrics_figure(rows, *, metrics=None, columns: int = 4, height=None):
    """One small bar chart per quality metric, one bar (mean ± std) per set of scores.

    Parameters
    ----------
    rows : list of dict
        From :func:`scoringkit.fuse.metric_table`.
    metrics : list of str, optional
        Which metrics, in order (default: all in the rows).
    columns : int
        Panels per row of the grid.
    height : int, optional
        Pixels; default 260 per row of panels.

    Returns
    -------
    plotly.graph_objects.Figure
        For each metric one bar trace per set, named after the set (the legend shows each
        set once); error bars are the standard deviations, the hover gives ``n`` and, when
        the rows carry one, the overlap with the reference set.

    Raises
    ------
    InputError
        Empty rows, rows that are not :func:`~scoringkit.fuse.metric_table`'s, or an
        unknown metric.

    Examples
    --------
    >>> import scoringkit.nb
    >>> rows = [{"name": n, "metric": m, "mean": v, "std": 0.1, "n": 3, "overlap": float("nan"),
    ...          "effect_size": float("nan")}
    ...         for n, v in (("a", 1.0), ("b", 2.0)) for m in ("polyphony", "pitch_range")]
    >>> fig = scoringkit.nb.metrics_figure(rows)
    >>> [(t.name, t.y[0]) for t in fig.data]
    [('a', 1.0), ('b', 2.0), ('a', 1.0), ('b', 2.0)]
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    needed = {"name", "metric", "mean", "std", "n"}
    if not rows or not all(isinstance(r, Mapping) and needed <= set(r) for r in rows):
        raise InputError("metrics_figure needs the rows of scoringkit.fuse.metric_table(...) (dicts with "
                         f"{sorted(needed)})")
    names = list(dict.fromkeys(r["name"] for r in rows))
    available = list(dict.fromkeys(r["metric"] for r in rows))
    chosen = available if metrics is None else list(metrics)
    unknown = [m for m in chosen if m not in available]
    if unknown or not chosen:
        raise InputError(f"unknown metric(s) {unknown}; the rows have {available}")
    if isinstance(columns, bool) or not isinstance(columns, int) or columns < 1:
        raise InputError(f"columns must be a whole number >= 1, got {columns!r}")
    by_key = {(r["name"], r["metric"]): r for r in rows}
    cols = min(columns, len(chosen))
    grid = math.ceil(len(chosen) / cols)
    fig = make_subplots(rows=grid, cols=cols, subplot_titles=[m.replace("_", " ") for m in chosen],
                        horizontal_spacing=0.06, vertical_spacing=0.16 if grid > 1 else 0.1)
    for position, metric in enumerate(chosen):
        row, col = divmod(position, cols)
        for k, name in enumerate(names):
            r = by_key.get((name, metric))
            if r is None:
                continue
            overlap = r.get("overlap", math.nan)
            extra = "" if overlap is None or math.isnan(overlap) else f"<br>overlap with reference {overlap:.2f}"
            fig.add_trace(go.Bar(
                x=[name], y=[r["mean"]], name=name, legendgroup=name, showlegend=position == 0,
                marker={"color": SET_COLOURS[k % len(SET_COLOURS)]},
                error_y={"type": "data", "array": [0.0 if math.isnan(r["std"]) else r["std"]], "visible": True},
                hovertemplate=(f"<b>{name}</b><br>{metric}: %{{y:.3f}} ± {r['std']:.3f}<br>n = {r['n']}{extra}"
                               "<extra></extra>"),
            ), row=row + 1, col=col + 1)
        fig.update_xaxes(showticklabels=False, row=row + 1, col=col + 1)
    fig.update_layout(
        title="Music-quality metrics: mean ± standard deviation per set", barmode="group",
        height=height or 260 * grid + 80, legend={"orientation": "h", "y": -0.08},
        margin={"t": 80, "b": 40, "l": 50, "r": 20},
    )
    return fig


def listening_figure(summary, *, height: int = 380):
    """A listening test at a glance: mean fit rating and identification accuracy per setting.

    Parameters
    ----------
    summary : dict
        From :func:`scoringkit.fuse.summarize_listening`.

    Returns
    -------
    plotly.graph_objects.Figure
        Two panels: left the mean 1-5 fit rating with its 95 % t interval (trace
        ``"fit rating"``), right the share of cues whose intended emotion was heard with its
        Wilson 95 % interval (trace ``"identified"``); one bar per setting.

    Raises
    ------
    InputError
        Not a summary.

    Examples
    --------
    >>> import scoringkit.nb
    >>> s = {"conditions": {"x": {"mean_rating": 4.0, "rating_ci": (3.5, 4.5), "ratings": 6, "accuracy": 0.5,
    ...                           "accuracy_ci": (0.2, 0.8), "identified": 3, "heard": 6}}}
    >>> fig = scoringkit.nb.listening_figure(s)
    >>> [t.name for t in fig.data], fig.data[0].error_y.array[0]
    (['fit rating', 'identified'], 0.5)
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    if not isinstance(summary, Mapping) or not isinstance(summary.get("conditions"), Mapping) \
            or not summary["conditions"]:
        raise InputError("listening_figure needs the dict of scoringkit.fuse.summarize_listening(csv_path)")
    conditions = summary["conditions"]
    names = list(conditions)
    colours = [SET_COLOURS[k % len(SET_COLOURS)] for k in range(len(names))]

    def errors(values, intervals):
        plus = [0.0 if math.isnan(hi) else hi - v for v, (lo, hi) in zip(values, intervals)]
        minus = [0.0 if math.isnan(lo) else v - lo for v, (lo, hi) in zip(values, intervals)]
        return {"type": "data", "array": plus, "arrayminus": minus, "visible": True}

    means = [conditions[n]["mean_rating"] for n in names]
    accuracy = [conditions[n]["accuracy"] for n in names]
    fig = make_subplots(rows=1, cols=2, subplot_titles=["fit to the scene (1-5), mean and 95% CI",
                                                        "intended emotion heard, share and 95% CI"])
    fig.add_trace(go.Bar(
        x=names, y=means, name="fit rating", marker={"color": colours},
        error_y=errors(means, [conditions[n]["rating_ci"] for n in names]),
        customdata=[conditions[n]["ratings"] for n in names],
        hovertemplate="%{x}: %{y:.2f} (n = %{customdata})<extra></extra>",
    ), row=1, col=1)
    fig.add_trace(go.Bar(
        x=names, y=accuracy, name="identified", marker={"color": colours},
        error_y=errors(accuracy, [conditions[n]["accuracy_ci"] for n in names]),
        customdata=[[conditions[n]["identified"], conditions[n]["heard"]] for n in names],
        hovertemplate="%{x}: %{y:.0%} (%{customdata[0]} of %{customdata[1]})<extra></extra>",
    ), row=1, col=2)
    fig.update_yaxes(range=[1, 5], row=1, col=1)
    fig.update_yaxes(range=[0, 1], tickformat=".0%", row=1, col=2)
    fig.update_layout(title="Listening test", height=height, showlegend=False,
                      margin={"t": 80, "b": 40, "l": 50, "r": 20})
    return fig
