"""Chapter 4, for the grader only: the hidden cases (the references are memlab.kernel's)."""

from __future__ import annotations

# (n_patterns, n_neurons, seed)
PROJECTOR_CASES = [(40, 64, 3), (3, 3, 4)]
# kernel widths l
BASIN_LENGTHS = [0.05, 0.25, 0.35, 0.44]
