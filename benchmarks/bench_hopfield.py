"""Hand-run benchmark for memlab.hopfield (``python benchmarks/bench_hopfield.py``).

Compares the library's matrix-free dynamics with plain NumPy baselines that
build the dense float64 coupling matrix W (N x N, 800 MB at N = 10,000):

(a) synchronous steps for a batch of 64 cues at N = 10,000, P = 1,400
    versus ``s = sign(W @ s)`` one trial at a time;
(b) asynchronous sweeps (numba kernel) versus a Python loop over neurons
    with ``h_i = W[i] @ s``; the baseline is timed on a reduced number of
    single-neuron updates and extrapolated to a full sweep of N updates;
(c) ``final_overlap_sweep`` at N = 8,000 (12 loads in [0.05, 0.2], 20 trials,
    20 synchronous steps);
(d) one capacity sweep of the Chapter 1 exercise (N = 1,000, 13 loads, 24 trials,
    40 steps), synchronous and asynchronous.  Small runs use single-threaded BLAS and one
    numba thread (memlab._common); on a loaded 2-core machine (2026-12-02) the synchronous
    sweep took 0.9-1.5 s with single-threaded BLAS and 12-16 s without, the asynchronous one
    0.7 s with one numba thread and 4-7 s with two.

Numba compilation is excluded from (a) and (b): every kernel is warmed up on
a small problem before timing (compiled kernels are cached on disk after the
first run).  Takes ~10 s and ~1 GB of memory (the dense baseline W).
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

from memlab import hopfield as hf  # noqa: E402

N, P, BATCH = 10_000, 1_400, 64


def timed(func, *args, **kwargs):
    t0 = time.perf_counter()
    out = func(*args, **kwargs)
    return out, time.perf_counter() - t0


def warm_up():
    rng = np.random.default_rng(0)
    xi = hf.random_patterns(20, 200, rng=rng)
    s0 = hf.flip_bits(xi[:4], 0.1, rng=rng)
    t0 = time.perf_counter()
    hf.simulate(xi, s0, 3, update="async", rng=rng)
    hf.simulate(xi, s0, 3)
    hf.simulate(xi, hf.flip_bits(xi[:4], 0.02, rng=rng), 3)  # sparse-update kernel
    return time.perf_counter() - t0


def dense_sync_baseline(w, s0_batch, n_trials, n_steps):
    """s <- sign(W s) (zero field keeps the state), one trial at a time."""
    for k in range(n_trials):
        s = s0_batch[k].astype(np.float64)
        for _ in range(n_steps):
            h = w @ s
            s = np.where(h > 0, 1.0, np.where(h < 0, -1.0, s))


def dense_async_baseline(w, s0, order):
    s = s0.astype(np.float64)
    for i in order:
        h = w[i] @ s
        if h > 0:
            s[i] = 1.0
        elif h < 0:
            s[i] = -1.0
    return s


def main():
    print(
        f"memlab.hopfield benchmark: N={N}, P={P} (alpha={P / N:.3f}), {os.cpu_count()} CPU cores"
    )
    print(f"warm-up (numba JIT compile or cache load), excluded from timings: {warm_up():.2f} s")
    rng = np.random.default_rng(2024)
    xi = hf.random_patterns(P, N, rng=rng)

    # ---------------------------------------------------------------- (a) sync
    n_steps = 10
    print(f"\n(a) synchronous dynamics, batch of {BATCH} cues, {n_steps} steps")
    cues = {
        "random initial states": (rng.integers(0, 2, (BATCH, N)) * 2 - 1).astype(np.int8),
        "stored patterns, 20% bits flipped": hf.flip_bits(xi[:BATCH], 0.2, rng=rng),
    }
    lib_rates = {}
    for label, s0 in cues.items():
        traj, dt = timed(hf.simulate, xi, s0, n_steps, cue_index=np.arange(BATCH))
        moving = np.mean(np.diff(traj.overlaps, axis=0) != 0)
        rate = n_steps * BATCH / dt
        lib_rates[label] = rate
        print(
            f"  memlab.simulate [{label}]: {dt:.3f} s -> {rate:,.0f} trial-steps/s "
            f"(cued overlap still changing in {moving:.0%} of trial-steps; "
            f"converged trials are short-cut)"
        )

    w, dt_w = timed(hf.hebbian_weights, xi)
    print(
        f"  baseline: dense float64 W built in {dt_w:.2f} s ({w.nbytes / 1e6:.0f} MB, not counted)"
    )
    base_trials, base_steps = 3, 4
    s0 = cues["random initial states"]
    _, dt = timed(dense_sync_baseline, w, s0, base_trials, base_steps)
    base_rate = base_trials * base_steps / dt
    print(
        f"  baseline s = sign(W @ s), one trial at a time: {base_trials * base_steps} "
        f"trial-steps in {dt:.3f} s -> {base_rate:,.1f} trial-steps/s"
    )
    for label, rate in lib_rates.items():
        print(f"  speed-up [{label}]: {rate / base_rate:,.0f}x")

    # --------------------------------------------------------------- (b) async
    n_trials, n_sweeps = 8, 10
    print(
        f"\n(b) asynchronous dynamics, {n_trials} trials x {n_sweeps} sweeps "
        f"from random states (each sweep = N = {N} single-neuron updates)"
    )
    s0 = (rng.integers(0, 2, (n_trials, N)) * 2 - 1).astype(np.int8)
    traj, dt = timed(hf.simulate, xi, s0, n_sweeps, update="async", rng=rng)
    still = np.mean(np.any(traj.overlaps[-1] != traj.overlaps[-2], axis=-1))
    lib_sweep = dt / (n_trials * n_sweeps)
    print(
        f"  memlab numba kernel (trials in parallel): {dt:.3f} s -> "
        f"{lib_sweep * 1e3:.2f} ms per trial-sweep (setup included; "
        f"{still:.0%} of trials still flipping in the last sweep)"
    )
    one, dt1 = timed(hf.simulate, xi, s0[0], n_sweeps, update="async", rng=rng)
    print(f"  memlab, single trial (one thread busy): {dt1 / n_sweeps * 1e3:.2f} ms per sweep")
    n_updates = 3000
    order = rng.permutation(N)[:n_updates]
    _, dt = timed(dense_async_baseline, w, s0[0], order)
    base_sweep = dt / n_updates * N
    print(
        f"  baseline Python loop, h_i = W[i] @ s: timed {n_updates} neuron updates "
        f"({dt:.3f} s), extrapolated to a full sweep: {base_sweep * 1e3:.0f} ms per sweep"
    )
    print(
        f"  speed-up per trial-sweep (batched): {base_sweep / lib_sweep:,.0f}x; "
        f"single trial: {base_sweep / (dt1 / n_sweeps):,.0f}x"
    )
    del w

    # ------------------------------------------------------------ (c) sweep
    alphas = np.linspace(0.05, 0.2, 12)
    print("\n(c) final_overlap_sweep(N=8000, 12 alphas in [0.05, 0.2], 20 trials, 20 sync steps)")
    res, dt = timed(
        hf.final_overlap_sweep,
        8000,
        alphas,
        20,
        rng=np.random.default_rng(1),
        n_steps=20,
        progress=False,
    )
    print(f"  {dt:.2f} s")
    theory = hf.retrieval_overlap(alphas)
    for a, m, th in zip(alphas, res.mean(axis=1), theory):
        print(f"    alpha={a:.3f}  <m_final>={m:.4f}  AGS m={th:.4f}")

    # ------------------------------------------------- (d) Chapter 1 capacity exercise
    loads = np.round(np.arange(0.08, 0.2001, 0.01), 3)
    print(
        "\n(d) one capacity sweep of the Chapter 1 exercise (N=1000, 13 loads, 24 trials, "
        "40 steps); its check runs 2 sweeps (3 with the hidden case)"
    )
    for update in ("sync", "async"):
        _, dt = timed(
            hf.final_overlap_sweep,
            1000,
            loads,
            24,
            rng=np.random.default_rng(0),
            n_steps=40,
            update=update,
            progress=False,
        )
        print(f"  {update}: {dt:.2f} s")


if __name__ == "__main__":
    main()
