"""Notebook helpers: plots, players and tables around the plain scoringkit functions.

This is the only module of scoringkit that uses ``plotly``, ``ipywidgets`` or
``IPython.display``, and it imports them inside the functions that need them, so
``import scoringkit.nb`` is cheap and works where those libraries are missing
(until a function that needs one is called).

Every function here only *shows* what the pipeline computed; none of them changes a
soundtrack. Figure functions return the figure, so a test (or you) can inspect it.

=====================  =========================================================================
function               shows
=====================  =========================================================================
``arc_figure``         valence and arousal over time: of each cue of a soundtrack, or of an
                       ``EmotionArc`` with its smoothed lines, bands and proposed cue boundaries
``audio_player``       an audio array as a player, without loudness normalisation
``cue_player``         one cue of a soundtrack, rendered and ready to play
``cue_table``          the cue sheet (``Soundtrack.cue_sheet()``) as an HTML table
``file_links``         links to the files written by ``Soundtrack.write``
``circumplex_figure``  emotions as points on the valence/arousal plane, quadrants shaded
``emotion_bars``       the 7 category probabilities of one emotion as bars
``TextEmotionWidget``  a text box whose bars and circumplex point follow what you type
=====================  =========================================================================

Audio features (:mod:`scoringkit.nb.features`, notebook 01): ``waveform_figure``,
``spectrogram_figure`` (mel, chroma or MFCC), ``features_figure`` (all of them on one time
axis with the beat grid), ``features_table``, ``example_clip`` (the project's own clips,
composed and rendered) and ``AudioFeaturesWidget`` (an example clip or an upload: figure,
table, and players with and without a click on each beat). Exercise solutions live in
:mod:`scoringkit.nb.solutions`.

Examples
--------
>>> import scoringkit as sk
>>> import scoringkit.nb
>>> st = sk.score_story("The sea was calm.\\n\\nThen the storm came screaming in!", min_words=1)
>>> fig = sk.nb.arc_figure(st)           # in a notebook, a figure shows itself as the cell's last line
>>> [trace.name for trace in fig.data]
['valence', 'arousal']
"""

from __future__ import annotations

import html
import math
import numbers
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from ..emotion import DEFAULT_BACKEND
from ..errors import InputError
from ..types import QUADRANT_NAMES, Soundtrack
from .features import (
    EXAMPLE_CLIPS,
    AudioFeaturesWidget,
    example_clip,
    features_figure,
    features_table,
    spectrogram_figure,
    waveform_figure,
)

__all__ = [
    "arc_figure",
    "audio_player",
    "cue_player",
    "cue_table",
    "file_links",
    "circumplex_figure",
    "emotion_bars",
    "TextEmotionWidget",
    "waveform_figure",
    "spectrogram_figure",
    "features_figure",
    "features_table",
    "example_clip",
    "EXAMPLE_CLIPS",
    "AudioFeaturesWidget",
]

#: Line colours of the two emotion dimensions in :func:`arc_figure`.
ARC_COLOURS = {"valence": "#1f77b4", "arousal": "#d62728"}


def _check_soundtrack(soundtrack, what: str) -> Soundtrack:
    if not isinstance(soundtrack, Soundtrack):
        raise InputError(
            f"{what} needs a Soundtrack, not {type(soundtrack).__name__}; "
            "make one with scoringkit.score_story(text)"
        )
    if not soundtrack.cues:
        raise InputError(f"{what}: the soundtrack has no cues; score a story with at least one sentence")
    return soundtrack


def _wrap(text: str, width: int = 48) -> str:
    """Escape ``text`` for plotly's hover labels and break it into lines of about ``width`` characters."""
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line:
        lines.append(line)
    return "<br>".join(html.escape(part) for part in lines)


