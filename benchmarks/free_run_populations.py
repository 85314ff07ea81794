"""Free-run metastability of fitted neuLVM models (issue #19), run by hand.

``python benchmarks/free_run_populations.py``

The paper (Wang et al. 2022) reports that the fitted mesoscopic model reproduces the metastable
switching of the circuit. Chapter 8 shows one fitted model run freely; this script repeats the
test over several recordings and reports the switching as numbers with error bars:

- ground truth: the Chapter 8 circuit (``pp.winner_take_all()``), simulated microscopically
  and mesoscopically, ``N_RUNS`` free runs of 30 s each (first second dropped);
- for each recording seed: 8 s of 10 recorded neurons per population, fitted by MAP-EM exactly
  as in the chapter (``n_iter=4``, ``smooth=10``, start J = 0, mu = -4); the fitted circuit is
  then run freely, mesoscopically and microscopically (the fitted J and mu in a network of the
  true sizes), ``N_RUNS`` runs of 30 s each.

Reported per model: switches per 30-s run (winner changes after merging episodes shorter than
50 ms, ``pp.dwell_times``), mean +- SEM over runs; mean dwell time of the completed periods
pooled over runs (+- SEM over periods); the dwell time estimated as 30 s / (switches + 1)
(defined also for runs that never switch), mean +- SEM over runs. Takes a few minutes of CPU.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

from memlab import populations as pp  # noqa: E402

T_RUN, T_DROP, T_FIT, K, N_ITER = 30_000, 1_000, 8_000, 10, 4
N_RUNS = 4
RECORDING_SEEDS = (101, 102, 103, 104)


def switching(circuit, simulate, seed, sizes):
    """Switch counts, pooled completed dwell times and 30 s/(switches+1) per run."""
    rngs = [np.random.default_rng([seed, r]) for r in range(N_RUNS)]
    switches, pooled, est = [], [], []
    for g in rngs:
        counts = simulate(circuit, T_RUN + T_DROP, rng=g).counts[T_DROP:]
        d = pp.dwell_times(counts, sizes)
        n_switch = int(np.count_nonzero(np.diff(d.winner)))
        switches.append(n_switch)
        pooled.extend(d.durations.tolist())
        est.append(T_RUN / (n_switch + 1))
    return np.array(switches), np.array(pooled), np.array(est)


def sem(x):
    x = np.asarray(x, float)
    return (x.std(ddof=1) / np.sqrt(x.size)) if x.size > 1 else float("nan")


def report(name, sw, pooled, est):
    dwell = f"{pooled.mean():5.0f} +- {sem(pooled):4.0f} ms" if pooled.size else "   none     "
    print(
        f"{name:38s} switches/30 s {sw.mean():6.1f} +- {sem(sw):5.1f}   "
        f"completed-period dwell {dwell} (n={pooled.size:3d})   "
        f"30 s/(switches+1) {est.mean():6.0f} +- {sem(est):5.0f} ms",
        flush=True,
    )


def main():
    c0 = time.process_time()
    truth = pp.winner_take_all()
    sizes = truth.sizes
    start = truth._replace(coupling=np.zeros((3, 3)), bias=np.full(3, -4.0))
    print(
        f"free runs: {N_RUNS} x {T_RUN // 1000} s per model; fits: {K} neurons/pop, "
        f"{T_FIT // 1000} s, n_iter={N_ITER}"
    )
    rows = {}
    for name, sim in (("truth, micro", pp.simulate_micro), ("truth, meso", pp.simulate_meso)):
        rows[name] = switching(truth, sim, 7, sizes)
        report(name, *rows[name])
    per_seed = {"meso": [], "micro": []}
    for seed in RECORDING_SEEDS:
        run = pp.simulate_micro(truth, T_FIT, rng=np.random.default_rng(seed), n_record=K)
        obs = pp.observe(run.spikes, truth.refractory)
        fit = pp.fit_neulvm(obs, start, n_iter=N_ITER, smooth=10.0)
        rel = np.abs(fit.circuit.coupling - truth.coupling) / np.abs(truth.coupling)
        print(
            f"recording seed {seed}: mean relative error of J {rel.mean():.2f}; "
            f"J diag {np.round(np.diag(fit.circuit.coupling), 1)}, "
            f"mu {np.round(fit.circuit.bias, 2)}"
        )
        for kind, sim in (("meso", pp.simulate_meso), ("micro", pp.simulate_micro)):
            r = switching(fit.circuit, sim, 1000 + seed, sizes)
            per_seed[kind].append(r)
            report(f"  fitted (seed {seed}), {kind}", *r)
    print("\nsummary over recording seeds (mean +- SEM over seeds of the per-seed means):")
    for name, (sw, _pooled, est) in rows.items():
        print(
            f"  {name:16s} switches/30 s {sw.mean():6.1f} +- {sem(sw):4.1f} (over runs); "
            f"dwell {est.mean():5.0f} +- {sem(est):4.0f} ms"
        )
    for kind, rs in per_seed.items():
        sw = np.array([r[0].mean() for r in rs])
        est = np.array([r[2].mean() for r in rs])
        stuck = sum(int(np.sum(r[0] == 0)) for r in rs)
        print(
            f"  fitted, {kind:6s}  switches/30 s {sw.mean():6.1f} +- {sem(sw):4.1f} "
            f"(per seed {np.round(sw, 1)}); dwell {est.mean():5.0f} +- {sem(est):4.0f} ms; "
            f"runs without any switch: {stuck} of {len(rs) * N_RUNS}"
        )
    print(f"CPU time {time.process_time() - c0:.0f} s")


if __name__ == "__main__":
    main()
