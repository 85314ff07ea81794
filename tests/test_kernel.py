"""Tests for memlab.kernel.

References used here are deliberately naive (explicit loops, dense weight matrices, brute-force
enumeration), so that they share no code with the library.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.linalg import hadamard

from memlab import dense
from memlab import hopfield as hf
from memlab import kernel as km

FAST = settings(max_examples=25, deadline=None)


def pm1(rng, p, n):
    return hf.random_patterns(p, n, rng=rng).astype(np.float64)


def krotov_hopfield_kernel(n):
    """G(u) = (u+1)^(n+1) - (u-1)^(n+1) as a dot-product kernel with raw scale 1."""
    e = n + 1
    coefs = [0.0] * e
    for k in range(1, e + 1, 2):
        coefs[e - k] += 2 * math.comb(e, k)
    return km.dot_product_kernel(coefs, scale=1.0)


# ---------------------------------------------------------------------------
# kernels
# ---------------------------------------------------------------------------


def test_kernel_values_match_their_definitions():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(3, 5)), rng.normal(size=(4, 5))
    u = a @ b.T
    assert np.allclose(km.linear_kernel()(a, b), u / 5)
    assert np.allclose(km.polynomial_kernel(3, offset=0.5, scale=0.1)(a, b), (0.1 * u + 0.5) ** 3)
    assert np.allclose(km.exponential_kernel(2.0, scale=1.0)(a, b), np.exp(2 * u))
    assert np.allclose(km.dot_product_kernel([1, 0, 2], scale=1.0)(a, b), 1 + 2 * u**2)
    d2 = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
    assert np.allclose(km.rbf_kernel(0.7)(a, b), np.exp(-d2 / (2 * 0.49)))


def test_exponential_kernel_is_rbf_up_to_a_constant_on_binary_vectors():
    rng = np.random.default_rng(1)
    x = pm1(rng, 6, 10)
    beta = 0.3
    e = km.exponential_kernel(beta, scale=1.0)(x, x)
    r = km.rbf_kernel(1 / math.sqrt(beta))(x, x)  # exp(-beta |x-x'|^2 / 2)
    assert np.allclose(e, math.exp(beta * 10) * r)


def test_sdm_kernel_counts_shared_addresses():
    rng = np.random.default_rng(2)
    addr = km.random_addresses(300, 12, rng=rng)
    x = pm1(rng, 5, 12)
    k = km.sdm_kernel(addr, radius=4)(x, x)
    naive = np.zeros((5, 5))
    for i, j in itertools.product(range(5), range(5)):
        for a in addr:
            naive[i, j] += (np.sum(a != x[i]) <= 4) and (np.sum(a != x[j]) <= 4)
    assert np.array_equal(k, naive)
    mc = km.sdm_shared_locations(addr, 4, x.astype(np.int8), x[::-1].astype(np.int8))
    assert np.array_equal(mc, np.diag(naive[:, ::-1]))


@pytest.mark.parametrize(
    "factory, message",
    [
        (lambda: km.polynomial_kernel(2, offset=-0.1), "not a positive-definite"),
        (lambda: km.polynomial_kernel(2.5), "integer"),
        (lambda: km.exponential_kernel(-1.0), "not a positive-definite"),
        (lambda: km.dot_product_kernel([1.0, -0.5]), ">= 0"),
        (lambda: km.rbf_kernel(0.0), "> 0"),
        (lambda: km.sdm_kernel(np.ones((3, 4)), radius=1, threshold=0.0), "exactly one"),
        (lambda: km.linear_kernel(scale=-1.0), "> 0"),
    ],
)
def test_invalid_kernel_parameters_are_refused(factory, message):
    with pytest.raises((ValueError, TypeError), match=message):
        factory()


def test_kernel_profiles_are_named_by_strings():
    assert km.linear_kernel().profile == "poly"
    assert km.dot_product_kernel([1.0, 0.0, 1.0]).profile == "poly"
    assert km.polynomial_kernel(2).profile == "power"
    assert km.exponential_kernel(1.0).profile == "exp"
    assert km.rbf_kernel(1.0).profile == ""


# ---------------------------------------------------------------------------
# interpolation: exact fixed points
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kernel",
    [
        km.linear_kernel(),
        km.polynomial_kernel(2),
        km.polynomial_kernel(3, offset=1.0),
        km.exponential_kernel(4.0),
    ],
    ids=["linear", "poly2", "poly3", "exp"],
)
def test_binary_patterns_are_exact_fixed_points(kernel):
    rng = np.random.default_rng(3)
    n, p = 24, 20 if kernel.name == "linear" else 150
    xi = pm1(rng, p, n)
    model = km.fit(xi, kernel)
    assert np.max(np.abs(km.fields(model, xi) - xi)) < 1e-8
    assert np.array_equal(km.recall(model, xi, 5), xi.astype(np.int8))


def test_rbf_stores_many_more_continuous_patterns_than_neurons_as_fixed_points():
    rng = np.random.default_rng(4)
    x = km.spherical_patterns(800, 20, rng=rng)  # P = 40 N
    model = km.fit(x, km.rbf_kernel(0.3))
    assert np.max(np.abs(km.fields(model, x) - x)) < 1e-8
    assert np.max(np.abs(km.recall(model, x[:50], 3) - x[:50])) < 1e-8


@given(
    p=st.integers(1, 12),
    n=st.integers(4, 16),
    seed=st.integers(0, 10_000),
    kind=st.sampled_from(["rbf", "exp", "poly"]),
)
@FAST
def test_property_fixed_points_whenever_gram_is_invertible(p, n, seed, kind):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(p, n))
    kernel, profile = {
        "rbf": (km.rbf_kernel(1.0), lambda u, d2: np.exp(-d2 / 2)),
        "exp": (km.exponential_kernel(1.0), lambda u, d2: np.exp(u / n)),
        "poly": (km.polynomial_kernel(3, offset=1.0), lambda u, d2: (u / n + 1) ** 3),
    }[kind]
    gram = np.empty((p, p))
    for i, j in itertools.product(range(p), range(p)):
        gram[i, j] = profile(x[i] @ x[j], np.sum((x[i] - x[j]) ** 2))
    cond = np.linalg.cond(gram)
    if cond < 1e10:
        model = km.fit(x, kernel)  # a well-conditioned K must be accepted
    else:  # near the working-precision limit fit may refuse K (beyond ~1e12), saying why
        try:
            model = km.fit(x, kernel)
        except ValueError as err:
            assert "singular" in str(err)
            return
    # model.condition is LAPACK's 1-norm estimate: within a factor P of the 2-norm condition
    # number (observed within 3x)
    assert cond / p / 3 <= model.condition <= 3 * p * cond
    # backward-stable solve: the residual grows at most like cond(K) times the rounding unit
    # (observed below 1e-14 cond(K) max|x| over 1800 random cases)
    residual = np.max(np.abs(km.fields(model, x) - x))
    assert residual < 1e-12 * max(cond, 1.0) * np.max(np.abs(x))


# ---------------------------------------------------------------------------
# linear kernel: projector and Hebbian limit
# ---------------------------------------------------------------------------


@given(p=st.integers(1, 20), seed=st.integers(0, 10_000))
@FAST
def test_property_linear_interpolation_weights_are_a_projector(p, seed):
    rng = np.random.default_rng(seed)
    xi = pm1(rng, p, 32)
    if np.linalg.matrix_rank(xi) < p:
        return
    w = km.linear_weights(km.fit(xi, km.linear_kernel()))
    assert np.allclose(w @ w, w, atol=1e-10)
    assert np.allclose(w, w.T, atol=1e-12)
    assert abs(np.trace(w) - p) < 1e-9
    assert np.allclose(w @ xi.T, xi.T, atol=1e-10)
    naive = xi.T @ np.linalg.inv(xi @ xi.T) @ xi
    assert np.allclose(w, naive, atol=1e-9)


@given(p=st.integers(1, 30), n=st.integers(2, 40), seed=st.integers(0, 10_000))
@FAST
def test_property_replacing_kinv_by_identity_gives_exactly_the_hebbian_weights(p, n, seed):
    rng = np.random.default_rng(seed)
    xi = hf.random_patterns(p, n, rng=rng)
    model = km.fit(xi, km.linear_kernel(), method="hebbian", self_input=False)
    assert np.array_equal(km.linear_weights(model), hf.hebbian_weights(xi))
    s = hf.flip_bits(xi, 0.2, rng=rng)
    naive_h = s @ hf.hebbian_weights(xi).T
    assert np.allclose(km.fields(model, s), naive_h, atol=1e-12)


def test_orthogonal_patterns_make_projection_and_hebbian_rules_identical():
    xi = hadamard(32)[1:9].astype(np.float64)
    proj = km.linear_weights(km.fit(xi, km.linear_kernel()))
    hebb = km.linear_weights(km.fit(xi, km.linear_kernel(), method="hebbian"))
    assert np.allclose(km.gram_matrix(km.linear_kernel(), xi), np.eye(8))
    assert np.allclose(proj, hebb, atol=1e-14)


@pytest.mark.parametrize("n, p", [(60, 5), (100, 40)])
def test_neuron_dependent_linear_network_is_the_zero_diagonal_hopfield_update(n, p):
    rng = np.random.default_rng(5)
    xi = hf.random_patterns(p, n, rng=rng)
    model = km.fit(xi, km.linear_kernel(), method="hebbian", self_input=False)
    cues = hf.flip_bits(xi, 0.1, rng=rng)
    ours = km.recall(model, cues, 20)
    ref = hf.simulate(xi, cues, 20, update="sync").states
    assert np.array_equal(ours, ref)
    if n == 100:
        # fields that are 0 in exact arithmetic (a tie: the neuron keeps its state) come out
        # of the kernel network as sums of rounded terms u/N; recall must still treat them as 0
        h = km.fields(model, ref)
        exact = ref.astype(np.int64) @ (xi.T.astype(np.int64) @ xi.astype(np.int64))
        exact -= p * ref  # no self-coupling: N h_i = sum_j!=i sum_mu xi_i xi_j s_j
        assert np.any((exact == 0) & (h != 0))


# ---------------------------------------------------------------------------
# dense associative memory and Demircigil as special cases
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 3])
def test_krotov_hopfield_update_is_a_neuron_dependent_kernel_network(n):
    rng = np.random.default_rng(6 + n)
    xi = hf.random_patterns(40, 24, rng=rng)
    model = km.fit(xi, krotov_hopfield_kernel(n), method="hebbian", self_input=False)
    states = hf.flip_bits(np.repeat(xi[:10], 3, axis=0), 0.25, rng=rng)
    assert np.array_equal(km.fields(model, states), dense.binary_field(xi, states, n))
    assert np.array_equal(km.recall(model, states, 1), dense.binary_update(xi, states, n, 1))


def test_demircigil_update_is_the_neuron_dependent_exponential_kernel():
    rng = np.random.default_rng(9)
    xi = hf.random_patterns(30, 20, rng=rng).astype(np.int64)
    s = hf.flip_bits(xi[:8], 0.2, rng=rng).astype(np.int64)
    model = km.fit(xi, km.exponential_kernel(1.0, scale=1.0), method="hebbian", self_input=False)
    h = km.fields(model, s)
    for b in range(len(s)):
        for i in range(20):
            m = xi @ s[b] - xi[:, i] * s[b, i]  # overlaps without neuron i
            diff = np.sum(np.exp(xi[:, i] + m) - np.exp(-xi[:, i] + m))  # E(-1) - E(+1)
            assert np.isclose(diff, 2 * math.sinh(1) * h[b, i], rtol=1e-12)


def test_regression_with_the_exponential_kernel_is_the_softmax_update():
    rng = np.random.default_rng(10)
    x = km.spherical_patterns(15, 8, rng=rng) * 3
    q = rng.normal(size=(4, 8))
    beta = 2.0
    model = km.fit(x, km.exponential_kernel(beta, scale=1.0), method="regression")
    logits = beta * q @ x.T
    soft = np.exp(logits - logits.max(1, keepdims=True))
    soft /= soft.sum(1, keepdims=True)
    assert np.allclose(km.fields(model, q), soft @ x, atol=1e-12)


# ---------------------------------------------------------------------------
# SVM
# ---------------------------------------------------------------------------


def test_svm_equals_interpolation_when_every_coefficient_is_positive():
    rng = np.random.default_rng(11)
    xi = pm1(rng, 40, 100)
    interp = km.fit(xi, km.polynomial_kernel(2))
    assert np.all(interp.coef * xi > 0)
    svm = km.fit(xi, km.polynomial_kernel(2), method="svm")
    assert np.max(np.abs(svm.coef - interp.coef)) < 1e-10


def test_svm_has_unit_margins_on_support_vectors_and_smaller_norm():
    rng = np.random.default_rng(12)
    xi = pm1(rng, 24, 32)
    gram = km.gram_matrix(km.linear_kernel(), xi)
    y = xi[:, 0]
    a_int = np.linalg.solve(gram, y)
    assert np.any(a_int * y < 0)  # interpolation is not an SVM solution here
    alpha = km.svm_coefficients(gram, y)
    assert np.all(alpha >= 0)
    margins = y * (gram @ (alpha * y))
    assert np.all(margins >= 1 - 1e-8)
    assert np.allclose(margins[alpha > 1e-10], 1, atol=1e-8)
    norm_svm = (alpha * y) @ gram @ (alpha * y)
    norm_int = a_int @ gram @ a_int
    assert norm_svm < norm_int - 1e-6


@given(seed=st.integers(0, 10_000), p=st.integers(2, 14))
@FAST
def test_property_svm_satisfies_the_kkt_conditions(seed, p):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(p, 10))
    gram = km.rbf_kernel(2.0)(x, x)
    y = np.where(rng.random(p) < 0.5, -1.0, 1.0)
    alpha = km.svm_coefficients(gram, y)
    grad = y * (gram @ (alpha * y)) - 1  # >= 0, and = 0 where alpha > 0
    assert np.all(alpha >= 0)
    assert np.all(grad >= -1e-7)
    assert np.all(np.abs(alpha * grad) < 1e-7)


# ---------------------------------------------------------------------------
# SDM
# ---------------------------------------------------------------------------


def test_sdm_closed_form_matches_brute_force_enumeration():
    n, r = 10, 3
    addr = np.array(list(itertools.product([-1, 1], repeat=n)), dtype=np.int8)  # all 2^N
    x = np.ones(n, dtype=np.int8)
    for d in range(n + 1):
        y = x.copy()
        y[:d] = -1
        count = km.sdm_shared_locations(addr, r, x, y)
        assert count == km.sdm_expected_kernel(d, n, 2**n, r)


def test_sdm_closed_form_matches_monte_carlo_within_a_few_percent():
    rng = np.random.default_rng(13)
    n, r, m = 16, 5, 200_000
    addr = km.random_addresses(m, n, rng=rng)
    x = hf.random_patterns(1, n, rng=rng)[0]
    ds = np.arange(0, 10)
    ys = np.array([hf.flip_bits(x, d / n, rng=rng) for d in ds])
    mc = km.sdm_shared_locations(addr, r, np.repeat(x[None], len(ds), 0), ys)
    theory = km.sdm_expected_kernel(ds, n, m, r)
    # binomial counts: within 4 standard deviations, i.e. a few percent where the kernel is large
    assert np.all(np.abs(mc - theory) < 4 * np.sqrt(theory))
    big = theory > 2000
    assert np.all(np.abs(mc[big] - theory[big]) / theory[big] < 0.05)
    # parity plateaus and the support
    assert np.array_equal(theory[1:9:2], theory[2:10:2])
    assert km.sdm_expected_kernel(2 * r + 1, n, m, r) == 0


def test_kanerva_read_is_the_kernel_network_without_kinv():
    rng = np.random.default_rng(14)
    n, r = 32, 11
    addr = km.random_addresses(1500, n, rng=rng)
    xi = hf.random_patterns(20, n, rng=rng)
    counters = km.sdm_write(addr, r, xi)
    cues = hf.flip_bits(xi, 0.1, rng=rng)
    sums = km.sdm_read(addr, r, counters, cues, threshold=False)
    model = km.fit(xi, km.sdm_kernel(addr, radius=r), method="hebbian")
    assert np.array_equal(sums, km.fields(model, cues))


def test_modified_kanerva_recalls_any_cue_in_the_cap_in_one_step():
    rng = np.random.default_rng(15)
    n, theta = 80, 0.9
    x = km.spherical_patterns(300, n, rng=rng)
    g = x @ x.T
    np.fill_diagonal(g, -1)
    assert g.max() < 2 * theta**2 - 1  # caps are disjoint
    model = km.fit(x, km.sdm_kernel(x, threshold=theta))
    assert np.allclose(km.gram_matrix(model.kernel, x), np.eye(300))
    # cues at an angle just inside the cap
    angle = 0.95 * math.acos(theta)
    z = rng.normal(size=x.shape)
    z -= (z * x).sum(1, keepdims=True) * x
    z /= np.linalg.norm(z, axis=1, keepdims=True)
    cues = math.cos(angle) * x + math.sin(angle) * z
    assert np.array_equal(km.recall(model, cues, 1), x)


def test_separation_capacity_theory_and_simulation_agree():
    rng = np.random.default_rng(16)
    n, c = 20, 0.7
    sims = [km.separation_capacity(n, c, rng=rng) for _ in range(41)]
    med = km.separation_capacity_median(n, c)
    assert 0.75 < np.median(sims) / med < 1.33
    assert km.cap_probability(0.0, 7) == pytest.approx(0.5)


# ---------------------------------------------------------------------------
# continuous recall: jacobians
# ---------------------------------------------------------------------------


def test_fixed_point_jacobians_match_finite_differences():
    rng = np.random.default_rng(17)
    x = km.spherical_patterns(30, 6, rng=rng)
    for kernel in (km.rbf_kernel(0.8), km.exponential_kernel(2.0, scale=1.0)):
        model = km.fit(x, kernel)
        jac = km.fixed_point_jacobians(model, [3])[0]
        h = 1e-6
        fd = np.empty((6, 6))
        for j in range(6):
            e = np.zeros(6)
            e[j] = h
            fd[:, j] = (km.fields(model, x[3] + e) - km.fields(model, x[3] - e)) / (2 * h)
        assert np.allclose(jac, fd, rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------


def test_singular_gram_matrix_is_a_clear_error():
    rng = np.random.default_rng(18)
    xi = pm1(rng, 12, 10)  # P > N: linear K has rank <= 10
    with pytest.raises(ValueError, match="singular"):
        km.fit(xi, km.linear_kernel())
    dup = np.vstack([xi[:3], xi[:1]])
    with pytest.raises(ValueError, match="singular"):
        km.fit(dup, km.exponential_kernel(1.0))
    with pytest.raises(ValueError, match="singular"):
        km.fit(xi[:12], km.linear_kernel(), self_input=False)


def test_non_positive_definite_custom_kernel_is_a_clear_error():
    rng = np.random.default_rng(19)
    x = rng.normal(size=(10, 3))
    neg = km.custom_kernel(lambda a, b: -np.exp(-((a[:, None] - b[None]) ** 2).sum(-1)), "neg")
    with pytest.raises(ValueError, match="not positive definite"):
        km.fit(x, neg)
    with pytest.raises(ValueError, match="not positive definite"):
        km.fit(x, neg, method="hebbian")
    asym = km.custom_kernel(lambda a, b: a @ b.T + np.arange(len(a))[:, None], "asym")
    with pytest.raises(ValueError, match="not symmetric"):
        km.fit(x, asym)


def test_mismatched_shapes_and_bad_arguments_are_clear_errors():
    rng = np.random.default_rng(20)
    xi = pm1(rng, 5, 16)
    model = km.fit(xi, km.polynomial_kernel(2))
    with pytest.raises(ValueError, match="neurons"):
        km.recall(model, np.ones(15))
    with pytest.raises(ValueError, match="one row per pattern"):
        km.fit(xi, km.linear_kernel(), targets=np.ones((4, 3)))
    with pytest.raises(ValueError, match="method"):
        km.fit(xi, km.linear_kernel(), method="pinv")
    with pytest.raises(TypeError, match="Kernel"):
        km.fit(xi, "rbf")
    with pytest.raises(ValueError, match="binary"):
        km.fit(rng.normal(size=(5, 8)), km.rbf_kernel(1.0), method="svm")
    with pytest.raises(ValueError, match="dot-product"):
        km.fit(xi, km.rbf_kernel(1.0), self_input=False)
    with pytest.raises(ValueError, match="patterns must be finite"):
        km.fit(np.full((2, 3), np.nan), km.linear_kernel())
    with pytest.raises(ValueError, match="N=9"):
        km.fit(xi, km.sdm_kernel(np.ones((4, 9)), radius=2))
    with pytest.raises(ValueError, match="linear kernel"):
        km.linear_weights(model)
    with pytest.raises(TypeError, match="Generator"):
        km.spherical_patterns(3, 4, rng=0)
    with pytest.raises(ValueError, match="auto-associative"):
        km.recall(km.fit(xi, km.linear_kernel(), targets=xi[:, :3]), xi)


def test_hetero_association_maps_inputs_to_targets():
    rng = np.random.default_rng(21)
    x = pm1(rng, 30, 20)
    y = pm1(rng, 30, 7)
    model = km.fit(x, km.polynomial_kernel(2), targets=y)
    assert np.allclose(km.fields(model, x), y, atol=1e-9)


def test_recall_is_pure_and_keeps_tied_neurons():
    rng = np.random.default_rng(22)
    xi = hf.random_patterns(4, 16, rng=rng)
    model = km.fit(xi, km.linear_kernel(), method="hebbian", self_input=False)
    cue = hf.flip_bits(xi[0], 0.1, rng=rng)
    before = cue.copy()
    km.recall(model, cue, 3)
    assert np.array_equal(cue, before)
    # an all-orthogonal state: zero field everywhere keeps the state
    h2 = hadamard(16)
    m2 = km.fit(h2[1:3], km.linear_kernel(), method="hebbian")
    s = h2[5].astype(np.int8)
    assert np.array_equal(km.recall(m2, s, 1), s)


def test_recall_refuses_non_binary_cues_for_a_binary_model():
    rng = np.random.default_rng(23)
    xi = pm1(rng, 5, 16)
    model = km.fit(xi, km.polynomial_kernel(2))
    assert model.binary
    cue = xi[0].copy()
    cue[3] = 0.3
    with pytest.raises(ValueError, match=r"found value 0\.3 at index 3.*targets are binary"):
        km.recall(model, cue)
    with pytest.raises(ValueError, match="binary"):
        km.recall(model, np.zeros((2, 16)))
    with pytest.raises(TypeError, match="cues"):
        km.recall(model, xi > 0)
    # a continuous model accepts the same cue
    continuous = km.fit(km.spherical_patterns(5, 16, rng=rng), km.rbf_kernel(1.0))
    assert km.recall(continuous, cue, 1).dtype == np.float64


def test_the_fitted_model_owns_its_arrays():
    rng = np.random.default_rng(30)
    x = km.spherical_patterns(10, 6, rng=rng)
    y = rng.normal(size=(10, 3))
    model = km.fit(x, km.rbf_kernel(1.0), targets=y)
    before = km.fields(model, x)
    x[:] = 0.0
    y[:] = 0.0
    assert np.array_equal(km.fields(model, model.patterns), before)
    assert np.allclose(before, model.targets, atol=1e-9)
    assert not np.shares_memory(model.patterns, x) and not np.shares_memory(model.targets, y)


def test_continuous_recall_does_not_modify_the_cues():
    rng = np.random.default_rng(24)
    x = km.spherical_patterns(20, 8, rng=rng)
    model = km.fit(x, km.rbf_kernel(0.5))
    cues = x + 0.05 * rng.normal(size=x.shape)
    before = cues.copy()
    out = km.recall(model, cues, 5)
    assert np.array_equal(cues, before)
    assert not np.array_equal(out, cues)


@pytest.mark.parametrize("k", [0, 1, 5, 15, 16])
def test_flip_cues_flips_exactly_k_bits_with_the_books_random_stream(k):
    xi = hf.random_patterns(30, 16, rng=np.random.default_rng(25))
    cues = km.flip_cues(xi, k, rng=np.random.default_rng(26))
    assert np.all(np.sum(cues != xi, axis=1) == k)
    # the cues the stored chapter outputs were made with: flip the k smallest uniform keys
    ref = xi.copy()
    if 0 < k < 16:
        keys = np.random.default_rng(26).random(xi.shape)
        ref[np.arange(30)[:, None], np.argsort(keys, axis=1)[:, :k]] *= -1
    elif k == 16:
        ref = -ref
    assert np.array_equal(cues, ref)
    with pytest.raises(ValueError, match="n_flips must be <= N = 16"):
        km.flip_cues(xi, 17, rng=np.random.default_rng(0))


def test_random_addresses_keep_the_books_random_stream():
    addr = km.random_addresses(40, 12, rng=np.random.default_rng(27))
    ref = 2 * np.random.default_rng(27).integers(0, 2, size=(40, 12), dtype=np.int8) - 1
    assert addr.dtype == np.int8
    assert np.array_equal(addr, ref)


def test_sdm_write_and_read_against_explicit_sums():
    rng = np.random.default_rng(28)
    n, r = 10, 3
    addr = km.random_addresses(200, n, rng=rng)
    x = hf.random_patterns(6, n, rng=rng)
    y = hf.random_patterns(6, 4, rng=rng)
    counters = km.sdm_write(addr, r, x, targets=y)
    naive = np.zeros((200, 4), dtype=np.int64)
    for m, a in enumerate(addr):
        for mu in range(6):
            if np.sum(a != x[mu]) <= r:  # Hamming distance within the radius
                naive[m] += y[mu]
    assert np.array_equal(counters, naive)
    cues = hf.flip_bits(x, 0.1, rng=rng)
    sums = np.array([sum(naive[m] for m in range(200) if np.sum(addr[m] != c) <= r) for c in cues])
    assert np.array_equal(km.sdm_read(addr, r, counters, cues, threshold=False), sums)
    assert np.array_equal(km.sdm_read(addr, r, counters, cues), np.where(sums >= 0, 1, -1))
    assert np.array_equal(km.sdm_read(addr, r, counters, cues[0]), np.where(sums[0] >= 0, 1, -1))


_SDM_RNG = np.random.default_rng(29)
_ADDR = km.random_addresses(50, 8, rng=_SDM_RNG)
_XI = hf.random_patterns(5, 8, rng=_SDM_RNG)
_COUNTERS = km.sdm_write(_ADDR, 3, _XI)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: km.sdm_write(_ADDR * 0.5, 3, _XI), ValueError, r"addresses must contain only"),
        (lambda: km.sdm_write(_ADDR, -1, _XI), ValueError, "radius must be an integer >= 0"),
        (lambda: km.sdm_write(_ADDR, 3, _XI[:, :7]), ValueError, "N=7 neurons"),
        (lambda: km.sdm_write(_ADDR, 3, _XI * 0.3), ValueError, "patterns must contain only"),
        (lambda: km.sdm_write(_ADDR, 3, _XI > 0), TypeError, "patterns must be"),
        (lambda: km.sdm_write(_ADDR, 3, _XI, targets=_XI[:3]), ValueError, "one row per pattern"),
        (lambda: km.sdm_write(_ADDR, 3, _XI, targets=_XI * 0.5), ValueError, "targets must"),
        (
            lambda: km.sdm_write(_ADDR, 3, _XI, targets=np.full(_XI.shape, np.nan)),
            ValueError,
            "targets must contain only",
        ),
        (lambda: km.sdm_read(_ADDR, 3, _COUNTERS[:-1], _XI), ValueError, r"shape \(50, any\)"),
        (lambda: km.sdm_read(_ADDR, 3, _COUNTERS[None], _XI), ValueError, "counters must have"),
        (lambda: km.sdm_read(_ADDR, 3, _COUNTERS + 0.5, _XI), ValueError, "must be integers"),
        (lambda: km.sdm_read(_ADDR, 3, _COUNTERS * np.nan, _XI), ValueError, "finite"),
        (lambda: km.sdm_read(_ADDR, 3, _COUNTERS, _XI, threshold="yes"), TypeError, "threshold"),
        (lambda: km.sdm_read(_ADDR, 3, _COUNTERS, _XI[:, :7]), ValueError, "N=7 neurons"),
        (lambda: km.sdm_read(_ADDR, 3, _COUNTERS, _XI * 0.2), ValueError, "cues must contain"),
        (
            lambda: km.sdm_shared_locations(_ADDR, 3, _XI, _XI[:2]),
            ValueError,
            "states and partners must have the same shape",
        ),
    ],
)
def test_sdm_functions_validate_their_inputs(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ---- basins of the RBF interpolation network (Chapter 4, section 4a) ---------------------------


@pytest.mark.parametrize("ell", [1e-3, 0.02, 0.1, 0.2, 0.3])
def test_rbf_basin_radius_solves_the_one_dimensional_map(ell):
    a = km.rbf_basin_radius(ell)
    assert a > 0
    assert abs((1 - math.exp(-(a**2) / (2 * ell**2))) - a) < 1e-10 * max(a, 1e-12) + 1e-15
    # every smaller error contracts, a slightly larger one grows
    for b in np.linspace(0.01 * a, 0.99 * a, 7):
        assert 1 - math.exp(-(b**2) / (2 * ell**2)) < b
    b = 1.01 * a
    assert 1 - math.exp(-(b**2) / (2 * ell**2)) > b


def test_rbf_basin_radius_small_width_limit_and_norm():
    for ell in (1e-4, 1e-3, 0.01):
        assert km.rbf_basin_radius(ell) == pytest.approx(2 * ell**2, rel=1e-3)
    # pattern norm r: a* ~ 2 l^2 / r
    assert km.rbf_basin_radius(0.01, 3.0) == pytest.approx(2e-4 / 3, rel=1e-3)
    assert km.rbf_basin_radius(0.5) == math.inf  # g(a) < a for all a: no finite root


@pytest.mark.parametrize("seed", [0, 1])
def test_measured_basin_radius_matches_theory_for_well_separated_patterns(seed):
    """l = 0.1 with 200 unit patterns in N = 20 (nearest neighbours ~ 0.9 apart, K ~ I): the
    measured radius along random directions agrees with rbf_basin_radius within 2 %."""
    rng = np.random.default_rng(seed)
    x = km.spherical_patterns(200, 20, rng=rng)
    model = km.fit(x, km.rbf_kernel(0.1))
    idx = np.arange(15)
    radii = km.basin_radius(model, idx, rng.standard_normal((15, 20)), max_radius=0.05)
    theory = km.rbf_basin_radius(0.1)
    assert np.all(np.abs(radii / theory - 1) < 0.02)


def test_basin_radius_vanishes_for_wide_kernels():
    """l comparable to the spacing: an unstable fixed point has (almost) no basin, far below
    the isolated-pattern radius 0.2 (a slowly growing error can stay below tol for 40 steps)."""
    rng = np.random.default_rng(3)
    x = km.spherical_patterns(400, 8, rng=rng)
    model = km.fit(x, km.rbf_kernel(0.3))
    rho = np.max(np.abs(np.linalg.eigvals(km.fixed_point_jacobians(model, np.arange(10)))), 1)
    radii = km.basin_radius(model, np.arange(10), rng.standard_normal((10, 8)), max_radius=0.3)
    assert np.sum(rho > 1.05) >= 5
    assert np.all(radii[rho > 1.05] < 0.01 * km.rbf_basin_radius(0.3))


def test_basin_radius_is_reproducible_and_does_not_modify_inputs():
    rng = np.random.default_rng(5)
    x = km.spherical_patterns(100, 10, rng=rng)
    model = km.fit(x, km.rbf_kernel(0.15))
    z = rng.standard_normal((5, 10))
    z_copy = z.copy()
    a = km.basin_radius(model, [0, 1, 2, 3, 4], z, max_radius=0.2)
    b = km.basin_radius(model, np.arange(5), 3 * z, max_radius=0.2)  # only directions matter
    assert np.array_equal(z, z_copy)
    assert np.array_equal(a, b)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: km.rbf_basin_radius(0.0), ValueError, "length_scale"),
        (lambda: km.rbf_basin_radius(float("nan")), ValueError, "length_scale"),
        (lambda: km.rbf_basin_radius(0.1, -1.0), ValueError, "pattern_norm"),
        (
            lambda: km.basin_radius(
                km.fit(pm1(np.random.default_rng(0), 3, 8), km.linear_kernel()),
                [0],
                np.ones((1, 8)),
                max_radius=1.0,
            ),
            ValueError,
            "continuous patterns",
        ),
        (
            lambda: km.basin_radius(_RBF_MODEL, [0, 9], np.ones((2, 4)), max_radius=1.0),
            ValueError,
            "indices",
        ),
        (
            lambda: km.basin_radius(_RBF_MODEL, [0], np.ones((2, 4)), max_radius=1.0),
            ValueError,
            "directions",
        ),
        (
            lambda: km.basin_radius(_RBF_MODEL, [0], np.zeros((1, 4)), max_radius=1.0),
            ValueError,
            "non-zero",
        ),
        (
            lambda: km.basin_radius(_RBF_MODEL, [0], np.ones((1, 4)), max_radius=0.0),
            ValueError,
            "max_radius",
        ),
    ],
)
def test_basin_functions_validate_their_inputs(call, error, message):
    with pytest.raises(error, match=message):
        call()


_RBF_MODEL = km.fit(km.spherical_patterns(5, 4, rng=np.random.default_rng(2)), km.rbf_kernel(0.2))
