"""Does transposing EMOPIA's training clips help the symbolic music-emotion model?

Every train + val clip is transposed by a few semitones and its emotion features computed
again. Grouped 5-fold cross-validation by song, averaged over 5 splits (as the shipped recipe in
``scoringkit.fuse.train``), fits the shipped two-axis model (arousal side: core features,
C = 0.02; valence side: every feature, C on a grid, since more rows need another strength) on
the training songs' clips and their transposed copies, and scores only the held-out songs'
original clips. The first block (no copies) reproduces the shipped model's CV figure. The test
split is not read.

Run: ``.venv/bin/python benchmarks/symbolic_transposition.py`` (needs ``../shared/data/emopia``;
about 9 minutes of feature extraction on 2 cores, then 2 minutes of fitting).
"""

import copy
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SHIFTS = (-3, -2, -1, 0, 1, 2, 3)
COPIES = ((), (-1, 1), (-2, 2), (-2, -1, 1, 2), (-3, -2, -1, 1, 2, 3))
VALENCE_C = (0.003, 0.005, 0.01, 0.02)


def transposed_features(path):
    """``{shift: emotion features}`` of one MIDI file transposed by each of :data:`SHIFTS`."""
    from scoringkit.fuse.music_features import emotion_features
    from scoringkit.types import Score

    original = Score.from_midi(path)
    rows = {}
    for shift in SHIFTS:
        score = copy.deepcopy(original)
        for track in score.tracks:
            for note in track.notes:
                note.pitch = min(127, max(0, note.pitch + shift))
        rows[shift] = emotion_features(score)
    return rows


def main():
    import numpy as np

    from scoringkit.fuse.train import evaluate, fit_two_axis, grouped_folds, load_emopia

    clips = [c for c in load_emopia() if c.split in ("train", "val")]
    with ProcessPoolExecutor(2) as pool:
        rows = list(pool.map(transposed_features, [c.path for c in clips], chunksize=4))
    names = list(rows[0][0])
    X = {shift: np.nan_to_num(np.array([[r[shift][n] for n in names] for r in rows], dtype=float))
         for shift in SHIFTS}
    y = np.array([c.quadrant for c in clips])
    groups = [c.song for c in clips]
    print("| transposed copies (semitones) | valence C | CV 4Q acc. | CV valence acc. |")
    print("|---|---:|---:|---:|")
    for copies in COPIES:
        for C in VALENCE_C:
            right = right_valence = total = 0
            for _, train_idx, test_idx in grouped_folds(y, groups, folds=5, repeats=5):
                X_fit = np.vstack([X[0][train_idx]] + [X[s][train_idx] for s in copies])
                y_fit = np.concatenate([y[train_idx]] * (1 + len(copies)))
                model = fit_two_axis(X_fit, y_fit, names, C_arousal=0.02, C_valence=C,
                                     arousal_features="core", valence_features="full")
                scores = evaluate(model, X[0][test_idx], y[test_idx])
                right += scores["accuracy"] * len(test_idx)
                right_valence += scores["valence_accuracy"] * len(test_idx)
                total += len(test_idx)
            label = ", ".join(f"{s:+d}" for s in copies) or "none"
            print(f"| {label} | {C} | {right / total:.3f} | {right_valence / total:.3f} |", flush=True)


if __name__ == "__main__":
    main()
