"""Tests for memlab.hopfield.

Reference implementations used here are deliberately naive: they build the
dense integer coupling matrix N*W = xi^T xi (zero diagonal) and update with
explicit loops, so they share no code with the matrix-free library kernels.
"""

from __future__ import annotations

import contextlib
import math

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import erf, erfinv

from memlab import hopfield as hf
from memlab.images import PIXEL_PATTERN_NAMES, PixelPatterns, pixel_patterns

FAST = settings(max_examples=40, deadline=None)


# ---------------------------------------------------------------------------
# naive references
# ---------------------------------------------------------------------------


def dense_int_couplings(xi):
    """N*W as exact int64 matrix with zero diagonal."""
    x = np.asarray(xi, dtype=np.int64)
    w = x.T @ x
    np.fill_diagonal(w, 0)
    return w


def dense_energy(xi, s):
    """E = -1/2 s^T W s from the dense couplings (float, exact rational/N)."""
    w = dense_int_couplings(xi)
    s = np.asarray(s, dtype=np.int64)
    return -0.5 * float(s @ w @ s) / xi.shape[1]


def dense_sync_reference(xi, s0, n_steps):
    """Synchronous updates one trial at a time with the dense integer W."""
    w = dense_int_couplings(xi)
    n = xi.shape[1]
    s = np.asarray(s0, dtype=np.int64).copy()
    traj = [xi.astype(np.int64) @ s / n]
    for _ in range(n_steps):
        h = w @ s
        s = np.where(h > 0, 1, np.where(h < 0, -1, s))
        traj.append(xi.astype(np.int64) @ s / n)
    return np.array(traj), s.astype(np.int8)


def python_async_reference(xi, s0_batch, n_steps, rng, check_energy=False):
    """Pure-python async sweeps, drawing permutations exactly like the library.

    Permutations for the still-active trials are drawn each sweep with
    ``hf._draw_permutations``; a trial whose sweep flips nothing is retired.
    If ``check_energy`` is set, asserts that no single flip raises E.
    """
    w = dense_int_couplings(xi)
    p, n = xi.shape
    s = np.asarray(s0_batch, dtype=np.int64).copy()
    b = s.shape[0]
    traj = np.empty((n_steps + 1, b, p))
    traj[0] = s @ xi.T.astype(np.int64) / n
    active = list(range(b))
    for t in range(1, n_steps + 1):
        perms = hf._draw_permutations(rng, len(active), n) if active else None
        still = []
        for a, trial in enumerate(active):
            flips = 0
            for i in perms[a]:
                i = int(i)
                h = int(w[i] @ s[trial])
                new = 1 if h > 0 else (-1 if h < 0 else s[trial, i])
                if new != s[trial, i]:
                    if check_energy:
                        e_before = -0.5 * float(s[trial] @ w @ s[trial]) / n
                    s[trial, i] = new
                    flips += 1
                    if check_energy:
                        e_after = -0.5 * float(s[trial] @ w @ s[trial]) / n
                        assert e_after < e_before + 1e-12
                        # library energy agrees with the dense one
                        assert hf.energy(xi, s[trial]) == pytest.approx(e_after, abs=1e-9)
            if flips:
                still.append(trial)
        traj[t] = s @ xi.T.astype(np.int64) / n
        active = still
    return traj, s.astype(np.int8)


def pm1(rng, shape):
    return (rng.integers(0, 2, size=shape) * 2 - 1).astype(np.int8)


# ---------------------------------------------------------------------------
# random_patterns, flip_bits
# ---------------------------------------------------------------------------


def test_random_patterns_shape_dtype_values():
    xi = hf.random_patterns(7, 50, rng=np.random.default_rng(0))
    assert xi.shape == (7, 50)
    assert xi.dtype == np.int8
    assert set(np.unique(xi)) == {-1, 1}


@pytest.mark.parametrize("bias", [0.0, 0.4, -0.7])
def test_random_patterns_bias_statistics(bias):
    xi = hf.random_patterns(40, 5000, rng=np.random.default_rng(1), bias=bias)
    n = xi.size
    frac_plus = np.mean(xi == 1)
    p = (1 + bias) / 2
    assert abs(frac_plus - p) < 5 * math.sqrt(p * (1 - p) / n)


def test_random_patterns_deterministic():
    a = hf.random_patterns(3, 20, rng=np.random.default_rng(42))
    b = hf.random_patterns(3, 20, rng=np.random.default_rng(42))
    c = hf.random_patterns(3, 20, rng=np.random.default_rng(43))
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize(
    "args, exc, match",
    [
        (
            (0, 10, np.random.default_rng()),
            ValueError,
            r"n_patterns must be an integer >= 1; got 0",
        ),
        ((3, 1, np.random.default_rng()), ValueError, r"n_neurons must be an integer >= 2; got 1"),
        ((2.5, 10, np.random.default_rng()), TypeError, r"n_patterns must be an integer"),
        ((3, 10, 42), TypeError, r"rng must be a numpy.random.Generator.*got 42"),
        ((3, 10, np.random.RandomState(0)), TypeError, r"rng must be a numpy.random.Generator"),
    ],
)
def test_random_patterns_validation(args, exc, match):
    n_patterns, n_neurons, rng = args
    with pytest.raises(exc, match=match):
        hf.random_patterns(n_patterns, n_neurons, rng=rng)


def test_rng_is_keyword_only():
    rng = np.random.default_rng(0)
    with pytest.raises(TypeError):
        hf.random_patterns(3, 10, rng)
    with pytest.raises(TypeError):
        hf.flip_bits(np.ones(4), 0.5, rng)


@pytest.mark.parametrize("bias", [1.0, -1.0, 2.0, float("nan")])
def test_random_patterns_bad_bias(bias):
    with pytest.raises(ValueError, match="bias must"):
        hf.random_patterns(2, 10, rng=np.random.default_rng(), bias=bias)


