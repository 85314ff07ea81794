"""Checks for the coding exercises of Chapter 3 (transient dynamics and DMFT)."""

from __future__ import annotations

import numpy as np

from .. import dmft
from ._common import fail, hidden_module, passed, require, unpack

_G, _DT, _STEPS, _SAMPLES = 1.5, 0.25, 40, 2000


def check_readout_time(readout_time, *, hidden: bool = False) -> None:
    """Check ``readout_time(alpha, init_overlap, tolerance) -> (t_opt, max m_bar)`` (n = 1 DMFT).

    ``t_opt`` is the first time at which :math:`\\bar m(t)` is within ``tolerance`` of its
    maximum.  The reference solves the DMFT with the chapter's settings (g = 1.5, dt = 0.25,
    40 steps, 2000 samples, seed 0).  Another seed or sample size moves the answer a little, so
    t_opt may differ by one time step and the overlap by 0.03.
    """
    cases = [(0.2, 0.6, 0.01), (0.14, 0.6, 0.01)]
    if hidden:
        cases += hidden_module("ch03").READOUT_CASES
    for alpha, a_bar, tol in cases:
        t_opt, best = unpack(
            readout_time(alpha, a_bar, tolerance=tol),
            2,
            "readout_time(alpha, init_overlap, tolerance)",
        )
        try:
            t_opt, best = float(t_opt), float(best)
        except (TypeError, ValueError):
            fail("readout_time should return two numbers: (t_opt, max m_bar).")
        m_bar = dmft.solve(
            1, _G, alpha, _DT, _STEPS, a_bar, _SAMPLES, rng=np.random.default_rng(0)
        ).m_bar
        k_max = int(np.argmax(m_bar))
        k = int(np.argmax(m_bar >= m_bar[k_max] - tol))
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
            abs(best - m_bar[k_max]) <= 0.03,
            f"{where}: your best overlap {best:.3f} differs from {m_bar[k_max]:.3f}: take the "
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


def _first_step_reference(n, alpha, a_bar, dt, g=_G):
    """``(m(1), C_phi(1,1))`` of the DMFT by 2-D Gauss-Hermite quadrature (xi_0 = +1)."""
    u, w = np.polynomial.hermite_e.hermegauss(60)
    w = w / w.sum()
    a = a_bar * g
    x0 = a + g * np.sqrt(1.0 - a_bar**2) * u
    phi0 = np.tanh(x0)
    m0, c0 = w @ phi0, w @ phi0**2
    if n == 1:
        c_eta, f00 = g**2 * c0, g * np.sqrt(alpha)
    else:
        c_eta, f00 = g**2 * np.prod(np.arange(1, 2 * n, 2)) * c0**n, 0.0
    drift = (1.0 - dt) * x0 + dt * (g / np.sqrt(alpha) * m0**n + f00 * phi0)
    phi1 = np.tanh(drift[:, None] + dt * np.sqrt(c_eta) * u[None, :])
    weights = w[:, None] * w[None, :]
    return float(np.sum(weights * phi1)), float(np.sum(weights * phi1**2))


_FIRST_STEP_TOL = 0.01


def check_first_step(first_step, *, hidden: bool = False) -> None:
    """Check ``first_step(n, alpha, init_overlap, dt) -> (m(1), C_phi(1, 1))`` at g = 1.5.

    The reference evaluates the same two-dimensional Gaussian integral by Gauss-Hermite
    quadrature; it agrees with ``dmft.solve(..., n_steps=1)`` to the solver's sampling error.
    Answers within 0.01 pass (a Monte Carlo answer with 10^6 samples is well within that).
    """
    cases = [(1, 0.2, 0.5, 0.25), (2, 0.1, 0.5, 0.25)]
    if hidden:
        cases += hidden_module("ch03").FIRST_STEP_CASES
    for n, alpha, a_bar, dt in cases:
        m1, c1 = unpack(
            first_step(n, alpha, a_bar, dt), 2, "first_step(n, alpha, init_overlap, dt)"
        )
        try:
            m1, c1 = float(m1), float(c1)
        except (TypeError, ValueError):
            fail("first_step should return two numbers: (m(1), C_phi(1, 1)).")
        m_ref, c_ref = _first_step_reference(n, alpha, a_bar, dt)
        where = f"n = {n}, alpha = {alpha}, initial alignment {a_bar}, dt = {dt}"
        err = max(abs(m1 - m_ref), abs(c1 - c_ref))
        if n == 1 and err > _FIRST_STEP_TOL:
            m_no, c_no = _first_step_reference_without_self(alpha, a_bar, dt)
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


def _first_step_reference_without_self(alpha, a_bar, dt, g=_G):
    """The typical mistake for ``n = 1``: no self-coupling term."""
    u, w = np.polynomial.hermite_e.hermegauss(60)
    w = w / w.sum()
    a = a_bar * g
    x0 = a + g * np.sqrt(1.0 - a_bar**2) * u
    phi0 = np.tanh(x0)
    m0, c0 = w @ phi0, w @ phi0**2
    drift = (1.0 - dt) * x0 + dt * g / np.sqrt(alpha) * m0
    phi1 = np.tanh(drift[:, None] + dt * g * np.sqrt(c0) * u[None, :])
    weights = w[:, None] * w[None, :]
    return float(np.sum(weights * phi1)), float(np.sum(weights * phi1**2))


def _double_factorial(k: int) -> int:
    return 1 if k <= 0 else k * _double_factorial(k - 2)


def _wick(p, q, a, b, c):
    """``E[u^p v^q]`` for zero-mean Gaussians with ``Var u = a``, ``Var v = b``, ``Cov = c``."""
    from math import comb, factorial

    total = 0.0
    for j in range(min(p, q) + 1):
        if (p - j) % 2 or (q - j) % 2:
            continue
        total += (
            comb(p, j)
            * comb(q, j)
            * factorial(j)
            * c**j
            * _double_factorial(p - j - 1)
            * a ** ((p - j) // 2)
            * _double_factorial(q - j - 1)
            * b ** ((q - j) // 2)
        )
    return total


def check_gaussian_moment(gaussian_moment, *, hidden: bool = False) -> None:
    """Check ``gaussian_moment(p, q, a, b, c) -> E[u^p v^q]`` (Isserlis' theorem).

    ``(u, v)`` is a zero-mean Gaussian pair with ``Var u = a``, ``Var v = b`` and
    ``Cov(u, v) = c``; the answer must be exact (relative error below 1e-6).
    """
    cases = [
        (4, 4, 0.7, 0.5, 0.3),
        (2, 2, 1.0, 1.0, 0.5),
        (3, 5, 0.6, 0.9, -0.4),
        (1, 3, 0.8, 0.6, 0.2),
    ]
    if hidden:
        cases += hidden_module("ch03").MOMENT_CASES
    for p, q, a, b, c in cases:
        try:
            value = float(gaussian_moment(p, q, a, b, c))
        except (TypeError, ValueError):
            fail("gaussian_moment should return one number.")
        ref = _wick(p, q, a, b, c)
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
