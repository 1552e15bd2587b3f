"""Audio features in a notebook: figures, a summary table, example clips and a widget.

Everything here *shows* what :func:`scoringkit.audio_features` computed; the numbers come
from that one function. The names are re-exported by :mod:`scoringkit.nb`, so call them
as ``sk.nb.features_figure(...)``.

=======================  ==========================================================================
name                     shows
=======================  ==========================================================================
``waveform_figure``      samples as a min/max envelope (or the RMS envelope of features), beats marked
``spectrogram_figure``   one frame matrix of the features, mel (dB), chroma or MFCC, against time
``features_figure``      waveform, mel, chroma and MFCC stacked on one time axis, with the beat grid
``features_table``       tempo, key, loudness, onset density (and an emotion estimate) as a table
``example_clip``         one of the project's own example clips: composed, rendered, cached
``AudioFeaturesWidget``  choose an example clip or upload a file; figure, table and players follow
=======================  ==========================================================================

Figures stay light: frame matrices are averaged over neighbouring frames down to at most
:data:`MAX_FRAMES` columns (and the mel spectrogram to 64 bands), and a waveform is drawn as
the minimum and maximum of at most :data:`WAVEFORM_POINTS` slices, so an executed notebook
stays small whatever the clip's length.

Examples
--------
>>> import numpy as np
>>> import scoringkit as sk
>>> import scoringkit.nb
>>> clip = sk.nb.example_clip("Q1 happy / excited · ensemble")
>>> features = sk.audio_features(clip.audio, sr=clip.sr)
>>> fig = sk.nb.features_figure(features, audio=clip.audio, sr=clip.sr)
>>> [trace.name for trace in fig.data]
['waveform', 'mel', 'chroma', 'mfcc', 'beats']
>>> len(fig.data[-1].x) == len(features.beats)            # one marker per beat
True
"""

from __future__ import annotations

import dataclasses
import html
import math
import numbers
from functools import lru_cache

from ..errors import InputError
from ..types import PITCH_CLASS_NAMES, QUADRANT_NAMES

__all__ = [
    "waveform_figure",
    "spectrogram_figure",
    "features_figure",
    "features_table",
    "example_clip",
    "ExampleClip",
    "EXAMPLE_CLIPS",
    "AudioFeaturesWidget",
    "SPECTROGRAM_KINDS",
]

#: Most columns (time steps) drawn per frame matrix; more frames are averaged in groups.
MAX_FRAMES = 300
#: Most slices (min/max pairs) of a waveform drawn by :func:`waveform_figure`.
WAVEFORM_POINTS = 1000
#: Bands of the mel spectrogram as drawn (the 128 computed bands are averaged in pairs).
MEL_BANDS_SHOWN = 64
#: Dynamic range of the mel spectrogram's colours, in dB below its loudest cell.
MEL_TOP_DB = 80
#: With more beats than this, the beat grid is drawn as markers only, without lines.
MAX_BEAT_LINES = 400
#: The frame matrices :func:`spectrogram_figure` can draw.
SPECTROGRAM_KINDS = ("mel", "chroma", "mfcc")
BEAT_COLOUR = "#d62728"
WAVE_COLOUR = "#1f77b4"

#: Example clips of :func:`example_clip` and :class:`AudioFeaturesWidget`:
#: name -> (valence, arousal, instrumentation, seed). Two per quadrant: the composer's own
#: instruments ("ensemble"), and every part on a piano, like EMOPIA's solo-piano clips on
#: which the audio emotion model was trained.
EXAMPLE_CLIPS = {
    f"Q{quadrant} {QUADRANT_NAMES[quadrant]} · {band}": (valence, arousal, band, seed)
    for quadrant, valence, arousal, seed in ((1, 0.8, 0.7, 1), (2, -0.7, 0.8, 0), (3, -0.7, -0.6, 1),
                                             (4, 0.6, -0.6, 1))
    for band in ("ensemble", "piano")
}
#: Length in seconds of the composed example clips (the render adds a short release tail).
EXAMPLE_SECONDS = 12.0

#: File types offered by the upload button (anything libsndfile reads, and MIDI, which is rendered).
UPLOAD_ACCEPT = ".wav,.flac,.ogg,.oga,.opus,.mp3,.aif,.aiff,.mid,.midi,audio/*"
_MIDI_SUFFIXES = (".mid", ".midi", ".smf", ".kar")


# -- checks and downsampling -------------------------------------------------------------------
def _check_features(features, what: str, *, frames: bool = True):
    from ..extract.audio import AudioFeatures

    if not isinstance(features, AudioFeatures):
        raise InputError(
            f"{what} needs AudioFeatures, the result of scoringkit.audio_features(clip, sr=...), "
            f"not {type(features).__name__}"
        )
    if frames and features.mel is None:
        raise InputError(
            f"{what} draws the frame matrices, but these features were computed with frames=False; "
            "call scoringkit.audio_features(clip) with frames=True (the default)"
        )
    return features


def _check_samples(samples, sr, what: str):
    import numpy as np

    if isinstance(sr, bool) or not isinstance(sr, numbers.Real) or not sr > 0:
        raise InputError(f"{what}: sr must be the sample rate of the samples in Hz (e.g. sr=22050), got {sr!r}")
    try:
        data = np.asarray(samples, dtype=np.float32)
    except (TypeError, ValueError):
        raise InputError(f"{what} takes samples (a 1-D array) or AudioFeatures, not {type(samples).__name__}") from None
    if data.ndim == 2 and min(data.shape) <= 8:  # (n, channels) or (channels, n): mix down
        data = data.mean(axis=0 if data.shape[0] <= 8 and data.shape[0] < data.shape[1] else 1)
    if data.ndim != 1 or data.size == 0:
        raise InputError(f"{what} needs mono samples of shape (n,) with at least one sample, got shape {data.shape}")
    if not np.isfinite(data).all():
        raise InputError(f"{what}: the samples contain NaN or infinity; clean them with numpy.nan_to_num first")
    return data


