"""Emotion from any Hugging Face ``transformers`` text-classification model (backend ``"hf:..."``).

``analyze_text(text, backend="hf:<model id or local path>")`` runs a sequence-classification
model (``AutoModelForSequenceClassification``) and translates its labels into scoringkit's
emotion: the seven categories of :data:`~scoringkit.types.EMOTION_LABELS` and a point on the
valence/arousal plane.

How labels become an emotion
----------------------------
Each model label is looked up (lower-cased, ``_``/``-`` read as spaces) in :data:`LABEL_TABLE`,
which gives its category and its ``(valence, arousal)`` point. For one text with label
probabilities :math:`p_i`,

.. math::

    v = \\frac{\\sum_i p_i v_i}{\\sum_i p_i}, \\qquad a = \\frac{\\sum_i p_i a_i}{\\sum_i p_i},
    \\qquad P(c) \\propto \\sum_{i:\\, c_i = c} p_i .

That is, the emotion is the probability-weighted centre of the labels' points. Probabilities
come from a softmax over the logits, or from a sigmoid per label when the model's config says
``problem_type == "multi_label_classification"`` (then the sum is not 1, hence the division).

The table covers GoEmotions' 28 labels, Ekman's six plus neutral, common sentiment labels
(positive / negative / neutral, SST-5, star ratings) and the labels of popular emotion models
(love, optimism, pessimism, anticipation, trust, ...). Categories follow the GoEmotions
Ekman grouping (Demszky et al., ACL 2020). The valence/arousal points are scoringkit's own
rounded placements on [-1, 1], read off the circumplex model of affect (Russell 1980; Posner,
Russell & Peterson 2005) and consistent with the ordering of such words in NRC-VAD-style
ratings; the six basic arousals match the lexicon backend's
:data:`~scoringkit.emotion.lexicon.CATEGORY_AROUSAL`. Sentiment labels carry only valence:
their category is a coarse stand-in (``positive`` → joy, ``negative`` → sadness).

``LABEL_TABLE`` is a plain dict: edit it to change a placement for every call, or pass
``label_map=`` to :func:`analyze_hf` for one model. Generic labels such as ``LABEL_0`` cannot be
guessed and raise an :class:`~scoringkit.errors.InputError` that says how to name them.

Long texts are never truncated: a text longer than the model's window (its
``max_position_embeddings`` / tokenizer ``model_max_length``) is cut at sentence starts into
chunks that fit (a sentence longer than a window is cut into token windows), every chunk is
classified, and the chunks' label probabilities are averaged, weighted by their token counts.

Nothing is downloaded: models load with ``local_files_only=True`` from a local folder (written
by ``save_pretrained``) or from the Hugging Face cache. On Colab or any machine with internet,
fetch a hub model once, then use its id::

    from huggingface_hub import snapshot_download
    snapshot_download("j-hartmann/emotion-english-distilroberta-base")   # needs internet

Examples
--------
The label arithmetic, without any model:

>>> from scoringkit.emotion.hf import emotion_from_label_probs, LABEL_TABLE
>>> LABEL_TABLE["grief"]
('sadness', -0.9, -0.4)
>>> e = emotion_from_label_probs({"joy": 0.8, "sadness": 0.2})   # v = 0.8*0.8 - 0.2*0.75
>>> round(e.valence, 2), round(e.arousal, 2), e.quadrant, round(e.probs["joy"], 2)
(0.49, 0.24, 1, 0.8)

With internet (e.g. on Colab), after ``snapshot_download`` as above:

>>> from scoringkit.emotion import analyze_text
>>> analyze_text("I am so angry I could scream!", backend="hf:j-hartmann/emotion-english-distilroberta-base").label  # doctest: +SKIP
'anger'
"""

from __future__ import annotations

import math
import os
import re
import warnings
from bisect import bisect_left
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache

from ..errors import InputError, ModelError
from ..types import EMOTION_LABELS, Emotion

__all__ = [
    "analyze_hf",
    "label_probabilities",
    "emotion_from_label_probs",
    "label_values",
    "load_classifier",
    "clear_cache",
    "token_chunks",
    "looks_non_english",
    "HFClassifier",
    "LABEL_TABLE",
]

