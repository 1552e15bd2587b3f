"""Token- vs text-conditioned music Transformer on held-out text–music pairs (issue 6, "mixed text–music training").

Run with ``.venv/bin/python benchmarks/bench_text_conditioned.py --token T.safetensors --text X.safetensors``
(checkpoints from ``python -m scoringkit.generate.models.text_conditioned --variant token|text``; if a
path is missing, a small one is fine-tuned first with ``--steps``). Prints Markdown tables.

(i) NLL per music token (nats) on EMOPIA *test* windows of ``--length`` tokens (no augmentation), each
    window paired with a held-out (EmoBank/GoEmotions *test* split) sentence of the clip's quadrant:
    the shipped token model and the fine-tuned token model read the quadrant token, the text model
    the sentence's embedding. "mismatched" gives every window a sentence (or token) of the opposite
    quadrant (Q1↔Q3, Q2↔Q4): the gap to "matched" is how much a model uses its condition.
(ii) Quadrant hit rate: ``--per-quadrant`` held-out sentences per quadrant (seeded), each turned into an
    intent the way ``score_story`` does (``emotion_to_intent(analyze_text(sentence))``, which fixes key,
    tempo, loudness, register and instruments for both models); the token model is conditioned on the
    quadrant of that text emotion, the text model on the sentence; a ``--duration`` s cue per sentence
    (seed = its index) is judged by ``scoringkit.music_emotion``; a hit is the judge's quadrant equal to
    the sentence's label. The text-emotion model's own quadrant accuracy on the same sentences is shown,
    and the token model given the *label's* quadrant token (same intent otherwise): an upper bound for the
    token pipeline with a perfect text-emotion model. "judged" counts the judge's quadrants.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import os
import platform
import subprocess
import time
from pathlib import Path


def _load(path, variant, steps):
    from scoringkit.generate.models import text_conditioned as tc
    from scoringkit.generate.models.transformer import load_generator

    if not Path(path).is_file():
        print(f"(no {path}: fine-tuning a {variant} model for {steps} steps)")
        tc.train_pairs(variant=variant, steps=steps, out=path, progress=True)
    if variant == "text":
        return tc.load_text_generator(path)
    return load_generator(path)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--token", default="out/text_conditioned/token.safetensors")
    p.add_argument("--text", default="out/text_conditioned/text.safetensors")
    p.add_argument("--steps", type=int, default=400, help="fine-tune steps when a checkpoint is missing")
    p.add_argument("--length", type=int, default=256)
    p.add_argument("--max-windows", type=int, default=0, help="test windows for (i) (0 = all)")
    p.add_argument("--per-quadrant", type=int, default=8)
    p.add_argument("--duration", type=float, default=20.0)
    p.add_argument("--skip-nll", action="store_true")
    p.add_argument("--skip-hits", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    import numpy as np
    import torch

    import scoringkit as sk
    from scoringkit.generate.models import text_conditioned as tc
    from scoringkit.generate.models.transformer import load_generator

    torch.set_num_threads(1)
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"date {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}; "
          f"uptime: {uptime}")
    shipped = load_generator()
    token = _load(args.token, "token", args.steps)
    text = _load(args.text, "text", args.steps)
    tok = shipped.tokenizer
    qids = [tok.condition_id(q) for q in (1, 2, 3, 4)]
    corpus, sets, pairs = tc._load_data(None, tok, args.length, args.seed, tc._CAPS, False)
    test = pairs["test"]

    if not args.skip_nll:
        t0 = time.perf_counter()
        rows = []
        init_text = tc.from_token_model(shipped.model, none_id=tok.condition_id(None), quadrant_ids=qids)
        tc.fit_projection(init_text, pairs["train"]["embeddings"], pairs["train"]["quadrants"], qids)
        models = [("token, shipped (no fine-tune)", shipped.model), ("token, fine-tuned", token.model),
                  ("text, initialised (ridge, no fine-tune)", init_text), ("text, fine-tuned", text.model)]
        for name, model in models:
            kw = dict(seed=args.seed, max_windows=args.max_windows or None, quadrant_ids=qids)
            matched = tc.evaluate_pairs(model, sets["test"], test["embeddings"], test["quadrants"], **kw)
            mismatched = tc.evaluate_pairs(model, sets["test"], test["embeddings"], test["quadrants"], mismatch=True,
                                           **kw)
            rows.append((name, matched, mismatched))
        print(f"\n(i) NLL on EMOPIA test windows ({rows[0][1]['windows']} windows of {args.length} tokens, "
              f"{rows[0][1]['tokens']:,} music tokens; {time.perf_counter() - t0:.0f} s)\n")
        print("| model | condition | NLL matched | NLL mismatched | mismatched − matched |")
        print("|---|---|---:|---:|---:|")
        for name, m, mm in rows:
            cond = "quadrant token" if name.startswith("token") else "held-out sentence"
            print(f"| {name} | {cond} | {m['loss']:.4f} | {mm['loss']:.4f} | {mm['loss'] - m['loss']:+.4f} |")

    if not args.skip_hits:
        rng = np.random.default_rng(args.seed)
        chosen = []
        for q in (1, 2, 3, 4):
            pool = np.flatnonzero(test["quadrants"] == q)
            chosen += [int(i) for i in rng.choice(pool, args.per_quadrant, replace=False)]
        oracle = "token, fine-tuned, label's quadrant token"
        hits = {"token, fine-tuned": [], "text, fine-tuned": [], oracle: [], "text emotion (analyze_text)": []}
        seconds = {"token, fine-tuned": 0.0, "text, fine-tuned": 0.0, oracle: 0.0}
        centre = {1: (0.6, 0.6), 2: (-0.6, 0.6), 3: (-0.6, -0.6), 4: (0.6, -0.6)}
        for n, i in enumerate(chosen):
            sentence, q = test["texts"][i], int(test["quadrants"][i])
            emotion = sk.analyze_text(sentence)
            intent = sk.emotion_to_intent(emotion)
            hits["text emotion (analyze_text)"].append((q, emotion.quadrant))
            # the same intent with only its header quadrant set from the sentence's label (an upper bound)
            labelled = dataclasses.replace(intent, emotion=sk.Emotion(*centre[q]))
            for name, make in (("token, fine-tuned", lambda: token.generate(intent, duration=args.duration, seed=n)),
                               ("text, fine-tuned", lambda: text.generate(test["embeddings"][i], intent,
                                                                          duration=args.duration, seed=n)),
                               (oracle, lambda: token.generate(labelled, duration=args.duration, seed=n))):
                t0 = time.perf_counter()
                cue = make()
                seconds[name] += time.perf_counter() - t0
                hits[name].append((q, sk.music_emotion(cue).quadrant))
        print(f"\n(ii) Quadrant hits: {args.per_quadrant} held-out sentences per quadrant, {args.duration:g} s cues, "
              f"judged by scoringkit.music_emotion\n")
        print("| condition | Q1 | Q2 | Q3 | Q4 | all | judged Q1/Q2/Q3/Q4 | s per cue |")
        print("|---|---:|---:|---:|---:|---:|---|---:|")
        for name, pairs_ in hits.items():
            per = [sum(1 for q, g in pairs_ if q == k and g == k) for k in (1, 2, 3, 4)]
            total = sum(per)
            s = f"{seconds[name] / len(pairs_):.1f}" if name in seconds else "–"
            print(f"| {name} | " + " | ".join(f"{x}/{args.per_quadrant}" for x in per)
                  + f" | {total}/{len(pairs_)} ({100 * total / len(pairs_):.0f} %) | "
                  + "/".join(str(sum(1 for _, g in pairs_ if g == k)) for k in (1, 2, 3, 4)) + f" | {s} |")
    print(f"\nuptime after:{subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
