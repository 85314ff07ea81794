r"""Primitives shared by several :mod:`memlab` modules (private: no API stability promise).

Each job lives here once, so that modules agree to the bit:

* :func:`random_pm1`: independent random :math:`\pm 1` entries (patterns, SDM addresses);
* :func:`flip_k_bits`: flip exactly ``k`` distinct, uniformly chosen entries of each row;
* :func:`init_overlaps`: exact integer overlaps :math:`M_{b\mu} = \sum_i \xi_i^\mu s_{bi}` (numba);
* :func:`double_factorial`, :func:`log_cosh`, :func:`single_site_energy`: small formulas of
  the mean-field theories;
* :func:`blas_threads_for`, :func:`numba_threads_for`: one thread for small runs (of matrix
  products, of numba parallel kernels).

The helpers do not validate their inputs; the public functions that call them do.  They keep
the random streams of the code they replace (same generator calls, in the same order), so that
seeded results do not change.
"""

from __future__ import annotations

import contextlib
import math

import numba
import numpy as np
from numba import njit, prange

from memlab._threads import single_threaded_blas

__all__ = [
    "SMALL_BLAS_WORK",
    "blas_threads_for",
    "SMALL_PARALLEL_WORK",
    "numba_threads_for",
    "random_pm1",
    "flip_k_bits",
    "init_overlaps",
    "double_factorial",
    "log_cosh",
    "single_site_energy",
]


# Runs whose matrix products have fewer multiply-adds than this use single-threaded BLAS.
# OpenBLAS threads spin between calls; next to numba's workers, or on a loaded machine, they
# made small products several times slower (measured 2026-12-02 on a loaded 2-core machine: a
# hopfield capacity sweep at N = 1000, B = 24, P <= 200 took 12-16 s instead of 0.9-1.5 s; a
# dense.simulate run with B = 8, P = 8000, N = 400 took 36 s instead of 6 s).
SMALL_BLAS_WORK = 2**27


def blas_threads_for(work: int):
    """Context manager: single-threaded BLAS if ``work < SMALL_BLAS_WORK``, else no change.

    Parameters
    ----------
    work : int
        Multiply-adds of the largest matrix product of the run, e.g. ``B * P * N``.

    Returns
    -------
    contextlib.AbstractContextManager
        :func:`memlab._threads.single_threaded_blas` or a null context.
    """
    return single_threaded_blas() if work < SMALL_BLAS_WORK else contextlib.nullcontext()


# Runs of numba ``parallel=True`` kernels with less work than this (e.g. B * P * N operations
# per sweep, about 10-20 ms on one core) use one numba thread.  Every parallel region waits for
# all its threads; on a loaded machine each wait costs about a scheduler time slice.  Measured
# 2026-12-02 on the loaded 2-core machine: a small asynchronous simulate call (B = 3, N = 30,
# P = 8, 4 sweeps) took 110-130 ms with two threads and 1.3 ms with one; the asynchronous
# capacity sweep of the Chapter 1 exercise (N = 1000, B = 24, P <= 200) 4.0-4.4 s with the
# limit at 2**20 and 0.7 s with it at 2**24.  Results do not depend on the number of threads.
SMALL_PARALLEL_WORK = 2**24


@contextlib.contextmanager
def numba_threads_for(work: int):
    """Context manager: one numba thread if ``work < SMALL_PARALLEL_WORK``, else no change.

    Parameters
    ----------
    work : int
        Operations of one call of the run's largest parallel kernel, e.g. ``B * P * N``.

    Returns
    -------
    contextlib.AbstractContextManager
        Sets :func:`numba.set_num_threads` to 1 inside the block (restored on exit).
    """
    if work >= SMALL_PARALLEL_WORK:
        yield
        return
    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(before)


