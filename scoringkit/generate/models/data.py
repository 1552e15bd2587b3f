"""Training data for the learned generators: EMOPIA (and the music21 corpus) as token windows.

The pipeline, each step a plain function::

    load_emopia ─Score.from_midi─> Score ─RemiTokenizer.encode(quadrant)─> ids      (cached, one file)
        ─> TokenCorpus ─TokenWindowDataset(split, length, augment)─> fixed-length windows for torch

EMOPIA
------
EMOPIA (Hung et al., ISMIR 2021; licence CC BY-NC-SA 4.0, i.e. non-commercial) holds
1,078 clips of pop piano, transcribed from recordings, each labelled with one of the four
valence/arousal quadrants, with an official song-level split (train 876 / val 114 /
test 88 clips) read by :func:`scoringkit.fuse.train.load_emopia`.

*How it is quantised.* The clips are performance MIDI written at a nominal 120 BPM
whose beats are not the music's beats. We quantise on the file's own beat grid, as
the tokenizer does for any score: with the default resolution of 4 steps per beat a
step is 125 ms, so onsets move by at most 62.5 ms (31 ms on average) and the ``Bar``
tokens mark every 2 s rather than the music's bars. What the model learns is therefore
rhythm "as performed" on a fine time grid; the ``Tempo`` token is always 120 BPM.

Sequences, windows and augmentation
-----------------------------------
* Each piece is encoded once as ``BOS Q<quadrant> TimeSig Key Tempo Bar ... EOS``
  and stored with its quadrant, split, song and pitch range in a cache file,
  ``~/.cache/scoringkit/emopia_tokens_v1.npz`` (``$XDG_CACHE_HOME`` is honoured). The
  cache records the vocabulary's hash and a signature of the data (clip ids, labels,
  split, file sizes) and is rebuilt when either changes.
* :class:`TokenWindowDataset` cuts pieces into windows of ``length`` tokens that start
  at a ``Bar``; every window begins with ``BOS``, the piece's condition token and the
  meter, key and tempo in force at that bar, so each window is a valid sequence on its
  own. Consecutive windows start about ``stride`` tokens apart (half a window by
  default); the last one ends with ``EOS`` and is padded with ``PAD`` (id 0).
* Augmentation transposes a whole window by a random shift in -5..+5 semitones,
  keeping every pitched note of the *piece* inside the piano range 21-108
  (:func:`transpositions`); drums and the meter stay, the key token moves. The shift is
  drawn from ``(seed, epoch, index)`` so runs repeat exactly (call
  :meth:`TokenWindowDataset.set_epoch` each epoch).

The music21 corpus
------------------
:func:`load_music21_tokens` turns the corpus bundled with music21 (by default Bach's
chorales, 413 scores) into unlabelled sequences (condition ``Qnone``) for
pre-training, cached in ``~/.cache/scoringkit/music21_<composer>_tokens_v1.npz``;
5 % of the pieces (chosen by a hash of the file name) form a ``"val"`` split.

Examples
--------
A corpus of two made-up pieces, cut into windows of 16 tokens:

>>> import scoringkit as sk
>>> from scoringkit.generate.models import RemiTokenizer
>>> tok = RemiTokenizer()
>>> pieces = [sk.compose(sk.Emotion(0.7, 0.6), duration=4, seed=0), sk.compose(sk.Emotion(-0.6, -0.5), duration=4)]
>>> corpus = TokenCorpus.from_scores(pieces, tok, quadrants=[1, 3], splits=["train", "test"])
>>> len(corpus), corpus.subset("train").quadrants.tolist()
(2, [1])
>>> ds = TokenWindowDataset(corpus, tok, split="train", length=16)
>>> item = ds[0]
>>> tok.token_names(item["ids"][:5])
['BOS', 'Q1', 'TimeSig_4/4', 'Key_D_major', 'Tempo_127.1']
>>> tuple(item["ids"].shape), int(item["quadrant"])
((16,), 1)
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from ...errors import InputError, ModelError
from .tokenizer import PIANO_RANGE, RemiTokenizer

__all__ = ["TokenCorpus", "load_emopia_tokens", "load_music21_tokens", "music21_to_score", "transpositions",
           "windows", "TokenWindowDataset", "token_cache_dir", "CACHE_VERSION", "MAX_SHIFT"]

#: Version of the token cache files (part of their names).
CACHE_VERSION = 1
#: Largest transposition, in semitones, used for augmentation.
MAX_SHIFT = 5
#: Split names a corpus may use.
SPLITS = ("train", "val", "test")
_HEADER = 5  # BOS, condition, TimeSig, Key, Tempo


def token_cache_dir() -> Path:
    """Folder of the token caches: ``$XDG_CACHE_HOME/scoringkit`` or ``~/.cache/scoringkit``."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "scoringkit"


