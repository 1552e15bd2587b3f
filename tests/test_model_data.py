"""Training data for the learned generators: token corpora, windows, augmentation, caches."""

import numpy as np
import pytest

import scoringkit as sk
from scoringkit.errors import InputError, ModelError
from scoringkit.generate.models import data
from scoringkit.generate.models.data import TokenCorpus, TokenWindowDataset, load_emopia_tokens, transpositions, windows
from scoringkit.generate.models.tokenizer import RemiTokenizer

TOK = RemiTokenizer()
POINTS = {1: (0.8, 0.7), 2: (-0.7, 0.8), 3: (-0.7, -0.6), 4: (0.6, -0.6)}


def _fake_emopia(root, per_quadrant=3):
    """An EMOPIA-shaped folder of composed clips (the layout load_emopia reads)."""
    base = root / "emopia"
    (base / "midis").mkdir(parents=True)
    (base / "split").mkdir()
    labels, splits = [], {"train": [], "val": [], "test": []}
    for q, (v, a) in POINTS.items():
        for i in range(per_quadrant):
            clip = f"Q{q}_song{q}{i // 2}_{i % 2}"
            sk.compose(sk.Emotion(v, a), duration=8, seed=i).to_midi(base / "midis" / f"{clip}.mid")
            labels.append(f"{clip},{q},T")
            splits["test" if i == per_quadrant - 1 else "train"].append(f"{clip}.mid")
    (base / "label.csv").write_text("ID,4Q,annotator\n" + "\n".join(labels) + "\n")
    for split, names in splits.items():
        rows = "".join(f"{k},{n}\n" for k, n in enumerate(names))
        (base / "split" / f"{split}_clip.csv").write_text(",clip_name\n" + rows)
    return root


@pytest.fixture(scope="module")
def fake_data(tmp_path_factory):
    return _fake_emopia(tmp_path_factory.mktemp("data"))


def _header_ok(ids, quadrant):
    names = TOK.token_names(ids[:6])
    assert names[0] == "BOS" and names[1] == (f"Q{quadrant}" if quadrant else "Qnone")
    assert names[2].startswith("TimeSig_") and names[3].startswith("Key_") and names[4].startswith("Tempo_")
    assert names[5] == "Bar"


def test_transpositions_keep_the_piano_range():
    assert transpositions(60, 72) == list(range(-5, 6))
    assert transpositions(21, 108) == [0]
    assert transpositions(23, 105) == [-2, -1, 0, 1, 2, 3]
    assert transpositions(10, 50) == [0]  # already outside: only the original
    assert transpositions(30, 90, max_shift=2) == [-2, -1, 0, 1, 2]


def test_tiny_emopia_builds_a_cached_corpus(fake_data, tmp_path):
    cache = tmp_path / "tokens.npz"
    corpus = load_emopia_tokens(fake_data, cache_path=cache)
    assert cache.is_file() and len(corpus) == 12
    assert sorted(set(corpus.splits)) == ["test", "train"] and (corpus.splits == "test").sum() == 4
    assert sorted(corpus.quadrants.tolist()) == [1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4]
    for i in range(len(corpus)):
        ids = corpus.sequence(i)
        _header_ok(ids, int(corpus.quadrants[i]))
        assert TOK.token_names(ids[-1:]) == ["EOS"]
        assert corpus.names[i].startswith(f"Q{corpus.quadrants[i]}_")
    assert corpus.meta["source"] == "EMOPIA" and corpus.meta["skipped"] == []
    summary = corpus.summary()
    assert summary["all"]["tokens"] == corpus.n_tokens == summary["train"]["tokens"] + summary["test"]["tokens"]
    assert summary["train"]["augmented_tokens"] > 5 * summary["train"]["tokens"]
    # the second call reads the cache; a changed label rebuilds it
    again = load_emopia_tokens(fake_data, cache_path=cache)
    assert again.meta["build_seconds"] == corpus.meta["build_seconds"]
    assert np.array_equal(again.tokens, corpus.tokens) and np.array_equal(again.offsets, corpus.offsets)
    uncached = load_emopia_tokens(fake_data, cache=False)
    assert np.array_equal(uncached.tokens, corpus.tokens)
    other = RemiTokenizer(resolution=12)
    finer = load_emopia_tokens(fake_data, tokenizer=other, cache_path=cache)
    assert finer.vocab_hash == other.vocab_hash and finer.n_tokens >= corpus.n_tokens


