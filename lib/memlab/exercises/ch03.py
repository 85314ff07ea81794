"""Checks for the coding exercises of Chapter 3 (transient dynamics and DMFT)."""

from __future__ import annotations

import numpy as np

from .. import dmft
from ._common import fail, passed, require, unpack

_G, _DT, _STEPS, _SAMPLES = 1.5, 0.25, 40, 2000


def check_readout_time(readout_time, *, hidden: bool = False) -> None:
    """Check ``readout_time(alpha, init_overlap) -> (t_opt, max m_bar)`` for the n = 1 DMFT.

    The reference solves the DMFT with the chapter's settings (g = 1.5, dt = 0.25, 40 steps, 2000
    samples). Another seed or sample size moves the answer a little, so t_opt may differ by one
    time step and the overlap by 0.03.
    """
    cases = [(0.2, 0.6)]
    if hidden:
        cases += [(0.2, 1.0), (0.5, 0.4)]
    for alpha, a_bar in cases:
        t_opt, best = unpack(readout_time(alpha, a_bar), 2, "readout_time(alpha, init_overlap)")
        try:
            t_opt, best = float(t_opt), float(best)
        except (TypeError, ValueError):
            fail("readout_time should return two numbers: (t_opt, max m_bar).")
        sol = dmft.solve(1, _G, alpha, _DT, _STEPS, a_bar, _SAMPLES, rng=np.random.default_rng(0))
        k = int(np.argmax(sol.m_bar))
        if k > 0 and t_opt == k:
            fail(
                f"you returned t_opt = {t_opt:g}, which looks like the index of the maximum: "
                "multiply the index by the time step dt = 0.25."
            )
        require(
            best <= 1 + 1e-9,
            f"your best overlap is {best:.3f} > 1: use the normalised overlap m_bar = m / sqrt(C), "
            "not m.",
        )
        require(
            abs(best - sol.m_bar[k]) <= 0.03,
            f"alpha = {alpha}, initial alignment {a_bar}: your best overlap {best:.3f} differs "
            f"from {sol.m_bar[k]:.3f}: take the maximum over time of sol.m_bar.",
        )
        require(
            abs(t_opt - _DT * k) <= _DT + 1e-9,
            f"alpha = {alpha}, initial alignment {a_bar}: t_opt = {t_opt:g}, expected about "
            f"{_DT * k:g}: t_opt = dt * argmax_t m_bar(t).",
        )
    return passed("the optimal readout time and the best overlap agree with the DMFT.")