#: Model label (lower case, words separated by spaces) → ``(category, valence, arousal)``.
#: Categories are names from EMOTION_LABELS; valence and arousal lie in [-1, 1].
#: Edit freely: it is read on every call.
LABEL_TABLE: dict[str, tuple[str, float, float]] = {
    # Ekman's six and neutral (arousals as in lexicon.CATEGORY_AROUSAL)
    "anger": ("anger", -0.7, 0.8),
    "disgust": ("disgust", -0.7, 0.3),
    "fear": ("fear", -0.7, 0.7),
    "joy": ("joy", 0.8, 0.45),
    "sadness": ("sadness", -0.75, -0.6),
    "surprise": ("surprise", 0.2, 0.7),
    "neutral": ("neutral", 0.0, 0.0),
    # the same, as other models spell them
    "angry": ("anger", -0.7, 0.8),
    "disgusted": ("disgust", -0.7, 0.3),
    "fearful": ("fear", -0.7, 0.7),
    "scared": ("fear", -0.7, 0.7),
    "afraid": ("fear", -0.7, 0.7),
    "happy": ("joy", 0.8, 0.45),
    "happiness": ("joy", 0.8, 0.45),
    "joyful": ("joy", 0.8, 0.45),
    "sad": ("sadness", -0.75, -0.6),
    "surprised": ("surprise", 0.2, 0.7),
    "no emotion": ("neutral", 0.0, 0.0),
    "none": ("neutral", 0.0, 0.0),
    "other": ("neutral", 0.0, 0.0),
    "others": ("neutral", 0.0, 0.0),
    # the rest of GoEmotions' 28 (category = GoEmotions' Ekman grouping)
    "admiration": ("joy", 0.65, 0.25),
    "amusement": ("joy", 0.75, 0.55),
    "annoyance": ("anger", -0.5, 0.45),
    "approval": ("joy", 0.5, 0.05),
    "caring": ("joy", 0.6, -0.1),
    "confusion": ("surprise", -0.25, 0.3),
    "curiosity": ("surprise", 0.3, 0.45),
    "desire": ("joy", 0.5, 0.6),
    "disappointment": ("sadness", -0.6, -0.3),
    "disapproval": ("anger", -0.5, 0.2),
    "embarrassment": ("sadness", -0.5, 0.4),
    "excitement": ("joy", 0.75, 0.85),
    "gratitude": ("joy", 0.75, 0.15),
    "grief": ("sadness", -0.9, -0.4),
    "love": ("joy", 0.85, 0.35),
    "nervousness": ("fear", -0.5, 0.6),
    "optimism": ("joy", 0.65, 0.25),
    "pride": ("joy", 0.65, 0.45),
    "realization": ("surprise", 0.1, 0.3),
    "relief": ("joy", 0.55, -0.45),
    "remorse": ("sadness", -0.65, -0.15),
    # other emotion models (SemEval-2018 E-c / TweetEval, ISEAR, CrowdFlower, Plutchik)
    "anticipation": ("joy", 0.3, 0.45),
    "trust": ("joy", 0.55, -0.2),
    "pessimism": ("sadness", -0.55, -0.25),
    "hate": ("anger", -0.85, 0.65),
    "contempt": ("disgust", -0.6, 0.2),
    "shame": ("sadness", -0.6, 0.25),
    "guilt": ("sadness", -0.6, 0.15),
    "worry": ("fear", -0.5, 0.4),
    "anxiety": ("fear", -0.55, 0.55),
    "frustration": ("anger", -0.55, 0.5),
    "enthusiasm": ("joy", 0.7, 0.7),
    "fun": ("joy", 0.75, 0.6),
    "boredom": ("neutral", -0.35, -0.7),
    "empty": ("sadness", -0.45, -0.65),
    "calm": ("neutral", 0.4, -0.65),
    # sentiment labels: valence only; the category is a coarse stand-in
    "positive": ("joy", 0.6, 0.1),
    "negative": ("sadness", -0.6, 0.0),
    "pos": ("joy", 0.6, 0.1),
    "neg": ("sadness", -0.6, 0.0),
    "very positive": ("joy", 0.9, 0.3),
    "very negative": ("sadness", -0.9, 0.1),
    "1 star": ("sadness", -0.8, 0.1),
    "2 stars": ("sadness", -0.4, 0.0),
    "3 stars": ("neutral", 0.0, 0.0),
    "4 stars": ("joy", 0.4, 0.05),
    "5 stars": ("joy", 0.8, 0.2),
}

