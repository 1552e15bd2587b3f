r"""Listening tests: blind A/B trials of cues, a results file that never loses an answer, a summary.

A model's opinion of the music (:func:`scoringkit.music_emotion`) is not a listener's. This
module runs the simplest useful listening test, a *blind paired comparison*:

1. :func:`listening_trials` pairs the cues of two settings (two generators, with and
   without reranking, two style presets) written for the **same scenes**, one trial per
   scene, and decides with a seeded coin which plays as *A* and which as *B*, so the
   listener cannot tell the settings apart by position.
2. For each trial the listener reads the scene, hears A and B, rates how well each fits
   the scene from 1 (not at all) to 5 (perfectly), says which emotion each expresses
   (one of the four quadrants, or one of the seven category labels) and which of the two
   they prefer (or neither). ``scoringkit.nb.ListeningTest`` is the widget for it.
3. Every answer is added to a CSV file at once with :func:`append_answers`: the whole
   file is rewritten atomically (temporary file, then rename) after the previous version
   has been copied to ``<file>.bak``. A file that cannot be read as a results file (edited
   by hand, truncated, another CSV) is **never overwritten**: it is left as it is, a copy
   is saved beside it, and :class:`~scoringkit.InputError` says what to do.
4. :func:`summarize_listening` reads the file and reports, per setting, the mean fit
   rating with its 95 % t interval, how often the intended emotion was heard (Wilson
   interval), the preference share between the settings (Wilson interval and an exact
   binomial test against 50 %), and the agreement between raters (Fleiss' kappa and
   plain agreement) when several people took the test. The statistics are in
   :mod:`scoringkit.fuse.stats`.

The results file has one row per answer and these columns (:data:`LISTENING_FIELDS`):

======================  ========================================================================
column                  content
======================  ========================================================================
``trial_id``            e.g. ``03-5f2a1c``: scene number and a hash of the scene and the settings
``rater``               who answered (any name or code)
``answered_at``         UTC time of the answer, ISO 8601
``scene_index``         the scene's position in the story, from 0
``scene``               the scene text the listener read
``intended_quadrant``   1-4, the quadrant of the scene's emotion (what the cue should express)
``intended_label``      the scene's most likely emotion category (``Emotion.label``)
``condition_a``         the setting that played as A (hidden from the listener)
``condition_b``         the setting that played as B
``rating_a``            fit of A to the scene, 1-5
``rating_b``            fit of B to the scene, 1-5
``heard_a``             the emotion heard in A: ``Q1``-``Q4`` or a label of ``EMOTION_LABELS``
``heard_b``             the emotion heard in B
``preference``          ``A``, ``B`` or ``none``
======================  ========================================================================

Because each row names its settings, the file can be summarised without the trial list,
and answers from different trial lists (other seeds, other pairs of settings) can share
one file.

References
----------
* ITU-R BS.1534-3, "Method for the subjective assessment of intermediate quality level of
  audio systems" (MUSHRA), 2015: blind presentation, randomised order, mean scores with
  95 % confidence intervals.
* J. L. Fleiss, "Measuring nominal scale agreement among many raters", 1971.

Examples
--------
>>> import tempfile, pathlib
>>> import scoringkit as sk
>>> story = "The meadow was calm and quiet.\n\nThen the wolves attacked, howling with rage!"
>>> plain = sk.score_story(story, min_words=1, min_cue=4, max_cue=4)
>>> horror = sk.score_story(story, min_words=1, min_cue=4, max_cue=4, seed=7)
>>> trials = listening_trials({"seed 0": plain, "seed 7": horror}, seed=1)
>>> len(trials), sorted(trials[0].conditions)
(2, ['seed 0', 'seed 7'])
>>> path = pathlib.Path(tempfile.mkdtemp()) / "answers.csv"
>>> _ = append_answers(path, trials[0].answer(rater="ann", rating_a=4, rating_b=2, heard_a="Q4",
...                                            heard_b="Q2", preference="A"))
>>> summarize_listening(path)["n_answers"]
1
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import numbers
import os
import random
import shutil
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from ..errors import InputError
from ..types import EMOTION_LABELS, Cue, Emotion, Soundtrack

__all__ = ["LISTENING_FIELDS", "QUADRANT_ANSWERS", "HEARD_CHOICES", "PREFERENCES", "Trial", "listening_trials",
           "append_answers", "read_answers", "summarize_listening", "listening_markdown"]

#: Columns of a listening-results CSV, in order.
LISTENING_FIELDS = ("trial_id", "rater", "answered_at", "scene_index", "scene", "intended_quadrant",
                    "intended_label", "condition_a", "condition_b", "rating_a", "rating_b", "heard_a", "heard_b",
                    "preference")
#: Answers for "which emotion did you hear" on the quadrant scale.
QUADRANT_ANSWERS = ("Q1", "Q2", "Q3", "Q4")
#: The two answer scales: the four quadrants, or the seven category labels.
HEARD_CHOICES = {"quadrant": QUADRANT_ANSWERS, "label": EMOTION_LABELS}
#: Answers for "which do you prefer".
PREFERENCES = ("A", "B", "none")
#: Lowest and highest fit rating.
RATING_RANGE = (1, 5)

_LOCK = threading.Lock()  # one writer at a time inside this process


# -- trials ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Trial:
    """One blind A/B trial: a scene and two cues written for it by two settings.

    Built by :func:`listening_trials`. Which setting plays as A was decided by a seeded
    coin; :attr:`conditions` says it, and the widget never shows it.

    Parameters
    ----------
    trial_id : str
        ``<scene number>-<6 hex digits>``: stable for the same scene text and pair of
        settings, whatever the seed (so repeated runs of a test can be merged).
    scene_index : int
        Position of the scene in the story, from 0.
    scene : str
        The scene text shown to the listener.
    emotion : Emotion
        The scene's emotion: what both cues are meant to express.
    conditions : tuple of str
        ``(setting played as A, setting played as B)``.
    scores : tuple of Score
        ``(music A, music B)``.
    """

    trial_id: str
    scene_index: int
    scene: str
    emotion: Emotion
    conditions: tuple
    scores: tuple

    def answer(self, *, rater: str, rating_a, rating_b, heard_a, heard_b, preference, answered_at=None) -> dict:
        """A results row for this trial (checked; ready for :func:`append_answers`).

        Parameters
        ----------
        rater : str
            Who answered.
        rating_a, rating_b : int
            Fit of A and B to the scene, 1-5.
        heard_a, heard_b : str or int
            The emotion heard: ``"Q1"``-``"Q4"`` (or the quadrant number) or a label of
            :data:`~scoringkit.types.EMOTION_LABELS`.
        preference : str
            ``"A"``, ``"B"`` or ``"none"``.
        answered_at : str, optional
            ISO time; default now (UTC).

        Raises
        ------
        InputError
            An answer out of range; the message names it and the valid answers.
        """
        row = {
            "trial_id": self.trial_id, "rater": rater,
            "answered_at": answered_at or datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "scene_index": self.scene_index, "scene": self.scene,
            "intended_quadrant": self.emotion.quadrant, "intended_label": self.emotion.label,
            "condition_a": self.conditions[0], "condition_b": self.conditions[1],
            "rating_a": rating_a, "rating_b": rating_b,
            "heard_a": _heard_text(heard_a), "heard_b": _heard_text(heard_b), "preference": preference,
        }
        return _check_row(row, f"trial {self.trial_id}")

    def __repr__(self) -> str:
        text = " ".join(self.scene.split())
        text = text if len(text) <= 50 else text[:49] + "…"
        return f"Trial({self.trial_id!r}, Q{self.emotion.quadrant}, {text!r})"


def _heard_text(value):
    if isinstance(value, numbers.Integral) and not isinstance(value, bool) and 1 <= value <= 4:
        return f"Q{int(value)}"
    return value


def _as_cues(value, name) -> list:
    if isinstance(value, Soundtrack):
        return list(value.cues)
    if isinstance(value, Cue):
        return [value]
    try:
        cues = list(value)
    except TypeError:
        cues = None
    if not cues or not all(isinstance(c, Cue) for c in cues):
        raise InputError(f"setting {name!r} must be a Soundtrack or a list of Cues (from scoringkit.score_story), "
                         f"not {type(value).__name__}")
    return cues


def _trial_id(scene_index: int, scene: str, names) -> str:
    digest = hashlib.sha1("\x1f".join([scene, *sorted(names)]).encode("utf-8")).hexdigest()[:6]
    return f"{scene_index + 1:02d}-{digest}"


def listening_trials(cues_by_condition, *, seed: int = 0, shuffle: bool = True) -> list:
    """Pair the cues of two settings scene by scene into blind A/B trials in random order.

    Parameters
    ----------
    cues_by_condition : mapping of str to Soundtrack or list of Cue
        Exactly two settings, e.g. ``{"rules": sk.score_story(story), "rerank ×4":
        sk.score_story(story, candidates=4)}``. Both must cover the same scenes in the
        same order (same number of cues, same scene texts): score the same story with
        both settings. Replace a cue's music with ``dataclasses.replace(cue, score=...)``.
    seed : int
        Seeds the coin that decides, per trial, which setting plays as A, and the
        shuffle. The same seed gives the same list.
    shuffle : bool
        Present the trials in random order (default) rather than in story order, so a
        listener does not hear the story's arc and rate the emotion from the plot.

    Returns
    -------
    list of Trial
        One trial per scene.

    Raises
    ------
    InputError
        Not exactly two settings, a setting that is not cues, different numbers of cues,
        or a scene whose text differs between the settings.

    Examples
    --------
    >>> import dataclasses
    >>> import scoringkit as sk
    >>> st = sk.score_story("A calm, quiet lake.\\n\\nA furious storm!", min_words=1, min_cue=4, max_cue=4)
    >>> slow = [dataclasses.replace(c, score=sk.compose(c.intent, duration=4, seed=9)) for c in st.cues]
    >>> trials = listening_trials({"seed 0": st, "seed 9": slow}, seed=3, shuffle=False)
    >>> [t.scene_index for t in trials], sorted(trials[0].conditions)
    ([0, 1], ['seed 0', 'seed 9'])

    The trial ids do not depend on the seed, so answers from two runs can be merged:

    >>> again = listening_trials({"seed 0": st, "seed 9": slow}, seed=4, shuffle=False)
    >>> [t.trial_id for t in again] == [t.trial_id for t in trials]
    True
    """
    if not isinstance(cues_by_condition, Mapping) or len(cues_by_condition) != 2:
        raise InputError("a listening test compares exactly two settings: pass a dict of two names to their cues, "
                         "e.g. {'rules': soundtrack, 'rerank': reranked_soundtrack}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise InputError(f"seed must be an integer, got {seed!r}")
    names = [str(name) for name in cues_by_condition]
    if names[0] == names[1] or not all(n.strip() for n in names):
        raise InputError(f"the two settings need two different, non-empty names, got {names}")
    cues = [_as_cues(value, name) for name, value in zip(names, cues_by_condition.values())]
    if len(cues[0]) != len(cues[1]):
        raise InputError(f"{names[0]!r} has {len(cues[0])} cues and {names[1]!r} has {len(cues[1])} cues; "
                         "both must score the same scenes (the same story, segmented the same way)")
    rng = random.Random(int(seed))
    trials = []
    for position, (first, second) in enumerate(zip(*cues)):
        if " ".join(first.scene.text.split()) != " ".join(second.scene.text.split()):
            raise InputError(f"cue {position + 1} is for different scenes in the two settings "
                             f"({first.scene.excerpt(40)!r} vs {second.scene.excerpt(40)!r}); "
                             "score the same story with both settings")
        order = (0, 1) if rng.random() < 0.5 else (1, 0)
        pair = (first, second)
        trials.append(Trial(
            trial_id=_trial_id(first.scene.index, first.scene.text, names),
            scene_index=first.scene.index, scene=first.scene.text, emotion=first.emotion,
            conditions=(names[order[0]], names[order[1]]),
            scores=(pair[order[0]].score, pair[order[1]].score),
        ))
    if shuffle:
        rng.shuffle(trials)
    return trials


# -- the results file --------------------------------------------------------------------------

def _check_int(value, low, high, what, where):
    try:
        number = int(str(value).strip()) if not isinstance(value, numbers.Integral) else int(value)
    except ValueError:
        number = None
    if isinstance(value, bool) or number is None or not low <= number <= high:
        raise InputError(f"{where}: {what} must be a whole number from {low} to {high}, got {value!r}")
    return number


def _check_row(row, where: str) -> dict:
    """Validate one answer (a dict of :data:`LISTENING_FIELDS`) and return it with typed values."""
    if not isinstance(row, Mapping):
        raise InputError(f"{where}: an answer must be a dict of {list(LISTENING_FIELDS)}, not {type(row).__name__}")
    missing = [f for f in LISTENING_FIELDS if f not in row]
    if missing:
        raise InputError(f"{where}: missing {missing}; make answers with Trial.answer(...)")
    out = {}
    for field in ("trial_id", "rater", "answered_at", "condition_a", "condition_b", "intended_label"):
        value = row[field]
        if not isinstance(value, str) or not value.strip():
            raise InputError(f"{where}: {field} must be a non-empty text, got {value!r}")
        out[field] = value.strip()
    if out["condition_a"] == out["condition_b"]:
        raise InputError(f"{where}: condition_a and condition_b are both {out['condition_a']!r}; "
                         "a trial compares two different settings")
    scene = row["scene"]
    if not isinstance(scene, str):
        raise InputError(f"{where}: scene must be text, got {scene!r}")
    out["scene"] = scene
    out["scene_index"] = _check_int(row["scene_index"], 0, 10**9, "scene_index", where)
    out["intended_quadrant"] = _check_int(row["intended_quadrant"], 1, 4, "intended_quadrant", where)
    for side in ("a", "b"):
        out[f"rating_{side}"] = _check_int(row[f"rating_{side}"], *RATING_RANGE, f"rating_{side} (fit to the scene)",
                                           where)
        heard = row[f"heard_{side}"]
        if heard not in QUADRANT_ANSWERS and heard not in EMOTION_LABELS:
            raise InputError(f"{where}: heard_{side} must be one of {list(QUADRANT_ANSWERS)} or "
                             f"{list(EMOTION_LABELS)}, got {heard!r}")
        out[f"heard_{side}"] = heard
    if row["preference"] not in PREFERENCES:
        raise InputError(f"{where}: preference must be one of {list(PREFERENCES)}, got {row['preference']!r}")
    out["preference"] = row["preference"]
    return {field: out[field] for field in LISTENING_FIELDS}


def _parse(data: bytes, path: Path) -> list:
    """Rows of a results file's bytes; InputError (without side effects) if it is not one."""
    if not data.strip():
        return []
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(f"it is not UTF-8 text (bad byte at position {err.start})") from None
    try:
        table = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as err:
        raise InputError(f"it is not valid CSV ({err})") from None
    if not table or tuple(table[0]) != LISTENING_FIELDS:
        raise InputError(f"its header is {table[0] if table else []!r}, not the listening-results columns "
                         f"{list(LISTENING_FIELDS)}")
    rows = []
    for line, values in enumerate(table[1:], start=2):
        if not values:
            continue
        if len(values) != len(LISTENING_FIELDS):
            raise InputError(f"row {line} has {len(values)} fields instead of {len(LISTENING_FIELDS)}")
        rows.append(_check_row(dict(zip(LISTENING_FIELDS, values)), f"row {line}"))
    return rows


