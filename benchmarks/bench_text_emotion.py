"""Benchmark the text-emotion backends: accuracy on the official test splits, speed, first call.

Run: ``.venv/bin/python benchmarks/bench_text_emotion.py`` (needs the training data folder, see
``scoringkit.emotion.train.find_data_dir``). Prints Markdown tables for the README.

* EmoBank test split (1,000 sentences): Pearson r between predicted and rated valence/arousal.
* GoEmotions Ekman test split, rows with a single label (4,968): macro-F1 over the 7 categories.
* Throughput: sentences per second on EmoBank test sentences (typical story-length sentences),
  in one call, after the model is loaded; median of 3 calls.
* First call: ``analyze_text(..., backend="encoder")`` in a fresh process, model load included
  (median of 3 processes).

* Quadrants: four-quadrant accuracy of each offline backend on the held-out sentences with an
  EMOPIA quadrant (``text_conditioned.text_pairs``, test split: EmoBank by the signs of its
  ratings, GoEmotions joy/anger/disgust/fear/sadness by category), the choice the music
  generators make from a text. ``--quadrants-only`` prints just this table.

The row ``encoder (int8)`` is the same model with ``quantize=True`` (int8 dynamic quantisation
of the frozen layers). Timings need an otherwise idle machine: other jobs on the same cores
can cut throughput several-fold, so the script prints how many cores other processes kept
busy while it ran (Linux), next to each figure.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time


class OtherLoad:
    """CPU cores kept busy by other processes between two calls (Linux ``/proc/stat``; None elsewhere)."""

    def __init__(self):
        self.start = self._snapshot()

    @staticmethod
    def _snapshot():
        try:
            with open("/proc/stat") as f:
                fields = [int(x) for x in f.readline().split()[1:]]
        except OSError:
            return None
        busy = (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")  # all but idle and iowait
        own = os.times()
        return time.monotonic(), busy, own.user + own.system + own.children_user + own.children_system

    def cores(self):
        end = self._snapshot()
        if self.start is None or end is None:
            return None
        wall = end[0] - self.start[0]
        return max(0.0, ((end[1] - self.start[1]) - (end[2] - self.start[2])) / wall) if wall > 0 else None

    def __str__(self):
        cores = self.cores()
        return "n/a" if cores is None else f"{cores:.2f} cores"


def quadrant_table():
    """Four-quadrant accuracy of the lexicon and encoder backends on labelled held-out sentences."""
    import warnings

    import numpy as np

    import scoringkit as sk
    from scoringkit.generate.models.text_conditioned import text_pairs

    test = text_pairs()["test"]
    texts, truth, source = list(test["texts"]), np.asarray(test["quadrants"]), np.asarray(test["source"])
    counts = ", ".join(f"Q{q} {int((truth == q).sum())}" for q in (1, 2, 3, 4))
    print(f"\nHeld-out sentences with a quadrant: {len(truth)} ({counts}; EmoBank {int((source == 'emobank').sum())}, "
          f"GoEmotions {int((source == 'goemotions').sum())})\n")
    print("| backend | 4-quadrant accuracy | EmoBank rows | GoEmotions rows | Q1 | Q2 | Q3 | Q4 | mean of Q1-Q4 |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for backend in ("lexicon", "encoder"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a few Reddit rows look non-English to the heuristic
            guess = np.array([e.quadrant for e in sk.analyze_text(texts, backend=backend)])
        per = [float(np.mean(guess[truth == q] == q)) for q in (1, 2, 3, 4)]
        print(f"| {backend} | {np.mean(guess == truth):.3f} | {np.mean((guess == truth)[source == 'emobank']):.3f} | "
              f"{np.mean((guess == truth)[source == 'goemotions']):.3f} | " + " | ".join(f"{p:.2f}" for p in per)
              + f" | {np.mean(per):.3f} |")


def main():
    import numpy as np

    if "--quadrants-only" in sys.argv[1:]:
        quadrant_table()
        return
    from sklearn.metrics import f1_score

    import scoringkit as sk
    from scoringkit.emotion import train
    from scoringkit.emotion.encoder import analyze_encoder

    texts, valence, arousal, split = train.load_emobank()
    rows = [i for i, s in enumerate(split) if s == "test"]
    e_texts = [texts[i] for i in rows]
    g_texts, g_labels, g_split = train.load_goemotions()
    g_rows = [i for i, s in enumerate(g_split) if s == "test"]

    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}\n")
    print("| backend | EmoBank valence r | EmoBank arousal r | GoEmotions Ekman macro-F1 | sentences/s "
          "| other processes' load while timing |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, backend, options in (("lexicon", "lexicon", {}), ("encoder", "encoder", {}),
                                   ("encoder (int8)", "encoder", {"quantize": True})):
        analyze = (lambda t: sk.analyze_text(t, backend=backend)) if not options else (
            lambda t: analyze_encoder(list(t), **options))
        analyze(["warm up"])
        speeds, load = [], OtherLoad()
        for _ in range(3):
            start = time.perf_counter()
            predicted = analyze(e_texts)
            speeds.append(len(e_texts) / (time.perf_counter() - start))
        load = str(load)
        r_v = np.corrcoef([e.valence for e in predicted], [valence[i] for i in rows])[0, 1]
        r_a = np.corrcoef([e.arousal for e in predicted], [arousal[i] for i in rows])[0, 1]
        guesses = [sk.EMOTION_LABELS.index(e.label) for e in analyze([g_texts[i] for i in g_rows])]
        f1 = f1_score([g_labels[i] for i in g_rows], guesses, average="macro", labels=list(range(7)), zero_division=0)
        print(f"| {name} | {r_v:.3f} | {r_a:.3f} | {f1:.3f} | {statistics.median(speeds):.0f} | {load} |")

    code = ("import time; t = time.perf_counter(); import scoringkit as sk; "
            "sk.analyze_text('The storm broke over the harbour.', backend='encoder'); print(time.perf_counter() - t)")
    load = OtherLoad()
    runs = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
            for _ in range(3)]
    quadrant_table()
    print(f"\nFirst call of the encoder backend in a fresh process (import + model load + one sentence), "
          f"median of 3: {statistics.median(runs):.2f} s (other processes' load: {load})")


if __name__ == "__main__":
    main()
