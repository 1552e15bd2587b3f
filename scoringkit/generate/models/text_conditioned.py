"""A text-conditioned variant of the music Transformer: the header's quadrant slot holds a scene's sentence embedding.

The token-conditioned model (:mod:`.transformer`) reads ``BOS Q<n> TimeSig Key Tempo ...``;
"sad" is the token ``Q3``. This variant keeps the architecture and the header but replaces the
*embedding* of the quadrant slot (position 1) by a learned projection of the text encoder's
sentence embedding (:func:`scoringkit.emotion.encoder.embed_texts`, 384-d, mean-pooled)::

    slot 1:  tok[Q<n>]   →   Linear(384 → d_model)(LayerNorm(e_text))

Everything else (blocks, positions, tied output layer, sampler, grammar, scale mask, windowed
generation) is the token model's code: :class:`TextConditionedTransformer` subclasses
:class:`~.transformer.MusicTransformer` and only overrides :meth:`~.transformer.MusicTransformer.embed`;
:class:`TextConditionedGenerator` subclasses :class:`~.transformer.TransformerGenerator` and sets
the condition around its sampler. A header whose slot holds ``Qnone`` keeps the unconditional
embedding, so classifier-free guidance works as before.

Initialisation: from the shipped token-conditioned checkpoint; the projection's bias starts at
the mean of the four quadrant-token embeddings and its weight near zero (``init="mean"``), or,
with ``init="quadrants"`` (the training default), at the ridge-regression map that sends each
training sentence to the embedding of its quadrant's token, so that at step 0 the variant is
the token model with a quadrant read softly from the text, and fine-tuning goes on from there.

Pairs (:func:`text_pairs`)
--------------------------
* EmoBank: quadrant from the signs of (valence − 3, arousal − 3) of the ratings; sentences with
  either within :data:`EMOBANK_MARGIN` of the neutral 3 are dropped (their quadrant is a coin toss).
* GoEmotions (Ekman, single-label rows): joy → Q1; anger, disgust, fear → Q2; sadness → Q3.
  *neutral* and *surprise* are dropped: surprise can be pleasant or not (its valence is
  undetermined) and neutral is the absence of an emotion, not the calm contentment of Q4, so
  Q4 sentences come from EmoBank only.
* Splits: text ``train`` with EMOPIA ``train`` clips, ``dev`` with ``val``, ``test`` with ``test``;
  each training window gets a sentence of its clip's quadrant drawn at random per step.
  Sentence embeddings are cached under ``~/.cache/scoringkit`` (numpy) and computed once.

Command line::

    python -m scoringkit.generate.models.text_conditioned --variant text --steps 150 --out text.safetensors
    python -m scoringkit.generate.models.text_conditioned --variant token --steps 150 --out token.safetensors

Examples
--------
>>> import torch
>>> from scoringkit.generate.models.tokenizer import RemiTokenizer
>>> from scoringkit.generate.models.transformer import TransformerConfig, header_ids
>>> tok = RemiTokenizer()
>>> cfg = TransformerConfig(vocab_size=tok.vocab_size, d_model=32, n_layers=1, n_heads=2, context=32)
>>> model = TextConditionedTransformer(cfg, none_id=tok.condition_id(None))
>>> ids = torch.tensor([header_ids(tok, quadrant=1)])
>>> model(ids, condition=torch.randn(1, 384)).shape
torch.Size([1, 5, 581])
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import numbers
import sys
import time
from pathlib import Path

import torch
from torch import nn

from ...errors import InputError, ModelError
from ...types import MusicalIntent, Score
from .transformer import MusicTransformer, TransformerConfig, TransformerGenerator

__all__ = ["TextConditionedTransformer", "TextConditionedGenerator", "from_token_model", "fit_projection",
           "text_pairs", "sentence_embeddings", "pair_loss", "train_pairs", "evaluate_pairs", "load_text_generator",
           "generate", "main", "EMBED_DIM", "EMOBANK_MARGIN", "GOEMOTIONS_QUADRANT"]

#: Width of the text encoder's sentence embedding (all-MiniLM-L6-v2).
EMBED_DIM = 384
#: EmoBank sentences with |V − 3| or |A − 3| below this (rating units, 1-5 scale) are dropped.
EMOBANK_MARGIN = 0.1
#: GoEmotions Ekman label → EMOPIA quadrant (neutral and surprise are dropped; see the module docstring).
GOEMOTIONS_QUADRANT = {"joy": 1, "anger": 2, "disgust": 2, "fear": 2, "sadness": 3}
_SLOT = 1  # position of the condition in the header
_TEXT_SPLIT = {"train": "train", "dev": "val", "test": "test"}


def _check_embedding(embedding, embed_dim: int = EMBED_DIM):
    """A float tensor (batch, embed_dim) from an array-like, or InputError."""
    try:
        e = torch.as_tensor(embedding, dtype=torch.float32)
    except (TypeError, ValueError, RuntimeError) as err:
        raise InputError(f"a sentence embedding must be numbers of shape ({embed_dim},) or (n, {embed_dim}); "
                         f"got {type(embedding).__name__} ({err})") from None
    if e.dim() == 1:
        e = e[None]
    if e.dim() != 2 or e.shape[1] != embed_dim:
        raise InputError(f"a sentence embedding must have {embed_dim} values (the text encoder's width), "
                         f"got shape {tuple(e.shape)}")
    if not torch.isfinite(e).all():
        raise InputError("a sentence embedding must be finite (no NaN or inf)")
    return e


class TextConditionedTransformer(MusicTransformer):
    """:class:`~.transformer.MusicTransformer` whose header slot 1 is a projection of a sentence embedding.

    Parameters
    ----------
    config : TransformerConfig
    embed_dim : int
        Width of the sentence embedding (384).
    none_id : int, optional
        Id of the unconditional token (``Qnone``); a header with it in slot 1 keeps its token
        embedding (classifier-free guidance). None: every header is conditioned.

    Notes
    -----
    ``forward(ids, cache=None, condition=None)``: ``condition`` is a (batch or 1, embed_dim)
    tensor; without it the one set by :meth:`conditioned` is used. A header slot that needs a
    condition when none is set raises :class:`InputError`.

    Examples
    --------
    >>> cfg = TransformerConfig(d_model=32, n_layers=1, n_heads=2, context=16)
    >>> m = TextConditionedTransformer(cfg)
    >>> m.text_proj.weight.shape
    torch.Size([32, 384])
    """

    _fast_from = _SLOT + 1

    def __init__(self, config: TransformerConfig, *, embed_dim: int = EMBED_DIM, none_id=None):
        super().__init__(config)
        self.embed_dim = int(embed_dim)
        self.none_id = None if none_id is None else int(none_id)
        self.text_norm = nn.LayerNorm(self.embed_dim)
        self.text_proj = nn.Linear(self.embed_dim, config.d_model)
        nn.init.normal_(self.text_proj.weight, std=0.02)
        nn.init.zeros_(self.text_proj.bias)
        self._condition = None

    def project(self, embedding):
        """Header-slot embeddings ``(batch, d_model)`` of sentence embeddings ``(batch, embed_dim)``."""
        return self.text_proj(self.text_norm(embedding))

    @contextlib.contextmanager
    def conditioned(self, embedding):
        """Use ``embedding`` (embed_dim,) or (batch, embed_dim) for every forward pass inside the block."""
        e = _check_embedding(embedding, self.embed_dim).to(self.tok.weight.device)
        saved, self._condition = self._condition, e
        try:
            yield self
        finally:
            self._condition = saved

    def forward(self, ids, cache=None, condition=None):
        if condition is None:
            return super().forward(ids, cache)
        with self.conditioned(condition):
            return super().forward(ids, cache)

    def embed(self, ids, start: int = 0):
        x = self.tok(ids)
        b, t = ids.shape
        if not start <= _SLOT < start + t:
            return x
        slot = _SLOT - start
        if self.none_id is None:
            use = torch.ones(b, dtype=torch.bool, device=ids.device)
        else:
            use = ids[:, slot] != self.none_id
        if not bool(use.any()):
            return x
        if self._condition is None:
            raise InputError("the text-conditioned model needs a sentence embedding for its header "
                             "(forward(ids, condition=...) or `with model.conditioned(embedding):`)")
        cond = self._condition
        if cond.shape[0] not in (1, b):
            raise InputError(f"{cond.shape[0]} sentence embeddings for a batch of {b} sequences")
        projected = self.project(cond).to(x.dtype).expand(b, -1)
        new = torch.where(use[:, None], projected, x[:, slot])
        return torch.cat([x[:, :slot], new[:, None], x[:, slot + 1:]], dim=1)


def from_token_model(model: MusicTransformer, *, none_id=None, quadrant_ids=None) -> TextConditionedTransformer:
    """A :class:`TextConditionedTransformer` with ``model``'s weights; projection bias = mean quadrant-token embedding.

    Parameters
    ----------
    model : MusicTransformer
        The token-conditioned model (e.g. ``load_generator().model``).
    none_id : int, optional
        ``Qnone``'s id (kept unconditional).
    quadrant_ids : sequence of int, optional
        Ids of ``Q1..Q4``: the projection's bias starts at the mean of their embeddings.

    Examples
    --------
    >>> cfg = TransformerConfig(d_model=32, n_layers=1, n_heads=2, context=16)
    >>> text = from_token_model(MusicTransformer(cfg), quadrant_ids=[2, 3, 4, 5])
    >>> text.config == cfg
    True
    """
    text = TextConditionedTransformer(model.config, none_id=none_id).to(model.tok.weight.device)
    missing = text.load_state_dict(model.state_dict(), strict=False).missing_keys
    assert all(k.startswith(("text_norm", "text_proj")) for k in missing), missing
    if quadrant_ids is not None:
        with torch.no_grad():
            text.text_proj.bias.copy_(model.tok.weight[list(quadrant_ids)].mean(0))
            text.text_proj.weight.mul_(0.1)
    return text


def fit_projection(model: TextConditionedTransformer, embeddings, quadrants, quadrant_ids, *, ridge: float = 1.0):
    """Set the projection to the ridge map from sentence embeddings to their quadrant tokens' embeddings.

    Solves ``min ‖LN(E) W + b − T‖² + ridge ‖W‖²`` where row ``i`` of ``T`` is the token embedding
    of ``Q<quadrants[i]>``, so a sentence starts where its quadrant's token is.

    Examples
    --------
    >>> import numpy as np
    >>> cfg = TransformerConfig(d_model=32, n_layers=1, n_heads=2, context=16)
    >>> m = TextConditionedTransformer(cfg)
    >>> e = np.random.default_rng(0).normal(size=(40, 384)); q = np.arange(40) % 4 + 1
    >>> fit_projection(m, e, q, [2, 3, 4, 5]) < 1.0
    True
    """
    import numpy as np

    e = _check_embedding(embeddings, model.embed_dim)
    q = np.asarray(quadrants, dtype=int)
    if len(q) != len(e) or not set(q.tolist()) <= {1, 2, 3, 4}:
        raise InputError("fit_projection needs one quadrant (1-4) per embedding")
    with torch.no_grad():
        x = model.text_norm(e.to(model.tok.weight.device)).double()
        target = model.tok.weight[torch.as_tensor([quadrant_ids[k - 1] for k in q])].double()
        mx, mt = x.mean(0), target.mean(0)
        xc, tc = x - mx, target - mt
        w = torch.linalg.solve(xc.T @ xc + ridge * torch.eye(x.shape[1], dtype=x.dtype), xc.T @ tc)
        model.text_proj.weight.copy_(w.T.float())
        model.text_proj.bias.copy_((mt - mx @ w).float())
        err = (model.project(e) - target.float()).pow(2).sum(1).mean()
        residual = float(err / target.float().pow(2).sum(1).mean())
    return residual


# -- pairs --------------------------------------------------------------------------------------------
def text_pairs(data_dir=None, *, per_quadrant=None, seed: int = 0) -> dict:
    """Sentences with an EMOPIA quadrant per EMOPIA split: ``{split: {"texts", "quadrants", "source"}}``.

    Parameters
    ----------
    data_dir : str or Path, optional
        Folder with ``emobank/`` and ``goemotions/`` (:func:`scoringkit.emotion.train.find_data_dir`).
    per_quadrant : dict, optional
        Most sentences kept per (split, quadrant), e.g. ``{"train": 1000, "val": 150, "test": 150}``
        (a seeded random subset; None keeps all).
    seed : int

    Raises
    ------
    InputError
        If the data are missing.
    """
    import numpy as np

    from ...emotion.train import load_emobank, load_goemotions
    from ...types import EMOTION_LABELS

    rows = []  # (split, quadrant, text, source)
    texts, valence, arousal, split = load_emobank(data_dir)
    for text, v, a, s in zip(texts, valence, arousal, split):
        dv, da = v - 3.0, a - 3.0
        if abs(dv) < EMOBANK_MARGIN or abs(da) < EMOBANK_MARGIN or s not in _TEXT_SPLIT:
            continue
        q = (1 if da > 0 else 4) if dv > 0 else (2 if da > 0 else 3)
        rows.append((_TEXT_SPLIT[s], q, text, "emobank"))
    g_texts, g_labels, g_split = load_goemotions(data_dir)
    for text, label, s in zip(g_texts, g_labels, g_split):
        q = GOEMOTIONS_QUADRANT.get(EMOTION_LABELS[label])
        if q is not None and s in _TEXT_SPLIT:
            rows.append((_TEXT_SPLIT[s], q, text, "goemotions"))
    rng = np.random.default_rng(seed)
    out = {}
    for name in ("train", "val", "test"):
        chosen = []
        for q in (1, 2, 3, 4):
            group = sorted({(t, src) for s, qq, t, src in rows if s == name and qq == q})
            if per_quadrant and per_quadrant.get(name) and len(group) > per_quadrant[name]:
                group = [group[i] for i in sorted(rng.choice(len(group), per_quadrant[name], replace=False))]
            chosen += [(t, q, src) for t, src in group]
        out[name] = {"texts": [t for t, _, _ in chosen], "quadrants": np.array([q for _, q, _ in chosen]),
                     "source": [src for _, _, src in chosen]}
    return out


def sentence_embeddings(texts, *, cache: bool = True, progress: bool = False):
    """Sentence embeddings of ``texts`` (:func:`~scoringkit.emotion.encoder.embed_texts`), cached as ``.npy``.

    The cache file under ``~/.cache/scoringkit`` is named by a hash of the texts and of the encoder
    checkpoint, so a changed list or encoder computes afresh.
    """
    import numpy as np

    from ...emotion.encoder import default_checkpoint, embed_texts
    from .data import token_cache_dir

    ckpt = default_checkpoint()
    h = hashlib.sha256("\n".join(texts).encode("utf-8"))
    if ckpt.is_file():
        h.update(str(ckpt.stat().st_size).encode() + str(ckpt.stat().st_mtime_ns).encode())
    path = token_cache_dir() / f"sentence_embeddings_{len(texts)}_{h.hexdigest()[:16]}.npy"
    if cache and path.is_file():
        return np.load(path)
    parts, step = [], 512
    bar = _bar(len(texts), "embedding sentences", progress)
    for i in range(0, len(texts), step):
        parts.append(embed_texts(list(texts[i:i + step])))
        bar.update(len(parts[-1]))
    bar.close()
    out = np.concatenate(parts) if parts else np.zeros((0, EMBED_DIM), np.float32)
    if cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, out)
    return out


def _bar(total, desc, enabled):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, disable=not enabled, leave=False)


# -- training ------------------------------------------------------------------------------------------
def pair_loss(model, ids, condition=None, header: int = 5):
    """Summed next-token cross-entropy of the music tokens of ``ids`` and their count (header given, PAD ignored).

    ``condition`` (batch, embed_dim) is passed to a :class:`TextConditionedTransformer`; the token model
    ignores it (its condition is the header token).
    """
    import torch.nn.functional as F

    if isinstance(model, TextConditionedTransformer):
        logits = model(ids[:, :-1], condition=condition)
    else:
        logits = model(ids[:, :-1])
    targets = ids[:, 1:].clone()
    targets[:, :header - 1] = 0
    loss = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=0,
                           reduction="sum")
    return loss, int((targets != 0).sum())


def _draw(pool_by_q, quadrants, rng):
    """One sentence index per quadrant in ``quadrants`` from ``pool_by_q`` (quadrant → index array)."""
    return [int(pool_by_q[int(q)][rng.integers(len(pool_by_q[int(q)]))]) for q in quadrants]


def _pools(quadrants):
    import numpy as np

    q = np.asarray(quadrants)
    return {k: np.flatnonzero(q == k) for k in (1, 2, 3, 4)}


def evaluate_pairs(model, windows, embeddings, quadrants, *, mismatch: bool = False, batch_size: int = 8,
                   seed: int = 0, max_windows=None, quadrant_ids=None) -> dict:
    """NLL per music token of ``windows`` (a TokenWindowDataset), each with a sentence of its quadrant.

    Parameters
    ----------
    model : MusicTransformer or TextConditionedTransformer
    windows : TokenWindowDataset
        Labelled windows (evaluated without augmentation).
    embeddings, quadrants
        Sentence embeddings and their quadrants (the held-out sentences).
    mismatch : bool
        Give each window a sentence of the *opposite* quadrant (Q1↔Q3, Q2↔Q4) instead; a token model
        gets the opposite quadrant's token (``quadrant_ids`` needed).
    quadrant_ids : sequence of int, optional
        Ids of ``Q1..Q4`` (for ``mismatch`` with a token model).
    seed : int
        Which sentence each window gets (the same for every model).

    Returns
    -------
    dict
        ``loss`` (nats per token), ``tokens``, ``windows``.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    pools = _pools(quadrants)
    n = len(windows)
    index = np.arange(n) if not max_windows or max_windows >= n else \
        np.unique(np.linspace(0, n - 1, int(max_windows)).round().astype(int))
    emb = torch.as_tensor(np.asarray(embeddings), dtype=torch.float32)
    saved, windows.augment = windows.augment, False
    was = model.training
    model.eval()
    total, count = 0.0, 0
    try:
        with torch.no_grad():
            for start in range(0, len(index), batch_size):
                items = [windows[int(i)] for i in index[start:start + batch_size]]
                ids = torch.stack([it["ids"] for it in items])
                qs = [int(it["quadrant"]) for it in items]
                if mismatch:
                    qs = [(q + 1) % 4 + 1 for q in qs]
                    if not isinstance(model, TextConditionedTransformer):
                        if quadrant_ids is None:
                            raise InputError("mismatch with a token model needs quadrant_ids")
                        ids = ids.clone()
                        ids[:, _SLOT] = torch.as_tensor([quadrant_ids[q - 1] for q in qs])
                cond = emb[_draw(pools, qs, rng)]
                loss, k = pair_loss(model, ids, cond)
                total += float(loss)
                count += k
    finally:
        windows.augment = saved
        model.train(was)
    return {"loss": total / max(1, count), "tokens": count, "windows": int(len(index))}


