import statistics

import pytest

import scoringkit as sk
from scoringkit.generate.rules import PROGRESSIONS, SCALES, chord_pitch_classes, compose_rules


def melody(score):
    return score.track("melody").notes


def test_same_seed_same_music_other_seed_other_music():
    e = sk.Emotion(0.4, 0.3)
    a, b, c = (sk.compose(e, duration=12, seed=s) for s in (7, 7, 8))
    key = lambda s: [(t.name, n.pitch, n.start, n.duration, n.velocity) for t, n in s.notes()]
    assert key(a) == key(b)
    assert key(a) != key(c)


@pytest.mark.parametrize("duration", [3, 10, 33.3, 90])
@pytest.mark.parametrize("v,a", [(0.8, 0.8), (-0.8, -0.8), (-0.6, 0.9), (0.6, -0.9)])
def test_duration_is_honoured_to_within_one_bar(duration, v, a):
    score = sk.compose(sk.Emotion(v, a), duration=duration)
    bar_seconds = 60.0 / score.tempo * score.beats_per_bar
    assert abs(score.duration - duration) <= bar_seconds


def test_all_roles_present_and_in_key():
    intent = sk.MusicalIntent(tempo=100, key="A minor", harmony="lament")
    score = compose_rules(intent, duration=20, seed=1)
    assert [t.name for t in score.tracks] == ["melody", "accompaniment", "pad", "bass"]
    allowed = {(9 + s) % 12 for s in SCALES["minor"]} | {8}  # natural minor plus the raised 7th (G#) of V
    pcs = [n.pitch % 12 for _, n in score.notes()]
    assert set(pcs) <= allowed


def test_cue_ends_on_the_tonic():
    score = compose_rules(sk.MusicalIntent(tempo=90, key="F major", harmony="pastoral"), duration=16, seed=2)
    last_melody = max(melody(score), key=lambda n: n.start)
    last_bass = max(score.track("bass").notes, key=lambda n: n.start)
    assert last_melody.pitch % 12 == 5 and last_bass.pitch % 12 == 5


def test_strong_beats_of_the_melody_are_chord_tones():
    intent = sk.MusicalIntent(tempo=100, key="C major", harmony="bright", density=1.0)
    score = compose_rules(intent, duration=30, seed=4)
    bass_roots = {int(n.start // 4): n.pitch % 12 for n in score.track("bass").notes if n.start % 4 == 0}
    pad_by_bar = {}
    for n in score.track("pad").notes:
        pad_by_bar.setdefault(int(n.start // 4), set()).add(n.pitch % 12)
    on_beat_one = [n for n in melody(score) if n.start % 4 == 0]
    assert on_beat_one
    assert all(n.pitch % 12 in pad_by_bar[int(n.start // 4)] for n in on_beat_one)
    assert bass_roots  # the bass plays a root on every downbeat


def test_density_and_register_follow_the_intent():
    slow = compose_rules(sk.MusicalIntent(tempo=100, key="C major", density=0.5, register=58), duration=20)
    busy = compose_rules(sk.MusicalIntent(tempo=100, key="C major", density=2.0, register=74), duration=20)
    assert len(melody(busy)) > 2 * len(melody(slow))
    assert statistics.mean(n.pitch for n in melody(busy)) > statistics.mean(n.pitch for n in melody(slow)) + 8


def test_every_progression_chord_is_known():
    for family in PROGRESSIONS.values():
        for progression in family:
            for numeral in progression:
                assert len(chord_pitch_classes(numeral, 0)) == 3


@pytest.mark.parametrize("kwargs", [{"duration": 0}, {"duration": -5}, {"duration": float("nan")},
                                    {"duration": 1e9}, {"duration": "long"}, {"seed": 1.5},
                                    {"generator": "mozart"}, {"generator": None}])
def test_bad_compose_arguments(kwargs):
    with pytest.raises(sk.InputError):
        sk.compose(sk.Emotion(0, 0), **kwargs)


def test_compose_rejects_non_emotion():
    with pytest.raises(sk.InputError, match="Emotion"):
        sk.compose({"valence": 1})


def test_plain_harmony_respects_the_mode():
    score = compose_rules(sk.MusicalIntent(tempo=100, key="A minor"), duration=12, seed=0)
    pad_pcs = {n.pitch % 12 for n in score.track("pad").notes}
    assert 0 in pad_pcs and 1 not in pad_pcs  # C natural (minor third of A), never C#
