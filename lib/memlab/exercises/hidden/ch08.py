"""Chapter 8, for the grader only: the hidden cases (the references stay in ch08.py: the visible
cases need them too)."""

from __future__ import annotations

import numpy as np


def spike_count_cases() -> list[tuple]:
    """(past_counts, p, n_neurons) for ``check_spike_count_moments``."""
    rng = np.random.default_rng(8)
    return [
        (rng.integers(0, 5, 8), float(rng.random()), 200),
        (np.array([10, 10, 10]), 0.3, 30),  # every neuron refractory
        (np.zeros(0, dtype=int), 0.2, 40),  # no refractoriness
    ]


def gaussian_terms_cases(rng: np.random.Generator) -> list[tuple]:
    """(z, mean, var) for ``check_gaussian_terms``, drawn from the check's generator after its
    visible cases."""
    return [
        (np.zeros(5), np.zeros(5), np.full(5, 0.5)),
        (rng.random(50) * 20, rng.random(50) * 20, 1 + 10 * rng.random(50)),
    ]