def _load_data(data_dir, tokenizer, length, seed, per_quadrant, progress):
    from .data import TokenWindowDataset, load_emopia_tokens
    from .train import label_keys

    corpus = label_keys(load_emopia_tokens(data_dir, tokenizer=tokenizer, progress=progress), tokenizer)
    sets = {s: TokenWindowDataset(corpus.subset(s), tokenizer, length=length, augment=(s == "train"), seed=seed)
            for s in ("train", "val", "test")}
    pairs = text_pairs(data_dir, per_quadrant=per_quadrant, seed=seed)
    for s in pairs:
        pairs[s]["embeddings"] = sentence_embeddings(pairs[s]["texts"], progress=progress)
    return corpus, sets, pairs


def train_pairs(*, variant: str = "text", steps: int = 100, batch_size: int = 8, length: int = 256,
                lr: float = 3e-4, proj_lr: float = 3e-3, warmup: int = 10, seed: int = 0, init: str = "quadrants",
                base=None, out=None, data_dir=None, data=None, val_windows: int = 32, eval_every: int = 0,
                max_minutes=None, progress: bool = True, threads=None, overwrite: bool = False) -> dict:
    """Fine-tune the token model (``variant="token"``) or the text variant (``"text"``) on EMOPIA clips.

    Both variants see the same windows in the same order (same seed); the token model reads each
    clip's quadrant token, the text model a random training sentence of the clip's quadrant.

    Parameters
    ----------
    variant : {"text", "token"}
    steps, batch_size, length
        Optimiser steps, windows per step, tokens per window (≤ the model's context).
    lr, proj_lr
        Peak learning rate of the Transformer and of the projection (warm-up then cosine).
    init : {"quadrants", "mean"}
        Projection start (see the module docstring).
    base : TransformerGenerator, optional
        Model to start from; default the shipped one (:func:`~.transformer.load_generator`).
    out : str or Path, optional
        Where to write the fine-tuned checkpoint (float32, no optimiser state), atomically.
    overwrite : bool
        Replace an existing ``out``; without it an existing file is refused before training starts.
    data : tuple, optional
        ``(corpus, window sets, pairs)`` as built internally (tests pass made-up ones).
    val_windows : int
        Validation windows (EMOPIA ``val`` with ``dev`` sentences) at the end and every ``eval_every``.
    max_minutes : float, optional
        Stop early (the schedule still ends at ``steps``).

    Returns
    -------
    dict
        ``model``, ``step``, ``val_loss``, ``train_loss`` (last 10 steps), ``seconds``, ``history``.

    Examples
    --------
    See ``tests/test_text_conditioned.py`` (a tiny model on made-up pairs).
    """
    import numpy as np

    from .train import lr_at
    from .transformer import load_generator

    if variant not in ("text", "token"):
        raise InputError(f"variant must be 'text' or 'token', got {variant!r}")
    if out is not None:
        from ...io import check_writable

        check_writable([out], overwrite=overwrite)
    if init not in ("quadrants", "mean"):
        raise InputError(f"init must be 'quadrants' or 'mean', got {init!r}")
    for name, value in (("steps", steps), ("batch_size", batch_size), ("length", length)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise InputError(f"{name} must be a positive integer, got {value!r}")
    if threads:
        torch.set_num_threads(int(threads))
    gen = base if base is not None else load_generator()
    tokenizer = gen.tokenizer
    if length > gen.model.config.context or length < 8:
        raise InputError(f"length must be 8..{gen.model.config.context} tokens, got {length}")
    corpus, sets, pairs = data if data is not None else _load_data(data_dir, tokenizer, length, seed, _CAPS, progress)
    qids = [tokenizer.condition_id(q) for q in (1, 2, 3, 4)]
    torch.manual_seed(seed)
    if variant == "text":
        model = from_token_model(gen.model, none_id=tokenizer.condition_id(None), quadrant_ids=qids)
        if init == "quadrants":
            fit_projection(model, pairs["train"]["embeddings"], pairs["train"]["quadrants"], qids)
    else:
        model = MusicTransformer(gen.model.config)
        model.load_state_dict(gen.model.state_dict())
    model.train()
    proj = [p for n, p in model.named_parameters() if n.startswith(("text_norm", "text_proj"))]
    rest = [p for n, p in model.named_parameters() if not n.startswith(("text_norm", "text_proj"))]
    decay = [p for p in rest if p.dim() >= 2]
    groups = [{"params": decay, "weight_decay": 0.1, "peak": lr},
              {"params": [p for p in rest if p.dim() < 2], "weight_decay": 0.0, "peak": lr}]
    if proj:
        groups.append({"params": proj, "weight_decay": 0.0, "peak": proj_lr})
    optimizer = torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.95))
    train_set = sets["train"]
    emb = {s: torch.as_tensor(pairs[s]["embeddings"], dtype=torch.float32) for s in pairs}
    pools = {s: _pools(pairs[s]["quadrants"]) for s in pairs}
    order_rng = np.random.default_rng([seed, 1])   # windows: the same for both variants
    text_rng = np.random.default_rng([seed, 2])    # sentences
    labelled = np.array([i for i in range(len(train_set))
                         if int(train_set.corpus.quadrants[train_set.items[i][0]]) in (1, 2, 3, 4)])
    if len(labelled) < batch_size:
        raise InputError(f"only {len(labelled)} labelled training windows for a batch of {batch_size}")
    history, recent = [], []
    started = time.perf_counter()
    bar = _bar(steps, f"fine-tune {variant}", progress)
    step = 0

    def validate():
        r = evaluate_pairs(model, sets["val"], pairs["val"]["embeddings"], pairs["val"]["quadrants"], seed=seed,
                           max_windows=val_windows)
        history.append({"step": step, "val_loss": r["loss"]})
        return r["loss"]

    for step in range(1, steps + 1):
        for g in optimizer.param_groups:
            g["lr"] = lr_at(step - 1, lr=g["peak"], steps=steps, warmup=warmup)
        train_set.set_epoch(step)
        chosen = order_rng.choice(labelled, batch_size, replace=False)
        items = [train_set[int(i)] for i in chosen]
        ids = torch.stack([it["ids"] for it in items])
        cond = emb["train"][_draw(pools["train"], [int(it["quadrant"]) for it in items], text_rng)]
        loss, count = pair_loss(model, ids, cond)
        optimizer.zero_grad(set_to_none=True)
        (loss / max(1, count)).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        recent = (recent + [float(loss.detach()) / max(1, count)])[-10:]
        bar.update(1)
        bar.set_postfix(loss=f"{recent[-1]:.3f}")
        if eval_every and step % eval_every == 0 and step < steps:
            bar.set_postfix(loss=f"{recent[-1]:.3f}", val=f"{validate():.3f}")
        if max_minutes and time.perf_counter() - started > 60 * float(max_minutes):
            break
    bar.close()
    val = validate() if val_windows else None
    seconds = time.perf_counter() - started
    result = {"model": model.eval(), "step": step, "val_loss": val, "train_loss": float(np.mean(recent)),
              "seconds": seconds, "history": history}
    if out is not None:
        _save(model, gen, out, variant=variant, facts={
            "step": step, "steps": steps, "batch_size": batch_size, "length": length, "lr": lr, "proj_lr": proj_lr,
            "warmup": warmup, "seed": seed, "init": init if variant == "text" else None, "val_loss": val,
            "seconds": round(seconds, 1), "history": history,
            "pairs": {s: {"sentences": len(pairs[s]["texts"])} for s in pairs}})
    return result


