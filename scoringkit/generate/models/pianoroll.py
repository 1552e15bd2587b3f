"""Bar-level piano rolls: what the VAE and the GAN see, and how their output becomes a Score.

A :class:`~scoringkit.types.Score` becomes an array of bars, each a binary image of
*time steps × pitches* in two channels::

    roll[bar, 0, step, pitch] = 1   a note starts at this step          ("onset")
    roll[bar, 1, step, pitch] = 1   a note sounds during this step      ("active", onset steps included)

Grid (:class:`RollConfig`, the defaults)
----------------------------------------
* **Time**: 4 steps per beat (a sixteenth-note grid, as the tokenizer), bars of 4
  beats, so 16 steps per bar. The meter of the score is *not* used: EMOPIA's clips are
  performance MIDI written at a nominal 120 BPM whose barlines are not the music's, so
  a "bar" here is simply 4 beats of the file's grid (2 s of EMOPIA). Generated music is
  written in 4/4.
* **Pitch**: 72 keys from MIDI 24 (C1) to 95 (B6), six octaves; 98 % of EMOPIA's notes
  lie there. Notes outside are folded into the range by whole octaves (``fold=True``,
  so a low A0 becomes A1 and the harmony is kept) or dropped (``fold=False``).
* Drum tracks are left out; all pitched tracks are merged (a roll has no instruments).

Two channels rather than one binary "sounding" channel tell a long note from repeated
short ones (MuseGAN-style rolls lose that). Velocities are not stored: the models
learn *which notes when*, and :func:`rolls_to_cue` gives the notes the intent's
loudness with metrical accents and its dynamics curve.

What is lost (quantisation)
---------------------------
Onsets and ends snap to the grid (at least one step long); tracks merge into one;
velocities, tempo and key are not stored; two notes of one pitch that overlap merge.
:func:`roll_to_score` inverts :func:`score_to_roll` exactly up to that:
``score_to_roll(roll_to_score(r)) == r`` for any binary roll whose onsets are active.

Data: EMOPIA as bars
--------------------
:func:`load_emopia_rolls` decodes EMOPIA's cached token sequences
(:func:`scoringkit.generate.models.data.load_emopia_tokens`, official split, quadrant
labels) into a :class:`RollCorpus` (one row per bar; cached as
``~/.cache/scoringkit/emopia_rolls_v1_<config>.npz``). :class:`RollDataset` cuts it into
segments of ``bars`` consecutive bars and transposes them by a random shift in -5..+5
semitones that keeps the segment inside the pitch range (the same augmentation as the
token data, :func:`scoringkit.generate.models.data.transpositions`).

Examples
--------
>>> from scoringkit.types import Note, Score, Track
>>> score = Score([Track("piano", 0, [Note(60, 0, 1), Note(64, 0.5, 4), Note(67, 4, 0.25)])])
>>> roll = score_to_roll(score)
>>> roll.shape, int(roll[0, 0].sum()), int(roll[0, 1].sum())
((2, 2, 16, 72), 2, 18)
>>> back = roll_to_score(roll, tempo=120)
>>> [(n.pitch, n.start, n.duration) for n in back.tracks[0].notes]
[(60, 0.0, 1.0), (64, 0.5, 4.0), (67, 4.0, 0.25)]
"""

from __future__ import annotations

import bisect
import hashlib
import json
import math
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path

from ...errors import InputError, ModelError
from ...types import Note, Score, Track, key_name, parse_key

__all__ = ["RollConfig", "CHANNELS", "score_to_roll", "roll_to_score", "binarize", "clean_roll", "RollCorpus", "RollDataset",
           "load_emopia_rolls", "transpose_rolls", "segment_shifts", "latent_walk", "fit_key",
           "rolls_to_cue", "sustain_pedal", "mode_strengths", "limit_lengths",
           "keep_to_scale", "SCALE_STEPS", "check_draws", "mode_choice", "choose_by_mode", "join_scores", "roll_key", "roll_statistics",
           "LoadedRollModel",
           "density_thresholds",
           "statistics_distance", "n_bars_for",
           "intent_quadrant", "plain_intent", "emotion_accuracy", "quality_comparison", "EVAL_EMOTIONS",
           "CACHE_VERSION"]

#: The roll channels, in order.
CHANNELS = ("onset", "active")
#: Version of the roll cache files.
CACHE_VERSION = 1
#: Largest augmentation shift in semitones.
MAX_SHIFT = 5
SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class RollConfig:
    """The grid of a piano roll.

    Parameters
    ----------
    steps_per_beat : int
        Time steps per quarter note (4: sixteenth notes).
    beats_per_bar : int
        Quarter notes per bar (4).
    low : int
        MIDI pitch of the lowest row (24 = C1).
    n_pitches : int
        Number of pitch rows (72: C1..B6). Keep it a multiple of 12 (octave folding).

    Examples
    --------
    >>> c = RollConfig()
    >>> c.steps_per_bar, c.high
    (16, 95)
    """

    steps_per_beat: int = 4
    beats_per_bar: int = 4
    low: int = 24
    n_pitches: int = 72

    def __post_init__(self):
        for name, lo, hi in (("steps_per_beat", 1, 48), ("beats_per_bar", 1, 16), ("low", 0, 127),
                             ("n_pitches", 12, 128)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
                raise InputError(f"RollConfig.{name} must be an integer in {lo}..{hi}, got {value!r}")
        if self.n_pitches % 12 or self.low + self.n_pitches > 128:
            raise InputError(f"RollConfig needs whole octaves inside MIDI 0-127 (n_pitches a multiple of 12, "
                             f"low + n_pitches <= 128), got low={self.low}, n_pitches={self.n_pitches}")

    @property
    def steps_per_bar(self) -> int:
        """Time steps in one bar."""
        return self.steps_per_beat * self.beats_per_bar

    @property
    def high(self) -> int:
        """MIDI pitch of the highest row."""
        return self.low + self.n_pitches - 1

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data) -> "RollConfig":
        if not isinstance(data, dict) or set(data) != {"steps_per_beat", "beats_per_bar", "low", "n_pitches"}:
            raise ModelError(f"not a roll configuration: {data!r}")
        return cls(**{k: int(v) for k, v in data.items()})


def _config(config) -> RollConfig:
    if config is None:
        return RollConfig()
    if isinstance(config, dict):
        return RollConfig.from_dict(config)
    if not isinstance(config, RollConfig):
        raise InputError(f"config must be a RollConfig, not {type(config).__name__}")
    return config


def _fold(pitch: int, config: RollConfig):
    while pitch < config.low:
        pitch += 12
    while pitch > config.high:
        pitch -= 12
    return pitch


def score_to_roll(score: Score, *, config: RollConfig | None = None, fold: bool = True, n_bars=None):
    """A score's pitched notes as bars of a two-channel piano roll.

    Parameters
    ----------
    score : Score
    config : RollConfig, optional
        The grid (default: 16 steps per 4-beat bar, MIDI 24-95).
    fold : bool
        Fold notes outside the pitch range in by octaves (default) instead of dropping them.
    n_bars : int, optional
        Number of bars (default: enough for the last note); notes past the end are cut.

    Returns
    -------
    numpy.ndarray of uint8, shape (n_bars, 2, steps_per_bar, n_pitches)
        Channel 0 onsets, channel 1 sounding steps (see the module docstring).

    Examples
    --------
    >>> s = Score([Track("p", 0, [Note(60, 1, 0.5)])])
    >>> r = score_to_roll(s)
    >>> r.shape, int(r[0, 0, 4, 60 - 24]), r[0, 1, 4:7, 60 - 24].tolist()
    ((1, 2, 16, 72), 1, [1, 1, 0])
    """
    import numpy as np

    if not isinstance(score, Score):
        raise InputError(f"score_to_roll needs a Score, not {type(score).__name__}")
    config = _config(config)
    spb, steps_bar = config.steps_per_beat, config.steps_per_bar
    notes = [n for t in score.tracks if not t.is_drum for n in t.notes]
    if n_bars is None:
        end = max((n.end for n in notes), default=0.0)
        n_bars = max(1, math.ceil(round(end * spb, 6) / steps_bar))
    n_bars = int(n_bars)
    if n_bars < 1:
        raise InputError(f"n_bars must be at least 1, got {n_bars}")
    total = n_bars * steps_bar
    flat = np.zeros((2, total, config.n_pitches), dtype=np.uint8)
    for note in notes:
        pitch = _fold(note.pitch, config) if fold else note.pitch
        if not config.low <= pitch <= config.high:
            continue
        start = int(math.floor(note.start * spb + 0.5))
        if start >= total:
            continue
        end = min(total, max(start + 1, int(math.floor(note.end * spb + 0.5))))
        row = pitch - config.low
        flat[0, start, row] = 1
        flat[1, start:end, row] = 1
    return flat.reshape(2, n_bars, steps_bar, config.n_pitches).transpose(1, 0, 2, 3).copy()