# model types whose position ids start after the padding index (pad_token_id + 1), so
# max_position_embeddings overstates the usable length (RoBERTa: 514 positions, 512 tokens)
_POSITION_OFFSET_TYPES = frozenset(
    "roberta xlm-roberta xlm-roberta-xl camembert longformer data2vec-text mpnet roberta-prelayernorm "
    "ibert xmod luke mluke markuplm".split()
)
# frequent English function words; a long Latin-script text with none of them is probably not English
_ENGLISH_WORDS = frozenset(
    "the a an and or but of to in on at for with from by is are was were be been it its this that "
    "he she they we you i me my his her their our not no have has had do did will would".split()
)
_LATIN_WORD = re.compile(r"[a-z']+")
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


@dataclass(frozen=True)
class HFClassifier:
    """A loaded model with what :func:`analyze_hf` needs to run it (see :func:`load_classifier`).

    Attributes
    ----------
    location : str
        The local folder or hub id it was loaded from.
    tokenizer, model
        The ``transformers`` tokenizer and ``...ForSequenceClassification`` model (eval mode).
    labels : tuple of str
        ``config.id2label`` in logit order.
    max_tokens : int
        Longest input (special tokens included) the model accepts.
    multi_label : bool
        True when the labels are independent (sigmoid), False for one-of-N (softmax).
    """

    location: str
    tokenizer: object
    model: object
    labels: tuple
    max_tokens: int
    multi_label: bool


def analyze_hf(texts, model: str, *, label_map: dict | None = None, batch_size: int = 32) -> list[Emotion]:
    """Estimate the emotion of each text with a Hugging Face sequence-classification model.

    This is what ``analyze_text(texts, backend="hf:<model>")`` calls; call it directly to
    pass ``label_map`` or ``batch_size``.

    Parameters
    ----------
    texts : list of str
        Non-empty texts, any length (long ones are chunked at sentences, never truncated).
    model : str
        A local folder written by ``save_pretrained`` (model and tokenizer), or a hub id such
        as ``"j-hartmann/emotion-english-distilroberta-base"`` already in the Hugging Face
        cache. A folder with that name wins over a hub id. Loaded once per process.
    label_map : dict, optional
        Meaning of model labels that :data:`LABEL_TABLE` does not know (or that you want to
        place differently): label → a ``LABEL_TABLE`` name (``"negative"``) or a
        ``(category, valence, arousal)`` tuple.
    batch_size : int
        Chunks run through the model at once.

    Returns
    -------
    list of Emotion
        One per text, ``source="hf:<model>"``; valence/arousal are the probability-weighted
        mean of the labels' points (see the module notes).

    Raises
    ------
    InputError
        If ``model`` is neither a folder with a model nor a cached hub id (the message says
        how to fetch it where there is internet), is not a sequence-classification model, or
        has labels that cannot be mapped (the message lists them and shows ``label_map``).
    ModelError
        If the files are there but cannot be loaded or run.

    Warns
    -----
    UserWarning
        When texts look non-English (the label table and most models are English).

    Examples
    --------
    The mapping step on its own (``analyze_hf`` does this for every text):

    >>> e = emotion_from_label_probs({"LABEL_0": 0.9, "LABEL_1": 0.1},
    ...                              label_map={"LABEL_0": "negative", "LABEL_1": "positive"})
    >>> round(e.valence, 2), e.label
    (-0.48, 'sadness')

    On Colab, with internet, fetch a model once and use it:

    >>> from huggingface_hub import snapshot_download
    >>> snapshot_download("j-hartmann/emotion-english-distilroberta-base")  # doctest: +SKIP
    >>> analyze_hf(["What a wonderful surprise!"], "j-hartmann/emotion-english-distilroberta-base")[0].label  # doctest: +SKIP
    'surprise'
    """
    texts = _check_texts(texts)
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise InputError(f"batch_size must be a whole number >= 1, got {batch_size!r}")
    location = _locate(model)
    labels = _config_labels(location)
    values = label_values(labels, label_map=label_map)  # fail on unmappable labels before loading weights
    label_probs = label_probabilities(texts, model, batch_size=batch_size)
    source = f"hf:{model}"
    return [_emotion_from_values(row, values, source) for row in label_probs]