def arc_figure(soundtrack_or_arc, *, height: int = 380, scenes=None, boundaries=None):
    """Plot an emotion arc: valence and arousal over time, of a soundtrack or of an ``EmotionArc``.

    **A Soundtrack.** Each cue is a point at the middle of its time span, and a shaded
    band marks the span itself, so you can see both *what* each cue expresses and *how
    long* it lasts. Hover over a point to read the scene excerpt, the quadrant, and the
    tempo and key the composer chose.

    **An EmotionArc** (from :func:`scoringkit.emotion.emotion_arc`). For valence and
    arousal each: the raw value of every scene (small points), the smoothed line, and
    the uncertainty band around it (filled between ``arc.valence_lower`` and
    ``arc.valence_upper``, likewise for arousal). Dashed vertical lines mark the
    change points (:func:`scoringkit.emotion.change_points`), labelled *proposed cue
    boundary*: each sits halfway between the last scene of one passage and the first
    of the next.

    Parameters
    ----------
    soundtrack_or_arc : Soundtrack or EmotionArc
        From :func:`scoringkit.score_story`, or from :func:`scoringkit.emotion.emotion_arc`.
    height : int
        Figure height in pixels.
    scenes : list of Scene or list of str, optional
        EmotionArc only: the texts behind the points, one per point, shown on hover.
    boundaries : list of int, optional
        EmotionArc only: scene indices where a new cue starts. Default:
        ``change_points(arc)`` with its default settings; pass your own (e.g.
        ``change_points(arc, threshold=0.4)``) to try other settings, or ``[]`` for none.

    Returns
    -------
    plotly.graph_objects.Figure
        For a Soundtrack: two traces, ``"valence"`` and ``"arousal"``, with one point per
        cue (``x`` = cue midpoint in seconds, ``y`` in [-1, 1]); a dashed zero line and
        one shaded band per cue are layout shapes, not traces.

        For an EmotionArc: eight traces, four per dimension, in this order:
        ``"valence band (lower edge)"`` (an invisible line), ``"valence band"`` (filled
        down to the lower edge, ``fill="tonexty"``), ``"valence"`` (the smoothed line) and
        ``"valence per scene"`` (the raw points); then the same for arousal. ``x`` is
        ``arc.times``. Layout shapes: a dashed zero line and one dashed vertical line per
        boundary.

    Raises
    ------
    InputError
        If the argument is neither a :class:`~scoringkit.types.Soundtrack` with cues nor
        an ``EmotionArc``; if ``scenes`` or ``boundaries`` do not fit the arc (or are
        given with a Soundtrack).

    Examples
    --------
    >>> import scoringkit as sk
    >>> import scoringkit.nb
    >>> st = sk.score_story("The sea was calm.\\n\\nThen the storm came screaming in!", min_words=1)
    >>> fig = sk.nb.arc_figure(st)
    >>> len(fig.data), len(fig.data[0].x)
    (2, 2)

    An arc of six scenes, three calm then three tense, has one proposed cue boundary,
    halfway between scene 2 and scene 3 (counted from 0):

    >>> from scoringkit.types import Emotion
    >>> from scoringkit.emotion import emotion_arc
    >>> arc = emotion_arc([Emotion(0.5, -0.5)] * 3 + [Emotion(-0.6, 0.7)] * 3)
    >>> fig = sk.nb.arc_figure(arc)
    >>> [trace.name for trace in fig.data][:4]
    ['valence band (lower edge)', 'valence band', 'valence', 'valence per scene']
    >>> [shape.x0 for shape in fig.layout.shapes if shape.x0 == shape.x1]
    [2.5]
    """
    import plotly.graph_objects as go

    from ..emotion.arc import EmotionArc

    if isinstance(soundtrack_or_arc, EmotionArc):
        return _emotion_arc_figure(soundtrack_or_arc, height=height, scenes=scenes, boundaries=boundaries)
    if not isinstance(soundtrack_or_arc, Soundtrack):
        raise InputError(
            f"arc_figure needs a Soundtrack (make one with scoringkit.score_story(text)) or an EmotionArc "
            f"(from scoringkit.emotion.emotion_arc(emotions)), not {type(soundtrack_or_arc).__name__}"
        )
    if scenes is not None or boundaries is not None:
        raise InputError(
            "scenes= and boundaries= only apply to an EmotionArc; a Soundtrack already has its cues and scenes"
        )
    soundtrack = _check_soundtrack(soundtrack_or_arc, "arc_figure")
    cues = soundtrack.cues
    midpoints = [(cue.start + cue.end) / 2 for cue in cues]
    # one row of hover facts per cue; plotly reads them as %{customdata[i]}
    hover_facts = [
        [
            cue.index + 1,
            f"{cue.start:.1f}",
            f"{cue.end:.1f}",
            _wrap(cue.scene.excerpt(160)),
            f"{cue.emotion.quadrant} ({QUADRANT_NAMES[cue.emotion.quadrant]})",
            f"{cue.intent.tempo:.0f}",
            cue.intent.key,
        ]
        for cue in cues
    ]
    hover = (
        "<b>cue %{customdata[0]}</b> (%{customdata[1]}–%{customdata[2]} s)<br>"
        "%{fullData.name}: %{y:.2f}<br>"
        "quadrant %{customdata[4]}<br>"
        "tempo %{customdata[5]} BPM, %{customdata[6]}<br>"
        "<i>%{customdata[3]}</i><extra></extra>"
    )
    fig = go.Figure()
    for name in ("valence", "arousal"):
        fig.add_trace(
            go.Scatter(
                x=midpoints,
                y=[getattr(cue.emotion, name) for cue in cues],
                name=name,
                mode="lines+markers",
                line={"color": ARC_COLOURS[name], "width": 2},
                marker={"size": 9},
                customdata=hover_facts,
                hovertemplate=hover,
                cliponaxis=False,  # keep markers at exactly -1 or +1 whole
            )
        )
    for cue in cues:  # a shaded band per cue, alternating so neighbours stay distinct
        fig.add_vrect(
            x0=cue.start, x1=cue.end, line_width=0, layer="below",
            fillcolor="#888888", opacity=0.12 if cue.index % 2 == 0 else 0.04,
            annotation_text=f"cue {cue.index + 1}", annotation_position="top left",
            annotation_font_size=10,
        )
    fig.add_hline(y=0, line_dash="dash", line_color="#555555", line_width=1)
    fig.update_layout(
        title=f"Emotion arc: {soundtrack.title}",
        xaxis_title="time (s)",
        yaxis_title="value (-1 … +1)",
        xaxis_range=[0, soundtrack.duration],
        yaxis_range=[-1, 1],
        height=height,
        hovermode="closest",
        legend={"orientation": "h", "y": -0.2},
        margin={"t": 60, "b": 40},
    )
    return fig


