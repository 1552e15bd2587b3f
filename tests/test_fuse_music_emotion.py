"""music_emotion: the symbolic and audio models, their features, and the training recipe."""

import json
from pathlib import Path

import numpy as np
import pytest

import scoringkit as sk
from scoringkit.errors import InputError, ModelError
from scoringkit.fuse import EMOTION_FEATURE_NAMES, MusicEmotionModel, emotion_features, quadrant_probabilities
from scoringkit.fuse.music_features import HARMONY_DETAIL_NAMES, _interval_features
from scoringkit.fuse import train as fuse_train

POINTS = {1: (0.7, 0.7), 2: (-0.7, 0.7), 3: (-0.7, -0.7), 4: (0.7, -0.7)}


@pytest.fixture(scope="module")
def cues():
    return {q: sk.compose(sk.Emotion(v, a), duration=16, seed=1) for q, (v, a) in POINTS.items()}


def _chords(pitch_sets, velocity=70, beats=2):
    notes = [sk.Note(p, i * beats, beats, velocity) for i, chord in enumerate(pitch_sets) for p in chord]
    return sk.Score([sk.Track("piano", 0, notes)], tempo=90)


def test_features_complete_and_finite(cues):
    f = emotion_features(cues[1])
    assert list(f) == list(EMOTION_FEATURE_NAMES)
    assert all(np.isfinite(v) for v in f.values())


def test_features_hear_major_and_minor_chords():
    major = emotion_features(_chords([(60, 64, 67), (65, 69, 72), (67, 71, 74), (60, 64, 67)]))
    minor = emotion_features(_chords([(57, 60, 64), (62, 65, 69), (64, 67, 71), (57, 60, 64)]))
    assert major["chord_major"] > 0.9 and minor["chord_minor"] > 0.9
    assert major["bass_minor_third"] < 0.1 < 0.9 < minor["bass_minor_third"]
    assert major["key_kk_all_diff"] > minor["key_kk_all_diff"]


def test_features_are_transposition_invariant():
    chords = [(60, 64, 67), (65, 69, 72), (67, 71, 74), (57, 60, 64)]
    a = emotion_features(_chords(chords))
    b = emotion_features(_chords([tuple(p + 5 for p in c) for c in chords]))
    register = {"sym_pitch_mean", "pitch_p90", "pitch_p10", "melody_mean", "bass_mean", "energy_pitch_mean"}
    for name in EMOTION_FEATURE_NAMES:
        if name not in register and not name.startswith("register_"):  # register_*: energy per octave band
            assert a[name] == pytest.approx(b[name], abs=1e-6), name
    assert b["sym_pitch_mean"] == pytest.approx(a["sym_pitch_mean"] + 5)


def test_harmony_detail_features_hear_chord_vocabulary_and_local_keys():
    assert set(HARMONY_DETAIL_NAMES) < set(EMOTION_FEATURE_NAMES)
    major7 = emotion_features(_chords([(60, 64, 67, 71), (65, 69, 72, 76)] * 4))
    minor = emotion_features(_chords([(57, 60, 64), (62, 65, 69), (64, 67, 71), (57, 60, 64)] * 3))
    major = emotion_features(_chords([(60, 64, 67), (65, 69, 72), (67, 71, 74), (60, 64, 67)] * 3))
    assert major7["vocab_major7"] > 0.9 and minor["vocab_minor"] > 0.9 and major["vocab_major"] > 0.9
    assert minor["local_key_minor"] > 0.5 > major["local_key_minor"]
    assert minor["local_key_mode_mean"] < 0 < major["local_key_mode_mean"]
    assert major["chromatic_share"] == pytest.approx(0.0, abs=1e-9)
    assert major["outer_span"] > 0 and sum(major[f"outer_interval{k}"] for k in range(12)) == pytest.approx(1.0)
    # C major triad over C: a major third (4) and a fifth (7) above the bass, no minor third (3)
    assert major["above_bass4"] > 0 and major["above_bass3"] < major["above_bass4"]


