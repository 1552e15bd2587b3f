"""Split a story into scenes, one music cue each.

Rules, in order:

0. A title: a short first line with no end punctuation, followed by a blank line, is not
   scored; it becomes the ``heading`` of the first scene.
1. Scene breaks: a line holding only ``***``, ``* * *``, ``---``, ``###`` or ``#``
   always ends a scene; so does a blank line (a paragraph break).
2. Paragraphs shorter than ``min_words`` join the next one (a one-line paragraph of
   dialogue rarely deserves its own cue), unless a scene-break line separates them.
3. Paragraphs longer than ``max_words`` are split at sentence ends into windows of
   about ``max_words`` words, so no cue is asked to carry a whole chapter.

Examples
--------
>>> scenes = segment_story("Morning came softly.\\n\\nThen the storm broke over the bay.", min_words=1)
>>> [s.text for s in scenes]
['Morning came softly.', 'Then the storm broke over the bay.']
"""

from __future__ import annotations

import re

from ..errors import InputError, choice_error
from ..types import Scene

__all__ = ["segment_story", "split_sentences", "parse_srt", "detect_format", "FORMATS", "MAX_STORY_CHARS"]

#: Input formats :func:`segment_story` understands; ``"auto"`` picks one with :func:`detect_format`.
FORMATS = ("auto", "prose", "screenplay", "srt")

#: Longest story accepted by default (characters, about 300 pages).
MAX_STORY_CHARS = 1_000_000

_BREAK_LINE = re.compile(r"^\s*(\*\s*\*\s*\*[\s*]*|-{3,}|#{1,3}|~{3,})\s*$")
_SRT_TIME = re.compile(
    r"^\s*(\d{1,2}):(\d{2}):(\d{2})[,.](\d{1,3})\s*-->\s*(\d{1,2}):(\d{2}):(\d{2})[,.](\d{1,3})")
_SCENE_HEADING = re.compile(r"^\s*(INT\.|EXT\.|INT\./EXT\.|INT/EXT\.|I/E\.?)\s*\S.*$")
_MARKUP = re.compile(r"<[^>]+>|\{\\[^}]*\}")
_ABBREVIATIONS = frozenset("mr mrs ms dr st prof sr jr mt capt col gen lt sgt rev vs etc e.g i.e".split())
_SENTENCE_END = re.compile(r"([.!?…][\"'”’)\]]*)\s+(?=[\"'“‘(\[]?[A-Z0-9])")


def split_sentences(text: str) -> list[str]:
    """Split text at sentence ends (``.``, ``!``, ``?``, ``…`` followed by a capital).

    Examples
    --------
    >>> split_sentences("It rained. We stayed in! Why not?")
    ['It rained.', 'We stayed in!', 'Why not?']
    """
    flat = " ".join(text.split())
    parts = _SENTENCE_END.split(flat)  # text, end punctuation, text, end punctuation, ..., text
    pieces = [text + end for text, end in zip(parts[::2], parts[1::2] + [""])]
    sentences: list[str] = []
    for piece in pieces:
        if not piece.strip():
            continue
        if sentences and sentences[-1].split()[-1].rstrip(".").lower() in _ABBREVIATIONS:
            sentences[-1] = f"{sentences[-1]} {piece}"  # "Mr. Lee" is not a sentence end
        else:
            sentences.append(piece)
    return sentences


def detect_format(text: str) -> str:
    """Guess whether a text is SRT subtitles, a screenplay or prose.

    Examples
    --------
    >>> detect_format("1\\n00:00:01,000 --> 00:00:03,000\\nHello.\\n")
    'srt'
    >>> detect_format("INT. KITCHEN - NIGHT\\n\\nMara waits.")
    'screenplay'
    >>> detect_format("Once upon a time.")
    'prose'
    """
    lines = text.splitlines()
    if any(_SRT_TIME.match(line) for line in lines[:20]):
        return "srt"
    if any(_SCENE_HEADING.match(line) for line in lines):
        return "screenplay"
    return "prose"


