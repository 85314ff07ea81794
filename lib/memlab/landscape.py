r"""Symmetries of the loss landscape of two-layer networks.

A two-layer network with ``m`` hidden neurons, input weights :math:`\mathbf w_j\in\mathbb
R^{d}` and output weights :math:`\mathbf a_j\in\mathbb R^{k}` computes

.. math::  \mathbf f(\mathbf x) = \sum_{j=1}^m \mathbf a_j\,\sigma(\mathbf w_j\cdot\mathbf x),

with a smooth activation :math:`\sigma` (``"tanh"`` or ``"softplus"``) and no biases.  On data
:math:`(\mathbf x_n, \mathbf y_n)_{n=1}^N` the loss is the mean squared error

.. math::  L = \frac{1}{2N}\sum_{n=1}^N \lVert \mathbf f(\mathbf x_n) - \mathbf y_n\rVert^2 .

Swapping two neurons (with their incoming and outgoing weights) leaves :math:`\mathbf f`, hence
:math:`L`, unchanged.  This module provides

* the loss, its analytic gradient and Hessian (:func:`loss`, :func:`gradient`, :func:`hessian`),
  with parameters flattened as :math:`\theta = (\mathrm{vec}\,W, \mathrm{vec}\,A)`;
* teacher data and batched training of many random starts: gradient descent (an Euler
  discretisation of gradient flow, batched matrix products over all students) followed by a
  damped-Newton polish to a gradient norm of ``1e-10`` (:func:`teacher_data`,
  :func:`train_students`, :func:`polish`);
* permutation points by neuron duplication (:func:`duplicate_neuron`,
  :func:`antisymmetric_directions`, :func:`hessian_inertia`);
* the affine subspaces of global minima and of symmetry-induced critical points of a wider
  network, their closed-form counts (Stirling numbers) and brute-force enumeration
  (:func:`count_global_min_subspaces`, :func:`count_critical_subspaces`,
  :func:`enumerate_subspaces`, :func:`expansion_subspace`, :func:`count_permutation_points`);
* the zero-loss path between permuted minima through three affine segments
  (:func:`expansion_path`) and a minimum-energy path between permuted minima by the
  simplified string method (:func:`string_method`).

Bad input raises ``TypeError``/``ValueError``; a loss, gradient or Hessian that overflows (huge
weights or targets, a diverging gradient descent or string) raises ``FloatingPointError``.

References: J. Brea, B. Şimşek, B. Illing, W. Gerstner, arXiv:1907.02911 (2019);
B. Şimşek et al., ICML 2021, arXiv:2105.12221.
"""

from __future__ import annotations

import itertools
import math
from typing import NamedTuple

import numpy as np

from memlab._common import blas_threads_for
from memlab._validation import (
    check_generator,
    check_int,
    check_nonneg_int,
    check_option,
    check_positive_float,
    check_positive_int,
    check_real_array,
)

__all__ = [
    "ACTIVATIONS",
    "Network",
    "TeacherData",
    "TrainingResult",
    "Inertia",
    "Subspace",
    "ExpansionPath",
    "StringPath",
    "CriticalPoint",
    "forward",
    "loss",
    "gradient",
    "hessian",
    "pack",
    "unpack",
    "permute_neurons",
    "teacher_data",
    "random_students",
    "gradient_descent",
    "train_students",
    "polish",
    "duplicate_neuron",
    "antisymmetric_directions",
    "hessian_inertia",
    "stirling2",
    "count_global_min_subspaces",
    "count_critical_subspaces",
    "enumerate_subspaces",
    "subspace_dimension",
    "expansion_subspace",
    "count_permutation_points",
    "enumerate_permutation_points",
    "expansion_path",
    "string_method",
    "newton_critical_point",
]

ACTIVATIONS = ("tanh", "softplus")
_CODES = {"tanh": 0, "softplus": 1}  # option check (see _code)


# --- results --------------------------------------------------------------------------------


class Network(NamedTuple):
    """Weights of a two-layer network.

    Attributes
    ----------
    w : numpy.ndarray
        Input weights, shape ``(m, d)`` (row ``j`` is :math:`\\mathbf w_j`).
    a : numpy.ndarray
        Output weights, shape ``(m,)`` for one output or ``(m, k)``.
    """

    w: np.ndarray
    a: np.ndarray


class TeacherData(NamedTuple):
    """Inputs, teacher outputs and the teacher's weights.

    Attributes
    ----------
    x : numpy.ndarray
        Inputs, shape ``(N, d)``, standard Gaussian entries.
    y : numpy.ndarray
        Teacher outputs, shape ``(N,)`` or ``(N, k)``.
    teacher : Network
        The teacher's weights.
    """

    x: np.ndarray
    y: np.ndarray
    teacher: Network


class TrainingResult(NamedTuple):
    """Final weights and diagnostics of a batch of training runs (one row per start).

    Attributes
    ----------
    w : numpy.ndarray
        Input weights, shape ``(B, m, d)``.
    a : numpy.ndarray
        Output weights, shape ``(B, m, k)``.
    loss : numpy.ndarray
        Final loss of every run, shape ``(B,)``.
    grad_norm : numpy.ndarray
        Final Euclidean gradient norm, shape ``(B,)``.
    converged : numpy.ndarray
        Boolean, shape ``(B,)``: the gradient norm reached the tolerance.
    curves : numpy.ndarray
        Loss recorded during gradient descent, shape ``(B, n_records)``.
    """

    w: np.ndarray
    a: np.ndarray
    loss: np.ndarray
    grad_norm: np.ndarray
    converged: np.ndarray
    curves: np.ndarray


class Inertia(NamedTuple):
    """Numbers of negative, zero and positive eigenvalues of a symmetric matrix.

    Attributes
    ----------
    negative, zero, positive : int
        Counts, with "zero" meaning :math:`|\\lambda| \\le` the tolerance.
    eigenvalues : numpy.ndarray
        All eigenvalues in ascending order.
    """

    negative: int
    zero: int
    positive: int
    eigenvalues: np.ndarray


class Subspace(NamedTuple):
    """An affine subspace of a wide network's parameter space.

    Attributes
    ----------
    point : numpy.ndarray
        A point of the subspace, flattened (:func:`pack`).
    basis : numpy.ndarray
        Orthonormal directions spanning it, shape ``(dim, P)``.
    labels : tuple of int
        Neuron ``j`` is a copy of reduced neuron ``labels[j]`` (1-based) or, if ``0``, a
        zero-type neuron (outgoing weights zero, incoming weights free).
    """

    point: np.ndarray
    basis: np.ndarray
    labels: tuple


class ExpansionPath(NamedTuple):
    """A piecewise-linear path in parameter space.

    Attributes
    ----------
    params : numpy.ndarray
        Flattened parameters along the path, shape ``(n, P)``.
    segment : numpy.ndarray
        Index (0, 1, 2) of the segment each point belongs to, shape ``(n,)``.
    """

    params: np.ndarray
    segment: np.ndarray


class StringPath(NamedTuple):
    """Result of the string method: a discretised minimum-energy path.

    Attributes
    ----------
    params : numpy.ndarray
        Images, flattened parameters, shape ``(n_images, P)``.
    loss : numpy.ndarray
        Loss of every image, shape ``(n_images,)``.
    barrier : float
        Highest loss along the path minus the higher of the two end losses.
    top : int
        Index of the highest image.
    """

    params: np.ndarray
    loss: np.ndarray
    barrier: float
    top: int


class CriticalPoint(NamedTuple):
    """A critical point found by Newton's method.

    Attributes
    ----------
    w : numpy.ndarray
        Input weights, shape ``(m, d)``.
    a : numpy.ndarray
        Output weights, shape ``(m,)`` or ``(m, k)``.
    loss : float
        Loss at the point.
    grad_norm : float
        Euclidean norm of the gradient at the point.
    """

    w: np.ndarray
    a: np.ndarray
    loss: float
    grad_norm: float