def audio_player(audio, *, sr: int = 44100):
    """Show mono audio as a player, at its true loudness.

    ``IPython.display.Audio`` normalises by default (it scales every clip to full
    volume), which would make a quiet, sad cue as loud as a battle cue. This helper
    always passes ``normalize=False``, so what you hear keeps the relative loudness
    the renderer produced.

    Parameters
    ----------
    audio : array-like of float, shape (n_samples,)
        Mono samples in [-1, 1], e.g. from :func:`scoringkit.render` or
        :meth:`Soundtrack.render <scoringkit.types.Soundtrack.render>`.
    sr : int
        Sample rate in Hz; it must match the rate the audio was rendered at.

    Returns
    -------
    IPython.display.Audio
        Its ``data`` holds the WAV bytes (16-bit PCM).

    Raises
    ------
    InputError
        If the audio is empty, not one-dimensional, contains NaN or infinity, or
        peaks above 1; or if ``sr`` is not a positive integer.

    Examples
    --------
    >>> import numpy as np
    >>> import scoringkit.nb
    >>> t = np.arange(22050) / 22050
    >>> player = scoringkit.nb.audio_player(0.1 * np.sin(2 * np.pi * 440 * t), sr=22050)
    >>> player.data[:4]
    b'RIFF'
    """
    import numpy as np
    from IPython.display import Audio

    if isinstance(sr, bool) or not isinstance(sr, numbers.Integral) or sr <= 0:
        raise InputError(f"sr must be a positive integer sample rate in Hz, got {sr!r}")
    try:
        samples = np.asarray(audio, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(
            f"audio must be an array of numbers, not {type(audio).__name__}; render a score with scoringkit.render"
        ) from None
    if samples.size == 0:
        raise InputError("the audio is empty (0 samples); render a score that has notes, e.g. scoringkit.render(score)")
    if samples.ndim != 1:
        raise InputError(
            f"audio_player plays mono audio of shape (n_samples,), got shape {samples.shape}; "
            "mix a stereo (n_samples, 2) array down with audio.mean(axis=1)"
        )
    bad = int(np.count_nonzero(~np.isfinite(samples)))
    if bad:
        raise InputError(
            f"the audio has {bad} NaN or infinite sample(s); clean it with numpy.nan_to_num(audio) "
            "or re-render the score"
        )
    peak = float(np.max(np.abs(samples)))
    if peak > 1.0:
        raise InputError(
            f"the audio peaks at {peak:.3g}, above 1, and would clip; scale it down first, "
            "e.g. audio / abs(audio).max()"
        )
    return Audio(samples, rate=int(sr), normalize=False)


def cue_player(soundtrack, index: int, *, sr: int = 22050, synth: str = "auto"):
    """Render one cue of a soundtrack on its own and return a player for it.

    Parameters
    ----------
    soundtrack : Soundtrack
        From :func:`scoringkit.score_story`.
    index : int
        Position of the cue in ``soundtrack.cues``, counted from 0 (negative
        numbers count from the end, as in a Python list). Note that the
        ``cue`` column of :func:`cue_table` counts from 1, so cue 1 is index 0.
    sr : int
        Sample rate of the preview; 22,050 Hz renders twice as fast as 44,100 Hz.
    synth : str
        ``"auto"``, ``"tinysoundfont"`` or ``"numpy"``; see :func:`scoringkit.render`.

    Returns
    -------
    IPython.display.Audio
        The cue's own score (``soundtrack.cues[index].score``), rendered with
        :func:`scoringkit.render` and wrapped by :func:`audio_player`.

    Raises
    ------
    InputError
        If ``index`` is not an integer or is out of range (the message gives the
        valid range).

    Examples
    --------
    >>> import scoringkit as sk
    >>> import scoringkit.nb
    >>> st = sk.score_story("The sea was calm.\\n\\nThen the storm came screaming in!", min_words=1)
    >>> player = sk.nb.cue_player(st, 1)      # the storm
    >>> import io, wave
    >>> wave.open(io.BytesIO(player.data)).getframerate()
    22050
    """
    from ..synth import render

    _check_soundtrack(soundtrack, "cue_player")
    n = len(soundtrack.cues)
    if isinstance(index, bool) or not isinstance(index, numbers.Integral):
        raise InputError(f"the cue index must be an integer from 0 to {n - 1}, not {index!r}")
    if not -n <= index < n:
        raise InputError(
            f"cue index {index} is out of range; this soundtrack has {n} cue(s), "
            f"so use 0 to {n - 1} (or -{n} to -1 counting from the end)"
        )
    cue = soundtrack.cues[index]
    return audio_player(render(cue.score, sr=sr, synth=synth), sr=sr)


def cue_table(soundtrack):
    """Show the soundtrack's cue sheet as an HTML table, one row per cue.

    The rows are exactly :meth:`Soundtrack.cue_sheet <scoringkit.types.Soundtrack.cue_sheet>`,
    the same data written to ``cues.csv`` and ``cues.json``: timing, scene excerpt,
    valence, arousal, quadrant, emotion label, tempo, key, mode and generator.

    Parameters
    ----------
    soundtrack : Soundtrack
        From :func:`scoringkit.score_story`.

    Returns
    -------
    IPython.display.HTML

    Examples
    --------
    >>> import scoringkit as sk
    >>> import scoringkit.nb
    >>> st = sk.score_story("The sea was calm.\\n\\nThen the storm came screaming in!", min_words=1)
    >>> table = sk.nb.cue_table(st)
    >>> table.data.count("<tr>")             # a header row and one row per cue
    3
    """
    from IPython.display import HTML

    rows = _check_soundtrack(soundtrack, "cue_table").cue_sheet()
    columns = list(rows[0])
    numeric = {c for c in columns if all(isinstance(r[c], numbers.Number) for r in rows)}

    def cell(tag, column, text):
        align = "right" if column in numeric else "left"
        return f'<{tag} style="text-align:{align}">{text}</{tag}>'

    header = "".join(cell("th", c, html.escape(c)) for c in columns)
    body = "\n".join(
        "<tr>" + "".join(cell("td", c, html.escape(str(row[c]))) for c in columns) + "</tr>" for row in rows
    )
    caption = (
        f"<caption style='caption-side:top;text-align:left'><b>{html.escape(soundtrack.title)}</b>: "
        f"{len(rows)} cue(s), {soundtrack.duration:.1f} s</caption>"
    )
    return HTML(f"<table>{caption}\n<thead><tr>{header}</tr></thead>\n<tbody>\n{body}\n</tbody></table>")


def file_links(paths):
    """Show clickable links to the files a soundtrack wrote.

    In Jupyter, a link opens or downloads the file. Links are relative to the
    notebook's working folder where possible, because Jupyter serves files by their
    path relative to the notebook. On Google Colab links to local files do not
    download; there, call ``google.colab.files.download(path)`` for each path
    (this function adds that hint to its output when it runs on Colab).

    Parameters
    ----------
    paths : dict of str to path, or iterable of paths
        Usually the dict returned by
        :meth:`Soundtrack.write <scoringkit.types.Soundtrack.write>`
        (``"wav"`` → ``.../soundtrack.wav``, ...).

    Returns
    -------
    IPython.display.HTML
        A list with one :class:`IPython.display.FileLink` per file, labelled by
        kind, with its size.

    Raises
    ------
    InputError
        If ``paths`` is empty or a file does not exist.

    Examples
    --------
    >>> import scoringkit as sk
    >>> import scoringkit.nb
    >>> st = sk.score_story("The sea was calm.\\n\\nThen the storm came screaming in!", min_words=1)
    >>> paths = st.write("quickstart_out", overwrite=True)    # doctest: +SKIP
    >>> sk.nb.file_links(paths)                               # doctest: +SKIP
    """
    from IPython.display import HTML, FileLink

    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    if isinstance(paths, Mapping):
        items = [(str(kind), Path(path)) for kind, path in paths.items()]
    else:
        try:
            items = [(Path(path).suffix.lstrip(".") or "file", Path(path)) for path in paths]
        except TypeError:
            raise InputError(
                f"file_links needs the dict returned by Soundtrack.write (or a list of paths), "
                f"not {type(paths).__name__}"
            ) from None
    if not items:
        raise InputError("no files to link; pass the dict returned by soundtrack.write(out_dir)")
    entries = []
    for kind, path in items:
        if not path.is_file():
            raise InputError(f"{str(path)!r} does not exist; write the files first with soundtrack.write(out_dir)")
        link = _link_target(path)
        anchor = FileLink(link, result_html_prefix="", result_html_suffix="")._repr_html_()
        entries.append(f"<li><b>{html.escape(kind)}</b>: {anchor} ({_size(path.stat().st_size)})</li>")
    hint = ""
    if "google.colab" in sys.modules:
        hint = (
            "<p>On Colab, download a file with <code>from google.colab import files; "
            "files.download(path)</code>.</p>"
        )
    return HTML("<ul>\n" + "\n".join(entries) + "\n</ul>" + hint)


def _link_target(path: Path) -> str:
    """The path as Jupyter can serve it: relative to the working folder when it lies inside it."""
    resolved = path.resolve()
    try:
        return resolved.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)


