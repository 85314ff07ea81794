"""Checks for the coding exercises of Chapter 9 (fitting summary statistics)."""

from __future__ import annotations

import numpy as np

from ._common import as_array, fail, hidden_module, load_cases, passed, require, unpack


def _cases(name: str, hidden: bool) -> list[dict]:
    """The visible cases (stored with the package), and with ``hidden`` the grader's."""
    cases = load_cases(f"ch09_{name}")
    if hidden:
        cases += hidden_module("ch09").hidden_cases(name)
    return cases


def check_psth_loss(psth_loss_and_gradient, *, hidden: bool = False) -> None:
    """Check ``psth_loss_and_gradient(probs, target) -> (loss, grad)``.

    The unbiased PSTH loss :math:`\\langle(\\bar p-\\bar y)^2\\rangle - s^2/(MTN)`-style
    correction and its gradient with respect to every trial's probabilities.  The visible cases
    and the reference's loss and gradient are stored in ``data/ch09_psth.json``; the reference
    lives with the hidden cases, which only the grader has.
    """
    for case in _cases("psth", hidden):
        probs, target = np.array(case["probs"]), np.array(case["target"])
        before = probs.copy()
        out = unpack(psth_loss_and_gradient(probs, target), 2, "psth_loss_and_gradient")
        require(np.array_equal(probs, before), "your function changed probs: work on a copy.")
        loss = float(as_array(out[0], "the loss", shape=()))
        grad = as_array(out[1], "the gradient", shape=probs.shape)
        ref_loss, ref_grad = case["loss"], np.array(case["grad"])
        biased = case["biased_loss"]
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


def check_backward(backward_through_time, *, hidden: bool = False) -> None:
    """Check ``backward_through_time(w_rec, probs, g_p, g_z, gamma) -> delta``.

    :math:`\\delta_t = p_t(1-p_t)[g^p_t + \\gamma(g^z_t + \\sum_d W_d^\\top\\delta_{t+d})]` for
    one trial, from the last bin backwards.  The visible cases, with the reference's delta and
    those of the typical mistakes, are stored in ``data/ch09_backward.json``.
    """
    for case in _cases("backward", hidden):
        w_rec, probs = np.array(case["w_rec"]), np.array(case["probs"])
        g_p, g_z, gamma = np.array(case["g_p"]), np.array(case["g_z"]), case["gamma"]
        delta = backward_through_time(w_rec, probs, g_p, g_z, gamma)
        delta = as_array(delta, "delta", shape=probs.shape)
        ref = np.array(case["delta"])
        if np.allclose(delta, ref, rtol=1e-8, atol=1e-12):
            continue
        if np.allclose(delta[-1], ref[-1], rtol=1e-8, atol=1e-12):
            wrong_t = int(np.argmax(~np.isclose(delta, ref, rtol=1e-8, atol=1e-12).all(1)))
            if np.allclose(delta, case["delta_untransposed"]):
                fail(
                    "your delta uses W_d instead of its transpose: the error reaching neuron k "
                    "at time t is sum_i W_d[i, k] delta_{t+d, i} (W_d.T @ delta)."
                )
            if np.allclose(delta, case["delta_one_lag"]):
                fail(
                    "your delta only carries the error back one bin: add the terms of every lag "
                    f"d = 1..{w_rec.shape[0]} (W_d.T @ delta_(t+d))."
                )
            if np.allclose(delta, case["delta_gamma_one"]):
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
