"""A conditional GAN over one-bar piano rolls (MuseGAN-style) with a multi-scale discriminator.

What it learns
--------------
Bars of EMOPIA as two-channel piano rolls (:mod:`~scoringkit.generate.models.pianoroll`:
onsets and sounding notes, 16 steps × 72 pitches), with their quadrant labels.

**Generator** (MuseGAN's bar generator, Dong et al., AAAI 2018: a latent vector grown
into a time × pitch image by transposed convolutions, first along time, then from octaves
to pitches)::

    [z (64), embedding(quadrant) (16)] ─Linear─> 64 × 4 beats × 6 octaves
        ─ConvT (4,1)/(4,1)─> 32 × 16 steps × 6 ─ConvT (1,12)/(1,12)─> 8 × 16 × 72 pitches
        ─1×1 conv, sigmoid─> 2 × 16 × 72

with batch norm and ReLU between layers; the output is the probability of each cell (the
last layer's bias starts at the data's density, 2 % onsets and 8 % sounding cells, so the
first bars are sparse like real ones rather than half full). The
two transposed convolutions have kernel = stride, so each is one matrix product
(:class:`Expand`), several times faster on a CPU than PyTorch's general ``ConvTranspose2d``.

**Discriminator**: three critics, each looking at the bar at another scale (the
multi-scale design of PianoGAN and of pix2pixHD's discriminators: the fine one judges
note placement, the coarse ones texture and harmony), their scores summed:

* *bar* scale: the full 16 × 72 roll;
* *pooled* scale: the roll average-pooled 2 × 2 (8 × 36: eighth notes, pairs of semitones);
* *harmony* scale: beats × pitch classes (4 × 12, the roll averaged over each beat and
  folded into one octave): which chords in which rhythm.

Like MuseGAN's, the critics first read each octave with a (1, 12) convolution, then
steps into beats. Each critic is a stack of spectrally normalised convolutions (Miyato et al. 2018) with
LeakyReLU, summed over positions into a feature vector ``h``; its score is
``w·h + embed(quadrant)·h``, the *projection discriminator* of Miyato & Koyama (2018),
which is how the condition enters.

**Binary bars**: the critics get the generator's cells rounded to 0/1 with the gradient
passed straight through (:func:`binary_straight_through`, BinaryMuseGAN's deterministic
binary neurons); otherwise they tell real from generated bars by the in-between values
of the sigmoid alone, and the generator learns nothing.

**Loss**: the hinge loss (Lim & Ye 2017; as in SAGAN and BigGAN):
``L_D = E[max(0, 1 − D(x, c))] + E[max(0, 1 + D(G(z, c), c))]``, ``L_G = −E[D(G(z, c), c)]``.
It was chosen over WGAN-GP because, with spectral normalisation keeping the critic
Lipschitz, it needs no gradient penalty, i.e. no second backward pass: about half the
cost per step, which matters on two CPU cores. Adam (β = 0, 0.9), learning rate 2e-4
for both, one D step per G step. An exponential moving average of the generator's weights (decay 0.999) is what is
evaluated and shipped.

**A stronger condition on valence** (``mode_weight``, since 2026-11-24): the projection
critics alone let the first generator write calm, positive (Q4) bars in minor (14 % of its
Q4 bars were major, against 52 % of EMOPIA's validation Q4 bars, and 73 % of its whole Q4
training clips), so calm-positive cues were heard as sad. The generator's loss adds
``mode_weight · mode_matching_loss``: for each quadrant in the batch, the squared gap
between the mean :func:`soft_mode_strength` (a differentiable Krumhansl-Kessler major-minus-
minor key-profile correlation of each bar's pitch classes) of its generated bars and that of
the quadrant's training bars (conditional feature matching, Salimans et al. 2016, on the
mode).

Thresholds and validation
-------------------------
The generator outputs probabilities; cells above 0.5 become notes, the rounding the
critics were trained on (stored in the checkpoint as ``threshold``).
The validation figure during training is :func:`~scoringkit.generate.models.pianoroll.statistics_distance`
between :func:`~scoringkit.generate.models.pianoroll.roll_statistics` of generated bars
(quadrants drawn as in the validation split) and of the validation bars (notes per bar,
polyphony, pitch mean and spread, pitch-class entropy, on-beat onsets, note length), plus
:func:`mode_gap` (how far each quadrant's share of major bars is from the validation
bars'): 0 would be identical; the checkpoint keeps the generator with the best figure.
When it is written, :func:`calibrate` stores a threshold per quadrant (``quadrant_thresholds``,
never below 0.5) at which the generated bars have as many notes as the quadrant's training
bars: at 0.5 the generator writes calm bars twice as busy as EMOPIA's.

From an intent to a Score (:func:`generate`)
--------------------------------------------
One latent per bar along a correlated walk (ρ = 0.8, so neighbouring bars are alike),
the intent's quadrant as condition; :data:`DRAWS` (8) such walks are generated in one batch
and the one whose key estimate agrees best with the intent's mode (a major key for a major
intent, :func:`~scoringkit.generate.models.pianoroll.mode_choice`) is kept, with the
quadrant's threshold; then
:func:`~scoringkit.generate.models.pianoroll.rolls_to_cue`: the intent's tempo (the model's
beats are EMOPIA's nominal 120 BPM grid, played at the intent's tempo), its key (the
passage's estimated key moved onto it, or onto its relative when the modes differ), its
velocity with metrical accents and dynamics curve, and the piano (program 0, as the VAE:
the model writes EMOPIA's two-handed texture; ``program=`` chooses another). The notes
are held as under a sustain pedal changed every half bar (:data:`PEDAL`,
:func:`~scoringkit.generate.models.pianoroll.sustain_pedal`): the generator's own notes are
mostly one sixteenth long, a quarter of EMOPIA's (whose pianists pedal), and played that
short every cue sounds busy and happy whatever its quadrant.

Examples
--------
>>> import torch
>>> g, d = RollGenerator(GANConfig(width=8)), MultiScaleDiscriminator(GANConfig(width=8))
>>> bars = g(torch.randn(3, 64), torch.tensor([1, 2, 3]))
>>> bars.shape, d(bars, torch.tensor([1, 2, 3])).shape
(torch.Size([3, 2, 16, 72]), torch.Size([3, 3]))
"""

