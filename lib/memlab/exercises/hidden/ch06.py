"""Chapter 6, for the grader only: the hidden cases (the references are memlab.local_learning's)."""

from __future__ import annotations

# (n, seed) for the RLS error after one step
RLS_CASES = [(1, 2), (30, 3), (8, 4)]
# (rows, N, alpha, nonzero w0, seed) for one pass of RLS
PASS_CASES = [(1, 1, 2.0, True, 3), (50, 20, 0.01, True, 4), (3, 7, 10.0, False, 5)]
REWARD_HEBBIAN_N_CASES = 20
CLAPP_SEEDS = list(range(8, 40))
