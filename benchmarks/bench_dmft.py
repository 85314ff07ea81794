"""Hand-run benchmark for memlab.dmft (``python benchmarks/bench_dmft.py``).

(a) forward pass (recursion and Novikov response) for n = 1, alpha = 0.2, g = 1.5, dt = 0.25:
    wall time against T (M = 10^4) and against M (T = 50);
(b) forward vs iterate (fixed random numbers, no damping) on the same parameters: iterations,
    time per iteration, total time and the largest difference of m_bar (Chapter 3 prints only
    bounds on these: the difference sits at rounding level and the iteration count depends on
    it, e.g. 43 or 44 sweeps at M = 4000, T = 50 with different BLAS kernels);
(c) the single-site integration + response recursion for all samples over T steps: numba kernel
    (``dmft._advance``, parallel over samples) against the plain NumPy version
    (``dmft._advance_numpy``, vectorised over samples), same inputs, speed-up ratio;
(d) recursion vs Novikov response estimate: largest differences of S_phi and m_bar against M.

Numba compilation is excluded (kernels are warmed up first and cached on disk).  Takes ~30 s
on 2 idle cores (timings vary by 2-3x when the machine is shared).
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

from memlab import dmft

G, ALPHA, DT, A_BAR = 1.5, 0.2, 0.25, 0.5


def timed(func, *args, **kwargs):
    t0 = time.perf_counter()
    out = func(*args, **kwargs)
    return out, time.perf_counter() - t0


def solve(t_steps, m_samples, seed=0, **kw):
    return dmft.solve(
        1, G, ALPHA, DT, t_steps, A_BAR, m_samples, rng=np.random.default_rng(seed), **kw
    )


def bench_forward():
    print("(a) forward pass, n = 1, alpha = 0.2")
    print(f"{'T':>5} {'M':>7} {'recursion [s]':>14} {'novikov [s]':>12}")
    for t_steps, m_samples in [
        (25, 10_000),
        (50, 10_000),
        (100, 10_000),
        (50, 2_500),
        (50, 20_000),
    ]:
        _, t_rec = timed(solve, t_steps, m_samples)
        _, t_nov = timed(solve, t_steps, m_samples, response="novikov")
        print(f"{t_steps:>5} {m_samples:>7} {t_rec:>14.3f} {t_nov:>12.3f}")


def bench_iterate():
    print("\n(b) forward vs iterate (same random numbers), T = 50, M = 10^4")
    for response in ("recursion", "novikov"):
        fwd, t_fwd = timed(solve, 50, 10_000, response=response)
        it, t_it = timed(solve, 50, 10_000, method="iterate", tol=1e-10, response=response)
        print(
            f"  {response:>9}: forward {t_fwd:.2f} s; iterate {it.iterations} iterations, "
            f"{t_it / it.iterations:.3f} s/iteration, {t_it:.2f} s total "
            f"(x{t_it / t_fwd:.1f}); max |m_bar diff| = "
            f"{np.max(np.abs(fwd.m_bar - it.m_bar)):.1e}, converged={it.converged}"
        )


def _kernel_inputs(m_samples, t_steps, rng):
    t1 = t_steps + 1
    f = np.tril(rng.normal(size=(t1, t1)) * 0.1)
    sig = rng.normal(size=t1)
    xi0 = np.sign(rng.normal(size=m_samples))
    eta = rng.normal(size=(m_samples, t1))
    x = np.zeros((m_samples, t1))
    x[:, 0] = rng.normal(size=m_samples)
    phi = np.zeros((m_samples, t1))
    phi[:, 0] = np.tanh(x[:, 0])
    dphi = 1.0 - phi**2
    s_x = np.zeros((t1, t1, m_samples), dtype=np.float32)  # as in dmft._Samples
    return [x, phi, dphi, xi0, eta, f, sig, DT, s_x]


def bench_kernels():
    print("\n(c) single-site integration + response recursion over all T steps")
    print(f"{'T':>5} {'M':>7} {'numba [s]':>10} {'numpy [s]':>10} {'speed-up':>9} {'max diff':>9}")
    rng = np.random.default_rng(1)
    for t_steps, m_samples in [(25, 10_000), (50, 2_000), (50, 10_000), (100, 2_000)]:
        base = _kernel_inputs(m_samples, t_steps, rng)
        a = [v.copy() if isinstance(v, np.ndarray) else v for v in base]
        b = [v.copy() if isinstance(v, np.ndarray) else v for v in base]
        _, t_nb = timed(dmft._advance, 0, t_steps, *a, True)
        _, t_np = timed(dmft._advance_numpy, 0, t_steps, *b, True)
        diff = max(np.max(np.abs(a[0] - b[0])), np.max(np.abs(a[-1] - b[-1])))
        print(
            f"{t_steps:>5} {m_samples:>7} {t_nb:>10.3f} {t_np:>10.3f} {t_np / t_nb:>9.1f} "
            f"{diff:>9.1e}"
        )


def bench_novikov():
    print("\n(d) recursion vs Novikov response, T = 30 (forward pass, same random numbers)")
    print(f"{'M':>7} {'max|dS|':>9} {'max|dS|/max S':>14} {'max|dm_bar|':>12}")
    for m_samples in (2_500, 10_000, 40_000):
        rec = solve(30, m_samples, seed=3)
        nov = solve(30, m_samples, seed=3, response="novikov")
        ds = np.max(np.abs(nov.s_phi - rec.s_phi))
        print(
            f"{m_samples:>7} {ds:>9.4f} {ds / np.max(rec.s_phi):>14.3f} "
            f"{np.max(np.abs(nov.m_bar - rec.m_bar)):>12.4f}"
        )


def main():
    # warm up (compile or load the numba cache)
    solve(3, 200)
    dmft._advance(0, 2, *_kernel_inputs(10, 2, np.random.default_rng(0)), True)
    t0 = time.perf_counter()
    bench_forward()
    bench_iterate()
    bench_kernels()
    bench_novikov()
    print(f"\ntotal {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
