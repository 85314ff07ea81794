"""Tests for memlab.surprise (Liakoni et al. 2021, Bayes factor surprise)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy.stats import norm

from memlab import surprise as su

GAUSS = dict(sigma=1.0)
CAT = dict(concentration=1.0, n_categories=5)


def _gauss(n=300, sigma=1.0, p_change=0.1, seed=0):
    return su.gaussian_task(n, sigma, p_change, rng=np.random.default_rng(seed))


def _cat(n=300, s=1.0, p_change=0.1, seed=0, k=5):
    return su.categorical_task(n, k, s, p_change, rng=np.random.default_rng(seed))


def _all_learners(y, p_change, model, rng_seed=0):
    """Every learner applicable to the model (dict of kwargs), as name -> BeliefTrace."""
    out = {
        "exact": su.exact_bayes(y, p_change, **model),
        "mp5": su.message_passing(y, p_change, 5, **model),
        "pf10": su.particle_filter(y, p_change, 10, rng=np.random.default_rng(rng_seed), **model),
        "varsmile": su.var_smile(y, p_change / (1 - p_change), **model),
    }
    if "sigma" in model:
        out["leaky"] = su.leaky_integrator(y, 0.7)
        out["nas10"] = su.nassar(y, p_change, variant="nas10", **model)
        out["nas12"] = su.nassar(y, p_change, variant="nas12", **model)
        out["grid"] = su.grid_filter(y, p_change, n_grid=2001, **model)
    else:
        out["leaky"] = su.leaky_integrator(y, 0.7, **model)
    return out


# --------------------------------------------------------------------------
# tasks
# --------------------------------------------------------------------------


def test_gaussian_task_structure():
    task = su.gaussian_task(20_000, 0.5, 0.05, rng=np.random.default_rng(1))
    assert task.observations.shape == task.means.shape == task.changes.shape == (20_000,)
    assert task.changes[0]
    # the mean is constant between changes and the change rate is p_c
    assert np.all(np.diff(task.means)[~task.changes[1:]] == 0)
    assert abs(task.changes[1:].mean() - 0.05) < 0.006
    resid = task.observations - task.means
    assert abs(resid.std() - 0.5) < 0.02
    # same seed, same task
    again = su.gaussian_task(20_000, 0.5, 0.05, rng=np.random.default_rng(1))
    assert np.array_equal(again.observations, task.observations)


def test_categorical_task_structure():
    task = su.categorical_task(50_000, 4, 2.0, 0.0, rng=np.random.default_rng(2))
    assert task.observations.dtype == np.int64
    assert task.probabilities.shape == (50_000, 4)
    assert_allclose(task.probabilities.sum(axis=1), 1.0)
    assert task.changes.sum() == 1  # p_c = 0: one draw only
    freq = np.bincount(task.observations, minlength=4) / 50_000
    assert_allclose(freq, task.probabilities[0], atol=0.01)


# --------------------------------------------------------------------------
# exact Bayes: brute-force grid and mixture identity
# --------------------------------------------------------------------------


@pytest.mark.parametrize("sigma", [0.1, 1.0, 5.0])
def test_exact_bayes_equals_grid_filter(sigma):
    task = _gauss(400, sigma, 0.1, seed=3)
    exact = su.exact_bayes(task.observations, 0.1, sigma=sigma, tol=0.0)
    grid = su.grid_filter(task.observations, 0.1, sigma=sigma, n_grid=4001)
    # grid spacing 0.004 resolves every posterior (sd >= sigma/sqrt(run length));
    # the trapezoid sum of a Gaussian is then exact to rounding.
    assert_allclose(grid.estimates, exact.estimates, rtol=0, atol=1e-9)
    assert_allclose(grid.gamma, exact.gamma, rtol=0, atol=1e-10)
    assert_allclose(grid.log_surprise, exact.log_surprise, rtol=0, atol=1e-9)
    # the comparison can fail: a grid coarser than the posterior width disagrees
    coarse = su.grid_filter(task.observations, 0.1, sigma=sigma, n_grid=9)
    assert np.abs(coarse.estimates - exact.estimates).max() > 1e-3


def test_mixture_identity_gaussian():
    """pi^(t+1) = (1 - gamma) pi_integrate + gamma pi_reset, to machine precision."""
    sigma, p_c, mu0, sigma0 = 0.7, 0.05, 0.3, 1.5
    task = su.gaussian_task(60, sigma, p_c, rng=np.random.default_rng(4), mu0=mu0, sigma0=sigma0)
    y = task.observations
    kw = dict(sigma=sigma, mu0=mu0, sigma0=sigma0, tol=0.0)
    trace = su.exact_bayes(y, p_c, **kw)
    m = p_c / (1 - p_c)
    theta = np.linspace(-4, 4, 801)
    for t in [0, 1, 7, 30, 59]:
        old = su.exact_bayes_belief(y[:t], p_c, **kw)
        new = su.exact_bayes_belief(y[: t + 1], p_c, **kw)
        yt = y[t]
        pred = norm.pdf(yt, old.means, np.sqrt(old.variances + sigma**2))
        p_old = np.sum(old.weights * pred)
        p_prior = norm.pdf(yt, mu0, math.sqrt(sigma0**2 + sigma**2))
        s_bf = p_prior / p_old
        gamma = m * s_bf / (1 + m * s_bf)
        assert_allclose(trace.log_surprise[t], math.log(s_bf), rtol=1e-12, atol=1e-12)
        assert_allclose(trace.gamma[t], gamma, rtol=1e-12)
        # integrate: Bayes update of every component; reset: one-sample posterior
        prec = 1 / old.variances + 1 / sigma**2
        means_b = (old.means / old.variances + yt / sigma**2) / prec
        w_b = old.weights * pred / p_old
        prec0 = 1 / sigma0**2 + 1 / sigma**2
        mean0 = (mu0 / sigma0**2 + yt / sigma**2) / prec0
        dens_b = (w_b[:, None] * norm.pdf(theta, means_b[:, None], np.sqrt(1 / prec)[:, None])).sum(
            0
        )
        dens_0 = norm.pdf(theta, mean0, math.sqrt(1 / prec0))
        expected = (1 - gamma) * dens_b + gamma * dens_0
        got = (
            new.weights[:, None]
            * norm.pdf(theta, new.means[:, None], np.sqrt(new.variances)[:, None])
        ).sum(0)
        assert_allclose(got, expected, rtol=0, atol=1e-12 * expected.max())
        # component by component: old run lengths extended, new run length = reset
        assert_allclose(new.weights, np.append((1 - gamma) * w_b, gamma), rtol=1e-12, atol=1e-300)
        assert_allclose(new.means, np.append(means_b, mean0), rtol=1e-12, atol=1e-12)
        mean_mix = (1 - gamma) * np.sum(w_b * means_b) + gamma * mean0
        assert_allclose(trace.estimates[t], mean_mix, rtol=1e-12, atol=1e-14)


def test_mixture_identity_categorical():
    p_c, s, k = 0.02, 0.5, 4
    task = _cat(80, s, p_c, seed=5, k=k)
    y = task.observations
    kw = dict(concentration=s, n_categories=k, tol=0.0)
    trace = su.exact_bayes(y, p_c, **kw)
    m = p_c / (1 - p_c)
    for t in [0, 3, 40, 79]:
        old = su.exact_bayes_belief(y[:t], p_c, **kw)
        new = su.exact_bayes_belief(y[: t + 1], p_c, **kw)
        yt = y[t]
        pred = old.alphas[:, yt] / old.alphas.sum(1)
        p_old = np.sum(old.weights * pred)
        s_bf = (1 / k) / p_old
        gamma = m * s_bf / (1 + m * s_bf)
        assert_allclose(trace.gamma[t], gamma, rtol=1e-12)
        w_b = old.weights * pred / p_old
        alphas_b = old.alphas.copy()
        alphas_b[:, yt] += 1
        alpha_0 = np.full(k, s)
        alpha_0[yt] += 1
        assert_allclose(new.weights, np.append((1 - gamma) * w_b, gamma), rtol=1e-12, atol=1e-300)
        assert_allclose(new.alphas, np.vstack([alphas_b, alpha_0]), rtol=0, atol=0)
        mean_b = (w_b[:, None] * alphas_b / alphas_b.sum(1, keepdims=True)).sum(0)
        expected = (1 - gamma) * mean_b + gamma * alpha_0 / alpha_0.sum()
        assert_allclose(trace.estimates[t], expected, rtol=1e-12, atol=1e-15)


def test_pruning_changes_estimates_negligibly():
    task = _gauss(3000, 1.0, 0.05, seed=6)
    full = su.exact_bayes(task.observations, 0.05, sigma=1.0, tol=0.0)
    pruned = su.exact_bayes(task.observations, 0.05, sigma=1.0)
    assert pruned.n_components.max() < full.n_components.max() == 3001
    assert_allclose(pruned.estimates, full.estimates, rtol=0, atol=1e-12)


# --------------------------------------------------------------------------
# approximations converge to exact Bayes
# --------------------------------------------------------------------------


def test_particle_filter_converges_to_exact_bayes():
    devs = {}
    for n_part in (1, 10, 100, 1000):
        d = []
        for seed in (0, 1):
            task = _gauss(3000, 1.0, 0.05, seed=10 + seed)
            exact = su.exact_bayes(task.observations, 0.05, sigma=1.0)
            pf = su.particle_filter(
                task.observations, 0.05, n_part, rng=np.random.default_rng(seed), sigma=1.0
            )
            d.append(np.mean((pf.estimates - exact.estimates) ** 2))
        devs[n_part] = np.mean(d)
    assert devs[1] > devs[10] > devs[100] > devs[1000]
    # Monte Carlo rate: deviation ~ 1/N
    scaled = [n * devs[n] for n in devs]
    assert max(scaled) / min(scaled) < 4, devs


def test_particle_filter_reproducible_and_categorical_converges():
    task = _cat(2000, 1.0, 0.05, seed=12)
    exact = su.exact_bayes(task.observations, 0.05, **CAT)
    a = su.particle_filter(task.observations, 0.05, 200, rng=np.random.default_rng(3), **CAT)
    b = su.particle_filter(task.observations, 0.05, 200, rng=np.random.default_rng(3), **CAT)
    assert np.array_equal(a.estimates, b.estimates)
    one = su.particle_filter(task.observations, 0.05, 1, rng=np.random.default_rng(3), **CAT)
    err = lambda r: np.mean(np.sum((r.estimates - exact.estimates) ** 2, axis=1))  # noqa: E731
    assert err(a) < err(one) / 20


@pytest.mark.parametrize("model", [GAUSS, CAT], ids=["gaussian", "categorical"])
def test_message_passing_equals_exact_bayes_with_enough_messages(model):
    task = _gauss(500, seed=7) if "sigma" in model else _cat(500, seed=7)
    y = task.observations
    exact = su.exact_bayes(y, 0.1, tol=0.0, **model)
    for n_msg in (501, 5000):  # >= number of run lengths (T + 1)
        mp = su.message_passing(y, 0.1, n_msg, **model)
        assert_allclose(mp.estimates, exact.estimates, rtol=0, atol=1e-13)
        assert_allclose(mp.gamma, exact.gamma, rtol=0, atol=1e-13)
    # too few messages: a real (but small) approximation
    mp_small = su.message_passing(y, 0.1, 3, **model)
    assert np.abs(mp_small.estimates - exact.estimates).max() > 1e-6
    assert mp_small.n_components.max() == 3


def test_message_passing_error_shrinks_with_messages():
    task = _gauss(3000, 1.0, 0.05, seed=10)
    exact = su.exact_bayes(task.observations, 0.05, sigma=1.0)
    devs = [
        np.mean(
            (su.message_passing(task.observations, 0.05, n, sigma=1.0).estimates - exact.estimates)
            ** 2
        )
        for n in (1, 5, 20, 100)
    ]
    assert devs[0] > devs[1] > devs[2] > devs[3]
    assert devs[3] < 1e-4 * devs[0]


# --------------------------------------------------------------------------
# VarSMiLe limits
# --------------------------------------------------------------------------


def test_var_smile_limits_gaussian():
    sigma, mu0, sigma0 = 0.8, 0.2, 1.3
    task = su.gaussian_task(200, sigma, 0.1, rng=np.random.default_rng(8), mu0=mu0, sigma0=sigma0)
    y = task.observations
    kw = dict(sigma=sigma, mu0=mu0, sigma0=sigma0)
    n = np.arange(1, y.size + 1)
    stationary = (mu0 / sigma0**2 + np.cumsum(y) / sigma**2) / (1 / sigma0**2 + n / sigma**2)
    reset = (mu0 / sigma0**2 + y / sigma**2) / (1 / sigma0**2 + 1 / sigma**2)
    assert_allclose(su.var_smile(y, 0.0, **kw).estimates, stationary, rtol=1e-12)
    assert_allclose(su.var_smile(y, math.inf, **kw).estimates, reset, rtol=1e-12)
    # the deviation from each limit vanishes linearly in m (resp. 1/m)
    dev0 = [
        np.abs(su.var_smile(y, m, **kw).estimates - stationary).max() for m in (1e-8, 1e-12, 1e-16)
    ]
    dev1 = [
        np.abs(su.var_smile(y, 1 / m, **kw).estimates - reset).max() for m in (1e-6, 1e-9, 1e-12)
    ]
    assert dev0[0] > dev0[1] > dev0[2] and dev0[2] < 1e-10 and dev0[1] < 1e-3 * dev0[0]
    assert dev1[0] > dev1[1] > dev1[2] and dev1[2] < 1e-10 and dev1[1] < 1e-2 * dev1[0]
    assert np.abs(stationary - reset).max() > 0.5  # the limits are distinguishable
    mid = su.var_smile(y, 0.3, **kw).estimates
    assert np.abs(mid - stationary).max() > 0.1 and np.abs(mid - reset).max() > 0.1


def _var_smile_gaussian_reference(y, m, sigma, mu0, sigma0):
    """VarSMiLe from its definition, in mean-variance form with plain (not log) densities.

    The belief is N(mu, v).  S_BF = N(y; mu0, sigma0^2 + sigma^2) / N(y; mu, v + sigma^2),
    gamma = m S/(1 + m S), and the new belief is the normalised geometric mixture
    pi_B^(1-gamma) P(theta | y)^gamma of the Bayes update pi_B of the belief and the
    one-sample posterior: a Gaussian whose precision and precision-weighted mean are the
    gamma-mixtures of those of the two.
    """
    mu, v = mu0, sigma0**2
    rows = []
    for yt in y:
        s_bf = norm.pdf(yt, mu0, math.sqrt(sigma0**2 + sigma**2)) / norm.pdf(
            yt, mu, math.sqrt(v + sigma**2)
        )
        gamma = m * s_bf / (1 + m * s_bf)
        prec_b, prec_0 = 1 / v + 1 / sigma**2, 1 / sigma0**2 + 1 / sigma**2
        info_b, info_0 = mu / v + yt / sigma**2, mu0 / sigma0**2 + yt / sigma**2
        prec = (1 - gamma) * prec_b + gamma * prec_0
        mu, v = ((1 - gamma) * info_b + gamma * info_0) / prec, 1 / prec
        rows.append((mu, math.log(s_bf), gamma))
    return np.array(rows).T


def _var_smile_dirichlet_reference(y, m, alpha0, alpha=None):
    """VarSMiLe from its definition for Dirichlet beliefs (plain probabilities).

    The geometric mixture Dir(alpha + e_y)^(1-gamma) Dir(alpha0 + e_y)^gamma is
    Dir((1 - gamma) alpha + gamma alpha0 + e_y).  Starts from ``alpha`` (default alpha0);
    returns the estimates, log S_BF, gamma and the final alpha.
    """
    alpha = np.array(alpha0 if alpha is None else alpha, dtype=float)
    estimates, log_s, gammas = [], [], []
    for yt in y:
        s_bf = (alpha0[yt] / alpha0.sum()) / (alpha[yt] / alpha.sum())
        gamma = m * s_bf / (1 + m * s_bf)
        alpha = (1 - gamma) * alpha + gamma * alpha0
        alpha[yt] += 1
        estimates.append(alpha / alpha.sum())
        log_s.append(math.log(s_bf))
        gammas.append(gamma)
    return np.array(estimates), np.array(log_s), np.array(gammas), alpha


def test_var_smile_reference_reproduces_fact_sheet_step():
    """The reference update gives the published single step: from alpha = (10,1,1,1,1),
    y = 3, p_c = 0.01 (m = p_c/(1 - p_c)): S_BF = 2.8, gamma = 0.027505,
    alpha' = (9.752456, 1, 1, 2, 1)."""
    _, log_s, gamma, alpha = _var_smile_dirichlet_reference(
        [3], 0.01 / 0.99, np.ones(5), alpha=[10.0, 1, 1, 1, 1]
    )
    assert_allclose(np.exp(log_s), [2.8], rtol=1e-12)
    assert_allclose(gamma, [0.027505], atol=5e-7)
    assert_allclose(alpha, [9.752456, 1, 1, 2, 1], atol=5e-7)


