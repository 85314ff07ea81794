r"""Fitting recurrent spiking networks to summary statistics: sample-and-measure losses.

Written from the definitions of Bellec, Wang, Modirshanechi, Brea & Gerstner, *Fitting summary
statistics of neural data with a differentiable spiking network simulator*, NeurIPS 2021
(arXiv:2106.10064), scaled down to a discrete-time Bernoulli GLM without a convolutional front end.

Model
-----
:math:`N` neurons in bins :math:`t = 0, \dots, T-1` of a trial; every trial sees the same stimulus
features :math:`\mathbf x_t \in \mathbb R^{n_{in}}` (a repeated stimulus). The membrane potential
and the spikes are

.. math:: u_{t,i} = b_i + \sum_j W^{in}_{ij} x_{t,j}
          + \sum_{d=1}^{D} \sum_k W^{rec}_{d,ik} z_{t-d,k},
          \qquad z_{t,i} \sim \mathrm{Bernoulli}(p_{t,i}),\quad p_{t,i} = \sigma(u_{t,i}),

with :math:`\sigma(u) = 1/(1+e^{-u})`, no spikes before the trial (:math:`z_{t<0} = 0`), and
:math:`W^{rec}_{d,ii}` the self-history filter. Parameters are a :class:`GLMParams`.

Losses (all averages per bin and neuron)
----------------------------------------
* Negative log-likelihood with the recorded history clamped (teacher forcing), over recorded
  trials :math:`y^{(k)}`: :math:`\mathcal L_{MLE} = -\langle y\log p + (1-y)\log(1-p)\rangle`.
* PSTH loss on :math:`M` trials sampled from the freely running model:
  :math:`\mathcal L_{PSTH} = \langle(\bar p_{t,i} - \bar y_{t,i})^2\rangle_{t,i}` with
  :math:`\bar p_{t,i} = \frac1M\sum_m p^{(m)}_{t,i}` and :math:`\bar y` the recorded PSTH.
* Noise-correlation loss: :math:`\mathcal L_{NC} = \langle (C_{ij} - C^{data}_{ij})^2
  \rangle_{i \ne j}` with the noise covariance
  :math:`C_{ij} = \frac1{T(M-1)}\sum_{t,m}(z^{(m)}_{t,i}-\bar z_{t,i})(z^{(m)}_{t,j}-\bar z_{t,j})`
  of the sampled spikes (and of the recorded spikes for :math:`C^{data}`).

Gradients through the sampled spikes use the straight-through pseudo-derivative
:math:`\partial z_{t,i}/\partial u_{t,i} := \gamma\,\sigma'(u_{t,i})` (the derivative of the
spike's expectation), back-propagated through time over the sampled trials in a numba kernel.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from memlab._common import blas_threads_for
from memlab._validation import (
    check_finite_float,
    check_fraction,
    check_generator,
    check_nonneg_float,
    check_nonneg_int,
    check_option,
    check_positive_int,
    check_real_array,
)

__all__ = [
    "GLMParams",
    "GroundTruth",
    "Sample",
    "LossGradient",
    "FitResult",
    "FreeRunStats",
    "zero_params",
    "random_params",
    "hidden_network",
    "lagged_stimulus",
    "simulate",
    "psth",
    "noise_covariance",
    "negative_log_likelihood",
    "standard_errors",
    "psth_loss",
    "noise_correlation_loss",
    "sample_and_measure",
    "expected_loss",
    "fit",
    "free_run_stats",
]


class GLMParams(NamedTuple):
    """Parameters of a recurrent Bernoulli GLM.

    ``w_in``: stimulus filter :math:`W^{in}`, shape ``(N, n_in)``; ``w_rec``: coupling and
    self-history filters :math:`W^{rec}_d`, shape ``(D, N, N)`` (``w_rec[d-1, i, k]`` weighs the
    spike of neuron ``k`` ``d`` bins ago in neuron ``i``); ``bias``: :math:`b`, shape ``(N,)``.
    """

    w_in: np.ndarray
    w_rec: np.ndarray
    bias: np.ndarray


class GroundTruth(NamedTuple):
    """A ground-truth network: all its parameters, the stimulus and the recorded neurons.

    ``params`` covers recorded and hidden neurons; ``stimulus`` has shape ``(T, n_in)``;
    ``recorded`` lists the indices of the recorded neurons (the first ``n_recorded``).
    """

    params: GLMParams
    stimulus: np.ndarray
    recorded: np.ndarray


class Sample(NamedTuple):
    """Trials sampled from a model: ``spikes`` (0/1, uint8) and firing ``probabilities``,
    both of shape ``(n_trials, T, N)``."""

    spikes: np.ndarray
    probabilities: np.ndarray


class LossGradient(NamedTuple):
    """A loss value and its gradient (a :class:`GLMParams` of the same shapes)."""

    loss: float
    gradient: GLMParams


class FitResult(NamedTuple):
    """Result of :func:`fit`: the fitted ``params``, the loss after each optimiser step
    (``losses``, total; ``nll``, the likelihood term alone), and the number of gradient
    evaluations ``n_evaluations``."""

    params: GLMParams
    losses: np.ndarray
    nll: np.ndarray
    n_evaluations: int


class FreeRunStats(NamedTuple):
    """Statistics of a freely running model against data (see :func:`free_run_stats`).

    ``psth_error``: mean squared PSTH difference; ``nc_error``: mean squared difference of the
    off-diagonal noise covariances; ``rate``: mean firing probability per bin of the model;
    ``psth`` ``(T, N)`` and ``covariance`` ``(N, N)`` of the model's sampled trials.
    """

    psth_error: float
    nc_error: float
    rate: float
    psth: np.ndarray
    covariance: np.ndarray


# --------------------------------------------------------------------------------------------
# validation


def _check_params(params, n_neurons=None, n_inputs=None) -> GLMParams:
    if not isinstance(params, tuple) or len(params) != 3:
        raise TypeError(
            "params must be a GLMParams(w_in, w_rec, bias) (or a 3-tuple); "
            f"got {type(params).__name__}"
        )
    w_in = check_real_array(params[0], "params.w_in", ndim=2)
    n = w_in.shape[0]
    w_rec = check_real_array(params[1], "params.w_rec", ndim=3)
    if w_rec.shape[1:] != (n, n):
        raise ValueError(
            f"params.w_rec must have shape (D, N, N) = (D, {n}, {n}) to match w_in's N={n}; "
            f"got shape {w_rec.shape}"
        )
    bias = check_real_array(params[2], "params.bias", shape=(n,))
    for name, arr in (("w_in", w_in), ("w_rec", w_rec), ("bias", bias)):
        if np.any(np.abs(arr) > _MAX_PARAM):
            raise ValueError(
                f"params.{name} has entries beyond +-{_MAX_PARAM:g} (largest "
                f"{np.abs(arr).max():.3g}): such weights saturate every firing probability"
            )
    if n_neurons is not None and n != n_neurons:
        raise ValueError(
            f"params describe {n} neurons but the spikes have N={n_neurons} (last axis)"
        )
    if n_inputs is not None and w_in.shape[1] != n_inputs:
        raise ValueError(
            f"params.w_in has {w_in.shape[1]} input columns but the stimulus has "
            f"n_in={n_inputs} features (shape (T, n_in))"
        )
    return GLMParams(w_in, w_rec, bias)


_MAX_PARAM = 1e3  # largest |parameter|: beyond, every probability is saturated
_MAX_STIMULUS = 1e6
_MAX_ELEMENTS = 2**26  # largest sampled array (trials x T x N), 512 MB of float64


def _check_size(*dims, what="trials x time bins x neurons") -> None:
    total = 1
    for dim in dims:
        total *= int(dim)
    if total > _MAX_ELEMENTS:
        raise ValueError(
            f"{what} = {' x '.join(str(int(d)) for d in dims)} = {total} elements exceeds the "
            f"limit of {_MAX_ELEMENTS}; use fewer trials, bins or neurons"
        )


def _check_stimulus(stimulus, n_steps=None) -> np.ndarray:
    x = check_real_array(stimulus, "stimulus", ndim=2)
    if np.any(np.abs(x) > _MAX_STIMULUS):
        raise ValueError(f"stimulus entries must lie within +-{_MAX_STIMULUS:g}")
    if n_steps is not None and x.shape[0] != n_steps:
        raise ValueError(
            f"stimulus has {x.shape[0]} time bins (shape (T, n_in)) but the spikes have "
            f"T={n_steps} (axis 1)"
        )
    return x


def _check_spikes(spikes, name="spikes") -> np.ndarray:
    arr = np.asarray(spikes)
    if arr.dtype == np.bool_:
        raise TypeError(
            f"{name} must be an integer or float array of 0/1 values; got dtype bool "
            "(convert with .astype(np.uint8))"
        )
    if arr.ndim != 3:
        raise ValueError(
            f"{name} must be a 3-dimensional array (trials, T, N); got {arr.ndim} "
            f"dimension(s) with shape {arr.shape}"
        )
    if 0 in arr.shape:
        what = ("trials", "time bins", "neurons")[arr.shape.index(0)]
        raise ValueError(f"{name} has no {what} (shape {arr.shape}); expected (trials, T, N)")
    arr = check_real_array(arr, name)
    if np.any((arr != 0) & (arr != 1)):
        index = tuple(int(i) for i in np.argwhere((arr != 0) & (arr != 1))[0])
        raise ValueError(f"{name} must contain only 0 and 1; found {arr[index]} at {index}")
    return arr


# --------------------------------------------------------------------------------------------
# parameters, ground truth, sampling


def zero_params(n_neurons, n_inputs, n_lags) -> GLMParams:
    """All-zero parameters (every firing probability 1/2).

    Parameters
    ----------
    n_neurons : int
        Number of neurons :math:`N`.
    n_inputs : int
        Number of stimulus features :math:`n_{in}`.
    n_lags : int
        Number of history bins :math:`D`.

    Returns
    -------
    GLMParams
        ``w_in`` zeros ``(N, n_in)``, ``w_rec`` zeros ``(D, N, N)``, ``bias`` zeros ``(N,)``.
    """
    n = check_positive_int(n_neurons, "n_neurons")
    m = check_positive_int(n_inputs, "n_inputs")
    d = check_positive_int(n_lags, "n_lags")
    _check_size(d, n, n + m, what="parameter count")
    return GLMParams(np.zeros((n, m)), np.zeros((d, n, n)), np.zeros(n))


def random_params(n_neurons, n_inputs, n_lags, *, rng, bias=-2.5, scale=0.5) -> GLMParams:
    r"""Random GLM parameters for a well-specified test network.

    :math:`W^{in}_{ij} \sim \mathcal N(0, s^2)`, :math:`W^{rec}_{d,ik} \sim
    \mathcal N(0, s^2/N)` for :math:`k \ne i`, self-history :math:`W^{rec}_{d,ii} = -1/d`
    (refractoriness), and :math:`b_i = b`.

    Parameters
    ----------
    n_neurons, n_inputs, n_lags : int
        :math:`N`, :math:`n_{in}` and :math:`D`.
    rng : numpy.random.Generator
        Source of randomness.
    bias : float
        Common bias :math:`b` (default -2.5: a firing probability near 0.08 per bin).
    scale : float
        Weight scale :math:`s`.

    Returns
    -------
    GLMParams
        The parameters.
    """
    p = zero_params(n_neurons, n_inputs, n_lags)
    rng = check_generator(rng)
    bias = check_finite_float(bias, "bias")
    scale = check_nonneg_float(scale, "scale")
    n, m = p.w_in.shape
    d = p.w_rec.shape[0]
    w_in = rng.normal(0.0, scale, (n, m))
    w_rec = rng.normal(0.0, scale / np.sqrt(n), (d, n, n))
    for lag in range(d):
        np.fill_diagonal(w_rec[lag], -1.0 / (lag + 1))
    return GLMParams(w_in, w_rec, np.full(n, bias))


def _smooth_stimulus(n_steps, n_inputs, *, rng, width=4.0) -> np.ndarray:
    """Frozen smoothed Gaussian noise, scaled to unit variance per feature (private helper)."""
    raw = rng.normal(size=(n_steps + 8 * int(width), n_inputs))
    k = np.exp(-0.5 * (np.arange(-4 * int(width), 4 * int(width) + 1) / width) ** 2)
    x = np.stack([np.convolve(raw[:, j], k, mode="valid") for j in range(n_inputs)], axis=1)
    x = x[:n_steps]
    return (x - x.mean(0)) / x.std(0)


def hidden_network(
    n_recorded=10,
    n_hidden=20,
    n_steps=100,
    *,
    rng,
    n_inputs=3,
    coupling=8.0,
    hidden_bias=-4.0,
    hidden_to_recorded=5.0,
    recorded_bias=-3.5,
    hidden_input=1.0,
) -> GroundTruth:
    r"""A ground-truth network whose recorded neurons are driven by a hidden population.

    The ``n_hidden`` hidden neurons excite each other (:math:`W^{rec}_{1,hh'} = J/n_{hidden}`,
    ``coupling`` :math:`J`, bias ``hidden_bias``): the population has a silent and an active
    state, and the stimulus' first feature kicks it into the active state on some trials but
    not others. Every recorded neuron receives :math:`c\,A_{t-1}` from the hidden population
    activity :math:`A` (``hidden_to_recorded`` :math:`c`, spread over the hidden neurons), its
    own random stimulus filter, refractory self-history and a bias. The recorded neurons do not
    talk to each other; their noise correlations come from the shared hidden state.

    Parameters
    ----------
    n_recorded, n_hidden : int
        Numbers of recorded and hidden neurons (the recorded ones come first).
    n_steps : int
        Trial length :math:`T` in bins.
    rng : numpy.random.Generator
        Source of randomness (stimulus and weights).
    n_inputs : int
        Number of stimulus features (at least 1).
    coupling, hidden_bias, hidden_to_recorded, recorded_bias : float
        :math:`J`, the hidden bias, :math:`c` and the recorded bias.
    hidden_input : float
        Weight of the first stimulus feature onto every hidden neuron.

    Returns
    -------
    GroundTruth
        Parameters of all ``n_recorded + n_hidden`` neurons (``D = 2`` lags), the stimulus
        ``(T, n_in)`` and ``recorded = arange(n_recorded)``.
    """
    nr = check_positive_int(n_recorded, "n_recorded")
    nh = check_positive_int(n_hidden, "n_hidden")
    t = check_positive_int(n_steps, "n_steps", minimum=2)
    m = check_positive_int(n_inputs, "n_inputs")
    _check_size(nr + nh, nr + nh, 2 + m, what="network size")
    _check_size(t, m, 20, what="stimulus size")
    rng = check_generator(rng)
    coupling = check_finite_float(coupling, "coupling")
    hidden_bias = check_finite_float(hidden_bias, "hidden_bias")
    hidden_to_recorded = check_finite_float(hidden_to_recorded, "hidden_to_recorded")
    recorded_bias = check_finite_float(recorded_bias, "recorded_bias")
    hidden_input = check_finite_float(hidden_input, "hidden_input")
    n = nr + nh
    x = _smooth_stimulus(t, m, rng=rng)
    w_in = np.zeros((n, m))
    w_in[:nr] = rng.normal(0.0, 0.6, (nr, m))
    w_in[nr:, 0] = hidden_input
    w_rec = np.zeros((2, n, n))
    w_rec[0, nr:, nr:] = coupling / nh
    w_rec[0, :nr, nr:] = hidden_to_recorded / nh
    for i in range(nr):
        w_rec[0, i, i] = -2.0
        w_rec[1, i, i] = -1.0
    bias = np.concatenate([np.full(nr, recorded_bias), np.full(nh, hidden_bias)])
    return GroundTruth(GLMParams(w_in, w_rec, bias), x, np.arange(nr))


def lagged_stimulus(stimulus, n_lags) -> np.ndarray:
    r"""Stimulus features with their recent past, for a temporal stimulus filter.

    Row :math:`t` is :math:`(\mathbf x_t, \mathbf x_{t-1}, \dots, \mathbf x_{t-L})`, with
    :math:`\mathbf x_{s<0} = 0`; a linear filter on these rows is a stimulus filter of
    :math:`L+1` bins.

    Parameters
    ----------
    stimulus : array_like, shape (T, n_in)
        Stimulus features.
    n_lags : int
        Number :math:`L \ge 0` of past bins.

    Returns
    -------
    numpy.ndarray, shape (T, n_in * (L + 1))
        The lagged features, lag 0 first.
    """
    x = _check_stimulus(stimulus)
    lags = check_nonneg_int(n_lags, "n_lags")
    _check_size(x.shape[0], x.shape[1], lags + 1, what="T x n_in x (n_lags + 1)")
    t, m = x.shape
    out = np.zeros((t, m * (lags + 1)))
    for lag in range(lags + 1):
        out[lag:, lag * m : (lag + 1) * m] = x[: t - lag]
    return out


@njit(cache=True)
def _forward(drive, w_rec, uniforms, spikes, probs):  # pragma: no cover - numba
    n_trials, n_steps, n = uniforms.shape
    n_lags = w_rec.shape[0]
    # w_from[d, j, :] = w_rec[d, :, j]: a spike of neuron j adds a contiguous row to u
    w_from = np.empty((n_lags, n, n))
    for d in range(n_lags):
        for i in range(n):
            for j in range(n):
                w_from[d, j, i] = w_rec[d, i, j]
    u = np.empty(n)
    for k in range(n_trials):
        for t in range(n_steps):
            u[:] = drive[t]
            for d in range(1, n_lags + 1):
                if t - d < 0:
                    break
                for j in range(n):
                    if spikes[k, t - d, j]:
                        for i in range(n):
                            u[i] += w_from[d - 1, j, i]
            for i in range(n):
                if u[i] >= 0:
                    p = 1.0 / (1.0 + np.exp(-u[i]))
                else:
                    e = np.exp(u[i])
                    p = e / (1.0 + e)
                probs[k, t, i] = p
                spikes[k, t, i] = 1 if uniforms[k, t, i] < p else 0


def _sample(params: GLMParams, x: np.ndarray, uniforms: np.ndarray) -> Sample:
    drive = x @ params.w_in.T + params.bias
    spikes = np.zeros(uniforms.shape, dtype=np.uint8)
    probs = np.empty(uniforms.shape)
    _forward(drive, params.w_rec, uniforms, spikes, probs)
    return Sample(spikes, probs)


def simulate(params, stimulus, n_trials, *, rng) -> Sample:
    r"""Sample trials from the freely running network (no teacher forcing).

    Each bin: :math:`p_{t} = \sigma(b + W^{in}\mathbf x_t + \sum_d W^{rec}_d \mathbf z_{t-d})`,
    :math:`z_{t,i} = [U_{t,i} < p_{t,i}]` with :math:`U` uniform on [0, 1), drawn with one
    ``rng.random((n_trials, T, N))`` call.

    Parameters
    ----------
    params : GLMParams
        Network parameters.
    stimulus : array_like, shape (T, n_in)
        Stimulus features, the same in every trial.
    n_trials : int
        Number of trials to sample.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    Sample
        ``spikes`` (uint8) and ``probabilities``, each ``(n_trials, T, N)``.
    """
    x = _check_stimulus(stimulus)
    p = _check_params(params, n_inputs=x.shape[1])
    k = check_positive_int(n_trials, "n_trials")
    _check_size(k, x.shape[0], p.bias.shape[0])
    rng = check_generator(rng)
    return _sample(p, x, rng.random((k, x.shape[0], p.bias.shape[0])))


# --------------------------------------------------------------------------------------------
# statistics


def psth(spikes) -> np.ndarray:
    r"""Peri-stimulus time histogram :math:`\bar y_{t,i} = \frac1K\sum_k y^{(k)}_{t,i}`.

    Parameters
    ----------
    spikes : array_like of 0/1, shape (K, T, N)
        Trials of spikes (or firing probabilities in [0, 1]).

    Returns
    -------
    numpy.ndarray, shape (T, N)
        Trial-averaged spike count per bin.
    """
    arr = check_real_array(spikes, "spikes", ndim=3)
    if np.any((arr < 0) | (arr > 1)):
        raise ValueError("spikes must lie in [0, 1] (spikes or firing probabilities)")
    return arr.mean(axis=0)


def _noise_cov(z: np.ndarray) -> np.ndarray:
    dev = z - z.mean(axis=0)
    k, t, n = z.shape
    flat = dev.reshape(k * t, n)
    return flat.T @ flat / ((k - 1) * t)


def noise_covariance(spikes) -> np.ndarray:
    r"""Noise covariance :math:`C_{ij} = \frac1{T(K-1)}\sum_{t,k}(y^{(k)}_{t,i}-\bar y_{t,i})
    (y^{(k)}_{t,j}-\bar y_{t,j})` (deviations from the PSTH, zero lag). Dividing by
    :math:`K-1` makes it an unbiased estimate of the bin-averaged covariance for any number of
    trials, so that model (few sampled trials) and data (many trials) estimate the same thing.

    Parameters
    ----------
    spikes : array_like of 0/1, shape (K, T, N)
        At least two trials.

    Returns
    -------
    numpy.ndarray, shape (N, N)
        Symmetric covariance matrix.
    """
    z = _check_spikes(spikes)
    if z.shape[0] < 2:
        raise ValueError(f"noise_covariance needs at least 2 trials; got shape {z.shape}")
    return _noise_cov(z)


def _check_psth(value, name, shape=None):
    arr = check_real_array(value, name, ndim=2, shape=shape)
    if np.any((arr < 0) | (arr > 1)):
        raise ValueError(f"{name} must lie in [0, 1] (spike probabilities per bin)")
    return arr


def _check_cov(value, name, n):
    arr = check_real_array(value, name, shape=(n, n))
    if np.any(np.abs(arr) > 1):
        raise ValueError(f"{name} must lie in [-1, 1] (covariances of 0/1 spike counts)")
    return arr


def _offdiag_mask(n):
    return ~np.eye(n, dtype=bool)


# --------------------------------------------------------------------------------------------
# likelihood


def _design(spikes: np.ndarray, x: np.ndarray, n_lags: int) -> np.ndarray:
    """Rows (trial, t): [x_t, z_{t-1}, ..., z_{t-D}, 1]."""
    k, t, n = spikes.shape
    m = x.shape[1]
    out = np.zeros((k, t, m + n_lags * n + 1))
    out[:, :, :m] = x
    for d in range(1, n_lags + 1):
        out[:, d:, m + (d - 1) * n : m + d * n] = spikes[:, :-d, :]
    out[:, :, -1] = 1.0
    return out.reshape(k * t, -1)


def _flat(p: GLMParams) -> np.ndarray:
    """Per-neuron weight matrix (n_features, N) matching :func:`_design`."""
    d, n, _ = p.w_rec.shape
    rec = p.w_rec.transpose(0, 2, 1).reshape(d * n, n)  # row (d, k), column i
    return np.concatenate([p.w_in.T, rec, p.bias[None, :]], axis=0)


def _unflat(w: np.ndarray, m: int, d: int) -> GLMParams:
    n = w.shape[1]
    w_in = w[:m].T.copy()
    w_rec = w[m : m + d * n].reshape(d, n, n).transpose(0, 2, 1).copy()
    return GLMParams(w_in, w_rec, w[-1].copy())


@njit(cache=True)
def _bernoulli_terms(u, y, resid):  # pragma: no cover - numba
    """Sum of -[y log sigma(u) + (1-y) log(1-sigma(u))]; writes sigma(u) - y into resid."""
    total = 0.0
    rows, cols = u.shape
    for r in range(rows):
        for c in range(cols):
            v = u[r, c]
            if v >= 0:
                e = np.exp(-v)
                total += np.log1p(e) + (1.0 - y[r, c]) * v
                resid[r, c] = 1.0 / (1.0 + e) - y[r, c]
            else:
                e = np.exp(v)
                total += np.log1p(e) - y[r, c] * v
                resid[r, c] = e / (1.0 + e) - y[r, c]
    return total


def _nll_design(w, design, y, n_bins):
    u = design @ w
    resid = np.empty_like(u)
    nll = _bernoulli_terms(u, y, resid) / n_bins
    grad = design.T @ resid / n_bins
    return nll, grad


def negative_log_likelihood(params, spikes, stimulus) -> LossGradient:
    r"""Teacher-forced negative log-likelihood per bin and neuron, and its exact gradient.

    .. math:: \mathcal L_{MLE} = -\frac{1}{KTN}\sum_{k,t,i} y_{t,i}\log p_{t,i}
              + (1-y_{t,i})\log(1-p_{t,i}),

    with :math:`p_{t,i}` computed from the *recorded* history :math:`y_{<t}`. Its gradient is
    :math:`\partial\mathcal L/\partial u_{t,i} = (p_{t,i} - y_{t,i})/(KTN)`, times the inputs of
    each parameter (:math:`x_{t,j}`, :math:`y_{t-d,k}` or 1).

    Parameters
    ----------
    params : GLMParams
        Model parameters.
    spikes : array_like of 0/1, shape (K, T, N)
        Recorded trials.
    stimulus : array_like, shape (T, n_in)
        Stimulus features.

    Returns
    -------
    LossGradient
        Loss in nats per bin and neuron, and the gradient.
    """
    y = _check_spikes(spikes)
    x = _check_stimulus(stimulus, y.shape[1])
    p = _check_params(params, y.shape[2], x.shape[1])
    design = _design(y, x, p.w_rec.shape[0])
    yy = y.reshape(-1, y.shape[2])
    loss, grad = _nll_design(_flat(p), design, yy, yy.size)
    return LossGradient(float(loss), _unflat(grad, x.shape[1], p.w_rec.shape[0]))


def standard_errors(params, spikes, stimulus) -> GLMParams:
    r"""Standard errors of the maximum-likelihood parameters from the observed Fisher information.

    For each neuron :math:`i` the Hessian of the summed negative log-likelihood is
    :math:`H_i = \sum_{k,t} p_{t,i}(1-p_{t,i})\,\mathbf f_t \mathbf f_t^\top` with
    :math:`\mathbf f_t = (\mathbf x_t, \mathbf y_{t-1}, \dots, \mathbf y_{t-D}, 1)`; the standard
    errors are :math:`\sqrt{\mathrm{diag}(H_i^{-1})}` (asymptotic, for a well-specified model).

    Parameters
    ----------
    params : GLMParams
        Parameters, usually the maximum-likelihood fit.
    spikes : array_like of 0/1, shape (K, T, N)
        Recorded trials.
    stimulus : array_like, shape (T, n_in)
        Stimulus features.

    Returns
    -------
    GLMParams
        Standard errors with the shapes of the parameters (``inf`` where the data carry no
        information, e.g. a neuron that never spikes before the bin).
    """
    y = _check_spikes(spikes)
    x = _check_stimulus(stimulus, y.shape[1])
    p = _check_params(params, y.shape[2], x.shape[1])
    d = p.w_rec.shape[0]
    _check_size(y.shape[0] * y.shape[1], x.shape[1] + d * y.shape[2] + 1, what="design matrix")
    design = _design(y, x, d)
    u = design @ _flat(p)
    weight = 0.5 / (1.0 + np.cosh(u))  # p (1 - p)
    se = np.empty((design.shape[1], y.shape[2]))
    for i in range(y.shape[2]):
        h = design.T @ (design * weight[:, i : i + 1])
        try:
            cov = np.linalg.inv(h)
            se[:, i] = np.sqrt(np.clip(np.diag(cov), 0.0, None))
        except np.linalg.LinAlgError:
            se[:, i] = np.inf
    return _unflat(se, x.shape[1], d)


# --------------------------------------------------------------------------------------------
# sample-and-measure losses


def psth_loss(model_psth, data_psth) -> float:
    r""":math:`\mathcal L_{PSTH} = \frac1{TN}\sum_{t,i}(\bar p_{t,i} - \bar y_{t,i})^2`.

    Parameters
    ----------
    model_psth, data_psth : array_like, shape (T, N)
        PSTHs of the model and of the data.

    Returns
    -------
    float
        The mean squared difference.
    """
    a = _check_psth(model_psth, "model_psth")
    b = _check_psth(data_psth, "data_psth", shape=a.shape)
    return float(np.mean((a - b) ** 2))


def noise_correlation_loss(model_cov, data_cov) -> float:
    r""":math:`\mathcal L_{NC} = \frac1{N(N-1)}\sum_{i\ne j}(C_{ij} - C^{data}_{ij})^2`.

    Parameters
    ----------
    model_cov, data_cov : array_like, shape (N, N)
        Noise covariances (see :func:`noise_covariance`), ``N >= 2``.

    Returns
    -------
    float
        Mean squared difference of the off-diagonal entries.
    """
    a = check_real_array(model_cov, "model_cov", ndim=2)
    n = a.shape[0]
    if a.shape != (n, n) or n < 2:
        raise ValueError(f"model_cov must be square (N, N) with N >= 2; got shape {a.shape}")
    a = _check_cov(a, "model_cov", n)
    b = _check_cov(data_cov, "data_cov", n)
    mask = _offdiag_mask(n)
    return float(np.mean((a - b)[mask] ** 2))


@njit(cache=True)
def _backward(w_rec, spikes, probs, g_p, g_z, gamma, g_drive, g_rec):  # pragma: no cover
    """BPTT over sampled trials; accumulates dL/d(drive) (T, N) and dL/dW_rec (D, N, N)."""
    n_trials, n_steps, n = probs.shape
    n_lags = w_rec.shape[0]
    carry = np.zeros((n_steps, n_trials, n))  # dL/dz from later bins
    delta = np.empty((n_trials, n))  # dL/du of bin t, every trial
    g_from = np.zeros((n_lags, n, n))  # g_from[d, j, i] = dL/dW_rec[d, i, j]
    for t in range(n_steps - 1, -1, -1):
        for k in range(n_trials):
            for i in range(n):
                p = probs[k, t, i]
                from_z = g_z[k, t, i] + carry[t, k, i]
                delta[k, i] = p * (1.0 - p) * (g_p[k, t, i] + gamma * from_z)
                g_drive[t, i] += delta[k, i]
        for d in range(1, n_lags + 1):
            s = t - d
            if s < 0:
                break
            # the spikes of bin s reach bin t through W_d: carry[s] += delta W_d
            carry[s] += np.dot(delta, w_rec[d - 1])
            # dL/dW_d[i, j] += delta[k, i] z[k, s, j], for the neurons j that spiked
            for k in range(n_trials):
                for j in range(n):
                    if spikes[k, s, j]:
                        for i in range(n):
                            g_from[d - 1, j, i] += delta[k, i]
    for d in range(n_lags):
        for i in range(n):
            for j in range(n):
                g_rec[d, i, j] += g_from[d, j, i]


def _backward_numpy(w_rec, spikes, probs, g_p, g_z, gamma, g_drive, g_rec):
    """Plain numpy BPTT (trials batched, loop over time): the benchmark's reference."""
    n_trials, n_steps, n = probs.shape
    n_lags = w_rec.shape[0]
    z = spikes.astype(np.float64)
    carry = np.zeros((n_trials, n_steps, n))
    dp = probs * (1.0 - probs)
    for t in range(n_steps - 1, -1, -1):
        g_u = dp[:, t] * (g_p[:, t] + gamma * (g_z[:, t] + carry[:, t]))
        g_drive[t] += g_u.sum(axis=0)
        for d in range(1, min(n_lags, t) + 1):
            carry[:, t - d] += g_u @ w_rec[d - 1]
            g_rec[d - 1] += g_u.T @ z[:, t - d]


