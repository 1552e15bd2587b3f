import statistics

import numpy as np
import pytest

import scoringkit as sk


def mean_melody_pitch(soundtrack):
    return statistics.mean(n.pitch for c in soundtrack.cues for n in c.score.track("melody").notes)


def test_sad_and_joyful_stories_differ_as_music_psychology_predicts(sad_story, joyful_story):
    sad, joyful = sk.score_story(sad_story), sk.score_story(joyful_story)
    sad_cue, joy_cue = sad.cues[0], joyful.cues[0]
    # Gabrielsson & Lindström (2010): sadness -> slow, minor, low, soft; happiness -> fast, major, high, loud
    assert sad_cue.intent.tempo < joy_cue.intent.tempo - 20
    assert (sad_cue.intent.mode, joy_cue.intent.mode) == ("minor", "major")
    assert mean_melody_pitch(sad) < mean_melody_pitch(joyful) - 4
    sad_vel = statistics.mean(n.velocity for _, n in sad.score.notes())
    joy_vel = statistics.mean(n.velocity for _, n in joyful.score.notes())
    assert sad_vel < joy_vel
    # and the rendered audio really is slower: fewer note onsets per second
    onsets = lambda st: len({round(n.start, 3) for _, n in st.score.notes()}) / st.duration
    assert onsets(sad) < onsets(joyful)


def test_example_story_swings_through_the_quadrants(example_soundtrack):
    # read word by word (lexicon), the story visits all four quadrants
    lexicon = sk.score_story(sk.example_story(), backend="lexicon")
    assert [c.emotion.quadrant for c in lexicon.cues] == [4, 1, 2, 2, 3, 4]  # as the README says
    # the default encoder reads EmoBank's arousal, in which grief is not calm (README: text emotion),
    # but it still hears the calm opening, the joyful arrival, the storm and the grief's low valence
    cues = example_soundtrack.cues
    assert [c.emotion.quadrant for c in cues[:4]] == [4, 1, 2, 2]
    assert cues[4].emotion.valence < -0.1 and cues[4].intent.mode == "minor"
    assert cues[5].emotion.valence > cues[4].emotion.valence + 0.2


def test_the_readme_shows_what_make_demo_prints(example_soundtrack):
    from pathlib import Path

    from scoringkit.cli import cue_line

    readme = (Path(sk.__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    shown = [line for line in readme.split("```")[3].splitlines() if line.startswith("cue ")]
    assert shown == [cue_line(cue) for cue in example_soundtrack.cues]


def test_cues_tile_the_timeline(example_soundtrack):
    cues = example_soundtrack.cues
    assert cues[0].start == 0
    for a, b in zip(cues, cues[1:]):
        assert b.start == pytest.approx(a.end)
    assert example_soundtrack.duration == pytest.approx(cues[-1].end)
    assert example_soundtrack.score.duration == pytest.approx(cues[-1].end, abs=0.05)


def test_combined_score_changes_tempo_key_and_programs_at_cue_boundaries(example_soundtrack):
    score = example_soundtrack.score
    for cue in example_soundtrack.cues:
        beat = score.beat_at(cue.start + 1e-6)
        assert score.key_at(beat) == cue.intent.key
        assert score.track("melody").program_at(beat) == cue.intent.instruments["melody"]


def test_cue_length_follows_reading_time():
    short = "The sea was calm and the sky was clear. " * 3
    long = "The sea was calm and the sky was clear. " * 12
    st = sk.score_story(f"{short}\n\n{long}", min_words=1, max_words=500)
    assert st.cues[1].duration > 2 * st.cues[0].duration
    assert sk.score_story(f"{short}\n\n{long}", min_words=1, max_words=500, words_per_minute=320).duration < st.duration


def test_same_seed_same_soundtrack():
    text = "Calm waters.\n\nA sudden scream in the night!"
    a, b = sk.score_story(text, min_words=1), sk.score_story(text, min_words=1)
    assert [(n.pitch, n.start) for _, n in a.score.notes()] == [(n.pitch, n.start) for _, n in b.score.notes()]


def test_rendered_soundtrack_is_valid_audio(example_soundtrack):
    audio = example_soundtrack.render(sr=16000)
    assert np.all(np.isfinite(audio)) and np.max(np.abs(audio)) <= 1.0
    assert len(audio) / 16000 == pytest.approx(example_soundtrack.duration + 1.5, abs=0.5)


@pytest.mark.parametrize("kwargs", [{"backend": "gpt"}, {"generator": "gan2"}, {"words_per_minute": 0},
                                    {"min_cue": 30, "max_cue": 10}, {"max_cue": float("inf")}])
def test_bad_options_are_input_errors(kwargs):
    with pytest.raises(sk.InputError):
        sk.score_story("A calm day.", **kwargs)


@pytest.mark.parametrize("bad", ["", "   ", None, 3.0])
def test_bad_story_is_an_input_error(bad):
    with pytest.raises(sk.InputError):
        sk.score_story(bad)


def test_subtitles_and_screenplays_can_be_scored():
    srt = "1\n00:00:01,000 --> 00:00:03,000\nThe lake is calm and still.\n\n2\n00:00:30,000 --> 00:00:32,000\nRun! Fire!\n"
    st = sk.score_story(srt, min_words=1)
    assert [c.scene.start for c in st.cues] == [1.0, 30.0]
    assert [c.emotion.quadrant for c in st.cues] == [4, 2]
    play = sk.score_story("INT. ROOM - DAY\n\nThey laugh and dance with joy!\n\nEXT. ROAD - NIGHT\n\nShe weeps alone.")
    assert [c.scene.heading for c in play.cues] == ["INT. ROOM - DAY", "EXT. ROAD - NIGHT"]


def test_subtitle_cues_start_at_their_time_codes():
    srt = ("1\n00:00:02,000 --> 00:00:05,000\nThe lake is calm, quiet and still.\n\n"
           "2\n00:00:31,500 --> 00:00:34,000\nRun! Fire! Everyone is screaming!\n\n"
           "3\n00:01:05,000 --> 00:01:09,000\nShe wept alone at the grave.\n")
    st = sk.score_story(srt, min_words=1)
    assert [c.start for c in st.cues] == [2.0, 31.5, 65.0]
    for cue, following in zip(st.cues, st.cues[1:]):
        assert cue.end <= following.start + 1e-9  # whole bars that fit before the next scene
        assert following.start - cue.end < 60.0 / cue.intent.tempo * 4 + 1e-9  # and no more than a bar short
    score = st.score
    for cue in st.cues:  # the music of each cue really sounds at its time code
        first = min(n.start for t in score.tracks for n in t.notes if score.seconds_at(n.start) >= cue.start - 1e-6)
        assert score.seconds_at(first) == pytest.approx(cue.start, abs=1e-6)
    assert not any(score.seconds_at(n.start) < 2.0 - 1e-6 for _, n in score.notes())  # silence before the first line