def _size(n_bytes: int) -> str:
    """A file size for people: ``"812 bytes"``, ``"41.3 kB"``, ``"1.2 MB"``."""
    if n_bytes < 1000:
        return f"{n_bytes} bytes"
    if n_bytes < 1_000_000:
        return f"{n_bytes / 1e3:.1f} kB"
    return f"{n_bytes / 1e6:.1f} MB"


# -- emotion figures and the text widget -----------------------------------------------------

#: Shading of the four valence/arousal quadrants (EMOPIA numbering) in :func:`circumplex_figure`.
QUADRANT_COLOURS = {1: "#f2c12e", 2: "#d62728", 3: "#1f77b4", 4: "#2ca02c"}

#: Bar colours of the seven emotion categories in :func:`emotion_bars`.
EMOTION_COLOURS = {
    "anger": "#d62728",
    "disgust": "#8c564b",
    "fear": "#9467bd",
    "joy": "#f2c12e",
    "sadness": "#1f77b4",
    "surprise": "#ff7f0e",
    "neutral": "#7f7f7f",
}

#: Marker colours of successive groups of emotions in :func:`circumplex_figure`.
GROUP_COLOURS = ("#222222", "#e377c2", "#17becf", "#bcbd22", "#8c564b", "#9467bd")
_GROUP_SYMBOLS = ("circle", "diamond", "square", "triangle-up", "x", "star")


def _emotion_arc_figure(arc, *, height: int, scenes, boundaries):
    """The EmotionArc branch of :func:`arc_figure`."""
    import numpy as np
    import plotly.graph_objects as go

    from ..emotion.arc import change_points
    from ..types import Scene

    n = len(arc)
    times = [float(t) for t in arc.times]
    if scenes is None:
        excerpts = [""] * n
    else:
        if isinstance(scenes, str) or not isinstance(scenes, (list, tuple)):
            raise InputError(f"scenes must be a list with one Scene or string per point of the arc, "
                             f"not {type(scenes).__name__}")
        if len(scenes) != n:
            raise InputError(f"scenes has {len(scenes)} entries but the arc has {n} points; "
                             "give one Scene or string per point, in the same order")
        excerpts = []
        for i, scene in enumerate(scenes):
            if isinstance(scene, Scene):
                excerpts.append(_wrap(scene.excerpt(160)))
            elif isinstance(scene, str):
                excerpts.append(_wrap(Scene(i, scene).excerpt(160)))
            else:
                raise InputError(f"scenes[{i}] is a {type(scene).__name__}; give Scene objects or strings")
    if boundaries is None:
        boundaries = change_points(arc)
    elif isinstance(boundaries, (str, bytes)) or not isinstance(boundaries, (list, tuple, np.ndarray)):
        raise InputError(f"boundaries must be a list of scene indices, e.g. change_points(arc), not {type(boundaries).__name__}")
    cuts = []
    for b in boundaries:
        if isinstance(b, bool) or not isinstance(b, numbers.Integral) or not 1 <= b <= n - 1:
            raise InputError(
                f"boundary {b!r} is not a scene index from 1 to {n - 1}; a boundary i starts a new cue "
                "between scene i - 1 and scene i (see change_points)"
            )
        cuts.append(int(b))

    fig = go.Figure()
    fills = {"valence": "rgba(31, 119, 180, 0.18)", "arousal": "rgba(214, 39, 40, 0.15)"}
    for name in ("valence", "arousal"):
        colour = ARC_COLOURS[name]
        lower, upper = getattr(arc, f"{name}_lower"), getattr(arc, f"{name}_upper")
        smooth, band = getattr(arc, f"{name}_smooth"), getattr(arc, f"{name}_band")
        fig.add_trace(go.Scatter(
            x=times, y=lower.tolist(), name=f"{name} band (lower edge)", legendgroup=name,
            mode="lines", line={"width": 0, "color": colour}, showlegend=False, hoverinfo="skip",
        ))
        fig.add_trace(go.Scatter(
            x=times, y=upper.tolist(), name=f"{name} band", legendgroup=name,
            mode="lines", line={"width": 0, "color": colour}, fill="tonexty", fillcolor=fills[name],
            hoverinfo="skip",
        ))
        fig.add_trace(go.Scatter(
            x=times, y=smooth.tolist(), name=name, legendgroup=name, mode="lines",
            line={"color": colour, "width": 2.5}, customdata=band.tolist(),
            hovertemplate=f"{name} (smoothed): %{{y:.2f}} ± %{{customdata:.2f}}<extra></extra>",
        ))
        fig.add_trace(go.Scatter(
            x=times, y=getattr(arc, name).tolist(), name=f"{name} per scene", legendgroup=name,
            mode="markers", marker={"color": colour, "size": 7, "opacity": 0.65},
            customdata=[[i, arc.labels[i], excerpts[i]] for i in range(n)],
            hovertemplate=(
                "<b>scene %{customdata[0]}</b><br>" + name + ": %{y:.2f}<br>most likely: %{customdata[1]}"
                "<br><i>%{customdata[2]}</i><extra></extra>"
            ),
            cliponaxis=False,
        ))
    for b in cuts:
        fig.add_vline(
            x=(times[b - 1] + times[b]) / 2, line_dash="dash", line_color="#444444", line_width=1.5,
            annotation_text="proposed cue boundary", annotation_position="top", annotation_font_size=10,
        )
    fig.add_hline(y=0, line_dash="dot", line_color="#999999", line_width=1)
    by_index = n < 2 or np.array_equal(arc.times, np.arange(n))
    fig.update_layout(
        title=(f"Emotion arc: {n} scene(s), smoothing σ = {arc.smoothing:g} scene(s), "
               f"{len(cuts)} proposed cue boundar{'y' if len(cuts) == 1 else 'ies'}"),
        xaxis_title="scene" if by_index else "time (s)",
        yaxis_title="value (-1 … +1)",
        yaxis_range=[-1, 1],
        height=height,
        hovermode="closest",
        legend={"orientation": "h", "y": -0.2},
        margin={"t": 70, "b": 40},
    )
    return fig