def _forward_numpy(drive, w_rec, uniforms):
    n_trials, n_steps, n = uniforms.shape
    spikes = np.zeros(uniforms.shape)
    probs = np.empty(uniforms.shape)
    for t in range(n_steps):
        u = np.broadcast_to(drive[t], (n_trials, n)).copy()
        for d in range(1, min(w_rec.shape[0], t) + 1):
            u += spikes[:, t - d] @ w_rec[d - 1].T
        probs[:, t] = 1.0 / (1.0 + np.exp(-u))
        spikes[:, t] = uniforms[:, t] < probs[:, t]
    return Sample(spikes.astype(np.uint8), probs)


def sample_and_measure(
    params,
    stimulus,
    data_psth,
    data_cov,
    n_trials,
    *,
    rng,
    mu_psth=1.0,
    mu_nc=1.0,
    gamma=1.0,
    backend="numba",
) -> LossGradient:
    r"""Sample-and-measure loss :math:`\mu_{PSTH}\mathcal L_{PSTH} + \mu_{NC}\mathcal L_{NC}`
    on ``n_trials`` freely running trials, and its pseudo-gradient.

    The PSTH term uses the trials' firing probabilities
    (:math:`\bar p = \frac1M\sum_m p^{(m)}`), the noise-correlation term the sampled spikes.
    The gradient is back-propagated through time with the straight-through pseudo-derivative
    :math:`\partial z_{t,i}/\partial u_{t,i} := \gamma\,p_{t,i}(1-p_{t,i})`:

    .. math:: \delta_{t,i} = p_{t,i}(1-p_{t,i})\Big[\frac{\partial\mathcal L}{\partial p_{t,i}}
              + \gamma\Big(\frac{\partial\mathcal L}{\partial z_{t,i}}
              + \sum_{d,k} W^{rec}_{d,ki}\,\delta_{t+d,k}\Big)\Big],

    and :math:`\partial\mathcal L/\partial W^{rec}_{d,ik} = \sum_{m,t}\delta_{t,i}z_{t-d,k}`,
    :math:`\partial\mathcal L/\partial W^{in}_{ij} = \sum_{m,t}\delta_{t,i}x_{t,j}`,
    :math:`\partial\mathcal L/\partial b_i = \sum_{m,t}\delta_{t,i}`.

    Parameters
    ----------
    params : GLMParams
        Model parameters.
    stimulus : array_like, shape (T, n_in)
        Stimulus features.
    data_psth : array_like, shape (T, N)
        Recorded PSTH (:func:`psth`).
    data_cov : array_like, shape (N, N)
        Recorded noise covariance (:func:`noise_covariance`); ignored if ``mu_nc == 0``.
    n_trials : int
        Number :math:`M \ge 2` of sampled trials.
    rng : numpy.random.Generator
        Source of the sampled trials.
    mu_psth, mu_nc : float
        Weights of the two losses (>= 0).
    gamma : float
        Scale :math:`\gamma` of the pseudo-derivative (0 cuts the gradient through the spikes).
    backend : {"numba", "numpy"}
        Kernels used: numba loops or plain numpy (batched over trials, loop over time; same
        result, for the benchmark).

    Returns
    -------
    LossGradient
        Loss value and pseudo-gradient.
    """
    x = _check_stimulus(stimulus)
    p = _check_params(params, n_inputs=x.shape[1])
    t, n = x.shape[0], p.bias.shape[0]
    target = _check_psth(data_psth, "data_psth", shape=(t, n))
    cov = _check_cov(data_cov, "data_cov", n)
    m = check_positive_int(n_trials, "n_trials", minimum=2)
    _check_size(m, t, n)
    rng = check_generator(rng)
    mu_psth = check_nonneg_float(mu_psth, "mu_psth")
    mu_nc = check_nonneg_float(mu_nc, "mu_nc")
    gamma = check_fraction(gamma, "gamma", 0.0, 10.0)
    backend = check_option(backend, "backend", ("numba", "numpy"))
    return _sample_and_measure(
        p, x, target, cov, rng.random((m, t, n)), mu_psth, mu_nc, gamma, backend
    )


