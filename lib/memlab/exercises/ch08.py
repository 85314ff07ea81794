"""Checks for the coding exercises of Chapter 8 (hidden neurons, neuLVM)."""

from __future__ import annotations

import numpy as np

from ._common import as_array, fail, hidden_module, passed, require, unpack


def check_spike_count_moments(spike_count_moments, *, hidden: bool = False) -> None:
    """Check ``spike_count_moments(past_counts, p, n_neurons)`` -> ``(mean, variance)``.

    ``past_counts[k - 1]`` is the population's count ``k`` steps ago (k = 1 .. R); the
    ``F = N - sum(past_counts)`` free neurons spike independently with probability ``p``, so the
    count is binomial with mean ``F p`` and variance ``F p (1 - p)``.
    """
    cases = [
        (np.array([3, 1, 0, 2]), 0.1, 50),
        (np.array([0, 0]), 0.5, 10),
        (np.array([7]), 0.02, 100),
    ]
    if hidden:
        cases += hidden_module("ch08").spike_count_cases()
    for past, p, n in cases:
        before = past.copy()
        out = unpack(spike_count_moments(past, p, n), 2, "spike_count_moments")
        require(
            np.array_equal(past, before),
            "spike_count_moments changed past_counts: do not modify its arguments.",
        )
        mean, var = (float(as_array(v, name, shape=())) for v, name in zip(out, ("mean", "var")))
        free = n - past.sum()
        if not np.isclose(mean, free * p, rtol=1e-10, atol=1e-12):
            if np.isclose(mean, n * p):
                fail(
                    f"with past counts {past.tolist()} your mean is N p = {mean:.4g}: only the "
                    f"F = N - sum(past_counts) = {free} free neurons can spike."
                )
            fail(f"the mean for past counts {past.tolist()}, p = {p}, N = {n} should be F p.")
        if not np.isclose(var, free * p * (1 - p), rtol=1e-10, atol=1e-12):
            if np.isclose(var, free * p):
                fail(
                    "your variance is F p, the Poisson value: the binomial variance has a "
                    "factor (1 - p)."
                )
            fail(f"the variance for past counts {past.tolist()} should be F p (1 - p).")
    return passed("binomial mean F p and variance F p (1 - p) of the free neurons.")


def _reference_terms(z, m, v):
    r = z - m
    value = np.sum(-0.5 * r * r / v - 0.5 * np.log(2 * np.pi * v))
    return value, -r / v, r / v, 0.5 * r * r / v**2 - 0.5 / v


def check_gaussian_terms(gaussian_terms, *, hidden: bool = False) -> None:
    """Check ``gaussian_terms(z, mean, var)`` -> ``(value, d_z, d_mean, d_var)``.

    ``value = sum log N(z; mean, var)``, and its partial derivatives element by element.
    """
    rng = np.random.default_rng(3)
    cases = [
        (np.array([1.0, 2.5, 0.0]), np.array([1.5, 2.0, 0.4]), np.array([2.0, 3.0, 1.4])),
        (rng.random(20) * 5, rng.random(20) * 5, 1 + rng.random(20)),
    ]
    if hidden:
        cases += hidden_module("ch08").gaussian_terms_cases(rng)
    for z, m, v in cases:
        out = unpack(gaussian_terms(z.copy(), m.copy(), v.copy()), 4, "gaussian_terms")
        value = float(as_array(out[0], "value", shape=()))
        grads = [
            as_array(g, name, shape=z.shape) for g, name in zip(out[1:], ("d_z", "d_mean", "d_var"))
        ]
        ref = _reference_terms(z, m, v)
        if not np.isclose(value, ref[0], rtol=1e-9, atol=1e-9):
            if np.isclose(value, ref[0] + 0.5 * z.size * np.log(2 * np.pi), rtol=1e-9):
                fail("your value misses the constant -1/2 log(2 pi) of every Gaussian term.")
            fail(
                f"your log-density {value:.6g} differs from sum(-(z-m)^2/(2v) - log(2 pi v)/2) "
                f"= {ref[0]:.6g}."
            )
        for g, r, name in zip(grads, ref[1:], ("d_z", "d_mean", "d_var")):
            if not np.allclose(g, r, rtol=1e-8, atol=1e-10):
                if name == "d_var" and np.allclose(g, 0.5 * (z - m) ** 2 / v**2, rtol=1e-8):
                    fail(
                        "your d_var misses -1/(2 v), the derivative of the -log(v)/2 term: "
                        "a wider Gaussian is also a lower one."
                    )
                if name == "d_mean" and np.allclose(g, -r, rtol=1e-8):
                    fail("your d_mean has the wrong sign: d/dm of -(z - m)^2/(2v) is +(z - m)/v.")
                fail(f"{name} differs from the derivative of the log-density; check it by hand.")
    return passed("log-density and its three partial derivatives agree with the formulas.")


# every check gives a verdict for an answer of the wrong kind (see _common.guard_checks)
from ._common import guard_checks  # noqa: E402

guard_checks(globals())
