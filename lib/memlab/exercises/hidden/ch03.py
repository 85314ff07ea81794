"""Chapter 3, for the grader only: the references, the hidden cases and the stored visible cases.

``visible_cases(name)`` is what ``memlab/exercises/data/ch03_<name>.json`` stores (a test
compares the two), for ``name`` in ``readout``, ``first_step``, ``isserlis``.
"""

from __future__ import annotations

from math import comb, factorial

import numpy as np

from ... import dmft

# the chapter's settings of the readout exercise
G, DT, STEPS, SAMPLES = 1.5, 0.25, 40, 2000

# (alpha, init_overlap, tolerance)
READOUT_VISIBLE = [(0.2, 0.6, 0.01), (0.14, 0.6, 0.01)]
READOUT_CASES = [(0.2, 1.0, 0.01), (0.5, 0.4, 0.0), (0.14, 0.7, 0.05)]
# (n, alpha, init_overlap, dt)
FIRST_STEP_VISIBLE = [(1, 0.2, 0.5, 0.25), (2, 0.1, 0.5, 0.25)]
FIRST_STEP_CASES = [(1, 0.1, 0.2, 1.0), (4, 0.005, 0.8, 0.05)]
# (p, q, a, b, c)
MOMENT_VISIBLE = [
    (4, 4, 0.7, 0.5, 0.3),
    (2, 2, 1.0, 1.0, 0.5),
    (3, 5, 0.6, 0.9, -0.4),
    (1, 3, 0.8, 0.6, 0.2),
]
MOMENT_CASES = [
    (4, 2, 0.3, 0.8, 0.1),
    (3, 3, 0.5, 0.5, 0.5),
    (2, 3, 0.9, 0.4, 0.3),
    (0, 4, 1, 0.7, 0),
]


def readout_reference(alpha, init_overlap, tolerance):
    """``(k, k_max, max m_bar)``: the first step within ``tolerance`` of the maximum of
    :math:`\\bar m(t)`, the step of the maximum, and the maximum (n = 1 DMFT, seed 0)."""
    m_bar = dmft.solve(
        1, G, alpha, DT, STEPS, init_overlap, SAMPLES, rng=np.random.default_rng(0)
    ).m_bar
    k_max = int(np.argmax(m_bar))
    k = int(np.argmax(m_bar >= m_bar[k_max] - tolerance))
    return k, k_max, float(m_bar[k_max])


def first_step_reference(n, alpha, a_bar, dt, g=G, *, self_coupling=True):
    """``(m(1), C_phi(1,1))`` of the DMFT by 2-D Gauss-Hermite quadrature (xi_0 = +1).

    ``self_coupling=False`` (n = 1 only): the typical mistake without the term
    F(0, 0) phi_0(0)."""
    u, w = np.polynomial.hermite_e.hermegauss(60)
    w = w / w.sum()
    a = a_bar * g
    x0 = a + g * np.sqrt(1.0 - a_bar**2) * u
    phi0 = np.tanh(x0)
    m0, c0 = w @ phi0, w @ phi0**2
    if n == 1:
        c_eta, f00 = g**2 * c0, (g * np.sqrt(alpha) if self_coupling else 0.0)
    else:
        c_eta, f00 = g**2 * np.prod(np.arange(1, 2 * n, 2)) * c0**n, 0.0
    drift = (1.0 - dt) * x0 + dt * (g / np.sqrt(alpha) * m0**n + f00 * phi0)
    phi1 = np.tanh(drift[:, None] + dt * np.sqrt(c_eta) * u[None, :])
    weights = w[:, None] * w[None, :]
    return float(np.sum(weights * phi1)), float(np.sum(weights * phi1**2))


def _double_factorial(k: int) -> int:
    return 1 if k <= 0 else k * _double_factorial(k - 2)


def wick(p, q, a, b, c):
    """``E[u^p v^q]`` for zero-mean Gaussians with ``Var u = a``, ``Var v = b``, ``Cov = c``."""
    total = 0.0
    for j in range(min(p, q) + 1):
        if (p - j) % 2 or (q - j) % 2:
            continue
        total += (
            comb(p, j)
            * comb(q, j)
            * factorial(j)
            * c**j
            * _double_factorial(p - j - 1)
            * a ** ((p - j) // 2)
            * _double_factorial(q - j - 1)
            * b ** ((q - j) // 2)
        )
    return total


def _readout_case(alpha, init_overlap, tolerance) -> dict:
    k, k_max, best = readout_reference(alpha, init_overlap, tolerance)
    return {
        "alpha": alpha,
        "init_overlap": init_overlap,
        "tolerance": tolerance,
        "k": k,
        "k_max": k_max,
        "best": best,
    }


def _first_step_case(n, alpha, init_overlap, dt) -> dict:
    m1, c1 = first_step_reference(n, alpha, init_overlap, dt)
    case = {"n": n, "alpha": alpha, "init_overlap": init_overlap, "dt": dt, "m1": m1, "c1": c1}
    # the typical mistake for n = 1 (no self-coupling); None where it does not apply
    case["without_self"] = (
        list(first_step_reference(n, alpha, init_overlap, dt, self_coupling=False))
        if n == 1
        else None
    )
    return case


def _moment_case(p, q, a, b, c) -> dict:
    return {"p": p, "q": q, "a": a, "b": b, "c": c, "expected": wick(p, q, a, b, c)}


_MAKE = {
    "readout": (_readout_case, READOUT_VISIBLE, READOUT_CASES),
    "first_step": (_first_step_case, FIRST_STEP_VISIBLE, FIRST_STEP_CASES),
    "isserlis": (_moment_case, MOMENT_VISIBLE, MOMENT_CASES),
}


def visible_cases(name: str) -> list[dict]:
    """What ``memlab/exercises/data/ch03_<name>.json`` stores (a test compares the two)."""
    make, visible, _ = _MAKE[name]
    return [make(*case) for case in visible]


def hidden_cases(name: str) -> list[dict]:
    make, _, hidden = _MAKE[name]
    return [make(*case) for case in hidden]
