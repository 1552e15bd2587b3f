"""Tests of scoringkit.extract.load_audio: files, bytes and arrays as mono samples at one rate."""

import io
import wave

import numpy as np
import pytest

from scoringkit.errors import InputError
from scoringkit.extract import load_audio


def wav_bytes(samples, sr):
    samples = np.asarray(samples)
    channels = 1 if samples.ndim == 1 else samples.shape[1]
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return buffer.getvalue()


def test_stereo_bytes_are_mixed_down_and_resampled(tmp_path):
    left, right = np.full(44100, 0.5), np.full(44100, -0.1)
    data = wav_bytes(np.stack([left, right], axis=1), 44100)
    samples, sr = load_audio(data, sr=22050)
    assert sr == 22050 and samples.dtype == np.float32 and samples.ndim == 1
    assert len(samples) == pytest.approx(22050, abs=1)
    assert float(np.median(samples)) == pytest.approx(0.2, abs=1e-3)
    path = tmp_path / "a.wav"
    path.write_bytes(data)
    from_path, _ = load_audio(path, sr=22050)
    assert np.allclose(from_path, samples)


def test_max_seconds_keeps_the_beginning():
    data = wav_bytes(np.linspace(-0.5, 0.5, 3 * 8000), 8000)
    samples, sr = load_audio(data, sr=8000, max_seconds=1.0)
    assert len(samples) == 8000 and samples[-1] < 0


def test_arrays_need_their_rate():
    samples, sr = load_audio(np.zeros((2, 16000)), sr=8000, source_sr=16000)
    assert len(samples) == 8000
    with pytest.raises(InputError, match="sr is required"):
        load_audio(np.zeros(16000))


@pytest.mark.parametrize("data, message", [
    (b"not audio", "cannot read"),
    (wav_bytes(np.zeros(0), 8000), "no samples"),
])
def test_unreadable_input_gives_a_clear_message(data, message):
    with pytest.raises(InputError, match=message):
        load_audio(data)


def test_bad_options():
    with pytest.raises(InputError, match="max_seconds"):
        load_audio(np.zeros(100), source_sr=8000, max_seconds=0)
    with pytest.raises(InputError, match="sr"):
        load_audio(np.zeros(100), sr=100, source_sr=8000)
