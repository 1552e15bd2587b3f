"""emotion_match, rerank, and compose / score_story with candidates=N."""

import numpy as np
import pytest

import scoringkit as sk
from scoringkit.errors import InputError
from scoringkit.fuse import Match, quadrant_probabilities, rerank
from scoringkit.fuse.match import QUADRANT_WEIGHT
from scoringkit.fuse.rerank import MAX_CANDIDATES

SAD = sk.Emotion(-0.7, -0.6)
JOY = sk.Emotion(0.8, 0.7)


def _notes(score):
    return [[(n.pitch, n.start, n.duration, n.velocity) for n in t.notes] for t in score.tracks]


@pytest.fixture(scope="module")
def sad_cue():
    return sk.compose(SAD, duration=12, seed=0)


def test_match_parts_follow_the_documented_formula(sad_cue):
    m = sk.emotion_match(SAD, sad_cue)
    p = quadrant_probabilities(sad_cue)
    est = sk.music_emotion(sad_cue)
    assert isinstance(m, Match) and 0.0 <= m.score <= 1.0
    assert m.quadrant_agreement == pytest.approx(p[2])
    assert m.probabilities == pytest.approx(tuple(p))
    assert m.estimated.valence == pytest.approx(est.valence) and m.estimated.arousal == pytest.approx(est.arousal)
    assert m.valence_error == pytest.approx(abs(est.valence - SAD.valence))
    assert m.arousal_error == pytest.approx(abs(est.arousal - SAD.arousal))
    expected = QUADRANT_WEIGHT * p[2] + (1 - QUADRANT_WEIGHT) * (1 - (m.valence_error + m.arousal_error) / 4)
    assert m.score == pytest.approx(expected)
    assert m.quadrant_match == (est.quadrant == 3)
    assert m.target is SAD and m.to_dict()["target_quadrant"] == 3


def test_match_prefers_the_right_music(sad_cue):
    happy_cue = sk.compose(JOY, duration=12, seed=0)
    assert sk.emotion_match(SAD, sad_cue).score > sk.emotion_match(SAD, happy_cue).score + 0.3
    assert sk.emotion_match(JOY, happy_cue).score > sk.emotion_match(JOY, sad_cue).score + 0.3


def test_match_weight_extremes(sad_cue):
    only_quadrant = sk.emotion_match(SAD, sad_cue, weight=1.0)
    only_distance = sk.emotion_match(SAD, sad_cue, weight=0.0)
    assert only_quadrant.score == pytest.approx(only_quadrant.quadrant_agreement)
    assert only_distance.score == pytest.approx(1 - (only_distance.valence_error + only_distance.arousal_error) / 4)


def test_match_reads_midi_files_and_audio(sad_cue, tmp_path):
    path = tmp_path / "cue.mid"
    sad_cue.to_midi(path)
    from_file = sk.emotion_match(SAD, path)
    assert from_file.estimated.source == "music:symbolic"
    assert from_file.score == pytest.approx(sk.emotion_match(SAD, sad_cue).score, abs=0.05)
    audio = sk.render(sk.compose(SAD, duration=6, seed=0), sr=22050)
    heard = sk.emotion_match(SAD, audio, sr=22050)
    assert heard.estimated.source == "music:audio" and 0.0 <= heard.score <= 1.0


def test_sk_emotion_match_is_exported():
    assert sk.emotion_match is sk.fuse.emotion_match
    assert "emotion_match" in dir(sk)


@pytest.mark.parametrize("target", [None, (0.5, 0.5), "joy", sk.MusicalIntent(tempo=100, key="C major")])
def test_match_bad_targets(target, sad_cue):
    with pytest.raises(InputError, match="target Emotion"):
        sk.emotion_match(target, sad_cue)


@pytest.mark.parametrize("weight", [-0.1, 1.5, float("nan"), True, "half"])
def test_match_bad_weight(weight, sad_cue):
    with pytest.raises(InputError, match="weight"):
        sk.emotion_match(SAD, sad_cue, weight=weight)


def test_match_bad_music():
    with pytest.raises(InputError, match="silent"):
        sk.emotion_match(SAD, np.zeros(22050, dtype=np.float32), sr=22050)
    drums = sk.Score([sk.Track("kit", 0, [sk.Note(36, i, 0.5) for i in range(8)], is_drum=True)])
    with pytest.raises(InputError, match="no pitched notes"):
        sk.emotion_match(SAD, drums)
    with pytest.raises(InputError, match="no such file"):
        sk.emotion_match(SAD, "missing.mid")
    with pytest.raises(InputError):
        sk.emotion_match(SAD, 42)


# -- rerank ------------------------------------------------------------------------------

def test_rerank_keeps_the_best_candidate():
    intent = sk.emotion_to_intent(sk.Emotion(-0.3, -0.25))   # a mild target: candidates differ
    made = {}

    def make(seed):
        made[seed] = sk.compose(intent, duration=8, seed=seed)
        return made[seed]

    result = rerank(make, intent.emotion, 6, seed=3)
    assert result.seeds == [3, 4, 5, 6, 7, 8] == sorted(made)
    assert len(result.matches) == 6
    assert all(result.match.score >= m.score for m in result.matches)
    assert result.best is made[result.seed]
    again = sk.emotion_match(intent.emotion, made[result.seed])
    assert again.score == pytest.approx(result.match.score)
    assert len({round(m.score, 9) for m in result.matches}) > 1   # the test would be vacuous otherwise