def _sample_and_measure(p, x, target, cov, uniforms, mu_psth, mu_nc, gamma, backend):
    m, t, n = uniforms.shape
    drive = x @ p.w_in.T + p.bias
    if backend == "numba":
        spikes = np.zeros(uniforms.shape, dtype=np.uint8)
        probs = np.empty(uniforms.shape)
        _forward(drive, p.w_rec, uniforms, spikes, probs)
    else:
        spikes, probs = _forward_numpy(drive, p.w_rec, uniforms)
    model_psth = probs.mean(axis=0)
    diff = model_psth - target
    dev_p = probs - model_psth
    # unbiased: E[(pbar - y)^2] = (E pbar - y)^2 + Var(p)/M; subtract the sample estimate s^2/M
    var_term = np.sum(dev_p**2) / (m * (m - 1) * t * n)
    loss = mu_psth * (float(np.mean(diff**2)) - float(var_term))
    g_p = mu_psth * 2.0 * (diff / (t * n * m) - dev_p / (m * (m - 1) * t * n))
    if mu_nc > 0 and n > 1:
        z = spikes.astype(np.float64)
        dev = z - z.mean(axis=0)
        model_cov = dev.reshape(m * t, n).T @ dev.reshape(m * t, n) / ((m - 1) * t)
        mask = _offdiag_mask(n)
        dc = np.where(mask, model_cov - cov, 0.0)
        loss += mu_nc * float(np.sum(dc**2) / (n * (n - 1)))
        g_cov = mu_nc * 2.0 * dc / (n * (n - 1))
        # C = dev^T dev / ((M-1) T): dC/dz gives (G + G^T) dev / ((M-1) T); G is symmetric
        g_z = 2.0 * (dev @ g_cov) / ((m - 1) * t)
    else:
        g_z = np.zeros(probs.shape)
    g_drive = np.zeros((t, n))
    g_rec = np.zeros_like(p.w_rec)
    g_p = np.ascontiguousarray(g_p)
    if backend == "numba":
        _backward(p.w_rec, spikes, probs, g_p, g_z, gamma, g_drive, g_rec)
    else:
        _backward_numpy(p.w_rec, spikes, probs, g_p, g_z, gamma, g_drive, g_rec)
    grad = GLMParams(g_drive.T @ x, g_rec, g_drive.sum(axis=0))
    return LossGradient(loss, grad)