def _as_emotion_groups(emotions, what: str) -> dict:
    """``emotions`` as ``{group name: [Emotion, ...]}``; one Emotion or a list make one group."""
    from ..types import Emotion

    if isinstance(emotions, Emotion):
        groups = {"emotions": [emotions]}
    elif isinstance(emotions, Mapping):
        groups = {str(name): value for name, value in emotions.items()}
    elif isinstance(emotions, (list, tuple)):
        groups = {"emotions": emotions}
    else:
        raise InputError(
            f"{what} takes an Emotion, a list of Emotions, or a dict of name -> list of Emotions, "
            f"not {type(emotions).__name__}; make them with scoringkit.analyze_text"
        )
    if not groups:
        raise InputError(f"{what}: the dict of emotion groups is empty")
    for name, items in groups.items():
        if isinstance(items, Emotion):
            items = groups[name] = [items]
        if not isinstance(items, (list, tuple)) or not items:
            raise InputError(f"{what}: group {name!r} must be a non-empty list of Emotions")
        for i, item in enumerate(items):
            if not isinstance(item, Emotion):
                raise InputError(f"{what}: item {i} of {name!r} is a {type(item).__name__}, not an Emotion")
    return groups


def _circumplex_plane(*, title: str, height: int, width=None):
    """An empty valence/arousal plane: axes [-1, 1], the quadrants shaded and named."""
    import plotly.graph_objects as go

    fig = go.Figure()
    corners = {1: (0, 1, 0, 1), 2: (-1, 0, 0, 1), 3: (-1, 0, -1, 0), 4: (0, 1, -1, 0)}
    for quadrant, (x0, x1, y0, y1) in corners.items():
        fig.add_shape(type="rect", x0=x0, x1=x1, y0=y0, y1=y1, layer="below", line_width=0,
                      fillcolor=QUADRANT_COLOURS[quadrant], opacity=0.13)
        fig.add_annotation(
            x=0.97 if x0 == 0 else -0.97, y=0.97 if y0 == 0 else -0.97,
            xanchor="right" if x0 == 0 else "left", yanchor="top" if y0 == 0 else "bottom",
            text=f"{quadrant} · {QUADRANT_NAMES[quadrant]}", showarrow=False,
            font={"size": 11, "color": "#555555"},
        )
    axis = {"range": [-1, 1], "zeroline": True, "zerolinecolor": "#999999", "zerolinewidth": 1,
            "dtick": 0.5, "showgrid": True, "gridcolor": "rgba(0, 0, 0, 0.06)"}
    fig.update_layout(
        title=title,
        xaxis={**axis, "title": "valence (unpleasant → pleasant)"},
        yaxis={**axis, "title": "arousal (calm → excited)", "scaleanchor": "x", "scaleratio": 1},
        height=height, width=width, hovermode="closest", plot_bgcolor="white",
        legend={"orientation": "h", "y": -0.18}, margin={"t": 50, "b": 40, "l": 60, "r": 20},
    )
    return fig


def _circumplex_points(emotions, labels, *, name: str, colour: str, symbol: str, numbers_on: bool):
    """One scatter trace: one marker per emotion, with hover facts."""
    import plotly.graph_objects as go

    return go.Scatter(
        x=[e.valence for e in emotions],
        y=[e.arousal for e in emotions],
        name=name,
        mode="markers+text" if numbers_on else "markers",
        text=[str(i + 1) for i in range(len(emotions))] if numbers_on else None,
        textposition="top center",
        textfont={"size": 10, "color": colour},
        marker={"size": 11, "color": colour, "symbol": symbol, "line": {"width": 1, "color": "white"}},
        customdata=[_hover_facts(e, label) for e, label in zip(emotions, labels)],
        hovertemplate=(
            "<b>%{customdata[0]}</b><br>valence %{x:+.2f}, arousal %{y:+.2f}<br>"
            "quadrant %{customdata[1]}<br>most likely: %{customdata[2]}<extra>%{fullData.name}</extra>"
        ),
        cliponaxis=False,
    )


def _hover_facts(emotion, label: str) -> list:
    return [_wrap(label), f"{emotion.quadrant} ({emotion.quadrant_name})", html.escape(emotion.label)]


