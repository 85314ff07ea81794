"""Checks for the coding exercises of Chapter 6 (local learning: reward-modulated Hebb, CLAPP)."""

from __future__ import annotations

import numpy as np

from .. import local_learning as ll
from ._common import as_array, fail, hidden_module, passed, require, unpack


def _rls_cases(hidden: bool):
    cases = [(5, 0), (12, 1)]
    if hidden:
        cases += hidden_module("ch06").RLS_CASES
    for n, seed in cases:
        rng = np.random.default_rng(600 + seed)
        a = rng.normal(size=(n, n))
        p = np.linalg.inv(a @ a.T + np.eye(n))  # a symmetric positive definite P, not only I
        yield p, rng.normal(size=n), rng.normal(size=n), float(rng.normal())


def check_rls_step(rls_step, *, hidden: bool = False) -> None:
    """Check ``rls_step(P, w, r, f) -> (P_new, w_new)``.

    The reference is :func:`memlab.local_learning.rls_update`.
    """
    for k, (p, w, r, f) in enumerate(_rls_cases(hidden)):
        n = w.shape[0]
        p_in, w_in, r_in = p.copy(), w.copy(), r.copy()
        p_new, w_new = unpack(rls_step(p_in, w_in, r_in, f), 2, "rls_step(P, w, r, f)")
        require(
            np.array_equal(p_in, p) and np.array_equal(w_in, w) and np.array_equal(r_in, r),
            "rls_step changed an input array in place: return new arrays "
            "(e.g. P - ..., not P -= ...).",
        )
        p_new = as_array(p_new, "P_new", shape=(n, n))
        w_new = as_array(w_new, "w_new", shape=(n,))
        p_ref, w_ref = ll.rls_update(p, w, r, f)
        if not np.allclose(p_new, p_ref, rtol=1e-7, atol=1e-10):
            if np.allclose(p_new, p - np.outer(p @ r, p @ r), atol=1e-10):
                fail("your P update lacks the denominator 1 + r^T P r (Sherman-Morrison).")
            if not np.allclose(p_new, p_new.T, atol=1e-10):
                fail("your P_new is not symmetric: subtract (P r)(P r)^T / (1 + r^T P r).")
            fail(f"case {k}: P_new differs from P - P r r^T P / (1 + r^T P r).")
        e_before, e_after = w @ r - f, w_new @ r - f
        if not np.allclose(w_new, w_ref, rtol=1e-7, atol=1e-10) and np.allclose(
            w_new, w - e_before * (p @ r), atol=1e-10
        ):
            fail(
                "your weight change uses the old P: use the updated P (or divide P r by "
                "1 + r^T P r, which is the same)."
            )
        if abs(e_after) > abs(e_before) + 1e-12:
            fail(
                f"case {k}: after your step the error w^T r - f grew from {e_before:.3f} to "
                f"{e_after:.3f}: check the sign of the weight change "
                "(w - e P r, with e = w^T r - f)."
            )
        require(
            np.allclose(w_new, w_ref, rtol=1e-7, atol=1e-10),
            f"case {k}: w_new differs from w - (w^T r - f) P_new r.",
        )
    return passed("P follows the Sherman-Morrison update and w the RLS (FORCE) correction.")


