"""Benchmark the text-emotion backends: accuracy on the official test splits, speed, first call.

Run: ``.venv/bin/python benchmarks/bench_text_emotion.py`` (needs the training data folder, see
``scoringkit.emotion.train.find_data_dir``). Prints Markdown tables for the README.

* EmoBank test split (1,000 sentences): Pearson r between predicted and rated valence/arousal.
* GoEmotions Ekman test split, rows with a single label (4,968): macro-F1 over the 7 categories.
* Throughput: sentences per second on EmoBank test sentences (typical story-length sentences),
  in one call, after the model is loaded.
* First call: ``analyze_text(..., backend="encoder")`` in a fresh process, model load included.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time


def main():
    import numpy as np
    from sklearn.metrics import f1_score

    import scoringkit as sk
    from scoringkit.emotion import train

    texts, valence, arousal, split = train.load_emobank()
    rows = [i for i, s in enumerate(split) if s == "test"]
    e_texts = [texts[i] for i in rows]
    g_texts, g_labels, g_split = train.load_goemotions()
    g_rows = [i for i, s in enumerate(g_split) if s == "test"]

    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}\n")
    print("| backend | EmoBank valence r | EmoBank arousal r | GoEmotions Ekman macro-F1 | sentences/s |")
    print("|---|---:|---:|---:|---:|")
    for backend in ("lexicon", "encoder"):
        sk.analyze_text(["warm up"], backend=backend)
        start = time.perf_counter()
        predicted = sk.analyze_text(e_texts, backend=backend)
        speed = len(e_texts) / (time.perf_counter() - start)
        r_v = np.corrcoef([e.valence for e in predicted], [valence[i] for i in rows])[0, 1]
        r_a = np.corrcoef([e.arousal for e in predicted], [arousal[i] for i in rows])[0, 1]
        guesses = [sk.EMOTION_LABELS.index(e.label) for e in sk.analyze_text([g_texts[i] for i in g_rows], backend=backend)]
        f1 = f1_score([g_labels[i] for i in g_rows], guesses, average="macro", labels=list(range(7)), zero_division=0)
        print(f"| {backend} | {r_v:.3f} | {r_a:.3f} | {f1:.3f} | {speed:.0f} |")

    code = ("import time; t = time.perf_counter(); import scoringkit as sk; "
            "sk.analyze_text('The storm broke over the harbour.', backend='encoder'); print(time.perf_counter() - t)")
    runs = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
            for _ in range(3)]
    print(f"\nFirst call of the encoder backend in a fresh process (import + model load + one sentence), "
          f"median of 3: {statistics.median(runs):.2f} s")


if __name__ == "__main__":
    main()