#: Sentences kept per quadrant and split for training runs (a seeded subset: embedding all ~45 k takes minutes).
_CAPS = {"train": 1500, "val": 200, "test": 200}


def _save(model, gen, out, *, variant, facts):
    from .checkpoint import save_checkpoint

    meta = dict(gen.metadata)
    meta.pop("optimizer", None)
    meta["kind"] = "text_transformer" if variant == "text" else "transformer"
    meta.update(config=model.config.to_dict(), tokenizer=gen.tokenizer.config(), vocab_hash=gen.tokenizer.vocab_hash)
    meta["training"] = {**facts, "fine_tuned_from": "transformer_emopia.safetensors",
                        "torch": torch.__version__, "command": " ".join(sys.argv)}
    if variant == "text":
        meta["text"] = {"embed_dim": model.embed_dim, "none_id": model.none_id,
                        "encoder": "scoringkit.emotion.encoder.embed_texts (fine-tuned all-MiniLM-L6-v2, mean-pooled)"}
    return save_checkpoint(out, model.state_dict(), meta)


# -- generating ------------------------------------------------------------------------------------------
class TextConditionedGenerator(TransformerGenerator):
    """A :class:`~.transformer.TransformerGenerator` whose condition is a sentence (or its embedding).

    ``generate(text_or_embedding, intent, duration=..., seed=...)``: the intent still gives the key,
    meter, tempo, loudness, register and instruments; the text replaces the quadrant token.
    """

    def embedding_of(self, text_or_embedding):
        """(1, embed_dim) tensor from a non-empty string or an array of ``embed_dim`` numbers."""
        if isinstance(text_or_embedding, str):
            if not text_or_embedding.strip():
                raise InputError("the scene text is empty; pass the scene's sentences (or their embedding)")
            from ...emotion.encoder import embed_texts

            return torch.as_tensor(embed_texts([text_or_embedding]))
        if text_or_embedding is None or isinstance(text_or_embedding, (bool, numbers.Number, bytes, dict)):
            raise InputError(f"generate needs a scene text (str) or a {self.model.embed_dim}-d embedding, "
                             f"not {type(text_or_embedding).__name__}")
        e = _check_embedding(text_or_embedding, self.model.embed_dim)
        if e.shape[0] != 1:
            raise InputError(f"one embedding per cue, got {e.shape[0]}")
        return e

    def generate(self, text_or_embedding, intent: MusicalIntent = None, *, duration: float = 20.0, seed: int = 0,
                 **options):
        """Sample a cue for a scene: ``text_or_embedding`` conditions the music, ``intent`` sets the rest.

        Parameters
        ----------
        text_or_embedding : str or array of shape (384,)
        intent : MusicalIntent, optional
            Default: ``emotion_to_intent(analyze_text(text))`` for a text (an embedding needs one).
        duration, seed, **options
            As in :meth:`TransformerGenerator.generate`.

        Returns
        -------
        Score
        """
        emb = self.embedding_of(text_or_embedding)
        if intent is None:
            if not isinstance(text_or_embedding, str):
                raise InputError("generate from an embedding needs an intent (key, tempo, ...)")
            from ... import analyze_text, emotion_to_intent

            intent = emotion_to_intent(analyze_text(text_or_embedding))
        with self.model.conditioned(emb):
            return super().generate(intent, duration=duration, seed=seed, **options)


