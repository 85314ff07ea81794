"""Hand-run benchmark for memlab.glm_fitting (``python benchmarks/bench_glm_fitting.py``).

(a) Sample-and-measure loss and pseudo-gradient (forward sampling of M trials plus
    backpropagation through time): numba kernels versus plain numpy (batched over trials, Python
    loop over time bins), on the same uniforms, at the chapter's size (N = 10 neurons, T = 100
    bins, D = 3 lags, M = 32 trials) and at a larger one (N = 50, T = 200, M = 64). Both
    results are checked to agree to 1e-12.
(a2) The same for the two numba kernels alone (forward sampling, backward pass), without the
    numpy code the backends share (losses, their direct derivatives, parameter gradients).
(b) The cost of the chapter's fits: maximum likelihood (damped Newton) and 200 Adam steps of
    MLE + PSTH + NC, wall and CPU time.

Numba compilation is excluded (a warm-up call first). Every timing is the best of ``REPEATS``
runs (wall clock; CPU time in parentheses). Single-threaded BLAS, as in ``gf.fit``.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

from memlab import glm_fitting as gf  # noqa: E402
from memlab._threads import single_threaded_blas  # noqa: E402

REPEATS = 5


def best_of(func, repeats=REPEATS):
    walls, cpus = [], []
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        out = func()
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    return out, min(walls), min(cpus)


def gradient_case(n, t, m, d=3, n_in=15, seed=0):
    rng = np.random.default_rng(seed)
    params = gf.random_params(n, n_in, d, rng=rng, bias=-2.0, scale=0.5)
    x = rng.normal(size=(t, n_in))
    data = gf.simulate(params, x, 50, rng=rng).spikes
    args = (params, x, gf.psth(data), gf.noise_covariance(data), m)

    def run(backend):
        return gf.sample_and_measure(
            *args, rng=np.random.default_rng(1), mu_psth=100.0, mu_nc=1e4, backend=backend
        )

    run("numba")  # compile / load the cache
    a, wall_nb, cpu_nb = best_of(lambda: run("numba"))
    b, wall_np, cpu_np = best_of(lambda: run("numpy"))
    err = max(np.abs(u - v).max() for u, v in zip(a.gradient, b.gradient))
    assert err < 1e-12 and abs(a.loss - b.loss) < 1e-12, err
    print(
        f"N={n:3d} T={t:4d} M={m:3d}: numba {1e3 * wall_nb:7.2f} ms ({1e3 * cpu_nb:7.2f} CPU), "
        f"numpy {1e3 * wall_np:8.2f} ms ({1e3 * cpu_np:8.2f} CPU), "
        f"speed-up {wall_np / wall_nb:5.1f}x wall, {cpu_np / max(cpu_nb, 1e-9):5.1f}x CPU; "
        f"max |difference| {err:.1e}"
    )


def kernel_case(n, t, m, d=3, seed=0):
    """Forward sampling and backward pass alone (the shared loss code excluded)."""
    rng = np.random.default_rng(seed)
    params = gf.random_params(n, 15, d, rng=rng, bias=-2.0, scale=0.5)
    drive = rng.normal(size=(t, 15)) @ params.w_in.T + params.bias
    uniforms = rng.random((m, t, n))
    g_p, g_z = rng.normal(size=(2, m, t, n))

    def numba_run():
        spikes = np.zeros(uniforms.shape, dtype=np.uint8)
        probs = np.empty(uniforms.shape)
        gf._forward(drive, params.w_rec, uniforms, spikes, probs)
        out = np.zeros((t, n)), np.zeros_like(params.w_rec)
        gf._backward(params.w_rec, spikes, probs, g_p, g_z, 1.0, *out)
        return out

    def numpy_run():
        spikes, probs = gf._forward_numpy(drive, params.w_rec, uniforms)
        out = np.zeros((t, n)), np.zeros_like(params.w_rec)
        gf._backward_numpy(params.w_rec, spikes, probs, g_p, g_z, 1.0, *out)
        return out

    numba_run()
    a, wall_nb, cpu_nb = best_of(numba_run)
    b, wall_np, cpu_np = best_of(numpy_run)
    err = max(np.abs(u - v).max() / np.abs(v).max() for u, v in zip(a, b))
    assert err < 1e-12, err
    print(
        f"N={n:3d} T={t:4d} M={m:3d}: numba {1e3 * wall_nb:7.2f} ms ({1e3 * cpu_nb:7.2f} CPU), "
        f"numpy {1e3 * wall_np:8.2f} ms ({1e3 * cpu_np:8.2f} CPU), "
        f"speed-up {wall_np / wall_nb:5.1f}x wall, {cpu_np / max(cpu_nb, 1e-9):5.1f}x CPU; "
        f"max relative difference {err:.1e}"
    )


def fit_costs():
    rng = np.random.default_rng([2021, 1])
    truth = gf.hidden_network(10, 20, 100, rng=rng)
    x = gf.lagged_stimulus(truth.stimulus, 4)
    train = gf.simulate(truth.params, truth.stimulus, 200, rng=rng).spikes[:, :, :10]
    mle, wall, cpu = best_of(lambda: gf.fit(train, x, 3, rng=np.random.default_rng(0)), 3)
    print(f"MLE fit (Newton, {mle.n_evaluations} evaluations): {wall:.2f} s ({cpu:.2f} s CPU)")
    _, wall, cpu = best_of(
        lambda: gf.fit(
            train,
            x,
            3,
            rng=np.random.default_rng(0),
            mu_psth=100.0,
            mu_nc=1e4,
            init=mle.params,
            n_steps=200,
            learning_rate=0.01,
        ),
        3,
    )
    print(f"MLE + PSTH + NC fit (200 Adam steps, M = 32): {wall:.2f} s ({cpu:.2f} s CPU)")


if __name__ == "__main__":
    with single_threaded_blas():
        print("(a) sample-and-measure loss and pseudo-gradient, numba vs plain numpy")
        gradient_case(10, 100, 32)
        gradient_case(50, 200, 64)
        print("(a2) the numba kernels alone (forward sampling + backpropagation through time)")
        kernel_case(10, 100, 32)
        kernel_case(50, 200, 64)
        print("(b) the chapter's fits")
        fit_costs()
