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


def test_checkpoint_stores_matrices_in_int8_with_row_scales(tmp_path):
    import torch
    from safetensors import safe_open

    torch.manual_seed(0)
    top = encoder.EmotionTop()
    path = encoder.save_checkpoint(top, tmp_path / "int8.safetensors", metadata={"n_frozen": encoder.N_FROZEN})
    with safe_open(str(path), "pt") as f:
        assert f.get_tensor("layers.0.query.weight").dtype == torch.int8
        assert f.get_tensor("layers.0.query.bias").dtype == torch.float16
        scale = f.get_tensor("layers.0.query.weight:scale")
    loaded, _ = encoder.load_checkpoint(path)
    original = top.state_dict()["layers.0.query.weight"]
    error = (loaded.state_dict()["layers.0.query.weight"] - original).abs()
    assert bool((error <= scale[:, None] / 2 + 1e-7).all())  # rounding to the row's int8 grid, no worse
    assert set(loaded.state_dict()) == set(original_keys := top.state_dict()) and len(original_keys) > 10


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
    assert covered == len(tokenizer.encode(long_text))

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


def test_a_checkpoint_runs_on_the_frozen_bottom_it_was_trained_on(tmp_path):
    import torch

    data = train.tiny_dataset(n=24, seed=2)
    top, report = train.train(data, epochs=1, batch_size=8, progress=False, n_frozen=3)
    path = tmp_path / "three.safetensors"
    encoder.save_checkpoint(top, path, metadata={"n_frozen": 3, **report})
    loaded, metadata = encoder.load_checkpoint(path)
    assert metadata["n_frozen"] == 3 and len(loaded.layers) == 3
    texts = data.regression_texts[:3]
    with torch.inference_mode():  # the training cache holds the hidden states after 3 published layers
        expected = loaded(*train._batch(data.cache, texts))[0].numpy()
    va, _ = encoder.predict(texts, checkpoint=path)
    assert va == pytest.approx(expected, abs=1e-4)

    inconsistent = tmp_path / "inconsistent.safetensors"
    encoder.save_checkpoint(top, inconsistent, metadata={"n_frozen": encoder.N_FROZEN})
    with pytest.raises(ModelError, match=f"3 fine-tuned layers over {encoder.N_FROZEN} frozen"):
        encoder.load_checkpoint(inconsistent)


def test_heads_over_several_pooled_layers_round_trip(tmp_path):
    import torch

    from scoringkit.errors import InputError

    data = train.tiny_dataset(n=24, seed=3)
    top, report = train.train(data, epochs=1, batch_size=8, progress=False, pool_layers=3)
    assert top.valence_arousal.in_features == 3 * encoder.HIDDEN and report["settings"]["pool_layers"] == 3
    path = tmp_path / "pooled.safetensors"
    encoder.save_checkpoint(top, path, metadata={"n_frozen": encoder.N_FROZEN, **report})
    loaded, _ = encoder.load_checkpoint(path)
    assert loaded.pool_layers == 3
    from safetensors.torch import load_file, save_file

    tensors = load_file(str(path))  # heads as wide as 7 pooled layers: more than 4 layers and their input
    tensors["valence_arousal.weight"] = tensors["valence_arousal.weight"].repeat(1, 3)[:, :7 * encoder.HIDDEN].contiguous()
    too_wide = tmp_path / "too_wide.safetensors"
    from safetensors import safe_open

    with safe_open(str(path), "pt") as f:
        save_file(tensors, str(too_wide), metadata=f.metadata())
    with pytest.raises(ModelError, match="7 pooled layers"):
        encoder.load_checkpoint(too_wide)
    texts = data.regression_texts[:3]
    hidden, mask = train._batch(data.cache, texts)
    with torch.inference_mode():
        means = loaded._means(hidden, mask)
        assert len(means) == 3 and torch.equal(loaded.pooled(hidden, mask), means[-1])
        expected = loaded(hidden, mask)[0].numpy()
    assert encoder.predict(texts, checkpoint=path)[0] == pytest.approx(expected, abs=1e-4)
    assert encoder.embed_texts(texts, checkpoint=path).shape == (3, encoder.HIDDEN)
    most = 6 - encoder.N_FROZEN + 1  # the fine-tuned layers and their input
    for bad in (0, most + 1, 1.5):
        with pytest.raises(InputError, match="pool_layers"):
            train.train(data, epochs=1, progress=False, pool_layers=bad)


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


