r"""Learning with local rules: reservoir readouts (FORCE and reward-modulated Hebb) and CLAPP.

Part 1 -- a rate reservoir with output feedback (Hoerzer, Legenstein & Maass 2014; the
setup of Pogodin et al. 2019, scaled down)
---------------------------------------------------------------------------------------

.. math::

    \tau \dot x_i = -x_i + \lambda \sum_j W^{rec}_{ij} r_j + W^{fb}_i z + I^{WM}_i(t),
    \qquad r_i = \tanh x_i + \xi^{state}_i, \qquad z = \mathbf w^\top \mathbf r + \xi^{expl},

integrated with the Euler method at step ``dt``.  The readout ``w`` is learned either with
recursive least squares (FORCE, Sussillo & Abbott 2009; non-local, :math:`O(N^2)` per step)
or with the exploratory reward-modulated Hebbian rule (local, three-factor)

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

with :math:`\rho` = ReLU and :math:`y = +1` (same object) or :math:`-1` (saccade to a new
object).  The local update is :math:`-\partial\mathcal L/\partial(\cdot)`, with the broadcast
third factor :math:`\gamma = y\,\mathbf 1[1 - yu > 0]`.

Noise is drawn from an explicit :class:`numpy.random.Generator` in chunks and passed to the
numba kernels, so every run is reproducible from its generator.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from memlab._validation import (
    check_finite_float,
    check_fraction,
    check_generator,
    check_nonneg_float,
    check_positive_float,
    check_positive_int,
)

__all__ = [
    "Reservoir",
    "ReadoutRun",
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
    "object_prototypes",
    "object_stream",
    "clapp_score",
    "clapp_loss",
    "clapp_update",
    "init_clapp",
    "train_clapp",
    "encode",
    "decoding_accuracy",
]

_CHUNK = 2000  # time steps of noise drawn from the generator per kernel call


# ---------------------------------------------------------------------------------------------
# validation helpers
# ---------------------------------------------------------------------------------------------


def _real_array(values, name: str, ndim: int | tuple, shape=None) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype == np.bool_ or not (
        np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
    ):
        raise TypeError(f"{name} must be an array of real numbers; got dtype {arr.dtype}")
    ndims = (ndim,) if isinstance(ndim, int) else tuple(ndim)
    if arr.ndim not in ndims:
        allowed = " or ".join(str(d) for d in ndims)
        raise ValueError(
            f"{name} must be {allowed}-dimensional; got {arr.ndim} dimension(s), shape {arr.shape}"
        )
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty; got shape {arr.shape}")
    if shape is not None and arr.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}; got {arr.shape}")
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain only finite values (found NaN or inf)")
    return arr


def _check_label(y) -> float:
    y = check_finite_float(y, "y")
    if y not in (-1.0, 1.0):
        raise ValueError(f"y must be +1 (same object) or -1 (saccade); got {y}")
    return y


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
        return self.w_fb.shape[0]


class ReadoutRun(NamedTuple):
    """Result of a training or free run.

    ``w_out`` the readout after the run, ``x`` the final membrane state, ``step`` the index of
    the next time step (so that the target and the backbone keep their phase), ``z`` the
    output at every step and ``weight_norm`` :math:`\\lVert\\mathbf w\\rVert` at every step.
    """

    w_out: np.ndarray
    x: np.ndarray
    step: int
    z: np.ndarray
    weight_norm: np.ndarray


def make_reservoir(n_units, rng, *, p_connect=0.1, gain=1.5, tau=0.05, dt=0.001) -> Reservoir:
    r"""Draw a reservoir: :math:`W^{rec}_{ij} \sim \mathcal N(0, 1/(pN))` w.p. ``p_connect``.

    Parameters
    ----------
    n_units : int
        Number of units :math:`N` (at least 2).
    rng : numpy.random.Generator
    p_connect : float in (0, 1]
    gain : float
        :math:`\lambda`; values above 1 give chaotic spontaneous activity for large N.
    tau, dt : float
        Membrane time constant and Euler step in seconds (``dt <= tau``).
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


