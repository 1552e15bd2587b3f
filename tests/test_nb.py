"""Tests of scoringkit.nb: the notebook figures, players and tables, run in-process."""

from __future__ import annotations

import io
import subprocess
import sys
import wave

import numpy as np
import pytest

import scoringkit as sk
import scoringkit.nb as nb
from scoringkit.errors import InputError
from scoringkit.synth import TAIL_SECONDS


@pytest.fixture(scope="module")
def soundtrack():
    return sk.score_story("The sea was calm and quiet.\n\nThen the storm came screaming in!", min_words=1)


def wav_samples(player) -> tuple[np.ndarray, int]:
    """The int16 samples and sample rate inside an IPython Audio object's WAV bytes."""
    with wave.open(io.BytesIO(player.data)) as wav:
        assert wav.getnchannels() == 1 and wav.getsampwidth() == 2
        frames = wav.readframes(wav.getnframes())
        return np.frombuffer(frames, dtype="<i2"), wav.getframerate()


def test_import_is_cheap():
    code = "import sys, scoringkit.nb; print(sorted(m for m in ('plotly', 'ipywidgets', 'IPython') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# -- arc_figure ------------------------------------------------------------------------------
def test_arc_figure_has_valence_and_arousal_per_cue(soundtrack):
    fig = nb.arc_figure(soundtrack)
    assert [trace.name for trace in fig.data] == ["valence", "arousal"]
    n = len(soundtrack.cues)
    for trace, attribute in zip(fig.data, ("valence", "arousal")):
        assert len(trace.x) == len(trace.y) == n
        assert all(-1 <= y <= 1 for y in trace.y)
        assert list(trace.y) == pytest.approx([getattr(c.emotion, attribute) for c in soundtrack.cues])
        assert all(c.start < x < c.end for c, x in zip(soundtrack.cues, trace.x))
    assert tuple(fig.layout.yaxis.range) == (-1, 1)
    assert soundtrack.title in fig.layout.title.text


def test_arc_figure_story_goes_from_calm_to_tense(soundtrack):
    valence, arousal = (list(trace.y) for trace in nb.arc_figure(soundtrack).data)
    assert valence[0] > 0 > valence[1]
    assert arousal[0] < 0 < arousal[1]


def test_arc_figure_hover_names_scene_quadrant_tempo_and_key(soundtrack):
    trace = nb.arc_figure(soundtrack).data[0]
    first = [str(value) for value in trace.customdata[0]]
    cue = soundtrack.cues[0]
    assert any("The sea was calm" in value for value in first)
    assert any(cue.emotion.quadrant_name in value for value in first)
    assert cue.intent.key in first
    assert f"{cue.intent.tempo:.0f}" in first
    assert "BPM" in trace.hovertemplate


def test_arc_figure_has_zero_line_and_cue_bands(soundtrack):
    shapes = nb.arc_figure(soundtrack).layout.shapes
    assert any(s.type == "line" and s.y0 == 0 and s.y1 == 0 for s in shapes)
    assert sum(s.type == "rect" for s in shapes) == len(soundtrack.cues)


def test_arc_figure_escapes_scene_text():
    st = sk.score_story("Tom & Jerry <laughed> happily all day.", min_words=1)
    excerpt = nb.arc_figure(st).data[0].customdata[0][3]
    assert "&amp;" in excerpt and "&lt;laughed&gt;" in excerpt


@pytest.mark.parametrize("bad", [None, "a story", sk.Soundtrack([], sk.Score())])
def test_arc_figure_rejects_non_soundtracks(bad):
    with pytest.raises(InputError, match="score_story|no cues"):
        nb.arc_figure(bad)


# -- audio_player ----------------------------------------------------------------------------
def test_audio_player_does_not_normalise():
    sr = 22050
    t = np.arange(sr) / sr
    player = nb.audio_player((0.1 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), sr=sr)
    samples, rate = wav_samples(player)
    assert rate == sr and len(samples) == sr
    peak = int(np.abs(samples.astype(np.int32)).max())
    assert peak == pytest.approx(0.1 * 32767, rel=0.01)  # normalize=True would give 32767


