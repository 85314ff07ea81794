"""Chapter 6, for the grader only: the hidden cases (the references are memlab.local_learning's)."""

from __future__ import annotations

# (n, seed)
RLS_CASES = [(1, 2), (30, 3), (8, 4)]
REWARD_HEBBIAN_N_CASES = 20
CLAPP_SEEDS = list(range(8, 40))
