"""Checks for the coding exercises of Chapter 6 (FORCE, reward-modulated Hebb, CLAPP)."""

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


def _pass_cases(hidden: bool):
    """(R, f, alpha, w0): rows of rates, targets, regulariser and starting readout."""
    cases = [(40, 5, 1.0, False, 0), (8, 12, 0.5, True, 1), (30, 6, 3.0, True, 2)]
    if hidden:
        cases += hidden_module("ch06").PASS_CASES
    for t_len, n, alpha, with_w0, seed in cases:
        rng = np.random.default_rng(610 + seed)
        rates = np.tanh(rng.normal(size=(t_len, n)))
        w0 = rng.normal(size=n) if with_w0 else np.zeros(n)
        yield rates, rng.normal(size=t_len), alpha, w0


def check_rls_after_pass(rls_after_pass, *, hidden: bool = False) -> None:
    """Check ``rls_after_pass(R, f, alpha, w0) -> (P, w)``: the state of recursive least squares
    after one pass through the rows of ``R``, from :math:`P = \\mathbb I/\\alpha` and
    :math:`\\mathbf w = \\mathbf w_0`, computed without running the recursion.

    The reference runs :func:`memlab.local_learning.rls_update` row by row.
    """
    for k, (rates, f, alpha, w0) in enumerate(_pass_cases(hidden)):
        t_len, n = rates.shape
        args = rates.copy(), f.copy(), alpha, w0.copy()
        p_got, w_got = unpack(rls_after_pass(*args), 2, "rls_after_pass(R, f, alpha, w0)")
        require(
            np.array_equal(args[0], rates) and np.array_equal(args[3], w0),
            "rls_after_pass changed an input array in place: return new arrays.",
        )
        p_got = as_array(p_got, "P", shape=(n, n))
        w_got = as_array(w_got, "w", shape=(n,))
        p_ref, w_ref = np.eye(n) / alpha, w0.copy()
        for r, target in zip(rates, f):
            p_ref, w_ref = ll.rls_update(p_ref, w_ref, r, target)
        where = f"case {k} ({t_len} rows, N = {n}, alpha = {alpha:g})"
        gram = rates.T @ rates
        if not np.allclose(p_got, p_ref, rtol=1e-6, atol=1e-9):
            if np.allclose(p_got, np.linalg.inv(gram + np.eye(n) / alpha), rtol=1e-6):
                fail(
                    f"{where}: your P uses 1/alpha as the regulariser; FORCE starts from "
                    "P = I / alpha, the inverse of alpha I."
                )
            if np.allclose(p_got, np.linalg.pinv(gram), rtol=1e-6, atol=1e-9):
                fail(
                    f"{where}: your P has no regulariser: the starting P = I / alpha counts "
                    "as alpha I in the correlation matrix."
                )
            i, j = np.unravel_index(np.argmax(np.abs(p_got - p_ref)), p_ref.shape)
            fail(
                f"{where}: P[{i}, {j}] is {p_got[i, j]:.6g}, but after the pass RLS has "
                f"{p_ref[i, j]:.6g}. Which matrix does each Sherman-Morrison step invert?"
            )
        if not np.allclose(w_got, w_ref, rtol=1e-6, atol=1e-9):
            no_start = p_ref @ (rates.T @ f)
            if np.any(w0 != 0) and np.allclose(w_got, no_start, rtol=1e-6, atol=1e-9):
                fail(
                    f"{where}: your w ignores the starting readout w0 (it would be right "
                    "for w0 = 0): the regulariser pulls w towards w0, not towards 0."
                )
            if np.any(w0 != 0) and np.allclose(
                w_got, p_ref @ (w0 + rates.T @ f), rtol=1e-6, atol=1e-9
            ):
                fail(
                    f"{where}: the starting readout w0 enters with the weight of the "
                    "regulariser alpha I, not with weight 1."
                )
            if np.allclose(w_got, np.linalg.lstsq(rates, f, rcond=None)[0], atol=1e-9):
                fail(
                    f"{where}: your w is the plain least-squares fit; RLS started from "
                    "P = I / alpha keeps a ridge regulariser."
                )
            i = int(np.argmax(np.abs(w_got - w_ref)))
            fail(
                f"{where}: w[{i}] is {w_got[i]:.6g}, but after the pass RLS has "
                f"{w_ref[i]:.6g}. Which cost does w minimise after t steps?"
            )
    passed(
        "one pass of RLS from P = I/alpha is ridge regression: P = (alpha I + R^T R)^-1 and "
        "w = P (alpha w0 + R^T f)."
    )


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
    h, d = int(rng.integers(3, 7)), int(rng.integers(3, 8))
    w = rng.normal(size=(h, d))
    wp = rng.normal(size=(h, h)) * 0.3
    x_prev, x = rng.normal(size=d), rng.normal(size=d)
    return w, wp, x_prev, x