def expected_loss(
    params, stimulus, data_psth, data_cov, n_trials, *, mu_psth=1.0, mu_nc=1.0
) -> float:
    r"""Exact expectation of the sample-and-measure loss over the model's spike trains.

    Enumerates all :math:`2^{MTN}` spike configurations of ``n_trials`` trials (at most
    :math:`MTN = 16` binary variables) and sums :math:`P(z)\,\mathcal L(z)`, with
    :math:`\mathcal L` the loss of :func:`sample_and_measure`. A smooth function of the
    parameters: its finite differences are the true gradient that the pseudo-gradient
    approximates.

    Parameters
    ----------
    params : GLMParams
        Model parameters.
    stimulus : array_like, shape (T, n_in)
        Stimulus features.
    data_psth : array_like, shape (T, N)
        Target PSTH.
    data_cov : array_like, shape (N, N)
        Target noise covariance.
    n_trials : int
        Number :math:`M \ge 2` of sampled trials per evaluation of the loss.
    mu_psth, mu_nc : float
        Loss weights (>= 0).

    Returns
    -------
    float
        :math:`\mathbb E_z[\mathcal L(z)]`.
    """
    x = _check_stimulus(stimulus)
    p = _check_params(params, n_inputs=x.shape[1])
    t, n = x.shape[0], p.bias.shape[0]
    target = _check_psth(data_psth, "data_psth", shape=(t, n))
    cov = _check_cov(data_cov, "data_cov", n)
    m = check_positive_int(n_trials, "n_trials", minimum=2)
    _check_size(m, t, n)
    mu_psth = check_nonneg_float(mu_psth, "mu_psth")
    mu_nc = check_nonneg_float(mu_nc, "mu_nc")
    bits = m * t * n
    if bits > 16:
        raise ValueError(
            f"expected_loss enumerates 2**(M*T*N) spike trains; M*T*N = {bits} > 16 is too many"
        )
    codes = np.arange(2**bits)
    z = ((codes[:, None] >> np.arange(bits)) & 1).astype(np.float64).reshape(-1, m, t, n)
    drive = x @ p.w_in.T + p.bias
    u = np.broadcast_to(drive, z.shape).copy()
    for d in range(1, p.w_rec.shape[0] + 1):
        if d < t:
            u[:, :, d:] += z[:, :, :-d] @ p.w_rec[d - 1].T
    prob = 1.0 / (1.0 + np.exp(-u))
    log_pz = np.sum(z * np.log(prob) + (1 - z) * np.log1p(-prob), axis=(1, 2, 3))
    pbar = prob.mean(axis=1)
    var_term = np.sum((prob - pbar[:, None]) ** 2, axis=(1, 2, 3)) / (m * (m - 1) * t * n)
    loss = mu_psth * (np.mean((pbar - target) ** 2, axis=(1, 2)) - var_term)
    if mu_nc > 0 and n > 1:
        dev = (z - z.mean(axis=1, keepdims=True)).reshape(len(z), m * t, n)
        c = np.einsum("bki,bkj->bij", dev, dev) / ((m - 1) * t)
        mask = _offdiag_mask(n)
        loss = loss + mu_nc * np.sum(np.where(mask, c - cov, 0.0) ** 2, axis=(1, 2)) / (n * (n - 1))
    return float(np.sum(np.exp(log_pz) * loss))


