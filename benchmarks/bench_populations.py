"""Hand-run benchmark for memlab.populations (``python benchmarks/bench_populations.py``).

(a) Microscopic simulation of the Chapter 8 circuit (3 x 100 neurons, and 3 x 1000):
    the numba kernel of ``pp.simulate_micro`` versus a plain NumPy version (Python loop over
    time steps, NumPy vectorised over neurons), same uniform random numbers, so both give the
    same spike counts (checked).
(b) The E-step: one evaluation of the joint log-likelihood and its gradient with respect to the
    latent activity (T = 8000 steps, 3 populations), numba kernel versus a plain NumPy version
    (Python loops over time for the recursions); then 30 L-BFGS-B iterations of the E-step with
    each. Values and gradients are checked to agree.

Numba compilation is excluded (every kernel is warmed up first). CPU times are printed next to
wall times: on a loaded machine the wall times are inflated. Takes about a minute.
"""

from __future__ import annotations

import math
import os
import sys
import time

import numpy as np
from scipy.optimize import minimize

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

from memlab import populations as pp  # noqa: E402
from memlab._threads import single_threaded_blas  # noqa: E402


def timed(func, *args, **kwargs):
    w0, c0 = time.perf_counter(), time.process_time()
    out = func(*args, **kwargs)
    return out, time.perf_counter() - w0, time.process_time() - c0


def numpy_micro(circuit, n_steps, rng):
    """Plain NumPy microscopic simulation (the same uniform numbers as ``pp.simulate_micro``)."""
    n_pop, n_max = circuit.sizes.size, int(circuit.sizes.max())
    u = rng.random((n_steps, n_pop, n_max))
    ref, delay, dt = circuit.refractory, circuit.delay, circuit.dt
    a = math.exp(-dt / circuit.tau_syn)
    age = np.full((n_pop, n_max), ref + 1)
    counts = np.zeros((n_steps, n_pop), dtype=np.int64)
    s = np.zeros(n_pop)
    for t in range(n_steps):
        h = np.clip(circuit.bias + circuit.coupling @ s, -40.0, 8.0)
        p = -np.expm1(-dt * np.exp(h))
        spike = (age > ref) & (u[t] < p[:, None])
        age = np.where(spike, 1, np.where(age <= ref, age + 1, age))
        counts[t] = spike.sum(1)
        past = counts[t - delay] if t >= delay else np.zeros(n_pop)
        s = a * s + (1 - a) * past / (circuit.sizes * dt)
    return counts


def numpy_loglik(z, obs, circuit, eps=1.0):
    """Plain NumPy joint log-likelihood and gradient with respect to z (module docstring)."""
    n_steps, n_pop = z.shape
    y, g = obs.spike_counts, obs.free_counts
    sizes = circuit.sizes.astype(float)
    ref, delay, dt = circuit.refractory, circuit.delay, circuit.dt
    a = math.exp(-dt / circuit.tau_syn)
    x = (y + z) / (sizes * dt)
    s = np.zeros((n_steps, n_pop))
    for t in range(1, n_steps):
        past = x[t - 1 - delay] if t - 1 - delay >= 0 else 0.0
        s[t] = a * s[t - 1] + (1 - a) * past
    h_raw = circuit.bias + s @ circuit.coupling.T
    inside = (h_raw > -40.0) & (h_raw < 8.0)
    lam = dt * np.exp(np.clip(h_raw, -40.0, 8.0))
    p = -np.expm1(-lam)
    dp = np.where(inside, (1 - p) * lam, 0.0)
    total = np.sum(np.where(y > 0, y * np.log(p), 0.0) - (g - y) * lam)
    g_h = np.where(y > 0, y * dp / p, 0.0) - np.where(inside, (g - y) * lam, 0.0)
    past_z = np.zeros_like(z)
    for k in range(1, ref + 1):
        past_z[k:] += z[:-k]
    free = sizes - obs.n_observed - past_z
    clipped = free <= 0
    free = np.where(clipped, 0.0, free)
    m = free * p
    v = m * (1 - p) + eps
    r = z - m
    total += np.sum(-0.5 * r * r / v - 0.5 * np.log(2 * np.pi * v))
    d_m, d_v = r / v, 0.5 * r * r / v**2 - 0.5 / v
    g_z = -r / v
    g_h += (d_m * free + d_v * free * (1 - 2 * p)) * dp
    d_free = np.where(clipped, 0.0, d_m * p + d_v * p * (1 - p))
    for k in range(1, ref + 1):
        g_z[:-k] -= d_free[k:]
    g_s = g_h @ circuit.coupling
    q = np.zeros(n_pop)
    for u in range(n_steps - 1, -1, -1):
        tt = u + delay + 1
        if tt < n_steps:
            q = g_s[tt] + a * q
            g_z[u] += (1 - a) * q / (sizes * dt)
    return total, g_z


