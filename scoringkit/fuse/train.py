"""Fit the music-emotion models on EMOPIA (what ``python -m scoringkit.fuse.train`` runs).

Recipe:

1. Read EMOPIA's clips, their quadrant labels and the official song-level split
   (train 876 / val 114 / test 88 clips) from ``<data>/emopia``; the data folder is
   ``$SCORINGKIT_DATA`` or ``../shared/data`` unless given.
2. Describe each clip: for the **symbolic** model with
   :func:`scoringkit.fuse.music_features.emotion_features` of the MIDI file; for the
   **audio** model, render the MIDI with scoringkit's own renderer (piano, 22,050 Hz)
   and take :func:`scoringkit.fuse.emotion_model.audio_model_features` of the result
   (cached in ``~/.cache/scoringkit``, as rendering ~12 hours of audio takes minutes).
3. Choose the L2 strength ``C`` of a multinomial logistic regression by k-fold
   cross-validation on train + val, with folds grouped by song so clips of one song
   never sit on both sides.
4. Fit on train + val with the chosen ``C``, then read the figures once on the test
   split: four-quadrant accuracy, and arousal and valence accuracy (the side of each
   axis), plus the confusion matrix.
5. Save the weights as JSON with the metrics, and a model card beside them.

Examples
--------
Fitting and scoring on a small made-up table (the real data is read by path):

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> y = np.repeat([1, 2, 3, 4], 10)
>>> X = rng.normal(size=(40, 2)) + np.c_[np.isin(y, [1, 4]), np.isin(y, [1, 2])] * 3
>>> model = fit(X, y, ["v", "a"], C=1.0)
>>> evaluate(model, X, y, ["v", "a"])["accuracy"] >= 0.9
True
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ..emotion.train import find_data_dir
from ..errors import InputError

__all__ = ["EmopiaClip", "load_emopia", "feature_table", "cross_validate", "fit", "evaluate", "write_model_card",
           "main"]

#: ``C`` values tried by cross-validation.
C_GRID = (0.02, 0.05, 0.1, 0.3, 1.0)
#: Sample rate at which EMOPIA is rendered for the audio model.
RENDER_SR = 22050


@dataclass(frozen=True)
class EmopiaClip:
    """One EMOPIA clip: its id (``Q1_<song>_<n>``), MIDI path, quadrant, split and song."""

    clip_id: str
    path: Path
    quadrant: int
    split: str
    song: str


def load_emopia(data_dir=None) -> list:
    """EMOPIA's clips with labels and the official split.

    Parameters
    ----------
    data_dir : str or Path, optional
        The folder holding ``emopia/`` (default: :func:`scoringkit.emotion.train.find_data_dir`).

    Returns
    -------
    list of EmopiaClip
        Sorted by clip id.
    """
    root = find_data_dir(data_dir) / "emopia"
    if not (root / "label.csv").is_file():
        raise InputError(f"EMOPIA not found: {str(root / 'label.csv')!r} is missing; download EMOPIA "
                         "(see the data README) into <data>/emopia")
    with open(root / "label.csv", newline="", encoding="utf-8") as f:
        labels = {row["ID"]: int(row["4Q"]) for row in csv.DictReader(f)}
    split_of = {}
    for split in ("train", "val", "test"):
        with open(root / "split" / f"{split}_clip.csv", newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                split_of[Path(row["clip_name"]).stem] = split
    clips = []
    for clip_id, quadrant in sorted(labels.items()):
        path = root / "midis" / f"{clip_id}.mid"
        if clip_id in split_of and path.is_file():
            song = clip_id[3:].rsplit("_", 1)[0]
            clips.append(EmopiaClip(clip_id, path, quadrant, split_of[clip_id], song))
    return clips


def _symbolic_row(path):
    from .music_features import emotion_features

    return emotion_features(path)


#: Programs for the "ensemble" renders of EMOPIA (timbre augmentation for the audio model):
#: the melody and accompaniment instruments of every quadrant of the mapping table pooled,
#: so that an instrument says nothing about the label.
ENSEMBLE_MELODY = (73, 40, 42, 71, 0, 41, 9, 80)
ENSEMBLE_LOWER = (0, 48, 46, 49, 4, 32, 43)


def _audio_row(path, ensemble=False):
    import zlib

    from ..synth import render
    from ..types import Score, Track
    from ..extract.audio import audio_features
    from .emotion_model import audio_model_features

    score = Score.from_midi(path)
    for track in score.tracks:  # EMOPIA is solo piano; make sure the renderer plays a piano
        track.program = 0
    if ensemble:  # right hand (from middle C up) and left hand on two instruments picked by the clip's name
        h = zlib.crc32(Path(path).stem.encode())
        notes = [n for t in score.tracks for n in t.notes]
        score.tracks[:] = [Track("upper", ENSEMBLE_MELODY[h % len(ENSEMBLE_MELODY)], [n for n in notes if n.pitch >= 60]),
                           Track("lower", ENSEMBLE_LOWER[(h // 7) % len(ENSEMBLE_LOWER)],
                                 [n for n in notes if n.pitch < 60])]
    samples = render(score, sr=RENDER_SR)
    return audio_model_features(audio_features(samples, sr=RENDER_SR, frames=False))


def _audio_ensemble_row(path):
    return _audio_row(path, ensemble=True)


def feature_table(clips, kind: str = "symbolic", *, jobs: int | None = None, progress: bool = True, cache=True):
    """Feature rows for clips, as ``(X, names)``.

    Parameters
    ----------
    clips : list of EmopiaClip
    kind : {"symbolic", "audio"}
    jobs : int, optional
        Worker processes (default: the CPU count).
    progress : bool
        Show a progress bar.
    cache : bool
        Keep the rows of the audio kind in ``~/.cache/scoringkit`` (keyed by clip id
        and a feature version), so a second run skips rendering.
    """
    import numpy as np
    from concurrent.futures import ProcessPoolExecutor
    from tqdm.auto import tqdm

    kinds = {"symbolic": _symbolic_row, "audio": _audio_row, "audio-ensemble": _audio_ensemble_row}
    if kind not in kinds:
        from ..errors import choice_error

        raise choice_error("kind", kind, tuple(kinds))
    work = kinds[kind]
    cached = kind != "symbolic" and cache
    prefix = "" if kind != "audio-ensemble" else "ensemble:"
    cache_file = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "scoringkit" / "emopia_audio_v1.json"
    every = {}
    if cached and cache_file.is_file():
        every = json.loads(cache_file.read_text())
    stored = {k[len(prefix):]: v for k, v in every.items() if k.startswith(prefix) and (prefix or ":" not in k)}
    todo = [c for c in clips if c.clip_id not in stored]
    jobs = jobs or os.cpu_count() or 1
    bar = tqdm(total=len(clips), desc=f"{kind} features", disable=not progress, initial=len(clips) - len(todo))
    if todo:
        if jobs > 1:
            with ProcessPoolExecutor(jobs) as pool:
                for clip, row in zip(todo, pool.map(work, [c.path for c in todo], chunksize=4)):
                    stored[clip.clip_id] = row
                    bar.update()
        else:
            for clip in todo:
                stored[clip.clip_id] = work(clip.path)
                bar.update()
    bar.close()
    if cached and todo:
        every.update({prefix + k: v for k, v in stored.items()})
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        cache_file.write_text(json.dumps(every))
    names = list(stored[clips[0].clip_id])
    X = np.array([[stored[c.clip_id][n] for n in names] for c in clips], dtype=float)
    return np.nan_to_num(X), names


def fit(X, y, names, *, C: float = 0.05, meta=None):
    """Fit the standardise + multinomial logistic regression model.

    Parameters
    ----------
    X : array, shape (n, d)
    y : array of int 1..4 (quadrants)
    names : list of str, the d feature names
    C : float
        Inverse L2 strength (smaller = simpler model).

    Returns
    -------
    MusicEmotionModel
    """
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    from .emotion_model import MusicEmotionModel

    X = np.asarray(X, dtype=float)
    mean = X.mean(0)
    scale = X.std(0)
    scale[scale < 1e-9] = 1.0
    clf = LogisticRegression(C=C, max_iter=10000).fit((X - mean) / scale, np.asarray(y))
    if list(clf.classes_) != [1, 2, 3, 4]:
        raise InputError(f"training labels must cover quadrants 1-4, got {list(clf.classes_)}")
    return MusicEmotionModel(names, mean, scale, clf.coef_, clf.intercept_, meta)


def evaluate(model, X, y, names=None) -> dict:
    """Four-quadrant, arousal and valence accuracy and the confusion matrix (rows: true Q1..Q4).

    Arousal accuracy counts a clip right when the predicted quadrant lies on the true
    side of the arousal axis (Q1/Q2 vs Q3/Q4); valence likewise (Q1/Q4 vs Q2/Q3).
    """
    import numpy as np

    names = names or model.features
    y = np.asarray(y)
    pred = np.array([int(np.argmax(model.predict_proba(dict(zip(names, row))))) + 1 for row in np.asarray(X)])
    high_a, high_v = (1, 2), (1, 4)
    confusion = [[int(((y == t) & (pred == p)).sum()) for p in range(1, 5)] for t in range(1, 5)]
    return {
        "n": int(len(y)),
        "accuracy": float((pred == y).mean()),
        "arousal_accuracy": float((np.isin(pred, high_a) == np.isin(y, high_a)).mean()),
        "valence_accuracy": float((np.isin(pred, high_v) == np.isin(y, high_v)).mean()),
        "confusion": confusion,
    }


def cross_validate(X, y, groups, names, *, Cs=C_GRID, folds: int = 5) -> dict:
    """Grouped k-fold accuracy for each ``C``: ``{C: {"accuracy", "arousal_accuracy", "valence_accuracy"}}``."""
    import numpy as np
    from sklearn.model_selection import GroupKFold

    X, y, groups = np.asarray(X), np.asarray(y), np.asarray(groups)
    results = {}
    for C in Cs:
        sums = {"accuracy": 0.0, "arousal_accuracy": 0.0, "valence_accuracy": 0.0}
        for train_idx, test_idx in GroupKFold(folds).split(X, y, groups):
            model = fit(X[train_idx], y[train_idx], names, C=C)
            scores = evaluate(model, X[test_idx], y[test_idx], names)
            for key in sums:
                sums[key] += scores[key] * len(test_idx)
        results[C] = {key: value / len(y) for key, value in sums.items()}
    return results


def write_model_card(model_path, out=None) -> Path:
    """Write ``MODEL_CARD_<name>.md`` beside a model, from the metadata stored in it."""
    from .emotion_model import MusicEmotionModel

    model_path = Path(model_path)
    model = MusicEmotionModel.load(model_path)
    meta = model.meta
    out = Path(out) if out else model_path.with_name("MODEL_CARD_" + model_path.stem + ".md")
    test = meta["test"]
    cv_rows = "\n".join(
        f"| {C} | {r['accuracy']:.3f} | {r['arousal_accuracy']:.3f} | {r['valence_accuracy']:.3f} |"
        for C, r in meta["cross_validation"].items())
    confusion = "\n".join(f"| Q{i + 1} | " + " | ".join(str(v) for v in row) + " |"
                          for i, row in enumerate(test["confusion"]))
    kind = meta["kind"]
    ensemble = ""
    if "test_ensemble" in meta:
        e = meta["test_ensemble"]
        ensemble = (f"The test clips rendered by a two-instrument ensemble instead of piano (the timbre augmentation "
                    f"above): four-quadrant accuracy {e['accuracy']:.1%}, arousal {e['arousal_accuracy']:.1%}, "
                    f"valence {e['valence_accuracy']:.1%}.\n\n")
    what = ("the score itself: features of dynamics, rhythm, register and harmony from "
            "`scoringkit.fuse.music_features.emotion_features`" if kind == "symbolic" else
            "audio: summaries of `scoringkit.extract.audio_features` (MFCC, spectral shape, loudness, onsets, "
            "tempo, key-relative chroma). Trained on EMOPIA's MIDI rendered by scoringkit's own renderer "
            f"(General MIDI piano from the bundled SoundFont, {RENDER_SR} Hz), not on the original recordings. "
            "Timbre augmentation: every training clip is also rendered with its right hand (notes from middle C "
            "up) and left hand on two instruments picked from the mapping table's palette by the clip's name, "
            "so the model hears pieces rather than a piano")
    text = f"""# Model card: scoringkit music-emotion model, {kind} (`{model_path.name}`)

