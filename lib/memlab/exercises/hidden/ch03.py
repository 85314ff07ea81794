"""Chapter 3, for the grader only: the hidden cases (the references stay in ch03.py: the visible
cases need them too)."""

from __future__ import annotations

# (alpha, init_overlap, tolerance)
READOUT_CASES = [(0.2, 1.0, 0.01), (0.5, 0.4, 0.0), (0.14, 0.7, 0.05)]
# (n, alpha, init_overlap, dt)
FIRST_STEP_CASES = [(1, 0.1, 0.2, 1.0), (4, 0.005, 0.8, 0.05)]
# (p, q, a, b, c)
MOMENT_CASES = [
    (4, 2, 0.3, 0.8, 0.1),
    (3, 3, 0.5, 0.5, 0.5),
    (2, 3, 0.9, 0.4, 0.3),
    (0, 4, 1, 0.7, 0),
]