# --------------------------------------------------------------------------------------------
# fitting


def fit(
    spikes,
    stimulus,
    n_lags,
    *,
    rng,
    mu_psth=0.0,
    mu_nc=0.0,
    n_sample_trials=32,
    n_steps=300,
    learning_rate=0.02,
    gamma=1.0,
    init=None,
    l2=1e-4,
    average=0.5,
) -> FitResult:
    r"""Fit a recurrent Bernoulli GLM to recorded trials.

    Minimises :math:`\mathcal L = \mathcal L_{MLE} + \mu_{PSTH}\mathcal L_{PSTH} +
    \mu_{NC}\mathcal L_{NC} + \frac{\lambda}2\lVert W\rVert^2` (``l2`` :math:`\lambda`, on
    all weights except the biases). With ``mu_psth == mu_nc == 0`` this is (ridge) maximum
    likelihood, solved by a damped Newton method (per neuron, exact gradient and Hessian).
    Otherwise the fit starts from ``init`` (default: the maximum-likelihood fit) and takes
    ``n_steps`` Adam steps on the exact likelihood gradient plus the pseudo-gradient of the
    sample-and-measure losses, with ``n_sample_trials`` fresh trials sampled at each step.

    Parameters
    ----------
    spikes : array_like of 0/1, shape (K, T, N)
        Recorded training trials (``K >= 2``).
    stimulus : array_like, shape (T, n_in)
        Stimulus features.
    n_lags : int
        History length :math:`D` in bins.
    rng : numpy.random.Generator
        Source of the sampled trials.
    mu_psth, mu_nc : float
        Loss weights (>= 0).
    n_sample_trials : int
        Trials :math:`M` sampled per step.
    n_steps : int
        Adam steps.
    learning_rate : float
        Adam step size.
    gamma : float
        Pseudo-derivative scale (see :func:`sample_and_measure`).
    init : GLMParams, optional
        Starting point of the Adam phase.
    l2 : float
        Ridge penalty :math:`\lambda` (>= 0).
    average : float
        Fraction of the Adam steps, at the end, whose iterates are averaged into the result
        (Polyak averaging: the sampled gradients are noisy; 0 keeps the last iterate only).

    Returns
    -------
    FitResult
        Parameters, loss histories and number of gradient evaluations.
    """
    y = _check_spikes(spikes)
    if y.shape[0] < 2:
        raise ValueError(f"fit needs at least 2 recorded trials; got shape {y.shape}")
    x = _check_stimulus(stimulus, y.shape[1])
    d = check_positive_int(n_lags, "n_lags")
    rng = check_generator(rng)
    mu_psth = check_nonneg_float(mu_psth, "mu_psth")
    mu_nc = check_nonneg_float(mu_nc, "mu_nc")
    msample = check_positive_int(n_sample_trials, "n_sample_trials", minimum=2)
    steps = check_positive_int(n_steps, "n_steps")
    if steps > 10**6:
        raise ValueError(f"n_steps must be at most 10**6 Adam steps; got {steps}")
    _check_size(msample, y.shape[1], y.shape[2], what="n_sample_trials x T x N")
    _check_size(
        y.shape[0] * y.shape[1],
        y.shape[2] * (x.shape[1] + d * y.shape[2] + 1),
        what="design matrix",
    )
    lr = check_fraction(learning_rate, "learning_rate", 0.0, 10.0, closed_low=False)
    gamma = check_fraction(gamma, "gamma", 0.0, 10.0)
    l2 = check_nonneg_float(l2, "l2")
    average = check_fraction(average, "average")
    k, t, n = y.shape
    m = x.shape[1]
    if init is not None:
        init = _check_params(init, n, m)
        if init.w_rec.shape[0] != d:
            raise ValueError(f"init has {init.w_rec.shape[0]} lags but n_lags={d}")
    with blas_threads_for(y.size * (m + d * n + 1)):
        return _fit_core(y, x, d, rng, mu_psth, mu_nc, msample, steps, lr, gamma, l2, average, init)