def periodic_target(period, dt, rng, *, n_harmonics=15) -> np.ndarray:
    r"""One period of a random Fourier series, normalised to a maximum of 1.

    .. math:: f(t) = \sum_{k=1}^{K} \frac{1}{k}\sin\!\Big(\frac{2\pi k t}{T} + \phi_k\Big),
              \qquad \phi_k \sim U(0, 2\pi),

    divided by :math:`\max_t |f|`.  Returns the samples at :math:`t = 0, dt, \dots, T - dt`.
    """
    period = check_positive_float(period, "period")
    dt = check_positive_float(dt, "dt")
    rng = check_generator(rng)
    k_max = check_positive_int(n_harmonics, "n_harmonics")
    n = int(round(period / dt))
    if n < 4:
        raise ValueError(f"period must span at least 4 time steps; got period/dt = {period / dt}")
    t = np.arange(n) * dt
    phases = rng.uniform(0.0, 2 * np.pi, k_max)
    k = np.arange(1, k_max + 1)
    f = (np.sin(2 * np.pi * np.outer(t, k) / period + phases) / k).sum(axis=1)
    return f / np.max(np.abs(f))


def sine_target(period, dt, *, amplitude=1.0) -> np.ndarray:
    r"""One period of :math:`f(t) = A \sin(2\pi t/T)` sampled at step ``dt``."""
    period = check_positive_float(period, "period")
    dt = check_positive_float(dt, "dt")
    amplitude = check_positive_float(amplitude, "amplitude")
    n = int(round(period / dt))
    if n < 4:
        raise ValueError(f"period must span at least 4 time steps; got period/dt = {period / dt}")
    return amplitude * np.sin(2 * np.pi * np.arange(n) / n)


def bump_backbone(period, dt, *, n_wm=50, width=None) -> np.ndarray:
    r"""A bump that travels once per period around a ring of ``n_wm`` units.

    .. math:: b_j(t) = \exp\!\Big(-\frac{d(t/T, j/M)^2 T^2}{2\sigma^2}\Big),

    with :math:`d` the circular distance of phases and :math:`\sigma` = ``width`` (default
    :math:`T/M`, seconds).  Returns shape ``(period/dt, n_wm)``.  This precomputed bump stands in
    for the adaptive attractor network of Pogodin et al. (our simplification).
    """
    period = check_positive_float(period, "period")
    dt = check_positive_float(dt, "dt")
    m = check_positive_int(n_wm, "n_wm", minimum=2)
    sigma = period / m if width is None else check_positive_float(width, "width")
    n = int(round(period / dt))
    if n < 4:
        raise ValueError(f"period must span at least 4 time steps; got period/dt = {period / dt}")
    phase = np.arange(n)[:, None] / n - np.arange(m)[None, :] / m
    d = (phase + 0.5) % 1.0 - 0.5
    return np.exp(-0.5 * (d * period / sigma) ** 2)


def backbone_input(bump, n_units, rng, *, p_connect=0.1, scale=1.0) -> np.ndarray:
    r"""Project a backbone into the reservoir: :math:`I^{WM}(t) = s\, W^{in} \mathbf b(t)`.

    :math:`W^{in}_{ij} \sim \mathcal N(0, 1)` with probability ``p_connect``.  Returns the input
    current of shape ``(T, n_units)`` for one period (it repeats every period).
    """
    b = _real_array(bump, "bump", 2)
    n = check_positive_int(n_units, "n_units", minimum=2)
    rng = check_generator(rng)
    p = check_fraction(p_connect, "p_connect", closed_low=False)
    scale = check_nonneg_float(scale, "scale")
    w_in = np.where(rng.random((n, b.shape[1])) < p, rng.normal(0.0, 1.0, (n, b.shape[1])), 0.0)
    return np.ascontiguousarray(scale * b @ w_in.T)


