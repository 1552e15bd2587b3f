"""The encoder backend: model plumbing on a tiny trained checkpoint, and the shipped one on real data."""

import math

import pytest

import scoringkit as sk
from scoringkit.emotion import encoder, train
from scoringkit.errors import ModelError


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    data = train.tiny_dataset(n=42, seed=1)
    top, report = train.train(data, epochs=1, batch_size=8, progress=False)
    path = tmp_path_factory.mktemp("ckpt") / "tiny.safetensors"
    encoder.save_checkpoint(top, path, metadata={"n_frozen": encoder.N_FROZEN, **report})
    return path


def test_checkpoint_round_trip_keeps_weights_and_metadata(tiny_checkpoint):
    top, metadata = encoder.load_checkpoint(tiny_checkpoint)
    assert metadata["n_frozen"] == encoder.N_FROZEN and "dev" in metadata
    assert len(top.layers) == 6 - encoder.N_FROZEN


def test_analyze_with_a_given_checkpoint_returns_emotions(tiny_checkpoint):
    out = encoder.analyze_encoder(["A happy day.", "A sad night."], checkpoint=tiny_checkpoint)
    assert all(isinstance(e, sk.Emotion) and e.source == "encoder" for e in out)
    assert all(math.isclose(sum(e.probs.values()), 1.0, abs_tol=1e-6) for e in out)


def test_long_text_is_chunked_not_truncated(tiny_checkpoint, monkeypatch):
    tokenizer, _, _ = encoder.load_base()
    long_text = " ".join(f"Sentence number {i} tells of grey rain over the quiet town." for i in range(80))
    chunks = encoder.tokenize_chunks(tokenizer, long_text)
    assert len(chunks) >= 4
    assert all(len(ids) <= encoder.MAX_TOKENS for ids, _ in chunks)
    covered = sum(len(ids) - 2 for ids, _ in chunks)
    assert covered == len(tokenizer(long_text, add_special_tokens=False)["input_ids"])

    seen = []
    real = encoder.encode_batches

    def spy(token_lists, model, **kwargs):
        seen.extend(token_lists)
        return real(token_lists, model, **kwargs)

    monkeypatch.setattr(encoder, "encode_batches", spy)
    va, _ = encoder.predict([long_text], checkpoint=tiny_checkpoint)
    assert sorted(map(len, seen)) == sorted(len(ids) for ids, _ in chunks)  # every chunk reached the model
    seen.clear()
    chunk_va = []
    for ids, words in chunks:  # score each chunk alone: the long text is their length-weighted mean
        monkeypatch.setattr(encoder, "tokenize_chunks", lambda tok, text, ids=ids, words=words: [(ids, words)])
        chunk_va.append((encoder.predict(["x"], checkpoint=tiny_checkpoint)[0][0], words))
    total = sum(w for _, w in chunk_va)
    expected = sum(v * w for v, w in chunk_va) / total
    assert va[0] == pytest.approx(expected, abs=1e-4)


def test_a_run_on_sentence_longer_than_the_window_is_split():
    tokenizer, _, _ = encoder.load_base()
    chunks = encoder.tokenize_chunks(tokenizer, "word " * 600)
    assert len(chunks) >= 3 and all(len(ids) <= encoder.MAX_TOKENS for ids, _ in chunks)


def test_missing_or_damaged_checkpoint_is_a_model_error(tmp_path):
    with pytest.raises(ModelError, match="no encoder checkpoint"):
        encoder.load_checkpoint(tmp_path / "missing.safetensors")
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"not a safetensors file")
    with pytest.raises(ModelError, match="cannot read"):
        encoder.load_checkpoint(broken)


def test_training_loop_learns_the_tiny_task():
    data = train.tiny_dataset(n=84, seed=2)
    _, report = train.train(data, epochs=3, batch_size=8, progress=False, seed=0)
    assert report["test"]["valence_r"] > 0.5
    assert report["best_epoch"] in (1, 2, 3) and len(report["history"]) == 3


def test_training_is_seeded():
    a = train.train(train.tiny_dataset(n=28), epochs=1, batch_size=7, progress=False, seed=3)[1]["dev"]
    b = train.train(train.tiny_dataset(n=28), epochs=1, batch_size=7, progress=False, seed=3)[1]["dev"]
    assert a == b


def test_cross_validation_reports_mean_and_spread():
    result = train.cross_validate(train.tiny_dataset(n=70), folds=3, epochs=1, batch_size=8, progress=False)
    assert len(result["folds"]) == 3
    assert set(result["summary"]) == {"valence_r", "arousal_r", "macro_f1"}
    assert all(s["std"] >= 0 for s in result["summary"].values())


def test_bad_training_arguments():
    with pytest.raises(sk.InputError):
        train.train(train.tiny_dataset(n=14), epochs=0, progress=False)
    with pytest.raises(sk.InputError):
        train.cross_validate(train.tiny_dataset(n=14), folds=1)
    with pytest.raises(sk.InputError, match="not found"):
        train.load_emobank("/no/such/folder")


def _data_or_skip():
    try:
        return train.find_data_dir()
    except sk.InputError as err:
        pytest.skip(f"training data not available here: {err}")


def test_shipped_checkpoint_on_emobank_and_goemotions_samples():
    """A quick check of the shipped model on held-out data (the full figures are in the benchmark)."""
    if not encoder.default_checkpoint().is_file():
        pytest.fail("the shipped checkpoint scoringkit/assets/models/text_emotion.safetensors is missing")
    _data_or_skip()
    import numpy as np

    texts, valence, arousal, split = train.load_emobank()
    test_rows = [i for i, s in enumerate(split) if s == "test"][:300]
    predicted = sk.analyze_text([texts[i] for i in test_rows], backend="encoder")
    r_valence = np.corrcoef([e.valence for e in predicted], [valence[i] for i in test_rows])[0, 1]
    assert r_valence > 0.6
    g_texts, g_labels, g_split = train.load_goemotions()
    rows = [i for i, s in enumerate(g_split) if s == "test"][:300]
    guesses = [sk.EMOTION_LABELS.index(e.label) for e in sk.analyze_text([g_texts[i] for i in rows], backend="encoder")]
    accuracy = np.mean([g == g_labels[i] for g, i in zip(guesses, rows)])
    assert accuracy > 0.5  # 7 classes; the majority class (neutral) alone is about a third
