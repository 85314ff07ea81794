r"""Kernel memory networks (Iatropoulos, Brea & Gerstner 2022).

Every neuron is trained separately to output its part of every stored pattern with the smallest
possible weight norm in the feature space of a kernel :math:`\mathcal K`.

Conventions
-----------
* ``patterns`` is an array :math:`X` of shape ``(P, N)``: row ``mu`` is the stored input
  :math:`\mathbf x^\mu` (binary :math:`\pm1` or continuous).  ``targets`` (shape ``(P, N_out)``,
  default ``patterns``) holds the outputs :math:`\mathbf y^\mu`; with the default the memory is
  auto-associative and can be iterated.
* Gram matrix :math:`K_{\mu\nu} = \mathcal K(\mathbf x^\mu, \mathbf x^\nu)`, kernel vector
  :math:`\mathbf k(\mathbf x)_\mu = \mathcal K(\mathbf x^\mu, \mathbf x)`.
* A fitted :class:`KernelMemory` computes the *fields*
  :math:`\mathbf f(\mathbf x) = A^\top \mathbf k(\mathbf x)` with a coefficient matrix ``coef``
  :math:`A` of shape ``(P, N_out)``:

  ============== ==================================== =======================================
  method         coefficients                         meaning
  ============== ==================================== =======================================
  interpolation  :math:`A = K^{-1} Y`                 minimum-norm kernel interpolation
  svm            :math:`A_{\mu i} = \alpha_i^\mu y_i^\mu` hard-margin SVM without bias
  hebbian        :math:`A = Y` (:math:`K^{-1}\to I`)  classical models (Hopfield, Krotov-Hopfield,
                                                      Demircigil, Kanerva)
  regression     :math:`A = Y`, :math:`\mathbf k/\mathbf 1^\top\mathbf k` Nadaraya-Watson; with the
                                                      exponential kernel the softmax update
  ============== ==================================== =======================================

* Binary recall: :math:`x_i \leftarrow \operatorname{sgn} f_i(\mathbf x)`, synchronous, a neuron
  whose field is zero (up to its rounding error) keeps its state.  Continuous recall:
  :math:`\mathbf x \leftarrow \mathbf f(\mathbf x)`.
* ``self_input=False`` gives each neuron ``i`` its own feature map of the *other* neurons,
  :math:`\mathcal K(\mathbf x_{\setminus i}, \mathbf x'_{\setminus i})` (no self-connection), with
  its own Gram matrix :math:`K^{(i)}`.  Only for dot-product kernels and auto-association.

Dot-product kernels are functions of the raw dot product :math:`u = \mathbf x^\top\mathbf x'`
scaled by ``scale`` :math:`s` (default :math:`1/N`, so that :math:`su` is the usual normalised
overlap of :math:`\pm1` vectors).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import scipy.linalg as sla
from numba import njit, prange
from scipy.optimize import brentq, nnls
from scipy.special import betainc

from memlab._common import flip_k_bits, random_pm1
from memlab._validation import (
    check_bool,
    check_finite_float,
    check_finite_result,
    check_generator,
    check_nonneg_int,
    check_option,
    check_pm1_array,
    check_positive_float,
    check_positive_int,
    check_real_array,
    check_size,
)

__all__ = [
    "Kernel",
    "KernelMemory",
    "linear_kernel",
    "polynomial_kernel",
    "dot_product_kernel",
    "exponential_kernel",
    "rbf_kernel",
    "sdm_kernel",
    "custom_kernel",
    "gram_matrix",
    "fit",
    "fields",
    "recall",
    "flip_cues",
    "retrieved_fraction",
    "linear_weights",
    "svm_coefficients",
    "fixed_point_jacobians",
    "spherical_patterns",
    "random_addresses",
    "sdm_write",
    "sdm_read",
    "sdm_expected_kernel",
    "sdm_shared_locations",
    "cap_probability",
    "separation_capacity",
    "separation_capacity_median",
    "rbf_basin_radius",
    "basin_radius",
]

_METHODS = ("interpolation", "svm", "hebbian", "regression")
_MIN_RCOND = 1e-12


# --------------------------------------------------------------------------
# kernels
# --------------------------------------------------------------------------


# dot-product kernel profiles f(u) of the raw dot product u = x . x' (public names are strings;
# the integer codes are private to the numba kernels below)
_PROFILES = ("poly", "power", "exp")
_PROFILE_POLY = 0  # sum_k a_k (s u)^k
_PROFILE_POWER = 1  # (s u + c)^p
_PROFILE_EXP = 2  # exp(beta s u)
_PROFILE_RBF = 3  # exp(-|x - x'|^2 / (2 l^2)), 2 l^2 passed as ``offset``
_PROFILE_CODES = {"poly": _PROFILE_POLY, "power": _PROFILE_POWER, "exp": _PROFILE_EXP}


@dataclass(frozen=True, eq=False)
class Kernel:
    r"""A positive-definite kernel :math:`\mathcal K(\mathbf x, \mathbf x')`.

    Create kernels with the factory functions (:func:`linear_kernel`, :func:`polynomial_kernel`,
    :func:`dot_product_kernel`, :func:`exponential_kernel`, :func:`rbf_kernel`,
    :func:`sdm_kernel`, :func:`custom_kernel`).  Calling ``kernel(a, b)`` with ``a`` of shape
    ``(P, N)`` and ``b`` of shape ``(B, N)`` returns the ``(P, B)`` matrix
    :math:`\mathcal K(\mathbf a_p, \mathbf b_q)`.

    Attributes
    ----------
    name : str
        Label used in messages and plots.
    kind : {"dot", "rbf", "sdm", "custom"}
        Family: dot-product, Gaussian RBF, sparse distributed memory, user function.
    profile : {"poly", "power", "exp", ""}
        Dot-product kernels only: :math:`f(q) = \sum_k a_k q^k` (``"poly"``),
        :math:`(q + c)^p` (``"power"``) or :math:`e^{\beta q}` (``"exp"``) of the scaled dot
        product :math:`q = s\,\mathbf x^\top\mathbf x'`; ``""`` for the other kinds.
    """

    name: str
    kind: str  # "dot", "rbf", "sdm", "custom"
    profile: str = ""  # "poly", "power", "exp" for kind == "dot"
    scale: float | None = None
    coefficients: tuple = ()
    offset: float = 0.0
    degree: int = 1
    beta: float = 1.0
    length_scale: float = 1.0
    addresses: np.ndarray | None = field(default=None, repr=False)
    threshold: float = 0.0
    function: Callable | None = field(default=None, repr=False)

    def _scale(self, n: int) -> float:
        return 1.0 / n if self.scale is None else self.scale

    def dot_profile(self, u, n: int) -> np.ndarray:
        r"""Profile :math:`f(u)` of a dot-product kernel at raw dot products ``u``.

        Parameters
        ----------
        u : array_like
            Raw dot products :math:`\mathbf x^\top\mathbf x'`.
        n : int
            Number of neurons :math:`N` (sets the default scale :math:`s = 1/N`).

        Returns
        -------
        numpy.ndarray of float64
            :math:`\mathcal K = f(s u)`, same shape as ``u``.
        """
        u = np.asarray(u, dtype=np.float64)
        q = u / n if self.scale is None else self.scale * u
        if self.profile == "poly":
            out = np.zeros_like(q)
            for a in reversed(self.coefficients):
                out = out * q + a
            return out
        if self.profile == "power":
            return (q + self.offset) ** self.degree
        if self.profile == "exp":
            return np.exp(self.beta * q)
        raise ValueError(f"kernel {self.name!r} is not a dot-product kernel")

    def __call__(self, a, b) -> np.ndarray:
        a = check_real_array(a, "a", ndim=2)
        b = check_real_array(b, "b", ndim=2)
        if a.shape[1] != b.shape[1]:
            raise ValueError(
                f"kernel inputs must have the same number of neurons; got shapes {a.shape} and "
                f"{b.shape}"
            )
        return self._gram(a, b)

    def _gram(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        n = a.shape[1]
        if self.kind == "dot":
            return self.dot_profile(a @ b.T, n)
        if self.kind == "rbf":
            sq = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * (a @ b.T)
            return np.exp(-np.maximum(sq, 0.0) / (2.0 * self.length_scale**2))
        if self.kind == "sdm":
            if n != self.addresses.shape[1]:
                raise ValueError(
                    f"the SDM kernel's addresses have N={self.addresses.shape[1]} neurons but the "
                    f"inputs have N={n}"
                )
            fa = _activations(self.addresses, a, self.threshold)
            fb = fa if b is a else _activations(self.addresses, b, self.threshold)
            return fa @ fb.T
        out = np.asarray(self.function(a, b), dtype=np.float64)
        if out.shape != (a.shape[0], b.shape[0]):
            raise ValueError(
                f"custom kernel {self.name!r} returned shape {out.shape}; expected "
                f"({a.shape[0]}, {b.shape[0]})"
            )
        if not np.all(np.isfinite(out)):
            raise ValueError(f"custom kernel {self.name!r} returned NaN or infinite values")
        return out


def _check_scale(scale):
    return None if scale is None else check_positive_float(scale, "scale")


def linear_kernel(scale=None) -> Kernel:
    r"""Linear kernel :math:`\mathcal K(\mathbf x, \mathbf x') = s\,\mathbf x^\top \mathbf x'`.

    With :math:`K^{-1}` it gives the projection (pseudo-inverse) rule, with
    :math:`K^{-1} \to I` the Hebbian rule.

    Parameters
    ----------
    scale : float, optional
        Scale :math:`s > 0` of the dot product; default :math:`1/N`.

    Returns
    -------
    Kernel
        A dot-product kernel with profile ``"poly"`` and coefficients ``(0, 1)``.
    """
    return Kernel("linear", "dot", "poly", _check_scale(scale), coefficients=(0.0, 1.0))


def polynomial_kernel(degree, offset=0.0, scale=None) -> Kernel:
    r"""Polynomial kernel.

    .. math:: \mathcal K(\mathbf x, \mathbf x') = (s\,\mathbf x^\top\mathbf x' + c)^p

    Positive definite for integer ``degree`` :math:`p \ge 1` and ``offset`` :math:`c \ge 0`;
    a negative offset is refused because the kernel is then not positive definite.

    Parameters
    ----------
    degree : int
        Degree :math:`p \ge 1`.
    offset : float, optional
        Offset :math:`c \ge 0` (default 0).
    scale : float, optional
        Scale :math:`s > 0` of the dot product; default :math:`1/N`.

    Returns
    -------
    Kernel
        A dot-product kernel with profile ``"power"``, named ``"poly<p>"``.
    """
    degree = check_positive_int(degree, "degree")
    offset = check_finite_float(offset, "offset")
    if offset < 0:
        raise ValueError(
            f"offset must be >= 0: (s x.x' + c)^p with c = {offset} < 0 is not a positive-definite "
            f"kernel"
        )
    return Kernel(
        f"poly{degree}", "dot", "power", _check_scale(scale), offset=offset, degree=degree
    )


def dot_product_kernel(coefficients, scale=None, name="dot-product") -> Kernel:
    r"""Power-series (dot-product) kernel.

    .. math:: \mathcal K(\mathbf x, \mathbf x') = \sum_k a_k (s\,\mathbf x^\top\mathbf x')^k

    Positive definite when every coefficient :math:`a_k \ge 0` (each power of a positive-definite
    kernel is one, Schur); a negative coefficient is refused.

    Parameters
    ----------
    coefficients : array_like, shape (K,)
        Coefficients :math:`a_0, \dots, a_{K-1} \ge 0`, not all zero.
    scale : float, optional
        Scale :math:`s > 0` of the dot product; default :math:`1/N`.
    name : str, optional
        Label of the kernel.

    Returns
    -------
    Kernel
        A dot-product kernel with profile ``"poly"``.
    """
    coefs = check_real_array(coefficients, "coefficients", ndim=1)
    if np.any(coefs < 0):
        k = int(np.argmax(coefs < 0))
        raise ValueError(
            f"coefficients must be >= 0 for a positive-definite kernel; a_{k} = {coefs[k]}"
        )
    if not np.any(coefs > 0):
        raise ValueError("at least one coefficient must be > 0")
    return Kernel(
        str(name),
        "dot",
        "poly",
        _check_scale(scale),
        coefficients=tuple(float(c) for c in coefs),
    )


def exponential_kernel(beta, scale=None) -> Kernel:
    r"""Exponential kernel.

    .. math:: \mathcal K(\mathbf x, \mathbf x') = \exp(\beta s\,\mathbf x^\top\mathbf x')

    On :math:`\pm1` vectors it equals a Gaussian RBF kernel up to a constant factor.

    Parameters
    ----------
    beta : float
        Inverse temperature :math:`\beta > 0` (for :math:`\beta < 0` the kernel is not positive
        definite).
    scale : float, optional
        Scale :math:`s > 0` of the dot product; default :math:`1/N`.

    Returns
    -------
    Kernel
        A dot-product kernel with profile ``"exp"``.
    """
    beta = check_finite_float(beta, "beta")
    if beta <= 0:
        raise ValueError(
            f"beta must be > 0: exp(beta s x.x') with beta = {beta} is not a positive-definite "
            f"kernel"
        )
    return Kernel(f"exp(beta={beta:g})", "dot", "exp", _check_scale(scale), beta=beta)


def rbf_kernel(length_scale) -> Kernel:
    r"""Gaussian RBF kernel.

    .. math:: \mathcal K(\mathbf x, \mathbf x') = \exp(-\lVert\mathbf x-\mathbf x'\rVert^2/2\ell^2)

    Parameters
    ----------
    length_scale : float
        Width :math:`\ell > 0`.

    Returns
    -------
    Kernel
        A kernel of kind ``"rbf"``.
    """
    ell = check_positive_float(length_scale, "length_scale")
    return Kernel(f"rbf(l={ell:g})", "rbf", length_scale=ell)


def sdm_kernel(addresses, radius=None, threshold=None) -> Kernel:
    r"""Kernel of a sparse distributed memory (thresholded random features).

    Feature :math:`m` is on when the input lies close to address :math:`\mathbf a_m`,
    :math:`\varphi_m(\mathbf x) = \Theta(\mathbf a_m^\top \mathbf x - \theta)`, and
    :math:`\mathcal K(\mathbf x, \mathbf x') = \sum_m \varphi_m(\mathbf x)\varphi_m(\mathbf x')`
    counts the addresses active for both inputs.  Give either ``radius`` :math:`r` (binary
    inputs: active when the Hamming distance :math:`d_H(\mathbf x, \mathbf a_m) \le r`, i.e.
    :math:`\theta = N - 2r`) or ``threshold`` :math:`\theta` (any inputs).

    Parameters
    ----------
    addresses : array_like, shape (M, N)
        Addresses (hard locations) :math:`\mathbf a_m`, real.
    radius : int, optional
        Hamming radius :math:`r \ge 0`.
    threshold : float, optional
        Threshold :math:`\theta` on :math:`\mathbf a_m^\top\mathbf x`.

    Returns
    -------
    Kernel
        A kernel of kind ``"sdm"`` holding a read-only copy of the addresses.
    """
    a = check_real_array(addresses, "addresses", ndim=2, copy=True)
    if (radius is None) == (threshold is None):
        raise ValueError("give exactly one of radius (Hamming radius) and threshold (on a.x)")
    if radius is not None:
        radius = check_nonneg_int(radius, "radius")
        theta = float(a.shape[1] - 2 * radius)
        name = f"sdm(M={a.shape[0]}, r={radius})"
    else:
        theta = check_finite_float(threshold, "threshold")
        name = f"sdm(M={a.shape[0]}, theta={theta:g})"
    a.setflags(write=False)
    return Kernel(name, "sdm", addresses=a, threshold=theta)


def custom_kernel(function, name="custom") -> Kernel:
    """A kernel given by a function of two sets of points.

    :func:`fit` checks that its Gram matrix on the stored patterns is symmetric and positive
    definite and raises ``ValueError`` if it is not.

    Parameters
    ----------
    function : callable
        ``function(a, b)`` with ``a`` of shape ``(P, N)`` and ``b`` of shape ``(B, N)`` returns
        the ``(P, B)`` matrix :math:`\\mathcal K(\\mathbf a_p, \\mathbf b_q)`.
    name : str, optional
        Label of the kernel.

    Returns
    -------
    Kernel
        A kernel of kind ``"custom"``.
    """
    if not callable(function):
        raise TypeError(f"function must be callable; got {type(function).__name__}")
    return Kernel(str(name), "custom", function=function)


def _check_kernel(kernel) -> Kernel:
    if not isinstance(kernel, Kernel):
        raise TypeError(
            f"kernel must be a memlab.kernel.Kernel (e.g. polynomial_kernel(2)); got "
            f"{type(kernel).__name__}"
        )
    return kernel


def _activations(addresses: np.ndarray, x: np.ndarray, threshold: float) -> np.ndarray:
    """``phi[b, m] = 1[a_m . x_b >= threshold]`` as float64 (0/1)."""
    return (x @ addresses.T >= threshold).astype(np.float64)


def gram_matrix(kernel, patterns) -> np.ndarray:
    r"""Gram matrix :math:`K_{\mu\nu} = \mathcal K(\mathbf x^\mu, \mathbf x^\nu)`.

    Parameters
    ----------
    kernel : Kernel
        The kernel :math:`\mathcal K`.
    patterns : array_like, shape (P, N)
        Real points :math:`\mathbf x^\mu` (rows).

    Returns
    -------
    numpy.ndarray of float64, shape (P, P)
        Symmetric Gram matrix :math:`K`.
    """
    kernel = _check_kernel(kernel)
    x = check_real_array(patterns, "patterns", ndim=2)
    gram = kernel._gram(x, x)
    check_finite_result(gram, "the Gram matrix", "the patterns are too large (overflow)")
    return gram


# --------------------------------------------------------------------------
# fitting
# --------------------------------------------------------------------------


class KernelMemory(NamedTuple):
    """A fitted kernel memory network (returned by :func:`fit`).

    Attributes
    ----------
    patterns : (P, N) float64, the stored inputs :math:`X`.
    targets : (P, N_out) float64, the outputs :math:`Y`.
    kernel : Kernel
    coef : (P, N_out) float64, column ``i`` holds neuron ``i``'s coefficients on
        :math:`\\mathbf k(\\mathbf x)` (or on :math:`\\mathbf k^{(i)}` without self-input).
    method : str
    self_input : bool
    binary : bool, whether the targets are +-1 (recall then applies the sign).
    condition : float, condition number of :math:`K` (largest over neurons without
        self-input); ``nan`` for ``hebbian`` and ``regression``.
    """

    patterns: np.ndarray
    targets: np.ndarray
    kernel: Kernel
    coef: np.ndarray
    method: str
    self_input: bool
    binary: bool
    condition: float


def _factor(gram: np.ndarray, what: str = "K"):
    """Cholesky factor of a Gram matrix, with clear errors; returns (factor, condition)."""
    p = gram.shape[0]
    scale = max(float(np.max(np.abs(gram))), 1e-300)
    if not np.allclose(gram, gram.T, rtol=1e-10, atol=1e-12 * scale):
        raise ValueError(f"the Gram matrix {what} is not symmetric: the kernel is not valid")
    try:
        c = sla.cholesky(gram, lower=False, check_finite=False)
        ok = bool(np.all(np.diag(c) > 0))
    except np.linalg.LinAlgError:
        ok = False
    if not ok:
        lam = np.linalg.eigvalsh(gram)
        if lam[0] < -1e-9 * max(abs(lam[-1]), 1.0):
            raise ValueError(
                f"the Gram matrix {what} has a negative eigenvalue ({lam[0]:.3g}): the kernel is "
                f"not positive definite on these patterns"
            )
        rank = int(np.sum(lam > 1e-10 * lam[-1]))
        raise ValueError(
            f"the Gram matrix {what} is singular (numerical rank {rank} < P = {p}): the kernel's "
            f"feature space is too small for {p} patterns (or two patterns coincide); store fewer "
            f"patterns or use a richer kernel"
        )
    anorm = float(np.max(np.sum(np.abs(gram), axis=0)))
    rcond, info = sla.lapack.dpocon(c, anorm)
    if info != 0 or not rcond > _MIN_RCOND:
        raise ValueError(
            f"the Gram matrix {what} is singular to working precision (reciprocal condition "
            f"number {rcond:.2g} < {_MIN_RCOND:g}): store fewer patterns or use a richer kernel"
        )
    return c, 1.0 / rcond


def svm_coefficients(gram, labels) -> np.ndarray:
    r"""Dual coefficients of the hard-margin SVM without bias.

    Solves

    .. math::
        \max_{\boldsymbol\alpha \ge 0}\ \sum_\mu \alpha^\mu
        - \tfrac12 \sum_{\mu\nu} \alpha^\mu \alpha^\nu y^\mu y^\nu K_{\mu\nu},

    the dual of :math:`\min \tfrac12\lVert\mathbf w\rVert^2` subject to
    :math:`y^\mu \mathbf w^\top\varphi(\mathbf x^\mu) \ge 1`.  With the Cholesky factor
    :math:`Q = \operatorname{diag}(y) K \operatorname{diag}(y) = L L^\top` the dual is the
    non-negative least-squares problem
    :math:`\min_{\alpha\ge0}\lVert L^\top\alpha - L^{-1}\mathbf 1\rVert`
    (solved exactly by the active-set method of Lawson and Hanson), then polished by solving
    :math:`Q_{SS}\boldsymbol\alpha_S = \mathbf 1` on the support set :math:`S`.  If every
    :math:`y^\mu (K^{-1}\mathbf y)_\mu > 0`, the result is
    :math:`\alpha^\mu = y^\mu (K^{-1}\mathbf y)_\mu`
    (every pattern is a support vector and the SVM is the interpolant).

    Parameters
    ----------
    gram : array_like, shape (P, P)
        Symmetric positive-definite Gram matrix :math:`K`.
    labels : array_like of +-1, shape (P,)
        Class labels :math:`y^\mu` (the SVM is a classifier).

    Returns
    -------
    numpy.ndarray of float64, shape (P,)
        Dual coefficients :math:`\alpha^\mu \ge 0`; the margins
        :math:`y^\mu \sum_\nu K_{\mu\nu}\alpha^\nu y^\nu` are :math:`\ge 1`, with equality
        on the support vectors (:math:`\alpha^\mu > 0`).
    """
    k = check_real_array(gram, "gram", ndim=2)
    if k.shape[0] != k.shape[1]:
        raise ValueError(f"gram must be square; got shape {k.shape}")
    y = check_pm1_array(labels, "labels", ndims=(1,)).astype(np.float64)
    if y.shape != (k.shape[0],):
        raise ValueError(f"labels must have shape ({k.shape[0]},); got {y.shape}")
    return _svm(k, y)


def _svm(k: np.ndarray, y: np.ndarray) -> np.ndarray:
    q = k * np.outer(y, y)
    c, _ = _factor(q, "K")  # q = c^T c with c upper triangular
    ones = np.ones(len(y))
    b = sla.solve_triangular(c, ones, trans="T")  # c^T b = 1
    alpha, _ = nnls(c, b, maxiter=50 * len(y))
    # polish on the support set S (one solve): (Q alpha)_S = 1 there, kept if all alpha_S > 0
    s = alpha > 1e-12 * max(1.0, alpha.max())
    if s.any():
        a_s = np.linalg.solve(q[np.ix_(s, s)], ones[s])
        if np.all(a_s > 0):
            alpha = np.zeros_like(alpha)
            alpha[s] = a_s
    margins = q @ alpha
    if np.any(margins < 1 - 1e-6):
        raise RuntimeError(f"SVM solver did not converge (smallest margin {margins.min():.6g} < 1)")
    return alpha


def _neuron_grams(kernel: Kernel, x: np.ndarray) -> np.ndarray:
    """``K^{(i)}`` for every neuron: f(U - x_i x_i^T), shape (N, P, P)."""
    u = x @ x.T
    n = x.shape[1]
    return np.stack([kernel.dot_profile(u - np.outer(x[:, i], x[:, i]), n) for i in range(n)])


def fit(patterns, kernel, method="interpolation", *, targets=None, self_input=True) -> KernelMemory:
    r"""Train every output neuron of a kernel memory network.

    * ``"interpolation"``: minimum-norm weights with :math:`\mathbf w_i^\top\varphi(\mathbf x^\mu) =
      y_i^\mu`, giving :math:`\mathbf f(\mathbf x) = Y^\top K^{-1}\mathbf k(\mathbf x)` (``coef``
      :math:`= K^{-1}Y`); every stored pattern is then an exact fixed point.
    * ``"svm"``: hard-margin SVM without bias per neuron (binary targets), ``coef``
      :math:`A_{\mu i} = \alpha_i^\mu y_i^\mu` (see :func:`svm_coefficients`).
    * ``"hebbian"``: :math:`K^{-1}` replaced by the identity, ``coef`` :math:`= Y`.
    * ``"regression"``: normalised kernel regression,
      :math:`\mathbf f(\mathbf x) = Y^\top\mathbf k(\mathbf x)/\mathbf 1^\top\mathbf k(\mathbf x)`
      (Ramsauer et al.'s softmax update for the exponential kernel).

    Parameters
    ----------
    patterns : array_like, shape (P, N)
        Stored inputs, binary or continuous; must be distinct for interpolation and svm.
    kernel : Kernel
        The kernel :math:`\mathcal K` (see :func:`polynomial_kernel` and the other factories).
    method : {"interpolation", "svm", "hebbian", "regression"}
        How the coefficients are computed (see above).
    targets : array_like, shape (P, N_out), optional
        Outputs (default: ``patterns``, auto-association).
    self_input : bool
        If False, neuron ``i`` sees only the other neurons (neuron-dependent feature map, no
        self-connection; dot-product kernels and auto-association only).

    Returns
    -------
    KernelMemory
        The fitted network: patterns, targets, kernel, coefficients ``coef`` :math:`A` and the
        condition number of :math:`K`.

    Raises
    ------
    ValueError
        On mismatched shapes, an unknown method, a Gram matrix that is singular or not positive
        definite (interpolation, svm), or non-binary targets with ``svm``.
    """
    kernel = _check_kernel(kernel)
    x = check_real_array(patterns, "patterns", ndim=2, copy=True)  # the model owns its arrays
    if targets is None:
        y = x.copy()
    else:
        y = check_real_array(targets, "targets", ndim=2, copy=True)
        if y.shape[0] != x.shape[0]:
            raise ValueError(
                f"targets must have one row per pattern: patterns have P={x.shape[0]} rows, "
                f"targets have {y.shape[0]} (shape {y.shape})"
            )
    method = check_option(method, "method", _METHODS)
    self_input = check_bool(self_input, "self_input")
    binary = bool(np.all(np.abs(y) == 1.0))  # +-1 targets: recall applies the sign
    if method == "svm" and not binary:
        raise ValueError("method='svm' needs binary (+-1) targets; use 'interpolation' instead")
    if kernel.kind == "sdm" and kernel.addresses.shape[1] != x.shape[1]:
        raise ValueError(
            f"the SDM kernel's addresses have N={kernel.addresses.shape[1]} neurons but the "
            f"patterns have N={x.shape[1]}"
        )
    if not self_input:
        if kernel.kind != "dot":
            raise ValueError(
                "self_input=False (neuron-dependent feature map) is implemented for dot-product "
                f"kernels only, not for {kernel.name!r}"
            )
        if y.shape != x.shape:
            raise ValueError("self_input=False needs auto-association (targets = patterns)")
        if method == "regression":
            raise ValueError("method='regression' needs self_input=True")
    condition = float("nan")
    if method in ("hebbian", "regression"):
        if kernel.kind == "custom":
            _factor_or_psd(kernel._gram(x, x))
        coef = y.copy()
    elif self_input:
        gram = kernel._gram(x, x)
        if method == "interpolation":
            c, condition = _factor(gram)
            coef = sla.cho_solve((c, False), y, check_finite=False)
        else:
            _, condition = _factor(gram)
            coef = np.empty_like(y)
            for i in range(y.shape[1]):
                coef[:, i] = _svm(gram, y[:, i]) * y[:, i]
    else:
        grams = _neuron_grams(kernel, x)
        coef = np.empty_like(y)
        condition = 0.0
        for i in range(y.shape[1]):
            what = f"K^({i}) of neuron {i}"
            if method == "interpolation":
                c, cond = _factor(grams[i], what)
                coef[:, i] = sla.cho_solve((c, False), y[:, i], check_finite=False)
            else:
                _, cond = _factor(grams[i], what)
                coef[:, i] = _svm(grams[i], y[:, i]) * y[:, i]
            condition = max(condition, cond)
    return KernelMemory(x, y, kernel, coef, method, bool(self_input), binary, condition)


def _factor_or_psd(gram):
    """For custom kernels without K^{-1}: require a symmetric positive semi-definite Gram matrix."""
    scale = max(float(np.max(np.abs(gram))), 1e-300)
    if not np.allclose(gram, gram.T, rtol=1e-10, atol=1e-12 * scale):
        raise ValueError("the Gram matrix K is not symmetric: the kernel is not valid")
    lam = np.linalg.eigvalsh(gram)
    if lam[0] < -1e-9 * max(abs(lam[-1]), 1.0):
        raise ValueError(
            f"the Gram matrix K has a negative eigenvalue ({lam[0]:.3g}): the kernel is not "
            f"positive definite on these patterns"
        )


def _check_model(model) -> KernelMemory:
    """A validated ``KernelMemory``: its fields are checked before any kernel reads them.

    ``patterns`` (P, N), ``targets`` (P, N_out) and ``coef`` (P, N_out) finite real arrays, a
    ``Kernel`` (SDM addresses with N columns), a known ``method``, boolean flags (``binary``
    only with -1/+1 targets) and a real ``condition`` (NaN when not computed).
    """
    if not isinstance(model, KernelMemory):
        raise TypeError(
            f"model must be a KernelMemory returned by fit(); got {type(model).__name__}"
        )
    x = check_real_array(model.patterns, "model.patterns", ndim=2)
    y = check_real_array(model.targets, "model.targets", shape=(x.shape[0], None))
    coef = check_real_array(model.coef, "model.coef", shape=y.shape)
    kernel = _check_kernel(model.kernel)
    if kernel.kind == "sdm" and np.shape(kernel.addresses)[1:] != (x.shape[1],):
        raise ValueError(
            f"model.kernel's SDM addresses must have N={x.shape[1]} columns (the patterns' "
            f"N); got shape {np.shape(kernel.addresses)}"
        )
    method = check_option(model.method, "model.method", _METHODS)
    self_input = check_bool(model.self_input, "model.self_input")
    binary = check_bool(model.binary, "model.binary")
    if binary and not np.all(np.abs(y) == 1.0):
        raise ValueError("model.binary is True but model.targets are not all -1/+1")
    if isinstance(model.condition, (bool, np.bool_)) or not isinstance(
        model.condition, (float, int, np.floating, np.integer)
    ):
        raise TypeError(f"model.condition must be a real number; got {model.condition!r}")
    return KernelMemory(x, y, kernel, coef, method, self_input, binary, float(model.condition))


def _states(model: KernelMemory, states, name="states") -> tuple[np.ndarray, bool]:
    s = check_real_array(states, name, ndim=(1, 2))
    single = s.ndim == 1
    s2 = np.atleast_2d(s)
    n = model.patterns.shape[1]
    if s2.shape[1] != n:
        raise ValueError(
            f"{name} has {s2.shape[1]} neurons (last axis, shape {s.shape}) but the stored "
            f"patterns have N={n}"
        )
    return s2, single


@njit(cache=True, nogil=True, inline="always")
def _profile(u, kind, scale, coefs, offset, degree, beta):  # pragma: no cover - numba
    """Value f(u) of a dot-product kernel at the raw dot product ``u``."""
    q = scale * u
    if kind == _PROFILE_POLY:
        acc = 0.0
        for k in range(coefs.shape[0] - 1, -1, -1):  # Horner
            acc = acc * q + coefs[k]
        return acc
    if kind == _PROFILE_POWER:
        base = q + offset
        out = 1.0
        for _ in range(degree):
            out *= base
        return out
    return np.exp(beta * q)


@njit(cache=True, nogil=True)
def _direct_fields(
    x, states, coef, self_input, kind, scale, coefs, offset, degree, beta, magnitude
):  # pragma: no cover - numba
    """Fields h[b, i] = sum_mu coef[mu, i] K(x^mu, s_b) without any BLAS call.

    For dot-product kernels (``kind`` < 3) with ``self_input`` False the dot product excludes
    neuron ``i``: u = x^mu . s_b - x[mu, i] s_b[i]. For ``kind`` == _PROFILE_RBF, ``offset``
    holds 2 l^2. ``magnitude`` (B, N_out), zero on entry, receives sum_mu |coef[mu, i] K|, the
    scale of the rounding error of h. Cost O(B P (N + N_out)). Serial on purpose: the products
    are small (N <= a few hundred), and on a busy 2-core machine both a multithreaded BLAS and
    a parallel region cost ~20 ms of thread synchronisation per call, more than the whole
    computation.
    """
    n_states, n = states.shape
    n_patterns = x.shape[0]
    n_out = coef.shape[1]
    out = np.zeros((n_states, n_out))
    for b in range(n_states):
        for mu in range(n_patterns):
            acc = 0.0
            if kind == _PROFILE_RBF:
                for j in range(n):
                    d = x[mu, j] - states[b, j]
                    acc += d * d
                val = np.exp(-acc / offset)
                for i in range(n_out):
                    term = coef[mu, i] * val
                    out[b, i] += term
                    magnitude[b, i] += abs(term)
                continue
            for j in range(n):
                acc += x[mu, j] * states[b, j]
            if self_input:
                val = _profile(acc, kind, scale, coefs, offset, degree, beta)
                for i in range(n_out):
                    term = coef[mu, i] * val
                    out[b, i] += term
                    magnitude[b, i] += abs(term)
            else:
                for i in range(n_out):
                    u = acc - x[mu, i] * states[b, i]
                    term = coef[mu, i] * _profile(u, kind, scale, coefs, offset, degree, beta)
                    out[b, i] += term
                    magnitude[b, i] += abs(term)
    return out


@njit(cache=True, nogil=True)
def _sdm_fields(addresses, threshold, pattern_act_t, states, coef):  # pragma: no cover - numba
    """Fields h[b, i] = sum_mu coef[mu, i] K_SDM(x^mu, s_b), K_SDM = number of shared locations.

    addresses : (M, N) float64; pattern_act_t : (M, P) float64 0/1 activations of the stored
    patterns; states : (B, N) float64; coef : (P, N_out). For each state the active locations
    (a_m . s >= threshold) are listed first, then only their rows of ``pattern_act_t`` are summed,
    so the cost is O(B (M N + M_active P + P N_out)). Serial, see ``_direct_fields``.
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


def _direct(model: KernelMemory, s: np.ndarray, self_input: bool, magnitude) -> np.ndarray:
    """Fields from the numba kernel (dot-product and RBF kernels), no BLAS."""
    x, kernel = model.patterns, model.kernel
    n = x.shape[1]
    scale = 1.0 / n if kernel.scale is None else kernel.scale
    coefs = np.asarray(kernel.coefficients if kernel.coefficients else (0.0,), dtype=np.float64)
    if kernel.kind == "rbf":
        kind, offset = _PROFILE_RBF, 2.0 * kernel.length_scale**2
    else:
        kind, offset = _PROFILE_CODES[kernel.profile], kernel.offset
    return _direct_fields(
        x,
        np.ascontiguousarray(s),
        np.ascontiguousarray(model.coef),
        self_input,
        kind,
        scale,
        coefs,
        offset,
        kernel.degree,
        kernel.beta,
        magnitude,
    )


def _fields(model: KernelMemory, s: np.ndarray, magnitude=None) -> np.ndarray:
    r"""Fields of the states ``s`` (B, N).

    If ``magnitude`` (a zero (B, N_out) array) is given, the numba paths add to it the sums
    :math:`\sum_\mu |A_{\mu i} \mathcal K_\mu|` that bound the rounding error of the fields;
    the other paths (SDM counts, regression, custom kernels) leave it at zero.
    """
    x, kernel, coef = model.patterns, model.kernel, model.coef
    if magnitude is None:
        magnitude = np.zeros((s.shape[0], coef.shape[1]))
    if not model.self_input:
        return _direct(model, s, False, magnitude)
    if model.method == "regression":
        if kernel.kind == "dot" and kernel.profile == "exp":
            n = x.shape[1]
            scale = 1.0 / n if kernel.scale is None else kernel.scale
            logits = kernel.beta * scale * (s @ x.T)
            logits -= logits.max(axis=1, keepdims=True)
            w = np.exp(logits)
        else:
            w = kernel._gram(s, x)
        total = w.sum(axis=1, keepdims=True)
        if np.any(total <= 0):
            raise ValueError("kernel regression is undefined where all kernel values are zero")
        return (w / total) @ coef
    if kernel.kind in ("dot", "rbf"):
        return _direct(model, s, True, magnitude)
    if kernel.kind == "sdm":
        act_t = np.ascontiguousarray(_activations(kernel.addresses, x, kernel.threshold).T)
        return _sdm_fields(
            kernel.addresses,
            kernel.threshold,
            act_t,
            np.ascontiguousarray(s),
            np.ascontiguousarray(coef),
        )
    return kernel._gram(s, x) @ coef


def fields(model, states) -> np.ndarray:
    r"""Fields :math:`\mathbf f(\mathbf x)` of the network, shape ``(N_out,)`` or ``(B, N_out)``.

    :math:`f_i(\mathbf x) = \sum_\mu A_{\mu i}\,\mathcal K(\mathbf x^\mu, \mathbf x)` (with
    :math:`\mathbf x_{\setminus i}` in place of both arguments without self-input; divided by
    :math:`\sum_\mu \mathcal K(\mathbf x^\mu, \mathbf x)` for ``regression``).

    Parameters
    ----------
    model : KernelMemory
        A network returned by :func:`fit`.
    states : array_like, shape (N,) or (B, N)
        Real states :math:`\mathbf x` (one per row).

    Returns
    -------
    numpy.ndarray of float64, shape (N_out,) or (B, N_out)
        The fields :math:`\mathbf f(\mathbf x)`, one row per state.
    """
    model = _check_model(model)
    s, single = _states(model, states)
    out = _fields(model, s)
    check_finite_result(out, "the fields", "the states or the patterns are too large (overflow)")
    return out[0] if single else out


def recall(model, cues, n_steps=30) -> np.ndarray:
    r"""Iterate the recurrent kernel memory network from ``cues``.

    Binary targets: :math:`\mathbf x_{t+1} = \operatorname{sgn}(A^\top\mathbf k(\mathbf x_t))`,
    e.g. :math:`\operatorname{sgn}(X^\top K^{-1}\mathbf k(\mathbf x_t))` for interpolation,
    synchronous; a zero field keeps the state, and so does a field within its rounding error of
    zero, :math:`|f_i| \le 2(P+8)\,\epsilon \sum_\mu |A_{\mu i}\mathcal K_\mu|` (machine
    epsilon :math:`\epsilon`; e.g. a Hebbian field that is 0 in exact arithmetic but a sum of
    rounded terms :math:`u/N`); stops early at a fixed point.
    Continuous targets: :math:`\mathbf x_{t+1} = A^\top\mathbf k(\mathbf x_t)`, stops early when
    the state no longer changes.

    Parameters
    ----------
    model : KernelMemory
        An auto-associative network (targets = patterns) returned by :func:`fit`.
    cues : array_like, shape (N,) or (B, N)
        Initial states; entries -1/+1 for a binary model (binary targets), real otherwise.
        Not modified.
    n_steps : int
        Maximal number of synchronous steps, ``>= 0``.

    Returns
    -------
    numpy.ndarray, same shape as ``cues``
        Final states: int8 of -1/+1 for binary models, float64 otherwise.
    """
    model = _check_model(model)
    if model.targets.shape != model.patterns.shape:
        raise ValueError(
            "recall needs an auto-associative model (targets = patterns); use fields()"
        )
    if model.binary:
        try:
            check_pm1_array(cues, "cues", ndims=(1, 2))
        except ValueError as err:
            raise ValueError(
                f"{err}: the model's targets are binary (+-1) and recall applies the sign, so "
                f"the cues must be -1/+1 too"
            ) from None
    s, single = _states(model, cues, "cues")
    n_steps = check_nonneg_int(n_steps, "n_steps")
    s = s.copy()  # never write into the caller's cues
    active = np.arange(s.shape[0])
    # a field within its rounding error of zero is a tie (e.g. a Hebbian field that is 0 in
    # exact arithmetic but a sum of rounded terms u/N): the neuron keeps its state
    rounding = 2.0 * (model.patterns.shape[0] + 8) * np.finfo(np.float64).eps
    for _ in range(n_steps):
        if active.size == 0:
            break
        magnitude = np.zeros((active.size, model.coef.shape[1]))
        h = _fields(model, s[active], magnitude)
        if model.binary:
            tie = rounding * magnitude
            new = np.where(h > tie, 1.0, np.where(h < -tie, -1.0, s[active]))
        else:
            new = h
        check_finite_result(h, "the fields", "the cues or the patterns are too large (overflow)")
        changed = np.any(new != s[active], axis=1)
        s[active] = new
        active = active[changed]
    out = s.astype(np.int8) if model.binary else s
    return out[0] if single else out


def flip_cues(patterns, n_flips, *, rng) -> np.ndarray:
    r"""Copies of binary patterns with exactly ``n_flips`` distinct random bits flipped each.

    Each row :math:`\boldsymbol\xi` gives a cue :math:`\tilde{\boldsymbol\xi}` with
    :math:`\tilde\xi_i = -\xi_i` on a uniformly random set of :math:`k` neurons, so the
    Hamming distance to the pattern is exactly :math:`k` (overlap :math:`1 - 2k/N`).

    Parameters
    ----------
    patterns : array_like of +-1, shape (N,) or (B, N)
        Patterns to corrupt (not modified).
    n_flips : int
        Number :math:`k` of bits to flip per pattern, ``0 <= k <= N``.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    numpy.ndarray of int8, same shape as ``patterns``
        The cues.
    """
    check_generator(rng)
    x = check_pm1_array(patterns, "patterns", ndims=(1, 2))
    k = check_nonneg_int(n_flips, "n_flips")
    n = x.shape[-1]
    if k > n:
        raise ValueError(f"n_flips must be <= N = {n}; got {k}")
    return flip_k_bits(x, k, rng)


def retrieved_fraction(model, n_flips, *, rng, n_steps=30, n_cues=None) -> float:
    r"""Fraction of stored binary patterns recalled exactly from cues with ``n_flips`` flipped bits.

    Each of the first ``n_cues`` patterns :math:`\boldsymbol\xi^\mu` is corrupted once
    (:func:`flip_cues`), :func:`recall` runs at most ``n_steps`` steps from the cue, and the
    trial counts as a success if the final state equals :math:`\boldsymbol\xi^\mu`:
    :math:`\frac{1}{n}\sum_{\mu<n}\mathbf 1[\mathbf x_T^\mu = \boldsymbol\xi^\mu]`.

    Parameters
    ----------
    model : KernelMemory
        A binary auto-associative network returned by :func:`fit`.
    n_flips : int
        Flipped bits per cue, ``0 <= n_flips <= N``.
    rng : numpy.random.Generator
        Source of randomness (which bits are flipped).
    n_steps : int, optional
        Maximal number of recall steps (default 30).
    n_cues : int, optional
        Number :math:`n` of patterns tested, the first ones (default all ``P``; at most ``P``).

    Returns
    -------
    float
        Fraction of exact retrievals, in ``[0, 1]``.
    """
    model = _check_model(model)
    if not model.binary or model.targets.shape != model.patterns.shape:
        raise ValueError("retrieved_fraction needs a binary auto-associative model")
    p = model.patterns.shape[0]
    n_cues = p if n_cues is None else min(check_positive_int(n_cues, "n_cues"), p)
    xi = model.patterns[:n_cues].astype(np.int8)
    out = recall(model, flip_cues(xi, n_flips, rng=rng), n_steps)
    return float(np.mean(np.all(out == xi, axis=1)))


def linear_weights(model) -> np.ndarray:
    r"""Weight matrix :math:`W` with :math:`\mathbf f(\mathbf x) = W\mathbf x` (linear kernel).

    :math:`W = s\,A^\top X` (shape ``(N_out, N)``), e.g. the projector
    :math:`X^\top (XX^\top)^{-1} X` for interpolation and :math:`X^\top X/N` for ``hebbian``;
    without self-input the diagonal is zero.

    Parameters
    ----------
    model : KernelMemory
        A network fitted with :func:`linear_kernel` (any method but ``"regression"``).

    Returns
    -------
    numpy.ndarray of float64, shape (N_out, N)
        The weight matrix :math:`W`.
    """
    model = _check_model(model)
    k = model.kernel
    if not (
        k.kind == "dot"
        and k.profile == "poly"
        and len(k.coefficients) == 2
        and k.coefficients[0] == 0.0
    ):
        raise ValueError(f"linear_weights needs a linear kernel; got {k.name!r}")
    if model.method == "regression":
        raise ValueError("method='regression' is not linear in x")
    n = model.patterns.shape[1]
    w = model.coef.T @ model.patterns
    if k.coefficients[1] != 1.0:
        w = w * k.coefficients[1]
    w = w / n if k.scale is None else w * k.scale
    if not model.self_input:
        np.fill_diagonal(w, 0.0)
    return w


def fixed_point_jacobians(model, indices=None) -> np.ndarray:
    r"""Jacobians :math:`J = \partial\mathbf f/\partial\mathbf x` at stored patterns.

    For continuous recall, :math:`J = A^\top\,\partial\mathbf k/\partial\mathbf x`, with
    :math:`\partial_{\mathbf x}\mathcal K(\mathbf x^\nu,\mathbf x)
    = \mathcal K(\mathbf x^\nu,\mathbf x)(\mathbf x^\nu-\mathbf x)/\ell^2`
    for the RBF kernel and :math:`f'(u)\,s\,\mathbf x^\nu` for dot-product kernels.  A fixed
    point is linearly stable when the spectral radius of :math:`J` is below 1.

    Parameters
    ----------
    model : KernelMemory
        A network fitted with ``self_input=True``, an RBF or dot-product kernel and a method other
        than ``"regression"``.
    indices : int or array_like of int, optional
        Indices of the stored patterns at which :math:`J` is evaluated (default all).

    Returns
    -------
    numpy.ndarray of float64, shape (len(indices), N_out, N)
        One Jacobian per index.
    """
    model = _check_model(model)
    k = model.kernel
    if not model.self_input or model.method == "regression":
        raise ValueError("fixed_point_jacobians needs self_input=True and a non-regression method")
    x = model.patterns
    idx = np.arange(x.shape[0]) if indices is None else np.atleast_1d(np.asarray(indices))
    if (
        idx.ndim != 1
        or not np.issubdtype(idx.dtype, np.integer)
        or np.any(idx < 0)
        or np.any(idx >= x.shape[0])
    ):
        raise ValueError("indices must be pattern indices in [0, P-1]")
    pts = x[idx]
    check_size((pts.shape[0], x.shape[0], x.shape[1]), "the Jacobians (m, P, N)", copies=2)
    if k.kind == "rbf":
        kv = k._gram(x, pts)  # (P, m)
        diff = x[None, :, :] - pts[:, None, :]  # (m, P, N)
        jac = np.einsum("vi,vm,mvj->mij", model.coef, kv, diff) / k.length_scale**2
        check_finite_result(jac, "the Jacobians", "the patterns are too large (overflow)")
        return jac
    if k.kind == "dot":
        n = x.shape[1]
        scale = 1.0 / n if k.scale is None else k.scale
        u = x @ pts.T
        h = 1e-6 * max(1.0, float(np.max(np.abs(u))))
        deriv = (k.dot_profile(u + h, n) - k.dot_profile(u - h, n)) / (2 * h)
        jac = scale * np.einsum("vi,vm,vj->mij", model.coef, deriv, x)
        check_finite_result(jac, "the Jacobians", "the patterns are too large (overflow)")
        return jac
    raise ValueError(f"fixed_point_jacobians supports RBF and dot-product kernels, not {k.name!r}")


# --------------------------------------------------------------------------
# patterns and sparse distributed memory
# --------------------------------------------------------------------------


def spherical_patterns(n_patterns, n_neurons, *, rng) -> np.ndarray:
    r"""Independent points uniform on the unit sphere :math:`S^{N-1}`.

    Each row is :math:`\mathbf z/\lVert\mathbf z\rVert` with :math:`\mathbf z` standard normal.

    Parameters
    ----------
    n_patterns : int
        Number of points ``P >= 1``.
    n_neurons : int
        Dimension ``N >= 2``.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    numpy.ndarray of float64, shape (P, N)
        Unit-norm rows.
    """
    check_generator(rng)
    p = check_positive_int(n_patterns, "n_patterns")
    n = check_positive_int(n_neurons, "n_neurons", minimum=2)
    check_size((p, n), "the patterns (n_patterns, n_neurons)", copies=2)
    z = rng.standard_normal((p, n))
    return z / np.linalg.norm(z, axis=1, keepdims=True)


def random_addresses(n_addresses, n_neurons, *, rng) -> np.ndarray:
    r"""Uniform random binary addresses (hard locations) of a sparse distributed memory.

    Every entry :math:`a_{mi}` is :math:`\pm 1` with probability 1/2, independently.

    Parameters
    ----------
    n_addresses : int
        Number of addresses ``M >= 1``.
    n_neurons : int
        Dimension ``N >= 2``.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    numpy.ndarray of int8, shape (M, N)
        The addresses.
    """
    check_generator(rng)
    m = check_positive_int(n_addresses, "n_addresses")
    n = check_positive_int(n_neurons, "n_neurons", minimum=2)
    check_size((m, n), "the addresses (n_addresses, n_neurons)", itemsize=1)
    return random_pm1((m, n), rng)


def _sdm_args(addresses, radius, points, name):
    """Validated float64 addresses (M, N), radius, points (B, N) and whether one point was given."""
    a = check_pm1_array(addresses, "addresses", ndims=(2,))
    r = check_nonneg_int(radius, "radius")
    x = check_pm1_array(points, name, ndims=(1, 2))
    single = x.ndim == 1
    x = np.atleast_2d(x)
    if x.shape[1] != a.shape[1]:
        raise ValueError(
            f"{name} have N={x.shape[1]} neurons but the addresses have N={a.shape[1]}"
        )
    return a.astype(np.float64), r, x.astype(np.float64), single


def sdm_write(addresses, radius, patterns, targets=None) -> np.ndarray:
    r"""Kanerva's write: counters :math:`C_m = \sum_\mu \varphi_m(\mathbf x^\mu)\,\mathbf y^\mu`.

    Location :math:`m` is active for :math:`\mathbf x` when the Hamming distance
    :math:`d_H(\mathbf x, \mathbf a_m) \le r`, i.e.
    :math:`\varphi_m(\mathbf x) = \Theta(\mathbf a_m^\top\mathbf x - (N - 2r))`.

    Parameters
    ----------
    addresses : array_like of +-1, shape (M, N)
        Hard locations :math:`\mathbf a_m`.
    radius : int
        Activation radius :math:`r \ge 0`.
    patterns : array_like of +-1, shape (P, N) or (N,)
        Write addresses :math:`\mathbf x^\mu`.
    targets : array_like of +-1, shape (P, N_out) or (N_out,), optional
        Data :math:`\mathbf y^\mu` written (default ``patterns``, auto-association).

    Returns
    -------
    numpy.ndarray of int64, shape (M, N_out)
        The counters :math:`C`.
    """
    a, r, x, _ = _sdm_args(addresses, radius, patterns, "patterns")
    if targets is None:
        y = x
    else:
        y = np.atleast_2d(check_pm1_array(targets, "targets", ndims=(1, 2))).astype(np.float64)
        if y.shape[0] != x.shape[0]:
            raise ValueError(
                f"targets must have one row per pattern (P={x.shape[0]}); got shape {y.shape}"
            )
    act = (x @ a.T >= a.shape[1] - 2 * r).astype(np.float64)
    return np.rint(act.T @ y).astype(np.int64)


def sdm_read(addresses, radius, counters, cues, threshold=True) -> np.ndarray:
    r"""Kanerva's read: :math:`\operatorname{sgn}\sum_m \varphi_m(\mathbf x) C_m`.

    With ``threshold=False`` the integer sums are returned (they equal
    :math:`Y^\top\mathbf k(\mathbf x)` of the SDM kernel); with ``threshold=True`` their signs,
    a zero sum reading as +1.

    Parameters
    ----------
    addresses : array_like of +-1, shape (M, N)
        Hard locations :math:`\mathbf a_m`.
    radius : int
        Activation radius :math:`r \ge 0` (see :func:`sdm_write`).
    counters : array_like of int, shape (M, N_out)
        Counters :math:`C` returned by :func:`sdm_write` (integer values).
    cues : array_like of +-1, shape (B, N) or (N,)
        Read addresses :math:`\mathbf x`.
    threshold : bool, optional
        Return the signs (default) or the sums.

    Returns
    -------
    numpy.ndarray, shape (B, N_out) or (N_out,)
        int8 signs (-1/+1) if ``threshold`` else int64 sums.
    """
    a, r, x, single = _sdm_args(addresses, radius, cues, "cues")
    c = check_real_array(counters, "counters", shape=(a.shape[0], None))
    if not np.all(c == np.rint(c)):
        index = np.unravel_index(np.argmax(c != np.rint(c)), c.shape)
        raise ValueError(
            f"counters must be integers (as returned by sdm_write); found {c[index]} at index "
            f"{tuple(int(i) for i in index)}"
        )
    threshold = check_bool(threshold, "threshold")
    act = (x @ a.T >= a.shape[1] - 2 * r).astype(np.float64)
    sums = np.rint(act @ c).astype(np.int64)
    out = np.where(sums >= 0, 1, -1).astype(np.int8) if threshold else sums
    return out[0] if single else out


def sdm_expected_kernel(distance, n_neurons, n_addresses, radius) -> np.ndarray:
    r"""Expected SDM kernel for two points at Hamming distance ``d`` (random uniform addresses).

    .. math::
        \mathbb E\,\mathcal K(d) = \frac{M}{2^N}\sum_{a=0}^{d}\sum_{b=0}^{N-d}\binom da\binom{N-d}b
        \,\mathbf 1[a+b\le r]\,\mathbf 1[d-a+b\le r],

    where the address differs from :math:`\mathbf x` in :math:`a` of the :math:`d` coordinates
    in which the two points differ and in :math:`b` of the :math:`N-d` others.  Computed in exact
    integer arithmetic.

    Parameters
    ----------
    distance : int or array_like of int
        Hamming distance(s) :math:`d` in ``[0, N]``.
    n_neurons : int
        Dimension :math:`N \ge 1`.
    n_addresses : int
        Number of addresses :math:`M \ge 1`.
    radius : int
        Activation radius :math:`r \ge 0`.

    Returns
    -------
    numpy.ndarray of float64, same shape as ``distance``
        :math:`\mathbb E\,\mathcal K(d)`.
    """
    n = check_positive_int(n_neurons, "n_neurons")
    m = check_positive_int(n_addresses, "n_addresses")
    r = check_nonneg_int(radius, "radius")
    d = np.asarray(distance)
    if d.dtype == np.bool_ or not np.issubdtype(d.dtype, np.integer):
        raise TypeError(f"distance must be integer(s) in [0, N]; got dtype {d.dtype}")
    if np.any(d < 0) or np.any(d > n):
        raise ValueError(f"distance must be integer(s) in [0, N] = [0, {n}]")
    r = min(r, n)  # every radius >= N activates every location
    # only a <= r and b <= r contribute (a + b <= r): the sum has at most (r + 1)^2 terms
    terms = d.size * (r + 1) ** 2
    if terms > 10**7:
        raise ValueError(
            f"sdm_expected_kernel sums about {terms:.3g} binomial terms for radius={r} and "
            f"{d.size} distance(s), more than the limit of 1e7; use a smaller radius"
        )
    out = np.empty(d.shape)
    for idx, dd in np.ndenumerate(d):
        dd = int(dd)
        count = 0
        for a in range(min(dd, r) + 1):
            for b in range(min(n - dd, r) + 1):
                if a + b <= r and dd - a + b <= r:
                    count += math.comb(dd, a) * math.comb(n - dd, b)
        if n <= 4096:
            out[idx] = m * count / 2**n
        else:  # 2**n itself would be a huge integer: scale count * m by 2**-n in floating point
            shift = max((m * count).bit_length() - 64, 0)
            out[idx] = math.ldexp(float((m * count) >> shift), shift - n)
    return out


@njit(cache=True, parallel=True, nogil=True)
def _shared_locations(addresses, x, y, threshold):  # pragma: no cover - numba
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


def sdm_shared_locations(addresses, radius, states, partners) -> np.ndarray:
    r"""Monte-Carlo SDM kernel: number of addresses within radius ``r`` of both points of a pair.

    :math:`\mathcal K(\mathbf x, \mathbf y) = \sum_m \varphi_m(\mathbf x)\varphi_m(\mathbf y)`
    with :math:`\varphi_m(\mathbf x) = \mathbf 1[d_H(\mathbf x, \mathbf a_m) \le r]`, for each
    pair of rows (``states[b]``, ``partners[b]``), by a numba kernel that never stores the
    ``(B, M)`` activations.

    Parameters
    ----------
    addresses : array_like of +-1, shape (M, N)
        Hard locations :math:`\mathbf a_m`.
    radius : int
        Activation radius :math:`r \ge 0`.
    states : array_like of +-1, shape (B, N) or (N,)
        First points :math:`\mathbf x` of the pairs.
    partners : array_like of +-1, same shape as ``states``
        Second points :math:`\mathbf y` of the pairs.

    Returns
    -------
    numpy.ndarray of int64, shape (B,) (a scalar array for one pair of shape (N,))
        The number of shared locations of each pair.
    """
    a = check_pm1_array(addresses, "addresses", ndims=(2,))
    r = check_nonneg_int(radius, "radius")
    xs = check_pm1_array(states, "states", ndims=(1, 2))
    ys = check_pm1_array(partners, "partners", ndims=(1, 2))
    if xs.shape != ys.shape or xs.shape[-1] != a.shape[1]:
        raise ValueError(
            f"states and partners must have the same shape (B, N) or (N,) with N={a.shape[1]}; "
            f"got {xs.shape} and {ys.shape}"
        )
    r = min(r, a.shape[1])  # every radius >= N activates every location
    out = _shared_locations(a, np.atleast_2d(xs), np.atleast_2d(ys), a.shape[1] - 2 * r)
    return out if xs.ndim == 2 else out[0]


# --------------------------------------------------------------------------
# continuous patterns: separation capacity of the modified Kanerva memory
# --------------------------------------------------------------------------


def cap_probability(overlap, n_neurons) -> float:
    r"""Probability that two independent uniform unit vectors have overlap > c.

    .. math:: q_N(c) = \tfrac12 I_{1-c^2}\!\left(\tfrac{N-1}{2}, \tfrac12\right) \quad (0\le c<1),

    for unit vectors in :math:`\mathbb R^N`, with the regularised incomplete beta function
    :math:`I` (the normalised area of a spherical cap).

    Parameters
    ----------
    overlap : float
        Overlap :math:`c` in ``[0, 1)``.
    n_neurons : int
        Dimension :math:`N \ge 2`.

    Returns
    -------
    float
        :math:`q_N(c)`, in ``(0, 1/2]``.
    """
    c = check_finite_float(overlap, "overlap")
    n = check_positive_int(n_neurons, "n_neurons", minimum=2)
    if not 0.0 <= c < 1.0:
        raise ValueError(f"overlap must lie in [0, 1); got {c}")
    return float(0.5 * betainc((n - 1) / 2.0, 0.5, 1.0 - c * c))


def separation_capacity_median(n_neurons, overlap) -> float:
    r"""Median number of random unit patterns stored before the first pair has overlap > c.

    Treating the :math:`\binom P2` pairs as independent (birthday problem),
    :math:`\Pr(\text{all pairs separated}) \approx \exp[-\binom P2 q_N(c)]`, which is 1/2 at
    :math:`P = \tfrac12 + \sqrt{\tfrac14 + 2\ln 2/q_N(c)}`.  For large :math:`N`,
    :math:`\ln P \approx \tfrac N4\ln\frac{1}{1-c^2}`: exponential in :math:`N`.

    Parameters
    ----------
    n_neurons : int
        Dimension :math:`N \ge 2`.
    overlap : float
        Separation overlap :math:`c` in ``[0, 1)``.

    Returns
    -------
    float
        The birthday estimate of the median capacity :math:`P`.
    """
    q = cap_probability(overlap, n_neurons)
    if q == 0.0:
        raise ValueError(
            f"the median capacity for n_neurons={n_neurons}, overlap={overlap} exceeds the "
            f"floating-point range (the cap probability q_N(c) underflows to 0)"
        )
    return float(0.5 + math.sqrt(0.25 + 2.0 * math.log(2.0) / q))


# Largest expected work (multiply-adds) of separation_capacity: about 10 s on one core.
_SEPARATION_WORK = 2e10


def separation_capacity(n_neurons, overlap, *, rng, max_patterns=100_000, chunk=512) -> int:
    r"""Draw random unit patterns one by one until one has overlap > c with an earlier one.

    Patterns come from :func:`spherical_patterns` in chunks; the result is the largest :math:`P`
    with :math:`\mathbf x^{\mu\top}\mathbf x^\nu \le c` for all :math:`\mu < \nu \le P`.

    Parameters
    ----------
    n_neurons : int
        Dimension :math:`N \ge 2`.
    overlap : float
        Separation overlap :math:`c` in ``(-1, 1)``.
    rng : numpy.random.Generator
        Source of randomness.
    max_patterns : int, optional
        Upper limit on the count (default 100 000).
    chunk : int, optional
        Patterns drawn per batch (default 512); the random stream depends on it.

    Raises
    ------
    ValueError
        If the run would take more than about ``2e10`` multiply-adds (about ``P^2 N / 2`` for
        ``P`` patterns drawn, ``P`` up to four times the median capacity or ``max_patterns``):
        e.g. ``N = 200, c = 0.5`` with the default ``max_patterns``.

    Returns
    -------
    int
        The number of patterns drawn *before* the first one with overlap :math:`> c` to an
        earlier one (all pairwise overlaps :math:`\le c`), or ``max_patterns`` if no close pair
        appeared.
    """
    check_generator(rng)
    n = check_positive_int(n_neurons, "n_neurons", minimum=2)
    c = check_finite_float(overlap, "overlap")
    if not -1.0 < c < 1.0:
        raise ValueError(f"overlap must lie in (-1, 1); got {c}")
    max_patterns = check_positive_int(max_patterns, "max_patterns", minimum=2)
    chunk = check_positive_int(chunk, "chunk")
    check_size((chunk, n + chunk), "one chunk of patterns and its overlaps", copies=3)
    # bounded cost: refuse runs expected to need more than _SEPARATION_WORK multiply-adds
    expected = max_patterns
    if c >= 0.0:
        q = cap_probability(c, n)
        if q > 0.0:
            expected = min(max_patterns, 4.0 * (0.5 + math.sqrt(0.25 + 2.0 * math.log(2.0) / q)))
    work = (expected + chunk) ** 2 * n / 2.0
    if work > _SEPARATION_WORK:
        raise ValueError(
            f"separation_capacity(n_neurons={n}, overlap={c}) would draw up to about "
            f"{expected:.3g} patterns (the median capacity, see separation_capacity_median, "
            f"is large), about {work:.2g} multiply-adds; lower max_patterns (at most "
            f"{int(math.sqrt(2.0 * _SEPARATION_WORK / n)):d} for this N) or the overlap, or "
            f"use separation_capacity_median"
        )
    stored = np.empty((0, n))
    while stored.shape[0] < max_patterns:
        new = spherical_patterns(chunk, n, rng=rng)
        g_old = new @ stored.T  # (chunk, P)
        g_new = np.triu(new @ new.T, k=1).T  # g_new[j, i] for i < j
        bad = (g_old > c).any(axis=1) | (g_new > c).any(axis=1)
        if bad.any():
            first = int(np.argmax(bad))
            return min(stored.shape[0] + first, max_patterns)
        stored = np.vstack([stored, new])
    return max_patterns


# --------------------------------------------------------------------------
# basins of continuous memories
# --------------------------------------------------------------------------


def rbf_basin_radius(length_scale, pattern_norm=1.0) -> float:
    r"""Basin radius of an isolated pattern of the RBF interpolation network (theory).

    When the Gram matrix is close to the identity (patterns much farther apart than
    :math:`\ell`), a cue at distance :math:`a` from pattern :math:`\mathbf x^\mu` has
    :math:`K^{-1}\mathbf k \approx e^{-a^2/2\ell^2}\,\mathbf e_\mu`, so one step maps it to
    :math:`e^{-a^2/2\ell^2}\mathbf x^\mu`, at distance

    .. math:: a' = g(a) = r\,\bigl(1 - e^{-a^2/2\ell^2}\bigr),\qquad r = \lVert\mathbf x^\mu\rVert .

    Iterating :math:`g` from :math:`a` converges to 0 exactly when :math:`a` lies below the
    smallest positive root :math:`a^\ast` of :math:`g(a) = a`, the basin radius; for
    :math:`\ell^2 \ll r^2`, :math:`a^\ast \approx 2\ell^2/r`.

    Parameters
    ----------
    length_scale : float
        Kernel width :math:`\ell > 0`.
    pattern_norm : float
        Norm :math:`r > 0` of the pattern (1 for unit patterns).

    Returns
    -------
    float
        :math:`a^\ast`, or ``inf`` if :math:`g(a) < a` for all :math:`a > 0` (no finite root:
        an isolated pattern attracts every cue).
    """
    ell = check_positive_float(length_scale, "length_scale")
    r = check_positive_float(pattern_norm, "pattern_norm")
    if not 1e-100 <= r / ell <= 1e100:
        raise ValueError(
            f"pattern_norm / length_scale must lie in [1e-100, 1e100]; got {r / ell:.3g}"
        )

    def excess(a):
        u = a / ell
        return (r if u > 64.0 else r * -math.expm1(-0.5 * u * u)) - a

    grid = np.linspace(0.0, r, 4097)[1:].tolist()
    above = np.nonzero([excess(a) > 0 for a in grid])[0]
    if above.size == 0:
        return math.inf
    hi = float(grid[above[0]])
    # below a = 2 l^2 / r the map contracts (g(a) < a): the root lies above min(l^2, hi) / r
    lo = min(ell * ell / r, float(grid[above[0] - 1]) if above[0] > 0 else hi)
    if not excess(lo) < 0:
        lo = 0.0
    return float(brentq(excess, lo, hi, xtol=1e-300, rtol=1e-12))


def basin_radius(model, indices, directions, *, max_radius, n_steps=40, tol=1e-3, n_bisect=14):
    r"""Measured basin radius of stored patterns along given directions (continuous recall).

    For pattern :math:`\mathbf x^\mu` and unit direction :math:`\mathbf z`, the cue
    :math:`\mathbf x^\mu + a\,\mathbf z` counts as recalled when :func:`recall` (``n_steps``
    steps) ends within ``tol`` of :math:`\mathbf x^\mu`.  The radius is found by bisection on
    :math:`a \in [0, a_{\max}]`, assuming the recalled cues along the ray form an interval
    starting at 0: the result is the largest recalled :math:`a` found, to within
    :math:`a_{\max}/2^{n_{\rm bisect}}` (``max_radius`` if that cue is recalled, 0 if none).

    Parameters
    ----------
    model : KernelMemory
        An auto-associative network with continuous patterns (see :func:`fit`).
    indices : array_like of int, shape (m,)
        Indices of the stored patterns.
    directions : array_like, shape (m, N)
        One direction per index (normalised here to unit length).
    max_radius : float
        Upper end :math:`a_{\max} > 0` of the search.
    n_steps : int
        Recall steps per cue.
    tol : float
        Distance to the pattern below which a cue counts as recalled.
    n_bisect : int
        Bisection steps.

    Returns
    -------
    numpy.ndarray of float64, shape (m,)
        The basin radius along each direction.
    """
    model = _check_model(model)
    if model.binary:
        raise ValueError("basin_radius needs continuous patterns; for binary models use flip_cues")
    x = model.patterns
    idx = np.atleast_1d(np.asarray(indices))
    if (
        idx.ndim != 1
        or not np.issubdtype(idx.dtype, np.integer)
        or np.any(idx < 0)
        or np.any(idx >= x.shape[0])
    ):
        raise ValueError("indices must be a 1-d array of pattern indices in [0, P-1]")
    z = check_real_array(directions, "directions", shape=(idx.size, x.shape[1]), copy=True)
    norms = np.linalg.norm(z, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise ValueError("directions must be non-zero vectors")
    z /= norms
    a_max = check_positive_float(max_radius, "max_radius")
    n_steps = check_positive_int(n_steps, "n_steps")
    tol = check_positive_float(tol, "tol")
    n_bisect = check_positive_int(n_bisect, "n_bisect")
    if n_bisect > 64:
        raise ValueError(
            f"n_bisect must be <= 64 (beyond, the steps are below rounding); got {n_bisect}"
        )
    targets = x[idx]

    def recalled(a):
        out = recall(model, targets + a[:, None] * z, n_steps)
        return np.linalg.norm(out - targets, axis=1) < tol

    lo = np.zeros(idx.size)
    hi = np.full(idx.size, a_max)
    top = recalled(hi)
    lo[top] = a_max
    for _ in range(n_bisect):
        mid = 0.5 * (lo + hi)
        ok = recalled(mid)
        lo = np.where(ok, mid, lo)
        hi = np.where(ok, hi, mid)
    return np.where(top, a_max, lo)