def test_a_refit_on_train_and_dev_keeps_the_last_epoch():
    data = train.tiny_dataset(n=84, seed=2)
    top, report = train.train(data, epochs=3, batch_size=8, progress=False, seed=0, keep_last=True,
                              train_splits=("train", "dev"))
    assert report["best_epoch"] == 3 and report["dev"] == report["history"][-1]
    assert train.evaluate(top, data, "dev") == report["history"][-1]  # the module is the last epoch's
    assert report["settings"]["train_splits"] == ["train", "dev"] and report["settings"]["keep_last"]


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
    with pytest.raises(sk.InputError, match="arousal_weight"):
        train.train(train.tiny_dataset(n=14), arousal_weight=0, progress=False)
    with pytest.raises(sk.InputError, match="correlation_weight"):
        train.train(train.tiny_dataset(n=14), correlation_weight=-1, progress=False)
    with pytest.raises(sk.InputError, match="category_weight must be a number > 0"):
        train.train(train.tiny_dataset(n=14), category_weight=0.0, progress=False)
    with pytest.raises(sk.InputError, match="arousal_weight"):
        train.train(train.tiny_dataset(n=14), arousal_weight=True, progress=False)


def test_the_batch_correlation_term_is_pearson_r():
    import numpy as np

    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    a = rng.normal(size=(40, 2))
    b = a * [2.0, -1.0] + rng.normal(scale=0.7, size=(40, 2))
    r = train._batch_correlation(torch.tensor(a), torch.tensor(b)).numpy()
    assert np.allclose(r, [np.corrcoef(a[:, k], b[:, k])[0, 1] for k in (0, 1)])
    _, report = train.train(train.tiny_dataset(n=42, seed=1), epochs=1, batch_size=7, progress=False,
                            correlation_weight=1.0)
    assert report["settings"]["correlation_weight"] == 1.0
    with pytest.raises(sk.InputError, match="not found"):
        train.load_emobank("/no/such/folder")


def test_category_weight_scales_the_category_loss():
    pytest.importorskip("torch")
    data = train.tiny_dataset(n=28)
    light = train.train(data, epochs=1, batch_size=7, progress=False, seed=3, category_weight=0.3)[1]
    plain = train.train(data, epochs=1, batch_size=7, progress=False, seed=3)[1]
    assert light["settings"]["category_weight"] == 0.3 and plain["settings"]["category_weight"] == 1.0
    assert light["dev"] != plain["dev"]  # same seed and batches: only the loss differs


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


# --- the plain-PyTorch model and tokenizer against the transformers implementation they replace ---

VARIED_TEXTS = [
    "The storm broke over the harbour.",
    "Hello,world!!! What?! (Really...) -- yes; no: maybe/perhaps [ok] {fine} <tag> a+b=c ~50% @home #1 `code` ^_^ |x|",
    "Café déjà vu — naïve façade, São Paulo, Zürich, Ångström, Øresund, İstanbul, ΟΔΟΣ ΣΟΦΊΑΣ, Ελληνικά, Москва!",
    "I 💔 you 😭😭 but 🎉🎶 and 👍🏽👨‍👩‍👧 🥲🫠 ♥ ★ ☂ ©®™ €£¥",
    "東京で雨が降った。北京欢迎你！한국어 텍스트 カタカナ ひらがな 𠀀𠀁 ﬁ ｆｕｌｌｗｉｄｔｈ",
    "Supercalifragilisticexpialidocious " + "x" * 99 + " " + "y" * 100 + " " + "z" * 101 + " antidisestablishmentarianism",
    "In 1999, 3.14% of $2,000.50 went to the #1 fan at 10:45pm on 12/31/99 — ½ ¾ 2nd 3rd 1,000,000 0x1F 1e-5",
    "tabs\tand\nnew\r\nlines, zero\u200bwidth, soft\u00adhyphen, nbsp\u00a0space, ctrl\x07char, private\ue000use",
    "don't won't y'all rock'n'roll e-mail co-operate U.S.A. i.e. Mr. O'Neill's",
    "\u2018curly\u2019 \u201cquotes\u201d \u00abguillemets\u00bb \u2026 \u2013 \u2014 \u00a7 \u00b6 \u2022 \u00bf\u00a1",
    "UNBELIEVABLE!!! unbelievably Unbelievable unbelievable",
    "مرحبا بالعالم עברית हिन्दी ไทย",
    "   ",
    "",
]


