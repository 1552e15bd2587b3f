"""Mapping table v2 (modal colours, tension, percussion, dynamics, categories, styles) and the composer's use of it."""

import pytest

import scoringkit as sk
from scoringkit.errors import InputError
from scoringkit.generate.rules import compose_rules
from scoringkit.mapping import CATEGORY_COLOURS, STYLES, default_table, emotion_to_intent, validate_table


def _pcs(score, track):
    return {n.pitch % 12 for t in score.tracks if t.name == track for n in t.notes}


def test_fear_gets_harmonic_minor_and_more_tension():
    plain = emotion_to_intent(sk.Emotion(-0.6, 0.7))
    fear = emotion_to_intent(sk.Emotion(-0.6, 0.7, probs={"fear": 0.9, "neutral": 0.1}))
    assert fear.scale_name == "harmonic minor" and fear.tension > plain.tension + 0.3
    assert "fear" in fear.reasons["tension"] and fear.dynamics == "crescendo"


def test_category_below_threshold_changes_nothing():
    weak = emotion_to_intent(sk.Emotion(-0.6, 0.7, probs={"fear": 0.3, "anger": 0.3, "neutral": 0.4}))
    assert weak == emotion_to_intent(sk.Emotion(-0.6, 0.7, probs=weak.emotion.probs)) and weak.scale_name == "harmonic minor"
    assert weak.tension == emotion_to_intent(sk.Emotion(-0.6, 0.7)).tension


def test_category_scale_only_when_it_fits_the_mode():
    joyful_but_negative = emotion_to_intent(sk.Emotion(-0.2, 0.5, probs={"joy": 1.0}))
    assert joyful_but_negative.mode == "minor" and joyful_but_negative.scale_name != "lydian"


def test_drums_follow_arousal():
    excited = sk.compose(sk.Emotion(0.7, 0.9), duration=12, seed=0)
    calm = sk.compose(sk.Emotion(0.7, -0.8), duration=12, seed=0)
    assert any(t.is_drum and t.notes for t in excited.tracks)
    assert not any(t.is_drum for t in calm.tracks)


def test_dynamics_curves_shape_velocity():
    def thirds(curve):
        score = compose_rules(sk.MusicalIntent(tempo=100, key="C major", dynamics=curve), duration=30, seed=2)
        notes = [n for t in score.tracks for n in t.notes]
        end = score.end_beat
        first = [n.velocity for n in notes if n.start < end / 3]
        last = [n.velocity for n in notes if n.start >= 2 * end / 3]
        return sum(first) / len(first), sum(last) / len(last)

    start, end = thirds("crescendo")
    assert end > start * 1.15
    start, end = thirds("decrescendo")
    assert start > end * 1.15


def test_modal_colours_are_heard():
    lydian = compose_rules(sk.MusicalIntent(tempo=100, key="C major", scale="lydian"), duration=30, seed=1)
    ionian = compose_rules(sk.MusicalIntent(tempo=100, key="C major"), duration=30, seed=1)
    assert 6 in _pcs(lydian, "melody") | _pcs(lydian, "pad")  # F#, the raised fourth
    assert 6 not in _pcs(ionian, "melody") | _pcs(ionian, "pad")
    phrygian = compose_rules(sk.MusicalIntent(tempo=100, key="A minor", scale="phrygian"), duration=30, seed=1)
    assert 10 in _pcs(phrygian, "pad")  # Bb, the flat second of A


def test_tension_adds_dissonance():
    def chromatic_share(tension):
        score = compose_rules(sk.MusicalIntent(tempo=100, key="C major", tension=tension), duration=40, seed=4)
        notes = [n for t in score.tracks if not t.is_drum for n in t.notes]
        return sum(n.pitch % 12 not in (0, 2, 4, 5, 7, 9, 11) for n in notes) / len(notes)

    assert chromatic_share(0.0) < 0.05 < 0.1 < chromatic_share(0.9)


