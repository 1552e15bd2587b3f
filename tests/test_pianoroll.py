"""Piano rolls of scores, the bar corpus and dataset, cue assembly, shared checkpoint helpers."""

import json

import numpy as np
import pytest

import scoringkit as sk
from scoringkit.errors import InputError, ModelError
from scoringkit.generate.models import pianoroll as pr
from scoringkit.types import MusicalIntent, Note, Score, Track

EMOTIONS = {1: sk.Emotion(0.7, 0.6), 2: sk.Emotion(-0.7, 0.6), 3: sk.Emotion(-0.7, -0.6), 4: sk.Emotion(0.7, -0.6)}


@pytest.fixture(scope="module")
def corpus():
    scores, quadrants, splits = [], [], []
    for q, emotion in EMOTIONS.items():
        for seed in range(2):
            scores.append(sk.compose(emotion, duration=8, seed=seed))
            quadrants.append(q)
            splits.append("val" if seed else "train")
    return pr.RollCorpus.from_scores(scores, quadrants=quadrants, splits=splits)


def test_score_to_roll_shape_and_channels():
    score = Score([Track("p", 0, [Note(60, 0, 1), Note(64, 0.5, 4), Note(67, 4, 0.25)]),
                   Track("drums", 0, [Note(36, 0, 1)], is_drum=True)])
    roll = pr.score_to_roll(score)
    assert roll.shape == (2, 2, 16, 72) and roll.dtype == np.uint8
    assert roll[0, 0, 0, 60 - 24] == 1 and roll[0, 1, :4, 60 - 24].tolist() == [1, 1, 1, 1]
    assert roll[1, 1, :2, 64 - 24].tolist() == [1, 1] and roll[1, 0, :, 64 - 24].sum() == 0  # held across the bar
    assert roll[:, :, :, 36 - 24].sum() == 0  # drums are left out
    assert pr.score_to_roll(score, n_bars=5).shape[0] == 5


def test_roll_round_trip_from_score():
    notes = [Note(48, 0, 2, 70), Note(60, 0.25, 0.5, 80), Note(60, 0.75, 1.25, 80), Note(95, 3.5, 4.5, 90)]
    score = Score([Track("piano", 0, notes)], tempo=96, key="A minor")
    back = pr.roll_to_score(pr.score_to_roll(score), tempo=96, key="A minor")
    assert [(n.pitch, n.start, n.duration) for n in back.tracks[0].notes] == \
        [(n.pitch, n.start, n.duration) for n in notes]
    assert back.tempo == 96 and back.key == "A minor" and back.meter == (4, 4)


def test_roll_round_trip_from_random_roll():
    rng = np.random.default_rng(0)
    roll = (rng.random((3, 2, 16, 72)) < 0.05).astype(np.uint8)
    roll[:, 1] |= roll[:, 0]  # an onset sounds
    again = pr.score_to_roll(pr.roll_to_score(roll), n_bars=3)
    assert np.array_equal(again[:, 1], roll[:, 1])
    # every onset survives; extra onsets only where a pitch starts sounding
    assert np.all(again[:, 0] >= roll[:, 0])
    assert np.array_equal(pr.score_to_roll(pr.roll_to_score(again), n_bars=3), again)


def test_out_of_range_notes_fold_or_drop():
    score = Score([Track("p", 0, [Note(21, 0, 1), Note(108, 1, 1)])])
    folded = pr.score_to_roll(score)
    assert folded[0, 0, 0, 33 - 24] == 1 and folded[0, 0, 4, 96 - 12 - 24] == 1
    assert pr.score_to_roll(score, fold=False).sum() == 0


def test_binarize_thresholds_and_errors():
    probs = np.zeros((2, 1, 2))
    probs[0, 0, 0], probs[1, 0, 1] = 0.2, 0.4
    on, act = pr.binarize(probs, (0.1, 0.5))
    assert on.tolist() == [[True, False]] and act.tolist() == [[True, False]]
    with pytest.raises(InputError):
        pr.binarize(probs, 2.0)


def test_roll_config_checks():
    with pytest.raises(InputError):
        pr.RollConfig(n_pitches=70)
    assert pr.RollConfig.from_dict(pr.RollConfig().to_dict()) == pr.RollConfig()
    with pytest.raises(ModelError):
        pr.RollConfig.from_dict({"low": 1})


