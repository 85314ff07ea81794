"""Tests of memlab.landscape: derivatives, permutation points, counts, subspaces and paths."""

from __future__ import annotations

import math

import numpy as np
import pytest

from memlab import landscape as ls


def _data(seed=0, n_in=2, width=3, n_out=None, n=40, activation="tanh"):
    return ls.teacher_data(
        n, n_in, width, rng=np.random.default_rng(seed), n_out=n_out, activation=activation
    )


def _flat_loss(theta, width, n_in, n_out, x, y, activation="tanh"):
    net = ls.unpack(theta, width, n_in, n_out)
    return ls.loss(net.w, net.a, x, y, activation=activation)


def _flat_grad(theta, width, n_in, n_out, x, y, activation="tanh"):
    net = ls.unpack(theta, width, n_in, n_out)
    g = ls.gradient(net.w, net.a, x, y, activation=activation)
    return ls.pack(g.w, g.a)


def _critical_point(x, y, width, seed=1, gtol=1e-12):
    """Best converged critical point of a few random starts."""
    res = ls.train_students(
        x, y, width, 6, rng=np.random.default_rng(seed), n_steps=1500, lr=0.3, gtol=gtol
    )
    ok = np.flatnonzero(res.converged)
    assert ok.size, "no start converged"
    b = ok[np.argmin(res.loss[ok])]
    k = 1 if y.ndim == 1 else y.shape[1]
    a = res.a[b][:, 0] if y.ndim == 1 else res.a[b]
    assert a.shape[-1:] == (k,) or y.ndim == 1
    return res.w[b], a


# --- derivatives ----------------------------------------------------------------------------


@pytest.mark.parametrize("activation", ls.ACTIVATIONS)
@pytest.mark.parametrize("n_out", [None, 2])
def test_gradient_and_hessian_match_finite_differences(activation, n_out):
    d = _data(3, n_out=n_out, activation=activation)
    rng = np.random.default_rng(4)
    w = rng.normal(size=(3, 2))
    a = rng.normal(size=(3,) if n_out is None else (3, n_out))
    theta = ls.pack(w, a)
    args = (3, 2, n_out, d.x, d.y, activation)
    eps = 1e-6
    basis = np.eye(theta.size)
    fd_grad = np.array(
        [
            (_flat_loss(theta + eps * e, *args) - _flat_loss(theta - eps * e, *args)) / (2 * eps)
            for e in basis
        ]
    )
    grad = _flat_grad(theta, *args)
    np.testing.assert_allclose(grad, fd_grad, atol=1e-8)
    fd_hess = np.array(
        [
            (_flat_grad(theta + eps * e, *args) - _flat_grad(theta - eps * e, *args)) / (2 * eps)
            for e in basis
        ]
    )
    hess = ls.hessian(w, a, d.x, d.y, activation=activation)
    np.testing.assert_allclose(hess, hess.T, atol=1e-14)
    np.testing.assert_allclose(hess, fd_hess, atol=1e-7)


@pytest.mark.parametrize("activation", ls.ACTIVATIONS)
def test_forward_loss_and_batched_kernel_agree(activation):
    d = _data(5, n_out=2, activation=activation)
    start = ls.random_students(4, 3, 2, rng=np.random.default_rng(6), n_out=2)
    run = ls.gradient_descent(start.w, start.a, d.x, d.y, n_steps=0, activation=activation)
    for b in range(4):
        np.testing.assert_allclose(
            run.loss[b],
            ls.loss(start.w[b], start.a[b], d.x, d.y, activation=activation),
            rtol=1e-12,
        )
        g = ls.gradient(start.w[b], start.a[b], d.x, d.y, activation=activation)
        np.testing.assert_allclose(
            run.grad_norm[b], np.sqrt(np.sum(g.w**2) + np.sum(g.a**2)), rtol=1e-10
        )


def test_gradient_descent_lowers_the_loss_and_records_curves():
    d = _data(7)
    start = ls.random_students(5, 3, 2, rng=np.random.default_rng(8))
    run = ls.gradient_descent(start.w, start.a, d.x, d.y, lr=0.2, n_steps=200, record_every=20)
    assert run.curves.shape == (5, 11)
    assert np.all(np.diff(run.curves, axis=1) <= 1e-15)
    np.testing.assert_allclose(run.curves[:, -1], run.loss, rtol=1e-12)


def test_students_of_the_teachers_width_can_reach_zero_loss():
    d = _data(9, width=2, n=50)
    res = ls.train_students(d.x, d.y, 3, 8, rng=np.random.default_rng(10), n_steps=1500, lr=0.3)
    assert np.mean(res.loss < 1e-10) >= 0.5
    assert np.all(res.grad_norm[res.loss < 1e-10] < 1e-6)


# --- symmetries and permutation points ------------------------------------------------------