def label_probabilities(texts, model: str, *, batch_size: int = 32) -> list[dict]:
    """The model's own label probabilities for each text, before any mapping.

    Long texts are split with :func:`token_chunks`; a text's probabilities are the mean of
    its chunks' probabilities weighted by their token counts.

    Parameters
    ----------
    texts : list of str
    model : str
        Local folder or cached hub id (see :func:`analyze_hf`).
    batch_size : int
        Chunks per forward pass.

    Returns
    -------
    list of dict
        Per text, model label → probability (softmax: sums to 1; multi-label: each in [0, 1]).
    """
    import numpy as np

    texts = _check_texts(texts)
    classifier = load_classifier(model)
    if any(looks_non_english(text) for text in texts):
        warnings.warn(
            f"some texts do not look like English; the hf backend's label table, and most models, are "
            f"made for English, so expect lower accuracy unless {model!r} was trained on that language",
            UserWarning,
            stacklevel=3,
        )
    chunks, owners, weights = [], [], []
    with _quiet_transformers():
        for index, text in enumerate(texts):
            for ids, n_content in _chunks_with_weights(classifier.tokenizer, text, classifier.max_tokens):
                chunks.append(ids)
                owners.append(index)
                weights.append(max(1, n_content))
    chunk_probs = _run_model(classifier, chunks, batch_size)
    totals = np.zeros((len(texts), len(classifier.labels)))
    weight_sums = np.zeros(len(texts))
    np.add.at(totals, owners, chunk_probs * np.asarray(weights, dtype=float)[:, None])
    np.add.at(weight_sums, owners, weights)
    means = totals / weight_sums[:, None]
    return [dict(zip(classifier.labels, map(float, row))) for row in means]


def emotion_from_label_probs(probs: dict, *, label_map: dict | None = None, source: str = "hf") -> Emotion:
    """Map one text's label probabilities onto an :class:`~scoringkit.types.Emotion`.

    Parameters
    ----------
    probs : dict of str to float
        Model label → probability (need not sum to 1; negative values are not allowed).
    label_map : dict, optional
        Extra or replacement meanings, as in :func:`analyze_hf`.
    source : str
        Stored in the Emotion's ``source``.

    Returns
    -------
    Emotion
        Valence and arousal: probability-weighted mean of the labels' points; category
        probabilities: each label's probability added to its category, then normalised.

    Examples
    --------
    >>> e = emotion_from_label_probs({"excitement": 0.5, "nervousness": 0.5})
    >>> round(e.valence, 3), round(e.arousal, 3), e.probs["joy"], e.probs["fear"]
    (0.125, 0.725, 0.5, 0.5)
    """
    if not isinstance(probs, dict) or not probs:
        raise InputError("probs must be a non-empty dict of model label -> probability")
    labels = list(probs)
    values = label_values(labels, label_map=label_map)
    row = []
    for label in labels:
        try:
            number = float(probs[label])
        except (TypeError, ValueError):
            raise InputError(f"probability of {label!r} must be a number, not {probs[label]!r}") from None
        if not math.isfinite(number) or number < 0:
            raise InputError(f"probability of {label!r} must be a finite number >= 0, got {probs[label]!r}")
        row.append(number)
    return _emotion_from_values(dict(zip(labels, row)), values, source)