def test_slow_harmonic_rhythm_holds_chords_for_two_bars():
    score = compose_rules(sk.MusicalIntent(tempo=80, key="D minor", harmonic_rhythm=0.5), duration=36, seed=0)
    bass = [t for t in score.tracks if t.name == "bass"][0]
    roots = {}
    for n in bass.notes:
        roots.setdefault(int(n.start // 4), n.pitch % 12)
    bars = sorted(roots)
    assert all(roots[b] == roots[b + 1] for b in bars[:-4:2])  # the last bars form the cadence


@pytest.mark.parametrize("style", sorted(STYLES))
def test_every_style_composes(style):
    intent = emotion_to_intent(sk.Emotion(0.5, 0.3), style=style)
    score = sk.compose(intent, duration=10, seed=0)
    assert score.tracks and score.meter == intent.meter
    assert STYLES[style]["reason"].split(":")[0] in " ".join(intent.reasons.values()) or style == "film"


def test_style_presets_do_what_they_say():
    film = emotion_to_intent(sk.Emotion(0.6, 0.6))
    lullaby = emotion_to_intent(sk.Emotion(0.6, 0.6), style="lullaby")
    horror = emotion_to_intent(sk.Emotion(0.6, 0.6), style="horror")
    assert lullaby.tempo < film.tempo and lullaby.percussion == 0 and lullaby.meter == (3, 4)
    assert horror.mode == "minor" and horror.tension > film.tension and horror.scale_name == "phrygian"
    with pytest.raises(InputError, match="style"):
        emotion_to_intent(sk.Emotion(0, 0), style="polka")


@pytest.mark.parametrize("edit, message", [
    (lambda t: t["linear"].pop("tempo"), "missing 'tempo'"),
    (lambda t: t["linear"].__setitem__("tempo", (90, 0, 40, 48, 400, "x")), r"high must be within \[20.0, 300.0\]"),
    (lambda t: t["linear"].__setitem__("velocity", (70, 0, 30, 100, 40, "x")), "must not exceed"),
    (lambda t: t["linear"].__setitem__("density", (1, 0, "fast", 0.5, 2, "x")), "arousal weight must be a finite"),
    (lambda t: t["quadrants"][1]["instruments"].__setitem__("melody", 200), "0-127"),
    (lambda t: t["quadrants"][3].__setitem__("scale", "lydian"), "scale"),
    (lambda t: t["quadrants"][2].__setitem__("harmony", "jazzy"), "harmony"),
    (lambda t: t["quadrants"].pop(4), "quadrant 4"),
])
def test_edited_table_errors_name_the_field(edit, message):
    table = default_table()
    edit(table)
    with pytest.raises(InputError, match=message):
        validate_table(table)
    with pytest.raises(InputError, match=message):
        emotion_to_intent(sk.Emotion(0.1, 0.1), table=table)


def test_old_tables_without_new_attributes_still_work():
    table = default_table()
    for name in ("tension", "syncopation", "percussion"):
        table["linear"].pop(name)
    intent = emotion_to_intent(sk.Emotion(0.5, 0.9), table=table)
    assert intent.percussion == 0 and intent.tension == 0


@pytest.mark.parametrize("kwargs, message", [
    ({"scale": "blues"}, "unknown scale"),
    ({"scale": "dorian"}, "needs a minor key"),
    ({"tension": 1.5}, "tension must be"),
    ({"percussion": float("nan")}, "percussion must be"),
    ({"dynamics": "swell"}, "dynamics"),
    ({"harmonic_rhythm": 3}, "harmonic_rhythm"),
])
def test_intent_validation(kwargs, message):
    with pytest.raises(InputError, match=message):
        sk.MusicalIntent(tempo=100, key="C major", **kwargs)


def test_bad_emotions_and_durations():
    with pytest.raises(InputError, match="valence"):
        sk.Emotion(float("nan"), 0)
    with pytest.raises(InputError, match="arousal"):
        sk.Emotion(0, 1.5)
    for duration in (0, 36000):
        with pytest.raises(InputError, match="duration"):
            sk.compose(sk.Emotion(0, 0), duration=duration)


def test_every_category_colour_is_valid():
    for label, colour in CATEGORY_COLOURS.items():
        emotion = sk.Emotion(0.5 if colour.get("scale") in ("lydian", None) else -0.5, 0.5, probs={label: 1.0})
        intent = emotion_to_intent(emotion)
        assert label in " ".join(intent.reasons.values())


def test_quadrants_are_recognised_by_the_music_emotion_model():
    """A small version of benchmarks/bench_quadrants.py: 4 quadrants x 3 seeds."""
    points = {1: (0.6, 0.6), 2: (-0.6, 0.6), 3: (-0.6, -0.6), 4: (0.6, -0.6)}
    heard = [sk.music_emotion(sk.compose(sk.Emotion(*points[q]), duration=20, seed=s)).quadrant == q
             for q in points for s in range(3)]
    assert sum(heard) >= 11


def test_reference_mode_flip_explains_the_scale():
    track = sk.compose(sk.Emotion(0.8, 0.8), duration=10, seed=2)
    intent = emotion_to_intent(sk.Emotion(-0.7, -0.6), reference=track)
    assert intent.mode == "major" and intent.scale_name == "ionian"
    assert "major" in intent.reasons["scale"] and "minor mode" not in intent.reasons["scale"]


def test_slow_harmony_cadence_does_not_hold_the_dominant_three_bars():
    from scoringkit.generate.rules import chord_pitch_classes

    for seed in range(6):
        score = compose_rules(sk.MusicalIntent(tempo=60, key="D minor", harmonic_rhythm=0.5), duration=24, seed=seed)
        bass = [t for t in score.tracks if t.name == "bass"][0]
        roots = {}
        for n in bass.notes:
            roots.setdefault(int(n.start // 4), n.pitch % 12)
        dominant = chord_pitch_classes("V", 2)[0]
        ordered = [roots[b] for b in sorted(roots)]
        assert ordered[-2] == dominant and ordered[-3] != dominant