@pytest.fixture(scope="module")
def hf_reference():
    """all-MiniLM-L6-v2 through transformers, as the encoder backend ran it before: tokenizer and truncated model."""
    transformers = pytest.importorskip("transformers")
    import torch

    path = encoder.base_model_path()
    tokenizer = transformers.AutoTokenizer.from_pretrained(path, local_files_only=True)
    model = transformers.AutoModel.from_pretrained(path, local_files_only=True)
    model.encoder.layer = torch.nn.ModuleList(list(model.encoder.layer)[: encoder.N_FROZEN])
    model.eval()
    return tokenizer, model


def test_tokenizer_gives_the_ids_of_the_transformers_tokenizer(hf_reference):
    hf_tokenizer, _ = hf_reference
    tokenizer, _, _ = encoder.load_base()
    for text in VARIED_TEXTS:
        assert tokenizer.encode(text) == hf_tokenizer(text, add_special_tokens=False)["input_ids"], text
    # every character of the scripts and symbol blocks that the vocabulary knows, alone and inside words
    # (characters added to Unicode after the Rust tokenizer's tables, e.g. U+2E43 on, may differ)
    ranges = [(0x0000, 0x05FF), (0x2000, 0x2E42), (0x3000, 0x30FF), (0x4E00, 0x4EFF), (0xFE30, 0xFFFF),
              (0x1F300, 0x1F64F), (0x1F900, 0x1F9FF)]
    probes = [f"a{c}b {c} x{c}" for lo, hi in ranges for c in map(chr, range(lo, hi + 1))
              if not 0xD800 <= ord(c) <= 0xDFFF]
    expected = hf_tokenizer(probes, add_special_tokens=False)["input_ids"]
    mismatches = [(p, tokenizer.encode(p), e) for p, e in zip(probes, expected) if tokenizer.encode(p) != e]
    assert not mismatches, mismatches[:5]


def test_plain_torch_bottom_matches_transformers(hf_reference):
    import torch

    hf_tokenizer, hf_model = hf_reference
    tokenizer, bottom, _ = encoder.load_base()
    token_lists = [[tokenizer.cls_token_id, *tokenizer.encode(t)[:126], tokenizer.sep_token_id]
                   for t in VARIED_TEXTS + ["Short.", "A somewhat longer sentence, padded in its batch."]]
    for index, hidden, mask in encoder.encode_batches(token_lists, bottom, batch_size=5):
        ids = torch.zeros(mask.shape, dtype=torch.long)
        for row, i in enumerate(index):
            ids[row, : len(token_lists[i])] = torch.tensor(token_lists[i])
        with torch.inference_mode():
            expected = hf_model(input_ids=ids, attention_mask=mask.long()).last_hidden_state
        assert torch.allclose(hidden[mask], expected[mask], atol=1e-4), (hidden[mask] - expected[mask]).abs().max()