def circumplex_figure(emotions, labels=None, *, title: str = "Valence / arousal plane", height: int = 480):
    """Plot emotions as points on the valence/arousal plane (Russell's circumplex).

    The plane spans valence (unpleasant −1 … pleasant +1, across) and arousal (calm −1 …
    excited +1, up), split into the four quadrants scoringkit uses to choose music
    (:data:`~scoringkit.types.QUADRANT_NAMES`, EMOPIA numbering), each shaded and named.
    Each emotion is one marker, numbered 1, 2, ... in the order given; hover over it to
    read its label, exact values, quadrant and most likely category.

    Pass a dict to compare groups, e.g. two backends on the same sentences: each group
    gets its own colour and symbol, and when all groups have the same length thin grey
    lines join the points of the same item, so you see how far the backends disagree.

    Parameters
    ----------
    emotions : Emotion, list of Emotion, or dict of str to list of Emotion
        From :func:`scoringkit.analyze_text`.
    labels : list of str, optional
        One per emotion (per item of each group), e.g. the sentences; shown on hover.
        Default: the numbers ``"1"``, ``"2"``, ...
    title : str
        Figure title.
    height : int
        Figure height in pixels (the plane stays square).

    Returns
    -------
    plotly.graph_objects.Figure
        One scatter trace per group (``x`` = valence, ``y`` = arousal, one point per
        emotion, named after the group; ``"emotions"`` for a plain list), then, for two or
        more groups of equal length, a trace ``"same item"`` of joining lines. The four
        quadrant shadings are layout shapes (``type="rect"``).

    Raises
    ------
    InputError
        For anything but Emotions, an empty list, or ``labels`` of the wrong length.

    Examples
    --------
    >>> import scoringkit as sk
    >>> import scoringkit.nb
    >>> texts = ["What a wonderful, happy day!", "I am terrified and furious."]
    >>> fig = sk.nb.circumplex_figure(sk.analyze_text(texts, backend="lexicon"), labels=texts)
    >>> len(fig.data[0].x), sum(shape.type == "rect" for shape in fig.layout.shapes)
    (2, 4)
    >>> fig.data[0].x[0] > 0 > fig.data[0].x[1]          # pleasant, then unpleasant
    True
    """
    groups = _as_emotion_groups(emotions, "circumplex_figure")
    longest = max(len(items) for items in groups.values())
    if labels is None:
        labels = [str(i + 1) for i in range(longest)]
    elif isinstance(labels, str) or not isinstance(labels, (list, tuple)):
        raise InputError(f"labels must be a list of strings, one per emotion, not {type(labels).__name__}")
    for name, items in groups.items():
        if len(labels) < len(items):
            raise InputError(f"there are {len(items)} emotions in {name!r} but only {len(labels)} labels; give one label per emotion")
    labels = [str(label) for label in labels]
    fig = _circumplex_plane(title=title, height=height)
    for k, (name, items) in enumerate(groups.items()):
        fig.add_trace(_circumplex_points(
            items, labels, name=name, colour=GROUP_COLOURS[k % len(GROUP_COLOURS)],
            symbol=_GROUP_SYMBOLS[k % len(_GROUP_SYMBOLS)], numbers_on=len(items) <= 30,
        ))
    lengths = {len(items) for items in groups.values()}
    if len(groups) > 1 and len(lengths) == 1:
        import plotly.graph_objects as go

        xs, ys = [], []
        for i in range(longest):  # a polyline through the groups' points of item i, then a gap
            xs += [items[i].valence for items in groups.values()] + [None]
            ys += [items[i].arousal for items in groups.values()] + [None]
        fig.add_trace(go.Scatter(x=xs, y=ys, name="same item", mode="lines", hoverinfo="skip",
                                 line={"color": "rgba(80, 80, 80, 0.45)", "width": 1, "dash": "dot"}))
    if len(groups) == 1:
        fig.update_layout(showlegend=False)
    return fig


def emotion_bars(emotion, *, title=None, height: int = 320):
    """Plot the seven category probabilities of one emotion as bars.

    The categories are always in the order of :data:`~scoringkit.types.EMOTION_LABELS`
    (anger, disgust, fear, joy, sadness, surprise, neutral), so two figures compare at a
    glance. A backend without categories gives all-zero bars and says so in the title.

    Parameters
    ----------
    emotion : Emotion
        From :func:`scoringkit.analyze_text`.
    title : str, optional
        Default: the most likely category and its probability.
    height : int
        Figure height in pixels.

    Returns
    -------
    plotly.graph_objects.Figure
        One bar trace named ``"probability"``: ``x`` the 7 labels, ``y`` their
        probabilities (summing to 1), y axis from 0 to 1.

    Raises
    ------
    InputError
        If ``emotion`` is not an :class:`~scoringkit.types.Emotion`.

    Examples
    --------
    >>> import scoringkit as sk
    >>> import scoringkit.nb
    >>> fig = sk.nb.emotion_bars(sk.analyze_text("We laughed with joy all day.", backend="lexicon"))
    >>> fig.data[0].x
    ('anger', 'disgust', 'fear', 'joy', 'sadness', 'surprise', 'neutral')
    >>> round(sum(fig.data[0].y), 6), max(zip(fig.data[0].y, fig.data[0].x))[1]
    (1.0, 'joy')
    """
    import plotly.graph_objects as go

    from ..types import EMOTION_LABELS, Emotion

    if not isinstance(emotion, Emotion):
        raise InputError(f"emotion_bars takes one Emotion (from scoringkit.analyze_text), not {type(emotion).__name__}")
    fig = go.Figure(go.Bar(
        x=list(EMOTION_LABELS), y=_probabilities(emotion), name="probability",
        marker={"color": [EMOTION_COLOURS[label] for label in EMOTION_LABELS]},
        texttemplate="%{y:.0%}", textposition="outside", cliponaxis=False,
        hovertemplate="%{x}: %{y:.1%}<extra></extra>",
    ))
    fig.update_layout(
        title=_bars_title(emotion) if title is None else title,
        yaxis={"range": [0, 1], "tickformat": ".0%", "title": "probability"},
        height=height, margin={"t": 50, "b": 40, "l": 60, "r": 20}, showlegend=False,
    )
    return fig


