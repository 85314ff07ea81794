r"""Dynamical mean-field theory (DMFT) of the graded dense associative memory.

Model (Clark 2026, "Transient dynamics of associative memory models", arXiv:2506.05303), the
same as :func:`memlab.dense.simulate`: ``N`` neurons, ``P = alpha N^n`` patterns
:math:`\xi^\mu \in \{\pm1\}^N`, :math:`\phi = \tanh`, self-couplings included,

.. math::
    x_i(t) = (1-\Delta t)\, x_i(t-1)
             + \Delta t\, \frac{g}{\sqrt\alpha} \sum_\mu \xi_i^\mu\, m_\mu(t-1)^n,
    \qquad m_\mu(t) = \frac1N \sum_i \xi_i^\mu \phi(x_i(t)),

started at :math:`x_i(0) = a\,\xi_i^1 + z_i`, :math:`a = \bar a g`,
:math:`z_i \sim \mathcal N(0, g^2 - a^2)`.  Time index ``0`` is the initial state (as in
``dense.simulate``); every array below covers ``t = 0..T`` (``T = n_steps``).

Single-site process (one condensed pattern, :math:`\sigma_\xi = 1`)

.. math::
    x_0(t) = (1-\Delta t)\, x_0(t-1) + \Delta t \Big[ \frac{g}{\sqrt\alpha}\, \xi_0\, m(t-1)^n
             + \eta_0(t-1) + \sum_{t'=0}^{t-1} F(t-1, t')\, \phi_0(t') \Big],

with :math:`\eta_0` Gaussian, zero mean, covariance :math:`C_\eta`, and the closure

* ``n = 1``: :math:`A = I - \frac{g}{\sqrt\alpha} S_\phi`,
  :math:`C_\eta = g^2 A^{-1} C_\phi A^{-T}`, :math:`F = g\sqrt\alpha\, A^{-1}`.  ``S_phi`` is
  strictly causal, so :math:`A^{-1}` is lower triangular with unit diagonal and
  :math:`F(t,t) = g\sqrt\alpha` is the instantaneous self-coupling (the diagonal
  :math:`T_{ii} = \alpha` of the Hebbian matrix): it multiplies :math:`\phi_0(t-1)` in the
  update of :math:`x_0(t)`, exactly like the self-input of ``dense.simulate``;
* even ``n``: :math:`C_\eta = g^2 P_{n,n}`,
  :math:`F = g^2 [ n(n-1)\, D[S_\phi \circ P_{n-2,n}] + n^2\, S_\phi \circ P_{n-1,n-1} ]`,
  where :math:`P_{k,l}(t,t') = E[u(t)^k u(t')^l]` for a zero-mean Gaussian process ``u`` with
  covariance :math:`C_\phi` (Isserlis, :func:`_gauss_moment`) and :math:`D[X]` is the diagonal
  matrix of the row sums of ``X`` (an instantaneous term).  In the static limit
  :math:`\sum_{t'} F(t,t') = n (2n-1)!!\, g^2 S C^{n-1}`, as in :func:`memlab.dense.fixed_point`.

Order parameters: :math:`C_\phi(t,t') = \langle \phi_0(t)\phi_0(t') \rangle`,
:math:`m(t) = \langle \xi_0 \phi_0(t) \rangle`,
:math:`S_\phi(t,s) = \langle \partial\phi_0(t)/\partial I_0(s) \rangle`, where a source
:math:`I_0(s)` is added next to :math:`\eta_0(s)` (it first acts on :math:`x_0(s+1)`).

Causality: row ``t`` of :math:`C_\eta` and :math:`F` depends only on :math:`C_\phi, S_\phi`
on times ``<= t``, and ``x_0(t)`` only on rows ``< t``.  :func:`solve` therefore offers the
paper's damped fixed-point iteration (``method="iterate"``) and an exact single forward pass
(``method="forward"``, the default).  Both use one fixed set of random numbers per sample
(the standard normals behind :math:`\eta_0` and :math:`z_0`, and :math:`\xi_0`), so they
converge to the same Monte-Carlo estimate.

Odd ``n > 1`` is refused: its input variance grows with ``N``.
"""

from __future__ import annotations

import math
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numpy as np
from numba import get_num_threads, njit, prange
from scipy.special import ndtri

from memlab._common import double_factorial, numba_threads_for, single_site_energy
from memlab._threads import single_threaded_blas
from memlab._validation import (
    check_finite_result,
    check_fraction,
    check_generator,
    check_option,
    check_positive_float,
    check_positive_int,
    check_real_array,
    check_size,
    check_theory_order,
)

__all__ = [
    "DMFTSolution",
    "RecoveryCurve",
    "solve",
    "solve_many",
    "transient_recovery_curve",
]

_MIN_SAMPLES = 100
# Cholesky: relative jitter added to every pivot, and the relative tolerance below which a
# negative pivot means that C_eta is not positive semidefinite.
_JITTER = 1e-12
_PSD_TOL = 1e-8
# Novikov estimator: ridge added to C_eta (as a fraction of its mean diagonal) before solving
# C_eta S^T = L G, so that nearly singular field covariances do not amplify sampling noise.
_NOVIKOV_RIDGE = 1e-2


class DMFTSolution(NamedTuple):
    """Result of :func:`solve`.  Time index ``0..T`` (``T = n_steps``); ``0`` is the start.

    Attributes
    ----------
    overlaps : numpy.ndarray, shape (T+1,)
        Overlap :math:`m(t) = \\langle \\xi_0 \\phi_0(t) \\rangle` with the condensed
        pattern (the counterpart of ``memlab.dense.GradedTrajectory.overlaps``).
    c_phi : numpy.ndarray, shape (T+1, T+1)
        :math:`C_\\phi(t,t')`.
    s_phi : numpy.ndarray, shape (T+1, T+1)
        Response :math:`S_\\phi(t,s)` (strictly lower triangular).
    m_bar : numpy.ndarray, shape (T+1,)
        :math:`\\bar m(t) = m(t) / \\sqrt{C_\\phi(t,t)}`.
    energy : numpy.ndarray, shape (T+1,)
        :math:`\\varepsilon(t)` (see :func:`solve`).
    c_eta : numpy.ndarray, shape (T+1, T+1)
        Covariance of the Gaussian field :math:`\\eta_0`.
    f_mat : numpy.ndarray, shape (T+1, T+1)
        Memory kernel :math:`F(t,t')` (lower triangular, diagonal = instantaneous term).
    iterations : int
        Outer iterations (``1`` for the forward pass).
    residual : float
        Largest change of ``m, C_phi, S_phi`` in the last iteration (``0.0`` for forward).
    converged : bool
        Whether the iteration reached ``tol`` (always ``True`` for the forward pass).
    wall_time : float
        Seconds spent in :func:`solve`.
    """

    overlaps: np.ndarray
    c_phi: np.ndarray
    s_phi: np.ndarray
    m_bar: np.ndarray
    energy: np.ndarray
    c_eta: np.ndarray
    f_mat: np.ndarray
    iterations: int
    residual: float
    converged: bool
    wall_time: float