def test_rerank_ties_go_to_the_first_seed():
    cue = sk.compose(SAD, duration=6, seed=0)
    result = rerank(lambda seed: cue, SAD, 4, seed=7)
    assert result.seed == 7


@pytest.mark.parametrize("n", [0, -1, 2.5, True, "8", None, MAX_CANDIDATES + 1])
def test_rerank_bad_n(n):
    with pytest.raises(InputError, match="candidates must be an integer"):
        rerank(lambda s: sk.compose(SAD, duration=4, seed=s), SAD, n)


def test_rerank_bad_arguments():
    with pytest.raises(InputError, match="make_candidate"):
        rerank("not a function", SAD, 2)
    with pytest.raises(InputError, match="seed"):
        rerank(lambda s: sk.compose(SAD, duration=4, seed=s), SAD, 2, seed=1.5)


# -- compose / score_story with candidates -------------------------------------------------

@pytest.mark.parametrize("emotion,seed", [(SAD, 0), (JOY, 5), (sk.Emotion(-0.4, 0.6), 11)])
def test_one_candidate_is_plain_compose(emotion, seed):
    plain = sk.compose(emotion, duration=10, seed=seed)
    one = sk.compose(emotion, duration=10, seed=seed, candidates=1)
    assert _notes(one) == _notes(plain)
    assert (one.tempo, one.key, one.meter) == (plain.tempo, plain.key, plain.meter)


def test_compose_candidates_returns_the_best_seed():
    emotion = sk.Emotion(0.3, -0.2)
    n, seed = 5, 2
    matches = [sk.emotion_match(emotion, sk.compose(emotion, duration=8, seed=s)) for s in range(seed, seed + n)]
    best_seed = seed + int(np.argmax([m.score for m in matches]))
    chosen = sk.compose(emotion, duration=8, seed=seed, candidates=n)
    assert _notes(chosen) == _notes(sk.compose(emotion, duration=8, seed=best_seed))
    assert sk.emotion_match(emotion, chosen).score == pytest.approx(max(m.score for m in matches))


def test_compose_candidates_with_an_intent():
    intent = sk.emotion_to_intent(sk.Emotion(-0.6, 0.7))
    assert sk.music_emotion(sk.compose(intent, duration=8, candidates=3)).quadrant == 2
    bare = sk.MusicalIntent(tempo=90, key="A minor")
    assert bare.emotion is None
    sk.compose(bare, duration=4, candidates=1)   # no reranking: no emotion needed
    with pytest.raises(InputError, match="carries no emotion"):
        sk.compose(bare, duration=4, candidates=2)


@pytest.mark.parametrize("n", [0, -3, 1.0, 2.5, True, "4", MAX_CANDIDATES + 1])
def test_compose_bad_candidates(n):
    with pytest.raises(InputError, match="candidates"):
        sk.compose(SAD, duration=4, candidates=n)


STORY = ("The meadow was quiet and warm, and the old dog slept in the soft afternoon sun.\n\n"
         "Then the alarm screamed, the soldiers ran, and fire tore through the terrified village!")


def test_score_story_candidates(monkeypatch):
    plain = sk.score_story(STORY, min_words=1)
    one = sk.score_story(STORY, min_words=1, candidates=1)
    assert [_notes(c.score) for c in one.cues] == [_notes(c.score) for c in plain.cues]
    import scoringkit.generate as generate

    calls, real_compose = [], generate.compose

    def spy(*args, **kwargs):
        calls.append(kwargs["seed"])
        return real_compose(*args, **kwargs)

    monkeypatch.setattr(generate, "compose", spy)
    ranked = sk.score_story(STORY, min_words=1, seed=4, candidates=3)
    assert len(ranked.cues) == len(plain.cues) == 2
    assert calls == [4, 5, 6, 5, 6, 7]          # every cue reranked over 3 seeds, cue i from seed + i
    with pytest.raises(InputError, match="candidates"):
        sk.score_story(STORY, candidates=0)


LEITMOTIF_STORY = ("Ilse sat by the calm grey sea and watched the slow tide, tired and sad.\n\n"
                   "Then Ilse laughed with joy as the bright boats raced home, cheering and singing!\n\n"
                   "At night Ilse wept alone; the letter said the boat was lost, and she grieved.")


def test_score_story_reranks_cues_as_they_sound():
    """Reranking judges each cue with its leitmotif, so it never ends up worse than no reranking."""
    kwargs = dict(min_words=1, transition="cut", seed=2)
    plain = sk.score_story(LEITMOTIF_STORY, **kwargs)
    ranked = sk.score_story(LEITMOTIF_STORY, candidates=4, **kwargs)
    assert all(c.leitmotif == "Ilse" for c in ranked.cues)
    for before, after in zip(plain.cues, ranked.cues):
        assert sk.emotion_match(after.emotion, after.score).score >= sk.emotion_match(before.emotion, before.score).score
