"""A conditional VAE over two-bar piano-roll segments (MusicVAE-style), with latent interpolation.

What it learns
--------------
Each training example is a segment of ``bars`` (2) consecutive bars of EMOPIA as a
two-channel piano roll (:mod:`~scoringkit.generate.models.pianoroll`: onsets and
sounding notes, 16 steps per bar, 72 pitches). The model is MusicVAE's recipe
(Roberts et al., ICML 2018) cut down to what two CPU cores can train in minutes::

    roll (2, 32, 72) ─8 frames of one beat: Linear(4·144 → 128)─> bidirectional GRU(128) ─last states─> μ, log σ²
    z ~ N(μ, σ²) (64), c = embedding(quadrant)  (16; index 0 = "no condition")
    [z, c] ─Linear─> h₀;  for each beat t: GRU(256)([z, c, position_t]) ─Linear─> 4·144 logits (onset, active × 72)

The recurrent layers run over *beats* (frames of 4 steps) rather than sixteenth-note
steps: four times fewer recurrent steps, which is what lets the model train in minutes
on two CPU cores (the GRU loop is the slow part there).

* **Encoder**: unconditional, so the latent code carries everything about the music,
  emotion included; that is what makes *attribute vectors* work (below).
* **Decoder**: conditioned on the quadrant embedding (a conditional VAE, Sohn et al.
  2015). It is *not* autoregressive: every step reads ``z``, the condition and its
  position, and outputs independent Bernoulli logits per cell. Without an autoregressive
  path the decoder cannot ignore ``z``, so the posterior does not collapse (the problem
  MusicVAE's hierarchical decoder addresses), and decoding a whole cue is one batched call.
  The condition is replaced by "none" for 10 % of the training segments, so the model
  also decodes unconditionally.
* **Loss**: the negative ELBO with β-annealing and free bits,
  ``BCE(x, x̂) + β_t · max(KL(q(z|x) ‖ N(0, I)) − free_nats, 0)`` per segment, where
  ``β_t`` rises linearly from 0 to ``beta`` (0.5) over the first third of training and
  the KL below ``free_nats`` (24 nats, about 0.4 per latent dimension) is free
  (Kingma et al. 2016; MusicVAE used β = 0.2 and 48 free bits).

After training, the encoder's posterior means of the training segments give each
quadrant's mean latent and spread (stored in the checkpoint as ``latent_mean`` /
``latent_std``, row 0 = all segments, rows 1-4 = Q1..Q4), and the decision threshold
that maximises the F1 of sounding cells on the validation split is stored too.

Generation, interpolation, attribute vectors
--------------------------------------------
* :func:`generate` (``compose(..., generator="vae")``): the quadrant is the intent's
  (:func:`~scoringkit.generate.models.pianoroll.intent_quadrant`); one latent per
  two-bar segment is drawn from that quadrant's latent distribution along a correlated
  walk (:func:`~scoringkit.generate.models.pianoroll.latent_walk`, ρ = 0.8, so the
  passage hangs together), decoded with the quadrant's condition; of :data:`DRAWS` (8)
  such walks, decoded in one batch, the one whose key estimate agrees best with the
  intent's mode is kept (:func:`~scoringkit.generate.models.pianoroll.mode_choice`: the
  latent space mixes major and minor passages in every quadrant, so a calm, positive intent
  in F major would otherwise often get a minor passage, moved to D minor), notes are kept
  to at most a bar (the decoder's sounding cells run on across bar lines, up to 9 s in a
  slow cue), and it is turned into a cue by
  :func:`~scoringkit.generate.models.pianoroll.rolls_to_cue`: the intent's tempo (the
  model's beats are EMOPIA's nominal 120 BPM grid, played at the intent's tempo), its key
  (the passage's estimated key is transposed onto the intent's, or onto its relative when
  the modes differ), its velocity with metrical accents and its dynamics curve; cells above
  the quadrant's generation threshold become notes, after one-step gaps, flecks and
  repeated onsets of a blurred attack are tidied
  (:func:`~scoringkit.generate.models.pianoroll.clean_roll`). The program
  is the **piano** (0) by default, not ``intent.instruments["melody"]``: the model writes
  EMOPIA's two-handed piano texture (chords and bass included), which a melody
  instrument such as a flute cannot play; pass ``program=`` to choose another.
* :func:`interpolate` ``(quadrant_a, quadrant_b, steps, seed)``: one noise draw ε, the
  endpoints ``z_a = mean_a + std_a·ε`` and ``z_b = mean_b + std_b·ε`` (the same "piece"
  in two emotions), linear (or spherical) interpolation of ``z`` and of the condition
  embedding between them; each step decodes to a two-bar Score. Calm (Q4) → tense (Q2) is
  the notebook's example.
* :func:`attribute_vector` ``(from, to)`` = mean latent of quadrant ``to`` minus that of
  ``from`` (the "attribute vector arithmetic" of MusicVAE §5.3); :meth:`VAEGenerator.shift`
  adds it to the latent codes of any score ("make this passage tenser").

Training (:func:`train_vae`, ``python -m scoringkit.generate.models.vae``) reports the
validation negative ELBO and reconstruction F1, checkpoints to safetensors (weights and
JSON metadata; a ``.state.safetensors`` file beside it holds the optimizer for
``resume=True``), picks CUDA when present, and stops at ``steps`` or ``max_minutes``.

Examples
--------
A tiny model on made-up data, one training step and a two-bar decode:

>>> import torch
>>> from scoringkit.generate.models.pianoroll import RollConfig
>>> cfg = VAEConfig(z_dim=8, enc_hidden=16, dec_hidden=16, cond_dim=4, pos_dim=4)
>>> model = RollVAE(cfg)
>>> x = (torch.rand(3, 2, 32, 72) > 0.95).float()
>>> logits, mu, logvar = model(x, torch.tensor([1, 2, 4]))
>>> logits.shape, mu.shape
(torch.Size([3, 2, 32, 72]), torch.Size([3, 8]))
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ...errors import InputError, ModelError
from ...types import MusicalIntent, Score
from .pianoroll import (LoadedRollModel, RollConfig, RollCorpus, RollDataset, _device, _load_checkpoint,
                        _optimizer_tensors, _progress_bar, _restore_optimizer, _save_checkpoint, intent_quadrant,
                        latent_walk, binarize, check_draws, mode_choice, n_bars_for, roll_to_score, rolls_to_cue,
                        score_to_roll)

__all__ = ["VAEConfig", "RollVAE", "vae_loss", "train_vae", "TrainResult", "VAEGenerator", "load_vae", "save_vae",
           "default_checkpoint", "generate", "interpolate", "attribute_vector", "calibrate", "evaluate",
           "interpolation_trend", "DEFAULT_CHECKPOINT"]

KIND = "vae"
VERSION = 1
#: File name of the shipped checkpoint inside ``scoringkit/assets/models``.
DEFAULT_CHECKPOINT = "vae_emopia.safetensors"
#: Latent walks drawn per cue by :meth:`VAEGenerator.generate`; the one whose key estimate agrees best with the
#: intent's mode is written (:func:`~scoringkit.generate.models.pianoroll.mode_choice`).
DRAWS = 8


@dataclass(frozen=True)
class VAEConfig:
    """Sizes of :class:`RollVAE`.

    Parameters
    ----------
    bars : int
        Bars per segment (2).
    z_dim : int
        Latent dimensions (64).
    enc_hidden : int
        Width of the input projection and of each direction of the encoder GRU (128).
    dec_hidden : int
        Decoder GRU width (256).
    cond_dim, pos_dim : int
        Sizes of the quadrant and the frame-position embeddings (16 each).
    frame : int
        Time steps per recurrent frame (4: one beat); must divide the segment's steps.
    roll : dict
        The :class:`~scoringkit.generate.models.pianoroll.RollConfig` as a dict.
    """

    bars: int = 2
    z_dim: int = 64
    enc_hidden: int = 128
    dec_hidden: int = 256
    cond_dim: int = 16
    pos_dim: int = 16
    frame: int = 4
    roll: dict = field(default_factory=lambda: RollConfig().to_dict())

    def __post_init__(self):
        for name in ("bars", "z_dim", "enc_hidden", "dec_hidden", "cond_dim", "pos_dim", "frame"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 4096:
                raise InputError(f"VAEConfig.{name} must be a positive integer, got {value!r}")
        steps = self.bars * RollConfig.from_dict(dict(self.roll)).steps_per_bar
        if steps % self.frame:
            raise InputError(f"VAEConfig.frame ({self.frame}) must divide the segment's {steps} steps")

    @property
    def roll_config(self) -> RollConfig:
        return RollConfig.from_dict(dict(self.roll))

    @property
    def steps(self) -> int:
        return self.bars * self.roll_config.steps_per_bar

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data) -> "VAEConfig":
        try:
            return cls(**data)
        except (TypeError, InputError, ModelError) as err:
            raise ModelError(f"invalid VAE config in the checkpoint ({err})") from None


class RollVAE(nn.Module):
    """The conditional VAE (see the module docstring for the architecture).

    ``forward(x, quadrant)`` returns ``(logits, mu, logvar)``: logits shaped like ``x``,
    ``(B, 2, bars · steps_per_bar, n_pitches)``; ``mu`` and ``logvar`` ``(B, z_dim)``.
    ``quadrant`` is a LongTensor of 0-4 (0 = no condition) or a ``(B, 5)`` float tensor
    of weights over those five embeddings (used to interpolate the condition).
    """

    def __init__(self, config: VAEConfig | None = None):
        super().__init__()
        config = config or VAEConfig()
        self.config = config
        rc = config.roll_config
        width = 2 * rc.n_pitches * config.frame
        self.enc_in = nn.Linear(width, config.enc_hidden)
        self.encoder = nn.GRU(config.enc_hidden, config.enc_hidden, batch_first=True, bidirectional=True)
        self.enc_out = nn.Linear(2 * config.enc_hidden, 2 * config.z_dim)
        self.cond = nn.Embedding(5, config.cond_dim)
        self.pos = nn.Embedding(config.steps // config.frame, config.pos_dim)
        self.dec_init = nn.Linear(config.z_dim + config.cond_dim, config.dec_hidden)
        self.decoder = nn.GRU(config.z_dim + config.cond_dim + config.pos_dim, config.dec_hidden, batch_first=True)
        self.dec_out = nn.Linear(config.dec_hidden, width)
        self.register_buffer("latent_mean", torch.zeros(5, config.z_dim))
        self.register_buffer("latent_std", torch.ones(5, config.z_dim))

    @property
    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def encode(self, x):
        """Posterior ``(mu, logvar)`` of rolls ``x`` ``(B, 2, T, P)``."""
        b, c, t, p = x.shape
        frames = t // self.config.frame
        h = F.gelu(self.enc_in(x.reshape(b, c, frames, self.config.frame, p).permute(0, 2, 1, 3, 4).reshape(b, frames, -1)))
        _, last = self.encoder(h)
        mu, logvar = self.enc_out(torch.cat([last[0], last[1]], dim=-1)).chunk(2, dim=-1)
        return mu, logvar.clamp(-10.0, 5.0)

    def condition(self, quadrant):
        """Condition vectors ``(B, cond_dim)`` from quadrant ids (0-4) or ``(B, 5)`` weights."""
        if quadrant.dtype in (torch.float16, torch.bfloat16, torch.float32, torch.float64):
            return quadrant.to(self.cond.weight.dtype) @ self.cond.weight
        return self.cond(quadrant)

    def decode(self, z, quadrant):
        """Logits ``(B, 2, T, P)`` of latents ``z`` ``(B, z_dim)`` under condition ``quadrant``."""
        b = z.shape[0]
        zc = torch.cat([z, self.condition(quadrant)], dim=-1)
        h0 = torch.tanh(self.dec_init(zc)).unsqueeze(0)
        frames = self.pos.weight.shape[0]
        inputs = torch.cat([zc.unsqueeze(1).expand(b, frames, zc.shape[-1]),
                            self.pos.weight.unsqueeze(0).expand(b, frames, self.pos.weight.shape[-1])], dim=-1)
        out, _ = self.decoder(inputs, h0.contiguous())
        p, f = self.config.roll_config.n_pitches, self.config.frame
        return self.dec_out(out).view(b, frames, 2, f, p).permute(0, 2, 1, 3, 4).reshape(b, 2, frames * f, p)

    def forward(self, x, quadrant, *, sample: bool = True):
        mu, logvar = self.encode(x)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if sample else mu
        return self.decode(z, quadrant), mu, logvar


def vae_loss(logits, x, mu, logvar, *, beta: float = 1.0, free_nats: float = 0.0) -> dict:
    """Negative ELBO terms per segment (batch means), in nats.

    Returns
    -------
    dict of tensors
        ``rec`` (Bernoulli negative log-likelihood summed over cells), ``kl`` (KL to the
        standard normal), ``loss = rec + beta · max(kl − free_nats, 0)`` (per segment,
        then averaged) and ``nelbo = rec + kl``.
    """
    rec = F.binary_cross_entropy_with_logits(logits.float(), x.float(), reduction="none").flatten(1).sum(1)
    kl = 0.5 * (mu.float() ** 2 + logvar.float().exp() - 1.0 - logvar.float()).sum(1)
    loss = rec + beta * torch.clamp(kl - free_nats, min=0.0)
    return {"loss": loss.mean(), "rec": rec.mean(), "kl": kl.mean(), "nelbo": (rec + kl).mean()}


def _f1(pred, true) -> float:
    tp = float((pred & true).sum())
    denom = float(pred.sum() + true.sum())
    return 2 * tp / denom if denom else 1.0


@torch.no_grad()
def _evaluate(model: RollVAE, x, q, *, device, batch: int = 256, thresholds=(0.5,)) -> dict:
    """Negative ELBO, reconstruction NLL, KL, and F1 / accuracy of posterior-mean reconstructions.

    Each channel gets the threshold of ``thresholds`` that maximises its F1
    (``threshold`` = ``[onset, active]``).
    """
    model.eval()
    sums = {"rec": 0.0, "kl": 0.0, "nelbo": 0.0}
    probs = []
    gen = torch.Generator(device="cpu").manual_seed(1234)
    for i in range(0, len(x), batch):
        xb = torch.as_tensor(x[i:i + batch], dtype=torch.float32).to(device)
        qb = torch.as_tensor(q[i:i + batch]).to(device)
        mu, logvar = model.encode(xb)
        eps = torch.randn(mu.shape, generator=gen).to(device)
        terms = vae_loss(model.decode(mu + eps * torch.exp(0.5 * logvar), qb), xb, mu, logvar)
        for k in sums:
            sums[k] += float(terms[k]) * len(xb)
        probs.append(torch.sigmoid(model.decode(mu, qb)).cpu().numpy())
    model.train()
    probs = np.concatenate(probs)
    truth = np.asarray(x) > 0.5
    out = {k: v / len(x) for k, v in sums.items()}
    onset = max((_f1(probs[:, 0] > th, truth[:, 0]), th) for th in thresholds)
    active = max((_f1((probs[:, 1] > th) | (probs[:, 0] > onset[1]), truth[:, 1] | truth[:, 0]), th) for th in thresholds)
    out["onset_f1"], out["active_f1"] = onset[0], active[0]
    out["threshold"] = [float(onset[1]), float(active[1])]
    pred = binarize(probs, out["threshold"])
    out["cell_accuracy"] = float((pred == (truth | np.stack([truth[:, 0], truth[:, 0]], 1))).mean())
    return out


@torch.no_grad()
def calibrate(model: RollVAE, train: RollDataset, val: RollDataset | None = None, *, seed: int = 0, device="cpu",
              n: int = 1024) -> dict:
    """Generation thresholds by density matching, and how sampled segments compare with the data.

    Samples ``n`` latents from the quadrants' latent distributions (quadrants drawn as in
    ``train``), decodes them, and sets each channel's threshold so that the samples have
    the training data's share of onset and sounding cells
    (:func:`~scoringkit.generate.models.pianoroll.density_thresholds`). The F1-best
    thresholds of reconstructions are far lower for onsets (the decoder is unsure *when* a
    performed note starts) and would fill generated music with re-struck notes.

    Returns
    -------
    dict
        ``threshold`` ``[onset, active]``, ``quadrant_thresholds`` (the same matched per
        quadrant: Q2 bars are denser than Q4 bars in EMOPIA, and so should generated ones be,
        rather than every quadrant getting the average density); with ``val``, ``stat_distance`` between
        :func:`roll_statistics` of the samples and of the validation segments, and both
        statistics (``generated``, ``validation``).
    """
    from .pianoroll import density_thresholds, roll_statistics, statistics_distance

    rng = np.random.default_rng([int(seed), 5])
    quadrants = rng.choice(train.quadrants[train.quadrants > 0], size=n) if (train.quadrants > 0).any() \
        else np.zeros(n, np.int64)
    eps = rng.standard_normal((n, model.config.z_dim)).astype(np.float32)
    mean, std = model.latent_mean.cpu().numpy(), model.latent_std.cpu().numpy()
    z = torch.as_tensor(mean[quadrants] + std[quadrants] * eps).to(device)
    was_training = model.training
    model.eval()
    probs = np.concatenate([torch.sigmoid(model.decode(z[i:i + 256], torch.as_tensor(quadrants[i:i + 256]).to(device)))
                            .cpu().numpy() for i in range(0, n, 256)])
    model.train(was_training)
    pick = rng.integers(0, len(train), min(len(train), 4096))
    real, real_q = train.arrays(pick)
    out = {"threshold": density_thresholds(probs, real), "quadrant_thresholds": {}}
    for q in (1, 2, 3, 4):
        if (quadrants == q).sum() >= 32 and (real_q == q).sum() >= 32:
            out["quadrant_thresholds"][str(q)] = density_thresholds(probs[quadrants == q], real[real_q == q])
    if val is not None and len(val):
        cfg = model.config.roll_config
        gen = roll_statistics(_segments_to_bars(probs, cfg), config=cfg, threshold=out["threshold"])
        ref = roll_statistics(_segments_to_bars(val.arrays()[0], cfg), config=cfg)
        out["stat_distance"] = round(statistics_distance(gen, ref), 4)
        out["generated"] = {k: round(v, 4) for k, v in gen.items()}
        out["validation"] = {k: round(v, 4) for k, v in ref.items()}
    return out


def _segments_to_bars(segs, cfg: RollConfig):
    n, c, t, p = segs.shape
    s = cfg.steps_per_bar
    return segs.reshape(n, c, t // s, s, p).transpose(0, 2, 1, 3, 4).reshape(-1, c, s, p)


@dataclass
class TrainResult:
    """What :func:`train_vae` / :func:`~scoringkit.generate.models.gan.train_gan` return.

    ``model`` (in eval mode, on the CPU), ``history`` (one dict per validation: step,
    seconds, training and validation figures), ``metrics`` (final validation figures),
    ``path`` (the checkpoint written, or None) and ``steps`` (optimizer steps done).
    """

    model: object
    history: list
    metrics: dict
    path: Path | None
    steps: int


def _state_path(out) -> Path:
    out = Path(out)
    return out.with_name(out.name[:-len(".safetensors")] + ".state.safetensors") if out.name.endswith(
        ".safetensors") else out.with_name(out.name + ".state.safetensors")


@torch.no_grad()
def _latent_statistics(model: RollVAE, x, q, *, device, batch: int = 512) -> None:
    """Fill ``latent_mean`` / ``latent_std`` (row 0 all, rows 1-4 per quadrant) from posterior means."""
    model.eval()
    mus, variances = [], []
    for i in range(0, len(x), batch):
        mu, logvar = model.encode(torch.as_tensor(x[i:i + batch], dtype=torch.float32).to(device))
        mus.append(mu.cpu())
        variances.append(logvar.exp().cpu())
    mu, var = torch.cat(mus), torch.cat(variances)
    q = torch.as_tensor(q)
    for row in range(5):
        pick = torch.ones_like(q, dtype=torch.bool) if row == 0 else q == row
        if int(pick.sum()) >= 2:
            m = mu[pick]
            model.latent_mean[row] = m.mean(0).to(model.latent_mean.device)
            model.latent_std[row] = torch.sqrt(m.var(0) + var[pick].mean(0)).to(model.latent_std.device)
        elif row:
            model.latent_mean[row] = model.latent_mean[0]
            model.latent_std[row] = model.latent_std[0]
    model.train()


def train_vae(corpus: RollCorpus | None = None, *, out=None, steps: int = 3000, batch_size: int = 64,
              lr: float = 1e-3, beta: float = 0.5, free_nats: float = 24.0, anneal_steps=None,
              cond_dropout: float = 0.1, config: VAEConfig | None = None, seed: int = 0, device="auto",
              amp=None, max_minutes=None, val_every: int = 250, val_size: int = 512, resume: bool = False,
              augment: bool = True, threads=None, progress: bool = True, log=None) -> TrainResult:
    """Train a :class:`RollVAE` on the ``"train"`` split of a roll corpus; validate on ``"val"``.

    Parameters
    ----------
    corpus : RollCorpus, optional
        Default: EMOPIA (:func:`~scoringkit.generate.models.pianoroll.load_emopia_rolls`).
        A corpus without a ``"val"`` split is validated on its training segments.
    out : str or Path, optional
        Checkpoint to write (weights + metadata, safetensors) at each validation and at
        the end; the optimizer state goes to ``<out>.state.safetensors`` for ``resume``.
    steps : int
        Optimizer steps in all (a resumed run continues up to this number).
    batch_size, lr : int, float
        Adam with gradient clipping at norm 1.
    beta, free_nats, anneal_steps : float, float, int
        KL weight after annealing, free nats, annealing length (default ``steps // 3``).
    cond_dropout : float
        Fraction of segments trained without a condition.
    config : VAEConfig, optional
    seed : int
        Seeds weights, batches and augmentation: the same seed gives the same model.
    device : str
        ``"auto"`` (CUDA if available), ``"cpu"``, ``"cuda"``.
    amp : bool, optional
        bfloat16 autocast (default: on for CUDA).
    max_minutes : float, optional
        Stop after this much wall time (the final validation and save still run).
    val_every, val_size : int
        Validate every ``val_every`` steps on ``val_size`` fixed validation segments.
    resume : bool
        Continue from ``<out>.state.safetensors`` if it exists.
    augment : bool
        Transposition augmentation (-5..+5 semitones).
    threads : int, optional
        CPU threads for torch (``torch.set_num_threads``); 1 is fastest on a busy 2-core machine.
    progress : bool
        Show a progress bar.
    log : callable, optional
        Called with one line of text per validation (e.g. ``print``).

    Returns
    -------
    TrainResult
        ``metrics`` has the full validation split's ``nelbo`` (nats per segment), ``rec``,
        ``kl``, and ``onset_f1``, ``active_f1``, ``cell_accuracy`` of posterior-mean
        reconstructions at the F1-best ``recon_threshold``; and from :func:`calibrate`
        the generation ``threshold`` and ``stat_distance`` of sampled segments.
    """
    config = config or VAEConfig()
    if corpus is None:
        from .pianoroll import load_emopia_rolls

        corpus = load_emopia_rolls(config=config.roll_config)
    if corpus.config != config.roll_config:
        raise InputError(f"the corpus grid {corpus.config} differs from the model's {config.roll_config}")
    for name, value in (("steps", steps), ("batch_size", batch_size), ("val_every", val_every)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InputError(f"{name} must be a positive integer, got {value!r}")
    dev = _device(device)
    if threads is not None:
        torch.set_num_threads(int(threads))
    use_amp = (dev.type == "cuda") if amp is None else bool(amp)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    train = RollDataset(corpus, split="train", bars=config.bars, augment=augment, seed=seed)
    if not len(train):
        raise InputError("the corpus has no training segments with notes (split 'train')")
    has_val = "val" in set(corpus.splits.tolist())
    val = RollDataset(corpus, split="val" if has_val else "train", bars=config.bars)
    pick = np.random.default_rng(seed + 1).permutation(len(val))[:val_size]
    val_x, val_q = val.arrays(np.sort(pick))
    model = RollVAE(config).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    anneal = max(1, steps // 3 if anneal_steps is None else int(anneal_steps))
    step, history, start_seconds = 0, [], 0.0
    state_file = _state_path(out) if out is not None else None
    if resume and state_file is not None and state_file.is_file():
        tensors, cfg, meta = _load_checkpoint(state_file, kind=KIND + "-state", version=VERSION)
        if VAEConfig.from_dict(cfg) != config:
            raise ModelError(f"{str(state_file)!r} was trained with another config; pass the same config or "
                             "start without resume")
        model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
        _restore_optimizer(opt, {k: v.to(dev) for k, v in tensors.items()}, meta["param_groups"])
        torch.set_rng_state(tensors["torch_rng"])
        rng.bit_generator.state = meta["numpy_rng"]
        step, history, start_seconds = int(meta["step"]), list(meta["history"]), float(meta["seconds"])
    train_args = {"steps": steps, "batch_size": batch_size, "lr": lr, "beta": beta, "free_nats": free_nats,
                  "anneal_steps": anneal, "cond_dropout": cond_dropout, "seed": seed, "augment": augment}

    def save(final_metrics):
        if out is None:
            return None
        meta = {"metrics": final_metrics, "train": train_args, "step": step, "data": corpus.meta.get("source", ""),
                "licence": corpus.meta.get("licence", ""), "segments": len(train),
                "threshold": final_metrics.get("threshold", 0.5),
                "quadrant_thresholds": final_metrics.get("quadrant_thresholds", {}), "seconds": round(clock(), 1)}
        path = save_vae(model, out, meta=meta)
        opt_tensors, groups = _optimizer_tensors(opt)
        tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
        tensors.update(opt_tensors)
        tensors["torch_rng"] = torch.get_rng_state()
        _save_checkpoint(state_file, tensors, kind=KIND + "-state", version=VERSION, config=config.to_dict(),
                         meta={"step": step, "history": history, "seconds": clock(),
                               "numpy_rng": rng.bit_generator.state, "param_groups": groups})
        return path

    began = time.perf_counter()

    def clock():
        return start_seconds + time.perf_counter() - began

    bar = _progress_bar(steps, desc="VAE", enabled=progress, initial=step)
    model.train()
    running = []
    path = None
    while step < steps:
        if max_minutes is not None and clock() > 60 * float(max_minutes):
            break
        x, q = train.batch(batch_size, rng)
        if cond_dropout > 0:
            q = torch.where(torch.from_numpy(rng.random(len(q)) < cond_dropout), torch.zeros_like(q), q)
        x, q = x.to(dev), q.to(dev)
        b = beta * min(1.0, step / anneal)
        with torch.autocast(device_type=dev.type, dtype=torch.bfloat16, enabled=use_amp):
            logits, mu, logvar = model(x, q)
        terms = vae_loss(logits, x, mu, logvar, beta=b, free_nats=free_nats)
        opt.zero_grad(set_to_none=True)
        terms["loss"].backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        running.append([float(terms["loss"].detach()), float(terms["rec"].detach()), float(terms["kl"].detach())])
        bar.update(1)
        if step % val_every == 0 or step == steps:
            v = _evaluate(model, val_x, val_q, device=dev, thresholds=(0.1, 0.2, 0.3, 0.5))
            mean = np.mean(running, axis=0)
            running = []
            row = {"step": step, "seconds": round(clock(), 1), "beta": round(b, 4), "train_loss": round(float(mean[0]), 3),
                   "train_rec": round(float(mean[1]), 3), "train_kl": round(float(mean[2]), 3),
                   **{f"val_{k}": round(float(val_), 4) for k, val_ in v.items() if k != "threshold"}}
            history.append(row)
            bar.set_postfix(nelbo=f"{v['nelbo']:.1f}", f1=f"{v['active_f1']:.3f}")
            if log:
                log(f"step {step}: train loss {row['train_loss']:.1f} (rec {row['train_rec']:.1f}, kl "
                    f"{row['train_kl']:.1f}, beta {b:.2f}); val -ELBO {v['nelbo']:.1f}, onset F1 {v['onset_f1']:.3f}, "
                    f"active F1 {v['active_f1']:.3f}")
            if out is not None and step < steps:
                path = save(v)
    bar.close()
    all_x, all_q = train.arrays()
    _latent_statistics(model, all_x, all_q, device=dev)
    full_x, full_q = val.arrays()
    metrics = _evaluate(model, full_x, full_q, device=dev, thresholds=tuple(np.round(np.arange(0.05, 0.61, 0.05), 2)))
    metrics = {k: (v if k == "threshold" else round(float(v), 4)) for k, v in metrics.items()}
    metrics["recon_threshold"] = metrics.pop("threshold")
    metrics.update(calibrate(model, train, val, seed=seed, device=dev))
    metrics["split"] = "val" if has_val else "train"
    metrics["segments"] = len(full_x)
    path = save(metrics) if out is not None else None
    model = model.cpu().eval()
    model.threshold = metrics["threshold"]
    return TrainResult(model, history, metrics, path, step)


# -- checkpoints ---------------------------------------------------------------------------------------
def save_vae(model: RollVAE, path, *, meta: dict | None = None, overwrite: bool = True, dtype=None) -> Path:
    """Write a model's weights and config as safetensors with JSON metadata.

    Weights are float32, or ``dtype`` (``torch.float16`` halves the file: how the shipped
    model is stored; :func:`load_vae` casts back to float32).
    """
    return _save_checkpoint(path, dict(model.state_dict()), kind=KIND, version=VERSION,
                            config=model.config.to_dict(), meta=meta, overwrite=overwrite, dtype=dtype)


def default_checkpoint() -> Path:
    """Path of the shipped checkpoint, ``scoringkit/assets/models/vae_emopia.safetensors``."""
    from .pianoroll import _asset_checkpoint

    return _asset_checkpoint(DEFAULT_CHECKPOINT)


class VAEGenerator(LoadedRollModel):
    """A loaded VAE with its checkpoint facts: :meth:`generate`, :meth:`interpolate`, :meth:`shift`.

    Parameters
    ----------
    model : RollVAE
    meta : dict, optional
        The checkpoint's metadata (``threshold``, ``metrics``, ...).
    """

    def threshold_for(self, quadrant, weight_b: float = 0.0, quadrant_b=None):
        """The generation threshold of a quadrant (blended toward ``quadrant_b`` by ``weight_b``)."""
        a = np.broadcast_to(np.asarray(self.quadrant_thresholds.get(quadrant, self.threshold), float), (2,))
        if quadrant_b is None or weight_b == 0:
            return a.tolist()
        b = np.broadcast_to(np.asarray(self.quadrant_thresholds.get(quadrant_b, self.threshold), float), (2,))
        return ((1 - weight_b) * a + weight_b * b).tolist()

    @torch.no_grad()
    def decode(self, z, quadrant) -> np.ndarray:
        """Cell probabilities ``(n, 2, T, P)`` of latents ``z`` ``(n, z_dim)``; ``quadrant``: ints 0-4 or ``(n, 5)`` weights."""
        z = torch.as_tensor(np.asarray(z, dtype=np.float32)).to(self.device)
        q = torch.as_tensor(np.asarray(quadrant)).to(self.device)
        if q.ndim == 0:
            q = q.expand(len(z))
        return torch.sigmoid(self.model.decode(z, q)).cpu().numpy()

    @torch.no_grad()
    def encode(self, score_or_roll) -> np.ndarray:
        """Posterior means ``(n_segments, z_dim)`` of a Score (or a roll ``(n_bars, 2, S, P)``), segment by segment."""
        roll = score_to_roll(score_or_roll, config=self.roll_config) if isinstance(score_or_roll, Score) \
            else np.asarray(score_or_roll)
        bars = self.config.bars
        n = math.ceil(len(roll) / bars) * bars
        if n > len(roll):
            roll = np.concatenate([roll, np.zeros((n - len(roll),) + roll.shape[1:], roll.dtype)])
        segs = roll.reshape(n // bars, bars, *roll.shape[1:]).transpose(0, 2, 1, 3, 4)
        segs = segs.reshape(len(segs), 2, bars * self.roll_config.steps_per_bar, self.roll_config.n_pitches)
        mu, _ = self.model.encode(torch.as_tensor(segs, dtype=torch.float32).to(self.device))
        return mu.cpu().numpy()

    def _bars(self, probs) -> np.ndarray:
        """Segments ``(n, 2, T, P)`` → bars ``(n · bars, 2, S, P)``."""
        n, c, t, p = probs.shape
        s = self.roll_config.steps_per_bar
        return probs.reshape(n, c, t // s, s, p).transpose(0, 2, 1, 3, 4).reshape(-1, c, s, p)

    def latents(self, quadrant: int, n: int, *, seed: int = 0, temperature: float = 1.0, rho: float = 0.8,
                draw: int = 0):
        """``n`` latents from quadrant ``quadrant``'s latent distribution, along a correlated walk.

        ``draw`` > 0 gives another walk of the same seed (the drafts of :meth:`generate`).
        """
        entropy = [int(seed), 11] + ([int(draw)] if draw else [])
        eps = latent_walk(n, self.config.z_dim, rho=rho, rng=np.random.default_rng(entropy))
        mean = self.model.latent_mean[quadrant].cpu().numpy()
        std = self.model.latent_std[quadrant].cpu().numpy()
        return mean + float(temperature) * std * eps

    def generate(self, intent: MusicalIntent, *, duration: float = 20.0, seed: int = 0, temperature: float = 1.0,
                 rho: float = 0.8, program=None, quadrant=None, draws: int = DRAWS, longest="bar") -> Score:
        """A cue of about ``duration`` seconds for ``intent`` (see the module docstring).

        ``draws`` latent walks are decoded (one batch) and the one whose key estimate agrees
        best with the intent's mode is written (1: the first walk, as before 2026-11-24);
        ``longest`` (beats; ``"bar"``, the default, is one bar; None keeps the roll's own
        lengths) shortens the notes the decoder holds for longer
        (:func:`~scoringkit.generate.models.pianoroll.limit_lengths`).
        """
        if not isinstance(intent, MusicalIntent):
            raise InputError(f"generate needs a MusicalIntent, not {type(intent).__name__}")
        if not (isinstance(temperature, (int, float)) and 0 <= temperature <= 5):
            raise InputError(f"temperature must be a number in [0, 5], got {temperature!r}")
        check_draws(draws)
        if longest == "bar":
            longest = float(self.roll_config.beats_per_bar)
        if longest is not None and (isinstance(longest, bool) or not isinstance(longest, (int, float))
                                    or not 0 < longest <= 64):
            raise InputError(f"longest must be None, 'bar' or a number of beats in (0, 64], got {longest!r}")
        q = intent_quadrant(intent) if quadrant is None else int(quadrant)
        if q not in (1, 2, 3, 4):
            raise InputError(f"quadrant must be 1-4, got {quadrant!r}")
        n_bars = n_bars_for(duration, intent.tempo, self.roll_config)
        n_seg = math.ceil(n_bars / self.config.bars)
        z = np.concatenate([self.latents(q, n_seg, seed=seed, temperature=temperature, rho=rho, draw=k)
                            for k in range(draws)])
        drafts = self._bars(self.decode(z, q)).reshape(draws, n_seg * self.config.bars, 2,
                                                       self.roll_config.steps_per_bar, self.roll_config.n_pitches)
        drafts = drafts[:, :n_bars]
        threshold = self.threshold_for(q)
        bars = drafts[mode_choice(drafts, intent.mode, config=self.roll_config, threshold=threshold)]
        return rolls_to_cue(bars, intent, config=self.roll_config, threshold=threshold, program=program,
                            seed=seed, clean=True, longest=longest)

    def interpolate_rolls(self, quadrant_a: int, quadrant_b: int, steps: int = 8, *, seed: int = 0,
                          method: str = "lerp", temperature: float = 1.0) -> np.ndarray:
        """Probabilities ``(steps, 2, T, P)`` decoded along the latent path from quadrant a to b."""
        for q in (quadrant_a, quadrant_b):
            if q not in (1, 2, 3, 4):
                raise InputError(f"quadrants are 1-4, got {q!r}")
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 2:
            raise InputError(f"steps must be an integer >= 2, got {steps!r}")
        if method not in ("lerp", "slerp"):
            raise InputError(f"unknown interpolation method {method!r}; choose 'lerp' or 'slerp'")
        eps = np.random.default_rng([int(seed), 13]).standard_normal(self.config.z_dim)
        mean, std = self.model.latent_mean.cpu().numpy(), self.model.latent_std.cpu().numpy()
        za = mean[quadrant_a] + temperature * std[quadrant_a] * eps
        zb = mean[quadrant_b] + temperature * std[quadrant_b] * eps
        alpha = np.linspace(0.0, 1.0, steps)
        if method == "slerp":
            cos = float(np.dot(za, zb) / (np.linalg.norm(za) * np.linalg.norm(zb) + 1e-12))
            omega = math.acos(max(-1.0, min(1.0, cos)))
            if omega < 1e-6:
                z = (1 - alpha)[:, None] * za + alpha[:, None] * zb
            else:
                z = (np.sin((1 - alpha) * omega)[:, None] * za + np.sin(alpha * omega)[:, None] * zb) / math.sin(omega)
        else:
            z = (1 - alpha)[:, None] * za + alpha[:, None] * zb
        weights = np.zeros((steps, 5), np.float32)
        weights[:, quadrant_a] += 1 - alpha
        weights[:, quadrant_b] += alpha
        return self.decode(z.astype(np.float32), weights)

    def interpolate(self, quadrant_a: int, quadrant_b: int, steps: int = 8, *, seed: int = 0, method: str = "lerp",
                    tempo: float = 120.0, key=None, velocity: int = 80, program: int = 0) -> list:
        """One two-bar Score per interpolation step, from quadrant a to b (see :meth:`interpolate_rolls`).

        The scores share ``tempo``, ``velocity`` and ``program``, so only the notes change
        along the path; with ``key`` each step is transposed into it (:func:`fit_key`).
        """
        from .pianoroll import fit_key, roll_key, transpose_rolls

        out = []
        path = self.interpolate_rolls(quadrant_a, quadrant_b, steps, seed=seed, method=method)
        for alpha, probs in zip(np.linspace(0.0, 1.0, steps), path):
            threshold = self.threshold_for(quadrant_a, alpha, quadrant_b)
            on = binarize(probs, threshold)
            if key is not None:
                shift, name = fit_key(on, key, config=self.roll_config)
                probs = transpose_rolls(probs[None], [shift])[0]
            else:
                name = roll_key(on, config=self.roll_config)
            out.append(roll_to_score(probs, config=self.roll_config, threshold=threshold, tempo=tempo, key=name,
                                     program=program, velocity=velocity, clean=True))
        return out

    def attribute_vector(self, from_quadrant: int, to_quadrant: int) -> np.ndarray:
        """Mean latent of ``to_quadrant`` minus that of ``from_quadrant`` (``(z_dim,)``)."""
        for q in (from_quadrant, to_quadrant):
            if q not in (1, 2, 3, 4):
                raise InputError(f"quadrants are 1-4, got {q!r}")
        mean = self.model.latent_mean.cpu().numpy()
        return (mean[to_quadrant] - mean[from_quadrant]).astype(np.float32)

    def shift(self, score: Score, to_quadrant: int, *, from_quadrant=None, amount: float = 1.0) -> Score:
        """Re-decode ``score`` with ``amount`` × the attribute vector toward ``to_quadrant`` added to its latents.

        ``from_quadrant`` defaults to the quadrant whose mean latent lies nearest the
        score's mean latent. Tempo, key and velocity (80) of the result are plain: it is
        for comparing notes before and after.
        """
        z = self.encode(score)
        if from_quadrant is None:
            mean = self.model.latent_mean.cpu().numpy()
            from_quadrant = 1 + int(np.argmin(((mean[1:] - z.mean(0)) ** 2).sum(1)))
        z = z + float(amount) * self.attribute_vector(from_quadrant, to_quadrant)
        probs = self._bars(self.decode(z, to_quadrant))
        return roll_to_score(probs, config=self.roll_config, threshold=self.threshold_for(to_quadrant), tempo=score.tempo,
                             key=score.key, clean=True)


_LOADED: dict = {}
_LOCK = threading.Lock()


def load_vae(checkpoint=None, *, device: str = "cpu") -> VAEGenerator:
    """Load a VAE checkpoint (default: the shipped one), cached per path and file time.

    Raises
    ------
    ModelError
        The file is missing (the message says how to train one), damaged, or written for
        another model or version.
    """
    from .pianoroll import _load_roll_model

    return _load_roll_model(checkpoint, default_path=default_checkpoint, kind=KIND, version=VERSION,
                            build=lambda config: RollVAE(VAEConfig.from_dict(config)), wrap=VAEGenerator,
                            device=device, cache=True, store=_LOADED, lock=_LOCK)

def generate(intent: MusicalIntent, duration: float = 20.0, seed: int = 0, *, checkpoint=None, **options) -> Score:
    """Compose a cue with the (shipped) VAE: what ``compose(intent, generator="vae")`` calls.

    ``options`` go to :meth:`VAEGenerator.generate` (``temperature``, ``rho``, ``program``, ``quadrant``).
    """
    return load_vae(checkpoint).generate(intent, duration=duration, seed=seed, **options)


def interpolate(quadrant_a: int = 4, quadrant_b: int = 2, steps: int = 8, seed: int = 0, *, checkpoint=None,
                **options) -> list:
    """Two-bar Scores along the latent path from ``quadrant_a`` to ``quadrant_b`` (default calm Q4 → tense Q2)."""
    return load_vae(checkpoint).interpolate(quadrant_a, quadrant_b, steps, seed=seed, **options)


def attribute_vector(from_quadrant: int, to_quadrant: int, *, checkpoint=None) -> np.ndarray:
    """Mean latent of ``to_quadrant`` minus mean latent of ``from_quadrant`` of the (shipped) VAE."""
    return load_vae(checkpoint).attribute_vector(from_quadrant, to_quadrant)


def interpolation_trend(generator: VAEGenerator, quadrant_a: int = 4, quadrant_b: int = 2, *, steps: int = 8,
                        seeds=range(8)) -> dict:
    """How :func:`scoringkit.music_emotion` moves along interpolations from ``quadrant_a`` to ``quadrant_b``.

    Returns the mean valence and arousal at each step over ``seeds``, and the Spearman
    rank correlation of each with the step index (±1: monotonic on average).
    """
    from ...fuse import music_emotion

    valence = np.zeros((len(list(seeds)), steps))
    arousal = np.zeros_like(valence)
    for i, seed in enumerate(seeds):
        for j, score in enumerate(generator.interpolate(quadrant_a, quadrant_b, steps, seed=seed)):
            if score.n_notes:
                e = music_emotion(score)
                valence[i, j], arousal[i, j] = e.valence, e.arousal

    def spearman(y):
        ranks = np.argsort(np.argsort(y))
        return float(np.corrcoef(np.arange(len(y)), ranks)[0, 1]) if np.ptp(y) > 0 else 0.0

    v, a = valence.mean(0), arousal.mean(0)
    return {"from": quadrant_a, "to": quadrant_b, "steps": steps, "seeds": len(valence),
            "valence": [round(float(x), 3) for x in v], "arousal": [round(float(x), 3) for x in a],
            "valence_spearman": round(spearman(v), 3), "arousal_spearman": round(spearman(a), 3)}


def evaluate(checkpoint=None, *, per_quadrant: int = 8, duration: float = 20.0, seed: int = 0) -> dict:
    """The model card's held-out figures of a VAE checkpoint (default: the shipped one).

    * ``pipeline`` / ``plain``: :func:`~scoringkit.generate.models.pianoroll.emotion_accuracy`
      of ``per_quadrant`` cues per quadrant, with the full intent or with only the quadrant;
    * ``interpolation``: :func:`interpolation_trend` calm (Q4) → tense (Q2);
    * ``quality``: :func:`~scoringkit.generate.models.pianoroll.quality_comparison` of the
      plain cues against EMOPIA's test clips;
    * ``validation``: the reconstruction figures stored at training time.
    """
    from .pianoroll import emotion_accuracy, plain_intent, quality_comparison

    gen = load_vae(checkpoint)
    out = {"validation": gen.meta.get("metrics", {}),
           "pipeline": emotion_accuracy(gen.generate, per_quadrant=per_quadrant, duration=duration, seed=seed),
           "plain": emotion_accuracy(gen.generate, per_quadrant=per_quadrant, duration=duration, seed=seed,
                                     plain=True),
           "interpolation": interpolation_trend(gen)}
    cues = [gen.generate(plain_intent(q), duration=duration, seed=seed + k) for q in (1, 2, 3, 4)
            for k in range(per_quadrant)]
    out["quality"] = quality_comparison(cues)
    return out


def main(argv=None) -> int:
    """``python -m scoringkit.generate.models.vae``: train on EMOPIA (or ``--evaluate`` a checkpoint).

    The same options as ``scoringkit train vae`` (:mod:`scoringkit.generate.models.rollcli`).
    """
    from .rollcli import build_vae_parser, run_vae

    return run_vae(build_vae_parser().parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