def load_text_generator(checkpoint) -> TextConditionedGenerator:
    """Load a checkpoint written by :func:`train_pairs` with ``variant="text"``.

    Raises
    ------
    ModelError
        Missing, damaged or not a text-conditioned checkpoint.
    """
    from .checkpoint import load_checkpoint
    from .tokenizer import RemiTokenizer

    path = Path(checkpoint)
    if not path.is_file():
        raise ModelError(f"no text-conditioned checkpoint at {str(path)!r}; train one with "
                         "`python -m scoringkit.generate.models.text_conditioned --variant text --out PATH`")
    state, meta = load_checkpoint(path, kind="text_transformer")
    tokenizer = RemiTokenizer.from_dict({"format": "scoringkit.remi", "version": 1, "config": meta["tokenizer"]})
    config = TransformerConfig.from_dict(meta["config"])
    text = meta.get("text", {})
    model = TextConditionedTransformer(config, embed_dim=int(text.get("embed_dim", EMBED_DIM)),
                                       none_id=text.get("none_id"))
    try:
        model.load_state_dict({k: v.float() for k, v in state.items()}, strict=True)
    except RuntimeError as err:
        raise ModelError(f"the weights in {str(path)!r} do not fit the stored config: {err}") from None
    return TextConditionedGenerator(model.eval(), tokenizer, meta)


