"""The scoring studio: from a story or a film's subtitles to a finished, exported soundtrack.

:class:`Studio` is one widget for the whole pipeline of :func:`scoringkit.score_story`:
paste a story (or load a ``.txt`` / ``.srt`` file), choose the options, press **Score**, and
watch the cues being composed on a progress bar; then read the emotion arc and the cue
sheet, play each cue and the whole soundtrack, change one cue's emotion on a
valence/arousal pad (or give it another generator or style) and re-compose only that cue,
and export every file. It runs in JupyterLab, Notebook 7, Colab, and as an app with Voila::

    voila notebooks/09_score_a_story.ipynb

The widget only wraps two plain functions of this module, which you can call without it:

==================  ===============================================================================
name                does
==================  ===============================================================================
``draft_story``     what :func:`scoringkit.score_story` does, step by step, keeping the cues as
                    composed (before transitions) in a :class:`StoryDraft`, with a callback per cue
``redraft_cue``     a new draft in which only one cue is re-composed (another emotion, generator
                    or style); ``draft.soundtrack()`` then writes the transitions and joins the cues
``default_backend`` the emotion backend ``score_story`` uses by default (the studio's too)
``decode_text``     the bytes of an uploaded file as text (UTF-8, with or without a BOM), with the
                    messages of :func:`scoringkit.read_text_file`
==================  ===============================================================================

Why a draft: with ``transition="pivot"`` each cue's last bar is re-harmonised toward the
*next* cue's key (:func:`scoringkit.generate.transitions.apply_transitions`). When one cue
changes, its neighbour's transition must follow, so the draft keeps the cues as composed and
the transitions are written again from them; no other cue is re-composed.

Examples
--------
>>> import scoringkit as sk
>>> from scoringkit.nb.studio import draft_story, redraft_cue
>>> story = "The sea was calm and still.\\n\\nThen the storm came screaming in!"
>>> draft = draft_story(story, backend="lexicon", min_words=1)
>>> [cue.emotion.quadrant for cue in draft.cues]
[4, 2]
>>> calmer = redraft_cue(draft, 1, emotion=sk.Emotion(0.5, -0.6))
>>> [cue.emotion.quadrant for cue in calmer.soundtrack().cues]
[4, 4]
>>> calmer.cues[0] is draft.cues[0]        # the other cue was not re-composed
True
"""

from __future__ import annotations

import html
import math
import numbers
import re
import threading
import time
from dataclasses import dataclass, replace

from ..errors import InputError, ScoringKitError, choice_error
from ..io import MAX_TEXT_BYTES
from ..generate.leitmotif import main_name
from ..generate.soundtrack import check_cue_lengths

__all__ = ["Studio", "StoryDraft", "draft_story", "redraft_cue", "decode_text", "default_backend", "ENCODINGS"]

#: Encodings offered for uploads (UTF-8 first: a UTF-8 byte-order mark is accepted too).
ENCODINGS = ("utf-8", "latin-1", "cp1252", "utf-16")
#: Sample rate of the exported WAV (the players use :attr:`Studio.sr`, 22,050 Hz by default).
EXPORT_SR = 44100
#: Slider values closer than this to a cue's emotion count as "unchanged" (the sliders' step is 0.01).
_SAME_POINT = 0.005 + 1e-9


# -- plain functions: decode, draft, redraft ------------------------------------------------------
def decode_text(data, *, name: str = "upload", encoding: str = "utf-8", max_bytes: int = MAX_TEXT_BYTES) -> str:
    """Decode an uploaded file's bytes as a story, with the checks of :func:`scoringkit.read_text_file`.

    Parameters
    ----------
    data : bytes, bytearray or memoryview
        The file's content (``ipywidgets.FileUpload`` gives a memoryview).
    name : str
        The file's name, for the messages.
    encoding : str
        Text encoding; for UTF-8 a byte-order mark is accepted (and dropped).
    max_bytes : int
        Refuse larger files (default 2 MB, as :func:`scoringkit.read_text_file`).

    Returns
    -------
    str

    Raises
    ------
    InputError
        For a file that is empty, too large, not valid text in ``encoding``, binary (it
        holds NUL characters), or an unknown encoding; the message says what to do.

    Examples
    --------
    >>> decode_text("\\ufeffCalm sea.".encode("utf-8"), name="a.txt")
    'Calm sea.'
    >>> decode_text("Café".encode("latin-1"), name="b.txt")
    Traceback (most recent call last):
    ...
    scoringkit.errors.InputError: 'b.txt' is not valid utf-8 text (bad byte at position 3); save it as UTF-8, or choose its encoding (e.g. latin-1) and load it again
    >>> decode_text("Café".encode("latin-1"), name="b.txt", encoding="latin-1")
    'Café'
    """
    try:
        raw = bytes(data)
    except TypeError:
        raise InputError(f"{name!r}: expected the file's bytes, not {type(data).__name__}") from None
    if len(raw) > max_bytes:
        raise InputError(
            f"{name!r} is {len(raw) / 1e6:.1f} MB, over the {max_bytes / 1e6:.1f} MB limit for one story; "
            "split it into chapters and score them one by one"
        )
    if not raw.strip():
        raise InputError(f"{name!r} is empty; load a text file with at least one sentence")
    if not isinstance(encoding, str):
        raise InputError(f"encoding must be a name such as 'utf-8', not {type(encoding).__name__}")
    utf8 = encoding.lower().replace("_", "-") in ("utf-8", "utf8")
    wide = encoding.lower().replace("_", "-").startswith(("utf-16", "utf16", "utf-32", "utf32"))
    if b"\x00" in raw and not wide:  # text in a one-byte or UTF-8 encoding has no NUL bytes
        raise InputError(
            f"{name!r} looks like a binary file (it contains NUL bytes), not text; "
            "load a story as .txt or subtitles as .srt"
        )
    try:
        text = raw.decode("utf-8-sig" if utf8 else encoding)
    except UnicodeDecodeError as err:
        raise InputError(
            f"{name!r} is not valid {encoding} text (bad byte at position {err.start}); "
            "save it as UTF-8, or choose its encoding (e.g. latin-1) and load it again"
        ) from None
    except LookupError:
        raise InputError(f"unknown text encoding {encoding!r}; try 'utf-8' or 'latin-1'") from None
    if "\x00" in text:
        raise InputError(
            f"{name!r} looks like a binary file (it contains NUL characters), not text; "
            "load a story as .txt or subtitles as .srt"
        )
    return text