def _flatten(roll, config: RollConfig):
    """(n_bars, 2, S, P) or (2, T, P) → (2, T, P) float array."""
    import numpy as np

    r = np.asarray(roll)
    if r.ndim == 4 and r.shape[1] == 2:
        r = r.transpose(1, 0, 2, 3).reshape(2, -1, r.shape[-1])
    if r.ndim != 3 or r.shape[0] != 2 or r.shape[-1] != config.n_pitches:
        raise InputError(f"a roll has shape (n_bars, 2, steps, {config.n_pitches}) or (2, steps, "
                         f"{config.n_pitches}), got {tuple(np.shape(roll))}")
    return r


def binarize(roll, threshold=0.5):
    """Cells above ``threshold`` as a boolean roll; ``threshold`` is one number or ``(onset, active)``.

    The channel axis is the third from the end (``(..., 2, steps, pitches)``); an onset
    also makes its cell active.

    Examples
    --------
    >>> import numpy as np
    >>> binarize(np.full((2, 1, 1), 0.3), (0.2, 0.5))[:, 0, 0].tolist()
    [True, True]
    """
    import numpy as np

    r = np.asarray(roll)
    th = np.asarray(threshold, dtype=np.float64).reshape(-1)
    if th.size not in (1, 2) or not np.all((th >= 0) & (th <= 1)):
        raise InputError(f"threshold must be a number in [0, 1] or a pair (onset, active), got {threshold!r}")
    th = np.broadcast_to(th, (2,))
    out = np.empty(r.shape, dtype=bool)
    out[..., 0, :, :] = r[..., 0, :, :] > th[0]
    out[..., 1, :, :] = (r[..., 1, :, :] > th[1]) | out[..., 0, :, :]
    return out


def clean_roll(on, act):
    """Tidy binary onset and active channels ``(steps, pitches)`` of a model's output.

    A model unsure whether a note still sounds leaves one-step holes, each of which
    would restart the note, and one-step flecks that would become sixteenth-note clicks;
    a model unsure *when* a note starts (the VAE's onset F1 is 0.22: EMOPIA's performed
    onsets are not on the grid) marks several consecutive steps of one pitch as onsets,
    which would re-strike the note every sixteenth. This fills a one-step gap in a pitch's
    active run when no onset follows it, drops a single active step that has no onset and
    no active neighbour, and keeps only the first of consecutive onsets of a pitch (the
    note then sounds on through the others). Returns the new ``(on, act)``.

    Examples
    --------
    >>> import numpy as np
    >>> act = np.array([[1], [1], [0], [1], [0], [0], [1], [0], [0]], bool); on = np.zeros_like(act); on[0] = True
    >>> clean_roll(on, act)[1][:, 0].astype(int).tolist()
    [1, 1, 1, 1, 0, 0, 0, 0, 0]
    >>> on = np.array([[1], [1], [1], [0], [1]], bool)  # a blurred onset, then a real re-strike
    >>> clean_roll(on, np.ones_like(on))[0][:, 0].astype(int).tolist()
    [1, 0, 0, 0, 1]
    """
    import numpy as np

    on, act = np.asarray(on, bool), np.array(act, bool)
    gap = np.zeros_like(act)
    gap[1:-1] = act[:-2] & ~act[1:-1] & act[2:] & ~on[2:]
    act |= gap
    prev = np.zeros_like(act)
    prev[1:] = act[:-1]
    nxt = np.zeros_like(act)
    nxt[:-1] = act[1:]
    act &= ~(~prev & ~nxt & ~on)
    earlier = np.zeros_like(on)
    earlier[1:] = on[:-1]
    on = on & ~earlier
    return on, act | on


def roll_to_score(roll, *, config: RollConfig | None = None, threshold=0.5, tempo: float = 120.0,
                  key: str = "C major", program: int = 0, velocity=80, name: str = "piano",
                  clean: bool = False) -> Score:
    """Turn a piano roll (binary, or probabilities from a model) back into a one-track Score.

    A note starts where the onset channel is on, or where the active channel turns on;
    it lasts while the active channel stays on and no new onset of the same pitch comes.

    Parameters
    ----------
    roll : array, shape (n_bars, 2, steps_per_bar, n_pitches) or (2, n_steps, n_pitches)
    config : RollConfig, optional
    threshold : float or (float, float)
        Cells above it are on (for model probabilities); a pair gives the onset and the
        active channel their own thresholds.
    tempo, key : float, str
        Written into the Score (a roll stores neither).
    program : int
        General MIDI program of the track (0: piano).
    velocity : int or array
        One velocity, or an array broadcastable to ``(n_steps, n_pitches)`` read at each
        onset (e.g. accents per step).
    name : str
        Track name.
    clean : bool
        Tidy a model's output first (:func:`clean_roll`): fill one-step gaps inside
        sounding notes and drop one-step blips that have no onset.

    Returns
    -------
    Score
        One track, notes sorted by onset and pitch; tempo, key, meter ``(beats_per_bar, 4)``.
    """
    import numpy as np

    config = _config(config)
    flat = _flatten(roll, config)
    on, act = binarize(flat, threshold)
    if clean:
        on, act = clean_roll(on, act)
    n_steps = act.shape[0]
    vel = np.broadcast_to(np.asarray(velocity, dtype=np.float64), (n_steps, config.n_pitches))
    prev = np.zeros_like(act)
    prev[1:] = act[:-1]
    starts = on | (act & ~prev)
    # a note continues at step t when the pitch is active and no new note starts there
    stops = ~act | starts  # steps where a running note cannot continue
    notes = []
    step_beats = 1.0 / config.steps_per_beat
    for row in np.flatnonzero(starts.any(axis=0)):
        begin = np.flatnonzero(starts[:, row])
        ends_at = np.flatnonzero(stops[:, row])
        for b in begin:
            k = np.searchsorted(ends_at, b, side="right")
            e = int(ends_at[k]) if k < len(ends_at) else n_steps
            notes.append(Note(int(config.low + row), float(b * step_beats), float((e - b) * step_beats),
                              int(np.clip(round(float(vel[b, row])), 1, 127))))
    notes.sort(key=lambda n: (n.start, n.pitch))
    return Score([Track(name, program, notes)], tempo=tempo, key=key, meter=(config.beats_per_bar, 4))