def _corrupt_copy(path: Path, data: bytes) -> Path:
    """Save ``data`` beside ``path`` as ``<stem>.corrupt-<time>.csv`` (reuse an identical earlier copy)."""
    for earlier in sorted(path.parent.glob(f"{path.stem}.corrupt-*{path.suffix}")):
        try:
            if earlier.read_bytes() == data:
                return earlier
        except OSError:
            continue
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    for counter in range(1000):
        suffix = f"-{counter}" if counter else ""
        copy = path.with_name(f"{path.stem}.corrupt-{stamp}{suffix}{path.suffix}")
        try:
            with open(copy, "xb") as f:  # "x": never replace anything
                f.write(data)
            return copy
        except FileExistsError:
            continue
    raise InputError(f"could not save a copy of {str(path)!r}; too many corrupt copies beside it")


def _read_existing(path: Path, *, backup: bool) -> list:
    if not path.exists():
        return []
    if path.is_dir():
        raise InputError(f"{str(path)!r} is a folder; give the path of a CSV file, e.g. {str(path / 'answers.csv')!r}")
    data = path.read_bytes()
    try:
        return _parse(data, path)
    except InputError as err:
        kept = ""
        if backup:
            copy = _corrupt_copy(path, data)
            kept = f" A copy of it was saved as {str(copy)!r}."
        raise InputError(
            f"{str(path)!r} is not a listening-results file that can be added to: {err}. It was left "
            f"unchanged and nothing was written.{kept} Repair it (or restore {str(path) + '.bak'!r}, the "
            "version before the last answer), move it away, or choose another csv_path, then answer again."
        ) from None


