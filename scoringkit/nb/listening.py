"""A listening-test widget: blind A/B trials of cues, each answer saved at once.

``ListeningTest(trials, csv_path, rater=...)`` shows one trial at a time: the scene text,
the two cues as players *A* and *B* (rendered at their true loudness: no normalisation, so
a quiet cue stays quiet), and for each cue a 1-5 rating of how well it fits the scene and
which emotion it expresses, then which of the two the listener prefers. **Next** checks the
answers, adds them to the results CSV with :func:`scoringkit.fuse.append_answers` (which
never loses earlier answers and refuses to touch a corrupt file) and moves on. The trials
come from :func:`scoringkit.fuse.listening_trials`; the summary from
:func:`scoringkit.fuse.summarize_listening`.

Which setting plays as A is hidden: the widget shows the trial id and the scene, never the
settings' names.

Examples
--------
>>> import tempfile, pathlib
>>> import scoringkit as sk
>>> import scoringkit.fuse
>>> import scoringkit.nb
>>> story = "The meadow was calm and quiet.\\n\\nThen the wolves attacked, howling with rage!"
>>> a = sk.score_story(story, min_words=1, min_cue=4, max_cue=4)
>>> b = sk.score_story(story, min_words=1, min_cue=4, max_cue=4, seed=5)
>>> path = pathlib.Path(tempfile.mkdtemp()) / "answers.csv"
>>> test = sk.nb.ListeningTest(sk.fuse.listening_trials({"seed 0": a, "seed 5": b}), path, rater="ann",
...                            synth="numpy")
>>> test.set_answer(rating_a=4, rating_b=2, heard_a="Q4", heard_b="Q2", preference="A")
>>> row = test.next()
>>> row["rater"], test.index, len(sk.fuse.read_answers(path))
('ann', 1, 1)
>>> test.close()
"""

from __future__ import annotations

import html
import numbers
from pathlib import Path

from ..errors import InputError
from ..types import EMOTION_LABELS, QUADRANT_NAMES

__all__ = ["ListeningTest"]

_PLACEHOLDER = "— choose —"


def _esc(text) -> str:
    return html.escape(str(text))


