r"""Synaptic plasticity rules: Hebb, Oja, BCM, correlation-invariant learning, voltage rule.

Rate rules (one linear neuron)
------------------------------
A neuron with weights :math:`\mathbf w\in\mathbb R^n` receives a stream of inputs
:math:`\mathbf x_t` (rows of an array of shape ``(T, n)``) and responds linearly,
:math:`y_t=\mathbf w_t^\top\mathbf x_t`.  Every rule makes one online update per sample
(learning rate :math:`\eta`); the nonlinearity enters only through the rule:

* plain Hebb, :math:`\Delta\mathbf w=\eta\,\mathbf x\,y` (:func:`hebb`, diverges);
* Oja, :math:`\Delta\mathbf w=\eta\,y\,(\mathbf x-y\,\mathbf w)` (:func:`oja`);
* BCM with a sliding threshold,
  :math:`\Delta\mathbf w=\eta\,\mathbf x\,y\,(y-\theta)`, :math:`\theta=\bar m`
  (:func:`bcm`);
* nonlinear Hebb with explicit normalisation,
  :math:`\mathbf w\leftarrow(\mathbf w+\eta\,\mathbf x\,y^p)/\lVert\cdot\rVert`
  (:func:`normalised_hebbian`);
* nonlinear Hebb with heterosynaptic (Oja-type) decay,
  :math:`\Delta\mathbf w=\eta\,(\mathbf x\,y^p-y^{p+1}\,\mathbf w)` (:func:`heterosynaptic`);
* the correlation-invariant rule,
  :math:`\Delta\mathbf w=\eta\,\mathbf x\,\bigl(y^p-\kappa\,\bar m^{\,p-1}\,y\bigr)`
  (:func:`correlation_invariant`).

Here :math:`\bar m` is a running average of :math:`y^2`,
:math:`\bar m\leftarrow\bar m+r\,(y^2-\bar m)` with rate :math:`r` per sample.  The
correlation-invariant rule is our reconstruction, in the spirit of Brito & Gerstner
("Correlation-invariant synaptic plasticity", arXiv:2105.10109), of a rule in which *every*
term, the metaplastic depression included, is presynaptic activity times a function of
postsynaptic activity; BCM is its ``p = 2``, ``kappa = 1`` member.

Every rule returns a :class:`LearningRun`.  A run whose weight norm leaves ``max_norm`` (or
becomes non-finite) stops there: by default a :class:`DivergenceError` is raised; with
``on_divergence="stop"`` the run is returned with ``diverged=True`` and the weights before the
divergent step, never NaN weights.

Inputs: :func:`sources` draws independent unit-variance sources, :func:`mix` forms
:math:`\mathbf x=A\mathbf s`, :func:`random_mixing` draws a random invertible matrix.

Voltage rule (one synapse on a dendrite)
----------------------------------------
:func:`voltage_rule` integrates a Clopath-type rule in which the glutamate trace left by
presynaptic spikes meets the local voltage,

.. math::
   \tau_g\dot g=-g+\tau_g\sum_k\delta(t-t_k^{pre}),\quad
   \dot w=g\,\bigl(A_{LTP}[\bar u_+-\theta_+]_+-A_{LTD}[\bar u_--\theta_-]_+\bigr),

with :math:`\bar u_\pm` the voltage low-pass filtered with :math:`\tau_\pm` and
:math:`\theta_-<\theta_+`.  :func:`dendritic_voltage` builds *synthetic* voltage traces in which
a back-propagating action potential attenuates and broadens with distance from the soma;
:func:`pairing_protocol` runs a pre-before-post pairing protocol on them.  This is our
reconstruction (illustrative parameters) of the model class studied in "Dendritic voltage
recordings explain paradoxical synaptic plasticity" (arXiv:2001.03614), not the paper's fitted
model.

The numba kernels (:func:`_run_rate_rule`, :func:`_voltage_rule`) are private and live in this
module, beside the functions that call them.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from memlab._validation import (
    check_finite_float,
    check_finite_result,
    check_fraction,
    check_generator,
    check_int,
    check_nonneg_float,
    check_option,
    check_positive_float,
    check_positive_int,
    check_real_array,
    check_size,
)

__all__ = [
    "DivergenceError",
    "LearningRun",
    "sources",
    "mix",
    "random_mixing",
    "demixing_directions",
    "principal_component",
    "source_correlations",
    "hebb",
    "oja",
    "bcm",
    "normalised_hebbian",
    "heterosynaptic",
    "correlation_invariant",
    "fixed_point_scale",
    "VoltageRuleParams",
    "VoltageRuleResult",
    "dendritic_voltage",
    "voltage_rule",
    "clamped_weight_change",
    "pairing_protocol",
    "MultiStartResult",
    "multi_start",
    "GatedRuleParams",
    "GatedRuleResult",
    "gated_voltage_rule",
    "gated_clamped_weight_change",
    "stdp_window",
]

_SOURCE_KINDS = ("laplace", "skewed", "gaussian")
_ON_DIVERGENCE = ("raise", "stop")


class DivergenceError(FloatingPointError):
    """A plasticity run left the allowed weight range (the rule or learning rate is unstable)."""


class LearningRun(NamedTuple):
    """Result of running a rate rule over a stream of inputs.

    Attributes
    ----------
    weights : ndarray, shape (n,)
        Final weights; if ``diverged``, the last finite weights, those before the divergent
        sample (whatever ``record_every``).
    trajectory : ndarray, shape (R, n)
        Weights recorded every ``record_every`` samples; row 0 is the initial weight.
    threshold : ndarray, shape (R,)
        The running average :math:`\\bar m` of :math:`y^2` at the same times.
    diverged : bool
        True if the run stopped because the weight norm exceeded ``max_norm``.
    n_steps : int
        Number of samples processed (the divergent sample included).
    """

    weights: np.ndarray
    trajectory: np.ndarray
    threshold: np.ndarray
    diverged: bool
    n_steps: int


# ---------------------------------------------------------------------------
# numba kernels (private)
# ---------------------------------------------------------------------------

# Internal rule codes of _run_rate_rule; the public functions select a rule by name.
#
# code  rule                        update for one sample (y = w . x)
# ----  --------------------------  ----------------------------------------------
# 0     plain Hebb                  dw = eta * x * y
# 1     Oja                         dw = eta * y * (x - y * w)
# 2     correlation-invariant       dw = eta * x * (y**p - kappa * m**(p-1) * y)
# 3     normalised nonlinear Hebb   w <- w + eta * x * y**p, then w <- w / |w|
# 4     heterosynaptic (Oja-type)   dw = eta * (x * y**p - y**(p+1) * w)
_HEBB, _OJA, _INVARIANT, _NORMALISED, _HETEROSYNAPTIC = 0, 1, 2, 3, 4


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
    """Run the rate rule ``code`` over the rows of ``x``, one online update per sample.

    ``m`` is the running average of ``y**2``, ``m <- m + rate * (y**2 - m)``, updated after
    the weights at every sample (used by the invariant rule only, but tracked for all).  The
    run stops at the first sample after which the weight norm is not finite or exceeds
    ``max_norm``, or ``m`` is not finite.  Weights are written into ``traj`` every
    ``record_every`` samples (row 0 is the initial weight).

    Returns ``(stop, w, m, rows)``: ``stop`` is the index of the divergent sample (``-1`` if
    the run completed); ``w`` and ``m`` are the final values, or those before the divergent
    sample; ``rows`` is the number of rows written.
    """
    n_samples, n = x.shape
    w = w0.copy()
    w_before = w0.copy()
    m = m0
    for j in range(n):
        traj[0, j] = w[j]
    m_traj[0] = m
    row = 1
    for t in range(n_samples):
        m_before = m
        y = 0.0
        for j in range(n):
            w_before[j] = w[j]
            y += w[j] * x[t, j]
        if code == _HEBB:
            for j in range(n):
                w[j] += eta * x[t, j] * y
        elif code == _OJA:
            for j in range(n):
                w[j] += eta * y * (x[t, j] - y * w[j])
        elif code == _INVARIANT:
            phi = _power(y, p) - kappa * _power(m, p - 1) * y
            for j in range(n):
                w[j] += eta * x[t, j] * phi
        elif code == _NORMALISED:
            f = _power(y, p)
            norm2 = 0.0
            for j in range(n):
                w[j] += eta * x[t, j] * f
                norm2 += w[j] * w[j]
            norm = math.sqrt(norm2)
            if norm > 0.0 and math.isfinite(norm):
                for j in range(n):
                    w[j] /= norm
        else:  # _HETEROSYNAPTIC
            f = _power(y, p)
            g = f * y
            for j in range(n):
                w[j] += eta * (x[t, j] * f - g * w[j])
        m += rate * (y * y - m)
        norm2 = 0.0
        for j in range(n):
            norm2 += w[j] * w[j]
        if not (norm2 <= max_norm * max_norm) or not math.isfinite(m):
            return t, w_before, m_before, row
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


# ---------------------------------------------------------------------------
# validation helpers specific to this module
# ---------------------------------------------------------------------------


def _check_mixing(matrix, name="mixing", n=None):
    a = check_real_array(matrix, name, ndim=2)
    if a.shape[0] != a.shape[1]:
        raise ValueError(f"{name} must be a square matrix; got shape {a.shape}")
    if n is not None and a.shape[0] != n:
        raise ValueError(
            f"{name} must have shape ({n}, {n}) to mix sources with {n} components; "
            f"got shape {a.shape}"
        )
    cond = np.linalg.cond(a)
    if not np.isfinite(cond) or cond > 1e12:
        raise ValueError(
            f"{name} must be invertible; got a matrix with condition number {cond:.3g} "
            "(singular or numerically singular)"
        )
    return a


def _check_stream(x, w0):
    x = check_real_array(x, "x", ndim=2)
    w = check_real_array(w0, "w0", ndim=1)
    if w.shape[0] != x.shape[1]:
        raise ValueError(
            f"w0 must have one weight per input, shape ({x.shape[1]},) for x of shape "
            f"{x.shape}; got shape {w.shape}"
        )
    return x, w


def _check_power(p):
    p = check_int(p, "power")
    if p not in (2, 3):
        raise ValueError(f"power must be 2 (quadratic) or 3 (cubic); got {p}")
    return p


# rule name -> (kernel code, name in messages)
_RULES = {
    "hebb": (_HEBB, "plain Hebb"),
    "oja": (_OJA, "Oja"),
    "invariant": (_INVARIANT, "correlation-invariant"),
    "normalised": (_NORMALISED, "normalised nonlinear Hebb"),
    "heterosynaptic": (_HETEROSYNAPTIC, "heterosynaptic"),
}


def _run(
    rule,
    x,
    w0,
    eta,
    record_every,
    max_norm,
    on_divergence,
    *,
    power=1,
    kappa=0.0,
    m0=None,
    threshold_rate=0.01,
):
    """Validate the arguments shared by the rate rules and run ``rule`` (a key of _RULES).

    Raises DivergenceError, or returns the run up to the last finite weights, if it diverged.
    """
    code, label = _RULES[rule]
    x, w = _check_stream(x, w0)
    eta = check_positive_float(eta, "eta")
    kappa = check_nonneg_float(kappa, "kappa")
    rate = check_fraction(threshold_rate, "threshold_rate", 0.0, 1.0, closed_low=False)
    # any period beyond the T samples records row 0 only: T + 1 stands for them all
    record_every = min(check_positive_int(record_every, "record_every"), x.shape[0] + 1)
    max_norm = check_positive_float(max_norm, "max_norm")
    on_divergence = check_option(on_divergence, "on_divergence", _ON_DIVERGENCE)
    if m0 is None:
        m0 = float(np.mean((x @ w) ** 2))
    m0 = check_nonneg_float(m0, "m0")
    n_rows = x.shape[0] // record_every + 1
    traj = np.zeros((n_rows, x.shape[1]))
    m_traj = np.zeros(n_rows)
    stop, w_end, _, rows = _run_rate_rule(
        x, w, eta, code, power, kappa, m0, rate, max_norm, record_every, traj, m_traj
    )
    diverged = stop >= 0
    if diverged and on_divergence == "raise":
        if code == _INVARIANT:
            label += f" (power={power}, kappa={kappa:g})"
        raise DivergenceError(
            f"the {label} rule diverged at sample {stop} of {x.shape[0]}: the weight "
            f"norm exceeded max_norm={max_norm:g} (or became non-finite) with eta={eta:g}. "
            "Lower the learning rate, or pass on_divergence='stop' to get the run up to "
            "that point."
        )
    return LearningRun(
        weights=w_end,
        trajectory=traj[:rows],
        threshold=m_traj[:rows],
        diverged=bool(diverged),
        n_steps=int(stop + 1 if diverged else x.shape[0]),
    )


# ---------------------------------------------------------------------------
# inputs
# ---------------------------------------------------------------------------


def sources(kind, n_samples, n_sources, *, rng) -> np.ndarray:
    r"""Independent zero-mean, unit-variance sources.

    ``kind`` is a string (all columns of that kind) or a list of strings (one per source):

    * ``"laplace"``: :math:`p(s)\propto e^{-\sqrt2|s|}`, heavy-tailed,
      :math:`\mathbb E[s^3]=0`, :math:`\mathbb E[s^4]=6`;
    * ``"skewed"``: :math:`s=g-1` with :math:`g\sim\mathrm{Gamma}(1,1)` (exponential),
      :math:`\mathbb E[s^3]=2`, :math:`\mathbb E[s^4]=9`;
    * ``"gaussian"``: standard normal, :math:`\mathbb E[s^3]=0`, :math:`\mathbb E[s^4]=3`.

    Parameters
    ----------
    kind : {"laplace", "skewed", "gaussian"} or list of them
        Distribution of every source, or of each source in turn.
    n_samples : int
        Number of samples (rows), >= 1.
    n_sources : int
        Number of sources (columns), >= 1.
    rng : numpy.random.Generator
        Source of randomness (keyword-only).

    Returns
    -------
    ndarray, shape (n_samples, n_sources)
        One sample of all sources per row.
    """
    n_samples = check_positive_int(n_samples, "n_samples")
    n_sources = check_positive_int(n_sources, "n_sources")
    rng = check_generator(rng)
    check_size((n_samples, n_sources), "the sources (n_samples, n_sources)", copies=3)
    if isinstance(kind, str):
        kinds = [check_option(kind, "kind", _SOURCE_KINDS)] * n_sources
    elif isinstance(kind, (list, tuple)):
        kinds = [check_option(k, f"kind[{i}]", _SOURCE_KINDS) for i, k in enumerate(kind)]
    else:
        raise TypeError(
            f"kind must be a string or a list of strings; got {type(kind).__name__} {kind!r}"
        )
    if len(kinds) != n_sources:
        raise ValueError(
            f"kind must be one string or one per source ({n_sources}); got {len(kinds)} kinds"
        )
    out = np.empty((n_samples, n_sources))
    for i, k in enumerate(kinds):
        if k == "laplace":
            out[:, i] = rng.laplace(0.0, 1.0 / np.sqrt(2.0), n_samples)
        elif k == "skewed":
            out[:, i] = rng.gamma(1.0, 1.0, n_samples) - 1.0
        else:  # gaussian
            out[:, i] = rng.standard_normal(n_samples)
    return out


def mix(s, mixing) -> np.ndarray:
    r"""Mixed inputs :math:`\mathbf x_t=A\,\mathbf s_t` for every row of ``s``.

    Parameters
    ----------
    s : array_like, shape (T, n)
        Sources, one sample per row.
    mixing : array_like, shape (n, n)
        Invertible mixing matrix :math:`A` (a clear ``ValueError`` if it is singular).

    Returns
    -------
    ndarray, shape (T, n)
        ``s @ A.T``.
    """
    s = check_real_array(s, "s", ndim=2)
    a = _check_mixing(mixing, n=s.shape[1])
    return s @ a.T


def random_mixing(n, *, rng, max_condition=100.0) -> np.ndarray:
    r"""A random invertible :math:`n\times n` matrix with standard normal entries.

    Draws :math:`B_{ij}\sim\mathcal N(0,1)` until the condition number
    :math:`\kappa(B)=\sigma_{max}/\sigma_{min}` is at most ``max_condition``.

    Parameters
    ----------
    n : int
        Size of the matrix, >= 1.
    rng : numpy.random.Generator
        Source of randomness (keyword-only).
    max_condition : float, optional
        Largest accepted condition number, >= 1 (default 100).

    Returns
    -------
    ndarray, shape (n, n)
        The first matrix drawn whose condition number is at most ``max_condition``.
    """
    n = check_positive_int(n, "n")
    rng = check_generator(rng)
    max_condition = check_positive_float(max_condition, "max_condition")
    if max_condition < 1.0:
        raise ValueError(f"max_condition must be >= 1; got {max_condition}")
    for _ in range(10_000):
        b = rng.standard_normal((n, n))
        if np.linalg.cond(b) <= max_condition:
            return b
    raise ValueError(
        f"max_condition={max_condition} is too small for n={n}: no {n}x{n} matrix drawn in "
        "10,000 attempts had a condition number that low"
    )


def demixing_directions(mixing) -> np.ndarray:
    r"""Unit-norm rows of :math:`A^{-1}`: the weights :math:`\mathbf w` with :math:`y\propto s_i`.

    Row ``i`` is :math:`(A^{-1})_{i\cdot}/\lVert(A^{-1})_{i\cdot}\rVert`, since
    :math:`(A^{-1})_{i\cdot}\,\mathbf x=s_i`.

    Parameters
    ----------
    mixing : array_like, shape (n, n)
        Invertible mixing matrix :math:`A`.

    Returns
    -------
    ndarray, shape (n, n)
        Row ``i`` is the unit weight vector whose response is proportional to source ``i``.
    """
    a = _check_mixing(mixing)
    inv = np.linalg.inv(a)
    return inv / np.linalg.norm(inv, axis=1, keepdims=True)


def principal_component(x) -> np.ndarray:
    r"""First principal component of the inputs.

    The unit eigenvector of :math:`C=\frac1T\sum_t\mathbf x_t\mathbf x_t^\top` with the largest
    eigenvalue (the inputs are not centred, as in the rate rules).

    Parameters
    ----------
    x : array_like, shape (T, n)
        Inputs, one sample per row.

    Returns
    -------
    ndarray, shape (n,)
        The unit eigenvector, signed so that its largest entry (in magnitude) is positive.
    """
    x = check_real_array(x, "x", ndim=2)
    cov = x.T @ x / x.shape[0]
    check_finite_result(cov, "the covariance of x", "x is too large (overflow)")
    vals, vecs = np.linalg.eigh(cov)
    v = vecs[:, -1]
    return v if v[np.argmax(np.abs(v))] > 0 else -v


def source_correlations(w, x, s) -> np.ndarray:
    r"""How well the response picks out each source: :math:`|\mathrm{corr}(y,s_i)|`.

    With :math:`y_t=\mathbf w^\top\mathbf x_t`,
    :math:`|\mathrm{corr}(y,s_i)|=|\sum_t\tilde y_t\tilde s_{ti}|/
    \sqrt{\sum_t\tilde y_t^2\sum_t\tilde s_{ti}^2}` (tildes: minus the mean over samples).

    Parameters
    ----------
    w : array_like, shape (n,)
        Weights.
    x : array_like, shape (T, n)
        Inputs, one sample per row.
    s : array_like, shape (T, k)
        Sources, one sample per row (the same samples as ``x``).

    Returns
    -------
    ndarray, shape (k,)
        :math:`|\mathrm{corr}(y,s_i)|` for every source, in [0, 1].
    """
    x = check_real_array(x, "x", ndim=2)
    s = check_real_array(s, "s", ndim=2)
    w = check_real_array(w, "w", ndim=1)
    if x.shape[0] != s.shape[0] or w.shape[0] != x.shape[1]:
        raise ValueError(
            "x and s must have the same number of rows and w one weight per column of x; "
            f"got shapes w {w.shape}, x {x.shape}, s {s.shape}"
        )
    y = x @ w
    yc, sc = y - y.mean(), s - s.mean(axis=0)
    denom = np.sqrt((yc @ yc) * np.sum(sc * sc, axis=0))
    if np.any(denom == 0):
        raise ValueError("y and every source must vary over the samples; got a constant one")
    return np.abs(yc @ sc) / denom


# ---------------------------------------------------------------------------
# rate rules
# ---------------------------------------------------------------------------


def hebb(x, w0, eta, *, record_every=1, max_norm=1e6, on_divergence="raise") -> LearningRun:
    r"""Plain Hebbian learning :math:`\Delta\mathbf w=\eta\,\mathbf x\,y`.

    With the linear response :math:`y=\mathbf w^\top\mathbf x`, on average
    :math:`\Delta\mathbf w=\eta C\mathbf w` with :math:`C=\langle\mathbf x\mathbf x^\top\rangle`,
    so the weight grows like :math:`(1+\eta\lambda_1)^t` along the top eigenvector: the rule
    always diverges (use ``on_divergence="stop"`` to watch it).

    Parameters
    ----------
    x : array_like, shape (T, n)
        Input stream, one sample per row.
    w0 : array_like, shape (n,)
        Initial weights.
    eta : float
        Learning rate (> 0).
    record_every : int, optional
        Record the weights every this many samples (default 1).
    max_norm : float, optional
        The run stops when the weight norm exceeds this (default 1e6).
    on_divergence : {"raise", "stop"}, optional
        On divergence raise :class:`DivergenceError` (default) or return the run with
        ``diverged=True`` and the last finite weights (before the divergent sample).

    Returns
    -------
    LearningRun
        Final weights, recorded trajectory and running average of :math:`y^2`.
    """
    return _run("hebb", x, w0, eta, record_every, max_norm, on_divergence)


def oja(x, w0, eta, *, record_every=1, max_norm=1e6, on_divergence="raise") -> LearningRun:
    r"""Oja's rule :math:`\Delta\mathbf w=\eta\,y\,(\mathbf x-y\,\mathbf w)`.

    With :math:`y=\mathbf w^\top\mathbf x` and small :math:`\eta`, the weight converges to the
    unit-norm top eigenvector of :math:`C=\langle\mathbf x\mathbf x^\top\rangle` (Oja 1982).

    Parameters
    ----------
    x : array_like, shape (T, n)
        Input stream, one sample per row.
    w0 : array_like, shape (n,)
        Initial weights.
    eta : float
        Learning rate (> 0).
    record_every : int, optional
        Record the weights every this many samples (default 1).
    max_norm : float, optional
        The run stops when the weight norm exceeds this (default 1e6).
    on_divergence : {"raise", "stop"}, optional
        On divergence raise :class:`DivergenceError` (default) or return the run with
        ``diverged=True`` and the last finite weights (before the divergent sample).

    Returns
    -------
    LearningRun
        Final weights, recorded trajectory and running average of :math:`y^2`.
    """
    return _run("oja", x, w0, eta, record_every, max_norm, on_divergence)


def bcm(
    x, w0, eta, *, threshold_rate=0.01, m0=None, record_every=1, max_norm=1e6, on_divergence="raise"
) -> LearningRun:
    r"""BCM rule with a sliding threshold: :math:`\Delta\mathbf w=\eta\,\mathbf x\,y\,(y-\bar m)`.

    The threshold :math:`\bar m` is a running average of :math:`y^2`,
    :math:`\bar m\leftarrow\bar m+r\,(y^2-\bar m)` after every sample.  This is
    :func:`correlation_invariant` with ``power=2, kappa=1``.

    Parameters
    ----------
    x : array_like, shape (T, n)
        Input stream, one sample per row.
    w0 : array_like, shape (n,)
        Initial weights.
    eta : float
        Learning rate (> 0).
    threshold_rate : float, optional
        Rate :math:`r` of the running average, in (0, 1] (default 0.01).
    m0 : float, optional
        Initial threshold (default: the mean of :math:`y^2` over the stream at ``w0``).
    record_every : int, optional
        Record the weights every this many samples (default 1).
    max_norm : float, optional
        The run stops when the weight norm exceeds this (default 1e6).
    on_divergence : {"raise", "stop"}, optional
        On divergence raise :class:`DivergenceError` (default) or return the run with
        ``diverged=True`` and the last finite weights (before the divergent sample).

    Returns
    -------
    LearningRun
        Final weights, recorded trajectory and the threshold :math:`\bar m` at the same times.
    """
    return correlation_invariant(
        x,
        w0,
        eta,
        power=2,
        kappa=1.0,
        threshold_rate=threshold_rate,
        m0=m0,
        record_every=record_every,
        max_norm=max_norm,
        on_divergence=on_divergence,
    )


def correlation_invariant(
    x,
    w0,
    eta,
    *,
    power=3,
    kappa=6.0,
    threshold_rate=0.01,
    m0=None,
    record_every=1,
    max_norm=1e6,
    on_divergence="raise",
) -> LearningRun:
    r"""Correlation-invariant rule :math:`\Delta\mathbf w=\eta\,\mathbf x\,\phi(y)`,
    :math:`\phi(y)=y^p-\kappa\,\bar m^{\,p-1}\,y`.

    Every term is the presynaptic input :math:`\mathbf x` times a function of the
    postsynaptic activity; the depression amplitude :math:`\kappa\bar m^{p-1}` is metaplastic
    (:math:`\bar m` is the running average of :math:`y^2`,
    :math:`\bar m\leftarrow\bar m+r\,(y^2-\bar m)` after every sample).  Fixed points obey
    :math:`\langle\mathbf x\,\phi(y)\rangle=A\langle\mathbf s\,\phi(y)\rangle=0`, which does not
    depend on the invertible mixing :math:`A`.  ``power=3, kappa=6`` (default) pursues
    kurtosis with :math:`y=\pm s_i` at the fixed point for unit Laplace sources; ``power=2,
    kappa=1`` is BCM (:func:`bcm`).  Reconstruction after Brito & Gerstner (arXiv:2105.10109).

    Parameters
    ----------
    x : array_like, shape (T, n)
        Input stream, one sample per row.
    w0 : array_like, shape (n,)
        Initial weights.
    eta : float
        Learning rate (> 0).
    power : {2, 3}, optional
        Exponent :math:`p` of the potentiation term (default 3).
    kappa : float, optional
        Depression strength :math:`\kappa` (>= 0, default 6).
    threshold_rate : float, optional
        Rate :math:`r` of the running average, in (0, 1] (default 0.01).
    m0 : float, optional
        Initial :math:`\bar m` (default: the mean of :math:`y^2` over the stream at ``w0``).
    record_every : int, optional
        Record the weights every this many samples (default 1).
    max_norm : float, optional
        The run stops when the weight norm exceeds this (default 1e6).
    on_divergence : {"raise", "stop"}, optional
        On divergence raise :class:`DivergenceError` (default) or return the run with
        ``diverged=True`` and the last finite weights (before the divergent sample).

    Returns
    -------
    LearningRun
        Final weights, recorded trajectory and :math:`\bar m` at the same times.
    """
    power = _check_power(power)
    return _run(
        "invariant",
        x,
        w0,
        eta,
        record_every,
        max_norm,
        on_divergence,
        power=power,
        kappa=kappa,
        m0=m0,
        threshold_rate=threshold_rate,
    )


def normalised_hebbian(
    x, w0, eta, *, power=3, record_every=1, max_norm=1e6, on_divergence="raise"
) -> LearningRun:
    r"""Nonlinear Hebb with explicit normalisation.

    .. math::
       \mathbf w\leftarrow\frac{\mathbf w+\eta\,\mathbf x\,y^p}
       {\lVert\mathbf w+\eta\,\mathbf x\,y^p\rVert},\qquad y=\mathbf w^\top\mathbf x.

    Fixed points obey :math:`\langle\mathbf x\,y^p\rangle\propto\mathbf w`, i.e.
    :math:`A^\top A\,\langle\mathbf s\,y^p\rangle\propto\mathbf v` in source coordinates
    :math:`\mathbf v=A^\top\mathbf w`: they depend on the input correlations.

    Parameters
    ----------
    x : array_like, shape (T, n)
        Input stream, one sample per row.
    w0 : array_like, shape (n,)
        Initial weights.
    eta : float
        Learning rate (> 0).
    power : {2, 3}, optional
        Exponent :math:`p` of the Hebbian term (default 3).
    record_every : int, optional
        Record the weights every this many samples (default 1).
    max_norm : float, optional
        The run stops when the weight norm exceeds this (default 1e6).
    on_divergence : {"raise", "stop"}, optional
        On divergence raise :class:`DivergenceError` (default) or return the run with
        ``diverged=True`` and the last finite weights (before the divergent sample).

    Returns
    -------
    LearningRun
        Final weights, recorded trajectory and running average of :math:`y^2`.
    """
    power = _check_power(power)
    return _run("normalised", x, w0, eta, record_every, max_norm, on_divergence, power=power)


def heterosynaptic(
    x, w0, eta, *, power=3, record_every=1, max_norm=1e6, on_divergence="raise"
) -> LearningRun:
    r"""Nonlinear Hebb with heterosynaptic (Oja-type) decay:
    :math:`\Delta\mathbf w=\eta\,(\mathbf x\,y^p-y^{p+1}\,\mathbf w)`.

    The decay term :math:`-y^{p+1}w_j` acts on every synapse, active or not.  It keeps
    :math:`\lVert\mathbf w\rVert\approx1` and, like explicit normalisation, makes the fixed points
    depend on the input correlations.

    Parameters
    ----------
    x : array_like, shape (T, n)
        Input stream, one sample per row.
    w0 : array_like, shape (n,)
        Initial weights.
    eta : float
        Learning rate (> 0).
    power : {2, 3}, optional
        Exponent :math:`p` of the Hebbian term (default 3).
    record_every : int, optional
        Record the weights every this many samples (default 1).
    max_norm : float, optional
        The run stops when the weight norm exceeds this (default 1e6).
    on_divergence : {"raise", "stop"}, optional
        On divergence raise :class:`DivergenceError` (default) or return the run with
        ``diverged=True`` and the last finite weights (before the divergent sample).

    Returns
    -------
    LearningRun
        Final weights, recorded trajectory and running average of :math:`y^2`.
    """
    power = _check_power(power)
    return _run("heterosynaptic", x, w0, eta, record_every, max_norm, on_divergence, power=power)


def fixed_point_scale(moment, power, kappa) -> float:
    r"""Scale :math:`c` of the invariant rule's fixed point :math:`y=c\,s_i`.

    With :math:`y=c\,s_i`, unit-variance :math:`s_i` and :math:`\bar m=c^2`, the fixed-point
    condition :math:`\langle s_i\,\phi(y)\rangle=0` reads
    :math:`c^p\langle s^{p+1}\rangle-\kappa c^{2p-1}=0`, so
    :math:`c^{p-1}=\langle s^{p+1}\rangle/\kappa`.

    Parameters
    ----------
    moment : float
        :math:`\langle s^{p+1}\rangle`: the third moment (skewness) for ``p = 2``, the fourth
        moment for ``p = 3`` (then > 0).
    power : {2, 3}
        Exponent :math:`p` of the rule.
    kappa : float
        Depression strength :math:`\kappa` (> 0).

    Returns
    -------
    float
        :math:`c=\langle s^3\rangle/\kappa` for ``p = 2``,
        :math:`c=\sqrt{\langle s^4\rangle/\kappa}` for ``p = 3``.
    """
    power = _check_power(power)
    kappa = check_positive_float(kappa, "kappa")
    if power == 2:
        return check_finite_float(moment, "moment") / kappa
    return float(np.sqrt(check_positive_float(moment, "moment") / kappa))


# ---------------------------------------------------------------------------
# voltage rule on a dendrite
# ---------------------------------------------------------------------------


class VoltageRuleParams(NamedTuple):
    r"""Constants of the voltage rule (illustrative values, not fitted to data).

    Times in ms, voltages in mV, amplitudes per mV per ms (arbitrary weight units).
    """

    tau_g: float = 20.0
    tau_plus: float = 5.0
    tau_minus: float = 10.0
    theta_plus: float = -55.0
    theta_minus: float = -68.0
    a_ltp: float = 1.0
    a_ltd: float = 0.4


class VoltageRuleResult(NamedTuple):
    """Output of :func:`voltage_rule`: the total change and the traces on the time grid."""

    dw: float
    cumulative: np.ndarray
    glutamate: np.ndarray
    u_plus: np.ndarray
    u_minus: np.ndarray


def _check_params(params):
    if params is None:
        return VoltageRuleParams()
    if not isinstance(params, VoltageRuleParams):
        raise TypeError(f"params must be a VoltageRuleParams; got {type(params).__name__}")
    for name in ("tau_g", "tau_plus", "tau_minus"):
        check_positive_float(getattr(params, name), name)
    for name in ("a_ltp", "a_ltd"):
        check_nonneg_float(getattr(params, name), name)
    tp = check_finite_float(params.theta_plus, "theta_plus")
    tm = check_finite_float(params.theta_minus, "theta_minus")
    if not tm < tp:
        raise ValueError(
            f"theta_minus must lie below theta_plus={tp} (the LTD threshold below the LTP "
            f"threshold); got theta_minus={tm}"
        )
    return params


def _check_times(times, name):
    return check_real_array(np.atleast_1d(times), name, ndim=1, allow_empty=True)


def _spike_counts(times, n_steps, dt, name):
    t = _check_times(times, name)
    counts = np.zeros(n_steps)
    if t.size:
        idx = np.rint(t / dt).astype(np.int64)
        if idx.min() < 0 or idx.max() >= n_steps:
            raise ValueError(
                f"{name} must lie within the trace, [0, {(n_steps - 1) * dt:g}] ms; got "
                f"range [{t.min():g}, {t.max():g}] ms"
            )
        np.add.at(counts, idx, 1.0)
    return counts


def voltage_rule(voltage, pre_times, dt=0.1, params=None, u0=None) -> VoltageRuleResult:
    r"""Weight change of one synapse from its local voltage and presynaptic spikes.

    .. math::
       \frac{dg}{dt}=-\frac{g}{\tau_g}+\sum_k\delta(t-t_k^{pre}),\qquad
       \tau_\pm\frac{d\bar u_\pm}{dt}=u-\bar u_\pm,

    .. math::
       \frac{dw}{dt}=g(t)\Bigl(A_{LTP}\,[\bar u_+(t)-\theta_+]_+
       -A_{LTD}\,[\bar u_-(t)-\theta_-]_+\Bigr),

    integrated with forward Euler on the grid of ``voltage``.  Each presynaptic spike adds 1 to
    the glutamate trace, so :math:`\int g\,dt=\tau_g` per spike once the trace has decayed.
    For a voltage clamped at :math:`u` (and ``u0 = u``) the change is therefore
    :math:`\bigl(A_{LTP}[u-\theta_+]_+-A_{LTD}[u-\theta_-]_+\bigr)\int g\,dt`
    (:func:`clamped_weight_change`).

    Parameters
    ----------
    voltage : array_like, shape (K,)
        Local dendritic voltage (mV) on a grid of step ``dt`` (ms).
    pre_times : array_like
        Presynaptic spike times (ms, rounded to the grid); may be empty.
    dt : float
        Time step (ms), at most half the shortest time constant.
    params : VoltageRuleParams, optional
        Constants of the rule (default ``VoltageRuleParams()``).
    u0 : float, optional
        Initial value of both filtered voltages (default ``voltage[0]``).

    Returns
    -------
    VoltageRuleResult
        The total change ``dw`` and, on the grid, the accumulated change, the glutamate
        trace and the two filtered voltages.
    """
    u = check_real_array(voltage, "voltage", ndim=1)
    dt = check_positive_float(dt, "dt")
    p = _check_params(params)
    if dt > 0.5 * min(p.tau_g, p.tau_plus, p.tau_minus):
        raise ValueError(
            f"dt={dt} ms is too coarse for the time constants; use dt <= "
            f"{0.5 * min(p.tau_g, p.tau_plus, p.tau_minus)} ms"
        )
    u0 = float(u[0]) if u0 is None else check_finite_float(u0, "u0")
    pre = _spike_counts(pre_times, u.shape[0], dt, "pre_times")
    k = u.shape[0]
    g, up, um, cum = np.empty(k), np.empty(k), np.empty(k), np.empty(k)
    total = _voltage_rule(
        u,
        pre,
        dt,
        p.tau_g,
        p.tau_plus,
        p.tau_minus,
        p.theta_plus,
        p.theta_minus,
        p.a_ltp,
        p.a_ltd,
        u0,
        u0,
        g,
        up,
        um,
        cum,
    )
    return VoltageRuleResult(float(total), cum, g, up, um)


def clamped_weight_change(u, glutamate_integral, params=None) -> float:
    r"""Closed-form weight change for a voltage clamped at ``u`` (filters started at ``u``).

    .. math::
       \Delta w=\bigl(A_{LTP}[u-\theta_+]_+-A_{LTD}[u-\theta_-]_+\bigr)\int g\,dt.

    Parameters
    ----------
    u : float
        Clamped voltage (mV).
    glutamate_integral : float
        :math:`\int g\,dt` (>= 0): :math:`\tau_g` per presynaptic spike once the traces decay.
    params : VoltageRuleParams, optional
        Constants of the rule (default ``VoltageRuleParams()``).

    Returns
    -------
    float
        The weight change :math:`\Delta w`.
    """
    u = check_finite_float(u, "u")
    gi = check_nonneg_float(glutamate_integral, "glutamate_integral")
    p = _check_params(params)
    return (p.a_ltp * max(u - p.theta_plus, 0.0) - p.a_ltd * max(u - p.theta_minus, 0.0)) * gi


def dendritic_voltage(
    duration,
    distance,
    post_times=(),
    pre_times=(),
    *,
    dt=0.1,
    rest=-70.0,
    bap_amplitude=100.0,
    length_constant=150.0,
    bap_width=1.0,
    broadening_length=100.0,
    epsp_amplitude=2.0,
    epsp_tau=5.0,
    plateau_amplitude=0.0,
    plateau_duration=20.0,
) -> np.ndarray:
    r"""Synthetic local voltage at ``distance`` (µm) from the soma, on a grid of step ``dt``.

    .. math::
       u(t)=u_{rest}+\sum_{\text{post}}V_0e^{-x/\lambda}\,
       e^{-(t-t_{post})^2/2\sigma(x)^2}+\sum_{\text{pre}}\mathrm{EPSP}(t-t_{pre})
       +\sum_{\text{post}}P\,\mathbb 1[0\le t-t_{post}<D],

    with :math:`\sigma(x)=\sigma_0(1+x/\ell)`: the back-propagating action potential (bAP)
    attenuates and broadens with distance.  The EPSP is an alpha function
    :math:`\epsilon_0\,(t/\tau)e^{1-t/\tau}` (peak :math:`\epsilon_0` at :math:`t=\tau`); the
    optional plateau of amplitude :math:`P` and duration :math:`D` stands for a local dendritic
    spike triggered with each bAP.  These are illustrative traces, not recordings.

    Parameters
    ----------
    duration : float
        Length of the trace (ms, > 0).
    distance : float
        Distance :math:`x` from the soma (µm, >= 0).
    post_times, pre_times : array_like, optional
        Times (ms) of the bAPs and of the presynaptic spikes (EPSPs); may be empty.
    dt : float, optional
        Time step (ms, default 0.1).
    rest : float, optional
        Resting potential :math:`u_{rest}` (mV, default -70).
    bap_amplitude, length_constant : float, optional
        bAP amplitude at the soma :math:`V_0` (mV) and its attenuation length
        :math:`\lambda` (µm).
    bap_width, broadening_length : float, optional
        bAP width at the soma :math:`\sigma_0` (ms) and broadening length :math:`\ell` (µm).
    epsp_amplitude, epsp_tau : float, optional
        EPSP peak :math:`\epsilon_0` (mV) and time to peak :math:`\tau` (ms).
    plateau_amplitude, plateau_duration : float, optional
        Plateau amplitude :math:`P` (mV, default 0: no plateau) and duration :math:`D` (ms).

    Returns
    -------
    ndarray, shape (round(duration / dt) + 1,)
        The voltage (mV) at times ``0, dt, 2 dt, ...``.
    """
    duration = check_positive_float(duration, "duration")
    dt = check_positive_float(dt, "dt")
    x = check_nonneg_float(distance, "distance")
    for name, value in (
        ("length_constant", length_constant),
        ("bap_width", bap_width),
        ("broadening_length", broadening_length),
        ("epsp_tau", epsp_tau),
    ):
        check_positive_float(value, name)
    for name, value in (
        ("bap_amplitude", bap_amplitude),
        ("epsp_amplitude", epsp_amplitude),
        ("plateau_amplitude", plateau_amplitude),
        ("plateau_duration", plateau_duration),
    ):
        check_nonneg_float(value, name)
    rest = check_finite_float(rest, "rest")
    check_size(duration / dt + 1, f"a trace of duration/dt = {duration / dt:.3g} steps", copies=8)
    t = np.arange(int(round(duration / dt)) + 1) * dt
    post = _check_times(post_times, "post_times")
    pre = _check_times(pre_times, "pre_times")
    u = np.full_like(t, rest)
    amp = bap_amplitude * np.exp(-x / length_constant)
    sigma = bap_width * (1.0 + x / broadening_length)
    # Each event only touches the grid points where its term is not exactly 0.0 in floating
    # point: exp(-z**2 / 2) underflows to 0.0 for |z| > 38.6 and s * exp(1 - s) for s > 746,
    # so the windows give the same trace, bit for bit, as sums over the whole grid.
    for tp in post:
        lo, hi = np.searchsorted(t, (tp - 40.0 * sigma, tp + 40.0 * sigma))
        u[lo:hi] += amp * np.exp(-0.5 * ((t[lo:hi] - tp) / sigma) ** 2)
        if plateau_amplitude > 0:
            lo, hi = np.searchsorted(t, (tp, tp + plateau_duration))
            u[lo:hi] += plateau_amplitude
    for tq in pre:
        lo, hi = np.searchsorted(t, (tq, tq + 750.0 * epsp_tau))
        s = (t[lo:hi] - tq) / epsp_tau
        u[lo:hi] += epsp_amplitude * s * np.exp(1.0 - s)
    return u


def pairing_protocol(
    distance,
    *,
    n_pairings=60,
    frequency=1.0,
    delay=10.0,
    dt=0.1,
    plateau_amplitude=0.0,
    params=None,
    **trace_kwargs,
) -> float:
    r"""Total weight change of a pre-then-post pairing protocol at ``distance`` µm.

    ``n_pairings`` presynaptic spikes at ``frequency`` Hz, the first at 50 ms (later if
    ``delay < 0``), each followed after ``delay`` ms by a bAP; the synthetic trace comes from
    :func:`dendritic_voltage` and the change from :func:`voltage_rule`, integrated until
    200 ms after the last spike:
    :math:`\Delta w=\int_0^{T}g(t)\bigl(A_{LTP}[\bar u_+-\theta_+]_+-A_{LTD}[\bar u_--\theta_-]_+
    \bigr)\,dt`.

    Parameters
    ----------
    distance : float
        Distance of the synapse from the soma (µm, >= 0).
    n_pairings : int, optional
        Number of pre/post pairs (default 60).
    frequency : float, optional
        Pairing frequency (Hz, > 0, default 1).
    delay : float, optional
        Post minus pre spike time (ms, default 10; negative: post before pre).
    dt : float, optional
        Time step (ms, default 0.1).
    plateau_amplitude : float, optional
        Amplitude (mV) of a dendritic plateau with each bAP (default 0: none).
    params : VoltageRuleParams, optional
        Constants of the rule (default ``VoltageRuleParams()``).
    **trace_kwargs
        Further keyword arguments of :func:`dendritic_voltage`.

    Returns
    -------
    float
        The total weight change :math:`\Delta w` of the protocol.
    """
    n_pairings = check_positive_int(n_pairings, "n_pairings")
    frequency = check_positive_float(frequency, "frequency")
    delay = check_finite_float(delay, "delay")
    check_size(n_pairings, "the spike times (n_pairings)", copies=4)
    period = 1000.0 / frequency
    start = max(0.0, -delay) + 50.0
    pre = start + period * np.arange(n_pairings)
    post = pre + delay
    duration = max(pre[-1], post[-1]) + 200.0
    u = dendritic_voltage(
        duration, distance, post, pre, dt=dt, plateau_amplitude=plateau_amplitude, **trace_kwargs
    )
    return voltage_rule(u, pre, dt=dt, params=params).dw


# ---------------------------------------------------------------------------
# many random starts
# ---------------------------------------------------------------------------

_MULTI_RULES = ("invariant", "normalised", "heterosynaptic")


class MultiStartResult(NamedTuple):
    """Outcome of one rule run from many random initial weights (see :func:`multi_start`)."""

    #: :math:`\max_i|\mathrm{corr}(y, s_i)|` at the start of every run, shape (n_starts,)
    initial: np.ndarray
    #: :math:`\max_i|\mathrm{corr}(y, s_i)|` at the end of every run, shape (n_starts,)
    final: np.ndarray
    #: whether the run found a source, ``final > threshold``, shape (n_starts,)
    found: np.ndarray
    #: whether the run diverged (stopped early; its ``final`` is 0), shape (n_starts,)
    diverged: np.ndarray
    #: fraction of runs that found a source
    fraction: float
    #: recorded weights of every run, shape (n_starts, n_records, n)
    trajectories: np.ndarray


def multi_start(
    rule, x, s, n_starts, eta, *, rng, power=3, kappa=6.0, threshold=0.99, record_every=1000
) -> MultiStartResult:
    r"""Run a demixing rule from ``n_starts`` random directions and count the sources found.

    Every start draws a direction :math:`\mathbf u \sim \mathcal N(0, I)` from ``rng``. The
    correlation-invariant rule (:func:`correlation_invariant`, ``"invariant"``) starts at
    :math:`\mathbf w_0 = \mathbf u/\sqrt{\langle(\mathbf u^\top\mathbf x)^2\rangle}`
    (:math:`\mathrm{var}(y) = 1`); the normalised and heterosynaptic rules
    (:func:`normalised_hebbian`, :func:`heterosynaptic`) at the unit vector
    :math:`\mathbf u/\lVert\mathbf u\rVert`, the same direction. A run finds a source when
    :math:`\max_i|\mathrm{corr}(\mathbf w^\top\mathbf x, s_i)| >` ``threshold`` at the end
    (see :func:`source_correlations`). The result depends only on the inputs and on ``rng``.

    Parameters
    ----------
    rule : {"invariant", "normalised", "heterosynaptic"}
        The learning rule.
    x : array_like, shape (T, n)
        Input stream.
    s : array_like, shape (T, k)
        The sources behind ``x`` (the same samples).
    n_starts : int
        Number of random starts.
    eta : float
        Learning rate.
    rng : numpy.random.Generator
        Source of the initial directions.
    power : int
        Exponent :math:`p` of the rule's nonlinearity.
    kappa : float
        Depression factor :math:`\kappa` of the invariant rule (ignored by the others).
    threshold : float
        Correlation in (0, 1) above which a run counts as having found a source.
    record_every : int
        Samples between recorded weights.

    Returns
    -------
    MultiStartResult
        Initial and final correlations, the success flags and fraction, and the trajectories.
    """
    rule = check_option(rule, "rule", _MULTI_RULES)
    x = check_real_array(x, "x", ndim=2)
    s = check_real_array(s, "s", ndim=2)
    if s.shape[0] != x.shape[0]:
        raise ValueError(
            f"x and s must have the same number of rows (samples); got {x.shape[0]} and "
            f"{s.shape[0]}"
        )
    n_starts = check_positive_int(n_starts, "n_starts")
    rng = check_generator(rng)
    threshold = check_fraction(threshold, "threshold", closed_low=False)
    n_rec = x.shape[0] // check_positive_int(record_every, "record_every") + 1
    check_size((n_starts, n_rec, x.shape[1]), "the trajectories (n_starts, R, n)", copies=2)
    sc = s - s.mean(axis=0)
    s_norm = np.sqrt(np.sum(sc * sc, axis=0))
    if np.any(s_norm == 0):
        raise ValueError("every source must vary over the samples; got a constant one")

    def best_correlation(w):  # source_correlations(w, x, s).max(), sources centred once
        y = x @ w
        y = y - y.mean()
        y_norm = math.sqrt(float(y @ y))
        if y_norm == 0:
            return 0.0
        return float(np.max(np.abs(y @ sc) / (y_norm * s_norm)))

    initial, final, trajectories, diverged = [], [], [], []
    for _ in range(n_starts):
        u = rng.standard_normal(x.shape[1])
        if rule == "invariant":
            w0 = u / np.sqrt(np.mean((x @ u) ** 2))
            run = correlation_invariant(
                x,
                w0,
                eta,
                power=power,
                kappa=kappa,
                record_every=record_every,
                on_divergence="stop",
            )
        else:
            w0 = u / np.linalg.norm(u)
            learn = normalised_hebbian if rule == "normalised" else heterosynaptic
            run = learn(x, w0, eta, power=power, record_every=record_every, on_divergence="stop")
        initial.append(best_correlation(w0))
        diverged.append(run.diverged)
        final.append(0.0 if run.diverged else best_correlation(run.weights))
        n_rec = x.shape[0] // record_every + 1
        traj = np.full((n_rec, x.shape[1]), np.nan)
        traj[: min(n_rec, len(run.trajectory))] = run.trajectory[:n_rec]
        trajectories.append(traj)
    final = np.array(final)
    found = final > threshold
    return MultiStartResult(
        np.array(initial),
        final,
        found,
        np.array(diverged),
        float(found.mean()),
        np.array(trajectories),
    )


# ---------------------------------------------------------------------------
# voltage rule with LTP gated by the filtered depolarisation (Clopath-like)
# ---------------------------------------------------------------------------


class GatedRuleParams(NamedTuple):
    r"""Constants of the gated voltage rule (illustrative values, not fitted to data).

    Times in ms, voltages in mV; ``a_ltp`` per mV² per ms per unit trace, ``a_ltd`` per mV per
    presynaptic spike (arbitrary weight units).
    """

    tau_x: float = 15.0
    tau_plus: float = 7.0
    tau_minus: float = 10.0
    theta_plus: float = -55.0
    theta_minus: float = -68.0
    a_ltp: float = 0.01
    a_ltd: float = 1.0


class GatedRuleResult(NamedTuple):
    """Output of :func:`gated_voltage_rule`: the total change and the traces on the grid."""

    dw: float
    cumulative: np.ndarray
    pre_trace: np.ndarray
    u_plus: np.ndarray
    u_minus: np.ndarray


@njit(cache=True, nogil=True)
def _gated_rule(
    u,
    pre,
    dt,
    tau_x,
    tau_plus,
    tau_minus,
    theta_plus,
    theta_minus,
    a_ltp,
    a_ltd,
    u0,
    x_out,
    up_out,
    um_out,
    dw_out,
):  # pragma: no cover - numba
    """Forward Euler; at grid step k the spikes in the bin first cause LTD with the filter
    values of step k and raise the trace, then LTP accrues for dt, then the filters advance."""
    xb = 0.0
    up = u0
    um = u0
    total = 0.0
    for k in range(u.shape[0]):
        if pre[k] > 0.0:
            ltd = um - theta_minus
            if ltd > 0.0:
                total -= a_ltd * pre[k] * ltd
            xb += pre[k]
        drive = u[k] - theta_plus
        gate = up - theta_minus
        if drive > 0.0 and gate > 0.0:
            total += dt * a_ltp * xb * drive * gate
        x_out[k] = xb
        up_out[k] = up
        um_out[k] = um
        dw_out[k] = total
        xb -= dt * xb / tau_x
        up += dt * (u[k] - up) / tau_plus
        um += dt * (u[k] - um) / tau_minus
    return total


def _check_gated_params(params):
    if params is None:
        return GatedRuleParams()
    if not isinstance(params, GatedRuleParams):
        raise TypeError(f"params must be a GatedRuleParams; got {type(params).__name__}")
    for name in ("tau_x", "tau_plus", "tau_minus"):
        check_positive_float(getattr(params, name), name)
    for name in ("a_ltp", "a_ltd"):
        check_nonneg_float(getattr(params, name), name)
    tp = check_finite_float(params.theta_plus, "theta_plus")
    tm = check_finite_float(params.theta_minus, "theta_minus")
    if not tm < tp:
        raise ValueError(
            f"theta_minus must lie below theta_plus={tp} (the LTD threshold below the LTP "
            f"threshold); got theta_minus={tm}"
        )
    return params


def gated_voltage_rule(voltage, pre_times, dt=0.1, params=None, u0=None) -> GatedRuleResult:
    r"""Voltage rule whose LTP is gated by the filtered depolarisation (Clopath-like).

    .. math::
       \frac{dw}{dt}=A_{LTP}\,\bar x(t)\,[u(t)-\theta_+]_+\,[\bar u_+(t)-\theta_-]_+
       -A_{LTD}\,X(t)\,[\bar u_-(t)-\theta_-]_+ ,

    with the presynaptic spike train :math:`X(t)=\sum_k\delta(t-t_k^{pre})`, its trace
    :math:`d\bar x/dt=-\bar x/\tau_x+X(t)` and :math:`\tau_\pm\,d\bar u_\pm/dt=u-\bar u_\pm`.
    LTP needs a recent presynaptic spike, an instantaneous voltage above :math:`\theta_+` (a
    bAP) *and* a filtered depolarisation above :math:`\theta_-`; LTD happens at presynaptic
    spikes that arrive while the filtered voltage :math:`\bar u_-` is depolarised. For a voltage
    clamped at :math:`u` (``u0 = u``) and :math:`n` spikes,
    :math:`\Delta w=n\bigl(A_{LTP}\tau_x[u-\theta_+]_+[u-\theta_-]_+-A_{LTD}[u-\theta_-]_+\bigr)`.

    Parameters
    ----------
    voltage : array_like, shape (K,)
        Local dendritic voltage (mV) on a grid of step ``dt`` (ms).
    pre_times : array_like
        Presynaptic spike times (ms, rounded to the grid); may be empty.
    dt : float
        Time step (ms), at most half the shortest time constant.
    params : GatedRuleParams, optional
        Constants of the rule (default ``GatedRuleParams()``).
    u0 : float, optional
        Initial value of both filtered voltages (default ``voltage[0]``).

    Returns
    -------
    GatedRuleResult
        The total change ``dw`` and, on the grid, the accumulated change, the presynaptic trace
        and the two filtered voltages.
    """
    u = check_real_array(voltage, "voltage", ndim=1)
    dt = check_positive_float(dt, "dt")
    p = _check_gated_params(params)
    if dt > 0.5 * min(p.tau_x, p.tau_plus, p.tau_minus):
        raise ValueError(
            f"dt={dt} ms is too coarse for the time constants; use dt <= "
            f"{0.5 * min(p.tau_x, p.tau_plus, p.tau_minus)} ms"
        )
    u0 = float(u[0]) if u0 is None else check_finite_float(u0, "u0")
    pre = _spike_counts(pre_times, u.shape[0], dt, "pre_times")
    k = u.shape[0]
    xb, up, um, cum = np.empty(k), np.empty(k), np.empty(k), np.empty(k)
    total = _gated_rule(
        u,
        pre,
        dt,
        p.tau_x,
        p.tau_plus,
        p.tau_minus,
        p.theta_plus,
        p.theta_minus,
        p.a_ltp,
        p.a_ltd,
        u0,
        xb,
        up,
        um,
        cum,
    )
    check_finite_result(total, "the weight change", "the voltage is too large (overflow)")
    return GatedRuleResult(float(total), cum, xb, up, um)


def gated_clamped_weight_change(u, n_pre, params=None) -> float:
    r"""Weight change of :func:`gated_voltage_rule` for a voltage clamped at ``u``.

    .. math::
       \Delta w=n\Bigl(A_{LTP}\,\tau_x\,[u-\theta_+]_+\,[u-\theta_-]_+-A_{LTD}\,[u-\theta_-]_+\Bigr)

    (each spike's trace has area :math:`\tau_x`). It changes sign from LTD to LTP at
    :math:`u^\ast=\theta_++A_{LTD}/(A_{LTP}\tau_x)`.

    Parameters
    ----------
    u : float
        Clamped voltage (mV).
    n_pre : float
        Number of presynaptic spikes, >= 0.
    params : GatedRuleParams, optional
        Constants of the rule.

    Returns
    -------
    float
        :math:`\Delta w`.
    """
    u = check_finite_float(u, "u")
    n = check_nonneg_float(n_pre, "n_pre")
    p = _check_gated_params(params)
    ltp = p.a_ltp * p.tau_x * max(u - p.theta_plus, 0.0) * max(u - p.theta_minus, 0.0)
    ltd = p.a_ltd * max(u - p.theta_minus, 0.0)
    out = float(n * (ltp - ltd))
    check_finite_result(out, "the weight change", "u or n_pre is too large (overflow)")
    return out


def stdp_window(
    distance,
    delays,
    *,
    n_pairings=1,
    frequency=1.0,
    dt=0.1,
    plateau_amplitude=0.0,
    params=None,
    **trace_kwargs,
) -> np.ndarray:
    r"""STDP window of the gated rule at ``distance`` µm: weight change per pairing vs delay.

    For every delay :math:`\Delta t = t^{post} - t^{pre}` (ms; positive: pre before post),
    ``n_pairings`` pairs at ``frequency`` Hz produce a synthetic trace
    (:func:`dendritic_voltage`, bAP attenuated and broadened with distance), and
    :func:`gated_voltage_rule` gives
    :math:`\Delta w(\Delta t)=\int\bigl(A_{LTP}\bar x[u-\theta_+]_+[\bar u_+-\theta_-]_+
    -A_{LTD}X[\bar u_--\theta_-]_+\bigr)dt` over the protocol and 200 ms after it, divided by
    ``n_pairings``.

    Parameters
    ----------
    distance : float
        Distance of the synapse from the soma (µm, >= 0).
    delays : array_like, shape (m,)
        Post minus pre spike times (ms).
    n_pairings : int, optional
        Pairs per protocol (default 1).
    frequency : float, optional
        Pairing frequency (Hz, default 1).
    dt : float, optional
        Time step (ms, default 0.1).
    plateau_amplitude : float, optional
        Amplitude (mV) of a dendritic plateau with each bAP (default 0: none).
    params : GatedRuleParams, optional
        Constants of the rule.
    **trace_kwargs
        Further keyword arguments of :func:`dendritic_voltage`.

    Returns
    -------
    ndarray, shape (m,)
        :math:`\Delta w` per pairing for every delay.
    """
    d = check_real_array(np.atleast_1d(delays), "delays", ndim=1)
    n_pairings = check_positive_int(n_pairings, "n_pairings")
    frequency = check_positive_float(frequency, "frequency")
    check_size(n_pairings, "the spike times (n_pairings)", copies=4)
    period = 1000.0 / frequency
    out = np.empty(d.shape[0])
    for j, delay in enumerate(d):
        start = max(0.0, -delay) + 50.0
        pre = start + period * np.arange(n_pairings)
        post = pre + delay
        duration = max(pre[-1], post[-1]) + 200.0
        u = dendritic_voltage(
            duration,
            distance,
            post,
            pre,
            dt=dt,
            plateau_amplitude=plateau_amplitude,
            **trace_kwargs,
        )
        out[j] = gated_voltage_rule(u, pre, dt=dt, params=params).dw / n_pairings
    return out