def _fit_core(y, x, d, rng, mu_psth, mu_nc, msample, steps, lr, gamma, l2, average, init):
    k, t, n = y.shape
    m = x.shape[1]
    design = _design(y, x, d)
    yy = y.reshape(-1, n)
    reg = np.ones((design.shape[1], 1))
    reg[-1] = 0.0

    def nll(w):
        loss, grad = _nll_design(w, design, yy, yy.size)
        return loss + 0.5 * l2 * np.sum(reg * w**2), grad + l2 * reg * w

    n_eval = 0
    if init is None:
        w0 = np.zeros((design.shape[1], n))
        w0[-1] = np.log(
            np.clip(yy.mean(0), 1e-3, 1 - 1e-3) / (1 - np.clip(yy.mean(0), 1e-3, 1 - 1e-3))
        )

        w, n_newton = _newton(nll, design, reg, l2, yy.size, w0)
        n_eval += n_newton
    else:
        w = _flat(init)
    if mu_psth == 0 and mu_nc == 0:
        loss = nll(w)[0]
        return FitResult(_unflat(w, m, d), np.array([loss]), np.array([loss]), n_eval)
    target = y.mean(axis=0)
    cov = _noise_cov(y)
    mom = np.zeros_like(w)
    var = np.zeros_like(w)
    b1, b2, eps = 0.9, 0.999, 1e-8
    n_average = max(1, int(round(average * steps)))
    w_sum = np.zeros_like(w)
    losses = np.empty(steps)
    nlls = np.empty(steps)
    for step in range(steps):
        val, g = nll(w)
        params = _unflat(w, m, d)
        sm = _sample_and_measure(
            params, x, target, cov, rng.random((msample, t, n)), mu_psth, mu_nc, gamma, "numba"
        )
        g = g + _flat(sm.gradient)
        n_eval += 1
        nlls[step] = val
        losses[step] = val + sm.loss
        mom = b1 * mom + (1 - b1) * g
        var = b2 * var + (1 - b2) * g**2
        mhat = mom / (1 - b1 ** (step + 1))
        vhat = var / (1 - b2 ** (step + 1))
        w = w - lr * mhat / (np.sqrt(vhat) + eps)
        if step >= steps - n_average:
            w_sum += w
    return FitResult(_unflat(w_sum / n_average, m, d), losses, nlls, n_eval)