# --- validation -----------------------------------------------------------------------------


def _check_net(w, a):
    w = check_real_array(w, "w (input weights)", ndim=2)
    a = check_real_array(a, "a (output weights)", ndim=(1, 2))
    if a.shape[0] != w.shape[0]:
        raise ValueError(
            f"w and a must have one row per hidden neuron; got w with {w.shape[0]} rows "
            f"(shape {w.shape}) and a with {a.shape[0]} (shape {a.shape})"
        )
    return w, a


_NO_TARGETS = object()
_MAX_ELEMENTS = 10**8  # largest array the module allocates (800 MB of float64)
_MAX_ITER = 10**4


def _check_size(n_elements: int, what: str) -> None:
    if n_elements > _MAX_ELEMENTS:
        raise ValueError(
            f"{what} would need {n_elements:.3g} numbers (more than {_MAX_ELEMENTS:.0e}); "
            "use smaller sizes"
        )


def _check_finite_result(value, what: str):
    # called several times per Newton step: math.isfinite for a float, and the array's own
    # .all() rather than np.all's wrapper (with np.all, this check took 1.2 s of 12.7 s in a
    # profile of Chapter 10's first training cell; 2026-12-03)
    finite = math.isfinite(value) if isinstance(value, float) else np.isfinite(value).all()
    if not finite:
        raise FloatingPointError(
            f"{what} is not finite (overflow): the weights, inputs or targets are too large"
        )
    return value


def _check_data(w, a, x, y=_NO_TARGETS):
    w, a = _check_net(w, a)
    x = check_real_array(x, "x (inputs)", ndim=2)
    if x.shape[1] != w.shape[1]:
        raise ValueError(
            f"x has {x.shape[1]} input dimensions (shape {x.shape}) but w has {w.shape[1]} "
            f"columns (shape {w.shape}); expected x of shape (N, {w.shape[1]})"
        )
    if y is _NO_TARGETS:
        return w, a, x, None
    y = check_real_array(y, "y (targets)", ndim=(1, 2))
    want = (x.shape[0],) + a.shape[1:]
    if y.shape != want:
        raise ValueError(
            f"y must have shape {want} (one target per input, one column per output); "
            f"got shape {y.shape}"
        )
    return w, a, x, y


def _code(activation):
    return _CODES[check_option(activation, "activation", ACTIVATIONS)]


# --- batched kernels ------------------------------------------------------------------------
# Batched matrix products over the whole batch of students: on the 2-core machine this was 2.6x
# faster than a numba loop over students and steps (whose cost is the scalar tanh calls;
# numpy's tanh is vectorised), measured 2026-12-02, 64 students, m = 5, N = 80, d = 2.


def _workspace(w, a, x):
    """Buffers for :func:`_batch_loss_grad` (reused across steps: allocating the large
    temporaries anew at every step made the heap grow and shrink, and the page faults cost
    more than the arithmetic; measured 2026-12-02: 0.31 s -> 0.1 s for 500 steps of 64 students)."""
    n_batch, m, d = w.shape
    k = a.shape[2]
    n = x.shape[0]
    return {
        "s": np.empty((n_batch, m, n)),
        "ds": np.empty((n_batch, m, n)),
        "r": np.empty((n_batch, k, n)),
        "back": np.empty((n_batch, m, n)),
        "grad_w": np.empty((n_batch, m, d)),
        "grad_a": np.empty((n_batch, m, k)),
    }


def _batch_loss_grad(w, a, x, y2, activation, ws=None):
    """Loss (B,) and gradients (B, m, d), (B, m, k) of a batch of networks.

    The gradients are returned in the buffers of ``ws``: copy them before the next call.
    """
    if ws is None:
        ws = _workspace(w, a, x)
    n = x.shape[0]
    s, ds, r, back = ws["s"], ws["ds"], ws["r"], ws["back"]
    np.matmul(w, x.T, out=s)  # z, shape (B, m, N)
    if activation == "tanh":
        np.tanh(s, out=s)
        np.multiply(s, s, out=ds)
        np.subtract(1.0, ds, out=ds)
    else:
        np.multiply(s, 0.5, out=ds)
        np.tanh(ds, out=ds)
        ds += 1.0
        ds *= 0.5
        np.logaddexp(0.0, s, out=s)
    np.matmul(a.transpose(0, 2, 1), s, out=r)  # outputs, shape (B, k, N)
    r -= y2.T
    value = 0.5 * np.einsum("bkn,bkn->b", r, r) / n
    r /= n  # errors e_n = (f(x_n) - y_n) / N
    np.matmul(s, r.transpose(0, 2, 1), out=ws["grad_a"])
    np.matmul(a, r, out=back)
    back *= ds
    np.matmul(back, x, out=ws["grad_w"])
    return value, ws["grad_w"], ws["grad_a"]


# --- basic quantities -----------------------------------------------------------------------


def _as2d(a):
    return a[:, None] if a.ndim == 1 else a


def _activation(z, activation):
    if activation == "tanh":
        t = np.tanh(z)
        d = 1.0 - t * t
        return t, d, -2.0 * t * d
    s = np.logaddexp(0.0, z)
    p = 0.5 * (1.0 + np.tanh(0.5 * z))
    return s, p, p * (1.0 - p)


def forward(w, a, x, *, activation: str = "tanh") -> np.ndarray:
    r"""Network output :math:`\mathbf f(\mathbf x_n) = \sum_j \mathbf a_j\sigma(\mathbf w_j\cdot
    \mathbf x_n)`.

    Parameters
    ----------
    w : array_like, shape (m, d)
        Input weights.
    a : array_like, shape (m,) or (m, k)
        Output weights.
    x : array_like, shape (N, d)
        Inputs.
    activation : {"tanh", "softplus"}
        The activation :math:`\sigma`.

    Returns
    -------
    numpy.ndarray
        Outputs, shape ``(N,)`` if ``a`` is 1-D, else ``(N, k)``.
    """
    _code(activation)
    w, a, x, _ = _check_data(w, a, x)
    s, _, _ = _activation(x @ w.T, activation)
    return s @ a


def loss(w, a, x, y, *, activation: str = "tanh") -> float:
    r"""Mean squared error :math:`L = \frac{1}{2N}\sum_n\lVert\mathbf f(\mathbf x_n)-\mathbf
    y_n\rVert^2`.

    Parameters
    ----------
    w : array_like, shape (m, d)
        Input weights.
    a : array_like, shape (m,) or (m, k)
        Output weights.
    x : array_like, shape (N, d)
        Inputs.
    y : array_like, shape (N,) or (N, k)
        Targets (the shape of the outputs).
    activation : {"tanh", "softplus"}
        The activation :math:`\sigma`.

    Returns
    -------
    float
        The loss.
    """
    _code(activation)
    w, a, x, y = _check_data(w, a, x, y)
    return _loss(w, a, x, y, activation)


def _loss(w, a, x, y, activation):
    """:func:`loss` of validated arrays (Newton's inner loops call it thousands of times)."""
    s, _, _ = _activation(x @ w.T, activation)
    r = s @ a - y
    return float(_check_finite_result(0.5 * np.sum(r * r) / x.shape[0], "the loss"))


