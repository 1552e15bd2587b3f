"""Learned generators: tokens, training data and (later) the models themselves.

* :mod:`~scoringkit.generate.models.tokenizer`: :class:`RemiTokenizer`, a REMI-like
  event vocabulary for :class:`~scoringkit.types.Score` (bar, position, program, pitch,
  velocity, duration, tempo, key, meter and an EMOPIA quadrant condition token).
* :mod:`~scoringkit.generate.models.data`: EMOPIA (and optionally the music21 corpus)
  as cached token sequences, transposition augmentation, fixed-length windows and a
  PyTorch-ready dataset.
* :mod:`~scoringkit.generate.models.transformer`: the emotion-conditioned decoder-only
  Transformer, its KV-cache sampler and ``generate(intent, duration, seed)``
  (``compose(..., generator="transformer")``).
* :mod:`~scoringkit.generate.models.checkpoint`: safetensors checkpoints with JSON
  metadata (never unpickled); :mod:`~scoringkit.generate.models.train`: the training loop
  (notebook, ``scoringkit train transformer``, ``torchrun``).

Names load lazily: importing this package imports neither numpy nor torch.

Examples
--------
>>> from scoringkit.generate import models
>>> models.RemiTokenizer().vocab[:3]
['PAD', 'BOS', 'EOS']
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "RemiTokenizer": "tokenizer", "METERS": "tokenizer", "DRUMS": "tokenizer", "PIANO_RANGE": "tokenizer",
    "TokenCorpus": "data", "load_emopia_tokens": "data", "load_music21_tokens": "data", "music21_to_score": "data",
    "transpositions": "data", "windows": "data", "TokenWindowDataset": "data", "token_cache_dir": "data",
    "TransformerConfig": "transformer", "MusicTransformer": "transformer", "TransformerGenerator": "transformer",
    "load_generator": "transformer", "save_checkpoint": "checkpoint", "load_checkpoint": "checkpoint",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return __all__
