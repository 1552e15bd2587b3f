"""Piano rolls: any :class:`~scoringkit.types.Score` as an interactive figure.

A piano roll draws each note as a bar: across is time, up is pitch, and the bar's
length is the note's length. :func:`piano_roll` draws it in **seconds**, through the
score's tempo map (:meth:`Score.seconds_at <scoringkit.types.Score.seconds_at>`), so a
soundtrack whose cues change tempo lines up with its audio; bar lines, tempo and key
changes are marked, and each track has its own colour (click a legend entry to hide or
show a track). Drum notes are not pitches (MIDI key 38 is a snare, not a D), so they
get their own lane underneath, one row per drum.

The figure stays light for thousands of notes: one trace per track (a horizontal
``go.Bar`` with one bar per note), never one layout shape per note, and the bar lines
are the x axis's minor grid rather than shapes. This module is re-exported by
:mod:`scoringkit.nb`: call ``sk.nb.piano_roll(score)``.

Examples
--------
>>> import scoringkit as sk
>>> import scoringkit.nb
>>> score = sk.compose(sk.Emotion(0.7, 0.7), duration=8, seed=1)
>>> fig = sk.nb.piano_roll(score)
>>> for name in sorted(trace.name for trace in fig.data):
...     print(name)
accompaniment · Acoustic Grand Piano
bass · Electric Bass (finger)
counter · Clarinet
drums
melody · Flute
pad · String Ensemble 1
>>> melody = next(trace for trace in fig.data if trace.name.startswith("melody"))
>>> len(melody.x) == len(score.track("melody").notes)
True
"""

from __future__ import annotations

import math

from ..errors import InputError
from ..types import PITCH_CLASS_NAMES, Score

__all__ = ["piano_roll", "pitch_name", "program_name", "drum_name", "TRACK_COLOURS"]

#: Colours of the composer's roles; other track names take :data:`EXTRA_COLOURS` in turn.
TRACK_COLOURS = {
    "melody": "#d62728",
    "accompaniment": "#1f77b4",
    "pad": "#9467bd",
    "bass": "#2ca02c",
    "drums": "#444444",
    "leitmotif": "#ff7f0e",
}
EXTRA_COLOURS = ("#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#bcbd22", "#7f7f7f")
#: Height of a note bar in semitones (1 would make neighbouring pitches touch).
BAR_HEIGHT = 0.8
#: Most tempo/key change markers drawn (a long soundtrack has one per cue).
MAX_CHANGE_MARKERS = 40


def pitch_name(pitch: int) -> str:
    """Scientific pitch name of a MIDI number: 60 → ``"C4"``, 70 → ``"Bb4"``.

    Examples
    --------
    >>> pitch_name(60), pitch_name(70), pitch_name(21)
    ('C4', 'Bb4', 'A0')
    """
    pitch = int(pitch)
    return f"{PITCH_CLASS_NAMES[pitch % 12]}{pitch // 12 - 1}"


def program_name(program: int) -> str:
    """The General MIDI instrument name of a program number 0-127: 73 → ``"Flute"``.

    Examples
    --------
    >>> program_name(0), program_name(42)
    ('Acoustic Grand Piano', 'Cello')
    """
    import pretty_midi

    return pretty_midi.program_to_instrument_name(int(program))


def drum_name(key: int) -> str:
    """The General MIDI percussion name of a drum key (MIDI channel 10): 38 → ``"Acoustic Snare"``.

    Examples
    --------
    >>> drum_name(36), drum_name(42), drum_name(20)
    ('Bass Drum 1', 'Closed Hi Hat', 'drum key 20')
    """
    import pretty_midi

    return pretty_midi.note_number_to_drum_name(int(key)) or f"drum key {key}"


