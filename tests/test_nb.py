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
