r"""Hopfield networks with Hebbian couplings: simulation and mean-field theory.

Conventions
-----------
* ``patterns`` is an array :math:`\xi` of shape ``(P, N)`` with entries
  :math:`\pm 1` (``P`` stored patterns, ``N`` neurons).  Row ``mu`` is pattern
  :math:`\xi^\mu`.
* A network state is a :math:`\pm 1` vector ``s`` of shape ``(N,)``; a batch of
  ``B`` states has shape ``(B, N)``.  States are returned as ``int8``.
* Couplings are Hebbian with zero self-coupling,
  ``W_ij = (1/N) sum_mu xi_i^mu xi_j^mu`` for ``i != j`` and ``W_ii = 0``.
* Overlaps are ``m_mu = (1/N) sum_i xi_i^mu s_i``.  The *unnormalised* overlaps
  ``M_mu = N m_mu`` are integers, and all dynamics below is computed from them
  in exact arithmetic, so results never depend on BLAS rounding.
* The local field is computed matrix-free (``W`` is never built):
  ``h = W s = (1/N) xi^T (xi s) - (P/N) s``, i.e.
  ``N h_i = sum_mu xi_i^mu M_mu - P s_i``.
* Zero-temperature rule: ``s_i <- sgn(h_i)``, and a neuron whose field is
  exactly zero keeps its state.

Public functions are pure: they never modify their inputs.  All randomness
comes from an explicit :class:`numpy.random.Generator`.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import numpy as np
from numba import njit, prange
from scipy.optimize import brentq
from scipy.special import erf, erfc

from memlab._common import (
    blas_threads_for,
    flip_k_bits,
    init_overlaps,
    numba_threads_for,
    random_pm1,
)
from memlab._validation import (
    check_bool,
    check_finite_float,
    check_fraction,
    check_generator,
    check_nonneg_float_array,
    check_nonneg_int,
    check_option,
    check_pm1_array,
    check_positive_int,
    check_real_array,
    check_size,
)
from memlab._validation import check_cue_index as _check_cue_index
from memlab._validation import check_patterns as _check_patterns
from memlab._validation import check_states as _check_states

__all__ = [
    "CriticalCapacity",
    "Trajectory",
    "random_patterns",
    "flip_bits",
    "hebbian_weights",
    "overlaps",
    "energy",
    "simulate",
    "retrieval_overlap",
    "critical_capacity",
    "one_step_error_probability",
    "final_overlap_sweep",
    "EnergyTrace",
    "async_energy_trace",
    "final_period",
    "crossing_load",
]

# Integers of magnitude below 2**24 are exactly representable in float32, and
# any sum of such integers whose partial sums stay below 2**24 is computed
# exactly (every intermediate result is representable, FMA included).
_F32_EXACT = 2**24
_UPDATE_RULES = ("sync", "async")
# Sync steps flipping fewer than 1/_SPARSE_FLIP_RATIO of all neurons update
# the overlaps incrementally (numba) instead of with a BLAS product; the BLAS
# product is ~10x faster per multiply-add, so the break-even is near 1/10.
_SPARSE_FLIP_RATIO = 16
# Sync batches of at most _INT_MAX_BATCH states whose patterns have at least _INT_MIN_ENTRIES
# entries compute both products with the numba int8 kernels (_int_overlaps, _int_fields): they
# read the int8 patterns, a quarter of the float32 copy that BLAS streams from memory, and
# measured 2-4x faster for B <= 8 and N >= 2000 (one thread); larger batches reuse each pattern
# entry often enough for float32 BLAS to win.  int32 sums are exact while P N < 2**31.
_INT_MAX_BATCH = 8
_INT_MIN_ENTRIES = 2**19


class Trajectory(NamedTuple):
    """Result of :func:`simulate`.

    Attributes
    ----------
    overlaps : numpy.ndarray of float64
        Overlaps ``m_mu(t)`` at steps ``t = 0 .. n_steps``.  Shape
        ``(n_steps+1, P)`` for a single initial state, ``(n_steps+1, B, P)``
        for a batch; with ``cue_index`` only the cued overlap is kept, giving
        ``(n_steps+1,)`` or ``(n_steps+1, B)``.
    states : numpy.ndarray of int8
        Final states after ``n_steps`` steps, same shape as the initial states.
    """

    overlaps: np.ndarray
    states: np.ndarray


class CriticalCapacity(NamedTuple):
    """Result of :func:`critical_capacity` (AGS theory, T = 0, replica symmetric).

    Attributes
    ----------
    alpha_c : float
        Storage capacity :math:`\\alpha_c \\approx 0.138`, the largest load with a retrieval
        solution.
    m_c : float
        Retrieval overlap at the capacity, :math:`m(\\alpha_c) \\approx 0.967`.
    """

    alpha_c: float
    m_c: float


def _patterns_and_states(patterns, states, name="states"):
    """Validated ``(patterns, states)`` as int8; the states' last axis must equal ``N``."""
    xi = _check_patterns(patterns)
    return xi, _check_states(states, xi.shape[1], name)


# --------------------------------------------------------------------------
# patterns, couplings, overlaps, energy
# --------------------------------------------------------------------------


def random_patterns(n_patterns, n_neurons, *, rng, bias=0.0) -> np.ndarray:
    r"""Draw independent random :math:`\pm 1` patterns.

    Each entry is independent with
    :math:`P(\xi_i^\mu = +1) = (1 + b)/2`, :math:`P(\xi_i^\mu = -1) = (1 - b)/2`,
    so that :math:`E[\xi_i^\mu] = b` (the ``bias``).

    Parameters
    ----------
    n_patterns : int
        Number of patterns ``P >= 1``.
    n_neurons : int
        Number of neurons ``N >= 2``.
    rng : numpy.random.Generator
        Source of randomness (keyword-only).
    bias : float, optional
        Mean activity ``b`` in the open interval ``(-1, 1)``; default 0.

    Returns
    -------
    numpy.ndarray of int8, shape (P, N)
        Row ``mu`` is pattern :math:`\xi^\mu`.
    """
    check_generator(rng)
    n_patterns = check_positive_int(n_patterns, "n_patterns", minimum=1)
    n_neurons = check_positive_int(n_neurons, "n_neurons", minimum=2)
    bias = check_fraction(bias, "bias", -1.0, 1.0, closed_low=False, closed_high=False)
    check_size((n_patterns, n_neurons), "the patterns (n_patterns, n_neurons)", 1, copies=8)
    return random_pm1((n_patterns, n_neurons), rng, bias)