def rls_update(p_matrix, w_out, rates, target):
    r"""One recursive-least-squares (FORCE) step.

    .. math::

        \mathbf k = \frac{P\mathbf r}{1 + \mathbf r^\top P \mathbf r}, \quad
        P \leftarrow P - \mathbf k (P\mathbf r)^\top, \quad
        \mathbf w \leftarrow \mathbf w - (\mathbf w^\top\mathbf r - f)\,\mathbf k .

    :math:`\mathbf k` equals the updated :math:`P` times :math:`\mathbf r`, so this is the
    Sussillo & Abbott update :math:`\Delta\mathbf w = -e^- P(t)\mathbf r`.  Returns the new
    ``(P, w)``; the inputs are not modified.
    """
    w = _real_array(w_out, "w_out", 1)
    n = w.shape[0]
    p = _real_array(p_matrix, "p_matrix", 2, shape=(n, n))
    r = _real_array(rates, "rates", 1, shape=(n,))
    f = check_finite_float(target, "target")
    pr = p @ r
    k = pr / (1.0 + r @ pr)
    return p - np.outer(k, pr), w - (w @ r - f) * k


def reward_modulated_update(rates, z, z_bar, performance, performance_bar, eta):
    r"""Exploratory reward-modulated Hebbian update of a linear readout.

    .. math:: \Delta\mathbf w = \eta\, \Theta(P - \bar P)\,(z - \bar z)\,\mathbf r

    with :math:`\Theta(s) = 1` for :math:`s > 0` and 0 otherwise.  ``z`` may be a scalar or a
    vector of outputs; for a vector the update is the outer product, shape ``(K, N)``.
    """
    r = _real_array(rates, "rates", 1)
    scalar = np.ndim(z) == 0
    z = _real_array(np.atleast_1d(z), "z", 1)
    z_bar = _real_array(np.atleast_1d(z_bar), "z_bar", 1, shape=z.shape)
    perf = check_finite_float(performance, "performance")
    perf_bar = check_finite_float(performance_bar, "performance_bar")
    eta = check_nonneg_float(eta, "eta")
    gate = 1.0 if perf > perf_bar else 0.0
    dw = eta * gate * np.outer(z - z_bar, r)
    return dw[0] if scalar else dw


def learning_rate(t, eta0=5e-4, tau_eta=20.0):
    r""":math:`\eta(t) = \eta_0 / (1 + t/\tau_\eta)` (``t`` in seconds, scalar or array)."""
    eta0 = check_nonneg_float(eta0, "eta0")
    tau_eta = check_positive_float(tau_eta, "tau_eta")
    t = np.asarray(t, dtype=float)
    if np.any(t < 0) or not np.all(np.isfinite(t)):
        raise ValueError("t must be finite and >= 0")
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
            for i in range(n):
                acc = 0.0
                for j in range(n):
                    acc += p_mat[i, j] * r[j]
                pr[i] = acc
            rpr = 0.0
            for i in range(n):
                rpr += r[i] * pr[i]
            c = 1.0 / (1.0 + rpr)
            for i in range(n):
                ki = pr[i] * c
                for j in range(n):
                    p_mat[i, j] -= ki * pr[j]
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


def _check_drive(drive, res: Reservoir, n_target: int) -> np.ndarray:
    if drive is None:
        return np.zeros((1, 1))
    d = _real_array(drive, "backbone", 2)
    if d.shape[1] != res.n_units:
        raise ValueError(
            f"backbone must have shape (T, N) with N = {res.n_units} reservoir units; got {d.shape}"
        )
    if d.shape[0] != n_target:
        raise ValueError(
            f"backbone must span one target period ({n_target} steps); got {d.shape[0]} steps"
        )
    return d


def _check_reservoir(res) -> Reservoir:
    if not isinstance(res, Reservoir):
        raise TypeError(f"res must be a Reservoir (from make_reservoir); got {type(res).__name__}")
    return res


def _initial_state(res, rng, x0):
    if x0 is None:
        return rng.normal(0.0, 0.5, res.n_units)
    return _real_array(x0, "x0", 1, shape=(res.n_units,)).copy()


