"""Chapter 2, for the grader only: the hidden cases (the references are memlab.dense's)."""

from __future__ import annotations

# (n_patterns, n_neurons, seed)
DENSE_DIFFERENCE_CASES = [(5, 64, 3), (50, 17, 4)]
GAINS = [1.2, 2.0, 4.5]
