"""Benchmark generators: do their cues land in the intended quadrant, and how fast are they?

Run with ``.venv/bin/python benchmarks/bench_generators.py --generators rules transformer``
(``--seeds 8 --duration 20`` by default). Prints Markdown tables for the README / model card.

(a) Quadrant accuracy, for any name in ``scoringkit.generate.GENERATORS``: for each EMOPIA
    quadrant and each seed a target emotion is drawn inside the quadrant (|valence| and
    |arousal| uniform in [0.3, 0.9], fixed RNG, the same targets for every generator), turned
    into an intent with ``emotion_to_intent`` and composed for ``--duration`` seconds with
    ``compose(intent, generator=..., seed=seed)``; a cue counts as correct when
    ``music_emotion(cue).quadrant`` is the target's. Time per cue is the wall time of
    ``compose`` alone (the first call, which loads a model, is timed separately).
    ``--option name=value`` (repeatable) passes sampling settings (temperature, top_p, top_k,
    guidance, scale_penalty, steer, orchestration) to the Transformer directly instead of
    through ``compose``; ``--candidates N`` composes the best of N seeds by emotion match
    (``compose(..., candidates=N)``).
(b) ``--nll``: the Transformer's negative log-likelihood per music token (nats; the header
    is given, not predicted) on EMOPIA's validation and test windows (no augmentation).
(c) ``--speed``: Transformer sampling speed in tokens per second, with and without the KV
    cache (the same tokens come out of both; median of ``--repeat`` runs of 256 tokens), with the
    cached step's matrix products in PyTorch instead of NumPy's BLAS (the path a GPU takes; runs
    alternate with the default's), and for batches of 4 and 8 sequences (``sample_batch``; tokens of
    the whole batch), each as a wall-clock and a CPU-time rate (the latter is what the sampler gets
    from the core it runs on, the former less the share other jobs take); then seconds per 20 s cue
    for ``generate`` one seed at a time (8 drafts chosen by mode, the default, and one draft),
    ``generate_batch`` with 8 seeds (one draft and 8 drafts each), and ``beam_search``.
    ``uptime`` is printed before and after.

The judge in (a) is scoringkit's own music-emotion model (trained on EMOPIA, about two
clips in three right on its test split), not listeners. No timing is asserted anywhere.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import subprocess
import time

from timing import median_time  # benchmarks/timing.py (this folder is on sys.path)

SIGNS = {1: (1, 1), 2: (-1, 1), 3: (-1, -1), 4: (1, -1)}


def target(quadrant, seed):
    rng = random.Random(7919 * quadrant + seed)
    sv, sa = SIGNS[quadrant]
    return sv * rng.uniform(0.3, 0.9), sa * rng.uniform(0.3, 0.9)


def parse_options(pairs):
    options = {}
    for pair in pairs or []:
        name, _, value = pair.partition("=")
        if value.lower() in ("true", "false"):
            options[name] = value.lower() == "true"
            continue
        try:
            options[name] = int(value)
        except ValueError:
            try:
                options[name] = float(value)
            except ValueError:
                options[name] = value
    return options


def quadrant_row(sk, generator, seeds, duration, options, candidates=1):
    """Accuracy per quadrant, valence/arousal side accuracy, heard-as counts and time per cue."""
    if candidates > 1:
        def make(intent, seed):  # best of seeds seed*N .. seed*N+N-1: the pools do not overlap
            return sk.compose(intent, generator=generator, duration=duration, seed=seed * candidates,
                              candidates=candidates)
    elif options and generator == "transformer":
        from scoringkit.generate.models.transformer import generate

        def make(intent, seed):
            return generate(intent, duration, seed, **options)
    else:
        def make(intent, seed):
            return sk.compose(intent, generator=generator, duration=duration, seed=seed)

    first = time.perf_counter()
    make(sk.emotion_to_intent(sk.Emotion(0.5, 0.5)), 10_000)  # loads a model, if any
    first = time.perf_counter() - first
    per_q, heard, seconds, cues, valence_ok, arousal_ok = {}, {}, 0.0, 0, 0, 0
    for q in SIGNS:
        hits = 0
        heard[q] = {k: 0 for k in SIGNS}
        for seed in range(seeds):
            emotion = sk.Emotion(*target(q, seed))
            intent = sk.emotion_to_intent(emotion)
            start = time.perf_counter()
            score = make(intent, seed)
            seconds += time.perf_counter() - start
            cues += 1
            estimate = sk.music_emotion(score)
            heard[q][estimate.quadrant] += 1
            hits += estimate.quadrant == q
            valence_ok += (estimate.valence >= 0) == (emotion.valence >= 0)
            arousal_ok += (estimate.arousal >= 0) == (emotion.arousal >= 0)
        per_q[q] = hits / seeds
    return {"per_q": per_q, "all": sum(per_q.values()) / 4, "valence": valence_ok / cues,
            "arousal": arousal_ok / cues, "heard": heard, "seconds": seconds / cues, "first": first}


def nll_rows(checkpoint=None):
    from scoringkit.generate.models.data import TokenWindowDataset, load_emopia_tokens
    from scoringkit.generate.models.train import evaluate_loss, label_keys
    from scoringkit.generate.models.transformer import load_generator

    gen = load_generator(checkpoint)
    corpus = label_keys(load_emopia_tokens(tokenizer=gen.tokenizer), gen.tokenizer)
    rows = {}
    for split in ("val", "test"):
        ds = TokenWindowDataset(corpus.subset(split), gen.tokenizer, length=gen.model.config.context)
        rows[split] = evaluate_loss(gen.model, ds, batch_size=8)
    return rows


def speed_rows(repeat, checkpoint=None, n_tokens=256, batches=(4, 8)):
    """Tokens per second of the Transformer's sampler: (wall-clock rate, CPU-time rate) per setting.

    The CPU-time rate (``time.process_time``) is what the sampler gets from the core it runs on;
    on a machine shared with other jobs the wall-clock rate is lower by the share it is denied.
    A batch's rate counts the tokens of every sequence in it.
    """
    from scoringkit.generate.models import transformer
    from scoringkit.generate.models.transformer import (RemiGrammar, header_ids, load_generator, sample_batch,
                                                        sample_tokens)

    gen = load_generator(checkpoint)
    prompt = header_ids(gen.tokenizer, quadrant=1, key="C major")

    def rates(fn, tokens, times):
        fn()  # warm
        wall, cpu = [], []
        for _ in range(times):
            start, start_cpu = time.perf_counter(), time.process_time()
            fn()
            wall.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        wall.sort(), cpu.sort()
        return tokens / wall[len(wall) // 2], tokens / cpu[len(cpu) // 2]

    def one(use_cache=True):
        return sample_tokens(gen.model, prompt, max_new_tokens=n_tokens, seed=0, top_p=0.95, use_cache=use_cache,
                             grammar=RemiGrammar(gen.tokenizer))

    def in_torch():  # the same sampler with its products in PyTorch (what a GPU runs), for comparison
        transformer._NUMPY_PRODUCTS = False
        try:
            return one()
        finally:
            transformer._NUMPY_PRODUCTS = True

    rows = {}
    # the two one-sequence settings alternate, so a drift of the machine's speed hits both alike
    timed = {"one sequence, KV cache": [], "one sequence, KV cache, products in PyTorch (MKL) instead": []}
    for _ in range(repeat):
        for name, fn in zip(timed, (one, in_torch)):
            timed[name].append(rates(fn, n_tokens, 1))
    for name, values in timed.items():
        rows[name] = tuple(sorted(v[i] for v in values)[len(values) // 2] for i in (0, 1))
    rows["one sequence, without the cache (full recompute)"] = rates(lambda: one(False), n_tokens, max(1, repeat // 2))
    for size in batches:
        def run():
            return sample_batch(gen.model, prompt, seeds=list(range(size)), max_new_tokens=n_tokens, top_p=0.95,
                                grammars=[RemiGrammar(gen.tokenizer) for _ in range(size)])
        rows[f"batch of {size} sequences, KV cache (tokens of all {size})"] = rates(run, n_tokens * size, repeat)
    return rows


def cue_rows(sk, repeat, duration=20.0, n=8):
    """Seconds per 20 s Transformer cue: one at a time, in a batch of ``n`` seeds (one draft or 8 drafts each),
    and by beam search."""
    from scoringkit.generate.models.transformer import load_generator

    gen = load_generator()
    intents = [sk.emotion_to_intent(sk.Emotion(*target(q, 0))) for q in SIGNS]
    rows = {}
    for name, fn, count in (
            ("`generate`, one seed at a time (8 drafts, the default)",
             lambda i: [gen.generate(i, duration=duration, seed=s) for s in range(n)], n),
            ("`generate`, one seed at a time, one draft (`draws=1`)",
             lambda i: [gen.generate(i, duration=duration, seed=s, draws=1) for s in range(n)], n),
            (f"`generate_batch`, {n} seeds in one batch, one draft each (what `candidates={n}` uses)",
             lambda i: gen.generate_batch(i, seeds=range(n), duration=duration, draws=1), n),
            (f"`generate_batch`, {n} seeds, 8 drafts each (the default)",
             lambda i: gen.generate_batch(i, seeds=range(n), duration=duration), n),
            ("`beam_search` (4 beams x 2 branches, lm_weight 0.5)", lambda i: gen.beam_search(i, duration=duration),
             1)):
        start = time.perf_counter()
        for _ in range(repeat):
            for intent in intents:
                fn(intent)
        rows[name] = (time.perf_counter() - start) / (repeat * len(intents) * count)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generators", nargs="*", default=["rules", "transformer"],
                        help="generator names (none: only --nll / --speed)")
    parser.add_argument("--seeds", type=int, default=8, help="cues per quadrant (default 8)")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per cue (default 20)")
    parser.add_argument("--candidates", type=int, default=1, help="rerank the best of N by emotion match")
    parser.add_argument("--option", action="append", metavar="NAME=VALUE", help="Transformer sampling setting")
    parser.add_argument("--nll", action="store_true", help="Transformer NLL on EMOPIA val and test")
    parser.add_argument("--speed", action="store_true", help="Transformer sampling speed with/without KV cache")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    import torch

    import scoringkit as sk

    print(f"machine: {platform.machine()}, {os.cpu_count()} CPU cores visible, Python {platform.python_version()}, "
          f"torch {torch.__version__}, load average {os.getloadavg()[0]:.1f}\n")
    options = parse_options(args.option)
    if args.generators:
        print(f"Quadrant accuracy: {args.seeds} cues of {args.duration:g} s per quadrant, targets drawn inside each "
              f"quadrant, heard by sk.music_emotion" + (f"; transformer options {options}" if options else "") + "\n")
        print("| generator | Q1 | Q2 | Q3 | Q4 | all | valence side | arousal side | s per cue | first call (s) |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        heard_lines = []
        for name in args.generators:
            r = quadrant_row(sk, name, args.seeds, args.duration, options, args.candidates)
            q = r["per_q"]
            label = name + (f" + rerank ×{args.candidates}" if args.candidates > 1 else "")
            print(f"| {label} | {q[1]:.0%} | {q[2]:.0%} | {q[3]:.0%} | {q[4]:.0%} | **{r['all']:.1%}** | "
                  f"{r['valence']:.0%} | {r['arousal']:.0%} | {r['seconds']:.3f} | {r['first']:.2f} |", flush=True)
            heard_lines.append(f"{name}: " + "; ".join(
                f"Q{k} heard as " + ", ".join(f"Q{h}:{n}" for h, n in v.items() if n) for k, v in r["heard"].items()))
        print("\n" + "\n".join(heard_lines))
    if args.nll:
        rows = nll_rows()
        print("\n| EMOPIA split | windows | music tokens | NLL (nats/token) | bits/token | perplexity |")
        print("|---|---:|---:|---:|---:|---:|")
        for split, r in rows.items():
            print(f"| {split} | {r['windows']} | {r['tokens']} | {r['loss']:.4f} | {r['bits_per_token']:.3f} | "
                  f"{r['perplexity']:.2f} |")
    if args.speed:
        load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
        print(f"\nuptime before: {load}")
        rows = speed_rows(args.repeat)
        print("\n| sampling 256 tokens per sequence, 1 thread | tokens/s (wall clock) | tokens/s (CPU time) |")
        print("|---|---:|---:|")
        for name, (wall, cpu) in rows.items():
            print(f"| {name} | {wall:.0f} | {cpu:.0f} |")
        cues = cue_rows(sk, max(1, args.repeat // 3))
        print("\n| 20 s Transformer cue (4 quadrants) | s per cue (wall clock) |\n|---|---:|")
        for name, seconds in cues.items():
            print(f"| {name} | {seconds:.3f} |")
        load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
        print(f"\nuptime after: {load}")


if __name__ == "__main__":
    main()