def flip_bits(states, fraction, *, rng) -> np.ndarray:
    r"""Corrupt states by flipping a fixed number of randomly chosen bits.

    For each state, exactly :math:`k = \mathrm{round}(f N)` distinct neurons,
    chosen uniformly at random, are flipped (:math:`s_i \to -s_i`), so a cue
    made from a stored pattern has overlap exactly :math:`1 - 2k/N` with it.

    Parameters
    ----------
    states : array_like of +-1, shape (N,) or (B, N)
        One state or a batch of ``B`` states.
    fraction : float
        Fraction ``f`` in ``[0, 1]`` of bits to flip in each state.
    rng : numpy.random.Generator
        Source of randomness (keyword-only).

    Returns
    -------
    numpy.ndarray of int8
        New array, same shape as ``states`` (the input is not modified).
    """
    check_generator(rng)
    s = check_pm1_array(states, "states", ndims=(1, 2))
    fraction = check_fraction(fraction, "fraction", 0.0, 1.0)
    return _flip_bits(s, fraction, rng)


def _flip_bits(s, fraction, rng):
    """``s`` with ``round(fraction * N)`` distinct random bits flipped per state."""
    return flip_k_bits(s, int(round(fraction * s.shape[-1])), rng)


def hebbian_weights(patterns) -> np.ndarray:
    r"""Dense Hebbian coupling matrix.

    .. math:: W = \frac{1}{N} \xi^T \xi, \qquad W_{ii} = 0,

    i.e. :math:`W_{ij} = \frac1N \sum_\mu \xi_i^\mu \xi_j^\mu` for
    :math:`i \ne j`.  Provided for teaching and testing; the simulation never
    builds it (it costs :math:`8N^2` bytes).

    Parameters
    ----------
    patterns : array_like of +-1, shape (P, N)
        Stored patterns :math:`\xi`.

    Returns
    -------
    numpy.ndarray of float64, shape (N, N)
        Symmetric, zero diagonal.
    """
    xi = _check_patterns(patterns).astype(np.float64)
    w = _exact_matmul(xi.T, xi)
    w /= xi.shape[1]
    np.fill_diagonal(w, 0.0)
    return w


