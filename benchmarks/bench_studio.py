"""Benchmark the scoring studio: from clicking *Score* to the first audio, for a 1,000-word story.

Run with ``.venv/bin/python benchmarks/bench_studio.py`` (``--repeat N``). The issue's target:
first audio within 5 s on 2 CPU cores.

The click is simulated with ``studio.score_button.click()`` on a ``Studio(background=False)``,
so the whole job runs in this thread, as it does on the kernel's worker thread after a real
click; :attr:`Studio.timings` holds seconds since the click:

* ``scored``: the story segmented, every scene's emotion read and every cue composed;
* ``first_audio``: the first cue rendered and its player filled (the WAV bytes are set);
* ``done``: every cue rendered, the arc, the cue table and the whole mix shown.

*cold* runs in a fresh process (``import scoringkit.nb`` and the widget built first, not timed)
and clicks at once, so the first click also pays for loading the lexicons (or the text encoder),
the synthesiser and plotly; *after the warm-up* clicks once the studio's background loading of
the text encoder is over, in another fresh process (as when someone pastes a story first; the same as cold for
the lexicon); *second click* is a second click in the same process. The story is the bundled example's paragraphs repeated to
1,000 words (the players render at the studio's default 22,050 Hz).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys

WORDS = 1000


def thousand_word_story(words: int = WORDS) -> str:
    """The example story's title and paragraphs, repeated and cut at ``words`` words."""
    from scoringkit.assets import example_story

    title, _, body = example_story().partition("\n\n")
    paragraphs = [p for p in body.split("\n\n") if p.strip()]
    out, count, i = [], 0, 0
    while count < words:
        paragraph = paragraphs[i % len(paragraphs)].split()
        take = paragraph[: words - count]
        out.append(" ".join(take))
        count += len(take)
        i += 1
    return title + "\n\n" + "\n\n".join(out) + "\n"


def one_run(clicks: int, backend: str | None, *, ready: bool = False) -> list[dict]:
    """Build a studio, click Score ``clicks`` times; the timings of each click.

    ``ready``: click only once the studio's warm-up (loading the text encoder) is over, as
    when someone pastes a story first; otherwise click at once.
    """
    import scoringkit.nb as nb

    studio = nb.Studio(thousand_word_story(), backend=backend, background=False)
    if ready:
        studio.wait()
    runs = []
    for _ in range(clicks):
        studio.score_button.click()
        assert studio.error is None, studio.error
        runs.append(dict(studio.timings, cues=len(studio.soundtrack.cues), music=studio.soundtrack.duration,
                         backend=studio.backend.value))
    studio.close()
    return runs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--backend", default=None,
                        help="emotion backend (default: the studio's, i.e. score_story's default)")
    parser.add_argument("--child", choices=["now", "ready"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        backend = None if args.backend in (None, "default") else args.backend
        print(json.dumps(one_run(2, backend) if args.child == "now" else one_run(1, backend, ready=True)))
        return

    def child(mode):
        out = subprocess.run([sys.executable, __file__, "--child", mode, "--backend", args.backend or "default"],
                             check=True, capture_output=True, text=True).stdout
        return json.loads(out.strip().splitlines()[-1])

    results = [child("now") for _ in range(args.repeat)]
    ready = [child("ready")[0] for _ in range(args.repeat)]
    cold = [r[0] for r in results]
    warm = [r[1] for r in results]
    first = cold[0]
    print(f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}; story: {WORDS} words, {first['cues']} cues, "
          f"{first['music']:.1f} s of music; backend {first['backend']}; median of {args.repeat} runs\n")
    print("| from clicking Score to ... | cold: first click at once, s | first click after the warm-up, s "
          "| second click, s |")
    print("|---|---:|---:|---:|")
    labels = {"scored": "all cues composed", "first_audio": "**first audio** (cue 1's player filled)",
              "done": "everything shown (every cue, arc, table, whole mix)"}
    for key, label in labels.items():
        print(f"| {label} | {statistics.median(r[key] for r in cold):.2f} | "
              f"{statistics.median(r[key] for r in ready):.2f} | {statistics.median(r[key] for r in warm):.2f} |")


if __name__ == "__main__":
    main()
