"""The hidden exercise solutions of notebooks 00 and 02 (scoringkit.nb.solutions)."""

from __future__ import annotations

import pytest

import scoringkit as sk
from scoringkit.errors import InputError
from scoringkit.nb.solutions import SAD_ENDING, ex00_sad_ending, ex02_boundary_settings, ex02_part_starts

NIGHT_FERRY = """The Night Ferry

The old ferry slid across the harbour at dusk. The water lay still and silver, and the air was warm and soft. Nina leaned on the rail with a cup of sweet tea, listening to the gentle creak of the ropes and the sleepy calls of the gulls.

Halfway across, the engine coughed and died. Fog swallowed the lights of the shore. Something huge scraped along the hull and the deck lurched. Passengers screamed. Nina gripped the rail, her heart hammering, terrified, as a horn wailed somewhere in the dark.

Then the fog tore open and the harbour lights blazed ahead. A fishing boat had found them and was towing them home! Everyone cheered and hugged. On the quay a band was playing, children were dancing, and Nina laughed with pure joy.
"""


# -- notebook 00 ------------------------------------------------------------------------------
def test_ex00_replaces_only_the_last_scene():
    sad = ex00_sad_ending(NIGHT_FERRY)
    paragraphs = sad.strip().split("\n\n")
    assert paragraphs[-1] == SAD_ENDING
    assert paragraphs[:-1] == NIGHT_FERRY.strip().split("\n\n")[:-1]
    assert len(SAD_ENDING.split()) >= 25  # long enough to stay a scene of its own


def test_ex00_last_cue_becomes_sad_slower_and_minor():
    before = sk.score_story(NIGHT_FERRY, backend="lexicon").cues  # notebook 00 reads emotion with the lexicon
    after = sk.score_story(ex00_sad_ending(NIGHT_FERRY), backend="lexicon").cues
    assert len(after) == len(before)
    assert before[-1].emotion.quadrant == 1 and after[-1].emotion.quadrant == 3
    assert after[-1].emotion.valence < before[-1].emotion.valence
    assert after[-1].emotion.arousal < before[-1].emotion.arousal  # both axes fall, not only valence
    assert after[-1].intent.tempo < before[-1].intent.tempo - 20
    assert before[-1].intent.key.endswith("major") and after[-1].intent.key.endswith("minor")
    for old, new in zip(before[:-1], after[:-1]):  # the earlier cues are untouched
        assert (old.emotion.quadrant, old.intent.tempo, old.intent.key) == (new.emotion.quadrant, new.intent.tempo,
                                                                          new.intent.key)


def test_ex00_ignores_a_trailing_scene_break():
    assert ex00_sad_ending(NIGHT_FERRY + "\n***\n\n").strip().endswith(SAD_ENDING)


@pytest.mark.parametrize("bad", ["", "   \n\n  ", None, 42])
def test_ex00_bad_story_raises_input_error(bad):
    with pytest.raises(InputError, match="story"):
        ex00_sad_ending(bad)


# -- notebook 02 ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def story_scenes():
    story = sk.example_story()
    return story, sk.segment_story(story, min_words=1, max_words=40)


def test_ex02_part_starts_are_the_first_scenes_after_each_break(story_scenes):
    story, scenes = story_scenes
    starts = ex02_part_starts(story, scenes)
    assert starts == [5, 10, 13]
    assert len(starts) == story.count("***")
    for i in starts:  # each part opens with the paragraph right after a *** line
        after_break = [part.strip().split("\n\n")[0] for part in story.split("***")[1:]]
        assert any(paragraph.startswith(scenes[i].text[:30]) for paragraph in after_break)


def test_ex02_part_starts_rejects_scenes_of_another_story(story_scenes):
    story, _ = story_scenes
    with pytest.raises(InputError, match="not in the story"):
        ex02_part_starts(story, sk.segment_story(NIGHT_FERRY))


def test_ex02_boundary_settings_ranks_the_exact_match_first():
    calm, tense, sad = sk.Emotion(0.4, -0.5), sk.Emotion(-0.5, 0.6), sk.Emotion(-0.6, -0.5)
    arc = sk.emotion_arc([calm] * 4 + [tense] * 4 + [sad] * 4)
    rows = ex02_boundary_settings(arc, [4, 8], thresholds=(0.25, 3.0), min_gaps=(2, 5))
    assert len(rows) == 4
    assert rows[0]["boundaries"] == [4, 8] and rows[0]["f1"] == 1.0
    assert (rows[0]["found"], rows[0]["missed"], rows[0]["extra"]) == ([4, 8], [], [])
    assert [row["f1"] for row in rows] == sorted((row["f1"] for row in rows), reverse=True)
    nothing = [row for row in rows if row["threshold"] == 3.0]  # no change is that large
    assert all(row["boundaries"] == [] and row["missed"] == [4, 8] and row["f1"] == 0.0 for row in nothing)


