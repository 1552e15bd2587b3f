"""Text → emotion: backends behind one function, and story segmentation.

Examples
--------
>>> from scoringkit.emotion import analyze_text
>>> analyze_text(["A calm, quiet lake.", "Run! The house is on fire!"], backend="lexicon")[1].quadrant
2
"""

from __future__ import annotations

from ..errors import InputError, choice_error
from ..types import Emotion
from .story import MAX_STORY_CHARS, segment_story

__all__ = ["analyze_text", "check_backend", "segment_story", "emotion_arc", "change_points", "EmotionArc", "BACKENDS", "DEFAULT_BACKEND",
           "MAX_TEXT_CHARS"]

#: Named backends; any ``"hf:<model id or local path>"`` is accepted too (see :mod:`scoringkit.emotion.hf`).
BACKENDS = ("lexicon", "encoder")
#: The backend :func:`analyze_text`, :func:`scoringkit.score_story`, the command line and the
#: widgets use unless told otherwise: the fine-tuned MiniLM encoder (see the README's accuracy table).
DEFAULT_BACKEND = "encoder"
#: Longest single text :func:`analyze_text` accepts (characters); longer stories go through segment_story.
MAX_TEXT_CHARS = MAX_STORY_CHARS


def __getattr__(name):  # the arc helpers import numpy: load them on first use
    if name in ("emotion_arc", "change_points", "EmotionArc"):
        from . import arc

        return getattr(arc, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _warn_if_not_english(texts, single: bool, backend: str) -> None:
    """Warn (``UserWarning``) when a text looks non-English: both built-in backends learned English."""
    import warnings

    from .hf import looks_non_english

    foreign = [i for i, text in enumerate(texts) if looks_non_english(text)]
    if foreign:
        which = ("the text does" if single else
                 f"{len(foreign)} of {len(texts)} texts (the first is item {foreign[0]}) do" if len(foreign) > 1 else
                 f"text {foreign[0]} of {len(texts)} does")
        warnings.warn(f"{which} not look like English; the {backend!r} backend was built and measured on "
                      "English text, so expect lower accuracy (translate it first, or use an 'hf:' model made for "
                      "that language)", UserWarning, stacklevel=3)


def check_backend(backend) -> str:
    """Return ``backend`` if it names a backend, else raise :class:`InputError` listing the choices.

    Examples
    --------
    >>> check_backend("hf:./my-model")
    'hf:./my-model'
    """
    if not isinstance(backend, str) or not (backend in BACKENDS or (backend.startswith("hf:") and len(backend) > 3)):
        raise choice_error("backend", backend, list(BACKENDS) + ["hf:<model id or local path>"])
    return backend


def analyze_text(text_or_list, *, backend: str = DEFAULT_BACKEND, **options):
    """Estimate the emotion of a text, or of each text in a list.

    Parameters
    ----------
    text_or_list : str or list of str
        One text, or several to analyse in one call.
    backend : str
        ``"encoder"`` (the default, :data:`DEFAULT_BACKEND`: MiniLM fine-tuned by scoringkit,
        :mod:`scoringkit.emotion.encoder`; loads in about a second on first use), ``"lexicon"``
        (VADER + NRC words, :mod:`scoringkit.emotion.lexicon`: instant, less accurate), or
        ``"hf:<model id or local path>"`` (any transformers sequence-classification model,
        its labels mapped by :mod:`scoringkit.emotion.hf`; a hub id needs internet once).
    **options
        Passed to the ``hf:`` backend (``label_map=``, ``batch_size=``).

    Returns
    -------
    Emotion or list of Emotion
        One per input text, in order.

    Raises
    ------
    InputError
        For an empty or whitespace-only text, a text over :data:`MAX_TEXT_CHARS`, a
        non-string, or an unknown backend.

    Warns
    -----
    UserWarning
        When a text does not look like English (:func:`scoringkit.emotion.hf.looks_non_english`):
        every backend's accuracy was measured on English.

    Examples
    --------
    >>> e = analyze_text("The funeral was grey and silent; everyone cried.", backend="lexicon")
    >>> e.valence < 0
    True
    """
    check_backend(backend)
    single = isinstance(text_or_list, str)
    texts = [text_or_list] if single else text_or_list
    if not isinstance(texts, (list, tuple)):
        raise InputError(f"analyze_text takes a string or a list of strings, not {type(text_or_list).__name__}")
    for i, text in enumerate(texts):
        where = "" if single else f" (item {i})"
        if not isinstance(text, str):
            raise InputError(f"text{where} must be a string, not {type(text).__name__}")
        if not text.strip():
            raise InputError(f"text{where} is empty; give at least one word")
        if len(text) > MAX_TEXT_CHARS:
            raise InputError(
                f"text{where} has {len(text):,} characters, over the {MAX_TEXT_CHARS:,} limit; "
                "split it with segment_story() and analyse the scenes"
            )
    if options and not backend.startswith("hf:"):
        raise InputError(f"options {sorted(options)} only apply to the 'hf:' backend")
    if not backend.startswith("hf:"):  # the hf backend words its own warning, naming the model
        _warn_if_not_english(texts, single, backend)
    if backend == "lexicon":
        from .lexicon import analyze_lexicon

        results = [analyze_lexicon(t) for t in texts]
    elif backend == "encoder":
        from .encoder import analyze_encoder

        results = analyze_encoder(list(texts))
    else:
        from .hf import analyze_hf

        results = analyze_hf(list(texts), backend[3:], **options)
    return results[0] if single else results