def check_reward_hebbian_update(reward_hebbian_update, *, hidden: bool = False) -> None:
    """Check ``reward_hebbian_update(r, z, z_bar, perf, perf_bar, eta) -> dw`` (shape (N,))."""
    n_cases = hidden_module("ch06").REWARD_HEBBIAN_N_CASES if hidden else 8
    rng = np.random.default_rng(606)
    for k in range(n_cases):
        n = int(rng.integers(1, 30))
        r = np.tanh(rng.normal(size=n))
        z, z_bar = float(rng.normal()), float(rng.normal())
        perf = float(-rng.random())
        perf_bar = perf + (0.3 if k % 2 else -0.3)  # odd cases: worse than usual
        eta = float(rng.uniform(1e-4, 1e-2))
        dw = as_array(
            reward_hebbian_update(r.copy(), z, z_bar, perf, perf_bar, eta), "dw", shape=(n,)
        )
        expected = ll.reward_modulated_update(r, z, z_bar, perf, perf_bar, eta)
        if k % 2 and np.any(dw != 0):
            fail(
                f"case {k}: the performance P = {perf:.2f} is below its running mean "
                f"{perf_bar:.2f}, so the modulator M is 0 and the update must be exactly zero."
            )
        if not k % 2 and np.allclose(dw, eta * z * r, rtol=1e-9) and not np.allclose(dw, expected):
            fail("your update uses z instead of the deviation z - z_bar from its running mean.")
        if not k % 2 and np.allclose(dw, -expected, rtol=1e-9):
            fail("your update has the wrong sign: it should be +eta * M * (z - z_bar) * r.")
        require(
            np.allclose(dw, expected, rtol=1e-9, atol=1e-15),
            f"case {k}: dw differs from eta * M * (z - z_bar) * r with M = 1 if perf > perf_bar.",
        )
    dw_tie = as_array(
        reward_hebbian_update(np.ones(3), 1.0, 0.0, -0.5, -0.5, 0.1), "dw", shape=(3,)
    )
    require(
        np.all(dw_tie == 0),
        "when perf equals its running mean the performance is not *better* than usual: M = 0.",
    )
    return passed("the update is gated by the reward signal and follows (z - z_bar) r.")


def _clapp_case(seed):
    rng = np.random.default_rng(seed)
    h, d = int(rng.integers(2, 6)), int(rng.integers(2, 8))
    w = rng.normal(size=(h, d))
    wp = rng.normal(size=(h, h)) * 0.3
    x_prev, x = rng.normal(size=d), rng.normal(size=d)
    return w, wp, x_prev, x


def check_clapp_local_update(clapp_local_update, *, hidden: bool = False) -> None:
    """Check ``clapp_local_update(W, W_pred, x_prev, x, y) -> (dW, dW_pred)`` = minus the gradient.

    The reference is a central finite difference of :func:`memlab.local_learning.clapp_loss`.
    """
    seeds = range(8) if not hidden else hidden_module("ch06").CLAPP_SEEDS
    for seed in seeds:
        w, wp, x_prev, x = _clapp_case(660 + seed)
        y = 1 if seed % 2 else -1
        u = ll.clapp_score(w, wp, x_prev, x)
        if min(np.abs(w @ x).min(), np.abs(w @ x_prev).min(), abs(1 - y * u)) < 1e-3:
            continue  # too close to a kink for finite differences
        dw, dwp = unpack(
            clapp_local_update(w.copy(), wp.copy(), x_prev, x, y),
            2,
            "clapp_local_update(W, W_pred, x_prev, x, y)",
        )
        dw = as_array(dw, "dW", shape=w.shape)
        dwp = as_array(dwp, "dW_pred", shape=wp.shape)
        ref_w, ref_p = ll.clapp_update(w, wp, x_prev, x, y)
        h = 1e-6
        num_p = np.zeros_like(wp)
        for idx in np.ndindex(wp.shape):
            a, b = wp.copy(), wp.copy()
            a[idx] += h
            b[idx] -= h
            num_p[idx] = -(
                ll.clapp_loss(w, a, x_prev, x, y) - ll.clapp_loss(w, b, x_prev, x, y)
            ) / (2 * h)
        if not np.allclose(num_p, ref_p, atol=1e-6):  # pragma: no cover - guards the reference
            continue
        margin_met = 1 - y * u <= 0
        if margin_met:
            require(
                np.all(dw == 0) and np.all(dwp == 0),
                f"here y u = {y * u:.2f} > 1: the hinge is flat and both updates must be zero "
                "(gamma = 0).",
            )
            continue
        if np.allclose(dwp, -ref_p, atol=1e-9) and np.any(ref_p != 0):
            fail(
                "your updates point up the loss: return minus the gradient "
                "(gamma = +y when the margin is violated)."
            )
        require(
            np.allclose(dwp, ref_p, rtol=1e-6, atol=1e-9),
            f"dW_pred differs from -dL/dW_pred (y = {y:+d}, u = {u:.3f}): it should be "
            "gamma * z c^T with z = relu(W x), c = relu(W x_prev).",
        )
        forward_only = y * np.outer((wp @ np.maximum(w @ x_prev, 0)) * (w @ x > 0), x)
        if np.allclose(dw, forward_only, atol=1e-9) and not np.allclose(dw, ref_w, atol=1e-9):
            fail(
                "your dW misses the second ('retrodiction') term: W also produces the context "
                "c = relu(W x_prev), which contributes (W_pred^T z)_j relu'(a'_j) x_prev_i."
            )
        require(
            np.allclose(dw, ref_w, rtol=1e-6, atol=1e-9),
            f"dW differs from -dL/dW (y = {y:+d}, u = {u:.3f}): check the relu' factors "
            "(a > 0 for the current frame, a' > 0 for the previous one).",
        )
    # a case where the margin is met (y u = 8 > 1): the hinge is flat, nothing changes
    w, wp, x = np.eye(3, 4) * 2, np.eye(3), np.array([1.0, 1.0, 0.0, 0.0])
    dw, dwp = unpack(
        clapp_local_update(w, wp, x, x, 1), 2, "clapp_local_update(W, W_pred, x_prev, x, y)"
    )
    require(
        np.all(as_array(dw, "dW", shape=w.shape) == 0)
        and np.all(as_array(dwp, "dW_pred", shape=wp.shape) == 0),
        "when y u > 1 the hinge loss is flat (zero): both updates must be exactly zero "
        "(gamma = 0).",
    )
    return passed("the local update equals minus the gradient of the CLAPP hinge loss.")


