"""Would averaging several text-emotion checkpoints beat one? Dev and test figures of every mix.

Run: ``.venv/bin/python benchmarks/text_ensemble.py NAME=PATH NAME=PATH ... [--max-members 3]``

Each ``PATH`` is a checkpoint written by ``python -m scoringkit.emotion.train``. The script
predicts the EmoBank dev and test sentences and the GoEmotions Ekman dev and test rows (single
label) once per checkpoint, through the same chunked path as ``analyze_text``, then scores
every combination of up to ``--max-members`` checkpoints whose outputs are averaged (valence
and arousal, and the category probabilities). Rows are sorted by the sum of the three dev
figures, the figure configurations are chosen by; the test columns are for the record.

An ensemble of ``k`` checkpoints costs about ``k`` times the fine-tuned layers' compute per
sentence, so a mix must gain enough to pay for that before it is worth shipping.
"""

from __future__ import annotations

import argparse
import itertools
import sys


def figures(valence_arousal, probabilities, ratings, labels):
    """``(valence r, arousal r, macro-F1)`` of averaged outputs against the ratings and labels."""
    import numpy as np
    from sklearn.metrics import f1_score

    r_valence = float(np.corrcoef(valence_arousal[:, 0], ratings[:, 0])[0, 1])
    r_arousal = float(np.corrcoef(valence_arousal[:, 1], ratings[:, 1])[0, 1])
    f1 = float(f1_score(labels, probabilities.argmax(1), average="macro", labels=list(range(7)), zero_division=0))
    return r_valence, r_arousal, f1


def main(argv=None) -> int:
    import numpy as np

    from scoringkit.emotion import train
    from scoringkit.emotion.encoder import _loaded, predict

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoints", nargs="+", help="NAME=PATH of a text-emotion checkpoint")
    parser.add_argument("--max-members", type=int, default=3)
    parser.add_argument("--data", default=None, help="training data folder (default: ../shared/data)")
    args = parser.parse_args(argv)
    named = dict(item.split("=", 1) for item in args.checkpoints)

    texts, valence, arousal, split = train.load_emobank(args.data)
    g_texts, g_labels, g_split = train.load_goemotions(args.data)
    rows = {s: [i for i, x in enumerate(split) if x == s] for s in ("dev", "test")}
    g_rows = {s: [i for i, x in enumerate(g_split) if x == s] for s in ("dev", "test")}
    ratings = {s: np.array([[valence[i] - 3, arousal[i] - 3] for i in rows[s]]) for s in rows}
    labels = {s: np.array([g_labels[i] for i in g_rows[s]]) for s in g_rows}

    outputs = {}
    for name, path in named.items():
        for s in ("dev", "test"):
            va, _ = predict([texts[i] for i in rows[s]], checkpoint=path)
            _, probabilities = predict([g_texts[i] for i in g_rows[s]], checkpoint=path)
            outputs[name, s] = (va, probabilities)
        _loaded.cache_clear()  # one model in memory at a time
        print(f"predicted with {name}", file=sys.stderr, flush=True)

    table = []
    for k in range(1, min(args.max_members, len(named)) + 1):
        for members in itertools.combinations(named, k):
            result = {}
            for s in ("dev", "test"):
                va = np.mean([outputs[m, s][0] for m in members], 0)
                probabilities = np.mean([outputs[m, s][1] for m in members], 0)
                result[s] = figures(va, probabilities, ratings[s], labels[s])
            table.append((sum(result["dev"]), members, result))
    table.sort(key=lambda row: -row[0])
    print("| checkpoints averaged | dev sum | dev valence r | dev arousal r | dev macro-F1 "
          "| test valence r | test arousal r | test macro-F1 |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for total, members, result in table:
        print(f"| {' + '.join(members)} | {total:.3f} | "
              + " | ".join(f"{x:.3f}" for x in result["dev"] + result["test"]) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