@pytest.mark.filterwarnings("ignore:.*look like English")  # the texts include German and Russian on purpose
def test_analyze_text_unchanged_from_the_transformers_path(hf_reference, monkeypatch):
    """The shipped checkpoint gives the same emotions whether the frozen bottom runs here or in transformers."""
    import numpy as np
    import torch

    hf_tokenizer, hf_model = hf_reference
    texts = [t for t in VARIED_TEXTS if t.strip()] + [
        "She wept alone at the grave.", "We danced and laughed all night!", "The door creaked open in the dark.",
        " ".join(f"Sentence number {i} tells of grey rain over the quiet town." for i in range(40))]
    ours = sk.analyze_text(texts, backend="encoder")

    class HFTokenizer:  # the old tokenizer behind the new interface
        cls_token_id, sep_token_id = hf_tokenizer.cls_token_id, hf_tokenizer.sep_token_id
        encode = staticmethod(lambda text: hf_tokenizer(text, add_special_tokens=False)["input_ids"])

    calls = []

    class HFBottom(torch.nn.Module):
        def forward(self, ids, mask):
            calls.append(ids.shape)
            return hf_model(input_ids=ids, attention_mask=mask.long()).last_hidden_state

    _, _, top_weights = encoder.load_base()
    monkeypatch.setattr(encoder, "load_base", lambda *a, **k: (HFTokenizer(), HFBottom(), top_weights))
    encoder._loaded.cache_clear()
    try:
        theirs = sk.analyze_text(texts, backend="encoder")
    finally:
        encoder._loaded.cache_clear()
    assert calls  # the reference really ran through transformers
    for a, b in zip(ours, theirs):
        assert a.valence == pytest.approx(b.valence, abs=1e-5) and a.arousal == pytest.approx(b.arousal, abs=1e-5)
        assert np.allclose(list(a.probs.values()), list(b.probs.values()), atol=1e-5)
        assert a.label == b.label


