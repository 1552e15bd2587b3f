"""Emotion arcs: smoothing, uncertainty band, change points (proposed cue boundaries)."""

import numpy as np
import pytest

import scoringkit as sk
from scoringkit.emotion.arc import EmotionArc, change_points, emotion_arc, gaussian_smooth

CALM, TENSE = (0.5, -0.5), (-0.6, 0.7)


def noisy_emotions(centres, *, noise=0.08, seed=0):
    rng = np.random.default_rng(seed)
    points = np.asarray(centres, dtype=float) + rng.normal(0.0, noise, size=(len(centres), 2))
    return [sk.Emotion(*np.clip(p, -1, 1)) for p in points]


def test_step_from_calm_to_tense_gives_one_change_point_at_the_step():
    for seed in range(5):
        arc = emotion_arc(noisy_emotions([CALM] * 6 + [TENSE] * 6, seed=seed))
        points = change_points(arc)
        assert len(points) == 1 and abs(points[0] - 6) <= 1, (seed, points)


def test_calm_tense_calm_gives_two_change_points():
    arc = emotion_arc(noisy_emotions([CALM] * 8 + [TENSE] * 6 + [CALM] * 8, seed=3))
    points = change_points(arc)
    assert len(points) == 2 and abs(points[0] - 8) <= 1 and abs(points[1] - 14) <= 1


def test_noise_without_a_change_gives_no_change_points():
    for seed in range(5):
        arc = emotion_arc(noisy_emotions([CALM] * 30, noise=0.15, seed=seed))
        assert change_points(arc) == [], seed


def test_small_shift_below_threshold_is_ignored():
    arc = emotion_arc([sk.Emotion(0.3, 0.0)] * 6 + [sk.Emotion(0.4, 0.1)] * 6)
    assert change_points(arc, threshold=0.25) == []
    assert change_points(arc, threshold=0.1) == [6]


def test_min_gap_keeps_boundaries_apart_and_off_the_ends():
    story = [CALM] * 3 + [TENSE] + [CALM] * 8  # a single tense scene
    arc = emotion_arc(noisy_emotions(story, noise=0.0))
    assert change_points(arc, min_gap=1) == [3, 4]
    for points in (change_points(arc, min_gap=3), change_points(arc, min_gap=2)):
        bounds = [0] + points + [len(arc)]
        assert all(b - a >= 2 for a, b in zip(bounds, bounds[1:]))
    assert change_points(emotion_arc([sk.Emotion(*CALM), sk.Emotion(*TENSE)]), min_gap=2) == []


def test_smoothing_reduces_variance_and_keeps_the_mean():
    arc = emotion_arc(noisy_emotions([CALM] * 40, noise=0.2, seed=1), smoothing=2.0)
    assert arc.valence_smooth.var() < 0.5 * arc.valence.var()
    assert arc.arousal_smooth.var() < 0.5 * arc.arousal.var()
    assert arc.valence_smooth.mean() == pytest.approx(arc.valence.mean(), abs=0.05)
    untouched = emotion_arc(noisy_emotions([CALM] * 5), smoothing=0)
    assert np.array_equal(untouched.valence_smooth, untouched.valence)
    assert not untouched.valence_band.any()


def test_band_is_non_negative_and_widest_at_a_turn():
    arc = emotion_arc(noisy_emotions([CALM] * 6 + [TENSE] * 6, noise=0.02), smoothing=1.0)
    for band in (arc.valence_band, arc.arousal_band):
        assert (band >= 0).all()
        assert band[5:7].min() > band[0] and band[5:7].min() > band[-1]
    assert (arc.valence_lower <= arc.valence_smooth).all() and (arc.valence_upper <= 1).all()
    assert (arc.arousal_lower >= -1).all()


def test_gaussian_smooth_of_a_constant_is_that_constant():
    smoothed, band = gaussian_smooth([0.3] * 7, 1.5)
    assert np.allclose(smoothed, 0.3) and np.allclose(band, 0.0)


def test_times_default_to_indices_or_come_from_numbers_or_scene_midpoints():
    emotions = noisy_emotions([CALM] * 3)
    assert emotion_arc(emotions).times.tolist() == [0.0, 1.0, 2.0]
    assert emotion_arc(emotions, times=[0.5, 2, 9]).times.tolist() == [0.5, 2.0, 9.0]
    timed = [sk.Scene(i, "x", start=10.0 * i, end=10.0 * i + 4) for i in range(3)]
    assert emotion_arc(emotions, times=timed).times.tolist() == [2.0, 12.0, 22.0]
    prose = [sk.Scene(i, "x") for i in range(3)]
    assert emotion_arc(emotions, times=prose).times.tolist() == [0.0, 1.0, 2.0]


def test_arc_holds_labels_rows_and_read_only_arrays():
    emotions = [sk.Emotion(-0.7, -0.5, probs={"sadness": 1}), sk.Emotion(0.6, 0.5)]
    arc = emotion_arc(emotions)
    assert isinstance(arc, EmotionArc) and len(arc) == 2
    assert arc.labels == ("sadness", "happy / excited")
    assert arc.to_rows()[0]["label"] == "sadness" and arc.to_rows()[0]["valence"] == -0.7
    with pytest.raises(ValueError):
        arc.valence[0] = 1.0


def test_one_scene_is_an_arc_without_change_points():
    arc = emotion_arc([sk.Emotion(0.1, 0.2)])
    assert arc.valence_smooth.tolist() == [0.1] and change_points(arc) == []


@pytest.mark.parametrize("emotions, kwargs, message", [
    ([], {}, "at least one emotion"),
    (sk.Emotion(0.1, 0.1), {}, "list of Emotion"),
    ([sk.Emotion(0.1, 0.1), (0.2, 0.3)], {}, "item 1"),
    ([sk.Emotion(0.1, 0.1)] * 3, {"times": [0, 1]}, "times has 2 entries"),
    ([sk.Emotion(0.1, 0.1)] * 3, {"times": [0, 2, 1]}, "must not decrease"),
    ([sk.Emotion(0.1, 0.1)] * 2, {"times": [0, float("nan")]}, "finite"),
    ([sk.Emotion(0.1, 0.1)] * 2, {"times": [0, "late"]}, "numbers"),
    ([sk.Emotion(0.1, 0.1)] * 2, {"smoothing": -1}, "smoothing"),
])
def test_bad_arc_input_is_an_input_error(emotions, kwargs, message):
    with pytest.raises(sk.InputError, match=message):
        emotion_arc(emotions, **kwargs)


def test_bad_change_point_options_are_input_errors():
    arc = emotion_arc(noisy_emotions([CALM] * 6))
    with pytest.raises(sk.InputError, match="EmotionArc"):
        change_points([sk.Emotion(0.1, 0.1)])
    with pytest.raises(sk.InputError, match="min_gap"):
        change_points(arc, min_gap=0)
    with pytest.raises(sk.InputError, match="threshold"):
        change_points(arc, threshold=-0.1)


def test_a_long_story_segments_quickly():
    import time

    centres = [CALM] * 500 + [TENSE] * 500 + [CALM] * 500
    arc = emotion_arc(noisy_emotions(centres, noise=0.1, seed=2), smoothing=3)
    start = time.perf_counter()
    points = change_points(arc, min_gap=5)
    assert time.perf_counter() - start < 5.0
    assert len(points) == 2 and abs(points[0] - 500) <= 2 and abs(points[1] - 1000) <= 2
