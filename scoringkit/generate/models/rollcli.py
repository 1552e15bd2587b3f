"""Command lines of the piano-roll VAE and GAN (torch is imported only when one runs).

::

    scoringkit train vae --out my_vae.safetensors [--steps 3000] [--max-minutes 9] [--resume] ...
    scoringkit train gan --out my_gan.safetensors [--steps 4000] [--width 8] ...
    scoringkit train vae --evaluate [CHECKPOINT]      # the model card's figures (default: the shipped model)
    python -m scoringkit.generate.models.vae ...        # the same as `scoringkit train vae ...`
    python -m scoringkit.generate.models.gan ...

Both train on EMOPIA's training split (``$SCORINGKIT_DATA`` or ``../shared/data``) and
validate on its validation split; see :func:`scoringkit.generate.models.vae.train_vae` and
:func:`scoringkit.generate.models.gan.train_gan` for what each option does.

Examples
--------
>>> args = build_vae_parser().parse_args(["--out", "v.safetensors", "--steps", "10"])
>>> args.steps, args.beta, args.resume
(10, 0.5, False)
"""

from __future__ import annotations

import argparse
import json

__all__ = ["build_vae_parser", "build_gan_parser", "run_vae", "run_gan"]


def _common(parser: argparse.ArgumentParser, *, steps: int) -> None:
    parser.add_argument("--out", help="checkpoint to write (.safetensors); the optimizer state goes beside it "
                                      "as <name>.state.safetensors")
    parser.add_argument("--evaluate", metavar="CHECKPOINT", nargs="?", const="shipped",
                        help="instead of training, print the model card's figures of a checkpoint as JSON "
                             "(default: the shipped one)")
    parser.add_argument("--steps", type=int, default=steps, help=f"optimizer steps in all (default {steps})")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto", help="auto (CUDA when available), cpu or cuda")
    parser.add_argument("--max-minutes", type=float, default=None, help="stop after this much wall time")
    parser.add_argument("--val-every", type=int, default=250, help="validate (and checkpoint) every N steps")
    parser.add_argument("--resume", action="store_true", help="continue from <out>.state.safetensors")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (1 on a busy machine)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def build_vae_parser(parser=None) -> argparse.ArgumentParser:
    """Options of ``scoringkit train vae`` (added to ``parser`` if given)."""
    parser = parser or argparse.ArgumentParser(
        prog="python -m scoringkit.generate.models.vae",
        description="Train the piano-roll VAE on EMOPIA (train split; val for metrics).")
    _common(parser, steps=3000)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--beta", type=float, default=0.5, help="KL weight after annealing (default 0.5)")
    parser.add_argument("--free-nats", type=float, default=24.0, help="KL below this is free (default 24)")
    parser.add_argument("--z-dim", type=int, default=64)
    return parser


def build_gan_parser(parser=None) -> argparse.ArgumentParser:
    """Options of ``scoringkit train gan`` (added to ``parser`` if given)."""
    parser = parser or argparse.ArgumentParser(
        prog="python -m scoringkit.generate.models.gan",
        description="Train the piano-roll GAN on EMOPIA (train split; val for metrics).")
    _common(parser, steps=4000)
    parser.add_argument("--lr-g", type=float, default=2e-4)
    parser.add_argument("--lr-d", type=float, default=2e-4)
    parser.add_argument("--width", type=int, default=8, help="channel multiplier (default 8)")
    parser.add_argument("--mode-weight", type=float, default=0.0,
                        help="weight of the per-quadrant mode-matching loss (default 0: none)")
    return parser


def _evaluate(module, args) -> int:
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    print(json.dumps(module.evaluate(None if args.evaluate == "shipped" else args.evaluate, seed=args.seed), indent=1))
    return 0


def _finish(result) -> int:
    print(f"{result.steps} steps; validation: {json.dumps(result.metrics)}; wrote {result.path}", flush=True)
    return 0


def run_vae(args) -> int:
    """Train (or ``--evaluate``) the VAE from parsed options; returns an exit code."""
    from ...errors import InputError
    from . import vae

    if args.evaluate:
        return _evaluate(vae, args)
    if not args.out:
        raise InputError("--out is required to train (or pass --evaluate to score a checkpoint)")
    result = vae.train_vae(out=args.out, steps=args.steps, batch_size=args.batch_size, lr=args.lr, beta=args.beta,
                           free_nats=args.free_nats, config=vae.VAEConfig(z_dim=args.z_dim), seed=args.seed,
                           device=args.device, max_minutes=args.max_minutes, val_every=args.val_every,
                           resume=args.resume, threads=args.threads, progress=not args.no_progress,
                           log=lambda s: print(s, flush=True))
    return _finish(result)


def run_gan(args) -> int:
    """Train (or ``--evaluate``) the GAN from parsed options; returns an exit code."""
    from ...errors import InputError
    from . import gan

    if args.evaluate:
        return _evaluate(gan, args)
    if not args.out:
        raise InputError("--out is required to train (or pass --evaluate to score a checkpoint)")
    result = gan.train_gan(out=args.out, steps=args.steps, batch_size=args.batch_size, lr_g=args.lr_g,
                           lr_d=args.lr_d, mode_weight=args.mode_weight, config=gan.GANConfig(width=args.width),
                           seed=args.seed,
                           device=args.device, max_minutes=args.max_minutes, val_every=args.val_every,
                           resume=args.resume, threads=args.threads, progress=not args.no_progress,
                           log=lambda s: print(s, flush=True))
    return _finish(result)