def _run(
    mode,
    res,
    target,
    n_steps,
    rng,
    *,
    w0,
    x0,
    step0,
    drive,
    state_noise,
    expl_noise,
    eta0=0.0,
    tau_eta=1.0,
    tau_avg=1.0,
    alpha_rls=1.0,
    force_every=1,
):
    n = res.n_units
    w = np.zeros(n) if w0 is None else _real_array(w0, "w_out", 1, shape=(n,)).copy()
    x = x0
    p_mat = np.eye(n) / alpha_rls if mode == 1 else np.zeros((1, 1))
    avg = np.zeros(2)
    z = np.empty(n_steps)
    norms = np.empty(n_steps)
    alpha = res.dt / res.tau
    beta_avg = min(1.0, res.dt / tau_avg)
    tau_eta_steps = tau_eta / res.dt
    done = 0
    while done < n_steps:
        m = min(_CHUNK, n_steps - done)
        if state_noise > 0:
            sn = rng.uniform(-state_noise, state_noise, (m, n))
        else:
            sn = np.zeros((m, n))
        en = rng.uniform(-expl_noise, expl_noise, m) if expl_noise > 0 else np.zeros(m)
        _reservoir_chunk(
            mode,
            x,
            w,
            p_mat,
            avg,
            res.indptr,
            res.indices,
            res.data,
            res.gain,
            res.w_fb,
            alpha,
            target,
            drive,
            step0 + done,
            m,
            sn,
            en,
            eta0,
            tau_eta_steps,
            beta_avg,
            force_every,
            z[done : done + m],
            norms[done : done + m],
        )
        done += m
    return ReadoutRun(w, x, step0 + n_steps, z, norms)


def _common_args(res, target, duration, rng, backbone, x0):
    res = _check_reservoir(res)
    f = _real_array(target, "target", 1)
    duration = check_positive_float(duration, "duration")
    rng = check_generator(rng)
    drive = _check_drive(backbone, res, f.shape[0])
    n_steps = int(round(duration / res.dt))
    if n_steps < 1:
        raise ValueError(f"duration must be at least one step dt = {res.dt}; got {duration}")
    return res, f, n_steps, rng, drive, _initial_state(res, rng, x0)


def train_force(
    res,
    target,
    duration,
    rng,
    *,
    backbone=None,
    alpha=1.0,
    update_every=2,
    state_noise=0.0,
    x0=None,
) -> ReadoutRun:
    r"""Learn the readout with FORCE (recursive least squares), feeding back :math:`z = \hat z`.

    :math:`P` starts at :math:`\mathbb I/\alpha`; every ``update_every`` steps
    :math:`P \leftarrow P - \frac{P\mathbf r\mathbf r^\top P}{1 + \mathbf r^\top P\mathbf r}`,
    :math:`\mathbf w \leftarrow \mathbf w - (\hat z - f) P\mathbf r` (see :func:`rls_update`).
    ``target`` is one period of :math:`f`, repeated; ``backbone`` (optional) the input current of
    one period, shape ``(T, N)``.  Costs :math:`O(N^2)` per update step.
    """
    res, f, n_steps, rng, drive, x = _common_args(res, target, duration, rng, backbone, x0)
    alpha = check_positive_float(alpha, "alpha")
    every = check_positive_int(update_every, "update_every")
    state_noise = check_nonneg_float(state_noise, "state_noise")
    return _run(
        1,
        res,
        f,
        n_steps,
        rng,
        w0=None,
        x0=x,
        step0=0,
        drive=drive,
        state_noise=state_noise,
        expl_noise=0.0,
        alpha_rls=alpha,
        force_every=every,
    )


def train_reward_hebbian(
    res,
    target,
    duration,
    rng,
    *,
    backbone=None,
    eta0=5e-4,
    tau_eta=20.0,
    tau_avg=0.005,
    state_noise=0.05,
    expl_noise=0.5,
    x0=None,
) -> ReadoutRun:
    r"""Learn the readout with the exploratory reward-modulated Hebbian rule.

    At each step: :math:`z = \mathbf w^\top\mathbf r + \xi^{expl}`, :math:`P = -(z-f)^2`,
    :math:`\Delta\mathbf w = \eta(t)\,\Theta(P - \bar P)\,(z - \bar z)\,\mathbf r` with
    :math:`\eta(t) = \eta_0/(1 + t/\tau_\eta)`, then
    :math:`\bar z \leftarrow \bar z + \frac{dt}{\tau_{avg}}(z - \bar z)` and likewise for
    :math:`\bar P`.  Noise: :math:`\xi^{state} \sim U(\pm` ``state_noise`` :math:`)` on the rates,
    :math:`\xi^{expl} \sim U(\pm` ``expl_noise`` :math:`)` on the output, which is fed back.
    """
    res, f, n_steps, rng, drive, x = _common_args(res, target, duration, rng, backbone, x0)
    eta0 = check_nonneg_float(eta0, "eta0")
    tau_eta = check_positive_float(tau_eta, "tau_eta")
    tau_avg = check_positive_float(tau_avg, "tau_avg")
    state_noise = check_nonneg_float(state_noise, "state_noise")
    expl_noise = check_nonneg_float(expl_noise, "expl_noise")
    return _run(
        2,
        res,
        f,
        n_steps,
        rng,
        w0=None,
        x0=x,
        step0=0,
        drive=drive,
        state_noise=state_noise,
        expl_noise=expl_noise,
        eta0=eta0,
        tau_eta=tau_eta,
        tau_avg=tau_avg,
    )


