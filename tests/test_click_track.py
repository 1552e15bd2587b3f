"""Tests of scoringkit.synth.click_track and mix_clicks: hearing the beat grid."""

import numpy as np
import pytest

from scoringkit.errors import InputError
from scoringkit.synth import CLICK_SECONDS, click_track, mix_clicks

SR = 8000


def onsets(signal, threshold=1e-4):
    """Sample indices where the signal starts after silence."""
    loud = np.abs(signal) > threshold
    return [i for i in np.flatnonzero(loud) if i == 0 or not loud[max(0, i - 40):i].any()]


def test_one_click_per_beat_and_silence_between():
    clicks = click_track([0.0, 0.5, 1.25], 2.0, sr=SR)
    assert clicks.dtype == np.float32 and clicks.shape == (2 * SR,)
    assert onsets(clicks) == pytest.approx([0, 4000, 10000], abs=1)  # a burst starts at sin(0) = 0
    assert float(np.abs(clicks).max()) == pytest.approx(0.5, abs=1e-6)
    assert not clicks[int(CLICK_SECONDS * SR) + 1:4000].any()


def test_beats_after_the_end_are_skipped_and_a_click_at_the_end_is_cut():
    clicks = click_track([0.99, 1.0, 7.0], 1.0, sr=SR)
    assert len(clicks) == SR and onsets(clicks) == pytest.approx([7920], abs=1)


def test_accent_is_an_octave_higher():
    clicks = click_track([0.0, 0.5, 1.0, 1.5, 2.0], 2.5, sr=SR, accent=4, frequency=500.0)
    def zero_crossings(start):
        part = clicks[start:start + 200]
        return int(np.count_nonzero(np.diff(np.signbit(part))))
    assert zero_crossings(0) == pytest.approx(2 * zero_crossings(4000), abs=2)  # beat 1 accented
    assert zero_crossings(16000) == pytest.approx(zero_crossings(0), abs=2)   # beat 5 too


def test_no_beats_gives_silence():
    assert not click_track([], 1.0, sr=SR).any()


@pytest.mark.parametrize("kwargs, message", [
    ({"beats": [0.1, np.nan]}, "NaN"),
    ({"beats": [-0.5]}, ">= 0"),
    ({"beats": [[0.1]]}, "one-dimensional"),
    ({"beats": "0.5"}, "times in seconds"),
    ({"duration": 0}, "duration"),
    ({"sr": 100}, "sample rate"),
    ({"level": 1.5}, "level"),
    ({"frequency": 5000.0}, "frequency"),
    ({"accent": 0}, "accent"),
])
def test_click_track_rejects_bad_arguments(kwargs, message):
    arguments = {"beats": [0.1], "duration": 1.0, "sr": SR, **kwargs}
    with pytest.raises(InputError, match=message):
        click_track(arguments.pop("beats"), arguments.pop("duration"), **arguments)


def test_mix_clicks_adds_clicks_and_never_clips():
    audio = np.full(SR, 0.25, dtype=np.float32)
    mixed = mix_clicks(audio, [0.5], sr=SR)
    assert mixed.shape == audio.shape and mixed.dtype == np.float32
    assert np.array_equal(mixed[:4000], audio[:4000])
    loud = np.full(SR, 0.9, dtype=np.float32)
    mixed = mix_clicks(loud, [0.0, 0.5], sr=SR, level=1.0)
    assert float(np.abs(mixed).max()) == pytest.approx(0.98, abs=1e-6)


@pytest.mark.parametrize("audio, message", [
    (np.zeros((10, 2)), "mono"),
    (np.zeros(0), "mono"),
    (np.array([0.0, np.inf]), "NaN"),
])
def test_mix_clicks_rejects_bad_audio(audio, message):
    with pytest.raises(InputError, match=message):
        mix_clicks(audio, [0.0], sr=SR)