def test_var_smile_gaussian_matches_reference():
    sigma, mu0, sigma0, m = 0.8, 0.2, 1.3, 0.3
    task = su.gaussian_task(300, sigma, 0.05, rng=np.random.default_rng(14), mu0=mu0, sigma0=sigma0)
    y = task.observations.copy()
    y[150] += 6.0  # a surprising observation: gamma near 1 at this step
    trace = su.var_smile(y, m, sigma=sigma, mu0=mu0, sigma0=sigma0)
    estimates, log_s, gamma = _var_smile_gaussian_reference(y, m, sigma, mu0, sigma0)
    assert gamma[150] > 0.99 and gamma.min() < 0.05  # both regimes are exercised
    assert_allclose(trace.estimates, estimates, rtol=1e-11, atol=1e-12)
    assert_allclose(trace.log_surprise, log_s, rtol=1e-11, atol=1e-11)
    assert_allclose(trace.gamma, gamma, rtol=1e-11, atol=1e-14)
    # the comparison can fail: another surprise weight gives other estimates
    other = su.var_smile(y, 2 * m, sigma=sigma, mu0=mu0, sigma0=sigma0)
    assert np.abs(other.estimates - estimates).max() > 1e-3


def test_var_smile_categorical_matches_reference():
    s, k, m = 0.5, 5, 0.1
    y = _cat(300, s, 0.05, seed=15, k=k).observations
    trace = su.var_smile(y, m, concentration=s, n_categories=k)
    estimates, log_s, gamma, _ = _var_smile_dirichlet_reference(y, m, np.full(k, s))
    assert gamma.max() > 0.3 and gamma.min() < 0.05  # both regimes are exercised
    assert_allclose(trace.estimates, estimates, rtol=1e-12, atol=1e-14)
    assert_allclose(trace.log_surprise, log_s, rtol=1e-12, atol=1e-12)
    assert_allclose(trace.gamma, gamma, rtol=1e-12, atol=1e-14)
    other = su.var_smile(y, 2 * m, concentration=s, n_categories=k)
    assert np.abs(other.estimates - estimates).max() > 1e-3