def gradient(w, a, x, y, *, activation: str = "tanh") -> Network:
    r"""Analytic gradient of the loss.

    With :math:`\mathbf e_n = (\mathbf f(\mathbf x_n) - \mathbf y_n)/N` and
    :math:`z_{nj} = \mathbf w_j\cdot\mathbf x_n`,

    .. math::  \partial L/\partial\mathbf a_j = \sum_n \mathbf e_n\,\sigma(z_{nj}),\qquad
               \partial L/\partial\mathbf w_j = \sum_n (\mathbf a_j\cdot\mathbf e_n)\,
               \sigma'(z_{nj})\,\mathbf x_n .

    Parameters
    ----------
    w : array_like, shape (m, d)
        Input weights.
    a : array_like, shape (m,) or (m, k)
        Output weights.
    x : array_like, shape (N, d)
        Inputs.
    y : array_like, shape (N,) or (N, k)
        Targets.
    activation : {"tanh", "softplus"}
        The activation :math:`\sigma`.

    Returns
    -------
    Network
        ``(w, a)``: the gradient with respect to the input and the output weights, in the
        shapes of ``w`` and ``a``.
    """
    _code(activation)
    w, a, x, y = _check_data(w, a, x, y)
    return _gradient(w, a, x, y, activation)


def _gradient(w, a, x, y, activation):
    """:func:`gradient` of validated arrays."""
    return _loss_and_gradient(w, a, x, y, activation)[1]


def _loss_and_gradient(w, a, x, y, activation):
    """Loss (not checked: it may overflow) and :func:`gradient` from one forward pass."""
    shape_a = a.shape
    a2 = _as2d(a)
    s, ds, _ = _activation(x @ w.T, activation)
    r = s @ a2 - _as2d(y)
    value = 0.5 * np.sum(r * r) / x.shape[0]
    e = r / x.shape[0]
    grad_a = s.T @ e
    grad_w = ((e @ a2.T) * ds).T @ x
    _check_finite_result(grad_w, "the gradient")
    _check_finite_result(grad_a, "the gradient")
    return value, Network(grad_w, grad_a.reshape(shape_a))


def hessian(w, a, x, y, *, activation: str = "tanh") -> np.ndarray:
    r"""Analytic Hessian of the loss in the order of :func:`pack`.

    :math:`H = \frac1N J^\top J + \sum_{n,c} e_{nc}\,\nabla^2 f_{nc}`, with the Jacobian
    :math:`\partial f_{nc}/\partial a_{jc'} = \delta_{cc'}\sigma(z_{nj})`,
    :math:`\partial f_{nc}/\partial\mathbf w_j = a_{jc}\sigma'(z_{nj})\mathbf x_n` and the
    residual terms :math:`\partial^2 L/\partial\mathbf w_j\partial\mathbf w_j \mathrel{+}=
    \sum_n(\mathbf a_j\cdot\mathbf e_n)\sigma''(z_{nj})\mathbf x_n\mathbf x_n^\top`,
    :math:`\partial^2 L/\partial\mathbf w_j\partial a_{jc} \mathrel{+}=
    \sum_n e_{nc}\sigma'(z_{nj})\mathbf x_n` (other blocks: Gauss-Newton part only).

    Parameters
    ----------
    w : array_like, shape (m, d)
        Input weights.
    a : array_like, shape (m,) or (m, k)
        Output weights.
    x : array_like, shape (N, d)
        Inputs.
    y : array_like, shape (N,) or (N, k)
        Targets.
    activation : {"tanh", "softplus"}
        The activation :math:`\sigma`.

    Returns
    -------
    numpy.ndarray
        Symmetric matrix of shape ``(P, P)``, ``P = m d + m k``.
    """
    _code(activation)
    w, a, x, y = _check_data(w, a, x, y)
    return _hessian(w, a, x, y, activation)


def _hessian(w, a, x, y, activation):
    """:func:`hessian` of validated arrays."""
    a2 = _as2d(a)
    m, d = w.shape
    k = a2.shape[1]
    n = x.shape[0]
    s, ds, dds = _activation(x @ w.T, activation)
    e = (s @ a2 - _as2d(y)) / n
    # Jacobian rows (n, c); columns: w (j, i) then a (j, c')
    jw = np.einsum("jc,nj,ni->ncji", a2, ds, x).reshape(n * k, m * d)
    ja = np.einsum("cq,nj->ncjq", np.eye(k), s).reshape(n * k, m * k)
    jac = np.concatenate([jw, ja], axis=1)
    h = jac.T @ jac / n
    back = e @ a2.T  # (n, j): a_j . e_n
    hww = np.einsum("nj,ni,nl->jil", back * dds, x, x)
    hwa = np.einsum("nc,nj,ni->jic", e, ds, x)
    # add the residual terms to the blocks of each neuron j, all j at once: the blocks do not
    # overlap, so every entry gets the one addition a loop over j would give it
    rows = np.arange(m * d).reshape(m, d)  # rows[j]: the rows of w_j
    cols = m * d + np.arange(m * k).reshape(m, k)  # cols[j]: the columns of a_j
    h[rows[:, :, None], rows[:, None, :]] += hww
    h[rows[:, :, None], cols[:, None, :]] += hwa
    h[cols[:, :, None], rows[:, None, :]] += hwa.transpose(0, 2, 1)
    return _check_finite_result(0.5 * (h + h.T), "the Hessian")


def pack(w, a) -> np.ndarray:
    r"""Flatten a network: :math:`\theta = (\mathrm{vec}\,W, \mathrm{vec}\,A)` (row-major).

    Parameters
    ----------
    w : array_like, shape (m, d)
        Input weights.
    a : array_like, shape (m,) or (m, k)
        Output weights.

    Returns
    -------
    numpy.ndarray
        Vector of length ``m d + m k``.
    """
    w, a = _check_net(w, a)
    return np.concatenate([w.ravel(), a.ravel()])


def unpack(theta, width: int, n_in: int, n_out: int | None = None) -> Network:
    r"""Inverse of :func:`pack`.

    Parameters
    ----------
    theta : array_like, shape (P,)
        Flattened parameters, :math:`P = m(d + k)`.
    width : int
        Number of hidden neurons ``m``.
    n_in : int
        Input dimension ``d``.
    n_out : int or None
        Number of outputs ``k``; ``None`` means one output with ``a`` of shape ``(m,)``.

    Returns
    -------
    Network
        ``(w, a)`` as copies.
    """
    width = check_positive_int(width, "width")
    n_in = check_positive_int(n_in, "n_in")
    k = 1 if n_out is None else check_positive_int(n_out, "n_out")
    theta = check_real_array(theta, "theta", ndim=1)
    want = width * (n_in + k)
    if theta.size != want:
        raise ValueError(
            f"theta has {theta.size} entries; width={width}, n_in={n_in}, n_out={k} need "
            f"m (d + k) = {want}"
        )
    w = theta[: width * n_in].reshape(width, n_in).copy()
    a = theta[width * n_in :].copy()
    return Network(w, a if n_out is None else a.reshape(width, k))


def permute_neurons(w, a, order) -> Network:
    r"""Reorder the hidden neurons: neuron ``j`` of the result is neuron ``order[j]``.

    The network computes the same function, :math:`\sum_j\mathbf a_{\pi(j)}
    \sigma(\mathbf w_{\pi(j)}\cdot\mathbf x) = \sum_j\mathbf a_j\sigma(\mathbf w_j\cdot\mathbf
    x)`.

    Parameters
    ----------
    w : array_like, shape (m, d)
        Input weights.
    a : array_like, shape (m,) or (m, k)
        Output weights.
    order : sequence of int
        A permutation of ``0 .. m-1``.

    Returns
    -------
    Network
        The permuted weights (copies).
    """
    w, a = _check_net(w, a)
    order = np.asarray(order)
    if not np.issubdtype(order.dtype, np.integer) or sorted(order.tolist()) != list(
        range(w.shape[0])
    ):
        raise ValueError(f"order must be a permutation of 0..{w.shape[0] - 1}; got {order!r}")
    return Network(w[order].copy(), a[order].copy())