@dataclass(frozen=True)
class StoryDraft:
    """A scored story that can still be edited cue by cue.

    Made by :func:`draft_story`, changed by :func:`redraft_cue`; :meth:`soundtrack` turns
    it into the :class:`~scoringkit.types.Soundtrack` that :func:`scoringkit.score_story`
    would return.

    Attributes
    ----------
    cues : tuple of Cue
        The cues **as composed**: placed on the timeline end to end (prose) or at their
        time codes (subtitles), without the transitions.
    styles : tuple of str
        The style preset of each cue (:data:`scoringkit.mapping.STYLES`).
    timed : bool
        True for subtitles: cues start at their scenes' time codes.
    title, transition, crossfade
        As in the Soundtrack.
    seed : int
        Base seed; cue ``i`` is composed with ``seed + i``.
    words_per_minute, min_cue, max_cue : float
        How prose cue lengths were chosen (:func:`scoringkit.score_story`).
    names : tuple of str
        The recurring names that have a leitmotif.
    """

    cues: tuple
    styles: tuple
    timed: bool
    title: str
    transition: str
    crossfade: float
    seed: int
    words_per_minute: float
    min_cue: float
    max_cue: float
    names: tuple = ()

    def soundtrack(self):
        """Write the transitions between the cues and join them into a Soundtrack."""
        from ..generate.soundtrack import assemble
        from ..generate.transitions import apply_transitions
        from ..types import Soundtrack

        cues = apply_transitions(list(self.cues), transition=self.transition, timed=self.timed)
        return Soundtrack(cues, assemble(cues), title=self.title, transition=self.transition,
                          crossfade=self.crossfade)


def default_backend() -> str:
    """The emotion backend :func:`scoringkit.score_story` uses unless told otherwise.

    Examples
    --------
    >>> from scoringkit.emotion import BACKENDS
    >>> default_backend() in BACKENDS
    True
    """
    from ..emotion import DEFAULT_BACKEND

    return DEFAULT_BACKEND


def _check_style(style) -> str:
    from ..mapping import STYLES

    style = "film" if style is None else style
    if not isinstance(style, str) or style not in STYLES:
        raise choice_error("style", style, STYLES)
    return style


def _check_generator(generator) -> str:
    from ..generate import GENERATORS

    if not isinstance(generator, str) or generator not in GENERATORS:
        raise choice_error("generator", generator, GENERATORS)
    return generator


def _compose_cue(index, scene, emotion, *, clock, slot_end, timed, generator, style, seed,
                 words_per_minute, min_cue, max_cue, leitmotif):
    """One cue as :func:`scoringkit.score_story` composes it (before transitions)."""
    from ..generate import compose
    from ..generate.transitions import loop_beats
    from ..mapping import emotion_to_intent
    from ..types import Cue

    intent = emotion_to_intent(emotion, style=None if style == "film" else style)
    if timed:
        start = max(clock, scene.start)
        bar_seconds = 60.0 / intent.tempo * intent.meter[0] * 4.0 / intent.meter[1]
        target = max(1, math.floor((slot_end - start) / bar_seconds + 1e-9)) * bar_seconds  # whole bars that fit
    else:
        start = clock
        target = min(max_cue, max(min_cue, 60.0 * scene.words / words_per_minute))
    score = compose(intent, generator=generator, duration=target, seed=seed + index)
    if leitmotif is not None:
        from ..generate.leitmotif import apply_leitmotif, make_leitmotif

        apply_leitmotif(score, intent, make_leitmotif(leitmotif))
    length = score.seconds_at(loop_beats(score))
    return Cue(index, scene, emotion, intent, score, start, start + length, generator, leitmotif=leitmotif)


def _slot_end(cues_or_scenes, index) -> float | None:
    scenes = [getattr(c, "scene", c) for c in cues_or_scenes]
    return scenes[index + 1].start if index + 1 < len(scenes) else scenes[index].end


def draft_story(text: str, *, backend: str | None = None, generator: str = "rules", style: str | None = None,
                seed: int = 0, words_per_minute: float = 160.0, min_cue: float = 8.0, max_cue: float = 60.0,
                min_words: int = 25, max_words: int = 150, format: str = "auto", title: str | None = None,
                leitmotifs: bool = True, transition: str = "pivot", crossfade: float | None = None,
                on_cue=None) -> StoryDraft:
    """Score a story step by step, as :func:`scoringkit.score_story` does, keeping it editable.

    ``draft_story(text, ...).soundtrack()`` gives the same cues and music as
    ``score_story(text, ...)`` with the same options (reranking and reference tracks
    aside), and adds a style preset for every cue and a callback after each cue.

    Parameters
    ----------
    text : str
        A story, a screenplay or SRT subtitles (see :func:`scoringkit.segment_story`).
    backend : str, optional
        ``"encoder"``, ``"lexicon"`` or ``"hf:<model>"``; ``None`` (default) is
        :func:`scoringkit.score_story`'s default (:func:`default_backend`).
    generator, seed, words_per_minute, min_cue, max_cue, min_words, max_words, format, title, leitmotifs, transition, crossfade
        As in :func:`scoringkit.score_story`.
    style : str, optional
        A preset of :data:`scoringkit.mapping.STYLES` for every cue; ``None`` is ``"film"``
        (the mapping table as it is).
    on_cue : callable, optional
        Called as ``on_cue(index, n_cues, cue)`` after each cue is composed (a progress bar).

    Returns
    -------
    StoryDraft

    Raises
    ------
    InputError
        For an empty or too long story, malformed subtitles, an unknown backend, generator,
        style or transition, or a bad number.

    Examples
    --------
    >>> import scoringkit as sk
    >>> story = sk.example_story()
    >>> draft = draft_story(story, on_cue=lambda i, n, cue: None)
    >>> draft.soundtrack().cue_sheet() == sk.score_story(story).cue_sheet()
    True
    """
    from ..emotion import analyze_text, check_backend, segment_story
    from ..generate.transitions import check_transition

    backend = check_backend(default_backend() if backend is None else backend)  # before any slow step
    generator, style = _check_generator(generator), _check_style(style)
    fade = check_transition(transition, crossfade)
    check_cue_lengths(words_per_minute, min_cue, max_cue)
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise InputError(f"seed must be an integer >= 0, got {seed!r}")
    if not isinstance(leitmotifs, bool):
        raise InputError(f"leitmotifs must be True or False, got {leitmotifs!r}")
    scenes = segment_story(text, min_words=min_words, max_words=max_words, format=format)
    names = ()
    if leitmotifs:
        from ..generate.leitmotif import find_names

        names = tuple(find_names(scenes))
    emotions = analyze_text([s.text for s in scenes], backend=backend)
    timed = all(scene.start is not None for scene in scenes)  # subtitles follow the film's clock
    cues, clock = [], 0.0
    for index, (scene, emotion) in enumerate(zip(scenes, emotions)):
        cue = _compose_cue(index, scene, emotion, clock=clock, slot_end=_slot_end(scenes, index), timed=timed,
                           generator=generator, style=style, seed=int(seed), words_per_minute=words_per_minute,
                           min_cue=min_cue, max_cue=max_cue, leitmotif=main_name(scene.text, names))
        cues.append(cue)
        clock = cue.end
        if on_cue is not None:
            on_cue(index, len(scenes), cue)
    return StoryDraft(tuple(cues), (style,) * len(cues), timed, title or scenes[0].heading or "soundtrack",
                      transition, fade, int(seed), float(words_per_minute), float(min_cue), float(max_cue), names)