from __future__ import annotations

import copy
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from ...errors import InputError, ModelError
from ...types import MusicalIntent, Score
from .pianoroll import (LoadedRollModel, RollConfig, RollCorpus, RollDataset, _device, _load_checkpoint,
                        _optimizer_tensors, _progress_bar, _restore_optimizer, _save_checkpoint, check_draws,
                        intent_quadrant, latent_walk, mode_choice, mode_strengths, n_bars_for, roll_statistics,
                        rolls_to_cue, statistics_distance)
from .vae import TrainResult

__all__ = ["GANConfig", "Expand", "Patch", "RollGenerator", "MultiScaleDiscriminator", "soft_mode_strength",
           "quadrant_mode_targets", "mode_matching_loss", "calibrate", "binary_straight_through", "mode_gap",
           "hinge_d_loss", "hinge_g_loss", "train_gan", "GANGenerator", "load_gan", "save_gan", "default_checkpoint",
           "generate", "evaluate", "DEFAULT_CHECKPOINT", "PEDAL"]

KIND = "gan"
VERSION = 1
#: File name of the shipped checkpoint inside ``scoringkit/assets/models``.
DEFAULT_CHECKPOINT = "gan_emopia.safetensors"
#: Beats per sustain-pedal change when a cue is written (:func:`~.pianoroll.sustain_pedal`): the generator's notes
#: are mostly one sixteenth long (EMOPIA's average 5.3), which the music-emotion model hears as busy and happy
#: whatever the quadrant; with the pedal changed every half bar 15 of 24 tuning cues landed in their quadrant
#: instead of 6 (see the model card).
PEDAL = 2.0
#: Latent walks drawn per cue by :meth:`GANGenerator.generate`; the one whose key estimate agrees best with the
#: intent's mode is written (:func:`~scoringkit.generate.models.pianoroll.mode_choice`).
DRAWS = 8


@dataclass(frozen=True)
class GANConfig:
    """Sizes of the GAN.

    Parameters
    ----------
    z_dim : int
        Latent dimensions (64).
    cond_dim : int
        Size of the generator's quadrant embedding (16).
    width : int
        Channel multiplier: the generator's layers have 8, 4, 2 × ``width`` channels and
        the critics up to 8 × ``width`` (8); the full-resolution layers have ``width``.
    roll : dict
        The :class:`~scoringkit.generate.models.pianoroll.RollConfig` as a dict; the
        generator's shape needs 16 steps per bar and 72 pitches (the defaults).
    """

    z_dim: int = 64
    cond_dim: int = 16
    width: int = 8
    roll: dict = field(default_factory=lambda: RollConfig().to_dict())

    def __post_init__(self):
        for name in ("z_dim", "cond_dim", "width"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1024:
                raise InputError(f"GANConfig.{name} must be a positive integer, got {value!r}")
        rc = RollConfig.from_dict(dict(self.roll))
        if rc.steps_per_bar != 16 or rc.n_pitches != 72:
            raise InputError(f"the GAN's layers are shaped for 16 steps × 72 pitches per bar, got "
                             f"{rc.steps_per_bar} × {rc.n_pitches}")

    @property
    def roll_config(self) -> RollConfig:
        return RollConfig.from_dict(dict(self.roll))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data) -> "GANConfig":
        try:
            return cls(**data)
        except (TypeError, InputError, ModelError) as err:
            raise ModelError(f"invalid GAN config in the checkpoint ({err})") from None


class Expand(nn.Module):
    """A transposed convolution whose stride equals its kernel: each input cell becomes a ``kh × kw`` block.

    ``(B, C_in, H, W) → (B, C_out, H·kh, W·kw)``; the same as
    ``nn.ConvTranspose2d(c_in, c_out, kernel, stride=kernel)``, written as one einsum.
    """

    def __init__(self, c_in: int, c_out: int, kernel):
        super().__init__()
        self.kernel = tuple(kernel)
        bound = 1.0 / (c_in * self.kernel[0] * self.kernel[1]) ** 0.5
        self.weight = nn.Parameter(torch.empty(c_in, c_out, *self.kernel).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.zeros(c_out))

    def forward(self, x):
        b, _, h, w = x.shape
        kh, kw = self.kernel
        y = torch.einsum("bchw,cokl->bohkwl", x, self.weight).reshape(b, -1, h * kh, w * kw)
        return y + self.bias.view(1, -1, 1, 1)


