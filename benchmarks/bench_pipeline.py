"""Benchmark the foundation pipeline: import time, end-to-end speed, real-time factor.

Run with ``make bench`` (or ``.venv/bin/python benchmarks/bench_pipeline.py``). Prints a
Markdown table for the README. Each figure is the median of ``--repeat`` runs.

* import: ``import scoringkit`` timed inside a fresh process (and with the first use of
  ``score_story``, which loads the emotion backend and the composer), for both offline backends.
* score_story: segmentation + emotion (lexicon, and the default encoder) + mapping + rule composition.
* render: tinysoundfont synthesis of the whole soundtrack at 44.1 kHz (numpy synth also shown).
* write: WAV + MIDI + MusicXML + cue sheets (MusicXML via music21 dominates).
* cold CLI: ``scoringkit score`` in a fresh process, imports included.

The "all five files" and cold-CLI rows use ``score_story``'s default backend (the encoder).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


from timing import median_time  # benchmarks/timing.py (this folder is on sys.path)

def process_time(args, repeat):
    return median_time(lambda: subprocess.run(args, check=True, capture_output=True), repeat)


def timed_in_fresh_process(statement, repeat):
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    runs = [float(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout)
            for _ in range(repeat)]
    return statistics.median(runs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    import scoringkit as sk
    from scoringkit.assets import example_story, example_story_path
    from scoringkit.emotion import DEFAULT_BACKEND
    from scoringkit.synth import available_synths

    import_s = timed_in_fresh_process("import scoringkit", args.repeat)
    backends = ("lexicon", DEFAULT_BACKEND)
    first_use_s = {backend: timed_in_fresh_process(
        f"import scoringkit as sk; sk.score_story('A calm sea.', backend={backend!r})", args.repeat)
        for backend in backends}

    story = example_story()
    score_s = {}
    for backend in backends:
        sk.score_story(story, backend=backend)  # warm caches (lexicons or model, imports)
        score_s[backend] = median_time(lambda: sk.score_story(story, backend=backend), args.repeat)
    soundtrack = sk.score_story(story)
    audio_s = soundtrack.duration
    render_s = {name: median_time(lambda: sk.render(soundtrack.score, synth=name), max(1, args.repeat // 2))
                for name in available_synths()}
    auto = available_synths()[0]

    def write_all():
        with tempfile.TemporaryDirectory() as tmp:
            fresh = sk.score_story(story)
            fresh.write(Path(tmp) / "out", synth=auto)

    full_s = median_time(write_all, max(1, args.repeat // 2))
    with tempfile.TemporaryDirectory() as tmp:
        cli = Path(sys.executable).with_name("scoringkit")
        cold_s = process_time([str(cli), "score", str(example_story_path()), "-o", str(Path(tmp) / "o"), "-q", "--force"], 1)

    words = len(story.split())
    print(f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"story: lighthouse_keeper ({words} words, {len(soundtrack.cues)} cues, {audio_s:.1f} s of music)\n")
    print("| measure | time (s) | real-time factor |")
    print("|---|---:|---:|")
    print(f"| `import scoringkit` (fresh process) | {import_s:.4f} | |")
    for backend in backends:
        print(f"| import + first `score_story` call, {backend} backend (fresh process: loads the backend and the "
              f"composer) | {first_use_s[backend]:.2f} | |")
    for backend in backends:
        print(f"| `score_story` ({backend} + rules) | {score_s[backend]:.3f} | {audio_s / score_s[backend]:.0f}× |")
    for name, seconds in render_s.items():
        print(f"| `render` with {name}, 44.1 kHz | {seconds:.2f} | {audio_s / seconds:.0f}× |")
    for backend in backends:
        e2e = score_s[backend] + render_s[auto]
        print(f"| **story → audio** (`score_story` with {backend} + `render`, {auto}) | {e2e:.2f} "
              f"| **{audio_s / e2e:.0f}×** |")
    print(f"| story → all five files (`score_story` + `.write`: WAV, MIDI, MusicXML, CSV, JSON) | {full_s:.2f} | {audio_s / full_s:.0f}× |")
    print(f"| `scoringkit score` command, cold process | {cold_s:.2f} | {audio_s / cold_s:.0f}× |")


if __name__ == "__main__":
    main()