def _seconds(score: Score, beats):
    """``score.seconds_at`` for an array of beats at once (the same piecewise-linear map)."""
    import numpy as np

    beats = np.asarray(beats, dtype=float)
    knots = np.array([b for b, _ in score.tempo_map])
    bpms = np.array([t for _, t in score.tempo_map])
    at_knots = np.concatenate([[0.0], np.cumsum(np.diff(knots) * 60.0 / bpms[:-1])])
    # a beat exactly on a tempo change belongs to the segment before it, as in Score.seconds_at
    segment = np.clip(np.searchsorted(knots, beats, side="left") - 1, 0, len(knots) - 1)
    return at_knots[segment] + (beats - knots[segment]) * 60.0 / bpms[segment]


def _track_label(track) -> str:
    if track.is_drum:
        return track.name
    label = f"{track.name} · {program_name(track.program)}"
    return label + " (program changes)" if track.program_changes else label


def _change_marks(score) -> list:
    """Beats to mark: key changes, and where a tempo change (or a ramp of them, one per beat) settles."""
    changes = sorted({b for b, _ in score.tempo_map[1:]} | {b for b, _ in score.key_map[1:]})
    marks = []
    for beat in changes:
        if marks and beat - marks[-1] <= 1.0 + 1e-9:
            marks[-1] = beat  # a ramp: keep only where it ends
        else:
            marks.append(beat)
    return marks


def _drawing_order(item):
    """Sort key: sustained tracks first (underneath), the melody (or a leitmotif) last, on top."""
    _, track = item
    on_top = track.name in ("melody", "leitmotif")
    return (on_top, -sum(n.duration for n in track.notes) / len(track.notes))


