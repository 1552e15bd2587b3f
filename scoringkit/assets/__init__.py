"""Small files shipped with scoringkit, read through :mod:`importlib.resources`.

They load the same way from a source checkout, an installed wheel, Binder or Colab.

Examples
--------
>>> from scoringkit.assets import example_story, list_example_stories
>>> "lighthouse_keeper" in list_example_stories()
True
>>> example_story().splitlines()[0]
'The Lighthouse Keeper'
"""

from __future__ import annotations

from importlib.resources import as_file, files
from pathlib import Path

from ..errors import choice_error

__all__ = ["example_story", "example_story_path", "list_example_stories"]

_STORIES = files(__name__) / "stories"


def list_example_stories() -> list[str]:
    """Names of the bundled example stories (written for scoringkit)."""
    return sorted(p.name[:-4] for p in _STORIES.iterdir() if p.name.endswith(".txt"))


def example_story(name: str = "lighthouse_keeper") -> str:
    """The text of a bundled example story.

    Parameters
    ----------
    name : str
        One of :func:`list_example_stories`.
    """
    names = list_example_stories()
    if name not in names:
        raise choice_error("example story", name, names)
    return (_STORIES / f"{name}.txt").read_text(encoding="utf-8")


def example_story_path(name: str = "lighthouse_keeper") -> Path:
    """A filesystem path to a bundled example story (for command-line use)."""
    if name not in list_example_stories():
        raise choice_error("example story", name, list_example_stories())
    with as_file(_STORIES / f"{name}.txt") as path:
        return Path(path)