def _newton(nll, design, reg, l2, n_bins, w, max_iter=100, tol=1e-13):
    """Damped Newton's method on the per-neuron logistic regressions (the loss is a sum over
    neurons; each has its own Hessian sum_r p(1-p) f_r f_r^T / n_bins + l2 diag(reg)).

    Returns the minimiser and the number of loss evaluations. Stops when the Newton decrement
    grad . step falls below ``tol`` (per bin and neuron, in nats).
    """
    n_features, n = w.shape
    loss, grad = nll(w)
    evaluations = 1
    for _ in range(max_iter):
        u = design @ w
        slope = 0.5 / (1.0 + np.cosh(u))  # p (1 - p)
        step = np.empty_like(w)
        for i in range(n):
            hess = (design * slope[:, i : i + 1]).T @ design / n_bins
            hess[np.diag_indices(n_features)] += l2 * reg[:, 0] + 1e-12
            step[:, i] = np.linalg.solve(hess, grad[:, i])
        decrement = float(np.sum(grad * step))
        if decrement < tol:
            break
        size = 1.0
        while True:
            trial = w - size * step
            new_loss, new_grad = nll(trial)
            evaluations += 1
            if new_loss <= loss - 0.25 * size * decrement or size < 1e-8:
                break
            size *= 0.5
        w, loss, grad = trial, new_loss, new_grad
    return w, evaluations


