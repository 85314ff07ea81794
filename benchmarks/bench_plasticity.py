"""Hand-run benchmark for memlab.plasticity (``python benchmarks/bench_plasticity.py``).

Times the numba kernels against plain numpy/Python baselines in the same run:

(a) the correlation-invariant (cubic) rule over 10^6 two-dimensional samples, versus the same
    online loop written in Python with numpy arrays (timed on 2*10^4 samples and extrapolated);
(b) Oja's rule, same comparison;
(c) the voltage rule over a 60-pairing protocol (1 Hz, 0.1 ms grid, ~600,000 steps), versus a
    Python loop over the grid (timed on 5*10^4 steps and extrapolated);
(d) the synthetic trace of that protocol (dendritic_voltage adds each event only where its term
    is not exactly 0.0) versus summing every event over the whole grid (the same trace, bit for
    bit).

Numba compilation is excluded: every kernel is warmed up first. Online learning is sequential
(each update depends on the previous one), so the baseline cannot be vectorised over samples.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

from memlab import plasticity as pl  # noqa: E402

A = np.array([[3.0, 2.7], [0.3, 1.0]])


def timed(func, *args, **kwargs):
    t0 = time.perf_counter()
    out = func(*args, **kwargs)
    return out, time.perf_counter() - t0


def numpy_invariant(x, w0, eta, kappa=6.0, rate=0.01):
    w = w0.copy()
    m = float(np.mean((x @ w0) ** 2))
    for xt in x:
        y = w @ xt
        w += eta * xt * (y**3 - kappa * m * m * y)
        m += rate * (y * y - m)
    return w


def numpy_oja(x, w0, eta):
    w = w0.copy()
    for xt in x:
        y = w @ xt
        w += eta * y * (xt - y * w)
    return w


def numpy_voltage(u, pre, dt, p):
    g, up, um, total = 0.0, u[0], u[0], 0.0
    for k in range(len(u)):
        g += pre[k]
        total += (
            dt
            * g
            * (p.a_ltp * max(up - p.theta_plus, 0.0) - p.a_ltd * max(um - p.theta_minus, 0.0))
        )
        g -= dt * g / p.tau_g
        up += dt * (u[k] - up) / p.tau_plus
        um += dt * (u[k] - um) / p.tau_minus
    return total


def full_grid_voltage(duration, distance, post, pre, dt=0.1):
    """dendritic_voltage with the default constants, every event summed over the whole grid."""
    t = np.arange(int(round(duration / dt)) + 1) * dt
    u = np.full_like(t, -70.0)
    amp, sigma = 100.0 * np.exp(-distance / 150.0), 1.0 + distance / 100.0
    for tp in post:
        u += amp * np.exp(-0.5 * ((t - tp) / sigma) ** 2)
    for tq in pre:
        s = np.clip(t - tq, 0.0, None) / 5.0
        u += 2.0 * s * np.exp(1.0 - s)
    return u


def main():
    rng = np.random.default_rng(0)
    n = 1_000_000
    x = pl.mix(pl.sources("laplace", n, 2, rng=rng), A)
    w0 = rng.standard_normal(2)
    w0 /= np.sqrt(np.mean((x @ w0) ** 2))
    # warm-up (compilation)
    pl.correlation_invariant(x[:100], w0, 1e-5)
    pl.oja(x[:100], w0, 1e-5)
    pl.voltage_rule(np.full(100, -70.0), [1.0])

    n_base = 20_000
    run, t_numba = timed(pl.correlation_invariant, x, w0, 1e-5, record_every=1000)
    w_ref, t_base = timed(numpy_invariant, x[:n_base], w0, 1e-5)
    check = pl.correlation_invariant(x[:n_base], w0, 1e-5).weights
    assert np.allclose(check, w_ref, rtol=1e-9)
    t_base_full = t_base * n / n_base
    print(
        f"(a) invariant rule, {n:,} samples: numba {t_numba:.3f} s, numpy loop "
        f"{t_base_full:.1f} s (extrapolated) -> speed-up {t_base_full / t_numba:.0f}x"
    )

    run, t_numba = timed(pl.oja, x, w0 * 0.1, 1e-5, record_every=1000)
    w_ref, t_base = timed(numpy_oja, x[:n_base], w0 * 0.1, 1e-5)
    assert np.allclose(pl.oja(x[:n_base], w0 * 0.1, 1e-5).weights, w_ref, rtol=1e-9)
    t_base_full = t_base * n / n_base
    print(
        f"(b) Oja's rule, {n:,} samples: numba {t_numba:.3f} s, numpy loop "
        f"{t_base_full:.1f} s (extrapolated) -> speed-up {t_base_full / t_numba:.0f}x"
    )

    p = pl.VoltageRuleParams()
    pre_t = 50.0 + 1000.0 * np.arange(60)
    u = pl.dendritic_voltage(pre_t[-1] + 200.0, 200.0, pre_t + 10.0, pre_t)
    res, t_numba = timed(pl.voltage_rule, u, pre_t, 0.1, p)
    counts = np.zeros(len(u))
    counts[np.rint(pre_t / 0.1).astype(int)] = 1.0
    k_base = 50_000
    ref, t_base = timed(numpy_voltage, u[:k_base], counts[:k_base], 0.1, p)
    assert np.isclose(pl.voltage_rule(u[:k_base], pre_t[pre_t < k_base * 0.1 - 1], 0.1, p).dw, ref)
    t_base_full = t_base * len(u) / k_base
    print(
        f"(c) voltage rule, {len(u):,} steps: numba {t_numba:.4f} s (incl. validation), "
        f"Python loop {t_base_full:.2f} s (extrapolated) -> speed-up {t_base_full / t_numba:.0f}x"
    )

    trace_args = (pre_t[-1] + 200.0, 200.0, pre_t + 10.0, pre_t)
    u_win, t_win = timed(pl.dendritic_voltage, *trace_args)
    u_full, t_full = timed(full_grid_voltage, *trace_args)
    assert np.array_equal(u_win, u_full)
    print(
        f"(d) synthetic trace, 60 pairings, {len(u_win):,} steps: windowed {t_win:.3f} s, "
        f"whole-grid sums {t_full:.2f} s -> speed-up {t_full / t_win:.0f}x (identical traces)"
    )


if __name__ == "__main__":
    main()
