"""Chapter 9, for the grader only: the references, the hidden cases and the stored visible cases.

``visible_cases(name)`` is what ``memlab/exercises/data/ch09_<name>.json`` stores (a test
compares the two), for ``name`` in ``psth``, ``backward``.
"""

from __future__ import annotations

import numpy as np

# (n_bins, n_neurons, n_lags, gamma) for ``check_backward``
DELTA_VISIBLE = [(8, 3, 1, 1.0), (12, 4, 3, 0.5)]
DELTA_CASES = [(30, 6, 2, 1.0), (5, 1, 4, 0.3)]


def psth_reference(probs, target):
    """The unbiased PSTH loss and its gradient with respect to ``probs``."""
    m, t, n = probs.shape
    pbar = probs.mean(axis=0)
    dev = probs - pbar
    loss = np.mean((pbar - target) ** 2) - np.sum(dev**2) / (m * (m - 1) * t * n)
    grad = 2.0 * (pbar - target) / (t * n * m) - 2.0 * dev / (m * (m - 1) * t * n)
    return float(loss), grad


def delta_reference(w_rec, probs, g_p, g_z, gamma):
    """Back-propagation through time of one trial, from the last bin backwards."""
    t_len, n = probs.shape
    lags = w_rec.shape[0]
    delta = np.zeros((t_len, n))
    for t in range(t_len - 1, -1, -1):
        carry = np.zeros(n)
        for d in range(1, lags + 1):
            if t + d < t_len:
                carry += w_rec[d - 1].T @ delta[t + d]
        dp = probs[t] * (1.0 - probs[t])
        delta[t] = dp * (g_p[t] + gamma * (g_z[t] + carry))
    return delta


def _psth_inputs():
    rng = np.random.default_rng(90)
    visible = [
        (rng.random((4, 6, 3)), rng.random((6, 3))),
        (rng.random((2, 5, 1)), np.zeros((5, 1))),
    ]
    hidden = [(rng.random((10, 20, 4)) ** 3, rng.random((20, 4)) * 0.2)]
    return visible, hidden


def _psth_case(probs, target) -> dict:
    loss, grad = psth_reference(probs, target)
    return {
        "probs": probs.tolist(),
        "target": target.tolist(),
        "loss": loss,
        "grad": grad.tolist(),
        # the typical mistake: no variance correction
        "biased_loss": float(np.mean((probs.mean(0) - target) ** 2)),
    }


def _delta_inputs():
    rng = np.random.default_rng(91)
    cases = []
    for t_len, n, lags, gamma in DELTA_VISIBLE + DELTA_CASES:
        w_rec = rng.normal(0, 1, (lags, n, n))
        probs = rng.uniform(0.05, 0.95, (t_len, n))
        cases.append(
            (w_rec, probs, rng.normal(size=(t_len, n)), rng.normal(size=(t_len, n)), gamma)
        )
    return cases[: len(DELTA_VISIBLE)], cases[len(DELTA_VISIBLE) :]


def _delta_case(w_rec, probs, g_p, g_z, gamma) -> dict:
    return {
        "w_rec": w_rec.tolist(),
        "probs": probs.tolist(),
        "g_p": g_p.tolist(),
        "g_z": g_z.tolist(),
        "gamma": float(gamma),
        "delta": delta_reference(w_rec, probs, g_p, g_z, gamma).tolist(),
        # the typical mistakes: W_d instead of its transpose, one lag only, gamma ignored
        "delta_untransposed": delta_reference(
            w_rec.transpose(0, 2, 1), probs, g_p, g_z, gamma
        ).tolist(),
        "delta_one_lag": delta_reference(w_rec[:1], probs, g_p, g_z, gamma).tolist(),
        "delta_gamma_one": delta_reference(w_rec, probs, g_p, g_z, 1.0).tolist(),
    }


_MAKE = {"psth": (_psth_case, _psth_inputs), "backward": (_delta_case, _delta_inputs)}


def visible_cases(name: str) -> list[dict]:
    """What ``memlab/exercises/data/ch09_<name>.json`` stores (a test compares the two)."""
    make, inputs = _MAKE[name]
    return [make(*case) for case in inputs()[0]]


def hidden_cases(name: str) -> list[dict]:
    make, inputs = _MAKE[name]
    return [make(*case) for case in inputs()[1]]
