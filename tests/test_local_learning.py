"""Tests for memlab.local_learning.

The numba kernels are compared with plain-Python loops built from the public single-step
functions (``rls_update``, ``reward_modulated_update``, ``clapp_update``), and
``clapp_update`` itself with central finite differences of ``clapp_loss``.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from memlab import local_learning as ll

FAST = settings(max_examples=30, deadline=None)


# ---------------------------------------------------------------------------------------------
# naive references
# ---------------------------------------------------------------------------------------------


def python_reservoir(
    res,
    target,
    n_steps,
    rng,
    mode,
    x0,
    *,
    eta0=5e-4,
    tau_eta=20.0,
    tau_avg=0.005,
    state_noise=0.05,
    expl_noise=0.5,
    every=2,
    drive=None,
):
    """Step-by-step reference with the same noise draws (chunk size >= n_steps)."""
    n = res.n_units
    x, w = x0.copy(), np.zeros(n)
    p = np.eye(n)
    z_bar = perf_bar = 0.0
    sn = (
        rng.uniform(-state_noise, state_noise, (n_steps, n))
        if state_noise > 0
        else np.zeros((n_steps, n))
    )
    en = rng.uniform(-expl_noise, expl_noise, n_steps) if expl_noise > 0 else np.zeros(n_steps)
    zs = []
    for k in range(n_steps):
        r = np.tanh(x) + sn[k]
        zh = w @ r
        z = zh + en[k]
        f = target[k % len(target)]
        if mode == "force" and k % every == 0:
            p, w = ll.rls_update(p, w, r, f)
        elif mode == "hebb":
            perf = -((z - f) ** 2)
            eta = ll.learning_rate(k * res.dt, eta0, tau_eta)
            w = w + ll.reward_modulated_update(r, z, z_bar, perf, perf_bar, eta)
            beta = res.dt / tau_avg
            z_bar += beta * (z - z_bar)
            perf_bar += beta * (perf - perf_bar)
        zs.append(z)
        inp = res.gain * res.w_rec @ r + res.w_fb * z
        if drive is not None:
            inp = inp + drive[k % len(drive)]
        x = x + res.dt / res.tau * (inp - x)
    return np.array(zs), w, x


@pytest.fixture(scope="module")
def small():
    rng = np.random.default_rng(3)
    res = ll.make_reservoir(40, rng=rng)
    f = ll.periodic_target(0.2, res.dt, rng=rng, n_harmonics=4)
    drive = ll.backbone_input(ll.bump_backbone(0.2, res.dt, n_wm=10), 40, rng=rng)
    return res, f, drive


# ---------------------------------------------------------------------------------------------
# reservoir construction and inputs
# ---------------------------------------------------------------------------------------------


def test_reservoir_statistics_and_csr_match_dense():
    """Connection fraction p and weight variance 1/(pN), each within 5 standard deviations
    of its estimate (fraction: sqrt(p(1-p)/N^2); sample variance: sqrt(2/k) relative, for k
    connections), and the sparse form equals the dense matrix."""
    n, p = 400, 0.1
    res = ll.make_reservoir(n, rng=np.random.default_rng(0), p_connect=p)
    w = res.w_rec
    assert abs(np.mean(w != 0) - p) < 5 * np.sqrt(p * (1 - p) / n**2)
    k = np.count_nonzero(w)
    assert abs(w[w != 0].var() * p * n - 1) < 5 * np.sqrt(2 / k)
    assert np.all(np.abs(res.w_fb) <= 1)
    r = np.random.default_rng(1).normal(size=400)
    csr = np.array(
        [
            res.data[res.indptr[i] : res.indptr[i + 1]]
            @ r[res.indices[res.indptr[i] : res.indptr[i + 1]]]
            for i in range(400)
        ]
    )
    np.testing.assert_allclose(csr, w @ r, atol=1e-12)


def test_periodic_target_is_normalised_and_periodic():
    f = ll.periodic_target(2.0, 0.001, rng=np.random.default_rng(5))
    assert f.shape == (2000,)
    assert np.isclose(np.max(np.abs(f)), 1.0)
    # continuity across the period boundary: the jump f[0]-f[-1] is as small as a normal step
    assert abs(f[0] - f[-1]) <= 2 * np.max(np.abs(np.diff(f)))


@FAST
@given(st.integers(2, 60), st.floats(0.1, 3.0))
def test_bump_peaks_once_per_period_at_its_phase(n_wm, period):
    dt = period / max(4 * n_wm, 40)
    b = ll.bump_backbone(period, dt, n_wm=n_wm)
    n_t = b.shape[0]
    assert b.shape == (n_t, n_wm)
    assert np.all((b > 0) & (b <= 1))
    peaks = np.argmax(b, axis=0)
    expected = np.arange(n_wm) * n_t / n_wm
    dist = np.abs((peaks - expected + n_t / 2) % n_t - n_t / 2)
    assert np.all(dist <= 1.0)


@pytest.mark.parametrize("p_connect", [0.05, 0.1, 0.3])
def test_backbone_input_sparsity_matches_p_connect(p_connect):
    """With the identity as backbone the input current is W_in^T itself.  Its fraction of
    non-zero entries estimates p_connect from n = N M = 15 000 independent connections, with
    standard deviation sqrt(p(1-p)/n) (at most 0.0038 here): we allow 5 standard deviations.
    The existing weights are N(0, 1): sample variance within 5 s.d. (sqrt(2/k), k weights)."""
    n_units, n_wm = 300, 50
    w_in_t = ll.backbone_input(
        np.eye(n_wm), n_units, rng=np.random.default_rng(1), p_connect=p_connect
    )
    assert w_in_t.shape == (n_wm, n_units)
    fraction = np.mean(w_in_t != 0)
    assert abs(fraction - p_connect) < 5 * np.sqrt(p_connect * (1 - p_connect) / w_in_t.size)
    weights = w_in_t[w_in_t != 0]
    assert abs(weights.var() - 1) < 5 * np.sqrt(2 / weights.size)
    # a real backbone is projected through the same sparse W_in (same generator state)
    bump = ll.bump_backbone(1.0, 0.001, n_wm=n_wm)
    current = ll.backbone_input(
        bump, n_units, rng=np.random.default_rng(1), p_connect=p_connect, scale=2.0
    )
    assert current.shape == (1000, n_units)
    np.testing.assert_allclose(current, 2.0 * bump @ w_in_t, atol=1e-12)


def test_backbone_input_is_dense_at_p_connect_one():
    w_in_t = ll.backbone_input(np.eye(20), 30, rng=np.random.default_rng(2), p_connect=1.0)
    assert np.all(w_in_t != 0)


# ---------------------------------------------------------------------------------------------
# single-step rules
# ---------------------------------------------------------------------------------------------


@FAST
@given(st.integers(0, 10_000), st.integers(1, 12), st.floats(0.1, 10.0))
def test_rls_update_is_sherman_morrison_and_reduces_error(seed, n, alpha):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, n))
    p0 = np.linalg.inv(a @ a.T + np.eye(n)) / alpha
    w, r, f = rng.normal(size=n), rng.normal(size=n), rng.normal()
    p1, w1 = ll.rls_update(p0, w, r, f)
    np.testing.assert_allclose(
        p1, np.linalg.inv(np.linalg.inv(p0) + np.outer(r, r)), rtol=1e-7, atol=1e-9
    )
    np.testing.assert_allclose(p1, p1.T, atol=1e-12)
    # the a-posteriori error is the a-priori error shrunk by 1/(1 + r'Pr) (< 1 in size)
    e0, e1 = w @ r - f, w1 @ r - f
    assert np.isclose(e1, e0 / (1 + r @ p0 @ r))
    assert abs(e1) <= abs(e0) + 1e-12


@FAST
@given(st.integers(0, 10_000), st.integers(1, 20), st.integers(1, 3))
def test_reward_update_gated_and_parallel_to_rates(seed, n, k):
    rng = np.random.default_rng(seed)
    r = rng.normal(size=n)
    z, z_bar = rng.normal(size=k), rng.normal(size=k)
    perf = rng.normal()
    worse = ll.reward_modulated_update(r, z, z_bar, perf, perf + abs(rng.normal()), 0.1)
    assert np.all(worse == 0)
    equal = ll.reward_modulated_update(r, z, z_bar, perf, perf, 0.1)
    assert np.all(equal == 0)
    better = ll.reward_modulated_update(r, z, z_bar, perf, perf - 0.5, 0.1)
    assert better.shape == (k, n)
    np.testing.assert_allclose(better, 0.1 * np.outer(z - z_bar, r))
    assert np.linalg.matrix_rank(better) <= 1
    scalar = ll.reward_modulated_update(r, z[0], z_bar[0], perf, perf - 0.5, 0.1)
    assert scalar.shape == (n,)


def test_learning_rate_halves_at_tau_eta():
    assert ll.learning_rate(20.0, 5e-4, 20.0) == pytest.approx(2.5e-4)
    assert ll.learning_rate(0.0, 5e-4, 20.0) == pytest.approx(5e-4)
    assert np.all(np.diff(ll.learning_rate(np.linspace(0, 100, 11))) < 0)


# ---------------------------------------------------------------------------------------------
# kernels against python loops
# ---------------------------------------------------------------------------------------------


def test_force_kernel_matches_python_loop(small):
    res, f, _ = small
    x0 = np.random.default_rng(9).normal(0, 0.5, 40)
    run = ll.train_force(
        res, f, 0.3, rng=np.random.default_rng(2), initial_states=x0, update_every=2
    )
    z_ref, w_ref, x_ref = python_reservoir(
        res, f, 300, np.random.default_rng(2), "force", x0, state_noise=0, expl_noise=0, every=2
    )
    np.testing.assert_allclose(run.z, z_ref, atol=1e-9)
    np.testing.assert_allclose(run.w_out, w_ref, atol=1e-9)
    np.testing.assert_allclose(run.states, x_ref, atol=1e-9)


@pytest.mark.parametrize("with_drive", [False, True])
def test_hebbian_kernel_matches_python_loop(small, with_drive):
    res, f, drive = small
    d = drive if with_drive else None
    x0 = np.random.default_rng(9).normal(0, 0.5, 40)
    run = ll.train_reward_hebbian(
        res,
        f,
        0.5,
        rng=np.random.default_rng(4),
        initial_states=x0,
        eta0=0.05,
        tau_eta=0.1,
        backbone=d,
    )
    z_ref, w_ref, x_ref = python_reservoir(
        res, f, 500, np.random.default_rng(4), "hebb", x0, eta0=0.05, tau_eta=0.1, drive=d
    )
    np.testing.assert_allclose(run.z, z_ref, atol=1e-9)
    np.testing.assert_allclose(run.w_out, w_ref, atol=1e-9)
    assert np.any(run.w_out != 0)
    np.testing.assert_allclose(run.weight_norm[-1], np.linalg.norm(w_ref), atol=1e-9)


def test_free_run_is_deterministic_and_continues_phase(small):
    res, f, drive = small
    run = ll.train_reward_hebbian(res, f, 0.3, rng=np.random.default_rng(1), backbone=drive)
    a = ll.free_run(res, run, f, 0.2, backbone=drive)
    b = ll.free_run(res, run, f, 0.2, backbone=drive)
    np.testing.assert_array_equal(a.z, b.z)
    assert a.step == run.step + 200
    np.testing.assert_array_equal(a.w_out, run.w_out)


# ---------------------------------------------------------------------------------------------
# learning outcomes (the specific tests)
# ---------------------------------------------------------------------------------------------


def test_force_learns_a_sine():
    rng = np.random.default_rng(0)
    res = ll.make_reservoir(200, rng=rng)
    f = ll.sine_target(0.5, res.dt)
    run = ll.train_force(res, f, 5.0, rng=rng)
    err, z, target = ll.test_error(res, run, f, 4)
    assert err < 0.01
    # before training (zero readout) the error is 1 (z = 0 against a zero-mean target)
    assert ll.nmse(np.zeros_like(target), target) == pytest.approx(1.0, rel=1e-6)


def test_backbone_rescues_hebbian_learning_on_a_long_target():
    """Two seeds, 4-s target, 40 s of training, N = 200: WM helps by a large factor."""
    with_wm, without = [], []
    for seed in range(2):
        rng = np.random.default_rng(seed)
        res = ll.make_reservoir(200, rng=rng)
        f = ll.periodic_target(4.0, res.dt, rng=rng)
        bb = ll.backbone_input(ll.bump_backbone(4.0, res.dt), 200, rng=rng)
        for drive, out in ((bb, with_wm), (None, without)):
            run = ll.train_reward_hebbian(
                res, f, 40.0, rng=np.random.default_rng(seed + 100), backbone=drive
            )
            out.append(ll.test_error(res, run, f, 2, backbone=drive)[0])
    assert np.mean(with_wm) < 0.05, with_wm
    assert np.mean(without) > 3 * np.mean(with_wm), (without, with_wm)


# ---------------------------------------------------------------------------------------------
# CLAPP
# ---------------------------------------------------------------------------------------------


def _fd_grad(fun, arr, h=1e-6):
    g = np.zeros_like(arr)
    for idx in np.ndindex(arr.shape):
        a1, a2 = arr.copy(), arr.copy()
        a1[idx] += h
        a2[idx] -= h
        g[idx] = (fun(a1) - fun(a2)) / (2 * h)
    return g


@FAST
@given(st.integers(0, 100_000), st.sampled_from([-1, 1]), st.integers(2, 6), st.integers(2, 7))
def test_clapp_update_equals_minus_loss_gradient(seed, y, h, d):
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(h, d))
    wp = rng.normal(size=(h, h)) * 0.3
    x_prev, x = rng.normal(size=d), rng.normal(size=d)
    # stay away from the ReLU and hinge kinks, where the gradient is not defined
    assume(np.min(np.abs(w @ x)) > 1e-3 and np.min(np.abs(w @ x_prev)) > 1e-3)
    u = ll.clapp_score(w, wp, x_prev, x)
    assume(abs(1 - y * u) > 1e-3)
    dw, dwp = ll.clapp_update(w, wp, x_prev, x, y)
    gw = _fd_grad(lambda a: ll.clapp_loss(a, wp, x_prev, x, y), w)
    gwp = _fd_grad(lambda a: ll.clapp_loss(w, a, x_prev, x, y), wp)
    scale_w = max(np.abs(gw).max(), 1e-12)
    scale_p = max(np.abs(gwp).max(), 1e-12)
    assert np.abs(dw + gw).max() / scale_w < 1e-6 or np.abs(dw + gw).max() < 1e-9
    assert np.abs(dwp + gwp).max() / scale_p < 1e-6 or np.abs(dwp + gwp).max() < 1e-9


def test_clapp_update_nonzero_case_checked_explicitly():
    """One hand-picked case with active units and an unmet margin: relative error < 1e-6."""
    rng = np.random.default_rng(11)
    w = np.abs(rng.normal(size=(3, 4)))
    wp = np.abs(rng.normal(size=(3, 3))) * 0.1
    x_prev, x = np.abs(rng.normal(size=4)), np.abs(rng.normal(size=4))
    u = ll.clapp_score(w, wp, x_prev, x)
    assert 1 + u > 0 and u > 0  # y = -1 with u > 0: margin violated, gradient non-zero
    dw, dwp = ll.clapp_update(w, wp, x_prev, x, -1)
    gw = _fd_grad(lambda a: ll.clapp_loss(a, wp, x_prev, x, -1), w)
    gwp = _fd_grad(lambda a: ll.clapp_loss(w, a, x_prev, x, -1), wp)
    assert np.abs(dw).max() > 0.01
    assert np.abs(dw + gw).max() / np.abs(gw).max() < 1e-6
    assert np.abs(dwp + gwp).max() / np.abs(gwp).max() < 1e-6


def test_clapp_update_is_zero_when_margin_met():
    w = np.eye(3, 4) * 2
    wp = np.eye(3)
    x = np.array([1.0, 1.0, 0.0, 0.0])
    assert ll.clapp_score(w, wp, x, x) == pytest.approx(8.0)
    dw, dwp = ll.clapp_update(w, wp, x, x, +1)  # y u = 8 > 1
    assert np.all(dw == 0) and np.all(dwp == 0)
    assert ll.clapp_loss(w, wp, x, x, +1) == 0.0
    assert ll.clapp_loss(w, wp, x, x, -1) == pytest.approx(9.0)


def test_clapp_kernel_matches_python_loop():
    rng = np.random.default_rng(2)
    protos = ll.object_prototypes(rng=rng, dim=8, n_signal=3)
    stream = ll.object_stream(protos, 300, rng=rng)
    w0, p0 = ll.init_clapp(8, 4, rng=rng)
    w, p, agree = ll.train_clapp(w0, p0, stream, eta=0.01)
    wr, pr = w0.copy(), p0.copy()
    for t in range(1, 300):
        u = ll.clapp_score(wr, pr, stream.x[t - 1], stream.x[t])
        assert agree[t - 1] == float(u * stream.y[t] > 0)
        dw, dp = ll.clapp_update(wr, pr, stream.x[t - 1], stream.x[t], stream.y[t])
        wr, pr = wr + 0.01 * dw, pr + 0.01 * dp
    np.testing.assert_allclose(w, wr, atol=1e-10)
    np.testing.assert_allclose(p, pr, atol=1e-10)


def test_object_stream_saccades_change_object():
    rng = np.random.default_rng(0)
    protos = ll.object_prototypes(rng=rng)
    s = ll.object_stream(protos, 5000, rng=rng)
    change = s.objects[1:] != s.objects[:-1]
    np.testing.assert_array_equal(change, s.y[1:] == -1)
    assert abs(change.mean() - 0.5) < 0.03
    assert np.all(protos[:, 5:] == 0)
    # nuisance dimensions dominate the input variance
    assert s.x[:, 5:].var(axis=0).sum() > 5 * s.x[:, :5].var(axis=0).sum()


def test_clapp_training_beats_random_encoder():
    acc_clapp, acc_rand = [], []
    for seed in range(3):
        rng = np.random.default_rng(seed)
        protos = ll.object_prototypes(rng=rng)
        stream = ll.object_stream(protos, 60_000, rng=rng)
        tr = ll.object_stream(protos, 2000, rng=rng)
        te = ll.object_stream(protos, 2000, rng=rng)
        w0, p0 = ll.init_clapp(20, 6, rng=rng)
        w, _, _ = ll.train_clapp(w0, p0, stream)
        for weights, out in ((w, acc_clapp), (w0, acc_rand)):
            out.append(
                ll.decoding_accuracy(
                    ll.encode(weights, tr.x), tr.objects, ll.encode(weights, te.x), te.objects
                )
            )
    assert np.median(acc_clapp) >= 0.7
    assert np.median(acc_clapp) >= np.median(acc_rand) + 0.3


def test_decoding_accuracy_perfect_and_chance():
    labels = np.repeat(np.arange(4), 50)
    feats = np.eye(4)[labels] * 3.0
    assert ll.decoding_accuracy(feats, labels, feats, labels) == 1.0
    noise = np.random.default_rng(0).normal(size=(200, 3))
    acc = ll.decoding_accuracy(noise[:100], labels[:100], noise[100:], labels[100:])
    assert acc < 0.6


# ---------------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------------


def test_bad_input_raises_clear_errors(small):
    res, f, drive = small
    rng = np.random.default_rng(0)
    with pytest.raises(TypeError, match="Generator"):
        ll.make_reservoir(10, rng=0)
    with pytest.raises(TypeError, match="positional"):
        ll.make_reservoir(10, rng)  # rng is keyword-only
    with pytest.raises(ValueError, match="n_units"):
        ll.make_reservoir(1, rng=rng)
    with pytest.raises(ValueError, match="dt must not exceed tau"):
        ll.make_reservoir(10, rng=rng, dt=0.1, tau=0.05)
    with pytest.raises(ValueError, match="p_connect"):
        ll.make_reservoir(10, rng=rng, p_connect=0.0)
    with pytest.raises(ValueError, match="period must span at least 4"):
        ll.periodic_target(0.003, 0.001, rng=rng)
    with pytest.raises(ValueError, match=r"backbone must have shape \(T, N\)"):
        ll.train_reward_hebbian(res, f, 0.1, rng=rng, backbone=np.zeros((len(f), 3)))
    with pytest.raises(ValueError, match="one target period"):
        ll.train_reward_hebbian(res, f, 0.1, rng=rng, backbone=drive[:-1])
    with pytest.raises(ValueError, match="target must be finite"):
        ll.train_force(res, np.full(10, np.nan), 0.1, rng=rng)
    with pytest.raises(ValueError, match=r"initial_states must have shape \(40,?\)"):
        ll.train_force(res, f, 0.1, rng=rng, initial_states=np.zeros(3))
    with pytest.raises(TypeError, match="Reservoir"):
        ll.train_force("res", f, 0.1, rng=rng)
    with pytest.raises(ValueError, match="duration"):
        ll.train_force(res, f, -1.0, rng=rng)
    with pytest.raises(ValueError, match="tau_avg"):
        ll.train_reward_hebbian(res, f, 0.1, rng=rng, tau_avg=0.0)
    with pytest.raises(TypeError, match="ReadoutRun"):
        ll.free_run(res, (np.zeros(40), np.zeros(40)), f, 0.1)
    with pytest.raises(ValueError, match=r"p_matrix must have shape \(4, 4\)"):
        ll.rls_update(np.eye(3), np.zeros(4), np.zeros(4), 0.0)
    with pytest.raises(ValueError, match="t must be finite and >= 0"):
        ll.learning_rate(-1.0)
    with pytest.raises(ValueError, match="y must be"):
        ll.clapp_update(np.ones((2, 3)), np.eye(2), np.ones(3), np.ones(3), 0.5)
    with pytest.raises(ValueError, match="W_pred"):
        ll.clapp_loss(np.ones((2, 3)), np.eye(3), np.ones(3), np.ones(3), 1)
    with pytest.raises(TypeError, match="ObjectStream"):
        ll.train_clapp(np.ones((2, 3)), np.eye(2), np.ones((5, 3)))
    bad_labels = ll.ObjectStream(np.ones((5, 3)), np.zeros(5, int), np.array([1, 1, 0, -1, 1.0]))
    with pytest.raises(ValueError, match="stream.y must contain only -1 and \\+1"):
        ll.train_clapp(np.ones((2, 3)), np.eye(2), bad_labels)
    with pytest.raises(ValueError, match=r"x must have shape \(any, 3\)"):
        ll.encode(np.ones((2, 3)), np.ones((5, 4)))
    with pytest.raises(TypeError, match="integer class labels"):
        ll.decoding_accuracy(np.ones((3, 2)), np.ones(3), np.ones((3, 2)), np.zeros(3, int))
    with pytest.raises(ValueError, match="constant"):
        ll.nmse(np.ones(5), np.ones(5))
    with pytest.raises(TypeError, match="real numbers"):
        ll.reward_modulated_update(np.array(["a"]), 1.0, 0.0, 0.0, 0.0, 0.1)


def test_results_are_named():
    rng = np.random.default_rng(1)
    step = ll.rls_update(np.eye(2), np.zeros(2), np.ones(2), 1.0)
    assert step._fields == ("p_matrix", "w_out")
    weights = ll.init_clapp(4, 3, rng=rng)
    assert weights.w.shape == (3, 4) and np.array_equal(weights.w_pred, 0.1 * np.eye(3))
    update = ll.clapp_update(weights.w, weights.w_pred, np.ones(4), np.ones(4), -1)
    assert update._fields == ("d_w", "d_w_pred")
    stream = ll.object_stream(ll.object_prototypes(rng=rng, dim=4, n_signal=2), 20, rng=rng)
    run = ll.train_clapp(weights.w, weights.w_pred, stream)
    assert run._fields == ("w", "w_pred", "agree") and run.agree.shape == (19,)


# ---------------------------------------------------------------------------------------------
# two stacked CLAPP layers: per-layer losses (no error between layers) against backprop
# ---------------------------------------------------------------------------------------------


def _stack_case(seed, t_len=400):
    rng = np.random.default_rng(seed)
    protos = ll.object_prototypes(rng=rng, n_objects=3, dim=8, n_signal=3)
    stream = ll.object_stream(protos, t_len, rng=rng)
    return stream, ll.init_clapp(8, 5, rng=rng), ll.init_clapp(5, 3, rng=rng, pred_scale=0.3)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_clapp_stack_layer1_is_the_layer_trained_alone(seed):
    stream, layer1, layer2 = _stack_case(seed)
    alone = ll.train_clapp(*layer1, stream, eta=0.01)
    stack = ll.train_clapp_two_layers(layer1, layer2, stream, 0.01)
    np.testing.assert_array_equal(stack.layer1.w, alone.w)
    np.testing.assert_array_equal(stack.layer1.w_pred, alone.w_pred)
    np.testing.assert_array_equal(stack.agree[0], alone.agree)
    # layer 2 learned something, and perturbing it leaves layer 1 bit-for-bit unchanged
    assert not np.array_equal(stack.layer2.w, layer2.w)
    labels = np.where(np.random.default_rng(seed).random(len(stream.y)) < 0.5, -1, 1)
    redrawn = ll.init_clapp(5, 3, rng=np.random.default_rng(99))
    for l2, lab in ((layer2, labels), (redrawn, None)):
        other = ll.train_clapp_two_layers(layer1, l2, stream, 0.01, labels2=lab)
        np.testing.assert_array_equal(other.layer1.w, alone.w)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_clapp_stack_backprop_sends_layer2_error_down(seed):
    stream, layer1, layer2 = _stack_case(seed)
    labels = np.where(np.random.default_rng(seed).random(len(stream.y)) < 0.5, -1, 1)
    base = ll.train_clapp_two_layers(layer1, layer2, stream, 0.01, backprop=True)
    other = ll.train_clapp_two_layers(layer1, layer2, stream, 0.01, backprop=True, labels2=labels)
    change = np.abs(other.layer1.w - base.layer1.w).max() / np.abs(base.layer1.w).max()
    assert change > 1e-3


def _stack_loss(w1, p1, w2, p2, x_prev, x, y1, y2):
    h_prev, h = np.maximum(w1 @ x_prev, 0), np.maximum(w1 @ x, 0)
    return ll.clapp_loss(w1, p1, x_prev, x, y1) + ll.clapp_loss(w2, p2, h_prev, h, y2)


@FAST
@given(st.integers(0, 100_000), st.sampled_from([-1, 1]), st.sampled_from([-1, 1]))
def test_clapp_stack_one_step_is_minus_the_gradient(seed, y1, y2):
    rng = np.random.default_rng(seed)
    w1, p1 = rng.normal(size=(4, 5)), 0.3 * rng.normal(size=(4, 4))
    w2, p2 = rng.normal(size=(3, 4)), 0.3 * rng.normal(size=(3, 3))
    x_prev, x = rng.normal(size=5), rng.normal(size=5)
    h_prev, h = np.maximum(w1 @ x_prev, 0), np.maximum(w1 @ x, 0)
    # stay away from the kinks of the ReLUs and of both hinges
    assume(np.min(np.abs(w1 @ x)) > 1e-3 and np.min(np.abs(w1 @ x_prev)) > 1e-3)
    assume(np.min(np.abs(w2 @ h)) > 1e-3 and np.min(np.abs(w2 @ h_prev)) > 1e-3)
    assume(abs(1 - y1 * ll.clapp_score(w1, p1, x_prev, x)) > 1e-3)
    assume(abs(1 - y2 * ll.clapp_score(w2, p2, h_prev, h)) > 1e-3)
    frames = ll.ObjectStream(np.stack([x_prev, x]), np.zeros(2, dtype=int), np.array([1.0, y1]))
    labels2 = np.array([1.0, y2])
    eta = 1e-3
    for backprop in (False, True):
        run = ll.train_clapp_two_layers(
            (w1, p1), (w2, p2), frames, eta, backprop=backprop, labels2=labels2
        )
        if backprop:
            loss = lambda a: _stack_loss(a, p1, w2, p2, x_prev, x, y1, y2)  # noqa: E731
        else:
            loss = lambda a: ll.clapp_loss(a, p1, x_prev, x, y1)  # noqa: E731
        grad = _fd_grad(loss, w1)
        np.testing.assert_allclose((run.layer1.w - w1) / eta, -grad, atol=1e-5, rtol=1e-5)
        own = ll.clapp_update(w1, p1, x_prev, x, y1)
        np.testing.assert_allclose((run.layer1.w_pred - p1) / eta, own.d_w_pred, atol=1e-9)
        step2 = ll.clapp_update(w2, p2, h_prev, h, y2)
        np.testing.assert_allclose((run.layer2.w - w2) / eta, step2.d_w, atol=1e-9)
        np.testing.assert_allclose((run.layer2.w_pred - p2) / eta, step2.d_w_pred, atol=1e-9)


def test_clapp_stack_validation():
    stream, layer1, layer2 = _stack_case(0, t_len=20)
    with pytest.raises(TypeError, match="ObjectStream"):
        ll.train_clapp_two_layers(layer1, layer2, stream.x)
    with pytest.raises(TypeError, match="backprop"):
        ll.train_clapp_two_layers(layer1, layer2, stream, backprop="yes")
    with pytest.raises(TypeError, match="layer2 must be a pair"):
        ll.train_clapp_two_layers(layer1, layer2.w, stream)
    with pytest.raises(ValueError, match="one column per unit of layer 1"):
        ll.train_clapp_two_layers(layer1, ll.init_clapp(4, 3, rng=np.random.default_rng(0)), stream)
    with pytest.raises(ValueError, match="labels2"):
        ll.train_clapp_two_layers(layer1, layer2, stream, labels2=np.ones(5))
    with pytest.raises(ValueError):
        ll.train_clapp_two_layers(layer1, layer2, stream, labels2=np.zeros(20))