def free_run(res, run, target, duration, *, backbone=None) -> ReadoutRun:
    r"""Continue a trained run with the readout frozen and all noise off.

    The output :math:`z = \mathbf w^\top \tanh(\mathbf x)` is fed back; the target and the
    backbone keep the phase of ``run`` (the step counter continues).
    """
    res = _check_reservoir(res)
    if not isinstance(run, ReadoutRun):
        raise TypeError(f"run must be a ReadoutRun; got {type(run).__name__}")
    f = _real_array(target, "target", 1)
    duration = check_positive_float(duration, "duration")
    drive = _check_drive(backbone, res, f.shape[0])
    n_steps = int(round(duration / res.dt))
    if n_steps < 1:
        raise ValueError(f"duration must be at least one step dt = {res.dt}; got {duration}")
    rng = np.random.default_rng(0)  # unused: no noise
    return _run(
        0,
        res,
        f,
        n_steps,
        rng,
        w0=run.w_out,
        x0=run.x.copy(),
        step0=run.step,
        drive=drive,
        state_noise=0.0,
        expl_noise=0.0,
    )


def nmse(output, target) -> float:
    r"""Normalised mean squared error :math:`\langle (z - f)^2\rangle / \mathrm{Var}(f)`."""
    z = _real_array(output, "output", 1)
    f = _real_array(target, "target", 1, shape=z.shape)
    var = f.var()
    if var == 0:
        raise ValueError("target must not be constant (its variance normalises the error)")
    return float(np.mean((z - f) ** 2) / var)


def test_error(res, run, target, n_periods=5, *, backbone=None):
    """Free-run for ``n_periods`` periods after training; return ``(nmse, z, f)``."""
    n_periods = check_positive_int(n_periods, "n_periods")
    f = _real_array(target, "target", 1)
    res = _check_reservoir(res)
    test = free_run(res, run, f, n_periods * f.shape[0] * res.dt, backbone=backbone)
    idx = (run.step + np.arange(test.z.shape[0])) % f.shape[0]
    return nmse(test.z, f[idx]), test.z, f[idx]


test_error.__test__ = False  # not a pytest test


# ---------------------------------------------------------------------------------------------
# Part 2: CLAPP
# ---------------------------------------------------------------------------------------------


class ObjectStream(NamedTuple):
    """Input frames ``x`` (T, D), the object shown in each frame ``objects`` (T,), and
    ``y`` (T,): +1 if the object is the same as in the previous frame, -1 after a saccade
    (``y[0] = +1`` by convention; frame 0 has no predecessor and is never used as a target)."""

    x: np.ndarray
    objects: np.ndarray
    y: np.ndarray


def object_prototypes(rng, *, n_objects=4, dim=20, n_signal=5, proto_std=0.7) -> np.ndarray:
    r"""Object prototypes, shape ``(K, D)``: :math:`\mathcal N(0, s^2)` on the first
    ``n_signal`` dimensions, zero elsewhere."""
    rng = check_generator(rng)
    k = check_positive_int(n_objects, "n_objects", minimum=2)
    d = check_positive_int(dim, "dim")
    s = check_positive_int(n_signal, "n_signal")
    if s > d:
        raise ValueError(f"n_signal must be <= dim; got n_signal={s}, dim={d}")
    proto_std = check_positive_float(proto_std, "proto_std")
    protos = np.zeros((k, d))
    protos[:, :s] = rng.normal(0.0, proto_std, (k, s))
    return protos