def label_values(labels, *, label_map: dict | None = None) -> list[tuple[str, float, float]]:
    """Look up ``(category, valence, arousal)`` for each model label.

    Parameters
    ----------
    labels : sequence of str
        The model's labels (``config.id2label`` values).
    label_map : dict, optional
        Label → :data:`LABEL_TABLE` name or ``(category, valence, arousal)``; takes precedence
        over the table. Keys are matched like table keys (case, ``_`` and ``-`` ignored).

    Returns
    -------
    list of (str, float, float)
        Aligned with ``labels``.

    Raises
    ------
    InputError
        Listing every label that cannot be mapped, with a ``label_map`` to copy and fill in;
        or naming a malformed ``label_map`` entry.

    Examples
    --------
    >>> label_values(["Joy", "LABEL_1"], label_map={"LABEL_1": ("fear", -0.6, 0.8)})
    [('joy', 0.8, 0.45), ('fear', -0.6, 0.8)]
    """
    labels = [str(label) for label in labels]
    overrides = {}
    if label_map is not None:
        if not isinstance(label_map, dict):
            raise InputError(
                f"label_map must be a dict of model label -> LABEL_TABLE name or (category, valence, arousal), "
                f"not {type(label_map).__name__}"
            )
        known = {_label_key(label) for label in labels}
        for key, meaning in label_map.items():
            if _label_key(str(key)) not in known:
                raise InputError(f"label_map names {key!r}, which is not one of the model's labels {labels}")
            overrides[_label_key(str(key))] = _check_meaning(key, meaning)
    values, missing = [], []
    for label in labels:
        key = _label_key(label)
        if key in overrides:
            values.append(overrides[key])
        elif key in LABEL_TABLE:
            values.append(_check_meaning(f"LABEL_TABLE[{key!r}]", LABEL_TABLE[key], from_table=True))
        else:
            missing.append(label)
    if missing:
        example = {label: meaning for label, meaning in zip(missing, ["negative", ("joy", 0.8, 0.5)])}
        example_text = "{" + ", ".join(f"{label!r}: {meaning!r}" for label, meaning in example.items()) + "}"
        generic = any(re.fullmatch(r"label \d+", _label_key(label)) for label in missing)
        raise InputError(
            f"cannot map the model's label(s) {missing} onto scoringkit's emotions: they are not in "
            "scoringkit.emotion.hf.LABEL_TABLE"
            + (" (names like LABEL_0 mean the model did not save its label names; its model card lists them)"
               if generic else "")
            + ". Say what each label means with label_map, a LABEL_TABLE "
            f"name or a (category, valence, arousal) tuple per label, e.g. "
            f"scoringkit.emotion.hf.analyze_hf(texts, model, label_map={example_text}); or add them to "
            f"LABEL_TABLE for every call. Categories are {list(EMOTION_LABELS)}; valence and arousal lie in [-1, 1]."
        )
    return values


def load_classifier(model: str) -> HFClassifier:
    """Load (once per process) a tokenizer and sequence-classification model, offline.

    Parameters
    ----------
    model : str
        Local folder or hub id already in the Hugging Face cache.

    Returns
    -------
    HFClassifier

    Raises
    ------
    InputError
        If there is no model there, or it is not a sequence-classification model.
    ModelError
        If its files cannot be loaded.

    Notes
    -----
    Loads are cached by location; after re-saving a model to the same folder, call
    :func:`clear_cache`.
    """
    return _load(_locate(model))


def clear_cache() -> None:
    """Forget loaded models and configs (e.g. after overwriting a model folder)."""
    _load.cache_clear()
    _load_config.cache_clear()


def token_chunks(tokenizer, text: str, *, max_tokens: int) -> list[list[int]]:
    """Token ids of ``text`` in pieces that fit a model window, special tokens included.

    The text is tokenized once. If it is too long, it is cut at sentence starts
    (:func:`~scoringkit.emotion.story.split_sentences`) into chunks of whole sentences, as many
    per chunk as fit; a sentence longer than a window is cut into consecutive token windows.
    Every token lands in exactly one chunk: nothing is dropped.

    Parameters
    ----------
    tokenizer
        A ``transformers`` tokenizer.
    text : str
    max_tokens : int
        Longest allowed chunk, special tokens included.

    Returns
    -------
    list of list of int
        Input ids per chunk, each with the tokenizer's special tokens (e.g. ``[CLS] ... [SEP]``).
    """
    return [ids for ids, _ in _chunks_with_weights(tokenizer, text, max_tokens)]


def looks_non_english(text: str) -> bool:
    """Guess whether a text is not English (a cheap heuristic used for a warning).

    True when at least 40 % of its letters are outside ASCII (Cyrillic, Greek, CJK, Arabic,
    heavily accented Latin), or when it has 12 or more Latin-script words and none of them
    is a common English function word (the, and, of, to, ...). Emoji and digits are ignored.

    Examples
    --------
    >>> looks_non_english("The storm broke over the bay."), looks_non_english("Буря разразилась над заливом.")
    (False, True)
    >>> looks_non_english("Der Sturm brach über die Bucht herein, und alle Boote lagen still im Hafen, leer und kalt.")
    True
    """
    letters = [c for c in text if c.isalpha()]
    if len(letters) >= 4 and sum(1 for c in letters if ord(c) > 127) >= 0.4 * len(letters):
        return True
    words = _LATIN_WORD.findall(text.lower())
    return len(words) >= 12 and not any(word.strip("'") in _ENGLISH_WORDS for word in words)