**What it is.** A multinomial logistic regression over {len(model.features)} standardised features of
{what}. It gives probabilities of EMOPIA's four quadrants (Q1 +valence +arousal, Q2 -V +A,
Q3 -V -A, Q4 +V -A); `scoringkit.music_emotion` turns them into valence and arousal in [-1, 1].
The weights are plain numbers in JSON ({model_path.stat().st_size / 1e3:.0f} kB); nothing is unpickled.

**Training data.** EMOPIA (Hung et al., ISMIR 2021): {meta['n_clips']} pop-piano clips with one
quadrant label each, read from `<data>/emopia` by path and not redistributed. Official song-level
split: train + val ({meta['n_train']} clips) for fitting, test ({test['n']} clips) only for the
figures below.

**Licence.** EMOPIA is CC BY-NC-SA 4.0, so this model is too: **non-commercial use only**, share
alike, with attribution to EMOPIA.

**Training command.** `{meta['command']}` ({meta['seconds']:.0f} s on the machine it ran on; the audio
rows are cached in `~/.cache/scoringkit` after a first run, which renders EMOPIA: about 3.5 min on 2 cores).
`C` (inverse L2 strength) chosen by {meta['folds']}-fold cross-validation on train + val with folds
grouped by song; chosen `C` = {meta['C']}.