@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(2, 60),
    b=st.integers(1, 5),
    fraction=st.floats(0.0, 1.0),
)
@FAST
def test_flip_bits_flips_exactly_round_fraction_n(seed, n, b, fraction):
    rng = np.random.default_rng(seed)
    s = pm1(rng, (b, n))
    before = s.copy()
    out = hf.flip_bits(s, fraction, rng=rng)
    assert np.array_equal(s, before), "input must not be modified"
    assert out.shape == s.shape and out.dtype == np.int8
    k = round(fraction * n)
    assert np.all(np.sum(out != s, axis=1) == k)
    single = hf.flip_bits(s[0], fraction, rng=rng)
    assert single.shape == (n,) and np.sum(single != s[0]) == k


def test_flip_bits_validation():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"fraction must lie in \[0.0, 1.0\]; got 1.5"):
        hf.flip_bits(np.ones(4), 1.5, rng=rng)
    with pytest.raises(
        ValueError, match="states must contain only -1 and \\+1; found value 0 at index 2"
    ):
        hf.flip_bits(np.array([1, -1, 0, 1]), 0.5, rng=rng)
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        hf.flip_bits(np.ones(4), 0.5, rng=None)


# ---------------------------------------------------------------------------
# couplings, overlaps, energy
# ---------------------------------------------------------------------------


@given(seed=st.integers(0, 2**32 - 1), p=st.integers(1, 8), n=st.integers(2, 30))
@FAST
def test_hebbian_weights_matches_definition(seed, p, n):
    xi = pm1(np.random.default_rng(seed), (p, n))
    w = hf.hebbian_weights(xi)
    assert w.shape == (n, n) and w.dtype == np.float64
    assert np.array_equal(w, w.T)
    assert np.all(np.diag(w) == 0)
    for i in range(min(n, 4)):
        for j in range(n):
            expected = (
                0.0 if i == j else sum(int(xi[mu, i]) * int(xi[mu, j]) for mu in range(p)) / n
            )
            assert w[i, j] == pytest.approx(expected, abs=1e-15)


def test_overlaps_shapes_and_values():
    rng = np.random.default_rng(3)
    xi = pm1(rng, (4, 25))
    s = pm1(rng, (25,))
    m = hf.overlaps(xi, s)
    assert m.shape == (4,) and m.dtype == np.float64
    assert np.allclose(m, xi.astype(int) @ s / 25)
    batch = pm1(rng, (6, 25))
    mb = hf.overlaps(xi, batch)
    assert mb.shape == (6, 4)
    assert np.allclose(mb, batch.astype(int) @ xi.T / 25)
    assert np.allclose(hf.overlaps(xi, xi), xi.astype(int) @ xi.T / 25)
    assert np.all(np.diag(hf.overlaps(xi, xi)) == 1.0)


@given(
    seed=st.integers(0, 2**32 - 1), p=st.integers(1, 8), n=st.integers(2, 40), b=st.integers(1, 4)
)
@FAST
def test_energy_matrix_free_equals_dense(seed, p, n, b):
    rng = np.random.default_rng(seed)
    xi = pm1(rng, (p, n))
    s = pm1(rng, (b, n))
    e = hf.energy(xi, s)
    assert e.shape == (b,)
    for k in range(b):
        assert e[k] == pytest.approx(dense_energy(xi, s[k]), abs=1e-9)
    e0 = hf.energy(xi, s[0])
    assert isinstance(e0, float)
    # E = -(N/2) sum m^2 + P/2
    m = hf.overlaps(xi, s[0])
    assert e0 == pytest.approx(-n / 2 * np.sum(m**2) + p / 2, abs=1e-9)


def test_overlaps_energy_validation():
    xi = np.ones((5, 10), dtype=int)
    bad = xi.copy()
    bad[3, 7] = 2
    with pytest.raises(
        ValueError, match=r"patterns must contain only -1 and \+1; found value 2 at index \(3, 7\)"
    ):
        hf.overlaps(bad, np.ones(10))
    with pytest.raises(ValueError, match=r"states has 9 neurons .* patterns have N=10"):
        hf.energy(xi, np.ones(9))
    with pytest.raises(ValueError, match=r"states must be a 1 or 2-dimensional array; got 3"):
        hf.energy(xi, np.ones((2, 2, 10)))
    with pytest.raises(TypeError, match="got dtype bool"):
        hf.overlaps(xi.astype(bool), np.ones(10))
    with pytest.raises(ValueError, match=r"patterns must be a 2-dimensional array"):
        hf.hebbian_weights(np.ones(10))


# ---------------------------------------------------------------------------
# synchronous dynamics
# ---------------------------------------------------------------------------


@contextlib.contextmanager
def sync_products(kind):
    """Force the sync dynamics' products onto the int8 kernels or onto float BLAS."""
    saved = hf._INT_MAX_BATCH, hf._INT_MIN_ENTRIES
    hf._INT_MAX_BATCH, hf._INT_MIN_ENTRIES = (10**9, 0) if kind == "int8" else (0, 2**31)
    try:
        yield
    finally:
        hf._INT_MAX_BATCH, hf._INT_MIN_ENTRIES = saved


@given(
    seed=st.integers(0, 2**32 - 1),
    p=st.integers(1, 12),
    n=st.integers(2, 40),
    b=st.integers(1, 5),
    n_steps=st.integers(0, 15),
    products=st.sampled_from(["int8", "blas"]),
)
@settings(max_examples=150, deadline=None)
def test_sync_matches_dense_reference(seed, p, n, b, n_steps, products):
    """Matrix-free sync dynamics (with early stopping) equals a dense integer W loop.

    Small n with relatively many patterns produces fixed points, 2-cycles,
    longer transients and zero fields (ties), exercising every branch; the
    products run on the int8 kernels or on BLAS.
    """
    rng = np.random.default_rng(seed)
    xi = pm1(rng, (p, n))
    s0 = pm1(rng, (b, n))
    with sync_products(products):
        traj = hf.simulate(xi, s0, n_steps)
    assert traj.overlaps.shape == (n_steps + 1, b, p)
    assert traj.states.shape == (b, n) and traj.states.dtype == np.int8
    w = hf.hebbian_weights(xi)
    for k in range(b):
        # the float W of the library gives the same (integer) fields N W s
        np.testing.assert_allclose(n * (w @ s0[k]), dense_int_couplings(xi) @ s0[k], atol=1e-9)
        ref_m, ref_s = dense_sync_reference(xi, s0[k], n_steps)
        np.testing.assert_array_equal(traj.states[k], ref_s)
        np.testing.assert_allclose(traj.overlaps[:, k], ref_m, atol=1e-12)