def test_interval_features_match_a_note_by_note_count():
    rng = np.random.default_rng(0)
    start = np.sort(rng.uniform(0, 30, 400))
    end = start + rng.exponential(1.0, 400) + 0.01
    pitch = rng.integers(36, 90, 400)
    counts = np.zeros(7)
    for i in range(len(pitch)):
        t = start[i] + 0.02
        for p in pitch[(start <= t) & (end > t)]:
            if p != pitch[i]:
                d = abs(int(p) - int(pitch[i])) % 12
                counts[min(d, 12 - d)] += 1
    counts /= counts.sum()
    got = _interval_features(pitch, start, end, chunk=37)
    np.testing.assert_allclose([got[f"ic{k}"] for k in range(1, 7)], counts[1:])


def test_features_ignore_drums():
    drums = sk.Track("kit", 0, [sk.Note(36, i, 0.5, 120) for i in range(8)], is_drum=True)
    with pytest.raises(InputError, match="no pitched notes"):
        emotion_features(sk.Score([drums]))


def test_music_emotion_orders_composed_cues(cues):
    emotions = {q: sk.music_emotion(score) for q, score in cues.items()}
    assert all(e.source == "music:symbolic" for e in emotions.values())
    assert emotions[1].arousal > emotions[4].arousal and emotions[2].arousal > emotions[3].arousal
    assert emotions[1].valence > emotions[2].valence and emotions[4].valence > emotions[3].valence
    assert emotions[1].quadrant == 1 and emotions[2].quadrant == 2


def test_valence_arousal_follow_probabilities(cues):
    p = quadrant_probabilities(cues[2])
    e = sk.music_emotion(cues[2])
    assert p.sum() == pytest.approx(1.0)
    assert e.valence == pytest.approx(p[0] + p[3] - p[1] - p[2])
    assert e.arousal == pytest.approx(p[0] + p[1] - p[2] - p[3])


def test_midi_file_and_score_agree(cues, tmp_path):
    path = tmp_path / "cue.mid"
    cues[3].to_midi(path)
    from_file, from_score = sk.music_emotion(path), sk.music_emotion(cues[3])
    assert from_file.valence == pytest.approx(from_score.valence, abs=0.05)
    assert from_file.arousal == pytest.approx(from_score.arousal, abs=0.05)


def test_audio_model_on_rendered_cues(cues):
    loud = sk.music_emotion(sk.render(cues[1], sr=22050), sr=22050)
    soft = sk.music_emotion(sk.render(cues[3], sr=22050), sr=22050)
    assert loud.source == "music:audio"
    assert loud.arousal > soft.arousal


def test_audio_file_and_features_input(cues, tmp_path):
    path = tmp_path / "cue.wav"
    sk.write_wav(path, sk.render(cues[2], sr=22050), sr=22050)
    from_file = sk.music_emotion(path)
    from_features = sk.music_emotion(sk.audio_features(path, frames=False))
    assert from_file.source == from_features.source == "music:audio"
    assert from_file.valence == pytest.approx(from_features.valence)


@pytest.mark.parametrize("bad, message", [
    (np.zeros(22050, dtype=np.float32), "silent"),
    (42, "not int"),
    ("no/such/file.mid", "no such file"),
])
def test_bad_input_gets_clear_errors(bad, message):
    with pytest.raises(InputError, match=message):
        sk.music_emotion(bad, sr=22050 if isinstance(bad, np.ndarray) else None)


def test_symbolic_features_are_refused_with_a_reason(cues):
    with pytest.raises(InputError, match="harmony"):
        sk.music_emotion(sk.symbolic_features(cues[1]))


def test_sr_with_a_score_is_an_error(cues):
    with pytest.raises(InputError, match="sr="):
        sk.music_emotion(cues[1], sr=44100)