def test_cache_is_rebuilt_when_the_data_changes(tmp_path):
    root = _fake_emopia(tmp_path / "data", per_quadrant=2)
    cache = tmp_path / "tokens.npz"
    before = load_emopia_tokens(root, cache_path=cache)
    labels = root / "emopia" / "label.csv"
    labels.write_text(labels.read_text().replace("Q1_song10_0,1,", "Q1_song10_0,2,"))
    after = load_emopia_tokens(root, cache_path=cache)
    i = list(after.names).index("Q1_song10_0")
    assert before.quadrants[i] == 1 and after.quadrants[i] == 2
    assert TOK.token_names(after.sequence(i)[:2]) == ["BOS", "Q2"]
    cache.write_bytes(b"not an npz file")
    assert len(load_emopia_tokens(root, cache_path=cache)) == 8  # a corrupt cache is rebuilt


def test_windows_start_with_bos_and_the_quadrant(fake_data, tmp_path):
    corpus = load_emopia_tokens(fake_data, cache_path=tmp_path / "t.npz")
    ds = TokenWindowDataset(corpus, TOK, split="train", length=64)
    assert len(ds) > len(ds.corpus) == 8
    for index in range(len(ds)):
        item = ds[index]
        ids = item["ids"]
        assert tuple(ids.shape) == (64,) and str(ids.dtype) == "torch.int64"
        _header_ok(ids.tolist(), int(item["quadrant"]))
        assert int(item["quadrant"]) == int(ds.corpus.quadrants[item["piece"]])
    # windows longer than any bar cover each piece without gaps; the last one ends with EOS then PAD
    ds = TokenWindowDataset(corpus, TOK, split="train", length=200)
    for piece in range(len(ds.corpus)):
        seq = ds.corpus.sequence(piece)
        spans = [(start, head) for p, start, head in ds.items if p == piece]
        covered = np.zeros(len(seq), bool)
        for start, _ in spans:
            covered[start:start + 200 - 5] = True
        assert spans[0][0] == 5 and covered[5:].all()
    last = ds[len(ds) - 1]["ids"].tolist()
    eos = last.index(TOK.eos_id)
    assert set(last[eos + 1:]) <= {TOK.pad_id}


def test_window_headers_carry_the_state_at_their_bar():
    score = sk.Score([sk.Track("p", 0, [sk.Note(60 + b % 12, b, 1) for b in range(64)])], meter=(3, 4),
                     tempo_map=[(0, 120), (30, 60)], key_map=[(0, "C major"), (30, "A minor")])
    ids = TOK.encode(score, quadrant=3)
    spans = windows(ids, TOK, length=32, stride=10)
    assert len(spans) > 4
    first, last = spans[0][1], spans[-1][1]
    assert TOK.token_names(first) == ["BOS", "Q3", "TimeSig_3/4", "Key_C_major", "Tempo_120.0"]
    assert TOK.token_names(last) == ["BOS", "Q3", "TimeSig_3/4", "Key_A_minor", "Tempo_60.0"]
    assert all(ids[start] == TOK.bar_id for start, _ in spans)
    window = list(last) + ids[spans[-1][0]:]
    assert TOK.decode(window).key == "A minor"  # a window decodes on its own
    with pytest.raises(InputError, match="at least 16"):
        windows(ids, TOK, length=8)
    assert windows(TOK.encode(sk.Score([])), TOK) == []


def test_augmentation_stays_in_range_and_repeats(fake_data, tmp_path):
    corpus = load_emopia_tokens(fake_data, cache_path=tmp_path / "t.npz")
    ds = TokenWindowDataset(corpus, TOK, split="train", length=128, augment=True, seed=3)
    pitch0, _ = TOK.id_ranges()["Pitch"]
    shifts = []
    for index in range(len(ds)):
        ids, shift = ds.window(index)
        plain, _ = TokenWindowDataset(corpus, TOK, split="train", length=128).window(index)
        shifts.append(shift)
        assert -5 <= shift <= 5 and shift in ds.corpus.shifts(ds.items[index][0])
        assert np.array_equal(ids, TOK.transpose_table(shift)[plain])
        pitches = ids[(ids >= pitch0) & (ids < pitch0 + 128)] - pitch0
        assert ((pitches >= 21) & (pitches <= 108)).all()
        _header_ok(ids.tolist(), int(ds.corpus.quadrants[ds.items[index][0]]))
    assert len(set(shifts)) > 3
    assert [ds.window(i)[1] for i in range(len(ds))] == shifts  # same seed and epoch, same shifts
    ds.set_epoch(1)
    assert [ds.window(i)[1] for i in range(len(ds))] != shifts