def object_stream(
    prototypes, n_steps, rng, *, p_saccade=0.5, signal_noise=0.3, nuisance_noise=1.5
) -> ObjectStream:
    r"""A stream of frames :math:`\mathbf x^t = \boldsymbol\mu_{k_t} + \boldsymbol\epsilon^t`.

    With probability ``p_saccade`` per step the gaze jumps to a *different* object (uniformly
    among the others), otherwise the object stays.  The noise :math:`\epsilon^t` is i.i.d. per
    frame with standard deviation ``signal_noise`` on the prototype dimensions (where a
    prototype is non-zero for some object) and ``nuisance_noise`` on the other dimensions.
    """
    protos = _real_array(prototypes, "prototypes", 2)
    n = check_positive_int(n_steps, "n_steps", minimum=2)
    rng = check_generator(rng)
    p = check_fraction(p_saccade, "p_saccade")
    sn = check_nonneg_float(signal_noise, "signal_noise")
    nn = check_nonneg_float(nuisance_noise, "nuisance_noise")
    k, d = protos.shape
    if k < 2:
        raise ValueError("prototypes must hold at least 2 objects")
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
    w = _real_array(w, "W", 2)
    h, d = w.shape
    w_pred = _real_array(w_pred, "W_pred", 2, shape=(h, h))
    x_prev = _real_array(x_prev, "x_prev", 1, shape=(d,))
    x = _real_array(x, "x", 1, shape=(d,))
    return w, w_pred, x_prev, x


def clapp_score(w, w_pred, x_prev, x) -> float:
    r"""Prediction score :math:`u = \rho(W\mathbf x)^\top W^{pred}\rho(W\mathbf x^{prev})`."""
    w, w_pred, x_prev, x = _clapp_args(w, w_pred, x_prev, x)
    return float(np.maximum(w @ x, 0) @ w_pred @ np.maximum(w @ x_prev, 0))


def clapp_loss(w, w_pred, x_prev, x, y) -> float:
    r"""CLAPP hinge loss :math:`\mathcal L = \max(0, 1 - y u)` (see :func:`clapp_score`)."""
    y = _check_label(y)
    return max(0.0, 1.0 - y * clapp_score(w, w_pred, x_prev, x))


def clapp_update(w, w_pred, x_prev, x, y):
    r"""Local CLAPP update, equal to :math:`(-\partial\mathcal L/\partial W,\,
    -\partial\mathcal L/\partial W^{pred})`.

    With :math:`\mathbf a = W\mathbf x`, :math:`\mathbf a' = W\mathbf x^{prev}`,
    :math:`\mathbf z = \rho(\mathbf a)`, :math:`\mathbf c = \rho(\mathbf a')` and the broadcast
    factor :math:`\gamma = y\,\mathbf 1[1 - yu > 0]`:

    .. math::

        \Delta W^{pred} = \gamma\,\mathbf z\,\mathbf c^\top, \qquad
        \Delta W_{ji} = \gamma\big[(W^{pred}\mathbf c)_j\,\rho'(a_j)\,x_i
            + (W^{pred\top}\mathbf z)_j\,\rho'(a'_j)\,x^{prev}_i\big].

    Returns ``(dW, dW_pred)`` (multiply by a learning rate to apply).
    """
    w, w_pred, x_prev, x = _clapp_args(w, w_pred, x_prev, x)
    y = _check_label(y)
    a, a_prev = w @ x, w @ x_prev
    z, c = np.maximum(a, 0), np.maximum(a_prev, 0)
    u = z @ w_pred @ c
    gamma = y if 1.0 - y * u > 0 else 0.0
    d_pred = gamma * np.outer(z, c)
    d_w = gamma * (
        np.outer((w_pred @ c) * (a > 0), x) + np.outer((w_pred.T @ z) * (a_prev > 0), x_prev)
    )
    return d_w, d_pred