# -- internals ----------------------------------------------------------------------------


def _label_key(label: str) -> str:
    return " ".join(label.strip().lower().replace("_", " ").replace("-", " ").split())


def _check_meaning(name, meaning, *, from_table: bool = False) -> tuple[str, float, float]:
    """Validate a label meaning: a LABEL_TABLE name or a (category, valence, arousal) tuple."""
    where = f"{name}" if from_table else f"label_map[{name!r}]"
    if isinstance(meaning, str) and not from_table:
        key = _label_key(meaning)
        if key not in LABEL_TABLE:
            raise InputError(
                f"{where} = {meaning!r} is not a LABEL_TABLE name; use one of {sorted(LABEL_TABLE)} "
                "or a (category, valence, arousal) tuple"
            )
        return _check_meaning(f"LABEL_TABLE[{key!r}]", LABEL_TABLE[key], from_table=True)
    if not isinstance(meaning, (tuple, list)) or len(meaning) != 3:
        raise InputError(f"{where} must be a (category, valence, arousal) tuple, not {meaning!r}")
    category, valence, arousal = meaning
    if category not in EMOTION_LABELS:
        raise InputError(f"{where} has category {category!r}; use one of {list(EMOTION_LABELS)}")
    numbers = []
    for axis, value in (("valence", valence), ("arousal", arousal)):
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan
        if not math.isfinite(number) or not -1.0 <= number <= 1.0:
            raise InputError(f"{where} has {axis} {value!r}; it must be a number in [-1, 1]")
        numbers.append(number)
    return (category, numbers[0], numbers[1])


def _emotion_from_values(probs: dict, values: list, source: str) -> Emotion:
    total = sum(probs.values())
    if not total > 0:
        raise InputError("the label probabilities are all zero; nothing to map")
    valence = sum(p * v[1] for p, v in zip(probs.values(), values)) / total
    arousal = sum(p * v[2] for p, v in zip(probs.values(), values)) / total
    categories = dict.fromkeys(EMOTION_LABELS, 0.0)
    for p, (category, _, _) in zip(probs.values(), values):
        categories[category] += p
    clip = lambda x: min(1.0, max(-1.0, x))  # noqa: E731  (rounding can step a hair past ±1)
    return Emotion(clip(valence), clip(arousal), probs=categories, source=source)


def _check_texts(texts) -> list:
    if isinstance(texts, str):
        texts = [texts]
    if not isinstance(texts, (list, tuple)) or not texts:
        raise InputError(f"texts must be a non-empty list of strings, not {texts!r:.60}")
    for i, text in enumerate(texts):
        if not isinstance(text, str) or not text.strip():
            raise InputError(f"text (item {i}) must be a non-empty string, not {text!r:.60}")
    return list(texts)


def _locate(model) -> str:
    """A local model folder (absolute path) or a hub id; InputError for a path that is not there."""
    if not isinstance(model, str) or not model.strip():
        raise InputError(f"the hf backend needs a model id or a folder, as 'hf:<id or path>', not {model!r}")
    name = model.strip()
    path = os.path.abspath(os.path.expanduser(name))
    if os.path.exists(path):
        if not os.path.isdir(path):
            raise InputError(
                f"{path} is a file; give the folder that holds the model's config.json, weights and "
                "tokenizer (as written by model.save_pretrained(folder) and tokenizer.save_pretrained(folder))"
            )
        if not os.path.isfile(os.path.join(path, "config.json")):
            raise InputError(
                f"no transformers model in {path}: it has no config.json. Save one there with "
                "model.save_pretrained(folder) and tokenizer.save_pretrained(folder)"
            )
        return path
    if not _HUB_ID.match(name) or name.startswith((".", "~")):
        raise InputError(f"the model folder {path} does not exist; check the path given as 'hf:{name}'")
    return name


