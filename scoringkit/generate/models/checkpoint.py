"""Checkpoints of the learned generators: safetensors weights + JSON metadata, never pickle.

One file holds

* the model's tensors (``float32`` while training, ``float16`` when exported to ship),
* optionally the optimizer's state under ``optimizer/<param index>/<name>`` (for ``resume=``),
* one JSON document in the safetensors header (key ``"scoringkit"``)::

      {"format": "scoringkit.checkpoint", "version": 1, "kind": "transformer",
       "config": {...model shape...}, "tokenizer": {...RemiTokenizer.config()...},
       "vocab_hash": "<sha256 of the token names>", "weights_sha256": "<sha256 of the weights>",
       "training": {"step": 1200, "val_loss": 1.93, ...}, "data": {...}, "optimizer": {...}}

Loading (:func:`load_checkpoint`) reads the header with :func:`safetensors.safe_open`, which
parses JSON and raw tensor bytes only: no Python object is ever unpickled. It checks the
format, version and kind, recomputes the weights' hash (a damaged or edited file is refused)
and returns plain tensors; the caller checks the vocabulary hash and the config against the
code it runs (:func:`scoringkit.generate.models.transformer.load_generator` does).

Examples
--------
>>> import tempfile, pathlib, torch
>>> path = pathlib.Path(tempfile.mkdtemp()) / "tiny.safetensors"
>>> _ = save_checkpoint(path, {"w": torch.ones(2, 3)}, {"kind": "demo", "config": {"n": 1}})
>>> state, meta = load_checkpoint(path, kind="demo")
>>> state["w"].shape, meta["config"], meta["format"]
(torch.Size([2, 3]), {'n': 1}, 'scoringkit.checkpoint')
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ...errors import InputError, ModelError

__all__ = ["save_checkpoint", "load_checkpoint", "read_metadata", "weights_hash", "export_checkpoint",
           "CHECKPOINT_FORMAT", "CHECKPOINT_VERSION"]

#: ``format`` field of every scoringkit generator checkpoint.
CHECKPOINT_FORMAT = "scoringkit.checkpoint"
#: Version of the layout; files of another version are refused with a clear message.
CHECKPOINT_VERSION = 1
_OPT = "optimizer/"


def weights_hash(tensors: dict) -> str:
    """SHA-256 over the names, dtypes, shapes and bytes of the tensors (sorted by name)."""
    import torch

    digest = hashlib.sha256()
    for name in sorted(tensors):
        t = tensors[name].detach().to("cpu").contiguous()
        digest.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        digest.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def _flatten_optimizer(state_dict) -> tuple:
    tensors, scalars = {}, {}
    for index, entry in state_dict.get("state", {}).items():
        for name, value in entry.items():
            if hasattr(value, "detach"):
                tensors[f"{_OPT}{index}/{name}"] = value.detach().to("cpu").contiguous()
            else:
                scalars[f"{index}/{name}"] = value
    return tensors, {"param_groups": state_dict.get("param_groups", []), "scalars": scalars}


def _unflatten_optimizer(tensors: dict, info: dict) -> dict:
    state = {}
    for key, value in tensors.items():
        index, name = key[len(_OPT):].split("/", 1)
        state.setdefault(int(index), {})[name] = value
    for key, value in info.get("scalars", {}).items():
        index, name = key.split("/", 1)
        state.setdefault(int(index), {})[name] = value
    return {"state": state, "param_groups": info.get("param_groups", [])}


def save_checkpoint(path, state_dict: dict, metadata: dict, *, optimizer=None, dtype=None,
                    overwrite: bool = True) -> Path:
    """Write weights (and optionally an optimizer's state) with JSON metadata, atomically.

    Parameters
    ----------
    path : str or Path
    state_dict : dict of str to torch.Tensor
        The model's ``state_dict()``.
    metadata : dict
        JSON-serialisable facts; ``format`` and ``version`` are added, ``kind`` should
        name the model (``"transformer"``, ...).
    optimizer : torch.optim.Optimizer or its state_dict, optional
        Saved for :func:`load_checkpoint` ``(..., optimizer=True)`` / training resume.
    dtype : torch.dtype, optional
        Cast floating weights (e.g. ``torch.float16`` to ship a file half the size).
    overwrite : bool
        Replace an existing file (default True: training rewrites its checkpoint).

    Returns
    -------
    Path
    """
    import os
    import tempfile

    from safetensors.torch import save_file

    from ...io import atomic_write

    tensors = {}
    for name, value in state_dict.items():
        t = value.detach().to("cpu")
        if dtype is not None and t.is_floating_point():
            t = t.to(dtype)
        tensors[name] = t.contiguous().clone()
    if any(name.startswith(_OPT) for name in tensors):
        raise InputError(f"weight names may not start with {_OPT!r}")
    meta = {**metadata, "format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION,
            "weights_sha256": weights_hash(tensors)}
    meta.pop("optimizer", None)
    if optimizer is not None:
        opt_state = optimizer.state_dict() if hasattr(optimizer, "state_dict") else optimizer
        opt_tensors, info = _flatten_optimizer(opt_state)
        tensors.update(opt_tensors)
        meta["optimizer"] = info
    try:
        header = {"scoringkit": json.dumps(meta, allow_nan=False)}
    except (TypeError, ValueError) as err:
        raise InputError(f"checkpoint metadata must be plain JSON data ({err})") from None
    path = Path(path)
    with tempfile.TemporaryDirectory() as tmp:
        file = os.path.join(tmp, "ckpt.safetensors")
        save_file(tensors, file, metadata=header)
        data = Path(file).read_bytes()
    return atomic_write(path, lambda f: f.write(data), overwrite=overwrite)


def read_metadata(path) -> dict:
    """The JSON metadata of a checkpoint, without reading its tensors.

    Raises
    ------
    ModelError
        If the file is missing, not a safetensors file, or not a scoringkit checkpoint.
    """
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise ModelError(f"no checkpoint at {str(path)!r}; check the path")
    try:
        with safe_open(str(path), "pt") as f:
            raw = (f.metadata() or {}).get("scoringkit")
    except Exception as err:  # safetensors raises several types for damaged files
        raise ModelError(f"{str(path)!r} is not a readable safetensors checkpoint ({type(err).__name__}: {err}); "
                         "it may be truncated or not a checkpoint at all: retrain or re-download it") from None
    if raw is None:
        raise ModelError(f"{str(path)!r} is a safetensors file but not a scoringkit checkpoint (no metadata)")
    try:
        meta = json.loads(raw)
    except json.JSONDecodeError as err:
        raise ModelError(f"the metadata of {str(path)!r} is not valid JSON ({err})") from None
    if not isinstance(meta, dict) or meta.get("format") != CHECKPOINT_FORMAT:
        raise ModelError(f"{str(path)!r} is not a scoringkit generator checkpoint (format {meta.get('format')!r})"
                         if isinstance(meta, dict) else f"{str(path)!r} has malformed metadata")
    if meta.get("version") != CHECKPOINT_VERSION:
        raise ModelError(f"{str(path)!r} is checkpoint version {meta.get('version')!r}; this scoringkit reads "
                         f"version {CHECKPOINT_VERSION}: retrain it with this version")
    return meta


def load_checkpoint(path, *, kind=None, optimizer: bool = False):
    """Read a checkpoint written by :func:`save_checkpoint` (safetensors only, never unpickles).

    Parameters
    ----------
    path : str or Path
    kind : str, optional
        Expected ``metadata["kind"]`` (e.g. ``"transformer"``); another kind raises.
    optimizer : bool
        Also return the optimizer state (None if the file has none).

    Returns
    -------
    (dict, dict) or (dict, dict, dict or None)
        ``(weights, metadata)`` or ``(weights, metadata, optimizer_state)``.

    Raises
    ------
    ModelError
        Missing, damaged, of another format, version or kind, or whose weights do not
        match their stored hash.
    """
    from safetensors import safe_open

    meta = read_metadata(path)
    if kind is not None and meta.get("kind") != kind:
        raise ModelError(f"{str(path)!r} is a {meta.get('kind')!r} checkpoint, not a {kind!r} one; "
                         f"pass a {kind} checkpoint")
    try:
        with safe_open(str(path), "pt") as f:
            tensors = {name: f.get_tensor(name) for name in f.keys()}
    except Exception as err:
        raise ModelError(f"cannot read the tensors of {str(path)!r} ({type(err).__name__}: {err})") from None
    weights = {k: v for k, v in tensors.items() if not k.startswith(_OPT)}
    opt_tensors = {k: v for k, v in tensors.items() if k.startswith(_OPT)}
    if meta.get("weights_sha256") != weights_hash(weights):
        raise ModelError(f"the weights in {str(path)!r} do not match their stored hash: the file is damaged or "
                         "was edited; retrain or re-install it")
    if not optimizer:
        return weights, meta
    opt = _unflatten_optimizer(opt_tensors, meta["optimizer"]) if "optimizer" in meta else None
    return weights, meta, opt


def export_checkpoint(source, target, *, dtype="float16", overwrite: bool = False) -> Path:
    """Copy a training checkpoint without its optimizer state, weights cast to ``dtype`` (to ship it).

    Examples
    --------
    >>> import tempfile, pathlib, torch
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = save_checkpoint(d / "a.safetensors", {"w": torch.ones(4)}, {"kind": "demo"}, optimizer={"state": {}})
    >>> _ = export_checkpoint(d / "a.safetensors", d / "b.safetensors")
    >>> load_checkpoint(d / "b.safetensors")[0]["w"].dtype
    torch.float16
    """
    import torch

    weights, meta = load_checkpoint(source)
    cast = {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32}.get(str(dtype))
    if cast is None:
        raise InputError(f"dtype must be 'float16', 'bfloat16' or 'float32', got {dtype!r}")
    meta = {k: v for k, v in meta.items() if k not in ("format", "version", "weights_sha256", "optimizer")}
    meta["weights_dtype"] = str(dtype)
    return save_checkpoint(target, weights, meta, dtype=cast, overwrite=overwrite)