def test_var_smile_limits_categorical():
    task = _cat(200, 0.5, 0.1, seed=9)
    y = task.observations
    kw = dict(concentration=0.5, n_categories=5)
    counts = np.cumsum(np.eye(5)[y], axis=0)
    stationary = (0.5 + counts) / (2.5 + np.arange(1, 201))[:, None]
    reset = (0.5 + np.eye(5)[y]) / 3.5
    assert_allclose(su.var_smile(y, 1e-12, **kw).estimates, stationary, atol=1e-8)
    assert_allclose(su.var_smile(y, 1e12, **kw).estimates, reset, atol=1e-8)


# --------------------------------------------------------------------------
# normalisation and numerical robustness
# --------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    y=st.lists(st.floats(-30, 30, allow_nan=False), min_size=1, max_size=40),
    sigma=st.floats(0.01, 10.0),
    p_c=st.floats(1e-4, 0.9),
)
def test_gaussian_beliefs_normalised(y, sigma, p_c):
    y = np.array(y)
    belief = su.exact_bayes_belief(y, p_c, sigma=sigma)
    assert abs(belief.weights.sum() - 1) < 1e-12
    assert np.all(belief.weights >= 0) and np.all(belief.variances > 0)
    for name, tr in _all_learners(y, p_c, dict(sigma=sigma)).items():
        assert np.all(np.isfinite(tr.estimates)), name
        if tr.gamma is not None:
            assert np.all(np.isfinite(tr.log_surprise)), name
            assert np.all((tr.gamma >= 0) & (tr.gamma <= 1)), name


