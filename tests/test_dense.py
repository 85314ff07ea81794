"""Tests for memlab.dense.

Reference implementations here are deliberately naive (Python integers, explicit loops over
neurons, scipy quadrature with a root solve per point), so they share no code with the
library's kernels and integrals.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad
from scipy.optimize import brentq

from memlab import dense
from memlab import hopfield as hf

FAST = settings(max_examples=40, deadline=None)


# ---------------------------------------------------------------------------
# naive references
# ---------------------------------------------------------------------------


def brute_energy(xi, s, n):
    """E(s) = -sum_mu (xi_mu . s)^(n+1) with Python integers."""
    return -sum(int(np.dot(row.astype(np.int64), s.astype(np.int64))) ** (n + 1) for row in xi)


def brute_field(xi, s, n):
    """D_i = E(s with s_i = -1) - E(s with s_i = +1), from the definition."""
    out = []
    for i in range(s.shape[0]):
        minus, plus = s.copy(), s.copy()
        minus[i], plus[i] = -1, 1
        out.append(brute_energy(xi, minus, n) - brute_energy(xi, plus, n))
    return np.array(out, dtype=object)


def naive_energy(xi, x, n, g, alpha):
    """epsilon from the definition, one neuron and one pattern at a time."""
    nn = xi.shape[1]
    phi = np.tanh(x)
    m = [sum(xi[mu, i] * phi[i] for i in range(nn)) / nn for mu in range(xi.shape[0])]
    interaction = -(g / ((n + 1) * math.sqrt(alpha))) * sum(v ** (n + 1) for v in m)
    single = sum(x[i] * phi[i] - math.log(math.cosh(x[i])) for i in range(nn)) / nn
    return interaction + single


def graded_problem(n, nn, alpha, rng):
    p = int(round(alpha * nn**n))
    return hf.random_patterns(p, nn, rng=rng), p / nn**n


# ---------------------------------------------------------------------------
# binary dense associative memory
# ---------------------------------------------------------------------------


@FAST
@given(
    seed=st.integers(0, 2**31 - 1),
    p=st.integers(1, 6),
    nn=st.integers(2, 9),
    n=st.integers(1, 3),
    b=st.integers(1, 3),
)
def test_binary_field_equals_bruteforce_energy_difference(seed, p, nn, n, b):
    rng = np.random.default_rng(seed)
    xi = hf.random_patterns(p, nn, rng=rng)
    s = hf.random_patterns(b, nn, rng=rng)
    d = dense.binary_field(xi, s, n)
    assert d.dtype == np.int64 and d.shape == (b, nn)
    brute = [list(brute_field(xi, s[k], n)) for k in range(b)]
    for k in range(b):
        assert [int(v) for v in d[k]] == brute[k]
    assert np.array_equal(dense.binary_field(xi, s[0], n), d[0])
    # one synchronous step: sign of the brute-force difference, ties keep the state
    ref = np.array(
        [
            [1 if v > 0 else (-1 if v < 0 else s[k, i]) for i, v in enumerate(brute[k])]
            for k in range(b)
        ]
    )
    assert np.array_equal(dense.binary_update(xi, s, n, n_steps=1), ref)


@pytest.mark.parametrize("seed", range(4))
def test_binary_n1_is_four_times_zero_diagonal_hebbian_field(seed):
    rng = np.random.default_rng(seed)
    xi = hf.random_patterns(25, 120, rng=rng)
    s0 = hf.flip_bits(xi[:6], 0.25, rng=rng)
    d = dense.binary_field(xi, s0, 1)
    nw = np.rint(hf.hebbian_weights(xi) * xi.shape[1]).astype(np.int64)  # N W, zero diagonal
    assert np.array_equal(d, 4 * (s0.astype(np.int64) @ nw))
    for steps in (1, 2, 7):
        ref = hf.simulate(xi, s0, steps, update="sync").states
        assert np.array_equal(dense.binary_update(xi, s0, 1, n_steps=steps), ref)


def test_binary_tie_keeps_state():
    xi = np.array([[1, 1], [1, -1]])
    s = np.array([1, 1])
    # neuron 0: M^(0) = (1, -1), D_0 = G(1) - G(-1) with G(M) = (M+1)^2 - (M-1)^2: 4 - 4 = 0
    d = dense.binary_field(xi, s, 1)
    assert d[0] == 0
    assert dense.binary_update(xi, s, 1)[0] == 1
    assert dense.binary_update(xi, -s, 1)[0] == -1


def test_binary_update_zero_steps_and_dtype_and_no_mutation():
    rng = np.random.default_rng(1)
    xi = hf.random_patterns(5, 30, rng=rng)
    s = hf.flip_bits(xi[:2], 0.2, rng=rng)
    s_copy = s.copy()
    out = dense.binary_update(xi, s, 2, n_steps=0)
    assert out.dtype == np.int8 and np.array_equal(out, s)
    out = dense.binary_update(xi, s, 2, n_steps=3)
    assert np.array_equal(s, s_copy)
    assert np.array_equal(out, xi[:2])  # retrieved at this tiny load


@pytest.mark.parametrize("n, nn, p_low", [(1, 200, 5), (2, 60, 40), (3, 30, 100)])
def test_stored_patterns_are_fixed_points_at_low_load(n, nn, p_low):
    rng = np.random.default_rng(7)
    assert dense.fixed_point_fraction(p_low, nn, n, 32, rng=rng) == 1.0
    # far above capacity none is
    assert dense.fixed_point_fraction(40 * p_low, nn, n, 16, rng=rng) == 0.0


def test_fixed_point_fraction_tests_the_first_n_test_patterns_and_matches_binary_field():
    xi = hf.random_patterns(12, 40, rng=np.random.default_rng(0))  # the draw it makes
    stable = np.all(dense.binary_field(xi, xi, 1) * xi >= 0, axis=1)
    # at this load some patterns are stable, and the first four are not a typical sample
    assert 0 < stable.mean() < 1 and stable[:4].mean() != stable.mean()
    frac = dense.fixed_point_fraction(12, 40, 1, 4, rng=np.random.default_rng(0))
    assert frac == stable[:4].mean()
    # n_test > P tests every stored pattern once
    frac = dense.fixed_point_fraction(12, 40, 1, 100, rng=np.random.default_rng(0))
    assert frac == stable.mean()


@pytest.mark.parametrize(
    "n, sizes",
    [(1, [100, 200, 400, 800]), (2, [30, 60, 90, 120]), (3, [15, 25, 35, 50])],
)
def test_capacity_exponent(n, sizes):
    """P_max ~ N^n / ln N: slope of log(P_max ln N) against log N is n (within 0.35)."""
    rng = np.random.default_rng(2024 + n)
    nn = np.array(sizes, dtype=float)
    pmax = np.array([dense.max_stable_load(int(v), n, rng=rng, n_test=64) for v in sizes])
    slope = np.polyfit(np.log(nn), np.log(pmax * np.log(nn)), 1)[0]
    assert abs(slope - n) < 0.35, (pmax, slope)
    assert np.all(np.diff(pmax) > 0)


def test_max_stable_load_is_reproducible_and_near_half_crossing():
    pm = dense.max_stable_load(60, 2, rng=np.random.default_rng(5), n_test=64)
    assert pm == dense.max_stable_load(60, 2, rng=np.random.default_rng(5), n_test=64)
    rng = np.random.default_rng(6)
    below = np.mean(
        [dense.fixed_point_fraction(int(pm / 1.6), 60, 2, 64, rng=rng) for _ in range(4)]
    )
    above = np.mean(
        [dense.fixed_point_fraction(int(pm * 1.6), 60, 2, 64, rng=rng) for _ in range(4)]
    )
    assert below > 0.6 and above < 0.4


def test_binary_overflow_and_validation():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="exceeds 2\\^63-1"):
        dense.fixed_point_fraction(10**6, 5000, 3, 4, rng=rng)
    xi = hf.random_patterns(4, 10, rng=rng)
    with pytest.raises(ValueError, match="interaction order\\) must be an integer >= 1"):
        dense.binary_field(xi, xi[0], 0)
    with pytest.raises(TypeError, match="must be an integer"):
        dense.binary_field(xi, xi[0], 1.5)
    with pytest.raises(ValueError, match="expected the last axis to equal N"):
        dense.binary_field(xi, xi[0, :5], 2)
    with pytest.raises(ValueError, match="only -1 and \\+1"):
        dense.binary_update(xi * 2, xi[0], 2)
    with pytest.raises(ValueError, match="n_steps must be an integer >= 0"):
        dense.binary_update(xi, xi[0], 2, n_steps=-1)
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        dense.fixed_point_fraction(4, 10, 2, 4, rng=0)
    with pytest.raises(ValueError, match="n_test must be an integer >= 1"):
        dense.max_stable_load(10, 2, rng=rng, n_test=0)


# ---------------------------------------------------------------------------
# graded model: simulation
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("n, nn, alpha", [(1, 120, 0.2), (2, 40, 0.15)])
@pytest.mark.parametrize("dt", [0.01, 0.05])
def test_energy_never_increases_for_small_dt(n, nn, alpha, dt):
    rng = np.random.default_rng(11)
    xi, alpha = graded_problem(n, nn, alpha, rng)
    g = 1.5
    # random states and partial cues
    x0 = np.vstack(
        [
            g * rng.standard_normal((3, nn)),
            0.6 * g * xi[:3] + 0.8 * g * rng.standard_normal((3, nn)),
        ]
    )
    traj = dense.simulate(xi, x0, n, g, alpha, dt, 300)
    steps = np.diff(traj.energy, axis=0)
    assert np.max(steps) <= 1e-9
    assert np.all(traj.energy[-1] < traj.energy[0] - 1e-3)


def test_energy_matches_definition_and_trajectory():
    rng = np.random.default_rng(3)
    for n, nn, alpha in [(1, 15, 0.4), (2, 8, 0.5), (3, 6, 0.5), (4, 5, 0.05)]:
        xi, alpha = graded_problem(n, nn, alpha, rng)
        x = 2.0 * rng.standard_normal((2, nn))
        x[0, 0] = 40.0  # large preactivation: stable log cosh
        e = dense.energy(xi, x, n, 1.3, alpha)
        ref = [naive_energy(xi, row, n, 1.3, alpha) for row in x]
        np.testing.assert_allclose(e, ref, rtol=1e-12, atol=1e-12)
        assert dense.energy(xi, x[1], n, 1.3, alpha) == pytest.approx(ref[1], rel=1e-12)
        traj = dense.simulate(xi, x, n, 1.3, alpha, 0.3, 4)
        np.testing.assert_allclose(
            traj.energy[-1], dense.energy(xi, traj.states, n, 1.3, alpha), rtol=1e-12
        )
        np.testing.assert_allclose(traj.energy[0], ref, rtol=1e-12)


def test_one_step_matches_definition():
    rng = np.random.default_rng(4)
    n, nn = 2, 9
    xi, alpha = graded_problem(n, nn, 0.5, rng)
    g, dt = 1.7, 0.3
    x0 = rng.standard_normal(nn)
    phi = np.tanh(x0)
    m = xi @ phi / nn
    x1 = (1 - dt) * x0 + dt * (g / math.sqrt(alpha)) * (xi.T @ m**n)
    traj = dense.simulate(xi, x0, n, g, alpha, dt, 1, cue_index=2)
    np.testing.assert_allclose(traj.states, x1, rtol=1e-13)
    np.testing.assert_allclose(traj.overlaps, [m[2], xi[2] @ np.tanh(x1) / nn], rtol=1e-13)
    np.testing.assert_allclose(traj.c_phi, [np.mean(phi**2), np.mean(np.tanh(x1) ** 2)])


@pytest.mark.parametrize("seed", range(3))
def test_high_gain_unit_step_is_synchronous_hebbian_with_diagonal(seed):
    """n = 1, dt = 1, g = 1e4: sign(x(t)) follows s <- sgn(xi^T xi s), diagonal included."""
    rng = np.random.default_rng(seed)
    nn, p = 101, 21  # N and P odd: (xi^T xi s)_i is a sum of P odd numbers, never 0
    xi = hf.random_patterns(p, nn, rng=rng)
    s0 = hf.flip_bits(xi[:3], 0.3, rng=rng).astype(np.int64)
    g, alpha = 1e4, p / nn
    big = xi.astype(np.int64)
    ref = [s0]
    for _ in range(6):
        h = ref[-1] @ big.T @ big
        assert np.all(h != 0)
        ref.append(np.sign(h))
    for steps in (1, 2, 6):
        traj = dense.simulate(xi, g * s0, 1, g, alpha, 1.0, steps, cue_index=np.arange(3))
        assert np.array_equal(np.sign(traj.states), ref[steps])
        expected_m = np.array(
            [[ref[t][b] @ xi[b] / nn for b in range(3)] for t in range(steps + 1)]
        )
        np.testing.assert_allclose(traj.overlaps, expected_m, rtol=0, atol=1e-12)
    # Chapter 1's network has no self-coupling: its field lacks the diagonal term P s_i, which
    # holds every neuron in its state.  From these cues the two dynamics part ways.
    zero_diag = [s0]
    for _ in range(6):
        h = zero_diag[-1] @ big.T @ big - p * zero_diag[-1]
        zero_diag.append(np.where(h != 0, np.sign(h), zero_diag[-1]))
    np.testing.assert_array_equal(hf.simulate(xi, s0, 6, update="sync").states, zero_diag[6])
    assert not np.array_equal(ref[1], zero_diag[1])


def test_batch_equals_single_runs():
    rng = np.random.default_rng(5)
    xi, alpha = graded_problem(2, 30, 0.2, rng)
    x0 = 1.5 * rng.standard_normal((4, 30))
    cues = np.array([0, 3, 1, 0])
    batch = dense.simulate(xi, x0, 2, 1.5, alpha, 0.25, 12, cue_index=cues)
    assert batch.overlaps.shape == (13, 4) and batch.states.shape == (4, 30)
    for b in range(4):
        single = dense.simulate(xi, x0[b], 2, 1.5, alpha, 0.25, 12, cue_index=int(cues[b]))
        assert single.overlaps.shape == (13,) and single.states.shape == (30,)
        np.testing.assert_allclose(single.states, batch.states[b], rtol=1e-12, atol=1e-12)
        for field in ("overlaps", "c_phi", "energy"):
            np.testing.assert_allclose(
                getattr(single, field), getattr(batch, field)[:, b], rtol=1e-12, atol=1e-12
            )


def test_blocked_and_float32_products_agree(monkeypatch):
    rng = np.random.default_rng(6)
    xi, alpha = graded_problem(2, 25, 0.4, rng)  # P = 250
    x0 = 1.5 * rng.standard_normal((3, 25))
    ref = dense.simulate(xi, x0, 2, 1.5, alpha, 0.25, 10)
    assert dense._PatternProducts(xi).full is not None
    # no full copy, blocks of 7 patterns converted on the fly
    monkeypatch.setattr(dense, "_FULL_COPY_MAX_BYTES", 0)
    monkeypatch.setattr(dense, "_BLOCK_ELEMENTS", 7 * 25)
    assert dense._PatternProducts(xi).full is None
    blocked = dense.simulate(xi, x0, 2, 1.5, alpha, 0.25, 10)
    for a, b in zip(ref, blocked):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    # float32 products
    monkeypatch.setattr(dense, "_F64_MAX_BYTES", 0)
    assert dense._PatternProducts(xi).dtype == np.float32
    single = dense.simulate(xi, x0, 2, 1.5, alpha, 0.25, 10)
    for a, b in zip(ref, single):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_simulate_zero_steps_and_no_mutation_and_odd_order_allowed():
    rng = np.random.default_rng(8)
    xi, alpha = graded_problem(3, 12, 0.3, rng)
    x0 = rng.standard_normal((2, 12))
    keep = x0.copy()
    traj = dense.simulate(xi, x0, 3, 1.0, alpha, 0.5, 0)
    assert np.array_equal(x0, keep) and np.array_equal(traj.states, x0)
    assert traj.overlaps.shape == (1, 2)
    traj = dense.simulate(xi, x0, 3, 1.0, alpha, 0.5, 3)
    assert np.array_equal(x0, keep) and np.all(np.isfinite(traj.energy))


@pytest.mark.parametrize(
    "n, alpha, sizes",
    [(1, 0.1, [200, 800]), (2, 0.05, [100, 400]), (3, 0.01, [25, 100]), (4, 0.001, [30, 120])],
)
def test_input_variance_grows_with_n_only_for_odd_order(n, alpha, sizes):
    """Random state x = g z: the input variance tends to (2n-1)!! g^2 C_phi^n for n = 1 and
    even n, but grows ~ N^2 for n = 3."""
    rng = np.random.default_rng(9)
    g = 1.5
    var, pred = [], []
    for nn in sizes:
        xi, a = graded_problem(n, nn, alpha, rng)
        x = g * rng.standard_normal((4, nn))
        var.append(dense.input_variance(xi, x, n, g, a))
        pred.append(math.prod(range(2 * n - 1, 0, -2)) * g * g * np.mean(np.tanh(x) ** 2) ** n)
    ratio = var[-1] / var[0]
    if n == 3:
        assert ratio > 6.0  # ~ N^2: a factor ~16 over a factor 4 in N
        assert var[-1] > 10 * pred[-1]
    else:
        assert 0.5 < ratio < 2.0
        assert var[-1] == pytest.approx(pred[-1], rel=0.35)


def test_graded_validation():
    rng = np.random.default_rng(0)
    xi, alpha = graded_problem(2, 10, 0.5, rng)  # P = 50
    x0 = rng.standard_normal(10)
    ok = dict(patterns=xi, initial_states=x0, n=2, g=1.5, alpha=alpha, dt=0.25, n_steps=3)
    cases = [
        (dict(alpha=0.0), ValueError, "alpha \\(load\\) must be > 0"),
        (dict(alpha=-0.1), ValueError, "alpha \\(load\\) must be > 0"),
        (dict(alpha=math.inf), ValueError, "alpha \\(load\\) must be finite"),
        (dict(g=0.0), ValueError, "g \\(gain\\) must be > 0"),
        (dict(dt=0.0), ValueError, "dt must lie in \\(0.0, 1.0\\]"),
        (dict(dt=1.5), ValueError, "dt must lie in \\(0.0, 1.0\\]"),
        (dict(n=0), ValueError, "interaction order\\) must be an integer >= 1"),
        (dict(n_steps=-1), ValueError, "n_steps must be an integer >= 0"),
        (
            dict(initial_states=np.zeros(9)),
            ValueError,
            "initial_states must have shape \\(10,?\\); got shape \\(9,\\)",
        ),
        (
            dict(initial_states=np.zeros((3, 9))),
            ValueError,
            "initial_states must have shape \\(any, 10\\); got shape \\(3, 9\\)",
        ),
        (dict(initial_states=np.full(10, np.nan)), ValueError, "initial_states must be finite"),
        (dict(initial_states=np.zeros((2, 2, 10))), ValueError, "1 or 2-dimensional"),
        (
            dict(initial_states=np.zeros(10, dtype=bool)),
            TypeError,
            "initial_states must be an array of real numbers",
        ),
        (dict(patterns=xi * 0), ValueError, "only -1 and \\+1"),
        (dict(alpha=0.2), ValueError, "stores P = alpha N\\^n patterns"),
        (dict(n=1), ValueError, "stores P = alpha N\\^n patterns"),
        (dict(cue_index=50), ValueError, "cue_index must lie in \\[0, P-1\\]"),
        (dict(cue_index=np.array([0, 1])), ValueError, "single integer"),
    ]
    for change, exc, match in cases:
        with pytest.raises(exc, match=match):
            dense.simulate(**{**ok, **change})
    with pytest.raises(ValueError, match="stores P = alpha N\\^n patterns"):
        dense.energy(xi, x0, 2, 1.5, 0.3)
    with pytest.raises(ValueError, match="g \\(gain\\) must be > 0"):
        dense.input_variance(xi, x0, 2, -1.0, alpha)


# ---------------------------------------------------------------------------
# static mean-field theory
# ---------------------------------------------------------------------------


def test_critical_capacities_at_g_1_5():
    """Paper (Table I): 0.13, 0.080, 0.0011.

    n = 1: saddle-node at 0.13092 (matches).  Even n: the branch is stable up to lambda = 1
    (0.07727, 0.0011198) and exists up to F = 1 (0.08236, 0.0011737); the paper's values lie
    in (n = 2) or at the edge of (n = 4) this window.
    """
    c1 = dense.critical_capacity(1, 1.5)
    assert c1.limit == "saddle-node"
    assert c1.alpha_c == pytest.approx(0.130916, abs=2e-6)
    assert round(c1.alpha_c, 2) == 0.13 and c1.alpha_stable == c1.alpha_c
    assert c1.m_bar == pytest.approx(0.97052, abs=1e-4)
    c2 = dense.critical_capacity(2, 1.5)
    assert c2.limit == "self-coupling"
    assert c2.alpha_c == pytest.approx(0.082361, abs=2e-6)
    assert c2.alpha_stable == pytest.approx(0.077274, abs=2e-6)
    assert c2.alpha_stable < 0.080 < c2.alpha_c
    c4 = dense.critical_capacity(4, 1.5)
    assert c4.alpha_c == pytest.approx(0.00117368, abs=2e-8)
    assert c4.alpha_stable == pytest.approx(0.00111979, abs=2e-8)
    assert float(f"{c4.alpha_stable:.2g}") == 0.0011


def _independent_averages(n, g, alpha, fp):
    """<phi>, <phi^2>, <phi'/(1-F phi')> by scipy.quad over eta, solving x per point."""
    s0 = (g / math.sqrt(alpha)) * fp.m**n
    sig = math.sqrt(fp.c_eta)
    f = fp.F

    def x_of(z):
        a = s0 + sig * z
        return brentq(lambda x: x - f * math.tanh(x) - a, a - f - 1, a + f + 1, xtol=1e-15)

    def avg(fun):
        def dens(z):
            return math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)

        pts = [-s0 / sig]
        return quad(
            lambda z: fun(x_of(z)) * dens(z),
            -12,
            12,
            points=pts,
            limit=400,
            epsabs=1e-13,
            epsrel=1e-12,
        )[0]

    m = avg(math.tanh)
    c = avg(lambda x: math.tanh(x) ** 2)
    s = avg(lambda x: (1 - math.tanh(x) ** 2) / (1 - f * (1 - math.tanh(x) ** 2)))
    return m, c, s


@pytest.mark.parametrize("n, alpha", [(1, 0.06), (1, 0.13), (2, 0.05), (2, 0.08), (4, 0.001)])
def test_fixed_point_satisfies_its_equations(n, alpha):
    g = 1.5
    fp = dense.fixed_point(n, g, alpha)
    assert fp is not None and fp.residual < 1e-10
    m, c, s = _independent_averages(n, g, alpha, fp)
    assert m == pytest.approx(fp.m, abs=1e-8)
    assert c == pytest.approx(fp.c_phi, abs=1e-8)
    assert s == pytest.approx(fp.s_phi, abs=1e-8)
    if n == 1:
        k = 1 / (1 - (g / math.sqrt(alpha)) * fp.s_phi)
        assert fp.c_eta == pytest.approx(g * g * k * k * fp.c_phi, rel=1e-12)
        assert fp.F == pytest.approx(g * math.sqrt(alpha) * k, rel=1e-12)
    else:
        df = math.prod(range(2 * n - 1, 0, -2))
        assert fp.c_eta == pytest.approx(df * g * g * fp.c_phi**n, rel=1e-12)
        assert fp.F == pytest.approx(n * df * g * g * fp.s_phi * fp.c_phi ** (n - 1), rel=1e-12)
    assert 0 < fp.F < 1 and fp.m_bar == pytest.approx(fp.m / math.sqrt(fp.c_phi))


@pytest.mark.parametrize("n", [1, 2, 4])
def test_retrieval_exists_below_not_above_and_decreases(n):
    g = 1.5
    cc = dense.critical_capacity(n, g)
    below = dense.fixed_point(n, g, cc.alpha_c * (1 - 1e-6))
    assert below is not None and below.m_bar == pytest.approx(cc.m_bar, abs=2e-3)
    assert dense.fixed_point(n, g, cc.alpha_c * (1 + 1e-6)) is None
    alphas = np.linspace(0, 1.2 * cc.alpha_c, 60)
    mbar = dense.retrieval_curve(n, g, alphas)
    inside = alphas <= cc.alpha_c
    assert np.all(np.isnan(mbar[~inside])) and not np.any(np.isnan(mbar[inside]))
    assert mbar[0] == 1.0 and np.all(np.diff(mbar[inside]) <= 1e-14)
    visible = inside & (mbar < 1 - 1e-9)  # below that, m_bar rounds to 1
    assert visible.sum() > 20 and np.all(np.diff(mbar[visible]) < 0)
    assert dense.retrieval_curve(n, g, 0.5 * cc.alpha_c) == pytest.approx(
        dense.fixed_point(n, g, 0.5 * cc.alpha_c).m_bar, abs=1e-12
    )
    # the stability parameter crosses 1 at alpha_stable
    if cc.alpha_stable < cc.alpha_c:
        assert dense.fixed_point(n, g, cc.alpha_stable * 0.999).lam < 1
        assert dense.fixed_point(n, g, cc.alpha_stable * 1.001).lam > 1
    else:
        assert below.lam < 1


def test_theory_validation():
    for func, args in [
        (dense.critical_capacity, (3, 1.5)),
        (dense.fixed_point, (3, 1.5, 0.01)),
        (dense.retrieval_curve, (5, 1.5, [0.01])),
    ]:
        with pytest.raises(ValueError, match="odd n=\\d: odd n > 1 has an input variance"):
            func(*args)
    with pytest.raises(ValueError, match="interaction order\\) must be an integer >= 1"):
        dense.critical_capacity(0, 1.5)
    with pytest.raises(ValueError, match="g \\(gain\\) must be > 0"):
        dense.fixed_point(2, 0.0, 0.01)
    with pytest.raises(ValueError, match="alpha \\(load\\) must be > 0"):
        dense.fixed_point(2, 1.5, 0.0)
    with pytest.raises(ValueError, match="alphas must be finite and >= 0"):
        dense.retrieval_curve(2, 1.5, [0.01, -0.01])


@pytest.mark.parametrize(
    "n, nn, alpha, trials", [(1, 2000, 0.05, 2), (1, 2000, 0.12, 4), (2, 400, 0.05, 8)]
)
def test_theory_matches_simulation(n, nn, alpha, trials):
    """Started at the pattern (x0 = g xi), the final m_bar agrees with fixed_point's."""
    rng = np.random.default_rng(12)
    g = 1.5
    xi, a = graded_problem(n, nn, alpha, rng)
    x0 = g * xi[:trials].astype(float)
    traj = dense.simulate(xi, x0, n, g, a, 0.25, 100, cue_index=np.arange(trials))
    mbar = traj.overlaps[-1] / np.sqrt(traj.c_phi[-1])
    assert np.median(mbar) == pytest.approx(dense.fixed_point(n, g, a).m_bar, abs=0.02)


def test_public_api_listed():
    for name in dense.__all__:
        assert hasattr(dense, name)
    assert set(dense.__all__) >= {
        "binary_field",
        "binary_update",
        "fixed_point_fraction",
        "max_stable_load",
        "simulate",
        "energy",
        "input_variance",
        "fixed_point",
        "critical_capacity",
        "retrieval_curve",
    }
