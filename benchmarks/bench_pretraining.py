"""Does pre-training on the music21 Bach chorales lower the Transformer's EMOPIA NLL? (issue 6)

Three arms, all with the same small model shape, seed, batch size, context and optimiser:

* **A** — from scratch on EMOPIA's official ``train`` split for ``--steps`` steps;
* **B** — pre-trained on the Bach chorales (unlabelled: condition ``Qnone``; random
  transposition as for EMOPIA) for ``--pretrain-steps`` steps, then fine-tuned on EMOPIA
  ``train`` for ``--steps`` steps from those weights (fresh optimizer and schedule, ``init=``);
* **C** — from scratch on EMOPIA for ``--pretrain-steps + --steps`` steps (B's compute).

Each arm reports the mean negative log-likelihood per music token (nats, header excluded)
on every window of EMOPIA's official ``val`` and ``test`` splits
(:func:`scoringkit.generate.models.train.evaluate_loss`) and its wall time (training and
evaluation). Prints a Markdown table; ``--json PATH`` also writes the numbers.

::

    .venv/bin/python benchmarks/bench_pretraining.py --pretrain-steps 300 --steps 300 --seed 0 1

Examples
--------
A smoke run (a minute on two CPU cores; the numbers mean nothing at this size):

>>> rows = run_experiment(pretrain_steps=4, steps=4, seeds=[0], arms="AB")   # doctest: +SKIP
>>> print(markdown_table(rows))                                              # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scoringkit.errors import InputError  # noqa: E402

#: The small model of the experiment: ``TINY_CONFIG`` of ``train.py`` (about 0.1 M parameters,
#: context 128), the shape notebook 06 trains in a minute.
DEFAULT_SETTINGS = {"batch_size": 16, "lr": 3e-3, "warmup": 30}


def _check(pretrain_steps, steps, seeds, arms):
    if int(pretrain_steps) < 1 or int(steps) < 1:
        raise InputError(f"--pretrain-steps and --steps must be >= 1, got {pretrain_steps} and {steps}")
    if not seeds:
        raise InputError("give at least one --seed")
    bad = sorted(set(arms) - set("ABC"))
    if bad or not arms:
        raise InputError(f"--arms is a subset of 'ABC' (e.g. 'AB'), got {arms!r}")


def run_experiment(*, pretrain_steps: int = 300, steps: int = 300, seeds=(0,), arms: str = "ABC",
                   batch_size: int = DEFAULT_SETTINGS["batch_size"], lr: float = DEFAULT_SETTINGS["lr"],
                   warmup: int = DEFAULT_SETTINGS["warmup"], data_dir=None, log=print) -> list:
    """Train the arms for every seed; returns one dict per (arm, seed).

    Parameters
    ----------
    pretrain_steps, steps : int
        P (Bach pre-training steps of arm B; C trains P + S) and S (EMOPIA steps).
    seeds : sequence of int
        One run of every arm per seed (initial weights, data order, transpositions, dropout).
    arms : str
        Which of ``"ABC"`` to run.
    batch_size, lr, warmup
        The same for every stage of every arm.
    data_dir : str or Path, optional
        Folder holding ``emopia/`` (default as for training).

    Returns
    -------
    list of dict
        ``arm``, ``seed``, ``pretrain_steps``, ``steps``, ``val_nll``, ``test_nll``,
        ``pretrain_val_nll`` (Bach validation NLL after pre-training, arm B), ``seconds``.

    Examples
    --------
    >>> run_experiment(pretrain_steps=0, steps=10)
    Traceback (most recent call last):
    ...
    scoringkit.errors.InputError: --pretrain-steps and --steps must be >= 1, got 0 and 10
    """
    arms = "".join(sorted(set(str(arms).upper()))) if arms else ""
    seeds = [int(s) for s in seeds]
    _check(pretrain_steps, steps, seeds, arms)
    from scoringkit.generate.models import train as tr
    from scoringkit.generate.models.data import TokenWindowDataset, load_emopia_tokens, load_music21_tokens
    from scoringkit.generate.models.tokenizer import RemiTokenizer

    tok = RemiTokenizer()
    emopia = tr.label_keys(load_emopia_tokens(data_dir, tokenizer=tok, progress=False), tok)
    bach = load_music21_tokens("bach", tokenizer=tok) if "B" in arms else None
    context = tr.TINY_CONFIG["context"]
    test_set = TokenWindowDataset(emopia.subset("test"), tok, length=context, augment=False)
    common = {"batch_size": batch_size, "lr": lr, "warmup": warmup, "progress": False, "eval_every": 0,
              "save_every": 0, "device": "cpu"}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seeds:
            for arm in arms:
                began = time.perf_counter()
                extra = {}
                if arm == "B":
                    pre = Path(tmp) / f"bach_seed{seed}.safetensors"
                    first = tr.train(corpus=bach, config=tr.TINY_CONFIG, steps=pretrain_steps, seed=seed, out=pre,
                                     **common)
                    extra["pretrain_val_nll"] = first["val_loss"]
                    result = tr.train(corpus=emopia, init=pre, steps=steps, seed=seed, **common)
                else:
                    total = steps if arm == "A" else pretrain_steps + steps
                    result = tr.train(corpus=emopia, config=tr.TINY_CONFIG, steps=total, seed=seed, **common)
                # train() ends with the loss on every EMOPIA val window; the test split is scored here
                nll = {"val": result["val_loss"],
                       "test": tr.evaluate_loss(result["model"], test_set, batch_size=64)["loss"]}
                row = {"arm": arm, "seed": seed, "pretrain_steps": pretrain_steps if arm == "B" else 0,
                       "steps": steps if arm != "C" else pretrain_steps + steps, "val_nll": nll["val"],
                       "test_nll": nll["test"], "seconds": time.perf_counter() - began,
                       "parameters": result["parameters"], **extra}
                rows.append(row)
                if log:
                    log(f"arm {arm} seed {seed}: val {row['val_nll']:.4f}, test {row['test_nll']:.4f} nats/token, "
                        f"{row['seconds']:.0f} s", file=sys.stderr, flush=True)
    return rows


ARM_NAMES = {"A": "A: scratch, EMOPIA S", "B": "B: Bach P → EMOPIA S", "C": "C: scratch, EMOPIA P+S"}


def markdown_table(rows) -> str:
    """One line per run, then the mean (± half the spread) of every arm run with several seeds.

    Examples
    --------
    >>> print(markdown_table([{"arm": "A", "seed": 0, "pretrain_steps": 0, "steps": 5, "val_nll": 2.5,
    ...                        "test_nll": 2.6, "seconds": 10.0}]).splitlines()[2])
    | A: scratch, EMOPIA S | 0 | 0 + 5 | 2.5000 | 2.6000 | 10 |
    """
    lines = ["| arm | seed | steps (Bach + EMOPIA) | EMOPIA val NLL | EMOPIA test NLL | wall time (s) |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {ARM_NAMES[r['arm']]} | {r['seed']} | {r['pretrain_steps']} + {r['steps']} | "
                     f"{r['val_nll']:.4f} | {r['test_nll']:.4f} | {r['seconds']:.0f} |")
    for arm in "ABC":
        mine = [r for r in rows if r["arm"] == arm]
        if len(mine) < 2:
            continue

        def summary(key, digits=4):
            values = [r[key] for r in mine]
            return f"{statistics.mean(values):.{digits}f} ± {(max(values) - min(values)) / 2:.{digits}f}"

        lines.append(f"| **{ARM_NAMES[arm]}**, mean ± half-range | {len(mine)} seeds | "
                     f"{mine[0]['pretrain_steps']} + {mine[0]['steps']} | {summary('val_nll')} | "
                     f"{summary('test_nll')} | {statistics.mean(r['seconds'] for r in mine):.0f} |")
    differences = paired_differences(rows)
    if differences:
        lines += ["", "| paired difference (same seed) | seeds | val NLL: mean (min … max) | test NLL: mean (min … max) |",
                  "|---|---|---|---|"]
        for d in differences:
            lines.append(f"| {d['pair']} | {d['seeds']} | {d['val'][0]:+.4f} ({d['val'][1]:+.4f} … {d['val'][2]:+.4f}) "
                         f"| {d['test'][0]:+.4f} ({d['test'][1]:+.4f} … {d['test'][2]:+.4f}) |")
    return "\n".join(lines)


def paired_differences(rows) -> list:
    """B − A and B − C per seed (negative: pre-training lowered the NLL), as (mean, min, max).

    Examples
    --------
    >>> rows = [{"arm": a, "seed": 0, "val_nll": v, "test_nll": v} for a, v in (("A", 3.0), ("B", 2.5))]
    >>> paired_differences(rows)[0]["test"]
    (-0.5, -0.5, -0.5)
    """
    by = {(r["arm"], r["seed"]): r for r in rows}
    out = []
    for other in "AC":
        seeds = sorted(seed for arm, seed in by if arm == "B" and (other, seed) in by)
        if not seeds:
            continue
        item = {"pair": f"B − {other}", "seeds": len(seeds)}
        for key in ("val", "test"):
            diffs = [by["B", seed][f"{key}_nll"] - by[other, seed][f"{key}_nll"] for seed in seeds]
            item[key] = (statistics.mean(diffs), min(diffs), max(diffs))
        out.append(item)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pretrain-steps", type=int, default=300, help="P: Bach pre-training steps (default 300)")
    parser.add_argument("--steps", type=int, default=300, help="S: EMOPIA steps (default 300)")
    parser.add_argument("--seed", type=int, nargs="+", default=[0], help="one or more seeds (default 0)")
    parser.add_argument("--arms", default="ABC", help="which arms to run (default ABC)")
    parser.add_argument("--batch-size", type=int, default=DEFAULT_SETTINGS["batch_size"])
    parser.add_argument("--lr", type=float, default=DEFAULT_SETTINGS["lr"])
    parser.add_argument("--warmup", type=int, default=DEFAULT_SETTINGS["warmup"])
    parser.add_argument("--data", metavar="DIR", help="folder holding emopia/")
    parser.add_argument("--json", metavar="PATH", help="also write the rows as JSON")
    args = parser.parse_args(argv)
    try:
        rows = run_experiment(pretrain_steps=args.pretrain_steps, steps=args.steps, seeds=args.seed, arms=args.arms,
                              batch_size=args.batch_size, lr=args.lr, warmup=args.warmup, data_dir=args.data)
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"Machine: {platform.machine()}, {os.cpu_count()} CPUs; model TINY_CONFIG "
          f"({rows[0]['parameters']:,} parameters), batch {args.batch_size}, lr {args.lr}, warm-up {args.warmup}\n")
    print(markdown_table(rows))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