def _score_cases(hidden: bool):
    """(W, W_pred, x_prev, x, y, eta, what): random layers, then exact margin cases."""
    seeds = range(6) if not hidden else hidden_module("ch06").CLAPP_SEEDS
    for seed in seeds:
        w, wp, x_prev, x = _clapp_case(660 + seed)
        eta = 10.0 ** -(1 + seed % 3)
        yield w, wp, x_prev, x, (1 if seed % 2 else -1), eta, "random"
    # integer weights: u = 8 (margin met for y = +1, violated for y = -1), and u = 1 exactly
    w, wp, x = np.eye(3, 4) * 2, np.eye(3), np.array([1.0, 1.0, 0.0, 0.0])
    yield w, wp, x, x, 1, 0.01, "met"
    yield w, wp, x, x, -1, 0.01, "random"
    w, wp, x = np.eye(2, 3), np.eye(2), np.array([1.0, 0.0, 0.0])
    yield w, wp, x, x, 1, 0.01, "tie"


def check_score_change(score_change, *, hidden: bool = False) -> None:
    """Check ``score_change(W, W_pred, x_prev, x, y, eta) -> du``: the change of the CLAPP score
    :math:`u` when :math:`W^{pred}` alone takes one step :math:`\\eta\\,\\Delta W^{pred}`,
    predicted without taking it.

    The reference applies :func:`memlab.local_learning.clapp_update` and measures the score.
    """
    for k, (w, wp, x_prev, x, y, eta, what) in enumerate(_score_cases(hidden)):
        args = (w.copy(), wp.copy(), x_prev.copy(), x.copy())
        got = score_change(*args, y, eta)
        require(
            all(np.array_equal(a, b) for a, b in zip(args, (w, wp, x_prev, x))),
            "score_change changed an input array in place: it must only predict.",
        )
        if got is None:
            fail("score_change returned None: did you forget the `return` statement?")
        try:
            got = float(got)
        except (TypeError, ValueError):
            fail(f"score_change returned {got!r}, not a number.")
        u = ll.clapp_score(w, wp, x_prev, x)
        step = ll.clapp_update(w, wp, x_prev, x, y)
        want = ll.clapp_score(w, wp + eta * step.d_w_pred, x_prev, x) - u
        if np.isclose(got, want, rtol=1e-9, atol=1e-12):
            continue
        z, c = np.maximum(w @ x, 0.0), np.maximum(w @ x_prev, 0.0)
        size = eta * (z @ z) * (c @ c)
        where = f"case {k} (y = {y:+d}, u = {u:.4g}, eta = {eta:g})"
        if want == 0 and what == "tie":
            fail(
                f"{where}: here y u = 1 exactly, so 1 - y u = 0 and the margin is met: "
                "the hinge does not push, W_pred does not change and du = 0."
            )
        if want == 0:
            fail(
                f"{where}: here y u = {y * u:.3g} > 1: the margin is met, the hinge loss is "
                "flat, W_pred does not change and du must be 0."
            )
        if np.isclose(got, -want, rtol=1e-9):
            fail(
                f"{where}: your change has the wrong sign: the step descends the hinge loss, "
                f"so it moves u towards the side of y = {y:+d} (expected {want:.6g})."
            )
        if np.isclose(got, u + want, rtol=1e-9):
            fail(f"{where}: you returned the new score u + du; return the change du.")
        if np.isclose(got, want / eta, rtol=1e-9):
            fail(f"{where}: your du misses the learning rate eta (it is {eta:g} here).")
        raw = eta * (x @ x) * (x_prev @ x_prev)
        pre = eta * np.sum((w @ x) ** 2) * np.sum((w @ x_prev) ** 2)
        if np.isclose(abs(got), raw, rtol=1e-9) or np.isclose(abs(got), pre, rtol=1e-9):
            fail(
                f"{where}: your size uses the inputs or the pre-activations; W_pred "
                "connects the unit outputs z = relu(W x) and c = relu(W x_prev)."
            )
        fail(
            f"{where}: expected du = {want:.6g} (size eta |z|^2 |c|^2 = {size:.6g}), "
            f"got {got:.6g}. Write u after the step with W_pred + eta dW_pred and expand."
        )
    passed(
        "a CLAPP step on W_pred moves the score by y eta |z|^2 |c|^2 towards the side of y "
        "while the margin is violated, and not at all once y u >= 1."
    )


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
