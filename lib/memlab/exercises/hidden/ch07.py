"""Chapter 7, for the grader only: the reference weight update, hidden and stored visible cases."""

from __future__ import annotations

import numpy as np


def reference(weights, log_p_particles, log_p_prior, p_change):
    log_w = np.log(weights) + np.logaddexp(
        np.log1p(-p_change) + log_p_particles, np.log(p_change) + log_p_prior
    )
    w = np.exp(log_w - log_w.max())
    return w / w.sum()


def _case(weights, log_p, log_p0, p_c) -> dict:
    return {
        "weights": [float(v) for v in weights],
        "log_p_particles": [float(v) for v in log_p],
        "log_p_prior": float(log_p0),
        "p_change": float(p_c),
        "expected": [float(v) for v in reference(weights, log_p, log_p0, p_c)],
        "swapped": [float(v) for v in reference(weights, log_p, log_p0, 1 - p_c)],
    }


def _inputs():
    rng = np.random.default_rng(7)
    visible = [
        (np.array([0.5, 0.3, 0.2]), np.array([-1.0, -3.0, -0.5]), -2.0, 0.1),
        (rng.dirichlet(np.ones(20)), rng.normal(-2, 1, 20), -1.5, 0.01),
    ]
    hidden = [
        (np.full(5, 0.2), np.full(5, -3.0), -3.0, 0.5),
        (rng.dirichlet(np.ones(50)), rng.normal(-5, 3, 50), -8.0, 0.2),
    ]
    return visible, hidden


def visible_cases(name: str = "pf") -> list[dict]:
    """What ``memlab/exercises/data/ch07_pf.json`` stores (a test compares the two)."""
    return [_case(*c) for c in _inputs()[0]]


def hidden_cases() -> list[dict]:
    return [_case(*c) for c in _inputs()[1]]