def transpositions(low, high, *, max_shift: int = MAX_SHIFT, pitch_range=PIANO_RANGE) -> list:
    """Shifts in ``-max_shift .. max_shift`` semitones that keep notes ``low .. high`` inside ``pitch_range``.

    Shift 0 is always allowed (even for a piece already outside the range); a piece
    without pitched notes (``low`` is None) gets only ``[0]``.

    Examples
    --------
    >>> transpositions(24, 100)
    [-3, -2, -1, 0, 1, 2, 3, 4, 5]
    >>> transpositions(None, None)
    [0]
    """
    if low is None or high is None or low < 0:
        return [0]
    floor, ceiling = pitch_range
    return [s for s in range(-max_shift, max_shift + 1) if s == 0 or (low + s >= floor and high + s <= ceiling)]


@dataclass
class TokenCorpus:
    """Token sequences of many pieces, stored end to end (what the cache files hold).

    Parameters
    ----------
    tokens : numpy.ndarray of int16, shape (n_tokens,)
        All sequences, concatenated.
    offsets : numpy.ndarray of int64, shape (n_pieces + 1,)
        Piece ``i`` is ``tokens[offsets[i]:offsets[i + 1]]``.
    names : numpy.ndarray of str, shape (n_pieces,)
        Clip ids or file names.
    quadrants : numpy.ndarray of int8, shape (n_pieces,)
        EMOPIA quadrant 1-4, or 0 for unlabelled music.
    splits : numpy.ndarray of str, shape (n_pieces,)
        ``"train"``, ``"val"`` or ``"test"``.
    groups : numpy.ndarray of str, shape (n_pieces,)
        Song (EMOPIA) or source file, to keep related pieces on one side of a split.
    pitch_low, pitch_high : numpy.ndarray of int16, shape (n_pieces,)
        Lowest and highest pitched note of each piece (-1 when it has none).
    vocab_hash : str
        :attr:`RemiTokenizer.vocab_hash` of the tokenizer that wrote the ids.
    meta : dict
        Where the pieces came from, build time, skipped files, ...
    """

    tokens: object
    offsets: object
    names: object
    quadrants: object
    splits: object
    groups: object
    pitch_low: object
    pitch_high: object
    vocab_hash: str
    meta: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.names)

    def sequence(self, i: int):
        """Token ids of piece ``i`` (int16 numpy view)."""
        return self.tokens[self.offsets[i]:self.offsets[i + 1]]

    @property
    def lengths(self):
        """Tokens per piece (numpy int64 array)."""
        import numpy as np

        return np.diff(self.offsets)

    @property
    def n_tokens(self) -> int:
        """Total number of tokens."""
        return int(self.offsets[-1])

    def shifts(self, i: int, *, max_shift: int = MAX_SHIFT) -> list:
        """Allowed augmentation shifts of piece ``i`` (see :func:`transpositions`)."""
        low, high = int(self.pitch_low[i]), int(self.pitch_high[i])
        return transpositions(None if low < 0 else low, high, max_shift=max_shift)

    def augmented_tokens(self, *, max_shift: int = MAX_SHIFT) -> int:
        """Tokens counting every allowed transposition of every piece as a new piece."""
        return int(sum(int(n) * len(self.shifts(i, max_shift=max_shift)) for i, n in enumerate(self.lengths)))

    def subset(self, split=None) -> "TokenCorpus":
        """The pieces of one split (``"train"``, ``"val"``, ``"test"``), or of a boolean mask / index list."""
        import numpy as np

        if split is None:
            return self
        if isinstance(split, str):
            if split not in SPLITS:
                from ...errors import choice_error

                raise choice_error("split", split, SPLITS)
            index = np.flatnonzero(self.splits == split)
        else:
            index = np.asarray(split)
            index = np.flatnonzero(index) if index.dtype == bool else index.astype(np.int64)
        pieces = [self.sequence(i) for i in index]
        offsets = np.concatenate([[0], np.cumsum([len(p) for p in pieces], dtype=np.int64)]).astype(np.int64)
        tokens = np.concatenate(pieces) if pieces else np.zeros(0, np.int16)
        return TokenCorpus(tokens.astype(np.int16), offsets, self.names[index], self.quadrants[index],
                           self.splits[index], self.groups[index], self.pitch_low[index], self.pitch_high[index],
                           self.vocab_hash, dict(self.meta))

    def summary(self) -> dict:
        """Pieces, tokens, mean tokens per piece and tokens with augmentation, per split and in all."""
        out = {}
        for split in (None,) + SPLITS:
            part = self.subset(split)
            if split is not None and not len(part):
                continue
            out[split or "all"] = {"pieces": len(part), "tokens": part.n_tokens,
                                   "mean_tokens": round(part.n_tokens / max(1, len(part)), 1),
                                   "augmented_tokens": part.augmented_tokens()}
        return out

    @classmethod
    def from_sequences(cls, sequences, tokenizer: RemiTokenizer, *, names=None, quadrants=None, splits=None,
                       groups=None, meta=None) -> "TokenCorpus":
        """Build a corpus from token id sequences (one per piece)."""
        import numpy as np

        sequences = [np.asarray(s, dtype=np.int64) for s in sequences]
        n = len(sequences)
        if any(s.ndim != 1 or (s.size and (s.min() < 0 or s.max() >= tokenizer.vocab_size)) for s in sequences):
            raise InputError("every sequence must be a flat list of ids of this tokenizer")
        ranges = [tokenizer.pitch_range(s) for s in sequences]
        names = [f"piece {i}" for i in range(n)] if names is None else list(names)
        quadrants = [0] * n if quadrants is None else [q or 0 for q in quadrants]
        splits = ["train"] * n if splits is None else list(splits)
        groups = names if groups is None else list(groups)
        if not len(names) == len(quadrants) == len(splits) == len(groups) == n:
            raise InputError(f"names, quadrants, splits and groups need one entry per piece ({n})")
        bad = sorted(set(splits) - set(SPLITS))
        if bad:
            raise InputError(f"unknown split name(s) {bad}; use {list(SPLITS)}")
        offsets = np.concatenate([[0], np.cumsum([len(s) for s in sequences])]).astype(np.int64)
        tokens = np.concatenate(sequences).astype(np.int16) if n else np.zeros(0, np.int16)
        return cls(tokens, offsets, np.array(names, dtype=str), np.array(quadrants, dtype=np.int8),
                   np.array(splits, dtype=str), np.array(groups, dtype=str),
                   np.array([r[0] if r else -1 for r in ranges], dtype=np.int16),
                   np.array([r[1] if r else -1 for r in ranges], dtype=np.int16),
                   tokenizer.vocab_hash, dict(meta or {}))

    @classmethod
    def from_scores(cls, scores, tokenizer: RemiTokenizer, *, quadrants=None, **kwargs) -> "TokenCorpus":
        """Encode scores (with their quadrants, None or 0 = unlabelled) into a corpus."""
        scores = list(scores)
        quadrants = [None] * len(scores) if quadrants is None else list(quadrants)
        if len(quadrants) != len(scores):
            raise InputError(f"quadrants need one entry per score ({len(scores)}), got {len(quadrants)}")
        sequences = [tokenizer.encode(s, quadrant=q or None) for s, q in zip(scores, quadrants)]
        return cls.from_sequences(sequences, tokenizer, quadrants=quadrants, **kwargs)

    # -- files -----------------------------------------------------------------------------
    def save(self, path, *, overwrite: bool = True) -> Path:
        """Write the corpus as one ``.npz`` file (atomically); no pickled objects inside."""
        import numpy as np

        from ...io import atomic_write

        arrays = {name: getattr(self, name) for name in ("tokens", "offsets", "names", "quadrants", "splits",
                                                        "groups", "pitch_low", "pitch_high")}
        meta = json.dumps({**self.meta, "vocab_hash": self.vocab_hash, "cache_version": CACHE_VERSION})
        return atomic_write(path, lambda f: np.savez_compressed(f, meta=np.array(meta), **arrays),
                            overwrite=overwrite)

    @classmethod
    def load(cls, path) -> "TokenCorpus":
        """Read a corpus written by :meth:`save` (never unpickles)."""
        import numpy as np

        path = Path(path)
        if not path.is_file():
            raise InputError(f"no such token file: {str(path)!r}; check the path")
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files}
            meta = json.loads(str(arrays.pop("meta")))
            vocab_hash = meta.pop("vocab_hash")
            return cls(vocab_hash=vocab_hash, meta=meta, **arrays)
        except (OSError, ValueError, KeyError, TypeError, zlib.error) as err:
            raise ModelError(f"{str(path)!r} is not a readable token file ({err}); delete it to rebuild it") from None


