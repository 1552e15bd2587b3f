import math

import pytest

import scoringkit as sk
from scoringkit.types import key_name, parse_key


@pytest.mark.parametrize("v,a,q", [(0.5, 0.5, 1), (-0.5, 0.5, 2), (-0.5, -0.5, 3), (0.5, -0.5, 4), (0.0, 0.0, 1)])
def test_quadrant_follows_emopia_convention(v, a, q):
    assert sk.Emotion(v, a).quadrant == q


@pytest.mark.parametrize("bad", [1.5, -1.01, float("nan"), float("inf"), "x", None])
def test_emotion_rejects_values_outside_unit_interval(bad):
    with pytest.raises(sk.InputError):
        sk.Emotion(bad, 0.0)


def test_emotion_probs_are_normalised_over_all_labels():
    e = sk.Emotion(0.1, 0.1, probs={"joy": 3, "fear": 1})
    assert set(e.probs) == set(sk.EMOTION_LABELS)
    assert math.isclose(sum(e.probs.values()), 1.0)
    assert e.label == "joy" and math.isclose(e.probs["joy"], 0.75)


def test_emotion_probs_reject_unknown_labels_and_negatives():
    with pytest.raises(sk.InputError, match="unknown emotion label"):
        sk.Emotion(0, 0, probs={"bliss": 1})
    with pytest.raises(sk.InputError):
        sk.Emotion(0, 0, probs={"joy": -1})


@pytest.mark.parametrize("name,expected", [("Bb major", (10, "major")), ("c# minor", (1, "minor")),
                                           ("Am", (9, "minor")), ("G", (7, "major"))])
def test_parse_key(name, expected):
    assert parse_key(name) == expected
    assert parse_key(key_name(*expected)) == expected


@pytest.mark.parametrize("bad", ["H major", "C dorianish", "", "C## x y"])
def test_parse_key_rejects_nonsense(bad):
    with pytest.raises(sk.InputError):
        parse_key(bad)


def test_note_validation():
    with pytest.raises(sk.InputError):
        sk.Note(128, 0, 1)
    with pytest.raises(sk.InputError):
        sk.Note(60, -1, 1)
    with pytest.raises(sk.InputError):
        sk.Note(60, 0, 0)
    assert sk.Note(60, 0, 1, velocity=500).velocity == 127


def test_tempo_map_converts_beats_to_seconds_both_ways():
    score = sk.Score([sk.Track("p", 0, [sk.Note(60, 0, 8)])], tempo_map=[(0, 120), (4, 60)])
    assert score.seconds_at(4) == pytest.approx(2.0)
    assert score.seconds_at(6) == pytest.approx(4.0)
    assert score.duration == pytest.approx(6.0)
    for beat in (0.5, 3.9, 4.0, 7.25):
        assert score.beat_at(score.seconds_at(beat)) == pytest.approx(beat)


def test_score_rejects_bad_maps_and_tracks():
    with pytest.raises(sk.InputError):
        sk.Score([], tempo_map=[(1, 120)])
    with pytest.raises(sk.InputError):
        sk.Score([], tempo=0)
    with pytest.raises(sk.InputError):
        sk.Score(["not a track"])


def test_intent_validates_tempo_and_key():
    with pytest.raises(sk.InputError):
        sk.MusicalIntent(tempo=5, key="C major")
    with pytest.raises(sk.InputError):
        sk.MusicalIntent(tempo=100, key="Q major")
    assert "tempo" in sk.MusicalIntent(tempo=100, key="C minor").explain()


def test_scene_excerpt_is_single_line_and_bounded():
    scene = sk.Scene(0, "word " * 100)
    assert len(scene.excerpt(40)) <= 40 and "\n" not in scene.excerpt(40)
    assert scene.words == 100
