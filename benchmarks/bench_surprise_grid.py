"""The paper's whole comparison on the published grid: ``python benchmarks/bench_surprise_grid.py``.

Runs :func:`memlab.surprise.compare_learners` (tuning on separate seeds, evaluation on
others) on every (sigma or s) x p_c cell of Liakoni et al. (2021) for both tasks, writes
the Delta MSE per algorithm and cell with its standard error to a CSV file, and prints the
agreement with the published heat-map data:

* per algorithm, the median relative difference |ours - published| / published over the
  cells where the published Delta MSE exceeds 1e-4 (smaller values are within sampling
  noise of zero), and the fraction of cells within 3 standard errors or 10 %;
* the mean rank of every algorithm over the cells, next to the published ranking.

Settings (command-line flags):

* ``--scale paper``: the paper's setting, 10 evaluation seeds of 10^5 steps
  (10^6 for p_c <= 10^-3) and 2 tuning seeds.  Exact Bayes at p_c = 10^-4 and
  10^6 steps keeps ~10^4 messages: this takes many CPU hours (estimate printed).
* ``--scale medium`` (default): 4 evaluation seeds of 10^5 steps (all cells), 1 tuning
  seed of 2*10^4 steps.
* ``--scale coarse``: the chapter's setting (3 evaluation seeds of 5000 steps).
* ``--task gaussian|categorical|both`` and ``--pc`` (a comma-separated subset of p_c).

CPU time per task is printed (``time.process_time``); run it on a quiet machine.

Measured on the shared 2-core machine under load 10-14 (CPU time, 2 December 2026):

* ``--scale coarse``: 44.7 s in all (Gaussian 14.6 s, categorical 29.3 s); peak RSS 230 MB.
  Agreement (median |ours - published| / published over cells with published Delta MSE
  > 1e-4, all 6 columns): 11-31 % for most algorithms (noise of 3 x 5000 steps), mean ranks
  within 0.6 of the published ones.
* ``--scale medium``, Gaussian columns p_c = 0.1 and 0.001 (10 cells): 141 s (20.4 s and
  120.7 s); median relative difference from the published Delta MSE 2-8 % for pf1, MP1,
  SOR1, VarSMiLe, SMiLe, Nas10*, Nas12*, Leaky, 13-28 % for pf20, MP20, SOR20 (small
  values); mean ranks within 0.3 of the published ones.
* ``--scale medium``, the whole grid (both tasks, all 72 cells; 3 December 2026, niced beside
  other jobs on the 2-core machine): 1473 s CPU (Gaussian 627 s, of which 413 s for the
  p_c = 10^-4 column; categorical 845 s, 549 s for p_c = 10^-4), peak RSS 284 MB.  Median
  |ours - published| / published: Gaussian 1.9-9.8 % for every algorithm except MP20 (15 %);
  categorical 0.9-6.4 % except MP20 (27 %); cells within 3 SE or 10 %: 80-97 % (Gaussian),
  79-100 % (categorical).  Mean ranks within 0.26 of the published ones for every algorithm
  in both tasks.
* ``--scale paper`` (not run here): about 10 s per cell for p_c >= 0.005 and, extrapolating
  the exact-Bayes cost O(T x messages), roughly 1 CPU minute per seed and cell at
  p_c <= 10^-3 with 10^6 steps: several CPU hours in all.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

from memlab import surprise as su  # noqa: E402

SCALES = {
    # name: (eval steps for p_c > 1e-3, for p_c <= 1e-3, eval seeds, tune seeds, tune steps)
    "paper": (100_000, 1_000_000, tuple(range(100, 110)), (0, 1), 100_000),
    "medium": (100_000, 100_000, tuple(range(100, 104)), (0,), 20_000),
    "coarse": (5_000, 5_000, (100, 101, 102), (0,), 5_000),
}


def run(task, pcs, scale, progress):
    big, small, eval_seeds, tune_seeds, tune_steps = SCALES[scale]
    params = su.PUBLISHED_GRID[task][0]
    algorithms = su.PAPER_ALGORITHMS[task] + (
        ("Nas10", "Nas12") if task == "gaussian" else ("Leaky+prior",)
    )
    rows = []
    for p_c in pcs:
        n_steps = big if p_c > 1e-3 else small
        t0 = time.process_time()
        res = su.compare_learners(
            task,
            [(p, p_c) for p in params],
            algorithms,
            n_steps=n_steps,
            tune_seeds=tune_seeds,
            eval_seeds=eval_seeds,
            tune_steps=min(tune_steps, n_steps),
            n_grid=13 if scale != "coarse" else 7,
            n_refine=10 if scale != "coarse" else 4,
            progress=progress,
        )
        cpu = time.process_time() - t0
        print(f"{task} p_c = {p_c:g}: {len(params)} cells, {cpu:.1f} s CPU", flush=True)
        pub = res.published()
        for i, name in enumerate(res.algorithms):
            for j, (param, pc) in enumerate(res.cells):
                rows.append(
                    dict(
                        task=task,
                        param=param,
                        p_c=pc,
                        algorithm=name,
                        delta_mse=res.delta_mse[i, j],
                        sem=res.delta_sem[i, j],
                        published=pub[i, j],
                        tuned_parameter=res.parameters[i, j],
                        exact_mse=res.exact_mse[j],
                    )
                )
    return rows


def summarise(rows, task):
    rows = [r for r in rows if r["task"] == task]
    names = list(dict.fromkeys(r["algorithm"] for r in rows))
    print(f"\n{task}: agreement with the published Delta MSE")
    print(f"{'algorithm':<12} {'median rel. diff':>17} {'within 3 SE or 10 %':>20}")
    for name in names:
        sel = [r for r in rows if r["algorithm"] == name and np.isfinite(r["published"])]
        big = [r for r in sel if r["published"] > 1e-4]
        if not sel:
            continue
        rel = [abs(r["delta_mse"] - r["published"]) / r["published"] for r in big]
        ok = [
            abs(r["delta_mse"] - r["published"])
            <= max(3 * r["sem"], 0.1 * abs(r["published"]), 1e-5)
            for r in sel
        ]
        med = f"{np.median(rel):.1%}" if rel else "n/a"
        print(f"{name:<12} {med:>17} {np.mean(ok):>19.0%}")
    paper = [n for n in names if n in su.PAPER_ALGORITHMS[task]]
    cells = sorted({(r["param"], r["p_c"]) for r in rows})
    ours = np.array(
        [
            [
                next(
                    r["delta_mse"]
                    for r in rows
                    if r["algorithm"] == n and (r["param"], r["p_c"]) == c
                )
                for n in paper
            ]
            for c in cells
        ]
    )
    theirs = np.array(
        [
            [
                next(
                    r["published"]
                    for r in rows
                    if r["algorithm"] == n and (r["param"], r["p_c"]) == c
                )
                for n in paper
            ]
            for c in cells
        ]
    )
    rank = lambda a: a.argsort(axis=1).argsort(axis=1).mean(axis=0) + 1  # noqa: E731
    print(
        "mean rank (ours / published): "
        + ", ".join(f"{n} {a:.2f}/{b:.2f}" for n, a, b in zip(paper, rank(ours), rank(theirs)))
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", choices=SCALES, default="medium")
    ap.add_argument("--task", choices=("gaussian", "categorical", "both"), default="both")
    ap.add_argument("--pc", default=None, help="comma-separated p_c subset")
    ap.add_argument("--out", default="surprise_grid.csv")
    ap.add_argument("--progress", action="store_true")
    args = ap.parse_args()
    tasks = ("gaussian", "categorical") if args.task == "both" else (args.task,)
    all_rows = []
    for task in tasks:
        pcs = su.PUBLISHED_GRID[task][1]
        if args.pc:
            pcs = tuple(float(x) for x in args.pc.split(","))
        t0 = time.process_time()
        all_rows += run(task, pcs, args.scale, args.progress)
        print(f"{task}: {time.process_time() - t0:.1f} s CPU in total")
        summarise(all_rows, task)
    with open(args.out, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(all_rows[0]))
        writer.writeheader()
        writer.writerows(all_rows)
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