class RollGenerator(nn.Module):
    """``G(z, quadrant) → (B, 2, 16, 72)`` cell probabilities (quadrant 0-4, 0 = none)."""

    def __init__(self, config: GANConfig | None = None):
        super().__init__()
        config = config or GANConfig()
        self.config = config
        w = config.width
        self.embed = nn.Embedding(5, config.cond_dim)
        self.fc = nn.Linear(config.z_dim + config.cond_dim, 8 * w * 4 * 6)
        self.bn0 = nn.BatchNorm1d(8 * w * 4 * 6)
        self.up = nn.Sequential(
            Expand(8 * w, 4 * w, (4, 1)), nn.BatchNorm2d(4 * w), nn.ReLU(),
            Expand(4 * w, w, (1, 12)), nn.BatchNorm2d(w), nn.ReLU(),
            nn.Conv2d(w, 2, 1),
        )
        with torch.no_grad():  # start sparse, as piano rolls are (about 2 % onsets, 8 % sounding cells)
            self.up[-1].bias.copy_(torch.logit(torch.tensor([0.02, 0.08])))

    @property
    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def forward(self, z, quadrant):
        h = F.relu(self.bn0(self.fc(torch.cat([z, self.embed(quadrant)], dim=-1))))
        return torch.sigmoid(self.up(h.view(len(z), 8 * self.config.width, 4, 6)))