def test_corpus_dataset_and_augmentation(corpus):
    assert len(corpus) == corpus.piece.shape[0] and corpus.n_pieces == 8
    assert corpus.summary()["train"]["pieces"] == 4
    ds = pr.RollDataset(corpus, split="train", bars=2, augment=True, seed=1)
    assert len(ds) > 0 and set(ds.quadrants.tolist()) == {1, 2, 3, 4}
    x, q = ds.batch(16)
    assert tuple(x.shape) == (16, 2, 32, 72) and x.dtype.is_floating_point and set(q.tolist()) <= {1, 2, 3, 4}
    index = np.arange(len(ds))
    shifts = ds.random_shifts(index)
    assert np.all(np.abs(shifts) <= 5)
    segs, _ = ds.arrays(index, shifts=shifts)
    plain, _ = ds.arrays(index)
    assert np.array_equal(segs.sum(axis=(1, 2, 3)), plain.sum(axis=(1, 2, 3)))  # no note pushed out of range
    item = ds[0]
    assert tuple(item["roll"].shape) == (2, 32, 72) and 1 <= int(item["quadrant"]) <= 4
    with pytest.raises(IndexError):
        ds[len(ds)]
    one_bar = pr.RollDataset(corpus, split="val", bars=1)
    assert one_bar.arrays()[0].shape[1:] == (2, 16, 72)


def test_corpus_save_load_no_pickle(corpus, tmp_path):
    path = corpus.save(tmp_path / "rolls.npz")
    with np.load(path, allow_pickle=False) as data:  # loads without unpickling anything
        assert data["rolls"].dtype == np.uint8
    again = pr.RollCorpus.load(path)
    assert np.array_equal(again.rolls, corpus.rolls) and again.config == corpus.config
    assert again.splits.tolist() == corpus.splits.tolist()
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(ModelError):
        pr.RollCorpus.load(tmp_path / "bad.npz")


def test_fit_key_and_roll_key():
    roll = np.zeros((2, 8, 72))
    roll[1, :, [57 - 24, 60 - 24, 64 - 24]] = 1  # A minor triad
    assert pr.roll_key(roll) == "A minor"
    assert pr.fit_key(roll, "D minor") == (5, "D minor")
    assert pr.fit_key(roll, "F major") == (5, "D minor")  # a minor passage in F major's signature
    assert pr.fit_key(np.zeros((2, 8, 72)), "E major") == (0, "E major")


def test_rolls_to_cue_follows_the_intent():
    rng = np.random.default_rng(3)
    rolls = (rng.random((4, 2, 16, 72)) < 0.04).astype(np.float32)
    intent = MusicalIntent(tempo=90, key="G major", velocity=70, dynamics="crescendo")
    score = pr.rolls_to_cue(rolls, intent, seed=1)
    assert score.tempo == 90 and score.meter == (4, 4) and score.tracks[0].program == 0
    assert score.end_beat <= 16 and score.n_notes > 10
    assert all(1 <= n.velocity <= 127 for n in score.tracks[0].notes)
    assert pr.rolls_to_cue(rolls, intent, program=40, seed=1).tracks[0].program == 40
    assert pr.rolls_to_cue(rolls, intent, seed=1).tracks[0].notes == score.tracks[0].notes  # seeded


def test_latent_walk_and_bars():
    z = pr.latent_walk(400, 8, rho=0.8, rng=np.random.default_rng(0))
    assert z.shape == (400, 8) and abs(float(z.std()) - 1) < 0.2
    assert np.corrcoef(z[:-1, 0], z[1:, 0])[0, 1] > 0.6
    assert pr.n_bars_for(20, 120) == 10 and pr.n_bars_for(0.1, 60) == 1
    intent = MusicalIntent(tempo=70, key="E minor")
    assert pr.intent_quadrant(intent) == 3
    intent.emotion = sk.Emotion(0.5, 0.5)
    assert pr.intent_quadrant(intent) == 1


def test_statistics(corpus):
    stats = pr.roll_statistics(corpus.rolls)
    assert stats["notes_per_bar"] > 0 and 0 <= stats["empty_bar_rate"] <= 1
    assert pr.statistics_distance(stats, stats) == 0
    dense = pr.roll_statistics(np.ones((2, 2, 16, 72)))
    assert pr.statistics_distance(dense, stats) > 1


def test_checkpoint_helpers(tmp_path):
    import torch

    path = pr._save_checkpoint(tmp_path / "m.safetensors", {"w": torch.arange(6.0)}, kind="vae", version=1,
                               config={"z": 4}, meta={"metrics": {"nelbo": 1.5}})
    tensors, config, meta = pr._load_checkpoint(path, kind="vae", version=1)
    assert tensors["w"].tolist() == list(range(6)) and config == {"z": 4} and meta["metrics"]["nelbo"] == 1.5
    header = json.loads(path.read_bytes()[8:8 + int.from_bytes(path.read_bytes()[:8], "little")])
    assert "__metadata__" in header  # a plain safetensors file: JSON header + raw bytes
    with pytest.raises(ModelError, match="not a 'gan'"):
        pr._load_checkpoint(path, kind="gan", version=1)
    with pytest.raises(ModelError, match="version"):
        pr._load_checkpoint(path, kind="vae", version=2)
    with pytest.raises(ModelError, match="no vae checkpoint"):
        pr._load_checkpoint(tmp_path / "missing.safetensors", kind="vae", version=1)
    (tmp_path / "junk.safetensors").write_bytes(b"\x80\x04junk pickle")
    with pytest.raises(ModelError):
        pr._load_checkpoint(tmp_path / "junk.safetensors", kind="vae", version=1)