# --- teacher, students, training ------------------------------------------------------------


def teacher_data(
    n_samples: int,
    n_in: int,
    width: int,
    *,
    rng,
    n_out: int | None = None,
    activation: str = "tanh",
) -> TeacherData:
    r"""Gaussian inputs labelled by a random teacher network.

    Inputs :math:`x_{ni}\sim\mathcal N(0,1)`; teacher input weights have independent
    :math:`\mathcal N(0, 1)` entries, output weights independent :math:`\mathcal N(0, 1)`;
    targets :math:`\mathbf y_n = \mathbf f_{\text{teacher}}(\mathbf x_n)` without noise.

    Parameters
    ----------
    n_samples : int
        Number of inputs ``N``.
    n_in : int
        Input dimension ``d``.
    width : int
        Teacher width :math:`r^*`.
    rng : numpy.random.Generator
        Source of randomness (teacher first, then inputs).
    n_out : int or None
        Number of outputs (``None``: one output, 1-D targets).
    activation : {"tanh", "softplus"}
        The activation.

    Returns
    -------
    TeacherData
        ``(x, y, teacher)``.
    """
    n_samples = check_positive_int(n_samples, "n_samples")
    n_in = check_positive_int(n_in, "n_in")
    width = check_positive_int(width, "width")
    rng = check_generator(rng)
    _code(activation)
    k = 1 if n_out is None else check_positive_int(n_out, "n_out")
    _check_size((n_samples + width) * (n_in + k), "teacher_data")
    w = rng.normal(size=(width, n_in))
    a = rng.normal(size=(width, k))
    if n_out is None:
        a = a[:, 0]
    x = rng.normal(size=(n_samples, n_in))
    s, _, _ = _activation(x @ w.T, activation)
    return TeacherData(x, s @ a, Network(w, a))


def random_students(
    n_students: int, width: int, n_in: int, *, rng, n_out: int = 1, scale: float = 1.0
) -> Network:
    r"""Random initial weights of a batch of students.

    Input weights :math:`\mathcal N(0, \text{scale}^2/d)`, output weights
    :math:`\mathcal N(0, \text{scale}^2/m)`.

    Parameters
    ----------
    n_students : int
        Batch size ``B``.
    width : int
        Student width ``m``.
    n_in : int
        Input dimension ``d``.
    rng : numpy.random.Generator
        Source of randomness.
    n_out : int
        Number of outputs ``k``.
    scale : float
        Overall scale of the initial weights.

    Returns
    -------
    Network
        ``w`` of shape ``(B, m, d)`` and ``a`` of shape ``(B, m, k)``.
    """
    n_students = check_positive_int(n_students, "n_students")
    width = check_positive_int(width, "width")
    n_in = check_positive_int(n_in, "n_in")
    n_out = check_positive_int(n_out, "n_out")
    scale = check_positive_float(scale, "scale")
    rng = check_generator(rng)
    _check_size(n_students * width * (n_in + n_out), "random_students")
    w = rng.normal(scale=scale / math.sqrt(n_in), size=(n_students, width, n_in))
    a = rng.normal(scale=scale / math.sqrt(width), size=(n_students, width, n_out))
    return Network(w, a)


def _check_batch(w, a, x, y):
    w = check_real_array(w, "w (input weights)", ndim=3)
    a = check_real_array(a, "a (output weights)", ndim=3)
    x = check_real_array(x, "x (inputs)", ndim=2)
    y = check_real_array(y, "y (targets)", ndim=(1, 2))
    if a.shape[:2] != w.shape[:2]:
        raise ValueError(
            f"w (shape {w.shape}) and a (shape {a.shape}) must agree in the batch size and "
            "the number of hidden neurons (shapes (B, m, d) and (B, m, k))"
        )
    if x.shape[1] != w.shape[2]:
        raise ValueError(
            f"x has {x.shape[1]} input dimensions (shape {x.shape}) but w has {w.shape[2]} "
            f"(shape {w.shape})"
        )
    y2 = _as2d(y)
    if y2.shape != (x.shape[0], a.shape[2]):
        raise ValueError(
            f"y must have shape ({x.shape[0]}, {a.shape[2]}) (or ({x.shape[0]},) for one "
            f"output); got shape {y.shape}"
        )
    return w, a, x, np.ascontiguousarray(y2)


