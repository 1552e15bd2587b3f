"""Train the emotion-conditioned Transformer: from a notebook, the command line or ``torchrun``.

::

    python -m scoringkit.generate.models.train --steps 2000 --out transformer.safetensors
    scoringkit train transformer --steps 2000 --out transformer.safetensors      # the same
    scoringkit train transformer --resume transformer.safetensors --steps 4000   # go on to step 4000
    torchrun --nproc_per_node=2 -m scoringkit.generate.models.train --steps 2000 --out t.safetensors

What one run does
-----------------
* **Data**: EMOPIA's token corpus (:func:`~.data.load_emopia_tokens`, official split) with
  each clip's header ``Key`` token set from a key estimate (:func:`label_keys`; EMOPIA's MIDI
  files carry no key signature), cut into windows of ``context`` tokens
  (:class:`~.data.TokenWindowDataset`), transposed by a random -5..+5 semitones per window
  and epoch (``augment``), 10 % of windows relabelled ``Qnone`` (``cond_dropout``, which
  makes classifier-free guidance possible). ``pretrain_bach=True`` adds the music21 Bach
  chorales as unlabelled (``Qnone``) windows.
* **Pre-training, then fine-tuning**: ``--corpus bach`` (or ``corpus=load_music21_tokens("bach")``)
  trains on the Bach chorales alone (``Qnone``, their own 5 % validation split);
  ``--init PATH`` / ``init=PATH`` then starts an EMOPIA run from those weights with a fresh
  optimizer, step count and schedule (``benchmarks/bench_pretraining.py`` measures whether it helps)::

      scoringkit train transformer --corpus bach --steps 2000 --out bach.safetensors
      scoringkit train transformer --init bach.safetensors --steps 2000 --out transformer.safetensors
* **Loss**: next-token cross-entropy on the music only: the header's condition, meter, key and
  tempo are given, not predicted, and padding is ignored. ``val_loss`` is the same on EMOPIA's
  validation windows (no augmentation); ``perplexity = exp(val_loss)``.
* **Optimisation**: AdamW (β = 0.9, 0.95; weight decay on matrices only), linear warm-up then
  cosine decay to ``min_lr_ratio · lr``, gradient clipping at ``grad_clip``.
* **Device**: CUDA when available (``device="auto"``), else CPU. On CUDA, mixed precision
  with :func:`torch.autocast` in bfloat16 (float16 with a gradient scaler on GPUs without
  bf16); CPU runs in float32.
* **Scale-out**: under ``torchrun`` (``WORLD_SIZE`` > 1) each process joins a process
  group (``nccl`` on GPUs, ``gloo`` on CPUs), reads its share of every epoch through a
  :class:`~torch.utils.data.distributed.DistributedSampler`, and the model is wrapped in
  :class:`~torch.nn.parallel.DistributedDataParallel`; ``batch_size`` is per process. Rank 0
  alone writes checkpoints and shows the progress bar; validation losses are summed over ranks.
* **Checkpoints** (:mod:`.checkpoint`): every ``save_every`` steps and at the end, ``out``
  is rewritten atomically with the weights, the optimizer state and the training facts;
  ``resume=PATH`` reloads all three and continues the step count with the same data order
  (epoch permutation, transpositions, condition drop-out and dropout masks are functions of the
  seed and the step); with ``stop_at`` and the same ``steps`` a run split in two equals an
  uninterrupted one (tested). :func:`export_checkpoint` drops the
  optimizer and halves the weights to ship the file.

Examples
--------
A tiny run on made-up data (a few seconds):

>>> import tempfile, pathlib
>>> corpus = toy_corpus(n_pieces=8, seed=0)
>>> out = pathlib.Path(tempfile.mkdtemp()) / "tiny.safetensors"
>>> result = train(corpus=corpus, config=TINY_CONFIG, steps=3, batch_size=2, out=out, progress=False)
>>> result["step"], out.is_file(), result["val_loss"] > 0
(3, True, True)
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

from ...errors import InputError, ModelError

__all__ = ["train", "evaluate_loss", "label_keys", "toy_corpus", "lr_at", "main", "build_parser",
           "TINY_CONFIG", "SHIPPED_CONFIG", "write_model_card"]

#: A model small enough for tests and a notebook (about 0.1 M parameters).
TINY_CONFIG = {"d_model": 64, "n_layers": 2, "n_heads": 2, "d_ff": 128, "context": 128, "dropout": 0.0}
#: The shape of the shipped model (3.4 M parameters).
SHIPPED_CONFIG = {"d_model": 256, "n_layers": 4, "n_heads": 4, "d_ff": 1024, "context": 512, "dropout": 0.1}


# -- data ---------------------------------------------------------------------------------------------
def label_keys(corpus, tokenizer):
    """Set every piece's header ``Key`` token from a Krumhansl-Schmuckler estimate of its notes.

    The pitch-class profile weights each pitched note by its duration; the estimate is
    :func:`scoringkit.extract.audio.estimate_key`. Pieces without pitched notes keep their
    token. Returns a new :class:`~.data.TokenCorpus` (``meta["keys"]`` records the count of
    each estimated mode).

    Examples
    --------
    >>> import scoringkit as sk
    >>> from scoringkit.generate.models import RemiTokenizer, TokenCorpus
    >>> tok = RemiTokenizer()
    >>> sad = sk.compose(sk.Emotion(-0.7, -0.6), duration=8)          # written in D minor
    >>> corpus = TokenCorpus.from_scores([sad.__class__(sad.tracks, tempo=90)], tok)   # key map dropped: C major
    >>> tok.vocab[label_keys(corpus, tok).sequence(0)[3]]
    'Key_D_minor'
    """
    import numpy as np

    from ...extract.audio import estimate_key
    from .data import TokenCorpus

    r = tokenizer.id_ranges()
    pitch0, dur0 = r["Pitch"][0], r["Duration"][0]
    key0 = r["Key"][0]
    tokens = corpus.tokens.astype(np.int64).copy()
    modes = {"major": 0, "minor": 0, "unchanged": 0}
    for i in range(len(corpus)):
        start, end = int(corpus.offsets[i]), int(corpus.offsets[i + 1])
        seq = tokens[start:end]
        is_pitch = (seq >= pitch0) & (seq < pitch0 + 128)
        where = np.flatnonzero(is_pitch)
        where = where[where + 2 < len(seq)]
        profile = np.zeros(12)
        if where.size:
            durations = seq[where + 2] - dur0 + 1
            np.add.at(profile, (seq[where] - pitch0) % 12, np.clip(durations, 1, None))
        found = estimate_key(profile) if profile.sum() > 0 else None
        keys = np.flatnonzero((seq[:6] >= key0) & (seq[:6] < key0 + 24))
        if found is None or not keys.size:
            modes["unchanged"] += 1
            continue
        seq[keys[0]] = tokenizer.key_id(found["key"])
        modes[found["mode"]] += 1
    out = TokenCorpus(tokens.astype(np.int16), corpus.offsets, corpus.names, corpus.quadrants, corpus.splits,
                      corpus.groups, corpus.pitch_low, corpus.pitch_high, corpus.vocab_hash,
                      {**corpus.meta, "keys": modes, "keys_from": "Krumhansl-Schmuckler estimate"})
    return out


def toy_corpus(n_pieces: int = 8, *, seed: int = 0, duration: float = 6.0, tokenizer=None):
    """A small labelled corpus composed by the rule composer (for tests, docs and quick demos).

    ``n_pieces`` pieces cycle through the four quadrants; every fourth one is in ``"val"``.
    """
    from ...generate.rules import compose_rules
    from ...mapping import emotion_to_intent
    from ...types import Emotion
    from .data import TokenCorpus
    from .tokenizer import RemiTokenizer

    tokenizer = tokenizer or RemiTokenizer()
    points = {1: (0.7, 0.7), 2: (-0.7, 0.7), 3: (-0.7, -0.6), 4: (0.6, -0.6)}
    scores, quadrants, splits = [], [], []
    for i in range(int(n_pieces)):
        q = i % 4 + 1
        scores.append(compose_rules(emotion_to_intent(Emotion(*points[q])), duration=duration, seed=seed + i))
        quadrants.append(q)
        splits.append("val" if i % 4 == 3 or i >= n_pieces - 2 else "train")
    return TokenCorpus.from_scores(scores, tokenizer, quadrants=quadrants, splits=splits,
                                   meta={"source": "toy corpus (rule composer)"})


def _header_facts(corpus, tokenizer) -> dict:
    """Tempo and meter tokens found in the headers of labelled training pieces (what generate may ask for)."""
    from .tokenizer import METERS

    r = tokenizer.id_ranges()
    tempos, meters = set(), set()
    for i in range(len(corpus)):
        if corpus.splits[i] != "train" or not corpus.quadrants[i]:
            continue
        head = corpus.sequence(i)[:6]
        for t in head:
            t = int(t)
            if r["Tempo"][0] <= t < r["Tempo"][0] + r["Tempo"][1]:
                tempos.add(tokenizer.tempo_centres[t - r["Tempo"][0]])
            if r["TimeSig"][0] <= t < r["TimeSig"][0] + r["TimeSig"][1]:
                meters.add(METERS[t - r["TimeSig"][0]])
    return {"header_tempos": sorted(tempos) or [120.0], "header_meters": [list(m) for m in sorted(meters)] or [[4, 4]]}


# -- schedule and loss ---------------------------------------------------------------------------------
def lr_at(step: int, *, lr: float, steps: int, warmup: int, min_lr_ratio: float = 0.1) -> float:
    """Learning rate at ``step`` (0-based): linear warm-up over ``warmup`` steps, then cosine to ``min_lr_ratio · lr``.

    Examples
    --------
    >>> [round(lr_at(s, lr=1.0, steps=10, warmup=2), 3) for s in (0, 1, 2, 6, 9)]
    [0.5, 1.0, 1.0, 0.55, 0.134]
    """
    if step < warmup:
        return lr * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, steps - warmup))
    return lr * (min_lr_ratio + (1 - min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))


def _loss_terms(model, ids, header: int = 5):
    """Summed next-token cross-entropy over music targets (not the header, not PAD) and their count."""
    import torch.nn.functional as F

    logits = model(ids[:, :-1])
    targets = ids[:, 1:].clone()
    targets[:, :header - 1] = 0  # the condition, meter, key and tempo are given, not predicted
    loss = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=0,
                           reduction="sum")
    return loss, int((targets != 0).sum())


def evaluate_loss(model, dataset, *, batch_size: int = 16, device="cpu", max_windows=None, amp=None,
                  distributed: bool = False) -> dict:
    """Mean negative log-likelihood per music token (nats) of ``model`` on ``dataset``'s windows.

    Parameters
    ----------
    model : MusicTransformer (or DDP-wrapped)
    dataset : TokenWindowDataset
        Evaluated without augmentation.
    max_windows : int, optional
        Use this many windows spread evenly over the dataset (default: all).
    distributed : bool
        Split the windows over the process group and sum the results.

    Returns
    -------
    dict
        ``loss`` (nats per token), ``perplexity``, ``bits_per_token``, ``tokens``, ``windows``.
    """
    import numpy as np
    import torch

    n = len(dataset)
    index = np.arange(n) if not max_windows or max_windows >= n else \
        np.unique(np.linspace(0, n - 1, int(max_windows)).round().astype(int))
    if distributed:
        import torch.distributed as dist

        index = index[dist.get_rank()::dist.get_world_size()]
    saved = dataset.augment
    dataset.augment = False
    was_training = model.training
    model.eval()
    total, count = torch.zeros((), dtype=torch.float64), 0
    try:
        with torch.no_grad():
            for start in range(0, len(index), batch_size):
                ids = torch.stack([dataset[int(i)]["ids"] for i in index[start:start + batch_size]]).to(device)
                with _autocast(device, amp):
                    loss, k = _loss_terms(model, ids)
                total += loss.double().cpu()
                count += k
    finally:
        dataset.augment = saved
        model.train(was_training)
    if distributed:
        import torch.distributed as dist

        both = torch.tensor([float(total), float(count)], dtype=torch.float64)
        dist.all_reduce(both)
        total, count = both[0], int(both[1])
        windows = len(dataset) if not max_windows else min(len(dataset), int(max_windows))
    else:
        windows = len(index)
    loss = float(total) / max(1, count)
    return {"loss": loss, "perplexity": math.exp(min(loss, 50)), "bits_per_token": loss / math.log(2),
            "tokens": count, "windows": windows}


# -- devices, precision, processes ------------------------------------------------------------------------
def _autocast(device, amp):
    import contextlib

    import torch

    if amp is None or str(device).split(":")[0] != "cuda":
        return contextlib.nullcontext()
    return torch.autocast(device_type="cuda", dtype=amp)


def _resolve_device(device: str):
    import torch

    if device in (None, "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise InputError("device='cuda' was asked for but no CUDA GPU is visible; use device='auto' or 'cpu'")
    if str(device).split(":")[0] not in ("cpu", "cuda", "mps"):
        raise InputError(f"device must be 'auto', 'cpu' or 'cuda[:N]', got {device!r}")
    return str(device)


def _resolve_amp(amp, device):
    """None (float32) on CPU; bfloat16 (or float16 where bf16 is missing) on CUDA with amp='auto'."""
    import torch

    if amp in (False, None, "off", "no", "fp32", "float32") or str(device).split(":")[0] != "cuda":
        if amp in ("bf16", "fp16") and str(device).split(":")[0] != "cuda":
            raise InputError(f"mixed precision ({amp}) is for CUDA GPUs; on the CPU train in float32 (amp='auto')")
        return None
    if amp in ("auto", True):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if amp in ("bf16", "bfloat16"):
        return torch.bfloat16
    if amp in ("fp16", "float16"):
        return torch.float16
    raise InputError(f"amp must be 'auto', 'off', 'bf16' or 'fp16', got {amp!r}")


def _distributed_setup(device_choice):
    """Join the process group when started by torchrun (WORLD_SIZE > 1); returns (rank, world, device)."""
    import torch

    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1, _resolve_device(device_choice), False
    import torch.distributed as dist

    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = _resolve_device(device_choice)
    if device.startswith("cuda"):
        device = f"cuda:{local_rank}"
        torch.cuda.set_device(local_rank)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.startswith("cuda") else "gloo")
    return dist.get_rank(), dist.get_world_size(), device, True


def _set_threads(world: int):
    import torch

    from ...emotion.encoder import usable_cpus

    torch.set_num_threads(max(1, usable_cpus() // max(1, world)))


# -- the loop --------------------------------------------------------------------------------------------
def _windows_dataset(corpus, tokenizer, split, length, *, augment, seed):
    from .data import TokenWindowDataset

    part = corpus.subset(split)
    if not len(part):
        raise InputError(f"the corpus has no {split!r} pieces; every training run needs 'train' and 'val' pieces")
    return TokenWindowDataset(part, tokenizer, length=length, augment=augment, seed=seed)


def train(*, corpus=None, data_dir=None, config=None, steps: int = 1000, batch_size: int = 16, lr: float = 1e-3,
          warmup: int = 100, min_lr_ratio: float = 0.1, weight_decay: float = 0.1, grad_clip: float = 1.0,
          seed: int = 0, augment: bool = True, cond_dropout: float = 0.1, pretrain_bach: bool = False,
          out=None, save_every: int = 0, eval_every: int = 0, val_windows=64, resume=None, init=None,
          device: str = "auto",
          amp="auto", progress: bool = True, max_seconds=None, stop_at=None, callback=None,
          command: str = "") -> dict:
    """Train (or resume training) the Transformer; returns the run's facts.

    Parameters
    ----------
    corpus : TokenCorpus, optional
        Labelled token data with ``train`` and ``val`` pieces (default: EMOPIA from
        ``data_dir`` with :func:`label_keys`).
    data_dir : str or Path, optional
        Folder holding ``emopia/`` (default ``$SCORINGKIT_DATA`` or ``../shared/data``).
    config : dict or TransformerConfig, optional
        Model shape (default :data:`SHIPPED_CONFIG`); ``vocab_size`` comes from the tokenizer.
    steps : int
        Total optimizer steps (a resumed run continues up to this number).
    batch_size : int
        Windows per step and process.
    lr, warmup, min_lr_ratio, weight_decay, grad_clip
        Optimiser settings (see the module docstring).
    seed : int
        Seeds the initial weights, the data order, the transpositions and the dropout.
    augment : bool
        Random transposition of the training windows.
    cond_dropout : float
        Share of labelled training windows whose condition is replaced by ``Qnone``.
    pretrain_bach : bool
        Add the music21 Bach chorales as unlabelled training windows.
    out : str or Path, optional
        Checkpoint file, rewritten every ``save_every`` steps and at the end.
    save_every, eval_every : int
        0 = only at the end.
    val_windows : int or None
        Validation windows used for the periodic validation loss (None = all); the final
        validation loss always uses all of them.
    resume : str or Path, optional
        A checkpoint written by this function: model shape, weights, optimizer state and step
        are taken from it.
    init : str or Path, optional
        A Transformer checkpoint whose weights (and model shape) start this run, e.g. one
        pre-trained on the Bach chorales; unlike ``resume``, the optimizer state and the step
        count start afresh (step 0, a new warm-up and schedule over ``steps``) and ``config``
        is ignored. Cannot be combined with ``resume``.
    device : str
        ``"auto"`` (CUDA if available), ``"cpu"`` or ``"cuda[:N]"``.
    amp : str
        ``"auto"``: bfloat16/float16 autocast on CUDA, float32 on CPU; ``"off"``.
    progress : bool
        Show a tqdm progress bar (rank 0).
    max_seconds : float, optional
        Stop early (and save) after this much wall time.
    stop_at : int, optional
        Stop (and save) at this step while the schedule still runs to ``steps``: train in
        chunks, e.g. ``stop_at=500`` now and ``resume=out`` later, exactly as one run.
    callback : callable, optional
        Called on rank 0 with a dict after every logged step and evaluation
        (``{"step", "train_loss", "lr", ...}`` or ``{"step", "val_loss", ...}``).
    command : str
        The command line to record in the checkpoint.

    Returns
    -------
    dict
        ``step``, ``val_loss``, ``val_perplexity``, ``history`` (list of logged dicts),
        ``seconds``, ``tokens_per_second``, ``parameters``, ``checkpoint``, ``metadata``.
    """
    import torch

    from .checkpoint import load_checkpoint, save_checkpoint
    from .tokenizer import RemiTokenizer
    from .transformer import MusicTransformer, TransformerConfig

    steps = int(steps)
    if steps < 1 or batch_size < 1:
        raise InputError(f"steps and batch_size must be >= 1, got steps={steps}, batch_size={batch_size}")
    if not 0 <= cond_dropout < 1:
        raise InputError(f"cond_dropout must be in [0, 1), got {cond_dropout!r}")
    rank, world, device, distributed = _distributed_setup(device)
    if str(device) == "cpu":
        _set_threads(world)
    amp_dtype = _resolve_amp(amp, device)
    tokenizer = RemiTokenizer()

    # -- resume: the config and the step come from the checkpoint; init: the config and the weights
    start_step, opt_state, resumed_meta, init_facts, weights = 0, None, None, None, None
    if resume is not None and init is not None:
        raise InputError("pass either resume= (continue a run: weights, optimizer and step) or init= (start a new "
                         "run from a checkpoint's weights), not both")
    if init is not None:
        weights, init_meta = load_checkpoint(init, kind="transformer")
        if init_meta.get("vocab_hash") != tokenizer.vocab_hash:
            raise ModelError(f"{str(init)!r} was trained with another vocabulary; it cannot initialise this model")
        config = TransformerConfig.from_dict(init_meta["config"])
        init_training = init_meta.get("training", {})
        init_facts = {"checkpoint": Path(init).name, "step": init_training.get("step"),
                      "source": init_meta.get("data", {}).get("source"), "val_loss": init_training.get("val_loss")}
    elif resume is not None:
        weights, resumed_meta, opt_state = load_checkpoint(resume, kind="transformer", optimizer=True)
        if resumed_meta.get("vocab_hash") != tokenizer.vocab_hash:
            raise ModelError(f"{str(resume)!r} was trained with another vocabulary; it cannot be resumed here")
        config = TransformerConfig.from_dict(resumed_meta["config"])
        start_step = int(resumed_meta.get("training", {}).get("step", 0))
    elif config is None:
        config = TransformerConfig(vocab_size=tokenizer.vocab_size, **SHIPPED_CONFIG)
    elif isinstance(config, dict):
        config = TransformerConfig(**{**config, "vocab_size": tokenizer.vocab_size})
    if config.vocab_size != tokenizer.vocab_size:
        raise InputError(f"config.vocab_size ({config.vocab_size}) must be the tokenizer's ({tokenizer.vocab_size})")

    # -- data
    if corpus is None:
        from .data import load_emopia_tokens

        corpus = label_keys(load_emopia_tokens(data_dir, tokenizer=tokenizer, progress=progress and rank == 0),
                            tokenizer)
    data_facts = {"source": corpus.meta.get("source", "custom corpus"), "licence": corpus.meta.get("licence", ""),
                  "pieces": {s: int((corpus.splits == s).sum()) for s in ("train", "val", "test")},
                  "train_tokens": int(corpus.subset("train").n_tokens), "keys": corpus.meta.get("keys"),
                  "augment": bool(augment), "cond_dropout": float(cond_dropout), **_header_facts(corpus, tokenizer)}
    train_set = _windows_dataset(corpus, tokenizer, "train", config.context, augment=augment, seed=seed)
    val_set = _windows_dataset(corpus, tokenizer, "val", config.context, augment=False, seed=seed)
    datasets = [train_set]
    if pretrain_bach:
        from .data import load_music21_tokens

        bach = load_music21_tokens("bach", tokenizer=tokenizer)
        datasets.append(_windows_dataset(bach, tokenizer, "train", config.context, augment=augment, seed=seed))
        data_facts["pretrain"] = {"source": "music21 Bach chorales", "pieces": int(len(bach.subset("train")))}
    if init_facts is not None:
        data_facts["init"] = init_facts
    full_train = torch.utils.data.ConcatDataset(datasets) if len(datasets) > 1 else train_set
    data_facts["train_windows"] = len(full_train)
    if len(full_train) < batch_size * world:
        raise InputError(f"only {len(full_train)} training windows for a batch of {batch_size} × {world} "
                         "process(es); lower batch_size or add data")

    # -- model and optimiser
    torch.manual_seed(seed)
    model = MusicTransformer(config)
    if weights is not None:
        try:
            model.load_state_dict({k: v.float() for k, v in weights.items()}, strict=True)
        except RuntimeError as err:
            raise ModelError(f"the weights of {str(resume if init is None else init)!r} do not fit its config: "
                             f"{err}") from None
    model.to(device)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and not n.startswith("pos.")]
    no_decay = [p for n, p in model.named_parameters() if not (p.dim() >= 2 and not n.startswith("pos."))]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=lr, betas=(0.9, 0.95),
                                  fused=False)
    if opt_state is not None:
        try:
            optimizer.load_state_dict(opt_state)
        except (ValueError, KeyError) as err:
            raise ModelError(f"the optimizer state in {str(resume)!r} does not fit this model ({err})") from None
    net = model
    if distributed:
        from torch.nn.parallel import DistributedDataParallel

        net = DistributedDataParallel(model, device_ids=[int(str(device).split(":")[1])] if ":" in str(device) else None)
    scaler = torch.amp.GradScaler("cuda") if amp_dtype == torch.float16 else None

    from torch.utils.data import DataLoader
    from torch.utils.data.distributed import DistributedSampler

    sampler = DistributedSampler(full_train, num_replicas=world, rank=rank, shuffle=True, seed=seed, drop_last=True)
    loader = DataLoader(full_train, batch_size=batch_size, sampler=sampler, drop_last=True, num_workers=0)
    per_epoch = len(loader)
    qnone = tokenizer.condition_id(None)
    cond_lo, cond_hi = tokenizer.condition_id(1), tokenizer.condition_id(4)

    facts = {"kind": "transformer", "config": config.to_dict(), "tokenizer": tokenizer.config(),
             "vocab_hash": tokenizer.vocab_hash, "data": data_facts}
    history = list((resumed_meta or {}).get("training", {}).get("history", []))
    clock = {"seconds": float((resumed_meta or {}).get("training", {}).get("seconds", 0.0)),
             "tokens": int((resumed_meta or {}).get("training", {}).get("tokens_seen", 0))}
    earlier = (resumed_meta or {}).get("training", {})
    commands = list(earlier.get("commands", [earlier["command"]] if earlier.get("command") else []))
    if command:
        commands.append(command)
    settings = {"steps": steps, "batch_size": batch_size, "world_size": world, "lr": lr, "warmup": warmup,
                "min_lr_ratio": min_lr_ratio, "weight_decay": weight_decay, "grad_clip": grad_clip, "seed": seed,
                "device": str(device).split(":")[0], "amp": str(amp_dtype).replace("torch.", "") if amp_dtype else "off",
                "torch": torch.__version__}

    def save(step, val=None):
        if out is None or rank != 0:
            return None
        training = {**settings, "step": step, "tokens_seen": clock["tokens"], "seconds": round(clock["seconds"], 1),
                    "history": history[-400:], "commands": commands}
        if val is not None:
            training.update(val_loss=round(val["loss"], 5), val_perplexity=round(val["perplexity"], 3),
                            val_tokens=val["tokens"])
        facts["training"] = training
        return save_checkpoint(out, model.state_dict(), facts, optimizer=optimizer)

    bar = None
    if progress and rank == 0:
        from tqdm.auto import tqdm

        bar = tqdm(total=steps, initial=start_step, desc="training transformer", unit="step")
    step = start_step
    began = time.perf_counter()
    window_tokens = 0
    window_start = time.perf_counter()
    model.train()
    stop_early = False
    last_val = None
    try:
        while step < steps and not stop_early:
            epoch, skip = divmod(step, per_epoch)
            sampler.set_epoch(epoch)
            for d in datasets:
                d.set_epoch(epoch)
            for b, batch in enumerate(loader):
                if b < skip:
                    continue
                ids = batch["ids"]
                if cond_dropout > 0:  # the same windows drop their condition whatever the process count
                    g = torch.Generator().manual_seed(seed * 1_000_003 + step * 7919 + rank)
                    drop = torch.rand(ids.shape[0], generator=g) < cond_dropout
                    labelled = (ids[:, 1] >= cond_lo) & (ids[:, 1] <= cond_hi)
                    ids = ids.clone()
                    ids[drop & labelled, 1] = qnone
                ids = ids.to(device, non_blocking=True)
                for group in optimizer.param_groups:
                    group["lr"] = lr_at(step, lr=lr, steps=steps, warmup=warmup, min_lr_ratio=min_lr_ratio)
                torch.manual_seed(seed + 7 * step + 1_000_000 * rank)  # dropout masks repeat on resume
                with _autocast(device, amp_dtype):
                    loss_sum, count = _loss_terms(net, ids)
                    loss = loss_sum / max(1, count)
                optimizer.zero_grad(set_to_none=True)
                if scaler is not None:
                    scaler.scale(loss).backward()
                    scaler.unscale_(optimizer)
                else:
                    loss.backward()
                norm = torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip) if grad_clip else None
                if scaler is not None:
                    scaler.step(optimizer)
                    scaler.update()
                else:
                    optimizer.step()
                step += 1
                window_tokens += int(ids.numel()) * world
                clock["tokens"] += int(ids.numel()) * world
                now = time.perf_counter()
                clock["seconds"] += now - began
                began = now
                if rank == 0 and (step % 10 == 0 or step == steps or step == start_step + 1):
                    rate = window_tokens / max(1e-9, now - window_start)
                    entry = {"step": step, "train_loss": round(float(loss.detach()), 4), "lr": round(group["lr"], 7),
                             "grad_norm": round(float(norm), 3) if norm is not None else None,
                             "tokens_per_second": round(rate)}
                    history.append(entry)
                    window_tokens, window_start = 0, now
                    if bar is not None:
                        bar.set_postfix(loss=f"{float(loss.detach()):.3f}", lr=f"{group['lr']:.2e}", tok_s=f"{rate:.0f}")
                    if callback is not None:
                        callback(dict(entry))
                if bar is not None:
                    bar.update(1)
                if eval_every and step % eval_every == 0 and step < steps:
                    last_val = evaluate_loss(model, val_set, batch_size=batch_size,
                                             device=device, max_windows=val_windows, amp=amp_dtype,
                                             distributed=distributed)
                    if rank == 0:
                        entry = {"step": step, "val_loss": round(last_val["loss"], 4),
                                 "val_perplexity": round(last_val["perplexity"], 3)}
                        history.append(entry)
                        if bar is not None:
                            bar.write(f"step {step}: val loss {last_val['loss']:.4f} "
                                      f"(perplexity {last_val['perplexity']:.2f})")
                        if callback is not None:
                            callback(dict(entry))
                    began = time.perf_counter()
                if save_every and step % save_every == 0 and step < steps:
                    save(step, last_val)
                    began = time.perf_counter()
                if max_seconds is not None:
                    flag = torch.tensor([float(clock["seconds"] >= max_seconds)])
                    if distributed:
                        import torch.distributed as dist

                        dist.all_reduce(flag, op=dist.ReduceOp.MAX)
                    if flag.item() > 0:
                        stop_early = True
                if stop_at is not None and step >= int(stop_at):
                    stop_early = True
                if step >= steps or stop_early:
                    break
        final = evaluate_loss(model, val_set, batch_size=batch_size, device=device, amp=amp_dtype,
                              distributed=distributed)
        if rank == 0:
            history.append({"step": step, "val_loss": round(final["loss"], 4),
                            "val_perplexity": round(final["perplexity"], 3), "final": True})
            if callback is not None:
                callback(dict(history[-1]))
        path = save(step, final)
        if distributed:
            import torch.distributed as dist

            dist.barrier()
    finally:
        if bar is not None:
            bar.close()
    return {"step": step, "val_loss": final["loss"], "val_perplexity": final["perplexity"], "history": history,
            "seconds": clock["seconds"], "tokens_seen": clock["tokens"],
            "tokens_per_second": clock["tokens"] / max(1e-9, clock["seconds"]), "parameters": model.n_parameters(),
            "checkpoint": str(path) if path is not None else None, "model": model, "metadata": facts,
            "rank": rank, "world_size": world, "stopped_early": stop_early}


# -- model card ----------------------------------------------------------------------------------------
def write_model_card(checkpoint, out, *, metrics: dict | None = None, overwrite: bool = True) -> Path:
    """Write a Markdown model card for a Transformer checkpoint (data, licence, command, figures)."""
    from ...io import atomic_write
    from .checkpoint import read_metadata

    meta = read_metadata(checkpoint)
    t, d, c = meta.get("training", {}), meta.get("data", {}), meta.get("config", {})
    size = Path(checkpoint).stat().st_size
    metrics = metrics or {}
    lines = [
        "# Model card: `transformer_emopia` (emotion-conditioned music Transformer)", "",
        "## What it is",
        f"A decoder-only Transformer (pre-LN, {c.get('n_layers')} layers, d_model {c.get('d_model')}, "
        f"{c.get('n_heads')} heads, MLP {c.get('d_ff')}, learned positions, context {c.get('context')} tokens) "
        "over scoringkit's REMI-like tokens (`scoringkit.generate.models.tokenizer`), conditioned on the EMOPIA "
        "quadrant and the key through the header `BOS Q<n> TimeSig Key Tempo`. "
        f"File: {size / 1e6:.1f} MB ({meta.get('weights_dtype', 'float32')} weights, safetensors + JSON metadata). "
        "Used by `scoringkit.compose(..., generator=\"transformer\")`.", "",
        "## Data",
        f"EMOPIA (Hung et al., ISMIR 2021): {d.get('pieces', {}).get('train')} training clips, "
        f"{d.get('pieces', {}).get('val')} validation, {d.get('pieces', {}).get('test')} test (the official "
        f"song-level split), {d.get('train_tokens')} training tokens, cut into {d.get('train_windows')} windows of "
        f"{c.get('context')} tokens (half-overlapping, each with its own header). Augmentation: transposition by "
        "-5..+5 semitones per window and epoch (within the piano range); "
        f"{round(100 * d.get('cond_dropout', 0))} % of windows relabelled `Qnone`. EMOPIA's MIDI files carry no key "
        f"signature: each clip's `Key` token is a Krumhansl-Schmuckler estimate ({d.get('keys')}). Its tempo token is "
        "always 120 BPM (performance MIDI on a nominal grid); generation plays the result at the intent's tempo.", "",
        "## Licence",
        "EMOPIA is released under CC BY-NC-SA 4.0, so this checkpoint, trained on it, is for **non-commercial use "
        "only** and shared under the same licence (CC BY-NC-SA 4.0). scoringkit's code stays MIT.", "",
        "## Training", "",
        *[f"    {c}" for c in t.get("commands", [])], "",
        f"{t.get('step')} steps of {t.get('batch_size')} windows × {t.get('world_size')} process(es) "
        f"({t.get('tokens_seen')} tokens seen, {t.get('seconds', 0) / 60:.1f} min on {t.get('device')}), AdamW lr "
        f"{t.get('lr')} with {t.get('warmup')} warm-up steps and cosine decay, weight decay {t.get('weight_decay')}, "
        f"gradient clipping {t.get('grad_clip')}, seed {t.get('seed')}, torch {t.get('torch')}.", "",
        "## Held-out figures", "",
        f"- EMOPIA validation: {t.get('val_loss')} nats per music token (perplexity {t.get('val_perplexity')}).",
    ]
    for name, value in metrics.items():
        lines.append(f"- {name}: {value}")
    lines += ["", "## Limits",
              "Trained for minutes on two CPU cores: the music is EMOPIA-like piano texture with a short memory "
              "(one context window), not composed phrases; the quadrant is judged by scoringkit's own music-emotion "
              "model (itself trained on EMOPIA), not by listeners."]
    text = "\n".join(lines) + "\n"
    return atomic_write(out, lambda f: f.write(text), overwrite=overwrite, binary=False)


# -- command line ------------------------------------------------------------------------------------------
def build_parser(parser=None) -> argparse.ArgumentParser:
    """Options of ``python -m scoringkit.generate.models.train`` (and ``scoringkit train transformer``)."""
    parser = parser or argparse.ArgumentParser(prog="python -m scoringkit.generate.models.train",
                                               description="Train the emotion-conditioned music Transformer on EMOPIA.")
    parser.add_argument("--data", metavar="DIR", help="folder holding emopia/ (default: $SCORINGKIT_DATA or ../shared/data)")
    parser.add_argument("--steps", type=int, default=1000, help="total optimizer steps (default: 1000)")
    parser.add_argument("--out", default="transformer.safetensors", help="checkpoint to write (default: transformer.safetensors)")
    parser.add_argument("--resume", metavar="PATH", help="continue from this checkpoint up to --steps")
    parser.add_argument("--init", metavar="PATH",
                        help="start from this checkpoint's weights and shape (fresh optimizer, step 0), e.g. to "
                             "fine-tune a model pre-trained with --corpus bach")
    parser.add_argument("--batch-size", type=int, default=16, help="windows per step and process (default: 16)")
    parser.add_argument("--lr", type=float, default=1e-3, help="peak learning rate (default: 1e-3)")
    parser.add_argument("--warmup", type=int, default=100, help="warm-up steps (default: 100)")
    parser.add_argument("--d-model", type=int, default=SHIPPED_CONFIG["d_model"])
    parser.add_argument("--layers", type=int, default=SHIPPED_CONFIG["n_layers"])
    parser.add_argument("--heads", type=int, default=SHIPPED_CONFIG["n_heads"])
    parser.add_argument("--context", type=int, default=SHIPPED_CONFIG["context"])
    parser.add_argument("--dropout", type=float, default=SHIPPED_CONFIG["dropout"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-augment", action="store_true", help="no transposition augmentation")
    parser.add_argument("--cond-dropout", type=float, default=0.1, help="share of windows trained as Qnone (default: 0.1)")
    parser.add_argument("--bach", action="store_true", help="add the music21 Bach chorales as unlabelled data")
    parser.add_argument("--corpus", default="emopia", metavar="NAME",
                        help="training data: emopia (default) or bach (the music21 Bach chorales alone, unlabelled "
                             "Qnone, their own 5 %% validation split: for pre-training)")
    parser.add_argument("--save-every", type=int, default=200, help="checkpoint every N steps (default: 200; 0 = end only)")
    parser.add_argument("--eval-every", type=int, default=200, help="validation loss every N steps (default: 200)")
    parser.add_argument("--val-windows", type=int, default=64, help="validation windows for periodic checks (default: 64)")
    parser.add_argument("--device", default="auto", help="auto (CUDA if available), cpu or cuda (default: auto)")
    parser.add_argument("--amp", default="auto", help="auto (bf16/fp16 on CUDA, fp32 on CPU) or off")
    parser.add_argument("--max-minutes", type=float, help="stop (and save) after this many minutes")
    parser.add_argument("--export", metavar="PATH", help="also write a float16 copy without optimizer state (to ship)")
    parser.add_argument("--force", action="store_true", help="replace an existing --out / --export file")
    parser.add_argument("--toy", type=int, metavar="N", help="train on N toy pieces from the rule composer (tests, demos)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    return parser


def run(args, command=None) -> int:
    """Run a parsed command line (shared by ``scoringkit train transformer``); ``command`` is recorded."""
    from .checkpoint import export_checkpoint

    config = {"d_model": args.d_model, "n_layers": args.layers, "n_heads": args.heads, "d_ff": 4 * args.d_model,
              "context": args.context, "dropout": args.dropout}
    out = Path(args.out)
    resuming_out = args.resume is not None and out.exists() and out.resolve() == Path(args.resume).resolve()
    for path in (out, Path(args.export) if args.export else None):
        if path is not None and path.exists() and not args.force and not (path == out and resuming_out):
            raise InputError(f"{str(path)!r} already exists; pass --force to replace it "
                             "(or --resume it to continue that run)")
    corpus_name = str(getattr(args, "corpus", None) or "emopia").lower()
    if corpus_name not in ("emopia", "bach"):
        raise InputError(f"--corpus must be 'emopia' or 'bach', got {args.corpus!r}")
    if corpus_name == "bach" and (args.toy or args.bach):
        raise InputError("--corpus bach already trains on the Bach chorales alone; drop --toy / --bach")
    corpus = toy_corpus(args.toy, seed=args.seed) if args.toy else None
    if corpus_name == "bach":
        from .data import load_music21_tokens

        corpus = load_music21_tokens("bach", progress=not args.quiet)
    if command is None:
        command = " ".join(["python -m scoringkit.generate.models.train"] + sys.argv[1:])
    result = train(corpus=corpus, data_dir=args.data, config=config, steps=args.steps, batch_size=args.batch_size,
                   lr=args.lr, warmup=args.warmup, seed=args.seed, augment=not args.no_augment,
                   cond_dropout=args.cond_dropout, pretrain_bach=args.bach, out=args.out, save_every=args.save_every,
                   eval_every=args.eval_every, val_windows=args.val_windows, resume=args.resume,
                   init=getattr(args, "init", None), device=args.device,
                   amp=args.amp, progress=not args.quiet,
                   max_seconds=None if args.max_minutes is None else 60 * args.max_minutes, command=command)
    if result["rank"] == 0:
        print(f"step {result['step']}: val loss {result['val_loss']:.4f} nats/token "
              f"(perplexity {result['val_perplexity']:.2f}), {result['tokens_per_second']:.0f} tokens/s, "
              f"{result['seconds'] / 60:.1f} min; wrote {result['checkpoint']}")
        if args.export:
            path = export_checkpoint(args.out, args.export, overwrite=True)  # checked above
            print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB, float16, no optimizer state)")
    if result["world_size"] > 1:
        import torch.distributed as dist

        print(f"rank {result['rank']} of {result['world_size']} finished at step {result['step']}", flush=True)
        dist.destroy_process_group()
    return 0


def main(argv=None) -> int:
    """Entry point of ``python -m scoringkit.generate.models.train``."""
    from ...errors import ScoringKitError

    args = build_parser().parse_args(argv)
    try:
        return run(args, None if argv is None else " ".join(["python -m scoringkit.generate.models.train", *argv]))
    except ScoringKitError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
