"""Checks for the coding exercises of Chapter 3 (transient dynamics and DMFT)."""

from __future__ import annotations

from ._common import fail, hidden_module, load_cases, passed, require, unpack

_DT = 0.25


def _cases(name: str, hidden: bool) -> list[dict]:
    """The visible cases (stored with the package), and with ``hidden`` the grader's."""
    cases = load_cases(f"ch03_{name}")
    if hidden:
        cases += hidden_module("ch03").hidden_cases(name)
    return cases


def check_readout_time(readout_time, *, hidden: bool = False) -> None:
    """Check ``readout_time(alpha, init_overlap, tolerance) -> (t_opt, max m_bar)`` (n = 1 DMFT).

    ``t_opt`` is the first time at which :math:`\\bar m(t)` is within ``tolerance`` of its
    maximum.  The reference solves the DMFT with the chapter's settings (g = 1.5, dt = 0.25,
    40 steps, 2000 samples, seed 0).  Another seed or sample size moves the answer a little, so
    t_opt may differ by one time step and the overlap by 0.03.  The visible cases and the
    reference's answers are stored in ``data/ch03_readout.json``; the reference lives with the
    hidden cases, which only the grader has.
    """
    for case in _cases("readout", hidden):
        alpha, a_bar, tol = case["alpha"], case["init_overlap"], case["tolerance"]
        t_opt, best = unpack(
            readout_time(alpha, a_bar, tolerance=tol),
            2,
            "readout_time(alpha, init_overlap, tolerance)",
        )
        try:
            t_opt, best = float(t_opt), float(best)
        except (TypeError, ValueError):
            fail("readout_time should return two numbers: (t_opt, max m_bar).")
        k, k_max, best_ref = case["k"], case["k_max"], case["best"]
        where = f"alpha = {alpha}, initial alignment {a_bar}, tolerance {tol}"
        if k > 1 and abs(t_opt - k) <= 1:
            fail(
                f"{where}: you returned t_opt = {t_opt:g}, which looks like a step index: "
                "multiply the index by the time step dt = 0.25."
            )
        require(
            best <= 1 + 1e-9,
            f"your best overlap is {best:.3f} > 1: use the normalised overlap m_bar = m / sqrt(C), "
            "not m.",
        )
        require(
            abs(best - best_ref) <= 0.03,
            f"{where}: your best overlap {best:.3f} differs from {best_ref:.3f}: take the "
            "maximum over time of sol.m_bar.",
        )
        if tol > 0 and abs(t_opt - _DT * k_max) <= _DT + 1e-9 < abs(t_opt - _DT * k):
            fail(
                f"{where}: t_opt = {t_opt:g} is the time of the maximum; the exercise asks for the "
                f"first time at which m_bar comes within the tolerance of it (about {_DT * k:g})."
            )
        require(
            abs(t_opt - _DT * k) <= _DT + 1e-9,
            f"{where}: t_opt = {t_opt:g}, expected about {_DT * k:g}: t_opt = dt * (first step "
            "with m_bar >= max m_bar - tolerance).",
        )
    return passed("the optimal readout time and the best overlap agree with the DMFT.")


_FIRST_STEP_TOL = 0.01