def parse_srt(text: str) -> list[tuple[float, float, str]]:
    """Read SRT subtitles into ``(start_seconds, end_seconds, text)`` triples.

    Markup such as ``<i>`` is removed; numbering lines are optional.

    Raises
    ------
    InputError
        If a block has no readable time code, or a time code ends before it starts.

    Examples
    --------
    >>> parse_srt("1\\n00:00:01,500 --> 00:00:04,000\\n<i>Hello</i> there.\\n")
    [(1.5, 4.0, 'Hello there.')]
    """
    entries = []
    blocks = re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff").strip())
    for number, block in enumerate(blocks, start=1):
        lines = [line for line in block.split("\n") if line.strip()]
        timing = next((i for i, line in enumerate(lines[:2]) if _SRT_TIME.match(line)), None)
        if timing is None:
            raise InputError(f"subtitle block {number} has no time code like '00:00:01,000 --> 00:00:03,500': {block[:60]!r}")
        h1, m1, s1, f1, h2, m2, s2, f2 = _SRT_TIME.match(lines[timing]).groups()
        start = int(h1) * 3600 + int(m1) * 60 + int(s1) + int(f1.ljust(3, "0")) / 1000
        end = int(h2) * 3600 + int(m2) * 60 + int(s2) + int(f2.ljust(3, "0")) / 1000
        if end < start:
            raise InputError(f"subtitle block {number} ends ({end:.3f} s) before it starts ({start:.3f} s)")
        words = " ".join(_MARKUP.sub("", line).strip() for line in lines[timing + 1:]).strip()
        if words:
            entries.append((start, end, words))
    return entries


def segment_story(text: str, *, min_words: int = 25, max_words: int = 150, max_chars: int = MAX_STORY_CHARS,
                  format: str = "auto", srt_gap: float = 4.0) -> list[Scene]:
    """Split a story into :class:`~scoringkit.types.Scene` objects.

    Parameters
    ----------
    text : str
        The story, paragraphs separated by blank lines.
    min_words : int
        Paragraphs shorter than this are merged with the next one.
    max_words : int
        Paragraphs longer than this are split into sentence windows of about this size.
    max_chars : int
        Refuse longer texts (default 1,000,000 characters); raise it to go further.
    format : str
        ``"prose"``, ``"screenplay"`` (scenes start at headings like ``INT. HOUSE - NIGHT``),
        ``"srt"`` (subtitles: scenes keep their time codes) or ``"auto"`` (default).
    srt_gap : float
        For subtitles: a silence longer than this many seconds starts a new scene.

    Returns
    -------
    list of Scene
        In story order, ``index`` from 0.

    Raises
    ------
    InputError
        If the text is not a string, is empty or whitespace only, or is too long.

    Examples
    --------
    >>> from scoringkit.assets import example_story
    >>> len(segment_story(example_story())) >= 4
    True
    """
    if not isinstance(text, str):
        raise InputError(f"a story must be a string, not {type(text).__name__}; read files with scoringkit.io.read_text_file")
    if not text.strip():
        raise InputError("the story is empty; give it at least one sentence")
    if len(text) > max_chars:
        raise InputError(
            f"the story has {len(text):,} characters, over the {max_chars:,} limit; "
            "score it chapter by chapter, or pass a larger max_chars"
        )
    if min_words < 0 or max_words < 1 or min_words > max_words:
        raise InputError(f"need 0 <= min_words <= max_words and max_words >= 1, got {min_words}, {max_words}")
    if format not in FORMATS:
        raise choice_error("format", format, FORMATS)
    if format == "auto":
        format = detect_format(text)
    if format == "srt":
        return _subtitle_scenes(parse_srt(text), min_words, max_words, srt_gap)
    if format == "screenplay":
        return _screenplay_scenes(text, max_words)

    lines = text.replace("\r\n", "\n").replace("\r", "\n").strip("\n").split("\n")
    title = _title_line(lines)
    if title is not None:
        lines = lines[2:]

    # blocks of paragraphs; a hard break (*** line) is marked so merging never crosses it
    paragraphs: list[tuple[str, bool]] = []  # (text, hard break before it)
    current: list[str] = []
    hard = False
    for line in lines:
        if _BREAK_LINE.match(line) or not line.strip():
            if current:
                paragraphs.append((" ".join(current), hard))
                current, hard = [], False
            if _BREAK_LINE.match(line):
                hard = True
            continue
        current.append(line.strip())
    if current:
        paragraphs.append((" ".join(current), hard))

    merged: list[str] = []
    pending = ""
    for paragraph, hard_before in paragraphs:
        if hard_before and pending:
            merged.append(pending)
            pending = ""
        pending = f"{pending} {paragraph}".strip() if pending else paragraph
        if len(pending.split()) >= min_words:
            merged.append(pending)
            pending = ""
    if pending:
        if merged and len(pending.split()) < min_words and not _hard_break_before_last(paragraphs):
            merged[-1] = f"{merged[-1]} {pending}"
        else:
            merged.append(pending)

    scenes: list[Scene] = []
    for block in merged:
        for window in _windows(block, max_words):
            scenes.append(Scene(len(scenes), window, heading=title if not scenes else None))
    if not scenes:  # the story was only a title
        scenes.append(Scene(0, title or text.strip()))
    return scenes