def test_audio_player_accepts_rendered_audio(soundtrack):
    audio = soundtrack.render(sr=22050)
    samples, rate = wav_samples(nb.audio_player(audio, sr=22050))
    assert rate == 22050 and len(samples) == len(audio)


@pytest.mark.parametrize(
    "audio, message",
    [
        (np.array([], dtype=np.float32), "empty"),
        ([], "empty"),
        (np.array([0.0, np.nan, 0.1]), "NaN or infinite"),
        (np.array([0.0, np.inf]), "NaN or infinite"),
        (np.zeros((100, 2)), "mono"),
        (np.array([0.0, 1.5, -0.2]), "above 1"),
        ("not audio", "array of numbers"),
    ],
)
def test_audio_player_rejects_bad_audio(audio, message):
    with pytest.raises(InputError, match=message):
        nb.audio_player(audio, sr=22050)


@pytest.mark.parametrize("sr", [0, -8000, 22050.5, True, "22050"])
def test_audio_player_rejects_bad_sample_rate(sr):
    with pytest.raises(InputError, match="sample rate"):
        nb.audio_player(np.zeros(10), sr=sr)


# -- cue_player ------------------------------------------------------------------------------
@pytest.mark.parametrize("index", [0, 1, -1])
def test_cue_player_renders_only_that_cue(soundtrack, index):
    cue = soundtrack.cues[index]
    samples, rate = wav_samples(nb.cue_player(soundtrack, index))
    assert rate == 22050
    expected = (cue.score.duration + TAIL_SECONDS) * rate
    assert abs(len(samples) - expected) <= 2
    assert len(samples) < soundtrack.duration * rate  # a cue, not the whole soundtrack


@pytest.mark.parametrize("index", [2, -3, 99])
def test_cue_player_index_out_of_range_lists_valid_range(soundtrack, index):
    with pytest.raises(InputError, match=r"out of range.*2 cue\(s\).*0 to 1"):
        nb.cue_player(soundtrack, index)


@pytest.mark.parametrize("index", ["1", 1.0, None, True])
def test_cue_player_index_must_be_integer(soundtrack, index):
    with pytest.raises(InputError, match="integer from 0 to 1"):
        nb.cue_player(soundtrack, index)


# -- cue_table -------------------------------------------------------------------------------
def test_cue_table_has_one_row_per_cue(soundtrack):
    table = nb.cue_table(soundtrack)
    assert table.data.count("<tr>") == len(soundtrack.cues) + 1  # header + cues
    for column in soundtrack.cue_sheet()[0]:
        assert f">{column}</th>" in table.data
    for cue in soundtrack.cues:
        assert cue.intent.key in table.data
    assert "The sea was calm and quiet." in table.data


def test_cue_table_escapes_html():
    st = sk.score_story("Tom & Jerry <laughed> happily all day.", min_words=1)
    data = nb.cue_table(st).data
    assert "&lt;laughed&gt;" in data and "<laughed>" not in data


def test_cue_table_rejects_non_soundtrack():
    with pytest.raises(InputError, match="Soundtrack"):
        nb.cue_table([{"cue": 1}])


# -- file_links ------------------------------------------------------------------------------
@pytest.fixture
def written(tmp_path, monkeypatch):
    """Files laid out as Soundtrack.write leaves them, with the test inside the parent folder."""
    from scoringkit.io import SOUNDTRACK_FILES

    monkeypatch.chdir(tmp_path)
    out = tmp_path / "quickstart_out"
    out.mkdir()
    paths = {}
    for kind, name in SOUNDTRACK_FILES.items():
        paths[kind] = out / name
        paths[kind].write_bytes(b"x" * 1500)
    return paths


def test_file_links_lists_every_file_with_relative_links(written):
    data = nb.file_links(written).data
    assert data.count("<a href=") == len(written)
    for kind, path in written.items():
        assert f"<b>{kind}</b>" in data
        assert f"href='quickstart_out/{path.name}'" in data
    assert "1.5 kB" in data
    assert "google.colab" not in data