def _not_available(location: str) -> InputError:
    path = os.path.abspath(os.path.expanduser(location))
    return InputError(
        f"the model {location!r} is not on this machine: there is no folder {path} and it is not in the "
        "Hugging Face cache. scoringkit never downloads models. It needs internet once: on Colab (or any "
        f"machine online) run `from huggingface_hub import snapshot_download; snapshot_download({location!r})` "
        f"and call again with backend='hf:{location}', or save the model with save_pretrained() to a "
        "folder and pass that folder"
    )


@contextmanager
def _quiet_transformers():
    """Silence transformers' logging and progress bars (load reports, length warnings) for a while."""
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


@lru_cache(maxsize=8)
def _load_config(location: str):
    from transformers import AutoConfig

    with _quiet_transformers():
        try:
            return AutoConfig.from_pretrained(location, local_files_only=True)
        except Exception as err:  # transformers raises OSError, ValueError, KeyError, ... here
            if os.path.isdir(location):
                raise ModelError(
                    f"the config.json in {location} cannot be read ({type(err).__name__}: {err}); "
                    "re-save the model with save_pretrained()"
                ) from None
            raise _not_available(location) from None


def _config_labels(location: str) -> tuple:
    config = _load_config(location)
    architectures = list(getattr(config, "architectures", None) or [])
    if architectures and not any(a.endswith("ForSequenceClassification") for a in architectures):
        raise InputError(
            f"{location} holds a {', '.join(architectures)}, not a text-classification model; the hf backend "
            "needs a model fine-tuned for sequence classification (its config.json lists an architecture "
            "ending in 'ForSequenceClassification')"
        )
    if getattr(config, "problem_type", None) == "regression" or config.num_labels < 2:
        raise InputError(
            f"{location} outputs {config.num_labels} score(s) (regression), not emotion labels; the hf backend "
            "needs a classification model with named labels"
        )
    id2label = config.id2label
    return tuple(str(id2label.get(i, id2label.get(str(i), f"LABEL_{i}"))) for i in range(config.num_labels))


def _max_tokens(tokenizer, config) -> int:
    limits = []
    tokenizer_limit = getattr(tokenizer, "model_max_length", None)
    if isinstance(tokenizer_limit, int) and 0 < tokenizer_limit < 1_000_000:
        limits.append(tokenizer_limit)
    for attribute in ("max_position_embeddings", "n_positions", "max_seq_length"):
        value = getattr(config, attribute, None)
        if isinstance(value, int) and value > 0:
            if attribute == "max_position_embeddings" and getattr(config, "model_type", "") in _POSITION_OFFSET_TYPES:
                value -= (getattr(config, "pad_token_id", None) or 1) + 1
            limits.append(value)
            break
    return min(limits) if limits else 512


@lru_cache(maxsize=4)
def _load(location: str) -> HFClassifier:
    labels = _config_labels(location)
    config = _load_config(location)
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    local = os.path.isdir(location)
    with _quiet_transformers():
        try:
            tokenizer = AutoTokenizer.from_pretrained(location, local_files_only=True)
        except Exception as err:
            if not local:
                raise _not_available(location) from None
            raise InputError(
                f"no usable tokenizer in {location} ({type(err).__name__}: {err}); save the model's tokenizer "
                "there too, with tokenizer.save_pretrained(folder)"
            ) from None
        try:
            model, info = AutoModelForSequenceClassification.from_pretrained(
                location, local_files_only=True, output_loading_info=True)
        except Exception as err:
            if not local and isinstance(err, OSError):
                raise _not_available(location) from None
            raise ModelError(f"cannot load the model weights from {location} ({type(err).__name__}: {err})") from None
    if len(tokenizer) <= len(set(getattr(tokenizer, "all_special_ids", []))) + 1:  # transformers 5 builds an
        raise InputError(  # empty-vocabulary tokenizer when the files are missing, instead of failing
            f"no tokenizer vocabulary in {location}; save the model's tokenizer there too, with "
            "tokenizer.save_pretrained(folder)"
        )
    head_words = ("classifier", "score", "classification_head", "logits_proj", "out_proj")
    untrained = sorted(k for k in info.get("missing_keys", ()) if any(w in k for w in head_words))
    if untrained:
        raise ModelError(
            f"{location} has no trained classification head (missing {untrained[:4]}); its predictions would be "
            "random. Use a model fine-tuned for text classification"
        )
    model.eval()
    max_tokens = _max_tokens(tokenizer, config)
    multi_label = getattr(config, "problem_type", None) == "multi_label_classification"
    return HFClassifier(location, tokenizer, model, labels, max_tokens, multi_label)