| C | CV 4Q acc. | CV arousal acc. | CV valence acc. |
|---|---|---|---|
{cv_rows}

**Held-out figures (official test split, {test['n']} clips).** Four-quadrant accuracy
**{test['accuracy']:.1%}**, arousal {test['arousal_accuracy']:.1%}, valence {test['valence_accuracy']:.1%}.
For orientation: the EMOPIA paper's best symbolic classifier reached 68.4 % (arousal 89.0 %,
valence 83.3 %) on the same split. With 88 test clips one clip is 1.1 points, so differences of
a few points are within noise.

{ensemble}Confusion matrix on the test split (rows: true quadrant, columns: predicted Q1..Q4):

| true | Q1 | Q2 | Q3 | Q4 |
|---|---|---|---|---|
{confusion}

**Limits.** Trained on solo pop piano: it hears mode, harmony, dynamics and pace, not timbre or
lyrics. Valence (Q3 vs Q4, Q1 vs Q2) is the harder axis. Scores from scoringkit's composer use
other instruments; their features are computed from all pitched tracks (drums left out).
"""
    from ..io import atomic_write

    atomic_write(out, lambda f: f.write(text), overwrite=True, binary=False)
    return out


def main(argv=None) -> int:
    """Command line: ``python -m scoringkit.fuse.train [--kind symbolic|audio|both] [--data DIR] [--out-dir DIR]``."""
    import numpy as np

    parser = argparse.ArgumentParser(prog="python -m scoringkit.fuse.train", description=__doc__.split("\n")[0])
    parser.add_argument("--kind", choices=("symbolic", "audio", "both"), default="both")
    parser.add_argument("--data", help="folder holding emopia/ (default: $SCORINGKIT_DATA or ../shared/data)")
    parser.add_argument("--out-dir", default=str(Path(__file__).resolve().parents[1] / "assets" / "models"))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    from .emotion_model import MODEL_FILES

    clips = load_emopia(args.data)
    fit_clips = [c for c in clips if c.split in ("train", "val")]
    test_clips = [c for c in clips if c.split == "test"]
    for kind in ("symbolic", "audio") if args.kind == "both" else (args.kind,):
        start = time.time()
        X, names = feature_table(clips, kind, jobs=args.jobs, progress=not args.quiet)
        index = {c.clip_id: i for i, c in enumerate(clips)}
        Xf = X[[index[c.clip_id] for c in fit_clips]]
        yf = np.array([c.quadrant for c in fit_clips])
        Xt = X[[index[c.clip_id] for c in test_clips]]
        yt = np.array([c.quadrant for c in test_clips])
        groups = [c.song for c in fit_clips]
        extra = {}
        if kind == "audio":  # timbre augmentation: each clip also rendered by a two-instrument ensemble
            Xe, names_e = feature_table(clips, "audio-ensemble", jobs=args.jobs, progress=not args.quiet)
            Xe = Xe[:, [names_e.index(n) for n in names]]
            Xf = np.vstack([Xf, Xe[[index[c.clip_id] for c in fit_clips]]])
            yf = np.concatenate([yf, yf])
            groups = groups + groups
            Xt_ensemble = Xe[[index[c.clip_id] for c in test_clips]]
        cv = cross_validate(Xf, yf, groups, names, folds=args.folds)
        best_C = max(cv, key=lambda C: (round(cv[C]["accuracy"], 6), -C))
        model = fit(Xf, yf, names, C=best_C)
        test = evaluate(model, Xt, yt)
        if kind == "audio":
            extra["test_ensemble"] = evaluate(model, Xt_ensemble, yt)
        model.meta = {
            "kind": kind, "C": best_C, "folds": args.folds, "n_clips": len(clips), "n_train": len(fit_clips),
            "cross_validation": {str(C): r for C, r in cv.items()}, "test": test,
            "command": f"python -m scoringkit.fuse.train --kind {args.kind}", "seconds": time.time() - start,
            "data": "EMOPIA (CC BY-NC-SA 4.0)", "licence": "CC BY-NC-SA 4.0 (non-commercial)", **extra,
        }
        out = Path(args.out_dir) / MODEL_FILES[kind]
        model.save(out)
        write_model_card(out)
        print(f"{kind}: C={best_C} cv 4Q {cv[best_C]['accuracy']:.3f} | test 4Q {test['accuracy']:.3f} "
              f"arousal {test['arousal_accuracy']:.3f} valence {test['valence_accuracy']:.3f} -> {out}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
