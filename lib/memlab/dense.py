r"""Dense associative memories: binary (Krotov & Hopfield) and graded (Clark).

Conventions
-----------
* ``patterns`` is an array :math:`\xi` of shape ``(P, N)`` with entries :math:`\pm 1`, as in
  :mod:`memlab.hopfield` (use :func:`memlab.hopfield.random_patterns`).  Row ``mu`` is pattern
  :math:`\xi^\mu`.
* The interaction order is ``n >= 1``: every stored pattern couples ``n + 1`` neurons, and
  ``n = 1`` is the Hopfield network.  (Krotov & Hopfield number the same model by the power of
  their energy function, i.e. their ``n`` is our ``n + 1``.)

Binary model (Krotov & Hopfield 2016)
    States are :math:`\pm 1` vectors ``s`` of shape ``(N,)`` or ``(B, N)`` with energy
    :math:`E(s) = -\sum_\mu F(\xi^\mu \cdot s)`, :math:`F(x) = x^{n+1}`.  A neuron takes the sign
    that lowers this energy.  All arithmetic is exact (int64).

Graded model (Clark 2026, "Transient dynamics of associative memory models")
    The state of the network is the vector of preactivations :math:`x` (argument ``states``,
    float64, shape ``(N,)`` or ``(B, N)``), activations
    :math:`\phi_i = \tanh x_i`, overlaps :math:`m_\mu = \frac1N \sum_i \xi_i^\mu \phi_i`, load
    :math:`\alpha = P / N^n` and gain ``g``; the input to neuron ``i`` is
    :math:`\frac{g}{\sqrt\alpha} \sum_\mu \xi_i^\mu m_\mu^n`.  Self-couplings are *included*
    (all sums run over all neurons), unlike the zero-diagonal network of Chapter 1.

Static mean-field theory (Clark 2026, Appendix B)
    The retrieval fixed point for ``n = 1`` and even ``n``, see :func:`fixed_point`.

Public functions are pure: they never modify their inputs.  All randomness comes from an
explicit :class:`numpy.random.Generator`.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import numpy as np
from numba import njit, prange
from scipy.optimize import brentq, minimize_scalar
from scipy.special import expit

from memlab._common import (
    blas_threads_for,
    double_factorial,
    init_overlaps,
    numba_threads_for,
    random_pm1,
    single_site_energy,
)
from memlab._validation import check_cue_index as _check_cue_index
from memlab._validation import (
    check_finite_result,
    check_fraction,
    check_generator,
    check_nonneg_float_array,
    check_nonneg_int,
    check_positive_int,
    check_real_array,
    check_size,
    check_theory_order,
)
from memlab._validation import check_patterns as _check_patterns
from memlab._validation import check_positive_float as _check_positive
from memlab._validation import check_states as _check_states

__all__ = [
    "CriticalCapacity",
    "FixedPoint",
    "GradedTrajectory",
    "binary_field",
    "binary_update",
    "critical_capacity",
    "energy",
    "fixed_point",
    "fixed_point_fraction",
    "input_variance",
    "max_stable_load",
    "retrieval_curve",
    "simulate",
]

_INT64_MAX = 2**63 - 1
# Graded model: pattern products are done with BLAS on floating copies of the int8 patterns,
# in float64 when that copy is small (then energies are accurate to ~1e-15) and in float32
# otherwise (overlaps then carry relative rounding errors of ~1e-7).
_F64_MAX_BYTES = 64 * 2**20
# A float copy of all patterns is kept for the whole run if it takes at most this many bytes;
# Products are done in blocks of about _BLOCK_ELEMENTS pattern entries (rows * N); without a full
# copy each block is converted from int8 at every step (about 2x slower).
_FULL_COPY_MAX_BYTES = 320 * 2**20
_BLOCK_ELEMENTS = 2**22


# --------------------------------------------------------------------------
# validation helpers specific to this module
# --------------------------------------------------------------------------


def _check_order(n) -> int:
    """Interaction order: an integer >= 1."""
    return check_positive_int(n, "n (interaction order)", minimum=1)


def _check_preactivations(values, n_neurons: int, name: str) -> np.ndarray:
    """Graded states: a finite real array of shape ``(N,)`` or ``(B, N)``, as a float64 copy."""
    ndim = np.ndim(values)
    shape = (None,) * (ndim - 1) + (n_neurons,) if ndim in (1, 2) else None
    return check_real_array(values, name, ndim=(1, 2), shape=shape, copy=True)


def _check_load(n_patterns: int, n_neurons: int, n: int, alpha: float) -> None:
    log_n = n * math.log(n_neurons)
    expected = alpha * math.exp(log_n) if log_n < 700.0 else math.inf
    if not (expected < 2.0**62 and abs(n_patterns - round(expected)) <= 1):
        hint = math.exp(math.log(n_patterns) - log_n)
        raise ValueError(
            f"patterns has P={n_patterns} rows but alpha*N^n = {alpha:g}*{n_neurons}^{n} = "
            f"{expected:.1f}: the model stores P = alpha N^n patterns and alpha also sets the "
            f"coupling scale g/sqrt(alpha); pass alpha = P/N^n = {hint:.6g} "
            f"or draw round(alpha N^n) patterns"
        )


# --------------------------------------------------------------------------
# binary dense associative memory (Krotov & Hopfield 2016)
# --------------------------------------------------------------------------


def _difference_table(n_patterns: int, n_neurons: int, n: int) -> np.ndarray:
    """``G(M) = (M+1)^(n+1) - (M-1)^(n+1)`` for ``M = -N..N`` as int64 (index ``M + N``).

    Raises ValueError if a field ``sum_mu xi G(M)`` could overflow int64.
    """
    # |G(M)| < N^(n+1) for |M| <= N-1; compared in logarithms first (n may be huge)
    log2_bound = math.log2(n_patterns) + (n + 1) * math.log2(n_neurons)
    if log2_bound > 64 or n_patterns * n_neurons ** (n + 1) > _INT64_MAX:
        raise ValueError(
            f"P*N^(n+1) = {n_patterns}*{n_neurons}^{n + 1} ~ 2^{log2_bound:.4g} exceeds 2^63-1, "
            f"so the energy differences cannot be computed exactly in int64; use fewer "
            f"patterns, fewer neurons or a lower order n"
        )
    e = n + 1
    return np.array(
        [(m + 1) ** e - (m - 1) ** e for m in range(-n_neurons, n_neurons + 1)], dtype=np.int64
    )


@njit(cache=True, parallel=True, nogil=True)
def _binary_fields(xi_t, states, m, gtab, offset):  # pragma: no cover - numba
    """``D[b, i] = sum_mu xi_i^mu G(M_mu - xi_i^mu s_i)`` for all states and neurons (int64).

    xi_t : (N, P) int8; states : (B, N) int8; m : (B, P) int64 overlaps of ``states``;
    gtab : int64 table of G, indexed by ``M + offset``.  Parallel over (state, neuron) pairs.
    """
    n_neurons, n_patterns = xi_t.shape
    n_states = states.shape[0]
    out = np.empty((n_states, n_neurons), dtype=np.int64)
    for k in prange(n_states * n_neurons):
        b = k // n_neurons
        i = k - b * n_neurons
        s_i = np.int64(states[b, i])
        acc = np.int64(0)
        for mu in range(n_patterns):
            x = np.int64(xi_t[i, mu])
            acc += x * gtab[m[b, mu] - x * s_i + offset]
        out[b, i] = acc
    return out


@njit(cache=True, parallel=True, nogil=True)
def _stable_flags(xi_t, states, m, gtab, offset):  # pragma: no cover - numba
    """True for each state in which no neuron would flip (``D_i s_i >= 0`` for all ``i``)."""
    n_neurons, n_patterns = xi_t.shape
    n_states = states.shape[0]
    out = np.ones(n_states, dtype=np.bool_)
    for b in prange(n_states):
        for i in range(n_neurons):
            s_i = np.int64(states[b, i])
            acc = np.int64(0)
            for mu in range(n_patterns):
                x = np.int64(xi_t[i, mu])
                acc += x * gtab[m[b, mu] - x * s_i + offset]
            if acc * s_i < 0:
                out[b] = False
                break
    return out


def _fields(xi_t, batch, gtab, n_neurons):
    with numba_threads_for(batch.shape[0] * xi_t.size):  # one thread for small runs
        m = init_overlaps(xi_t, batch)
        return _binary_fields(xi_t, batch, m, gtab, n_neurons)


def _binary_setup(patterns, states, n):
    """Validate the binary model's arguments: ``(xi_t, states, n, gtab)``.

    ``xi_t`` is the C-contiguous (N, P) transpose of the patterns and ``gtab`` the table of
    :func:`_difference_table`.
    """
    xi = _check_patterns(patterns)
    s = _check_states(states, xi.shape[1], "states")
    n = _check_order(n)
    gtab = _difference_table(xi.shape[0], xi.shape[1], n)
    return np.ascontiguousarray(xi.T), s, n, gtab


def binary_field(patterns, states, n) -> np.ndarray:
    r"""Energy differences that decide the updates of the binary dense associative memory.

    With :math:`E(s) = -\sum_\mu F(\xi^\mu\cdot s)`, :math:`F(x) = x^{n+1}`, and the overlap
    without neuron ``i``, :math:`M_\mu^{(i)} = \sum_{j \ne i} \xi_j^\mu s_j`,

    .. math::
        D_i = E(s_i = -1) - E(s_i = +1)
            = \sum_\mu \left[ F(M_\mu^{(i)} + \xi_i^\mu) - F(M_\mu^{(i)} - \xi_i^\mu) \right]
            = \sum_\mu \xi_i^\mu \left[ (M_\mu^{(i)} + 1)^{n+1} - (M_\mu^{(i)} - 1)^{n+1} \right].

    The update rule is :math:`s_i \leftarrow \operatorname{sgn}(D_i)` (kept if :math:`D_i = 0`).
    For ``n = 1``, :math:`D_i = 4 \sum_\mu \xi_i^\mu M_\mu^{(i)} = 4 N h_i` with the
    zero-diagonal Hebbian field :math:`h_i` of :mod:`memlab.hopfield`.

    Computed exactly in int64 by a numba kernel in :math:`O(PN)` per state: the overlaps
    :math:`M_\mu = \xi^\mu \cdot s` once, then :math:`M_\mu^{(i)} = M_\mu - \xi_i^\mu s_i`, with the
    bracket looked up in a table of its ``2N+1`` possible values.

    Parameters
    ----------
    patterns : array_like of +-1, shape (P, N)
        Stored patterns :math:`\xi`.
    states : array_like of +-1, shape (N,) or (B, N)
        One state or a batch of ``B`` states.
    n : int
        Interaction order ``>= 1``.

    Returns
    -------
    numpy.ndarray of int64
        Same shape as ``states``.

    Raises
    ------
    ValueError
        If :math:`P N^{n+1} \ge 2^{63}`, where exact int64 arithmetic is no longer guaranteed.
    """
    xi_t, s, n, gtab = _binary_setup(patterns, states, n)
    out = _fields(xi_t, np.atleast_2d(s), gtab, xi_t.shape[0])
    return out[0] if s.ndim == 1 else out


def binary_update(patterns, states, n, n_steps=1) -> np.ndarray:
    r"""Synchronous zero-temperature updates of the binary dense associative memory.

    Each step sets, for all neurons at once,
    :math:`s_i \leftarrow \operatorname{sgn}(D_i(s))` with :math:`D_i` from :func:`binary_field`;
    a neuron with :math:`D_i = 0` keeps its state.  Stops early once a state no longer changes.

    Parameters
    ----------
    patterns : array_like of +-1, shape (P, N)
        Stored patterns :math:`\xi`.
    states : array_like of +-1, shape (N,) or (B, N)
        Initial state, or a batch of ``B`` initial states.
    n : int
        Interaction order ``>= 1``.
    n_steps : int, optional
        Number of synchronous steps ``>= 0`` (default 1).

    Returns
    -------
    numpy.ndarray of int8
        Final states, same shape as ``states``.
    """
    xi_t, s, n, gtab = _binary_setup(patterns, states, n)
    n_steps = check_nonneg_int(n_steps, "n_steps")
    n_neurons = xi_t.shape[0]
    batch = np.array(np.atleast_2d(s), dtype=np.int8, copy=True)
    for _ in range(n_steps):
        d = _fields(xi_t, batch, gtab, n_neurons)
        new = np.where(d > 0, np.int8(1), np.where(d < 0, np.int8(-1), batch))
        if np.array_equal(new, batch):
            break
        batch = new
    return batch[0] if s.ndim == 1 else batch


def fixed_point_fraction(n_patterns, n_neurons, n, n_test, *, rng) -> float:
    r"""Fraction of stored patterns that are fixed points of the binary dense memory.

    Draws ``P`` random patterns (:func:`memlab.hopfield.random_patterns`) and tests the first
    ``min(n_test, P)`` of them: pattern :math:`\nu` is a fixed point if no neuron would flip,
    :math:`D_i(\xi^\nu)\, \xi_i^\nu \ge 0` for all ``i`` (:func:`binary_field`; a tie keeps the
    state, so it counts as stable).  Cost :math:`O(PN)` per tested pattern, in parallel over
    patterns, with an early exit at the first unstable neuron.

    Parameters
    ----------
    n_patterns : int
        Number of stored patterns ``P >= 1``.
    n_neurons : int
        Number of neurons ``N >= 2``.
    n : int
        Interaction order ``>= 1``.
    n_test : int
        Number of patterns to test ``>= 1``.
    rng : numpy.random.Generator
        Source of the patterns (keyword-only).

    Returns
    -------
    float
        Fraction of the tested patterns that are fixed points.
    """
    n_patterns = check_positive_int(n_patterns, "n_patterns", minimum=1)
    n_neurons = check_positive_int(n_neurons, "n_neurons", minimum=2)
    n = _check_order(n)
    n_test = check_positive_int(n_test, "n_test", minimum=1)
    check_generator(rng)
    gtab = _difference_table(n_patterns, n_neurons, n)
    check_size((n_patterns, n_neurons), "the patterns (n_patterns, n_neurons)", 1, copies=2)
    return _fixed_point_fraction(n_patterns, n_neurons, n_test, rng, gtab)


def _fixed_point_fraction(n_patterns, n_neurons, n_test, rng, gtab):
    xi = random_pm1((n_patterns, n_neurons), rng)
    xi_t = np.ascontiguousarray(xi.T)
    test = xi[: min(n_test, n_patterns)]
    with numba_threads_for(test.shape[0] * xi_t.size):  # one thread for small runs
        m = init_overlaps(xi_t, test)
        return float(np.mean(_stable_flags(xi_t, test, m, gtab, n_neurons)))


def max_stable_load(n_neurons, n, *, rng, n_test=32, points_per_octave=4) -> float:
    r"""Number of patterns at which half of the stored patterns stop being fixed points.

    Method (geometric grid + interpolation in :math:`\log P`): starting from a quarter of the
    signal-to-noise estimate :math:`P_0 = N^n / (2 (2n-1)!! \ln N)`, the fixed-point fraction
    :math:`f(P)` (:func:`fixed_point_fraction`, fresh patterns at every probe) is measured on
    the grid :math:`P_k = P_{\rm start}\, 2^{k/\text{points\_per\_octave}}` (rounded, distinct)
    until two consecutive probes fall below 1/2 (the grid is first shifted down while
    :math:`f(P_{\rm start}) < 1/2`).  The result is the first crossing,
    :math:`\log P_{\max} = \log P_k + (\log P_{k+1} - \log P_k)
    (f_k - \tfrac12)/(f_k - f_{k+1})` with :math:`f_k \ge \tfrac12 > f_{k+1}`.

    The estimate is noisy (``n_test`` Bernoulli samples per probe); for random patterns
    :math:`P_{\max} \propto N^n / \ln N`.

    Parameters
    ----------
    n_neurons : int
        Number of neurons ``N >= 2``.
    n : int
        Interaction order ``>= 1``.
    rng : numpy.random.Generator
        Source of the patterns (keyword-only, as are all later parameters).
    n_test : int, optional
        Patterns tested per probe (default 32).
    points_per_octave : int, optional
        Grid density (default 4, i.e. ratio :math:`2^{1/4}` between probes).

    Returns
    -------
    float
        :math:`P_{\max}(N)`.
    """
    n_neurons = check_positive_int(n_neurons, "n_neurons", minimum=2)
    n = _check_order(n)
    check_generator(rng)
    n_test = check_positive_int(n_test, "n_test", minimum=1)
    ppo = check_positive_int(points_per_octave, "points_per_octave", minimum=1)
    if ppo > 64:
        raise ValueError(f"points_per_octave must be <= 64; got {ppo}")
    _difference_table(1, n_neurons, n)  # refuses N^(n+1) beyond int64 before any work
    guess = n_neurons**n / (2.0 * double_factorial(2 * n - 1) * math.log(max(n_neurons, 3)))
    start = max(1.0, guess / 4.0)
    cache = {}

    def frac(p_float):
        p = max(1, int(round(p_float)))
        if p not in cache:
            gtab = _difference_table(p, n_neurons, n)
            cache[p] = _fixed_point_fraction(p, n_neurons, n_test, rng, gtab)
        return p, cache[p]

    step = 2.0 ** (1.0 / ppo)
    while start > 1.0 and frac(start)[1] < 0.5:
        start /= 4.0
    ps, fs = [], []
    k = 0
    below = 0
    while below < 2:
        p, f = frac(start * step**k)
        k += 1
        if ps and p == ps[-1]:
            continue
        ps.append(p)
        fs.append(f)
        below = below + 1 if f < 0.5 else 0
        if k > 64 * ppo:  # pragma: no cover - defensive
            raise RuntimeError("max_stable_load: the fixed-point fraction never fell below 1/2")
    if fs[0] < 0.5:  # even one pattern is not a fixed point (tiny N)
        return float(ps[0])
    j = int(np.flatnonzero(np.asarray(fs) < 0.5)[0])
    lp0, lp1 = math.log(ps[j - 1]), math.log(ps[j])
    f0, f1 = fs[j - 1], fs[j]
    return float(math.exp(lp0 + (lp1 - lp0) * (f0 - 0.5) / (f0 - f1)))


# --------------------------------------------------------------------------
# graded model (Clark 2026): simulation
# --------------------------------------------------------------------------


class GradedTrajectory(NamedTuple):
    """Result of :func:`simulate`.

    Attributes
    ----------
    overlaps : numpy.ndarray of float64
        Overlap :math:`m(t) = \\frac1N \\sum_i \\xi_i^{\\mu^*} \\tanh x_i(t)` with the cued
        pattern :math:`\\mu^*` at ``t = 0..n_steps``; shape ``(n_steps+1,)`` for a single initial
        state, ``(n_steps+1, B)`` for a batch.
    c_phi : numpy.ndarray of float64
        :math:`C_\\phi(t,t) = \\frac1N \\sum_i \\tanh^2 x_i(t)`, same shape as ``overlaps``.
    energy : numpy.ndarray of float64
        :math:`\\varepsilon(t)` of :func:`energy`, same shape as ``overlaps``.
    states : numpy.ndarray of float64
        Final preactivations :math:`x(n_\\mathrm{steps})`, same shape as the initial states.
    """

    overlaps: np.ndarray
    c_phi: np.ndarray
    energy: np.ndarray
    states: np.ndarray


class _PatternProducts:
    """Blocked BLAS products with the patterns, ``M = phi xi^T / N`` and ``f(M) xi``.

    Keeps a float copy (float64 if it takes at most ``_F64_MAX_BYTES``, else float32) of all
    patterns if it takes at most ``_FULL_COPY_MAX_BYTES``; otherwise converts blocks of
    ``_BLOCK_ELEMENTS // N`` int8 patterns at every call.
    """

    def __init__(self, xi):
        self.xi = xi
        n_patterns, n_neurons = xi.shape
        size = n_patterns * n_neurons
        self.dtype = np.float64 if 8 * size <= _F64_MAX_BYTES else np.float32
        itemsize = np.dtype(self.dtype).itemsize
        self.full = xi.astype(self.dtype) if itemsize * size <= _FULL_COPY_MAX_BYTES else None

    def _blocks(self):
        n_patterns, n_neurons = self.xi.shape
        rows = max(1, _BLOCK_ELEMENTS // n_neurons)
        for start in range(0, n_patterns, rows):
            stop = min(n_patterns, start + rows)
            if self.full is not None:
                yield self.full[start:stop]
            else:
                yield self.xi[start:stop].astype(self.dtype)

    def power_sum_and_field(self, phi, n, field=True):
        """``(sum_mu m_mu^(n+1), sum_mu xi_mu m_mu^n)`` for a batch ``phi`` (B, N).

        Returns float64 arrays of shapes (B,) and (B, N) (the second is None if not ``field``).
        """
        batch, n_neurons = phi.shape
        ph = phi.astype(self.dtype)
        power_sum = np.zeros(batch)
        h = np.zeros((batch, n_neurons)) if field else None
        inv_n = 1.0 / n_neurons
        # |phi| <= 1 and xi = +-1 keep every product finite; multithreaded OpenBLAS can leave a
        # spurious "invalid" flag behind on 2-core machines (see hopfield._exact_matmul).
        with np.errstate(invalid="ignore", over="ignore"):
            for block in self._blocks():
                m = ph @ block.T
                m *= inv_n
                mn = _int_power(m, n)
                power_sum += np.einsum("bp,bp->b", mn, m, dtype=np.float64)
                if field:
                    h += mn @ block
        return power_sum, h


def _int_power(a, n):
    """``a**n`` for an integer ``n >= 1`` by repeated multiplication (much faster than pow)."""
    out = a.copy()
    for _ in range(n - 1):
        out *= a
    return out


def _energy_from(power_sum, x, phi, n, g, alpha):
    return -(g / ((n + 1) * math.sqrt(alpha))) * power_sum + np.mean(
        single_site_energy(x, phi), axis=-1
    )


def _check_graded_args(patterns, x, n, g, alpha, name="states"):
    xi = _check_patterns(patterns)
    n_patterns, n_neurons = xi.shape
    n = _check_order(n)
    g = _check_positive(g, "g (gain)")
    alpha = _check_positive(alpha, "alpha (load)")
    arr = _check_preactivations(x, n_neurons, name)
    _check_load(n_patterns, n_neurons, n, alpha)
    return xi, arr, n, g, alpha


def _graded_products(patterns, states, n, g, alpha, field):
    """Validated arguments and the pattern products of graded states (:func:`energy`).

    Returns ``(single, batch, phi, power_sum, h, (n, g, alpha))``: whether one state was
    given, the states as a (B, N) batch, ``phi = tanh(batch)`` and
    :meth:`_PatternProducts.power_sum_and_field` (``h`` is None unless ``field``).
    """
    xi, arr, n, g, alpha = _check_graded_args(patterns, states, n, g, alpha)
    batch = np.atleast_2d(arr)
    phi = np.tanh(batch)
    with blas_threads_for(batch.shape[0] * xi.size):
        power_sum, h = _PatternProducts(xi).power_sum_and_field(phi, n, field=field)
    return arr.ndim == 1, batch, phi, power_sum, h, (n, g, alpha)


def simulate(
    patterns, initial_states, n, g, alpha, dt, n_steps, *, cue_index=None
) -> GradedTrajectory:
    r"""Discrete-time dynamics of the graded dense associative memory.

    .. math::
        x_i(t) = (1-\Delta t)\, x_i(t-1)
                 + \Delta t\, \frac{g}{\sqrt\alpha} \sum_\mu \xi_i^\mu\, m_\mu(t-1)^n,
        \qquad m_\mu(t) = \frac1N \sum_i \xi_i^\mu \tanh x_i(t),

    with self-couplings included (all sums over all neurons) and :math:`P = \alpha N^n`.  For
    ``n = 1`` this is the Hopfield network with couplings
    :math:`\frac{g}{\sqrt\alpha}\frac1N \sum_\mu \xi_i^\mu \xi_j^\mu`, diagonal kept.  As
    :math:`\Delta t \to 0` the energy :math:`\varepsilon` (:func:`energy`) never increases.

    A batch of ``B`` trials sharing the patterns is advanced with two matrix products per step,
    :math:`M = \Phi \xi^T / N` and :math:`M^{\circ n} \xi`, done block-wise over patterns with
    BLAS.  Preactivations are float64; the products are float64 when a float64 copy of the
    patterns takes at most 64 MB and float32 otherwise (relative rounding ~1e-7, which shows
    in :math:`\varepsilon` at the 1e-6 level).  Runs whose products have fewer than
    :math:`2^{27}` multiply-adds (:math:`BPN`) use single-threaded BLAS, which is faster for
    them (OpenBLAS threads spin between calls).

    Memory: the int8 patterns (``PN`` bytes) plus a float copy (``8PN`` or ``4PN`` bytes) if it
    takes at most 320 MB; otherwise blocks of :math:`2^{22}/N` patterns are converted at every
    step (about 2x slower, 16 MB per block).  Temporaries: ``O(B N + B 2^{22}/N)`` floats.  E.g.
    ``n = 2``, ``N = 1000``, ``alpha = 0.1`` (``P = 10^5``): 100 MB of int8 patterns + 16 MB
    per block; ``n = 2``, ``N = 800``, ``alpha = 0.1``: 51 MB + a 205 MB float32 copy.

    Parameters
    ----------
    patterns : array_like of +-1, shape (P, N)
        ``P`` must equal :math:`\mathrm{round}(\alpha N^n)` within 1.
    initial_states : array_like of float, shape (N,) or (B, N)
        Initial preactivations :math:`x(0)`, e.g. :math:`x = a\xi^{\mu^*} + z` with Gaussian
        ``z``; a batch of ``B`` trials shares the patterns.
    n : int
        Interaction order ``>= 1`` (odd ``n > 1`` is allowed here).
    g : float
        Gain ``> 0``.
    alpha : float
        Load ``> 0``; sets the coupling scale :math:`g/\sqrt\alpha`.
    dt : float
        Time step in ``(0, 1]``; ``dt = 1`` gives :math:`x(t) = \text{input}(t-1)`.
    n_steps : int
        Number of steps ``>= 0``.
    cue_index : int or array_like of int, optional
        Keyword-only.  Pattern whose overlap is recorded (per trial for an array of length
        ``B``); default 0.

    Returns
    -------
    GradedTrajectory
        ``(overlaps, c_phi, energy, states)``: see :class:`GradedTrajectory`.
    """
    xi, x, n, g, alpha = _check_graded_args(
        patterns, initial_states, n, g, alpha, name="initial_states"
    )
    dt = check_fraction(dt, "dt", 0.0, 1.0, closed_low=False)
    n_steps = check_nonneg_int(n_steps, "n_steps")
    single = x.ndim == 1
    batch = x.reshape(1, -1) if single else x
    check_size((n_steps + 1, batch.shape[0]), "the trajectory (n_steps + 1, B)", copies=3)
    cue = _check_cue_index(
        0 if cue_index is None else cue_index, xi.shape[0], None if single else batch.shape[0]
    )
    with blas_threads_for(batch.shape[0] * xi.size):
        m, c_phi, eps, x_final = _simulate(xi, batch, n, g, alpha, dt, n_steps, cue)
    if single:
        return GradedTrajectory(m[:, 0], c_phi[:, 0], eps[:, 0], x_final[0])
    return GradedTrajectory(m, c_phi, eps, x_final)


def _simulate(xi, x, n, g, alpha, dt, n_steps, cue):
    n_neurons = xi.shape[1]
    batch = x.shape[0]
    prod = _PatternProducts(xi)
    cued = xi[cue].astype(np.float64)  # (B, N)
    scale = g / math.sqrt(alpha)
    m = np.empty((n_steps + 1, batch))
    c_phi = np.empty((n_steps + 1, batch))
    eps = np.empty((n_steps + 1, batch))
    for t in range(n_steps + 1):
        phi = np.tanh(x)
        more = t < n_steps
        power_sum, h = prod.power_sum_and_field(phi, n, field=more)
        m[t] = np.einsum("bi,bi->b", phi, cued) / n_neurons
        c_phi[t] = np.mean(phi * phi, axis=1)
        eps[t] = _energy_from(power_sum, x, phi, n, g, alpha)
        if more:
            x = (1.0 - dt) * x + (dt * scale) * h
    return m, c_phi, eps, x


def energy(patterns, states, n, g, alpha):
    r"""Energy (Lyapunov function) of the graded dense associative memory.

    .. math::
        \varepsilon = -\frac{g}{(n+1)\sqrt\alpha} \sum_\mu m_\mu^{n+1}
                      + \frac1N \sum_i F(\phi_i),
        \qquad F(\phi) = x\phi - \log\cosh x, \quad \phi = \tanh x,

    with :math:`m_\mu = \frac1N \sum_i \xi_i^\mu \phi_i`; :math:`F'(\phi) = \operatorname{artanh}
    \phi`, so :math:`d\varepsilon/dt \le 0` along :math:`\dot x = -x + \frac{g}{\sqrt\alpha}
    \sum_\mu \xi^\mu m_\mu^n`.  ``log cosh`` is evaluated stably as
    :math:`|x| + \operatorname{log1p}(e^{-2|x|}) - \log 2`.

    Parameters
    ----------
    patterns : array_like of +-1, shape (P, N)
        ``P`` must equal :math:`\mathrm{round}(\alpha N^n)` within 1.
    states : array_like of float, shape (N,) or (B, N)
        Preactivations :math:`x`.
    n : int
        Interaction order ``>= 1``.
    g, alpha : float
        Gain and load, both ``> 0``.

    Returns
    -------
    float or numpy.ndarray of float64
        A float for a single state, shape ``(B,)`` for a batch.
    """
    single, batch, phi, power_sum, _, (n, g, alpha) = _graded_products(
        patterns, states, n, g, alpha, field=False
    )
    e = _energy_from(power_sum, batch, phi, n, g, alpha)
    return float(e[0]) if single else e


def input_variance(patterns, states, n, g, alpha) -> float:
    r"""Variance of the total input over neurons (and trials).

    The input to neuron ``i`` is :math:`u_i = \frac{g}{\sqrt\alpha} \sum_\mu \xi_i^\mu m_\mu^n`
    with :math:`m_\mu = \frac1N \sum_j \xi_j^\mu \tanh x_j` and :math:`P = \alpha N^n`.  Returns
    :math:`\frac{1}{BN} \sum_{b,i} (u_{bi} - \bar u)^2` (population variance over all entries).
    For a random state it stays :math:`O(1)` as ``N`` grows for ``n = 1`` and even ``n``, but
    grows with ``N`` for odd ``n > 1``: with self-couplings included, the :math:`\mu`-sum of
    :math:`n\, m_\mu^{n-1} \xi_i^\mu \phi_i / N` has a nonzero mean for odd ``n``.

    Parameters
    ----------
    patterns : array_like of +-1, shape (P, N)
        ``P`` must equal :math:`\mathrm{round}(\alpha N^n)` within 1.
    states : array_like of float, shape (N,) or (B, N)
        Preactivations :math:`x`, e.g. random states :math:`x = g z`.
    n : int
        Interaction order ``>= 1`` (odd ``n > 1`` allowed: it shows the growth).
    g, alpha : float
        Gain and load ``> 0``; the input scale is :math:`g/\sqrt\alpha`.

    Returns
    -------
    float
        Variance of :math:`u_{bi}` over all neurons and states.
    """
    *_, h, (_, g, alpha) = _graded_products(patterns, states, n, g, alpha, field=True)
    out = float(np.var(h * (g / math.sqrt(alpha))))
    check_finite_result(out, "the input variance", "g / sqrt(alpha) is too large (overflow)")
    return out


# --------------------------------------------------------------------------
# graded model: static mean-field theory (Clark 2026, Appendix B)
# --------------------------------------------------------------------------

# Averages over the Gaussian field are integrals over x (see _site_moments), on a uniform grid
# of this spacing, which the trapezoidal rule integrates to near machine precision.
_QUAD_STEP = 0.1
_QUAD_MIN_STEP = 0.005
_QUAD_HALF_WIDTH = 10.0  # in standard deviations of the Gaussian field
# Largest quadrature grid (bounded cost: n = 6 at g = 1.5, about 1e6 points, takes ~20 s).
_QUAD_MAX_POINTS = 2_000_000


class FixedPoint(NamedTuple):
    """Retrieval fixed point of the static mean-field theory (:func:`fixed_point`).

    Attributes
    ----------
    m : float
        Overlap :math:`m = \\langle \\xi \\phi(x) \\rangle`.
    c_phi : float
        :math:`C_\\phi = \\langle \\phi(x)^2 \\rangle`.
    s_phi : float
        Static response :math:`S_\\phi = \\langle \\phi'(x) / (1 - F\\phi'(x)) \\rangle`.
    c_eta : float
        Variance :math:`C_\\eta` of the Gaussian crosstalk field.
    F : float
        Self-coupling (reaction term) :math:`F < 1`.
    m_bar : float
        Normalised overlap :math:`\\bar m = m / \\sqrt{C_\\phi}`.
    lam : float
        Stability parameter :math:`\\lambda` (:func:`fixed_point`); the solution is locally
        stable against incoherent perturbations for :math:`\\lambda < 1`.
    residual : float
        Largest absolute residual of the three self-consistency equations.
    """

    m: float
    c_phi: float
    s_phi: float
    c_eta: float
    F: float
    m_bar: float
    lam: float
    residual: float


class CriticalCapacity(NamedTuple):
    """End of the retrieval branch of the static theory (:func:`critical_capacity`).

    Attributes
    ----------
    alpha_c : float
        Largest load at which the retrieval solution exists (with :math:`F < 1`).
    m_bar : float
        :math:`\\bar m` at ``alpha_c``.
    limit : str
        How the branch ends: ``"saddle-node"`` (it merges with an unstable solution) or
        ``"self-coupling"`` (:math:`F \\to 1`: the single-site equation becomes bistable).
    alpha_stable : float
        Largest load at which the retrieval solution is also stable (:math:`\\lambda < 1`);
        equals ``alpha_c`` when the branch stays stable up to its end.
    m_bar_stable : float
        :math:`\\bar m` at ``alpha_stable``.
    """

    alpha_c: float
    m_bar: float
    limit: str
    alpha_stable: float
    m_bar_stable: float


def _nonzero_part(func, arg):
    """``func(arg)`` for ``func`` = exp or expit, evaluated only where it is not exactly 0.

    Both are 0 in double precision for ``arg < -746``; far out on the quadrature grid most
    arguments are, and there the library functions are slow (underflow), so they are skipped.
    The result is bit for bit ``func(arg)``.
    """
    out = np.zeros_like(arg)
    keep = arg > -746.0
    out[keep] = func(arg[keep])
    return out


def _site_moments(s0, sig, f_self, chi2=False):
    r"""Gaussian averages for the single-site equation :math:`x = s_0 + \sigma z + F\tanh x`.

    Changing variables from ``z`` to ``x`` (monotone for ``F < 1``),
    :math:`z(x) = (x - F\tanh x - s_0)/\sigma`, :math:`dz = (1 - F\phi'(x))\,dx/\sigma`, turns
    every average into an explicit integral over ``x``, e.g. :math:`S_\phi = \langle
    \phi'/(1-F\phi') \rangle = \int \phi'(x)\, \mathcal N(z(x))\, dx/\sigma`, with no root
    finding.  (Gauss-Hermite quadrature in ``z`` converges badly here: ``x(z)`` has
    a branch point at distance ~ :math:`(1-F)^{3/2}` from the real axis.)  For ``F >= 1`` the
    same integrals are the analytic continuation (branches counted with sign), used only to
    locate ``F = 1``.

    The grid spacing is ``_QUAD_STEP`` (0.1); with ``chi2`` it is reduced to
    :math:`0.2 \arccos\sqrt F` (at least ``_QUAD_MIN_STEP``) as :math:`F \to 1` so that
    :math:`\langle\chi^2\rangle` stays accurate.  Returns ``(1 - m, 1 - C_phi, S_phi, <chi^2>)``
    with :math:`\chi = \phi'/(1 - F\phi')` (``nan`` unless ``chi2``; ``inf`` for ``F >= 1``).
    """
    half = max(_QUAD_HALF_WIDTH, s0 / sig + 8.0)
    lo = s0 - half * sig - abs(f_self)
    hi = s0 + half * sig + abs(f_self)
    step = _QUAD_STEP
    if chi2 and 0.0 < f_self < 1.0:
        # chi = phi'/(1 - F phi') has poles at distance acos(sqrt(F)) from the real axis
        step = max(_QUAD_MIN_STEP, min(step, 0.2 * math.acos(math.sqrt(f_self))))
    span = (hi - lo) / step
    if not span < _QUAD_MAX_POINTS:
        raise ValueError(
            f"the mean-field equations at this point need a quadrature grid of {span:.3g} "
            f"points (field mean {s0:.3g} and standard deviation {sig:.3g}, far larger than "
            f"the width 1 of tanh); the solver supports up to {_QUAD_MAX_POINTS:.0e}: use a "
            f"smaller order n or gain g (n <= 4 and g <= 5 work)"
        )
    n_x = int(math.ceil(span)) + 1
    x = np.linspace(lo, hi, n_x)
    dx = x[1] - x[0]
    t = np.tanh(x)
    e = _nonzero_part(np.exp, -2.0 * np.abs(x))
    p = 4.0 * e / (1.0 + e) ** 2  # sech^2 x = phi'(x), no cancellation
    one_minus_t = 2.0 * _nonzero_part(expit, -2.0 * x)
    z = (x - f_self * t - s0) / sig
    rho = _nonzero_part(np.exp, -0.5 * z * z) * (dx / (math.sqrt(2.0 * math.pi) * sig))
    dens = rho * (1.0 - f_self * p)
    if not chi2:
        mean_chi2 = math.nan
    elif f_self < 1.0:
        mean_chi2 = float(rho @ (p * p / (1.0 - f_self * p)))
    else:
        mean_chi2 = math.inf
    return float(dens @ one_minus_t), float(dens @ p), float(rho @ p), mean_chi2


def _closure(n, g, alpha, c_phi, s_phi):
    """``(C_eta, F, bulk)`` from the order parameters; ``bulk * <chi^2>`` is lambda."""
    if n == 1:
        k = 1.0 / (1.0 - (g / math.sqrt(alpha)) * s_phi)
        return g * g * k * k * c_phi, g * math.sqrt(alpha) * k, g * g * k * k
    c = double_factorial(2 * n - 1)
    return (
        c * g * g * c_phi**n,
        n * c * g * g * s_phi * c_phi ** (n - 1),
        n * n * double_factorial(2 * n - 3) * g * g * c_phi ** (n - 1),
    )


def _evaluate(n, g, log_alpha, u, w, y, with_lam=False):
    """Map the log-variables through one pass of the self-consistency equations.

    Variables: ``1 - m = exp(-u)``, ``1 - C_phi = exp(w)``, ``S_phi = exp(y)``.  Returns
    ``(residuals, info)`` or ``(None, None)`` outside the domain (``K <= 0`` for ``n = 1``).
    """
    alpha = math.exp(log_alpha)
    m = -math.expm1(-u)
    c_phi = -math.expm1(w)
    s_phi = math.exp(y)
    if not (0.0 < c_phi <= 1.0 and m > 0.0):
        return None, None
    if n == 1 and (g / math.sqrt(alpha)) * s_phi >= 1.0:
        return None, None
    c_eta, f_self, bulk = _closure(n, g, alpha, c_phi, s_phi)
    s0 = (g / math.sqrt(alpha)) * m**n
    one_minus_m, q, s_new, chi2 = _site_moments(s0, math.sqrt(c_eta), f_self, chi2=with_lam)
    if not (one_minus_m > 0.0 and q > 0.0 and s_new > 0.0):
        return None, None
    res = np.array([-math.log(one_minus_m) - u, math.log(q) - w, math.log(s_new) - y])
    info = (m, c_phi, s_phi, c_eta, f_self, bulk * chi2, one_minus_m, q, s_new)
    return res, info


def _newton(fun, v0, tol=1e-11, max_iter=40):
    """Newton's method with a forward-difference Jacobian and backtracking; None on failure."""
    v = np.array(v0, dtype=float)
    r = fun(v)
    if r is None:
        return None
    for _ in range(max_iter):
        norm = float(np.max(np.abs(r)))
        if norm < tol:
            return v
        jac = np.empty((3, 3))
        for k in range(3):
            h = 1e-7 * max(1.0, abs(v[k]))
            dv = v.copy()
            dv[k] += h
            rk = fun(dv)
            if rk is None:
                dv[k] -= 2 * h
                rk = fun(dv)
                if rk is None:
                    return None
                h = -h
            jac[:, k] = (rk - r) / h
        try:
            step = np.linalg.solve(jac, -r)
        except np.linalg.LinAlgError:
            return None
        lam = 1.0
        while True:
            trial = v + lam * step
            rt = fun(trial)
            if rt is not None and np.all(np.isfinite(rt)) and np.max(np.abs(rt)) < norm:
                v, r = trial, rt
                break
            lam *= 0.5
            if lam < 1e-6:
                return None
    return v if float(np.max(np.abs(r))) < tol else None


