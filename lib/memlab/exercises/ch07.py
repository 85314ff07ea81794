"""Checks for the coding exercises of Chapter 7 (surprise-based learning)."""

from __future__ import annotations

import numpy as np

from ._common import as_array, fail, hidden_module, load_cases, passed, require


def check_particle_weights(particle_weights, *, hidden: bool = False) -> None:
    """Check ``particle_weights(weights, log_p_particles, log_p_prior, p_change)``.

    :math:`w_i' \\propto w_i[(1-p_c)P(y;\\pi_i) + p_c P(y;\\pi^{(0)})]`, normalised, and finite
    when every probability underflows in double precision. The visible cases and their expected
    weights are stored in ``data/ch07_pf.json``; the reference update lives with the hidden
    cases, which only the grader has.
    """
    cases = load_cases("ch07_pf")
    if hidden:
        cases += hidden_module("ch07").hidden_cases()
    for case in cases:
        weights = np.array(case["weights"])
        log_p, log_p0 = np.array(case["log_p_particles"]), case["log_p_prior"]
        p_c = case["p_change"]
        before = weights.copy()
        new = particle_weights(weights, log_p, log_p0, p_c)
        require(
            np.array_equal(weights, before),
            "particle_weights changed the weights it was given: return new weights instead.",
        )
        new = as_array(new, "the new weights", shape=weights.shape)
        expected = np.array(case["expected"])
        if np.all(new <= 0) and np.allclose(np.exp(new), expected, rtol=1e-8, atol=1e-12):
            fail(
                "you return the logarithms of the new weights: exponentiate them "
                "(np.exp(log_w)) before you return them."
            )
        if np.all(new <= 0) and not np.isclose(new.sum(), 1.0):
            fail(
                f"your weights are all negative or zero (sum {new.sum():.4g}): did you return "
                "log weights? Weights are probabilities: exponentiate, then normalise."
            )
        require(
            np.isclose(new.sum(), 1.0),
            f"your weights sum to {new.sum():.4g}: divide by their sum to normalise.",
        )
        if not np.allclose(new, expected, rtol=1e-8, atol=1e-12):
            if np.allclose(new, case["swapped"], rtol=1e-8):
                fail(
                    "your weights use p_c and 1 - p_c the wrong way round: a particle keeps its "
                    "belief with probability 1 - p_c and restarts from the prior with p_c."
                )
            j = int(np.argmax(np.abs(new - expected)))
            fail(
                f"your weights differ from w_i [(1 - p_c) P(y; pi_i) + p_c P(y; pi_0)], "
                f"normalised, by up to {abs(new[j] - expected[j]):.3g} (particle {j}: yours "
                f"{new[j]:.10g}, expected {expected[j]:.10g}): remember that log_p_particles "
                "and log_p_prior are logarithms, and to multiply by the old weights."
            )
    first = cases[0]
    weights, log_p = np.array(first["weights"]), np.array(first["log_p_particles"])
    log_p0, p_c = first["log_p_prior"], first["p_change"]
    tiny = particle_weights(weights, log_p - 2000.0, log_p0 - 2000.0, p_c)
    tiny = np.asarray(tiny, dtype=float)
    require(
        np.all(np.isfinite(tiny)),
        "with log-probabilities near -2000 your weights are NaN: exp(-2000) underflows to 0. "
        "Work with logarithms and subtract the largest log weight before exponentiating "
        "(the log-sum-exp trick).",
    )
    require(
        np.allclose(tiny, first["expected"], rtol=1e-8),
        "with log-probabilities near -2000 your weights change: they should not, since every "
        "probability is scaled by the same factor.",
    )
    return passed("normalised, equal to the direct formula, and safe from underflow.")


# every check gives a verdict for an answer of the wrong kind (see _common.guard_checks)
from ._common import guard_checks  # noqa: E402

guard_checks(globals())