def redraft_cue(draft: StoryDraft, index: int, *, emotion=None, generator: str | None = None,
                style: str | None = None) -> StoryDraft:
    """A new draft in which only cue ``index`` is re-composed.

    The cue keeps its scene, seed and (for prose) its requested length; the cues after it
    move on the timeline if its length changes (prose), or stay at their time codes
    (subtitles). No other cue is re-composed; ``draft.soundtrack()`` writes the transitions
    again, so with ``"pivot"`` the previous cue's last bar now leads into the new key.

    Parameters
    ----------
    draft : StoryDraft
    index : int
        Which cue, from 0 (negative numbers count from the end).
    emotion : Emotion, optional
        The cue's new emotion (default: keep it).
    generator, style : str, optional
        The cue's new generator or style preset (default: keep them).

    Returns
    -------
    StoryDraft

    Raises
    ------
    InputError
        For an index out of range, or an unknown generator or style.
    """
    from ..types import Emotion

    if not isinstance(draft, StoryDraft):
        raise InputError(f"redraft_cue needs a StoryDraft from draft_story, not {type(draft).__name__}")
    n = len(draft.cues)
    if isinstance(index, bool) or not isinstance(index, numbers.Integral) or not -n <= index < n:
        raise InputError(f"cue index {index!r} is out of range; this story has {n} cue(s): use 0 to {n - 1}")
    index = int(index) % n
    old = draft.cues[index]
    if emotion is None:
        emotion = old.emotion
    elif not isinstance(emotion, Emotion):
        raise InputError(f"emotion must be a scoringkit.Emotion, not {type(emotion).__name__}")
    generator = old.generator if generator is None else _check_generator(generator)
    style = draft.styles[index] if style is None else _check_style(style)
    clock = draft.cues[index - 1].end if index > 0 else 0.0
    new = _compose_cue(index, old.scene, emotion, clock=clock, slot_end=_slot_end(draft.cues, index),
                       timed=draft.timed, generator=generator, style=style, seed=draft.seed,
                       words_per_minute=draft.words_per_minute, min_cue=draft.min_cue, max_cue=draft.max_cue,
                       leitmotif=old.leitmotif)
    cues = list(draft.cues[:index]) + [new]
    for cue in draft.cues[index + 1:]:  # re-tile the later cues; their music is unchanged
        start = max(cues[-1].end, cue.scene.start) if draft.timed else cues[-1].end
        cues.append(cue if start == cue.start else replace(cue, start=start, end=start + cue.duration))
    styles = draft.styles[:index] + (style,) + draft.styles[index + 1:]
    return replace(draft, cues=tuple(cues), styles=styles)


def _same_music(a, b) -> bool:
    """True if two scores hold the same notes, programs, tempo, key and reverb maps (so the same audio)."""
    return a is b or (a.tracks == b.tracks and a.tempo_map == b.tempo_map and a.key_map == b.key_map
                      and a.reverb_map == b.reverb_map and a.meter == b.meter)


