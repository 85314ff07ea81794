"""Hand-run benchmark for memlab.surprise (``python benchmarks/bench_surprise.py``).

(a) Wall time per 10^5 observations for every learner (SOR_N and SMiLe included), Gaussian task
    (sigma = 1, p_c = 0.1 and p_c = 0.01) and categorical task (K = 5, s = 1,
    p_c = 0.01).
(b) Exact Bayes: numba kernel versus a plain NumPy implementation (Python loop
    over observations, NumPy vectorised over the run-length messages), on the
    same 10^5 Gaussian observations; both results are checked to agree.

Numba compilation is excluded: every learner is warmed up on a short sequence
first (compiled kernels are cached on disk after the first run).  Takes ~20 s.
"""

from __future__ import annotations

import math
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

from memlab import surprise as su  # noqa: E402

T = 100_000


def timed(func, *args, **kwargs):
    t0 = time.perf_counter()
    out = func(*args, **kwargs)
    return out, time.perf_counter() - t0


def numpy_exact_bayes(y, p_change, sigma, mu0=0.0, sigma0=1.0, tol=1e-16):
    """Plain NumPy run-length exact Bayes (same algorithm as su.exact_bayes)."""
    var = sigma * sigma
    nu0 = var / sigma0**2
    s0 = mu0 * nu0
    log_m = math.log(p_change) - math.log1p(-p_change)
    log_tol = math.log(tol)
    lw = np.zeros(1)
    s = np.array([s0])
    nu = np.array([nu0])
    est = np.empty(y.size)
    for t, yt in enumerate(y):
        pv = var + var / nu
        lp = -0.5 * (np.log(2 * np.pi * pv) + (yt - s / nu) ** 2 / pv)
        l0 = -0.5 * (
            math.log(2 * math.pi * (var + sigma0**2)) + (yt - mu0) ** 2 / (var + sigma0**2)
        )
        lw = lw + lp
        lpt = np.logaddexp.reduce(lw)
        x = log_m + l0 - lpt
        lg = -np.logaddexp(0.0, -x)
        l1g = -np.logaddexp(0.0, x)
        lw = np.append(lw + l1g - lpt, lg)
        s = np.append(s, s0) + yt
        nu = np.append(nu, nu0) + 1.0
        keep = lw >= log_tol
        lw, s, nu = lw[keep], s[keep], nu[keep]
        lw -= np.logaddexp.reduce(lw)
        est[t] = np.sum(np.exp(lw) * s / nu)
    return est


def learners(p_change, model, rng_seed=12345):
    m = p_change / (1 - p_change)
    out = {
        "exact_bayes": lambda y: su.exact_bayes(y, p_change, **model),
        "message_passing N=20": lambda y: su.message_passing(y, p_change, 20, **model),
        "particle_filter N=1": lambda y: su.particle_filter(
            y, p_change, 1, rng=np.random.default_rng(rng_seed), **model
        ),
        "particle_filter N=20": lambda y: su.particle_filter(
            y, p_change, 20, rng=np.random.default_rng(rng_seed), **model
        ),
        "stratified_resampling N=20": lambda y: su.stratified_resampling(
            y, p_change, 20, rng=np.random.default_rng(rng_seed), **model
        ),
        "var_smile": lambda y: su.var_smile(y, m, **model),
        "smile": lambda y: su.smile(y, 0.1, **model),
    }
    if "sigma" in model:
        out["leaky_integrator"] = lambda y: su.leaky_integrator(y, 0.9)
        out["nassar nas10"] = lambda y: su.nassar(y, p_change, variant="nas10", **model)
        out["nassar nas12"] = lambda y: su.nassar(y, p_change, variant="nas12", **model)
    else:
        out["leaky_integrator"] = lambda y: su.leaky_integrator(
            y, 0.9, n_categories=model["n_categories"]
        )
    return out


def main():
    rng = np.random.default_rng(0)  # tasks; particle filters use another seed (see learners)
    cases = []
    for p_c in (0.1, 0.01):
        task = su.gaussian_task(T, 1.0, p_c, rng=rng)
        cases.append(
            (f"Gaussian sigma=1, p_c={p_c}", task.observations, task.means, p_c, dict(sigma=1.0))
        )
    ctask = su.categorical_task(T, 5, 1.0, 0.01, rng=rng)
    cases.append(
        (
            "categorical K=5, s=1, p_c=0.01",
            ctask.observations,
            ctask.probabilities,
            0.01,
            dict(concentration=1.0, n_categories=5),
        )
    )

    print(f"(a) time per {T:,} observations (compilation excluded)")
    for title, y, truth, p_c, model in cases:
        print(f"  {title}")
        for name, func in learners(p_c, model).items():
            func(y[:50])  # warm-up / compile
            res, dt = timed(func, y)
            extra = ""
            if res.n_components is not None:
                n_msg = res.n_components
                extra = f"  (messages: mean {n_msg.mean():.0f}, max {n_msg.max()})"
            mse = su.mean_squared_error(res.estimates, truth)
            print(f"    {name:<26s} {dt:8.3f} s   MSE {mse:.5f}{extra}")

    print("(b) exact Bayes, numba vs plain NumPy loop (Gaussian sigma=1, p_c=0.1)")
    y = cases[0][1]
    su.exact_bayes(y[:50], 0.1, sigma=1.0)
    res, t_numba = timed(su.exact_bayes, y, 0.1, sigma=1.0)
    ref, t_numpy = timed(numpy_exact_bayes, y, 0.1, 1.0)
    diff = np.abs(ref - res.estimates).max()
    print(
        f"    numba {t_numba:.3f} s, numpy {t_numpy:.3f} s, ratio {t_numpy / t_numba:.0f}x, "
        f"max |difference| {diff:.1e}"
    )


if __name__ == "__main__":
    main()