def test_sync_single_state_shapes_and_cue_index():
    rng = np.random.default_rng(5)
    xi = pm1(rng, (6, 50))
    s0 = hf.flip_bits(xi[2], 0.2, rng=rng)
    full = hf.simulate(xi, s0, 7)
    assert full.overlaps.shape == (8, 6)
    assert full.states.shape == (50,) and full.states.dtype == np.int8
    cued = hf.simulate(xi, s0, 7, cue_index=2)
    assert cued.overlaps.shape == (8,)
    np.testing.assert_array_equal(cued.overlaps, full.overlaps[:, 2])
    assert cued.overlaps[0] == pytest.approx(0.6)
    np.testing.assert_array_equal(cued.states, full.states)


def test_batch_equals_single_runs_and_cue_array():
    rng = np.random.default_rng(6)
    xi = pm1(rng, (30, 120))  # alpha = 0.25: non-trivial dynamics
    s0 = hf.flip_bits(xi[:8], 0.1, rng=rng)
    batch = hf.simulate(xi, s0, 12)
    cues = np.arange(8)
    cued = hf.simulate(xi, s0, 12, cue_index=cues)
    assert cued.overlaps.shape == (13, 8)
    for k in range(8):
        single = hf.simulate(xi, s0[k], 12)
        np.testing.assert_array_equal(batch.overlaps[:, k], single.overlaps)
        np.testing.assert_array_equal(batch.states[k], single.states)
        np.testing.assert_array_equal(cued.overlaps[:, k], single.overlaps[:, k])
    same_cue = hf.simulate(xi, s0, 12, cue_index=3)
    np.testing.assert_array_equal(same_cue.overlaps, batch.overlaps[:, :, 3])


def test_sync_two_cycle_orthogonal_state():
    """P=1, state orthogonal to the pattern: h = -s/N, so s -> -s -> s."""
    xi = np.array([[1, 1, 1, 1, -1, -1, -1, -1]])
    s0 = np.array([1, -1, 1, -1, 1, -1, 1, -1])
    assert hf.overlaps(xi, s0)[0] == 0
    for n_steps in (1, 2, 7, 10):
        traj = hf.simulate(xi, s0, n_steps)
        expected = s0 if n_steps % 2 == 0 else -s0
        np.testing.assert_array_equal(traj.states, expected)
        assert np.all(traj.overlaps == 0)
    # the dense reference agrees
    _, ref = dense_sync_reference(xi, s0, 7)
    np.testing.assert_array_equal(hf.simulate(xi, s0, 7).states, ref)
    # async instead converges to a fixed point (+-xi): E decreases at each flip
    traj = hf.simulate(xi, s0, 5, update="async", rng=np.random.default_rng(0))
    assert abs(traj.overlaps[-1, 0]) == 1.0


def test_sync_two_cycle_two_patterns():
    """Two-neuron network with a negative coupling oscillates in sync mode."""
    xi = np.array([[1, -1]])  # W_12 = -1/2
    traj = hf.simulate(xi, np.array([1, 1]), 5)
    np.testing.assert_array_equal(traj.states, [-1, -1])
    traj = hf.simulate(xi, np.array([1, 1]), 6)
    np.testing.assert_array_equal(traj.states, [1, 1])


def test_zero_field_keeps_state():
    """xi1=(1,1), xi2=(1,-1): W_12 = 0, every field is exactly zero."""
    xi = np.array([[1, 1], [1, -1]])
    states = np.array([[1, 1], [1, -1], [-1, 1], [-1, -1]])
    np.testing.assert_array_equal(hf.simulate(xi, states, 3).states, states)
    out = hf.simulate(xi, states, 3, update="async", rng=np.random.default_rng(1))
    np.testing.assert_array_equal(out.states, states)


@pytest.mark.parametrize("update", ["sync", "async"])
def test_single_pattern_is_fixed_point(update):
    rng = np.random.default_rng(7)
    xi = hf.random_patterns(1, 301, rng=rng)
    for s0 in (xi[0], -xi[0]):
        traj = hf.simulate(xi, s0, 3, update=update, rng=rng)
        np.testing.assert_array_equal(traj.states, s0)
        assert np.all(np.abs(traj.overlaps) == 1.0)
    # from a corrupted cue (overlap 0.6) one step restores the pattern
    cue = hf.flip_bits(xi[0], 0.2, rng=rng)
    traj = hf.simulate(xi, cue, 1, update=update, rng=rng)
    np.testing.assert_array_equal(traj.states, xi[0])


@pytest.mark.parametrize("update", ["sync", "async"])
def test_stored_patterns_fixed_points_at_low_load(update):
    rng = np.random.default_rng(8)
    xi = hf.random_patterns(10, 2000, rng=rng)  # alpha = 0.005: error prob ~ 1e-45
    traj = hf.simulate(xi, xi, 2, update=update, rng=rng)
    np.testing.assert_array_equal(traj.states, xi)
    assert np.all(traj.overlaps[:, np.arange(10), np.arange(10)] == 1.0)


def test_sync_sparse_and_dense_overlap_updates_agree(monkeypatch):
    rng = np.random.default_rng(9)
    xi = hf.random_patterns(60, 300, rng=rng)
    s0 = hf.flip_bits(xi[:10], 0.15, rng=rng)
    monkeypatch.setattr(hf, "_SPARSE_FLIP_RATIO", 0)  # never sparse
    dense = hf.simulate(xi, s0, 15)
    monkeypatch.setattr(hf, "_SPARSE_FLIP_RATIO", 10**9)  # always sparse
    sparse = hf.simulate(xi, s0, 15)
    np.testing.assert_array_equal(dense.overlaps, sparse.overlaps)
    np.testing.assert_array_equal(dense.states, sparse.states)


