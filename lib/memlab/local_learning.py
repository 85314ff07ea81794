r"""Learning with local rules: reservoir readouts (FORCE and reward-modulated Hebb) and CLAPP.

Part 1 -- a rate reservoir with output feedback (Hoerzer, Legenstein & Maass 2014; the
setup of Pogodin et al. 2019, scaled down)
---------------------------------------------------------------------------------------

.. math::

    \tau \dot x_i = -x_i + \lambda \sum_j W^{rec}_{ij} r_j + W^{fb}_i z + I^{WM}_i(t),
    \qquad r_i = \tanh x_i + \xi^{state}_i, \qquad z = \mathbf w^\top \mathbf r + \xi^{expl},

integrated with the Euler method at step ``dt``; the membrane potentials :math:`\mathbf x`
are the network's ``states``.  The readout ``w`` is learned either with recursive least
squares (FORCE, Sussillo & Abbott 2009; non-local, :math:`O(N^2)` per step) or with the
exploratory reward-modulated Hebbian rule (local, three-factor)

.. math::

    P = -(z - f)^2, \quad M = \Theta(P - \bar P), \quad
    \Delta \mathbf w = \eta(t)\, M\, (z - \bar z)\, \mathbf r, \quad
    \eta(t) = \frac{\eta_0}{1 + t/\tau_\eta},

where :math:`\bar z, \bar P` are exponential running averages.  The optional working-memory
*backbone* :math:`I^{WM}(t)` is a bump of activity that travels once per period around a ring
of ``M`` units and is projected into the reservoir by sparse random weights.  It replaces the
adaptive attractor network of Pogodin et al. (our simplification).

Part 2 -- CLAPP (Illing, Ventura, Bellec & Gerstner 2021), one layer
--------------------------------------------------------------------

.. math::

    \mathbf c = \rho(W\mathbf x^{t-1}),\quad \mathbf z = \rho(W\mathbf x^{t}),\quad
    u = \mathbf z^\top W^{pred}\mathbf c,\quad \mathcal L = \max(0, 1 - y u),

with :math:`\rho` = ReLU, inputs (frames) :math:`\mathbf x^t` and :math:`y = +1` (same object)
or :math:`-1` (saccade to a new object).  The local update is
:math:`-\partial\mathcal L/\partial(\cdot)`, with the broadcast third factor
:math:`\gamma = y\,\mathbf 1[1 - yu > 0]`.

Noise is drawn from an explicit :class:`numpy.random.Generator` in chunks and passed to the
numba kernels, so every run is reproducible from its generator.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from memlab._validation import (
    check_finite_float,
    check_finite_result,
    check_fraction,
    check_generator,
    check_int_array,
    check_nonneg_float,
    check_nonneg_int,
    check_pm1_array,
    check_positive_float,
    check_positive_int,
    check_real_array,
    check_size,
)
from memlab.plasticity import DivergenceError

__all__ = [
    "Reservoir",
    "ReadoutRun",
    "RLSStep",
    "FreeRunError",
    "make_reservoir",
    "periodic_target",
    "sine_target",
    "bump_backbone",
    "backbone_input",
    "rls_update",
    "reward_modulated_update",
    "learning_rate",
    "train_force",
    "train_reward_hebbian",
    "free_run",
    "nmse",
    "test_error",
    "ObjectStream",
    "ClappUpdate",
    "ClappWeights",
    "ClappRun",
    "object_prototypes",
    "object_stream",
    "clapp_score",
    "clapp_loss",
    "clapp_update",
    "init_clapp",
    "train_clapp",
    "ClappStackRun",
    "train_clapp_two_layers",
    "encode",
    "decoding_accuracy",
]

_CHUNK = 2000  # time steps of noise drawn from the generator per kernel call
_MODES = {"frozen": 0, "force": 1, "hebbian": 2}  # readout rule -> the kernel's mode number


def _check_label(y) -> float:
    y = check_finite_float(y, "y")
    if y not in (-1.0, 1.0):
        raise ValueError(f"y must be +1 (same object) or -1 (saccade); got {y}")
    return y


def _period_steps(period, dt) -> tuple[float, float, int]:
    """Validated ``period`` and ``dt`` and the samples in one period (at least 4)."""
    period = check_positive_float(period, "period")
    dt = check_positive_float(dt, "dt")
    steps = period / dt
    if not steps >= 3.5:
        raise ValueError(f"period must span at least 4 time steps; got period/dt = {steps}")
    check_size(steps, f"one period of period/dt = {steps:.3g} samples")
    return period, dt, int(round(steps))


# ---------------------------------------------------------------------------------------------
# Part 1: the reservoir
# ---------------------------------------------------------------------------------------------


class Reservoir(NamedTuple):
    """A random rate reservoir with output feedback.

    Attributes
    ----------
    w_rec : ndarray, shape (N, N)
        Sparse random recurrent weights :math:`W^{rec}_{ij} \\sim \\mathcal N(0, 1/(pN))` with
        probability ``p`` (dense storage, zeros elsewhere); the gain :math:`\\lambda` is
        applied separately.
    w_fb : ndarray, shape (N,)
        Feedback weights :math:`W^{fb}_i \\sim U(-1, 1)`.
    gain, tau, dt : float
        :math:`\\lambda`, time constant and Euler step (seconds).
    indptr, indices, data : ndarray
        ``w_rec`` in compressed sparse row form (used by the kernels).
    """

    w_rec: np.ndarray
    w_fb: np.ndarray
    gain: float
    tau: float
    dt: float
    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray

    @property
    def n_units(self) -> int:
        """Number of units :math:`N`."""
        return self.w_fb.shape[0]


class ReadoutRun(NamedTuple):
    """Result of a training or free run.

    Attributes
    ----------
    w_out : ndarray, shape (N,)
        The readout :math:`\\mathbf w` after the run.
    states : ndarray, shape (N,)
        The final membrane potentials :math:`\\mathbf x`.
    step : int
        Index of the next time step (so that the target and the backbone keep their phase).
    z : ndarray, shape (n_steps,)
        The output at every step.
    weight_norm : ndarray, shape (n_steps,)
        :math:`\\lVert\\mathbf w\\rVert` at every step (after that step's update).
    """

    w_out: np.ndarray
    states: np.ndarray
    step: int
    z: np.ndarray
    weight_norm: np.ndarray


class RLSStep(NamedTuple):
    """Result of one recursive-least-squares step: the new ``p_matrix`` and ``w_out``."""

    p_matrix: np.ndarray
    w_out: np.ndarray


class FreeRunError(NamedTuple):
    """Test of a trained readout: ``nmse`` of the free-running output ``z`` against
    ``target`` (the target samples aligned with ``z``)."""

    nmse: float
    z: np.ndarray
    target: np.ndarray


def make_reservoir(n_units, *, rng, p_connect=0.1, gain=1.5, tau=0.05, dt=0.001) -> Reservoir:
    r"""Draw a random reservoir with output feedback.

    Each connection exists with probability ``p_connect``;
    :math:`W^{rec}_{ij} \sim \mathcal N(0, 1/(pN))` where it exists and 0 elsewhere, so the
    eigenvalues of :math:`\lambda W^{rec}` fill a disc of radius about :math:`\lambda`
    (circular law).  Feedback weights :math:`W^{fb}_i \sim U(-1, 1)`.

    Parameters
    ----------
    n_units : int
        Number of units :math:`N` (at least 2).
    rng : numpy.random.Generator
        Source of the random weights.
    p_connect : float in (0, 1]
        Connection probability :math:`p`.
    gain : float
        :math:`\lambda \ge 0`; values above 1 give chaotic spontaneous activity for large N.
    tau, dt : float
        Membrane time constant and Euler step in seconds (``dt <= tau``).

    Returns
    -------
    Reservoir
        The weights (dense and in compressed sparse row form) and the time constants.
    """
    n = check_positive_int(n_units, "n_units", minimum=2)
    rng = check_generator(rng)
    p = check_fraction(p_connect, "p_connect", closed_low=False)
    gain = check_nonneg_float(gain, "gain")
    tau = check_positive_float(tau, "tau")
    dt = check_positive_float(dt, "dt")
    if dt > tau:
        raise ValueError(
            f"dt must not exceed tau for the Euler step to be stable; got dt={dt}, tau={tau}"
        )
    mask = rng.random((n, n)) < p
    w = np.where(mask, rng.normal(0.0, 1.0 / np.sqrt(p * n), (n, n)), 0.0)
    w_fb = rng.uniform(-1.0, 1.0, n)
    indptr = np.zeros(n + 1, dtype=np.int64)
    indptr[1:] = np.cumsum(mask.sum(axis=1))
    rows, cols = np.nonzero(mask)
    return Reservoir(w, w_fb, gain, tau, dt, indptr, cols.astype(np.int64), w[rows, cols].copy())


def periodic_target(period, dt, *, rng, n_harmonics=15) -> np.ndarray:
    r"""One period of a random Fourier series, normalised to a maximum of 1.

    .. math:: f(t) = \sum_{k=1}^{K} \frac{1}{k}\sin\!\Big(\frac{2\pi k t}{T} + \phi_k\Big),
              \qquad \phi_k \sim U(0, 2\pi),

    divided by :math:`\max_t |f|`.

    Parameters
    ----------
    period : float
        :math:`T` in seconds (at least 4 steps ``dt``).
    dt : float
        Sampling step in seconds.
    rng : numpy.random.Generator
        Source of the phases :math:`\phi_k`.
    n_harmonics : int
        :math:`K \ge 1`.

    Returns
    -------
    ndarray, shape (round(T/dt),)
        The samples at :math:`t = 0, dt, \dots, T - dt`.
    """
    rng = check_generator(rng)
    k_max = check_positive_int(n_harmonics, "n_harmonics")
    period, dt, n = _period_steps(period, dt)
    check_size((n, k_max), "the Fourier terms (period/dt, n_harmonics)")
    t = np.arange(n) * dt
    phases = rng.uniform(0.0, 2 * np.pi, k_max)
    k = np.arange(1, k_max + 1)
    f = (np.sin(2 * np.pi * np.outer(t, k) / period + phases) / k).sum(axis=1)
    return f / np.max(np.abs(f))


def sine_target(period, dt, *, amplitude=1.0) -> np.ndarray:
    r"""One period of :math:`f(t) = A \sin(2\pi t/T)`.

    Parameters
    ----------
    period, dt : float
        Period :math:`T` and sampling step, in seconds (:math:`T \ge 4\,dt`).
    amplitude : float
        :math:`A > 0`.

    Returns
    -------
    ndarray, shape (round(T/dt),)
        :math:`f` sampled at :math:`t = 0, dt, \dots, T - dt`.
    """
    period, dt, n = _period_steps(period, dt)
    amplitude = check_positive_float(amplitude, "amplitude")
    return amplitude * np.sin(2 * np.pi * np.arange(n) / n)


def bump_backbone(period, dt, *, n_wm=50, width=None) -> np.ndarray:
    r"""A bump that travels once per period around a ring of ``n_wm`` units.

    .. math:: b_j(t) = \exp\!\Big(-\frac{d(t/T, j/M)^2 T^2}{2\sigma^2}\Big),

    with :math:`d` the circular distance of phases.  This precomputed bump stands in for the
    adaptive attractor network of Pogodin et al. (our simplification).

    Parameters
    ----------
    period : float
        :math:`T` in seconds, the time of one round of the ring (at least 4 steps ``dt``).
    dt : float
        Sampling step in seconds.
    n_wm : int
        Ring size :math:`M \ge 2`.
    width : float, optional
        :math:`\sigma` in seconds (default :math:`T/M`).

    Returns
    -------
    ndarray, shape (round(T/dt), n_wm)
        :math:`b_j(t)` for one period, values in (0, 1].
    """
    m = check_positive_int(n_wm, "n_wm", minimum=2)
    period, dt, n = _period_steps(period, dt)
    check_size((n, m), "the backbone (period/dt, n_wm)")
    sigma = period / m if width is None else check_positive_float(width, "width")
    phase = np.arange(n)[:, None] / n - np.arange(m)[None, :] / m
    d = (phase + 0.5) % 1.0 - 0.5
    return np.exp(-0.5 * (d * period / sigma) ** 2)


def backbone_input(bump, n_units, *, rng, p_connect=0.1, scale=1.0) -> np.ndarray:
    r"""Project a backbone into the reservoir: :math:`I^{WM}(t) = s\, W^{in} \mathbf b(t)`.

    Each input connection exists with probability ``p_connect``;
    :math:`W^{in}_{ij} \sim \mathcal N(0, 1)` where it exists and 0 elsewhere.

    Parameters
    ----------
    bump : array_like, shape (T, M)
        The backbone activity :math:`\mathbf b(t)` over one period (see :func:`bump_backbone`).
    n_units : int
        Number of reservoir units :math:`N`.
    rng : numpy.random.Generator
        Source of :math:`W^{in}`.
    p_connect : float in (0, 1]
        Connection probability.
    scale : float
        :math:`s \ge 0`.

    Returns
    -------
    ndarray, shape (T, n_units)
        The input current for one period (it repeats every period).
    """
    b = check_real_array(bump, "bump", ndim=2)
    n = check_positive_int(n_units, "n_units", minimum=2)
    rng = check_generator(rng)
    p = check_fraction(p_connect, "p_connect", closed_low=False)
    scale = check_nonneg_float(scale, "scale")
    check_size((n, b.shape[1] + b.shape[0]), "the input weights and current", copies=3)
    w_in = np.where(rng.random((n, b.shape[1])) < p, rng.normal(0.0, 1.0, (n, b.shape[1])), 0.0)
    return np.ascontiguousarray(scale * b @ w_in.T)


def rls_update(p_matrix, w_out, rates, target) -> RLSStep:
    r"""One recursive-least-squares (FORCE) step.

    .. math::

        \mathbf k = \frac{P\mathbf r}{1 + \mathbf r^\top P \mathbf r}, \quad
        P \leftarrow P - \mathbf k (P\mathbf r)^\top, \quad
        \mathbf w \leftarrow \mathbf w - (\mathbf w^\top\mathbf r - f)\,\mathbf k .

    :math:`\mathbf k` equals the updated :math:`P` times :math:`\mathbf r`, so this is the
    Sussillo & Abbott update :math:`\Delta\mathbf w = -e^- P(t)\mathbf r`.

    Parameters
    ----------
    p_matrix : array_like, shape (N, N)
        :math:`P`, the running estimate of the inverse rate correlation matrix.
    w_out : array_like, shape (N,)
        The readout :math:`\mathbf w`.
    rates : array_like, shape (N,)
        The rates :math:`\mathbf r`.
    target : float
        The target output :math:`f`.

    Returns
    -------
    RLSStep
        The new ``(p_matrix, w_out)``; the inputs are not modified.
    """
    w = check_real_array(w_out, "w_out", ndim=1)
    n = w.shape[0]
    p = check_real_array(p_matrix, "p_matrix", shape=(n, n))
    r = check_real_array(rates, "rates", shape=(n,))
    f = check_finite_float(target, "target")
    pr = p @ r
    denominator = 1.0 + r @ pr
    if not denominator > 0:
        raise ValueError(
            f"p_matrix must be positive semi-definite (an inverse correlation matrix): "
            f"1 + r^T P r = {denominator:.3g} is not positive"
        )
    k = pr / denominator
    out = RLSStep(p - np.outer(k, pr), w - (w @ r - f) * k)
    check_finite_result(out.p_matrix, "the updated p_matrix", "inputs too large (overflow)")
    check_finite_result(out.w_out, "the updated w_out", "inputs too large (overflow)")
    return out


def reward_modulated_update(rates, z, z_bar, performance, performance_bar, eta) -> np.ndarray:
    r"""Exploratory reward-modulated Hebbian update of a linear readout.

    .. math:: \Delta\mathbf w = \eta\, \Theta(P - \bar P)\,(z - \bar z)\,\mathbf r

    with :math:`\Theta(s) = 1` for :math:`s > 0` and 0 otherwise.

    Parameters
    ----------
    rates : array_like, shape (N,)
        Presynaptic rates :math:`\mathbf r`.
    z, z_bar : float or array_like, shape (K,)
        The (noisy) output and its running mean; a vector for K outputs.
    performance, performance_bar : float
        :math:`P` and its running mean :math:`\bar P`.
    eta : float
        Learning rate :math:`\eta \ge 0`.

    Returns
    -------
    ndarray, shape (N,) or (K, N)
        :math:`\Delta\mathbf w`; for a vector ``z`` the outer product
        :math:`\eta\,\Theta\,(\mathbf z - \bar{\mathbf z})\mathbf r^\top`.
    """
    r = check_real_array(rates, "rates", ndim=1)
    scalar = np.ndim(z) == 0
    z = check_real_array(np.atleast_1d(z), "z", ndim=1)
    z_bar = check_real_array(np.atleast_1d(z_bar), "z_bar", shape=z.shape)
    perf = check_finite_float(performance, "performance")
    perf_bar = check_finite_float(performance_bar, "performance_bar")
    eta = check_nonneg_float(eta, "eta")
    gate = 1.0 if perf > perf_bar else 0.0
    dw = eta * gate * np.outer(z - z_bar, r)
    return dw[0] if scalar else dw


def learning_rate(t, eta0=5e-4, tau_eta=20.0):
    r"""The decaying learning rate :math:`\eta(t) = \eta_0 / (1 + t/\tau_\eta)`.

    Parameters
    ----------
    t : float or array_like
        Time in seconds, :math:`t \ge 0`.
    eta0 : float
        :math:`\eta_0 \ge 0`.
    tau_eta : float
        :math:`\tau_\eta > 0` in seconds (the rate has halved at :math:`t = \tau_\eta`).

    Returns
    -------
    float or ndarray
        :math:`\eta(t)`, with the shape of ``t``.
    """
    eta0 = check_nonneg_float(eta0, "eta0")
    tau_eta = check_positive_float(tau_eta, "tau_eta")
    t = check_real_array(t, "t", low=0.0)
    out = eta0 / (1.0 + t / tau_eta)
    return float(out) if out.ndim == 0 else out


@njit(cache=True)
def _reservoir_chunk(
    mode,
    x,
    w,
    p_mat,
    avg,
    indptr,
    indices,
    data,
    gain,
    w_fb,
    alpha,
    target,
    drive,
    step0,
    n_steps,
    state_noise,
    expl_noise,
    eta0,
    tau_eta,
    beta_avg,
    force_every,
    z_out,
    norm_out,
):  # pragma: no cover - numba
    """Advance the reservoir n_steps.  mode 0: frozen readout, 1: FORCE, 2: reward-Hebb.

    avg = [z_bar, P_bar].  Noise arrays have shape (n_steps, N) and (n_steps,) (zeros = off).
    """
    n = x.shape[0]
    n_t = target.shape[0]
    n_d = drive.shape[0]
    use_drive = drive.shape[1] == n
    r = np.empty(n)
    h = np.empty(n)
    pr = np.empty(n)
    pr_old = np.empty(n)  # P r of the last RLS step, whose update of P is still pending
    c_old = 0.0
    pending = False
    for s in range(n_steps):
        k = step0 + s
        for i in range(n):
            r[i] = np.tanh(x[i]) + state_noise[s, i]
        zh = 0.0
        for i in range(n):
            zh += w[i] * r[i]
        z = zh + expl_noise[s]
        f = target[k % n_t]
        if mode == 1 and (k % force_every == 0):
            # P stays exactly symmetric (its update is), so P r is the sum of the rows
            # r_j P[j, :]: a loop without a reduction, which the compiler vectorises.  The
            # previous step's update P[j, i] -= c (Pr)_j (Pr)_i is applied to row j in the same
            # sweep, just before the row is used: one pass over P instead of two, with the
            # same arithmetic for every element
            for i in range(n):
                pr[i] = 0.0
            if pending:
                for j in range(n):
                    rj = r[j]
                    qj = pr_old[j]
                    for i in range(n):
                        v = p_mat[j, i] - c_old * (qj * pr_old[i])
                        p_mat[j, i] = v
                        pr[i] += v * rj
            else:
                for j in range(n):
                    rj = r[j]
                    for i in range(n):
                        pr[i] += p_mat[j, i] * rj
            rpr = 0.0
            for i in range(n):
                rpr += r[i] * pr[i]
            c = 1.0 / (1.0 + rpr)
            for i in range(n):
                pr_old[i] = pr[i]
            c_old = c
            pending = True
            err = zh - f
            for i in range(n):
                w[i] -= err * pr[i] * c
        elif mode == 2:
            perf = -(z - f) * (z - f)
            if perf > avg[1]:
                eta = eta0 / (1.0 + k / tau_eta)  # tau_eta in steps
                dz = z - avg[0]
                for i in range(n):
                    w[i] += eta * dz * r[i]
            avg[0] += beta_avg * (z - avg[0])
            avg[1] += beta_avg * (perf - avg[1])
        z_out[s] = z
        nrm = 0.0
        for i in range(n):
            nrm += w[i] * w[i]
        norm_out[s] = np.sqrt(nrm)
        # recurrent input
        for i in range(n):
            acc = 0.0
            for q in range(indptr[i], indptr[i + 1]):
                acc += data[q] * r[indices[q]]
            h[i] = gain * acc + w_fb[i] * z
        if use_drive:
            kd = k % n_d
            for i in range(n):
                h[i] += drive[kd, i]
        for i in range(n):
            x[i] += alpha * (h[i] - x[i])
    if pending:  # leave P up to date for the next chunk
        for i in range(n):
            pi = pr_old[i]
            for j in range(n):
                p_mat[i, j] -= c_old * (pi * pr_old[j])


def _check_reservoir(res) -> Reservoir:
    """A validated copy-free ``Reservoir``: every field is checked before a kernel reads it.

    The kernels index ``r[indices[q]]`` for ``q`` in ``indptr[i] .. indptr[i + 1]``, so the
    sparse form must be consistent: ``indptr`` of length ``N + 1``, starting at 0,
    non-decreasing, ending at ``len(indices) == len(data)``, and ``0 <= indices < N``.
    """
    if not isinstance(res, Reservoir):
        raise TypeError(f"res must be a Reservoir (from make_reservoir); got {type(res).__name__}")
    w_rec = check_real_array(res.w_rec, "res.w_rec", ndim=2)
    n = w_rec.shape[0]
    if w_rec.shape != (n, n):
        raise ValueError(f"res.w_rec must be a square (N, N) matrix; got shape {w_rec.shape}")
    w_fb = check_real_array(res.w_fb, "res.w_fb", shape=(n,))
    gain = check_nonneg_float(res.gain, "res.gain")
    tau = check_positive_float(res.tau, "res.tau")
    dt = check_positive_float(res.dt, "res.dt")
    if dt > tau:
        raise ValueError(f"res.dt must not exceed res.tau; got dt={dt}, tau={tau}")
    indptr = check_int_array(res.indptr, "res.indptr", shape=(n + 1,), low=0)
    nnz = int(indptr[-1])
    indices = check_int_array(
        res.indices, "res.indices", ndim=1, allow_empty=True, low=0, high=n - 1
    )
    data = check_real_array(res.data, "res.data", ndim=1, allow_empty=True)
    if indptr[0] != 0 or np.any(np.diff(indptr) < 0) or nnz != indices.shape[0]:
        raise ValueError(
            "res.indptr must start at 0, never decrease and end at len(res.indices) = "
            f"{indices.shape[0]}; got indptr[0] = {indptr[0]}, indptr[-1] = {nnz}"
        )
    if data.shape != indices.shape:
        raise ValueError(
            f"res.data and res.indices must have the same length; got {data.shape[0]} and "
            f"{indices.shape[0]}"
        )
    return Reservoir(w_rec, w_fb, gain, tau, dt, indptr, indices, data)


def _check_run(run, n_units: int) -> ReadoutRun:
    """A validated ``ReadoutRun`` for a reservoir of ``n_units`` units."""
    if not isinstance(run, ReadoutRun):
        raise TypeError(f"run must be a ReadoutRun; got {type(run).__name__}")
    w_out = check_real_array(run.w_out, "run.w_out", shape=(n_units,))
    states = check_real_array(run.states, "run.states", shape=(n_units,), copy=True)
    step = check_nonneg_int(run.step, "run.step")
    if step >= 2**62:
        raise ValueError(f"run.step must be below 2**62; got {step}")
    z = check_real_array(run.z, "run.z", ndim=1, allow_empty=True)
    norms = check_real_array(run.weight_norm, "run.weight_norm", ndim=1, allow_empty=True)
    return ReadoutRun(w_out, states, step, z, norms)


def _check_drive(backbone, res: Reservoir, n_target: int) -> np.ndarray:
    if backbone is None:
        return np.zeros((1, 1))
    d = check_real_array(backbone, "backbone", ndim=2)
    if d.shape != (n_target, res.n_units):
        raise ValueError(
            f"backbone must have shape (T, N) = ({n_target}, {res.n_units}): one target period "
            f"by the reservoir's units; got shape {d.shape}"
        )
    return d


def _check_duration(duration, res: Reservoir) -> int:
    """Number of Euler steps in ``duration`` seconds (at least one)."""
    duration = check_positive_float(duration, "duration")
    steps = round(duration / res.dt)
    if steps < 1:
        raise ValueError(f"duration must be at least one step dt = {res.dt}; got {duration}")
    check_size(steps, f"the output of a run of duration/dt = {steps:.3g} steps", copies=2)
    return int(steps)


def _run(mode, res, target, n_steps, rng, *, w0, states, step0, drive, **rule) -> ReadoutRun:
    """Simulate ``n_steps`` from ``states`` (modified in place) with the readout rule ``mode``.

    ``rule`` holds the rule's parameters: ``state_noise``, ``expl_noise`` (both default 0),
    ``eta0``, ``tau_eta``, ``tau_avg`` (reward-modulated Hebb), ``alpha_rls`` and
    ``force_every`` (FORCE).
    """
    n = res.n_units
    state_noise = rule.get("state_noise", 0.0)
    expl_noise = rule.get("expl_noise", 0.0)
    w = np.zeros(n) if w0 is None else check_real_array(w0, "w_out", shape=(n,), copy=True)
    p_mat = np.eye(n) / rule.get("alpha_rls", 1.0) if mode == "force" else np.zeros((1, 1))
    avg = np.zeros(2)
    z = np.empty(n_steps)
    norms = np.empty(n_steps)
    # one noise buffer for all chunks; random() * (high - low) + low is bit for bit what
    # rng.uniform(low, high) returns, from the same draws
    noise = np.zeros((min(_CHUNK, n_steps), n))
    done = 0
    while done < n_steps:
        m = min(_CHUNK, n_steps - done)
        sn = noise[:m]
        if state_noise > 0:
            rng.random(out=sn)
            sn *= state_noise - (-state_noise)
            sn += -state_noise
        en = rng.uniform(-expl_noise, expl_noise, m) if expl_noise > 0 else np.zeros(m)
        _reservoir_chunk(
            _MODES[mode],
            states,
            w,
            p_mat,
            avg,
            res.indptr,
            res.indices,
            res.data,
            res.gain,
            res.w_fb,
            res.dt / res.tau,
            target,
            drive,
            step0 + done,
            m,
            sn,
            en,
            rule.get("eta0", 0.0),
            rule.get("tau_eta", 1.0) / res.dt,  # in steps
            min(1.0, res.dt / rule.get("tau_avg", 1.0)),
            rule.get("force_every", 1),
            z[done : done + m],
            norms[done : done + m],
        )
        done += m
        finite = np.isfinite(z[:done]).all() and np.isfinite(norms[:done]).all()
        if not (finite and np.isfinite(w).all() and np.isfinite(states).all()):
            raise DivergenceError(
                f"the {mode} run diverged (output or weights not finite) within steps "
                f"{step0 + done - m}..{step0 + done - 1}: use a smaller learning rate or "
                f"gain, a larger alpha, or smaller inputs"
            )
    return ReadoutRun(w, states, step0 + n_steps, z, norms)


def _train(mode, res, target, duration, rng, backbone, initial_states, **rule) -> ReadoutRun:
    """Validate the common arguments of the training functions and run from a zero readout."""
    res = _check_reservoir(res)
    f = check_real_array(target, "target", ndim=1)
    n_steps = _check_duration(duration, res)
    rng = check_generator(rng)
    drive = _check_drive(backbone, res, f.shape[0])
    if initial_states is None:
        states = rng.normal(0.0, 0.5, res.n_units)
    else:
        states = check_real_array(initial_states, "initial_states", shape=(res.n_units,), copy=True)
    return _run(mode, res, f, n_steps, rng, w0=None, states=states, step0=0, drive=drive, **rule)


def train_force(
    res,
    target,
    duration,
    *,
    rng,
    backbone=None,
    alpha: float = 1.0,
    update_every: int = 2,
    state_noise: float = 0.0,
    initial_states=None,
) -> ReadoutRun:
    r"""Learn the readout with FORCE (recursive least squares), feeding back :math:`z = \hat z`.

    :math:`P` starts at :math:`\mathbb I/\alpha`; every ``update_every`` steps

    .. math::

        P \leftarrow P - \frac{P\mathbf r\mathbf r^\top P}{1 + \mathbf r^\top P\mathbf r},
        \qquad \mathbf w \leftarrow \mathbf w - (\mathbf w^\top\mathbf r - f)\, P\mathbf r

    (the new :math:`P`; see :func:`rls_update`).  Costs :math:`O(N^2)` per update step.

    Parameters
    ----------
    res : Reservoir
        The reservoir (see :func:`make_reservoir`).
    target : array_like, shape (T,)
        One period of the target :math:`f`, repeated.
    duration : float
        Training time in seconds.
    rng : numpy.random.Generator
        Source of the initial state and of the state noise.
    backbone : array_like, shape (T, N), optional
        Input current of one period (see :func:`backbone_input`).
    alpha : float
        :math:`\alpha > 0`, the regulariser of :math:`P`.
    update_every : int
        Steps between RLS updates.
    state_noise : float
        Half-width of the uniform noise on the rates (0: none).
    initial_states : array_like, shape (N,), optional
        Initial membrane potentials (default :math:`\mathcal N(0, 0.5^2)` from ``rng``).

    Returns
    -------
    ReadoutRun
        The trained readout, the final states and the output at every step.

    Raises
    ------
    memlab.plasticity.DivergenceError
        If the output or the readout stops being finite (a ``FloatingPointError``).
    """
    rule = {
        "alpha_rls": check_positive_float(alpha, "alpha"),
        # any period beyond the run's length updates only at step 0: 2**62 stands for them all
        "force_every": min(check_positive_int(update_every, "update_every"), 2**62),
        "state_noise": check_nonneg_float(state_noise, "state_noise"),
    }
    return _train("force", res, target, duration, rng, backbone, initial_states, **rule)


def train_reward_hebbian(
    res,
    target,
    duration,
    *,
    rng,
    backbone=None,
    eta0: float = 5e-4,
    tau_eta: float = 20.0,
    tau_avg: float = 0.005,
    state_noise: float = 0.05,
    expl_noise: float = 0.5,
    initial_states=None,
) -> ReadoutRun:
    r"""Learn the readout with the exploratory reward-modulated Hebbian rule.

    At each step :math:`z = \mathbf w^\top\mathbf r + \xi^{expl}` (fed back),
    :math:`P = -(z-f)^2` and

    .. math::

        \Delta\mathbf w = \eta(t)\,\Theta(P - \bar P)\,(z - \bar z)\,\mathbf r, \qquad
        \eta(t) = \frac{\eta_0}{1 + t/\tau_\eta},

    then :math:`\bar z \leftarrow \bar z + \frac{dt}{\tau_{avg}}(z - \bar z)` and likewise
    for :math:`\bar P` (see :func:`reward_modulated_update`).

    Parameters
    ----------
    res, target, duration, backbone, initial_states
        As in :func:`train_force`.
    rng : numpy.random.Generator
        Source of the initial state and of both noises.
    eta0, tau_eta : float
        :math:`\eta_0` and :math:`\tau_\eta` (seconds) of the learning rate.
    tau_avg : float
        Time constant (seconds) of the running means :math:`\bar z, \bar P`.
    state_noise : float
        Half-width of the uniform noise :math:`\xi^{state}` on the rates.
    expl_noise : float
        Half-width of the uniform exploration noise :math:`\xi^{expl}` on the output.

    Returns
    -------
    ReadoutRun
        The trained readout, the final states, the output and the weight norm at every step.

    Raises
    ------
    memlab.plasticity.DivergenceError
        If the output or the readout stops being finite (a ``FloatingPointError``).
    """
    rule = {
        "eta0": check_nonneg_float(eta0, "eta0"),
        "tau_eta": check_positive_float(tau_eta, "tau_eta"),
        "tau_avg": check_positive_float(tau_avg, "tau_avg"),
        "state_noise": check_nonneg_float(state_noise, "state_noise"),
        "expl_noise": check_nonneg_float(expl_noise, "expl_noise"),
    }
    return _train("hebbian", res, target, duration, rng, backbone, initial_states, **rule)


def free_run(res, run, target, duration, *, backbone=None) -> ReadoutRun:
    r"""Continue a trained run with the readout frozen and all noise off.

    The output :math:`z = \mathbf w^\top \tanh(\mathbf x)` is fed back; the target and the
    backbone keep the phase of ``run`` (the step counter continues).

    Parameters
    ----------
    res : Reservoir
        The reservoir the run was trained on.
    run : ReadoutRun
        A training (or free) run; its readout and final states are the starting point.
    target : array_like, shape (T,)
        One period of the target (only its phase matters here: the readout is frozen).
    duration : float
        Simulated time in seconds.
    backbone : array_like, shape (T, N), optional
        The backbone input used in training, if any.

    Returns
    -------
    ReadoutRun
        The unchanged readout, the final states and the output at every step.

    Raises
    ------
    memlab.plasticity.DivergenceError
        If the output or the readout stops being finite (a ``FloatingPointError``).
    """
    res = _check_reservoir(res)
    run = _check_run(run, res.n_units)
    f = check_real_array(target, "target", ndim=1)
    n_steps = _check_duration(duration, res)
    drive = _check_drive(backbone, res, f.shape[0])
    w0, x0, k0 = run.w_out, run.states, run.step
    return _run("frozen", res, f, n_steps, None, w0=w0, states=x0, step0=k0, drive=drive)


def nmse(output, target) -> float:
    r"""Normalised mean squared error :math:`\langle (z - f)^2\rangle / \mathrm{Var}(f)`.

    Parameters
    ----------
    output : array_like, shape (T,)
        The output :math:`z`.
    target : array_like, shape (T,)
        The target :math:`f` (not constant).

    Returns
    -------
    float
        The error; 1 for :math:`z = \langle f\rangle`, 0 for a perfect output.
    """
    z = check_real_array(output, "output", ndim=1)
    f = check_real_array(target, "target", shape=z.shape)
    var = f.var()
    if var == 0:
        raise ValueError("target must not be constant (its variance normalises the error)")
    out = float(np.mean((z - f) ** 2) / var)
    check_finite_result(out, "the NMSE", "output or target too large (overflow)")
    return out


def test_error(res, run, target, n_periods=5, *, backbone=None) -> FreeRunError:
    r"""Free-run for ``n_periods`` periods after training and score the output with :func:`nmse`.

    Parameters
    ----------
    res : Reservoir
        The reservoir the run was trained on.
    run : ReadoutRun
        The training run (see :func:`train_force`, :func:`train_reward_hebbian`).
    target : array_like, shape (T,)
        One period of the target.
    n_periods : int
        Length of the test in periods.
    backbone : array_like, shape (T, N), optional
        The backbone input used in training, if any.

    Returns
    -------
    FreeRunError
        ``nmse``, the free-running output ``z`` and the ``target`` samples aligned with it.
    """
    n_periods = check_positive_int(n_periods, "n_periods")
    f = check_real_array(target, "target", ndim=1)
    res = _check_reservoir(res)
    run = _check_run(run, res.n_units)
    check_size(n_periods * f.shape[0], f"a test of {n_periods} periods", copies=4)
    test = free_run(res, run, f, n_periods * f.shape[0] * res.dt, backbone=backbone)
    idx = (run.step + np.arange(test.z.shape[0])) % f.shape[0]
    return FreeRunError(nmse(test.z, f[idx]), test.z, f[idx])


test_error.__test__ = False  # not a pytest test


# ---------------------------------------------------------------------------------------------
# Part 2: CLAPP
# ---------------------------------------------------------------------------------------------


class ObjectStream(NamedTuple):
    """A stream of input frames.

    Attributes
    ----------
    x : ndarray, shape (T, D)
        The frames (the layer's inputs).
    objects : ndarray of int, shape (T,)
        The object shown in each frame.
    y : ndarray, shape (T,)
        +1 if the object is the same as in the previous frame, -1 after a saccade
        (``y[0] = +1`` by convention; frame 0 has no predecessor and is never used as a
        target).
    """

    x: np.ndarray
    objects: np.ndarray
    y: np.ndarray


class ClappUpdate(NamedTuple):
    """The local CLAPP update :math:`(\\Delta W, \\Delta W^{pred})` (see :func:`clapp_update`)."""

    d_w: np.ndarray
    d_w_pred: np.ndarray


class ClappWeights(NamedTuple):
    """The weights of one CLAPP layer: encoder ``w`` (H, D) and predictor ``w_pred`` (H, H)."""

    w: np.ndarray
    w_pred: np.ndarray


class ClappRun(NamedTuple):
    """Result of :func:`train_clapp`.

    Attributes
    ----------
    w, w_pred : ndarray
        The trained encoder (H, D) and predictor (H, H).
    agree : ndarray, shape (T - 1,)
        ``agree[t-1]`` is 1 if :math:`\\mathrm{sign}(u^t) = y^t` before the update at step t,
        else 0.
    """

    w: np.ndarray
    w_pred: np.ndarray
    agree: np.ndarray


def object_prototypes(*, rng, n_objects=4, dim=20, n_signal=5, proto_std=0.7) -> np.ndarray:
    r"""Random object prototypes: :math:`\mu_{ki} \sim \mathcal N(0, s^2)` on the first
    ``n_signal`` dimensions, zero elsewhere.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of the prototypes.
    n_objects : int
        Number of objects :math:`K \ge 2`.
    dim : int
        Input dimension :math:`D`.
    n_signal : int
        Number of prototype (signal) dimensions, at most ``dim``.
    proto_std : float
        :math:`s > 0`.

    Returns
    -------
    ndarray, shape (n_objects, dim)
        The prototypes :math:`\boldsymbol\mu_k`.
    """
    rng = check_generator(rng)
    k = check_positive_int(n_objects, "n_objects", minimum=2)
    d = check_positive_int(dim, "dim")
    s = check_positive_int(n_signal, "n_signal")
    if s > d:
        raise ValueError(f"n_signal must be <= dim; got n_signal={s}, dim={d}")
    proto_std = check_positive_float(proto_std, "proto_std")
    check_size((k, d), "the prototypes (n_objects, dim)")
    protos = np.zeros((k, d))
    protos[:, :s] = rng.normal(0.0, proto_std, (k, s))
    return protos


def object_stream(
    prototypes, n_steps, *, rng, p_saccade=0.5, signal_noise=0.3, nuisance_noise=1.5
) -> ObjectStream:
    r"""A stream of frames :math:`\mathbf x^t = \boldsymbol\mu_{k_t} + \boldsymbol\epsilon^t`.

    With probability ``p_saccade`` per step the gaze jumps to a *different* object (uniformly
    among the others), otherwise the object stays.  The noise :math:`\epsilon^t` is i.i.d. per
    frame with standard deviation ``signal_noise`` on the prototype dimensions (where a
    prototype is non-zero for some object) and ``nuisance_noise`` on the other dimensions.

    Parameters
    ----------
    prototypes : array_like, shape (K, D)
        The object prototypes :math:`\boldsymbol\mu_k` (see :func:`object_prototypes`).
    n_steps : int
        Number of frames :math:`T \ge 2`.
    rng : numpy.random.Generator
        Source of the saccades, the objects and the noise.
    p_saccade : float in [0, 1]
        Probability of a saccade per step.
    signal_noise, nuisance_noise : float
        Noise standard deviations on the prototype and on the other dimensions.

    Returns
    -------
    ObjectStream
        The frames ``x``, the ``objects`` shown and the labels ``y``.
    """
    protos = check_real_array(prototypes, "prototypes", ndim=2)
    n = check_positive_int(n_steps, "n_steps", minimum=2)
    rng = check_generator(rng)
    p = check_fraction(p_saccade, "p_saccade")
    sn = check_nonneg_float(signal_noise, "signal_noise")
    nn = check_nonneg_float(nuisance_noise, "nuisance_noise")
    k, d = protos.shape
    if k < 2:
        raise ValueError(
            f"prototypes must hold at least 2 objects (rows); got shape {protos.shape}"
        )
    check_size((n, d), "the frames (n_steps, D)", copies=2)
    saccade = rng.random(n) < p
    saccade[0] = False
    jumps = rng.integers(1, k, n)
    objects = np.empty(n, dtype=np.int64)
    objects[0] = rng.integers(k)
    for t in range(1, n):
        objects[t] = (objects[t - 1] + jumps[t]) % k if saccade[t] else objects[t - 1]
    signal_dims = np.any(protos != 0, axis=0)
    std = np.where(signal_dims, sn, nn)
    x = protos[objects] + rng.normal(0.0, 1.0, (n, d)) * std
    return ObjectStream(x, objects, np.where(saccade, -1.0, 1.0))


def _clapp_args(w, w_pred, x_prev, x):
    w = check_real_array(w, "W", ndim=2)
    h, d = w.shape
    w_pred = check_real_array(w_pred, "W_pred", shape=(h, h))
    x_prev = check_real_array(x_prev, "x_prev", shape=(d,))
    x = check_real_array(x, "x", shape=(d,))
    return w, w_pred, x_prev, x


def clapp_score(w, w_pred, x_prev, x) -> float:
    r"""Prediction score :math:`u = \rho(W\mathbf x)^\top W^{pred}\rho(W\mathbf x^{prev})`.

    Parameters
    ----------
    w : array_like, shape (H, D)
        Encoder weights :math:`W`.
    w_pred : array_like, shape (H, H)
        Predictor weights :math:`W^{pred}`.
    x_prev, x : array_like, shape (D,)
        The previous and the current frame.

    Returns
    -------
    float
        :math:`u`, with :math:`\rho` = ReLU.
    """
    w, w_pred, x_prev, x = _clapp_args(w, w_pred, x_prev, x)
    return float(np.maximum(w @ x, 0) @ w_pred @ np.maximum(w @ x_prev, 0))


def clapp_loss(w, w_pred, x_prev, x, y) -> float:
    r"""CLAPP hinge loss :math:`\mathcal L = \max(0, 1 - y u)` (:math:`u` from :func:`clapp_score`).

    Parameters
    ----------
    w, w_pred, x_prev, x : array_like
        Encoder and predictor weights, previous and current frame, as in :func:`clapp_score`.
    y : {+1, -1}
        +1 if both frames show the same object, -1 after a saccade.

    Returns
    -------
    float
        :math:`\mathcal L \ge 0`.
    """
    y = _check_label(y)
    return max(0.0, 1.0 - y * clapp_score(w, w_pred, x_prev, x))


def clapp_update(w, w_pred, x_prev, x, y) -> ClappUpdate:
    r"""Local CLAPP update, equal to :math:`(-\partial\mathcal L/\partial W,\,
    -\partial\mathcal L/\partial W^{pred})`.

    With :math:`\mathbf a = W\mathbf x`, :math:`\mathbf a' = W\mathbf x^{prev}`,
    :math:`\mathbf z = \rho(\mathbf a)`, :math:`\mathbf c = \rho(\mathbf a')` and the broadcast
    factor :math:`\gamma = y\,\mathbf 1[1 - yu > 0]`:

    .. math::

        \Delta W^{pred} = \gamma\,\mathbf z\,\mathbf c^\top, \qquad
        \Delta W_{ji} = \gamma\big[(W^{pred}\mathbf c)_j\,\rho'(a_j)\,x_i
            + (W^{pred\top}\mathbf z)_j\,\rho'(a'_j)\,x^{prev}_i\big].

    Parameters
    ----------
    w, w_pred, x_prev, x : array_like
        Encoder and predictor weights, previous and current frame, as in :func:`clapp_score`.
    y : {+1, -1}
        The label, as in :func:`clapp_loss`.

    Returns
    -------
    ClappUpdate
        ``(d_w, d_w_pred)``; multiply by a learning rate to apply.
    """
    w, w_pred, x_prev, x = _clapp_args(w, w_pred, x_prev, x)
    y = _check_label(y)
    a, a_prev = w @ x, w @ x_prev
    z, c = np.maximum(a, 0), np.maximum(a_prev, 0)
    u = z @ w_pred @ c
    gamma = y if 1.0 - y * u > 0 else 0.0
    forward = (w_pred @ c) * (a > 0)  # reaches W through z = relu(W x)
    backward = (w_pred.T @ z) * (a_prev > 0)  # through c = relu(W x_prev)
    d_w = gamma * (np.outer(forward, x) + np.outer(backward, x_prev))
    return ClappUpdate(d_w, gamma * np.outer(z, c))


def init_clapp(dim, n_hidden, *, rng, pred_scale=0.1) -> ClappWeights:
    r"""Initial weights of one CLAPP layer: :math:`W_{ji} \sim \mathcal N(0, 1/D)`,
    :math:`W^{pred} = s\,\mathbb I`.

    Parameters
    ----------
    dim : int
        Input dimension :math:`D`.
    n_hidden : int
        Number of units :math:`H`.
    rng : numpy.random.Generator
        Source of :math:`W`.
    pred_scale : float
        :math:`s`.

    Returns
    -------
    ClappWeights
        ``(w, w_pred)`` of shapes (H, D) and (H, H).
    """
    d = check_positive_int(dim, "dim")
    h = check_positive_int(n_hidden, "n_hidden")
    rng = check_generator(rng)
    s = check_finite_float(pred_scale, "pred_scale")
    check_size((h, d + h), "the CLAPP weights (H, D + H)")
    return ClappWeights(rng.normal(0.0, 1.0 / np.sqrt(d), (h, d)), s * np.eye(h))


@njit(cache=True)
def _clapp_train(w, w_pred, x, y, eta, agree):  # pragma: no cover - numba
    h, d = w.shape
    a = np.empty(h)
    ap = np.empty(h)
    z = np.empty(h)
    c = np.empty(h)
    pc = np.empty(h)
    pz = np.empty(h)
    for t in range(1, x.shape[0]):
        for j in range(h):
            s1 = 0.0
            s0 = 0.0
            for i in range(d):
                s1 += w[j, i] * x[t, i]
                s0 += w[j, i] * x[t - 1, i]
            a[j] = s1
            ap[j] = s0
            z[j] = s1 if s1 > 0 else 0.0
            c[j] = s0 if s0 > 0 else 0.0
        for j in range(h):
            acc = 0.0
            acc2 = 0.0
            for k in range(h):
                acc += w_pred[j, k] * c[k]
                acc2 += w_pred[k, j] * z[k]
            pc[j] = acc
            pz[j] = acc2
        u = 0.0
        for j in range(h):
            u += z[j] * pc[j]
        agree[t - 1] = 1.0 if u * y[t] > 0 else 0.0
        if 1.0 - y[t] * u > 0:
            g = eta * y[t]
            for j in range(h):
                for k in range(h):
                    w_pred[j, k] += g * z[j] * c[k]
            for j in range(h):
                f1 = g * pc[j] if a[j] > 0 else 0.0
                f0 = g * pz[j] if ap[j] > 0 else 0.0
                for i in range(d):
                    w[j, i] += f1 * x[t, i] + f0 * x[t - 1, i]


def train_clapp(w, w_pred, stream, eta=2e-3) -> ClappRun:
    r"""Train one CLAPP layer online on a stream, one update per step (both weights at once).

    For :math:`t = 1, \dots, T-1`:

    .. math::

        W \leftarrow W + \eta\,\Delta W, \qquad W^{pred} \leftarrow W^{pred} + \eta\,\Delta W^{pred}

    with the updates of :func:`clapp_update` for :math:`(\mathbf x^{t-1}, \mathbf x^t, y^t)`.

    Parameters
    ----------
    w : array_like, shape (H, D)
        Initial encoder weights (not modified).
    w_pred : array_like, shape (H, H)
        Initial predictor weights (not modified).
    stream : ObjectStream
        The frames and labels (see :func:`object_stream`).
    eta : float
        Learning rate :math:`\eta > 0`.

    Returns
    -------
    ClappRun
        The trained ``w``, ``w_pred`` and ``agree``, where ``agree[t-1]`` is 1 if
        :math:`\mathrm{sign}(u^t) = y^t` before the update at step t.

    Raises
    ------
    memlab.plasticity.DivergenceError
        If the weights stop being finite (too large ``eta`` or inputs).
    """
    if not isinstance(stream, ObjectStream):
        raise TypeError(
            f"stream must be an ObjectStream (from object_stream); got {type(stream).__name__}"
        )
    w = check_real_array(w, "W", ndim=2, copy=True)
    h, d = w.shape
    w_pred = check_real_array(w_pred, "W_pred", shape=(h, h), copy=True)
    x = check_real_array(stream.x, "stream.x", shape=(None, d))
    y = check_pm1_array(stream.y, "stream.y", ndims=(1,)).astype(np.float64)
    if y.shape != (x.shape[0],):
        raise ValueError(
            f"stream.y must have one label per frame, shape ({x.shape[0]},); got shape {y.shape}"
        )
    check_int_array(stream.objects, "stream.objects", shape=(x.shape[0],), low=0)
    eta = check_positive_float(eta, "eta")
    agree = np.zeros(x.shape[0] - 1)
    _clapp_train(w, w_pred, x, y, eta, agree)
    if not (np.isfinite(w).all() and np.isfinite(w_pred).all()):
        raise DivergenceError(
            f"CLAPP training diverged (weights not finite) with eta={eta}: use a smaller eta "
            f"(the chapter uses 2e-3) or smaller inputs"
        )
    return ClappRun(w, w_pred, agree)


class ClappStackRun(NamedTuple):
    """Result of :func:`train_clapp_two_layers`.

    Attributes
    ----------
    layer1, layer2 : ClappWeights
        The trained weights of the first (H1, D) and the second (H2, H1) layer.
    agree : ndarray, shape (2, T - 1)
        ``agree[l, t-1]`` is 1 if :math:`\\mathrm{sign}(u_{l+1}^t) = y_{l+1}^t` before the
        update at step t, else 0.
    """

    layer1: ClappWeights
    layer2: ClappWeights
    agree: np.ndarray


@njit(cache=True)
def _clapp_two_layers(w1, p1, w2, p2, x, y1, y2, eta, backprop, agree):  # pragma: no cover
    h1, d = w1.shape
    h2 = w2.shape[0]
    a = np.empty(h1)
    ap = np.empty(h1)
    z = np.empty(h1)
    c = np.empty(h1)
    pc = np.empty(h1)
    pz = np.empty(h1)
    b = np.empty(h2)
    bp = np.empty(h2)
    z2 = np.empty(h2)
    c2 = np.empty(h2)
    qc = np.empty(h2)
    qz = np.empty(h2)
    err_z = np.empty(h1)
    err_c = np.empty(h1)
    for t in range(1, x.shape[0]):
        # layer 1: the same arithmetic as _clapp_train
        for j in range(h1):
            s1 = 0.0
            s0 = 0.0
            for i in range(d):
                s1 += w1[j, i] * x[t, i]
                s0 += w1[j, i] * x[t - 1, i]
            a[j] = s1
            ap[j] = s0
            z[j] = s1 if s1 > 0 else 0.0
            c[j] = s0 if s0 > 0 else 0.0
        for j in range(h1):
            acc = 0.0
            acc2 = 0.0
            for k in range(h1):
                acc += p1[j, k] * c[k]
                acc2 += p1[k, j] * z[k]
            pc[j] = acc
            pz[j] = acc2
        u = 0.0
        for j in range(h1):
            u += z[j] * pc[j]
        agree[0, t - 1] = 1.0 if u * y1[t] > 0 else 0.0
        # layer 2 sees layer 1's outputs for the two frames
        for j in range(h2):
            s1 = 0.0
            s0 = 0.0
            for i in range(h1):
                s1 += w2[j, i] * z[i]
                s0 += w2[j, i] * c[i]
            b[j] = s1
            bp[j] = s0
            z2[j] = s1 if s1 > 0 else 0.0
            c2[j] = s0 if s0 > 0 else 0.0
        for j in range(h2):
            acc = 0.0
            acc2 = 0.0
            for k in range(h2):
                acc += p2[j, k] * c2[k]
                acc2 += p2[k, j] * z2[k]
            qc[j] = acc
            qz[j] = acc2
        u2 = 0.0
        for j in range(h2):
            u2 += z2[j] * qc[j]
        agree[1, t - 1] = 1.0 if u2 * y2[t] > 0 else 0.0
        g2 = eta * y2[t] if 1.0 - y2[t] * u2 > 0 else 0.0
        # the error that backpropagation sends down: -eta dL2/dz and -eta dL2/dc (old weights)
        for i in range(h1):
            ez = 0.0
            ec = 0.0
            if backprop and g2 != 0.0:
                for j in range(h2):
                    if b[j] > 0:
                        ez += w2[j, i] * qc[j]
                    if bp[j] > 0:
                        ec += w2[j, i] * qz[j]
            err_z[i] = g2 * ez
            err_c[i] = g2 * ec
        if g2 != 0.0:
            for j in range(h2):
                for k in range(h2):
                    p2[j, k] += g2 * z2[j] * c2[k]
            for j in range(h2):
                f1 = g2 * qc[j] if b[j] > 0 else 0.0
                f0 = g2 * qz[j] if bp[j] > 0 else 0.0
                for i in range(h1):
                    w2[j, i] += f1 * z[i] + f0 * c[i]
        if 1.0 - y1[t] * u > 0:
            g = eta * y1[t]
            for j in range(h1):
                for k in range(h1):
                    p1[j, k] += g * z[j] * c[k]
            for j in range(h1):
                f1 = g * pc[j] if a[j] > 0 else 0.0
                f0 = g * pz[j] if ap[j] > 0 else 0.0
                for i in range(d):
                    w1[j, i] += f1 * x[t, i] + f0 * x[t - 1, i]
        if backprop and g2 != 0.0:
            for j in range(h1):
                f1 = err_z[j] if a[j] > 0 else 0.0
                f0 = err_c[j] if ap[j] > 0 else 0.0
                for i in range(d):
                    w1[j, i] += f1 * x[t, i] + f0 * x[t - 1, i]


def train_clapp_two_layers(
    layer1, layer2, stream, eta=2e-3, *, backprop=False, labels2=None
) -> ClappStackRun:
    r"""Train two stacked CLAPP layers online, each on its own hinge loss, or end to end.

    Layer 1 encodes the frames, :math:`\mathbf z_1 = \rho(W_1\mathbf x^t)`,
    :math:`\mathbf c_1 = \rho(W_1\mathbf x^{t-1})`; layer 2 encodes layer 1's outputs,
    :math:`\mathbf z_2 = \rho(W_2\mathbf z_1)`, :math:`\mathbf c_2 = \rho(W_2\mathbf c_1)`.
    Each layer :math:`l` has the loss :math:`\mathcal L_l = \max(0, 1 - y_l u_l)` with
    :math:`u_l = \mathbf z_l^\top W_l^{pred}\mathbf c_l`. At every step t both layers are
    updated from the weights before the step:

    .. math::

        \theta_2 \leftarrow \theta_2 - \eta\,\partial\mathcal L_2/\partial\theta_2,
        \qquad
        \theta_1 \leftarrow \theta_1 - \eta\,\partial\mathcal L_1/\partial\theta_1
        \ \text{(CLAPP)} \quad\text{or}\quad
        \theta_1 \leftarrow \theta_1 - \eta\,\partial(\mathcal L_1 + \mathcal L_2)/
        \partial\theta_1 \ \text{(backprop)},

    with :math:`\theta_l = (W_l, W^{pred}_l)`. In CLAPP mode each layer's update is
    :func:`clapp_update` of its own input; with ``backprop=True`` layer 1 also receives the
    error :math:`-\partial\mathcal L_2/\partial\mathbf z_1 = \gamma_2 W_2^\top
    [(W_2^{pred}\mathbf c_2)\odot\rho'(\mathbf a_2)]` (and the same for
    :math:`\mathbf c_1`), sent down from layer 2.

    Parameters
    ----------
    layer1 : ClappWeights or tuple
        Initial ``(w, w_pred)`` of layer 1, shapes (H1, D) and (H1, H1) (not modified).
    layer2 : ClappWeights or tuple
        Initial ``(w, w_pred)`` of layer 2, shapes (H2, H1) and (H2, H2) (not modified).
    stream : ObjectStream
        The frames and the labels :math:`y_1` of layer 1 (see :func:`object_stream`).
    eta : float
        Learning rate :math:`\eta > 0` of both layers.
    backprop : bool
        False: per-layer losses, no error between layers (CLAPP). True: layer 1 learns from
        the gradient of :math:`\mathcal L_1 + \mathcal L_2` (end-to-end backpropagation).
    labels2 : array_like of +-1, shape (T,), optional
        The labels :math:`y_2` of layer 2's loss (default: ``stream.y``, the same as layer 1).

    Returns
    -------
    ClappStackRun
        The trained ``layer1``, ``layer2`` and ``agree`` (2, T - 1).

    Raises
    ------
    memlab.plasticity.DivergenceError
        If the weights stop being finite (too large ``eta`` or inputs).
    """
    if not isinstance(stream, ObjectStream):
        raise TypeError(
            f"stream must be an ObjectStream (from object_stream); got {type(stream).__name__}"
        )
    if not isinstance(backprop, (bool, np.bool_)):
        raise TypeError(f"backprop must be True or False; got {backprop!r}")
    weights = []
    for name, layer in (("layer1", layer1), ("layer2", layer2)):
        if not isinstance(layer, (tuple, list)) or len(layer) != 2:
            raise TypeError(f"{name} must be a pair (w, w_pred), e.g. from init_clapp")
        w = check_real_array(layer[0], f"{name}.w", ndim=2, copy=True)
        h = w.shape[0]
        weights += [w, check_real_array(layer[1], f"{name}.w_pred", shape=(h, h), copy=True)]
    w1, p1, w2, p2 = weights
    if w2.shape[1] != w1.shape[0]:
        raise ValueError(
            f"layer2.w must have one column per unit of layer 1, shape (H2, {w1.shape[0]}); "
            f"got {w2.shape}"
        )
    x = check_real_array(stream.x, "stream.x", shape=(None, w1.shape[1]))
    y1 = check_pm1_array(stream.y, "stream.y", ndims=(1,)).astype(np.float64)
    if y1.shape != (x.shape[0],):
        raise ValueError(
            f"stream.y must have one label per frame, shape ({x.shape[0]},); got {y1.shape}"
        )
    check_int_array(stream.objects, "stream.objects", shape=(x.shape[0],), low=0)
    y2 = y1 if labels2 is None else check_pm1_array(labels2, "labels2", ndims=(1,))
    y2 = np.asarray(y2, dtype=np.float64)
    if y2.shape != (x.shape[0],):
        raise ValueError(f"labels2 must have shape ({x.shape[0]},); got {y2.shape}")
    eta = check_positive_float(eta, "eta")
    agree = np.zeros((2, x.shape[0] - 1))
    _clapp_two_layers(w1, p1, w2, p2, x, y1, y2, eta, bool(backprop), agree)
    if not all(np.isfinite(arr).all() for arr in (w1, p1, w2, p2)):
        raise DivergenceError(
            f"two-layer CLAPP training diverged (weights not finite) with eta={eta}: use a "
            "smaller eta or smaller inputs"
        )
    return ClappStackRun(ClappWeights(w1, p1), ClappWeights(w2, p2), agree)


def encode(w, x) -> np.ndarray:
    r"""Layer output :math:`\rho(W\mathbf x^t)` for every frame, with :math:`\rho` = ReLU.

    Parameters
    ----------
    w : array_like, shape (H, D)
        Encoder weights :math:`W`.
    x : array_like, shape (T, D)
        The frames.

    Returns
    -------
    ndarray, shape (T, H)
        The features.
    """
    w = check_real_array(w, "W", ndim=2)
    x = check_real_array(x, "x", shape=(None, w.shape[1]))
    return np.maximum(x @ w.T, 0.0)


def _check_labels(labels, name: str, n_rows: int) -> np.ndarray:
    lab = np.asarray(labels)
    if lab.dtype == np.bool_ or not np.issubdtype(lab.dtype, np.integer):
        raise TypeError(f"{name} must be integer class labels; got dtype {lab.dtype}")
    if lab.shape != (n_rows,):
        raise ValueError(f"{name} must have shape ({n_rows},), one label per row; got {lab.shape}")
    if np.any(lab < 0):
        raise ValueError(f"{name} must be >= 0; found {int(lab.min())}")
    return lab


def decoding_accuracy(features_train, labels_train, features_test, labels_test) -> float:
    r"""Test accuracy of a least-squares linear decoder (with bias) of integer labels.

    Solves :math:`\min_B \lVert [F, 1] B - Y\rVert^2` for one-hot targets :math:`Y` on the
    training set and predicts :math:`\arg\max_k ([F, 1]B)_k` on the test set.

    Parameters
    ----------
    features_train, features_test : array_like, shape (n_train, F) and (n_test, F)
        Features of the training and the test examples.
    labels_train, labels_test : array_like of int, shapes (n_train,) and (n_test,)
        Class labels :math:`\ge 0`.

    Returns
    -------
    float
        The fraction of test examples classified correctly.
    """
    f_tr = check_real_array(features_train, "features_train", ndim=2)
    f_te = check_real_array(features_test, "features_test", shape=(None, f_tr.shape[1]))
    l_tr = _check_labels(labels_train, "labels_train", f_tr.shape[0])
    l_te = _check_labels(labels_test, "labels_test", f_te.shape[0])
    k = int(max(l_tr.max(), l_te.max())) + 1
    check_size((f_tr.shape[0] + f_tr.shape[1] + 1, k), f"one-hot targets for {k} classes")
    a_tr = np.hstack([f_tr, np.ones((f_tr.shape[0], 1))])
    a_te = np.hstack([f_te, np.ones((f_te.shape[0], 1))])
    b, *_ = np.linalg.lstsq(a_tr, np.eye(k)[l_tr], rcond=None)
    return float(np.mean(np.argmax(a_te @ b, axis=1) == l_te))