def _solve_at_alpha(n, g, log_alpha, guess):
    """Solve for ``(u, w, y)`` at fixed load; None on failure."""
    return _newton(lambda v: _evaluate(n, g, log_alpha, *v)[0], guess)


def _solve_at_u(n, g, u, guess):
    """Solve for ``(log_alpha, w, y)`` at fixed ``u = -log(1 - m)``; None on failure."""
    return _newton(lambda v: _evaluate(n, g, v[0], u, v[1], v[2])[0], guess)


def _info(n, g, log_alpha, u, w, y, with_lam=False):
    """``(m, C_phi, S_phi, C_eta, F, lambda, 1 - m', 1 - C_phi', S_phi')`` (primes: new values);
    lambda is nan unless ``with_lam``."""
    return _evaluate(n, g, log_alpha, u, w, y, with_lam)[1]


@functools.cache
def _branch(n: int, g: float):
    """Trace the retrieval branch, parameterised by ``u = -log(1 - m)``, from small load.

    Returns a dict with arrays ``u, log_alpha, w, y`` (columns of the branch up to its end,
    in order of increasing load) and the end point data.
    """
    c = double_factorial(2 * n - 1)
    # start where the signal-to-noise ratio s0 / sigma ~ 1/sqrt(alpha (2n-1)!!) is about 7, the
    # signal s0 ~ g / sqrt(alpha) is at least 7 and, for n = 1, F ~ g sqrt(alpha) at most 1/2
    alpha0 = min(1.0 / (49.0 * c), (g / 7.0) ** 2)
    if n == 1:
        alpha0 = min(alpha0, (0.5 / g) ** 2)
    # bounded cost: the quadrature grids are largest at the start (signal s0, noise sigma)
    s0, sig = g / math.sqrt(alpha0), g * math.sqrt(c)
    span = 2.0 * (s0 + 8.0 * sig) / _QUAD_MIN_STEP
    if span > _QUAD_MAX_POINTS:
        raise ValueError(
            f"the mean-field theory for n={n}, g={g} needs quadrature grids of about "
            f"{span:.3g} points (signal {s0:.3g} and noise {sig:.3g} of the single-site field "
            f"at small load), more than the solver's limit of {_QUAD_MAX_POINTS:.0e}: use a "
            f"smaller order n or gain g (e.g. n <= 6 at g = 1.5, n = 1 up to g = 10)"
        )
    la0 = math.log(alpha0)
    # guess by fixed-point iteration from the pattern (m = C = 1, S = 0)
    m, c_phi, s_phi = 1.0, 1.0, 0.0
    for _ in range(50):
        c_eta, f_self, _ = _closure(n, g, alpha0, c_phi, s_phi)
        one_minus_m, q, s_phi, _ = _site_moments(
            (g / math.sqrt(alpha0)) * m**n, math.sqrt(c_eta), f_self
        )
        m, c_phi = 1.0 - one_minus_m, 1.0 - q
    if not (one_minus_m > 0.0 and q > 0.0 and s_phi > 0.0):
        raise ValueError(
            f"the mean-field theory for n={n}, g={g} cannot be started: at small load the "
            f"overlap equals 1 to machine precision (1 - m = {one_minus_m:.3g}); use a smaller "
            f"gain (n = 1 works up to about g = 10)"
        )
    v = _solve_at_alpha(n, g, la0, [-math.log(one_minus_m), math.log(q), math.log(s_phi)])
    if v is None or _info(n, g, la0, *v)[4] >= 1.0:  # pragma: no cover - defensive
        raise ValueError(
            f"no retrieval solution with F < 1 found at small load alpha={alpha0:g} (n={n}, g={g})"
        )
    rows = [(v[0], la0, v[1], v[2])]
    end = None
    du = 0.02 * v[0] + 0.05
    while end is None:
        u_prev, la_prev, w_prev, y_prev = rows[-1]
        if len(rows) >= 2:
            slope = (np.array(rows[-1][1:]) - np.array(rows[-2][1:])) / (rows[-1][0] - rows[-2][0])
        else:
            slope = np.zeros(3)
        u_new = u_prev - du
        guess = np.array([la_prev, w_prev, y_prev]) - du * slope
        sol = _solve_at_u(n, g, u_new, guess) if u_new > 0 else None
        if sol is None:
            du *= 0.5
            if du < 1e-9:
                end = ("stall", len(rows) - 1)
            continue
        f_self = _info(n, g, sol[0], u_new, sol[1], sol[2])[4]
        rows.append((u_new, sol[0], sol[1], sol[2]))
        if sol[0] < la_prev:
            end = ("saddle-node", len(rows) - 1)
        elif f_self >= 1.0:
            end = ("self-coupling", len(rows) - 1)
        du = min(0.02 * u_new + 0.05, 2.0 * du)
        if len(rows) > 5000:  # pragma: no cover - defensive
            raise RuntimeError("retrieval branch did not end")
    arr = np.array(rows)
    kind, k = end

    def at_u(u, near):
        sol = _solve_at_u(n, g, u, arr[near, 1:])
        if sol is None:  # pragma: no cover - defensive
            raise ValueError(f"branch continuation failed at u={u} (n={n}, g={g})")
        return sol

    if kind == "saddle-node":
        # maximise log alpha(u) over the last three points
        lo, hi = arr[k, 0], arr[k - 2, 0] if k >= 2 else arr[k - 1, 0]
        opt = minimize_scalar(
            lambda u: -at_u(u, k - 1)[0],
            bounds=(lo, hi),
            method="bounded",
            options={"xatol": 1e-10},
        )
        u_end = float(opt.x)
    elif kind == "self-coupling":
        u_end = brentq(
            lambda u: _info(n, g, *_reorder(u, at_u(u, k - 1)))[4] - 1.0,
            arr[k, 0],
            arr[k - 1, 0],
            xtol=1e-12,
        )
    else:  # pragma: no cover - defensive
        raise ValueError(
            f"the retrieval branch stalled at u={arr[k, 0]:.4g} (n={n}, g={g}): the solver "
            f"cannot trace the theory at this gain"
        )
    sol_end = at_u(u_end, k - 1)
    # keep the points strictly before the end, then the end point itself
    keep = arr[:k]
    keep = keep[keep[:, 0] > u_end]
    branch = np.vstack([keep, [u_end, *sol_end]])
    lams = np.array([_info(n, g, *_reorder(r[0], r[1:]), with_lam=True)[5] for r in branch])
    # stability limit: first crossing of lambda = 1
    if np.all(lams[:-1] < 1.0) and lams[-1] < 1.0:
        u_stab, sol_stab = u_end, sol_end
    else:
        j = int(np.flatnonzero(lams >= 1.0)[0])
        u_stab = brentq(
            lambda u: _info(n, g, *_reorder(u, at_u(u, j - 1)), with_lam=True)[5] - 1.0,
            branch[j, 0],
            branch[j - 1, 0],
            xtol=1e-12,
        )
        sol_stab = at_u(u_stab, j - 1)
    return {
        "table": branch,  # columns u, log_alpha, w, y
        "kind": kind,
        "end": (u_end, *sol_end),
        "stable_end": (u_stab, *sol_stab),
    }


