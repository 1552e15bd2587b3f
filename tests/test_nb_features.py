"""Tests of scoringkit.nb.features: the audio-feature figures, table, example clips and widget."""

from __future__ import annotations

import datetime
import io
import json
import wave

import numpy as np
import pytest

import scoringkit as sk
import scoringkit.nb as nb
from scoringkit.errors import InputError
from scoringkit.nb import features as nbf
from scoringkit.nb.solutions import ex01_low_arousal_clip

SR = 22050
FIRST = "Q1 happy / excited · ensemble"
SAD_PIANO = "Q3 sad / depressed · piano"


def wav_bytes(samples, sr, channels=1) -> bytes:
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(pcm.tobytes())
    return buffer.getvalue()


def pulses(seconds=4.0, sr=44100, bpm=120.0):
    """Decaying noise bursts on every beat: a clip with an obvious tempo."""
    rng = np.random.default_rng(0)
    out = np.zeros(int(seconds * sr))
    burst = rng.uniform(-0.6, 0.6, int(0.05 * sr)) * np.exp(-np.arange(int(0.05 * sr)) / (0.01 * sr))
    for start in np.arange(0, seconds, 60.0 / bpm):
        i = int(start * sr)
        out[i:i + len(burst)] += burst[: len(out) - i]
    return out


def upload_value(name, data):
    """What ipywidgets 8's FileUpload holds after the user picks one file."""
    return ({"name": name, "type": "", "size": len(data), "content": memoryview(data),
             "last_modified": datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)},)


def played(audio_widget):
    """(samples as int16, sample rate) of the WAV bytes in an ipywidgets.Audio."""
    with wave.open(io.BytesIO(bytes(audio_widget.value))) as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2"), w.getframerate()


@pytest.fixture(scope="module")
def clip():
    return nb.example_clip(FIRST, sr=SR)


@pytest.fixture(scope="module")
def features(clip):
    return sk.audio_features(clip.audio, sr=clip.sr)


@pytest.fixture
def widget():
    w = nb.AudioFeaturesWidget(FIRST)
    yield w
    w.close()


# -- example clips -----------------------------------------------------------------------------
def test_example_clips_two_per_quadrant_composed_by_the_project(clip):
    assert len(nb.EXAMPLE_CLIPS) == 8
    assert sorted(v[0] > 0 for v in nb.EXAMPLE_CLIPS.values()) == [False] * 4 + [True] * 4
    assert clip.emotion.quadrant == 1 and clip.sr == SR
    assert clip.audio.dtype == np.float32 and not clip.audio.flags.writeable
    assert len(clip.audio) / SR == pytest.approx(nbf.EXAMPLE_SECONDS, abs=3)
    assert nb.example_clip(FIRST, sr=SR) is clip  # cached
    piano = nb.example_clip("Q1 happy / excited · piano", sr=SR)
    assert set(piano.intent.instruments.values()) == {0} and "piano" in piano.intent.reasons["instruments"]


def test_example_clip_unknown_name_lists_the_choices():
    with pytest.raises(InputError, match="choose one of.*Q4 calm / tender · piano"):
        nb.example_clip("Q5 bored")


# -- figures -----------------------------------------------------------------------------------
def test_features_figure_panels_and_beat_grid(clip, features):
    fig = nb.features_figure(features, audio=clip.audio, sr=clip.sr)
    assert [t.name for t in fig.data] == ["waveform", "mel", "chroma", "mfcc", "beats"]
    assert [t.type for t in fig.data[1:4]] == ["heatmap"] * 3
    assert len(features.beats) > 10
    beats = fig.data[-1]
    assert np.allclose(np.asarray(beats.x), features.beats, atol=1e-3)
    lines = [s for s in fig.layout.shapes if s.type == "line" and s.yref == "paper"]
    assert sorted(s.x0 for s in lines) == pytest.approx(sorted(features.beats), abs=1e-6)
    mel, chroma, mfcc = (np.asarray(t.z) for t in fig.data[1:4])
    assert mel.shape[0] == nbf.MEL_BANDS_SHOWN and chroma.shape[0] == 12 and mfcc.shape[0] == 20
    assert mel.dtype == np.int8 and mel.max() == 0 and mel.min() >= -80
    assert f"{features.tempo:.1f} BPM" in fig.layout.title.text