def check_first_step(first_step, *, hidden: bool = False) -> None:
    """Check ``first_step(n, alpha, init_overlap, dt) -> (m(1), C_phi(1, 1))`` at g = 1.5.

    The reference evaluates the same two-dimensional Gaussian integral by Gauss-Hermite
    quadrature; it agrees with ``dmft.solve(..., n_steps=1)`` to the solver's sampling error.
    Answers within 0.01 pass (a Monte Carlo answer with 10^6 samples is well within that).
    The visible cases and the reference's answers are stored in ``data/ch03_first_step.json``.
    """
    for case in _cases("first_step", hidden):
        n, alpha, a_bar, dt = case["n"], case["alpha"], case["init_overlap"], case["dt"]
        m1, c1 = unpack(
            first_step(n, alpha, a_bar, dt), 2, "first_step(n, alpha, init_overlap, dt)"
        )
        try:
            m1, c1 = float(m1), float(c1)
        except (TypeError, ValueError):
            fail("first_step should return two numbers: (m(1), C_phi(1, 1)).")
        m_ref, c_ref = case["m1"], case["c1"]
        where = f"n = {n}, alpha = {alpha}, initial alignment {a_bar}, dt = {dt}"
        err = max(abs(m1 - m_ref), abs(c1 - c_ref))
        if n == 1 and err > _FIRST_STEP_TOL:
            m_no, c_no = case["without_self"]
            if max(abs(m1 - m_no), abs(c1 - c_no)) <= _FIRST_STEP_TOL:
                fail(
                    f"{where}: your (m(1), C_phi(1, 1)) = ({m1:.4f}, {c1:.4f}) is what one gets "
                    f"without the self-coupling F(0, 0) phi_0(0) = g sqrt(alpha) phi_0(0) "
                    f"(expected ({m_ref:.4f}, {c_ref:.4f})): for n = 1 every neuron excites "
                    "itself."
                )
        require(
            abs(m1 - m_ref) <= _FIRST_STEP_TOL,
            f"{where}: m(1) = {m1:.4f}, expected {m_ref:.4f}: check the signal "
            "(g / sqrt(alpha)) m(0)^n, the noise variance C_eta(0, 0) and the step dt.",
        )
        require(
            abs(c1 - c_ref) <= _FIRST_STEP_TOL,
            f"{where}: C_phi(1, 1) = {c1:.4f}, expected {c_ref:.4f}: it is the mean of "
            "tanh(x(1))^2 over z_0 and eta_0.",
        )
    return passed("the first step agrees with the DMFT's two-dimensional Gaussian integral.")


def check_gaussian_moment(gaussian_moment, *, hidden: bool = False) -> None:
    """Check ``gaussian_moment(p, q, a, b, c) -> E[u^p v^q]`` (Isserlis' theorem).

    ``(u, v)`` is a zero-mean Gaussian pair with ``Var u = a``, ``Var v = b`` and
    ``Cov(u, v) = c``; the answer must be exact (relative error below 1e-6).  The visible cases
    and their moments are stored in ``data/ch03_isserlis.json``.
    """
    for case in _cases("isserlis", hidden):
        p, q, a, b, c = (case[key] for key in ("p", "q", "a", "b", "c"))
        try:
            value = float(gaussian_moment(p, q, a, b, c))
        except (TypeError, ValueError):
            fail("gaussian_moment should return one number.")
        ref = case["expected"]
        where = f"E[u^{p} v^{q}] with Var u = {a}, Var v = {b}, Cov = {c}"
        if (p + q) % 2:
            require(
                abs(value) < 1e-9,
                f"{where}: odd total power, the moment is 0 (every term of Isserlis' sum leaves "
                f"one factor unpaired); you returned {value:.6g}.",
            )
            continue
        if p == q == 2 and abs(value - (a * b + c * c)) < 1e-9:
            fail(
                f"{where}: you returned a b + c^2 = {value:.6g}; there are two ways to pair each u "
                f"with a v, so the cross term is 2 c^2 (expected {ref:.6g})."
            )
        require(
            abs(value - ref) <= 1e-6 * max(1.0, abs(ref)),
            f"{where}: you returned {value:.6g}, expected {ref:.6g}. Count the pairings: choose "
            "j of the u's and j of the v's to pair across (binom(p, j) binom(q, j) j! ways, "
            "each c^j); pair the rest among themselves ((p-j-1)!! a^((p-j)/2) and the same for v).",
        )
    return passed("your Gaussian moments agree with Isserlis' theorem.")


# every check gives a verdict for an answer of the wrong kind (see _common.guard_checks)
from ._common import guard_checks  # noqa: E402

guard_checks(globals())
