"""Every coding exercise: our solution passes its check, the stub fails it with
NotImplementedError; for chapters 1, 2, 3 and 7 also alternative correct answers pass and typical
wrong answers fail with a helpful message. (Chapters 4 to 6 have their own test_exercises_chNN.py.)
"""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
from conftest import CHAPTERS, ROOT
from exercise_tools import cell_source, load, run_check, with_definition

from memlab.exercises import ExerciseFailure
from memlab.exercises.build import coding_exercises

EXERCISES = [(path, label) for path in CHAPTERS for label in coding_exercises(load(path))]


@pytest.mark.parametrize("path, label", EXERCISES, ids=[label for _, label in EXERCISES])
def test_solution_passes_and_stub_raises(path, label, capsys):
    nb = load(path)
    namespace = with_definition(nb, label, cell_source(nb, label, "solution"))
    run_check(nb, label, namespace)
    run_check(nb, label, namespace, hidden=True)
    assert "Correct:" in capsys.readouterr().out
    namespace = with_definition(nb, label, cell_source(nb, label, "stub"))
    with pytest.raises(NotImplementedError):
        run_check(nb, label, namespace)


def test_every_chapter_has_a_coding_exercise_with_a_check():
    for path in CHAPTERS:
        assert coding_exercises(load(path)), f"{path.name} has no coding exercise"


# --- alternative correct answers and typical mistakes -------------------------------------------


def answer(chapter: str, label: str, source: str):
    """Namespace of chapter ``chapter`` with ``source`` defined; returns (nb, namespace)."""
    nb = load(ROOT / "chapters" / chapter)
    return nb, with_definition(nb, label, textwrap.dedent(source))


ASYNC_FROM_SCRATCH = """
def async_sweep(weights, state, order):
    s = np.array(state, dtype=np.int64)
    energies = []
    for i in order:
        h = weights[i] @ s
        if h > 0:
            s[i] = 1
        elif h < 0:
            s[i] = -1
        energies.append(-0.5 * s @ weights @ s)
    return s, energies
"""

ASYNC_SYNCHRONOUS = """
def async_sweep(weights, state, order):
    h = weights @ state
    s = np.where(h != 0, np.sign(h), state)
    return s, [-0.5 * s @ weights @ s] * len(order)
"""

ASYNC_WRONG_SIGN = """
def async_sweep(weights, state, order):
    s = state.astype(float).copy()
    energies = []
    for i in order:
        h = weights[i] @ s
        if h != 0:
            s[i] = -np.sign(h)
        energies.append(-0.5 * s @ weights @ s)
    return s, np.array(energies)
"""

ASYNC_IN_PLACE = """
def async_sweep(weights, state, order):
    energies = []
    for i in order:
        h = weights[i] @ state
        if h != 0:
            state[i] = np.sign(h)
        energies.append(-0.5 * state @ weights @ state)
    return state, energies
"""


def test_ch01_async_alternative_passes():
    nb, ns = answer("01_hopfield.ipynb", "ch01-ex-async", ASYNC_FROM_SCRATCH)
    run_check(nb, "ch01-ex-async", ns, hidden=True)


@pytest.mark.parametrize(
    "source, message",
    [
        (ASYNC_SYNCHRONOUS, "synchronous"),
        (ASYNC_WRONG_SIGN, "energy increases at step"),
        (ASYNC_IN_PLACE, "work on a copy"),
    ],
    ids=["synchronous", "wrong-sign", "in-place"],
)
def test_ch01_async_mistakes_get_helpful_messages(source, message):
    nb, ns = answer("01_hopfield.ipynb", "ch01-ex-async", source)
    with pytest.raises(ExerciseFailure, match=message):
        run_check(nb, "ch01-ex-async", ns)


CAPACITY_ALTERNATIVE = """
def capacity_estimate(n_neurons, update, seed=0):
    # interpolate the fraction of retrieving trials on a finer grid, with more trials
    loads = np.linspace(0.1, 0.2, 21)
    final = hf.final_overlap_sweep(n_neurons, loads, n_trials=32,
                                   rng=np.random.default_rng(seed + 11), n_steps=50,
                                   update=update, progress=False)
    frac = (final > 0.9).mean(axis=1)
    k = int(np.argmax(frac < 0.5))
    return float(np.interp(0.5, [frac[k], frac[k - 1]], [loads[k], loads[k - 1]]))
"""