def test_features_figure_without_audio_draws_the_rms_envelope(features):
    fig = nb.features_figure(features, beats=False)
    assert [t.name for t in fig.data] == ["RMS envelope", "mel", "chroma", "mfcc"]
    assert not fig.layout.shapes


def test_figures_stay_light_for_long_clips():
    sr = 11025
    long = np.random.default_rng(1).normal(0, 0.1, 90 * sr).astype(np.float32)
    f = sk.audio_features(long, sr=sr)
    assert f.n_frames > 1000
    fig = nb.features_figure(f, audio=long, sr=sr)
    for trace in fig.data[1:4]:
        assert np.asarray(trace.z).shape[1] <= nbf.MAX_FRAMES
    assert len(fig.data[0].x) <= 2 * nbf.WAVEFORM_POINTS
    assert len(fig.to_json()) < 250_000


@pytest.mark.parametrize("kind, rows", [("mel", 64), ("chroma", 12), ("mfcc", 20)])
def test_spectrogram_figure_kinds(features, kind, rows):
    fig = nb.spectrogram_figure(features, kind=kind)
    assert fig.data[0].name == kind and np.asarray(fig.data[0].z).shape[0] == rows
    assert fig.data[1].name == "beats" and len(fig.data[1].x) == len(features.beats)
    assert len(nb.spectrogram_figure(features, kind=kind, beats=False).data) == 1


def test_spectrogram_figure_chroma_of_a_sine_peaks_at_its_pitch_class():
    a440 = 0.5 * np.sin(2 * np.pi * 440 * np.arange(2 * SR) / SR)
    z = np.asarray(nb.spectrogram_figure(sk.audio_features(a440, sr=SR), kind="chroma").data[0].z)
    assert int(z.mean(axis=1).argmax()) == 9  # A
    assert list(nb.spectrogram_figure(sk.audio_features(a440, sr=SR), kind="chroma").layout.yaxis.ticktext)[9] == "A"


def test_spectrogram_figure_rejects_bad_input(features):
    with pytest.raises(InputError, match="'mel', 'chroma', 'mfcc'"):
        nb.spectrogram_figure(features, kind="cqt")
    with pytest.raises(InputError, match="frames=False"):
        nb.spectrogram_figure(sk.audio_features(np.ones(SR, np.float32) * 0.1, sr=SR, frames=False))
    with pytest.raises(InputError, match="AudioFeatures"):
        nb.spectrogram_figure(np.zeros(100))


def test_waveform_figure_of_samples_and_of_features(features):
    sr = 8000
    tone = 0.5 * np.sin(2 * np.pi * 220 * np.arange(30 * sr) / sr)
    fig = nb.waveform_figure(tone, sr=sr, beats=[1.0, 2.0])
    assert [t.name for t in fig.data] == ["waveform", "beats"]
    assert len(fig.data[0].x) == 2 * nbf.WAVEFORM_POINTS
    assert max(fig.data[0].y) == pytest.approx(0.5, abs=0.01) and min(fig.data[0].y) == pytest.approx(-0.5, abs=0.01)
    assert len(fig.layout.shapes) == 2
    assert [t.name for t in nb.waveform_figure(tone, sr=sr).data] == ["waveform"]
    from_features = nb.waveform_figure(features)
    assert from_features.data[0].name == "RMS envelope" and len(from_features.data[1].x) == len(features.beats)


@pytest.mark.parametrize("args, kwargs, message", [
    ((np.zeros(10),), {}, "sr="),
    ((np.zeros(0),), {"sr": 8000}, "at least one sample"),
    ((np.array([0.0, np.nan]),), {"sr": 8000}, "NaN"),
    (("audio.wav",), {"sr": 8000}, "samples"),
    ((np.zeros(10),), {"sr": 8000, "beats": [-1.0]}, ">= 0"),
    ((np.zeros(10),), {"sr": 8000, "max_points": 1}, "max_points"),
])
def test_waveform_figure_rejects_bad_input(args, kwargs, message):
    with pytest.raises(InputError, match=message):
        nb.waveform_figure(*args, **kwargs)


