"""The piano-roll GAN: shapes, layers, one training step, checkpoints, generation, compose."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import scoringkit as sk  # noqa: E402
from scoringkit.errors import ModelError  # noqa: E402
from scoringkit.generate.models import gan  # noqa: E402
from scoringkit.generate.models.pianoroll import RollCorpus  # noqa: E402

EMOTIONS = {1: sk.Emotion(0.7, 0.6), 2: sk.Emotion(-0.7, 0.6), 3: sk.Emotion(-0.7, -0.6), 4: sk.Emotion(0.7, -0.6)}
TINY = gan.GANConfig(z_dim=8, cond_dim=4, width=2)


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
    out = tmp_path_factory.mktemp("gan") / "tiny.safetensors"
    result = gan.train_gan(corpus, out=out, steps=3, batch_size=8, val_every=1, val_size=16, config=TINY, seed=0,
                           device="cpu", progress=False)
    return result, out


def test_generator_and_discriminator_shapes():
    g, d = gan.RollGenerator(TINY), gan.MultiScaleDiscriminator(TINY)
    q = torch.tensor([0, 1, 2, 3, 4])
    bars = g(torch.randn(5, 8), q)
    assert bars.shape == (5, 2, 16, 72) and float(bars.detach().min()) >= 0 and float(bars.detach().max()) <= 1
    scores = d(bars, q)
    assert scores.shape == (5, 3)  # bar, pooled and harmony critics
    assert gan.harmony_view(bars).shape == (5, 2, 4, 12)
    # the condition enters the critics through the projection: another quadrant, another score
    assert not torch.allclose(d(bars, torch.full((5,), 1)), d(bars, torch.full((5,), 4)))


def test_patch_and_expand_equal_the_torch_layers():
    x = torch.randn(2, 3, 4, 24)
    patch = gan.Patch(3, 5, (2, 12))
    conv = torch.nn.Conv2d(3, 5, (2, 12), (2, 12))
    conv.weight.data.copy_(patch.weight.data)
    conv.bias.data.copy_(patch.bias.data)
    assert torch.allclose(patch(x), conv(x), atol=1e-5)
    expand = gan.Expand(3, 5, (4, 1))
    tconv = torch.nn.ConvTranspose2d(3, 5, (4, 1), (4, 1))
    tconv.weight.data.copy_(expand.weight.data)
    tconv.bias.data.copy_(expand.bias.data)
    assert torch.allclose(expand(x), tconv(x), atol=1e-5)


def test_losses_and_straight_through():
    real, fake = torch.tensor([[2.0, 0.5, -1.0]]), torch.tensor([[-2.0, 0.0, 1.0]])
    assert float(gan.hinge_d_loss(real, fake)) == pytest.approx(0 + 0.5 + 2 + 0 + 1 + 2)
    assert float(gan.hinge_g_loss(fake)) == pytest.approx(1.0)
    p = torch.tensor([0.2, 0.7], requires_grad=True)
    b = gan.binary_straight_through(p)
    assert b.tolist() == [0.0, 1.0]
    (b * torch.tensor([1.0, 2.0])).sum().backward()
    assert p.grad.tolist() == [1.0, 2.0]


def test_one_training_step_changes_both_networks(corpus):
    torch.manual_seed(0)
    g, d = gan.RollGenerator(TINY), gan.MultiScaleDiscriminator(TINY)
    og = torch.optim.Adam(g.parameters(), lr=1e-3, betas=(0.0, 0.9))
    od = torch.optim.Adam(d.parameters(), lr=1e-3, betas=(0.0, 0.9))
    real = torch.from_numpy(corpus.rolls[:6].astype("float32"))
    q = torch.tensor([1, 2, 3, 4, 1, 2])
    g0 = [p.detach().clone() for p in g.parameters()]
    d0 = [p.detach().clone() for p in d.parameters()]
    fake = gan.binary_straight_through(g(torch.randn(6, 8), q))
    d_loss = gan.hinge_d_loss(d(real, q), d(fake.detach(), q))
    od.zero_grad()
    d_loss.backward()
    od.step()
    g_loss = gan.hinge_g_loss(d(fake, q))
    og.zero_grad()
    g_loss.backward()
    og.step()
    assert torch.isfinite(d_loss) and torch.isfinite(g_loss)
    assert any(not torch.equal(a, b) for a, b in zip(g0, g.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(d0, d.parameters()))


def test_train_gan_writes_checkpoint_and_resumes(corpus, trained):
    result, out = trained
    assert result.steps == 3 and len(result.history) == 3
    assert {"threshold", "stat_distance", "generated", "validation"} <= set(result.metrics)
    assert out.is_file() and gan._state_path(out).is_file()
    resumed = gan.train_gan(corpus, out=out, steps=4, batch_size=8, val_every=1, val_size=16, config=TINY, seed=0,
                            device="cpu", progress=False, resume=True)
    assert resumed.steps == 4 and [row["step"] for row in resumed.history] == [1, 2, 3, 4]


def test_checkpoint_round_trip(trained):
    result, out = trained
    loaded = gan.load_gan(out, cache=False)
    for name, tensor in result.model.state_dict().items():
        assert torch.equal(loaded.model.state_dict()[name], tensor)
    assert loaded.threshold == [0.5, 0.5]
    with pytest.raises(ModelError, match="not a 'gan'"):
        gan.load_gan(gan._state_path(out))
    from scoringkit.generate.models import vae

    with pytest.raises(ModelError, match="not a 'vae'"):
        vae.load_vae(out)


def test_generate_duration_and_seed(trained):
    _, out = trained
    intent = sk.emotion_to_intent(EMOTIONS[1])
    score = gan.generate(intent, duration=10, seed=2, checkpoint=out)
    assert isinstance(score, sk.Score) and score.tempo == intent.tempo
    bars = round(10 / (4 * 60 / intent.tempo))
    assert score.end_beat <= 4 * bars + 1e-9
    again = gan.generate(intent, duration=10, seed=2, checkpoint=out)
    assert [(n.pitch, n.start) for n in again.tracks[0].notes] == [(n.pitch, n.start) for n in score.tracks[0].notes]
    with pytest.raises(sk.InputError):
        gan.load_gan(out).generate(intent, quadrant=7)


def test_compose_with_the_shipped_gan():
    if not gan.default_checkpoint().is_file():
        pytest.skip("the shipped GAN checkpoint is not installed")
    intent = sk.emotion_to_intent(EMOTIONS[4])
    score = sk.compose(intent, generator="gan", duration=10, seed=0)
    assert isinstance(score, sk.Score) and score.n_notes > 0
    assert abs(score.duration - 10) <= 4 * 60 / intent.tempo + 1e-6
    assert np.isfinite(sk.render(score, sr=8000, synth="numpy")).all()


def test_compose_without_the_checkpoint_says_how_to_train(monkeypatch, tmp_path):
    monkeypatch.setattr(gan, "default_checkpoint", lambda: tmp_path / "gan_emopia.safetensors")
    with pytest.raises(ModelError, match="python -m scoringkit.generate.models.gan"):
        sk.compose(EMOTIONS[1], generator="gan", duration=4)


def test_sustain_pedal_holds_notes_to_the_pedal_change_or_the_next_strike():
    from scoringkit.errors import InputError
    from scoringkit.generate.models.pianoroll import sustain_pedal
    from scoringkit.types import Note

    notes = [Note(60, 0, 0.25), Note(67, 0.25, 0.25), Note(60, 1, 0.25), Note(64, 1.75, 3.0), Note(62, 2.5, 0.25)]
    held = sustain_pedal(notes, 2)
    assert [(n.pitch, n.start, n.duration) for n in held] == [
        (60, 0, 1), (67, 0.25, 1.75), (60, 1, 1), (64, 1.75, 3.0), (62, 2.5, 1.5)]
    assert [n.velocity for n in held] == [n.velocity for n in notes]
    with pytest.raises(InputError):
        sustain_pedal(notes, 0)


def test_gan_cues_are_pedalled_by_default():
    from scoringkit.errors import InputError
    from scoringkit.generate.models.gan import PEDAL, load_gan

    gen = load_gan()
    intent = sk.emotion_to_intent(sk.Emotion(-0.6, -0.6))
    dry = gen.generate(intent, duration=10, seed=1, pedal=None)
    wet = gen.generate(intent, duration=10, seed=1)
    assert [(n.pitch, n.start) for _, n in wet.notes()] == [(n.pitch, n.start) for _, n in dry.notes()]
    mean = lambda s: sum(n.duration for _, n in s.notes()) / s.n_notes  # noqa: E731
    assert PEDAL == 2.0 and mean(wet) > 2 * mean(dry)
    with pytest.raises(InputError):
        gen.generate(intent, duration=10, pedal=-1)


def _triads(pitch_sets):
    bars = torch.zeros(len(pitch_sets), 2, 16, 72)
    for i, pitches in enumerate(pitch_sets):
        for p in pitches:
            bars[i, 1, :, p - 24] = 1
            bars[i, 0, 0, p - 24] = 1
    return bars


def test_soft_mode_strength_follows_the_key_estimate():
    from scoringkit.generate.models.pianoroll import mode_strengths

    bars = _triads([(60, 64, 67), (57, 60, 64), (62, 66, 69), (64, 67, 71)])  # C, Am, D, Em
    soft = gan.soft_mode_strength(bars).numpy()
    hard = mode_strengths(bars.numpy())
    assert (np.sign(soft) == np.sign(hard)).all() and soft[0] > 0 > soft[1]
    assert np.allclose(gan.soft_mode_strength(bars, temperature=1e-3).numpy(), hard, atol=1e-3)


def test_mode_matching_loss_pulls_each_quadrant_toward_its_mode():
    bars = _triads([(60, 64, 67), (57, 60, 64)]).requires_grad_(True)
    q = torch.tensor([4, 3])
    strength = gan.soft_mode_strength(bars).detach()
    targets = torch.zeros(5)
    targets[4], targets[3] = strength[0], strength[1]
    assert float(gan.mode_matching_loss(bars, q, targets).detach()) < 1e-10
    targets[4] = 0.5  # Q4 should be more major than the C major bar is
    loss = gan.mode_matching_loss(bars, q, targets)
    assert float(loss.detach()) > 0
    loss.backward()
    assert float(bars.grad[1].abs().sum()) == 0  # Q3 is on its target: untouched
    stepped = (bars - 0.05 * bars.grad).detach()  # one gradient step makes the Q4 bar more major
    assert float(gan.soft_mode_strength(stepped)[0]) > float(strength[0])


def test_train_gan_with_the_mode_loss(corpus, tmp_path):
    result = gan.train_gan(corpus, out=tmp_path / "m.safetensors", steps=2, batch_size=8, val_every=1, val_size=16,
                           config=TINY, seed=0, device="cpu", progress=False, mode_weight=50.0)
    assert result.steps == 2 and all("val_mode_gap" in row for row in result.history)
    loaded = gan.load_gan(tmp_path / "m.safetensors", cache=False)
    assert loaded.meta["train"]["mode_weight"] == 50.0 and 0 <= loaded.meta["metrics"]["mode_gap"] <= 1
    assert set(loaded.meta["metrics"]["major_share"]) <= {"1", "2", "3", "4"}
    with pytest.raises(sk.InputError):
        gan.train_gan(corpus, steps=1, config=TINY, mode_weight=-1, progress=False)


def test_gan_cue_keeps_to_its_key_on_request_and_chooses_a_draft_in_the_intent_mode():
    from scoringkit.generate.models.pianoroll import SCALE_STEPS, mode_strengths, score_to_roll
    from scoringkit.types import parse_key

    gen = gan.load_gan()
    intent = sk.emotion_to_intent(sk.Emotion(0.6, -0.5))  # calm and positive: a major key
    assert intent.mode == "major"
    cue = gen.generate(intent, duration=10, seed=3, scale=True)
    tonic, mode = parse_key(cue.key)
    assert all((n.pitch - tonic) % 12 in SCALE_STEPS[mode] for _, n in cue.notes())
    strength = lambda s: float(mode_strengths(score_to_roll(s)[None])[0])  # noqa: E731
    first = gen.generate(intent, duration=10, seed=3, scale=False, pedal=None, draws=1)
    chosen = gen.generate(intent, duration=10, seed=3, scale=False, pedal=None)
    assert strength(chosen) >= strength(first) - 1e-9
    with pytest.raises(sk.InputError):
        gen.generate(intent, draws=0)