def test_ch01_capacity_alternative_passes_and_pattern_count_fails():
    nb, ns = answer("01_hopfield.ipynb", "ch01-ex-async-capacity", CAPACITY_ALTERNATIVE)
    run_check(nb, "ch01-ex-async-capacity", ns)
    nb, ns = answer(
        "01_hopfield.ipynb",
        "ch01-ex-async-capacity",
        "def capacity_estimate(n_neurons, update, seed=0):\n    return 160\n",
    )
    with pytest.raises(ExerciseFailure, match="number of patterns"):
        run_check(nb, "ch01-ex-async-capacity", ns)


DENSE_VECTORISED = """
def dense_difference(patterns, state, i, n):
    xi = patterns.astype(float)
    m = xi @ state - xi[:, i] * state[i]
    return np.sum((m + xi[:, i]) ** (n + 1) - (m - xi[:, i]) ** (n + 1))
"""

DENSE_WITH_SELF = """
def dense_difference(patterns, state, i, n):
    xi = patterns.astype(np.int64)
    m = xi @ state.astype(np.int64)
    return int(np.sum((m + xi[:, i]) ** (n + 1) - (m - xi[:, i]) ** (n + 1)))
"""


def test_ch02_field_alternative_passes_and_self_term_is_named():
    nb, ns = answer("02_dense_memory.ipynb", "ch02-ex-field", DENSE_VECTORISED)
    run_check(nb, "ch02-ex-field", ns, hidden=True)
    nb, ns = answer("02_dense_memory.ipynb", "ch02-ex-field", DENSE_WITH_SELF)
    with pytest.raises(ExerciseFailure, match="include neuron i itself"):
        run_check(nb, "ch02-ex-field", ns)


GAIN_ALTERNATIVE = """
def capacity_versus_gain(n, gains):
    alpha_c, limits = [], []
    for gain in gains:
        result = dense.critical_capacity(n, g=float(gain))
        alpha_c.append(result.alpha_c)
        limits.append(result.limit)
    return alpha_c, tuple(limits)
"""


def test_ch02_gain_alternative_passes():
    nb, ns = answer("02_dense_memory.ipynb", "ch02-ex-gain", GAIN_ALTERNATIVE)
    run_check(nb, "ch02-ex-gain", ns)


READOUT_ALTERNATIVE = """
def readout_time(alpha, init_overlap):
    sol = dmft.solve(1, 1.5, alpha, 0.25, 40, init_overlap, 3000,
                     rng=np.random.default_rng(123))
    m_bar = sol.m / np.sqrt(np.diag(sol.c_phi))
    return 0.25 * np.argmax(m_bar), m_bar.max()
"""

READOUT_INDEX = """
def readout_time(alpha, init_overlap):
    sol = dmft.solve(1, 1.5, alpha, 0.25, 40, init_overlap, 2000, rng=np.random.default_rng(0))
    return int(np.argmax(sol.m_bar)), float(sol.m_bar.max())
"""


def test_ch03_readout_alternative_passes_and_index_is_caught():
    nb, ns = answer("03_dmft.ipynb", "ch03-ex-readout", READOUT_ALTERNATIVE)
    run_check(nb, "ch03-ex-readout", ns)
    nb, ns = answer("03_dmft.ipynb", "ch03-ex-readout", READOUT_INDEX)
    with pytest.raises(ExerciseFailure, match="index of the maximum"):
        run_check(nb, "ch03-ex-readout", ns)


PF_SCIPY = """
from scipy.special import logsumexp

def particle_weights(weights, log_p_particles, log_p_prior, p_change):
    a = np.log(1 - p_change) + np.asarray(log_p_particles)
    b = np.full_like(a, np.log(p_change) + log_p_prior)
    log_w = np.log(weights) + logsumexp(np.stack([a, b]), axis=0)
    return np.exp(log_w - logsumexp(log_w))
"""

PF_NAIVE = """
def particle_weights(weights, log_p_particles, log_p_prior, p_change):
    w = weights * ((1 - p_change) * np.exp(log_p_particles) + p_change * np.exp(log_p_prior))
    return w / w.sum()
"""


def test_ch07_pf_alternative_passes_and_underflow_is_explained():
    nb, ns = answer("07_surprise.ipynb", "ch07-ex-pf", PF_SCIPY)
    run_check(nb, "ch07-ex-pf", ns, hidden=True)
    nb, ns = answer("07_surprise.ipynb", "ch07-ex-pf", PF_NAIVE)
    with np.errstate(all="ignore"), pytest.raises(ExerciseFailure, match="log-sum-exp"):
        run_check(nb, "ch07-ex-pf", ns)
