"""Chapter 4, for the grader only: the hidden cases (the references are memlab.kernel's)."""

from __future__ import annotations

from ... import kernel as km

# (n_patterns, n_neurons, seed)
PROJECTOR_CASES = [(40, 64, 3), (3, 3, 4)]
# (n, m, r)
SDM_CASES = [(24, 10**6, 7), (8, 100, 2)]
# kernel widths l
BASIN_LENGTHS = [0.05, 0.25, 0.35, 0.44]


def kernel_step_cases():
    """(n_neurons, n_patterns, kernel, flips, seed)"""
    return [(32, 200, km.polynomial_kernel(3), 4, 3), (16, 40, km.rbf_kernel(2.0), 1, 4)]