def read_answers(csv_path) -> list:
    """The answers in a listening-results CSV, checked and typed (ratings and quadrants as int).

    Reading changes nothing on disk. A missing or empty file gives ``[]``.

    Raises
    ------
    InputError
        The file is not a listening-results CSV (wrong header, a malformed row, an answer
        out of range); the message gives the row and what to do.
    """
    return _read_existing(Path(csv_path), backup=False)


def _write_csv(rows):
    def write(f):
        writer = csv.writer(f, lineterminator="\r\n")
        writer.writerow(LISTENING_FIELDS)
        for row in rows:
            writer.writerow([row[field] for field in LISTENING_FIELDS])
    return write


def _copy_atomic(source: Path, target: Path) -> None:
    """Copy ``source`` to ``target`` through a temporary sibling and a rename."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        shutil.copy2(source, tmp)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def append_answers(csv_path, answers) -> Path:
    """Add answers to a listening-results CSV without ever losing the ones already there.

    1. The existing file (if any) is read and checked completely. If it is not a
       results file (not UTF-8, broken CSV, another header, a row out of range), it is
       **left unchanged**, a copy is saved beside it as
       ``<name>.corrupt-<UTC time>.csv`` (an identical earlier copy is reused), and
       :class:`~scoringkit.InputError` explains what to do. Nothing is written.
    2. Otherwise the current file is copied to ``<name>.csv.bak`` (replacing the older
       backup), and the whole file, old rows then new, is written to a temporary file and
       renamed over the old one (:func:`scoringkit.io.atomic_write`), so a crash leaves
       either the old or the new version, never half a file.

    Writers in one Python process take turns (a lock); do not point two processes (two
    notebooks) at the same file at the same moment.

    Parameters
    ----------
    csv_path : str or Path
        The results file; created with its header if missing (folders too).
    answers : dict or list of dict
        Rows from :meth:`Trial.answer` (or dicts with every column of
        :data:`LISTENING_FIELDS`).

    Returns
    -------
    Path
        The results file.

    Raises
    ------
    InputError
        An answer is incomplete or out of range (nothing is written), or the existing file
        is corrupt (see above).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> row = dict(trial_id="01-abcdef", rater="ann", answered_at="2024-01-01T00:00:00+00:00", scene_index=0,
    ...            scene="Calm.", intended_quadrant=4, intended_label="joy", condition_a="x", condition_b="y",
    ...            rating_a=4, rating_b=3, heard_a="Q4", heard_b="sadness", preference="A")
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "answers.csv"
    >>> _ = append_answers(path, row)
    >>> _ = append_answers(path, [dict(row, rater="bo"), dict(row, rater="cy")])
    >>> [r["rater"] for r in read_answers(path)], len(read_answers(str(path) + ".bak"))
    (['ann', 'bo', 'cy'], 1)
    """
    from ..io import atomic_write

    path = Path(csv_path)
    items = [answers] if isinstance(answers, Mapping) else list(answers) if answers is not None else []
    if not items:
        raise InputError("no answers to add; pass a dict from Trial.answer(...) or a list of them")
    new = [_check_row(row, f"answer {i + 1}") for i, row in enumerate(items)]
    with _LOCK:
        old = _read_existing(path, backup=True)
        if path.exists():
            _copy_atomic(path, path.with_name(path.name + ".bak"))
        atomic_write(path, _write_csv(old + new), overwrite=True, binary=False)
    return path


# -- the summary -------------------------------------------------------------------------------

def _latest(rows) -> tuple:
    """The last answer of each rater to each trial (a re-answer replaces the earlier one)."""
    latest = {}
    for row in rows:
        latest[row["rater"], row["trial_id"]] = row
    return list(latest.values()), len(rows) - len(latest)


def _correct(row, side: str) -> bool:
    heard = row[f"heard_{side}"]
    if heard in QUADRANT_ANSWERS:
        return int(heard[1]) == row["intended_quadrant"]
    return heard == row["intended_label"]


def _agreement(rows, raters) -> dict | None:
    from .stats import fleiss_kappa, percent_agreement

    if len(raters) < 2:
        return None
    heard, preferred = {}, {}
    for row in rows:
        for side in ("a", "b"):
            item = (row["trial_id"], row[f"condition_{side}"])
            heard.setdefault(item, []).append(row[f"heard_{side}"])
        pick = row["preference"]
        choice = "none" if pick == "none" else row["condition_a" if pick == "A" else "condition_b"]
        preferred.setdefault(row["trial_id"], []).append(choice)

    def table(answers_by_item):
        shared = [a for a in answers_by_item.values() if len(a) >= 2]
        categories = sorted({x for answers in shared for x in answers})
        return [[answers.count(c) for c in categories] for answers in shared]

    heard_table, preference_table = table(heard), table(preferred)
    return {
        "raters": len(raters),
        "heard_items": len(heard_table), "heard_kappa": fleiss_kappa(heard_table),
        "heard_agreement": percent_agreement(heard_table),
        "preference_items": len(preference_table), "preference_kappa": fleiss_kappa(preference_table),
        "preference_agreement": percent_agreement(preference_table),
    }


def summarize_listening(csv_path) -> dict:
    """Summarise a listening-results CSV: ratings, emotion identification, preference, agreement.

    If a rater answered a trial more than once, only the last answer counts (``replaced``
    says how many earlier ones were set aside; the file keeps them all).

    * **Fit ratings**, per setting: mean of its 1-5 ratings with a 95 % Student-t
      interval (:func:`scoringkit.fuse.stats.mean_interval`; each rating counts once,
      raters are not modelled separately, so with few raters the interval is optimistic).
    * **Emotion identification**, per setting and overall: an answer is right when the
      heard quadrant (``Q1``-``Q4``) is the scene's quadrant, or the heard label is the
      scene's most likely label; accuracy with a Wilson 95 % interval
      (:func:`~scoringkit.fuse.stats.wilson_interval`). Chance is 25 % with quadrants,
      about 14 % with the seven labels.
    * **Preference**, per pair of settings: how many trials each won and how many had no
      preference; the share of the first setting (alphabetically) among the decided
      trials, with a Wilson interval and an exact two-sided binomial p-value against 50 %
      (:func:`~scoringkit.fuse.stats.binomial_p_value`).
    * **Agreement** (with two raters or more): Fleiss' kappa and plain pairwise agreement
      (:func:`~scoringkit.fuse.stats.fleiss_kappa`) of the heard emotion (items: each cue
      of each trial) and of the preferred setting (items: trials, categories: the two
      settings and "none"), over the items at least two raters answered.

    Parameters
    ----------
    csv_path : str or Path
        A file written by :func:`append_answers`.

    Returns
    -------
    dict
        ``n_rows``, ``n_answers``, ``replaced``, ``raters`` (sorted names), ``trials``
        (number of distinct trial ids), ``confidence`` (0.95);
        ``conditions``: setting → ``{"ratings", "mean_rating", "rating_sd", "rating_ci",
        "heard", "identified", "accuracy", "accuracy_ci"}``;
        ``identification``: ``{"heard", "identified", "accuracy", "accuracy_ci"}`` over
        all cues; ``preferences``: a list, per pair, of ``{"conditions", "trials",
        "none", "wins", "share", "share_ci", "p_value"}``; ``agreement``: the dict above
        or ``None`` with one rater. Intervals are ``(low, high)`` tuples (NaN where
        undefined). :func:`listening_markdown` prints it.

    Raises
    ------
    InputError
        The file is missing, holds no answers, or is not a results file (it is not
        changed).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> base = dict(answered_at="2024-01-01T00:00:00+00:00", scene="A calm lake.", scene_index=0,
    ...             intended_quadrant=4, intended_label="joy", condition_a="rules", condition_b="rerank")
    >>> rows = [dict(base, trial_id=f"0{i}-abcdef", rater=r, rating_a=3, rating_b=4 + (i % 2), heard_a="Q3",
    ...              heard_b="Q4", preference="B") for i in range(1, 4) for r in ("ann", "bo")]
    >>> path = append_answers(pathlib.Path(tempfile.mkdtemp()) / "answers.csv", rows)
    >>> s = summarize_listening(path)
    >>> s["conditions"]["rerank"]["accuracy"], s["conditions"]["rules"]["accuracy"], s["raters"]
    (1.0, 0.0, ['ann', 'bo'])
    >>> p = s["preferences"][0]
    >>> p["conditions"], p["wins"], round(p["p_value"], 4)
    (('rerank', 'rules'), {'rerank': 6, 'rules': 0}, 0.0312)
    >>> s["agreement"]["heard_agreement"], s["agreement"]["preference_agreement"]
    (1.0, 1.0)
    """
    from .stats import binomial_p_value, mean_interval, wilson_interval

    path = Path(csv_path)
    if not path.exists():
        raise InputError(f"no listening results at {str(path)!r} yet; take the test first "
                         "(scoringkit.nb.ListeningTest) or check the path")
    all_rows = read_answers(path)
    if not all_rows:
        raise InputError(f"{str(path)!r} holds no answers yet; take the test first")
    rows, replaced = _latest(all_rows)
    raters = sorted({row["rater"] for row in rows})

    per_condition = {}
    for row in rows:
        for side in ("a", "b"):
            entry = per_condition.setdefault(row[f"condition_{side}"], {"ratings": [], "correct": []})
            entry["ratings"].append(row[f"rating_{side}"])
            entry["correct"].append(_correct(row, side))
    conditions = {}
    for name in sorted(per_condition):
        entry = per_condition[name]
        stats = mean_interval(entry["ratings"])
        k, n = sum(entry["correct"]), len(entry["correct"])
        conditions[name] = {
            "ratings": stats["n"], "mean_rating": stats["mean"], "rating_sd": stats["sd"],
            "rating_ci": (stats["low"], stats["high"]),
            "heard": n, "identified": k, "accuracy": k / n, "accuracy_ci": wilson_interval(k, n),
        }
    k_all = sum(c["identified"] for c in conditions.values())
    n_all = sum(c["heard"] for c in conditions.values())

    pairs = {}
    for row in rows:
        pair = tuple(sorted((row["condition_a"], row["condition_b"])))
        entry = pairs.setdefault(pair, {"trials": 0, "none": 0, "wins": dict.fromkeys(pair, 0)})
        entry["trials"] += 1
        if row["preference"] == "none":
            entry["none"] += 1
        else:
            entry["wins"][row["condition_a" if row["preference"] == "A" else "condition_b"]] += 1
    preferences = []
    for pair, entry in sorted(pairs.items()):
        first, decided = entry["wins"][pair[0]], entry["trials"] - entry["none"]
        preferences.append({
            "conditions": pair, "trials": entry["trials"], "none": entry["none"], "wins": entry["wins"],
            "share": first / decided if decided else math.nan,
            "share_ci": wilson_interval(first, decided), "p_value": binomial_p_value(first, decided),
        })

    return {
        "n_rows": len(all_rows), "n_answers": len(rows), "replaced": replaced, "raters": raters,
        "trials": len({row["trial_id"] for row in rows}), "confidence": 0.95,
        "conditions": conditions,
        "identification": {"heard": n_all, "identified": k_all, "accuracy": k_all / n_all,
                           "accuracy_ci": wilson_interval(k_all, n_all)},
        "preferences": preferences,
        "agreement": _agreement(rows, raters),
    }


def _pct(x) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.0f} %"


def _num(x, digits=2) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def listening_markdown(summary: dict) -> str:
    """:func:`summarize_listening`'s result as Markdown: a table per setting, then preference and agreement.

    Examples
    --------
    >>> s = {"n_answers": 2, "raters": ["ann"], "trials": 2, "replaced": 0,
    ...      "conditions": {"x": {"ratings": 2, "mean_rating": 4.0, "rating_ci": (3.0, 5.0), "heard": 2,
    ...                           "identified": 1, "accuracy": 0.5, "accuracy_ci": (0.09, 0.91)}},
    ...      "identification": {"heard": 2, "identified": 1, "accuracy": 0.5, "accuracy_ci": (0.09, 0.91)},
    ...      "preferences": [], "agreement": None}
    >>> print(listening_markdown(s).splitlines()[4])
    | x | 4.00 | 3.00 – 5.00 | 1 / 2 | 50 % | 9 % – 91 % |
    """
    replaced = summary.get("replaced") or 0
    lines = [f"{summary['n_answers']} answers to {summary['trials']} trials by {len(summary['raters'])} rater(s)"
             + (f" ({replaced} earlier answers replaced)." if replaced else "."),
             "",
             "| setting | mean fit (1-5) | 95 % CI | emotion heard right | accuracy | 95 % CI |",
             "|---|---:|---:|---:|---:|---:|"]
    for name, c in summary["conditions"].items():
        lo, hi = c["rating_ci"]
        alo, ahi = c["accuracy_ci"]
        lines.append(f"| {name} | {_num(c['mean_rating'])} | {_num(lo)} – {_num(hi)} | {c['identified']} / "
                     f"{c['heard']} | {_pct(c['accuracy'])} | {_pct(alo)} – {_pct(ahi)} |")
    ident = summary["identification"]
    lines += ["", f"All cues: the intended emotion was heard {ident['identified']} of {ident['heard']} times "
                  f"({_pct(ident['accuracy'])}, 95 % CI {_pct(ident['accuracy_ci'][0])} – "
                  f"{_pct(ident['accuracy_ci'][1])})."]
    for p in summary["preferences"]:
        a, b = p["conditions"]
        lines.append(f"Preference {a} vs {b}: {p['wins'][a]} – {p['wins'][b]} ({p['none']} without preference); "
                     f"share of {a} {_pct(p['share'])} "
                     f"(95 % CI {_pct(p['share_ci'][0])} – {_pct(p['share_ci'][1])}), "
                     f"binomial p = {_num(p['p_value'], 3)}.")
    agreement = summary.get("agreement")
    if agreement:
        lines.append(f"Agreement of {agreement['raters']} raters: heard emotion kappa "
                     f"{_num(agreement['heard_kappa'])} (pairs agree {_pct(agreement['heard_agreement'])}, "
                     f"{agreement['heard_items']} cues); preference kappa {_num(agreement['preference_kappa'])} "
                     f"(pairs agree {_pct(agreement['preference_agreement'])}, "
                     f"{agreement['preference_items']} trials).")
    return "\n".join(lines)