class ListeningTest:
    """Play blind A/B trials, collect fit ratings, heard emotions and a preference, save each answer.

    Parameters
    ----------
    trials : list of Trial
        From :func:`scoringkit.fuse.listening_trials`.
    csv_path : str or Path
        The results file; created when the first answer is saved, appended to afterwards.
    rater : str
        The listener's name or code, saved with every answer.
    heard : str
        The answer scale for "which emotion did you hear": ``"quadrant"`` (the four
        quadrants, default) or ``"label"`` (the seven categories).
    sr : int
        Sample rate of the players (22,050 Hz renders twice as fast as 44,100 Hz).
    synth : str
        ``"auto"``, ``"tinysoundfont"`` or ``"numpy"`` (see :func:`scoringkit.render`).
    resume : bool
        Start at the first trial this rater has not answered yet in ``csv_path`` (default);
        ``False`` starts at the first trial.

    Attributes
    ----------
    widget : ipywidgets.VBox
        What to display (or end a cell with the object itself).
    index : int
        The trial shown, from 0; ``len(trials)`` when all are done.
    players : tuple of ipywidgets.Audio
        Players A and B (WAV bytes, not normalised).
    ratings, heard_menus : tuple of ipywidgets widgets
        The 1-5 rating buttons and the heard-emotion dropdowns of A and B.
    preference : ipywidgets.ToggleButtons
        ``"A"``, ``"B"`` or ``"none"``.
    next_button : ipywidgets.Button
        Saves the answer and shows the next trial (it calls :meth:`next`).
    status : ipywidgets.HTML
        What happened last: saved, or the error.
    saved : list of dict
        The rows saved from this widget, in order.
    error : str or None
        The latest error message (also shown in the widget); ``None`` after a success.

    Raises
    ------
    InputError
        At construction: no trials, an empty rater name, an unknown ``heard`` scale.
        Everything after that (a missing answer, a corrupt results file, a render failure)
        is shown in the widget and kept in :attr:`error`, never raised.
    """

    def __init__(self, trials, csv_path, *, rater: str, heard: str = "quadrant", sr: int = 22050,
                 synth: str = "auto", resume: bool = True):
        import ipywidgets as widgets

        from ..fuse.listening import HEARD_CHOICES, Trial

        trials = list(trials) if trials is not None else []
        if not trials or not all(isinstance(t, Trial) for t in trials):
            raise InputError("ListeningTest needs a non-empty list of trials from "
                             "scoringkit.fuse.listening_trials(...)")
        if not isinstance(rater, str) or not rater.strip():
            raise InputError("rater must be a non-empty name or code, e.g. rater='ann' or rater='P07'")
        if heard not in HEARD_CHOICES:
            from ..errors import choice_error

            raise choice_error("heard", heard, HEARD_CHOICES)
        if isinstance(sr, bool) or not isinstance(sr, numbers.Integral) or sr <= 0:
            raise InputError(f"sr must be a positive integer sample rate in Hz, got {sr!r}")
        self.trials = trials
        self.csv_path = Path(csv_path)
        self.rater = rater.strip()
        self.heard_scale = heard
        self.sr = int(sr)
        self.synth = synth
        self.saved = []
        self.error = None
        self.index = 0

        if heard == "quadrant":
            options = [(f"Q{q} · {QUADRANT_NAMES[q]}", f"Q{q}") for q in (1, 2, 3, 4)]
        else:
            options = [(label, label) for label in EMOTION_LABELS]
        options = [(_PLACEHOLDER, None)] + options
        self.players = tuple(widgets.Audio(value=b"", format="wav", autoplay=False, loop=False) for _ in "AB")
        self.ratings = tuple(
            widgets.ToggleButtons(options=[(str(v), v) for v in range(1, 6)], value=None,
                                  description="fit", style={"button_width": "34px"},
                                  tooltips=["1: does not fit at all", "2", "3", "4", "5: fits perfectly"])
            for _ in "AB")
        self.heard_menus = tuple(widgets.Dropdown(options=options, value=None, description="heard",
                                                  layout=widgets.Layout(width="260px")) for _ in "AB")
        self.preference = widgets.ToggleButtons(options=[("A", "A"), ("B", "B"), ("no preference", "none")],
                                                value=None, description="prefer")
        self.next_button = widgets.Button(description="Save and next", button_style="primary", icon="check")
        self.header = widgets.HTML()
        self.scene_view = widgets.HTML()
        self.status = widgets.HTML()
        sides = []
        for k, side in enumerate("AB"):
            sides.append(widgets.VBox([widgets.HTML(f"<b style='font-size:1.2em'>{side}</b>"), self.players[k],
                                       self.ratings[k], self.heard_menus[k]],
                                      layout=widgets.Layout(border="1px solid #ddd", padding="6px", margin="4px")))
        scale = "quadrant (valence/arousal)" if heard == "quadrant" else "emotion category"
        self.widget = widgets.VBox([
            widgets.HTML(f"<b>Listening test</b> · rater <code>{_esc(self.rater)}</code> · read the scene, play A "
                         f"and B, rate how well each <i>fits the scene</i> (1 = not at all, 5 = perfectly), choose "
                         f"the {scale} each expresses, then which you prefer."),
            self.header, self.scene_view, widgets.HBox(sides), self.preference, self.next_button, self.status,
        ])
        self.next_button.on_click(lambda _button: self.next())

        done = set()
        if resume:
            try:
                from ..fuse.listening import read_answers

                done = {row["trial_id"] for row in read_answers(self.csv_path) if row["rater"] == self.rater}
            except InputError as err:
                self._fail(str(err))
        start = next((i for i, t in enumerate(trials) if t.trial_id not in done), len(trials))
        error = self.error
        self.show(start)
        if error and not self.error:  # keep the results-file problem on screen
            self._fail(error)
        elif start and start < len(trials) and not self.error:
            self._say(f"{start} trial(s) already answered by {_esc(self.rater)} in {_esc(self.csv_path)}; "
                      "carrying on from the next one.")

    # -- public ----------------------------------------------------------------------------------
    def set_answer(self, *, rating_a=None, rating_b=None, heard_a=None, heard_b=None, preference=None) -> None:
        """Set the controls from code (what a listener does with the mouse); ``None`` leaves one as it is.

        Raises
        ------
        InputError
            A value the controls do not offer (the message lists the valid ones).
        """
        def put(control, value, what):
            if value is None:
                return
            valid = [v for _, v in control.options if v is not None]
            if value not in valid:
                raise InputError(f"{what} must be one of {valid}, got {value!r}")
            control.value = value

        put(self.ratings[0], rating_a, "rating_a")
        put(self.ratings[1], rating_b, "rating_b")
        put(self.heard_menus[0], f"Q{heard_a}" if isinstance(heard_a, int) else heard_a, "heard_a")
        put(self.heard_menus[1], f"Q{heard_b}" if isinstance(heard_b, int) else heard_b, "heard_b")
        put(self.preference, preference, "preference")

    def answer(self) -> dict:
        """The controls' current values: ``rating_a``, ``rating_b``, ``heard_a``, ``heard_b``, ``preference``."""
        return {"rating_a": self.ratings[0].value, "rating_b": self.ratings[1].value,
                "heard_a": self.heard_menus[0].value, "heard_b": self.heard_menus[1].value,
                "preference": self.preference.value}

    def next(self):
        """Check the answer, save it to the CSV, and show the next trial (what **Next** does).

        Never raises. A missing answer or a file problem is shown in the widget, kept in
        :attr:`error`, and the trial stays on screen with its answers, so nothing typed is
        lost: fix the problem and press Next again.

        Returns
        -------
        dict or None
            The saved row, or ``None`` if nothing was saved.
        """
        from ..errors import ScoringKitError
        from ..fuse.listening import append_answers

        if self.index >= len(self.trials):
            return self._fail("all trials are done; thank you! Summarise them with "
                              "scoringkit.fuse.summarize_listening(csv_path)")
        values = self.answer()
        missing = [name for name, value in (("the fit of A", values["rating_a"]), ("the fit of B", values["rating_b"]),
                                            ("the emotion heard in A", values["heard_a"]),
                                            ("the emotion heard in B", values["heard_b"]),
                                            ("a preference", values["preference"])) if value is None]
        if missing:
            return self._fail("please choose " + ", ".join(missing) + " before going on")
        trial = self.trials[self.index]
        try:
            row = trial.answer(rater=self.rater, **values)
            append_answers(self.csv_path, row)
        except ScoringKitError as err:
            return self._fail(str(err))
        except OSError as err:
            return self._fail(f"could not write {self.csv_path}: {err}; check the folder and the disk, then press "
                              "Next again")
        except Exception as err:  # noqa: BLE001 - a widget callback must never raise into the kernel
            return self._fail(f"unexpected {type(err).__name__}: {err}")
        self.saved.append(row)
        self.show(self.index + 1)
        if not self.error:
            self._say(f"saved trial {_esc(trial.trial_id)} to {_esc(self.csv_path)}")
        return row

    def show(self, index: int) -> None:
        """Show trial ``index`` (render its two cues and clear the answers); past the end, a thank-you."""
        from ..errors import ScoringKitError
        from ..synth import render
        from . import audio_player

        n = len(self.trials)
        self.index = max(0, min(int(index), n))
        for control in (*self.ratings, *self.heard_menus, self.preference):
            control.value = None
        if self.index == n:
            self.header.value = f"<b>All {n} trials done.</b> Thank you!"
            self.scene_view.value = ""
            for player in self.players:
                player.value = b""
            self._enable(False)
            self.error = None
            self._say(f"your answers are in {_esc(self.csv_path)}")
            return
        trial = self.trials[self.index]
        self.header.value = f"<b>Trial {self.index + 1} of {n}</b> · <code>{_esc(trial.trial_id)}</code>"
        self.scene_view.value = ("<blockquote style='border-left:3px solid #999;padding-left:8px;margin:4px 0'>"
                                 + "<br>".join(_esc(line) for line in trial.scene.splitlines()) + "</blockquote>")
        self._enable(True)
        self.error = None
        self.status.value = ""
        try:
            for player, score in zip(self.players, trial.scores):
                player.value = audio_player(render(score, sr=self.sr, synth=self.synth), sr=self.sr).data
        except ScoringKitError as err:
            self._fail(f"could not render this trial's music: {err}")
        except Exception as err:  # noqa: BLE001
            self._fail(f"could not render this trial's music ({type(err).__name__}: {err})")

    def close(self) -> None:
        """Close every widget of the test."""
        for control in (*self.players, *self.ratings, *self.heard_menus, self.preference, self.next_button,
                        self.header, self.scene_view, self.status, self.widget):
            control.close()

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def __repr__(self) -> str:
        return (f"ListeningTest(rater={self.rater!r}, trial {min(self.index + 1, len(self.trials))} of "
                f"{len(self.trials)}, csv_path={str(self.csv_path)!r}, saved={len(self.saved)})")

    # -- internals -------------------------------------------------------------------------------
    def _enable(self, on: bool) -> None:
        for control in (*self.ratings, *self.heard_menus, self.preference, self.next_button):
            control.disabled = not on

    def _fail(self, message: str):
        self.error = message
        self.status.value = f"<span style='color:#b00020'>⚠ {_esc(message)}</span>"
        return None

    def _say(self, markup: str) -> None:
        self.status.value = f"<span style='color:#2a7d2a'>{markup}</span>"
