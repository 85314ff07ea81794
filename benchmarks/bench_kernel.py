"""Hand-run benchmark for memlab.kernel (``python benchmarks/bench_kernel.py``).

Times the two numba kernels of ``memlab.kernel`` against plain-numpy baselines in the same run
and prints the speed ratio:

(a) fields of a network with a neuron-dependent feature map (no self-input), the core of
    ``recall`` for ``self_input=False``: serial numba loop versus a numpy baseline that builds
    the (B, N, P) tensor of reduced dot products;
(a') fields with self-input (dot-product and RBF kernels): serial numba loop versus numpy/BLAS
    ``f(S X^T) @ A``;
(b) the Monte-Carlo SDM kernel (number of addresses within radius r of both points of each pair):
    numba with early exit versus numpy boolean activation matrices.

Numba compilation is excluded (each function is called once first).  Results are checked to agree.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

from memlab import kernel as km  # noqa: E402
from memlab.hopfield import flip_bits, random_patterns  # noqa: E402


def best_of(func, *args, repeat=3):
    """Result of ``func(*args)`` and its best wall time over ``repeat`` calls."""
    best = float("inf")
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = func(*args)
        best = min(best, time.perf_counter() - t0)
    return out, best


def numpy_neuron_dependent_fields(model, states):
    """h[b, i] = sum_mu A[mu, i] f(x^mu.s_b - x^mu_i s_bi) with a (B, N, P) tensor."""
    x = model.patterns
    dots = states @ x.T  # (B, P)
    u = dots[:, None, :] - states[:, :, None] * x.T[None, :, :]  # (B, N, P)
    return np.einsum("bip,pi->bi", model.kernel.dot_profile(u, x.shape[1]), model.coef)


def numpy_self_input_fields(model, states):
    """f(S X^T) @ A with numpy/BLAS."""
    return model.kernel(states, model.patterns) @ model.coef


def numpy_shared_locations(addresses, radius, x, y):
    a = addresses.astype(np.float64)
    thr = a.shape[1] - 2 * radius
    ax = x.astype(np.float64) @ a.T >= thr
    ay = y.astype(np.float64) @ a.T >= thr
    return np.sum(ax & ay, axis=1)


def compare(label, fast_func, slow_func, args, same):
    """Warm up, time both functions on ``args``, check ``same(fast, slow)`` and print the ratio."""
    fast_func(*args)  # warm up / compile
    fast, t_fast = best_of(fast_func, *args)
    slow, t_slow = best_of(slow_func, *args)
    assert same(fast, slow), label
    print(
        f"  {label}  numba {t_fast * 1e3:8.1f} ms   numpy {t_slow * 1e3:8.1f} ms   "
        f"speed-up x{t_slow / t_fast:5.1f}"
    )


def close(rtol):
    return lambda a, b: np.allclose(a, b, rtol=rtol, atol=rtol)


def main():
    rng = np.random.default_rng(0)
    print("(a) neuron-dependent fields (no self-input), B states x N neurons x P patterns")
    for n, p, b, kernel in [
        (32, 400, 400, km.polynomial_kernel(2)),
        (100, 60, 100, km.linear_kernel()),
        (200, 1000, 200, km.exponential_kernel(4.0)),
    ]:
        xi = random_patterns(p, n, rng=rng)
        model = km.fit(xi, kernel, method="hebbian", self_input=False)
        states = flip_bits(xi[:b], 0.1, rng=rng).astype(np.float64)
        compare(
            f"N={n:4d} P={p:5d} B={b:4d} {kernel.name:12s}",
            km.fields,
            numpy_neuron_dependent_fields,
            (model, states),
            close(1e-10),
        )

    print("(a') fields with self-input, B states x P patterns")
    for n, p, b, kernel in [
        (32, 256, 128, km.polynomial_kernel(2)),
        (20, 2000, 100, km.rbf_kernel(0.3)),
        (100, 1000, 200, km.exponential_kernel(4.0)),
    ]:
        x = (
            random_patterns(p, n, rng=rng).astype(float)
            if kernel.kind == "dot"
            else km.spherical_patterns(p, n, rng=rng)
        )
        model = km.fit(x, kernel)
        states = x[:b] + 0.05 * rng.standard_normal((b, n))
        compare(
            f"N={n:4d} P={p:5d} B={b:4d} {kernel.name:12s}",
            km.fields,
            numpy_self_input_fields,
            (model, states),
            close(1e-8),
        )

    print("(b) Monte-Carlo SDM kernel, M addresses, B pairs")
    for n, r, m, b in [(16, 5, 200_000, 12), (32, 11, 100_000, 64), (64, 26, 50_000, 128)]:
        addr = km.random_addresses(m, n, rng=rng)
        x = random_patterns(b, n, rng=rng)
        y = flip_bits(x, 0.2, rng=rng)
        compare(
            f"N={n:3d} r={r:3d} M={m:7d} B={b:4d}",
            km.sdm_shared_locations,
            numpy_shared_locations,
            (addr, r, x, y),
            np.array_equal,
        )


if __name__ == "__main__":
    main()