def test_permuted_network_computes_the_same_function():
    d = _data(11, n_out=3)
    w, a = d.teacher.w, d.teacher.a
    for order in ([2, 0, 1], [1, 0, 2], [0, 2, 1]):
        p = ls.permute_neurons(w, a, order)
        np.testing.assert_allclose(ls.forward(*p, d.x), ls.forward(w, a, d.x), atol=1e-14)
        assert ls.loss(*p, d.x, d.y) < 1e-28


@pytest.mark.parametrize("n_out", [None, 2])
def test_permutation_point_is_critical_and_flat(n_out):
    d = _data(12, width=4, n_out=n_out, n=60)
    w, a = _critical_point(d.x, d.y, 2)
    k = 1 if n_out is None else n_out
    point = ls.duplicate_neuron(w, a, 0)
    g = ls.gradient(*point, d.x, d.y)
    assert np.sqrt(np.sum(g.w**2) + np.sum(g.a**2)) < 1e-8
    base = ls.loss(*point, d.x, d.y)
    assert base > 1e-6  # non-zero residual: the teacher has 4 neurons
    theta = ls.pack(*point)
    for v in ls.antisymmetric_directions(3, 2, k, 0, 2):
        for t in (-2.0, -0.5, 0.3, 1.5):
            moved = ls.unpack(theta + t * v, 3, 2, n_out)
            assert abs(ls.loss(moved.w, moved.a, d.x, d.y) - base) < 1e-12
    # the same point, constructed with a shift delta, computes the same function
    shifted = ls.duplicate_neuron(w, a, 0, delta=0.7 if n_out is None else np.full(k, 0.7))
    np.testing.assert_allclose(ls.forward(*shifted, d.x), ls.forward(w, a, d.x), atol=1e-13)


def test_hessian_null_space_at_permutation_points():
    """Zero residual: at least k (in fact k + d) zero eigenvalues; non-zero residual: the inertia
    bound #zero + min(#neg, #pos) >= k, and the Fukumizu-Amari direction is a null vector."""
    for n_out in (1, 2, 3):
        for teacher_width, zero_residual in ((2, True), (4, False)):
            d = ls.teacher_data(
                60, 2, teacher_width, rng=np.random.default_rng([n_out, 1]), n_out=n_out
            )
            w, a = _critical_point(d.x, d.y, 2)
            point = ls.duplicate_neuron(w, a, 0)
            h = ls.hessian(*point, d.x, d.y)
            inertia = ls.hessian_inertia(h, tol=1e-7)
            assert inertia.negative + inertia.zero + inertia.positive == h.shape[0]
            if zero_residual:
                assert inertia.zero >= n_out
                assert inertia.negative == 0
            else:
                assert inertia.zero + min(inertia.negative, inertia.positive) >= n_out
                directions = ls.antisymmetric_directions(3, 2, n_out, 0, 2)
                along_a = directions.T @ (a[0] / np.linalg.norm(a[0]))
                assert np.linalg.norm(h @ along_a) < 1e-8


def test_hessian_inertia_counts():
    inertia = ls.hessian_inertia(np.diag([-1.0, 0.0, 1e-9, 2.0, 3.0]), tol=1e-7)
    assert inertia[:3] == (1, 2, 2)


# --- counting -------------------------------------------------------------------------------


def test_stirling_numbers():
    assert [ls.stirling2(4, k) for k in range(5)] == [0, 1, 7, 6, 1]
    assert ls.stirling2(0, 0) == 1
    assert ls.stirling2(3, 5) == 0
    assert ls.stirling2(10, 3) == 9330


@pytest.mark.parametrize("r", [1, 2, 3])
def test_closed_form_counts_equal_brute_force(r):
    for m in range(r, r + 4):
        assert ls.count_global_min_subspaces(r, m) == len(ls.enumerate_subspaces(r, m))
        assert ls.count_critical_subspaces(r, m) == len(
            ls.enumerate_subspaces(r, m, kind="critical")
        )
        direct = sum(
            math.comb(m, k) * math.factorial(r) * ls.stirling2(m - k, r) for k in range(m - r + 1)
        )
        assert ls.count_global_min_subspaces(r, m) == direct


def test_known_counts():
    table = {(1, 2): (3, 1), (2, 4): (50, 14), (3, 6): (2100, 540), (3, 5): (390, 150)}
    for (r, m), (t, g) in table.items():
        assert ls.count_global_min_subspaces(r, m) == t
        assert ls.count_critical_subspaces(r, m) == g
    assert all(ls.count_global_min_subspaces(1, m) == 2**m - 1 for m in range(1, 8))


def test_permutation_point_counts_equal_brute_force():
    expected = {
        (4, 1): 36,
        (4, 2): 6,
        (5, 1): 240,
        (5, 2): 90,
        (6, 1): 1800,
        (6, 2): 1080,
        (6, 3): 90,
    }
    for (n, order), value in expected.items():
        assert ls.count_permutation_points(n, order) == value
        assert len(ls.enumerate_permutation_points(n, order)) == value


