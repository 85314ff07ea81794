"""Chapter 6 exercises: alternative correct answers pass and typical mistakes fail with a
helpful message (our solutions and the stubs are tested in tests/test_exercises.py)."""

from __future__ import annotations

import textwrap

import pytest
from conftest import ROOT
from exercise_tools import load, with_definition

from memlab.exercises import ExerciseFailure, ch06

CHAPTER = ROOT / "chapters" / "06_local_learning.ipynb"
LABELS = {
    "ch06-ex-rls": ("rls_step", ch06.check_rls_step),
    "ch06-ex-rmhebb": ("reward_hebbian_update", ch06.check_reward_hebbian_update),
    "ch06-ex-clapp": ("clapp_local_update", ch06.check_clapp_local_update),
}


@pytest.fixture(scope="module")
def nb():
    return load(CHAPTER)


def answer(nb, label, source):
    namespace = with_definition(nb, label, textwrap.dedent(source))
    name, check = LABELS[label]
    return namespace[name], check


# --- alternative correct answers ----------------------------------------------------------------

RLS_NEW_P = """
def rls_step(P, w, r, f):
    e = float(np.dot(w, r) - f)
    P_new = P - (P @ np.outer(r, r) @ P) / (1 + r @ P @ r)
    return P_new, w - e * (P_new @ r)
"""

HEBB_WHERE = """
def reward_hebbian_update(r, z, z_bar, perf, perf_bar, eta):
    return np.where(perf > perf_bar, eta * (z - z_bar), 0.0) * np.array(r)
"""

CLAPP_CHAIN_RULE = """
def clapp_local_update(W, W_pred, x_prev, x, y):
    a, b = W @ x, W @ x_prev
    z, c = np.where(a > 0, a, 0.0), np.where(b > 0, b, 0.0)
    u = float(z @ W_pred @ c)
    if y * u >= 1:
        return np.zeros_like(W), np.zeros_like(W_pred)
    dL_du = -y
    dz = (W_pred @ c) * (a > 0)   # du/da
    dc = (W_pred.T @ z) * (b > 0)  # du/da'
    grad_W = dL_du * (dz[:, None] * x[None, :] + dc[:, None] * x_prev[None, :])
    grad_P = dL_du * np.outer(z, c)
    return -grad_W, -grad_P
"""


@pytest.mark.parametrize(
    "label, source",
    [
        ("ch06-ex-rls", RLS_NEW_P),
        ("ch06-ex-rmhebb", HEBB_WHERE),
        ("ch06-ex-clapp", CLAPP_CHAIN_RULE),
    ],
)
def test_alternative_correct_answers_pass(nb, label, source, capsys):
    func, check = answer(nb, label, source)
    check(func)
    check(func, hidden=True)
    assert capsys.readouterr().out.count("Correct:") == 2


# --- typical mistakes ---------------------------------------------------------------------------

MISTAKES = [
    (
        "ch06-ex-rls",
        """
        def rls_step(P, w, r, f):
            pr = P @ r
            P_new = P - np.outer(pr, pr)
            return P_new, w - (w @ r - f) * (P_new @ r)
        """,
        "denominator",
    ),
    (
        "ch06-ex-rls",
        """
        def rls_step(P, w, r, f):
            pr = P @ r
            k = pr / (1 + r @ pr)
            return P - np.outer(k, pr), w + (w @ r - f) * k
        """,
        "sign of the weight change",
    ),
    (
        "ch06-ex-rls",
        """
        def rls_step(P, w, r, f):
            pr = P @ r
            P -= np.outer(pr, pr) / (1 + r @ pr)
            w -= (w @ r - f) * (P @ r)
            return P, w
        """,
        "in place",
    ),
    (
        "ch06-ex-rls",
        """
        def rls_step(P, w, r, f):
            pr = P @ r
            return P - np.outer(pr, pr) / (1 + r @ pr), w - (w @ r - f) * pr
        """,
        "old P",
    ),
    (
        "ch06-ex-rmhebb",
        """
        def reward_hebbian_update(r, z, z_bar, perf, perf_bar, eta):
            return eta * (z - z_bar) * r
        """,
        "exactly zero",
    ),
    (
        "ch06-ex-rmhebb",
        """
        def reward_hebbian_update(r, z, z_bar, perf, perf_bar, eta):
            return eta * (perf > perf_bar) * z * r
        """,
        "z - z_bar",
    ),
    (
        "ch06-ex-rmhebb",
        """
        def reward_hebbian_update(r, z, z_bar, perf, perf_bar, eta):
            return eta * (perf >= perf_bar) * (z - z_bar) * r
        """,
        "not *better* than usual",
    ),
    (
        "ch06-ex-clapp",
        """
        def clapp_local_update(W, W_pred, x_prev, x, y):
            a, b = W @ x, W @ x_prev
            z, c = np.maximum(a, 0), np.maximum(b, 0)
            g = y if 1 - y * (z @ W_pred @ c) > 0 else 0.0
            return g * np.outer((W_pred @ c) * (a > 0), x), g * np.outer(z, c)
        """,
        "retrodiction",
    ),
    (
        "ch06-ex-clapp",
        """
        def clapp_local_update(W, W_pred, x_prev, x, y):
            a, b = W @ x, W @ x_prev
            z, c = np.maximum(a, 0), np.maximum(b, 0)
            g = -y if 1 - y * (z @ W_pred @ c) > 0 else 0.0
            dW = g * (np.outer((W_pred @ c) * (a > 0), x) + np.outer((W_pred.T @ z) * (b > 0), x_prev))
            return dW, g * np.outer(z, c)
        """,
        "point up the loss",
    ),
    (
        "ch06-ex-clapp",
        """
        def clapp_local_update(W, W_pred, x_prev, x, y):
            a, b = W @ x, W @ x_prev
            z, c = np.maximum(a, 0), np.maximum(b, 0)
            g = y
            dW = g * (np.outer((W_pred @ c) * (a > 0), x) + np.outer((W_pred.T @ z) * (b > 0), x_prev))
            return dW, g * np.outer(z, c)
        """,
        "must be zero",
    ),
    (
        "ch06-ex-clapp",
        """
        def clapp_local_update(W, W_pred, x_prev, x, y):
            a, b = W @ x, W @ x_prev
            z, c = np.maximum(a, 0), np.maximum(b, 0)
            g = y if 1 - y * (z @ W_pred @ c) > 0 else 0.0
            dW = g * (np.outer(W_pred @ c, x) + np.outer(W_pred.T @ z, x_prev))
            return dW, g * np.outer(z, c)
        """,
        "relu'",
    ),
]


@pytest.mark.parametrize(
    "label, source, hint", MISTAKES, ids=[f"{m[0]}-{k}" for k, m in enumerate(MISTAKES)]
)
def test_typical_mistakes_fail_helpfully(nb, label, source, hint):
    func, check = answer(nb, label, source)
    with pytest.raises(ExerciseFailure, match=None) as info:
        check(func, hidden=True)
    assert hint in str(info.value), str(info.value)


def test_wrong_return_types_are_explained(nb):
    func, check = answer(nb, "ch06-ex-rls", "def rls_step(P, w, r, f):\n    return P\n")
    with pytest.raises(ExerciseFailure, match="2 values"):
        check(func)
    func, check = answer(
        nb,
        "ch06-ex-rmhebb",
        "def reward_hebbian_update(r, z, z_bar, perf, perf_bar, eta):\n    pass\n",
    )
    with pytest.raises(ExerciseFailure, match="return"):
        check(func)
