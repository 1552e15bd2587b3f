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

__all__ = ["analyze_text", "check_backend", "segment_story", "emotion_arc", "change_points", "EmotionArc", "BACKENDS", "MAX_TEXT_CHARS"]

#: Named backends; any ``"hf:<model id or local path>"`` is accepted too (see :mod:`scoringkit.emotion.hf`).
BACKENDS = ("lexicon", "encoder")
#: Longest single text :func:`analyze_text` accepts (characters); longer stories go through segment_story.
MAX_TEXT_CHARS = MAX_STORY_CHARS


def __getattr__(name):  # the arc helpers import numpy: load them on first use
    if name in ("emotion_arc", "change_points", "EmotionArc"):
        from . import arc

        return getattr(arc, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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


def analyze_text(text_or_list, *, backend: str = "lexicon", **options):
    """Estimate the emotion of a text, or of each text in a list.

    Parameters
    ----------
    text_or_list : str or list of str
        One text, or several to analyse in one call.
    backend : str
        ``"lexicon"`` (VADER + NRC words, :mod:`scoringkit.emotion.lexicon`), ``"encoder"``
        (MiniLM fine-tuned by scoringkit, :mod:`scoringkit.emotion.encoder`), or
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
