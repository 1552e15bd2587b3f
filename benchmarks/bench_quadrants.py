"""Can a listener (here: scoringkit's own music-emotion model) tell the quadrants apart?

For each EMOPIA quadrant and each of 20 seeds, compose a 20-second cue for an emotion
inside that quadrant (|valence| and |arousal| drawn from [0.3, 0.9] with the seed) and
ask :func:`scoringkit.music_emotion` where the cue lies. Reports the share of cues in
the intended quadrant, on the intended side of the valence axis and of the arousal axis,
per quadrant and overall; the mean scale consistency of the cues (share of notes in the
best-fitting major or minor scale, :func:`scoringkit.fuse.scale_consistency`: tonal music
≥ 0.9; quadrant 2 is deliberately chromatic); plus the time to compose and render a
60-second cue.

Run: ``.venv/bin/python benchmarks/bench_quadrants.py [--seeds 20] [--generator rules] [--style film]``
"""

import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import scoringkit as sk  # noqa: E402
from scoringkit.fuse import scale_consistency  # noqa: E402
from timing import median_time  # noqa: E402

SIGNS = {1: (1, 1), 2: (-1, 1), 3: (-1, -1), 4: (1, -1)}


def emotion_for(quadrant, seed):
    rng = random.Random(1000 * quadrant + seed)
    sv, sa = SIGNS[quadrant]
    return sk.Emotion(sv * rng.uniform(0.3, 0.9), sa * rng.uniform(0.3, 0.9))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--generator", default="rules")
    parser.add_argument("--style", default=None)
    parser.add_argument("--duration", type=float, default=20.0)
    args = parser.parse_args(argv)
    rows, totals = [], [0, 0, 0, 0]
    for quadrant in (1, 2, 3, 4):
        hits = [0, 0, 0]
        heard, consistency = [], []
        for seed in range(args.seeds):
            target = emotion_for(quadrant, seed)
            intent = sk.emotion_to_intent(target, style=args.style)
            cue = sk.compose(intent, generator=args.generator, duration=args.duration, seed=seed)
            estimate = sk.music_emotion(cue)
            consistency.append(scale_consistency(cue))
            heard.append(estimate.quadrant)
            hits[0] += estimate.quadrant == quadrant
            hits[1] += (estimate.valence >= 0) == (target.valence >= 0)
            hits[2] += (estimate.arousal >= 0) == (target.arousal >= 0)
        rows.append((quadrant, *[h / args.seeds for h in hits], heard, sum(consistency) / len(consistency)))
        totals = [t + h for t, h in zip(totals, hits + [args.seeds])]
    print(f"generator {args.generator}, style {args.style or 'film'}, {args.seeds} seeds per quadrant, "
          f"{args.duration:g} s cues\n")
    print("| intended | quadrant acc. | valence acc. | arousal acc. | heard as | scale consistency |")
    print("|---|---:|---:|---:|---|---:|")
    for quadrant, q, v, a, heard, consistent in rows:
        counts = ", ".join(f"Q{k}: {heard.count(k)}" for k in (1, 2, 3, 4) if heard.count(k))
        print(f"| Q{quadrant} | {q:.0%} | {v:.0%} | {a:.0%} | {counts} | {consistent:.2f} |")
    n = totals[3]
    print(f"| **all** | **{totals[0] / n:.1%}** | **{totals[1] / n:.1%}** | **{totals[2] / n:.1%}** | | |")

    intent = sk.emotion_to_intent(sk.Emotion(0.6, 0.6), style=args.style)
    sk.render(sk.compose(intent, duration=5))  # warm up the synth
    seconds = median_time(lambda: sk.render(sk.compose(intent, generator=args.generator, duration=60)), 5)
    print(f"\ncompose + render a 60 s cue (44.1 kHz, median of 5): {seconds:.3f} s")


if __name__ == "__main__":
    main()