def check_posterior_error(posterior_error, *, hidden: bool = False) -> None:
    """Check ``posterior_error(P, w, r, f) -> e_new``: the output error after one RLS step,
    :math:`e/(1 + \\mathbf r^\\top P\\mathbf r)`, predicted without performing the step.

    The reference applies :func:`memlab.local_learning.rls_update` and measures the error.
    """
    for k, (p, w, r, f) in enumerate(_rls_cases(hidden)):
        p_in, w_in, r_in = p.copy(), w.copy(), r.copy()
        got = posterior_error(p_in, w_in, r_in, f)
        require(
            np.array_equal(p_in, p) and np.array_equal(w_in, w) and np.array_equal(r_in, r),
            "posterior_error changed an input array in place: it must only predict.",
        )
        try:
            got = float(got)
        except (TypeError, ValueError):
            fail(f"posterior_error returned {got!r}, not a number.")
        step = ll.rls_update(p, w, r, f)
        want = float(step.w_out @ r - f)
        e, q = float(w @ r - f), float(r @ p @ r)
        if np.isclose(got, want, rtol=1e-8, atol=1e-12):
            continue
        if np.isclose(got, e, rtol=1e-8):
            fail(
                f"case {k}: you returned the error before the step, {e:.4g}; the step reduces "
                "it. Write w_new^T r - f with w_new = w - e P_new r and simplify."
            )
        if np.isclose(got, 0.0, atol=1e-12):
            fail(
                f"case {k}: RLS does not remove the error completely: the step is damped by "
                f"the 1 + r^T P r of Sherman-Morrison (expected {want:.4g})."
            )
        if np.isclose(got, e * q / (1 + q), rtol=1e-8):
            fail(
                f"case {k}: you returned the error *removed* by the step, e r^T P r / "
                f"(1 + r^T P r) = {got:.4g}; the error that remains is e / (1 + r^T P r)."
            )
        fail(f"case {k}: expected the error after the step {want:.6g}, got {got:.6g}.")
    passed("the error after an RLS step is e / (1 + r^T P r), as the simulation confirms.")


# every check gives a verdict for an answer of the wrong kind (see _common.guard_checks)
from ._common import guard_checks  # noqa: E402

guard_checks(globals())
