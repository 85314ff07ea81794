"""Chapter 1, for the grader only: reference sweeps, hidden cases, and the stored visible cases.

The network sizes are powers of two: the Hebbian weights are then multiples of 1/N, every field
is computed exactly in any summation order, and a field that is 0 is exactly 0 in every correct
implementation (the rule "keep the state if h_i = 0" is tested without rounding ambiguity).
"""

from __future__ import annotations

import numpy as np

from ... import hopfield as hf
from .._common import sign_text

# (n_neurons, n_patterns, seed); seed 3: an order that repeats some neurons and skips others
VISIBLE_CASES = [(128, 8, 0), (64, 3, 1), (32, 4, 23)]
HIDDEN_CASES = [(256, 30, 2), (32, 12, 3), (64, 2, 4)]
# check_capacity_estimate's hidden case: the synchronous estimate again with this seed
CAPACITY_SEED = 1


def reference_sweep(weights, state, order, *, energies=False):
    s = np.asarray(state, dtype=float).copy()
    trace = []
    for i in order:
        h = weights[i] @ s
        if h != 0:
            s[i] = np.sign(h)
        trace.append(-0.5 * s @ weights @ s)
    return (s, np.array(trace)) if energies else s


def stale_field_sweep(weights, state, order):
    """The typical mistake: all fields computed once from the old state, then the loop."""
    h = weights @ np.asarray(state, dtype=float)
    s = np.asarray(state, dtype=float).copy()
    for i in order:
        if h[i] != 0:
            s[i] = np.sign(h[i])
    return s


def tie_sweep(weights, state, order, at_zero):
    """The sweep with another rule at h_i = 0: "+1", "-1" or "flip"."""
    s = np.asarray(state, dtype=float).copy()
    for i in order:
        h = weights[i] @ s
        if h != 0:
            s[i] = np.sign(h)
        else:
            s[i] = {"+1": 1.0, "-1": -1.0, "flip": -s[i]}[at_zero]
    return s


def make_case(n_neurons, n_patterns, seed) -> dict:
    """One case: patterns, start state and order (as +- strings and a list), the outcomes of
    the correct sweep and of the typical mistakes, and the correct energies."""
    rng = np.random.default_rng(1000 + seed)
    patterns = hf.random_patterns(n_patterns, n_neurons, rng=rng)
    weights = hf.hebbian_weights(patterns)
    state = rng.choice(np.array([-1, 1], dtype=np.int8), size=n_neurons)
    order = rng.permutation(n_neurons)
    if seed == 3:
        order = rng.integers(0, n_neurons, size=2 * n_neurons)
    expected, energies = reference_sweep(weights, state, order, energies=True)
    outcomes = {
        "expected": expected,
        "stale": stale_field_sweep(weights, state, order),
        **{at: tie_sweep(weights, state, order, at) for at in ("+1", "-1", "flip")},
    }
    return {
        "patterns": [sign_text(p) for p in patterns],
        "state": sign_text(state),
        "order": [int(i) for i in order],
        "outcomes": {key: sign_text(value) for key, value in outcomes.items()},
        # multiples of 1/(2N), N a power of two: exact
        "energies": [float(e) for e in energies],
    }


def hidden_cases() -> list[dict]:
    return [make_case(*case) for case in HIDDEN_CASES]


def visible_cases(name: str = "async") -> list[dict]:
    """What ``memlab/exercises/data/ch01_async.json`` stores (a test compares the two)."""
    return [make_case(*case) for case in VISIBLE_CASES]