# -- building corpora ---------------------------------------------------------------------------
def _cached(cache_path, signature, tokenizer, build, *, cache, rebuild):
    """Load a corpus from ``cache_path`` when its signature and vocabulary match, else build and store it."""
    if cache and not rebuild and cache_path.is_file():
        try:
            corpus = TokenCorpus.load(cache_path)
        except ModelError:
            corpus = None
        if corpus is not None and corpus.vocab_hash == tokenizer.vocab_hash \
                and corpus.meta.get("signature") == signature and corpus.meta.get("cache_version") == CACHE_VERSION:
            return corpus
    start = time.perf_counter()
    corpus = build()
    corpus.meta.update(signature=signature, cache_version=CACHE_VERSION,
                       build_seconds=round(time.perf_counter() - start, 2))
    if cache:
        corpus.save(cache_path, overwrite=True)
    return corpus


def _progress(items, progress, desc):
    if not progress:
        return items
    from tqdm.auto import tqdm

    return tqdm(items, desc=desc, leave=False)


def load_emopia_tokens(data_dir=None, *, tokenizer: RemiTokenizer | None = None, cache: bool = True,
                       cache_path=None, rebuild: bool = False, progress: bool = False) -> TokenCorpus:
    """EMOPIA's clips as token sequences with their quadrants and official split (cached).

    Parameters
    ----------
    data_dir : str or Path, optional
        The folder holding ``emopia/`` (default: ``$SCORINGKIT_DATA`` or ``../shared/data``).
    tokenizer : RemiTokenizer, optional
        Default: ``RemiTokenizer()``.
    cache : bool
        Read and write the cache file (see the module docstring).
    cache_path : str or Path, optional
        Default: ``token_cache_dir() / "emopia_tokens_v1.npz"``.
    rebuild : bool
        Ignore an existing cache.
    progress : bool
        Show a progress bar while encoding.

    Returns
    -------
    TokenCorpus
        One piece per clip that holds notes, ordered by clip id; ``meta["skipped"]``
        lists clips that could not be read.

    Raises
    ------
    InputError
        If EMOPIA is not found (the message says where to put it).
    """
    from ...fuse.train import load_emopia
    from ...types import Score

    tokenizer = tokenizer or RemiTokenizer()
    clips = load_emopia(data_dir)
    listing = [(c.clip_id, c.quadrant, c.split, c.song, c.path.stat().st_size) for c in clips]
    signature = hashlib.sha256(json.dumps(listing).encode()).hexdigest()
    cache_path = Path(cache_path) if cache_path else token_cache_dir() / f"emopia_tokens_v{CACHE_VERSION}.npz"

    def build():
        sequences, kept, skipped = [], [], []
        for clip in _progress(clips, progress, "EMOPIA → tokens"):
            try:
                score = Score.from_midi(clip.path)
            except InputError as err:
                skipped.append(f"{clip.clip_id}: {err}")
                continue
            if not score.n_notes:
                skipped.append(f"{clip.clip_id}: no notes")
                continue
            sequences.append(tokenizer.encode(score, quadrant=clip.quadrant))
            kept.append(clip)
        return TokenCorpus.from_sequences(
            sequences, tokenizer, names=[c.clip_id for c in kept], quadrants=[c.quadrant for c in kept],
            splits=[c.split for c in kept], groups=[c.song for c in kept],
            meta={"source": "EMOPIA", "licence": "CC BY-NC-SA 4.0 (non-commercial)", "skipped": skipped})

    return _cached(cache_path, signature, tokenizer, build, cache=cache, rebuild=rebuild)