# -- corpus ------------------------------------------------------------------------------------------
@dataclass
class RollCorpus:
    """Bars of many pieces, one row per bar (what the cache file holds).

    Parameters
    ----------
    rolls : numpy.ndarray of uint8, shape (n_bars, 2, steps_per_bar, n_pitches)
    piece : numpy.ndarray of int32, shape (n_bars,)
        Index of the bar's piece.
    names, quadrants, splits : numpy.ndarray, shape (n_pieces,)
        Per piece: clip id, EMOPIA quadrant 1-4 (0 = unlabelled), split name.
    config : RollConfig
    meta : dict
    """

    rolls: object
    piece: object
    names: object
    quadrants: object
    splits: object
    config: RollConfig
    meta: dict

    def __len__(self) -> int:
        return len(self.rolls)

    @property
    def n_pieces(self) -> int:
        return len(self.names)

    @property
    def bar_quadrants(self):
        """Quadrant of every bar (numpy int64)."""
        return self.quadrants[self.piece].astype("int64")

    def subset(self, split=None) -> "RollCorpus":
        """The bars of one split (``"train"``, ``"val"``, ``"test"``) or of a list of piece indices."""
        import numpy as np

        if split is None:
            return self
        if isinstance(split, str):
            if split not in SPLITS:
                from ...errors import choice_error

                raise choice_error("split", split, SPLITS)
            keep = np.flatnonzero(self.splits == split)
        else:
            keep = np.asarray(split, dtype=np.int64)
        remap = -np.ones(self.n_pieces, dtype=np.int64)
        remap[keep] = np.arange(len(keep))
        rows = np.flatnonzero(np.isin(self.piece, keep))
        return RollCorpus(self.rolls[rows], remap[self.piece[rows]].astype(np.int32), self.names[keep],
                          self.quadrants[keep], self.splits[keep], self.config, dict(self.meta))

    def summary(self) -> dict:
        """Pieces and bars per split."""
        out = {}
        for split in SPLITS:
            part = self.subset(split) if split in set(self.splits.tolist()) else None
            if part is not None:
                out[split] = {"pieces": part.n_pieces, "bars": len(part)}
        return out

    @classmethod
    def from_scores(cls, scores, *, quadrants=None, splits=None, names=None, config=None, meta=None) -> "RollCorpus":
        """Build a corpus from Scores (e.g. made with ``sk.compose`` for a quick experiment)."""
        import numpy as np

        config = _config(config)
        scores = list(scores)
        n = len(scores)
        quadrants = [0] * n if quadrants is None else [int(q or 0) for q in quadrants]
        splits = ["train"] * n if splits is None else list(splits)
        names = [f"piece {i}" for i in range(n)] if names is None else list(names)
        if not len(quadrants) == len(splits) == len(names) == n:
            raise InputError(f"quadrants, splits and names need one entry per score ({n})")
        bad = sorted(set(splits) - set(SPLITS))
        if bad:
            raise InputError(f"unknown split name(s) {bad}; use {list(SPLITS)}")
        if any(q not in (0, 1, 2, 3, 4) for q in quadrants):
            raise InputError(f"quadrants are 1-4 (0 = unlabelled), got {sorted(set(quadrants))}")
        rolls = [score_to_roll(s, config=config) for s in scores]
        piece = np.concatenate([np.full(len(r), i, np.int32) for i, r in enumerate(rolls)]) if n else np.zeros(0, np.int32)
        stacked = np.concatenate(rolls) if n else np.zeros((0, 2, config.steps_per_bar, config.n_pitches), np.uint8)
        return cls(stacked, piece, np.array(names, dtype=str), np.array(quadrants, dtype=np.int8),
                   np.array(splits, dtype=str), config, dict(meta or {}))

    def save(self, path, *, overwrite: bool = True) -> Path:
        """Write the corpus as one compressed ``.npz`` (no pickled objects)."""
        import numpy as np

        from ...io import atomic_write

        meta = json.dumps({**self.meta, "config": self.config.to_dict(), "cache_version": CACHE_VERSION})
        arrays = {"rolls": np.packbits(self.rolls, axis=-1), "piece": self.piece, "names": self.names,
                  "quadrants": self.quadrants, "splits": self.splits}
        return atomic_write(path, lambda f: np.savez_compressed(f, meta=np.array(meta), **arrays), overwrite=overwrite)

    @classmethod
    def load(cls, path) -> "RollCorpus":
        """Read a corpus written by :meth:`save` (never unpickles)."""
        import numpy as np

        path = Path(path)
        if not path.is_file():
            raise InputError(f"no such roll file: {str(path)!r}; check the path")
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files}
            meta = json.loads(str(arrays.pop("meta")))
            config = RollConfig.from_dict(meta.pop("config"))
            rolls = np.unpackbits(arrays.pop("rolls"), axis=-1, count=config.n_pitches)
            return cls(rolls=rolls, config=config, meta=meta, **arrays)
        except (OSError, ValueError, KeyError, TypeError, zlib.error) as err:
            raise ModelError(f"{str(path)!r} is not a readable roll file ({err}); delete it to rebuild it") from None


def load_emopia_rolls(data_dir=None, *, config: RollConfig | None = None, cache: bool = True, cache_path=None,
                      rebuild: bool = False) -> RollCorpus:
    """EMOPIA's clips as bars of piano roll, with quadrants and the official split (cached).

    Built from the token cache of :func:`~scoringkit.generate.models.data.load_emopia_tokens`
    (each clip decoded back to a Score, then :func:`score_to_roll`); about 5 s the first
    time, then read from ``~/.cache/scoringkit``.

    Raises
    ------
    InputError
        If EMOPIA is not found (the message says where to put it).
    """
    from .data import load_emopia_tokens, token_cache_dir
    from .tokenizer import RemiTokenizer

    config = _config(config)
    tokenizer = RemiTokenizer()
    tokens = load_emopia_tokens(data_dir, tokenizer=tokenizer)
    signature = hashlib.sha256(json.dumps([tokens.meta.get("signature"), tokenizer.vocab_hash,
                                           config.to_dict(), CACHE_VERSION]).encode()).hexdigest()
    tag = hashlib.sha256(json.dumps(config.to_dict(), sort_keys=True).encode()).hexdigest()[:8]
    cache_path = Path(cache_path) if cache_path else token_cache_dir() / f"emopia_rolls_v{CACHE_VERSION}_{tag}.npz"
    if cache and not rebuild and cache_path.is_file():
        try:
            corpus = RollCorpus.load(cache_path)
            if corpus.meta.get("signature") == signature and corpus.config == config:
                return corpus
        except ModelError:
            pass
    scores = [tokenizer.decode(tokens.sequence(i)) for i in range(len(tokens))]
    corpus = RollCorpus.from_scores(scores, quadrants=tokens.quadrants.tolist(), splits=tokens.splits.tolist(),
                                    names=tokens.names.tolist(), config=config,
                                    meta={"source": "EMOPIA", "licence": "CC BY-NC-SA 4.0 (non-commercial)",
                                          "signature": signature})
    if cache:
        corpus.save(cache_path, overwrite=True)
    return corpus


# -- segments, augmentation, batches ------------------------------------------------------------------
def segment_shifts(rolls, *, config: RollConfig | None = None, max_shift: int = MAX_SHIFT):
    """Lowest and highest allowed transposition of each roll (keeps every note in range).

    Parameters
    ----------
    rolls : array, shape (n, 2, steps, n_pitches)

    Returns
    -------
    (numpy.ndarray, numpy.ndarray) of int, shape (n,)
        ``low_shift <= 0 <= high_shift``, clipped to ``±max_shift``.
    """
    import numpy as np

    config = _config(config)
    used = np.asarray(rolls).reshape(len(rolls), -1, config.n_pitches).any(axis=1)
    lowest = np.where(used.any(axis=1), used.argmax(axis=1), 0)
    highest = np.where(used.any(axis=1), config.n_pitches - 1 - used[:, ::-1].argmax(axis=1), config.n_pitches - 1)
    return (np.maximum(-max_shift, -lowest).astype(np.int64),
            np.minimum(max_shift, config.n_pitches - 1 - highest).astype(np.int64))


def transpose_rolls(rolls, shifts):
    """Shift each roll along the pitch axis (last axis) by its number of semitones; notes pushed out are lost.

    Examples
    --------
    >>> import numpy as np
    >>> r = np.zeros((1, 2, 1, 12), np.uint8); r[0, :, 0, 3] = 1
    >>> int(transpose_rolls(r, [2])[0, 0, 0].argmax())
    5
    """
    import numpy as np

    rolls = np.asarray(rolls)
    shifts = np.broadcast_to(np.asarray(shifts, dtype=np.int64), (len(rolls),))
    out = np.zeros_like(rolls)
    n = rolls.shape[-1]
    for s in np.unique(shifts):
        idx = np.flatnonzero(shifts == s)
        s = int(s)
        if s >= 0:
            out[idx, ..., s:] = rolls[idx, ..., :n - s]
        else:
            out[idx, ..., :n + s] = rolls[idx, ..., -s:]
    return out


