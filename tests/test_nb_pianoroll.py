"""Tests of scoringkit.nb.pianoroll: the piano roll of any Score, in seconds."""

from __future__ import annotations

import time

import pytest

import scoringkit as sk
import scoringkit.nb as nb
from scoringkit.errors import InputError
from scoringkit.nb.pianoroll import _change_marks, pitch_name, program_name


@pytest.fixture(scope="module")
def excited():
    """A composed cue with drums (quadrant 1, high arousal)."""
    return sk.compose(sk.Emotion(0.7, 0.8), duration=8, seed=1)


def by_track(fig, name):
    return next(trace for trace in fig.data if trace.name == name or trace.name.startswith(f"{name} · "))


def test_one_trace_per_track_with_its_notes(excited):
    fig = nb.piano_roll(excited)
    tracks = [t for t in excited.tracks if t.notes]
    assert any(t.is_drum for t in tracks)
    assert len(fig.data) == len(tracks)
    for track in tracks:
        trace = by_track(fig, track.name)
        assert len(trace.x) == len(track.notes)
        if track.is_drum:
            assert trace.type == "scatter" and trace.mode == "markers" and trace.yaxis == "y2"
        else:
            assert trace.type == "bar" and trace.orientation == "h"
            assert list(trace.y) == [n.pitch for n in track.notes]
    assert len(fig.layout.shapes) == 0  # no shape per note (nor per bar)


def test_notes_are_placed_in_seconds(excited):
    fig = nb.piano_roll(excited)
    melody = excited.track("melody")
    trace = by_track(fig, "melody")
    assert list(trace.base) == pytest.approx([excited.seconds_at(n.start) for n in melody.notes], abs=1e-3)
    assert list(trace.x) == pytest.approx(
        [excited.seconds_at(n.end) - excited.seconds_at(n.start) for n in melody.notes], abs=1e-3)
    assert fig.layout.xaxis.range[1] >= excited.duration


def test_tempo_map_bar_lines_and_change_marks(example_soundtrack):
    score = example_soundtrack.score
    assert len(score.tempo_map) > 6  # cue changes with tempo ramps
    fig = nb.piano_roll(score)
    for track in score.tracks:
        if track.notes and not track.is_drum:
            trace = by_track(fig, track.name)
            assert list(trace.base) == pytest.approx([score.seconds_at(n.start) for n in track.notes], abs=1e-3)
    bars = list(fig.layout.xaxis.minor.tickvals)
    assert bars[0] == 0 and bars[-1] >= score.duration - 1e-3
    assert bars == pytest.approx([score.seconds_at(k * score.beats_per_bar) for k in range(len(bars))], abs=1e-3)
    # one dotted line per cue boundary: each tempo ramp collapses into one mark where it ends
    marks = _change_marks(score)
    assert len(fig.layout.shapes) == len(marks) == len(example_soundtrack.cues) - 1
    texts = [a.text for a in fig.layout.annotations]
    for cue in example_soundtrack.cues[1:]:
        assert any(cue.intent.key in text for text in texts)


def test_hover_names_pitch_time_bar_and_velocity(excited):
    trace = by_track(nb.piano_roll(excited), "melody")
    note = excited.track("melody").notes[0]
    first = [str(value) for value in trace.customdata[0]]
    assert first[0] == pitch_name(note.pitch) and first[1] == str(note.pitch)
    assert first[3] == "1" and first[-1] == str(note.velocity)  # bar 1, velocity
    for word in ("start", "bar", "length", "velocity"):
        assert word in trace.hovertemplate


def test_track_names_colours_and_drawing_order(excited):
    fig = nb.piano_roll(excited)
    assert by_track(fig, "melody").name == f"melody · {program_name(excited.track('melody').program)}"
    pitched = [trace for trace in fig.data if trace.type == "bar"]
    assert pitched[-1].name.startswith("melody")  # drawn last, on top
    ranks = {trace.name.split(" · ")[0]: trace.legendrank for trace in fig.data}
    order = [t.name for t in excited.tracks if t.notes]
    assert sorted(order, key=ranks.get) == order  # the legend keeps the score's order
    assert len({trace.marker.color for trace in fig.data}) == len(fig.data)


def test_drums_can_be_left_out_with_a_note(excited):
    fig = nb.piano_roll(excited, drums=False)
    hits = len(excited.track("drums").notes)
    assert all(trace.type == "bar" for trace in fig.data)
    assert f"{hits} drum hits not shown" in fig.layout.title.text


def test_drum_lane_rows_are_drum_names(excited):
    trace = by_track(nb.piano_roll(excited), "drums")
    assert "Bass Drum 1" in set(trace.y) and "Acoustic Snare" in set(trace.y)


def test_custom_title_and_empty_score():
    fig = nb.piano_roll(sk.Score([sk.Track("melody", 0, [])]), title="nothing")
    assert len(fig.data) == 0 and fig.layout.title.text.startswith("nothing") and "no notes" in fig.layout.title.text


def test_midi_round_trip_score_works(tmp_path, tiny_score):
    path = tmp_path / "tiny.mid"
    tiny_score.to_midi(path)
    fig = nb.piano_roll(sk.Score.from_midi(path))
    assert sum(len(trace.x) for trace in fig.data) == tiny_score.n_notes


def test_thousands_of_notes_stay_fast(example_soundtrack):
    score = example_soundtrack.score
    assert score.n_notes > 1000
    nb.piano_roll(score)  # warm up imports
    start = time.perf_counter()
    fig = nb.piano_roll(score)
    assert time.perf_counter() - start < 3.0
    assert sum(len(trace.x) for trace in fig.data) == score.n_notes


@pytest.mark.parametrize("bad", [None, "score.mid", [sk.Note(60, 0, 1)]])
def test_not_a_score_is_an_input_error(bad):
    with pytest.raises(InputError, match="needs a Score"):
        nb.piano_roll(bad)


def test_pitch_names():
    assert [pitch_name(p) for p in (21, 60, 61, 70, 108)] == ["A0", "C4", "C#4", "Bb4", "C8"]