def _reorder(u, sol):
    """``(log_alpha, u, w, y)`` from ``u`` and ``(log_alpha, w, y)``."""
    return sol[0], u, sol[1], sol[2]


def _check_g(g) -> float:
    g = _check_positive(g, "g (gain)")
    if not _GAIN_RANGE[0] <= g <= _GAIN_RANGE[1]:
        raise ValueError(
            f"g (gain) must lie in [{_GAIN_RANGE[0]:g}, {_GAIN_RANGE[1]:g}] for the mean-field "
            f"solvers; got {g}"
        )
    return g


# Gains the mean-field solvers accept (beyond, the start of the branch over- or underflows).
_GAIN_RANGE = (1e-3, 1e3)


def critical_capacity(n, g) -> CriticalCapacity:
    r"""End of the retrieval branch of the static mean-field theory (:func:`fixed_point`).

    The branch is traced from small load, parameterised by :math:`u = -\log(1 - m)` (so that a
    saddle-node in :math:`\alpha` is a regular point), with Newton's method at every step.  It
    ends either at a saddle-node (the maximum of :math:`\alpha(u)`, located with Brent's method)
    or where the self-coupling reaches :math:`F = 1` (root of :math:`F(u) - 1`), beyond which
    the single-site equation :math:`x = A + F\tanh x` has several solutions and the theory with
    a unique local solution does not apply.  ``alpha_stable`` is the first load at which the
    stability parameter :math:`\lambda` reaches 1 (or ``alpha_c`` if it stays below).  Results
    are cached per ``(n, g)``.

    At ``g = 1.5`` (``n = 1``: saddle-node; ``n = 2, 4``: ``F -> 1``, after ``lambda = 1``)::

        n = 1: alpha_c = 0.13092, alpha_stable = 0.13092
        n = 2: alpha_c = 0.08236, alpha_stable = 0.07727
        n = 4: alpha_c = 0.001174, alpha_stable = 0.001120

    Parameters
    ----------
    n : int
        Interaction order, 1 or even.
    g : float
        Gain ``> 0``.

    Returns
    -------
    CriticalCapacity
        ``(alpha_c, m_bar, limit, alpha_stable, m_bar_stable)``.
    """
    n = check_theory_order(n)
    g = _check_g(g)
    br = _branch(n, g)
    u_end, la_end, w_end, _ = br["end"]
    u_st, la_st, w_st, _ = br["stable_end"]

    def mbar(u, w):
        return -math.expm1(-u) / math.sqrt(-math.expm1(w))

    return CriticalCapacity(
        alpha_c=math.exp(la_end),
        m_bar=mbar(u_end, w_end),
        limit=br["kind"],
        alpha_stable=math.exp(la_st),
        m_bar_stable=mbar(u_st, w_st),
    )