def _exact_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` for integer-valued float arrays (validated ±1 data and their overlaps).

    The result is a sum of small integers and exact. Multithreaded OpenBLAS kernels can
    nevertheless leave a spurious floating-point "invalid" flag behind, which numpy reports as
    ``RuntimeWarning: invalid value encountered in matmul`` (seen intermittently on 2-core
    machines); no NaN can arise from these inputs, so the flag is ignored here.
    """
    with np.errstate(invalid="ignore", over="ignore"):
        return a @ b


def _unnormalised_overlaps(xi: np.ndarray, s: np.ndarray) -> np.ndarray:
    """``M = s xi^T`` as exact integers stored in float64 (s is 1-D or 2-D)."""
    dt = np.float32 if xi.shape[1] < _F32_EXACT else np.float64
    m = _exact_matmul(s.astype(dt), xi.astype(dt).T)  # |partial sums| <= N: exact
    return m.astype(np.float64)


def overlaps(patterns, states) -> np.ndarray:
    r"""Overlaps of states with the stored patterns.

    .. math:: m_\mu = \frac{1}{N} \sum_i \xi_i^\mu s_i

    Parameters
    ----------
    patterns : array_like of +-1, shape (P, N)
        Stored patterns :math:`\xi`.
    states : array_like of +-1, shape (N,) or (B, N)
        One state or a batch of ``B`` states.

    Returns
    -------
    numpy.ndarray of float64
        Shape ``(P,)`` for a single state, ``(B, P)`` for a batch.
    """
    xi, s = _patterns_and_states(patterns, states)
    return _unnormalised_overlaps(xi, s) / xi.shape[1]


def energy(patterns, states):
    r"""Hopfield energy with Hebbian couplings and zero diagonal.

    .. math::
        E = -\frac12 \sum_{i \ne j} W_{ij} s_i s_j
          = -\frac{N}{2} \sum_\mu m_\mu^2 + \frac{P}{2},

    computed matrix-free from the overlaps (exact: ``N m_mu`` are integers).

    Parameters
    ----------
    patterns : array_like of +-1, shape (P, N)
        Stored patterns :math:`\xi`, which define the couplings.
    states : array_like of +-1, shape (N,) or (B, N)
        One state or a batch of ``B`` states.

    Returns
    -------
    float or numpy.ndarray of float64
        A float for a single state, shape ``(B,)`` for a batch.
    """
    xi, s = _patterns_and_states(patterns, states)
    n_patterns, n_neurons = xi.shape
    m = _unnormalised_overlaps(xi, s)
    e = -np.sum(m * m, axis=-1) / (2.0 * n_neurons) + n_patterns / 2.0
    return float(e) if s.ndim == 1 else e


# --------------------------------------------------------------------------
# dynamics
# --------------------------------------------------------------------------


@njit(cache=True, nogil=True, inline="always")
def _update_neuron(xi_t, s, m_unnorm, i):  # pragma: no cover - numba
    """Zero-temperature update of neuron ``i`` of one state, in place.

    N h_i = sum_mu xi_i^mu M_mu - P s_i (exact integer arithmetic); s_i <- sgn(h_i), kept if
    h_i = 0. On a flip the unnormalised overlaps are updated, M_mu += (s_new - s_old) xi_i^mu,
    at O(P) cost. Returns True if the neuron flipped.
    """
    n_patterns = xi_t.shape[1]
    h = np.int64(0)
    for mu in range(n_patterns):
        h += xi_t[i, mu] * m_unnorm[mu]
    s_old = np.int64(s[i])
    h -= n_patterns * s_old
    s_new = s_old
    if h > 0:
        s_new = 1
    elif h < 0:
        s_new = -1
    if s_new == s_old:
        return False
    s[i] = s_new
    delta = s_new - s_old  # +-2
    for mu in range(n_patterns):
        m_unnorm[mu] += delta * xi_t[i, mu]
    return True


@njit(cache=True, parallel=True, nogil=True)
def _async_sweep(xi_t, states, m_unnorm, perms, trials):  # pragma: no cover - numba
    """One asynchronous sweep for each trial in ``trials`` (in place).

    xi_t     : (N, P) int8, C-contiguous transpose of the patterns
    states   : (B, N) int8, updated in place
    m_unnorm : (B, P) int64 unnormalised overlaps, kept consistent with states
    perms    : (len(trials), N) int64, update order of row ``a`` for trial
               ``trials[a]``
    trials   : (A,) int64 indices of the trials to sweep
    Returns the number of flips per swept trial, shape (A,).
    """
    n_neurons = states.shape[1]
    n_active = trials.shape[0]
    flips = np.zeros(n_active, dtype=np.int64)
    for a in prange(n_active):
        b = trials[a]
        n_flips = 0
        s_b = states[b]
        m_b = m_unnorm[b]
        for k in range(n_neurons):
            if _update_neuron(xi_t, s_b, m_b, perms[a, k]):
                n_flips += 1
        flips[a] = n_flips
    return flips


@njit(cache=True, nogil=True)
def _apply_flips(xi_t, s_old, s_new, m_unnorm):  # pragma: no cover - numba
    """``M += (s_new - s_old) xi^T`` row by row, touching only flipped neurons.

    xi_t : (N, P) int8; s_old, s_new : (A, N) int8; m_unnorm : (A, P) float,
    updated in place (exact: integers of magnitude <= N).
    """
    n_rows, n_neurons = s_new.shape
    n_patterns = xi_t.shape[1]
    # Serial on purpose: it is interleaved with multithreaded BLAS calls, and
    # numba's OpenMP workers spinning next to OpenBLAS's slow both down ~2x.
    for a in range(n_rows):
        for i in range(n_neurons):
            if s_new[a, i] != s_old[a, i]:
                delta = 2 * s_new[a, i]
                for mu in range(n_patterns):
                    m_unnorm[a, mu] += delta * xi_t[i, mu]


@njit(cache=True, parallel=True, nogil=True)
def _transpose_int8(xi):  # pragma: no cover - numba
    """Contiguous (N, P) transpose of an (P, N) int8 array, cache-blocked."""
    n_patterns, n_neurons = xi.shape
    out = np.empty((n_neurons, n_patterns), dtype=np.int8)
    block = 64
    n_blocks = (n_neurons + block - 1) // block
    for jb in prange(n_blocks):
        j0 = jb * block
        j1 = min(j0 + block, n_neurons)
        for i0 in range(0, n_patterns, block):
            i1 = min(i0 + block, n_patterns)
            for j in range(j0, j1):
                for i in range(i0, i1):
                    out[j, i] = xi[i, j]
    return out


@njit(cache=True, parallel=True, nogil=True)
def _int_overlaps(xi, states):  # pragma: no cover - numba
    """``M[b, mu] = sum_i states[b, i] xi[mu, i]`` (exact integer sums) as float64.

    xi : (P, N) int8; states : (B, N) int8.  Parallel over patterns.
    """
    n_patterns, n_neurons = xi.shape
    batch = states.shape[0]
    out = np.empty((batch, n_patterns))
    for mu in prange(n_patterns):
        row = xi[mu]
        for b in range(batch):
            s_b = states[b]
            total = np.int32(0)
            for i in range(n_neurons):
                total += np.int32(s_b[i]) * np.int32(row[i])
            out[b, mu] = total
    return out


@njit(cache=True, parallel=True, nogil=True)
def _int_fields(xi, m_unnorm):  # pragma: no cover - numba
    """``H[b, i] = sum_mu M[b, mu] xi[mu, i]`` (exact int32 sums: ``|H| <= P N < 2**31``).

    xi : (P, N) int8; m_unnorm : (B, P) float holding integers.  Parallel over blocks of 512
    neurons, whose int32 accumulators stay in the L1 cache while the pattern rows stream past.
    """
    n_patterns, n_neurons = xi.shape
    batch = m_unnorm.shape[0]
    m_int = np.empty((batch, n_patterns), dtype=np.int32)
    for b in range(batch):
        for mu in range(n_patterns):
            m_int[b, mu] = np.int32(m_unnorm[b, mu])
    out = np.empty((batch, n_neurons))
    block = 512
    for c in prange((n_neurons + block - 1) // block):
        i0 = c * block
        i1 = min(n_neurons, i0 + block)
        acc = np.zeros((batch, i1 - i0), dtype=np.int32)
        for mu in range(n_patterns):
            row = xi[mu, i0:i1]
            for b in range(batch):
                w = m_int[b, mu]
                a = acc[b]
                for k in range(i1 - i0):
                    a[k] += w * row[k]
        out[:, i0:i1] = acc
    return out


def _draw_permutations(rng, n_rows, n_neurons):
    """``n_rows`` independent uniform permutations of ``range(N)`` (int64)."""
    base = np.broadcast_to(np.arange(n_neurons, dtype=np.int64), (n_rows, n_neurons))
    # C-contiguous int64 always, so the numba kernel is compiled only once
    return np.ascontiguousarray(rng.permuted(base, axis=1), dtype=np.int64)


class _Recorder:
    """Stores overlaps m(t) = M(t)/N, either all P of them or only the cued one."""

    def __init__(self, n_steps, batch, n_patterns, n_neurons, cue):
        self.n_neurons = n_neurons
        self.cue = cue
        if cue is None:
            self.data = np.empty((n_steps + 1, batch, n_patterns))
        else:
            self.data = np.empty((n_steps + 1, batch))

    def record(self, t, rows, m_rows):
        if self.cue is None:
            self.data[t, rows] = m_rows
        else:
            self.data[t, rows] = m_rows[np.arange(len(rows)), self.cue[rows]]
        self.data[t, rows] /= self.n_neurons

    def fill_periodic(self, done_at, n_steps, period):
        """Extend trials that reached a cycle of length ``period`` (1 or 2)."""
        for b in np.flatnonzero((done_at >= 0) & (done_at < n_steps)):
            t0 = done_at[b]
            ks = np.arange(t0 + 1, n_steps + 1)
            src = t0 - ((ks - t0) % period)
            self.data[ks, b] = self.data[src, b]


def _run_sync(xi, s0, n_steps, cue):
    """Synchronous dynamics for a batch ``s0`` (B, N); exact arithmetic.

    Matrix products are done in float32 BLAS while every partial sum is an
    integer of magnitude < 2**24 (checked each step), else in float64; small
    batches use the int8 kernels instead (``_INT_MAX_BATCH``).  When a
    step flips few neurons the overlaps are updated incrementally,
    ``M += (s_new - s_old) xi^T`` over the flipped neurons only.
    A trial stops being computed once it has entered a fixed point or a
    2-cycle (s(t) == s(t-1) or s(t) == s(t-2)); its remaining trajectory is
    then filled in periodically.
    """
    n_patterns, n_neurons = xi.shape
    batch = s0.shape[0]
    integer = batch <= _INT_MAX_BATCH and _INT_MIN_ENTRIES <= xi.size < 2**31
    fdt = np.float32 if n_neurons < _F32_EXACT else np.float64
    x = None if integer else xi.astype(fdt)  # (P, N)
    x64 = x if fdt == np.float64 else None
    xi_t = None  # (N, P) int8 transpose, made on first use by _apply_flips

    s = s0.copy()
    if integer:
        m = _int_overlaps(xi, s)
    else:
        m = _exact_matmul(s.astype(fdt), x.T)  # (B, P); |partial sums| <= N < 2**24: exact
    rec = _Recorder(n_steps, batch, n_patterns, n_neurons, cue)
    rec.record(0, np.arange(batch), m)
    s_prev = s.copy()  # state at t-1 (for the 2-cycle test / periodic fill)
    done_at = np.full(batch, -1, dtype=np.int64)
    active = np.arange(batch)

    for t in range(1, n_steps + 1):
        s_a = s[active]
        m_a = m[active]
        # N h = M xi - P s.  Partial sums of M xi are bounded by sum_mu |M_mu| <= P N.
        if integer:  # P N < 2**31
            field = _int_fields(xi, m_a)
        elif fdt == np.float64 or (
            float(np.max(np.sum(np.abs(m_a), axis=1))) + n_patterns < _F32_EXACT
        ):
            field = _exact_matmul(m_a, x)
        else:
            if x64 is None:
                x64 = xi.astype(np.float64)
            field = _exact_matmul(m_a.astype(np.float64), x64)
        field -= n_patterns * s_a.astype(field.dtype)
        s_new = np.where(field > 0, np.int8(1), np.where(field < 0, np.int8(-1), s_a))
        n_flips = np.count_nonzero(s_new != s_a)
        if n_flips * _SPARSE_FLIP_RATIO < s_new.size:
            # few flips: O(flips * P) incremental update instead of a GEMM
            if xi_t is None:
                xi_t = _transpose_int8(xi)
            m_new = np.ascontiguousarray(m_a)
            _apply_flips(xi_t, s_a, s_new, m_new)
        elif integer:
            m_new = _int_overlaps(xi, s_new)
        else:
            m_new = _exact_matmul(s_new.astype(fdt), x.T)

        fixed = np.all(s_new == s_a, axis=1)
        cycle = np.all(s_new == s_prev[active], axis=1) if t >= 2 else np.zeros_like(fixed)
        s_prev[active] = s_a
        s[active] = s_new
        m[active] = m_new
        rec.record(t, active, m_new)

        done = fixed | cycle
        if done.any():
            rows = active[done]
            done_at[rows] = t
            # for a fixed point make the "other half of the cycle" identical
            fixed_rows = active[fixed]
            s_prev[fixed_rows] = s[fixed_rows]
            active = active[~done]
            if active.size == 0:
                break

    rec.fill_periodic(done_at, n_steps, period=2)
    # a trial in a 2-cycle since t0 ends in s(t0) if n_steps - t0 is even
    odd = (done_at >= 0) & ((n_steps - done_at) % 2 == 1)
    s[odd] = s_prev[odd]
    return rec.data, s


def _run_async(xi, s0, n_steps, cue, rng):
    """Asynchronous dynamics (random sequential sweeps) for a batch (B, N).

    Sweep ``t`` draws one fresh permutation per still-active trial with
    ``rng.permuted`` (rows in trial order) and runs the numba kernel.  A trial
    whose sweep flipped nothing is at a fixed point and is no longer swept
    (no further permutations are drawn for it).
    """
    n_patterns, n_neurons = xi.shape
    batch = s0.shape[0]
    xi_t = _transpose_int8(xi)  # (N, P) int8 for row access
    s = np.ascontiguousarray(s0, dtype=np.int8).copy()
    m = init_overlaps(xi_t, s)
    rec = _Recorder(n_steps, batch, n_patterns, n_neurons, cue)
    rec.record(0, np.arange(batch), m)
    done_at = np.full(batch, -1, dtype=np.int64)
    active = np.arange(batch, dtype=np.int64)
    for t in range(1, n_steps + 1):
        perms = _draw_permutations(rng, active.size, n_neurons)
        flips = _async_sweep(xi_t, s, m, perms, active)
        rec.record(t, active, m[active])
        done = flips == 0
        if done.any():
            done_at[active[done]] = t
            active = active[~done]
            if active.size == 0:
                break
    rec.fill_periodic(done_at, n_steps, period=1)
    return rec.data, s


def simulate(patterns, initial_states, n_steps, update="sync", *, rng=None, cue_index=None):
    r"""Zero-temperature dynamics of the Hebbian Hopfield network.

    Update rule (zero self-coupling, field computed matrix-free)

    .. math::
        h_i = \sum_{j \ne i} W_{ij} s_j
            = \frac1N \sum_\mu \xi_i^\mu M_\mu - \frac{P}{N} s_i,
        \qquad M_\mu = \sum_j \xi_j^\mu s_j,

        s_i \leftarrow \operatorname{sgn}(h_i), \quad
        \text{and } s_i \text{ unchanged if } h_i = 0 .

    * ``update="sync"``: one step updates all neurons simultaneously,
      :math:`s(t+1) = \operatorname{sgn}(h(s(t)))`.  A batch is advanced with two
      matrix products per step, ``M = S xi^T`` and ``M xi``: float BLAS, or for
      batches of at most 8 states and at least :math:`2^{19}` pattern entries
      numba kernels on the int8 patterns (faster there: they read a quarter of
      the bytes).
    * ``update="async"``: one step is a sweep of ``N`` single-neuron updates in
      a fresh uniformly random order (a permutation drawn from ``rng``).  A
      numba kernel keeps the integer overlaps ``M`` up to date, so each update
      costs :math:`O(P)`: :math:`N h_i = \sum_\mu \xi_i^\mu M_\mu - P s_i`, and
      :math:`M_\mu \mathrel{+}= \xi_i^\mu (s_i^{new} - s_i^{old})` on a flip.
      Trials of a batch run in parallel (numba ``prange``); results do not
      depend on the number of threads.

    Arithmetic is exact: the unnormalised overlaps and fields are integers,
    computed with integer sums by the int8 kernels, or in float32 BLAS while
    all partial sums are below :math:`2^{24}` (checked every step) and in
    float64 otherwise; the async kernel uses int64.  Trials that reach a
    fixed point (or, for sync, a 2-cycle) stop being computed and their
    remaining trajectory is filled in exactly.

    Memory: sync with BLAS keeps a float32 copy of the patterns (``4PN`` bytes,
    plus ``8PN`` for a float64 copy in the rare case the float32 bound is
    exceeded; the int8 kernels need no copy) and, once a step flips few
    neurons, an int8 transpose (``PN`` bytes) for the incremental overlap
    update; async keeps an int8
    transposed copy (``PN`` bytes) and one ``(B, N)`` int64 permutation array
    per sweep.  The returned overlaps take
    ``8 (n_steps+1) B P`` bytes (``8 (n_steps+1) B`` with ``cue_index``).

    Parameters
    ----------
    patterns : array_like of +-1, shape (P, N)
        Stored patterns (``P >= 1``, ``N >= 2``).
    initial_states : array_like of +-1, shape (N,) or (B, N)
        One initial state or a batch of ``B`` independent trials.
    n_steps : int
        Number of steps (sync updates or async sweeps), ``>= 0``.
    update : {"sync", "async"}
        Synchronous steps or asynchronous sweeps (default ``"sync"``).
    rng : numpy.random.Generator, optional
        Keyword-only.  Required for ``"async"`` (update orders); ignored for
        ``"sync"``.  How many draws are consumed depends on when trials
        converge.
    cue_index : int or array_like of int, optional
        Keyword-only.  If given, only the overlap with pattern ``cue_index`` (per trial, for
        an array of length ``B``; an int applies to every trial) is returned.

    Returns
    -------
    Trajectory
        ``overlaps``: float64, shape ``(n_steps+1, P)`` for a single state or
        ``(n_steps+1, B, P)`` for a batch; with ``cue_index``: ``(n_steps+1,)``
        or ``(n_steps+1, B)``.  Row ``t`` holds ``m(t)``, row 0 the initial
        overlaps.  ``states``: int8 final states, same shape as
        ``initial_states``.
    """
    xi, s0 = _patterns_and_states(patterns, initial_states, "initial_states")
    n_steps = check_nonneg_int(n_steps, "n_steps")
    update = check_option(update, "update", _UPDATE_RULES)
    if update == "async":
        if rng is None:
            raise ValueError(
                "update='async' needs rng, a numpy.random.Generator, to draw the "
                "random update orders; got rng=None"
            )
        check_generator(rng)
    elif rng is not None:
        check_generator(rng)  # unused by the synchronous rule, but a wrong type is a mistake
    single = s0.ndim == 1
    batch = 1 if single else s0.shape[0]
    check_size((n_steps + 1, batch, xi.shape[0]), "the overlaps (n_steps + 1, B, P)")
    cue = None
    if cue_index is not None:
        cue = _check_cue_index(cue_index, xi.shape[0], None if single else s0.shape[0])
    return _simulate(xi, s0, n_steps, update, rng, cue)


def _simulate(xi, s0, n_steps, update, rng, cue):
    """:func:`simulate` without validation; ``cue`` is None or int64 (B,)."""
    single = s0.ndim == 1
    batch = s0.reshape(1, -1) if single else s0
    # small runs with one thread (exact arithmetic: the same result with any number)
    work = batch.shape[0] * xi.size
    with numba_threads_for(work):
        if update == "sync":
            with blas_threads_for(work):
                rec, states = _run_sync(xi, batch, n_steps, cue)
        else:
            rec, states = _run_async(xi, batch, n_steps, cue, rng)
    if single:
        rec = rec[:, 0]
        states = states[0]
    return Trajectory(overlaps=rec, states=states)


# --------------------------------------------------------------------------
# mean-field theory (Amit, Gutfreund & Sompolinsky 1985/87), T = 0, RS
# --------------------------------------------------------------------------

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _ags_g(y):
    """g(y) = erf(y)/y - (2/sqrt(pi)) exp(-y^2); the AGS equation is g = sqrt(2 alpha)."""
    return erf(y) / y - _TWO_OVER_SQRT_PI * math.exp(-y * y)


@functools.cache
def _critical_point():
    # dF/dy = 0 with F(y) = y (sqrt(2a) + (2/sqrt(pi)) e^{-y^2}) - erf(y) gives
    # sqrt(2a) = (4/sqrt(pi)) y^2 e^{-y^2}; inserting into F = 0:
    #   (2/sqrt(pi)) y e^{-y^2} (1 + 2 y^2) = erf(y).
    def saddle(y):
        return _TWO_OVER_SQRT_PI * y * math.exp(-y * y) * (1.0 + 2.0 * y * y) - erf(y)

    y_c = brentq(saddle, 0.5, 3.0, xtol=1e-15, rtol=4 * np.finfo(float).eps)
    sqrt_2a = 2.0 * _TWO_OVER_SQRT_PI * y_c * y_c * math.exp(-y_c * y_c)
    alpha_c = 0.5 * sqrt_2a * sqrt_2a
    m_c = float(erf(y_c))
    return float(alpha_c), m_c, float(y_c)


def critical_capacity() -> CriticalCapacity:
    r"""Storage capacity of the Hebbian Hopfield network (AGS, T=0, RS).

    The retrieval solution of
    :math:`F(y;\alpha) = y\,(\sqrt{2\alpha} + \tfrac{2}{\sqrt\pi} e^{-y^2}) - \mathrm{erf}(y) = 0`
    disappears in a saddle-node bifurcation where also
    :math:`\partial F/\partial y = \sqrt{2\alpha} - \tfrac{4}{\sqrt\pi} y^2 e^{-y^2} = 0`.
    Eliminating :math:`\alpha` gives
    :math:`\tfrac{2}{\sqrt\pi} y e^{-y^2}(1 + 2y^2) = \mathrm{erf}(y)`, solved
    with Brent's method to machine precision; then
    :math:`\alpha_c = \tfrac12 (\tfrac{4}{\sqrt\pi} y_c^2 e^{-y_c^2})^2` and
    :math:`m_c = \mathrm{erf}(y_c)`.  The result is cached.

    Returns
    -------
    CriticalCapacity
        ``(alpha_c, m_c)``, approximately ``(0.1379056, 0.9674171)``.
    """
    alpha_c, m_c, _ = _critical_point()
    return CriticalCapacity(alpha_c, m_c)


def _retrieval_overlap_scalar(alpha: float) -> float:
    if alpha == 0.0:
        return 1.0
    alpha_c, m_c, y_c = _critical_point()
    if alpha > alpha_c:
        return math.nan
    target = math.sqrt(2.0 * alpha)
    # g decreases on [y_c, inf) and g(y) <= 1/y, so g(1/sqrt(2a)) <= sqrt(2a)
    y_hi = 1.0 / target
    f_lo = _ags_g(y_c) - target
    f_hi = _ags_g(y_hi) - target
    if f_lo <= 0.0:  # alpha == alpha_c up to rounding
        return m_c
    if f_hi >= 0.0:  # erf(y_hi) == 1 to double precision
        return float(erf(y_hi))
    y = brentq(lambda v: _ags_g(v) - target, y_c, y_hi, xtol=1e-15, rtol=4 * np.finfo(float).eps)
    return float(erf(y))


def retrieval_overlap(alpha):
    r"""Retrieval overlap :math:`m(\alpha)` of the AGS theory (T=0, replica symmetric).

    Solves

    .. math::
        m = \mathrm{erf}(y), \quad y = \frac{m}{\sqrt{2\alpha r}}, \quad
        C = \sqrt{\frac{2}{\pi\alpha r}}\, e^{-y^2}, \quad r = \frac{1}{(1-C)^2},

    equivalently :math:`y\,(\sqrt{2\alpha} + \tfrac{2}{\sqrt\pi} e^{-y^2}) =
    \mathrm{erf}(y)`, and returns the retrieval (largest) solution
    :math:`m = \mathrm{erf}(y)`, found with Brent's method on the branch
    :math:`y > y_c`.

    Parameters
    ----------
    alpha : float or array_like
        Load :math:`\alpha = P/N \ge 0`, finite.

    Returns
    -------
    float or numpy.ndarray of float64
        Same shape as ``alpha``; ``1`` at :math:`\alpha = 0`, decreasing to
        :math:`m_c` at :math:`\alpha_c` and ``nan`` for :math:`\alpha > \alpha_c`
        (no retrieval state).
    """
    a = check_nonneg_float_array(alpha, "alpha")
    out = np.array([_retrieval_overlap_scalar(float(v)) for v in a.ravel()], dtype=np.float64)
    out = out.reshape(a.shape)
    return float(out) if out.ndim == 0 else out


def one_step_error_probability(alpha):
    r"""Probability that a neuron flips in one synchronous step from a stored pattern.

    For large ``N`` the field on neuron ``i`` in pattern ``xi^1`` is
    :math:`h_i \xi_i^1 = 1 + z` with Gaussian crosstalk ``z`` of variance
    :math:`\alpha = P/N`, so

    .. math:: P_\mathrm{error} = \Phi(-1/\sqrt{\alpha})
              = \tfrac12 \operatorname{erfc}\big(1/\sqrt{2\alpha}\big),

    and :math:`P_\mathrm{error}(0) = 0`.

    Parameters
    ----------
    alpha : float or array_like
        Load, finite and ``>= 0``.

    Returns
    -------
    float or numpy.ndarray of float64
        Same shape as ``alpha``.
    """
    a = check_nonneg_float_array(alpha, "alpha")
    with np.errstate(divide="ignore"):
        out = np.where(a > 0, 0.5 * erfc(1.0 / np.sqrt(2.0 * np.where(a > 0, a, 1.0))), 0.0)
    return float(out) if out.ndim == 0 else out


# --------------------------------------------------------------------------
# experiments
# --------------------------------------------------------------------------


def final_overlap_sweep(
    n_neurons,
    alphas,
    n_trials,
    *,
    rng,
    n_steps=20,
    update="sync",
    cue_flip_fraction=0.0,
    bias=0.0,
    progress=True,
    trials_per_set=None,
) -> np.ndarray:
    r"""Final overlap with the cued pattern as a function of the load.

    For each load :math:`\alpha` the network stores
    :math:`P = \max(1, \mathrm{round}(\alpha N))` random patterns
    (:func:`random_patterns` with ``bias``), is started at a stored pattern
    with a fraction ``cue_flip_fraction`` of its bits flipped
    (:func:`flip_bits`), runs ``n_steps`` steps of :func:`simulate`, and the
    final overlap :math:`m_\mu(t = n_\mathrm{steps})` with the cued pattern is
    recorded.

    Design: trials are grouped into batches that share one freshly drawn
    pattern set, each trial of a batch cueing a *different* stored pattern;
    batches run as one vectorised :func:`simulate` call.  A batch holds
    ``min(trials_per_set, P)`` trials (default ``trials_per_set = n_trials``,
    i.e. one pattern set per load when ``P >= n_trials``).  Since patterns
    are i.i.d. the trials are identically distributed; trials sharing a set
    are weakly correlated (they see the same crosstalk realisation), which
    slightly underestimates naive standard errors.  Pass
    ``trials_per_set=1`` for fully independent trials (one pattern set each,
    much slower: pattern generation and memory-bound GEMV dominate).

    Parameters
    ----------
    n_neurons : int
        Network size ``N >= 2``.
    alphas : array_like of float
        1-D sequence of loads ``>= 0``.
    n_trials : int
        Trials per load ``>= 1``.
    rng : numpy.random.Generator
        Source of randomness (keyword-only, as are all later parameters).
    n_steps : int, optional
        Steps per trial (default 20).
    update : {"sync", "async"}, optional
        Update rule of :func:`simulate` (default ``"sync"``).
    cue_flip_fraction : float, optional
        Fraction of cue bits flipped, in ``[0, 1]`` (default 0).
    bias : float, optional
        Pattern bias in ``(-1, 1)`` (default 0).
    progress : bool, optional
        Show a ``tqdm`` progress bar over the loads (default True).
    trials_per_set : int, optional
        Maximum number of trials sharing one pattern set (default
        ``n_trials``).

    Returns
    -------
    numpy.ndarray of float64, shape (len(alphas), n_trials)
        Row ``k`` holds the final overlaps of the trials at load ``alphas[k]``.
    """
    from tqdm.auto import tqdm

    n_neurons = check_positive_int(n_neurons, "n_neurons", minimum=2)
    a = check_nonneg_float_array(alphas, "alphas")
    if a.ndim != 1:
        raise ValueError(f"alphas must be a 1-D sequence of loads; got shape {a.shape}")
    n_trials = check_positive_int(n_trials, "n_trials")
    check_generator(rng)
    n_steps = check_nonneg_int(n_steps, "n_steps")
    progress = check_bool(progress, "progress")
    check_size((n_steps + 1, n_trials), "the overlaps (n_steps + 1, n_trials)", copies=4)
    update = check_option(update, "update", _UPDATE_RULES)
    cue_flip_fraction = check_fraction(cue_flip_fraction, "cue_flip_fraction", 0.0, 1.0)
    bias = check_fraction(bias, "bias", -1.0, 1.0, closed_low=False, closed_high=False)
    per_set = (
        n_trials if trials_per_set is None else check_positive_int(trials_per_set, "trials_per_set")
    )

    result = np.empty((a.size, n_trials))
    bar = tqdm(a, desc=f"alpha sweep (N={n_neurons})", disable=not progress)
    for k, alpha in enumerate(bar):
        n_patterns = max(1, int(round(alpha * n_neurons)))
        done = 0
        while done < n_trials:
            size = min(per_set, n_patterns, n_trials - done)
            xi = random_pm1((n_patterns, n_neurons), rng, bias)
            cue = np.arange(size, dtype=np.int64)
            s0 = _flip_bits(xi[:size], cue_flip_fraction, rng)
            traj = _simulate(xi, s0, n_steps, update, rng, cue)
            result[k, done : done + size] = traj.overlaps[-1]
            done += size
    return result


# --------------------------------------------------------------------------
# single-flip energy trace, limit cycles, crossing points
# --------------------------------------------------------------------------


class EnergyTrace(NamedTuple):
    """Result of :func:`async_energy_trace`.

    Attributes
    ----------
    energy : numpy.ndarray of float64, shape (n_sweeps * N + 1,)
        ``energy[0]`` is the energy of the initial state, ``energy[k]`` the energy after
        the k-th single-neuron update.
    flipped : numpy.ndarray of bool, shape (n_sweeps * N,)
        Whether update ``k`` (0-based) flipped its neuron.
    states : numpy.ndarray of int8, shape (N,)
        The final state.
    """

    energy: np.ndarray
    flipped: np.ndarray
    states: np.ndarray


@njit(cache=True, nogil=True)
def _async_energy_kernel(xi_t, s, m_unnorm, order, energy, flipped):  # pragma: no cover - numba
    """Asynchronous updates in ``order``, recording E = P/2 - sum(M^2)/(2N) after each."""
    n_neurons, n_patterns = xi_t.shape
    e = 0.5 * n_patterns
    for mu in range(n_patterns):
        e -= m_unnorm[mu] * m_unnorm[mu] / (2.0 * n_neurons)
    energy[0] = e
    for k in range(order.shape[0]):
        if _update_neuron(xi_t, s, m_unnorm, order[k]):
            flipped[k] = True
            e = 0.5 * n_patterns
            for mu in range(n_patterns):
                e -= m_unnorm[mu] * m_unnorm[mu] / (2.0 * n_neurons)
        energy[k + 1] = e


def async_energy_trace(patterns, initial_state, n_sweeps, *, rng) -> EnergyTrace:
    r"""Energy after every single-neuron update of the asynchronous dynamics.

    Runs ``n_sweeps`` sweeps of :func:`simulate`'s asynchronous rule (each sweep visits all
    neurons in a fresh random order) from one state and records

    .. math:: E = -\frac12 \sum_{i \ne j} w_{ij} s_i s_j = -\frac N2 \sum_\mu m_\mu^2 + \frac P2

    after every update, so that the claim :math:`\Delta E = -2|h_i| \le 0` at each flip can
    be checked. Cost :math:`O(P)` per update.

    Parameters
    ----------
    patterns : array_like of ±1, shape (P, N)
        Stored patterns :math:`\xi`.
    initial_state : array_like of ±1, shape (N,)
        A single initial state.
    n_sweeps : int
        Number of sweeps ``>= 1``.
    rng : numpy.random.Generator
        Source of the update orders (keyword-only).

    Returns
    -------
    EnergyTrace
        ``(energy, flipped, states)``, see :class:`EnergyTrace`.
    """
    xi, s = _patterns_and_states(patterns, initial_state, "initial_state")
    if s.ndim != 1:
        raise ValueError(f"initial_state must be a single state of shape (N,); got shape {s.shape}")
    n_sweeps = check_positive_int(n_sweeps, "n_sweeps")
    rng = check_generator(rng)
    n_neurons = xi.shape[1]
    check_size((n_sweeps, n_neurons), "the trace (n_sweeps, N)", copies=4)
    order = _draw_permutations(rng, n_sweeps, n_neurons).ravel()
    xi_t = np.ascontiguousarray(xi.T)
    s = np.ascontiguousarray(s, dtype=np.int8).copy()
    m = np.rint(_unnormalised_overlaps(xi, s)).astype(np.int64)
    energy = np.empty(order.size + 1)
    flipped = np.zeros(order.size, dtype=np.bool_)
    _async_energy_kernel(xi_t, s, m, order, energy, flipped)
    return EnergyTrace(energy, flipped, s)


def final_period(patterns, states) -> np.ndarray:
    r"""Period of the synchronous dynamics at the given states: 1, 2 or 0.

    With :math:`F(\mathbf s) = \operatorname{sgn}(\mathbf h(\mathbf s))` the synchronous update,
    returns 1 where :math:`F(\mathbf s) = \mathbf s` (a fixed point), 2 where
    :math:`F(F(\mathbf s)) = \mathbf s \ne F(\mathbf s)` (a 2-cycle), and 0 otherwise (the
    dynamics have not settled yet). Synchronous dynamics with symmetric couplings have no
    longer cycles.

    Parameters
    ----------
    patterns : array_like of ±1, shape (P, N)
        Stored patterns :math:`\xi`.
    states : array_like of ±1, shape (N,) or (B, N)
        One state or a batch of ``B`` states.

    Returns
    -------
    int or numpy.ndarray of int, shape (B,)
        An int for a single state, one period per state for a batch.
    """
    xi, s = _patterns_and_states(patterns, states)
    batch = np.atleast_2d(s)
    one = _simulate(xi, batch, 1, "sync", None, None).states
    two = _simulate(xi, one, 1, "sync", None, None).states
    fixed = np.all(one == batch, axis=1)
    cycle = ~fixed & np.all(two == batch, axis=1)
    period = np.where(fixed, 1, np.where(cycle, 2, 0))
    return int(period[0]) if s.ndim == 1 else period


def crossing_load(loads, values, level=0.5) -> float:
    r"""Load at which a decreasing curve first falls below ``level`` (linear interpolation).

    For points :math:`(\alpha_k, v_k)` and the first :math:`k` with :math:`v_k \ge \ell > v_{k+1}`,
    returns :math:`\alpha_k + (\alpha_{k+1} - \alpha_k)(v_k - \ell)/(v_k - v_{k+1})`.
    Used for finite-size estimates of the capacity, e.g. the load at which half of the trials
    retrieve their pattern.

    Parameters
    ----------
    loads : array_like, shape (K,)
        Strictly increasing loads, ``K >= 2``, finite.
    values : array_like, shape (K,)
        Finite curve values at ``loads``.
    level : float, optional
        Level to cross (default 0.5).

    Returns
    -------
    float
        The crossing load; ``nan`` if the curve never falls below ``level`` or starts below it.
    """
    a = check_real_array(loads, "loads", ndim=1)
    v = check_real_array(values, "values", shape=a.shape)
    if a.size < 2:
        raise ValueError(f"loads must hold at least 2 points; got {a.size}")
    if np.any(np.diff(a) <= 0):
        raise ValueError("loads must be strictly increasing")
    level = check_finite_float(level, "level")
    if v[0] < level:
        return float("nan")
    below = np.flatnonzero(v < level)
    if below.size == 0:
        return float("nan")
    k = below[0] - 1
    return float(a[k] + (a[k + 1] - a[k]) * (v[k] - level) / (v[k] - v[k + 1]))
