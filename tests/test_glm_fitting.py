"""Tests for memlab.glm_fitting (Bellec et al. 2021, sample-and-measure losses)."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from memlab import glm_fitting as gf


def _small(seed=3, n=4, m=3, d=2, t=30):
    rng = np.random.default_rng(seed)
    params = gf.random_params(n, m, d, rng=rng, bias=-1.0)
    x = rng.normal(size=(t, m))
    data = gf.simulate(gf.random_params(n, m, d, rng=rng), x, 20, rng=rng).spikes
    return params, x, data


def _shifted(params, which, index, eps):
    arrays = [a.copy() for a in params]
    arrays[which][index] += eps
    return gf.GLMParams(*arrays)


def _numeric_gradient(loss, params, eps=1e-6):
    out = []
    for which, array in enumerate(params):
        g = np.zeros_like(array)
        for index in np.ndindex(array.shape):
            plus = loss(_shifted(params, which, index, eps))
            minus = loss(_shifted(params, which, index, -eps))
            g[index] = (plus - minus) / (2 * eps)
        out.append(g)
    return out


def _flat(params):
    return np.concatenate([np.ravel(a) for a in params])


# --- gradients --------------------------------------------------------------------------------


def test_nll_gradient_matches_finite_differences():
    params, x, data = _small()
    exact = gf.negative_log_likelihood(params, data, x).gradient
    numeric = _numeric_gradient(lambda p: gf.negative_log_likelihood(p, data, x).loss, params)
    for a, b in zip(exact, numeric):
        assert_allclose(a, b, atol=1e-8)


@pytest.mark.parametrize("mu_nc", [0.0, 5.0])
def test_sample_and_measure_gradient_with_spikes_held_fixed(mu_nc):
    # gamma = 0 cuts the path through the spikes: the result is then the exact derivative of the
    # loss with the sampled spikes held fixed, which finite differences with the same uniforms
    # (same seed) measure, as long as no spike flips (eps small).
    params, x, data = _small()
    psth, cov = gf.psth(data), gf.noise_covariance(data)

    def run(p):
        return gf.sample_and_measure(
            p, x, psth, cov, 5, rng=np.random.default_rng(1), mu_nc=mu_nc, gamma=0.0
        )

    numeric = _numeric_gradient(lambda p: run(p).loss, params)
    for a, b in zip(run(params).gradient, numeric):
        assert_allclose(a, b, atol=1e-8)


@pytest.mark.parametrize("gamma", [0.0, 0.5, 1.0])
def test_numba_and_numpy_backends_agree(gamma):
    params, x, data = _small()
    args = (params, x, gf.psth(data), gf.noise_covariance(data), 6)
    a = gf.sample_and_measure(*args, rng=np.random.default_rng(2), gamma=gamma, mu_nc=3.0)
    b = gf.sample_and_measure(
        *args, rng=np.random.default_rng(2), gamma=gamma, mu_nc=3.0, backend="numpy"
    )
    assert a.loss == pytest.approx(b.loss, abs=1e-14)
    for u, v in zip(a.gradient, b.gradient):
        assert_allclose(u, v, atol=1e-14)


def _pseudo_versus_exact(mu_psth, mu_nc, n_samples):
    rng = np.random.default_rng(11)
    x = rng.normal(size=(4, 1))
    params = gf.GLMParams(
        np.array([[0.5], [-0.3]]),
        np.array([[[-0.5, 1.0], [0.8, -0.5]]]),
        np.array([-0.5, 0.0]),
    )
    psth = np.full((4, 2), 0.6)
    cov = np.array([[0.2, 0.05], [0.05, 0.2]])
    exact = _flat(
        _numeric_gradient(
            lambda p: gf.expected_loss(p, x, psth, cov, 2, mu_psth=mu_psth, mu_nc=mu_nc),
            params,
            eps=1e-5,
        )
    )
    sample_rng = np.random.default_rng(0)
    pseudo = np.mean(
        [
            _flat(
                gf.sample_and_measure(
                    params, x, psth, cov, 2, rng=sample_rng, mu_psth=mu_psth, mu_nc=mu_nc
                ).gradient
            )
            for _ in range(n_samples)
        ],
        axis=0,
    )
    cosine = exact @ pseudo / np.linalg.norm(exact) / np.linalg.norm(pseudo)
    return cosine, np.linalg.norm(pseudo - exact) / np.linalg.norm(exact)


@pytest.mark.slow
def test_pseudo_gradient_of_psth_loss_approximates_expected_loss_gradient():
    # measured with these 4000 samples: cosine 1.000, relative error 0.005
    cosine, rel = _pseudo_versus_exact(1.0, 0.0, 4000)
    assert cosine > 0.995
    assert rel < 0.05


@pytest.mark.slow
def test_pseudo_gradient_of_noise_correlation_loss_points_the_right_way():
    # measured with these 4000 samples: cosine 0.85, relative error 0.61 (a biased estimator)
    cosine, rel = _pseudo_versus_exact(0.0, 1.0, 4000)
    assert cosine > 0.7
    assert rel < 0.9


# --- sampling, losses --------------------------------------------------------------------------


def test_sampling_reproduces_firing_probabilities():
    params, x, _ = _small(seed=5, n=3, t=40)
    sample = gf.simulate(params, x, 4000, rng=np.random.default_rng(6))
    z, p = sample.spikes.astype(float), sample.probabilities
    # given the history, a spike has probability p: z - p has mean 0 in every bin
    resid = (z - p).mean(axis=0)
    se = np.sqrt((p * (1 - p)).mean(axis=0) / z.shape[0])
    assert np.all(np.abs(resid) < 5 * se)
    assert abs((z - p).mean()) < 3 * np.sqrt((p * (1 - p)).mean() / z.size)


def test_probabilities_follow_the_model_equation():
    params, x, _ = _small(seed=5, n=3, t=20)
    sample = gf.simulate(params, x, 3, rng=np.random.default_rng(6))
    z = sample.spikes.astype(float)
    u = x @ params.w_in.T + params.bias + np.zeros_like(z)
    for d in range(1, params.w_rec.shape[0] + 1):
        u[:, d:] += z[:, :-d] @ params.w_rec[d - 1].T
    assert_allclose(sample.probabilities, 1 / (1 + np.exp(-u)), rtol=1e-12)


def test_losses_vanish_when_statistics_coincide():
    rng = np.random.default_rng(0)
    a = rng.random((10, 3))
    c = np.cov(rng.random((3, 50)) < 0.3)
    assert gf.psth_loss(a, a) == 0.0
    assert gf.noise_correlation_loss(c, c) == 0.0
    # without recurrence the model's PSTH is deterministic: the unbiased PSTH loss is then 0
    params = gf.random_params(3, 2, 1, rng=rng)
    params = params._replace(w_rec=np.zeros_like(params.w_rec))
    x = rng.normal(size=(5, 2))
    target = 1 / (1 + np.exp(-(x @ params.w_in.T + params.bias)))
    out = gf.sample_and_measure(params, x, target, c, 4, rng=rng, mu_nc=0.0)
    assert abs(out.loss) < 1e-15
    assert all(np.all(np.abs(g) < 1e-15) for g in out.gradient)
    assert abs(gf.expected_loss(params, x[:2], target[:2], c, 2, mu_nc=0.0)) < 1e-15


def test_unbiased_psth_loss_is_unbiased():
    # E[(pbar - y)^2 - s^2/M] = (E p - y)^2: compare the exact expectation with a direct sum
    params, x, _ = _small(seed=2, n=2, m=1, d=1, t=3)
    target = np.full((3, 2), 0.3)
    exact = gf.expected_loss(params, x, target, np.eye(2), 2, mu_nc=0.0)
    many = gf.simulate(params, x, 200_000, rng=np.random.default_rng(1)).probabilities
    assert exact == pytest.approx(np.mean((many.mean(0) - target) ** 2), abs=2e-4)


def test_noise_covariance_of_independent_trials():
    z = (np.random.default_rng(0).random((3000, 5, 2)) < 0.3).astype(np.uint8)
    c = gf.noise_covariance(z)
    assert_allclose(np.diag(c), 0.21, atol=0.01)
    assert abs(c[0, 1]) < 0.01


# --- fitting -----------------------------------------------------------------------------------


def test_mle_recovers_a_well_specified_glm():
    # a seed the chapter does not use
    rng = np.random.default_rng(987_654)
    truth = gf.random_params(4, 2, 2, rng=rng, bias=-2.0, scale=0.8)
    x = gf.lagged_stimulus(rng.normal(size=(100, 2)), 0)
    data = gf.simulate(truth, x, 600, rng=rng).spikes
    fit = gf.fit(data, x, 2, rng=rng, l2=0.0)
    err = np.abs(_flat(fit.params) - _flat(truth))
    # measured: largest error 0.11, mean 0.029; largest 2.4 standard errors, median 0.55
    assert err.max() < 0.3, err.max()
    assert err.mean() < 0.08, err.mean()
    z = err / _flat(gf.standard_errors(fit.params, data, x))
    assert z.max() < 4.0, z.max()
    assert 0.3 < np.median(z) < 1.1, np.median(z)


def test_fit_is_reproducible_and_improves_the_psth():
    rng = np.random.default_rng(21)
    truth = gf.hidden_network(4, 10, 40, rng=rng)
    x = gf.lagged_stimulus(truth.stimulus, 1)
    data = gf.simulate(truth.params, truth.stimulus, 80, rng=rng).spikes[:, :, :4]
    mle = gf.fit(data, x, 2, rng=rng)
    a = gf.fit(data, x, 2, rng=np.random.default_rng(4), mu_psth=50, init=mle.params, n_steps=40)
    b = gf.fit(data, x, 2, rng=np.random.default_rng(4), mu_psth=50, init=mle.params, n_steps=40)
    assert _flat(a.params).tolist() == _flat(b.params).tolist()
    assert a.losses.shape == a.nll.shape == (40,)
    assert a.n_evaluations == 40
    assert np.all(a.losses >= a.nll - 1.0)


def test_lagged_stimulus():
    x = np.arange(6.0).reshape(3, 2)
    out = gf.lagged_stimulus(x, 1)
    assert_allclose(out, [[0, 1, 0, 0], [2, 3, 0, 1], [4, 5, 2, 3]])


# --- validation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spikes, match",
    [
        (np.zeros((2, 5)), "3-dimensional"),
        (np.zeros((0, 5, 2)), "no trials"),
        (np.zeros((2, 0, 2)), "no time bins"),
        (np.full((2, 5, 2), 2.0), "only 0 and 1"),
        (np.full((2, 5, 2), np.nan), "finite"),
    ],
)
def test_bad_spikes(spikes, match):
    x = np.zeros((5, 1))
    with pytest.raises(ValueError, match=match):
        gf.negative_log_likelihood(gf.zero_params(2, 1, 1), spikes, x)


def test_bad_params_and_stimulus():
    spikes = np.zeros((3, 5, 2))
    x = np.zeros((5, 1))
    p = gf.zero_params(2, 1, 1)
    with pytest.raises(TypeError, match="GLMParams"):
        gf.negative_log_likelihood("params", spikes, x)
    with pytest.raises(ValueError, match="finite"):
        gf.negative_log_likelihood(p._replace(bias=np.array([np.inf, 0.0])), spikes, x)
    with pytest.raises(ValueError, match="params describe 2 neurons"):
        gf.negative_log_likelihood(p, np.zeros((3, 5, 3)), x)
    with pytest.raises(ValueError, match="time bins"):
        gf.negative_log_likelihood(p, spikes, np.zeros((4, 1)))
    with pytest.raises(ValueError, match="input columns"):
        gf.simulate(p, np.zeros((5, 2)), 2, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="shape"):
        gf.simulate(p._replace(w_rec=np.zeros((1, 2, 3))), x, 2, rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match="Generator"):
        gf.simulate(p, x, 2, rng=0)
    with pytest.raises(ValueError, match=">= 1"):
        gf.simulate(p, x, 0, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="at least 2 trials"):
        gf.noise_covariance(np.zeros((1, 5, 2)))
    with pytest.raises(ValueError, match="at least 2 recorded trials"):
        gf.fit(np.zeros((1, 5, 2)), x, 1, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="backend"):
        gf.sample_and_measure(
            p, x, np.zeros((5, 2)), np.eye(2), 2, rng=np.random.default_rng(0), backend="c"
        )
    with pytest.raises(ValueError, match="mu_psth"):
        gf.fit(spikes, x, 1, rng=np.random.default_rng(0), mu_psth=-1.0)
    with pytest.raises(ValueError, match="too many"):
        gf.expected_loss(p, np.zeros((5, 1)), np.zeros((5, 2)), np.eye(2), 2)


def test_bool_spikes_are_refused_and_uint8_accepted():
    x = np.zeros((5, 1))
    with pytest.raises(TypeError, match="astype"):
        gf.negative_log_likelihood(gf.zero_params(2, 1, 1), np.ones((3, 5, 2), bool), x)
    a = gf.negative_log_likelihood(gf.zero_params(2, 1, 1), np.ones((3, 5, 2), np.uint8), x)
    assert a.loss == pytest.approx(np.log(2))


def test_out_of_range_statistics_and_parameters():
    p = gf.zero_params(2, 1, 1)
    x = np.zeros((5, 1))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        gf.psth_loss(np.full((5, 2), 2.0), np.zeros((5, 2)))
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        gf.noise_correlation_loss(np.eye(2) * 3, np.eye(2))
    with pytest.raises(ValueError, match="saturate"):
        gf.simulate(p._replace(bias=np.array([1e4, 0.0])), x, 2, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="gamma"):
        gf.sample_and_measure(
            p, x, np.zeros((5, 2)), np.eye(2) * 0.1, 2, rng=np.random.default_rng(0), gamma=1e9
        )
