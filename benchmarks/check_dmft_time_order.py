"""Hand-run check behind the "open point" in Chapter 3 (``python benchmarks/check_dmft_time_order.py``).

For even n the instantaneous part of the DMFT self-coupling contains
sum_t' S_phi(t,t') E[u(t)^a u(t')^b]. The library (``dmft._closure``) uses (a, b) = (n, n-2);
the chapter's derivation gives (n-2, n). This script solves the DMFT both ways (M = 16000) and
compares the two with finite-N simulations (mean over trials of m_bar = m / sqrt(C_phi)):
rms gap over 50 steps, the mean gap over the late steps 30-50, and the trials' standard error.
It also prints how far apart the two DMFT versions are for a few loads and cue qualities.

Takes several minutes on 2 idle cores (the n = 2 simulation at N = 800 dominates).
"""

from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))

from memlab import dense, dmft  # noqa: E402
from memlab import hopfield as hf  # noqa: E402

G = 1.5
_original = dmft._gauss_moment


def solve(n, alpha, a_bar, dt, swapped, n_samples=16000):
    """DMFT with the library's time order, or with the arguments of that one term swapped."""

    def moment(k, l, a, b, c):
        if swapped and (k, l) == (n, n - 2):
            return _original(n - 2, n, a, b, c)
        return _original(k, l, a, b, c)

    dmft._gauss_moment = moment
    try:
        return dmft.solve(n, G, alpha, dt, 50, a_bar, n_samples, rng=np.random.default_rng(3))
    finally:
        dmft._gauss_moment = _original


def simulate(n, n_neurons, alpha, a_bar, dt, n_trials, seed):
    rng = np.random.default_rng(seed)
    n_pat = max(1, int(round(alpha * n_neurons**n)))
    xi = hf.random_patterns(n_pat, n_neurons, rng)
    cued = np.arange(n_trials) % n_pat
    a = a_bar * G
    x0 = a * xi[cued] + np.sqrt(G * G - a * a) * rng.standard_normal((n_trials, n_neurons))
    run = dense.simulate(xi, x0, n, G, n_pat / n_neurons**n, dt, 50, cue_index=cued)
    return run.m / np.sqrt(run.c_phi)


def main():
    print("(a) the two orders against each other (max |difference of m_bar| over 50 steps)")
    for n, alpha, dt in [(2, 0.1, 0.25), (2, 0.15, 0.25), (4, 0.005, 0.05)]:
        for a_bar in (0.2, 0.5, 0.8):
            diff = np.abs(solve(n, alpha, a_bar, dt, False).m_bar
                          - solve(n, alpha, a_bar, dt, True).m_bar)
            print(f"  n = {n}, alpha = {alpha}, a_bar = {a_bar}: {diff.max():.3f}")
    print("(b) against simulations, a_bar = 0.5")
    for n, alpha, dt, n_neurons, n_trials in [(2, 0.15, 0.25, 800, 24), (4, 0.005, 0.05, 90, 48)]:
        sim = simulate(n, n_neurons, alpha, 0.5, dt, n_trials, seed=7)
        mean = sim.mean(axis=1)
        se = sim[30:].std(axis=1).mean() / np.sqrt(n_trials)
        for label, swapped in (("library (n, n-2)", False), ("swapped (n-2, n)", True)):
            m_bar = solve(n, alpha, 0.5, dt, swapped).m_bar
            rms = np.sqrt(np.mean((mean - m_bar) ** 2))
            late = np.mean(mean[30:] - m_bar[30:])
            print(f"  n = {n}, alpha = {alpha}, N = {n_neurons}, {label}: rms gap {rms:.3f}, "
                  f"late mean gap {late:+.3f} (trials' SE {se:.3f})")


if __name__ == "__main__":
    main()