@pytest.mark.parametrize("n_out", [None, 2])
def test_every_subspace_has_its_dimension_and_constant_function(n_out):
    d = _data(13, width=2, n_out=n_out)
    k = 1 if n_out is None else n_out
    rng = np.random.default_rng(14)
    for m in (3, 4):
        for labels in ls.enumerate_subspaces(2, m):
            sub = ls.expansion_subspace(d.teacher.w, d.teacher.a, labels)
            dim = ls.subspace_dimension(labels, 2, k)
            assert sub.basis.shape == (dim, m * (2 + k))
            if dim:
                assert np.linalg.matrix_rank(sub.basis) == dim
            for _ in range(3):
                theta = sub.point + rng.normal(size=dim) @ sub.basis
                net = ls.unpack(theta, m, 2, n_out)
                assert ls.loss(net.w, net.a, d.x, d.y) < 1e-12


def test_critical_subspaces_stay_critical_at_nonzero_loss():
    d = _data(15, width=4, n=60)
    w, a = _critical_point(d.x, d.y, 2)
    rng = np.random.default_rng(16)
    for labels in ls.enumerate_subspaces(2, 4, kind="critical"):
        sub = ls.expansion_subspace(w, a, labels)
        theta = sub.point + rng.normal(size=sub.basis.shape[0]) @ sub.basis
        net = ls.unpack(theta, 4, 2)
        g = ls.gradient(net.w, net.a, d.x, d.y)
        assert np.sqrt(np.sum(g.w**2) + np.sum(g.a**2)) < 1e-8


# --- paths ----------------------------------------------------------------------------------


def test_expansion_path_has_zero_loss_and_ends_at_the_permuted_copy():
    d = _data(17, n_in=1, width=1, n=50)
    w_extra = np.array([-0.8])
    path = ls.expansion_path(d.teacher.w, d.teacher.a, w_extra, n_points=11)
    losses = [ls.loss(*ls.unpack(p, 2, 1), d.x, d.y) for p in path.params]
    assert max(losses) < 1e-25
    start = ls.unpack(path.params[0], 2, 1)
    end = ls.unpack(path.params[-1], 2, 1)
    swapped = ls.permute_neurons(start.w, start.a, [1, 0])
    np.testing.assert_allclose(end.w, swapped.w)
    np.testing.assert_allclose(end.a, swapped.a)
    assert np.array_equal(np.bincount(path.segment), [11, 11, 11])


def test_string_method_finds_the_permutation_saddle():
    d = _data(0, width=2, n=60)
    w, a = d.teacher.w, d.teacher.a
    start = ls.pack(w, a)
    end = ls.pack(*ls.permute_neurons(w, a, [1, 0]))
    path = ls.string_method(start, end, d.x, d.y, 2, n_images=11, n_steps=400, step=0.5)
    assert path.barrier > 0
    top = ls.unpack(path.params[path.top], 2, 2)
    saddle = ls.newton_critical_point(top.w, top.a, d.x, d.y)
    assert saddle.grad_norm < 1e-10
    np.testing.assert_allclose(saddle.w[0], saddle.w[1], atol=1e-5)
    one = ls.train_students(d.x, d.y, 1, 4, rng=np.random.default_rng(1), n_steps=1000, lr=0.3)
    assert saddle.loss == pytest.approx(one.loss.min(), rel=1e-8)
    assert path.barrier >= saddle.loss * (1 - 1e-9)


# --- validation -----------------------------------------------------------------------------


def test_bad_inputs_raise_clear_errors():
    d = _data(18)
    w, a = d.teacher.w, d.teacher.a
    with pytest.raises(ValueError, match="one row per hidden neuron"):
        ls.loss(w, a[:2], d.x, d.y)
    with pytest.raises(ValueError, match="input dimensions"):
        ls.forward(w, a, d.x[:, :1])
    with pytest.raises(ValueError, match="y must have shape"):
        ls.gradient(w, a, d.x, d.y[:5])
    bad = w.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="finite"):
        ls.hessian(bad, a, d.x, d.y)
    with pytest.raises(TypeError):
        ls.loss(w, a.astype(bool), d.x, d.y)
    with pytest.raises(ValueError, match="activation"):
        ls.loss(w, a, d.x, d.y, activation="relu")
    with pytest.raises(ValueError, match=">= 1"):
        ls.random_students(3, 0, 2, rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match="Generator"):
        ls.teacher_data(10, 2, 2, rng=0)
    with pytest.raises(ValueError, match="must not exceed m"):
        ls.count_global_min_subspaces(4, 3)
    with pytest.raises(ValueError, match=">= 1"):
        ls.count_critical_subspaces(0, 3)
    with pytest.raises(ValueError, match="index"):
        ls.duplicate_neuron(w, a, 3)
    with pytest.raises(ValueError, match="permutation"):
        ls.permute_neurons(w, a, [0, 0, 1])
    with pytest.raises(ValueError, match="order"):
        ls.count_permutation_points(4, 3)
    with pytest.raises(ValueError, match="every reduced neuron"):
        ls.subspace_dimension((0, 2, 2), 2)
    with pytest.raises(ValueError, match="entries"):
        ls.unpack(np.zeros(7), 2, 2)
