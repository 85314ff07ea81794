"""Private numba kernels of :mod:`memlab.kernel`."""

from __future__ import annotations

import numpy as np
from numba import njit, prange

# dot-product kernel profiles f(u), u = x . x' (raw dot product)
PROFILE_POLY = 0  # sum_k a_k (s u)^k
PROFILE_POWER = 1  # (s u + c)^p
PROFILE_EXP = 2  # exp(beta s u)


@njit(cache=True, nogil=True, inline="always")
def _profile(u, kind, scale, coefs, offset, degree, beta):  # pragma: no cover - numba
    """Value f(u) of a dot-product kernel at the raw dot product ``u``."""
    q = scale * u
    if kind == PROFILE_POLY:
        acc = 0.0
        for k in range(coefs.shape[0] - 1, -1, -1):  # Horner
            acc = acc * q + coefs[k]
        return acc
    if kind == PROFILE_POWER:
        base = q + offset
        out = 1.0
        for _ in range(degree):
            out *= base
        return out
    return np.exp(beta * q)


@njit(cache=True, parallel=True, nogil=True)
def shared_locations(addresses, x, y, threshold):  # pragma: no cover - numba
    """Number of addresses a_m with a_m . x >= threshold and a_m . y >= threshold.

    addresses : (M, N) int8; x, y : (B, N) int8 (pairs of points). Returns (B,) int64.
    Each address is compared with both points with an early exit.
    """
    n_pairs, n = x.shape
    n_addr = addresses.shape[0]
    out = np.zeros(n_pairs, dtype=np.int64)
    for b in prange(n_pairs):
        count = 0
        for m in range(n_addr):
            dx = 0
            dy = 0
            for j in range(n):
                a = np.int64(addresses[m, j])
                dx += a * x[b, j]
                dy += a * y[b, j]
            if dx >= threshold and dy >= threshold:
                count += 1
        out[b] = count
    return out


PROFILE_RBF = 3  # exp(-|x - x'|^2 / (2 l^2)), l^2 passed as ``offset``


@njit(cache=True, nogil=True)
def direct_fields(
    x, states, coef, self_input, kind, scale, coefs, offset, degree, beta
):  # pragma: no cover - numba
    """Fields h[b, i] = sum_mu coef[mu, i] K(x^mu, s_b) without any BLAS call.

    For dot-product kernels (``kind`` < 3) with ``self_input`` False the dot product excludes
    neuron ``i``: u = x^mu . s_b - x[mu, i] s_b[i]. For ``kind`` == PROFILE_RBF, ``offset`` holds
    2 l^2. Cost O(B P (N + N_out)). Serial on purpose: the products are small (N <= a few
    hundred), and on a busy 2-core machine both a multithreaded BLAS and a parallel region cost
    ~20 ms of thread synchronisation per call, more than the whole computation.
    """
    n_states, n = states.shape
    n_patterns = x.shape[0]
    n_out = coef.shape[1]
    out = np.zeros((n_states, n_out))
    for b in range(n_states):
        for mu in range(n_patterns):
            acc = 0.0
            if kind == PROFILE_RBF:
                for j in range(n):
                    d = x[mu, j] - states[b, j]
                    acc += d * d
                val = np.exp(-acc / offset)
                for i in range(n_out):
                    out[b, i] += coef[mu, i] * val
                continue
            for j in range(n):
                acc += x[mu, j] * states[b, j]
            if self_input:
                val = _profile(acc, kind, scale, coefs, offset, degree, beta)
                for i in range(n_out):
                    out[b, i] += coef[mu, i] * val
            else:
                for i in range(n_out):
                    u = acc - x[mu, i] * states[b, i]
                    out[b, i] += coef[mu, i] * _profile(u, kind, scale, coefs, offset, degree, beta)
    return out


@njit(cache=True, nogil=True)
def sdm_fields(addresses, threshold, pattern_act_t, states, coef):  # pragma: no cover - numba
    """Fields h[b, i] = sum_mu coef[mu, i] K_SDM(x^mu, s_b), K_SDM = number of shared locations.

    addresses : (M, N) float64; pattern_act_t : (M, P) float64 0/1 activations of the stored
    patterns; states : (B, N) float64; coef : (P, N_out). For each state the active locations
    (a_m . s >= threshold) are listed first, then only their rows of ``pattern_act_t`` are summed,
    so the cost is O(B (M N + M_active P + P N_out)). Serial, see ``direct_fields``.
    """
    n_states, n = states.shape
    n_addr, n_patterns = pattern_act_t.shape
    n_out = coef.shape[1]
    out = np.zeros((n_states, n_out))
    active = np.empty(n_addr, dtype=np.int64)
    kvec = np.empty(n_patterns)
    for b in range(n_states):
        n_active = 0
        for m in range(n_addr):
            acc = 0.0
            for j in range(n):
                acc += addresses[m, j] * states[b, j]
            if acc >= threshold:
                active[n_active] = m
                n_active += 1
        kvec[:] = 0.0
        for a in range(n_active):
            m = active[a]
            for mu in range(n_patterns):
                kvec[mu] += pattern_act_t[m, mu]
        for mu in range(n_patterns):
            if kvec[mu] != 0.0:
                for i in range(n_out):
                    out[b, i] += coef[mu, i] * kvec[mu]
    return out