def free_run_stats(params, stimulus, spikes, n_trials, *, rng) -> FreeRunStats:
    r"""Sample ``n_trials`` free-running trials and compare their statistics with the data.

    ``psth_error`` :math:`= \langle(\bar z_{t,i} - \bar y_{t,i})^2\rangle` (sampled spikes, not
    probabilities), ``nc_error`` :math:`= \langle(C_{ij}-C^{data}_{ij})^2\rangle_{i\ne j}`,
    ``rate`` the model's mean spike probability per bin.

    Parameters
    ----------
    params : GLMParams
        Model parameters.
    stimulus : array_like, shape (T, n_in)
        Stimulus features.
    spikes : array_like of 0/1, shape (K, T, N)
        Recorded trials to compare with (``K >= 2``).
    n_trials : int
        Number of sampled trials (>= 2).
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    FreeRunStats
        Errors, rate, and the model's PSTH and noise covariance.
    """
    y = _check_spikes(spikes)
    if y.shape[0] < 2:
        raise ValueError(f"free_run_stats needs at least 2 recorded trials; got shape {y.shape}")
    x = _check_stimulus(stimulus, y.shape[1])
    p = _check_params(params, y.shape[2], x.shape[1])
    k = check_positive_int(n_trials, "n_trials", minimum=2)
    _check_size(k, y.shape[1], y.shape[2])
    rng = check_generator(rng)
    sample = _sample(p, x, rng.random((k, y.shape[1], y.shape[2])))
    z = sample.spikes.astype(np.float64)
    model_psth = z.mean(axis=0)
    model_cov = _noise_cov(z)
    data_cov = _noise_cov(y)
    mask = _offdiag_mask(y.shape[2])
    nc = float(np.mean((model_cov - data_cov)[mask] ** 2)) if y.shape[2] > 1 else 0.0
    return FreeRunStats(
        float(np.mean((model_psth - y.mean(0)) ** 2)),
        nc,
        float(sample.probabilities.mean()),
        model_psth,
        model_cov,
    )