def test_sync_int8_kernels_equal_blas_and_serve_small_batches(monkeypatch):
    """Both product paths give the same trajectory (exact integer arithmetic); batches of at
    most _INT_MAX_BATCH states with large pattern sets take the int8 kernels by default."""
    rng = np.random.default_rng(12)
    xi = hf.random_patterns(90, 6000, rng=rng)  # 540 000 >= _INT_MIN_ENTRIES entries
    s0 = hf.flip_bits(xi[:3], 0.3, rng=rng)
    runs = {}
    for kind in ("int8", "blas"):
        with sync_products(kind):
            runs[kind] = hf.simulate(xi, s0, 6)
    np.testing.assert_array_equal(runs["int8"].overlaps, runs["blas"].overlaps)
    np.testing.assert_array_equal(runs["int8"].states, runs["blas"].states)
    calls, original = [], hf._int_fields
    monkeypatch.setattr(hf, "_int_fields", lambda *a: calls.append(1) or original(*a))
    hf.simulate(xi, s0, 2)
    assert calls, "a batch of 3 states did not use the int8 kernels"
    calls.clear()
    hf.simulate(xi, np.concatenate([s0] * 3), 2)  # 9 states
    assert not calls, "a batch of 9 states used the int8 kernels"


def test_sync_float64_fallback_is_exact(monkeypatch):
    """Force the float64 paths (tiny exactness threshold) and compare."""
    rng = np.random.default_rng(10)
    xi = pm1(rng, (12, 40))
    s0 = pm1(rng, (4, 40))
    ref = hf.simulate(xi, s0, 10)
    monkeypatch.setattr(hf, "_F32_EXACT", 50)  # N < 50: float32 + float64 fallback
    fallback = hf.simulate(xi, s0, 10)
    monkeypatch.setattr(hf, "_F32_EXACT", 8)  # N >= 8: float64 throughout
    f64 = hf.simulate(xi, s0, 10)
    for other in (fallback, f64):
        np.testing.assert_array_equal(other.overlaps, ref.overlaps)
        np.testing.assert_array_equal(other.states, ref.states)


def test_sync_ignores_rng_and_is_deterministic():
    rng = np.random.default_rng(11)
    xi = hf.random_patterns(20, 100, rng=rng)
    s0 = hf.flip_bits(xi[:3], 0.2, rng=rng)
    a = hf.simulate(xi, s0, 5)
    b = hf.simulate(xi, s0, 5, rng=np.random.default_rng(99))
    np.testing.assert_array_equal(a.overlaps, b.overlaps)


def test_simulate_does_not_modify_inputs():
    rng = np.random.default_rng(12)
    xi = hf.random_patterns(5, 40, rng=rng)
    s0 = pm1(rng, (3, 40))
    xi_c, s0_c = xi.copy(), s0.copy()
    hf.simulate(xi, s0, 5)
    hf.simulate(xi, s0, 5, update="async", rng=rng)
    np.testing.assert_array_equal(xi, xi_c)
    np.testing.assert_array_equal(s0, s0_c)


def test_zero_steps_returns_initial():
    rng = np.random.default_rng(13)
    xi = hf.random_patterns(5, 40, rng=rng)
    s0 = pm1(rng, (3, 40))
    for update in ("sync", "async"):
        traj = hf.simulate(xi, s0, 0, update=update, rng=rng)
        assert traj.overlaps.shape == (1, 3, 5)
        np.testing.assert_allclose(traj.overlaps[0], hf.overlaps(xi, s0))
        np.testing.assert_array_equal(traj.states, s0)


# ---------------------------------------------------------------------------
# asynchronous dynamics
# ---------------------------------------------------------------------------


@given(
    seed=st.integers(0, 2**32 - 1),
    p=st.integers(1, 10),
    n=st.integers(2, 30),
    b=st.integers(1, 3),
    n_steps=st.integers(0, 6),
)
@settings(max_examples=150, deadline=None)
def test_async_kernel_matches_python_reference_and_energy_decreases(seed, p, n, b, n_steps):
    rng = np.random.default_rng(seed)
    xi = pm1(rng, (p, n))
    s0 = pm1(rng, (b, n))
    traj = hf.simulate(xi, s0, n_steps, update="async", rng=np.random.default_rng(seed + 1))
    ref_m, ref_s = python_async_reference(
        xi, s0, n_steps, np.random.default_rng(seed + 1), check_energy=True
    )
    np.testing.assert_array_equal(traj.states, ref_s)
    np.testing.assert_allclose(traj.overlaps, ref_m, atol=1e-12)


def test_async_energy_nonincreasing_and_ends_at_fixed_point():
    rng = np.random.default_rng(14)
    p, n = 25, 200  # alpha = 0.125
    xi = hf.random_patterns(p, n, rng=rng)
    s0 = pm1(rng, (6, n))  # random starts: long descent
    traj = hf.simulate(xi, s0, 40, update="async", rng=rng)
    m = traj.overlaps  # (41, 6, P)
    e = -n / 2 * np.sum(m**2, axis=-1) + p / 2  # energy after every sweep
    assert np.all(np.diff(e, axis=0) <= 1e-9)
    assert np.all(e[-1] < e[0])
    # converged: every neuron aligned with its (nonzero) field or field zero
    w = dense_int_couplings(xi)
    h = traj.states.astype(np.int64) @ w
    assert np.all(h * traj.states >= 0)
    np.testing.assert_allclose(hf.energy(xi, traj.states), e[-1], atol=1e-9)


