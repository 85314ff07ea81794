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
def neuron_dependent_fields(x, states, dots, coef, kind, scale, coefs, offset, degree,
                            beta):  # pragma: no cover - numba
    """Fields of the network with a neuron-dependent feature map (no self-input).

    h[b, i] = sum_mu coef[mu, i] f(dots[b, mu] - x[mu, i] states[b, i])

    x : (P, N) float64 stored inputs; states : (B, N) float64; dots : (B, P) float64 raw dot
    products x^mu . s_b; coef : (P, N) float64. Parallel over (state, neuron) pairs.
    """
    n_states, n_neurons = states.shape
    n_patterns = x.shape[0]
    out = np.empty((n_states, n_neurons))
    for k in prange(n_states * n_neurons):
        b = k // n_neurons
        i = k - b * n_neurons
        s_i = states[b, i]
        acc = 0.0
        for mu in range(n_patterns):
            u = dots[b, mu] - x[mu, i] * s_i
            acc += coef[mu, i] * _profile(u, kind, scale, coefs, offset, degree, beta)
        out[b, i] = acc
    return out


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
