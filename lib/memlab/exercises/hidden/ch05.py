"""Chapter 5, for the grader only: the hidden cases (the references are memlab.plasticity's)."""

from __future__ import annotations

# (seed, n_inputs, n_steps, eta)
OJA_CASES = [(2, 4, 300, 1e-3), (3, 2, 500, 2e-2)]
# VoltageRuleParams keyword arguments
CLAMP_PARAMS = [dict(tau_g=10.0, theta_plus=-50.0, theta_minus=-65.0, a_ltp=2.0, a_ltd=0.5)]
