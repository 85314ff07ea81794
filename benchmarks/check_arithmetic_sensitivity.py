"""Which stored chapter outputs depend on the last bits of the arithmetic.

Run by hand: ``python benchmarks/check_arithmetic_sensitivity.py [NN ...]`` (all chapters by
default; about 10 minutes for all ten on 2 cores).

A stored output must be the same on every machine that runs the tests. Summation order is what
differs between machines: OpenBLAS picks its kernels by CPU (Haswell kernels on AVX2, others on
AVX-512 or older CPUs), and their sums run in other orders. ``make test`` pins the kernels on
x86-64 Linux with AVX2 (``SAME_ARITHMETIC`` in the Makefile), but a result that changes with
them is fragile anyway: it should be printed as a bound, rounded to what it means, or explained
in the text. This script executes each chapter twice, with the pinned Haswell kernels and with
OpenBLAS's Sandybridge kernels (another summation order on the same machine), one thread each,
and lists the cells whose printed text differs between the two runs.

Measured 2026-12-03 on an AMD EPYC (AVX2) machine: only Chapter 8 differs (cells 18, 20 and 22:
the MAP-EM fit, whose E-steps stop at a tolerance; the chapter says so).
"""

from __future__ import annotations

import difflib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
KERNELS = ("Haswell", "Sandybridge")


def printed(path: Path) -> dict[int, str]:
    """Text of the stream and ``text/plain`` outputs of each code cell, by cell index."""
    out = {}
    for i, cell in enumerate(nbformat.read(path, as_version=4).cells):
        if cell.cell_type != "code":
            continue
        parts = []
        for o in cell.get("outputs", []):
            if o.output_type == "stream":
                parts.append(o.text)
            elif "text/plain" in o.get("data", {}):
                parts.append(o.data["text/plain"])
        out[i] = "".join(parts)
    return out


def execute(chapter: Path, kernel: str, target: Path) -> None:
    env = dict(
        os.environ,
        OPENBLAS_CORETYPE=kernel,
        OMP_NUM_THREADS="1",
        OPENBLAS_NUM_THREADS="1",
        NUMBA_NUM_THREADS="1",
    )
    jupyter = Path(sys.executable).with_name("jupyter")
    subprocess.run(
        [str(jupyter), "nbconvert", "--to", "notebook", "--execute", "--output", str(target)]
        + ["--ExecutePreprocessor.timeout=600", str(chapter)],
        env=env,
        check=True,
        capture_output=True,
    )


def main(numbers: list[str]) -> int:
    chapters = sorted((ROOT / "chapters").glob("[0-9][0-9]_*.ipynb"))
    if numbers:
        chapters = [c for c in chapters if c.name[:2] in numbers]
    fragile = 0
    with tempfile.TemporaryDirectory() as tmp:
        for chapter in chapters:
            runs = []
            for kernel in KERNELS:
                target = Path(tmp) / f"{kernel}_{chapter.name}"
                execute(chapter, kernel, target)
                runs.append(printed(target))
            differ = [i for i in runs[0] if runs[0][i] != runs[1].get(i)]
            print(f"{chapter.name}: " + (f"cells {differ} differ" if differ else "no cell differs"))
            for i in differ:
                fragile += 1
                diff = difflib.unified_diff(
                    runs[0][i].splitlines(), runs[1][i].splitlines(), *KERNELS, lineterm="", n=0
                )
                print("    " + "\n    ".join(list(diff)[2:]))
    return 1 if fragile else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
