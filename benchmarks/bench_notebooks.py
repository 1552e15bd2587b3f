"""How long does each notebook of the series take to run top to bottom, and the whole series?

Executes every ``notebooks/NN_*.ipynb`` (or the ones named) in a fresh kernel with nbclient, the
library nbmake uses, from the notebooks folder and with the same per-cell timeout as ``make test``
(300 s). Nothing is saved back into the notebooks; the files they write go where nbmake puts them.
Prints a markdown table: wall time per notebook, the kernel's CPU time (user + system: unlike the
wall time it barely changes when other jobs share the CPU), the 1-minute load average when each
notebook started, and the total, checked against the targets of the Jupyter issue (each notebook
at most 120 s, the series at most 600 s). The exit status is 1 if a notebook fails.

Run: ``.venv/bin/python benchmarks/bench_notebooks.py [00_quickstart 02_text_emotion ...]``
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import resource
import sys
import time
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOK_LIMIT_S = 120.0
SERIES_LIMIT_S = 600.0
CELL_TIMEOUT_S = 300


def kernel_cpu_seconds() -> float:
    """CPU seconds (user + system) of the finished child processes of this one: the kernels."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_notebook(path: Path) -> dict:
    """Execute one notebook in a fresh kernel; return its wall time, kernel CPU time and any error."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    load = os.getloadavg()[0]
    cpu, start = kernel_cpu_seconds(), time.perf_counter()
    error = None
    try:
        client.execute()  # starts the kernel, runs every cell, shuts the kernel down
    except Exception as err:  # a failing cell: report it and go on with the next notebook
        error = f"{type(err).__name__}: {str(err).strip().splitlines()[-1][:120] if str(err).strip() else ''}"
    return {"name": path.stem, "wall": time.perf_counter() - start, "cpu": kernel_cpu_seconds() - cpu,
            "load": load, "error": error}


def table(rows: list[dict]) -> str:
    lines = ["| notebook | wall (s) | kernel CPU (s) | load at start | ≤ 120 s |", "|---|---:|---:|---:|:---:|"]
    for row in rows:
        verdict = "failed" if row["error"] else ("yes" if row["wall"] <= NOTEBOOK_LIMIT_S else "**no**")
        lines.append(f"| `{row['name']}` | {row['wall']:.1f} | {row['cpu']:.1f} | {row['load']:.2f} | {verdict} |")
    wall, cpu = sum(r["wall"] for r in rows), sum(r["cpu"] for r in rows)
    verdict = "yes" if wall <= SERIES_LIMIT_S else "**no**"
    lines.append(f"| **all {len(rows)}** | **{wall:.1f}** | **{cpu:.1f}** | | ≤ 600 s: {verdict} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help="notebooks to run, e.g. 00_quickstart (default: all NN_*.ipynb)")
    args = parser.parse_args(argv)
    paths = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if args.names:
        wanted = {name.removesuffix(".ipynb") for name in args.names}
        unknown = wanted - {p.stem for p in paths}
        if unknown:
            parser.error(f"no such notebook: {', '.join(sorted(unknown))}; choose from {', '.join(p.stem for p in paths)}")
        paths = [p for p in paths if p.stem in wanted]

    before = os.getloadavg()
    print(f"{datetime.date.today()} {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
          f"load average before: {before[0]:.2f} {before[1]:.2f} {before[2]:.2f}", flush=True)
    rows = []
    for path in paths:
        rows.append(run_notebook(path))
        row = rows[-1]
        print(f"  {row['name']:<28} {row['wall']:6.1f} s wall  {row['cpu']:6.1f} s CPU  load {row['load']:.2f}"
              + (f"  FAILED {row['error']}" if row["error"] else ""), flush=True)
    after = os.getloadavg()
    print(f"load average after: {after[0]:.2f} {after[1]:.2f} {after[2]:.2f}\n")
    print(table(rows))
    return 1 if any(row["error"] for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