class Patch(nn.Module):
    """A convolution whose stride equals its kernel (non-overlapping patches), written as one einsum.

    ``(B, C_in, H, W) → (B, C_out, H / kh, W / kw)``, the same as
    ``nn.Conv2d(c_in, c_out, kernel, stride=kernel)``: reading a roll octave by octave
    ``(1, 12)`` or beat by beat ``(4, 1)``. Faster on a CPU than the general convolution.
    """

    def __init__(self, c_in: int, c_out: int, kernel):
        super().__init__()
        self.kernel = tuple(kernel)
        bound = 1.0 / (c_in * self.kernel[0] * self.kernel[1]) ** 0.5
        self.weight = nn.Parameter(torch.empty(c_out, c_in, *self.kernel).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.zeros(c_out))

    def forward(self, x):
        b, c, h, w = x.shape
        kh, kw = self.kernel
        x = x.reshape(b, c, h // kh, kh, w // kw, kw)
        return torch.einsum("bchkwl,ockl->bohw", x, self.weight) + self.bias.view(1, -1, 1, 1)


def _sn_conv(cin, cout, kernel, stride=1, padding=0):
    if tuple(np.broadcast_to(kernel, 2)) == tuple(np.broadcast_to(stride, 2)) and padding == 0:
        return spectral_norm(Patch(cin, cout, tuple(np.broadcast_to(kernel, 2))))
    return spectral_norm(nn.Conv2d(cin, cout, kernel, stride, padding))


class _Critic(nn.Module):
    """Spectrally normalised convolutions, summed over positions, with a projection head."""

    def __init__(self, layers, features: int):
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.linear = spectral_norm(nn.Linear(features, 1))
        self.embed = spectral_norm(nn.Embedding(5, features))

    def forward(self, x, quadrant):
        for layer in self.layers:
            x = F.leaky_relu(layer(x), 0.2)
        h = x.sum(dim=(2, 3))
        return self.linear(h).squeeze(1) + (self.embed(quadrant) * h).sum(1)


def harmony_view(rolls):
    """Rolls ``(B, 2, 16, 72)`` → beats × pitch classes ``(B, 2, 4, 12)`` (means over each beat and octave)."""
    b, c, t, p = rolls.shape
    beats = rolls.reshape(b, c, 4, t // 4, p).mean(3)
    return beats.reshape(b, c, 4, p // 12, 12).mean(3)


class MultiScaleDiscriminator(nn.Module):
    """Three projection critics at the bar, pooled and harmony scales; ``forward`` → scores ``(B, 3)``."""

    SCALES = ("bar", "pooled", "harmony")

    def __init__(self, config: GANConfig | None = None):
        super().__init__()
        config = config or GANConfig()
        self.config = config
        w = config.width
        # bar: (2, 16, 72) → octaves (16 × 6) → beats (4 × 6) → 4 × 6 → 2 × 6
        self.bar = _Critic([_sn_conv(2, 2 * w, (1, 12), (1, 12)), _sn_conv(2 * w, 4 * w, (4, 1), (4, 1)),
                            _sn_conv(4 * w, 8 * w, (1, 3), 1, (0, 1)), _sn_conv(8 * w, 8 * w, (2, 3), (2, 1), (0, 1))],
                           8 * w)
        # pooled: (2, 8, 36) → two octaves at a time (8 × 3) → beats (4 × 3) → 4 × 3
        self.pooled = _Critic([_sn_conv(2, 2 * w, (1, 12), (1, 12)), _sn_conv(2 * w, 4 * w, (2, 1), (2, 1)),
                               _sn_conv(4 * w, 8 * w, (3, 3), 1, (1, 1))], 8 * w)
        # harmony: (2, 4, 12) → chords per beat (4 × 1) → their succession
        self.harmony = _Critic([_sn_conv(2, 2 * w, (1, 12)), _sn_conv(2 * w, 4 * w, (3, 1), 1, (1, 0))], 4 * w)

    @property
    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def forward(self, rolls, quadrant):
        return torch.stack([self.bar(rolls, quadrant), self.pooled(F.avg_pool2d(rolls, 2), quadrant),
                            self.harmony(harmony_view(rolls), quadrant)], dim=1)


def soft_mode_strength(rolls, *, temperature: float = 0.05):
    """Differentiable mode strength of each bar: ``(B, 2, 16, 72) → (B,)``.

    :func:`~scoringkit.generate.models.pianoroll.mode_strengths` (best major minus best
    minor Krumhansl-Kessler correlation of the bar's pitch-class profile) with each maximum
    over the 12 tonics replaced by ``temperature · logsumexp(r / temperature)``, so the
    generator gets a gradient from it. Transposition invariant.
    """
    from ...extract.audio import key_templates

    b, c, t, p = rolls.shape
    weights = rolls[:, 1].sum(1) + rolls[:, 0].sum(1)  # (B, P): sounding steps plus onsets
    profile = weights.reshape(b, p // 12, 12).sum(1)  # the grid starts on a C (low = 24), so row k is pitch class k
    templates = torch.tensor(key_templates(), dtype=rolls.dtype, device=rolls.device)
    templates = templates / templates.norm(dim=1, keepdim=True)
    centred = profile - profile.mean(1, keepdim=True)
    corr = centred @ templates.T / (centred.norm(dim=1, keepdim=True) + 1e-6)
    soft = lambda r: temperature * torch.logsumexp(r / temperature, dim=1)  # noqa: E731
    return soft(corr[:, :12]) - soft(corr[:, 12:])


@torch.no_grad()
def quadrant_mode_targets(dataset: RollDataset, *, n: int = 8192, seed: int = 0):
    """Mean :func:`soft_mode_strength` of real bars per quadrant label (index 0-4; 0 = all), from ``n`` bars."""
    rng = np.random.default_rng([int(seed), 23])
    index = rng.integers(0, len(dataset), min(n, 4 * len(dataset)))
    x, q = dataset.arrays(index)
    strength = soft_mode_strength(torch.from_numpy(x.astype("float32"))).numpy()
    out = np.full(5, float(strength.mean()) if len(strength) else 0.0)
    for k in (1, 2, 3, 4):
        if (q == k).any():
            out[k] = float(strength[q == k].mean())
    return torch.tensor(out, dtype=torch.float32)


def mode_matching_loss(fake, quadrant, targets):
    """Squared gap between the mean :func:`soft_mode_strength` of generated bars and the data's, per quadrant.

    Conditional feature matching (Salimans et al. 2016) on one musical feature, the mode:
    averaged over the quadrants present in the batch. EMOPIA's calm, positive (Q4) bars are
    mostly in a major key; a generator that writes them in minor pays for it.
    """
    strength = soft_mode_strength(fake)
    losses = [(strength[quadrant == k].mean() - targets[k]) ** 2 for k in torch.unique(quadrant).tolist()]
    return torch.stack(losses).mean()


def mode_gap(generated, generated_quadrants, real, real_quadrants, *, threshold=0.5) -> float:
    """Mean over quadrants of |share of major bars generated − share of major real bars| (0 = same).

    A bar is major when its :func:`~scoringkit.generate.models.pianoroll.mode_strengths`
    is > 0. Quadrants missing on either side are left out (0.0 when none is shared). Part of
    :func:`train_gan`'s validation figure, so the checkpoint kept is one whose condition
    also carries the mode (valence), not only the texture.

    Examples
    --------
    >>> import numpy as np
    >>> bar = np.zeros((1, 2, 16, 72)); bar[0, 1, :, [60 - 24, 64 - 24, 67 - 24]] = 1  # C major
    >>> mode_gap(bar, [4], bar, [4])
    0.0
    """
    return _gap(_major_shares(generated, generated_quadrants, threshold), _major_shares(real, real_quadrants))


def _major_shares(rolls, quadrants, threshold=0.5) -> dict:
    """Quadrant → share of its bars whose :func:`~.pianoroll.mode_strengths` is > 0 (quadrants present only)."""
    quadrants = np.asarray(quadrants)
    major = mode_strengths(rolls, threshold=threshold) > 0
    return {q: float(major[quadrants == q].mean()) for q in (1, 2, 3, 4) if (quadrants == q).any()}


def _gap(generated: dict, real: dict) -> float:
    """:func:`mode_gap` from the two sides' :func:`_major_shares`."""
    gaps = [abs(generated[q] - real[q]) for q in (1, 2, 3, 4) if q in generated and q in real]
    return float(np.mean(gaps)) if gaps else 0.0


def binary_straight_through(probs, threshold: float = 0.5):
    """Deterministic binary neurons: 0/1 cells forward, the sigmoid's gradient backward.

    ``(probs > threshold) + probs - probs.detach()``: the critics see binary bars, as real
    bars are, so they cannot tell generated bars by their in-between values (the failure of
    a plain sigmoid output: the critics win at once); the generator still gets gradients
    (the straight-through estimator, Bengio et al. 2013; BinaryMuseGAN, Dong & Yang 2018).
    """
    return (probs > threshold).to(probs.dtype) + probs - probs.detach()


def hinge_d_loss(real_scores, fake_scores):
    """Hinge loss of the critics, summed over scales, averaged over the batch."""
    return F.relu(1.0 - real_scores).sum(1).mean() + F.relu(1.0 + fake_scores).sum(1).mean()


def hinge_g_loss(fake_scores):
    """Generator's hinge loss: minus the critics' scores of its bars."""
    return -fake_scores.sum(1).mean()


@torch.no_grad()
def _sample_bars(generator, quadrants, *, seed: int, device, batch: int = 512) -> np.ndarray:
    generator.eval()
    gen = torch.Generator(device="cpu").manual_seed(int(seed))
    out = []
    for i in range(0, len(quadrants), batch):
        q = torch.as_tensor(quadrants[i:i + batch]).to(device)
        z = torch.randn(len(q), generator.config.z_dim, generator=gen).to(device)
        out.append(generator(z, q).float().cpu().numpy())
    return np.concatenate(out)


def train_gan(corpus: RollCorpus | None = None, *, out=None, steps: int = 4000, batch_size: int = 64,
              lr_g: float = 2e-4, lr_d: float = 2e-4, ema: float = 0.999, mode_weight: float = 0.0,
              config: GANConfig | None = None,
              seed: int = 0, device="auto", amp=None, max_minutes=None, val_every: int = 250, val_size: int = 1024,
              resume: bool = False, augment: bool = True, threads=None, progress: bool = True,
              log=None) -> TrainResult:
    """Train the conditional GAN on the ``"train"`` split of a roll corpus (bars); validate on ``"val"``.

    Parameters
    ----------
    corpus : RollCorpus, optional
        Default: EMOPIA (:func:`~scoringkit.generate.models.pianoroll.load_emopia_rolls`);
        only bars with a quadrant label are used.
    out : str or Path, optional
        Checkpoint (EMA generator + metadata, safetensors), written whenever the validation
        figure improves and at the end; generator, critics, EMA and optimizers go to
        ``<out>.state.safetensors`` for ``resume``.
    steps : int
        Generator steps in all (one critic step each).
    batch_size, lr_g, lr_d, ema : int, float, float, float
    mode_weight : float
        Weight of :func:`mode_matching_loss` in the generator's loss: a stronger quadrant
        condition on the valence side, where each quadrant's generated bars must be as major
        (on average) as the training bars of that quadrant. 0 (default) trains without it,
        as before 2026-11-24.
    config : GANConfig, optional
    seed : int
    device : str
        ``"auto"`` (CUDA if available), ``"cpu"``, ``"cuda"``.
    amp : bool, optional
        bfloat16 autocast (default: on for CUDA).
    max_minutes : float, optional
        Stop after this much wall time.
    val_every, val_size : int
        Validate every ``val_every`` steps with ``val_size`` generated bars. The validation
        figure is the statistics distance plus :func:`mode_gap` (how far each quadrant's share
        of major bars is from the validation bars'); the checkpoint keeps the best.
    resume : bool
        Continue from ``<out>.state.safetensors`` if it exists.
    augment : bool
        Transposition augmentation.
    threads : int, optional
        ``torch.set_num_threads``.
    progress : bool
    log : callable, optional

    Returns
    -------
    TrainResult
        ``model`` is the best EMA generator; ``metrics`` has ``stat_distance`` (lower is
        better), the ``threshold`` pair, and the statistics of generated and validation bars.
    """
    config = config or GANConfig()
    if corpus is None:
        from .pianoroll import load_emopia_rolls

        corpus = load_emopia_rolls(config=config.roll_config)
    if corpus.config != config.roll_config:
        raise InputError(f"the corpus grid {corpus.config} differs from the model's {config.roll_config}")
    for name, value in (("steps", steps), ("batch_size", batch_size), ("val_every", val_every)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InputError(f"{name} must be a positive integer, got {value!r}")
    if isinstance(mode_weight, bool) or not isinstance(mode_weight, (int, float)) or not 0 <= mode_weight <= 1000:
        raise InputError(f"mode_weight must be a number in [0, 1000], got {mode_weight!r}")
    dev = _device(device)
    if threads is not None:
        torch.set_num_threads(int(threads))
    use_amp = (dev.type == "cuda") if amp is None else bool(amp)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    train = RollDataset(corpus, split="train", bars=1, augment=augment, labelled_only=True, seed=seed)
    if not len(train):
        raise InputError("the corpus has no labelled training bars with notes (split 'train')")
    has_val = "val" in set(corpus.splits.tolist())
    val = RollDataset(corpus, split="val" if has_val else "train", bars=1, labelled_only=True)
    val_x, val_q = val.arrays()
    val_stats = roll_statistics(val_x, config=config.roll_config)
    val_quadrants = np.random.default_rng(seed + 1).choice(val_q, size=min(val_size, max(1, len(val_q) * 4)))
    gen, disc = RollGenerator(config).to(dev), MultiScaleDiscriminator(config).to(dev)
    gen_ema = copy.deepcopy(gen).eval()
    for p in gen_ema.parameters():
        p.requires_grad_(False)
    opt_g = torch.optim.Adam(gen.parameters(), lr=lr_g, betas=(0.0, 0.9))
    opt_d = torch.optim.Adam(disc.parameters(), lr=lr_d, betas=(0.0, 0.9))
    mode_targets = quadrant_mode_targets(train, seed=seed).to(dev) if mode_weight > 0 else None
    step, history, start_seconds, best = 0, [], 0.0, None
    state_file = _state_path(out) if out is not None else None
    if resume and state_file is not None and state_file.is_file():
        tensors, cfg, meta = _load_checkpoint(state_file, kind=KIND + "-state", version=VERSION)
        if GANConfig.from_dict(cfg) != config:
            raise ModelError(f"{str(state_file)!r} was trained with another config; pass the same config or "
                             "start without resume")
        for prefix, module in (("gen.", gen), ("disc.", disc), ("ema.", gen_ema)):
            module.load_state_dict({k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)})
        _restore_optimizer(opt_g, {k: v.to(dev) for k, v in tensors.items()}, meta["groups_g"], prefix="opt_g")
        _restore_optimizer(opt_d, {k: v.to(dev) for k, v in tensors.items()}, meta["groups_d"], prefix="opt_d")
        torch.set_rng_state(tensors["torch_rng"])
        rng.bit_generator.state = meta["numpy_rng"]
        step, history, start_seconds = int(meta["step"]), list(meta["history"]), float(meta["seconds"])
        best = meta.get("best")
    train_args = {"steps": steps, "batch_size": batch_size, "lr_g": lr_g, "lr_d": lr_d, "ema": ema, "seed": seed,
                  "augment": augment, "loss": "hinge", "d_steps_per_g_step": 1, "mode_weight": mode_weight}
    began = time.perf_counter()

    def clock():
        return start_seconds + time.perf_counter() - began

    def save_state():
        tensors = {}
        for prefix, module in (("gen.", gen), ("disc.", disc), ("ema.", gen_ema)):
            tensors.update({prefix + k: v for k, v in module.state_dict().items()})
        tg, groups_g = _optimizer_tensors(opt_g, prefix="opt_g")
        td, groups_d = _optimizer_tensors(opt_d, prefix="opt_d")
        tensors.update(tg)
        tensors.update(td)
        tensors["torch_rng"] = torch.get_rng_state()
        _save_checkpoint(state_file, tensors, kind=KIND + "-state", version=VERSION, config=config.to_dict(),
                         meta={"step": step, "history": history, "seconds": clock(), "best": best,
                               "numpy_rng": rng.bit_generator.state, "groups_g": groups_g, "groups_d": groups_d})

    def validate():
        probs = _sample_bars(gen_ema, val_quadrants, seed=seed + 2, device=dev)
        stats = roll_statistics(probs, config=config.roll_config)
        return statistics_distance(stats, val_stats), mode_gap(probs, val_quadrants, val_x, val_q)

    bar = _progress_bar(steps, desc="GAN", enabled=progress, initial=step)
    gen.train()
    disc.train()
    running = []
    while step < steps:
        if max_minutes is not None and clock() > 60 * float(max_minutes):
            break
        real, q = train.batch(batch_size, rng)
        real, q = real.to(dev), q.to(dev)
        z = torch.randn(len(q), config.z_dim, device=dev)
        with torch.autocast(device_type=dev.type, dtype=torch.bfloat16, enabled=use_amp):
            fake = binary_straight_through(gen(z, q))
            d_loss = hinge_d_loss(disc(real, q).float(), disc(fake.detach(), q).float())
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        with torch.autocast(device_type=dev.type, dtype=torch.bfloat16, enabled=use_amp):
            g_loss = hinge_g_loss(disc(fake, q).float())
        if mode_targets is not None:  # a stronger condition on the valence side: each quadrant's mode
            g_loss = g_loss + float(mode_weight) * mode_matching_loss(fake.float(), q, mode_targets)
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        with torch.no_grad():
            decay = min(ema, (1 + step) / (10 + step))
            for pe, p in zip(gen_ema.parameters(), gen.parameters()):
                pe.lerp_(p, 1 - decay)
            for be, b in zip(gen_ema.buffers(), gen.buffers()):
                be.copy_(b)
        step += 1
        running.append([float(d_loss.detach()), float(g_loss.detach())])
        bar.update(1)
        if step % val_every == 0 or step == steps:
            stat_distance, gap = validate()
            distance = stat_distance + gap
            mean = np.mean(running, axis=0)
            running = []
            row = {"step": step, "seconds": round(clock(), 1), "d_loss": round(float(mean[0]), 4),
                   "g_loss": round(float(mean[1]), 4), "val_stat_distance": round(stat_distance, 4),
                   "val_mode_gap": round(gap, 4)}
            history.append(row)
            bar.set_postfix(dist=f"{distance:.3f}")
            if log:
                log(f"step {step}: D loss {row['d_loss']:.3f}, G loss {row['g_loss']:.3f}, "
                    f"val statistics distance {stat_distance:.4f}, mode gap {gap:.4f}")
            if out is not None and (best is None or distance < best):
                best = distance
                _save_final(gen_ema, out, config, train, val_x, val_quadrants, val_stats, seed, dev, train_args,
                            corpus, step, clock(), history, val=(val_x, val_q))
            if out is not None and step < steps:
                save_state()
    bar.close()
    if out is not None:
        if best is None:
            _save_final(gen_ema, out, config, train, val_x, val_quadrants, val_stats, seed, dev, train_args, corpus,
                        step, clock(), history, val=(val_x, val_q))
        save_state()
        loaded = load_gan(out, device="cpu", cache=False)
        model, metrics = loaded.model, loaded.meta["metrics"]
    else:
        metrics = _final_metrics(gen_ema, train, val_quadrants, val_stats, seed, dev, config, val=(val_x, val_q))
        model = gen_ema.cpu().eval()
        model.threshold = metrics["threshold"]
    return TrainResult(model, history, metrics, Path(out) if out is not None else None, step)


def _final_metrics(gen_ema, train, val_quadrants, val_stats, seed, dev, config, val=None) -> dict:
    """The statistics of generated vs validation bars at the critics' threshold 0.5.

    With ``val`` (the validation bars and their quadrants) also each quadrant's share of
    major bars (:func:`mode_gap`), generated and validation.
    """
    probs = _sample_bars(gen_ema, val_quadrants, seed=seed + 3, device=dev)
    thresholds = [0.5, 0.5]
    stats = roll_statistics(probs, config=config.roll_config, threshold=thresholds)
    out = {"threshold": thresholds, "stat_distance": round(statistics_distance(stats, val_stats), 4),
           "generated": {k: round(v, 4) for k, v in stats.items()},
           "validation": {k: round(v, 4) for k, v in val_stats.items()}}
    if val is not None:
        generated, validation = _major_shares(probs, val_quadrants, thresholds), _major_shares(*val)
        out["mode_gap"] = round(_gap(generated, validation), 4)
        out["major_share"] = {str(q): {"generated": round(generated[q], 3), "validation": round(validation[q], 3)}
                              for q in (1, 2, 3, 4) if q in generated and q in validation}
    return out


@torch.no_grad()
def calibrate(generator: RollGenerator, train: RollDataset, *, seed: int = 0, device="cpu", n: int = 1024) -> dict:
    """Generation thresholds per quadrant: as many notes per bar as the quadrant's training bars.

    The critics were trained on bars rounded at 0.5, at which the generator writes about
    twice as many notes per bar as EMOPIA for calm quadrants (Q4: 31 against 14 in the
    run of 2026-11-24). For each quadrant, ``n`` bars are sampled and one threshold for
    both channels is found by bisection so that their notes per bar
    (:func:`~scoringkit.generate.models.pianoroll.roll_statistics`) match the quadrant's
    training bars; it is never below 0.5 (no cell the critics' rounding would drop is
    added). The VAE's per-quadrant thresholds follow the same idea
    (:func:`scoringkit.generate.models.vae.calibrate`).

    Returns
    -------
    dict
        ``{"1": [t, t], ..., "4": [t, t]}`` for the quadrants with at least 32 training bars.
    """
    rng = np.random.default_rng([int(seed), 31])
    pick = rng.integers(0, len(train), min(len(train), 8192)) if len(train) else np.zeros(0, np.int64)
    real, real_q = train.arrays(pick)
    cfg = generator.config.roll_config
    out = {}
    for q in (1, 2, 3, 4):
        if (real_q == q).sum() < 32:
            continue
        target = roll_statistics(real[real_q == q], config=cfg)["notes_per_bar"]
        probs = _sample_bars(generator, np.full(n, q), seed=seed + 4 + q, device=device)
        lo, hi = 0.5, 0.95
        if roll_statistics(probs, config=cfg, threshold=lo)["notes_per_bar"] <= target:
            hi = lo
        for _ in range(16):
            if hi - lo < 1e-3:
                break
            mid = (lo + hi) / 2
            if roll_statistics(probs, config=cfg, threshold=mid)["notes_per_bar"] > target:
                lo = mid
            else:
                hi = mid
        out[str(q)] = [round(hi, 4), round(hi, 4)]
    return out


def _save_final(gen_ema, out, config, train, val_x, val_quadrants, val_stats, seed, dev, train_args, corpus, step,
                seconds, history, val=None):
    metrics = _final_metrics(gen_ema, train, val_quadrants, val_stats, seed, dev, config, val=val)
    meta = {"metrics": metrics, "threshold": metrics["threshold"], "train": train_args, "step": step,
            "quadrant_thresholds": calibrate(gen_ema, train, seed=seed, device=dev),
            "data": corpus.meta.get("source", ""), "licence": corpus.meta.get("licence", ""), "bars": len(train),
            "seconds": round(seconds, 1), "history": history[-1:] if history else []}
    return save_gan(gen_ema, out, meta=meta)


def _state_path(out) -> Path:
    from .vae import _state_path as vae_state_path

    return vae_state_path(out)


# -- checkpoints and generation ------------------------------------------------------------------------
def save_gan(generator: RollGenerator, path, *, meta: dict | None = None, overwrite: bool = True, dtype=None) -> Path:
    """Write the generator's weights (batch-norm statistics included) and config as safetensors.

    Weights are float32, or ``dtype`` (``torch.float16`` halves the file: how the shipped
    model is stored; :func:`load_gan` casts back to float32).
    """
    return _save_checkpoint(path, dict(generator.state_dict()), kind=KIND, version=VERSION,
                            config=generator.config.to_dict(), meta=meta, overwrite=overwrite, dtype=dtype)


def default_checkpoint() -> Path:
    """Path of the shipped checkpoint, ``scoringkit/assets/models/gan_emopia.safetensors``."""
    from .pianoroll import _asset_checkpoint

    return _asset_checkpoint(DEFAULT_CHECKPOINT)


class GANGenerator(LoadedRollModel):
    """A loaded generator with its checkpoint facts (see :class:`~.pianoroll.LoadedRollModel`);
    :meth:`generate` writes a cue."""

    def threshold_for(self, quadrant):
        """The generation threshold of a quadrant (:func:`calibrate`), else the critics' 0.5."""
        return self.quadrant_thresholds.get(int(quadrant), self.threshold)

    @torch.no_grad()
    def bars(self, z, quadrant) -> np.ndarray:
        """Cell probabilities ``(n, 2, 16, 72)`` of latents ``z`` ``(n, z_dim)`` under quadrant(s) 0-4."""
        z = torch.as_tensor(np.asarray(z, dtype=np.float32)).to(self.device)
        q = torch.as_tensor(np.asarray(quadrant, dtype=np.int64)).to(self.device)
        if q.ndim == 0:
            q = q.expand(len(z))
        return self.model(z, q).float().cpu().numpy()

    def generate(self, intent: MusicalIntent, *, duration: float = 20.0, seed: int = 0, rho: float = 0.8,
                 program=None, quadrant=None, pedal=PEDAL, draws: int = DRAWS, scale: bool = False) -> Score:
        """A cue of about ``duration`` seconds for ``intent`` (see the module docstring).

        ``pedal`` (beats per sustain-pedal change, default :data:`PEDAL`; None plays the
        roll's own, mostly one-sixteenth, note lengths) is passed to
        :func:`~scoringkit.generate.models.pianoroll.sustain_pedal`. ``draws`` latent walks
        are generated (one batch) and the one whose key estimate agrees best with the
        intent's mode is written (1: the first walk, as before 2026-11-24). Cells above the
        quadrant's threshold (:meth:`threshold_for`) become notes. With ``scale`` notes
        outside the scale of the cue's key are left out, all but an ``intent.tension``
        share (:func:`~scoringkit.generate.models.pianoroll.keep_to_scale`; off by default:
        it took tension from the tense cues, Q2, and variety from the pitch classes).
        """
        check_draws(draws)
        if not isinstance(intent, MusicalIntent):
            raise InputError(f"generate needs a MusicalIntent, not {type(intent).__name__}")
        if pedal is not None and (isinstance(pedal, bool) or not isinstance(pedal, (int, float))
                                  or not 0 < pedal <= 64):
            raise InputError(f"pedal must be None or a number of beats in (0, 64], got {pedal!r}")
        q = intent_quadrant(intent) if quadrant is None else int(quadrant)
        if q not in (1, 2, 3, 4):
            raise InputError(f"quadrant must be 1-4, got {quadrant!r}")
        n_bars = n_bars_for(duration, intent.tempo, self.roll_config)
        z = np.concatenate([latent_walk(n_bars, self.config.z_dim, rho=rho,
                                        rng=np.random.default_rng([int(seed), 17] + ([k] if k else [])))
                            for k in range(draws)])
        drafts = self.bars(z, q).reshape(draws, n_bars, 2, self.roll_config.steps_per_bar, self.roll_config.n_pitches)
        threshold = self.threshold_for(q)
        bars = drafts[mode_choice(drafts, intent.mode, config=self.roll_config, threshold=threshold)]
        return rolls_to_cue(bars, intent, config=self.roll_config, threshold=threshold,
                            program=program, seed=seed, pedal=pedal, scale=scale)


_LOADED: dict = {}
_LOCK = threading.Lock()


def load_gan(checkpoint=None, *, device: str = "cpu", cache: bool = True) -> GANGenerator:
    """Load a GAN checkpoint (default: the shipped one), cached per path and file time.

    Raises
    ------
    ModelError
        The file is missing (the message says how to train one), damaged, or written for
        another model or version.
    """
    from .pianoroll import _load_roll_model

    return _load_roll_model(checkpoint, default_path=default_checkpoint, kind=KIND, version=VERSION,
                            build=lambda config: RollGenerator(GANConfig.from_dict(config)), wrap=GANGenerator,
                            device=device, cache=cache, store=_LOADED, lock=_LOCK)

def generate(intent: MusicalIntent, duration: float = 20.0, seed: int = 0, *, checkpoint=None, **options) -> Score:
    """Compose a cue with the (shipped) GAN: what ``compose(intent, generator="gan")`` calls.

    ``options`` go to :meth:`GANGenerator.generate` (``rho``, ``program``, ``quadrant``, ``pedal``).
    """
    return load_gan(checkpoint).generate(intent, duration=duration, seed=seed, **options)


def evaluate(checkpoint=None, *, per_quadrant: int = 8, duration: float = 20.0, seed: int = 0) -> dict:
    """The model card's held-out figures of a GAN checkpoint (default: the shipped one).

    ``pipeline`` / ``plain``: :func:`~scoringkit.generate.models.pianoroll.emotion_accuracy`
    with the full intent or with only the quadrant; ``quality``:
    :func:`~scoringkit.generate.models.pianoroll.quality_comparison` of the plain cues against
    EMOPIA's test clips; ``validation``: the bar statistics stored at training time.
    """
    from .pianoroll import emotion_accuracy, plain_intent, quality_comparison

    gen = load_gan(checkpoint)
    out = {"validation": gen.meta.get("metrics", {}),
           "pipeline": emotion_accuracy(gen.generate, per_quadrant=per_quadrant, duration=duration, seed=seed),
           "plain": emotion_accuracy(gen.generate, per_quadrant=per_quadrant, duration=duration, seed=seed,
                                     plain=True)}
    cues = [gen.generate(plain_intent(q), duration=duration, seed=seed + k) for q in (1, 2, 3, 4)
            for k in range(per_quadrant)]
    out["quality"] = quality_comparison(cues)
    return out


def main(argv=None) -> int:
    """``python -m scoringkit.generate.models.gan``: train on EMOPIA (or ``--evaluate`` a checkpoint).

    The same options as ``scoringkit train gan`` (:mod:`scoringkit.generate.models.rollcli`).
    """
    from .rollcli import build_gan_parser, run_gan

    return run_gan(build_gan_parser().parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