def init_clapp(dim, n_hidden, rng, *, pred_scale=0.1):
    r"""Initial weights: :math:`W \sim \mathcal N(0, 1/D)`, :math:`W^{pred} = s\,\mathbb I`."""
    d = check_positive_int(dim, "dim")
    h = check_positive_int(n_hidden, "n_hidden")
    rng = check_generator(rng)
    s = check_finite_float(pred_scale, "pred_scale")
    return rng.normal(0.0, 1.0 / np.sqrt(d), (h, d)), s * np.eye(h)


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


def train_clapp(w, w_pred, stream, eta=2e-3):
    r"""Train one CLAPP layer online on a stream, one update per step (both weights at once).

    For :math:`t = 1, \dots, T-1`: :math:`W \leftarrow W + \eta\,\Delta W`,
    :math:`W^{pred} \leftarrow W^{pred} + \eta\,\Delta W^{pred}` with the updates of
    :func:`clapp_update` for :math:`(\mathbf x^{t-1}, \mathbf x^t, y^t)`.

    Returns ``(W, W_pred, agree)`` where ``agree[t-1]`` is 1 if :math:`\mathrm{sign}(u^t) = y^t`
    before the update at step t.
    """
    if not isinstance(stream, ObjectStream):
        raise TypeError(
            f"stream must be an ObjectStream (from object_stream); got {type(stream).__name__}"
        )
    w = _real_array(w, "W", 2).copy()
    h, d = w.shape
    w_pred = _real_array(w_pred, "W_pred", 2, shape=(h, h)).copy()
    x = _real_array(stream.x, "stream.x", 2)
    if x.shape[1] != d:
        raise ValueError(f"stream frames have dimension {x.shape[1]} but W expects {d} inputs")
    y = _real_array(stream.y, "stream.y", 1, shape=(x.shape[0],))
    if not np.all(np.abs(y) == 1):
        raise ValueError("stream.y must contain only +1 and -1")
    eta = check_positive_float(eta, "eta")
    agree = np.zeros(x.shape[0] - 1)
    _clapp_train(w, w_pred, x, y, eta, agree)
    return w, w_pred, agree


def encode(w, x) -> np.ndarray:
    r"""Layer output :math:`\rho(W\mathbf x)` for every frame; ``x`` has shape (T, D)."""
    w = _real_array(w, "W", 2)
    x = _real_array(x, "x", 2)
    if x.shape[1] != w.shape[1]:
        raise ValueError(f"x has {x.shape[1]} features but W expects {w.shape[1]}")
    return np.maximum(x @ w.T, 0.0)


def decoding_accuracy(features_train, labels_train, features_test, labels_test) -> float:
    r"""Test accuracy of a least-squares linear decoder (with bias) of integer labels.

    Solves :math:`\min_B \lVert [F, 1] B - Y\rVert^2` for one-hot targets :math:`Y` on the
    training set and predicts :math:`\arg\max_k ([F, 1]B)_k` on the test set.
    """
    f_tr = _real_array(features_train, "features_train", 2)
    f_te = _real_array(features_test, "features_test", 2)
    if f_te.shape[1] != f_tr.shape[1]:
        raise ValueError("features_train and features_test must have the same number of columns")
    l_tr = np.asarray(labels_train)
    l_te = np.asarray(labels_test)
    for name, lab, feat in (("labels_train", l_tr, f_tr), ("labels_test", l_te, f_te)):
        if not np.issubdtype(lab.dtype, np.integer) or lab.dtype == np.bool_:
            raise TypeError(f"{name} must be integer class labels; got dtype {lab.dtype}")
        if lab.shape != (feat.shape[0],):
            raise ValueError(f"{name} must have shape ({feat.shape[0]},); got {lab.shape}")
        if np.any(lab < 0):
            raise ValueError(f"{name} must be >= 0")
    k = int(max(l_tr.max(), l_te.max())) + 1
    a_tr = np.hstack([f_tr, np.ones((f_tr.shape[0], 1))])
    a_te = np.hstack([f_te, np.ones((f_te.shape[0], 1))])
    b, *_ = np.linalg.lstsq(a_tr, np.eye(k)[l_tr], rcond=None)
    return float(np.mean(np.argmax(a_te @ b, axis=1) == l_te))