def test_encoder_backend_does_not_import_transformers():
    import subprocess
    import sys

    # torch._dynamo too: importing it by accident (e.g. through meta-device initialisation) costs a second
    code = ("import sys, scoringkit as sk; sk.analyze_text('The storm broke.', backend='encoder'); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('transformers', 'tokenizers') "
            "or m.startswith('torch._dynamo')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_output_scale_is_two_standard_deviations_of_emobank_ratings():
    import numpy as np

    from scoringkit.emotion.encoder import EMOBANK_SCALE, EMOBANK_SD, analyze_encoder, predict

    _data_or_skip()
    _, valence, arousal, split = train.load_emobank()
    rows = [i for i, s in enumerate(split) if s == "train"]
    assert np.std([valence[i] for i in rows]) == pytest.approx(EMOBANK_SD[0], abs=5e-4)
    assert np.std([arousal[i] for i in rows]) == pytest.approx(EMOBANK_SD[1], abs=5e-4)
    assert EMOBANK_SCALE == (2 * EMOBANK_SD[0], 2 * EMOBANK_SD[1])
    texts = ["The storm tore the roof away and we screamed.", "A quiet, ordinary afternoon."]
    va, _ = predict(texts[:1])
    raw_valence, raw_arousal = va[0]
    storm = analyze_encoder(texts)[0]
    assert storm.valence == pytest.approx(max(-1, min(1, raw_valence / EMOBANK_SCALE[0])))
    assert storm.arousal == pytest.approx(max(-1, min(1, raw_arousal / EMOBANK_SCALE[1])))


def test_teacher_targets_pull_the_category_rows_outputs():
    torch = pytest.importorskip("torch")
    data = train.tiny_dataset(n=28)
    high = {data.category_texts[i]: (1.5, 1.0) for i in train._rows(data.category_split, {"train"})}
    taught, report = train.train(data, epochs=2, batch_size=7, progress=False, seed=3, teacher_targets=high,
                                 teacher_weight=5.0)
    plain, plain_report = train.train(data, epochs=2, batch_size=7, progress=False, seed=3)
    assert report["settings"]["teacher_weight"] == 5.0 and plain_report["settings"]["teacher_weight"] == 0.0
    with torch.no_grad():
        batch = train._batch(data.cache, data.category_texts)
        assert taught(*batch)[0].mean(0)[0] > plain(*batch)[0].mean(0)[0] + 0.2
    with pytest.raises(sk.InputError, match="teacher_weight"):
        train.train(data, teacher_targets=high, teacher_weight=0.0, progress=False)


def test_teachers_label_the_training_category_rows_with_their_average(tiny_checkpoint):
    data = train.tiny_dataset(n=28)
    one = train.label_with_teachers(data, [tiny_checkpoint])
    two = train.label_with_teachers(data, [tiny_checkpoint, tiny_checkpoint])
    assert set(one) == {data.category_texts[i] for i in train._rows(data.category_split, {"train"})}
    assert all(abs(one[t][k] - two[t][k]) < 1e-6 for t in one for k in (0, 1))
    with pytest.raises(sk.InputError, match="non-empty list"):
        train.label_with_teachers(data, tiny_checkpoint)


def _write_text_data(root, data):
    """EmoBank and GoEmotions Ekman files in the published layouts, holding ``data``'s rows."""
    import csv

    (root / "emobank").mkdir(parents=True)
    with open(root / "emobank" / "emobank.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "split", "V", "A", "D", "text"])
        for i, row in enumerate(zip(data.regression_texts, data.valence, data.arousal, data.regression_split)):
            text, valence, arousal, split = row
            writer.writerow([f"s{i}", split, valence + 3, arousal + 3, 3.0, text])
    ekman = root / "goemotions" / "ekman"
    ekman.mkdir(parents=True)
    for split in ("train", "dev", "test"):
        lines = [f"{text}\t{train._EKMAN_ORDER.index(sk.EMOTION_LABELS[c])}\tc{i}\n"
                 for i, (text, c, s) in enumerate(zip(data.category_texts, data.categories, data.category_split))
                 if s == split]
        (ekman / f"{split}.tsv").write_text("".join(lines), encoding="utf-8")


def test_the_training_command_distils_teachers_into_a_checkpoint(tmp_path, monkeypatch, tiny_checkpoint):
    import json

    _write_text_data(tmp_path / "data", train.tiny_dataset(n=42, seed=1))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    out, report_file = tmp_path / "student.safetensors", tmp_path / "report.json"
    assert train.main(["--data", str(tmp_path / "data"), "--out", str(out), "--epochs", "1", "--batch-size", "8",
                       "--teacher", str(tiny_checkpoint), "--teacher", str(tiny_checkpoint),
                       "--teacher-weight", "2", "--report", str(report_file)]) == 0
    report = json.loads(report_file.read_text())
    assert report["settings"]["teacher_weight"] == 2.0 and report["settings"]["train_splits"] == ["train"]
    _, metadata = encoder.load_checkpoint(out)
    assert "--teacher" in metadata["command"] and (tmp_path / "MODEL_CARD_student.md").is_file()
    assert any((tmp_path / "cache" / "scoringkit").glob("frozen_L*.safetensors"))


def test_the_shipped_card_is_what_the_training_code_writes(tmp_path):
    """Rewriting the card keeps its hand-written sections, and the rest comes from the checkpoint."""
    import shutil

    shipped = encoder.default_checkpoint()
    card = shipped.with_name(f"MODEL_CARD_{shipped.stem}.md")
    copy = tmp_path / card.name
    shutil.copy(card, copy)
    train.write_model_card(shipped, out=copy)
    assert copy.read_text(encoding="utf-8") == card.read_text(encoding="utf-8")
    assert "## How this configuration was chosen" in card.read_text(encoding="utf-8")
    fresh = train.write_model_card(shipped, out=tmp_path / "fresh.md").read_text(encoding="utf-8")
    assert "## How this configuration was chosen" not in fresh and "## Limits" in fresh


def test_the_card_shows_the_command_without_its_output_paths():
    shown = train._shown_command("python -m scoringkit.emotion.train --epochs 4 --out /tmp/a.safetensors "
                                 "--report=/tmp/r.json --seed 0 --report")
    assert shown == "python -m scoringkit.emotion.train --epochs 4 --seed 0"
