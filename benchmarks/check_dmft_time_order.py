"""The time order of the instantaneous self-coupling for even n.

Run by hand: ``python benchmarks/check_dmft_time_order.py``.

For even n the instantaneous part of the DMFT self-coupling is
g^2 n (n-1) sum_t' S_phi(t,t') E[u(t)^a u(t')^b]. Chapter 3 derives (a, b) = (n-2, n): the n-th
power belongs to the earlier time t' (the echo of the pattern's input m(t')^n) and the (n-2)-th to
t. Until 2026-11 the library used the reversed order (n, n-2). This script is the evidence that
settled it. Both orders are solved (M = 32000 samples) and compared with finite-N simulations in
the regime where they differ most: no cue (a_bar = 0), g = 1, where C_phi(t,t) first falls and then
grows as the activity leaves the unstable quiet state. It prints the rms gap of the trial mean of
C_phi(t,t) for growing N, and how far the two orders are apart at the book's loads.

Takes about 1.5 minutes on 2 idle cores (the n = 2 simulation at N = 4000 dominates).
Measured 2026-11-22 (rms gap, derived / reversed order): n = 2: 0.067 / 0.068 at N = 1000,
0.038 / 0.059 at N = 2000, 0.018 / 0.057 at N = 4000; n = 4: 0.027 / 0.043 at N = 150,
0.018 / 0.015 at N = 200, 0.004 / 0.019 at N = 300. The derived order's gap shrinks with N, the
reversed order's does not. At the book's loads (g = 1.5) the two orders differ by at most 0.024
in m_bar.
"""

from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))

from memlab import dense, dmft  # noqa: E402
from memlab import hopfield as hf  # noqa: E402

_original = dmft._moment_orders


def solve(n, g, alpha, a_bar, dt, reversed_order, n_samples=32000):
    """DMFT with the derived time order, or with the two powers of that one term swapped."""

    def orders(k):
        table = _original(k)
        if reversed_order:
            table[1] = table[1, ::-1]  # E[u(t)^n u(t')^(n-2)] instead of E[u(t)^(n-2) u(t')^n]
        return table

    dmft._moment_orders = orders
    try:
        return dmft.solve(n, g, alpha, dt, 50, a_bar, n_samples, rng=np.random.default_rng(3))
    finally:
        dmft._moment_orders = _original


def simulated_c_phi(n, g, n_neurons, alpha, dt, n_trials=8):
    """Trial mean of C_phi(t,t) from uncued starts x(0) ~ N(0, g^2)."""
    rng = np.random.default_rng(n_neurons)
    n_pat = int(round(alpha * n_neurons**n))
    xi = hf.random_patterns(n_pat, n_neurons, rng=rng)
    x0 = g * rng.standard_normal((n_trials, n_neurons))
    return dense.simulate(xi, x0, n, g, n_pat / n_neurons**n, dt, 50).c_phi.mean(axis=1)


def main():
    g = 1.0
    print("(a) uncued start, g = 1: rms gap of C_phi(t,t) over 50 steps, simulation minus DMFT")
    cases = [
        (2, 0.25, 0.01, [(1000, 0.01), (2000, 0.01), (4000, 0.01)]),
        (4, 0.05, 1e-4, [(150, 2e-4), (200, 1e-4), (300, 2e-5)]),
    ]
    for n, dt, alpha_theory, sizes in cases:
        derived = np.diag(solve(n, g, alpha_theory, 0.0, dt, False).c_phi)
        reversed_ = np.diag(solve(n, g, alpha_theory, 0.0, dt, True).c_phi)
        gap = np.abs(derived - reversed_).max()
        print(f"  n = {n}: the two DMFT orders differ by up to {gap:.3f}")
        for n_neurons, alpha in sizes:
            sim = simulated_c_phi(n, g, n_neurons, alpha, dt)
            gaps = [np.sqrt(np.mean((sim - d) ** 2)) for d in (derived, reversed_)]
            print(
                f"  n = {n}, N = {n_neurons}, P = {int(round(alpha * n_neurons**n))}: "
                f"derived {gaps[0]:.3f}, reversed {gaps[1]:.3f}"
            )
    print(
        "(b) the two orders at the book's loads, g = 1.5 (max |difference of m_bar| over 50 steps)"
    )
    for n, alpha, dt in [(2, 0.05, 0.25), (2, 0.1, 0.25), (4, 0.001, 0.05), (4, 0.005, 0.05)]:
        for a_bar in (0.2, 0.5, 0.8):
            diff = np.abs(
                solve(n, 1.5, alpha, a_bar, dt, False).m_bar
                - solve(n, 1.5, alpha, a_bar, dt, True).m_bar
            )
            print(f"  n = {n}, alpha = {alpha}, a_bar = {a_bar}: {diff.max():.3f}")


if __name__ == "__main__":
    main()