def estep(objective, z0, upper, n_iter):
    shape = z0.shape

    def f(flat):
        value, grad = objective(flat.reshape(shape))
        return -value, -grad.ravel()

    bounds = np.stack([np.zeros(z0.size), np.broadcast_to(upper, shape).ravel()], axis=1)
    with single_threaded_blas():
        res = minimize(
            f,
            z0.ravel(),
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": n_iter, "maxcor": 20},
        )
    return res.x.reshape(shape), -res.fun


def main():
    print("(a) microscopic simulation, 2000 steps")
    for n in (100, 1000):
        circuit = pp.winner_take_all(n)
        pp.simulate_micro(circuit, 50, rng=np.random.default_rng(0))  # warm-up
        run, w_nb, c_nb = timed(pp.simulate_micro, circuit, 2000, rng=np.random.default_rng(1))
        counts, w_np, c_np = timed(numpy_micro, circuit, 2000, np.random.default_rng(1))
        same = np.array_equal(counts, run.counts)
        print(
            f"  N = {n:4d}: numba {1e3 * w_nb:7.1f} ms (cpu {1e3 * c_nb:7.1f}), numpy "
            f"{1e3 * w_np:7.1f} ms (cpu {1e3 * c_np:7.1f}); speed-up {w_np / w_nb:5.1f}x "
            f"(cpu {c_np / c_nb:5.1f}x); same counts: {same}"
        )

    print("(b) E-step, T = 8000, 10 observed neurons per population")
    circuit = pp.winner_take_all()
    run = pp.simulate_micro(circuit, 8000, rng=np.random.default_rng(2), n_record=10)
    obs = pp.observe(run.spikes, circuit.refractory)
    z0 = pp.empirical_latent(obs, circuit, smooth=10.0)
    pp.joint_log_likelihood(z0, obs, circuit)  # warm-up
    reps = 20
    _, w_nb, c_nb = timed(lambda: [pp.joint_log_likelihood(z0, obs, circuit) for _ in range(reps)])
    _, w_np, c_np = timed(lambda: [numpy_loglik(z0, obs, circuit) for _ in range(reps)])
    ll = pp.joint_log_likelihood(z0, obs, circuit)
    value, grad = numpy_loglik(z0, obs, circuit)
    agree = math.isclose(value, ll.value, rel_tol=1e-10) and np.allclose(grad, ll.grad_latent)
    print(
        f"  one evaluation: numba {1e3 * w_nb / reps:6.2f} ms (cpu {1e3 * c_nb / reps:6.2f}), "
        f"numpy {1e3 * w_np / reps:6.2f} ms (cpu {1e3 * c_np / reps:6.2f}); speed-up "
        f"{w_np / w_nb:5.1f}x (cpu {c_np / c_nb:5.1f}x); agree: {agree}"
    )
    upper = (circuit.sizes - obs.n_observed).astype(float)

    def nb_objective(z):
        r = pp.joint_log_likelihood(z, obs, circuit)
        return r.value, r.grad_latent

    def np_objective(z):
        return numpy_loglik(z, obs, circuit)

    (z_nb, v_nb), w_nb, c_nb = timed(estep, nb_objective, z0, upper, 30)
    (z_np, v_np), w_np, c_np = timed(estep, np_objective, z0, upper, 30)
    print(
        f"  30 L-BFGS-B iterations: numba {w_nb:5.2f} s (cpu {c_nb:5.2f}), numpy {w_np:5.2f} s "
        f"(cpu {c_np:5.2f}); speed-up {w_np / w_nb:4.1f}x (cpu {c_np / c_nb:4.1f}x); "
        f"same optimum: {np.allclose(z_nb, z_np, atol=1e-6)}"
    )


if __name__ == "__main__":
    main()