def music21_to_score(source, *, program: int = 0, default_tempo: float = 90.0):
    """Convert a music21 score (or a file music21 can parse) to a :class:`~scoringkit.types.Score`.

    Ties are merged, chords become notes, a pickup bar is padded to a whole bar so
    ``Bar`` tokens fall on the barlines, every part becomes one track of ``program``
    (default piano) at velocity 80 unless the score gives one. The meter is the first
    time signature, the tempo the first metronome mark (else ``default_tempo``), the key
    music21's key analysis (Krumhansl-Schmuckler).

    Raises
    ------
    InputError
        If the file cannot be parsed or holds no notes.

    Examples
    --------
    >>> from music21 import converter
    >>> s = music21_to_score(converter.parse("tinyNotation: 3/4 c4 d8 e8 f4 g2."))
    >>> s.meter, [(n.pitch, n.start, n.duration) for n in s.tracks[0].notes][:3]
    ((3, 4), [(60, 0.0, 1.0), (62, 1.0, 0.5), (64, 1.5, 0.5)])
    """
    from music21 import converter, meter, stream, tempo

    from ...types import Note, Score, Track

    if not isinstance(source, stream.Stream):
        try:
            source = converter.parse(str(source))
        except Exception as err:  # music21 raises many kinds of errors on bad files
            raise InputError(f"music21 cannot read {str(source)!r} ({type(err).__name__}: {err})") from None
    if isinstance(source, stream.Opus):
        if not source.scores:
            raise InputError("this music21 opus holds no scores")
        source = source.scores[0]
    source = source.stripTies(inPlace=False)
    parts = list(source.parts) if isinstance(source, stream.Score) else []
    parts = parts or [source]
    first_measure = parts[0].getElementsByClass(stream.Measure).first()
    shift = float(first_measure.paddingLeft) if first_measure is not None else 0.0
    time_signature = source.recurse().getElementsByClass(meter.TimeSignature).first()
    mark = source.recurse().getElementsByClass(tempo.MetronomeMark).first()
    bpm = mark.getQuarterBPM() if mark is not None else None  # the written or the "playback only" number
    tracks = []
    for index, part in enumerate(parts):
        notes = []
        for element in part.flatten().notes:
            length = float(element.quarterLength)
            if length <= 0:  # grace notes
                continue
            velocity = element.volume.velocity if element.volume.velocity else 80
            for pitch in element.pitches:
                if 0 <= pitch.midi <= 127:
                    notes.append(Note(pitch.midi, float(element.offset) + shift, length, velocity))
        if notes:
            tracks.append(Track(part.partName or f"part {index + 1}", program, notes))
    if not tracks:
        raise InputError("the music21 score holds no notes")
    try:
        analysed = source.analyze("key")
        key = f"{analysed.tonic.name} {analysed.mode}"
    except Exception:  # analysis can fail on odd inputs: fall back to C major
        key = "C major"
    meter_pair = (time_signature.numerator, time_signature.denominator) if time_signature is not None else (4, 4)
    return Score(tracks, tempo=min(1000.0, max(1.0, bpm or default_tempo)), key=key, meter=meter_pair)


