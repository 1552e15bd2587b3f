"""Benchmark the fuse stage: reranking's quadrant accuracy and cost, and the metrics' speed.

Run with ``.venv/bin/python benchmarks/bench_fuse.py`` (``--seeds 5`` for a quick run).
Prints Markdown tables for the README.

(a) Quadrant accuracy with and without reranking, for each generator of ``--generators``
    (default: rules, transformer, vae, gan): for each EMOPIA quadrant and each seed a target
    emotion is drawn inside the quadrant (|valence| and |arousal| uniform in [0.2, 0.9],
    fixed RNG) and a 20 s cue composed with ``candidates=1`` and ``candidates=8`` (the pool
    of seed ``s`` is seeds ``8s .. 8s+7``, so pools do not overlap), and for the Transformer
    also with ``search="beam"`` (4 beams, λ = 0.5) alone and with ``candidates=8``
    (``--beam-candidates``); a cue counts as correct when ``music_emotion(cue).quadrant`` is
    the target's. Time per cue is the wall time of ``compose`` alone (reranking's own
    music-emotion calls included; the accuracy check is not); ``uptime``'s load is printed
    with each row, since other jobs on the machine slow every figure down.
(b) ``score_story`` on the bundled example story with ``candidates`` 1, 4 and 8: time and
    share of cues whose music lands in the scene's quadrant (to choose its default).
(c) ``quality_metrics`` on 100 composed 20 s cues (median of ``--repeat`` runs), and
    ``compare_to_corpus`` against 100 EMOPIA clips when ``../shared/data/emopia`` is there.

No timing is asserted anywhere (machines differ); the tests check correctness only.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import subprocess
import time
from pathlib import Path

from timing import median_time  # benchmarks/timing.py (this folder is on sys.path)

SIGNS = {1: (1, 1), 2: (-1, 1), 3: (-1, -1), 4: (1, -1)}


def target(quadrant, seed):
    rng = random.Random(1000 * quadrant + seed)
    sv, sa = SIGNS[quadrant]
    return sv * rng.uniform(0.2, 0.9), sa * rng.uniform(0.2, 0.9)


def quadrant_row(sk, generator, seeds, n, duration, **options):
    """Share of cues in the intended quadrant per quadrant, overall, and seconds per cue."""
    per_q, seconds, cues = {}, 0.0, 0
    for q in SIGNS:
        hits = 0
        for seed in range(seeds):
            emotion = sk.Emotion(*target(q, seed))
            start = time.perf_counter()
            score = sk.compose(emotion, generator=generator, duration=duration, seed=seed * n, candidates=n,
                               **options)
            seconds += time.perf_counter() - start
            cues += 1
            hits += sk.music_emotion(score).quadrant == q
        per_q[q] = hits / seeds
    return per_q, sum(per_q.values()) / len(per_q), seconds / cues


def load_average():
    return os.getloadavg()[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20, help="seeds per quadrant (default 20)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--generators", nargs="*", default=["rules", "transformer", "vae", "gan"])
    parser.add_argument("--candidates", nargs="*", type=int, default=[1, 8])
    parser.add_argument("--no-beam", action="store_true", help="leave out the Transformer's beam search")
    parser.add_argument("--beam-candidates", action="store_true", help="also beam search with candidates=8")
    parser.add_argument("--quadrants-only", action="store_true", help="only (a)")
    args = parser.parse_args()

    import scoringkit as sk
    from scoringkit.fuse.metrics import compare_to_corpus, comparison_markdown, quality_metrics

    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}; load: {load.split('load average:')[-1].strip()}\n")
    sk.music_emotion(sk.compose(sk.Emotion(0.5, 0.5), duration=8))  # warm: model, imports

    # (a) quadrant accuracy with and without reranking
    print(f"(a) 20 s cues, {len(SIGNS)} quadrants x {args.seeds} seeds: share of cues whose music_emotion "
          "quadrant is the intended one\n")
    print("| generator | search | candidates | Q1 | Q2 | Q3 | Q4 | all | time per cue (s) | load |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    settings = [(g, "sample", n) for g in args.generators for n in args.candidates]
    if "transformer" in args.generators and not args.no_beam:
        settings.append(("transformer", "beam", 1))
        if args.beam_candidates:
            settings.append(("transformer", "beam", max(args.candidates)))
    for generator, search, n in settings:
        if generator != "rules":
            sk.compose(sk.Emotion(0.5, 0.5), generator=generator, duration=4)  # load the model first
        options = {"search": "beam"} if search == "beam" else {}
        per_q, overall, seconds = quadrant_row(sk, generator, args.seeds, n, 20.0, **options)
        cells = " | ".join(f"{per_q[q]:.0%}" for q in SIGNS)
        label = "beam (4 beams, λ 0.5)" if search == "beam" else "sample"
        print(f"| {generator} | {label} | {n} | {cells} | **{overall:.1%}** | {seconds:.3f} | "
              f"{load_average():.1f} |", flush=True)
    if args.quadrants_only:
        return

    # (b) score_story: is reranking cheap enough to be the default?
    story = sk.example_story()
    sk.score_story(story)
    print("\n(b) `score_story` on the example story (lexicon emotions, rules generator)\n")
    print("| candidates | time (s) | cues | in the scene's quadrant |")
    print("|---:|---:|---:|---:|")
    for n in (1, 4, 8):
        seconds = median_time(lambda: sk.score_story(story, candidates=n), max(1, args.repeat // 2))
        st = sk.score_story(story, candidates=n)
        hits = sum(sk.music_emotion(c.score).quadrant == c.emotion.quadrant for c in st.cues)
        print(f"| {n} | {seconds:.2f} | {len(st.cues)} | {hits}/{len(st.cues)} |")

    # (c) metrics speed
    scores = [sk.compose(sk.Emotion(*target(i % 4 + 1, i)), duration=20, seed=i) for i in range(100)]
    notes = sum(s.n_notes for s in scores)
    metrics_s = median_time(lambda: [quality_metrics(s) for s in scores], args.repeat)
    print(f"\n(c) metrics on 100 composed 20 s cues ({notes} notes in all)\n")
    print("| measure | time (s) |")
    print("|---|---:|")
    print(f"| `quality_metrics` on 100 scores (8 metrics each) | {metrics_s:.3f} |")
    generated = [quality_metrics(s) for s in scores]
    emopia = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "emopia" / "midis"
    if emopia.is_dir():
        files = sorted(emopia.glob("*.mid"))[::10][:100]
        start = time.perf_counter()
        corpus = [quality_metrics(f) for f in files]
        load_s = time.perf_counter() - start
        compare_s = median_time(lambda: compare_to_corpus(generated, corpus), args.repeat)
        print(f"| read + `quality_metrics` on {len(files)} EMOPIA MIDI files | {load_s:.3f} |")
        print(f"| `compare_to_corpus` (metric dicts given) | {compare_s:.3f} |")
        print(f"\nGenerated cues vs {len(files)} EMOPIA clips (every 10th file):\n")
        print(comparison_markdown(compare_to_corpus(generated, corpus)))
    else:
        print(f"\n(EMOPIA not found at {emopia}: corpus comparison skipped)")


if __name__ == "__main__":
    main()
