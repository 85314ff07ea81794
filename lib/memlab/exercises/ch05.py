"""Checks for the coding exercises of Chapter 5 (synaptic plasticity).

Each check runs the student's function on its own seeded cases and compares the behaviour with
:mod:`memlab.plasticity` (a whole learning run, or a simulated clamp experiment), so every correct
implementation passes, whatever its code looks like.
"""

from __future__ import annotations

import numpy as np

from memlab import plasticity as pl

from ._common import as_array, fail, hidden_module, passed

__all__ = ["check_oja_step", "check_clamped_change"]


def _stream(seed, n, t, kind="laplace"):
    rng = np.random.default_rng(seed)
    mixing = pl.random_mixing(n, rng=rng, max_condition=5.0)
    x = pl.mix(pl.sources(kind, t, n, rng=rng), mixing)
    w0 = rng.standard_normal(n)
    w0 /= np.sqrt(np.mean((x @ w0) ** 2))
    return x, w0


def _difference(yours, expected) -> str:
    """Where two weight vectors differ most, with enough digits to see it (not rounded arrays)."""
    yours, expected = np.asarray(yours, float), np.asarray(expected, float)
    j = int(np.argmax(np.abs(yours - expected)))
    return (
        f"they differ by up to {abs(yours[j] - expected[j]):.3g} (component {j}: yours "
        f"{yours[j]:.10g}, expected {expected[j]:.10g})"
    )


def _oja_y_inside_loop(w, x, eta):
    """The typical component-wise mistake: y recomputed from partly updated weights."""
    w = np.array(w, dtype=float)
    for j in range(len(w)):
        y = w @ x
        w[j] = w[j] + eta * y * (x[j] - y * w[j])
    return w


# ---------------------------------------------------------------------------
# exercise: one step of Oja's rule
# ---------------------------------------------------------------------------


def check_oja_step(oja_step, *, hidden=False):
    """``oja_step(w, x, eta)`` must return ``w + eta * y * (x - y * w)`` with ``y = w @ x``.

    The check runs the student's step over input streams and compares the whole weight
    trajectory with :func:`memlab.plasticity.oja`.
    """
    cases = [(0, 2, 200, 1e-2), (1, 3, 200, 5e-3)]
    if hidden:
        cases += hidden_module("ch05").OJA_CASES
    for seed, n, t, eta in cases:
        x, w0 = _stream(seed, n, t)
        w0 = 0.5 * w0 / np.linalg.norm(w0)
        reference = pl.oja(x, w0, eta).trajectory
        w = w0.copy()
        for k in range(t):
            w_in, x_in = w.copy(), x[k].copy()
            new = as_array(oja_step(w_in, x_in, eta), "oja_step(w, x, eta)", shape=(n,))
            if k == 0 and not np.allclose(new, reference[1], rtol=1e-8, atol=1e-12):
                y = w @ x[k]
                if np.allclose(new, w + eta * x[k] * y, rtol=1e-9):
                    fail(
                        "oja_step returns the plain Hebbian step w + eta*y*x: the decay term "
                        "-eta * y**2 * w that keeps the norm bounded is missing."
                    )
                if np.allclose(new, w + eta * y * (x[k] - w), rtol=1e-9):
                    fail(
                        "oja_step decays with eta*y*w; Oja's decay is eta * y**2 * w "
                        "(y times the postsynaptic term y*w)."
                    )
                if np.allclose(new - w, -(reference[1] - reference[0]), rtol=1e-9):
                    fail(
                        "oja_step moves the weight in the opposite direction: check the sign "
                        "of the update (the Hebbian term eta*y*x is added, not subtracted)."
                    )
                if np.allclose(new, reference[1] - reference[0], rtol=1e-9):
                    fail(
                        "oja_step returns the weight *change*; return the new weights "
                        "w + dw instead."
                    )
                if np.allclose(new, _oja_y_inside_loop(w, x[k], eta), rtol=1e-12, atol=0):
                    fail(
                        "your y changes while you update the components: it is computed from "
                        "weights you have already partly updated. Compute y = w @ x once, "
                        f"before changing any weight ({_difference(new, reference[1])})."
                    )
            w = new
            if not np.allclose(w, reference[k + 1], rtol=1e-8, atol=1e-12):
                fail(
                    f"after step {k + 1} of a {n}-input stream (eta={eta}) your weights differ "
                    f"from Oja's rule: {_difference(w, reference[k + 1])}. Compute y = w @ x "
                    "from the weights before the update, then apply the rule of the chapter "
                    "to every component."
                )
    return passed(f"your Oja step reproduces memlab.plasticity.oja on {len(cases)} streams.")


# ---------------------------------------------------------------------------
# exercise: the voltage rule under a clamp
# ---------------------------------------------------------------------------


def check_clamped_change(clamped_change, *, hidden=False):
    """``clamped_change(u, n_pre, params)`` must return the total weight change for a voltage
    clamped at ``u`` mV with ``n_pre`` presynaptic spikes (traces integrated until they decay).

    The check simulates the clamp with :func:`memlab.plasticity.voltage_rule`.
    """
    params_list = [pl.VoltageRuleParams()]
    if hidden:
        params_list += [pl.VoltageRuleParams(**kw) for kw in hidden_module("ch05").CLAMP_PARAMS]
    dt = 0.1
    for params in params_list:
        for u in (-75.0, -68.5, -66.0, -60.0, -56.0, -52.0, -40.0):
            for n_pre in (1, 3):
                trace = np.full(int(round(12 * params.tau_g / dt)) + 400, u)
                pre = 5.0 + 5.0 * np.arange(n_pre)
                simulated = pl.voltage_rule(trace, pre, dt=dt, params=params).dw
                value = clamped_change(u, n_pre, params)
                got = float(as_array(value, "clamped_change(u, n_pre, params)", shape=()))
                if np.isclose(got, simulated, rtol=1e-3, atol=1e-6):
                    continue
                where = (
                    "below the LTD threshold"
                    if u <= params.theta_minus
                    else "between the two thresholds"
                    if u < params.theta_plus
                    else "above the LTP threshold"
                )
                hint = {
                    "below the LTD threshold": "both rectified terms are zero here, so the "
                    "change must be exactly 0.",
                    "between the two thresholds": "only the depression term is active here "
                    "(the LTP rectifier is off); integrate it over the whole glutamate trace "
                    "of every presynaptic spike.",
                    "above the LTP threshold": "both terms are active here (the LTD term does "
                    "not switch off above theta_+); integrate both over the whole glutamate "
                    "trace of every presynaptic spike.",
                }[where]
                if np.isclose(got, simulated / params.tau_g, rtol=1e-3):
                    hint = "you are off by a factor tau_g: each spike leaves a trace of area tau_g."
                fail(
                    f"for u = {u} mV ({where}) and {n_pre} presynaptic spike(s) you return "
                    f"{got:.4g}, the simulated clamp gives {simulated:.4g}: {hint}"
                )
    return passed("your closed form matches the simulated clamp in all three voltage ranges.")


# every check gives a verdict for an answer of the wrong kind (see _common.guard_checks)
from ._common import guard_checks  # noqa: E402

guard_checks(globals())
