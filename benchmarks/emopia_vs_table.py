"""Check the mapping table's directions against EMOPIA: per-quadrant statistics of the clips.

For each EMOPIA quadrant: the mean played tempo (onset-envelope estimate), note density
(notes/s), mean velocity, mean pitch, share of clips whose key estimate is major, chord
quality and dissonance (ic1 share) -- and whether each moves the way
:mod:`scoringkit.mapping` moves it (e.g. louder with arousal, higher with valence).

Run: ``.venv/bin/python benchmarks/emopia_vs_table.py`` (needs ``../shared/data/emopia``).
"""

import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scoringkit.fuse.music_features import emotion_features  # noqa: E402
from scoringkit.fuse.train import load_emopia  # noqa: E402

COLUMNS = {
    "played tempo (BPM)": "sym_tempo_estimate",
    "notes/s": "sym_note_density",
    "velocity": "sym_velocity_mean",
    "mean pitch": "sym_pitch_mean",
    "major key (share)": "is_major",
    "minor-chord windows": "chord_minor",
    "dissonance (ic1)": "ic1",
}


def main():
    rows = {q: [] for q in (1, 2, 3, 4)}
    for clip in load_emopia():
        rows[clip.quadrant].append(emotion_features(clip.path))
    means = {q: {c: statistics.fmean(r[f] for r in rows[q] if not (f == "sym_tempo_estimate" and r[f] == 0))
                 for c, f in COLUMNS.items()} for q in rows}
    print("| quadrant | clips | " + " | ".join(COLUMNS) + " |")
    print("|---|---:|" + "---:|" * len(COLUMNS))
    for q in rows:
        print(f"| Q{q} | {len(rows[q])} | " + " | ".join(f"{means[q][c]:.2f}" for c in COLUMNS) + " |")
    print()
    high_a = lambda c: (means[1][c] + means[2][c]) / 2 - (means[3][c] + means[4][c]) / 2  # noqa: E731
    high_v = lambda c: (means[1][c] + means[4][c]) / 2 - (means[2][c] + means[3][c]) / 2  # noqa: E731
    print("| feature | high minus low arousal | positive minus negative valence |")
    print("|---|---:|---:|")
    for c in COLUMNS:
        print(f"| {c} | {high_a(c):+.2f} | {high_v(c):+.2f} |")


if __name__ == "__main__":
    main()