def _triad_bars(pitches, n_bars=1):
    roll = np.zeros((n_bars, 2, 16, 72), np.float32)
    for p in pitches:
        roll[:, 1, :, p - 24] = 1
        roll[:, 0, 0, p - 24] = 1
    return roll


def test_clean_roll_keeps_one_onset_of_a_blurred_attack():
    on = np.zeros((8, 2), bool)
    on[[0, 1, 2], 0] = True  # three onsets in a row: one note
    on[[0, 4], 1] = True  # onsets two steps apart (a gap between them): two notes
    act = np.ones((8, 2), bool)
    new_on, new_act = pr.clean_roll(on, act)
    assert np.flatnonzero(new_on[:, 0]).tolist() == [0] and np.flatnonzero(new_on[:, 1]).tolist() == [0, 4]
    assert new_act.all()
    flat = np.zeros((2, 8, 72), np.float32)
    flat[0, :, :2], flat[1, :, :2] = on, act
    notes = pr.roll_to_score(flat, clean=True).tracks[0].notes
    assert [(n.pitch, n.start, n.duration) for n in notes] == [(24, 0.0, 2.0), (25, 0.0, 1.0), (25, 1.0, 1.0)]


def test_mode_strengths_and_mode_choice():
    major, minor = _triad_bars((60, 64, 67), 2), _triad_bars((57, 60, 64), 2)
    strength = pr.mode_strengths(np.stack([major, minor]))
    assert strength.shape == (2,) and strength[0] > 0 > strength[1]
    assert pr.mode_strengths(np.zeros((1, 2, 16, 72))).tolist() == [0.0]
    drafts = np.stack([minor, major, minor])
    assert pr.mode_choice(drafts, "major") == 1 and pr.mode_choice(drafts, "minor") == 0
    with pytest.raises(InputError):
        pr.mode_choice(drafts, "dorian")


def test_limit_lengths_and_keep_to_scale():
    notes = [Note(60, 0, 9), Note(64, 3, 0.5), Note(67, 3.5, 5), Note(61, 4, 1)]
    limited = pr.limit_lengths(notes, 4)
    assert [(n.start, n.duration) for n in limited] == [(0, 4), (3, 0.5), (3.5, 4), (4, 1)]
    assert [n.velocity for n in limited] == [n.velocity for n in notes]
    with pytest.raises(InputError):
        pr.limit_lengths(notes, 0)
    assert [n.pitch for n in pr.keep_to_scale(notes, "C major")] == [60, 64, 67]
    assert [n.pitch for n in pr.keep_to_scale(notes, "A minor")] == [60, 64, 67]
    assert [n.pitch for n in pr.keep_to_scale([Note(61, 0, 1)], "C major")] == [61]  # nothing left: keep all
    assert [n.pitch for n in pr.keep_to_scale(notes, "C major", tension=1.0)] == [60, 64, 67, 61]
    some = [len(pr.keep_to_scale(notes * 10, "C major", tension=0.5, seed=s)) for s in range(3)]
    assert all(30 < k < 40 for k in some) and some == [len(pr.keep_to_scale(notes * 10, "C major", tension=0.5,
                                                                          seed=s)) for s in range(3)]
    with pytest.raises(InputError):
        pr.keep_to_scale(notes, "C major", tension=2)


def test_rolls_to_cue_release_and_scale():
    rolls = _triad_bars((60, 64, 67), 2)
    rolls[:, 1, :, 61 - 24] = 1  # a C# held through both bars
    rolls[0, 0, 0, 61 - 24] = 1
    intent = MusicalIntent(tempo=90, key="C major")
    held = pr.rolls_to_cue(rolls, intent)
    assert max(n.duration for n in held.tracks[0].notes) == 8
    cut = pr.rolls_to_cue(rolls, intent, longest=4)
    assert max(n.duration for n in cut.tracks[0].notes) == 4
    in_key = pr.rolls_to_cue(rolls, intent, scale=True)
    assert in_key.key == "C major" and 61 not in {n.pitch for n in in_key.tracks[0].notes}
    assert {n.pitch for n in in_key.tracks[0].notes} == {60, 64, 67}
