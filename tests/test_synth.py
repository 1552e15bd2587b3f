import numpy as np
import pytest

import scoringkit as sk
from scoringkit.synth import available_synths, default_soundfont


def loud_score():
    # 40 simultaneous fortissimo notes: would clip without the limiter
    notes = [sk.Note(36 + i, 0, 2, 127) for i in range(40)]
    return sk.Score([sk.Track("cluster", 48, notes)], tempo=120)


@pytest.mark.parametrize("synth", available_synths())
def test_render_is_finite_float32_and_never_clips(synth):
    audio = sk.render(loud_score(), sr=16000, synth=synth)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert np.all(np.isfinite(audio))
    assert 0.0 < np.max(np.abs(audio)) <= 1.0


@pytest.mark.parametrize("synth", available_synths())
def test_length_is_score_plus_tail_and_sound_starts_on_time(synth):
    score = sk.Score([sk.Track("p", 0, [sk.Note(69, 2, 2, 100)])], tempo=60)  # sounds from 2 s to 4 s
    sr = 16000
    audio = sk.render(score, sr=sr, synth=synth)
    assert len(audio) == pytest.approx((4 + 1.5) * sr, abs=2)
    assert np.max(np.abs(audio[: int(1.9 * sr)])) < 1e-4
    assert np.max(np.abs(audio[int(2.05 * sr): int(2.5 * sr)])) > 1e-3


@pytest.mark.parametrize("synth", available_synths())
def test_pitch_of_a4_is_440_hz(synth):
    sr = 16000
    audio = sk.render(sk.Score([sk.Track("flute", 73, [sk.Note(69, 0, 4, 100)])], tempo=60), sr=sr, synth=synth)
    segment = audio[int(0.5 * sr): int(3.5 * sr)]
    spectrum = np.abs(np.fft.rfft(segment * np.hanning(len(segment))))
    peak_hz = np.argmax(spectrum) * sr / len(segment)
    assert peak_hz == pytest.approx(440, rel=0.02)


def test_relative_loudness_is_kept():
    soft = sk.Score([sk.Track("p", 0, [sk.Note(60, 0, 2, 30)])], tempo=120)
    loud = sk.Score([sk.Track("p", 0, [sk.Note(60, 0, 2, 120)])], tempo=120)
    rms = lambda a: float(np.sqrt(np.mean(a ** 2)))
    assert rms(sk.render(loud, sr=16000)) > 2 * rms(sk.render(soft, sr=16000))


def test_empty_score_renders_silence():
    audio = sk.render(sk.Score([]), sr=16000)
    assert audio.size >= 1 and not np.any(audio)


def test_drums_render_in_both_synths():
    drums = sk.Track("drums", 0, [sk.Note(36, 0, 0.5, 110), sk.Note(38, 1, 0.5, 110), sk.Note(42, 1.5, 0.25, 90)], is_drum=True)
    for synth in available_synths():
        assert np.max(np.abs(sk.render(sk.Score([drums]), sr=16000, synth=synth))) > 1e-3


def test_soundfont_is_loaded_from_pretty_midi():
    assert default_soundfont().endswith("TimGM6mb.sf2")


@pytest.mark.parametrize("kwargs", [{"sr": 100}, {"sr": 44100.5}, {"synth": "fluidsynth"}])
def test_bad_render_arguments(kwargs, tiny_score):
    with pytest.raises(sk.InputError):
        sk.render(tiny_score, **kwargs)


def test_render_needs_a_score():
    with pytest.raises(sk.InputError, match="Score"):
        sk.render("song.mid")


def test_missing_soundfont_is_a_render_error(tmp_path, tiny_score):
    if "tinysoundfont" not in available_synths():
        pytest.skip("tinysoundfont is not installed here")
    with pytest.raises(sk.RenderError):
        sk.render(tiny_score, synth="tinysoundfont", soundfont=tmp_path / "none.sf2")