def test_model_round_trip_and_corrupt_file(tmp_path):
    model = MusicEmotionModel(["a", "b"], [0, 1], [1, 2], np.eye(4, 2), [0, 0, 0, 0], {"kind": "test"})
    path = model.save(tmp_path / "m.json")
    again = MusicEmotionModel.load(path)
    assert again.meta == {"kind": "test"}
    np.testing.assert_allclose(again.predict_proba({"a": 1, "b": 3}), model.predict_proba({"a": 1, "b": 3}))
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ModelError, match="not a scoringkit music-emotion model"):
        MusicEmotionModel.load(tmp_path / "bad.json")
    with pytest.raises(InputError, match="no music-emotion model"):
        MusicEmotionModel.load(tmp_path / "missing.json")
    with pytest.raises(ModelError, match="shapes"):
        MusicEmotionModel(["a"], [0], [1], [[1.0]], [0, 0, 0, 0])


def test_two_axis_model_multiplies_its_sides(tmp_path):
    model = MusicEmotionModel(["a", "v"], [0, 0], [1, 1], [[1.5, 0.0], [0.0, -0.5]], [0.2, 0.1], link="two_axis")
    p = model.predict_proba({"a": 1.0, "v": 2.0})
    arousal, valence = 1 / (1 + np.exp(-1.7)), 1 / (1 + np.exp(0.9))
    np.testing.assert_allclose(p, [arousal * valence, arousal * (1 - valence), (1 - arousal) * (1 - valence),
                                   (1 - arousal) * valence])
    again = MusicEmotionModel.load(model.save(tmp_path / "two.json"))
    assert again.link == "two_axis"
    np.testing.assert_allclose(again.predict_proba({"a": 1.0, "v": 2.0}), p)
    with pytest.raises(ModelError, match="shapes"):
        MusicEmotionModel(["a"], [0], [1], [[1.0]] * 4, [0] * 4, link="two_axis")
    with pytest.raises(ModelError, match="link"):
        MusicEmotionModel(["a"], [0], [1], [[1.0]] * 2, [0] * 2, link="sigmoid")


def test_two_axis_fit_keeps_core_sides_off_the_harmony_detail():
    rng = np.random.default_rng(0)
    y = np.repeat([1, 2, 3, 4], 15)
    names = ["sym_onset_rate", "key_kk_all_diff", HARMONY_DETAIL_NAMES[0]]
    X = rng.normal(size=(60, 3)) + np.c_[np.isin(y, [1, 2]), np.isin(y, [1, 4]), np.isin(y, [1, 4])] * 2
    model = fuse_train.fit_two_axis(X, y, names, C_arousal=1.0, C_valence=1.0, arousal_features="core")
    assert model.link == "two_axis" and model.coef[0, 2] == 0.0 and model.coef[1, 2] != 0.0
    assert fuse_train.evaluate(model, X, y)["accuracy"] > 0.8
    with pytest.raises(InputError, match="quadrants 1-4"):
        fuse_train.fit_two_axis(X[y < 4], y[y < 4], names)


def test_grouped_folds_keep_songs_apart_and_every_quadrant_in_training():
    y = np.repeat([1, 2, 3, 4], 12)
    groups = [f"s{q}{i // 2}" for q in range(4) for i in range(12)]
    splits = list(fuse_train.grouped_folds(y, groups, folds=3, repeats=4))
    assert len(splits) == 12 and {r for r, _, _ in splits} == {0, 1, 2, 3}
    for _, train_idx, test_idx in splits:
        assert not {groups[i] for i in train_idx} & {groups[i] for i in test_idx}
        assert set(y[train_idx]) == {1, 2, 3, 4}


def test_shipped_models_are_small_and_carded():
    from importlib.resources import files

    from scoringkit.fuse.emotion_model import MODEL_FILES

    models = files("scoringkit") / "assets" / "models"
    for name in MODEL_FILES.values():
        data = json.loads((models / name).read_text())
        assert len(data["features"]) == len(data["mean"]) and data["meta"]["licence"].startswith("CC BY-NC-SA")
        assert (models / f"MODEL_CARD_{name[:-5]}.md").read_text().count("non-commercial") >= 1


# --- the training recipe, on a tiny EMOPIA-shaped folder made here ------------------------------