def test_a_dataloader_batches_windows(fake_data, tmp_path):
    torch = pytest.importorskip("torch")
    corpus = load_emopia_tokens(fake_data, cache_path=tmp_path / "t.npz")
    ds = TokenWindowDataset(corpus, TOK, split="test", length=96, augment=True)
    batch = next(iter(torch.utils.data.DataLoader(ds, batch_size=3, shuffle=False)))
    assert tuple(batch["ids"].shape) == (3, 96) and tuple(batch["quadrant"].shape) == (3,)
    assert (batch["ids"][:, 0] == TOK.bos_id).all()
    assert (batch["ids"][:, 1] == torch.tensor([TOK.condition_id(int(q)) for q in batch["quadrant"]])).all()


def test_corpus_files_round_trip(tmp_path):
    corpus = TokenCorpus.from_scores([sk.compose(sk.Emotion(0.5, 0.5), duration=4), sk.Score([])], TOK,
                                     quadrants=[1, None], splits=["train", "val"])
    path = corpus.save(tmp_path / "c.npz")
    loaded = TokenCorpus.load(path)
    assert np.array_equal(loaded.tokens, corpus.tokens) and loaded.names.tolist() == corpus.names.tolist()
    assert loaded.quadrants.tolist() == [1, 0] and loaded.pitch_low[1] == -1 and loaded.shifts(1) == [0]
    assert loaded.vocab_hash == TOK.vocab_hash
    (tmp_path / "bad.npz").write_bytes(b"garbage")
    with pytest.raises(ModelError, match="not a readable token file"):
        TokenCorpus.load(tmp_path / "bad.npz")
    with pytest.raises(ModelError, match="another vocabulary"):
        TokenWindowDataset(corpus, RemiTokenizer(velocity_bins=8))
    with pytest.raises(InputError, match="split"):
        corpus.subset("training")
    with pytest.raises(InputError, match="split"):
        TokenCorpus.from_sequences([[1, 2]], TOK, splits=["dev"])


def test_missing_emopia_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="EMOPIA not found"):
        load_emopia_tokens(tmp_path, cache=False)


def test_music21_chorales_become_unlabelled_sequences():
    corpus = data.load_music21_tokens("bach", limit=2, cache=False)
    assert len(corpus) == 2 and corpus.quadrants.tolist() == [0, 0]
    for i in range(2):
        ids = corpus.sequence(i)
        _header_ok(ids, 0)
        assert 300 < len(ids) < 5000
    with pytest.raises(InputError, match="no scores by"):
        data.load_music21_tokens("nobody-at-all", cache=False)


def test_music21_pickup_is_aligned_to_the_bar():
    from music21 import converter

    score = data.music21_to_score(converter.parse("tinyNotation: 4/4 r2 r4 c4 d1 e1"))
    assert [(n.pitch, n.start) for n in score.tracks[0].notes] == [(60, 3.0), (62, 4.0), (64, 8.0)]
    with pytest.raises(InputError, match="cannot read"):
        data.music21_to_score("/no/such/file.mxl")


# --- the real data (skips with a reason when ../shared/data is absent) -------------------------

def _emopia_or_skip():
    try:
        return load_emopia_tokens()
    except InputError as err:
        pytest.skip(f"EMOPIA not available here: {err}")


def test_emopia_corpus_has_the_official_split():
    corpus = _emopia_or_skip()
    counts = {s: int((corpus.splits == s).sum()) for s in ("train", "val", "test")}
    assert counts == {"train": 876, "val": 114, "test": 88}
    assert set(corpus.quadrants.tolist()) == {1, 2, 3, 4}
    assert 500 < corpus.n_tokens / len(corpus) < 2000
    assert ((corpus.pitch_low >= 21) & (corpus.pitch_high <= 108)).all()
    train = corpus.subset("train")
    assert not set(train.groups) & set(corpus.subset("test").groups)  # songs never cross the split


def test_emopia_windows():
    corpus = _emopia_or_skip()
    ds = TokenWindowDataset(corpus, TOK, split="train", length=512, augment=True)
    assert 2000 < len(ds) < 6000
    pitch0, _ = TOK.id_ranges()["Pitch"]
    for index in range(0, len(ds), 97):
        ids, _ = ds.window(index)
        piece = ds.items[index][0]
        assert TOK.token_names(ids[:2]) == ["BOS", f"Q{ds.corpus.quadrants[piece]}"]
        pitches = ids[(ids >= pitch0) & (ids < pitch0 + 128)] - pitch0
        assert pitches.min() >= 21 and pitches.max() <= 108
