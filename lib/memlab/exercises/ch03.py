"""Checks for the coding exercises of Chapter 3 (transient dynamics and DMFT)."""

from __future__ import annotations

import numpy as np

from .. import dmft
from ._common import fail, passed, require, unpack

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
        cases += [(0.2, 1.0, 0.01), (0.5, 0.4, 0.0), (0.14, 0.7, 0.05)]
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