def test_features_table_compares_measured_with_asked(clip, features):
    emotion = sk.music_emotion(features)
    table = nb.features_table(features, emotion=emotion, asked=clip.intent).data
    assert table.count("<tr>") == 9  # header + 8 rows
    for text in ("tempo", f"{features.tempo:.1f} BPM", f"{clip.intent.tempo:.1f} BPM", "LUFS", "onsets/s",
                 clip.intent.key, "music:audio", f"arousal {emotion.arousal:+.2f}"):
        assert text in table
    plain = nb.features_table(features).data
    assert plain.count("<tr>") == 8 and "asked for" not in plain and "emotion" not in plain


def test_features_table_of_silence_says_so():
    table = nb.features_table(sk.audio_features(np.zeros(SR, np.float32), sr=SR)).data
    assert "no steady pulse" in table and "none (silence)" in table and "silent" in table


# -- the widget ----------------------------------------------------------------------------------
def test_widget_shows_first_clip_with_table_players_and_figure(widget):
    assert widget.source == FIRST and widget.error is None
    assert widget.clips.value == FIRST
    assert widget.features.tempo == pytest.approx(nb.example_clip(FIRST).intent.tempo, abs=2)
    assert "asked for" in widget.table.value and "BPM" in widget.table.value
    assert "emotion" in widget.table.value
    samples, rate = played(widget.player)
    assert rate == SR and len(samples) == len(widget.audio)
    clicked, _ = played(widget.click_player)
    assert len(clicked) == len(samples) and not np.array_equal(clicked, samples)
    assert [t.name for t in widget.figure.data][:4] == ["waveform", "mel", "chroma", "mfcc"]
    assert widget.view.outputs and FIRST in widget.status.value


def test_widget_clicks_fall_on_the_beats(widget):
    difference = np.abs(widget.clicks.astype(np.float64) - widget.audio)
    near = np.zeros(len(difference), bool)
    for beat in widget.features.beats:
        i = int(round(beat * SR))
        near[max(0, i - 1):i + int(0.04 * SR) + 1] = True  # a click lasts 40 ms
    assert difference[near].max() > 0.2
    assert difference[~near].max() < 1e-6


def test_widget_choosing_a_clip_updates_everything(widget):
    first_figure = widget.figure
    widget.clips.value = SAD_PIANO
    assert widget.source == SAD_PIANO and widget.error is None
    assert widget.figure is not first_figure
    assert widget.features.tempo == pytest.approx(nb.example_clip(SAD_PIANO).intent.tempo, abs=2)
    assert f"{widget.features.tempo:.1f} BPM" in widget.table.value


def test_widget_upload_of_a_wav_file(widget):
    data = wav_bytes(np.repeat(pulses()[:, None], 2, axis=1), 44100, channels=2)
    widget.upload.value = upload_value("drums.wav", data)
    assert widget.error is None and widget.source == "drums.wav"
    assert widget.features.n_channels == 2 and widget.features.source_sr == 44100
    assert widget.features.tempo == pytest.approx(120, abs=3)
    assert "asked for" not in widget.table.value and "drums.wav" in widget.status.value
    samples, rate = played(widget.player)
    assert rate == SR and len(samples) == pytest.approx(4 * SR, abs=2)
    assert widget.upload.value == ()  # emptied, so the same file can be sent again
    assert widget.clips.value is None  # so any example clip can be chosen again
    widget.clips.value = FIRST
    assert widget.source == FIRST


@pytest.mark.parametrize("name, data, message", [
    ("notes.txt", b"this is not audio at all, just some text", "cannot read"),
    ("broken.wav", wav_bytes(pulses(), 44100)[:40], "cannot read"),
    ("empty.wav", b"", "empty"),
    ("silence.wav", wav_bytes(np.zeros(44100), 44100), "silent"),
    ("tiny.wav", wav_bytes(np.full(100, 0.5), 44100), "shorter than one analysis frame"),
    ("bad.mid", b"MThd\x00\x00\x00\x06garbage", "MIDI"),
])
def test_widget_bad_uploads_show_a_message_and_keep_the_last_result(widget, name, data, message):
    before = widget.features
    widget.upload.value = upload_value(name, data)
    assert widget.error is not None and message in widget.error and name in widget.error
    assert "⚠" in widget.status.value and "Traceback" not in widget.status.value and "BytesIO" not in widget.error
    assert f"still showing {FIRST}" in widget.status.value
    assert widget.features is before and widget.source == FIRST
    assert widget.upload.value == ()
    widget.clips.value = SAD_PIANO  # still usable
    assert widget.error is None and widget.source == SAD_PIANO


