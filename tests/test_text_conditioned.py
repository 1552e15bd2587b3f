"""The text-conditioned Transformer variant: projection, header override, generation, training, input errors."""

import math
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import scoringkit as sk  # noqa: E402
from scoringkit.errors import InputError  # noqa: E402
from scoringkit.generate.models import text_conditioned as tc  # noqa: E402
from scoringkit.generate.models import train as tr  # noqa: E402
from scoringkit.generate.models.data import TokenWindowDataset  # noqa: E402
from scoringkit.generate.models.tokenizer import RemiTokenizer  # noqa: E402
from scoringkit.generate.models.transformer import (  # noqa: E402
    MusicTransformer, TransformerConfig, TransformerGenerator, header_ids)

TOK = RemiTokenizer()
QIDS = [TOK.condition_id(q) for q in (1, 2, 3, 4)]


def tiny_token_model(seed=0):
    torch.manual_seed(seed)
    cfg = TransformerConfig(vocab_size=TOK.vocab_size, d_model=32, n_layers=2, n_heads=2, d_ff=64, context=64,
                            dropout=0.0)
    return MusicTransformer(cfg).eval()


def tiny_text_model(seed=0):
    return tc.from_token_model(tiny_token_model(seed), none_id=TOK.condition_id(None), quadrant_ids=QIDS).eval()


def test_projection_shapes_and_mean_init():
    token = tiny_token_model()
    text = tc.from_token_model(token, none_id=TOK.condition_id(None), quadrant_ids=QIDS)
    assert text.text_proj.weight.shape == (32, tc.EMBED_DIM)
    assert text.project(torch.zeros(3, tc.EMBED_DIM)).shape == (3, 32)
    # the blocks are the token model's; the projection starts near the mean quadrant-token embedding
    assert torch.equal(text.blocks[0].qkv.weight, token.blocks[0].qkv.weight)
    mean = token.tok.weight[QIDS].mean(0)
    start = text.project(torch.randn(16, tc.EMBED_DIM)).mean(0)
    assert torch.allclose(start, mean, atol=0.05)


def test_different_embeddings_give_different_header_embeddings_only_in_the_slot():
    model = tiny_text_model()
    ids = torch.tensor([header_ids(TOK, quadrant=1) + [TOK.bar_id]] * 2)
    e = torch.randn(2, tc.EMBED_DIM)
    with model.conditioned(e):
        x = model.embed(ids)
    assert not torch.allclose(x[0, 1], x[1, 1])
    assert torch.equal(x[:, [0, 2, 3, 4, 5]], model.tok(ids)[:, [0, 2, 3, 4, 5]])
    out_a = model(ids[:1], condition=e[:1])
    out_b = model(ids[:1], condition=e[1:])
    assert not torch.allclose(out_a[0, -1], out_b[0, -1])
    # Qnone in the slot stays unconditional (classifier-free guidance)
    none = ids.clone()
    none[:, 1] = TOK.condition_id(None)
    with model.conditioned(e):
        assert torch.equal(model.embed(none), model.tok(none))


def test_cached_forward_matches_full_forward():
    model = tiny_text_model()
    ids = torch.tensor([header_ids(TOK, quadrant=2) + [TOK.bar_id, TOK["Position_0"]]])
    e = torch.randn(1, tc.EMBED_DIM)
    with torch.no_grad(), model.conditioned(e):
        full = model(ids)
        cache = model.new_cache(1)
        steps = [model(ids[:, i:i + 1], cache) for i in range(ids.shape[1])]
    assert torch.allclose(torch.cat(steps, 1), full, atol=1e-5)


def test_generate_returns_a_score_of_the_right_length():
    gen = tc.TextConditionedGenerator(tiny_text_model(), TOK)
    intent = sk.emotion_to_intent(sk.Emotion(-0.6, -0.5))
    cue = gen.generate(np.random.default_rng(0).normal(size=tc.EMBED_DIM), intent, duration=4, seed=0)
    assert isinstance(cue, sk.Score)
    from scoringkit.generate.rules import bars_for_duration

    bars = bars_for_duration(4, intent.tempo, 4.0)
    assert cue.tempo == intent.tempo and cue.end_beat <= bars * 4 + 1e-6
    again = gen.generate(np.random.default_rng(0).normal(size=tc.EMBED_DIM), intent, duration=4, seed=0)
    assert [n.pitch for t in cue.tracks for n in t.notes] == [n.pitch for t in again.tracks for n in t.notes]


