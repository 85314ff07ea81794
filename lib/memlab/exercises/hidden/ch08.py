"""Chapter 8, for the grader only: the references, the hidden cases and the stored visible cases.

``visible_cases(name)`` is what ``memlab/exercises/data/ch08_<name>.json`` stores (a test
compares the two), for ``name`` in ``moments``, ``gaussian``.
"""

from __future__ import annotations

import numpy as np


def moments_reference(past_counts, p, n_neurons):
    """Binomial mean and variance of the count of the ``F = N - sum(past_counts)`` free neurons."""
    free = n_neurons - np.sum(past_counts)
    return free * p, free * p * (1 - p)


def gaussian_reference(z, m, v):
    """``sum log N(z; m, v)`` and its partial derivatives with respect to z, m and v."""
    r = z - m
    value = np.sum(-0.5 * r * r / v - 0.5 * np.log(2 * np.pi * v))
    return value, -r / v, r / v, 0.5 * r * r / v**2 - 0.5 / v


def _moments_inputs():
    rng = np.random.default_rng(8)
    visible = [
        (np.array([3, 1, 0, 2]), 0.1, 50),
        (np.array([0, 0]), 0.5, 10),
        (np.array([7]), 0.02, 100),
    ]
    hidden = [
        (rng.integers(0, 5, 8), float(rng.random()), 200),
        (np.array([10, 10, 10]), 0.3, 30),  # every neuron refractory
        (np.zeros(0, dtype=int), 0.2, 40),  # no refractoriness
    ]
    return visible, hidden


def _moments_case(past, p, n) -> dict:
    mean, var = moments_reference(past, p, n)
    free = int(n - np.sum(past))
    return {
        "past_counts": [int(c) for c in past],
        "p": float(p),
        "n_neurons": int(n),
        "free": free,
        "mean": float(mean),
        "variance": float(var),
        # the typical mistakes: every neuron free (N p), the Poisson variance (F p)
        "mean_all_free": float(n * p),
        "variance_poisson": float(free * p),
    }


def _gaussian_inputs():
    rng = np.random.default_rng(3)
    visible = [
        (np.array([1.0, 2.5, 0.0]), np.array([1.5, 2.0, 0.4]), np.array([2.0, 3.0, 1.4])),
        (rng.random(20) * 5, rng.random(20) * 5, 1 + rng.random(20)),
    ]
    hidden = [
        (np.zeros(5), np.zeros(5), np.full(5, 0.5)),
        (rng.random(50) * 20, rng.random(50) * 20, 1 + 10 * rng.random(50)),
    ]
    return visible, hidden


def _gaussian_case(z, m, v) -> dict:
    value, d_z, d_mean, d_var = gaussian_reference(z, m, v)
    return {
        "z": z.tolist(),
        "mean": m.tolist(),
        "var": v.tolist(),
        "value": float(value),
        "d_z": d_z.tolist(),
        "d_mean": d_mean.tolist(),
        "d_var": d_var.tolist(),
        # the typical mistakes: no -1/2 log(2 pi) per term, d_var without the -1/(2 v) term
        "value_without_constant": float(value + 0.5 * z.size * np.log(2 * np.pi)),
        "d_var_without_log_term": (0.5 * (z - m) ** 2 / v**2).tolist(),
    }


_MAKE = {
    "moments": (_moments_case, _moments_inputs),
    "gaussian": (_gaussian_case, _gaussian_inputs),
}


def visible_cases(name: str) -> list[dict]:
    """What ``memlab/exercises/data/ch08_<name>.json`` stores (a test compares the two)."""
    make, inputs = _MAKE[name]
    return [make(*case) for case in inputs()[0]]


def hidden_cases(name: str) -> list[dict]:
    make, inputs = _MAKE[name]
    return [make(*case) for case in inputs()[1]]