def _solve_load(n, g, alpha):
    """``(log_alpha, u, w, y)`` of the retrieval solution at ``alpha``, or None beyond the end."""
    br = _branch(n, g)
    table = br["table"]
    la = math.log(alpha)
    if la > table[-1, 1]:
        return None
    if la <= table[0, 1]:
        guess = table[0, [0, 2, 3]]
    else:
        guess = np.array([np.interp(la, table[:, 1], table[:, c]) for c in (0, 2, 3)])
    sol = _solve_at_alpha(n, g, la, guess)
    if sol is not None and sol[0] >= table[-1, 0] - 1e-9:
        return la, sol[0], sol[1], sol[2]
    # near the saddle-node: find u on the retrieval side with alpha(u) = alpha
    k = int(np.searchsorted(table[:, 1], la))
    k = min(max(k, 1), len(table) - 1)

    def at_u(u):
        s = _solve_at_u(n, g, u, table[k, 1:])
        if s is None:  # pragma: no cover - defensive
            raise ValueError(f"branch continuation failed at u={u} (n={n}, g={g})")
        return s

    u = brentq(lambda uu: at_u(uu)[0] - la, table[k, 0], table[k - 1, 0], xtol=1e-13)
    s = at_u(u)
    return la, u, s[1], s[2]