def _music21_piece(args):
    path, tokenizer = args
    try:
        return tokenizer.encode(music21_to_score(path), quadrant=None), None
    except InputError as err:
        return None, str(err)


def load_music21_tokens(composer: str = "bach", *, tokenizer: RemiTokenizer | None = None, limit=None,
                        jobs: int = 1, cache: bool = True, cache_path=None, rebuild: bool = False,
                        progress: bool = False) -> TokenCorpus:
    """Unlabelled pre-training sequences from the corpus bundled with music21 (cached).

    Parameters
    ----------
    composer : str
        A composer of :func:`music21.corpus.getComposer` (default ``"bach"``: the chorales).
        Score files (``.mxl``, ``.xml``, ``.musicxml``, ``.krn``, ``.mid``) are used;
        roman-numeral analyses are not.
    tokenizer : RemiTokenizer, optional
    limit : int, optional
        Use only the first ``limit`` files (sorted by name), e.g. for a quick test.
    jobs : int
        Worker processes for parsing (music21 takes about 0.7 s per chorale).
    cache, cache_path, rebuild, progress
        As in :func:`load_emopia_tokens`; the default cache file is
        ``music21_<composer>_tokens_v1.npz`` (not used when ``limit`` is given).

    Returns
    -------
    TokenCorpus
        Condition ``Qnone`` (quadrant 0); split ``"val"`` for 5 % of the files (by a CRC
        of the name), ``"train"`` for the rest; files music21 cannot read or whose meter
        has no token are listed in ``meta["skipped"]``.

    Examples
    --------
    >>> corpus = load_music21_tokens(limit=2, cache=False)
    >>> len(corpus), corpus.quadrants.tolist()
    (2, [0, 0])
    """
    from music21 import corpus as m21corpus

    tokenizer = tokenizer or RemiTokenizer()
    if not isinstance(composer, str) or not composer.strip():
        raise InputError(f"composer must be a name such as 'bach', not {composer!r}")
    suffixes = (".mxl", ".xml", ".musicxml", ".krn", ".mid", ".midi")
    paths = sorted((Path(p) for p in m21corpus.getComposer(composer) if Path(p).suffix.lower() in suffixes),
                   key=lambda p: p.name)
    if not paths:
        raise InputError(f"the music21 corpus has no scores by {composer!r}; try 'bach', 'beethoven', 'mozart'")
    if limit is not None:
        paths = paths[:int(limit)]
        cache = False
    signature = hashlib.sha256(json.dumps([(p.name, p.stat().st_size) for p in paths]).encode()).hexdigest()
    default_name = f"music21_{composer}_tokens_v{CACHE_VERSION}.npz"
    cache_path = Path(cache_path) if cache_path else token_cache_dir() / default_name

    def build():
        work = [(p, tokenizer) for p in paths]
        if jobs and jobs > 1:
            from concurrent.futures import ProcessPoolExecutor

            with ProcessPoolExecutor(jobs) as pool:
                results = list(_progress(pool.map(_music21_piece, work, chunksize=4), progress, "music21 → tokens"))
        else:
            results = [_music21_piece(w) for w in _progress(work, progress, "music21 → tokens")]
        kept = [(p, ids) for p, (ids, _) in zip(paths, results) if ids is not None]
        skipped = [f"{p.name}: {err}" for p, (_, err) in zip(paths, results) if err is not None]
        names = [p.name for p, _ in kept]
        return TokenCorpus.from_sequences(
            [ids for _, ids in kept], tokenizer, names=names,
            splits=["val" if zlib.crc32(name.encode()) % 20 == 0 else "train" for name in names],
            meta={"source": f"music21 corpus: {composer}", "skipped": skipped})

    return _cached(cache_path, signature, tokenizer, build, cache=cache, rebuild=rebuild)


