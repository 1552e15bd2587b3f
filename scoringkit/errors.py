"""The scoringkit exception tree.

Every error scoringkit raises on purpose derives from :class:`ScoringKitError`, and
its message says what went wrong *and what to do instead*, so a notebook user or a
command-line user never has to read a traceback.

::

    ScoringKitError
    ├── InputError      bad input from the user (text, file, option, value)
    ├── ModelError      a model or checkpoint could not be loaded or used
    └── RenderError     audio could not be synthesised or written

Examples
--------
>>> import scoringkit as sk
>>> try:
...     sk.analyze_text("", backend="lexicon")
... except sk.InputError as err:
...     print("caught:", type(err).__name__)
caught: InputError
"""

from __future__ import annotations

__all__ = ["ScoringKitError", "InputError", "ModelError", "RenderError"]


class ScoringKitError(Exception):
    """Base class of every error raised on purpose by scoringkit."""


class InputError(ScoringKitError, ValueError):
    """The user's input (text, file, option or value) cannot be used as given.

    Also a :class:`ValueError`, so generic ``except ValueError`` handlers still work.
    """


class ModelError(ScoringKitError):
    """A model, lexicon or checkpoint is missing, corrupt or incompatible."""


class RenderError(ScoringKitError):
    """Audio could not be synthesised or written."""


def choice_error(what: str, given: object, valid) -> InputError:
    """Build the standard "unknown name" error listing the valid choices.

    Parameters
    ----------
    what : str
        What kind of name it is, e.g. ``"backend"``.
    given : object
        The value the user passed.
    valid : iterable of str
        The names that would have worked.

    Examples
    --------
    >>> str(choice_error("backend", "bert", ["lexicon"]))
    "unknown backend 'bert'; choose one of: 'lexicon'"
    """
    names = ", ".join(repr(v) for v in valid)
    return InputError(f"unknown {what} {given!r}; choose one of: {names}")