def _title_line(lines: list[str]) -> str | None:
    """The first line if it looks like a title: short, no sentence end, then a blank line, then more text."""
    if len(lines) < 3 or lines[1].strip() or not "".join(lines[2:]).strip():
        return None
    first = lines[0].strip()
    if 0 < len(first.split()) <= 10 and not first.endswith((".", "!", "?", ",", ";", ":", "…", '"', "”")):
        return first
    return None


def _subtitle_scenes(entries, min_words, max_words, gap) -> list[Scene]:
    """Merge consecutive subtitles into scenes, split at long silences or when a scene is full."""
    if not entries:
        raise InputError("the subtitles hold no text; check that the file is SRT with text under each time code")
    groups, current = [], []
    for entry in entries:
        words = sum(len(e[2].split()) for e in current)
        pause = entry[0] - current[-1][1] if current else 0.0
        if current and ((pause > gap and words >= min_words) or words + len(entry[2].split()) > max_words):
            groups.append(current)
            current = []
        current.append(entry)
    groups.append(current)
    return [Scene(i, " ".join(e[2] for e in g), start=g[0][0], end=g[-1][1]) for i, g in enumerate(groups)]


def _screenplay_scenes(text, max_words) -> list[Scene]:
    """One scene per heading (``INT. ... / EXT. ...``); text before the first heading is a scene of its own."""
    blocks: list[tuple[str | None, list[str]]] = [(None, [])]
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if _SCENE_HEADING.match(line):
            blocks.append((line.strip(), []))
        elif line.strip():
            blocks[-1][1].append(line.strip())
    scenes: list[Scene] = []
    for heading, lines in blocks:
        if not lines:
            continue
        for i, window in enumerate(_windows(" ".join(lines), max_words)):
            scenes.append(Scene(len(scenes), window, heading=heading if i == 0 else None))
    if not scenes:
        raise InputError("the screenplay has scene headings but no action or dialogue under them")
    return scenes


def _hard_break_before_last(paragraphs) -> bool:
    return bool(paragraphs) and paragraphs[-1][1]


def _windows(block: str, max_words: int) -> list[str]:
    if len(block.split()) <= max_words:
        return [block]
    windows, current, count = [], [], 0
    sentences = []
    for sentence in split_sentences(block):  # a run-on "sentence" longer than a window is cut at words
        words = sentence.split()
        sentences += [" ".join(words[i: i + max_words]) for i in range(0, len(words), max_words)]
    for sentence in sentences:
        n = len(sentence.split())
        if current and count + n > max_words:
            windows.append(" ".join(current))
            current, count = [], 0
        current.append(sentence)
        count += n
    if current:
        windows.append(" ".join(current))
    return windows