# -- windows and the dataset ----------------------------------------------------------------------
def windows(sequence, tokenizer: RemiTokenizer, *, length: int = 512, stride=None) -> list:
    """Where the fixed-length windows of one sequence start, and what header each gets.

    Parameters
    ----------
    sequence : array of int
        One piece as encoded by :meth:`RemiTokenizer.encode`.
    tokenizer : RemiTokenizer
    length : int
        Tokens per window, header included (≥ 16).
    stride : int, optional
        Aim for windows this many tokens apart (default: half the body, ``(length - 5) // 2``);
        each window starts at the first ``Bar`` at or after that point.

    Returns
    -------
    list of (int, tuple of int)
        ``(start, header)``: the window is ``header + sequence[start : start + length - 5]``
        with ``header`` = (``BOS``, condition, ``TimeSig``, ``Key``, ``Tempo``) in force
        at ``start``. Empty if the sequence has no ``Bar``.

    Examples
    --------
    >>> import scoringkit as sk
    >>> tok = RemiTokenizer()
    >>> ids = tok.encode(sk.compose(sk.Emotion(0.5, 0.5), duration=20), quadrant=1)
    >>> spans = windows(ids, tok, length=64)
    >>> all(ids[start] == tok["Bar"] for start, _ in spans), len(spans) > 1
    (True, True)
    """
    import numpy as np

    length = int(length)
    if length < 16:
        raise InputError(f"windows need at least 16 tokens (the header takes {_HEADER}), got length={length}")
    body = length - _HEADER
    stride = body // 2 if stride is None else int(stride)
    if stride < 1:
        raise InputError(f"stride must be a positive number of tokens, got {stride}")
    seq = np.asarray(sequence, dtype=np.int64)
    bars = np.flatnonzero(seq == tokenizer.bar_id)
    if not bars.size:
        return []
    ranges = tokenizer.id_ranges()
    cond_start, cond_count = ranges["condition"]
    conds = seq[(seq >= cond_start) & (seq < cond_start + cond_count)]
    cond = int(conds[0]) if conds.size else tokenizer.condition_id(None)
    states = {}
    for family in ("TimeSig", "Key", "Tempo"):
        start, count = ranges[family]
        states[family] = np.flatnonzero((seq >= start) & (seq < start + count))

    def header(at):
        out = [tokenizer.bos_id, cond]
        for family, default in (("TimeSig", tokenizer.meter_id((4, 4))), ("Key", tokenizer.key_id("C major")),
                                ("Tempo", ranges["Tempo"][0] + tokenizer.tempo_bin(120.0))):
            where = states[family]
            k = int(np.searchsorted(where, at)) - 1
            out.append(int(seq[where[k]]) if k >= 0 else default)
        return tuple(out)

    out, j = [], 0
    while True:
        start = int(bars[j])
        out.append((start, header(start)))
        if start + body >= len(seq):
            break
        k = int(np.searchsorted(bars, start + stride))
        k = min(k, len(bars) - 1)
        if bars[k] > start + body and k - 1 > j:
            k -= 1  # do not leave a gap between windows when an earlier bar avoids it
        if k <= j:
            k = j + 1
        if k >= len(bars):
            break
        j = k
    return out