class RecoveryCurve(NamedTuple):
    """Result of :func:`transient_recovery_curve`; one entry per initial alignment.

    Attributes
    ----------
    init_overlaps : numpy.ndarray
        The requested :math:`\\bar a`.
    m_bar_init : numpy.ndarray
        :math:`\\bar m(0)` of the DMFT (what the paper puts on the x axis).
    m_bar_max : numpy.ndarray
        :math:`\\max_t \\bar m(t)`.
    t_opt : numpy.ndarray of int
        Step index of the optimal readout: the first step at which :math:`\bar m(t)` comes
        within ``tolerance`` of its maximum (the argmax for ``tolerance = 0``; multiply by
        ``dt`` for the time).
    t_opt_last : numpy.ndarray of int
        Last step within ``tolerance`` of the maximum: ``t_opt .. t_opt_last`` is the plateau
        of near-optimal readout times (``t_opt_last = T`` means still near the maximum at the
        end of the window).
    m_bar_max_se, t_opt_se, t_opt_last_se : numpy.ndarray
        Standard errors of ``m_bar_max``, ``t_opt`` and ``t_opt_last`` (in steps) over the
        ``n_repeats`` independent solves (NaN for ``n_repeats = 1``).
    m_bar : numpy.ndarray, shape (len(init_overlaps), T+1)
        :math:`\bar m(t)`, mean over the repeats.
    """

    init_overlaps: np.ndarray
    m_bar_init: np.ndarray
    m_bar_max: np.ndarray
    t_opt: np.ndarray
    t_opt_last: np.ndarray
    m_bar_max_se: np.ndarray
    t_opt_se: np.ndarray
    m_bar: np.ndarray
    t_opt_last_se: np.ndarray


# --------------------------------------------------------------------------
# closure: C_eta and F from C_phi, S_phi
# --------------------------------------------------------------------------


def _moment_orders(n: int) -> np.ndarray:
    """``(p, q)`` of the three Gaussian moments :math:`P_{p,q}` in the closure for even ``n``.

    Rows: :math:`P_{n,n}` (for :math:`C_\\eta`), :math:`P_{n-2,n}` (the instantaneous term:
    the ``n``-th power sits at the earlier time ``t'``, the echo of the pattern's input
    :math:`f(m(t')) = m(t')^n`, the ``(n-2)``-th at ``t``, from :math:`d\\, m(t)^{n-1}/dm`)
    and :math:`P_{n-1,n-1}`.
    """
    return np.array([[n, n], [n - 2, n], [n - 1, n - 1]], dtype=np.int64)


def _moment_coefficients(orders: np.ndarray) -> np.ndarray:
    r"""Isserlis coefficients of :func:`_gauss_moment`, one row per ``(p, q)`` of ``orders``.

    ``coef[k, j]`` multiplies :math:`c^j a^{(p-j)/2} b^{(q-j)/2}` in :math:`E[u^p v^q]`:
    :math:`\binom{p}{j}\binom{q}{j} j!\,(p-j-1)!!\,(q-j-1)!!` where ``p - j`` and ``q - j``
    are even, else 0.
    """
    coef = np.zeros((len(orders), int(orders.max()) + 1))
    for k, (p, q) in enumerate(orders.tolist()):
        for j in range(min(p, q) + 1):
            if (p - j) % 2 == 0 and (q - j) % 2 == 0:
                coef[k, j] = (
                    math.comb(p, j)
                    * math.comb(q, j)
                    * math.factorial(j)
                    * double_factorial(p - j - 1)
                    * double_factorial(q - j - 1)
                )
    return coef


