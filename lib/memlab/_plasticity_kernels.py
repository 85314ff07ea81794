"""Private numba kernels for :mod:`memlab.plasticity` (no API stability promise).

Rate rules
----------
One kernel, :func:`_run_rate_rule`, runs every rate-based rule over a stream of inputs
``x`` of shape ``(T, n)``, sample by sample (online learning, one update per sample).
The rule is selected by an integer code:

=====  ==========================  ==============================================
code   name                        update for one sample (``y = w . x``)
=====  ==========================  ==============================================
0      plain Hebb                  ``dw = eta * x * y``
1      Oja                         ``dw = eta * y * (x - y * w)``
2      correlation-invariant       ``dw = eta * x * (y**p - kappa * m**(p-1) * y)``
3      normalised nonlinear Hebb   ``w <- w + eta * x * y**p``, then ``w <- w / |w|``
4      heterosynaptic (Oja-type)   ``dw = eta * (x * y**p - y**(p+1) * w)``
=====  ==========================  ==============================================

``m`` is the running average of ``y**2``, ``m <- m + rate * (y**2 - m)``, updated after the
weights at every sample (used by code 2 only, but tracked for all rules).

The kernel stops at the first sample after which the weight norm is not finite or exceeds
``max_norm`` and returns that sample's index (``-1`` if the run completed).  Weights are
recorded every ``record_every`` samples (row 0 is the initial weight).

Voltage rule
------------
:func:`_voltage_rule` integrates the glutamate trace, the two low-pass filtered voltages and
the weight change on a regular time grid with forward Euler.
"""

from __future__ import annotations

import math

from numba import njit

HEBB, OJA, INVARIANT, NORMALISED, HETEROSYNAPTIC = 0, 1, 2, 3, 4


@njit(cache=True, nogil=True, inline="always")
def _power(y, p):  # pragma: no cover - numba
    if p == 1:
        return y
    if p == 2:
        return y * y
    if p == 3:
        return y * y * y
    return y**p


@njit(cache=True, nogil=True)
def _run_rate_rule(
    x, w0, eta, code, p, kappa, m0, rate, max_norm, record_every, traj, m_traj
):  # pragma: no cover - numba
    n_samples, n = x.shape
    w = w0.copy()
    m = m0
    for j in range(n):
        traj[0, j] = w[j]
    m_traj[0] = m
    row = 1
    for t in range(n_samples):
        y = 0.0
        for j in range(n):
            y += w[j] * x[t, j]
        if code == HEBB:
            for j in range(n):
                w[j] += eta * x[t, j] * y
        elif code == OJA:
            for j in range(n):
                w[j] += eta * y * (x[t, j] - y * w[j])
        elif code == INVARIANT:
            phi = _power(y, p) - kappa * _power(m, p - 1) * y
            for j in range(n):
                w[j] += eta * x[t, j] * phi
        elif code == NORMALISED:
            f = _power(y, p)
            norm2 = 0.0
            for j in range(n):
                w[j] += eta * x[t, j] * f
                norm2 += w[j] * w[j]
            norm = math.sqrt(norm2)
            if norm > 0.0 and math.isfinite(norm):
                for j in range(n):
                    w[j] /= norm
        else:  # HETEROSYNAPTIC
            f = _power(y, p)
            g = f * y
            for j in range(n):
                w[j] += eta * (x[t, j] * f - g * w[j])
        m += rate * (y * y - m)
        norm2 = 0.0
        for j in range(n):
            norm2 += w[j] * w[j]
        if not (norm2 <= max_norm * max_norm) or not math.isfinite(m):
            return t, w, m, row
        if (t + 1) % record_every == 0:
            for j in range(n):
                traj[row, j] = w[j]
            m_traj[row] = m
            row += 1
    return -1, w, m, row


@njit(cache=True, nogil=True)
def _voltage_rule(
    u,
    pre,
    dt,
    tau_g,
    tau_plus,
    tau_minus,
    theta_plus,
    theta_minus,
    a_ltp,
    a_ltd,
    u_plus0,
    u_minus0,
    g_out,
    up_out,
    um_out,
    dw_out,
):  # pragma: no cover - numba
    """Forward-Euler integration of the glutamate-trace x voltage rule.

    At grid step k: g jumps by pre[k] (number of presynaptic spikes in the bin), then
    dw_k = dt * g * (a_ltp [u_+ - theta_+]_+ - a_ltd [u_- - theta_-]_+) with the filters and g
    at step k, after which g, u_+ and u_- advance by one Euler step.
    """
    g = 0.0
    up = u_plus0
    um = u_minus0
    total = 0.0
    for k in range(u.shape[0]):
        g += pre[k]
        ltp = up - theta_plus
        ltd = um - theta_minus
        rate = 0.0
        if ltp > 0.0:
            rate += a_ltp * ltp
        if ltd > 0.0:
            rate -= a_ltd * ltd
        total += dt * g * rate
        g_out[k] = g
        up_out[k] = up
        um_out[k] = um
        dw_out[k] = total
        g -= dt * g / tau_g
        up += dt * (u[k] - up) / tau_plus
        um += dt * (u[k] - um) / tau_minus
    return total