def test_ex02_boundary_settings_counts_extra_boundaries():
    calm, tense = sk.Emotion(0.4, -0.5), sk.Emotion(-0.5, 0.6)
    arc = sk.emotion_arc([calm] * 4 + [tense] * 4 + [calm] * 4)
    (row,) = ex02_boundary_settings(arc, [4], thresholds=(0.25,), min_gaps=(2,))
    assert row["boundaries"] == [4, 8] and row["extra"] == [8]
    assert row["f1"] == pytest.approx(2 * 1 / (2 + 1))


def test_ex02_on_the_example_story_the_defaults_cut_inside_the_first_part(story_scenes):
    story, scenes = story_scenes
    arc = sk.emotion_arc(sk.analyze_text([s.text for s in scenes], backend="lexicon"), times=scenes)
    rows = ex02_boundary_settings(arc, ex02_part_starts(story, scenes))
    defaults = next(row for row in rows if (row["threshold"], row["min_gap"]) == (0.25, 2))
    assert defaults["extra"] and all(i < 5 for i in defaults["extra"])  # calm morning -> joyful reunion
    assert 0 < rows[0]["f1"] < 1  # no setting matches the parts exactly: the plot is not the emotion


# -- notebooks 05 to 08: the shipped learned generators and the evaluation -------------------
def test_ex05_walks_report_both_axes_per_step():
    from scoringkit.nb.solutions import ex05_valence_walk

    walks = ex05_valence_walk(steps=4, seeds=[0])
    assert list(walks) == ["sad → happy", "calm → tense"]
    assert (walks["sad → happy"]["from"], walks["sad → happy"]["to"]) == (3, 1)
    assert (walks["calm → tense"]["from"], walks["calm → tense"]["to"]) == (4, 2)
    for trend in walks.values():
        assert len(trend["valence"]) == len(trend["arousal"]) == 4
        assert all(-1 <= x <= 1 for x in trend["valence"] + trend["arousal"])
        assert -1 <= trend["valence_spearman"] <= 1 and -1 <= trend["arousal_spearman"] <= 1
    with pytest.raises(InputError, match="seeds"):
        ex05_valence_walk(seeds=[])


def test_ex06_one_row_per_temperature_with_metrics_and_keys():
    from scoringkit.nb.solutions import ex06_temperature_sweep

    rows = ex06_temperature_sweep((0.5, 1.5), seeds=[0, 1], duration=6)
    assert [row["temperature"] for row in rows] == [0.5, 1.5]
    for row in rows:
        assert 0 <= row["pitch_class_entropy"] <= 3.59 and 0 <= row["scale_consistency"] <= 1
        assert len(row["keys"]) == 2 and all(key.endswith(("major", "minor")) for key in row["keys"])
    with pytest.raises(InputError, match="temperatures"):
        ex06_temperature_sweep(())


def test_ex07_higher_rho_makes_neighbouring_bars_more_alike():
    from scoringkit.nb.solutions import ex07_rho_comparison

    independent, smooth = ex07_rho_comparison((0.0, 0.95), seeds=[0, 1], duration=8)
    assert (independent["rho"], smooth["rho"]) == (0.0, 0.95)
    assert smooth["self_similarity"] > independent["self_similarity"]
    assert smooth["repetition_rate"] >= independent["repetition_rate"]


def test_ex08_horror_cannot_be_rescued_and_unknown_styles_are_refused():
    from scoringkit.nb.solutions import ex08_rescue_a_style

    (row,) = ex08_rescue_a_style(["horror"], (1, 2), seeds=2, duration=6)
    assert set(row["results"]) == {1, 2} and row["best_candidates"] == 2
    assert all(result["per_quadrant"][1] == 0 for result in row["results"].values())  # minor by design
    assert row["rescued"] is False
    assert row["gain"] == row["results"][2]["accuracy"] - row["results"][1]["accuracy"]
    with pytest.raises(InputError, match="lullaby"):  # the message lists the presets
        ex08_rescue_a_style(["cartoon"])