def test_async_single_equals_batch_of_one_and_deterministic():
    rng = np.random.default_rng(15)
    xi = hf.random_patterns(20, 150, rng=rng)
    s0 = hf.flip_bits(xi[0], 0.3, rng=rng)
    a = hf.simulate(xi, s0, 8, update="async", rng=np.random.default_rng(1))
    b = hf.simulate(xi, s0[None, :], 8, update="async", rng=np.random.default_rng(1))
    c = hf.simulate(xi, s0, 8, update="async", rng=np.random.default_rng(1))
    np.testing.assert_array_equal(a.overlaps, b.overlaps[:, 0])
    np.testing.assert_array_equal(a.states, b.states[0])
    np.testing.assert_array_equal(a.overlaps, c.overlaps)
    # the update order comes from rng: the same generator state repeats a run, another one
    # gives another run from the same cues (45 % flipped bits: the order matters)
    cues = hf.flip_bits(xi[:4], 0.45, rng=rng)
    d = hf.simulate(xi, cues, 3, update="async", rng=np.random.default_rng(1))
    d_again = hf.simulate(xi, cues, 3, update="async", rng=np.random.default_rng(1))
    e = hf.simulate(xi, cues, 3, update="async", rng=np.random.default_rng(2))
    assert d.overlaps.shape == e.overlaps.shape == (4, 4, 20)
    np.testing.assert_array_equal(d.overlaps, d_again.overlaps)
    assert not np.array_equal(d.overlaps, e.overlaps)


_THREAD_COUNT_CHECK = """
import numba, numpy as np
import memlab._common
from memlab import hopfield as hf
assert numba.config.NUMBA_NUM_THREADS >= 2, numba.config.NUMBA_NUM_THREADS
# small runs use one thread by default; force the parallel kernels
memlab._common.SMALL_PARALLEL_WORK = 0
rng = np.random.default_rng(16)
xi = hf.random_patterns(30, 200, rng=rng)
s0 = rng.choice(np.array([-1, 1], dtype=np.int8), size=(8, 200))
numba.set_num_threads(1)
one = hf.simulate(xi, s0, 6, update="async", rng=np.random.default_rng(3))
numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
many = hf.simulate(xi, s0, 6, update="async", rng=np.random.default_rng(3))
np.testing.assert_array_equal(one.overlaps, many.overlaps)
np.testing.assert_array_equal(one.states, many.states)
print("same with", numba.config.NUMBA_NUM_THREADS, "threads")
"""