def _probabilities(emotion) -> list:
    from ..types import EMOTION_LABELS

    return [float((emotion.probs or {}).get(label, 0.0)) for label in EMOTION_LABELS]


def _bars_title(emotion) -> str:
    if not emotion.probs:
        return "Categories: this backend gives no category probabilities"
    return f"Categories: most likely <b>{html.escape(emotion.label)}</b> ({emotion.probs[emotion.label]:.0%})"


def _show_in_output(output, fig) -> None:
    """Replace what an ``ipywidgets.Output`` shows by ``fig`` (safe from a timer thread).

    The display data is built the way ``display(fig)`` builds it and set on the widget's
    ``outputs`` in one assignment, so the view never flickers empty and no output
    capture (which belongs to the kernel's main thread) is needed.

    A plotly figure gives its bundle for the current renderers (``fig._repr_mimebundle_()``).
    It must not go through IPython's display formatter: plotly figures define
    ``_ipython_display_``, which the formatter calls, and that *shows* the figure in the
    running cell's output instead of returning its data.
    """
    if hasattr(fig, "_repr_mimebundle_"):
        data, metadata = dict(fig._repr_mimebundle_() or {}), {}
    else:
        try:
            from IPython import get_ipython

            shell = get_ipython()
        except ImportError:  # pragma: no cover - ipywidgets needs IPython
            shell = None
        if shell is not None and getattr(shell, "display_formatter", None) is not None:
            data, metadata = shell.display_formatter.format(fig)
        else:
            data, metadata = {}, {}
    title = getattr(getattr(getattr(fig, "layout", None), "title", None), "text", None)
    data.setdefault("text/plain", f"<plotly figure: {title or 'untitled'}>")
    output.outputs = ({"output_type": "display_data", "data": data, "metadata": metadata},)


class TextEmotionWidget:
    """A text box whose emotion bars and circumplex point follow what you type.

    The view is built from the pure function :func:`scoringkit.analyze_text`: when the
    text changes, and the typing has paused for ``debounce`` seconds, the text is
    analysed once and the figures are updated **in place** (their data changes; no new
    figure is made), with a line giving valence, arousal and quadrant. Problems (an empty
    box, a missing model checkpoint, text that is too long) appear as a message in the
    widget, never as a traceback, and the last good result stays on screen (dimmed) so
    the widget remains usable: fix the text and it updates again.

    Display it by ending a cell with ``w.widget`` (a ``VBox``), or with ``w`` itself.

    Parameters
    ----------
    text : str
        Text to start with; analysed at once if it is not empty.
    backend : str
        Passed to :func:`scoringkit.analyze_text`: ``"encoder"`` (default), ``"lexicon"`` or
        ``"hf:<model>"``.
    debounce : float
        Seconds of no typing before the text is analysed (>= 0). The wait runs on a
        :class:`threading.Timer`, so the kernel stays free while you type; ``0``
        analyses on every change, in the kernel's thread.

    Attributes
    ----------
    widget : ipywidgets.VBox
        What to display: the text box, the status line, then the two figures side by side.
    text : ipywidgets.Textarea
        The text box (``continuous_update=True``: it reports every keystroke).
    status : ipywidgets.HTML
        Valence, arousal, quadrant and most likely category, or the error message.
    bars : plotly figure
        :func:`emotion_bars` of the latest emotion.
    circumplex : plotly figure
        The valence/arousal plane with one point, the latest emotion (trace ``"text"``).
    live : bool
        True when ``bars`` and ``circumplex`` are ``plotly.graph_objects.FigureWidget``
        (plotly >= 6 needs the ``anywidget`` package for those); False when they are
        plain ``go.Figure`` objects shown inside ``ipywidgets.Output`` areas, which are
        redrawn after each update. Either way ``bars.data[0].y`` holds the latest data.
    emotion : Emotion or None
        The latest successful result.
    error : str or None
        The message of the latest failure; ``None`` after a success.

    Raises
    ------
    InputError
        At construction, for an unknown backend or a negative ``debounce``.

    Examples
    --------
    >>> import scoringkit.nb
    >>> w = scoringkit.nb.TextEmotionWidget("A quiet, peaceful morning by the lake.", backend="lexicon")
    >>> w.emotion.quadrant, w.error is None
    (4, True)
    >>> _ = w.update("Run! The house is on fire and everyone is screaming!")
    >>> w.emotion.quadrant, "tense / angry" in w.status.value
    (2, True)
    >>> w.update("   ") is None, w.error
    (True, 'text is empty; give at least one word')
    >>> w.close()
    """

    def __init__(self, text: str = "", *, backend: str = DEFAULT_BACKEND, debounce: float = 0.4):
        import threading

        import ipywidgets as widgets

        from ..emotion import check_backend

        check_backend(backend)
        from ._debounce import check_debounce

        wait = check_debounce(debounce)
        if not isinstance(text, str):
            raise InputError(f"text must be a string, not {type(text).__name__}")
        self.backend = backend
        self.debounce = wait
        self.emotion = None
        self.error = None
        self._lock = threading.RLock()
        self._timer = None

        self.text = widgets.Textarea(
            value=text, placeholder="Type a sentence or two ...", continuous_update=True,
            layout=widgets.Layout(width="100%", height="5em"),
        )
        self.status = widgets.HTML(value="")
        bars = _empty_bars()
        plane = _circumplex_plane(title="Where the text sits", height=360, width=380)
        plane.add_trace(_circumplex_points([], [], name="text", colour=GROUP_COLOURS[0],
                                           symbol="circle", numbers_on=False))
        plane.update_layout(showlegend=False)
        bars.update_layout(width=440, height=360)
        self.bars, self.circumplex, self.live, views = _live_figures(bars, plane)
        self._views = views
        self.widget = widgets.VBox([
            widgets.HTML(f"<b>Text emotion</b> · backend <code>{html.escape(backend)}</code> · "
                         f"updates {'as you type' if wait == 0 else f'{wait:g} s after you stop typing'}"),
            self.text,
            self.status,
            widgets.HBox(views),
        ])
        self.text.observe(self._on_change, names="value")
        if text.strip():
            self.update(text)
        else:
            self._show_status("<span style='color:#666'>Type a sentence to see its emotion.</span>")
            self._redraw()

    # -- public ----------------------------------------------------------------------------
    def update(self, text: str):
        """Analyse ``text`` now and update the figures and the status line in place.

        This is what the debounce timer calls; call it yourself to set the view from
        code (it does not change the text box). It never raises: a failure is shown in
        the widget and kept in :attr:`error`.

        Returns
        -------
        Emotion or None
            The new emotion, or ``None`` if the analysis failed.
        """
        from ..emotion import analyze_text
        from ..errors import ScoringKitError

        with self._lock:
            try:
                emotion = analyze_text(text, backend=self.backend)
            except ScoringKitError as err:  # InputError (empty, too long, ...), ModelError (checkpoint)
                return self._fail(str(err))
            except Exception as err:  # noqa: BLE001 - a widget callback must never raise into the kernel
                return self._fail(f"unexpected {type(err).__name__}: {err}")
            self.emotion, self.error = emotion, None
            try:
                self._draw(emotion, text)
            except Exception as err:  # noqa: BLE001
                return self._fail(f"could not draw the result ({type(err).__name__}: {err})")
            return emotion

    def close(self) -> None:
        """Stop a pending timer and close the widgets (the figures stop updating)."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
        try:
            self.text.unobserve(self._on_change, names="value")
        except ValueError:  # closed before
            pass
        for view in (*self.widget.children[:-1], *self._views, self.widget.children[-1], self.widget):
            view.close()

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def __repr__(self) -> str:
        state = f"error={self.error!r}" if self.error else f"emotion={self.emotion!r}"
        return f"TextEmotionWidget(backend={self.backend!r}, debounce={self.debounce:g}, {state})"

    # -- internals -------------------------------------------------------------------------
    def _on_change(self, change) -> None:
        """``text.observe`` callback: (re)start the debounce timer, or update at once."""
        if self.debounce == 0:
            self.update(change["new"])
            return
        from ._debounce import restart_timer

        restart_timer(self, self._fire)

    def _fire(self) -> None:
        with self._lock:
            self._timer = None
        self.update(self.text.value)  # the text as it is now, not as it was when the timer started

    def _draw(self, emotion, text: str) -> None:
        with self.bars.batch_update():
            self.bars.data[0].y = _probabilities(emotion)
            self.bars.data[0].marker.opacity = 1.0
            self.bars.layout.title.text = _bars_title(emotion)
        with self.circumplex.batch_update():
            point = self.circumplex.data[0]
            point.x, point.y = [emotion.valence], [emotion.arousal]
            point.customdata = [_hover_facts(emotion, _one_line(text))]
            point.marker.opacity = 1.0
        self._show_status(
            f"<b>valence</b> {emotion.valence:+.2f} &nbsp;·&nbsp; <b>arousal</b> {emotion.arousal:+.2f}"
            f" &nbsp;·&nbsp; quadrant {emotion.quadrant} <i>({html.escape(emotion.quadrant_name)})</i>"
            f" &nbsp;·&nbsp; most likely <b>{html.escape(emotion.label)}</b>"
        )
        self._redraw()

    def _fail(self, message: str):
        self.error = message
        try:
            with self.bars.batch_update():
                self.bars.data[0].marker.opacity = 0.3
            with self.circumplex.batch_update():
                self.circumplex.data[0].marker.opacity = 0.3
            self._redraw()
        except Exception:  # noqa: BLE001 - showing the message matters more than dimming
            pass
        self._show_status(f"<span style='color:#b00020'>⚠ {html.escape(message)}</span>")
        return None

    def _show_status(self, markup: str) -> None:
        self.status.value = markup

    def _redraw(self) -> None:
        """Without FigureWidgets, show the (updated) figures again in their Output areas."""
        if not self.live:
            for view, fig in zip(self._views, (self.bars, self.circumplex)):
                _show_in_output(view, fig)


def _one_line(text: str, length: int = 160) -> str:
    """``text`` on one line, cut to ``length`` characters with an ellipsis (for hover labels)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= length else flat[: length - 1].rstrip() + "…"