def test_file_links_accepts_a_list_of_paths(written):
    data = nb.file_links([str(p) for p in written.values()]).data
    assert data.count("<a href=") == len(written)


def test_file_links_mentions_colab_download_on_colab(written, monkeypatch):
    monkeypatch.setitem(sys.modules, "google.colab", type(sys)("google.colab"))
    assert "files.download(path)" in nb.file_links(written).data


def test_file_links_rejects_missing_and_empty(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        nb.file_links({"wav": tmp_path / "nothing.wav"})
    with pytest.raises(InputError, match="no files"):
        nb.file_links({})
    with pytest.raises(InputError, match="Soundtrack.write"):
        nb.file_links(42)


# -- circumplex_figure -----------------------------------------------------------------------
def test_circumplex_figure_one_marker_per_emotion_with_labels():
    emotions = [sk.Emotion(0.6, 0.5), sk.Emotion(-0.5, 0.7), sk.Emotion(-0.4, -0.6), sk.Emotion(0.3, -0.8)]
    labels = ["joy & <fun>", "anger", "grief", "calm"]
    fig = nb.circumplex_figure(emotions, labels=labels)
    (trace,) = fig.data
    assert list(trace.x) == pytest.approx([e.valence for e in emotions])
    assert list(trace.y) == pytest.approx([e.arousal for e in emotions])
    assert trace.customdata[0][0] == "joy &amp; &lt;fun&gt;"  # hover label, escaped
    assert [row[1].split()[0] for row in trace.customdata] == ["1", "2", "3", "4"]  # quadrants
    assert tuple(fig.layout.xaxis.range) == (-1, 1) and tuple(fig.layout.yaxis.range) == (-1, 1)


def test_circumplex_figure_shades_and_names_the_four_quadrants():
    from scoringkit.types import QUADRANT_NAMES

    fig = nb.circumplex_figure(sk.Emotion(0.1, 0.1))
    rects = [s for s in fig.layout.shapes if s.type == "rect"]
    assert len(rects) == 4
    assert {(r.x0, r.x1, r.y0, r.y1) for r in rects} == {(0, 1, 0, 1), (-1, 0, 0, 1), (-1, 0, -1, 0), (0, 1, -1, 0)}
    texts = " ".join(a.text for a in fig.layout.annotations)
    assert all(name in texts for name in QUADRANT_NAMES.values())


def test_circumplex_figure_compares_groups_with_joining_lines():
    a = [sk.Emotion(0.5, 0.5), sk.Emotion(-0.5, -0.5)]
    b = [sk.Emotion(0.4, 0.2), sk.Emotion(-0.2, -0.6)]
    fig = nb.circumplex_figure({"lexicon": a, "encoder": b}, labels=["x", "y"])
    assert [t.name for t in fig.data] == ["lexicon", "encoder", "same item"]
    assert len(fig.data[2].x) == 2 * 3  # two points and a gap per item


@pytest.mark.parametrize(
    "emotions, labels, message",
    [
        ([], None, "non-empty"),
        ("happy", None, "Emotion"),
        ([sk.Emotion(0, 0), 0.5], None, "not an Emotion"),
        ([sk.Emotion(0, 0), sk.Emotion(0, 0)], ["only one"], "one label per emotion"),
    ],
)
def test_circumplex_figure_rejects_bad_input(emotions, labels, message):
    with pytest.raises(InputError, match=message):
        nb.circumplex_figure(emotions, labels=labels)


# -- emotion_bars ----------------------------------------------------------------------------
def test_emotion_bars_shows_the_seven_probabilities_in_order():
    from scoringkit.types import EMOTION_LABELS

    emotion = sk.Emotion(-0.6, -0.4, probs={"sadness": 3, "fear": 1})
    fig = nb.emotion_bars(emotion)
    assert tuple(fig.data[0].x) == EMOTION_LABELS
    assert list(fig.data[0].y) == pytest.approx([0, 0, 0.25, 0, 0.75, 0, 0])
    assert "sadness" in fig.layout.title.text
    assert tuple(fig.layout.yaxis.range) == (0, 1)


def test_emotion_bars_without_probabilities_and_bad_input():
    fig = nb.emotion_bars(sk.Emotion(0.2, 0.2))
    assert sum(fig.data[0].y) == 0 and "no category" in fig.layout.title.text
    with pytest.raises(InputError, match="one Emotion"):
        nb.emotion_bars([sk.Emotion(0, 0)])


# -- arc_figure with an EmotionArc -----------------------------------------------------------
@pytest.fixture(scope="module")
def arc():
    from scoringkit.emotion import emotion_arc

    calm, tense = sk.Emotion(0.4, -0.5), sk.Emotion(-0.5, 0.6)
    return emotion_arc([calm] * 5 + [tense] * 5 + [calm] * 5)


def test_arc_figure_of_an_emotion_arc_has_lines_bands_and_points(arc):
    fig = nb.arc_figure(arc)
    names = [t.name for t in fig.data]
    for dim in ("valence", "arousal"):
        lower = fig.data[names.index(f"{dim} band (lower edge)")]
        upper = fig.data[names.index(f"{dim} band")]
        assert names.index(f"{dim} band") == names.index(f"{dim} band (lower edge)") + 1  # fills down to it
        assert upper.fill == "tonexty" and lower.fill is None
        assert list(lower.y) == pytest.approx(getattr(arc, f"{dim}_lower").tolist())
        assert list(upper.y) == pytest.approx(getattr(arc, f"{dim}_upper").tolist())
        assert list(fig.data[names.index(dim)].y) == pytest.approx(getattr(arc, f"{dim}_smooth").tolist())
        assert list(fig.data[names.index(f"{dim} per scene")].y) == pytest.approx(getattr(arc, dim).tolist())
        assert list(upper.x) == arc.times.tolist()
    assert any(np.any(getattr(arc, f"{d}_band") > 0) for d in ("valence", "arousal"))


def test_arc_figure_marks_change_points_as_proposed_cue_boundaries(arc):
    from scoringkit.emotion import change_points

    fig = nb.arc_figure(arc)
    vertical = [s for s in fig.layout.shapes if s.type == "line" and s.x0 == s.x1 and s.line.dash == "dash"]
    assert change_points(arc) == [5, 10]
    assert [s.x0 for s in vertical] == [4.5, 9.5]
    labels = [a.text for a in fig.layout.annotations]
    assert labels.count("proposed cue boundary") == 2
    assert any(s.type == "line" and s.y0 == 0 and s.y1 == 0 for s in fig.layout.shapes)  # zero line


def test_arc_figure_of_an_arc_takes_boundaries_and_scene_texts(arc):
    texts = [f"scene <{i}>" for i in range(len(arc))]
    fig = nb.arc_figure(arc, boundaries=[], scenes=texts)
    assert not [s for s in fig.layout.shapes if s.x0 == s.x1]
    raw = fig.data[3]
    assert raw.customdata[2][2] == "scene &lt;2&gt;"
    with pytest.raises(InputError, match="scene index from 1 to 14"):
        nb.arc_figure(arc, boundaries=[0])
    with pytest.raises(InputError, match="scenes has 3 entries but the arc has 15 points"):
        nb.arc_figure(arc, scenes=texts[:3])


def test_arc_figure_of_subtitle_arc_uses_seconds():
    from scoringkit.emotion import emotion_arc
    from scoringkit.types import Scene

    scenes = [Scene(i, "x", start=10.0 * i, end=10.0 * i + 8) for i in range(4)]
    arc = emotion_arc([sk.Emotion(0.5, 0.5)] * 2 + [sk.Emotion(-0.5, -0.5)] * 2, times=scenes)
    fig = nb.arc_figure(arc, boundaries=[2])
    assert fig.layout.xaxis.title.text == "time (s)"
    assert [s.x0 for s in fig.layout.shapes if s.x0 == s.x1] == [(14.0 + 24.0) / 2]


def test_arc_figure_options_only_for_arcs(soundtrack):
    with pytest.raises(InputError, match="only apply to an EmotionArc"):
        nb.arc_figure(soundtrack, boundaries=[1])


# -- TextEmotionWidget -----------------------------------------------------------------------
@pytest.fixture
def widget():
    w = nb.TextEmotionWidget(backend="lexicon", debounce=0.05)
    yield w
    w.close()


def test_widget_update_changes_bars_point_and_label_in_place(widget):
    bars, plane, status_before = widget.bars, widget.circumplex, widget.status.value
    emotion = widget.update("We laughed with joy and danced all night!")
    assert emotion is not None and widget.error is None
    assert widget.bars is bars and widget.circumplex is plane  # the same figures, updated
    assert list(bars.data[0].y) == pytest.approx([emotion.probs[label] for label in bars.data[0].x])
    assert (plane.data[0].x[0], plane.data[0].y[0]) == pytest.approx((emotion.valence, emotion.arousal))
    assert widget.status.value != status_before
    assert f"{emotion.valence:+.2f}" in widget.status.value and "happy / excited" in widget.status.value

    sad = widget.update("She wept alone at the funeral, grieving and lonely.")
    assert list(bars.data[0].y) == pytest.approx([sad.probs[label] for label in bars.data[0].x])
    assert "sad / depressed" in widget.status.value and "happy" not in widget.status.value


def test_widget_shows_empty_text_as_a_message_and_stays_usable(widget):
    good = widget.update("A calm and peaceful lake.")
    y_before = list(widget.bars.data[0].y)
    assert widget.update("   ") is None  # no exception
    assert "empty" in widget.error and "empty" in widget.status.value
    assert "Traceback" not in widget.status.value
    assert list(widget.bars.data[0].y) == y_before  # the last good result stays
    assert widget.emotion == good
    assert widget.update("Terrified, we ran from the fire!") is not None
    assert widget.error is None and "⚠" not in widget.status.value


def test_widget_shows_model_errors(monkeypatch):
    import scoringkit.emotion.encoder as encoder
    from scoringkit.errors import ModelError

    def missing(texts, **kwargs):
        raise ModelError("no encoder checkpoint at 'x.safetensors'; use backend='lexicon'")

    monkeypatch.setattr(encoder, "analyze_encoder", missing)
    w = nb.TextEmotionWidget("Hello there.", backend="encoder", debounce=0)
    assert w.emotion is None
    assert "no encoder checkpoint" in w.error and "no encoder checkpoint" in w.status.value
    w.text.value = "Still typing"  # debounce=0: analysed in the observer, still no exception
    assert "no encoder checkpoint" in w.status.value
    w.close()


def test_widget_debounces_typing():
    import time

    w = nb.TextEmotionWidget(backend="lexicon", debounce=0.3)
    seen = []
    analyse = w.update
    w.update = lambda text: seen.append(text) or analyse(text)  # the timer calls self.update
    for text in ("S", "Sad", "Sad and lonely, she wept."):  # three keystrokes, no pause
        w.text.value = text
    assert seen == [] and w.emotion is None  # nothing analysed until typing pauses
    deadline = time.monotonic() + 5
    while w.emotion is None and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.1)
    assert seen == ["Sad and lonely, she wept."]  # once, with the latest text
    assert w.emotion.valence < 0 and "valence" in w.status.value
    w.close()


def test_widget_is_one_vbox_and_rejects_bad_options(widget):
    import ipywidgets

    assert isinstance(widget.widget, ipywidgets.VBox)
    assert widget.text in widget.widget.children and widget.status in widget.widget.children
    with pytest.raises(InputError, match="unknown backend"):
        nb.TextEmotionWidget(backend="bert")
    with pytest.raises(InputError, match="debounce"):
        nb.TextEmotionWidget(debounce=-1)


def test_widget_without_figurewidget_draws_into_output_areas(monkeypatch):
    import plotly.graph_objects as go

    def no_anywidget(*args, **kwargs):
        raise ImportError("anywidget is not installed")

    monkeypatch.setattr(go, "FigureWidget", no_anywidget)  # as on an install without anywidget
    widget = nb.TextEmotionWidget(backend="lexicon", debounce=0)
    assert widget.live is False
    widget.update("A happy day.")
    for view in widget.widget.children[-1].children:
        assert len(view.outputs) == 1 and view.outputs[0]["output_type"] == "display_data"