def _sentence_start_chars(text: str) -> list[int]:
    """Character offsets in ``text`` where split_sentences' sentences begin."""
    from .story import split_sentences

    starts, position = [], 0
    for sentence in split_sentences(text):
        words = sentence.split()
        first = text.find(words[0], position)
        if first < 0:
            break
        starts.append(first)
        position = first
        for word in words:  # split_sentences only rejoins whitespace, so every word is found in order
            found = text.find(word, position)
            position = found + len(word) if found >= 0 else position
    return starts


def _chunks_with_weights(tokenizer, text: str, max_tokens: int) -> list[tuple[list[int], int]]:
    """``(input ids with special tokens, number of content tokens)`` per chunk; see token_chunks."""
    try:
        encoding = tokenizer(text, return_special_tokens_mask=True, return_offsets_mapping=True)
        offsets = encoding["offset_mapping"]
    except (NotImplementedError, ValueError, TypeError, KeyError):  # tokenizers without offsets
        encoding = tokenizer(text, return_special_tokens_mask=True)
        offsets = None
    ids = list(encoding["input_ids"])
    special = list(encoding["special_tokens_mask"])
    content_at = [i for i, flag in enumerate(special) if not flag]
    if not content_at:
        return [(ids, 0)]
    first, last = content_at[0], content_at[-1]
    head, content, tail = ids[:first], ids[first: last + 1], ids[last + 1:]
    budget = max_tokens - len(head) - len(tail)
    if budget < 1:
        raise ModelError(f"the model's window ({max_tokens} tokens) has no room for text after its special tokens")
    if len(content) <= budget:
        return [(ids, len(content))]

    if offsets is not None:  # cut the one tokenization at the tokens where sentences start
        token_starts = [start for start, _ in offsets[first: last + 1]]
        cuts = sorted({0, len(content)} | {bisect_left(token_starts, c) for c in _sentence_start_chars(text)})
        units = [content[a:b] for a, b in zip(cuts, cuts[1:]) if b > a]
    else:
        from .story import split_sentences

        units = [tokenizer(s, add_special_tokens=False)["input_ids"] for s in split_sentences(text)]
    chunks, current = [], []
    for unit in units:
        for piece in (unit[i: i + budget] for i in range(0, len(unit), budget)):
            if current and len(current) + len(piece) > budget:
                chunks.append(current)
                current = []
            current = current + piece
    if current:
        chunks.append(current)
    return [(head + chunk + tail, len(chunk)) for chunk in chunks]


def _run_model(classifier: HFClassifier, chunks: list, batch_size: int):
    """Probabilities ``(len(chunks), n_labels)``: batches of similar length, right-padded."""
    import numpy as np
    import torch

    pad_id = getattr(classifier.tokenizer, "pad_token_id", None)
    step = batch_size if pad_id is not None else 1  # no pad token (GPT-2 style): one chunk at a time
    order = sorted(range(len(chunks)), key=lambda i: len(chunks[i]))
    out = np.zeros((len(chunks), len(classifier.labels)))
    with torch.inference_mode():
        for start in range(0, len(order), step):
            index = order[start: start + step]
            longest = max(len(chunks[i]) for i in index)
            ids = torch.full((len(index), longest), pad_id if pad_id is not None else 0, dtype=torch.long)
            mask = torch.zeros((len(index), longest), dtype=torch.long)
            for row, i in enumerate(index):
                ids[row, : len(chunks[i])] = torch.tensor(chunks[i], dtype=torch.long)
                mask[row, : len(chunks[i])] = 1
            try:
                logits = classifier.model(input_ids=ids, attention_mask=mask).logits.float()
            except Exception as err:  # shape or dtype trouble inside a third-party model
                raise ModelError(f"the model {classifier.location} failed on a batch ({type(err).__name__}: {err})") from None
            if logits.shape[-1] != len(classifier.labels):
                raise ModelError(
                    f"the model {classifier.location} gives {logits.shape[-1]} scores but its config names "
                    f"{len(classifier.labels)} labels"
                )
            probs = torch.sigmoid(logits) if classifier.multi_label else torch.softmax(logits, dim=-1)
            out[index] = probs.numpy()
    return out