# -- the widget ---------------------------------------------------------------------------------
class Studio:
    """A scoring studio: story in, emotion arc, cues, players, per-cue overrides and files out.

    1. **Story.** Paste a story, a screenplay or SRT subtitles into the box, or load a
       ``.txt`` / ``.srt`` file (UTF-8; choose another encoding for older files), or press
       *example story*.
    2. **Options.** The emotion backend (``lexicon``, ``encoder`` or ``hf:<model>``), the
       reading speed that sets prose cue lengths, the transition between cues, the style
       preset, the generator and the seed.
    3. **Score.** The story is segmented, each scene's emotion read and one cue composed
       per scene (the progress bar moves per cue); the first cue is rendered first, so you
       can listen while the others render; then the emotion arc, the cue sheet, a player
       per cue and one for the whole soundtrack (players never normalise loudness).
    4. **Override a cue.** Choose a cue, move its point on the valence/arousal pad (or the
       sliders), or pick another generator or style, and press *re-compose this cue*:
       only that cue is composed again (:func:`redraft_cue`).
    5. **Export** writes ``soundtrack.wav`` (44.1 kHz), ``.mid``, ``.musicxml``,
       ``cues.csv`` and ``cues.json`` into the folder. Existing files are never replaced
       silently: the export refuses and says so, until you tick *overwrite*.

    Problems (an empty box, a 5 MB paste, malformed subtitles, an unreadable file, an
    unknown backend, pressing a button while the studio is still working) appear as a
    message in the widget, never as a traceback, and the last good result stays.

    Buttons run their work on a background thread (``background=True``), so the kernel
    stays free and the progress bar moves. With the ``encoder`` backend the text encoder
    is loaded on a background thread as soon as the studio is made, so the first click
    does not wait for torch and the model. The methods :meth:`score`, :meth:`override`,
    :meth:`export`, :meth:`load` and :meth:`select` do the same work synchronously, for
    scripts, notebooks run top to bottom, and tests.

    Display it by ending a cell with ``studio.widget`` (or ``studio``); as an app:
    ``voila notebooks/09_score_a_story.ipynb``.

    Parameters
    ----------
    text : str
        The story to start with.
    backend, generator, style, transition, words_per_minute, seed
        The starting options (see :func:`draft_story`); ``backend=None`` is
        :func:`scoringkit.score_story`'s default.
    sr : int
        Sample rate of the players, 8,000-48,000 Hz (22,050 renders twice as fast as
        44,100; the exported WAV is always 44.1 kHz).
    out_dir : str
        The export folder to start with.
    background : bool
        Run button clicks on a background thread (default). ``False`` runs them in the
        kernel's thread, as the methods do.

    Attributes
    ----------
    widget : ipywidgets.VBox
        What to display.
    text : ipywidgets.Textarea
    upload : ipywidgets.FileUpload
    encoding, transition, style, generator : ipywidgets.Dropdown
    backend : ipywidgets.Combobox
    words_per_minute : ipywidgets.BoundedFloatText
    seed : ipywidgets.BoundedIntText
    score_button, rerender_button, export_button : ipywidgets.Button
    progress : ipywidgets.IntProgress
        Steps: one per cue composed, one per cue rendered, one for the whole mix.
    status : ipywidgets.HTML
        What happened last, or the error message.
    arc_view : ipywidgets.Output
        The emotion arc (:func:`scoringkit.nb.arc_figure`).
    table_view : ipywidgets.HTML
        The cue sheet (:func:`scoringkit.nb.cue_table`).
    cue_players : list of ipywidgets.Audio
        One per cue; ``value`` holds WAV bytes (16-bit PCM, not normalised).
    whole_player : ipywidgets.Audio
        The whole soundtrack.
    cue : ipywidgets.Dropdown
        The cue to override (value: its index).
    pad : anywidget or None
        The valence/arousal canvas, linked to :attr:`valence` and :attr:`arousal`; ``None``
        where anywidget is missing (then use the sliders).
    valence, arousal : ipywidgets.FloatSlider
    cue_generator, cue_style : ipywidgets.Dropdown
    out_dir : ipywidgets.Text
    overwrite : ipywidgets.Checkbox
    export_status : ipywidgets.HTML
        The export's result (links to the files) or its error.
    draft, soundtrack, cue_audio, audio, figure, paths
        The latest good result: the :class:`StoryDraft`, the Soundtrack, each cue's samples
        and the whole mix (float32 at :attr:`sr`), the arc figure, and the files of the
        latest export.
    error : str or None
        The latest failure's message; ``None`` after a success.
    timings : dict
        Seconds from the start of the latest scoring: ``"scored"`` (all cues composed),
        ``"first_audio"`` (the first cue's player filled), ``"done"`` (everything shown).
        With a backend slower than the lexicon, the first scene is read and its cue
        composed and rendered on its own first, so ``"first_audio"`` comes before
        ``"scored"``; the first cue is rendered again only if the full run changes it
        (with ``"pivot"``, its last bar leads into the second cue's key).

    Raises
    ------
    InputError
        At construction, for an unknown backend, generator, style or transition, or a bad
        number.

    Examples
    --------
    >>> import scoringkit as sk
    >>> import scoringkit.nb
    >>> studio = sk.nb.Studio(backend="lexicon", sr=8000)
    >>> studio.text.value = "The sea was calm and still.\\n\\nThen the storm came screaming in!"
    >>> st = studio.score()                       # what the Score button does, synchronously
    >>> len(st.cues), bytes(studio.cue_players[0].value[:4]), studio.error is None
    (1, b'RIFF', True)
    >>> studio.score("   ") is None, studio.error, len(studio.soundtrack.cues)   # the last result stays
    (True, 'the story is empty; give it at least one sentence', 1)
    >>> studio.close()
    """

    def __init__(self, text: str = "", *, backend: str | None = None, generator: str = "rules",
                 style: str = "film", transition: str = "pivot", words_per_minute: float = 160.0,
                 seed: int = 0, sr: int = 22050, out_dir: str = "studio_out", background: bool = True):
        import ipywidgets as widgets

        from ..emotion import BACKENDS, check_backend
        from ..generate import GENERATORS
        from ..generate.transitions import TRANSITIONS, check_transition
        from ..mapping import STYLES

        if not isinstance(text, str):
            raise InputError(f"text must be a string, not {type(text).__name__}")
        backend = check_backend(default_backend() if backend is None else backend)
        _check_generator(generator)
        style = _check_style(style)
        check_transition(transition)
        if isinstance(words_per_minute, bool) or not isinstance(words_per_minute, numbers.Real) \
                or not 40 <= words_per_minute <= 600:
            raise InputError(f"words_per_minute must be a number from 40 to 600, got {words_per_minute!r}")
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
            raise InputError(f"seed must be an integer >= 0, got {seed!r}")
        if isinstance(sr, bool) or not isinstance(sr, numbers.Integral) or not 8000 <= sr <= 48000:
            raise InputError(f"sr must be an integer sample rate from 8000 to 48000 Hz, got {sr!r}")
        self.sr = int(sr)
        self.background = bool(background)
        self.draft = self.soundtrack = self.audio = self.figure = self.paths = None
        self.cue_audio: list = []
        self.error = None
        self.timings: dict = {}
        self._busy = threading.Lock()
        self._worker = None
        self._loaded = None  # (file name, text) of the latest upload
        self._quiet = False
        self._warm = None  # the thread loading the text encoder ahead of the first click

        wide = widgets.Layout(width="100%")
        self.text = widgets.Textarea(
            value=text, placeholder="Paste a story (paragraphs separated by blank lines), a screenplay, or SRT "
                                    "subtitles here, or load a file below …",
            continuous_update=False, layout=widgets.Layout(width="100%", height="12em"))
        self.text_info = widgets.HTML()
        self.upload = widgets.FileUpload(accept=".txt,.srt,.text,.md", multiple=False,
                                         description="load .txt / .srt")
        self.encoding = widgets.Dropdown(options=list(ENCODINGS), value="utf-8", description="encoding",
                                         layout=widgets.Layout(width="200px"))
        self.example_button = widgets.Button(description="example story", icon="book",
                                             tooltip="load the story that ships with scoringkit")
        short = {"style": {"description_width": "125px"}, "layout": widgets.Layout(width="290px")}
        self.backend = widgets.Combobox(value=backend, options=list(BACKENDS), ensure_option=False,
                                        continuous_update=False,
                                        description="emotion backend", placeholder="lexicon, encoder or hf:<model>",
                                        **short)
        self.words_per_minute = widgets.BoundedFloatText(value=float(words_per_minute), min=40, max=600, step=10,
                                                         description="words / minute", **short)
        self.transition = widgets.Dropdown(options=list(TRANSITIONS), value=transition, description="transition",
                                           **short)
        self.style = widgets.Dropdown(options=list(STYLES), value=style, description="style", **short)
        self.generator = widgets.Dropdown(options=list(GENERATORS), value=generator, description="generator",
                                          **short)
        self.seed = widgets.BoundedIntText(value=int(seed), min=0, max=2**31 - 1, description="seed", **short)
        self.score_button = widgets.Button(description="Score", button_style="primary", icon="music",
                                           tooltip="segment the story, read its emotions, compose and render a cue "
                                                   "per scene")
        self.progress = widgets.IntProgress(value=0, min=0, max=1, layout=widgets.Layout(width="320px"))
        self.progress_label = widgets.HTML()
        self.status = widgets.HTML(
            "<span style='color:#666'>Paste a story or load a file, then press <b>Score</b>.</span>")
        self.arc_view = widgets.Output(layout=wide)
        self.table_view = widgets.HTML()
        self.whole_player = widgets.Audio(value=b"", format="wav", autoplay=False, loop=False)
        self.cue_players: list = []
        self._cue_labels: list = []
        self.players_box = widgets.VBox()

        self.cue = widgets.Dropdown(options=[("score a story first", -1)], value=-1, description="cue",
                                    layout=widgets.Layout(width="460px"))
        slider = {"min": -1.0, "max": 1.0, "step": 0.01, "readout_format": "+.2f", "continuous_update": True,
                  "layout": widgets.Layout(width="330px")}
        self.valence = widgets.FloatSlider(value=0.0, description="valence", **slider)
        self.arousal = widgets.FloatSlider(value=0.0, description="arousal", **slider)
        self.cue_generator = widgets.Dropdown(options=list(GENERATORS), value=generator, description="generator",
                                              layout=widgets.Layout(width="330px"))
        self.cue_style = widgets.Dropdown(options=list(STYLES), value=style, description="style",
                                          layout=widgets.Layout(width="330px"))
        self.rerender_button = widgets.Button(description="re-compose this cue", icon="refresh",
                                              tooltip="compose the chosen cue again with this emotion, generator "
                                                      "and style; the other cues stay",
                                              layout=widgets.Layout(width="220px"))
        self.pad = self._make_pad()

        self.out_dir = widgets.Text(value=str(out_dir), description="folder", layout=widgets.Layout(width="360px"))
        self.overwrite = widgets.Checkbox(value=False, description="overwrite existing files", indent=False)
        self.export_button = widgets.Button(description="Export", icon="download",
                                            tooltip="write soundtrack.wav, .mid, .musicxml, cues.csv and cues.json")
        self.export_status = widgets.HTML()

        def heading(text_):
            return widgets.HTML(f"<h4 style='margin:10px 0 4px 0'>{text_}</h4>")

        override_controls = widgets.VBox([self.cue, self.valence, self.arousal, self.cue_generator, self.cue_style,
                                          self.rerender_button], layout=widgets.Layout(margin="0 0 0 12px"))
        self.widget = widgets.VBox([
            widgets.HTML("<b>Scoring studio</b> · a story or subtitles in, a finished soundtrack out"),
            heading("1 · Story"),
            self.text, self.text_info,
            widgets.HBox([self.upload, self.encoding, self.example_button]),
            heading("2 · Options"),
            widgets.HBox([widgets.VBox([self.backend, self.words_per_minute, self.transition]),
                          widgets.VBox([self.style, self.generator, self.seed])]),
            widgets.HBox([self.score_button, self.progress, self.progress_label]),
            self.status,
            heading("3 · Emotion arc and cues"),
            self.arc_view,
            widgets.HTML("<b>the whole soundtrack</b>"), self.whole_player,
            self.players_box,
            self.table_view,
            heading("4 · Override a cue"),
            widgets.HBox(([self.pad] if self.pad is not None else []) + [override_controls]),
            heading("5 · Export"),
            widgets.HBox([self.out_dir, self.overwrite, self.export_button]),
            self.export_status,
        ], layout=widgets.Layout(width="100%", max_width="1100px"))

        self.score_button.on_click(self._on_score_click)
        self.rerender_button.on_click(self._on_rerender_click)
        self.export_button.on_click(self._on_export_click)
        self.example_button.on_click(self._on_example_click)
        self.upload.observe(self._on_upload, names="value")
        self.text.observe(self._on_text, names="value")
        self.cue.observe(self._on_select, names="value")
        self.backend.observe(lambda change: self._prewarm(change["new"]), names="value")
        self._describe_text(text)
        self._prewarm(backend)

    # -- public: the synchronous hooks -----------------------------------------------------------
    def score(self, text: str | None = None):
        """Score the story in the box (or ``text``, which is put in the box first), now.

        What the *Score* button does, in the calling thread. Never raises: a failure is
        shown in the widget and kept in :attr:`error`, and the previous result stays.

        Returns
        -------
        Soundtrack or None
        """
        if text is not None:
            if not isinstance(text, str):
                return self._fail(f"text must be a string, not {type(text).__name__}")
            self._set_quietly(self.text, text)
            self._describe_text(text)
        return self._guarded(self._score, time.perf_counter())

    def load(self, data, *, name: str = "story.txt", encoding: str | None = None):
        """Put the text of a file's bytes into the story box (what an upload does).

        Returns
        -------
        str or None
            The text, or ``None`` if the file could not be read (the message is shown).
        """
        encoding = self.encoding.value if encoding is None else encoding
        try:
            text = decode_text(data, name=str(name), encoding=encoding)
        except ScoringKitError as err:
            return self._fail(str(err))
        self._loaded = (str(name), text)
        self._set_quietly(self.text, text)
        self._describe_text(text, source=str(name))
        self._show_status(f"loaded <code>{html.escape(str(name))}</code>; press <b>Score</b>")
        self.error = None
        return text

    def select(self, index: int):
        """Choose the cue to override: the pad, sliders, generator and style show its settings."""
        if self.draft is None:
            return self._fail("score a story first, then choose a cue")
        n = len(self.draft.cues)
        if isinstance(index, bool) or not isinstance(index, numbers.Integral) or not -n <= index < n:
            return self._fail(f"cue index {index!r} is out of range; use 0 to {n - 1}")
        index = int(index) % n
        if self.cue.value != index:
            self.cue.value = index  # calls _on_select
        else:
            self._show_cue_settings(index)
        return index

    def override(self, index: int, valence: float | None = None, arousal: float | None = None, *,
                 generator: str | None = None, style: str | None = None):
        """Re-compose only cue ``index`` with a new valence/arousal, generator or style, now.

        What *re-compose this cue* does, in the calling thread. A point within half a
        slider step of the cue's emotion keeps that emotion (with its category
        probabilities); otherwise the cue gets ``Emotion(valence, arousal)``. Only that cue
        is composed and rendered again (and, with ``"pivot"`` transitions, the previous
        cue, whose last bar now leads into the new key); then the whole mix.

        Returns
        -------
        Soundtrack or None
        """
        return self._guarded(self._override, index, valence, arousal, generator, style)

    def export(self, out_dir=None, *, overwrite: bool | None = None):
        """Write all files of the current soundtrack, now (what *Export* does).

        ``out_dir`` and ``overwrite`` default to the widget's folder and checkbox (and are
        shown there when given). Existing files are not replaced unless ``overwrite``:
        the export then refuses, shows why, and changes nothing.

        Returns
        -------
        dict or None
            Kind → path of each file written, or ``None`` on failure.
        """
        if out_dir is not None:
            self.out_dir.value = str(out_dir)
        if overwrite is not None:
            self.overwrite.value = bool(overwrite)
        return self._guarded(self._export, self.out_dir.value, self.overwrite.value)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for a button's background work (and the encoder's warm-up) to finish.

        Returns
        -------
        bool
            True if nothing is running any more.
        """
        threads = [t for t in (self._warm, self._worker) if t is not None]
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in threads:
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in threads)

    def close(self) -> None:
        """Close all the widgets (wait for a running job first)."""
        self.wait(60)
        for link in getattr(self, "_links", ()):
            link.unlink()
        for child in self._all_widgets():
            child.close()

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def __repr__(self) -> str:
        state = f"error={self.error!r}" if self.error else f"soundtrack={self.soundtrack!r}"
        return f"Studio(backend={self.backend.value!r}, style={self.style.value!r}, {state})"

    # -- the work --------------------------------------------------------------------------------
    def _guarded(self, job, *args):
        """Run ``job`` unless another one is running; never raise into the kernel."""
        if not self._busy.acquire(blocking=False):
            return self._fail("the studio is still working on the previous request; wait for it to finish",
                              keep=True)
        try:
            self._set_buttons(False)
            return job(*args)
        except ScoringKitError as err:
            return self._fail(str(err))
        except Exception as err:  # noqa: BLE001 - a widget must never raise into the kernel
            return self._fail(f"unexpected {type(err).__name__}: {err}")
        finally:
            self._set_buttons(True)
            self._busy.release()

    def _options(self) -> dict:
        from ..emotion import check_backend

        backend = (self.backend.value or "").strip()
        check_backend(backend)
        title = None
        if self._loaded is not None and self._loaded[1] == self.text.value:
            title = re.sub(r"\.[^.]*$", "", self._loaded[0]) or None  # an uploaded file's name
        return {"backend": backend, "generator": self.generator.value, "style": self.style.value,
                "seed": int(self.seed.value), "words_per_minute": float(self.words_per_minute.value),
                "transition": self.transition.value, "title": title}

    def _score(self, t0: float):
        text = self.text.value
        options = self._options()
        self._set_progress(0, 1, f"reading the emotion of each scene ({html.escape(options['backend'])}) …")
        self._show_status("<span style='color:#666'>scoring …</span>")
        warm = self._warm
        if warm is not None:
            warm.join()  # the encoder is being loaded already: wait for it rather than load it twice
        self.timings = {}
        last_good = (self.soundtrack, list(self.cue_audio))
        preview = self._preview(text, options, t0) if options["backend"] != "lexicon" else None

        def on_cue(index, n, cue):
            self._set_progress(index + 1, 2 * n + 1, f"composed cue {index + 1} of {n}")

        try:
            draft = draft_story(text, on_cue=on_cue, **options)
            soundtrack = draft.soundtrack()
        except Exception:
            if preview is not None:  # the players showed the new first cue: put the last good result back
                self._show_players(*last_good)
            raise
        self.timings["scored"] = time.perf_counter() - t0
        # a good result: from here on it replaces the previous one
        self.draft, self.soundtrack, self.error, self.paths = draft, soundtrack, None, None
        n = len(soundtrack.cues)
        self.cue_audio = [None] * n
        self.audio = None
        if preview is None or len(self.cue_players) != n:
            self._build_players(n)
        self.export_status.value = ""
        todo = range(n)
        if preview is not None and _same_music(soundtrack.cues[0].score, preview[0]):
            self.cue_audio[0], todo = preview[1], range(1, n)  # the first cue heard already is the final one
        self._render(soundtrack, todo, t0=t0)
        self._set_cue_options(soundtrack, keep=None)
        self.timings["done"] = time.perf_counter() - t0
        self._show_status(
            f"✓ <b>{html.escape(soundtrack.title)}</b>: {len(soundtrack.cues)} cue(s), "
            f"{soundtrack.duration:.1f} s of music; backend <code>{html.escape(options['backend'])}</code>, "
            f"{html.escape(draft.transition)} transitions, style <code>{html.escape(options['style'])}</code> "
            f"({self.timings['done']:.1f} s; first audio after {self.timings['first_audio']:.1f} s)")
        return soundtrack

    def _override(self, index, valence, arousal, generator, style):
        from ..types import Emotion

        if self.draft is None:
            raise InputError("score a story first, then override one of its cues")
        n = len(self.draft.cues)
        if isinstance(index, bool) or not isinstance(index, numbers.Integral) or not -n <= index < n:
            raise InputError(f"cue index {index!r} is out of range; this soundtrack has {n} cue(s): use 0 to {n - 1}")
        index = int(index) % n
        old = self.draft.cues[index]
        emotion = old.emotion
        v = old.emotion.valence if valence is None else valence
        a = old.emotion.arousal if arousal is None else arousal
        point = Emotion(v, a)  # InputError outside [-1, 1]
        if abs(point.valence - old.emotion.valence) > _SAME_POINT or abs(point.arousal - old.emotion.arousal) > _SAME_POINT:
            emotion = Emotion(point.valence, point.arousal, source="override")
        t0 = time.perf_counter()
        self._set_progress(0, 1, f"re-composing cue {index + 1} …")
        draft = redraft_cue(self.draft, index, emotion=emotion, generator=generator, style=style)
        soundtrack = draft.soundtrack()
        previous = self.soundtrack
        changed = [i for i, (new, before) in enumerate(zip(soundtrack.cues, previous.cues))
                   if not _same_music(new.score, before.score)]
        self.draft, self.soundtrack, self.error, self.paths = draft, soundtrack, None, None
        self.export_status.value = ""
        self._render(soundtrack, changed, t0=t0)
        self._set_cue_options(soundtrack, keep=index)
        cue = soundtrack.cues[index]
        others = [i + 1 for i in changed if i != index]
        also = f" (and cue {', '.join(map(str, others))}, whose transition leads into it)" if others else ""
        self._show_status(
            f"✓ cue {index + 1} re-composed{also}: valence {cue.emotion.valence:+.2f}, arousal "
            f"{cue.emotion.arousal:+.2f}, quadrant {cue.emotion.quadrant} <i>({html.escape(cue.emotion.quadrant_name)})"
            f"</i> → {cue.intent.tempo:g} BPM, {html.escape(cue.intent.key)}, generator "
            f"<code>{html.escape(cue.generator)}</code>, style <code>{html.escape(draft.styles[index])}</code> "
            f"({time.perf_counter() - t0:.1f} s)")
        return soundtrack

    def _export(self, out_dir, overwrite):
        from . import file_links

        if self.soundtrack is None:
            raise InputError("nothing to export yet; score a story first")
        out_dir = str(out_dir).strip()
        if not out_dir:
            raise InputError("give a folder to export into")
        self.export_status.value = (f"<span style='color:#666'>exporting to <code>{html.escape(out_dir)}</code> "
                                    f"(rendering at {EXPORT_SR} Hz, writing MIDI, MusicXML and the cue sheet) …</span>")
        try:
            paths = self.soundtrack.write(out_dir, overwrite=bool(overwrite), sr=EXPORT_SR)
        except InputError as err:
            message = str(err)
            if message.startswith("refusing to overwrite"):
                message += " Tick “overwrite existing files” and export again to replace them."
            self.error = message
            self.export_status.value = f"<span style='color:#b00020'>⚠ {html.escape(message)}</span>"
            self._show_status("<span style='color:#b00020'>⚠ the export failed; see below</span>")
            return None
        self.paths, self.error = paths, None
        try:
            links = file_links(paths).data
        except Exception:  # noqa: BLE001 - the paths matter more than the links
            links = "<ul>" + "".join(f"<li>{html.escape(str(p))}</li>" for p in paths.values()) + "</ul>"
        self.export_status.value = f"✓ wrote {len(paths)} files into <code>{html.escape(out_dir)}</code>:{links}"
        self._show_status(f"✓ exported to <code>{html.escape(out_dir)}</code>")
        return paths

    def _render(self, soundtrack, indices, *, t0):
        """Render the cues in ``indices`` (the first one first), then the whole mix; fill the players.

        The arc and the cue table are drawn right after the first sound (or at once when
        something is playable already), so the first cue can be heard as early as possible.
        """
        from ..synth import render
        from . import audio_player

        indices = sorted(indices)
        steps = 2 * len(soundtrack.cues) + 1
        done = steps - len(indices) - 1
        for i, cue in enumerate(soundtrack.cues):
            self._cue_labels[i].value = self._cue_label(cue, i)
        drawn = "first_audio" in self.timings
        if drawn:
            self._draw(soundtrack)
        for k, i in enumerate(indices):
            self._set_progress(done + k, steps, f"rendering cue {i + 1} of {len(soundtrack.cues)}")
            audio = render(soundtrack.cues[i].score, sr=self.sr)
            self.cue_audio[i] = audio
            self.cue_players[i].value = audio_player(audio, sr=self.sr).data
            if not drawn:
                self.timings["first_audio"] = time.perf_counter() - t0
                self._draw(soundtrack)
                drawn = True
        if not drawn:
            self._draw(soundtrack)
        self._set_progress(steps - 1, steps, "mixing the whole soundtrack …")
        self.audio = soundtrack.render(sr=self.sr)
        self.whole_player.value = audio_player(self.audio, sr=self.sr).data
        self._set_progress(steps, steps, f"done: {len(soundtrack.cues)} cue(s), {soundtrack.duration:.1f} s")
        self.progress.bar_style = "success"

    def _draw(self, soundtrack):
        """The emotion arc and the cue table of ``soundtrack``."""
        from . import _show_in_output, arc_figure, cue_table

        self.figure = arc_figure(soundtrack)
        _show_in_output(self.arc_view, self.figure)
        self.table_view.value = cue_table(soundtrack).data

    # -- widget plumbing ---------------------------------------------------------------------------
    def _prewarm(self, backend) -> None:
        """Load the text encoder on a background thread while the user pastes a story.

        Its first use imports torch and reads the model (a second or two); done ahead,
        the first click on *Score* does not pay for it. Only for ``"encoder"``: an ``hf:``
        name might still be being typed, and the lexicons load in a fraction of a second.
        """
        if backend != "encoder" or (self._warm is not None and self._warm.is_alive()):
            return

        def warm():
            from ..emotion import analyze_text

            try:
                analyze_text("A calm sea at dawn.", backend="encoder")
            except Exception:  # noqa: BLE001 - scoring will show the real error
                pass

        self._warm = threading.Thread(target=warm, daemon=True, name="scoring-studio-warm-up")
        self._warm.start()

    def _make_pad(self):
        import ipywidgets as widgets

        from ..types import QUADRANT_NAMES
        from . import QUADRANT_COLOURS
        from .pad import _pad_canvas_class

        canvas_class = _pad_canvas_class()
        if canvas_class is None:
            self._links = ()
            return None
        pad = canvas_class(valence=0.0, arousal=0.0, colours={str(q): c for q, c in QUADRANT_COLOURS.items()},
                           names={str(q): n for q, n in QUADRANT_NAMES.items()})
        self._links = (widgets.link((pad, "valence"), (self.valence, "value")),
                       widgets.link((pad, "arousal"), (self.arousal, "value")))
        return pad

    def _preview(self, text, options, t0):
        """With a slow emotion backend, compose and play the first cue before reading the other scenes.

        The first scene is analysed on its own, its cue composed exactly as
        :func:`draft_story` will compose it and rendered into the first player, so there
        is something to hear while the rest of the story is read and composed. Returns
        ``(score, audio)`` of that cue, or ``None`` for a story of one scene.
        """
        from ..emotion import analyze_text, segment_story
        from ..generate.leitmotif import find_names
        from ..synth import render
        from . import audio_player

        defaults = draft_story.__kwdefaults__
        scenes = segment_story(text, min_words=defaults["min_words"], max_words=defaults["max_words"])
        if len(scenes) < 2:
            return None
        emotion = analyze_text([scenes[0].text], backend=options["backend"])[0]
        cue = _compose_cue(0, scenes[0], emotion, clock=0.0, slot_end=_slot_end(scenes, 0),
                           timed=all(scene.start is not None for scene in scenes),
                           generator=_check_generator(options["generator"]), style=_check_style(options["style"]),
                           seed=options["seed"], words_per_minute=options["words_per_minute"],
                           min_cue=defaults["min_cue"], max_cue=defaults["max_cue"],
                           leitmotif=main_name(scenes[0].text, find_names(scenes)))
        audio = render(cue.score, sr=self.sr)
        self._build_players(len(scenes))
        for i, scene in enumerate(scenes):
            self._cue_labels[i].value = (
                f"cue {i + 1} · {'ready: listen while the others are composed' if i == 0 else 'composing …'}"
                f"<br><span style='color:#666;font-size:0.9em'>{html.escape(scene.excerpt(70))}</span>")
        self.cue_players[0].value = audio_player(audio, sr=self.sr).data
        self.timings["first_audio"] = time.perf_counter() - t0
        self._set_progress(1, 2 * len(scenes) + 1, "cue 1 is ready to play; reading the other scenes …")
        return cue.score, audio

    def _show_players(self, soundtrack, cue_audio):
        """Show ``soundtrack``'s cues with their rendered audio (or no players without a soundtrack)."""
        from . import audio_player

        if soundtrack is None:
            self._build_players(0)
            return
        self._build_players(len(soundtrack.cues))
        for i, (cue, audio) in enumerate(zip(soundtrack.cues, cue_audio)):
            self._cue_labels[i].value = self._cue_label(cue, i)
            if audio is not None:
                self.cue_players[i].value = audio_player(audio, sr=self.sr).data

    def _build_players(self, n: int):
        """``n`` empty cue players with their labels, replacing the old ones."""
        import ipywidgets as widgets

        self.cue_players = [widgets.Audio(value=b"", format="wav", autoplay=False, loop=False) for _ in range(n)]
        self._cue_labels = [widgets.HTML(layout=widgets.Layout(width="520px")) for _ in range(n)]
        rows = [widgets.HBox([label, player]) for label, player in zip(self._cue_labels, self.cue_players)]
        old = self.players_box.children
        self.players_box.children = ([widgets.HTML("<b>each cue</b>")] if n else []) + rows
        for box in old:
            for child in getattr(box, "children", ()):
                child.close()
            box.close()

    def _cue_label(self, cue, index) -> str:
        overridden = self.draft is not None and self.draft.cues[index].emotion.source == "override"
        mark = " <span title='emotion set by hand'>✎</span>" if overridden else ""
        return (f"cue {cue.index + 1}{mark} · {cue.start:.1f}–{cue.end:.1f} s · Q{cue.emotion.quadrant} "
                f"{html.escape(cue.emotion.label)} · {cue.intent.tempo:.0f} BPM {html.escape(cue.intent.key)}"
                f"<br><span style='color:#666;font-size:0.9em'>{html.escape(cue.scene.excerpt(70))}</span>")

    def _set_cue_options(self, soundtrack, *, keep):
        options = [(f"cue {c.index + 1} · {c.start:.1f}–{c.end:.1f} s · Q{c.emotion.quadrant} {c.emotion.label}",
                    c.index) for c in soundtrack.cues]
        index = keep if keep is not None and keep < len(options) else 0
        self._quiet = True
        try:
            self.cue.options = options
            self.cue.value = index
        finally:
            self._quiet = False
        self._show_cue_settings(index)

    def _show_cue_settings(self, index):
        cue = self.draft.cues[index]
        self.valence.value = round(cue.emotion.valence, 2)
        self.arousal.value = round(cue.emotion.arousal, 2)
        self.cue_generator.value = cue.generator
        self.cue_style.value = self.draft.styles[index]

    def _on_select(self, change):
        if self._quiet or self.draft is None or change["new"] is None or change["new"] < 0:
            return
        self._show_cue_settings(change["new"])

    def _describe_text(self, text, source=None):
        from ..emotion.story import detect_format

        if not text.strip():
            self.text_info.value = ""
            return
        kind = {"srt": "SRT subtitles", "screenplay": "a screenplay", "prose": "prose"}[detect_format(text)]
        origin = f"from <code>{html.escape(source)}</code> · " if source else ""
        self.text_info.value = (f"<span style='color:#666'>{origin}{len(text.split()):,} words, "
                                f"{len(text):,} characters · reads as {kind}</span>")

    def _on_text(self, change):
        if self._quiet:
            return
        try:
            self._describe_text(change["new"])
        except Exception:  # noqa: BLE001 - only a hint line
            self.text_info.value = ""

    def _on_upload(self, change):
        files = change["new"]
        if not files:
            return
        item = files[0]
        self.load(item.get("content", b""), name=item.get("name", "upload"))
        self._quiet = True
        try:
            self.upload.value = ()  # so the same file can be loaded again
        finally:
            self._quiet = False

    def _on_example_click(self, _button):
        from ..assets import example_story

        self._loaded = None
        text = example_story()
        self._set_quietly(self.text, text)
        self._describe_text(text, source="scoringkit.example_story()")
        self._show_status("loaded the example story; press <b>Score</b>")

    def _launch(self, job, *args):
        worker = self._worker
        if worker is not None and worker.is_alive():
            self._fail("the studio is still working on the previous request; wait for it to finish", keep=True)
            return
        if not self.background:
            self._guarded(job, *args)
            return
        self._worker = threading.Thread(target=self._guarded, args=(job, *args), daemon=True, name="scoring-studio")
        self._worker.start()

    def _on_score_click(self, _button):
        self._launch(self._score, time.perf_counter())

    def _on_rerender_click(self, _button):
        self._launch(self._override, self.cue.value, self.valence.value, self.arousal.value,
                     self.cue_generator.value, self.cue_style.value)

    def _on_export_click(self, _button):
        self._launch(self._export, self.out_dir.value, self.overwrite.value)

    def _set_buttons(self, enabled: bool):
        for button in (self.score_button, self.rerender_button, self.export_button):
            button.disabled = not enabled

    def _set_progress(self, value, maximum, label):
        self.progress.bar_style = ""
        self.progress.max = max(1, int(maximum))
        self.progress.value = min(int(value), self.progress.max)
        self.progress_label.value = f"<span style='color:#666'>{label}</span>"

    def _set_quietly(self, control, value):
        self._quiet = True
        try:
            control.value = value
        finally:
            self._quiet = False

    def _fail(self, message: str, *, keep: bool = False):
        """Show ``message`` and keep it in :attr:`error`; ``keep``: leave the progress bar of a running job alone."""
        self.error = message
        if not keep:
            self.progress.bar_style = "danger"
            self.progress_label.value = ""
        still = " (the results below are still the last good ones)" if self.soundtrack is not None else ""
        self._show_status(f"<span style='color:#b00020'>⚠ {html.escape(message)}</span>{still}")
        return None

    def _show_status(self, markup: str) -> None:
        self.status.value = markup

    def _all_widgets(self):
        fixed = [self.text, self.text_info, self.upload, self.encoding, self.example_button, self.backend,
                 self.words_per_minute, self.transition, self.style, self.generator, self.seed, self.score_button,
                 self.progress, self.progress_label, self.status, self.arc_view, self.table_view, self.whole_player,
                 self.cue, self.valence, self.arousal, self.cue_generator, self.cue_style, self.rerender_button,
                 self.out_dir, self.overwrite, self.export_button, self.export_status]
        return fixed + list(self.cue_players) + list(self._cue_labels) + ([self.pad] if self.pad is not None else []) \
            + [self.players_box, self.widget]
