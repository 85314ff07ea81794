"""Hand-run benchmark for memlab.dense (``python benchmarks/bench_dense.py``).

(a) graded ``simulate`` for a batch of 16 trials started near a stored pattern:
    n = 1 (N = 4000, P = 0.2 N, 100 steps), n = 2 (N = 800, alpha = 0.1, 100 steps),
    n = 4 (N = 80, alpha = 0.002, 200 steps dt = 0.05), and n = 2 at N = 1000, alpha = 0.1
    (P = 10^5, above the full-copy limit: patterns converted block-wise every step);
(b) the binary capacity sweep: ``max_stable_load`` at 4 sizes for n = 1, 2, 3;
(c) the static theory: ``critical_capacity`` and a 100-point ``retrieval_curve`` for n = 1, 2, 4.

Numba compilation is excluded (kernels are warmed up first and cached on disk).  Peak memory is
the process's maximum resident set size.  Takes ~25 s on 2 cores.
"""

from __future__ import annotations

import math
import os
import resource
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

from memlab import dense  # noqa: E402
from memlab.hopfield import random_patterns  # noqa: E402


def timed(func, *args, **kwargs):
    t0 = time.perf_counter()
    out = func(*args, **kwargs)
    return out, time.perf_counter() - t0


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_simulate(rng):
    g, batch = 1.5, 16
    cases = [
        (1, 4000, 0.2, 100, 0.25),
        (2, 800, 0.1, 100, 0.25),
        (4, 80, 0.002, 200, 0.05),
        (2, 1000, 0.1, 20, 0.25),
    ]
    for n, nn, alpha, steps, dt in cases:
        p = int(round(alpha * nn**n))
        xi = random_patterns(p, nn, rng=rng)
        a = 0.8 * g
        x0 = a * xi[:batch] + math.sqrt(g * g - a * a) * rng.standard_normal((batch, nn))
        traj, sec = timed(
            dense.simulate, xi, x0, n, g, p / nn**n, dt, steps, cue_index=np.arange(batch)
        )
        prod = dense._PatternProducts(xi)
        kind = f"{np.dtype(prod.dtype).name}, {'full copy' if prod.full is not None else 'blocks'}"
        mbar = np.median(traj.overlaps[-1] / np.sqrt(traj.c_phi[-1]))
        print(
            f"  n={n} N={nn} P={p} B={batch} {steps} steps: {sec:6.2f} s "
            f"({1e3 * sec / steps:.1f} ms/step; {kind}); median final m_bar {mbar:.3f}; "
            f"peak RSS so far {peak_mb():.0f} MB"
        )


def bench_capacity(rng):
    total = 0.0
    for n, sizes in [(1, [100, 200, 400, 800]), (2, [30, 60, 90, 120]), (3, [15, 25, 35, 50])]:
        t0 = time.perf_counter()
        pmax = np.array([dense.max_stable_load(v, n, rng=rng) for v in sizes])
        sec = time.perf_counter() - t0
        total += sec
        nn = np.array(sizes, dtype=float)
        raw = np.polyfit(np.log(nn), np.log(pmax), 1)[0]
        corrected = np.polyfit(np.log(nn), np.log(pmax * np.log(nn)), 1)[0]
        print(
            f"  n={n}: P_max = {np.round(pmax, 1)} at N = {sizes}; slope {raw:.2f}, "
            f"slope of log(P_max ln N) {corrected:.2f}; {sec:.2f} s"
        )
    print(f"  total {total:.2f} s")


def bench_theory():
    for n in (1, 2, 4):
        dense._branch.cache_clear()
        cc, sec = timed(dense.critical_capacity, n, 1.5)
        alphas = np.linspace(0.0, 1.1 * cc.alpha_c, 100)
        _, sec2 = timed(dense.retrieval_curve, n, 1.5, alphas)
        print(
            f"  n={n}: alpha_c={cc.alpha_c:.6g} ({cc.limit}), alpha_stable={cc.alpha_stable:.6g}; "
            f"critical_capacity {sec:.2f} s, 100-point retrieval_curve {sec2:.2f} s"
        )


def main():
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    xi = random_patterns(20, 40, rng=rng)
    dense.simulate(xi, xi[:2] * 1.0, 1, 1.5, 0.5, 0.5, 2)
    dense.max_stable_load(30, 2, rng=rng)
    print(f"warm-up (numba compile or cache load): {time.perf_counter() - t0:.2f} s")
    print("(a) graded simulate")
    bench_simulate(rng)
    print("(b) binary capacity sweep")
    bench_capacity(rng)
    print("(c) static theory")
    bench_theory()


if __name__ == "__main__":
    main()
