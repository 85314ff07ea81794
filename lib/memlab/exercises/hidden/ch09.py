"""Chapter 9, for the grader only: the hidden cases (the references stay in ch09.py: the visible
cases need them too)."""

from __future__ import annotations

import numpy as np

# (n_bins, n_neurons, n_lags, gamma) for ``check_backward``, drawn after the visible cases
DELTA_CASES = [(30, 6, 2, 1.0), (5, 1, 4, 0.3)]


def psth_cases(rng: np.random.Generator) -> list[tuple]:
    """(probs, target) for ``check_psth_loss``, drawn from the check's generator after its
    visible cases."""
    return [(rng.random((10, 20, 4)) ** 3, rng.random((20, 4)) * 0.2)]