@settings(max_examples=40, deadline=None)
@given(
    data=st.data(),
    k=st.integers(2, 6),
    s=st.floats(0.01, 5.0),
    p_c=st.floats(1e-4, 0.9),
)
def test_categorical_beliefs_normalised(data, k, s, p_c):
    y = np.array(data.draw(st.lists(st.integers(0, k - 1), min_size=1, max_size=40)))
    model = dict(concentration=s, n_categories=k)
    belief = su.exact_bayes_belief(y, p_c, **model)
    assert abs(belief.weights.sum() - 1) < 1e-12
    assert belief.alphas.shape == (belief.weights.size, k)
    for name, tr in _all_learners(y, p_c, model).items():
        assert tr.estimates.shape == (y.size, k), name
        assert_allclose(tr.estimates.sum(axis=1), 1.0, atol=1e-12, err_msg=name)
        assert np.all(tr.estimates >= 0), name
        if tr.gamma is not None:
            assert np.all((tr.gamma >= 0) & (tr.gamma <= 1)), name


@pytest.mark.parametrize("sigma", [0.1, 0.01])
def test_small_sigma_no_overflow(sigma):
    task = _gauss(3000, sigma, 0.1, seed=11)
    y = task.observations.copy()
    y[1500] += 40.0  # an extreme outlier: S_BF = exp(huge) as a plain ratio
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        results = _all_learners(y, 0.1, dict(sigma=sigma))
    for name, tr in results.items():
        assert np.all(np.isfinite(tr.estimates)), name
        if tr.gamma is not None:
            assert np.all(np.isfinite(tr.log_surprise)), name
            assert np.all(np.isfinite(tr.gamma)), name
    assert results["exact"].log_surprise[1500] > 1000  # would overflow exp()
    assert results["exact"].gamma[1500] == 1.0
    assert su.surprise_gamma(1e4, 0.1) == 1.0 and su.surprise_gamma(-1e4, 0.1) == 0.0


# --------------------------------------------------------------------------
# published mean squared errors (Liakoni et al. 2021)
# --------------------------------------------------------------------------


def test_published_loader_labels():
    g = su.published_mse("gaussian")
    c = su.published_mse("categorical")
    assert len(g) == 30 and len(c) == 42
    assert_allclose(g[(1.0, 0.1)], 0.2692, rtol=1e-3)  # rows are sigma, p_c
    assert_allclose(g[(5.0, 0.0001)], 0.03147, rtol=1e-3)
    assert_allclose(c[(1.0, 0.01)], 0.02657, rtol=1e-3)
    assert_allclose(su.published_mse("gaussian", "pf20")[(5.0, 0.1)], 0.005966, rtol=1e-3)


def test_published_loader_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        su.published_mse("gaussian", directory=tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match="not found"):
        su.published_mse("gaussian", "nosuchalgo", directory=tmp_path)
    with pytest.raises(ValueError, match="task must be one of 'gaussian', 'categorical'"):
        su.published_mse("poisson")


# 1 seed x 2e5 steps: seed-to-seed sd of the MSE is 0.4-0.8% here (8 seeds checked)
@pytest.mark.parametrize("sigma, p_c", [(0.1, 0.1), (0.5, 0.1), (1.0, 0.1)])
def test_exact_bayes_mse_matches_paper_gaussian(sigma, p_c):
    task = su.gaussian_task(200_000, sigma, p_c, rng=np.random.default_rng(2021))
    mse = su.mean_squared_error(
        su.exact_bayes(task.observations, p_c, sigma=sigma).estimates, task.means
    )
    ref = su.published_mse("gaussian")[(sigma, p_c)]
    assert abs(mse / ref - 1) < 0.05, (mse, ref)


@pytest.mark.parametrize("s, p_c", [(0.1, 0.1), (1.0, 0.1)])
def test_exact_bayes_mse_matches_paper_categorical(s, p_c):
    task = su.categorical_task(200_000, 5, s, p_c, rng=np.random.default_rng(2021))
    est = su.exact_bayes(task.observations, p_c, concentration=s, n_categories=5).estimates
    mse = su.mean_squared_error(est, task.probabilities)
    ref = su.published_mse("categorical")[(s, p_c)]
    assert abs(mse / ref - 1) < 0.05, (mse, ref)


