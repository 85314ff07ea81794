"""Checks for the coding exercises of Chapter 8 (hidden neurons, neuLVM)."""

from __future__ import annotations

import numpy as np

from ._common import as_array, fail, hidden_module, load_cases, passed, require, unpack


def _cases(name: str, hidden: bool) -> list[dict]:
    """The visible cases (stored with the package), and with ``hidden`` the grader's."""
    cases = load_cases(f"ch08_{name}")
    if hidden:
        cases += hidden_module("ch08").hidden_cases(name)
    return cases


def check_spike_count_moments(spike_count_moments, *, hidden: bool = False) -> None:
    """Check ``spike_count_moments(past_counts, p, n_neurons)`` -> ``(mean, variance)``.

    ``past_counts[k - 1]`` is the population's count ``k`` steps ago (k = 1 .. R); the
    ``F = N - sum(past_counts)`` free neurons spike independently with probability ``p``, so the
    count is binomial with mean ``F p`` and variance ``F p (1 - p)``.  The visible cases and
    their moments are stored in ``data/ch08_moments.json``.
    """
    for case in _cases("moments", hidden):
        past, p, n = np.array(case["past_counts"], dtype=int), case["p"], case["n_neurons"]
        before = past.copy()
        out = unpack(spike_count_moments(past, p, n), 2, "spike_count_moments")
        require(
            np.array_equal(past, before),
            "spike_count_moments changed past_counts: do not modify its arguments.",
        )
        mean, var = (float(as_array(v, name, shape=())) for v, name in zip(out, ("mean", "var")))
        free = case["free"]
        if not np.isclose(mean, case["mean"], rtol=1e-10, atol=1e-12):
            if np.isclose(mean, case["mean_all_free"]):
                fail(
                    f"with past counts {past.tolist()} your mean is N p = {mean:.4g}: only the "
                    f"F = N - sum(past_counts) = {free} free neurons can spike."
                )
            fail(f"the mean for past counts {past.tolist()}, p = {p}, N = {n} should be F p.")
        if not np.isclose(var, case["variance"], rtol=1e-10, atol=1e-12):
            if np.isclose(var, case["variance_poisson"]):
                fail(
                    "your variance is F p, the Poisson value: the binomial variance has a "
                    "factor (1 - p)."
                )
            fail(f"the variance for past counts {past.tolist()} should be F p (1 - p).")
    return passed("binomial mean F p and variance F p (1 - p) of the free neurons.")


def check_gaussian_terms(gaussian_terms, *, hidden: bool = False) -> None:
    """Check ``gaussian_terms(z, mean, var)`` -> ``(value, d_z, d_mean, d_var)``.

    ``value = sum log N(z; mean, var)``, and its partial derivatives element by element.  The
    visible cases and the reference's values are stored in ``data/ch08_gaussian.json``; the
    reference lives with the hidden cases, which only the grader has.
    """
    for case in _cases("gaussian", hidden):
        z, m, v = (np.array(case[key]) for key in ("z", "mean", "var"))
        out = unpack(gaussian_terms(z.copy(), m.copy(), v.copy()), 4, "gaussian_terms")
        value = float(as_array(out[0], "value", shape=()))
        grads = [
            as_array(g, name, shape=z.shape) for g, name in zip(out[1:], ("d_z", "d_mean", "d_var"))
        ]
        ref = [case["value"], *(np.array(case[key]) for key in ("d_z", "d_mean", "d_var"))]
        if not np.isclose(value, ref[0], rtol=1e-9, atol=1e-9):
            if np.isclose(value, case["value_without_constant"], rtol=1e-9):
                fail("your value misses the constant -1/2 log(2 pi) of every Gaussian term.")
            fail(
                f"your log-density {value:.6g} differs from sum(-(z-m)^2/(2v) - log(2 pi v)/2) "
                f"= {ref[0]:.6g}."
            )
        for g, r, name in zip(grads, ref[1:], ("d_z", "d_mean", "d_var")):
            if not np.allclose(g, r, rtol=1e-8, atol=1e-10):
                if name == "d_var" and np.allclose(g, case["d_var_without_log_term"], rtol=1e-8):
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