class RollDataset:
    """Segments of ``bars`` consecutive bars of a :class:`RollCorpus`, with transposition augmentation.

    A map-style dataset (works with ``torch.utils.data.DataLoader``); the training
    loops use :meth:`batch`, which builds a whole batch with numpy (faster on a CPU).

    Parameters
    ----------
    corpus : RollCorpus
    split : {"train", "val", "test"}, optional
    bars : int
        Bars per segment (1 for the GAN, 2 for the VAE). Segments start at every bar
        (hop 1) and never cross pieces.
    augment : bool
        Transpose each segment by a random shift in ``-max_shift..max_shift`` that keeps
        its notes inside the pitch range.
    skip_empty : bool
        Leave out segments without a note.
    labelled_only : bool
        Leave out pieces without a quadrant.
    seed : int

    Items
    -----
    dict with ``roll`` (float32 tensor ``(2, bars * steps_per_bar, n_pitches)``),
    ``quadrant`` (1-4, 0 = unlabelled) and ``shift``.
    """

    def __init__(self, corpus: RollCorpus, *, split=None, bars: int = 1, augment: bool = False,
                 max_shift: int = MAX_SHIFT, skip_empty: bool = True, labelled_only: bool = False, seed: int = 0):
        import numpy as np

        if not isinstance(corpus, RollCorpus):
            raise InputError(f"expected a RollCorpus (load_emopia_rolls(), RollCorpus.from_scores()), "
                             f"not {type(corpus).__name__}")
        if isinstance(bars, bool) or not isinstance(bars, int) or not 1 <= bars <= 16:
            raise InputError(f"bars must be an integer 1-16, got {bars!r}")
        self.corpus = corpus.subset(split)
        self.config = corpus.config
        self.bars = bars
        self.augment = bool(augment)
        self.max_shift = int(max_shift)
        self.rng = np.random.default_rng(seed)
        piece = self.corpus.piece
        n = len(piece)
        starts = np.arange(max(0, n - bars + 1))
        if bars > 1 and len(starts):
            starts = starts[piece[starts] == piece[starts + bars - 1]]
        self.starts = starts
        if len(starts):
            segs = self._gather(starts)
            if skip_empty:
                keep = segs.reshape(len(starts), -1).any(axis=1)
                self.starts, segs = starts[keep], segs[keep]
            if labelled_only:
                keep = self.corpus.quadrants[piece[self.starts]] > 0
                self.starts, segs = self.starts[keep], segs[keep]
            self.low_shift, self.high_shift = segment_shifts(segs, config=self.config, max_shift=self.max_shift)
        else:
            self.low_shift = self.high_shift = np.zeros(0, np.int64)
        self.quadrants = self.corpus.quadrants[piece[self.starts]].astype(np.int64) if len(self.starts) \
            else np.zeros(0, np.int64)

    def _gather(self, starts):
        """(n, 2, bars * S, P) uint8 segments starting at rows ``starts``."""
        import numpy as np

        rows = np.asarray(starts)[:, None] + np.arange(self.bars)[None, :]
        segs = self.corpus.rolls[rows]  # (n, bars, 2, S, P)
        n, b, c, s, p = segs.shape
        return segs.transpose(0, 2, 1, 3, 4).reshape(n, c, b * s, p)

    def __len__(self) -> int:
        return len(self.starts)

    def arrays(self, index=None, *, shifts=None):
        """Segments ``index`` (default all) as uint8 ``(n, 2, T, P)`` and their quadrants, optionally transposed."""
        import numpy as np

        index = np.arange(len(self)) if index is None else np.asarray(index, dtype=np.int64)
        segs = self._gather(self.starts[index])
        if shifts is not None:
            segs = transpose_rolls(segs, shifts)
        return segs, self.quadrants[index]

    def random_shifts(self, index, rng=None):
        """A random allowed shift for each segment in ``index`` (0 when not augmenting)."""
        import numpy as np

        index = np.asarray(index, dtype=np.int64)
        if not self.augment:
            return np.zeros(len(index), np.int64)
        rng = rng or self.rng
        lo, hi = self.low_shift[index], self.high_shift[index]
        return lo + (rng.random(len(index)) * (hi - lo + 1)).astype(np.int64)

    def batch(self, batch_size: int, rng=None):
        """A random batch (with replacement) as torch tensors: float32 rolls ``(B, 2, T, P)``, quadrants ``(B,)``."""
        import torch

        rng = rng or self.rng
        index = rng.integers(0, len(self), batch_size)
        segs, quadrants = self.arrays(index, shifts=self.random_shifts(index, rng))
        return torch.from_numpy(segs.astype("float32")), torch.from_numpy(quadrants)

    def __getitem__(self, index: int) -> dict:
        import torch

        index = int(index)
        if not -len(self) <= index < len(self):
            raise IndexError(f"segment {index} out of range (the dataset has {len(self)})")
        index %= len(self)
        shift = self.random_shifts([index])
        segs, quadrants = self.arrays([index], shifts=shift)
        return {"roll": torch.from_numpy(segs[0].astype("float32")), "quadrant": torch.tensor(int(quadrants[0])),
                "shift": int(shift[0])}


# -- from model output to a cue ------------------------------------------------------------------------
def n_bars_for(duration: float, tempo: float, config: RollConfig | None = None) -> int:
    """Whole bars closest to ``duration`` seconds at ``tempo`` (at least 1)."""
    config = _config(config)
    return max(1, int(round(float(duration) * float(tempo) / 60.0 / config.beats_per_bar)))


def latent_walk(n: int, dim: int, *, rho: float = 0.8, rng=None):
    """``n`` standard-normal latent vectors where each is correlated ``rho`` with the one before.

    ``z[0] ~ N(0, I)``, ``z[i] = rho · z[i-1] + sqrt(1 - rho²) · ε``: every ``z[i]`` is
    still distributed as the prior, but neighbours are similar, so the bars decoded from
    them sound like one passage rather than a collage (a simple stand-in for MuseGAN's
    shared "temporal" latent).

    Returns
    -------
    numpy.ndarray of float32, shape (n, dim)
    """
    import numpy as np

    rng = rng if rng is not None else np.random.default_rng(0)
    if not 0 <= rho < 1:
        raise InputError(f"rho must be in [0, 1), got {rho!r}")
    eps = rng.standard_normal((n, dim))
    z = np.empty((n, dim))
    z[0] = eps[0]
    for i in range(1, n):
        z[i] = rho * z[i - 1] + math.sqrt(1 - rho * rho) * eps[i]
    return z.astype(np.float32)


def fit_key(flat_roll, key: str, *, config: RollConfig | None = None) -> tuple[int, str]:
    """Shift (semitones, -6..+5) that moves a roll's estimated key onto ``key``, and the key it then has.

    The roll's key is estimated from its pitch-class profile (Krumhansl-Schmuckler,
    :func:`scoringkit.extract.audio.estimate_key`). If its mode matches ``key``'s, the
    tonic moves onto ``key``'s; otherwise onto the relative key (a minor passage asked to
    be in F major goes to D minor), so the key signature matches and the model's mode is
    kept. A roll without notes gets ``(0, key)``.

    Examples
    --------
    >>> import numpy as np
    >>> r = np.zeros((2, 4, 72)); r[1, :, [60 - 24, 64 - 24, 67 - 24]] = 1  # a C major triad
    >>> fit_key(r, "D major")
    (2, 'D major')
    """
    import numpy as np

    from ...extract.audio import estimate_key

    config = _config(config)
    r = np.asarray(flat_roll, dtype=np.float64)
    weights = r[1].sum(axis=0) + r[0].sum(axis=0)
    profile = np.zeros(12)
    np.add.at(profile, (np.arange(config.n_pitches) + config.low) % 12, weights)
    est = estimate_key(profile) if profile.sum() > 0 else None
    if est is None:
        return 0, key
    tonic, mode = parse_key(key)
    if est["mode"] != mode:
        tonic = (tonic + 3) % 12 if mode == "minor" else (tonic - 3) % 12
        mode = est["mode"]
    shift = (tonic - est["tonic"]) % 12
    if shift > 5:
        shift -= 12
    return int(shift), key_name(tonic, mode)


