"""Notebook helpers: plots, players and tables around the plain scoringkit functions.

This is the only module of scoringkit that uses ``plotly``, ``ipywidgets`` or
``IPython.display``, and it imports them inside the functions that need them, so
``import scoringkit.nb`` is cheap and works where those libraries are missing
(until a function that needs one is called).

Every function here only *shows* what the pipeline computed; none of them changes a
soundtrack. Figure functions return the figure, so a test (or you) can inspect it.

=================  =====================================================================
function           shows
=================  =====================================================================
``arc_figure``     valence and arousal of each cue over time (plotly figure)
``audio_player``   an audio array as a player, without loudness normalisation
``cue_player``     one cue of a soundtrack, rendered and ready to play
``cue_table``      the cue sheet (``Soundtrack.cue_sheet()``) as an HTML table
``file_links``     links to the files written by ``Soundtrack.write``
=================  =====================================================================

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
import numbers
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from ..errors import InputError
from ..types import QUADRANT_NAMES, Soundtrack

__all__ = ["arc_figure", "audio_player", "cue_player", "cue_table", "file_links"]

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


def arc_figure(soundtrack, *, height: int = 380):
    """Plot the emotion arc of a soundtrack: valence and arousal of each cue over time.

    Each cue is a point at the middle of its time span, and a shaded band marks
    the span itself, so you can see both *what* each cue expresses and *how long*
    it lasts. Hover over a point to read the scene excerpt, the quadrant, and the
    tempo and key the composer chose.

    Parameters
    ----------
    soundtrack : Soundtrack
        From :func:`scoringkit.score_story`.
    height : int
        Figure height in pixels.

    Returns
    -------
    plotly.graph_objects.Figure
        Two traces, ``"valence"`` and ``"arousal"``, with one point per cue
        (``x`` = cue midpoint in seconds, ``y`` in [-1, 1]); a dashed zero line and
        one shaded band per cue are layout shapes, not traces.

    Raises
    ------
    InputError
        If ``soundtrack`` is not a :class:`~scoringkit.types.Soundtrack` or has no cues.

    Examples
    --------
    >>> import scoringkit as sk
    >>> import scoringkit.nb
    >>> st = sk.score_story("The sea was calm.\\n\\nThen the storm came screaming in!", min_words=1)
    >>> fig = sk.nb.arc_figure(st)
    >>> len(fig.data), len(fig.data[0].x)
    (2, 2)
    """
    import plotly.graph_objects as go

    _check_soundtrack(soundtrack, "arc_figure")
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