def _fake_emopia(root, per_quadrant=6):
    base = root / "emopia"
    (base / "midis").mkdir(parents=True)
    (base / "split").mkdir()
    labels, splits = [], {"train": [], "val": [], "test": []}
    for q, (v, a) in POINTS.items():
        for i in range(per_quadrant):
            song = f"song{q}{i // 2}"
            clip = f"Q{q}_{song}_{i % 2}"
            sk.compose(sk.Emotion(v, a), duration=8, seed=i).to_midi(base / "midis" / f"{clip}.mid")
            labels.append(f"{clip},{q},T")
            split = "test" if i >= per_quadrant - 2 else "train"
            splits[split].append(f"{clip}.mid")
    (base / "label.csv").write_text("ID,4Q,annotator\n" + "\n".join(labels) + "\n")
    for split, names in splits.items():
        rows = "".join(f"{k},{n}\n" for k, n in enumerate(names))
        (base / "split" / f"{split}_clip.csv").write_text(",clip_name\n" + rows)
    return root


def test_training_recipe_on_a_tiny_dataset(tmp_path):
    data = _fake_emopia(tmp_path / "data")
    clips = fuse_train.load_emopia(data)
    assert len(clips) == 24 and {c.split for c in clips} == {"train", "test"}
    out = tmp_path / "models"
    assert fuse_train.main(["--kind", "symbolic", "--data", str(data), "--out-dir", str(out), "--folds", "3",
                            "--jobs", "1", "--quiet"]) == 0
    model = MusicEmotionModel.load(out / "music_emotion_symbolic.json")
    assert model.meta["test"]["n"] == 8 and model.meta["test"]["accuracy"] >= 0.75
    assert model.link == model.meta["link"] in ("softmax", "two_axis") and model.meta["repeats"] == 5
    assert set(model.meta["axis_cross_validation"]) == {"arousal", "valence"}
    card = (out / "MODEL_CARD_music_emotion_symbolic.md").read_text()
    assert "non-commercial" in card and f"{model.meta['test']['accuracy']:.1%}" in card


@pytest.mark.parametrize("kind", ["symbolic", "audio"])
def test_shipped_model_cards_are_what_the_training_code_writes(kind, tmp_path):
    """A card edited by hand would lose its edits at the next training run: keep them in the code."""
    from scoringkit.fuse.emotion_model import MODEL_FILES

    shipped = Path(fuse_train.__file__).parents[1] / "assets" / "models" / MODEL_FILES[kind]
    written = fuse_train.write_model_card(shipped, out=tmp_path / "card.md").read_text(encoding="utf-8")
    assert written == shipped.with_name(f"MODEL_CARD_{shipped.stem}.md").read_text(encoding="utf-8")


def test_missing_emopia_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="EMOPIA not found"):
        fuse_train.load_emopia(tmp_path)


# --- the real data (skips with a reason when ../shared/data is absent) -------------------------

def _clips_or_skip():
    try:
        return fuse_train.load_emopia()
    except InputError as err:
        pytest.skip(f"EMOPIA not available here: {err}")


def test_shipped_symbolic_model_reproduces_its_test_figure():
    clips = [c for c in _clips_or_skip() if c.split == "test"]
    assert len(clips) == 88
    from scoringkit.fuse.emotion_model import load_model

    model = load_model("symbolic")
    X, names = fuse_train.feature_table(clips, "symbolic", jobs=1, progress=False)
    scores = fuse_train.evaluate(model, X, [c.quadrant for c in clips], names)
    assert scores["accuracy"] == pytest.approx(model.meta["test"]["accuracy"])
    assert scores["arousal_accuracy"] >= 0.85


def test_ensemble_render_rows_match_piano_rows(tmp_path):
    path = tmp_path / "Q1_song_0.mid"
    sk.compose(sk.Emotion(0.5, 0.5), duration=6, seed=0).to_midi(path)
    piano = fuse_train._audio_row(path)
    ensemble = fuse_train._audio_row(path, ensemble=True)
    assert list(piano) == list(ensemble) and piano != ensemble