def generate(text_or_embedding, intent: MusicalIntent = None, duration: float = 20.0, seed: int = 0, *,
             checkpoint, **options) -> Score:
    """Compose a cue with a text-conditioned checkpoint: :meth:`TextConditionedGenerator.generate`.

    Examples
    --------
    >>> cue = generate("The storm broke over the harbour.", duration=6, checkpoint="text.safetensors")  # doctest: +SKIP
    """
    return load_text_generator(checkpoint).generate(text_or_embedding, intent, duration=duration, seed=seed,
                                                    **options)


# -- command line ---------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m scoringkit.generate.models.text_conditioned",
                                description="Fine-tune the token- or text-conditioned music Transformer from the "
                                            "shipped checkpoint on EMOPIA clips paired with EmoBank/GoEmotions "
                                            "sentences of the same quadrant.")
    p.add_argument("--variant", choices=("text", "token"), default="text")
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--length", type=int, default=256, help="tokens per training window (default 256)")
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--proj-lr", type=float, default=3e-3)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--init", choices=("quadrants", "mean"), default="quadrants")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--val-windows", type=int, default=32)
    p.add_argument("--eval-every", type=int, default=0)
    p.add_argument("--max-minutes", type=float, default=None)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--data", default=None, help="data folder (default: $SCORINGKIT_DATA or ../shared/data)")
    p.add_argument("--out", required=True, help="checkpoint to write (do not put it in scoringkit/assets)")
    p.add_argument("--force", action="store_true", help="replace --out if it exists")
    p.add_argument("--no-progress", action="store_true")
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        r = train_pairs(variant=args.variant, steps=args.steps, batch_size=args.batch_size, length=args.length,
                        lr=args.lr, proj_lr=args.proj_lr, warmup=args.warmup, seed=args.seed, init=args.init,
                        out=args.out, data_dir=args.data, val_windows=args.val_windows, eval_every=args.eval_every,
                        max_minutes=args.max_minutes, progress=not args.no_progress, threads=args.threads,
                        overwrite=args.force)
    except (InputError, ModelError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"{args.variant}: {r['step']} steps in {r['seconds']:.0f} s, train loss {r['train_loss']:.4f}, "
          f"val loss {r['val_loss']}" + f" -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
