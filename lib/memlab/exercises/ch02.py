"""Checks for the coding exercises of Chapter 2 (dense associative memories)."""

from __future__ import annotations

import numpy as np

from .. import dense
from .. import hopfield as hf
from ._common import as_array, fail, hidden_module, passed, require, unpack


def _with_self_term(patterns, state, n):
    xi = patterns.astype(np.int64)
    m = xi @ state.astype(np.int64)
    return np.array(
        [
            int(sum((mm + x) ** (n + 1) - (mm - x) ** (n + 1) for mm, x in zip(m, xi[:, i])))
            for i in range(patterns.shape[1])
        ]
    )


def check_dense_difference(dense_difference, *, hidden: bool = False) -> None:
    """Check ``dense_difference(patterns, state, i, n) -> D_i`` against ``dense.binary_field``.

    :math:`D_i = \\sum_\\mu [F(M^{(i)}_\\mu + \\xi^\\mu_i) - F(M^{(i)}_\\mu - \\xi^\\mu_i)]`,
    :math:`F(x) = x^{n+1}`, with the overlaps :math:`M^{(i)}_\\mu` computed without neuron i.
    """
    cases = [(12, 40, 1), (30, 25, 2)]
    if hidden:
        cases += hidden_module("ch02").DENSE_DIFFERENCE_CASES
    for n_patterns, n_neurons, seed in cases:
        rng = np.random.default_rng(2000 + seed)
        patterns = hf.random_patterns(n_patterns, n_neurons, rng=rng)
        state = rng.choice(np.array([-1, 1], dtype=np.int8), size=n_neurons)
        for n in (1, 2, 3):
            expected = dense.binary_field(patterns, state, n)
            mine = np.array(
                [dense_difference(patterns, state, i, n) for i in range(n_neurons)], dtype=object
            )
            if any(value is None for value in mine):
                fail("dense_difference returned None: did you forget the `return` statement?")
            mine = as_array(mine, f"D_i for n = {n}")
            if np.allclose(mine, expected, rtol=1e-9):
                continue
            if np.allclose(mine, -expected, rtol=1e-9):
                fail(
                    f"for n = {n} your D_i has the wrong sign: compute "
                    "F(M + xi_i) - F(M - xi_i), the energy gained by setting s_i = +1."
                )
            if np.allclose(mine, _with_self_term(patterns, state, n), rtol=1e-9):
                fail(
                    f"for n = {n} your overlaps include neuron i itself: use "
                    "M_mu^(i) = sum over j != i of xi_j^mu s_j."
                )
            wrong = int(np.flatnonzero(~np.isclose(mine, expected, rtol=1e-9))[0])
            fail(
                f"for n = {n}, neuron {wrong}: you return {mine[wrong]:.6g}, expected "
                f"{float(expected[wrong]):.6g}. Check the exponent (F(x) = x**(n + 1)) and that "
                "you sum over all patterns."
            )
    return passed("D_i agrees with dense.binary_field for every neuron and n = 1, 2, 3.")


def check_capacity_versus_gain(capacity_versus_gain, *, hidden: bool = False) -> None:
    """Check ``capacity_versus_gain(n, gains) -> (alpha_c array, list of limits)``."""
    gains = np.array([1.5, 3.0]) if not hidden else np.array(hidden_module("ch02").GAINS)
    for n in (1, 2):
        alpha_c, limits = unpack(capacity_versus_gain(n, gains), 2, "capacity_versus_gain")
        alpha_c = as_array(alpha_c, "alpha_c", shape=gains.shape)
        require(
            len(limits) == len(gains),
            f"you return {len(limits)} limits for {len(gains)} gains: one per gain.",
        )
        for gain, mine, limit in zip(gains, alpha_c, limits):
            ref = dense.critical_capacity(n, float(gain))
            require(
                np.isclose(mine, ref.alpha_c, rtol=1e-6),
                f"n = {n}, g = {gain}: alpha_c = {mine:.5g}, expected {ref.alpha_c:.5g}; use "
                "dense.critical_capacity(n, g).alpha_c for each gain.",
            )
            require(
                limit == ref.limit,
                f"n = {n}, g = {gain}: the branch ends by {limit!r}, expected {ref.limit!r}; "
                "return critical_capacity(...).limit.",
            )
    return passed("alpha_c(g) and the way each branch ends agree with dense.critical_capacity.")


# every check gives a verdict for an answer of the wrong kind (see _common.guard_checks)
from ._common import guard_checks  # noqa: E402

guard_checks(globals())