def _check_max(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 2:
        raise InputError(f"{what} must be a whole number >= 2, got {value!r}")
    return int(value)


def _pool_columns(matrix, times, max_columns: int):
    """Average groups of neighbouring columns so that at most ``max_columns`` remain."""
    import numpy as np

    n = matrix.shape[1]
    step = max(1, math.ceil(n / max_columns))
    if step == 1:
        return matrix, times
    starts = np.arange(0, n, step)
    counts = np.diff(np.append(starts, n))
    pooled = np.add.reduceat(matrix, starts, axis=1) / counts
    return pooled, np.add.reduceat(times, starts) / counts


def _envelope(samples, sr, max_points: int):
    """``(times, low, high)``: the minimum and maximum of each of at most ``max_points`` slices."""
    import numpy as np

    n = len(samples)
    slices = min(max_points, n)
    edges = np.linspace(0, n, slices + 1).astype(np.int64)
    low = np.minimum.reduceat(samples, edges[:-1])
    high = np.maximum.reduceat(samples, edges[:-1])
    times = (edges[:-1] + edges[1:]) / (2.0 * sr)
    return times, low, high


def _band(times, low, high, *, name: str, colour: str, hover: str):
    """A filled band between ``low`` and ``high`` (one trace: out along the top, back along the bottom)."""
    import numpy as np
    import plotly.graph_objects as go

    return go.Scatter(
        x=np.concatenate([times, times[::-1]]).astype(np.float32),
        y=np.concatenate([high, low[::-1]]).astype(np.float32),
        name=name, mode="lines", fill="toself", fillcolor=colour, line={"color": colour, "width": 0.5},
        hovertemplate=hover, showlegend=False,
    )


def _beat_times(features, beats):
    """The beats to draw: ``beats`` if given, else the features' beats, else none."""
    import numpy as np

    if beats is False or beats is None and features is None:
        return np.zeros(0)
    if beats is None or beats is True:
        return np.asarray(features.beats, dtype=np.float64) if features is not None else np.zeros(0)
    from ..synth import _check_beats

    return _check_beats(beats)


def _beat_markers(beats, y):
    import numpy as np
    import plotly.graph_objects as go

    return go.Scatter(
        x=np.asarray(beats, dtype=np.float32), y=np.full(len(beats), y, dtype=np.float32), name="beats",
        mode="markers", marker={"symbol": "triangle-down", "size": 8, "color": BEAT_COLOUR},
        customdata=np.arange(1, len(beats) + 1), hovertemplate="beat %{customdata} at %{x:.2f} s<extra></extra>",
        showlegend=False, cliponaxis=False,
    )


def _beat_lines(beats) -> list:
    """Thin vertical lines at the beats across the whole plotting area (layout shapes)."""
    if len(beats) > MAX_BEAT_LINES:
        return []
    return [
        {"type": "line", "xref": "x", "yref": "paper", "x0": float(b), "x1": float(b), "y0": 0, "y1": 1,
         "line": {"color": "rgba(214, 39, 40, 0.35)", "width": 1}, "layer": "above"}
        for b in beats
    ]


# -- figures -----------------------------------------------------------------------------------
def waveform_figure(samples_or_features, *, sr=None, beats=None, max_points: int = WAVEFORM_POINTS,
                    height: int = 260, title=None):
    """Plot a clip against time: its waveform, or the RMS envelope of its features, with the beats.

    **Samples.** The clip is cut into at most ``max_points`` equal slices and the band
    between each slice's lowest and highest sample is filled: what a sound editor shows
    when zoomed out, at a fraction of the points.

    **AudioFeatures.** The samples are not kept by :func:`scoringkit.audio_features`, so the
    band is ± the RMS of each analysis frame (23 ms apart at 22,050 Hz): the loudness
    contour. Its beats (``features.beats``) are marked unless ``beats=False``.

    Parameters
    ----------
    samples_or_features : array_like of float, shape (n,), or AudioFeatures
        Mono samples (2-D input with up to 8 channels is mixed down), or features.
    sr : float
        Sample rate of the samples in Hz (required for samples; ignored for features).
    beats : array_like of float, bool or None
        Beat times in seconds to mark. ``None``: the features' beats (none for samples);
        ``False``: none.
    max_points : int
        Most slices of the waveform (>= 2).
    height : int
        Figure height in pixels.
    title : str, optional
        Default: ``"Waveform"`` or ``"RMS envelope"`` with the number of beats.

    Returns
    -------
    plotly.graph_objects.Figure
        A filled trace ``"waveform"`` (or ``"RMS envelope"``), then, with beats, a marker
        trace ``"beats"`` (one triangle per beat at the top) and one thin vertical line per
        beat as a layout shape (up to 400 beats).

    Raises
    ------
    InputError
        Samples without ``sr``, empty or non-finite samples, anything else than samples or
        features, bad beat times.

    Examples
    --------
    >>> import numpy as np
    >>> import scoringkit.nb
    >>> sr = 8000
    >>> tone = 0.5 * np.sin(2 * np.pi * 220 * np.arange(2 * sr) / sr)
    >>> fig = scoringkit.nb.waveform_figure(tone, sr=sr, beats=[0.5, 1.0, 1.5])
    >>> [trace.name for trace in fig.data], len(fig.layout.shapes)
    (['waveform', 'beats'], 3)
    >>> round(float(max(fig.data[0].y)), 2)
    0.5
    """
    import numpy as np
    import plotly.graph_objects as go

    from ..extract.audio import AudioFeatures

    max_points = _check_max(max_points, "max_points")
    features = samples_or_features if isinstance(samples_or_features, AudioFeatures) else None
    if features is not None:
        times, rms = features.times, np.asarray(features.rms, dtype=np.float64)
        pooled, times = _pool_columns(rms[None, :], times, max_points)
        rms = pooled[0]
        trace = _band(times, -rms, rms, name="RMS envelope", colour=WAVE_COLOUR,
                      hover="%{x:.2f} s: RMS %{y:.3f}<extra></extra>")
        duration, top = features.duration, float(rms.max()) if rms.size else 0.0
    else:
        if sr is None:
            raise InputError("waveform_figure needs sr= (the sample rate in Hz) with samples, e.g. sr=22050")
        data = _check_samples(samples_or_features, sr, "waveform_figure")
        times, low, high = _envelope(data, float(sr), max_points)
        trace = _band(times, low, high, name="waveform", colour=WAVE_COLOUR,
                      hover="%{x:.2f} s: %{y:.3f}<extra></extra>")
        duration, top = len(data) / float(sr), float(high.max())
    marks = _beat_times(features, beats)
    fig = go.Figure(trace)
    peak = max(top, 1e-3) * 1.1
    if len(marks):
        fig.add_trace(_beat_markers(marks, peak))
        fig.update_layout(shapes=_beat_lines(marks))
    what = trace.name[0].upper() + trace.name[1:]
    fig.update_layout(
        title=title if title is not None else f"{what}, {len(marks)} beat(s) marked",
        xaxis={"title": "time (s)", "range": [0, duration]},
        yaxis={"title": "amplitude", "range": [-peak, peak * 1.08], "zeroline": False},
        height=height, margin={"t": 50, "b": 40, "l": 60, "r": 20}, showlegend=False,
    )
    return fig


def _matrix_view(features, kind: str, max_frames: int) -> dict:
    """What :func:`spectrogram_figure` draws for ``kind``: the pooled matrix, axes and colours."""
    import numpy as np

    from ..extract.audio import _hz_to_mel, _mel_to_hz

    if kind not in SPECTROGRAM_KINDS:
        raise InputError(f"kind must be one of {', '.join(map(repr, SPECTROGRAM_KINDS))}, not {kind!r}")
    times = features.times
    if kind == "mel":
        mel = np.asarray(features.mel, dtype=np.float64)
        group = max(1, mel.shape[0] // MEL_BANDS_SHOWN)
        bands = mel.shape[0] // group
        mel = mel[: bands * group].reshape(bands, group, -1).mean(axis=1)
        z, t = _pool_columns(mel, times, max_frames)
        centres = _mel_to_hz(np.linspace(_hz_to_mel(0.0)[0], _hz_to_mel(features.sr / 2.0)[0],
                                          features.mel.shape[0] + 2))[1:-1]
        centres = centres[: bands * group].reshape(bands, group).mean(axis=1)
        marks = [f for f in (250, 500, 1000, 2000, 4000, 8000, 16000) if centres[0] <= f <= centres[-1]]
        tickvals = [float(np.interp(f, centres, np.arange(bands))) for f in marks]
        ticktext = [f"{f // 1000}k" if f >= 1000 else str(f) for f in marks]
        # dB relative to the loudest cell, whole dB from -80 to 0: one byte per cell is plenty to draw
        z = np.clip(np.round(z - z.max()), -MEL_TOP_DB, 0).astype(np.int8)
        return {"z": z, "times": t, "rows": bands, "tickvals": tickvals, "ticktext": ticktext,
                "title": "mel spectrogram (dB below the loudest cell)", "axis": "frequency (Hz, mel scale)",
                "colorscale": "Magma", "zmin": -MEL_TOP_DB, "zmax": 0.0, "zmid": None, "unit": "dB",
                "hover": "%{x:.2f} s, mel band %{y}: %{z} dB<extra></extra>"}
    if kind == "chroma":
        z, t = _pool_columns(np.asarray(features.chroma, dtype=np.float64), times, max_frames)
        return {"z": z, "times": t, "rows": 12, "tickvals": list(range(12)), "ticktext": list(PITCH_CLASS_NAMES),
                "title": "chroma (energy per pitch class)", "axis": "pitch class", "colorscale": "Blues",
                "zmin": 0.0, "zmax": 1.0, "zmid": None, "unit": "",
                "hover": "%{x:.2f} s, pitch class %{y}: %{z:.2f}<extra></extra>"}
    z, t = _pool_columns(np.asarray(features.mfcc, dtype=np.float64), times, max_frames)
    spread = float(np.percentile(np.abs(z[2:]), 98)) if z.shape[0] > 2 else float(np.abs(z).max())
    spread = spread if spread > 0 else 1.0
    return {"z": z, "times": t, "rows": z.shape[0], "tickvals": list(range(0, z.shape[0], 2)),
            "ticktext": [str(i) for i in range(0, z.shape[0], 2)],
            "title": "MFCC (timbre; colours fit coefficients 2-19, so 0 and 1 saturate)",
            "axis": "coefficient", "colorscale": "RdBu_r", "zmin": -spread, "zmax": spread, "zmid": 0.0,
            "unit": "", "hover": "%{x:.2f} s, MFCC %{y}: %{z:.1f}<extra></extra>"}


def _heatmap(view: dict, *, name: str, colorbar: dict):
    import numpy as np
    import plotly.graph_objects as go

    z = view["z"]
    return go.Heatmap(
        z=z if z.dtype == np.int8 else z.astype(np.float32),
        x=np.asarray(view["times"], dtype=np.float32), y=np.arange(view["rows"]),
        name=name, colorscale=view["colorscale"], zmin=view["zmin"], zmax=view["zmax"], zmid=view["zmid"],
        hovertemplate=view["hover"], colorbar={"thickness": 12, **colorbar},
    )


def spectrogram_figure(features, *, kind: str = "mel", beats=True, max_frames: int = MAX_FRAMES,
                       height: int = 320, title=None):
    """Plot one frame matrix of :class:`~scoringkit.extract.AudioFeatures` against time.

    * ``kind="mel"``: the mel spectrogram in dB: energy in 128 bands spaced like pitch
      perception (about even below 1 kHz, logarithmic above), averaged in pairs to 64 for
      drawing, in whole dB below the loudest cell, from -80 to 0 (stored as int8).
    * ``kind="chroma"``: the energy of each of the 12 pitch classes (C, C#, ... B, all
      octaves folded together), each frame scaled to a maximum of 1: harmony and key.
    * ``kind="mfcc"``: the 20 mel-frequency cepstral coefficients: the shape of the
      spectrum (timbre): coefficient 0 is the overall level, 1 the balance of low against
      high bands, higher ones finer detail. Blue is below zero, red above; the colours are
      fitted to coefficients 2-19, so the much larger 0 and 1 saturate.

    Parameters
    ----------
    features : AudioFeatures
        From :func:`scoringkit.audio_features` with ``frames=True`` (the default).
    kind : {"mel", "chroma", "mfcc"}
    beats : bool or array_like of float
        ``True``: mark ``features.beats`` (triangles above the matrix and thin lines
        through it); ``False``: none; or your own beat times in seconds.
    max_frames : int
        Most columns drawn (>= 2); neighbouring frames are averaged down to it.
    height : int
    title : str, optional

    Returns
    -------
    plotly.graph_objects.Figure
        A heatmap trace named after ``kind`` (``z`` of shape ``(rows, columns)``, ``x`` the
        column times in seconds, ``y`` the row numbers), then, with beats, a marker trace
        ``"beats"`` and one line per beat (layout shapes, up to 400).

    Raises
    ------
    InputError
        Not AudioFeatures, features without frames, an unknown ``kind`` (the message lists
        the valid ones).

    Examples
    --------
    >>> import numpy as np
    >>> import scoringkit as sk
    >>> import scoringkit.nb
    >>> sr = 22050
    >>> a440 = 0.5 * np.sin(2 * np.pi * 440 * np.arange(2 * sr) / sr)
    >>> fig = sk.nb.spectrogram_figure(sk.audio_features(a440, sr=sr), kind="chroma")
    >>> heat = fig.data[0]
    >>> heat.name, np.asarray(heat.z).shape[0], int(np.asarray(heat.z).mean(axis=1).argmax())   # row 9 is A
    ('chroma', 12, 9)
    """
    import plotly.graph_objects as go

    _check_features(features, "spectrogram_figure")
    view = _matrix_view(features, kind, _check_max(max_frames, "max_frames"))
    fig = go.Figure(_heatmap(view, name=kind, colorbar={"title": {"text": view["unit"]}}))
    marks = _beat_times(features, None if beats is True else beats)
    if len(marks):
        fig.add_trace(_beat_markers(marks, view["rows"] - 0.5 + 0.06 * view["rows"]))
        fig.update_layout(shapes=_beat_lines(marks))
    fig.update_layout(
        title=title if title is not None else view["title"][0].upper() + view["title"][1:],
        xaxis={"title": "time (s)", "range": [0, features.duration]},
        yaxis={"title": view["axis"], "tickvals": view["tickvals"], "ticktext": view["ticktext"],
               "range": [-0.5, view["rows"] - 0.5 + 0.1 * view["rows"]]},
        height=height, margin={"t": 50, "b": 40, "l": 70, "r": 20}, showlegend=False,
    )
    return fig


def features_figure(features, *, audio=None, sr=None, beats=True, max_frames: int = MAX_FRAMES,
                    height: int = 860, title=None):
    """Plot a clip's features stacked on one time axis, with the beat grid running through them.

    Four panels share the time axis, so zooming one zooms all: the waveform (or, without
    ``audio``, the RMS envelope), the mel spectrogram (dB), the chroma and the MFCCs (see
    :func:`waveform_figure` and :func:`spectrogram_figure` for each). The beats found by
    the beat tracker are triangles above the waveform and thin red lines through every
    panel: the *beat grid*. Check it by eye (do the lines fall on the onsets, the
    vertical stripes of the mel spectrogram?) and by ear (:func:`scoringkit.synth.mix_clicks`).

    Parameters
    ----------
    features : AudioFeatures
        From :func:`scoringkit.audio_features` with ``frames=True``.
    audio : array_like of float, optional
        The clip's samples, for the top panel (needs ``sr``).
    sr : float, optional
        Sample rate of ``audio`` in Hz.
    beats : bool or array_like of float
        ``True``: ``features.beats``; ``False``: no beat grid; or beat times in seconds.
    max_frames : int
        Most columns per matrix (>= 2).
    height : int
    title : str, optional
        Default: the tempo, key and number of beats.

    Returns
    -------
    plotly.graph_objects.Figure
        Traces in order: ``"waveform"`` (or ``"RMS envelope"``), ``"mel"``, ``"chroma"``,
        ``"mfcc"`` (heatmaps, on rows 2-4), then ``"beats"`` (markers, row 1) when there are
        beats; one vertical line per beat as a layout shape spanning all panels (up to 400).

    Raises
    ------
    InputError
        As :func:`spectrogram_figure`; ``audio`` without ``sr`` or with bad samples.

    Examples
    --------
    >>> import scoringkit as sk
    >>> import scoringkit.nb
    >>> clip = sk.nb.example_clip("Q3 sad / depressed · piano")
    >>> f = sk.audio_features(clip.audio, sr=clip.sr)
    >>> fig = sk.nb.features_figure(f)
    >>> [trace.name for trace in fig.data][:4]
    ['RMS envelope', 'mel', 'chroma', 'mfcc']
    >>> len(fig.layout.shapes) == len(f.beats)
    True
    """
    import numpy as np
    from plotly.subplots import make_subplots

    _check_features(features, "features_figure")
    max_frames = _check_max(max_frames, "max_frames")
    fig = make_subplots(
        rows=4, cols=1, shared_xaxes=True, vertical_spacing=0.045, row_heights=[0.18, 0.36, 0.2, 0.26],
        subplot_titles=("Waveform" if audio is not None else "RMS envelope", "Mel spectrogram (dB)",
                        "Chroma (energy per pitch class)", "MFCC (timbre; colours fit coefficients 2-19)"),
    )
    if audio is not None:
        if sr is None:
            raise InputError("features_figure needs sr= (the sample rate of audio in Hz) with audio=")
        wave = waveform_figure(audio, sr=sr, beats=False)
    else:
        wave = waveform_figure(features, beats=False)
    top = float(np.max(np.abs(wave.data[0].y))) * 1.1 if len(wave.data[0].y) else 1.0
    fig.add_trace(wave.data[0], row=1, col=1)
    for row, kind in enumerate(SPECTROGRAM_KINDS, start=2):
        view = _matrix_view(features, kind, max_frames)
        domain = fig.layout[f"yaxis{row}"].domain
        colorbar = {"title": {"text": view["unit"]}, "y": (domain[0] + domain[1]) / 2, "len": domain[1] - domain[0],
                    "yanchor": "middle"}
        fig.add_trace(_heatmap(view, name=kind, colorbar=colorbar), row=row, col=1)
        fig.update_yaxes(title_text=view["axis"], tickvals=view["tickvals"], ticktext=view["ticktext"],
                         range=[-0.5, view["rows"] - 0.5], row=row, col=1)
    marks = _beat_times(features, None if beats is True else beats)
    if len(marks):
        fig.add_trace(_beat_markers(marks, top), row=1, col=1)
        fig.update_layout(shapes=_beat_lines(marks))
    fig.update_yaxes(title_text="amplitude", range=[-top, top * 1.12], zeroline=False, row=1, col=1)
    fig.update_xaxes(range=[0, features.duration])
    fig.update_xaxes(title_text="time (s)", row=4, col=1)
    if title is None:
        tempo = "no steady tempo" if features.tempo is None else f"{features.tempo:.1f} BPM"
        title = f"{features.duration:.1f} s · {tempo} · {features.key or 'no key'} · {len(marks)} beats marked"
    fig.update_layout(title=title, height=height, showlegend=False, margin={"t": 70, "b": 40, "l": 80, "r": 30})
    return fig


# -- the summary table ------------------------------------------------------------------------
def _summary_rows(features, emotion=None, asked=None, *, emotion_failed: bool = False) -> list:
    """``(what, measured, asked for)`` rows of :func:`features_table` (asked for may be ``""``)."""
    asked_emotion = getattr(asked, "emotion", None) if asked is not None else None
    if features.tempo is None:
        tempo = f"no steady pulse found (confidence {features.tempo_confidence:.2f} < 0.2)"
    else:
        tempo = f"{features.tempo:.1f} BPM (confidence {features.tempo_confidence:.2f})"
    key = "none (silence)" if features.key is None else f"{features.key} (clarity {features.key_clarity:.2f})"
    loud = "silent" if features.loudness is None else f"{features.loudness:.1f} LUFS"
    rows = [
        ("duration", f"{features.duration:.1f} s", ""),
        ("tempo", tempo, "" if asked is None else f"{asked.tempo:.1f} BPM"),
        ("beats found", f"{len(features.beats)}", ""),
        ("key", key, "" if asked is None else str(asked.key)),
        ("loudness", f"{loud}, RMS level {features.rms_dbfs:.1f} dBFS", ""),
        ("onset density", f"{features.onset_density:.2f} onsets/s", ""),
        ("brightness", f"spectral centroid {features.summary()['centroid_mean']:.0f} Hz", ""),
    ]
    if emotion is not None or asked_emotion is not None:
        def describe(e):
            return (f"Q{e.quadrant} {e.quadrant_name} · valence {e.valence:+.2f} · arousal {e.arousal:+.2f}"
                    if e is not None else "")

        source = f" ({emotion.source})" if emotion is not None and emotion.source else ""
        missing = "could not be estimated" if emotion_failed else "not estimated (pass emotion=)"
        rows.append((f"emotion{source}", describe(emotion) or missing, describe(asked_emotion)))
    return rows


def _table_html(rows, *, caption: str = "", asked: bool = False) -> str:
    head = "<tr><th style='text-align:left'>feature</th><th style='text-align:left'>measured</th>"
    head += "<th style='text-align:left'>asked for</th></tr>" if asked else "</tr>"
    body = "\n".join(
        "<tr>" + "".join(f"<td style='text-align:left'>{html.escape(str(cell))}</td>"
                         for cell in (row if asked else row[:2])) + "</tr>"
        for row in rows
    )
    cap = ""
    if caption:
        cap = f"<caption style='caption-side:top;text-align:left'><b>{html.escape(caption)}</b></caption>"
    return f"<table>{cap}\n<thead>{head}</thead>\n<tbody>\n{body}\n</tbody></table>"


def features_table(features, *, emotion=None, asked=None, caption: str = ""):
    """Show the headline features of a clip as a table: tempo, key, loudness, onsets, emotion.

    Parameters
    ----------
    features : AudioFeatures
        From :func:`scoringkit.audio_features` (``frames=False`` is fine).
    emotion : Emotion, optional
        An estimate of the clip's emotion, e.g. ``scoringkit.music_emotion(features)``.
    asked : MusicalIntent, optional
        What the clip was composed from (:func:`scoringkit.emotion_to_intent`): adds an
        *asked for* column with its tempo, key and emotion, to compare with what was measured.
    caption : str
        A title above the table.

    Returns
    -------
    IPython.display.HTML
        One row each for duration, tempo (with the tracker's confidence), beats found, key
        (with its clarity), loudness (integrated LUFS and RMS dBFS), onset density,
        brightness (spectral centroid) and, with ``emotion`` or ``asked``, the emotion.

    Examples
    --------
    >>> import scoringkit as sk
    >>> import scoringkit.nb
    >>> clip = sk.nb.example_clip("Q1 happy / excited · piano")
    >>> f = sk.audio_features(clip.audio, sr=clip.sr)
    >>> table = sk.nb.features_table(f, asked=clip.intent)
    >>> table.data.count("<tr>"), "BPM" in table.data, "asked for" in table.data
    (9, True, True)
    """
    from IPython.display import HTML

    _check_features(features, "features_table", frames=False)
    return HTML(_table_html(_summary_rows(features, emotion, asked), caption=caption, asked=asked is not None))


# -- example clips -------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class ExampleClip:
    """One example clip of the project: composed by scoringkit, rendered, never downloaded.

    Attributes
    ----------
    name : str
        Its key in :data:`EXAMPLE_CLIPS`.
    emotion : Emotion
        The emotion it was composed for.
    intent : MusicalIntent
        The composer's brief (tempo, key, instruments, ...), from :func:`scoringkit.emotion_to_intent`.
    score : Score
        The composed music.
    audio : numpy.ndarray
        float32 mono samples (read-only: the clip is cached and shared).
    sr : int
        Sample rate of ``audio``.
    """

    name: str
    emotion: object
    intent: object
    score: object
    audio: object
    sr: int

    def __repr__(self) -> str:
        return (f"ExampleClip({self.name!r}, {len(self.audio) / self.sr:.1f} s at {self.sr} Hz, "
                f"{self.intent.tempo:.1f} BPM, {self.intent.key})")


def example_clip(name: str, *, sr: int = 22050) -> ExampleClip:
    """Compose and render one of the project's example clips (cached: the second call is free).

    Each clip is :data:`EXAMPLE_SECONDS` of music for a point of the valence/arousal plane,
    composed with ``scoringkit.compose`` (rules) and rendered with ``scoringkit.render``:
    the *ensemble* clips use the instruments the mapping chose, the *piano* clips play every
    part on a piano (General MIDI program 0).

    Parameters
    ----------
    name : str
        A key of :data:`EXAMPLE_CLIPS`, e.g. ``"Q1 happy / excited · ensemble"``.
    sr : int
        Sample rate of the render in Hz.

    Returns
    -------
    ExampleClip

    Raises
    ------
    InputError
        An unknown name (the message lists the valid ones).

    Examples
    --------
    >>> import scoringkit.nb
    >>> clip = scoringkit.nb.example_clip("Q4 calm / tender · piano")
    >>> clip.emotion.quadrant, set(clip.intent.instruments.values()), clip.audio.dtype
    (4, {0}, dtype('float32'))
    """
    if name not in EXAMPLE_CLIPS:
        raise InputError(f"no example clip {name!r}; choose one of: " + ", ".join(map(repr, EXAMPLE_CLIPS)))
    if isinstance(sr, bool) or not isinstance(sr, numbers.Integral):
        raise InputError(f"sr must be an integer sample rate in Hz, got {sr!r}")
    return _example_clip(name, int(sr))


@lru_cache(maxsize=32)
def _example_clip(name: str, sr: int) -> ExampleClip:
    from ..generate import compose
    from ..mapping import emotion_to_intent
    from ..synth import render
    from ..types import Emotion

    valence, arousal, band, seed = EXAMPLE_CLIPS[name]
    emotion = Emotion(valence, arousal)
    intent = emotion_to_intent(emotion)
    if band == "piano":
        reasons = dict(intent.reasons)
        reasons["instruments"] = ("every part on a piano (program 0), like the solo-piano EMOPIA clips "
                                  "the audio emotion model learned from")
        intent = dataclasses.replace(intent, instruments={part: 0 for part in intent.instruments}, reasons=reasons)
    score = compose(intent, duration=EXAMPLE_SECONDS, seed=seed)
    audio = render(score, sr=sr)
    audio.setflags(write=False)
    return ExampleClip(name, emotion, intent, score, audio, sr)


# -- the widget ------------------------------------------------------------------------------------
def _wav_bytes(samples, sr: int) -> bytes:
    """16-bit PCM mono WAV bytes of ``samples`` (clipped to [-1, 1], never normalised)."""
    import io
    import wave

    import numpy as np

    pcm = (np.clip(np.asarray(samples, dtype=np.float64), -1.0, 1.0) * 32767.0).round().astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(int(sr))
        w.writeframes(pcm.tobytes())
    return buffer.getvalue()


def _uploaded_files(value) -> list:
    """``[(name, bytes), ...]`` from a FileUpload value (ipywidgets 8 tuple, or 7's dict)."""
    if not value:
        return []
    if isinstance(value, dict):  # ipywidgets 7: {name: {"metadata": {...}, "content": bytes}}
        return [(str(name), bytes(item.get("content", b""))) for name, item in value.items()]
    return [(str(item.get("name") or "upload"), bytes(item.get("content", b""))) for item in value]


@dataclasses.dataclass
class _Result:
    name: str
    audio: object
    sr: int
    features: object
    emotion: object
    asked: object
    note: str


class AudioFeaturesWidget:
    """Choose an example clip or upload a file, and see and hear its features.

    For the chosen clip the widget shows

    * a status line (what is shown, or what went wrong),
    * :func:`features_table`: tempo, key, loudness, onset density and the emotion the
      audio model hears (:func:`scoringkit.music_emotion`); for an example clip also what
      it was composed from (*asked for*),
    * two players: the clip, and the clip with a click on every beat the tracker found
      (:func:`scoringkit.synth.mix_clicks`), so you can hear whether the beat grid fits,
    * :func:`features_figure`: waveform, mel spectrogram, chroma and MFCC with the beat grid.

    Example clips are composed and rendered by scoringkit on first use (about a second
    each, then cached; see :func:`example_clip`). An upload can be any audio file that
    :func:`scoringkit.audio_features` reads (WAV, FLAC, OGG, MP3, AIFF) or a MIDI file,
    which is rendered first. A file it cannot use (corrupt, empty, silent, another format,
    over 10 minutes) gives a message in the status line, never a traceback, and the last
    good result stays on screen.

    Display it by ending a cell with ``w.widget`` (a ``VBox``), or with ``w`` itself.

    Parameters
    ----------
    clip : str, optional
        The example clip to show first (a key of :data:`EXAMPLE_CLIPS`); default the first.
        ``None`` with ``show=False`` shows nothing until you choose.
    sr : int
        Sample rate of the example renders and of the players.
    max_play_seconds : float
        The players of an upload hold at most this many seconds (the features cover the
        whole file).
    show : bool
        Analyse ``clip`` at once (default). ``False`` waits for a choice.

    Attributes
    ----------
    widget : ipywidgets.VBox
        What to display.
    clips : ipywidgets.Dropdown
        The example clips; set ``clips.value`` to choose one from code.
    upload : ipywidgets.FileUpload
        The upload button; it is emptied after each file, so the same file can be sent again.
    status, table : ipywidgets.HTML
        The status line and the features table.
    player, click_player : ipywidgets.Audio
        The clip and the clip with clicks; ``value`` holds WAV bytes (16-bit, not
        normalised; ipywidgets keeps them as a ``memoryview``).
    view : ipywidgets.Output
        Where the figure is drawn.
    figure : plotly.graph_objects.Figure or None
        The figure on screen.
    features : AudioFeatures or None
        Of the clip on screen.
    emotion : Emotion or None
        The audio model's estimate for it (``None`` if it could not be made).
    audio : numpy.ndarray or None
        The samples in the player (mono float32 at :attr:`sr`).
    clicks : numpy.ndarray or None
        The samples in the click player.
    source : str or None
        Name of the clip or file on screen.
    error : str or None
        The latest message of a failure; ``None`` after a success.

    Examples
    --------
    >>> import scoringkit.nb
    >>> w = scoringkit.nb.AudioFeaturesWidget("Q1 happy / excited · piano")
    >>> round(w.features.tempo), bytes(w.player.value[:4]), w.error is None
    (128, b'RIFF', True)
    >>> w.load(b"this is not audio", name="notes.txt") is None
    True
    >>> "notes.txt" in w.status.value and w.source == "Q1 happy / excited · piano"
    True
    >>> w.close()
    """

    def __init__(self, clip=None, *, sr: int = 22050, max_play_seconds: float = 120.0, show: bool = True):
        import ipywidgets as widgets

        if clip is not None and clip not in EXAMPLE_CLIPS:
            raise InputError(f"no example clip {clip!r}; choose one of: " + ", ".join(map(repr, EXAMPLE_CLIPS)))
        if isinstance(sr, bool) or not isinstance(sr, numbers.Integral) or not 8000 <= sr <= 48000:
            raise InputError(f"sr must be an integer sample rate from 8000 to 48000 Hz, got {sr!r}")
        if isinstance(max_play_seconds, bool) or not isinstance(max_play_seconds, numbers.Real) \
                or not max_play_seconds > 0:
            raise InputError(f"max_play_seconds must be a positive number, got {max_play_seconds!r}")
        self.sr = int(sr)
        self.max_play_seconds = float(max_play_seconds)
        self.features = self.emotion = self.audio = self.clicks = self.figure = None
        self.source = self.error = None
        if show and clip is None:
            clip = next(iter(EXAMPLE_CLIPS))

        self.clips = widgets.Dropdown(options=list(EXAMPLE_CLIPS), value=None, description="Example clip",
                                      layout=widgets.Layout(width="420px"))
        self.upload = widgets.FileUpload(accept=UPLOAD_ACCEPT, multiple=False, description="Upload a file")
        self.status = widgets.HTML(value="")
        self.table = widgets.HTML(value="")
        self.player = widgets.Audio(value=b"", format="wav", autoplay=False, loop=False)
        self.click_player = widgets.Audio(value=b"", format="wav", autoplay=False, loop=False)
        self.click_label = widgets.HTML("<b>with a click on each beat</b>")
        self.view = widgets.Output()
        self.widget = widgets.VBox([
            widgets.HTML("<b>Audio features</b> · choose an example clip (composed by scoringkit) "
                         "or upload a recording (WAV, FLAC, OGG, MP3, AIFF) or a MIDI file"),
            widgets.HBox([self.clips, self.upload]),
            self.status,
            widgets.HBox([
                self.table,
                widgets.VBox([widgets.HTML("<b>the clip</b>"), self.player, self.click_label, self.click_player],
                             layout=widgets.Layout(margin="0 0 0 24px")),
            ]),
            self.view,
        ])
        self.clips.observe(self._on_clip, names="value")
        self.upload.observe(self._on_upload, names="value")
        if clip is not None:
            self.clips.value = clip  # analyses it through _on_clip
        else:
            self._show_status("<span style='color:#666'>Choose an example clip or upload a file.</span>")

    # -- public ------------------------------------------------------------------------------
    def select(self, name: str):
        """Show example clip ``name`` (a key of :data:`EXAMPLE_CLIPS`). Never raises.

        Returns
        -------
        AudioFeatures or None
            Its features, or ``None`` if it failed (see :attr:`error`).
        """
        try:
            clip = example_clip(name, sr=self.sr)
        except Exception as err:  # noqa: BLE001 - a widget callback must never raise into the kernel
            return self._fail(str(err) if isinstance(err, InputError) else f"unexpected {type(err).__name__}: {err}")
        return self._analyse(name, clip.audio, clip.sr, asked=clip.intent,
                             note=f"composed by scoringkit for quadrant {clip.emotion.quadrant} "
                                  f"(valence {clip.emotion.valence:+.1f}, arousal {clip.emotion.arousal:+.1f})")

    def load(self, data, *, name: str = "upload", sr=None):
        """Show an uploaded file (its bytes) or an array of samples (with ``sr``). Never raises.

        Parameters
        ----------
        data : bytes or array_like
            The contents of an audio file (WAV, FLAC, OGG, MP3, AIFF, ...) or of a MIDI
            file (rendered first), or mono samples.
        name : str
            Shown in the status line and in messages (e.g. the file name).
        sr : float, optional
            Sample rate of an array.

        Returns
        -------
        AudioFeatures or None
            Its features, or ``None`` if it failed (the message is in :attr:`error` and
            the status line; the previous result stays on screen).
        """
        from ..errors import ScoringKitError

        name = str(name) or "upload"
        try:
            audio, rate, note, file_bytes = self._decode(data, name, sr)
        except ScoringKitError as err:
            return self._fail(f"{name}: {err}")
        except Exception as err:  # noqa: BLE001
            return self._fail(f"could not read {name}: unexpected {type(err).__name__}: {err}")
        return self._analyse(name, audio, rate, data=file_bytes, note=note)

    def close(self) -> None:
        """Stop observing and close the widgets."""
        for widget, callback in ((self.clips, self._on_clip), (self.upload, self._on_upload)):
            try:
                widget.unobserve(callback, names="value")
            except ValueError:
                pass
        for child in (self.clips, self.upload, self.status, self.table, self.player, self.click_player,
                      self.click_label, self.view, self.widget):
            child.close()

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def __repr__(self) -> str:
        state = f"error={self.error!r}" if self.error else f"features={self.features!r}"
        return f"AudioFeaturesWidget(source={self.source!r}, {state})"

    # -- internals -------------------------------------------------------------------------------
    def _on_clip(self, change) -> None:
        if change["new"] is not None:
            self.select(change["new"])

    def _on_upload(self, change) -> None:
        files = _uploaded_files(change["new"])
        if not files:
            return
        name, data = files[-1]
        try:
            self.load(data, name=name)
        finally:
            try:
                self.upload.value = ()  # so the same file can be uploaded again
            except Exception:  # noqa: BLE001 - older ipywidgets: the value cannot be reset
                pass

    def _decode(self, data, name: str, sr):
        """``(samples, sr, note, file bytes or None)``; raises InputError for what cannot be used.

        The samples are what the players play (at most ``max_play_seconds`` of a file); the
        features are computed from the file's own bytes when there are some, so a long file
        is analysed whole and loudness is measured per channel.
        """
        import numpy as np

        from ..extract.load import load_audio

        if isinstance(data, memoryview):
            data = data.tobytes()
        if isinstance(data, (bytes, bytearray)):
            data = bytes(data)
            if not data:
                raise InputError("the file is empty (0 bytes); upload a file with audio in it")
            if data[:4] == b"MThd" or name.lower().endswith(_MIDI_SUFFIXES):
                from ..synth import render
                from ..types import Score

                score = Score.from_midi(data)
                if not score.n_notes:
                    raise InputError("the MIDI file has no notes to play; upload one with notes in it")
                return render(score, sr=self.sr), self.sr, f"MIDI file, rendered by scoringkit at {self.sr} Hz", None
            audio, rate = load_audio(data, sr=self.sr, max_seconds=self.max_play_seconds)
            return audio, rate, "uploaded file", data
        if sr is None:
            raise InputError("samples need their sample rate: call load(samples, sr=22050)")
        audio, rate = load_audio(np.asarray(data), sr=self.sr, source_sr=sr, max_seconds=None)
        return audio, rate, "samples", None

    def _analyse(self, name, audio, sr, *, asked=None, data=None, note=""):
        from ..errors import ScoringKitError
        from ..extract.audio import audio_features

        self._show_status(f"<span style='color:#666'>analysing {html.escape(name)} …</span>")
        try:
            # a file's own bytes give exact loudness per channel; otherwise the samples shown
            features = audio_features(data) if data is not None else audio_features(audio, sr=sr)
            if features.silent:
                raise InputError("the audio is silent (every frame below -90 dBFS), so it has no tempo, key "
                                 "or emotion to find; use a recording with sound in it")
        except ScoringKitError as err:
            return self._fail(f"{name}: {err}")
        except Exception as err:  # noqa: BLE001
            return self._fail(f"could not analyse {name}: unexpected {type(err).__name__}: {err}")
        result = _Result(name, audio, sr, features, self._emotion_of(features), asked, note)
        if result.emotion is None:
            result.note += " (its emotion could not be estimated)"
        try:
            self._draw(result)
        except Exception as err:  # noqa: BLE001
            return self._fail(f"could not draw {name} ({type(err).__name__}: {err})")
        return features

    @staticmethod
    def _emotion_of(features):
        from ..fuse import music_emotion

        try:
            return music_emotion(features)
        except Exception:  # noqa: BLE001 - the table says it could not be estimated
            return None

    def _draw(self, result: _Result) -> None:
        from ..synth import mix_clicks
        from . import _show_in_output

        features = result.features
        whole = len(result.audio) / result.sr >= features.duration - 0.5  # else the players hold a preview
        figure = features_figure(features, audio=result.audio if whole else None, sr=result.sr, title=result.name)
        clicks = mix_clicks(result.audio, features.beats, sr=result.sr)
        rows = _summary_rows(features, result.emotion, result.asked, emotion_failed=result.emotion is None)
        if result.emotion is None and result.asked is None:
            rows.append(("emotion", "could not be estimated", ""))
        self.table.value = _table_html(rows, asked=result.asked is not None)
        self.player.value = _wav_bytes(result.audio, result.sr)
        self.click_player.value = _wav_bytes(clicks, result.sr)
        shown = len(result.audio) / result.sr
        label = "<b>with a click on each beat</b>"
        if not len(features.beats):
            label += " <i>(no beats found, so no clicks)</i>"
        elif shown < features.duration - 0.5:
            label += f" <i>(first {shown:.0f} s)</i>"
        self.click_label.value = label
        _show_in_output(self.view, figure)
        self.figure, self.features, self.emotion = figure, features, result.emotion
        self.audio, self.clicks, self.source, self.error = result.audio, clicks, result.name, None
        if result.asked is None and self.clips.value is not None:
            self.clips.unobserve(self._on_clip, names="value")
            try:
                self.clips.value = None  # an upload is on screen: any clip can be chosen again
            finally:
                self.clips.observe(self._on_clip, names="value")
        tempo = "no steady tempo" if features.tempo is None else f"{features.tempo:.1f} BPM"
        self._show_status(
            f"<b>{html.escape(result.name)}</b> · {html.escape(result.note)} · {features.duration:.1f} s · "
            f"{tempo} · {html.escape(features.key or 'no key')}"
        )

    def _fail(self, message: str):
        import re

        # libsndfile names an in-memory file by its Python repr; say "the file" instead
        message = re.sub(r"<_io\.BytesIO object at 0x[0-9a-fA-F]+>", "the file", message)
        self.error = message
        still = f" (still showing {html.escape(self.source)})" if self.source else ""
        self._show_status(f"<span style='color:#b00020'>⚠ {html.escape(message)}</span>{still}")
        return None

    def _show_status(self, markup: str) -> None:
        self.status.value = markup