def gradient_descent(
    w,
    a,
    x,
    y,
    *,
    lr: float = 0.2,
    n_steps: int = 2000,
    record_every: int = 10,
    activation: str = "tanh",
) -> TrainingResult:
    r"""Gradient descent on a batch of students, :math:`\theta \leftarrow \theta - \eta\nabla L`.

    An Euler discretisation (time step :math:`\eta`) of the gradient flow
    :math:`\dot\theta = -\nabla L(\theta)`, run for all students of the batch at once with
    batched matrix products (``np.matmul`` over the batch axis).

    Parameters
    ----------
    w : array_like, shape (B, m, d)
        Initial input weights.
    a : array_like, shape (B, m, k)
        Initial output weights.
    x : array_like, shape (N, d)
        Inputs.
    y : array_like, shape (N,) or (N, k)
        Targets.
    lr : float
        Step size :math:`\eta`.
    n_steps : int
        Number of steps.
    record_every : int
        Record the loss every this many steps.
    activation : {"tanh", "softplus"}
        The activation.

    Returns
    -------
    TrainingResult
        Final weights (copies), loss, gradient norm, ``converged`` (gradient norm below
        ``1e-10``) and the recorded loss curves of shape ``(B, n_steps // record_every + 1)``.
    """
    _code(activation)
    w, a, x, y = _check_batch(w, a, x, y)
    lr = check_positive_float(lr, "lr")
    n_steps = check_nonneg_int(n_steps, "n_steps")
    every = min(check_positive_int(record_every, "record_every"), max(n_steps, 1))
    if n_steps > 10**8:
        raise ValueError(f"n_steps must be at most 1e8; got {n_steps}")
    _check_size(w.shape[0] * (n_steps // every + 1), "the recorded loss curves")
    w = w.copy()
    a = a.copy()
    curves = np.full((w.shape[0], n_steps // every + 1), np.nan)
    work = w.shape[0] * x.shape[0] * w.shape[1] * (w.shape[2] + a.shape[2])
    ws = _workspace(w, a, x)
    with np.errstate(all="ignore"), blas_threads_for(work):
        for step in range(n_steps + 1):
            value, grad_w, grad_a = _batch_loss_grad(w, a, x, y, activation, ws)
            if step % every == 0:
                curves[:, step // every] = value
            if step == n_steps:
                break
            w -= lr * grad_w
            a -= lr * grad_a
        gnorm = np.sqrt(np.sum(grad_w**2, axis=(1, 2)) + np.sum(grad_a**2, axis=(1, 2)))
    bad = ~(np.isfinite(value) & np.isfinite(gnorm))
    if bad.any():
        raise FloatingPointError(
            f"gradient descent diverged in {int(bad.sum())} of {w.shape[0]} runs (the loss "
            "overflowed): lower lr, or check the scale of the weights and targets"
        )
    return TrainingResult(w, a, value, gnorm, gnorm < 1e-10, curves)


def _batch_value_norm(w, a, x, y, activation):
    with np.errstate(all="ignore"):
        value, grad_w, grad_a = _batch_loss_grad(w, a, x, y, activation)
        gnorm = np.sqrt(np.sum(grad_w**2, axis=(1, 2)) + np.sum(grad_a**2, axis=(1, 2)))
    return value, gnorm


def polish(
    w, a, x, y, *, gtol: float = 1e-10, max_iter: int = 200, activation: str = "tanh"
) -> TrainingResult:
    r"""Converge each student of a batch to a nearby critical point with Newton steps.

    Damped Newton steps (Levenberg-Marquardt on the exact Hessian of :func:`hessian`),
    :math:`\theta \leftarrow \theta - (H + (\lambda_0 + \mu) I)^{-1}\nabla L` with
    :math:`\lambda_0 = \max(0, -\lambda_{\min}(H))`; a step is accepted only if the loss does
    not increase (otherwise :math:`\mu` grows), until :math:`\lVert\nabla L\rVert \le`
    ``gtol``.  Near a minimum this is Newton's method (quadratic convergence); it never steps
    uphill, so a student already in the basin of a minimum stays in it.

    Parameters
    ----------
    w : array_like, shape (B, m, d)
        Input weights.
    a : array_like, shape (B, m, k)
        Output weights.
    x : array_like, shape (N, d)
        Inputs.
    y : array_like, shape (N,) or (N, k)
        Targets.
    gtol : float
        Tolerance on the gradient norm.
    max_iter : int
        Maximum number of Newton iterations per student.
    activation : {"tanh", "softplus"}
        The activation.

    Returns
    -------
    TrainingResult
        Polished weights, loss, gradient norm, ``converged`` (gradient norm at most ``gtol``)
        and ``curves`` holding the loss before and after polishing, shape ``(B, 2)``.
    """
    _code(activation)
    w, a, x, y = _check_batch(w, a, x, y)
    gtol = check_positive_float(gtol, "gtol")
    max_iter = check_positive_int(max_iter, "max_iter")
    if max_iter > _MAX_ITER:
        raise ValueError(f"max_iter must be at most {_MAX_ITER}; got {max_iter}")
    n_batch, m, d = w.shape
    k = a.shape[2]
    before, _ = _batch_value_norm(w, a, x, y, activation)
    _check_finite_result(before, "the loss")
    w_out = w.copy()
    a_out = a.copy()

    def split(theta):
        return theta[: m * d].reshape(m, d), theta[m * d :].reshape(m, k)

    def fun(theta):
        # the public functions refused non-finite weights; an overflowing step is refused here
        _check_finite_result(theta, "a Newton step")
        ww, aa = split(theta)
        value, g = _loss_and_gradient(ww, aa, x, y, activation)
        value = float(_check_finite_result(value, "the loss"))
        return value, np.concatenate([g.w.ravel(), g.a.ravel()])

    def hess(theta):
        ww, aa = split(theta)
        return _hessian(ww, aa, x, y, activation)

    for b in range(n_batch):
        theta = np.concatenate([w[b].ravel(), a[b].ravel()])
        if np.all(np.isfinite(theta)):
            theta = _damped_newton(fun, hess, theta, gtol, max_iter)
            w_out[b], a_out[b] = split(theta)
    after, gnorm = _batch_value_norm(w_out, a_out, x, y, activation)
    curves = np.stack([before, after], axis=1)
    return TrainingResult(w_out, a_out, after, gnorm, gnorm <= gtol, curves)


def _damped_newton(fun, hess, theta, gtol, max_iter):
    """Levenberg-Marquardt on the exact Hessian: accept a step only if the loss decreases."""
    value, grad = fun(theta)
    mu = 1e-3
    for _ in range(max_iter):
        if np.linalg.norm(grad) <= gtol:
            break
        ev, vec = np.linalg.eigh(hess(theta))
        shift = max(0.0, -ev[0])
        proj = vec.T @ grad
        for _ in range(60):
            trial = theta - vec @ (proj / (ev + shift + mu))
            new_value, new_grad = fun(trial)
            # accept downhill steps, and steps that shrink the gradient at a loss equal to
            # rounding (near a minimum the loss differences fall below its precision)
            if new_value <= value or (
                new_value <= value + 1e-14 * abs(value) + 1e-300
                and np.linalg.norm(new_grad) < np.linalg.norm(grad)
            ):
                break
            mu *= 4.0
        else:
            break
        theta, value, grad = trial, new_value, new_grad
        mu = max(mu / 3.0, 1e-14)
    return theta


def train_students(
    x,
    y,
    width: int,
    n_students: int,
    *,
    rng,
    lr: float = 0.2,
    n_steps: int = 2000,
    gtol: float = 1e-10,
    scale: float = 1.0,
    activation: str = "tanh",
) -> TrainingResult:
    r"""Train a batch of students from random starts: gradient descent, then Newton polish.

    Draws ``n_students`` random starts (:func:`random_students`), runs
    :func:`gradient_descent` and then :func:`polish` to a gradient norm of ``gtol``.

    Parameters
    ----------
    x : array_like, shape (N, d)
        Inputs.
    y : array_like, shape (N,) or (N, k)
        Targets.
    width : int
        Student width ``m``.
    n_students : int
        Number of random starts ``B``.
    rng : numpy.random.Generator
        Source of the initial weights.
    lr : float
        Gradient-descent step size.
    n_steps : int
        Gradient-descent steps before polishing.
    gtol : float
        Gradient-norm tolerance of the polish.
    scale : float
        Scale of the initial weights.
    activation : {"tanh", "softplus"}
        The activation.

    Returns
    -------
    TrainingResult
        Final weights and diagnostics; ``curves`` is the gradient-descent loss curve
        recorded every 10 steps.
    """
    x = check_real_array(x, "x (inputs)", ndim=2)
    y = check_real_array(y, "y (targets)", ndim=(1, 2))
    k = 1 if y.ndim == 1 else y.shape[1]
    start = random_students(n_students, width, x.shape[1], rng=rng, n_out=k, scale=scale)
    descent = gradient_descent(
        start.w, start.a, x, y, lr=lr, n_steps=n_steps, activation=activation
    )
    final = polish(descent.w, descent.a, x, y, gtol=gtol, activation=activation)
    return final._replace(curves=descent.curves)


# --- permutation points ---------------------------------------------------------------------


def duplicate_neuron(w, a, index: int, *, delta=0.0) -> Network:
    r"""Split hidden neuron ``index`` into two copies (a permutation point when ``delta = 0``).

    The new network has width ``m + 1``: neuron ``index`` keeps
    :math:`\mathbf w` and gets :math:`\mathbf a/2 + \boldsymbol\delta`; the new last neuron
    gets :math:`\mathbf w` and :math:`\mathbf a/2 - \boldsymbol\delta`.  It computes the same
    function for every :math:`\boldsymbol\delta`, and if ``(w, a)`` is a critical point of the
    loss, so is the new network.

    Parameters
    ----------
    w : array_like, shape (m, d)
        Input weights.
    a : array_like, shape (m,) or (m, k)
        Output weights.
    index : int
        The neuron to duplicate, ``0 <= index < m``.
    delta : float or array_like of shape (k,)
        Antisymmetric shift of the two copies' output weights.

    Returns
    -------
    Network
        Weights of width ``m + 1``.
    """
    w, a = _check_net(w, a)
    index = check_int(index, "index")
    if not 0 <= index < w.shape[0]:
        raise ValueError(f"index must lie in [0, {w.shape[0] - 1}]; got {index}")
    delta = check_real_array(delta, "delta", ndim=(0, 1))
    if delta.ndim == 1 and delta.shape != a.shape[1:]:
        raise ValueError(f"delta must be a number or have shape {a.shape[1:]}; got {delta.shape}")
    w_new = np.concatenate([w, w[index : index + 1]], axis=0)
    a_new = np.concatenate([a, a[index : index + 1]], axis=0)
    a_new[index] = a[index] / 2 + delta
    a_new[-1] = a[index] / 2 - delta
    return Network(w_new, a_new)


def antisymmetric_directions(width: int, n_in: int, n_out: int, i: int, j: int) -> np.ndarray:
    r"""Unit directions that move the output weights of neurons ``i`` and ``j`` oppositely.

    Direction ``c`` changes :math:`a_{ic}` by :math:`+1/\sqrt2` and :math:`a_{jc}` by
    :math:`-1/\sqrt2` (in the order of :func:`pack`).  At a permutation point (``w_i = w_j``)
    the loss is constant along all :math:`k` of them.

    Parameters
    ----------
    width : int
        Network width ``m``.
    n_in : int
        Input dimension ``d``.
    n_out : int
        Number of outputs ``k``.
    i, j : int
        The two neurons, distinct, in ``[0, m)``.

    Returns
    -------
    numpy.ndarray
        Orthonormal rows, shape ``(k, m (d + k))``.
    """
    width = check_positive_int(width, "width")
    n_in = check_positive_int(n_in, "n_in")
    n_out = check_positive_int(n_out, "n_out")
    i = check_int(i, "i")
    j = check_int(j, "j")
    if not (0 <= i < width and 0 <= j < width) or i == j:
        raise ValueError(f"i and j must be distinct neurons in [0, {width - 1}]; got {i}, {j}")
    _check_size(n_out * width * (n_in + n_out), "antisymmetric_directions")
    out = np.zeros((n_out, width * (n_in + n_out)))
    base = width * n_in
    for c in range(n_out):
        out[c, base + i * n_out + c] = 1 / math.sqrt(2)
        out[c, base + j * n_out + c] = -1 / math.sqrt(2)
    return out


def hessian_inertia(h, *, tol: float = 1e-7) -> Inertia:
    r"""Inertia of a symmetric matrix: numbers of eigenvalues below :math:`-\text{tol}`,
    within :math:`[-\text{tol}, \text{tol}]` and above :math:`\text{tol}`.

    Parameters
    ----------
    h : array_like, shape (P, P)
        Symmetric matrix (a Hessian).
    tol : float
        Eigenvalues with :math:`|\lambda|\le` ``tol`` count as zero.

    Returns
    -------
    Inertia
        ``(negative, zero, positive, eigenvalues)``.
    """
    h = check_real_array(h, "h", ndim=2)
    if h.shape[0] != h.shape[1]:
        raise ValueError(f"h must be square; got shape {h.shape}")
    if not np.allclose(h, h.T, rtol=1e-10, atol=1e-12):
        raise ValueError("h must be symmetric")
    tol = check_positive_float(tol, "tol")
    ev = np.linalg.eigvalsh(h)
    return Inertia(
        int(np.sum(ev < -tol)), int(np.sum(np.abs(ev) <= tol)), int(np.sum(ev > tol)), ev
    )


# --- counting -------------------------------------------------------------------------------


def _check_counts(r, m):
    r = check_positive_int(r, "r (width of the reduced network)")
    m = check_positive_int(m, "m (width of the wide network)")
    if r > m:
        raise ValueError(f"r must not exceed m (a width-{m} network cannot contain {r} neurons)")
    if m > 1000:
        raise ValueError(f"m must be at most 1000; got {m}")
    return r, m


def stirling2(n: int, k: int) -> int:
    r"""Stirling number of the second kind :math:`S(n, k)`: partitions of ``n`` items into
    ``k`` non-empty blocks.

    Recurrence :math:`S(n,k) = k\,S(n-1,k) + S(n-1,k-1)`, :math:`S(0,0)=1`.

    Parameters
    ----------
    n, k : int
        Non-negative integers.

    Returns
    -------
    int
        :math:`S(n, k)` (exact).
    """
    n = check_nonneg_int(n, "n")
    k = check_nonneg_int(k, "k")
    if n > 2000:
        raise ValueError(f"n must be at most 2000; got {n}")
    if k > n:
        return 0
    row = [1] + [0] * k
    for i in range(1, n + 1):
        for j in range(min(i, k), 0, -1):
            row[j] = j * row[j] + row[j - 1]
        row[0] = 0
    return row[k]


def count_global_min_subspaces(r: int, m: int) -> int:
    r"""Number :math:`T(r, m)` of affine subspaces that a width-``r`` zero-loss network
    occupies in width ``m``.

    Each of the ``m`` neurons is a zero-type neuron (outgoing weight 0) or a copy of one of
    the ``r`` reduced neurons, every reduced neuron used at least once:

    .. math::  T(r,m) = \sum_{k=0}^{m-r}\binom mk\,r!\,S(m-k,r) = r!\,S(m+1,r+1).

    Parameters
    ----------
    r : int
        Width of the irreducible network, ``1 <= r <= m``.
    m : int
        Width of the wide network.

    Returns
    -------
    int
        :math:`T(r, m)`.
    """
    r, m = _check_counts(r, m)
    return math.factorial(r) * stirling2(m + 1, r + 1)


def count_critical_subspaces(r: int, m: int) -> int:
    r"""Number :math:`G(r, m)` of affine subspaces of symmetry-induced critical points that a
    width-``r`` critical point (non-zero loss) occupies in width ``m``.

    Only duplication keeps a point critical when the residual is non-zero, so every neuron is
    a copy of one of the ``r`` reduced neurons, each used at least once:
    :math:`G(r, m) = r!\,S(m, r)` (surjections of ``m`` neurons onto ``r``).

    Parameters
    ----------
    r : int
        Width of the reduced network, ``1 <= r <= m``.
    m : int
        Width of the wide network.

    Returns
    -------
    int
        :math:`G(r, m)`.
    """
    r, m = _check_counts(r, m)
    return math.factorial(r) * stirling2(m, r)


def enumerate_subspaces(r: int, m: int, *, kind: str = "global") -> list:
    r"""Brute-force list of the subspace labels counted by :math:`T` or :math:`G`.

    Tries all :math:`(r+1)^m` labelings of the ``m`` neurons by ``0`` (zero type) or
    ``1..r`` (copy of a reduced neuron) and keeps those that use every reduced neuron
    (and, for ``kind="critical"``, no zero type).

    Parameters
    ----------
    r : int
        Width of the reduced network, ``1 <= r <= m``.
    m : int
        Width of the wide network (at most 10: the search is exponential).
    kind : {"global", "critical"}
        Which subspaces.

    Returns
    -------
    list of tuple of int
        The labelings, in lexicographic order.
    """
    r, m = _check_counts(r, m)
    check_option(kind, "kind", ("global", "critical"))
    if m > 10:
        raise ValueError(f"m must be at most 10 for a brute-force enumeration; got {m}")
    low = 0 if kind == "global" else 1
    needed = set(range(1, r + 1))
    return [
        labels for labels in itertools.product(range(low, r + 1), repeat=m) if needed <= set(labels)
    ]


def _check_labels(labels):
    arr = np.asarray(labels) if labels is not None else None
    if arr is None or arr.dtype == np.bool_ or arr.dtype.kind not in "iu":
        raise TypeError(
            "labels must be a sequence of integers (0 for zero type, 1..r for copies); "
            f"got {labels!r:.60}"
        )
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"labels must be a non-empty 1-D sequence; got shape {arr.shape}")
    if arr.min() < 0 or arr.max() > arr.size:
        raise ValueError(
            f"labels must lie in 0..m = 0..{arr.size} (m neurons copy at most m reduced "
            f"neurons); got values from {arr.min()} to {arr.max()}"
        )
    labels = tuple(int(v) for v in arr)
    r = max(labels)
    if r < 1 or set(range(1, r + 1)) - set(labels):
        raise ValueError(f"labels must use every reduced neuron 1..r at least once; got {labels}")
    return labels, r


def subspace_dimension(labels, n_in: int, n_out: int = 1) -> int:
    r"""Dimension of the affine subspace with the given labels:
    :math:`k_0\,d + (m - k_0 - r)\,k` for :math:`k_0` zero-type neurons.

    Zero-type neurons have free incoming weights (:math:`d` each); the copies of reduced
    neuron :math:`i` share its incoming weights and their outgoing weights sum to
    :math:`\mathbf a_i` (:math:`(c_i - 1) k` free for :math:`c_i` copies).

    Parameters
    ----------
    labels : sequence of int
        Labels as in :func:`enumerate_subspaces`.
    n_in : int
        Input dimension ``d``.
    n_out : int
        Number of outputs ``k``.

    Returns
    -------
    int
        The dimension.
    """
    labels, r = _check_labels(labels)
    n_in = check_positive_int(n_in, "n_in")
    n_out = check_positive_int(n_out, "n_out")
    k0 = labels.count(0)
    return k0 * n_in + (len(labels) - k0 - r) * n_out


def expansion_subspace(w, a, labels) -> Subspace:
    r"""The affine subspace of a wide network that computes the function of ``(w, a)``.

    Neuron ``j`` with label ``i >= 1`` gets :math:`\mathbf w_i` and the outgoing weight
    :math:`\mathbf a_i/c_i` (``c_i`` copies); a zero-type neuron gets :math:`\mathbf w = 0`
    and :math:`\mathbf a = 0`.  The basis spans the free incoming weights of zero-type
    neurons and the zero-sum changes of the outgoing weights within each group of copies.

    Parameters
    ----------
    w : array_like, shape (r, d)
        Input weights of the reduced network.
    a : array_like, shape (r,) or (r, k)
        Output weights of the reduced network.
    labels : sequence of int
        One label per neuron of the wide network (see :func:`enumerate_subspaces`), using
        every reduced neuron.

    Returns
    -------
    Subspace
        ``(point, basis, labels)`` in the flattening of :func:`pack`.
    """
    w, a = _check_net(w, a)
    labels, r = _check_labels(labels)
    if r != w.shape[0]:
        raise ValueError(
            f"labels use {r} reduced neurons but the network has {w.shape[0]}; expected "
            f"labels 0..{w.shape[0]}"
        )
    a2 = _as2d(a)
    m, d, k = len(labels), w.shape[1], a2.shape[1]
    counts = [labels.count(i) for i in range(r + 1)]
    w_new = np.zeros((m, d))
    a_new = np.zeros((m, k))
    for j, lab in enumerate(labels):
        if lab:
            w_new[j] = w[lab - 1]
            a_new[j] = a2[lab - 1] / counts[lab]
    directions = []
    for j, lab in enumerate(labels):
        if lab == 0:
            for i in range(d):
                v = np.zeros(m * (d + k))
                v[j * d + i] = 1.0
                directions.append(v)
    for lab in range(1, r + 1):
        members = [j for j, v in enumerate(labels) if v == lab]
        for first, second in zip(members[:-1], members[1:]):
            for c in range(k):
                v = np.zeros(m * (d + k))
                v[m * d + first * k + c] = 1.0
                v[m * d + second * k + c] = -1.0
                directions.append(v)
    size = m * (d + k)
    if directions:
        q, _ = np.linalg.qr(np.array(directions).T)
        basis = q.T.copy()
    else:
        basis = np.zeros((0, size))
    a_out = a_new if a.ndim == 2 else a_new[:, 0]
    return Subspace(np.concatenate([w_new.ravel(), a_out.ravel()]), basis, labels)


def count_permutation_points(n: int, order: int = 1) -> int:
    r"""Number of ``order``-th-order permutation points of a layer of ``n`` neurons per
    critical point of the reduced layer of ``n - order`` neurons:
    :math:`n!\binom{n-K}{K}/2^K`.

    A :math:`K`-th-order permutation point has :math:`K` disjoint pairs of coinciding
    neurons: choose which :math:`K` of the :math:`n-K` reduced neurons are doubled
    (:math:`\binom{n-K}{K}`) and place the :math:`n` neurons (:math:`n!/2^K`, since
    swapping the two copies of a pair gives the same point).  Per global minimum (:math:`n!`
    of them) there are :math:`\binom{n-K}{K}/2^K` times as many.

    Parameters
    ----------
    n : int
        Layer width, ``n >= 2``.
    order : int
        :math:`K`, ``1 <= K <= n/2``.

    Returns
    -------
    int
        The count.
    """
    n = check_positive_int(n, "n (layer width)", minimum=2)
    order = check_positive_int(order, "order")
    if n > 1000:
        raise ValueError(f"n must be at most 1000; got {n}")
    if 2 * order > n:
        raise ValueError(f"order must be at most n/2 = {n // 2} (disjoint pairs); got {order}")
    return math.factorial(n) * math.comb(n - order, order) // 2**order


def enumerate_permutation_points(n: int, order: int = 1) -> list:
    r"""Brute-force list of ``order``-th-order permutation points of a width-``n`` layer.

    Tries all maps of the ``n`` neurons to the ``n - K`` reduced neurons and keeps those in
    which exactly ``K`` reduced neurons have two copies and the others one.

    Parameters
    ----------
    n : int
        Layer width, ``2 <= n <= 8``.
    order : int
        :math:`K`, ``1 <= K <= n/2``.

    Returns
    -------
    list of tuple of int
        The maps (entry ``j`` is the reduced neuron, 0-based, that neuron ``j`` copies).
    """
    count_permutation_points(n, order)
    if n > 8:
        raise ValueError(f"n must be at most 8 for a brute-force enumeration; got {n}")
    r = n - order
    out = []
    for labels in itertools.product(range(r), repeat=n):
        sizes = np.bincount(labels, minlength=r)
        if np.all(sizes >= 1) and np.sum(sizes == 2) == order and np.all(sizes <= 2):
            out.append(labels)
    return out


# --- paths ----------------------------------------------------------------------------------


def expansion_path(w, a, w_extra, index: int = 0, *, n_points: int = 21) -> ExpansionPath:
    r"""Zero-loss path from a minimum of width ``r + 1`` to its permuted copy.

    Start: the width-``r`` minimum ``(w, a)`` plus an extra neuron ``(w_extra, 0)`` appended
    as the last neuron.  Goal: the same network with neuron ``index`` and the extra neuron
    swapped.  Three straight segments, each inside an affine subspace of constant function:

    1. move the extra neuron's incoming weights from ``w_extra`` to :math:`\mathbf w_i`;
    2. shift the outgoing weight :math:`\mathbf a_i` from neuron ``i`` to the extra neuron;
    3. move neuron ``i``'s incoming weights (now silent) from :math:`\mathbf w_i` to
       ``w_extra``.

    Parameters
    ----------
    w : array_like, shape (r, d)
        Input weights of the minimum.
    a : array_like, shape (r,) or (r, k)
        Output weights of the minimum.
    w_extra : array_like, shape (d,)
        Incoming weights of the extra, silent neuron.
    index : int
        The neuron ``i`` to swap with the extra one.
    n_points : int
        Points per segment (at least 2).

    Returns
    -------
    ExpansionPath
        ``3 * n_points`` flattened parameter vectors and their segment indices.
    """
    w, a = _check_net(w, a)
    w_extra = check_real_array(w_extra, "w_extra", shape=(w.shape[1],))
    index = check_int(index, "index")
    if not 0 <= index < w.shape[0]:
        raise ValueError(f"index must lie in [0, {w.shape[0] - 1}]; got {index}")
    n_points = check_positive_int(n_points, "n_points", minimum=2)
    _check_size(3 * n_points * (w.shape[0] + 1) * (w.shape[1] + a[:1].size), "the path")
    w0 = np.concatenate([w, w_extra[None]], axis=0)
    a0 = np.concatenate([a, np.zeros_like(a[:1])], axis=0)
    w1 = w0.copy()
    w1[-1] = w[index]
    a2 = a0.copy()
    a2[index] = 0.0
    a2[-1] = a[index]
    w3 = w1.copy()
    w3[index] = w_extra
    corners = [pack(w0, a0), pack(w1, a0), pack(w1, a2), pack(w3, a2)]
    t = np.linspace(0.0, 1.0, n_points)[:, None]
    params = np.concatenate([(1 - t) * corners[s] + t * corners[s + 1] for s in range(3)], axis=0)
    return ExpansionPath(params, np.repeat(np.arange(3), n_points))


def _reparametrise(images):
    lengths = np.linalg.norm(np.diff(images, axis=0), axis=1)
    arc = np.concatenate([[0.0], np.cumsum(lengths)])
    if arc[-1] == 0:
        return images
    target = np.linspace(0.0, arc[-1], images.shape[0])
    out = np.empty_like(images)
    for p in range(images.shape[1]):
        out[:, p] = np.interp(target, arc, images[:, p])
    return out


def string_method(
    start,
    end,
    x,
    y,
    width: int,
    *,
    n_images: int = 21,
    n_steps: int = 3000,
    step: float = 0.1,
    initial=None,
    activation: str = "tanh",
) -> StringPath:
    r"""Minimum-energy path between two minima by the simplified string method.

    Images :math:`\theta_0 = \text{start}, \dots, \theta_{M-1} = \text{end}` start on a
    straight line (or ``initial``).  Each iteration moves every interior image downhill,
    :math:`\theta_i \leftarrow \theta_i - h\,\nabla L(\theta_i)`, and redistributes the images
    at equal arc length along the piecewise-linear string (E, Ren, Vanden-Eijnden 2007).  The
    string converges to a path along which the gradient is parallel to the path; its
    highest image estimates the saddle, and the barrier is its loss minus the end losses.
    The method finds a *locally* optimal path: different initial strings can end at
    different paths.

    Parameters
    ----------
    start, end : array_like, shape (P,)
        Flattened end points (:func:`pack`), usually two minima.
    x : array_like, shape (N, d)
        Inputs.
    y : array_like, shape (N,) or (N, k)
        Targets.
    width : int
        Network width ``m``.
    n_images : int
        Number of images ``M`` (at least 3).
    n_steps : int
        Number of iterations.
    step : float
        Gradient step :math:`h`.
    initial : array_like of shape (n_images, P), optional
        Initial string (its end points are replaced by ``start`` and ``end``).
    activation : {"tanh", "softplus"}
        The activation.

    Returns
    -------
    StringPath
        Images, their losses, the barrier and the index of the highest image.
    """
    _code(activation)
    width = check_positive_int(width, "width")
    x = check_real_array(x, "x (inputs)", ndim=2)
    y = check_real_array(y, "y (targets)", ndim=(1, 2))
    y2 = np.ascontiguousarray(_as2d(y))
    if y2.shape[0] != x.shape[0]:
        raise ValueError(f"y must have {x.shape[0]} rows (one per input); got shape {y.shape}")
    d, k = x.shape[1], y2.shape[1]
    size = width * (d + k)
    start = check_real_array(start, "start", shape=(size,))
    end = check_real_array(end, "end", shape=(size,))
    n_images = check_positive_int(n_images, "n_images", minimum=3)
    n_steps = check_nonneg_int(n_steps, "n_steps")
    if n_steps > 10**6:
        raise ValueError(f"n_steps must be at most 1e6; got {n_steps}")
    _check_size(n_images * size, "the string")
    step = check_positive_float(step, "step")
    if initial is None:
        t = np.linspace(0.0, 1.0, n_images)[:, None]
        images = (1 - t) * start + t * end
    else:
        images = check_real_array(initial, "initial", shape=(n_images, size), copy=True)
    images[0], images[-1] = start, end
    value = np.empty(n_images)
    ws = _workspace(np.empty((n_images, width, d)), np.empty((n_images, width, k)), x)
    for _ in range(n_steps):
        w = np.ascontiguousarray(images[:, : width * d].reshape(n_images, width, d))
        a = np.ascontiguousarray(images[:, width * d :].reshape(n_images, width, k))
        with np.errstate(all="ignore"):
            value, gw, ga = _batch_loss_grad(w, a, x, y2, activation, ws)
        grad = np.concatenate([gw.reshape(n_images, -1), ga.reshape(n_images, -1)], axis=1)
        grad[0] = 0.0
        grad[-1] = 0.0
        images = _reparametrise(images - step * grad)
        if not np.all(np.isfinite(images)):
            raise FloatingPointError("the string diverged: lower the step")
    w = np.ascontiguousarray(images[:, : width * d].reshape(n_images, width, d))
    a = np.ascontiguousarray(images[:, width * d :].reshape(n_images, width, k))
    value, _ = _batch_value_norm(w, a, x, y2, activation)
    top = int(np.argmax(value))
    return StringPath(images, value, float(value[top] - max(value[0], value[-1])), top)


def newton_critical_point(
    w, a, x, y, *, gtol: float = 1e-12, max_iter: int = 100, activation: str = "tanh"
) -> CriticalPoint:
    r"""Nearest critical point by Newton's method on :math:`\nabla L = 0`.

    Iterates :math:`\theta \leftarrow \theta - H^{+}\nabla L` with the pseudo-inverse of the
    Hessian (eigenvalues below :math:`10^{-10}\,\lVert H\rVert` are dropped, so flat
    directions are not moved along).  Unlike a descent method it converges to saddles as
    well as minima: use it to refine the highest image of :func:`string_method`.

    Parameters
    ----------
    w : array_like, shape (m, d)
        Input weights of the starting point.
    a : array_like, shape (m,) or (m, k)
        Output weights of the starting point.
    x : array_like, shape (N, d)
        Inputs.
    y : array_like, shape (N,) or (N, k)
        Targets.
    gtol : float
        Stop when the gradient norm is at most ``gtol``.
    max_iter : int
        Maximum number of Newton steps.
    activation : {"tanh", "softplus"}
        The activation.

    Returns
    -------
    CriticalPoint
        ``(w, a, loss, grad_norm)``; check ``grad_norm`` before trusting the point.
    """
    _code(activation)
    w, a, x, y = _check_data(w, a, x, y)
    gtol = check_positive_float(gtol, "gtol")
    max_iter = check_positive_int(max_iter, "max_iter")
    if max_iter > _MAX_ITER:
        raise ValueError(f"max_iter must be at most {_MAX_ITER}; got {max_iter}")
    m, d = w.shape
    theta = pack(w, a)

    def split(t):
        # the public functions refused non-finite weights; an overflowing step is refused here
        _check_finite_result(t, "a Newton step")
        return t[: m * d].reshape(m, d), t[m * d :].reshape(a.shape)

    for _ in range(max_iter):
        ww, aa = split(theta)
        g = _gradient(ww, aa, x, y, activation)
        grad = np.concatenate([g.w.ravel(), g.a.ravel()])
        if np.linalg.norm(grad) <= gtol:
            break
        ev, vec = np.linalg.eigh(_hessian(ww, aa, x, y, activation))
        keep = np.abs(ev) > 1e-10 * np.abs(ev).max()
        theta = theta - vec[:, keep] @ ((vec[:, keep].T @ grad) / ev[keep])
    ww, aa = split(theta)
    g = _gradient(ww, aa, x, y, activation)
    gnorm = float(np.sqrt(np.sum(g.w**2) + np.sum(g.a**2)))
    return CriticalPoint(ww.copy(), aa.copy(), _loss(ww, aa, x, y, activation), gnorm)