def fixed_point(n, g, alpha) -> FixedPoint | None:
    r"""Retrieval fixed point of the static mean-field theory (Clark 2026, Appendix B).

    With :math:`\sigma_\xi = 1`, a site with pattern bit :math:`\xi = +1` (enough, since
    :math:`\tanh` is odd) obeys

    .. math::
        x = \frac{g}{\sqrt\alpha}\, m^n + \eta + F\tanh x,
        \qquad \eta \sim \mathcal N(0, C_\eta),

    .. math::
        m = \langle \phi(x) \rangle, \quad C_\phi = \langle \phi(x)^2 \rangle, \quad
        S_\phi = \left\langle \frac{\phi'(x)}{1 - F\phi'(x)} \right\rangle,

    closed by

    * ``n = 1``: :math:`C_\eta = g^2 K^2 C_\phi`, :math:`F = g\sqrt\alpha\, K`,
      :math:`K = 1/(1 - \frac{g}{\sqrt\alpha} S_\phi)`;
    * even ``n``: :math:`C_\eta = (2n-1)!!\, g^2 C_\phi^n`,
      :math:`F = n (2n-1)!!\, g^2 S_\phi C_\phi^{n-1}`.

    The stability parameter (edge of the bulk spectrum of the Jacobian at the fixed point) is
    :math:`\lambda = \Sigma^2 \langle \chi^2 \rangle` with :math:`\chi = \phi'/(1-F\phi')` and
    :math:`\Sigma^2 = g^2 K^2` (``n = 1``) or :math:`n^2 (2n-3)!!\, g^2 C_\phi^{n-1}` (even ``n``);
    :math:`\lambda < 1` means locally stable.

    Averages are integrals over ``x`` on a uniform grid (see :func:`_site_moments`), accurate to
    ~1e-12; the equations are solved by Newton's method in the variables
    :math:`\log(1-m), \log(1-C_\phi), \log S_\phi`, starting from the traced branch
    (:func:`critical_capacity`).

    Parameters
    ----------
    n : int
        Interaction order, 1 or even (odd ``n > 1`` raises ValueError).
    g : float
        Gain ``> 0``.
    alpha : float
        Load ``> 0``.

    Returns
    -------
    FixedPoint or None
        None if :math:`\alpha > \alpha_c` (no retrieval solution with :math:`F < 1`).
    """
    n = check_theory_order(n)
    g = _check_g(g)
    alpha = _check_positive(alpha, "alpha (load)")
    sol = _solve_load(n, g, alpha)
    if sol is None:
        return None
    la, u, w, y = sol
    m, c_phi, s_phi, c_eta, f_self, lam, one_minus_m, q, s_new = _info(n, g, la, u, w, y, True)
    residual = max(abs((1.0 - one_minus_m) - m), abs((1.0 - q) - c_phi), abs(s_new - s_phi))
    return FixedPoint(
        m=m,
        c_phi=c_phi,
        s_phi=s_phi,
        c_eta=c_eta,
        F=f_self,
        m_bar=m / math.sqrt(c_phi),
        lam=lam,
        residual=residual,
    )


def retrieval_curve(n, g, alphas) -> np.ndarray:
    r"""Normalised retrieval overlap :math:`\bar m = m/\sqrt{C_\phi}` of :func:`fixed_point`.

    Parameters
    ----------
    n : int
        Interaction order, 1 or even.
    g : float
        Gain ``> 0``.
    alphas : float or array_like
        Loads ``>= 0``; :math:`\bar m = 1` at :math:`\alpha = 0`.

    Returns
    -------
    float or numpy.ndarray of float64
        Same shape as ``alphas``; ``nan`` where :math:`\alpha > \alpha_c` (no retrieval).
    """
    n = check_theory_order(n)
    g = _check_g(g)
    a = check_nonneg_float_array(alphas, "alphas")
    out = np.empty(a.size)
    for k, alpha in enumerate(a.ravel()):
        if alpha == 0.0:
            out[k] = 1.0
            continue
        sol = _solve_load(n, g, float(alpha))
        if sol is None:
            out[k] = math.nan
        else:
            _, u, w, _ = sol
            out[k] = -math.expm1(-u) / math.sqrt(-math.expm1(w))
    out = out.reshape(a.shape)
    return float(out) if out.ndim == 0 else out
