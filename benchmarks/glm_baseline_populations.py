"""Neuron-level GLM baseline against neuLVM on the same data (issue #19), run by hand.

``python benchmarks/glm_baseline_populations.py``

Data: the Chapter 8 circuit (``pp.winner_take_all()``), 16 s per recording (seeds 101-104),
10 recorded neurons per population; the first 8 s fit, the last 8 s held out.

- neuLVM: MAP-EM exactly as in the chapter (n_iter = 4, smooth = 10, start J = 0, mu = -4).
- GLM: every recorded neuron i has its own escape-noise hazard
  p_i(t) = 1 - exp(-exp(b_i + sum_j w_ij s_j(t))), with s_j the recorded neuron j's spike train
  through the chapter's synaptic filter and delay (exponential, tau = 5 ms, delay 1 step), and
  the known absolute refractoriness (no spike possible for 8 steps after one). No latent
  populations: only the 30 recorded neurons are coupled. Fitted by L-BFGS on the exact
  Bernoulli log-likelihood (analytic gradient).

Compared: (1) the coupling between populations implied by the GLM, J_ab = k_b * mean over
i in a, j in b of w_ij (the population input J_ab A_b as seen through the k_b recorded neurons
of population b), relative error against the true J; (2) held-out log-likelihood
of the recorded spikes per time step and neuron for the GLM (one-step prediction) and for the
neuLVM's population hazard given the recorded spikes and its MAP latent activity on the
held-out data (the neuLVM value uses the latent inferred from the whole held-out window, so it
is a smoothing, not a prediction score); (3) correlation of the predicted population activity
with the true one (5-ms box smoothing) on the held-out data: GLM mean one-step hazard of the
recorded neurons of a population; neuLVM (MAP latent + recorded) / N.
Means +- SEM over the four recordings.
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

K, T_FIT, T_TEST = 10, 8000, 8000
SEEDS = (101, 102, 103, 104)


def filtered(spikes, circuit):
    """s_j(t): exponential filter (Chapter 8 convention) of each neuron's spikes, with delay."""
    a = math.exp(-circuit.dt / circuit.tau_syn)
    x = spikes.astype(float) / circuit.dt
    s = np.zeros_like(x)
    d = circuit.delay
    for t in range(1, x.shape[0]):
        past = x[t - 1 - d] if t - 1 - d >= 0 else 0.0
        s[t] = a * s[t - 1] + (1 - a) * past
    return s


def free_mask(spikes, ref):
    free = np.ones_like(spikes, dtype=bool)
    for k in range(1, ref + 1):
        free[k:] &= spikes[:-k] == 0
    return free


def glm_loglik(theta, y, s, free, dt=1.0):
    n = y.shape[1]
    b, w = theta[:n], theta[n:].reshape(n, n)
    h = np.clip(b + s @ w.T, -40, 8)
    lam = dt * np.exp(h)
    p = -np.expm1(-lam)
    ll = np.where(free, np.where(y > 0, np.log(p), -lam), 0.0)
    gh = np.where(free, np.where(y > 0, (1 - p) * lam / p, -lam), 0.0)
    return ll.sum(), np.concatenate([gh.sum(0), (gh.T @ s).ravel()]), p


def fit_glm(y, s, free):
    n = y.shape[1]
    th0 = np.concatenate([np.full(n, -4.0), np.zeros(n * n)])

    def f(th):
        v, g, _ = glm_loglik(th, y, s, free)
        return -v, -g

    return minimize(f, th0, jac=True, method="L-BFGS-B", options={"maxiter": 1000}).x


def corr_ref(true_act):
    return np.stack([np.convolve(true_act[:, a], np.ones(5) / 5, "same") for a in range(3)], 1)


def main():
    c0 = time.process_time()
    truth = pp.winner_take_all()
    start = truth._replace(coupling=np.zeros((3, 3)), bias=np.full(3, -4.0))
    pop = np.repeat(np.arange(3), K)
    out = {k: [] for k in ("err_lvm", "err_glm", "ll_lvm", "ll_glm", "r_lvm", "r_glm")}
    for seed in SEEDS:
        run = pp.simulate_micro(truth, T_FIT + T_TEST, rng=np.random.default_rng(seed), n_record=K)
        spikes = run.spikes.reshape(T_FIT + T_TEST, 3 * K)  # neuron index = pop * K + i
        s = filtered(spikes, truth)
        free = free_mask(spikes, truth.refractory)
        tr, te = slice(0, T_FIT), slice(T_FIT, None)
        # neuLVM
        obs = pp.observe(run.spikes[tr], truth.refractory)
        fit = pp.fit_neulvm(obs, start, n_iter=4, smooth=10.0)
        obs_te = pp.observe(run.spikes[te], truth.refractory)
        z = pp.map_latent(obs_te, fit.circuit)
        ll = pp.joint_log_likelihood(z, obs_te, fit.circuit)
        n_free = free[te].sum()
        out["ll_lvm"].append(ll.observed / n_free)
        act_lvm = (z + obs_te.spike_counts) / truth.sizes
        # GLM
        th = fit_glm(spikes[tr], s[tr], free[tr])
        n = 3 * K
        w = th[n:].reshape(n, n)
        j_glm = np.array(
            [[K * w[np.ix_(pop == a, pop == b)].mean() for b in range(3)] for a in range(3)]
        )
        v, _, p = glm_loglik(th, spikes[te], s[te], free[te])
        out["ll_glm"].append(v / n_free)
        act_glm = np.stack([p[:, pop == a].mean(1) for a in range(3)], 1)
        ref = corr_ref(run.counts[te] / truth.sizes)
        for name, act in (("r_lvm", act_lvm), ("r_glm", act_glm)):
            out[name].append(np.mean([np.corrcoef(act[:, a], ref[:, a])[0, 1] for a in range(3)]))
        for name, j in (("err_lvm", fit.circuit.coupling), ("err_glm", j_glm)):
            out[name].append(float((np.abs(j - truth.coupling) / np.abs(truth.coupling)).mean()))
        print(
            f"seed {seed}: J error neuLVM {out['err_lvm'][-1]:.2f}, neuron GLM "
            f"{out['err_glm'][-1]:.2f}; GLM J {np.round(j_glm, 1).tolist()}; "
            "held-out ll/step/neuron "
            f"neuLVM {out['ll_lvm'][-1]:.4f}, GLM {out['ll_glm'][-1]:.4f}; corr neuLVM "
            f"{out['r_lvm'][-1]:.3f}, GLM {out['r_glm'][-1]:.3f}",
            flush=True,
        )
    print(f"\nover {len(SEEDS)} recordings (mean +- SEM):")
    for k, v in out.items():
        v = np.array(v)
        print(f"  {k:8s} {v.mean():.4f} +- {v.std(ddof=1) / math.sqrt(v.size):.4f}")
    print(f"CPU time {time.process_time() - c0:.0f} s")


if __name__ == "__main__":
    main()