def test_mean_squared_error():
    assert su.mean_squared_error([1.0, 2.0], [0.0, 0.0]) == 2.5
    assert su.mean_squared_error([[0.5, 0.5], [1, 0]], [[1, 0], [1, 0]]) == 0.25
    with pytest.raises(ValueError, match=r"truth must have shape \(2,\); got shape \(1,\)"):
        su.mean_squared_error([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="estimates must be finite; found nan at index 1"):
        su.mean_squared_error([0.0, np.nan], [0.0, 0.0])
    with pytest.raises(ValueError, match="truth must be finite; found inf"):
        su.mean_squared_error([0.0, 1.0], [0.0, np.inf])
    with pytest.raises(ValueError, match="estimates must be a 1 or 2-dimensional array"):
        su.mean_squared_error(np.zeros((2, 2, 2)), np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="estimates must not be empty"):
        su.mean_squared_error([], [])
    with pytest.raises(TypeError, match="estimates must be an array of real numbers"):
        su.mean_squared_error([True, False], [0.0, 0.0])


def test_surprise_gamma_checks_its_inputs():
    assert su.surprise_gamma(0.0, math.inf) == 1.0  # the reset limit
    assert su.surprise_gamma(0.0, 0.0) == 0.0
    assert_allclose(su.surprise_gamma([-math.inf, 0.0, math.inf], 1.0), [0.0, 0.5, 1.0])
    with pytest.raises(ValueError, match="log_surprise must not contain NaN"):
        su.surprise_gamma([0.0, np.nan], 0.1)
    with pytest.raises(ValueError, match="m must be >= 0"):
        su.surprise_gamma(0.0, -0.1)
    with pytest.raises(ValueError, match="m must be finite"):
        su.surprise_gamma(0.0, math.nan)
    with pytest.raises(TypeError, match="m must be a real number"):
        su.surprise_gamma(0.0, True)
    with pytest.raises(TypeError, match="log_surprise must be an array of real numbers"):
        su.surprise_gamma("1", 0.1)


# --------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------


@pytest.mark.parametrize("p_c", [0.0, 1.0, -0.1, 1.5])
def test_bad_p_change(p_c):
    y = np.zeros(3)
    for func in (su.exact_bayes, su.grid_filter):
        with pytest.raises(ValueError, match=r"p_change must lie in \(0.0, 1.0\)"):
            func(y, p_c, sigma=1.0)
    with pytest.raises(ValueError, match="p_change must lie in"):
        su.message_passing(y, p_c, 3, **GAUSS)
    with pytest.raises(ValueError, match="p_change must lie in"):
        su.particle_filter(y.astype(int), p_c, 3, rng=np.random.default_rng(0), **CAT)
    with pytest.raises(ValueError, match="hazard must lie in"):
        su.nassar(y, p_c, sigma=1.0)


@pytest.mark.parametrize("sigma", [0.0, -1.0])
def test_bad_sigma(sigma):
    with pytest.raises(ValueError, match="sigma must be > 0"):
        su.exact_bayes(np.zeros(3), 0.1, sigma=sigma)
    with pytest.raises(ValueError, match="sigma must be > 0"):
        su.gaussian_task(10, sigma, 0.1, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="sigma must be > 0"):
        su.var_smile(np.zeros(3), 0.1, sigma=sigma)


@pytest.mark.parametrize("labels", [[0, 1, 5], [0, -1, 2]])
def test_bad_category_labels(labels):
    with pytest.raises(ValueError, match=r"category labels in 0\.\.4"):
        su.exact_bayes(labels, 0.1, **CAT)
    with pytest.raises(ValueError, match=r"category labels in 0\.\.4"):
        su.var_smile(labels, 0.1, **CAT)
    with pytest.raises(ValueError, match=r"category labels in 0\.\.4"):
        su.leaky_integrator(labels, 0.5, **CAT)


def test_bad_input_misc():
    rng = np.random.default_rng(0)
    with pytest.raises(TypeError, match=r"observations must be integer category labels in 0\.\.4"):
        su.exact_bayes([0.0, 1.0], 0.1, **CAT)
    for func, args in [
        (su.exact_bayes, (0.1,)),
        (su.var_smile, (0.1,)),
        (su.message_passing, (0.1, 2)),
        (su.grid_filter, (0.1,)),
        (su.nassar, (0.1,)),
    ]:
        with pytest.raises(ValueError, match="observations must not be empty"):
            func([], *args, sigma=1.0)
    with pytest.raises(ValueError, match="observations must not be empty"):
        su.particle_filter(np.array([], dtype=int), 0.1, 2, rng=rng, **CAT)
    with pytest.raises(ValueError, match="observations must not be empty"):
        su.leaky_integrator([], 0.5)
    with pytest.raises(ValueError, match="exactly one of sigma"):
        su.exact_bayes([0.0], 0.1)
    with pytest.raises(ValueError, match="exactly one of sigma"):
        su.exact_bayes([0], 0.1, sigma=1.0, concentration=1.0, n_categories=3)
    with pytest.raises(ValueError, match="needs n_categories"):
        su.exact_bayes([0], 0.1, concentration=1.0)
    with pytest.raises(ValueError, match="observations must be a 1-dimensional array"):
        su.exact_bayes(np.zeros((2, 2)), 0.1, sigma=1.0)
    with pytest.raises(ValueError, match="observations must be a 1-dimensional array"):
        su.exact_bayes(np.zeros((2, 2), dtype=int), 0.1, **CAT)
    with pytest.raises(ValueError, match="observations must be finite; found nan at index 1"):
        su.exact_bayes([0.0, np.nan], 0.1, sigma=1.0)
    with pytest.raises(TypeError, match="observations must be an array of real numbers"):
        su.var_smile([True, False], 0.1, sigma=1.0)
    with pytest.raises(ValueError, match="n_particles must be an integer >= 1"):
        su.particle_filter([0.0], 0.1, 0, rng=rng, sigma=1.0)
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        su.particle_filter([0.0], 0.1, 5, rng=42, sigma=1.0)
    with pytest.raises(TypeError, match="positional argument"):
        su.particle_filter([0.0], 0.1, 5, rng, sigma=1.0)  # rng is keyword-only
    with pytest.raises(ValueError, match="n_messages must be an integer >= 1"):
        su.message_passing([0.0], 0.1, 0, sigma=1.0)
    with pytest.raises(ValueError, match="m must be >= 0"):
        su.var_smile([0.0], -1.0, sigma=1.0)
    with pytest.raises(ValueError, match="omega must lie in"):
        su.leaky_integrator([0.0], 1.5)
    for variant in (2012, "2012", "nas11"):  # string modes, not integer codes
        with pytest.raises(ValueError, match="variant must be one of 'nas10', 'nas12'"):
            su.nassar([0.0], 0.1, sigma=1.0, variant=variant)
    with pytest.raises(ValueError, match=r"tol must lie in \[0.0, 1.0\)"):
        su.exact_bayes([0.0], 0.1, sigma=1.0, tol=1.0)
    with pytest.raises(ValueError, match=r"tol must lie in \[0.0, 1.0\)"):
        su.exact_bayes_belief([], 0.1, sigma=1.0, tol=-1e-3)
    with pytest.raises(ValueError, match="concentration must be > 0"):
        su.categorical_task(10, 5, 0.0, 0.1, rng=rng)
    with pytest.raises(ValueError, match="n_categories must be an integer >= 2"):
        su.categorical_task(10, 1, 1.0, 0.1, rng=rng)
    with pytest.raises(ValueError, match="p_change must lie in"):
        su.gaussian_task(10, 1.0, 1.5, rng=rng)
    with pytest.raises(ValueError, match="n_steps must be an integer >= 1"):
        su.gaussian_task(0, 1.0, 0.1, rng=rng)


# --------------------------------------------------------------------------
# conventions and the Nassar learners
# --------------------------------------------------------------------------


def test_first_step_uses_prior_belief():
    """S_BF = 1 at the first observation; the estimate is the one-sample posterior."""
    y = np.array([2.0, -1.0, 0.5])
    reset = 2.0 / (1 + 0.5**2)  # sigma0 = 1, mu0 = 0, sigma = 0.5
    for tr in (
        su.exact_bayes(y, 0.2, sigma=0.5),
        su.var_smile(y, 0.25, sigma=0.5),  # m = 0.2/0.8
        su.nassar(y, 0.2, sigma=0.5),
        su.nassar(y, 0.2, sigma=0.5, variant="nas10"),
        su.message_passing(y, 0.2, 1, sigma=0.5),
        su.grid_filter(y, 0.2, sigma=0.5),
        su.particle_filter(y, 0.2, 7, rng=np.random.default_rng(0), sigma=0.5),
    ):
        assert tr.log_surprise[0] == pytest.approx(0.0, abs=1e-12)
        assert tr.gamma[0] == pytest.approx(0.2, rel=1e-12)
        assert tr.estimates[0] == pytest.approx(reset, rel=1e-9)


@pytest.mark.parametrize("variant", ["nas10", "nas12"])
def test_nassar_stationary_limit(variant):
    sigma = 0.6
    task = _gauss(300, sigma, 0.05, seed=13)
    y = task.observations
    n = np.arange(1, y.size + 1)
    stationary = (np.cumsum(y) / sigma**2) / (1 + n / sigma**2)
    tr = su.nassar(y, 1e-250, sigma=sigma, variant=variant)
    assert_allclose(tr.estimates, stationary, rtol=0, atol=1e-12)
    # with a realistic hazard the learner tracks changes better than the stationary one
    tr = su.nassar(y, 0.05, sigma=sigma, variant=variant)
    assert su.mean_squared_error(tr.estimates, task.means) < 0.5 * su.mean_squared_error(
        stationary, task.means
    )


# --------------------------------------------------------------------------
# SOR_N, SMiLe, the paper's leaky integrator, uniform-prior Nassar learners
# --------------------------------------------------------------------------


def test_sor_reduce_is_unbiased_and_keeps_n():
    """Stratified optimal resampling: exactly N survivors, E[new weight] = old weight."""
    rng = np.random.default_rng(3)
    w = rng.dirichlet(np.full(12, 0.3))
    w[0] = 0.5  # one large component, always kept as it is
    w /= w.sum()
    n_keep, reps = 5, 8_000
    total = np.zeros(w.size)
    for _ in range(reps):
        lw = np.log(w)
        rows_a = np.arange(w.size, dtype=float)  # component identity, compacted with lw
        rows_b = np.zeros((w.size, 1))
        n = su._sor_reduce(lw, w.size, n_keep, rows_a, rows_b, rng)
        assert n == n_keep
        assert_allclose(np.exp(lw[:n]).sum(), 1.0, rtol=1e-12)
        total[rows_a[:n].astype(int)] += np.exp(lw[:n])
    mean = total / reps
    assert mean[0] == pytest.approx(w[0], rel=1e-12)  # above the threshold: unchanged
    # survivor weight c * Bernoulli(w/c) with c < 1: standard deviation below sqrt(w)
    assert np.all(np.abs(mean - w) <= 5 * np.sqrt(w / reps))


@pytest.mark.parametrize("model", [GAUSS, CAT])
def test_sor_with_enough_messages_is_exact_bayes(model):
    y = (_gauss if "sigma" in model else _cat)(150).observations
    exact = su.exact_bayes(y, 0.1, tol=0.0, **model)
    sor = su.stratified_resampling(y, 0.1, 200, rng=np.random.default_rng(0), **model)
    assert_allclose(sor.estimates, exact.estimates, rtol=1e-12, atol=1e-14)
    few = su.stratified_resampling(y, 0.1, 3, rng=np.random.default_rng(0), **model)
    assert few.n_components.max() == 3
    again = su.stratified_resampling(y, 0.1, 3, rng=np.random.default_rng(0), **model)
    assert np.array_equal(few.estimates, again.estimates)


def test_sor_error_shrinks_with_messages():
    task = _gauss(3000, 1.0, 0.05, seed=21)
    exact = su.exact_bayes(task.observations, 0.05, sigma=1.0).estimates
    dev = [
        np.mean(
            (
                su.stratified_resampling(
                    task.observations, 0.05, n, rng=np.random.default_rng(1), sigma=1.0
                ).estimates
                - exact
            )
            ** 2
        )
        for n in (1, 5, 20)
    ]
    assert dev[0] > 10 * dev[1] > 100 * dev[2]


def _smile_reference(y, m, *, sigma=None, alpha0=None):
    """SMiLe from its definition with scipy: KL bound and root of KL(mixture || belief) = B."""
    from scipy.optimize import brentq
    from scipy.special import digamma, gammaln

    def kl_dir(a1, a2):
        return max(
            gammaln(a2).sum()
            - gammaln(a2.sum())
            - gammaln(a1).sum()
            + gammaln(a1.sum())
            + np.dot(a1 - a2, digamma(a1) - digamma(a1.sum())),
            0.0,
        )

    def kl_gauss(m1, v1, m2, v2):
        return max(0.5 * (m1 - m2) ** 2 / v2 + 0.5 * (v1 / v2 - 1 - math.log(v1 / v2)), 0.0)

    out = []
    if sigma is not None:
        mu, v = 0.0, 1.0
        for yt in y:
            scc, bmax = kl_gauss(mu, v, yt, sigma**2), kl_gauss(yt, sigma**2, mu, v)
            bound = m * scc / (1 + m * scc) * bmax

            def mix(lam, mu=mu, v=v, yt=yt):
                prec = lam / sigma**2 + (1 - lam) / v
                return (lam * yt / sigma**2 + (1 - lam) * mu / v) / prec, 1 / prec

            f = lambda lam, mu=mu, v=v, bound=bound: kl_gauss(*mix(lam), mu, v) - bound  # noqa: E731
            lam = 0.0 if bound <= 0 else (1.0 if f(1.0) <= 0 else brentq(f, 0, 1, xtol=1e-14))
            mu, v = mix(lam)
            out.append(mu)
        return np.array(out)
    alpha = np.array(alpha0, dtype=float)
    for yt in y:
        beta = np.ones(alpha.size)
        beta[yt] += 1
        scc, bmax = kl_dir(alpha, beta), kl_dir(beta, alpha)
        bound = m * scc / (1 + m * scc) * bmax
        f = lambda lam, a=alpha, b=beta, bound=bound: kl_dir(lam * b + (1 - lam) * a, a) - bound  # noqa: E731
        lam = 0.0 if bound <= 0 else (1.0 if f(1.0) <= 0 else brentq(f, 0, 1, xtol=1e-14))
        alpha = lam * beta + (1 - lam) * alpha
        out.append(alpha / alpha.sum())
    return np.array(out)


@pytest.mark.parametrize("sigma", [0.1, 1.0, 5.0])
def test_smile_gaussian_matches_reference(sigma):
    y = _gauss(200, sigma, 0.05, seed=2).observations
    for m in (0.05, 1.0, 20.0):
        got = su.smile(y, m, sigma=sigma).estimates
        assert_allclose(got, _smile_reference(y, m, sigma=sigma), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("s", [0.01, 1.0, 5.0])
def test_smile_categorical_matches_reference(s):
    y = _cat(200, s, 0.05, seed=3).observations
    for m in (0.05, 1.0, 20.0):
        got = su.smile(y, m, concentration=s, n_categories=5).estimates
        assert_allclose(got, _smile_reference(y, m, alpha0=np.full(5, s)), rtol=1e-8, atol=1e-10)


def test_smile_limits():
    """m = 0: the belief never moves (estimate = prior mean); the step never exceeds B_max."""
    y = _gauss(100, 0.5, 0.1, seed=4).observations
    assert_allclose(su.smile(y, 0.0, sigma=0.5).estimates, 0.0, atol=0)
    tr = su.smile(y, 1e6, sigma=0.5)
    assert np.all((tr.gamma >= 0) & (tr.gamma <= 1))
    assert tr.gamma[1:].max() > 0.5  # large m: big steps towards the observation


def test_leaky_categorical_paper_and_prior_variants():
    y = np.array([0, 2, 2, 1, 0, 4])
    omega, k, s = 0.8, 5, 0.5
    counts = np.zeros(k)
    paper, prior = [], []
    for yt in y:
        counts *= omega
        counts[yt] += 1
        paper.append(counts / counts.sum())
        prior.append((s + counts) / (k * s + counts.sum()))
    assert_allclose(su.leaky_integrator(y, omega, n_categories=k).estimates, paper, rtol=1e-13)
    got = su.leaky_integrator(y, omega, n_categories=k, concentration=s).estimates
    assert_allclose(got, prior, rtol=1e-13)


@pytest.mark.parametrize("variant", ["nas10", "nas12"])
def test_nassar_original_is_flat_prior(variant):
    y = _gauss(300, 0.7, 0.05, seed=6).observations
    original = su.nassar(y, 0.05, sigma=0.7, variant=variant + "_original").estimates
    flat = su.nassar(y, 0.05, sigma=0.7, sigma0=1000.0, variant=variant).estimates
    assert_allclose(original, flat, rtol=1e-14)
    assert np.abs(original - su.nassar(y, 0.05, sigma=0.7, variant=variant).estimates).max() > 0.01


def test_nassar_original_tuned_on_the_papers_hazard_grid():
    """The uniform-prior originals are tuned on the span of the paper's hazard grid,
    1e-4 <= h <= 10^(-4/59) = 0.855.  At (sigma, p_c) = (1, 0.1) the published Nas10
    Delta MSE (0.220) is reproduced at the top of that grid, and a hazard closer to 1
    does much better: a wider search range beats the published values (the cause of a
    median ratio ours/published of 0.62 before the range was fixed)."""
    h_max = 10.0 ** (-4.0 / 59.0)
    res = su.compare_learners(
        "gaussian", [(1.0, 0.1), (0.5, 0.05)], ["Nas10", "Nas12"],
        n_steps=3000, tune_seeds=(7,), eval_seeds=(8,), n_grid=5, n_refine=3,
    )  # fmt: skip
    assert (res.parameters >= 1e-4 * (1 - 1e-9)).all()
    assert (res.parameters <= h_max * (1 + 1e-9)).all()
    deltas = {h_max: [], 0.95: []}
    for seed in (930, 931, 932, 933):
        y, truth, kw = su._cell_environment("gaussian", 1.0, 0.1, seed, 20_000, 5)
        eb = su.mean_squared_error(su.exact_bayes(y, 0.1, **kw).estimates, truth)
        for h, d in deltas.items():
            est = su.nassar(y, h, sigma=1.0, variant="nas10_original").estimates
            d.append(su.mean_squared_error(est, truth) - eb)
    pub = su.published_mse("gaussian", "gnassarJNOriginal")[(1.0, 0.1)]
    top, sem = np.mean(deltas[h_max]), np.std(deltas[h_max], ddof=1) / 2
    assert abs(top - pub) <= max(0.05 * pub, 3 * sem), (top, sem, pub)
    assert np.mean(deltas[0.95]) < 0.75 * pub


# --------------------------------------------------------------------------
# the paper's protocol: compare_learners
# --------------------------------------------------------------------------


def test_compare_learners_seeds_must_be_disjoint():
    with pytest.raises(ValueError, match="disjoint"):
        su.compare_learners("gaussian", [(1.0, 0.1)], tune_seeds=(0, 1), eval_seeds=(1, 2))
    with pytest.raises(ValueError, match="at least one seed"):
        su.compare_learners("gaussian", [(1.0, 0.1)], tune_seeds=())
    with pytest.raises(ValueError, match="Gaussian task only"):
        su.compare_learners("categorical", [(1.0, 0.1)], ["Nas12*"])
    with pytest.raises(ValueError, match="unknown algorithm"):
        su.compare_learners("gaussian", [(1.0, 0.1)], ["pf0"])
    with pytest.raises(ValueError, match="sigma must be > 0"):
        su.compare_learners("gaussian", [(-1.0, 0.1)])
    with pytest.raises(ValueError, match="p_c must lie in"):
        su.compare_learners("gaussian", [(1.0, 1.0)])
    with pytest.raises(ValueError, match="task must be one of"):
        su.compare_learners("poisson")


def test_compare_learners_structure_and_independence():
    """Shapes; a cell's result does not depend on the other cells; tuning sees only its seeds."""
    algs = ["MP1", "VarSMiLe", "Leaky"]
    kw = dict(n_steps=3000, tune_seeds=(5,), eval_seeds=(6, 7), n_grid=5, n_refine=3)
    both = su.compare_learners("gaussian", [(1.0, 0.1), (0.5, 0.05)], algs, **kw)
    one = su.compare_learners("gaussian", [(0.5, 0.05)], algs, **kw)
    assert both.delta_mse.shape == both.delta_sem.shape == both.parameters.shape == (3, 2)
    assert_allclose(both.delta_mse[:, 1], one.delta_mse[:, 0], rtol=1e-13)
    assert np.isnan(both.parameters[0]).all() and np.isfinite(both.parameters[1:]).all()
    # a different evaluation seed leaves the tuned parameters unchanged
    other = su.compare_learners("gaussian", [(0.5, 0.05)], algs, **{**kw, "eval_seeds": (8,)})
    assert_allclose(other.parameters, one.parameters, rtol=0)
    assert np.isnan(other.delta_sem).all()  # one evaluation seed: no standard error
    pub = both.published()
    assert pub.shape == (3, 2) and np.isfinite(pub).all()
    assert su.published_name("categorical", "SOR20") == "tsorOriginal20"
    assert su.published_name("gaussian", "MP20") == "gsor20"


def test_compare_learners_tuning_finds_the_grid_minimum():
    """The tuned m beats every grid value on the tuning data."""
    kw = dict(n_steps=4000, tune_seeds=(1, 2), eval_seeds=(3,), n_grid=7, n_refine=8)
    res = su.compare_learners("gaussian", [(1.0, 0.1)], ["VarSMiLe"], **kw)
    m_star = res.parameters[0, 0]
    envs = [su._cell_environment("gaussian", 1.0, 0.1, s, 4000, 5) for s in (1, 2)]

    def loss(m):
        return np.mean(
            [su.mean_squared_error(su.var_smile(y, m, **k).estimates, t) for y, t, k in envs]
        )

    assert loss(m_star) <= min(loss(m) for m in np.geomspace(1e-4, 100, 7)) + 1e-12
    assert 0.2 < m_star < 0.8  # the published m* is 0.41 at this cell


# Published Delta MSE at tuned parameters, on seeds the chapter does not print (tuning 900;
# evaluation 910-913).  Tolerance: 5 % of the published value or 3 standard errors of our
# estimate, whichever is larger, with an absolute floor of 1e-4 (below it a learner is
# indistinguishable from exact Bayes at this scale: MP20 and SOR20 in most cells, and SOR20
# in every categorical cell, where the published values never exceed 8e-5).  SOR20 is also
# checked where it fails (sigma = 0.1, p_c = 0.1, published 0.061).
_PUBLISHED_CASES = [
    ("gaussian", 1.0, 0.1, su.PAPER_ALGORITHMS["gaussian"]),
    ("gaussian", 0.1, 0.1, ("SOR20", "VarSMiLe", "Nas12*", "Leaky")),
    ("categorical", 1.0, 0.1, su.PAPER_ALGORITHMS["categorical"]),
]


@pytest.mark.slow
@pytest.mark.parametrize("task, param, p_c, algorithms", _PUBLISHED_CASES)
def test_compare_learners_reproduces_published(task, param, p_c, algorithms):
    res = su.compare_learners(
        task,
        [(param, p_c)],
        algorithms,
        n_steps=40_000,
        tune_seeds=(900,),
        eval_seeds=(910, 911, 912, 913),
        tune_steps=20_000,
        n_grid=9,
        n_refine=6,
    )
    pub = res.published()[:, 0]
    for name, ours, sem, p in zip(algorithms, res.delta_mse[:, 0], res.delta_sem[:, 0], pub):
        tol = max(0.05 * abs(p), 3 * sem, 1e-4)
        assert abs(ours - p) <= tol, f"{name}: {ours:.4g} ± {sem:.2g}, published {p:.4g}"


@pytest.mark.slow
def test_var_smile_at_published_m_star():
    """VarSMiLe with the paper's tuned m* = 0.41 at (sigma, p_c) = (1, 0.1): published
    Delta MSE 0.0115; within 5 % or 3 standard errors (4 seeds of 10^5 steps)."""
    deltas = []
    for seed in (920, 921, 922, 923):
        y, truth, kw = su._cell_environment("gaussian", 1.0, 0.1, seed, 100_000, 5)
        eb = su.mean_squared_error(su.exact_bayes(y, 0.1, **kw).estimates, truth)
        deltas.append(su.mean_squared_error(su.var_smile(y, 0.41, **kw).estimates, truth) - eb)
    pub = su.published_mse("gaussian", "smileextended")[(1.0, 0.1)]
    sem = np.std(deltas, ddof=1) / 2
    assert abs(np.mean(deltas) - pub) < max(0.05 * pub, 3 * sem), (np.mean(deltas), sem, pub)


def test_combine_comparisons():
    kw = dict(n_steps=500, tune_seeds=(0,), eval_seeds=(1, 2), n_grid=3, n_refine=0)
    a = su.compare_learners("gaussian", [(1.0, 0.1)], ["MP1", "Leaky"], **kw)
    b = su.compare_learners("gaussian", [(2.0, 0.05)], ["MP1", "Leaky"], **kw)
    both = su.compare_learners("gaussian", [(1.0, 0.1), (2.0, 0.05)], ["MP1", "Leaky"], **kw)
    joined = su.combine_comparisons(a, b)
    assert joined.cells == both.cells
    for field in ("delta_mse", "delta_sem", "exact_mse", "parameters"):
        assert_allclose(getattr(joined, field), getattr(both, field), rtol=1e-13)
    c = su.compare_learners("gaussian", [(1.0, 0.1)], ["MP1"], **kw)
    with pytest.raises(ValueError, match="differ"):
        su.combine_comparisons(a, c)
    with pytest.raises(ValueError, match="at least one"):
        su.combine_comparisons()


def test_new_learners_reject_bad_input():
    rng = np.random.default_rng(0)
    for func, args, kw in [
        (su.smile, (0.5,), {}),
        (su.stratified_resampling, (0.1, 3), {"rng": rng}),
    ]:
        with pytest.raises(ValueError, match="observations must not be empty"):
            func([], *args, sigma=1.0, **kw)
        with pytest.raises(ValueError, match="sigma must be > 0"):
            func([0.0], *args, sigma=0.0, **kw)
        with pytest.raises(ValueError, match=r"category labels in 0\.\.4"):
            func([0, 5], *args, **CAT, **kw)
        with pytest.raises(ValueError, match="exactly one of sigma"):
            func([0.0], *args, **kw)
    with pytest.raises(ValueError, match="m must be >= 0"):
        su.smile([0.0], -0.1, sigma=1.0)
    for p_c in (0.0, 1.0, -0.1, np.nan):
        with pytest.raises(ValueError, match="p_change must (lie in|be finite)"):
            su.stratified_resampling([0.0], p_c, 3, rng=rng, sigma=1.0)
    with pytest.raises(ValueError, match="n_messages must be an integer >= 1"):
        su.stratified_resampling([0.0], 0.1, 0, rng=rng, sigma=1.0)
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        su.stratified_resampling([0.0], 0.1, 3, rng=1, sigma=1.0)
    with pytest.raises(ValueError, match="variant must be one of"):
        su.nassar([0.0], 0.1, sigma=1.0, variant="original")


def test_argsort_matches_numba_argsort():
    """The hand-written argsort (used by SOR and the particle filter) orders like numba's."""
    from numba import njit

    reference = njit(lambda a: np.argsort(a))
    rng = np.random.default_rng(8)
    for n in (0, 1, 2, 14, 15, 16, 40, 300):
        for a in (rng.random(n), rng.integers(0, 4, n).astype(float), np.zeros(n)):
            got = su._argsort(a)
            assert np.array_equal(got, reference(a))
            assert np.array_equal(np.sort(got), np.arange(n))