class TokenWindowDataset:
    """Fixed-length token windows of a :class:`TokenCorpus`, ready for a ``torch.utils.data.DataLoader``.

    A map-style dataset (``len`` and ``[index]``, what ``DataLoader`` and
    ``DistributedSampler`` need); torch is imported only when an item is read.

    Parameters
    ----------
    corpus : TokenCorpus
    tokenizer : RemiTokenizer
        The tokenizer that wrote the corpus (checked by vocabulary hash).
    split : {"train", "val", "test"}, optional
        Use only this split (default: every piece).
    length : int
        Tokens per window (default 512), header included.
    stride : int, optional
        See :func:`windows`.
    augment : bool
        Transpose each window by a random allowed shift (:func:`transpositions`).
    max_shift : int
        Largest shift in semitones (default 5).
    seed : int
        Seed of the shifts; with :meth:`set_epoch` the same ``(seed, epoch, index)``
        always gives the same shift.

    Items
    -----
    dict with ``ids`` (LongTensor, shape ``(length,)``, ``PAD`` = 0 after the end),
    ``quadrant`` (LongTensor scalar, 0 = unlabelled), ``piece`` (index into the
    split's pieces) and ``shift`` (semitones applied).
    """

    def __init__(self, corpus: TokenCorpus, tokenizer: RemiTokenizer, *, split=None, length: int = 512,
                 stride=None, augment: bool = False, max_shift: int = MAX_SHIFT, seed: int = 0):
        if not isinstance(corpus, TokenCorpus):
            raise InputError(f"expected a TokenCorpus (load_emopia_tokens(), ...), not {type(corpus).__name__}")
        if corpus.vocab_hash != tokenizer.vocab_hash:
            raise ModelError("the corpus was encoded with another vocabulary than this tokenizer; rebuild it "
                             "with this tokenizer (load_emopia_tokens(tokenizer=..., rebuild=True))")
        if not 0 <= int(max_shift) <= 12:
            raise InputError(f"max_shift must be 0-12 semitones, got {max_shift!r}")
        self.corpus = corpus.subset(split)
        self.tokenizer = tokenizer
        self.length = int(length)
        self.augment = bool(augment)
        self.max_shift = int(max_shift)
        self.seed = int(seed)
        self.epoch = 0
        self.items = []  # (piece, start, header)
        for i in range(len(self.corpus)):
            for start, head in windows(self.corpus.sequence(i), tokenizer, length=self.length, stride=stride):
                self.items.append((i, start, head))
        self._shifts = [self.corpus.shifts(i, max_shift=self.max_shift) for i in range(len(self.corpus))]
        self._tables = {s: tokenizer.transpose_table(s) for s in range(-self.max_shift, self.max_shift + 1)}

    def __len__(self) -> int:
        return len(self.items)

    def set_epoch(self, epoch: int) -> None:
        """Draw new transpositions for this epoch (the same epoch always draws the same)."""
        self.epoch = int(epoch)

    def window(self, index: int):
        """Window ``index`` as a numpy int64 array and its shift (what :meth:`__getitem__` wraps)."""
        import numpy as np

        if not -len(self.items) <= index < len(self.items):
            raise IndexError(f"window {index} out of range (the dataset has {len(self.items)})")
        index %= len(self.items)
        piece, start, head = self.items[index]
        seq = self.corpus.sequence(piece)
        body = seq[start:start + self.length - _HEADER]
        out = np.zeros(self.length, dtype=np.int64)
        out[:_HEADER] = head
        out[_HEADER:_HEADER + len(body)] = body
        shift = 0
        if self.augment:
            choices = self._shifts[piece]
            rng = np.random.default_rng([self.seed, self.epoch, index])
            shift = int(choices[rng.integers(len(choices))])
            if shift:
                out = self._tables[shift][out]
        return out, shift

    def __getitem__(self, index: int) -> dict:
        import torch

        ids, shift = self.window(int(index))
        piece = self.items[int(index) % len(self.items)][0]
        return {"ids": torch.from_numpy(ids), "quadrant": torch.tensor(int(self.corpus.quadrants[piece])),
                "piece": piece, "shift": shift}