def mode_strengths(rolls, *, config: RollConfig | None = None, threshold=0.5):
    """How major each roll sounds: best major minus best minor key-profile correlation of its pitch classes.

    The Krumhansl-Schmuckler key estimate of :func:`fit_key`, vectorised: each roll's
    pitch-class profile (sounding steps plus onsets, after :func:`binarize` at
    ``threshold``) is correlated with the 12 rotations of the Krumhansl-Kessler major and
    minor profiles; the result is the best major minus the best minor correlation, > 0 for
    a passage heard in a major key, < 0 in a minor one, 0 for an empty or flat one (the
    ``mode_strength`` of :func:`scoringkit.extract.audio.estimate_key`).

    Parameters
    ----------
    rolls : array, shape (n, 2, steps, n_pitches) or (n, n_bars, 2, steps, n_pitches)
        Probabilities or binary cells; one figure per leading index (a bar, a segment or a
        whole passage of bars).

    Returns
    -------
    numpy.ndarray of float, shape (n,)

    Examples
    --------
    >>> import numpy as np
    >>> r = np.zeros((2, 2, 4, 72))
    >>> r[0, 1, :, [60 - 24, 64 - 24, 67 - 24]] = 1  # C major triad
    >>> r[1, 1, :, [57 - 24, 60 - 24, 64 - 24]] = 1  # A minor triad
    >>> [bool(v > 0) for v in mode_strengths(r)]
    [True, False]
    """
    import numpy as np

    from ...extract.audio import key_templates

    config = _config(config)
    b = binarize(rolls, threshold)
    n = b.shape[0]
    b = b.reshape(n, -1, 2, b.shape[-2], config.n_pitches)
    weights = (b[:, :, 1].sum(axis=(1, 2)) + b[:, :, 0].sum(axis=(1, 2))).astype(np.float64)  # (n, P)
    profiles = np.zeros((n, 12))
    np.add.at(profiles.T, (np.arange(config.n_pitches) + config.low) % 12, weights.T)
    templates = key_templates()
    templates = templates / np.linalg.norm(templates, axis=1, keepdims=True)
    centred = profiles - profiles.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(centred, axis=1)
    corr = centred @ templates.T / np.maximum(norms, 1e-12)[:, None]
    out = corr[:, :12].max(axis=1) - corr[:, 12:].max(axis=1)
    return np.where(norms > 1e-9, out, 0.0)


def limit_lengths(notes, longest: float) -> list:
    """Shorten every note longer than ``longest`` beats to that length (onsets, pitches and velocities kept).

    A VAE decoder unsure how long a note sounds keeps its "sounding" cells on across bar
    lines, so some notes last two or three bars (up to 9 s in a slow cue) where a pianist's
    note, even pedalled, dies away; ``longest`` (the VAE uses one bar) ends them.

    Examples
    --------
    >>> [(n.start, n.duration) for n in limit_lengths([Note(60, 0, 9), Note(64, 3, 0.5), Note(67, 3.5, 2)], 4)]
    [(0, 4.0), (3, 0.5), (3.5, 2)]
    """
    if not (isinstance(longest, (int, float)) and math.isfinite(longest) and longest > 0):
        raise InputError(f"the longest note must be a positive number of beats, got {longest!r}")
    return sorted((Note(n.pitch, n.start, min(n.duration, float(longest)), n.velocity) for n in notes),
                  key=lambda n: (n.start, n.pitch))


#: Pitch classes above the tonic that :func:`keep_to_scale` keeps: the major scale, and the natural
#: minor with the harmonic minor's raised seventh (the leading tone of the dominant chord).
SCALE_STEPS = {"major": (0, 2, 4, 5, 7, 9, 11), "minor": (0, 2, 3, 5, 7, 8, 10, 11)}


def keep_to_scale(notes, key: str, *, tension: float = 0.0, seed: int = 0) -> list:
    """The notes in ``key``'s scale (:data:`SCALE_STEPS`), and a ``tension`` share of the others.

    Key conformance for a generator whose rolls stray from their key (the GAN's cues keep
    to a scale less often than EMOPIA: scale consistency 0.82 against 0.96): a note outside
    the key the cue is written in is left out rather than moved, so the model's other
    notes, rhythm and voicing stay as it wrote them. ``tension`` is the intent's
    (:attr:`~scoringkit.types.MusicalIntent.tension`, how much dissonance and how many
    chromatic notes the rules composer adds): each chromatic note is kept with that
    probability (seeded by ``seed``), so a calm cue keeps to its key and a tense one keeps
    some of the model's chromatic notes. All notes are kept if none is in the scale.

    Examples
    --------
    >>> [n.pitch for n in keep_to_scale([Note(60, 0, 1), Note(61, 0, 1), Note(64, 1, 1)], "C major")]
    [60, 64]
    >>> len(keep_to_scale([Note(60, 0, 1), Note(61, 0, 1)], "C major", tension=1.0))
    2
    """
    import numpy as np

    if not (isinstance(tension, (int, float)) and 0 <= tension <= 1):
        raise InputError(f"tension must be a number in [0, 1], got {tension!r}")
    tonic, mode = parse_key(key)
    steps = set(SCALE_STEPS[mode])
    draws = np.random.default_rng([int(seed), 29]).random(len(notes))
    kept = [n for n, u in zip(notes, draws) if (n.pitch - tonic) % 12 in steps or u < tension]
    return kept if any((n.pitch - tonic) % 12 in steps for n in kept) else list(notes)


def check_draws(draws) -> None:
    """Raise :class:`InputError` unless ``draws`` (drafts per cue of the VAE and the GAN) is an integer 1-64."""
    if isinstance(draws, bool) or not isinstance(draws, int) or not 1 <= draws <= 64:
        raise InputError(f"draws must be an integer 1-64, got {draws!r}")


def mode_choice(passages, mode: str, *, config: RollConfig | None = None, threshold=0.5) -> int:
    """Index of the passage whose key estimate best agrees with ``mode`` (``"major"`` or ``"minor"``).

    ``passages`` ``(k, n_bars, 2, steps, pitches)`` are ``k`` drafts of one cue (latent
    walks of a VAE or a GAN); the draft with the largest :func:`mode_strengths` wins for a
    major intent, the smallest for a minor one (the first on a tie). The intent's key then
    fits the passage (:func:`fit_key`) without moving it to the relative key.

    Examples
    --------
    >>> import numpy as np
    >>> p = np.zeros((2, 1, 2, 4, 72))
    >>> p[0, 0, 1, :, [57 - 24, 60 - 24, 64 - 24]] = 1  # A minor triad
    >>> p[1, 0, 1, :, [60 - 24, 64 - 24, 67 - 24]] = 1  # C major triad
    >>> mode_choice(p, "major"), mode_choice(p, "minor")
    (1, 0)
    """
    return choose_by_mode(mode_strengths(passages, config=config, threshold=threshold), mode)


def choose_by_mode(strengths, mode: str) -> int:
    """Index of the largest mode strength for a ``"major"`` intent, of the smallest for a ``"minor"``
    one (the first on a tie).

    The rule every learned generator uses to pick one of its drafts (:func:`mode_choice` for
    piano rolls, :func:`~scoringkit.generate.models.transformer.pick_by_mode` for scores).

    Examples
    --------
    >>> choose_by_mode([0.1, 0.4, -0.3], "major"), choose_by_mode([0.1, 0.4, -0.3], "minor")
    (1, 2)
    """
    import numpy as np

    if mode not in ("major", "minor"):
        raise InputError(f"mode must be 'major' or 'minor', got {mode!r}")
    strengths = np.asarray(strengths, dtype=float)
    return int(np.argmax(strengths if mode == "major" else -strengths))


