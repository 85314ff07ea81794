"""Checks for the coding exercises of Chapter 4 (kernel memory networks)."""

from __future__ import annotations

import math

import numpy as np

from memlab import kernel as km
from memlab.hopfield import random_patterns

from ._common import as_array, fail, hidden_module, passed, require

__all__ = [
    "check_projector_weights",
    "check_basin_radius",
]


def check_projector_weights(projector_weights, *, hidden=False) -> None:
    """ch04-ex-projector: ``projector_weights(patterns) -> W`` (N, N), the projection rule."""
    cases = [(5, 20, 0), (12, 30, 1), (1, 8, 2)]
    if hidden:
        cases += hidden_module("ch04").PROJECTOR_CASES
    for p, n, seed in cases:
        rng = np.random.default_rng(seed)
        xi = random_patterns(p, n, rng=rng)
        while np.linalg.matrix_rank(xi.astype(float)) < p:
            xi = random_patterns(p, n, rng=rng)
        w = as_array(projector_weights(xi.copy()), f"W for P={p}, N={n}", shape=(n, n))
        ref = km.linear_weights(km.fit(xi, km.linear_kernel()))
        hebb = xi.T.astype(float) @ xi / n
        if np.allclose(w, hebb, atol=1e-8) and not np.allclose(hebb, ref, atol=1e-8):
            fail(
                f"For P={p}, N={n} your W equals the Hebbian matrix X^T X / N: the Gram matrix "
                f"K = X X^T / N must be inverted, W = X^T K^-1 X / N."
            )
        require(
            np.allclose(w, w.T, atol=1e-8),
            f"For P={p}, N={n} your W is not symmetric: check the order of the products "
            f"(X^T (X X^T)^-1 X with X of shape (P, N)).",
        )
        require(
            np.allclose(w @ xi.T, xi.T, atol=1e-8),
            f"For P={p}, N={n} the stored patterns are not fixed points, W x != x: every "
            f"pattern must be mapped onto itself.",
        )
        require(
            abs(np.trace(w) - p) < 1e-6,
            f"For P={p}, N={n} trace(W) = {np.trace(w):.4g}, expected P = {p}: W must "
            f"project onto the {p}-dimensional span of the patterns (did you zero the diagonal?).",
        )
        require(
            np.allclose(w, ref, atol=1e-8),
            f"For P={p}, N={n} your W differs from the projector by up to "
            f"{np.max(np.abs(w - ref)):.3g}.",
        )
    passed(
        "your weights are the projector onto the span of the patterns "
        "(W^2 = W, trace P, every pattern a fixed point)."
    )


def check_basin_radius(predicted_basin_radius, *, hidden=False) -> None:
    """ch04-ex-basin: ``predicted_basin_radius(length_scale) -> a*``, the RBF basin radius.

    Compares with the root of ``a = 1 - exp(-a^2 / 2 l^2)`` (``memlab.kernel.rbf_basin_radius``)
    and, for one width, with the basin measured by bisection on well-separated patterns.
    """
    lengths = [0.02, 0.1, 0.2, 0.3, 0.4]
    if hidden:
        lengths += hidden_module("ch04").BASIN_LENGTHS
    for ell in lengths:
        got = predicted_basin_radius(ell)
        try:
            got = float(got)
        except (TypeError, ValueError):
            fail(f"predicted_basin_radius({ell}) returned {got!r}, not a number.")
        want = km.rbf_basin_radius(ell)
        if math.isclose(got, want, rel_tol=1e-6):
            continue
        if math.isclose(got, 2 * ell**2, rel_tol=1e-6):
            fail(
                f"For l = {ell} you returned the small-l approximation 2 l^2 = {got:.4g}; the "
                f"basin radius is the smallest positive root of a = 1 - exp(-a^2 / 2 l^2), "
                f"{want:.4g} here ({want / got - 1:.1%} larger). Solve the equation numerically."
            )
        if got > 0 and abs(1 - math.exp(-(got**2) / (2 * ell**2)) - got) < 1e-8 * max(got, 1e-12):
            fail(
                f"For l = {ell}, {got:.4g} solves a = 1 - exp(-a^2 / 2 l^2) but is not the "
                f"smallest positive root ({want:.4g}): cues beyond the first root already grow."
            )
        fail(
            f"For l = {ell}: expected a* = {want:.6g}, got {got:.6g}. One step maps an error a "
            f"to g(a) = 1 - exp(-a^2 / 2 l^2); the basin ends where g(a) = a."
        )
    # the prediction against the network itself: well-separated patterns, K close to I
    rng = np.random.default_rng(11)
    x = km.spherical_patterns(100, 16, rng=rng)
    model = km.fit(x, km.rbf_kernel(0.15))
    measured = km.basin_radius(model, np.arange(8), rng.standard_normal((8, 16)), max_radius=0.1)
    pred = float(predicted_basin_radius(0.15))
    require(
        np.all(np.abs(measured / pred - 1) < 0.02),
        f"At l = 0.15 the measured basin radii {np.round(measured, 4).tolist()} differ from "
        f"your prediction {pred:.4g} by more than 2 %.",
    )
    passed(
        "your basin radius solves a = 1 - exp(-a^2/2l^2) and matches the basins measured in "
        "an RBF network."
    )


# every check gives a verdict for an answer of the wrong kind (see _common.guard_checks)
from ._common import guard_checks  # noqa: E402

guard_checks(globals())