def _empty_bars():
    """:func:`emotion_bars` with all-zero bars, before there is a result."""
    from ..types import Emotion

    fig = emotion_bars(Emotion(0.0, 0.0), title="Categories")
    fig.data[0].y = [0.0] * len(fig.data[0].x)
    return fig


def _live_figures(bars, plane):
    """``(bars, plane, live, views)``: FigureWidgets when plotly can make them, else Output areas.

    plotly >= 6 builds ``FigureWidget`` on ``anywidget`` and raises ImportError without it;
    then the plain figures are shown in ``ipywidgets.Output`` areas that
    :meth:`TextEmotionWidget._redraw` refreshes.
    """
    import ipywidgets as widgets
    import plotly.graph_objects as go

    try:
        live_bars, live_plane = go.FigureWidget(bars), go.FigureWidget(plane)
    except ImportError:
        views = [widgets.Output(), widgets.Output()]
        return bars, plane, False, views
    return live_bars, live_plane, True, [live_bars, live_plane]


# -- piano roll, mapping tables and the emotion pad (notebooks 03 and 04) -------------------------
from .pad import EmotionPad, intent_table, mapping_table  # noqa: E402
from .pianoroll import piano_roll  # noqa: E402

__all__ += ["piano_roll", "mapping_table", "intent_table", "EmotionPad"]
from . import solutions  # noqa: E402,F401  (hidden exercise solutions: sk.nb.solutions.ex01_...)

# -- evaluation figures and the listening test (notebook 08) --------------------------------------
from .evaluation import confusion_figure, listening_figure, metrics_figure  # noqa: E402
from .listening import ListeningTest  # noqa: E402

__all__ += ["confusion_figure", "metrics_figure", "listening_figure", "ListeningTest"]

# -- the scoring studio (notebook 09) ------------------------------------------------------------
from .studio import Studio  # noqa: E402

__all__ += ["Studio"]