@njit(cache=True, nogil=True)
def _gauss_moment(p, q, coef, a, b, c):  # pragma: no cover - numba
    r"""``E[u^p v^q]`` for zero-mean jointly Gaussian ``(u, v)``: ``a = Var u``, ``b = Var v``,
    ``c = Cov(u, v)``.  Isserlis/Wick: pair ``j`` of the ``u``'s with ``j`` of the ``v``'s and
    the rest among themselves,

    .. math::
        E[u^p v^q] = \sum_{j} \binom{p}{j}\binom{q}{j} j!\, c^j\,
                     (p-j-1)!!\, a^{(p-j)/2}\, (q-j-1)!!\, b^{(q-j)/2},

    summed over ``j <= min(p, q)`` with ``p - j`` and ``q - j`` even (:math:`(-1)!! = 1`);
    ``coef`` is the row of :func:`_moment_coefficients` for ``(p, q)``.
    """
    total = 0.0
    for j in range(min(p, q) + 1):
        if coef[j] != 0.0:
            total += coef[j] * c**j * a ** ((p - j) // 2) * b ** ((q - j) // 2)
    return total


@njit(cache=True, nogil=True)
def _closure_rows(
    n, g, alpha, c_phi, s_phi, orders, coef, a_inv, r0, r1, c_eta, f_mat
):  # pragma: no cover - numba
    r"""Rows ``r0..r1-1`` of :math:`C_\eta` and :math:`F` (entries ``s <= r``), in place.

    Row ``r`` needs :math:`C_\phi, S_\phi` on times ``<= r`` only (causality), and for
    ``n = 1`` the rows ``< r`` of :math:`A^{-1}` (``a_inv``), which it extends by row ``r``:
    :math:`A = I - \frac{g}{\sqrt\alpha} S_\phi` is unit lower triangular, so
    :math:`A^{-1}(r,\cdot) = e_r + \frac{g}{\sqrt\alpha}\sum_{k<r} S_\phi(r,k) A^{-1}(k,\cdot)`,
    then :math:`C_\eta(r,s) = g^2 [A^{-1} C_\phi A^{-T}](r,s)` and
    :math:`F(r,s) = g\sqrt\alpha A^{-1}(r,s)`.  For even ``n``,
    :math:`C_\eta(r,s) = g^2 P_{n,n}(r,s)`, :math:`F(r,s) = g^2 n^2 S_\phi(r,s) P_{n-1,n-1}(r,s)`
    plus, on the diagonal, :math:`g^2 n(n-1) \sum_s S_\phi(r,s) P_{n-2,n}(r,s)`.
    Cost per row ``O(r^2)`` for ``n = 1``, ``O(r)`` for even ``n``.
    """
    g2 = g * g
    if n == 1:
        scale = g / math.sqrt(alpha)
        f_scale = g * math.sqrt(alpha)
        for r in range(r0, r1):
            for j in range(r):
                a_inv[r, j] = 0.0
            a_inv[r, r] = 1.0
            for k in range(r):
                w = scale * s_phi[r, k]
                for j in range(k + 1):
                    a_inv[r, j] += w * a_inv[k, j]
            v = np.zeros(r + 1)  # row r of A^-1 C_phi
            for i in range(r + 1):
                w = a_inv[r, i]
                for j in range(r + 1):
                    v[j] += w * c_phi[i, j]
            for s in range(r + 1):
                total = 0.0
                for j in range(s + 1):
                    total += v[j] * a_inv[s, j]
                c_eta[r, s] = g2 * total
                f_mat[r, s] = f_scale * a_inv[r, s]
        return
    for r in range(r0, r1):
        var_r = c_phi[r, r]
        diagonal = 0.0
        for s in range(r + 1):
            var_s, cov = c_phi[s, s], c_phi[r, s]
            c_eta[r, s] = g2 * _gauss_moment(orders[0, 0], orders[0, 1], coef[0], var_r, var_s, cov)
            resp = s_phi[r, s]
            p_mm = _gauss_moment(orders[2, 0], orders[2, 1], coef[2], var_r, var_s, cov)
            f_mat[r, s] = g2 * (n * n) * resp * p_mm
            diagonal += resp * _gauss_moment(orders[1, 0], orders[1, 1], coef[1], var_r, var_s, cov)
        f_mat[r, r] += g2 * (n * (n - 1)) * diagonal


def _closure(n, g, alpha, c_phi, s_phi):
    """``(C_eta, F)`` on the block given (square, leading times).

    Cost ``O(T^3)`` for ``n = 1``, ``O(T^2)`` for even ``n``.
    """
    k = c_phi.shape[0]
    c_eta, f_mat, a_inv = np.zeros((k, k)), np.zeros((k, k)), np.zeros((k, k))
    orders = _moment_orders(n)
    _closure_rows(
        n,
        g,
        alpha,
        np.ascontiguousarray(c_phi, dtype=float),
        np.ascontiguousarray(s_phi, dtype=float),
        orders,
        _moment_coefficients(orders),
        a_inv,
        0,
        k,
        c_eta,
        f_mat,
    )
    return np.tril(c_eta) + np.tril(c_eta, -1).T, f_mat


@njit(cache=True, nogil=True)
def _cholesky_row(c_eta, chol, r, jitter, psd_tol):  # pragma: no cover - numba
    """Row ``r`` of the lower Cholesky factor ``chol`` of ``c_eta`` (rows ``< r`` filled).

    Returns ``(ok, pivot)``; ``ok`` is False if the pivot is below ``-psd_tol`` times the
    diagonal or not finite (then row ``r`` is left unfinished).
    """
    for s in range(r):
        total = c_eta[r, s]
        for k in range(s):
            total -= chol[r, k] * chol[s, k]
        chol[r, s] = total / chol[s, s]
    pivot = c_eta[r, r]
    for k in range(r):
        pivot -= chol[r, k] * chol[r, k]
    scale = max(abs(c_eta[r, r]), 1e-300)
    if not np.isfinite(pivot) or pivot < -psd_tol * scale:
        return False, pivot
    chol[r, r] = math.sqrt(max(pivot, 0.0) + jitter * scale)
    return True, pivot


def _not_psd(pivot, r, diagonal):
    return ValueError(
        f"C_eta is not positive semidefinite (Cholesky pivot {pivot:.3e} at time {r}, "
        f"diagonal {diagonal:.3e}); the order parameters are inconsistent - try "
        f"more samples, more damping or a smaller dt"
    )


def _cholesky_rows(c_eta, chol, r0, r1):
    """Fill rows ``r0..r1-1`` of the lower Cholesky factor ``chol`` of ``c_eta`` in place.

    Rows ``< r0`` must already be filled (they do not change when later rows are added, which
    is what makes the forward pass possible).  A relative jitter ``_JITTER`` is added to each
    pivot; a pivot below ``-_PSD_TOL`` times the diagonal raises ValueError.
    """
    for r in range(r0, r1):
        ok, pivot = _cholesky_row(c_eta, chol, r, _JITTER, _PSD_TOL)
        if not ok:
            raise _not_psd(pivot, r, c_eta[r, r])


# --------------------------------------------------------------------------
# single-site integration + response recursion
# --------------------------------------------------------------------------


# Samples per block of the response recursion: each block keeps its accumulator (T+1 rows of
# _BLOCK doubles) in the L1/L2 cache while it streams the float32 response rows.
_BLOCK = 128


@njit(cache=True, parallel=True, nogil=True)
def _advance(
    t_start, t_stop, x, phi, dphi, xi0, eta, f_mat, signal, dt, s_x, with_response
):  # pragma: no cover - numba
    r"""Advance all samples from ``t_start`` to ``t_stop`` (in place), parallel over samples.

    x, phi, dphi, eta : (M, T+1); xi0 : (M,); f_mat : (T+1, T+1); signal[t] =
    :math:`\frac{g}{\sqrt\alpha} m(t)^n`; s_x : (T+1, T+1, M), float32, with :math:`S_x(t,s)`
    of sample ``j`` at ``[t, s, j]``, zero for ``s >= t``.  Response recursion (Clark 2026,
    Sec. III E)

    .. math::
        S_x(t,s) = (1-\Delta t) S_x(t-1,s) + \Delta t \Big[ \sum_{t'=s}^{t-1} F(t-1,t')
                   \phi'(x(t')) S_x(t',s) + \delta_{t-1,s} \Big].

    Samples are the last axis of ``s_x``, so that the innermost loop runs over a block of
    samples (long, contiguous, vectorised) rather than over the ``t`` earlier times.  Cost per
    sample and step ``t``: ``O(t)`` for the state, ``O(t^2)`` for the response.
    """
    n_samples = x.shape[0]
    n_blocks = (n_samples + _BLOCK - 1) // _BLOCK
    for b in prange(n_blocks):
        j0 = b * _BLOCK
        j1 = min(j0 + _BLOCK, n_samples)
        acc = np.empty((t_stop + 1, j1 - j0))
        w = np.empty(j1 - j0)
        for t in range(t_start + 1, t_stop + 1):
            r = t - 1
            for j in range(j0, j1):
                h = signal[r] * xi0[j] + eta[j, r]
                for tp in range(r + 1):
                    h += f_mat[r, tp] * phi[j, tp]
                xv = (1.0 - dt) * x[j, r] + dt * h
                x[j, t] = xv
                p = math.tanh(xv)
                phi[j, t] = p
                dphi[j, t] = 1.0 - p * p
            if not with_response:
                continue
            acc[: r + 1] = 0.0
            for tp in range(1, r + 1):
                for k in range(j1 - j0):
                    w[k] = f_mat[r, tp] * dphi[j0 + k, tp]
                for s in range(tp):
                    row, a = s_x[tp, s, j0:j1], acc[s]
                    for k in range(j1 - j0):
                        a[k] += w[k] * row[k]
            for s in range(r + 1):
                new, old, a = s_x[t, s, j0:j1], s_x[r, s, j0:j1], acc[s]
                for k in range(j1 - j0):
                    new[k] = (1.0 - dt) * old[k] + dt * a[k]
            new = s_x[t, r, j0:j1]
            for k in range(j1 - j0):
                new[k] += dt


@njit(cache=True, nogil=True)
def _response_rows(dphi, s_x, t_start, t_stop, out):  # pragma: no cover - numba
    r"""``out[t, s] = mean_j dphi[j, t] s_x[t, s, j]`` for ``t_start <= t < t_stop``, ``s < t``.

    :math:`S_\phi(t,s) = \langle \phi'(x_0(t)) S_x(t,s) \rangle`, summed over the samples in
    their order.  Cost ``O(M t)`` per row.
    """
    n_samples = dphi.shape[0]
    for t in range(t_start, t_stop):
        w = np.ascontiguousarray(dphi[:, t])
        for s in range(t):
            row = s_x[t, s]
            total = 0.0
            for j in range(n_samples):
                total += w[j] * row[j]
            out[t, s] = total / n_samples


def _advance_numpy(t_start, t_stop, x, phi, dphi, xi0, eta, f_mat, signal, dt, s_x, with_response):
    """Plain NumPy version of :func:`_advance` (vectorised over samples; for benchmarks)."""
    for t in range(t_start + 1, t_stop + 1):
        r = t - 1
        h = signal[r] * xi0 + eta[:, r] + phi[:, : r + 1] @ f_mat[r, : r + 1]
        x[:, t] = (1.0 - dt) * x[:, r] + dt * h
        phi[:, t] = np.tanh(x[:, t])
        dphi[:, t] = 1.0 - phi[:, t] ** 2
        if with_response:
            w = f_mat[r, : r + 1, None] * dphi[:, : r + 1].T
            acc = np.einsum("tj,tsj->sj", w, s_x[: r + 1, : r + 1])
            s_x[t, : r + 1] = (1.0 - dt) * s_x[r, : r + 1] + dt * acc
            s_x[t, r] += dt


class _Samples:
    """Fixed random numbers and trajectories of the ``M`` single-site samples."""

    def __init__(self, n_samples, n_steps, g, init_overlap, rng, with_recursion):
        m_, t1 = n_samples, n_steps + 1
        # stratified sampling: xi0 = +1 for the first ceil(M/2) samples and -1 for the rest;
        # the standard normal behind z0 is drawn from equal-probability strata,
        # u_k = Phi^-1((k + U_k)/K) (removes most sampling noise of m at early times).
        # Antithetic pairs: sample half + j has -xi0, -u and the SAME white noise as sample j.
        # The process is odd under (xi0, z0, eta) -> -(xi0, z0, eta), so that sample is the
        # mirror image of (xi0, u, -zeta): the pair cancels the part of the estimates that is
        # odd in the field noise.
        half = (m_ + 1) // 2
        rest = m_ - half
        self.xi0 = np.where(np.arange(m_) < half, 1.0, -1.0)
        u = np.empty(m_)
        u[:half] = ndtri((rng.permutation(half) + rng.random(half)) / half)
        u[half:] = -u[:rest]
        a = init_overlap * g
        z0 = u * math.sqrt(max(g * g - a * a, 0.0))
        self.zeta = np.empty((m_, t1))
        self.zeta[:half] = rng.standard_normal((half, t1))
        self.zeta[half:] = self.zeta[:rest]
        self.x = np.zeros((m_, t1))
        self.x[:, 0] = a * self.xi0 + z0
        self.phi = np.zeros((m_, t1))
        self.phi[:, 0] = np.tanh(self.x[:, 0])
        self.dphi = np.zeros((m_, t1))
        self.dphi[:, 0] = 1.0 - self.phi[:, 0] ** 2
        self.eta = np.zeros((m_, t1))
        # the response S_x(t, s) of every sample is stored in single precision (its increments
        # are summed in double): each step of the recursion reads all of it, M T^2 / 2 values,
        # so it is memory-bound; float32 halves the traffic at a relative error of ~1e-7, far
        # below the Monte-Carlo error of the order parameters (~M^-1/2).  Layout (t, s, sample):
        # the samples are the contiguous axis, over which _advance vectorises
        shape = (t1, t1, m_) if with_recursion else (1, 1, 1)
        self.s_x = np.zeros(shape, dtype=np.float32)
        # functions of (xi0, z0) only: independent of zeta, used as control variates
        x0, p0 = self.x[:, 0], self.phi[:, 0]
        basis = np.column_stack(
            [np.ones(m_), self.xi0, x0, p0, self.xi0 * x0, self.xi0 * p0, x0 * p0]
        )
        self.control_q = np.linalg.qr(basis)[0]  # orthonormal basis of the control variates


def _novikov_row(smp, chol, t):
    r"""``S_phi(t, :t)`` from Gaussian integration by parts (Novikov / Stein).

    With :math:`\eta = L\zeta` (Cholesky), :math:`\langle \phi_0(t)\zeta(k) \rangle =
    \sum_{s} L(s,k) S_\phi(t,s)`, i.e. :math:`G = L^T S_\phi(t,:)`, equivalently
    :math:`C_\eta S_\phi(t,:)^T = L G` on times ``< t``.  Solved as the ridge system
    :math:`(C_\eta + \lambda I) S^T = L G` with :math:`\lambda = ` ``_NOVIKOV_RIDGE`` times the
    mean of :math:`\mathrm{diag}\, C_\eta` (near-singular :math:`C_\eta` would otherwise amplify
    the sampling noise; the ridge biases entries towards 0 by up to ~10-20 %).  Before
    correlating, :math:`\phi_0(t)` is regressed on functions of :math:`(\xi_0, z_0)`, which are
    independent of :math:`\zeta` (control variates).  Cost ``O(M t + t^3)``.
    """
    q = smp.control_q
    resid = smp.phi[:, t] - q @ (q.T @ smp.phi[:, t])  # least-squares residual
    grad = resid @ smp.zeta[:, :t] / resid.shape[0]
    low = chol[:t, :t]
    c_eta = low @ low.T
    ridge = _NOVIKOV_RIDGE * np.mean(np.diagonal(c_eta))
    c_eta[np.diag_indices(t)] += ridge
    return np.linalg.solve(c_eta, low @ grad)


# Largest work of one solve (about a minute on one core; the chapter's solves need < 1e10).
_MAX_WORK = 1e12


def solve(
    n,
    g,
    alpha,
    dt,
    n_steps,
    init_overlap,
    n_samples,
    *,
    method="forward",
    rng,
    damping=0.0,
    tol=1e-9,
    max_iter=200,
    response="recursion",
) -> DMFTSolution:
    r"""Solve the DMFT of the graded dense associative memory by Monte Carlo over sites.

    ``M = n_samples`` single-site trajectories (see the module docstring for the equations)
    are driven by fixed random numbers: :math:`\xi_0 = \pm 1` (half each),
    :math:`z_0 \sim \mathcal N(0, g^2 - a^2)` (stratified: one draw per equal-probability
    stratum) and standard normals :math:`\zeta` with :math:`\eta_0 = L\zeta`; the
    :math:`\xi_0 = -1` half repeats the first half's :math:`-z_0` and :math:`\zeta`
    (antithetic pairs: the mirror image of :math:`(\xi_0, z_0, -\zeta)`), and
    :math:`L L^T = C_\eta` (Cholesky with a relative jitter of
    1e-12; a pivot below -1e-8 times the diagonal raises ValueError).  Averages over the
    samples give :math:`m`, :math:`C_\phi` and :math:`S_\phi`.

    ``method="forward"`` (default): one pass in time; at step ``t`` the closure is evaluated on
    the ``t x t`` block of past order parameters, one Cholesky row is added, the samples are
    advanced by one step and row ``t`` of :math:`m, C_\phi, S_\phi` is estimated.  Exact
    (no outer iteration).  Cost ``O(M T^3)`` with the recursion, ``O(M T^2 + T^4)`` with
    Novikov, plus ``O(T^4)`` for the closure (``n = 1``: a triangular inverse per step).  The
    recursion pass streams the ``8 M (T+1)^2``-byte response array once per step, so it is
    memory-bound: ~1 s for ``n = 1``, ``T = 50``, ``M = 10^4`` on 2 cores, ~5 s for ``T = 100``.

    ``method="iterate"`` (Clark 2026, Sec. III E): start from :math:`C_\phi(t,t') =
    C_\phi(0,0)(1+\delta_{tt'})/2`, :math:`m(t) = m(0)`, :math:`S_\phi = 0`; each iteration
    evaluates the closure on all times, integrates all ``M`` trajectories, re-estimates the
    order parameters and mixes, :math:`X \leftarrow \gamma X_{\rm old} + (1-\gamma) X_{\rm new}`
    (``gamma = damping``), until the largest change is below ``tol``.  Cost per iteration
    ``O(M T^3)`` (recursion) or ``O(M T^2 + T^4)`` (Novikov), plus ``O(T^3)``.  With fixed
    random numbers and ``damping = 0`` causality makes it exact after at most ``T + 1``
    iterations (one more time step becomes final per iteration), at the same fixed point as the
    forward pass; it is therefore ~5x slower than ``"forward"`` for ``T = 50`` and never
    faster.  If it has not converged after ``max_iter``
    iterations a ``RuntimeWarning`` is issued and ``converged=False`` is returned.

    Response estimators:

    * ``"recursion"``: the forward recursion for :math:`S_x(t,s)` of :func:`_advance`,
      :math:`S_\phi(t,s) = \langle \phi'(x_0(t)) S_x(t,s) \rangle`; exact per sample, memory
      ``8 M (T+1)^2`` bytes.
    * ``"novikov"``: Gaussian integration by parts,
      :math:`\langle \phi_0(t)\eta_0(s) \rangle = \sum_{s'} C_\eta(s,s') S_\phi(t,s')`, solved
      with the Cholesky factor (:func:`_novikov_row`); cheaper but noisier, especially where
      :math:`C_\eta` is nearly singular.

    Energy (the paper's DMFT form; :math:`\langle\eta_0(t)^2\rangle = C_\eta(t,t)` is used for
    ``n = 1`` and the sample mean of :math:`\eta_0(t)\phi_0(t)` for even ``n``):

    .. math::
        \varepsilon(t) = -\begin{cases} \frac{\sqrt\alpha}{2g} \langle\eta_0(t)^2\rangle & n=1\\
        \langle\eta_0(t)\phi_0(t)\rangle & n \text{ even} \end{cases}
        - \frac{g}{(n+1)\sqrt\alpha} m(t)^{n+1} + \langle F(\phi_0(t)) \rangle,
        \quad F(\phi) = x\phi - \log\cosh x.

    Parameters
    ----------
    n : int
        Interaction order: 1, or even (odd ``n > 1`` has no ``N``-independent DMFT).
    g : float
        Gain ``g`` in ``[0.001, 1000]`` of the couplings :math:`g/\sqrt\alpha`.
    alpha : float
        Load :math:`\alpha = P / N^n > 0`.
    dt : float
        Time step :math:`\Delta t \in (0, 1]` of the discrete dynamics.
    n_steps : int
        Number of time steps ``T >= 1``.
    init_overlap : float
        Initial alignment :math:`\bar a \in [0, 1]` (:math:`a = \bar a g`).
    n_samples : int
        Number of single-site samples ``M >= 100``.
    method : {"forward", "iterate"}
        Single forward pass in time, or the paper's damped fixed-point iteration.
    rng : numpy.random.Generator
        Source of the fixed random numbers (keyword-only).
    damping : float in [0, 1)
        Memory factor :math:`\gamma` of ``"iterate"``.
    tol : float > 0
        Convergence threshold of ``"iterate"`` (max abs change of ``m, C_phi, S_phi``).
    max_iter : int >= 1
        Largest number of outer iterations of ``"iterate"``.
    response : {"recursion", "novikov"}
        Estimator of the response :math:`S_\phi` (see above).

    Returns
    -------
    DMFTSolution
        ``overlaps`` :math:`m(t)`, ``c_phi``, ``s_phi``, ``m_bar``, ``energy``, ``c_eta`` and
        ``f_mat`` on ``t = 0..T``, and the iteration diagnostics.
    """
    t_wall = time.perf_counter()
    n = check_theory_order(n, "the DMFT")
    g = check_positive_float(g, "g (gain)")
    alpha = check_positive_float(alpha, "alpha (load)")
    dt = check_fraction(dt, "dt", 0.0, 1.0, closed_low=False)
    n_steps = check_positive_int(n_steps, "n_steps", minimum=1)
    init_overlap = check_fraction(init_overlap, "init_overlap", 0.0, 1.0)
    n_samples = check_positive_int(n_samples, "n_samples", minimum=_MIN_SAMPLES)
    method = check_option(method, "method", ("forward", "iterate"))
    response = check_option(response, "response", ("recursion", "novikov"))
    check_generator(rng)
    damping = check_fraction(damping, "damping", 0.0, 1.0, closed_high=False)
    tol = check_positive_float(tol, "tol")
    max_iter = check_positive_int(max_iter, "max_iter", minimum=1)
    if not 1e-3 <= g <= 1e3:
        raise ValueError(f"g (gain) must lie in [0.001, 1000] for the DMFT solver; got {g}")
    t1 = n_steps + 1
    recursion = response == "recursion"
    check_size((n_samples, t1, t1 if recursion else 8), "the DMFT samples (M, T+1, T+1)")
    # bounded cost: O(M T^3) with the recursion (O(M T^2 + T^4) with Novikov), per iteration
    work = float(n_samples) * t1**3 if recursion else float(n_samples) * t1**2 + float(t1) ** 4
    if method == "iterate":
        work *= max_iter
    if work > _MAX_WORK:
        raise ValueError(
            f"this DMFT solve would take about {work:.2g} operations (M={n_samples} samples, "
            f"T={n_steps} steps, method={method!r}), more than the limit of {_MAX_WORK:.0e}: "
            f"use fewer samples or steps"
        )

    # one numba thread for small solves (memlab._common): the largest _advance call does about
    # M T^2 / 2 operations; on the loaded 2-core machine a T = 40, M = 4000 solve took 1.4 s
    # of wall time with two threads (waiting at every step) and 0.35 s with one
    with single_threaded_blas(), numba_threads_for(n_samples * (n_steps + 1) ** 2 // 2):
        smp = _Samples(n_samples, n_steps, g, init_overlap, rng, response == "recursion")
        if method == "forward":
            out = _forward(smp, n, g, alpha, dt, n_steps, response)
        else:
            out = _iterate(smp, n, g, alpha, dt, n_steps, response, damping, tol, max_iter)
        m, c_phi, s_phi, chol, iterations, residual, converged = out

        c_eta, f_mat = _closure(n, g, alpha, c_phi, s_phi)
        if n == 1:
            field_term = (math.sqrt(alpha) / (2.0 * g)) * np.diag(c_eta)
        else:
            _cholesky_rows(c_eta, chol, n_steps, n_steps + 1)  # row T (not needed before)
            eta = smp.zeta @ chol.T
            field_term = np.mean(eta * smp.phi, axis=0)
        energy = (
            -field_term
            - (g / ((n + 1) * math.sqrt(alpha))) * m ** (n + 1)
            + np.mean(single_site_energy(smp.x, smp.phi), axis=0)
        )
    m_bar = m / np.sqrt(np.diag(c_phi))
    for name, value in (("m", m), ("m_bar", m_bar), ("energy", energy), ("c_phi", c_phi)):
        check_finite_result(value, f"the DMFT's {name}", "g/sqrt(alpha) or 1/g is too large")
    return DMFTSolution(
        m,
        c_phi,
        s_phi,
        m_bar,
        energy,
        c_eta,
        f_mat,
        iterations,
        residual,
        converged,
        time.perf_counter() - t_wall,
    )


@njit(cache=True, nogil=True)
def _forward_step(
    t,
    n,
    g,
    alpha,
    dt,
    xi0,
    zeta,
    x,
    phi,
    dphi,
    eta,
    s_x,
    with_response,
    orders,
    coef,
    a_inv,
    m,
    c_phi,
    s_phi,
    c_eta,
    f_mat,
    chol,
    signal,
):  # pragma: no cover - numba
    r"""Step ``t`` of the forward pass: from the order parameters on times ``< t`` to ``x(t)``.

    Rows ``r = t - 1`` of :math:`C_\eta`, :math:`F` (:func:`_closure_rows`) and of the Cholesky
    factor :math:`L`, the field noise :math:`\eta_0(r) = \sum_{s \le r} L(r,s) \zeta(s)`, one
    step of every sample (:func:`_advance`), then :math:`m(t)` and row ``t`` of
    :math:`C_\phi`, averaged over the samples.  Returns :func:`_cholesky_row`'s ``(ok, pivot)``.
    """
    n_samples = x.shape[0]
    r = t - 1
    _closure_rows(n, g, alpha, c_phi, s_phi, orders, coef, a_inv, r, t, c_eta, f_mat)
    ok, pivot = _cholesky_row(c_eta, chol, r, _JITTER, _PSD_TOL)
    if not ok:
        return ok, pivot
    for j in range(n_samples):
        total = 0.0
        for s in range(t):
            total += zeta[j, s] * chol[r, s]
        eta[j, r] = total
    signal[r] = g / math.sqrt(alpha) * m[r] ** n
    _advance(r, t, x, phi, dphi, xi0, eta, f_mat, signal, dt, s_x, with_response)
    acc = np.zeros(t + 1)
    overlap = 0.0
    for j in range(n_samples):
        p = phi[j, t]
        overlap += xi0[j] * p
        for s in range(t + 1):
            acc[s] += phi[j, s] * p
    m[t] = overlap / n_samples
    for s in range(t + 1):
        c_phi[t, s] = acc[s] / n_samples
        c_phi[s, t] = c_phi[t, s]
    return ok, pivot


def _forward(smp, n, g, alpha, dt, n_steps, response):
    t1 = n_steps + 1
    m_samples = smp.x.shape[0]
    recursion = response == "recursion"
    m = np.zeros(t1)
    c_phi, s_phi, chol = np.zeros((t1, t1)), np.zeros((t1, t1)), np.zeros((t1, t1))
    c_eta, f_mat, a_inv = np.zeros((t1, t1)), np.zeros((t1, t1)), np.zeros((t1, t1))
    signal = np.zeros(t1)
    orders = _moment_orders(n)
    coef = _moment_coefficients(orders)
    m[0] = smp.xi0 @ smp.phi[:, 0] / m_samples
    c_phi[0, 0] = smp.phi[:, 0] @ smp.phi[:, 0] / m_samples
    for t in range(1, t1):
        ok, pivot = _forward_step(
            t, n, g, alpha, dt, smp.xi0, smp.zeta, smp.x, smp.phi, smp.dphi, smp.eta,
            smp.s_x, recursion, orders, coef, a_inv, m, c_phi, s_phi, c_eta, f_mat, chol,
            signal,
        )  # fmt: skip
        if not ok:
            raise _not_psd(pivot, t - 1, c_eta[t - 1, t - 1])
        if recursion:
            _response_rows(smp.dphi, smp.s_x, t, t + 1, s_phi)
        else:
            s_phi[t, :t] = _novikov_row(smp, chol, t)
    return m, c_phi, s_phi, chol, 1, 0.0, True


def _iterate(smp, n, g, alpha, dt, n_steps, response, damping, tol, max_iter):
    t1 = n_steps + 1
    m_samples = smp.x.shape[0]
    scale = g / math.sqrt(alpha)
    recursion = response == "recursion"
    m = np.full(t1, smp.xi0 @ smp.phi[:, 0] / m_samples)
    # initial guess: C_phi(t,t') = C_phi(0,0) (1 + delta_tt') / 2 keeps C_eta well conditioned
    c_phi = (0.5 * smp.phi[:, 0] @ smp.phi[:, 0] / m_samples) * (1.0 + np.eye(t1))
    s_phi = np.zeros((t1, t1))
    residual = math.inf
    converged = False
    iterations = 0
    chol = np.zeros((t1, t1))
    while iterations < max_iter:
        iterations += 1
        c_eta, f_mat = _closure(n, g, alpha, c_phi, s_phi)
        chol = np.zeros((t1, t1))
        _cholesky_rows(c_eta, chol, 0, t1)
        smp.eta[:] = smp.zeta @ chol.T
        signal = scale * m**n
        _advance(
            0,
            n_steps,
            smp.x,
            smp.phi,
            smp.dphi,
            smp.xi0,
            smp.eta,
            f_mat,
            signal,
            dt,
            smp.s_x,
            recursion,
        )
        m_new = smp.xi0 @ smp.phi / m_samples
        c_new = smp.phi.T @ smp.phi / m_samples
        s_new = np.zeros((t1, t1))
        if recursion:
            _response_rows(smp.dphi, smp.s_x, 1, t1, s_new)
        else:
            for t in range(1, t1):
                s_new[t, :t] = _novikov_row(smp, chol, t)
        residual = max(
            np.max(np.abs(m_new - m)), np.max(np.abs(c_new - c_phi)), np.max(np.abs(s_new - s_phi))
        )
        m = damping * m + (1.0 - damping) * m_new
        c_phi = damping * c_phi + (1.0 - damping) * c_new
        s_phi = damping * s_phi + (1.0 - damping) * s_new
        if residual < tol:
            converged = True
            break
    if not converged:
        warnings.warn(
            f"DMFT iteration did not converge: largest change {residual:.3e} > tol={tol:g} "
            f"after max_iter={max_iter} iterations; returning converged=False (increase "
            f"max_iter, or lower damping)",
            RuntimeWarning,
            stacklevel=3,
        )
    return m, c_phi, s_phi, chol, iterations, float(residual), converged


def solve_many(
    n, g, alpha, dt, n_steps, init_overlaps, n_samples, *, rng, n_repeats=1
) -> list[list[DMFTSolution]]:
    r"""Independent :func:`solve` calls for several initial alignments, in parallel.

    Solve ``k`` of repeat ``r`` is ``solve(n, g, alpha, dt, n_steps, init_overlaps[k],
    n_samples, rng=child)`` (forward pass, recursion response) with its own child generator
    ``child`` of ``rng`` (``rng.spawn``), so the result does not depend on the number of cores.
    The solves run in a thread pool with one worker per numba thread
    (``numba.get_num_threads()``: the cores, unless ``NUMBA_NUM_THREADS`` or
    ``numba.set_num_threads`` say fewer); small solves use one numba and one BLAS thread each
    and the kernels release the GIL.  Averaging repeats with ``M``
    samples each gives about the sampling error of one solve with ``n_repeats * M`` samples at
    the same cost, and the spread of the repeats measures that error.

    Parameters
    ----------
    n, g, alpha, dt, n_steps, n_samples, rng
        As in :func:`solve`.
    init_overlaps : float or array_like
        Initial alignments :math:`\bar a \in [0, 1]`.
    n_repeats : int >= 1
        Independent solves per initial alignment (keyword-only).

    Returns
    -------
    list of list of DMFTSolution
        ``result[r][k]``: repeat ``r`` at ``init_overlaps[k]``.
    """
    arr = np.atleast_1d(check_real_array(init_overlaps, "init_overlaps", allow_empty=True))
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(
            f"init_overlaps must be a number or a non-empty 1-d array; got shape {arr.shape}"
        )
    check_generator(rng)
    overlaps = [check_fraction(v, "init_overlaps entry", 0.0, 1.0) for v in arr]
    n_repeats = check_positive_int(n_repeats, "n_repeats", minimum=1)
    t1 = check_positive_int(n_steps, "n_steps", minimum=1) + 1
    check_size((n_repeats, len(overlaps), 4 * t1 * t1), "the solutions (n_repeats, K, ...)")
    jobs = list(zip(overlaps * n_repeats, rng.spawn(n_repeats * len(overlaps))))

    def one(job):
        return solve(n, g, alpha, dt, n_steps, job[0], n_samples, rng=job[1])

    workers = max(1, min(get_num_threads(), len(jobs)))
    # the BLAS limit is process-wide: set once here (solve's own limit then changes nothing)
    with single_threaded_blas(), ThreadPoolExecutor(workers) as pool:
        flat = list(pool.map(one, jobs))
    k_all = len(overlaps)
    return [flat[r * k_all : (r + 1) * k_all] for r in range(n_repeats)]


def _readout(m_bar, tolerance):
    """``(max, first step within tolerance of it, last such step)`` of one trajectory."""
    best = float(np.max(m_bar))
    near = np.flatnonzero(m_bar >= best - tolerance)
    return best, int(near[0]), int(near[-1])


def transient_recovery_curve(
    n, g, alpha, init_overlaps, dt, n_steps, n_samples, *, rng, tolerance=0.0, n_repeats=1
) -> RecoveryCurve:
    r"""Transient-recovery curve :math:`\bar m_{\max}(\bar m_{\rm init})` (Clark 2026, Fig. 3).

    For each initial alignment :math:`\bar a` the DMFT is solved ``n_repeats`` times by
    :func:`solve` (forward pass, recursion response, independent random numbers from ``rng``)
    and the mean trajectory :math:`\bar m(t)` over the repeats gives

    .. math::
        \bar m_{\max} = \max_t \bar m(t), \qquad
        t_{\rm opt} = \min\{t : \bar m(t) \ge \bar m_{\max} - \epsilon\},

    with :math:`\epsilon` = ``tolerance``.  After its peak :math:`\bar m(t)` is often nearly
    flat, and the argmax (:math:`\epsilon = 0`) of a flat, noisy curve is ill-conditioned;
    a tolerance of a few times the sampling error makes :math:`t_{\rm opt}` robust, and
    ``t_opt_last`` marks the end of the plateau.  Standard errors come from the same
    quantities computed on each repeat.  Cost: ``n_repeats * len(init_overlaps)`` solves, each
    ``O(M T^3)``.

    Parameters
    ----------
    n, g, alpha, dt, n_steps, n_samples, rng
        As in :func:`solve`.
    init_overlaps : float or array_like
        Initial alignments in ``[0, 1]``.
    tolerance : float >= 0
        :math:`\epsilon` in the definition of :math:`t_{\rm opt}` (keyword-only).
    n_repeats : int >= 1
        Independent solves per initial alignment (keyword-only).

    Returns
    -------
    RecoveryCurve
        ``(init_overlaps, m_bar_init, m_bar_max, t_opt, t_opt_last, m_bar_max_se, t_opt_se,
        m_bar, t_opt_last_se)``.
    """
    arr = np.atleast_1d(check_real_array(init_overlaps, "init_overlaps", allow_empty=True))
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(
            f"init_overlaps must be a number or a non-empty 1-d array; got shape {arr.shape}"
        )
    check_generator(rng)
    overlaps = np.array([check_fraction(v, "init_overlaps entry", 0.0, 1.0) for v in arr])
    tolerance = check_fraction(tolerance, "tolerance", 0.0, 2.0)
    n_repeats = check_positive_int(n_repeats, "n_repeats", minimum=1)
    k_all = overlaps.size
    solves = solve_many(n, g, alpha, dt, n_steps, overlaps, n_samples, rng=rng, n_repeats=n_repeats)
    traj = np.array([[sol.m_bar for sol in row] for row in solves])
    mean = traj.mean(axis=0)
    summary = np.array([_readout(mean[k], tolerance) for k in range(k_all)])
    per_repeat = np.array(
        [[_readout(traj[r, k], tolerance) for k in range(k_all)] for r in range(n_repeats)]
    )
    if n_repeats > 1:
        se = per_repeat.std(axis=0, ddof=1) / math.sqrt(n_repeats)
    else:
        se = np.full((k_all, 3), np.nan)
    return RecoveryCurve(
        overlaps,
        mean[:, 0].copy(),
        summary[:, 0],
        summary[:, 1].astype(np.int64),
        summary[:, 2].astype(np.int64),
        se[:, 0],
        se[:, 1],
        mean,
        se[:, 2],
    )