def join_scores(scores, *, config: RollConfig | None = None) -> Score:
    """One-track scores played one after another, each starting on the next whole bar (tempo and key of the first).

    For listening to a list of generated segments, e.g. the steps of a VAE interpolation.

    Examples
    --------
    >>> a = Score([Track("p", 0, [Note(60, 0, 1)])]); b = Score([Track("p", 0, [Note(62, 0, 6)])])
    >>> [(n.pitch, n.start) for n in join_scores([a, b]).tracks[0].notes]
    [(60, 0.0), (62, 4.0)]
    """
    config = _config(config)
    scores = list(scores)
    if not scores or not all(isinstance(s, Score) for s in scores):
        raise InputError("join_scores needs a non-empty list of Scores")
    bar = config.beats_per_bar
    notes, offset = [], 0.0
    for score in scores:
        for track in score.tracks:
            if not track.is_drum:
                notes.extend(Note(n.pitch, n.start + offset, n.duration, n.velocity) for n in track.notes)
        offset += max(1, math.ceil(round(score.end_beat / bar, 6))) * bar
    first = scores[0]
    track = first.tracks[0] if first.tracks else Track("piano", 0)
    return Score([Track(track.name, track.program, notes)], tempo=first.tempo, key=first.key,
                 meter=(config.beats_per_bar, 4))


def roll_key(flat_roll, *, config: RollConfig | None = None, default: str = "C major") -> str:
    """Estimated key of a roll ``(2, T, P)`` (Krumhansl-Schmuckler on its pitch classes); ``default`` if empty.

    Examples
    --------
    >>> import numpy as np
    >>> r = np.zeros((2, 4, 72)); r[1, :, [57 - 24, 60 - 24, 64 - 24]] = 1  # an A minor triad
    >>> roll_key(r)
    'A minor'
    """
    import numpy as np

    shift, target = fit_key(flat_roll, "C major", config=config)
    if shift == 0 and target == "C major" and not np.asarray(flat_roll).any():
        return default
    tonic, mode = parse_key(target)
    return key_name(tonic - shift, mode)