def random_pm1(shape, rng: np.random.Generator, bias: float = 0.0) -> np.ndarray:
    r"""Independent random :math:`\pm 1` entries with mean ``bias``.

    Each entry is :math:`+1` with probability :math:`(1 + b)/2`.  For ``bias == 0`` the bits
    come from one ``rng.integers(0, 2, shape, dtype=int8)`` call, otherwise from one
    ``rng.random(shape)`` call.

    Parameters
    ----------
    shape : int or tuple of int
        Shape of the result.
    rng : numpy.random.Generator
        Source of randomness.
    bias : float, optional
        Mean :math:`b` in ``(-1, 1)`` (default 0).

    Returns
    -------
    numpy.ndarray of int8
        Fresh array of the given shape.
    """
    if bias == 0.0:
        bits = rng.integers(0, 2, size=shape, dtype=np.int8)
        bits *= 2
        bits -= 1
        return bits
    plus = rng.random(shape) < (1.0 + bias) / 2.0
    return np.where(plus, np.int8(1), np.int8(-1))


def flip_k_bits(states, k: int, rng: np.random.Generator) -> np.ndarray:
    r"""Copy of ``states`` with exactly ``k`` distinct random entries of each row negated.

    The flipped entries of a row are those with the ``k`` smallest of ``N`` uniform keys drawn
    with one ``rng.random(states.shape)`` call (a uniformly random ``k``-subset).  Nothing is
    drawn when ``k == 0`` (nothing flips) or ``k == N`` (every entry flips).

    Parameters
    ----------
    states : numpy.ndarray of +-1, shape (N,) or (B, N)
        States to corrupt (not modified).
    k : int
        Number of entries to flip per row, ``0 <= k <= N``.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    numpy.ndarray of int8
        New array, same shape as ``states``.
    """
    out = np.array(states, dtype=np.int8, copy=True)
    batch = out.reshape(-1, out.shape[-1])
    n_neurons = batch.shape[1]
    if k == 0:
        return out
    if k == n_neurons:
        batch *= -1
        return out
    keys = rng.random(batch.shape)
    cols = np.argpartition(keys, k - 1, axis=1)[:, :k]
    rows = np.arange(batch.shape[0])[:, None]
    batch[rows, cols] *= -1
    return out


@njit(cache=True, parallel=True, nogil=True)
def init_overlaps(xi_t, states):  # pragma: no cover - numba
    r"""Exact unnormalised overlaps :math:`M_{b\mu} = \sum_i \xi_i^\mu s_{bi}` as int64.

    Parameters
    ----------
    xi_t : numpy.ndarray of int8, shape (N, P)
        C-contiguous transpose of the patterns.
    states : numpy.ndarray of int8, shape (B, N)
        States.

    Returns
    -------
    numpy.ndarray of int64, shape (B, P)
        Computed in parallel over states.
    """
    n_trials, n_neurons = states.shape
    n_patterns = xi_t.shape[1]
    m = np.zeros((n_trials, n_patterns), dtype=np.int64)
    for b in prange(n_trials):
        for i in range(n_neurons):
            s_i = np.int64(states[b, i])
            for mu in range(n_patterns):
                m[b, mu] += s_i * xi_t[i, mu]
    return m


def double_factorial(k: int) -> int:
    r"""Double factorial :math:`k!! = k (k-2) (k-4) \cdots` (1 for ``k <= 0``).

    Parameters
    ----------
    k : int
        Any integer; :math:`(-1)!! = 0!! = 1`.

    Returns
    -------
    int
        Exact Python integer.
    """
    out = 1
    for j in range(k, 0, -2):
        out *= j
    return out


def log_cosh(x):
    r"""Numerically stable :math:`\log\cosh x = |x| + \operatorname{log1p}(e^{-2|x|}) - \log 2`.

    Parameters
    ----------
    x : float or numpy.ndarray
        Real input.

    Returns
    -------
    float or numpy.ndarray of float64
        Same shape as ``x``; finite for every finite ``x``.
    """
    a = np.abs(x)
    return a + np.log1p(np.exp(-2.0 * a)) - math.log(2.0)


def single_site_energy(x, phi):
    r"""Single-site energy :math:`F(\phi) = x\phi - \log\cosh x` with :math:`\phi = \tanh x`.

    :math:`F` is the integral of :math:`\operatorname{artanh}`, the term of the graded models'
    Lyapunov function that holds each activation inside ``(-1, 1)``.

    Parameters
    ----------
    x : float or numpy.ndarray
        Preactivations.
    phi : float or numpy.ndarray
        Activations ``tanh(x)``, same shape as ``x``.

    Returns
    -------
    float or numpy.ndarray of float64
        Same shape as ``x``.
    """
    return x * phi - log_cosh(x)