def test_async_independent_of_thread_count():
    """One thread against two, in a fresh process: ``make test`` gives each xdist worker one
    numba thread (NUMBA_NUM_THREADS=1), under which an in-process comparison would be vacuous."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, NUMBA_NUM_THREADS="2")
    proc = subprocess.run(
        [sys.executable, "-c", _THREAD_COUNT_CHECK],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "same with 2 threads" in proc.stdout


def test_async_retrieves_at_moderate_load():
    rng = np.random.default_rng(17)
    n = 1000
    xi = hf.random_patterns(50, n, rng=rng)  # alpha = 0.05
    cue = hf.flip_bits(xi[:5], 0.2, rng=rng)
    traj = hf.simulate(xi, cue, 10, update="async", rng=rng, cue_index=np.arange(5))
    assert traj.overlaps.shape == (11, 5)
    assert np.all(traj.overlaps[0] == pytest.approx(0.6))
    assert np.all(traj.overlaps[-1] > 0.98)


# ---------------------------------------------------------------------------
# simulate validation
# ---------------------------------------------------------------------------

XI = np.array([[1, -1, 1, -1], [1, 1, -1, -1]])
S = np.array([1, 1, 1, 1])


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (
            dict(patterns=np.array([[1, 0, 1, -1]])),
            ValueError,
            r"patterns must contain only -1 and \+1; found value 0 at index \(0, 1\)",
        ),
        (
            dict(initial_states=np.array([1, 3, 1, 1])),
            ValueError,
            r"initial_states must contain only -1 and \+1; found value 3 at index 1",
        ),
        (
            dict(initial_states=np.ones(5)),
            ValueError,
            r"initial_states has 5 neurons .* patterns have N=4",
        ),
        (
            dict(initial_states=np.ones((2, 3))),
            ValueError,
            r"initial_states has 3 neurons .* patterns have N=4",
        ),
        (dict(patterns=np.ones((0, 4))), ValueError, r"at least one pattern \(P >= 1"),
        (
            dict(patterns=np.ones((2, 1)), initial_states=np.ones(1)),
            ValueError,
            r"at least 2 neurons \(N >= 2",
        ),
        (dict(patterns=np.ones(4)), ValueError, r"patterns must be a 2-dimensional array"),
        (dict(n_steps=-1), ValueError, r"n_steps must be an integer >= 0; got -1"),
        (dict(n_steps=2.5), TypeError, r"n_steps must be an integer; got 2.5"),
        (dict(n_steps=True), TypeError, r"n_steps must be an integer; got a boolean"),
        (dict(update="foo"), ValueError, r"update must be one of 'sync', 'async'; got 'foo'"),
        (dict(update=None), ValueError, r"update must be one of 'sync', 'async'; got None"),
        (dict(update="async"), ValueError, r"update='async' needs rng"),
        (dict(update="async", rng=123), TypeError, r"rng must be a numpy.random.Generator"),
        (dict(cue_index=2), ValueError, r"cue_index must lie in \[0, P-1\] = \[0, 1\]; found 2"),
        (dict(cue_index=-1), ValueError, r"cue_index must lie in \[0, P-1\]"),
        (dict(cue_index=0.0), TypeError, r"cue_index must be an integer"),
        (dict(cue_index=True), TypeError, r"cue_index must be an integer"),
        (
            dict(cue_index=[0]),
            ValueError,
            r"cue_index must be a single integer for a single initial state",
        ),
        (
            dict(initial_states=np.ones((3, 4)), cue_index=[0, 1]),
            ValueError,
            r"cue_index must be an integer or an integer array of shape \(B,\)=\(3,\); "
            r"got shape \(2,\)",
        ),
        (dict(initial_states=np.ones((2, 4)), cue_index=[0, 5]), ValueError, r"found 5"),
    ],
)
def test_simulate_validation(kwargs, exc, match):
    args = dict(patterns=XI, initial_states=S, n_steps=3)
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        hf.simulate(**args)


# ---------------------------------------------------------------------------
# mean-field theory
# ---------------------------------------------------------------------------


def ags_y_of_m(alpha, m):
    """Largest root y of  y sqrt(2 alpha) = m - (2/sqrt(pi)) y exp(-y^2)  for given m.

    This is the AGS pair y = m / sqrt(2 alpha r), C = sqrt(2/(pi alpha r)) e^{-y^2},
    r = (1-C)^-2 with r eliminated.  The fixed-point iteration started at
    y = m/sqrt(2 alpha) decreases monotonically onto the largest root.
    """
    y = m / math.sqrt(2 * alpha)
    for _ in range(2000):
        y_new = m / (math.sqrt(2 * alpha) + 2 / math.sqrt(math.pi) * math.exp(-y * y))
        if y_new == y:
            break
        y = y_new
    return y


def ags_residual(alpha, m):
    """Residual of the remaining AGS equation m = erf(y) (well conditioned at m ~ 1)."""
    y = ags_y_of_m(alpha, m)
    # sanity: r from y reproduces r = 1/(1-C)^2
    r = (m / y) ** 2 / (2 * alpha)
    c = math.sqrt(2 / (math.pi * alpha * r)) * math.exp(-y * y)
    assert r == pytest.approx(1 / (1 - c) ** 2, rel=1e-9)
    return m - erf(y)


def ags_by_iteration(alpha, tol=1e-14, max_iter=200000):
    """Independent solver: iterate m <- erf(y(m)) from m = 1 (converges to retrieval)."""
    m = 1.0
    for _ in range(max_iter):
        m_new = erf(ags_y_of_m(alpha, m))
        if abs(m_new - m) < tol:
            return m_new
        m = m_new
    raise AssertionError("no convergence")


def test_retrieval_overlap_basic_properties():
    alpha_c, m_c = hf.critical_capacity()
    assert hf.retrieval_overlap(0.0) == 1.0
    assert isinstance(hf.retrieval_overlap(0.05), float)
    grid = np.linspace(0.0, alpha_c * (1 - 1e-6), 60)
    m = hf.retrieval_overlap(grid)
    assert m.shape == grid.shape
    # non-increasing; strictly decreasing once m differs from 1 in double precision
    assert np.all(np.diff(m) <= 0)
    assert np.all(np.diff(m[m < 1 - 1e-12]) < 0)
    assert np.sum(m < 1 - 1e-12) > 40
    assert m[-1] == pytest.approx(m_c, abs=2e-3)
    assert np.all(m > m_c)
    above = hf.retrieval_overlap([alpha_c * 1.0001, 0.15, 0.3, 10.0])
    assert np.all(np.isnan(above))
    assert math.isnan(hf.retrieval_overlap(0.2))
    two_d = hf.retrieval_overlap(np.array([[0.01, 0.1], [0.12, 0.5]]))
    assert two_d.shape == (2, 2) and np.isnan(two_d[1, 1]) and not np.isnan(two_d[1, 0])
    assert hf.retrieval_overlap(1e-300) == 1.0


@pytest.mark.parametrize("alpha", [0.005, 0.02, 0.05, 0.08, 0.1, 0.12, 0.13, 0.137])
def test_retrieval_overlap_solves_ags_equations(alpha):
    m = hf.retrieval_overlap(alpha)
    assert abs(ags_residual(alpha, m)) < 1e-10
    if alpha <= 0.13:  # iteration converges too slowly right at alpha_c
        assert m == pytest.approx(ags_by_iteration(alpha), abs=1e-10)


def test_retrieval_overlap_is_largest_solution():
    """At alpha=0.1, scan F(y) on a grid: the returned y is the largest root."""
    alpha = 0.1
    m = hf.retrieval_overlap(alpha)
    y = np.linspace(1e-3, 6, 200001)
    f = y * (np.sqrt(2 * alpha) + 2 / np.sqrt(np.pi) * np.exp(-y * y)) - erf(y)
    roots = y[:-1][np.sign(f[:-1]) != np.sign(f[1:])]
    assert len(roots) == 2  # unstable + retrieval branch
    assert erfinv(m) == pytest.approx(roots.max(), abs=1e-4)


def test_critical_capacity():
    alpha_c, m_c = hf.critical_capacity()
    assert alpha_c == pytest.approx(0.1379, abs=1e-3)
    assert m_c == pytest.approx(0.9674, abs=1e-3)
    # AGS values to more digits (alpha_c = 0.138, m_c = 0.967)
    assert alpha_c == pytest.approx(0.1379056, abs=1e-6)
    assert m_c == pytest.approx(0.9674171, abs=1e-6)
    y = erfinv(m_c)
    f = y * (math.sqrt(2 * alpha_c) + 2 / math.sqrt(math.pi) * math.exp(-y * y)) - erf(y)
    dfdy = math.sqrt(2 * alpha_c) - 4 / math.sqrt(math.pi) * y * y * math.exp(-y * y)
    assert abs(f) < 1e-12
    assert abs(dfdy) < 1e-7
    cap = hf.critical_capacity()
    assert isinstance(cap, hf.CriticalCapacity)
    assert (cap.alpha_c, cap.m_c) == (alpha_c, m_c)  # named fields; cached, identical on repeat
    assert hf.retrieval_overlap(alpha_c * (1 - 1e-9)) == pytest.approx(m_c, abs=1e-3)
    assert math.isnan(hf.retrieval_overlap(alpha_c * (1 + 1e-9)))


def test_one_step_error_probability_values():
    assert hf.one_step_error_probability(0.0) == 0.0
    assert hf.one_step_error_probability(0.1) == pytest.approx(7.827e-4, rel=1e-3)
    assert hf.one_step_error_probability(1.0) == pytest.approx(0.158655, rel=1e-5)
    arr = hf.one_step_error_probability(np.array([0.0, 0.05, 0.1, 0.5]))
    assert arr.shape == (4,) and np.all(np.diff(arr) > 0)


@pytest.mark.parametrize("alpha", [0.1, 0.2])
def test_one_step_error_probability_matches_simulation(alpha):
    """Fraction of flips in one sync step from stored patterns, N = 4000."""
    n = 4000
    n_patterns = int(alpha * n)
    rng = np.random.default_rng(18)
    n_sets, n_cues = 16, 16
    rates = []
    for _ in range(n_sets):
        xi = hf.random_patterns(n_patterns, n, rng=rng)
        out = hf.simulate(xi, xi[:n_cues], 1)
        rates.append(np.mean(out.states != xi[:n_cues]))
        # consistent with the recorded overlaps: m = 1 - 2 * flip fraction
        np.testing.assert_allclose(
            out.overlaps[1, np.arange(n_cues), np.arange(n_cues)],
            1 - 2 * np.mean(out.states != xi[:n_cues], axis=1),
        )
    rates = np.array(rates)
    p = hf.one_step_error_probability(alpha)
    se_binomial = math.sqrt(p * (1 - p) / (n_sets * n_cues * n))
    se_sets = rates.std(ddof=1) / math.sqrt(n_sets)  # flips within a set correlate
    se = max(se_binomial, se_sets)
    assert abs(rates.mean() - p) < 4 * se, (rates.mean(), p, se)


@pytest.mark.parametrize("func", [hf.retrieval_overlap, hf.one_step_error_probability])
@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf"), [0.1, -1.0]])
def test_theory_validation(func, bad):
    with pytest.raises(ValueError, match=r"alpha must be finite and >= 0"):
        func(bad)


# ---------------------------------------------------------------------------
# final_overlap_sweep
# ---------------------------------------------------------------------------


def test_final_overlap_sweep_shape_and_physics():
    alphas = [0.0, 0.02, 0.4]
    res = hf.final_overlap_sweep(
        1000, alphas, 6, rng=np.random.default_rng(19), n_steps=15, progress=False
    )
    assert res.shape == (3, 6) and res.dtype == np.float64
    assert np.all(res[0] == 1.0)  # single pattern
    assert np.all(res[1] == 1.0)  # alpha = 0.02: perfect retrieval
    assert res[2].mean() < 0.6  # far above alpha_c: retrieval lost
    assert np.all(np.abs(res) <= 1.0)


def test_final_overlap_sweep_cue_noise_async_and_determinism():
    kw = dict(n_steps=10, cue_flip_fraction=0.2, progress=False)
    a = hf.final_overlap_sweep(
        500, [0.03, 0.06], 5, rng=np.random.default_rng(20), update="async", **kw
    )
    b = hf.final_overlap_sweep(
        500, [0.03, 0.06], 5, rng=np.random.default_rng(20), update="async", **kw
    )
    np.testing.assert_array_equal(a, b)
    assert np.all(a > 0.95)  # cue overlap 0.6 -> retrieved
    zero = hf.final_overlap_sweep(
        500,
        [0.06],
        4,
        rng=np.random.default_rng(21),
        n_steps=0,
        cue_flip_fraction=0.2,
        progress=False,
    )
    np.testing.assert_allclose(zero, 0.6)  # no dynamics: the cue overlap itself
    indep = hf.final_overlap_sweep(
        500, [0.06], 4, rng=np.random.default_rng(21), trials_per_set=1, **kw
    )
    assert indep.shape == (1, 4) and np.all(indep > 0.95)


def test_final_overlap_sweep_matches_theory_below_capacity():
    alphas = np.array([0.05, 0.08, 0.1])
    res = hf.final_overlap_sweep(
        4000, alphas, 10, rng=np.random.default_rng(22), n_steps=20, progress=False
    )
    theory = hf.retrieval_overlap(alphas)
    assert np.all(np.abs(res.mean(axis=1) - theory) < 0.01)


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(alphas=[[0.1]]), ValueError, r"alphas must be a 1-D sequence"),
        (dict(alphas=[0.1, -0.2]), ValueError, r"alphas must be finite and >= 0; found -0.2"),
        (dict(n_trials=0), ValueError, r"n_trials must be an integer >= 1; got 0"),
        (dict(n_neurons=1), ValueError, r"n_neurons must be an integer >= 2"),
        (dict(rng=None), TypeError, r"rng must be a numpy.random.Generator"),
        (dict(update="foo"), ValueError, r"update must be one of 'sync', 'async'; got 'foo'"),
        (dict(cue_flip_fraction=-0.1), ValueError, r"cue_flip_fraction must lie in \[0.0, 1.0\]"),
        (dict(trials_per_set=0), ValueError, r"trials_per_set must be an integer >= 1"),
        (dict(n_steps=-3), ValueError, r"n_steps must be an integer >= 0"),
    ],
)
def test_final_overlap_sweep_validation(kwargs, exc, match):
    args = dict(
        n_neurons=100, alphas=[0.1], n_trials=2, rng=np.random.default_rng(0), progress=False
    )
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        hf.final_overlap_sweep(**args)


def test_public_api_listed():
    for name in hf.__all__:
        assert hasattr(hf, name)
        assert not name.startswith("_")
    assert hf.Trajectory._fields == ("overlaps", "states")


# ---------------------------------------------------------------------------
# async_energy_trace, final_period, crossing_load
# ---------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), p=st.integers(1, 12), n=st.integers(2, 40))
def test_async_energy_trace_never_rises_and_matches_dense_energy(seed, p, n):
    rng = np.random.default_rng(seed)
    xi = pm1(rng, (p, n))
    s0 = pm1(rng, (n,))
    trace = hf.async_energy_trace(xi, s0, 3, rng=np.random.default_rng(seed))
    assert trace.energy.shape == (3 * n + 1,) and trace.flipped.shape == (3 * n,)
    assert np.all(np.diff(trace.energy) <= 1e-12)
    # the energy changes exactly at flips, and each flip strictly lowers it
    # (h = 0 never flips)
    assert np.all(np.diff(trace.energy)[trace.flipped] < 0)
    assert np.all(np.diff(trace.energy)[~trace.flipped] == 0)
    assert trace.energy[0] == pytest.approx(dense_energy(xi, s0), abs=1e-9)
    assert trace.energy[-1] == pytest.approx(dense_energy(xi, trace.states), abs=1e-9)
    # replay the same update order with the dense couplings: same energies, same final state
    order = hf._draw_permutations(np.random.default_rng(seed), 3, n).ravel()
    w = dense_int_couplings(xi)
    s = s0.astype(np.int64).copy()
    for k, i in enumerate(order):
        h = int(w[i] @ s)
        s[i] = 1 if h > 0 else (-1 if h < 0 else s[i])
        assert trace.energy[k + 1] == pytest.approx(dense_energy(xi, s), abs=1e-9)
    assert np.array_equal(trace.states, s)


def test_async_energy_trace_reaches_fixed_point():
    rng = np.random.default_rng(3)
    xi = hf.random_patterns(10, 200, rng=rng)
    s0 = pm1(rng, (200,))
    trace = hf.async_energy_trace(xi, s0, 6, rng=rng)
    assert not trace.flipped[-200:].any()
    assert hf.final_period(xi, trace.states) == 1


def test_async_energy_trace_validation():
    rng = np.random.default_rng(0)
    xi = hf.random_patterns(3, 10, rng=rng)
    with pytest.raises(ValueError, match="single state"):
        hf.async_energy_trace(xi, pm1(rng, (2, 10)), 1, rng=rng)
    with pytest.raises(TypeError, match="Generator"):
        hf.async_energy_trace(xi, pm1(rng, (10,)), 1, rng=0)
    with pytest.raises(ValueError, match="n_sweeps"):
        hf.async_energy_trace(xi, pm1(rng, (10,)), 0, rng=rng)


def test_final_period_detects_fixed_points_and_two_cycles():
    rng = np.random.default_rng(1)
    xi = hf.random_patterns(5, 100, rng=rng)
    assert hf.final_period(xi, xi[0]) == 1
    # P = 1 and a state orthogonal to the pattern: h = -s/N, so s -> -s -> s
    xi2 = np.array([[1, 1, 1, 1, -1, -1, -1, -1]], dtype=np.int8)
    s = np.array([1, -1, 1, -1, 1, -1, 1, -1], dtype=np.int8)
    assert list(hf.final_period(xi2, np.stack([s, -s, xi2[0]]))) == [2, 2, 1]
    # random states: the period equals the one found by stepping with the dense couplings, and
    # a random state has not settled (period 0) unless it happens to be a fixed point or cycle
    st_rand = pm1(rng, (200, 100))
    periods = hf.final_period(xi, st_rand)
    expected = []
    for state in st_rand:
        _, one = dense_sync_reference(xi, state, 1)
        _, two = dense_sync_reference(xi, state, 2)
        expected.append(1 if np.array_equal(one, state) else 2 if np.array_equal(two, state) else 0)
    np.testing.assert_array_equal(periods, expected)
    assert np.mean(periods == 0) > 0.9
    settled = hf.simulate(xi, st_rand, 60).states
    assert np.all(hf.final_period(xi, settled) > 0)


def test_final_period_finds_cycles_that_sync_dynamics_produce():
    rng = np.random.default_rng(0)
    xi = hf.random_patterns(20, 200, rng=rng)
    starts = pm1(rng, (400, 200))
    final = hf.simulate(xi, starts, 60).states
    period = hf.final_period(xi, final)
    assert np.all(period > 0)
    assert np.any(period == 2), "no 2-cycles at alpha = 0.1, N = 200 from 400 random starts"
    for k in np.flatnonzero(period == 2)[:5]:
        one = hf.simulate(xi, final[k], 1).states
        two = hf.simulate(xi, one, 1).states
        assert not np.array_equal(one, final[k]) and np.array_equal(two, final[k])


def test_crossing_load():
    assert hf.crossing_load([0.1, 0.2, 0.3], [1.0, 0.6, 0.2], 0.5) == pytest.approx(0.225)
    assert math.isnan(hf.crossing_load([0.1, 0.2, 0.3], [1.0, 0.9, 0.8], 0.5))
    assert math.isnan(hf.crossing_load([0.1, 0.2, 0.3], [0.4, 0.3, 0.2], 0.5))
    # the first downward crossing is used
    assert hf.crossing_load([1, 2, 3, 4], [1.0, 0.0, 1.0, 0.0], 0.5) == pytest.approx(1.5)
    with pytest.raises(ValueError, match="increasing"):
        hf.crossing_load([0.2, 0.1], [1, 0], 0.5)
    with pytest.raises(ValueError, match=r"values must have shape \(2,?\); got shape \(3,\)"):
        hf.crossing_load([0.1, 0.2], [1, 0, 0], 0.5)
    with pytest.raises(ValueError, match="loads must hold at least 2 points"):
        hf.crossing_load([0.1], [1], 0.5)
    with pytest.raises(ValueError, match="values must be finite"):
        hf.crossing_load([0.1, 0.2], [1, np.nan], 0.5)


def test_small_runs_use_one_thread_and_restore_the_thread_count(monkeypatch):
    rng = np.random.default_rng(17)
    xi = hf.random_patterns(5, 40, rng=rng)
    s0 = pm1(rng, (2, 40))
    seen = []
    kernel = hf._async_sweep

    def spy(*args):
        seen.append(numba.get_num_threads())
        return kernel(*args)

    monkeypatch.setattr(hf, "_async_sweep", spy)
    before = numba.get_num_threads()
    hf.simulate(xi, s0, 3, update="async", rng=rng)
    assert seen and set(seen) == {1}
    assert numba.get_num_threads() == before


def test_pixel_patterns_are_pm1_images_with_their_names():
    out = pixel_patterns(size=12, names=("ring", "checker"))
    assert isinstance(out, PixelPatterns)
    assert out.names == ["ring", "checker"]
    assert out.patterns.shape == (2, 144) and out.patterns.dtype == np.int8
    assert set(np.unique(out.patterns)) == {-1, 1}
    # roughly half ink, weakly correlated with each other (usable as memories)
    assert np.all(np.abs(out.patterns.mean(axis=1)) < 0.3)
    assert abs(hf.overlaps(out.patterns[:1], out.patterns[1])[0]) < 0.3
    default = pixel_patterns()
    assert default.patterns.shape == (len(PIXEL_PATTERN_NAMES), 256)
    assert default.names == list(PIXEL_PATTERN_NAMES)
    with pytest.raises(ValueError, match="size must be an integer >= 8"):
        pixel_patterns(size=5)
    with pytest.raises(ValueError, match="unknown image name"):
        pixel_patterns(names=("ring", "moon"))
    with pytest.raises(ValueError, match="at least one image"):
        pixel_patterns(names=())