def _accents(n_steps: int, config: RollConfig, base: int, rng, *, jitter: float = 3.0):
    """Velocity per step: the base loudness with metrical accents and a little seeded jitter."""
    import numpy as np

    pos = np.arange(n_steps) % config.steps_per_bar
    accent = np.where(pos == 0, 8, np.where(pos % config.steps_per_beat == 0,
                                            np.where(pos == config.steps_per_bar // 2, 4, 0), -6))
    vel = base + accent + rng.normal(0, jitter, n_steps)
    return np.clip(np.round(vel), 1, 127)[:, None]


def sustain_pedal(notes, window: float) -> list:
    """Let notes ring as under a sustain pedal that is changed every ``window`` beats.

    Each note lasts at least until the end of its pedal window (the window of ``window``
    beats, counted from beat 0, that holds its onset), or until the same pitch is struck
    again, whichever comes first; a note already longer keeps its length. A piano roll
    written by a model on a sixteenth grid (the GAN's notes are mostly one step long: a
    quarter of EMOPIA's, which is played with the pedal down) then sounds like a pianist's
    pedalled texture instead of staccato.

    Parameters
    ----------
    notes : list of Note
    window : float
        Beats per pedal change (> 0; 2 = twice a 4/4 bar).

    Returns
    -------
    list of Note
        Same onsets, pitches and velocities, sorted by onset and pitch.

    Examples
    --------
    >>> [(n.start, n.duration) for n in sustain_pedal([Note(60, 0, 0.25), Note(64, 0.5, 0.25), Note(60, 1, 0.25)], 2)]
    [(0, 1), (0.5, 1.5), (1, 1)]
    """
    if not (isinstance(window, (int, float)) and math.isfinite(window) and window > 0):
        raise InputError(f"the pedal window must be a positive number of beats, got {window!r}")
    onsets: dict = {}
    for note in notes:
        onsets.setdefault(note.pitch, []).append(note.start)
    for starts in onsets.values():
        starts.sort()
    out = []
    for note in notes:
        end = (math.floor(note.start / window + 1e-9) + 1) * window
        starts = onsets[note.pitch]
        later = bisect.bisect_right(starts, note.start + 1e-9)
        if later < len(starts):
            end = min(end, starts[later])
        out.append(Note(note.pitch, note.start, max(note.duration, end - note.start), note.velocity))
    return sorted(out, key=lambda n: (n.start, n.pitch))


def rolls_to_cue(rolls, intent, *, config: RollConfig | None = None, threshold=0.5, program=None,
                 seed: int = 0, fit_to_key: bool = True, name: str = "piano", clean: bool = False,
                 pedal=None, longest=None, scale: bool = False) -> Score:
    """Make a cue from generated bars: tempo, key, loudness and dynamics from the intent.

    Parameters
    ----------
    rolls : array, shape (n_bars, 2, steps_per_bar, n_pitches)
        Probabilities or binary cells, in time order.
    intent : MusicalIntent
    threshold : float or (float, float)
        See :func:`binarize`.
    program : int, optional
        General MIDI program (default 0, piano: the models learned EMOPIA's two-handed
        solo piano texture, chords and bass included, which a melody instrument such as
        the intent's flute cannot play).
    seed : int
        Seeds the velocity jitter.
    fit_to_key : bool
        Transpose the passage into the intent's key (or its relative, see :func:`fit_key`).
    clean : bool
        Tidy the roll first (:func:`clean_roll`; the VAE uses it, the GAN does not: its
        short notes are often single active steps, which cleaning would drop).
    pedal : float, optional
        Beats per sustain-pedal change (:func:`sustain_pedal`); None (default) plays the
        notes as long as the roll says.
    longest : float, optional
        Longest note in beats (:func:`limit_lengths`; the VAE uses one bar); None (default)
        keeps the roll's lengths.
    scale : bool
        Leave out the notes outside the scale of the cue's key, all but an
        ``intent.tension`` share of them (:func:`keep_to_scale`; the GAN uses it).

    Returns
    -------
    Score
        One track; tempo ``intent.tempo``; meter 4/4; velocities ``intent.velocity`` with
        accents (+8 on the downbeat, +4 on beat 3, -6 off the beat) shaped by
        ``intent.dynamics``; key as transposed.
    """
    import numpy as np

    from ..rules import _shape_dynamics

    config = _config(config)
    flat = _flatten(rolls, config).astype(np.float32)
    key = intent.key
    if fit_to_key:
        shift, key = fit_key(binarize(flat, threshold), intent.key, config=config)
        if shift:
            lo, hi = segment_shifts(binarize(flat, threshold)[None], config=config, max_shift=12)
            while shift < lo[0]:
                shift += 12
            while shift > hi[0]:
                shift -= 12
            if lo[0] <= shift <= hi[0]:
                flat = transpose_rolls(flat[None], [shift])[0]
            else:  # no octave of the shift fits the range: keep the passage where it is, named by its own key
                tonic, mode = parse_key(key)
                key = key_name(tonic - shift, mode)
    rng = np.random.default_rng([int(seed), 7])
    velocity = _accents(flat.shape[1], config, int(intent.velocity), rng)
    prog = 0 if program is None else int(program)
    score = roll_to_score(flat, config=config, threshold=threshold, tempo=intent.tempo, key=key, program=prog,
                          velocity=velocity, name=name, clean=clean)
    if pedal:
        score.tracks[0].notes = sustain_pedal(score.tracks[0].notes, float(pedal))
    if longest:
        score.tracks[0].notes = limit_lengths(score.tracks[0].notes, float(longest))
    if scale:
        score.tracks[0].notes = keep_to_scale(score.tracks[0].notes, key, tension=float(intent.tension), seed=seed)
    _shape_dynamics(score.tracks, intent.dynamics, flat.shape[1] / config.steps_per_beat)
    return score


# -- statistics (validation of generators) -----------------------------------------------------------
def density_thresholds(probs, real) -> list:
    """Per-channel thresholds that give generated cells the data's share of onsets and sounding cells.

    Quantile matching: the onset threshold is the ``1 - r`` quantile of the generated
    onset probabilities, ``r`` being the fraction of onset cells in ``real``; likewise for
    the active channel (onsets count as active). A model's probabilities are rarely
    calibrated for *sampling*, so this keeps generated bars as dense as the data.

    Parameters
    ----------
    probs : array, shape (n, 2, steps, pitches)
        Generated probabilities.
    real : array, shape (m, 2, steps, pitches)
        Binary data bars (or segments).

    Returns
    -------
    [float, float]
        ``[onset, active]``, each clipped to 0.05-0.95.
    """
    import numpy as np

    probs = np.asarray(probs)
    real = np.asarray(real).astype(bool)
    rates = [float(real[:, 0].mean()), float((real[:, 1] | real[:, 0]).mean())]
    out = []
    for ch, rate in enumerate(rates):
        th = float(np.quantile(probs[:, ch], 1.0 - rate)) if 0 < rate < 1 else 0.5
        out.append(round(min(0.95, max(0.05, th)), 4))
    return out


def roll_statistics(rolls, *, config: RollConfig | None = None, threshold=0.5) -> dict:
    """Simple statistics of bars of piano roll, for comparing generated bars with data.

    Notes are counted as :func:`roll_to_score` reads them: a note starts at an onset cell
    or where a pitch starts sounding.

    Returns a dict of floats: ``notes_per_bar``, ``active_per_step`` (sounding
    notes per step, polyphony), ``empty_bar_rate``, ``mean_pitch``, ``pitch_spread``
    (standard deviation of sounding pitches), ``pitch_class_entropy`` (bits, of the
    sounding pitch classes of each bar, averaged), ``onset_on_beat`` (fraction of onsets
    on a beat), ``mean_length`` (sounding steps per onset).
    """
    import numpy as np

    config = _config(config)
    r = binarize(rolls, threshold)
    if r.ndim == 3:
        r = r[None]
    n = len(r)
    act = r[:, 1] | r[:, 0]
    prev = np.zeros_like(act)
    prev[:, 1:] = act[:, :-1]
    on = r[:, 0] | (act & ~prev)
    onsets = on.sum(axis=(1, 2))
    pitches = np.arange(config.n_pitches) + config.low
    w = act.sum(axis=1).astype(np.float64)  # (n, P) sounding steps per pitch
    total = w.sum()
    mean_pitch = float((w.sum(axis=0) * pitches).sum() / total) if total else 0.0
    spread = float(np.sqrt((w.sum(axis=0) * (pitches - mean_pitch) ** 2).sum() / total)) if total else 0.0
    chroma = np.zeros((n, 12))
    for pc in range(12):
        chroma[:, pc] = w[:, (pitches % 12) == pc].sum(axis=1)
    sums = chroma.sum(axis=1, keepdims=True)
    has = sums[:, 0] > 0
    p = chroma[has] / sums[has]
    entropy = float(np.mean(-(np.where(p > 0, p * np.log2(np.where(p > 0, p, 1)), 0)).sum(axis=1))) if has.any() else 0.0
    steps = on.shape[1]
    beat = (np.arange(steps) % config.steps_per_beat) == 0
    n_on = on.sum()
    return {
        "notes_per_bar": float(onsets.mean() * config.steps_per_bar / steps) if n else 0.0,
        "active_per_step": float(act.sum(axis=2).mean()) if n else 0.0,
        "empty_bar_rate": float((act.reshape(n, -1, config.steps_per_bar, config.n_pitches).sum(axis=(2, 3)) == 0).mean()) if n else 0.0,
        "mean_pitch": mean_pitch,
        "pitch_spread": spread,
        "pitch_class_entropy": entropy,
        "onset_on_beat": float(on[:, beat].sum() / n_on) if n_on else 0.0,
        "mean_length": float(act.sum() / n_on) if n_on else 0.0,
    }


def statistics_distance(a: dict, b: dict) -> float:
    """Mean relative difference between two :func:`roll_statistics` dicts (0 = identical; lower is better).

    ``mean(|a_k - b_k| / max(|b_k|, 1e-3))`` over the keys, ``b`` being the reference (data).
    """
    keys = sorted(set(a) & set(b))
    return float(sum(abs(a[k] - b[k]) / max(abs(b[k]), 1e-3) for k in keys) / max(1, len(keys)))


# -- shared model plumbing: quadrant of an intent, devices, checkpoints ---------------------------------
def intent_quadrant(intent) -> int:
    """EMOPIA quadrant to condition on: the intent's emotion's, else mode × tempo.

    Without an emotion: major and ≥ 100 BPM → 1, minor and fast → 2, minor and slow → 3,
    major and slow → 4. The Transformer, the VAE and the GAN all condition through this one function.

    Examples
    --------
    >>> from scoringkit.types import MusicalIntent
    >>> intent_quadrant(MusicalIntent(tempo=70, key="E minor"))
    3
    """
    if intent.emotion is not None:
        return intent.emotion.quadrant
    fast = intent.tempo >= 100
    if intent.mode == "major":
        return 1 if fast else 4
    return 2 if fast else 3


def _device(device="auto"):
    """``"auto"`` → CUDA when available, else CPU; anything else is passed to ``torch.device``."""
    import torch

    if device in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise InputError(f"unknown device {device!r} ({err}); use 'auto', 'cpu' or 'cuda'") from None


def _config_hash(config: dict) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]


def _save_checkpoint(path, tensors: dict, *, kind: str, version: int, config: dict, meta: dict | None = None,
                     overwrite: bool = True, dtype=None) -> Path:
    """Write tensors with JSON metadata through :func:`scoringkit.generate.models.checkpoint.save_checkpoint`.

    The metadata holds ``kind`` (``"vae"``, ``"gan"``, ``"vae-state"``, ...), ``model_version``,
    the model ``config`` and its hash, and ``meta`` (metrics, training facts); the
    checkpoint module adds the format, its version and a hash of the weights. Nothing is
    pickled; :func:`_load_checkpoint` checks all of it. ``dtype=torch.float16`` halves the
    file (how the shipped models are stored; loading casts back to float32).
    """
    from .checkpoint import save_checkpoint

    metadata = {"kind": kind, "model_version": int(version), "config": config, "config_hash": _config_hash(config),
                "meta": meta or {}}
    return save_checkpoint(path, {k: v.detach() for k, v in tensors.items()}, metadata, overwrite=overwrite,
                           dtype=dtype)


def _load_checkpoint(path, *, kind: str, version: int) -> tuple[dict, dict, dict]:
    """Read a file of :func:`_save_checkpoint`: ``(tensors, config, meta)``; :class:`ModelError` if it is not one."""
    from .checkpoint import load_checkpoint

    path = Path(path)
    if not path.is_file():
        raise ModelError(f"no {kind} checkpoint at {str(path)!r}; check the path or train one "
                         f"(`python -m scoringkit.generate.models.{kind.split('-')[0]} --out PATH`)")
    tensors, metadata = load_checkpoint(path, kind=kind)
    if metadata.get("model_version") != int(version):
        raise ModelError(f"{str(path)!r} was written by {kind} model version {metadata.get('model_version')}, this "
                         f"scoringkit reads version {version}; re-train it with this version")
    config, meta = metadata.get("config"), metadata.get("meta", {})
    if not isinstance(config, dict) or metadata.get("config_hash") != _config_hash(config):
        raise ModelError(f"{str(path)!r}: the stored config does not match its hash; the file was edited or damaged")
    return tensors, config, meta


def _asset_checkpoint(name: str) -> Path:
    """Path of a shipped checkpoint in ``scoringkit/assets/models``."""
    from importlib.resources import files

    return Path(str(files("scoringkit.assets") / "models" / name))


class LoadedRollModel:
    """What the VAE's and the GAN's generator objects share: a model in eval mode and its checkpoint facts.

    Parameters
    ----------
    model : torch.nn.Module
        A roll model whose ``config`` has a ``roll_config``.
    meta : dict, optional
        The checkpoint's metadata: ``threshold`` (else the model's own, else 0.5) and
        ``quadrant_thresholds`` (``{"1": ..., ...}``, see each module's ``calibrate``).

    Examples
    --------
    >>> from scoringkit.generate.models.gan import GANConfig, RollGenerator, GANGenerator
    >>> gen = GANGenerator(RollGenerator(GANConfig()), {"threshold": 0.4, "quadrant_thresholds": {"2": 0.6}})
    >>> gen.threshold, gen.quadrant_thresholds, gen.device.type
    (0.4, {2: 0.6}, 'cpu')
    """

    def __init__(self, model, meta: dict | None = None):
        self.model = model.eval()
        self.meta = dict(meta or {})
        self.config = model.config
        self.roll_config = model.config.roll_config
        self.threshold = self.meta.get("threshold", getattr(model, "threshold", 0.5))
        self.quadrant_thresholds = {int(k): v for k, v in self.meta.get("quadrant_thresholds", {}).items()}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(z_dim={self.config.z_dim}, {self.model.n_parameters:,} parameters)"

    @property
    def device(self):
        """The device the model's weights are on."""
        return next(self.model.parameters()).device


def _load_roll_model(checkpoint, *, default_path, kind: str, version: int, build, wrap, device, cache: bool,
                     store: dict, lock):
    """Load a VAE or GAN checkpoint (default: ``default_path()``, the shipped one), cached per path, file time and device.

    ``build(config_dict)`` makes the torch module, ``wrap(module, meta)`` the generator object;
    ``store`` and ``lock`` are the calling module's cache (one model kept at a time).
    """
    label = kind.upper()
    path = Path(checkpoint) if checkpoint is not None else Path(default_path())
    if not path.is_file():
        if checkpoint is None:
            raise ModelError(f"the {label} checkpoint is not installed ({str(path)!r} is missing); train one with "
                             f"`python -m scoringkit.generate.models.{kind} --out my_{kind}.safetensors` and pass "
                             "checkpoint=..., or use generator='rules'")
        raise ModelError(f"no {label} checkpoint at {str(path)!r}; check the path or train one with "
                         f"`python -m scoringkit.generate.models.{kind} --out PATH`")
    key = (str(path.resolve()), path.stat().st_mtime_ns, str(device))
    with lock:
        if cache and key in store:
            return store[key]
        tensors, config, meta = _load_checkpoint(path, kind=kind, version=version)
        model = build(config)
        try:
            model.load_state_dict({k: (v.float() if v.is_floating_point() else v) for k, v in tensors.items()},
                                  strict=True)
        except RuntimeError as err:
            raise ModelError(f"the weights in {str(path)!r} do not fit the stored config: {err}") from None
        loaded = wrap(model.to(device), meta)
        if cache:
            store.clear()
            store[key] = loaded
        return loaded


def _optimizer_tensors(optimizer, prefix: str = "optim") -> tuple[dict, list]:
    """An optimizer's state as flat tensors plus its JSON-able parameter groups (for safetensors)."""
    import torch

    sd = optimizer.state_dict()
    tensors = {}
    for index, state in sd["state"].items():
        for name, value in state.items():
            tensors[f"{prefix}.{index}.{name}"] = value if torch.is_tensor(value) else torch.tensor(value)
    return tensors, sd["param_groups"]


def _restore_optimizer(optimizer, tensors: dict, groups, prefix: str = "optim") -> None:
    state: dict = {}
    for key, value in tensors.items():
        if key.startswith(prefix + "."):
            _, index, name = key.split(".", 2)
            state.setdefault(int(index), {})[name] = value
    optimizer.load_state_dict({"state": state, "param_groups": groups})


def _progress_bar(total: int, *, desc: str, enabled: bool, initial: int = 0):
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, desc=desc, disable=not enabled, leave=False, dynamic_ncols=True)


# -- evaluation of a generator -------------------------------------------------------------------------
#: The emotion used for each quadrant when evaluating generators (the corners' middles).
EVAL_EMOTIONS = {1: (0.7, 0.6), 2: (-0.7, 0.6), 3: (-0.7, -0.6), 4: (0.7, -0.6)}


def plain_intent(quadrant: int):
    """An intent that carries only the quadrant: 120 BPM, C major, velocity 80, steady dynamics.

    Used to judge what a model's *notes* express, without the tempo, loudness and key that
    :func:`scoringkit.emotion_to_intent` would add (those alone push
    :func:`scoringkit.music_emotion` toward the target).
    """
    from ...types import Emotion, MusicalIntent

    return MusicalIntent(tempo=120.0, key="C major", velocity=80, emotion=Emotion(*EVAL_EMOTIONS[quadrant]))


def emotion_accuracy(generate, *, per_quadrant: int = 8, duration: float = 20.0, seed: int = 0,
                     plain: bool = False) -> dict:
    """How often :func:`scoringkit.music_emotion` hears generated cues in the quadrant asked for.

    Parameters
    ----------
    generate : callable
        ``generate(intent, duration=..., seed=...) -> Score``, e.g. a VAE's or GAN's
        ``generate``.
    per_quadrant : int
        Cues per quadrant (seeds ``seed .. seed + per_quadrant - 1``).
    duration : float
    plain : bool
        Use :func:`plain_intent` (the model's notes only) instead of
        :func:`scoringkit.emotion_to_intent` (the full pipeline: the intent's tempo,
        loudness and key around the model's notes).

    Returns
    -------
    dict
        ``accuracy`` (four quadrants), ``arousal_accuracy``, ``valence_accuracy``,
        ``confusion`` (rows: asked Q1..Q4, columns: heard Q1..Q4) and ``n``.
    """
    import numpy as np

    from ...fuse import music_emotion
    from ...mapping import emotion_to_intent
    from ...types import Emotion

    confusion = np.zeros((4, 4), dtype=int)
    for q in (1, 2, 3, 4):
        intent = plain_intent(q) if plain else emotion_to_intent(Emotion(*EVAL_EMOTIONS[q]))
        for k in range(per_quadrant):
            heard = music_emotion(generate(intent, duration=duration, seed=seed + k)).quadrant
            confusion[q - 1, heard - 1] += 1
    n = int(confusion.sum())
    high = np.array([1, 1, 0, 0], bool)  # arousal of Q1..Q4
    pos = np.array([1, 0, 0, 1], bool)  # valence of Q1..Q4
    arousal = sum(confusion[i, j] for i in range(4) for j in range(4) if high[i] == high[j])
    valence = sum(confusion[i, j] for i in range(4) for j in range(4) if pos[i] == pos[j])
    return {"accuracy": round(float(np.trace(confusion)) / n, 4), "arousal_accuracy": round(arousal / n, 4),
            "valence_accuracy": round(valence / n, 4), "confusion": confusion.tolist(), "n": n}


def quality_comparison(scores, *, split: str = "test", data_dir=None) -> dict:
    """:func:`scoringkit.fuse.compare_to_corpus` of ``scores`` against EMOPIA's clips of one split.

    Returns ``{metric: {"mean", "corpus_mean", "overlap"}}`` (rounded), the corpus being
    EMOPIA's ``split`` clips decoded from the token cache.
    """
    from ...fuse import compare_to_corpus
    from .data import load_emopia_tokens
    from .tokenizer import RemiTokenizer

    tokenizer = RemiTokenizer()
    tokens = load_emopia_tokens(data_dir, tokenizer=tokenizer).subset(split)
    corpus = [tokenizer.decode(tokens.sequence(i)) for i in range(len(tokens))]
    table = compare_to_corpus(list(scores), corpus)
    return {name: {k: round(float(row[k]), 3) for k in ("mean", "corpus_mean", "overlap")} for name, row in table.items()}
