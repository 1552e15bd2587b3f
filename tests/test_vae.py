"""The piano-roll VAE: shapes, learning, interpolation, attribute vectors, checkpoints, compose."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import scoringkit as sk  # noqa: E402
from scoringkit.errors import ModelError  # noqa: E402
from scoringkit.generate.models import vae  # noqa: E402
from scoringkit.generate.models.pianoroll import RollCorpus, RollDataset  # noqa: E402

EMOTIONS = {1: sk.Emotion(0.7, 0.6), 2: sk.Emotion(-0.7, 0.6), 3: sk.Emotion(-0.7, -0.6), 4: sk.Emotion(0.7, -0.6)}
TINY = vae.VAEConfig(z_dim=8, enc_hidden=24, dec_hidden=32, cond_dim=4, pos_dim=4)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny models run fastest on one thread (two oversubscribe a busy 2-core machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def corpus():
    scores, quadrants, splits = [], [], []
    for q, emotion in EMOTIONS.items():
        for seed in range(2):
            scores.append(sk.compose(emotion, duration=6, seed=seed))
            quadrants.append(q)
            splits.append("val" if seed else "train")
    return RollCorpus.from_scores(scores, quadrants=quadrants, splits=splits)


@pytest.fixture(scope="module")
def trained(corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("vae") / "tiny.safetensors"
    result = vae.train_vae(corpus, out=out, steps=6, batch_size=8, val_every=3, config=TINY, seed=0,
                           device="cpu", progress=False)
    return result, out


def test_shapes():
    model = vae.RollVAE(TINY)
    x = (torch.rand(5, 2, 32, 72) > 0.9).float()
    logits, mu, logvar = model(x, torch.tensor([0, 1, 2, 3, 4]))
    assert logits.shape == x.shape and mu.shape == logvar.shape == (5, 8)
    weights = torch.zeros(5, 5)
    weights[:, 2] = 1
    assert torch.allclose(model.decode(mu, weights), model.decode(mu, torch.full((5,), 2)))
    terms = vae.vae_loss(logits, x, mu, logvar, beta=0.5, free_nats=1.0)
    assert set(terms) == {"loss", "rec", "kl", "nelbo"} and float(terms["nelbo"].detach()) >= float(terms["rec"].detach())


def test_config_checks():
    with pytest.raises(sk.InputError):
        vae.VAEConfig(frame=5)
    with pytest.raises(ModelError):
        vae.VAEConfig.from_dict({"z_dim": 8, "colour": "blue"})
    assert vae.VAEConfig.from_dict(TINY.to_dict()) == TINY


def test_loss_decreases_on_a_tiny_overfit_set(corpus):
    torch.manual_seed(0)
    ds = RollDataset(corpus, split="train", bars=2)
    x, q = ds.arrays(np.arange(min(8, len(ds))))
    x, q = torch.from_numpy(x.astype("float32")), torch.from_numpy(q)
    model = vae.RollVAE(TINY)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(25):
        logits, mu, logvar = model(x, q)
        loss = vae.vae_loss(logits, x, mu, logvar, beta=0.1)["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.5 * losses[0]


def test_train_writes_a_checkpoint_and_resumes(corpus, trained):
    result, out = trained
    assert result.steps == 6 and [row["step"] for row in result.history] == [3, 6]
    assert {"nelbo", "onset_f1", "active_f1", "threshold", "recon_threshold", "stat_distance"} <= set(result.metrics)
    assert out.is_file() and vae._state_path(out).is_file()
    again = vae.train_vae(corpus, out=out.with_name("copy.safetensors"), steps=6, batch_size=8, val_every=3,
                          config=TINY, seed=0, device="cpu", progress=False)
    for a, b in zip(result.model.state_dict().values(), again.model.state_dict().values()):
        assert torch.equal(a, b)  # same seed, same model
    import shutil

    shutil.copy(vae._state_path(out), vae._state_path(out.with_name("more.safetensors")))
    resumed = vae.train_vae(corpus, out=out.with_name("more.safetensors"), steps=9, batch_size=8, val_every=3,
                            config=TINY, seed=0, device="cpu", progress=False, resume=True)
    assert resumed.steps == 9 and [row["step"] for row in resumed.history] == [3, 6, 9]


def test_checkpoint_round_trip(trained):
    result, out = trained
    loaded = vae.load_vae(out)
    for name, tensor in result.model.state_dict().items():
        assert torch.equal(loaded.model.state_dict()[name], tensor)
    assert loaded.threshold == result.metrics["threshold"]
    assert loaded.meta["metrics"]["nelbo"] == result.metrics["nelbo"]
    with pytest.raises(ModelError, match="not a 'vae'"):
        vae.load_vae(vae._state_path(out))
    with pytest.raises(ModelError, match="no VAE checkpoint"):
        vae.load_vae(out.with_name("missing.safetensors"))


def test_interpolation_endpoints(trained):
    _, out = trained
    gen = vae.load_vae(out)
    path = gen.interpolate_rolls(4, 2, 5, seed=3)
    assert path.shape == (5, 2, 32, 72)
    eps = np.random.default_rng([3, 13]).standard_normal(TINY.z_dim)
    mean, std = gen.model.latent_mean.numpy(), gen.model.latent_std.numpy()
    start = gen.decode((mean[4] + std[4] * eps)[None].astype(np.float32), 4)
    end = gen.decode((mean[2] + std[2] * eps)[None].astype(np.float32), 2)
    assert np.allclose(path[0], start[0], atol=1e-6) and np.allclose(path[-1], end[0], atol=1e-6)
    assert np.allclose(gen.interpolate_rolls(4, 2, 5, seed=3, method="slerp")[[0, -1]], path[[0, -1]], atol=1e-5)
    scores = gen.interpolate(4, 2, 3, seed=3, key="D major")
    assert len(scores) == 3 and all(s.tempo == 120 for s in scores)
    with pytest.raises(sk.InputError):
        gen.interpolate_rolls(4, 5, 3)


def test_attribute_vector_and_shift(trained):
    _, out = trained
    gen = vae.load_vae(out)
    vec = gen.attribute_vector(4, 2)
    mean = gen.model.latent_mean.numpy()
    assert np.allclose(vec, mean[2] - mean[4])
    assert np.allclose(vae.attribute_vector(4, 2, checkpoint=out), vec)
    score = sk.compose(EMOTIONS[4], duration=4, seed=0)
    assert isinstance(gen.shift(score, 2, amount=1.5), sk.Score)
    assert gen.encode(score).shape[1] == TINY.z_dim


def test_generate_duration_and_seed(trained):
    _, out = trained
    intent = sk.emotion_to_intent(EMOTIONS[3])
    score = vae.generate(intent, duration=12, seed=1, checkpoint=out)
    bar = 4 * 60 / intent.tempo
    assert isinstance(score, sk.Score) and score.tempo == intent.tempo
    assert score.end_beat <= 4 * round(12 / bar) + 1e-9
    if score.n_notes:
        assert abs(score.duration - 12) <= bar + 1e-6 or score.duration < 12
    again = vae.generate(intent, duration=12, seed=1, checkpoint=out)
    assert [(n.pitch, n.start) for n in again.tracks[0].notes] == [(n.pitch, n.start) for n in score.tracks[0].notes]


def test_compose_with_the_shipped_vae():
    if not vae.default_checkpoint().is_file():
        pytest.skip("the shipped VAE checkpoint is not installed")
    score = sk.compose(EMOTIONS[2], generator="vae", duration=10, seed=0)
    intent = sk.emotion_to_intent(EMOTIONS[2])
    assert isinstance(score, sk.Score) and score.n_notes > 0
    assert abs(score.duration - 10) <= 4 * 60 / intent.tempo + 1e-6


def test_compose_without_the_checkpoint_says_how_to_train(monkeypatch, tmp_path):
    monkeypatch.setattr(vae, "default_checkpoint", lambda: tmp_path / "vae_emopia.safetensors")
    with pytest.raises(ModelError, match="python -m scoringkit.generate.models.vae"):
        sk.compose(EMOTIONS[1], generator="vae", duration=4)


def test_generate_limits_note_lengths_and_prefers_the_intent_mode(trained):
    from scoringkit.generate.models.pianoroll import mode_strengths, score_to_roll

    _, out = trained
    gen = vae.load_vae(out)
    intent = sk.emotion_to_intent(EMOTIONS[4])
    cue = gen.generate(intent, duration=12, seed=2)
    assert all(n.duration <= 4 for n in cue.tracks[0].notes)
    held = gen.generate(intent, duration=12, seed=2, longest=None)
    assert [(n.pitch, n.start) for n in held.tracks[0].notes] == [(n.pitch, n.start) for n in cue.tracks[0].notes]
    strength = lambda s: float(mode_strengths(score_to_roll(s)[None])[0]) if s.n_notes else 0.0  # noqa: E731
    first = gen.generate(intent, duration=12, seed=2, longest=None, draws=1)
    assert strength(held) >= strength(first) - 1e-9
    for bad in ({"draws": 0}, {"longest": -1}, {"longest": "beat"}):
        with pytest.raises(sk.InputError):
            gen.generate(intent, duration=12, **bad)
