"""Hand-run benchmark for memlab.local_learning (``python benchmarks/bench_local_learning.py``).

Times the numba kernels against plain NumPy baselines that do the same arithmetic step by step:

(a) reward-modulated Hebbian training of the N = 300 reservoir (dt = 1 ms) for 5 s of simulated
    time, with the working-memory backbone; the baseline uses a dense ``W @ r`` per step;
(b) FORCE (RLS every second step) on the same reservoir for 2 s;
(c) CLAPP training of one layer (D = 20, H = 6) for 20,000 steps; the baseline calls
    ``clapp_update`` (pure NumPy) at every step.

Numba compilation is excluded (every kernel is warmed up first). Takes about half a minute.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

from memlab import local_learning as ll  # noqa: E402

N, DT = 300, 0.001


def timed(func, *args, **kwargs):
    t0 = time.perf_counter()
    out = func(*args, **kwargs)
    return out, time.perf_counter() - t0


def numpy_reservoir(
    res,
    target,
    n_steps,
    rng,
    mode,
    x0,
    drive=None,
    eta0=5e-4,
    tau_eta=20.0,
    tau_avg=0.005,
    state_noise=0.05,
    expl_noise=0.5,
    every=2,
):
    """The same dynamics as the kernel, one NumPy step at a time (dense recurrent matrix)."""
    x, w = x0.copy(), np.zeros(res.n_units)
    p = np.eye(res.n_units)
    z_bar = perf_bar = 0.0
    w_rec = res.gain * res.w_rec
    beta, alpha = res.dt / tau_avg, res.dt / res.tau
    for k in range(n_steps):
        noise = rng.uniform(-state_noise, state_noise, res.n_units) if mode == "hebb" else 0.0
        r = np.tanh(x) + noise
        zh = w @ r
        z = zh + (rng.uniform(-expl_noise, expl_noise) if mode == "hebb" else 0.0)
        f = target[k % len(target)]
        if mode == "force" and k % every == 0:
            pr = p @ r
            c = 1.0 / (1.0 + r @ pr)
            p -= c * np.outer(pr, pr)
            w -= (zh - f) * c * pr
        elif mode == "hebb":
            perf = -((z - f) ** 2)
            if perf > perf_bar:
                w += eta0 / (1 + k * res.dt / tau_eta) * (z - z_bar) * r
            z_bar += beta * (z - z_bar)
            perf_bar += beta * (perf - perf_bar)
        inp = w_rec @ r + res.w_fb * z
        if drive is not None:
            inp += drive[k % len(drive)]
        x += alpha * (inp - x)
    return w


def numpy_clapp(w, w_pred, stream, eta):
    w, w_pred = w.copy(), w_pred.copy()
    for t in range(1, stream.x.shape[0]):
        dw, dp = ll.clapp_update(w, w_pred, stream.x[t - 1], stream.x[t], stream.y[t])
        w += eta * dw
        w_pred += eta * dp
    return w, w_pred


def main():
    rng = np.random.default_rng(0)
    res = ll.make_reservoir(N, rng=rng, dt=DT)
    target = ll.periodic_target(5.0, DT, rng=rng)
    drive = ll.backbone_input(ll.bump_backbone(5.0, DT), N, rng=rng)
    x0 = rng.normal(0, 0.5, N)
    protos = ll.object_prototypes(rng=rng)
    stream = ll.object_stream(protos, 20_000, rng=rng)
    w0, p0 = ll.init_clapp(20, 6, rng=rng)

    # warm-up (compilation, cached on disk after the first run)
    ll.train_reward_hebbian(res, target, 0.01, rng=rng, backbone=drive)
    ll.train_force(res, target, 0.01, rng=rng)
    ll.train_clapp(w0, p0, ll.object_stream(protos, 10, rng=rng))

    rows = []
    _, t_fast = timed(
        ll.train_reward_hebbian,
        res,
        target,
        5.0,
        rng=np.random.default_rng(1),
        backbone=drive,
        initial_states=x0,
    )
    _, t_slow = timed(
        numpy_reservoir, res, target, 5000, np.random.default_rng(1), "hebb", x0, drive
    )
    rows.append(("(a) reward-modulated Hebb, N=300, 5 s", t_fast, t_slow))

    _, t_fast = timed(
        ll.train_force, res, target, 2.0, rng=np.random.default_rng(1), initial_states=x0
    )
    _, t_slow = timed(numpy_reservoir, res, target, 2000, np.random.default_rng(1), "force", x0)
    rows.append(("(b) FORCE (RLS every 2nd step), N=300, 2 s", t_fast, t_slow))

    (w_fast, p_fast, _), t_fast = timed(ll.train_clapp, w0, p0, stream)
    (w_slow, p_slow), t_slow = timed(numpy_clapp, w0, p0, stream, 2e-3)
    assert np.allclose(w_fast, w_slow, atol=1e-8) and np.allclose(p_fast, p_slow, atol=1e-8)
    rows.append(("(c) CLAPP layer, 20,000 steps", t_fast, t_slow))

    print(f"{'benchmark':45s} {'numba (s)':>10s} {'numpy (s)':>10s} {'speed-up':>9s}")
    for name, fast, slow in rows:
        print(f"{name:45s} {fast:10.3f} {slow:10.3f} {slow / fast:8.1f}x")


if __name__ == "__main__":
    main()