@pytest.mark.parametrize("bad, match", [
    (np.zeros(10), "384 values"),
    (np.zeros((2, 384)), "one embedding per cue"),
    ("   ", "empty"),
    (42, "not int"),
    (None, "not NoneType"),
    (np.full(384, np.nan), "finite"),
])
def test_bad_input_raises_input_error(bad, match):
    gen = tc.TextConditionedGenerator(tiny_text_model(), TOK)
    intent = sk.emotion_to_intent(sk.Emotion(0.5, 0.5))
    with pytest.raises(InputError, match=match):
        gen.generate(bad, intent, duration=2)


def test_model_without_condition_says_what_is_missing():
    model = tiny_text_model()
    with pytest.raises(InputError, match="needs a sentence embedding"):
        model(torch.tensor([header_ids(TOK, quadrant=1)]))


def test_fit_projection_sends_sentences_to_their_quadrant_tokens():
    model = tiny_text_model()
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(4, tc.EMBED_DIM))
    q = np.arange(80) % 4 + 1
    e = centres[q - 1] + 0.1 * rng.normal(size=(80, tc.EMBED_DIM))
    residual = tc.fit_projection(model, e, q, QIDS)
    assert residual < 0.2
    with torch.no_grad():
        got = model.project(torch.as_tensor(centres, dtype=torch.float32))
        dist = torch.cdist(got, model.tok.weight[QIDS])
    assert dist.argmin(1).tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize("variant", ["text", "token"])
def test_training_runs_two_steps_on_made_up_pairs(variant, tmp_path):
    corpus = tr.toy_corpus(8, seed=0, duration=6)
    sets = {s: TokenWindowDataset(corpus.subset(s if s != "test" else "val"), TOK, length=64, augment=(s == "train"))
            for s in ("train", "val", "test")}
    rng = np.random.default_rng(0)
    pairs = {s: {"texts": [f"s{i}" for i in range(12)], "quadrants": np.arange(12) % 4 + 1,
                 "embeddings": rng.normal(size=(12, tc.EMBED_DIM)).astype(np.float32)} for s in sets}
    base = TransformerGenerator(tiny_token_model(), TOK, {"kind": "transformer", "config": {}})
    out = tmp_path / f"{variant}.safetensors"
    r = tc.train_pairs(variant=variant, steps=2, batch_size=2, length=64, base=base, data=(corpus, sets, pairs),
                       val_windows=2, out=out, progress=False)
    assert r["step"] == 2 and math.isfinite(r["train_loss"]) and math.isfinite(r["val_loss"])
    assert out.is_file()
    before = out.read_bytes()
    with pytest.raises(InputError, match="refusing to overwrite.*--force"):
        tc.train_pairs(variant=variant, steps=2, batch_size=2, length=64, base=base, data=(corpus, sets, pairs),
                       val_windows=2, out=out, progress=False)
    assert out.read_bytes() == before
    again = tc.train_pairs(variant=variant, steps=1, batch_size=2, length=64, base=base, data=(corpus, sets, pairs),
                           val_windows=0, out=out, progress=False, overwrite=True)
    assert again["step"] == 1 and out.read_bytes() != before
    if variant == "text":
        gen = tc.load_text_generator(out)
        cue = gen.generate(pairs["test"]["embeddings"][0], sk.emotion_to_intent(sk.Emotion(0.5, 0.5)), duration=2)
        assert isinstance(cue, sk.Score)


def test_training_arguments_are_checked():
    with pytest.raises(InputError, match="variant"):
        tc.train_pairs(variant="audio")
    with pytest.raises(InputError, match="steps"):
        tc.train_pairs(steps=0)


def _data_dir():
    from scoringkit.emotion.train import find_data_dir

    try:
        path = find_data_dir()
    except InputError:
        return None
    return path if (Path(path) / "emobank").is_dir() and (Path(path) / "goemotions").is_dir() else None


@pytest.mark.skipif(_data_dir() is None, reason="EmoBank/GoEmotions not found (set SCORINGKIT_DATA or put them in "
                                                 "../shared/data)")
def test_text_pairs_from_the_real_data():
    pairs = tc.text_pairs(per_quadrant={"train": 50, "val": 20, "test": 20})
    assert set(pairs) == {"train", "val", "test"}
    for split in pairs:
        counts = np.bincount(pairs[split]["quadrants"], minlength=5)
        assert counts[0] == 0 and (counts[1:] > 0).all()
    # disjoint splits: no held-out sentence is a training one
    assert not set(pairs["test"]["texts"]) & set(pairs["train"]["texts"])
