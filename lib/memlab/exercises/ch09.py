"""Checks for the coding exercises of Chapter 9 (fitting summary statistics)."""

from __future__ import annotations

import numpy as np

from ._common import as_array, fail, hidden_module, passed, require, unpack


def _psth_reference(probs, target):
    m, t, n = probs.shape
    pbar = probs.mean(axis=0)
    dev = probs - pbar
    loss = np.mean((pbar - target) ** 2) - np.sum(dev**2) / (m * (m - 1) * t * n)
    grad = 2.0 * (pbar - target) / (t * n * m) - 2.0 * dev / (m * (m - 1) * t * n)
    return float(loss), grad


def _psth_cases(hidden):
    rng = np.random.default_rng(90)
    cases = [(rng.random((4, 6, 3)), rng.random((6, 3))), (rng.random((2, 5, 1)), np.zeros((5, 1)))]
    if hidden:
        cases += hidden_module("ch09").psth_cases(rng)
    return cases


def check_psth_loss(psth_loss_and_gradient, *, hidden: bool = False) -> None:
    """Check ``psth_loss_and_gradient(probs, target) -> (loss, grad)``.

    The unbiased PSTH loss :math:`\\langle(\\bar p-\\bar y)^2\\rangle - s^2/(MTN)`-style
    correction and its gradient with respect to every trial's probabilities.
    """
    for probs, target in _psth_cases(hidden):
        before = probs.copy()
        out = unpack(psth_loss_and_gradient(probs, target), 2, "psth_loss_and_gradient")
        require(np.array_equal(probs, before), "your function changed probs: work on a copy.")
        loss = float(as_array(out[0], "the loss", shape=()))
        grad = as_array(out[1], "the gradient", shape=probs.shape)
        ref_loss, ref_grad = _psth_reference(probs, target)
        biased = float(np.mean((probs.mean(0) - target) ** 2))
        if not np.isclose(loss, ref_loss, rtol=1e-8, atol=1e-12):
            if np.isclose(loss, biased, rtol=1e-8):
                fail(
                    "your loss is the plain mean of (pbar - y)^2: subtract the variance "
                    "correction sum_m,t,i (p_m - pbar)^2 / (M (M-1) T N), which makes the loss "
                    "unbiased (see the pen-and-paper exercise)."
                )
            fail(
                f"your loss is {loss:.6g}, expected {ref_loss:.6g}: check the averages (over "
                "T N bins for the squared difference, M (M-1) T N for the correction)."
            )
        if not np.allclose(grad, ref_grad, rtol=1e-7, atol=1e-12):
            m = probs.shape[0]
            # summed over trials, the correction's gradient cancels: only the PSTH term remains
            if np.allclose(grad.sum(axis=0), m * ref_grad.sum(axis=0), rtol=1e-7):
                fail(
                    "your gradient is M times too large in the PSTH term: pbar is an average "
                    "over the M trials, so d pbar / d p_m = 1/M."
                )
            fail(
                "your gradient differs from d loss / d probs: differentiate both terms, and "
                "remember that pbar depends on every trial."
            )
    return passed("unbiased PSTH loss and its gradient agree with the reference.")


def _delta_reference(w_rec, probs, g_p, g_z, gamma):
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


def _delta_cases(hidden):
    rng = np.random.default_rng(91)
    cases = []
    for t_len, n, lags, gamma in [(8, 3, 1, 1.0), (12, 4, 3, 0.5)] + (
        hidden_module("ch09").DELTA_CASES if hidden else []
    ):
        w_rec = rng.normal(0, 1, (lags, n, n))
        probs = rng.uniform(0.05, 0.95, (t_len, n))
        cases.append(
            (w_rec, probs, rng.normal(size=(t_len, n)), rng.normal(size=(t_len, n)), gamma)
        )
    return cases


def check_backward(backward_through_time, *, hidden: bool = False) -> None:
    """Check ``backward_through_time(w_rec, probs, g_p, g_z, gamma) -> delta``.

    :math:`\\delta_t = p_t(1-p_t)[g^p_t + \\gamma(g^z_t + \\sum_d W_d^\\top\\delta_{t+d})]` for
    one trial, from the last bin backwards.
    """
    for w_rec, probs, g_p, g_z, gamma in _delta_cases(hidden):
        delta = backward_through_time(w_rec, probs, g_p, g_z, gamma)
        delta = as_array(delta, "delta", shape=probs.shape)
        ref = _delta_reference(w_rec, probs, g_p, g_z, gamma)
        if np.allclose(delta, ref, rtol=1e-8, atol=1e-12):
            continue
        if np.allclose(delta[-1], ref[-1], rtol=1e-8, atol=1e-12):
            wrong_t = int(np.argmax(~np.isclose(delta, ref, rtol=1e-8, atol=1e-12).all(1)))
            if np.allclose(
                delta, _delta_reference(w_rec.transpose(0, 2, 1), probs, g_p, g_z, gamma)
            ):
                fail(
                    "your delta uses W_d instead of its transpose: the error reaching neuron k "
                    "at time t is sum_i W_d[i, k] delta_{t+d, i} (W_d.T @ delta)."
                )
            if np.allclose(delta, _delta_reference(w_rec[:1], probs, g_p, g_z, gamma)):
                fail(
                    "your delta only carries the error back one bin: add the terms of every lag "
                    f"d = 1..{w_rec.shape[0]} (W_d.T @ delta_(t+d))."
                )
            if np.allclose(delta, _delta_reference(w_rec, probs, g_p, g_z, 1.0)):
                fail("your delta ignores gamma: scale the path through the spikes by gamma.")
            fail(
                f"your delta is right at the last bin but wrong at bin {wrong_t}: check the "
                "error carried back from later bins through W_rec."
            )
        fail(
            "your delta is already wrong at the last bin, where nothing comes from the future: "
            "delta_T = p (1 - p) (g_p + gamma g_z)."
        )
    return passed("delta agrees with back-propagation through time on every case.")


# every check gives a verdict for an answer of the wrong kind (see _common.guard_checks)
from ._common import guard_checks  # noqa: E402

guard_checks(globals())