def test_widget_renders_an_uploaded_midi_file(widget, tmp_path):
    score = nb.example_clip(SAD_PIANO).score
    score.to_midi(tmp_path / "sad.mid")
    data = (tmp_path / "sad.mid").read_bytes()
    assert widget.load(data, name="sad.mid") is widget.features
    assert widget.error is None and "MIDI" in widget.status.value
    assert widget.features.tempo == pytest.approx(score.tempo, abs=2)


def test_widget_load_takes_samples_with_their_rate(widget):
    assert widget.load(pulses(sr=16000), name="pulses", sr=16000) is not None
    assert widget.features.duration == pytest.approx(4.0, abs=0.01)
    assert widget.load(pulses(), name="no rate") is None and "sample rate" in widget.error


def test_widget_accepts_the_ipywidgets_7_upload_format():
    data = wav_bytes(pulses(), 44100)
    assert nbf._uploaded_files({"a.wav": {"metadata": {"name": "a.wav"}, "content": data}}) == [("a.wav", data)]
    assert nbf._uploaded_files(upload_value("b.wav", data)) == [("b.wav", data)]
    assert nbf._uploaded_files(()) == []


def test_widget_options_are_checked():
    with pytest.raises(InputError, match="choose one of"):
        nb.AudioFeaturesWidget("Q9")
    with pytest.raises(InputError, match="sample rate"):
        nb.AudioFeaturesWidget(sr=100)
    w = nb.AudioFeaturesWidget(show=False)
    assert w.features is None and w.clips.value is None and "Choose" in w.status.value
    import ipywidgets

    assert isinstance(w.widget, ipywidgets.VBox)
    w.close()


# -- the exercise's solution ------------------------------------------------------------------------
def test_ex01_solution_has_low_estimated_arousal():
    audio = ex01_low_arousal_clip(sr=SR)
    assert audio.dtype == np.float32
    assert sk.music_emotion(audio, sr=SR).arousal < 0


def test_figures_in_output_areas_are_not_displayed_in_the_cell(monkeypatch):
    """In a kernel, IPython's display formatter calls a plotly figure's ``_ipython_display_``,
    which shows it in the running cell; the widget must put the figure in its Output area only."""
    import IPython
    import ipywidgets
    import plotly.graph_objects as go

    shown = []
    monkeypatch.setattr(go.Figure, "_ipython_display_", lambda self: shown.append(self), raising=False)

    class Formatter:  # what IPython's DisplayFormatter.format does with such an object
        def format(self, obj):
            if hasattr(obj, "_ipython_display_"):
                obj._ipython_display_()
                return {}, {}
            return {"text/plain": repr(obj)}, {}

    class Shell:
        display_formatter = Formatter()

    monkeypatch.setattr(IPython, "get_ipython", lambda: Shell())
    view = ipywidgets.Output()
    nb._show_in_output(view, go.Figure(layout={"title": {"text": "mel"}}))
    assert not shown
    assert view.outputs[0]["data"]["text/plain"] == "<plotly figure: mel>"


def test_features_table_with_asked_but_no_estimate_says_so(clip, features):
    table = nb.features_table(features, asked=clip.intent).data
    assert "not estimated" in table and "could not be estimated" not in table


def test_widget_survives_a_failing_emotion_model(monkeypatch):
    import scoringkit.fuse

    def broken(*args, **kwargs):
        raise sk.ModelError("the model file is missing")

    monkeypatch.setattr(scoringkit.fuse, "music_emotion", broken)
    w = nb.AudioFeaturesWidget(show=False)
    assert w.load(wav_bytes(pulses(), 44100), name="pulses.wav") is not None
    assert w.error is None and w.emotion is None
    assert "could not be estimated" in w.table.value and "could not be estimated" in w.status.value
    w.close()