def piano_roll(score, *, title=None, drums: bool = True, height=None):
    """Draw a score as an interactive piano roll, in seconds.

    Parameters
    ----------
    score : Score
        Any score: from :func:`scoringkit.compose`, a soundtrack's ``.score``, or
        :meth:`Score.from_midi <scoringkit.types.Score.from_midi>`.
    title : str, optional
        Default: the number of notes, length, tempo and key.
    drums : bool
        True (default): drum tracks as markers on their own lane under the pitched notes,
        one row per drum (kick, snare, hi-hat, ...). False: leave them out; a note under
        the title says how many drum hits are hidden.
    height : int, optional
        Figure height in pixels; default 420, plus 150 with a drum lane.

    Returns
    -------
    plotly.graph_objects.Figure
        One trace per track with notes (empty tracks are left out): a pitched track is a
        horizontal ``go.Bar`` named ``"<track> · <GM instrument>"`` with one bar per note
        (``base`` = onset in seconds, ``x`` = length in seconds, ``y`` = MIDI pitch;
        louder notes are more opaque); a drum track is a ``go.Scatter`` of markers named
        after the track, on the lower subplot (``y`` = drum name). Hover over a note to
        read its pitch name, onset (seconds, bar and beat), length and velocity. The bar
        lines are the x axis's minor grid (``layout.xaxis.minor.tickvals``, in seconds);
        key and tempo changes after the start are dotted vertical lines (layout shapes) labelled
        with the new tempo and key; a tempo ramp (one change per beat) gets one line, where
        it ends.

        The traces are in drawing order: sustained tracks first, so that they lie
        underneath, the ``melody`` last, on top; the legend lists them in the score's order
        (``legendrank``).

    Raises
    ------
    InputError
        If ``score`` is not a :class:`~scoringkit.types.Score`.

    Examples
    --------
    A tempo change halves the speed at beat 4, so the note on beat 6 starts at 4 s:

    >>> import scoringkit as sk
    >>> import scoringkit.nb
    >>> notes = [sk.Note(60 + 2 * b, b, 1, 90) for b in range(8)]
    >>> score = sk.Score([sk.Track("melody", 0, notes)], tempo_map=[(0, 120), (4, 60)])
    >>> fig = sk.nb.piano_roll(score)
    >>> list(fig.data[0].base)[6], list(fig.data[0].x)[6]
    (4.0, 1.0)
    >>> list(fig.layout.xaxis.minor.tickvals)        # bar lines: bar 2 starts at beat 4
    [0.0, 2.0, 6.0]
    """
    import numpy as np
    import plotly.graph_objects as go

    if not isinstance(score, Score):
        raise InputError(
            f"piano_roll needs a Score, not {type(score).__name__}; make one with scoringkit.compose(emotion) "
            "or Score.from_midi(path), or pass a soundtrack's .score"
        )
    pitched = [(i, t) for i, t in enumerate(score.tracks) if t.notes and not t.is_drum]
    drummed = [(i, t) for i, t in enumerate(score.tracks) if t.notes and t.is_drum]
    hidden_hits = 0 if drums else sum(len(t.notes) for _, t in drummed)
    lane = bool(drums and drummed)
    bpb = score.beats_per_bar

    if lane:
        from plotly.subplots import make_subplots

        fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.78, 0.22], vertical_spacing=0.03)
    else:
        fig = go.Figure()

    colours, extra = {}, iter(EXTRA_COLOURS * (1 + len(score.tracks) // len(EXTRA_COLOURS)))
    for _, track in pitched + drummed:
        if track.name not in colours:
            colours[track.name] = TRACK_COLOURS.get(track.name) or next(extra)

    def facts(track, notes):
        starts = np.array([n.start for n in notes], dtype=float)
        ends = np.array([n.end for n in notes], dtype=float)
        onset, offset = _seconds(score, starts), _seconds(score, ends)
        velocity = np.array([n.velocity for n in notes])
        bars = (starts // bpb).astype(int) + 1
        beats = starts - (bars - 1) * bpb + 1
        return onset, offset, velocity, bars, beats, ends - starts

    for index, track in sorted(pitched, key=_drawing_order):
        onset, offset, velocity, bars, beats, lengths = facts(track, track.notes)
        customdata = [
            [pitch_name(n.pitch), n.pitch, f"{s:.2f}", int(b), f"{bt:g}", f"{e - s:.2f}", f"{ln:g}", int(v)]
            for n, s, e, b, bt, ln, v in zip(track.notes, onset, offset, bars, beats, lengths, velocity)
        ]
        trace = go.Bar(
            name=_track_label(track),
            orientation="h",
            y=[n.pitch for n in track.notes],
            base=onset.round(4).tolist(),
            x=(offset - onset).round(4).tolist(),
            width=BAR_HEIGHT,
            marker={"color": colours[track.name], "opacity": (0.3 + 0.7 * velocity / 127).round(3).tolist(),
                    "line": {"width": 0}},
            customdata=customdata,
            hovertemplate=(
                "<b>%{customdata[0]}</b> (MIDI %{customdata[1]})<br>"
                "start %{customdata[2]} s · bar %{customdata[3]}, beat %{customdata[4]}<br>"
                "length %{customdata[5]} s (%{customdata[6]} beats)<br>"
                "velocity %{customdata[7]}<extra>%{fullData.name}</extra>"
            ),
            legendrank=100 + index,
        )
        if lane:
            fig.add_trace(trace, row=1, col=1)
        else:
            fig.add_trace(trace)

    drum_keys = set()
    if lane:
        for index, track in drummed:
            onset, offset, velocity, bars, beats, lengths = facts(track, track.notes)
            names = [drum_name(n.pitch) for n in track.notes]
            drum_keys |= {n.pitch for n in track.notes}
            fig.add_trace(go.Scatter(
                name=track.name,
                x=onset.round(4).tolist(),
                y=names,
                mode="markers",
                marker={"color": colours[track.name], "symbol": "diamond", "size": 7,
                        "opacity": (0.3 + 0.7 * velocity / 127).round(3).tolist()},
                customdata=[[name, n.pitch, f"{s:.2f}", int(b), f"{bt:g}", int(v)]
                            for name, n, s, b, bt, v in zip(names, track.notes, onset, bars, beats, velocity)],
                hovertemplate=(
                    "<b>%{customdata[0]}</b> (key %{customdata[1]})<br>"
                    "start %{customdata[2]} s · bar %{customdata[3]}, beat %{customdata[4]}<br>"
                    "velocity %{customdata[5]}<extra>%{fullData.name}</extra>"
                ),
                legendrank=100 + index,
            ), row=2, col=1)

    end_beat = score.end_beat
    end = score.seconds_at(end_beat) if end_beat > 0 else 1.0
    n_bars = max(1, math.ceil(end_beat / bpb - 1e-9))
    bar_lines = _seconds(score, np.arange(n_bars + 1) * bpb).round(4).tolist()
    grid = {"tickmode": "array", "tickvals": bar_lines, "showgrid": True, "gridcolor": "rgba(0, 0, 0, 0.16)",
            "gridwidth": 1, "ticks": ""}
    x_axis = {"range": [0, end * 1.01], "showgrid": False, "zeroline": False, "minor": grid}
    pitches = [n.pitch for _, t in pitched for n in t.notes]
    low, high = (min(pitches), max(pitches)) if pitches else (48, 72)
    cs = [p for p in range(low - low % 12, high + 1, 12)] or [low - low % 12]
    y_axis = {"title": "pitch", "range": [low - 1.5, high + 1.5], "tickvals": cs,
              "ticktext": [pitch_name(p) for p in cs], "showgrid": True, "gridcolor": "rgba(0, 0, 0, 0.08)",
              "zeroline": False}

    tempi = sorted({round(t) for _, t in score.tempo_map})
    tempo = f"{tempi[0]} BPM" if len(tempi) == 1 else f"{tempi[0]}–{tempi[-1]} BPM"
    keys = list(dict.fromkeys(k for _, k in score.key_map))
    key = keys[0] if len(keys) == 1 else f"{keys[0]} … ({len(keys)} keys)"
    if title is None:
        title = (f"Piano roll: {score.n_notes} notes, {score.duration:.1f} s, {n_bars} bars of "
                 f"{score.meter[0]}/{score.meter[1]}, {tempo}, {key}")
    if hidden_hits:
        title = f"{title}<br><sup>{hidden_hits} drum hits not shown (drums=True shows them on their own lane)</sup>"
    elif not score.n_notes:
        title = f"{title}<br><sup>this score has no notes</sup>"

    fig.update_layout(
        title={"text": title},
        barmode="overlay",
        height=height or (570 if lane else 420),
        hovermode="closest",
        plot_bgcolor="white",
        legend={"orientation": "h", "y": -0.14 if not lane else -0.1, "itemclick": "toggle"},
        margin={"t": 70, "b": 40, "l": 60, "r": 20},
    )
    if lane:
        order = [drum_name(k) for k in sorted(drum_keys)]
        fig.update_xaxes(**x_axis)
        fig.update_xaxes(title="time (s)", row=2, col=1)
        fig.update_yaxes(**y_axis, row=1, col=1)
        fig.update_yaxes(title="drums", categoryorder="array", categoryarray=order, showgrid=True,
                         gridcolor="rgba(0, 0, 0, 0.06)", row=2, col=1)
    else:
        fig.update_layout(xaxis={**x_axis, "title": "time (s)"}, yaxis=y_axis)

    shapes, notes = [], []
    for beat in _change_marks(score)[:MAX_CHANGE_MARKERS]:
        x = round(score.seconds_at(beat), 4)
        bpm = next(t for b, t in reversed(score.tempo_map) if b <= beat)
        shapes.append({"type": "line", "xref": "x", "yref": "paper", "x0": x, "x1": x, "y0": 0, "y1": 1,
                       "line": {"color": "#555555", "width": 1.2, "dash": "dot"}})
        notes.append({"xref": "x", "yref": "paper", "x": x, "y": 1, "xanchor": "left", "yanchor": "bottom",
                      "text": f"{bpm:.0f} BPM · {score.key_at(beat)}", "showarrow": False, "font": {"size": 9}})
    if shapes:  # in one assignment: fig.add_vline copies the layout on every call
        fig.update_layout(shapes=shapes, annotations=list(fig.layout.annotations) + notes)
    return fig
