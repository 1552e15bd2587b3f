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

__all__ = ["analyze_text", "segment_story", "BACKENDS", "MAX_TEXT_CHARS"]

#: Backends available in this version; more (``"encoder"``, ``"hf:<model>"``) come with training.
BACKENDS = ("lexicon",)
#: Longest single text :func:`analyze_text` accepts (characters); longer stories go through segment_story.
MAX_TEXT_CHARS = MAX_STORY_CHARS


def analyze_text(text_or_list, *, backend: str = "lexicon"):
    """Estimate the emotion of a text, or of each text in a list.

    Parameters
    ----------
    text_or_list : str or list of str
        One text, or several to analyse in one call.
    backend : str
        ``"lexicon"`` (VADER + NRC words, see :mod:`scoringkit.emotion.lexicon`).

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
    if not isinstance(backend, str) or backend not in BACKENDS:
        raise choice_error("backend", backend, BACKENDS)
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
    from .lexicon import analyze_lexicon

    results = [analyze_lexicon(t) for t in texts]
    return results[0] if single else results
