"""Leitmotifs: names found in a story get a theme that recurs across cues, varied by emotion."""

import pytest

import scoringkit as sk
from scoringkit.errors import InputError
from scoringkit.generate.leitmotif import Leitmotif, apply_leitmotif, find_names, make_leitmotif, realise

STORY = """Ilse walked to the harbour at dawn, humming, and the gulls wheeled over her in the bright wind.

***

The letter said the boat was lost. Ilse read it twice and sat down on the cold stones, and the tide went out.

***

Years later Ilse's granddaughter found the letter in a drawer and laughed at how young the handwriting looked."""


def test_find_names_keeps_recurring_names_only():
    scenes = ["Then Mara climbed the tower.", "The sea rose while Mara lit the lamp.", "Then the gulls slept."]
    assert find_names(scenes) == ["Mara"]
    assert find_names(["MARA\nWhere is it?", "TOM\nGone. Ask Mara.", "MARA\nNo."]) == ["Mara"]
    assert find_names(["No names here.", "None at all."]) == []
    with pytest.raises(InputError):
        find_names([1, 2])


def test_themes_are_deterministic_and_personal():
    assert make_leitmotif("Ilse") == make_leitmotif(" Ilse ")
    themes = {make_leitmotif(n).degrees for n in ("Ilse", "Mara", "Tom", "Harbour", "Elena", "Kai")}
    assert len(themes) >= 4
    with pytest.raises(InputError):
        make_leitmotif("")


def _intent(key="C major", tempo=100, arousal=0.0, tension=0.0):
    return sk.MusicalIntent(tempo=tempo, key=key, emotion=sk.Emotion(0.0, arousal), tension=tension)


def test_mode_change_follows_the_cue():
    motif = Leitmotif("x", (0, 2, 4, 2, 0), (1, 1, 1, 1, 2))
    major = [n.pitch % 12 for n in realise(motif, _intent("C major"))]
    minor = [n.pitch % 12 for n in realise(motif, _intent("C minor"))]
    assert major == [0, 4, 7, 4, 0] and minor == [0, 3, 7, 3, 0]


def test_rhythm_is_augmented_when_calm_and_diminished_when_excited():
    motif = make_leitmotif("Ilse")
    length = lambda notes: notes[-1].start + motif.rhythm[-1] * (notes[1].start - notes[0].start) / motif.rhythm[0]  # noqa: E731
    calm = realise(motif, _intent(arousal=-0.8))
    plain = realise(motif, _intent(arousal=0.0))
    excited = realise(motif, _intent(arousal=0.9))
    assert length(calm) == pytest.approx(2 * length(plain)) and length(excited) == pytest.approx(length(plain) / 2)


def test_tense_cues_fragment_the_theme():
    motif = Leitmotif("x", (0, 2, 4, 5, 4, 2), (1, 1, 1, 1, 1, 2))
    fragment = [n.pitch for n in realise(motif, _intent(tension=0.8))]
    assert len(fragment) == 6 and fragment[3:] != fragment[:3]
    assert [p % 12 for p in fragment] == [0, 4, 7, 11, 2, 5]  # the head, then the head a step lower


def test_apply_states_the_theme_at_the_start():
    intent = _intent("D minor", tempo=90)
    score = sk.compose(intent, duration=24, seed=3)
    motif = make_leitmotif("Ilse")
    apply_leitmotif(score, intent, motif)
    melody = next(t for t in score.tracks if t.name == "melody")
    expected = [(n.pitch, n.start) for n in realise(motif, intent)]
    assert [(n.pitch, n.start) for n in melody.notes[: len(expected)]] == expected


def test_score_story_recurs_the_theme_across_cues():
    st = sk.score_story(STORY, min_words=5)
    assert [c.leitmotif for c in st.cues] == ["Ilse"] * 3
    assert all(row["leitmotif"] == "Ilse" for row in st.cue_sheet())
    motif = make_leitmotif("Ilse")
    for cue in st.cues:
        melody = next(t for t in cue.score.tracks if t.name == "melody")
        expected = [n.pitch for n in realise(motif, cue.intent)]
        assert [n.pitch for n in melody.notes[: len(expected)]] == expected
    plain = sk.score_story(STORY, min_words=5, leitmotifs=False)
    assert [c.leitmotif for c in plain.cues] == [None] * 3
    with pytest.raises(InputError, match="leitmotifs"):
        sk.score_story(STORY, leitmotifs="yes")
