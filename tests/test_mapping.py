import pytest

import scoringkit as sk
from scoringkit.mapping import QUADRANT_CHOICES, default_table


def intent(v, a):
    return sk.emotion_to_intent(sk.Emotion(v, a))


def test_arousal_raises_tempo_loudness_and_density():
    calm, excited = intent(0.0, -0.9), intent(0.0, 0.9)
    assert calm.tempo < excited.tempo
    assert calm.velocity < excited.velocity
    assert calm.density < excited.density
    assert calm.articulation > excited.articulation  # legato when calm


def test_valence_sets_mode_and_register():
    sad, happy = intent(-0.8, 0.0), intent(0.8, 0.0)
    assert (sad.mode, happy.mode) == ("minor", "major")
    assert sad.register < happy.register


@pytest.mark.parametrize("v", [-1, -0.3, 0.3, 1])
@pytest.mark.parametrize("a", [-1, -0.3, 0.3, 1])
def test_values_stay_in_playable_ranges(v, a):
    i = intent(v, a)
    assert 40 <= i.tempo <= 180 and 1 <= i.velocity <= 127 and 40 <= i.register <= 84
    assert set(i.instruments) == {"melody", "counter", "accompaniment", "pad", "bass"}
    assert 0.08 <= i.reverb <= 0.7
    assert all(0 <= p <= 127 for p in i.instruments.values())
    assert set(i.reasons) >= {"tempo", "register", "velocity", "key"}


def test_quadrant_choices_are_used():
    assert intent(-0.5, -0.5).key == QUADRANT_CHOICES[3]["key"]
    assert intent(0.5, 0.5).instruments == QUADRANT_CHOICES[1]["instruments"]


def test_an_edited_table_changes_the_result():
    table = default_table()
    table["quadrants"][1]["key"] = "E major"
    assert sk.emotion_to_intent(sk.Emotion(0.5, 0.5), table=table).key == "E major"
    assert QUADRANT_CHOICES[1]["key"] != "E major"  # the built-in table is untouched


def test_bad_input():
    with pytest.raises(sk.InputError):
        sk.emotion_to_intent((0.5, 0.5))
    with pytest.raises(sk.InputError, match="'film'"):
        sk.emotion_to_intent(sk.Emotion(0, 0), style="vaporwave")
