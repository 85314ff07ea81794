"""Chapter 4 exercises: alternative correct answers pass and typical mistakes fail with a
helpful message (our solutions and the stubs are tested in tests/test_exercises.py)."""

from __future__ import annotations

import textwrap

import pytest
from conftest import ROOT
from exercise_tools import load, run_check, with_definition

from memlab.exercises import ExerciseFailure, ch04
from memlab.exercises.build import coding_exercises

NB_PATH = ROOT / "chapters" / "04_kernel_memory.ipynb"
LABELS = ["ch04-ex-projector", "ch04-ex-kernel-step", "ch04-ex-sdm-kernel"]


@pytest.fixture(scope="module")
def nb():
    return load(NB_PATH)


def test_chapter_has_the_three_coding_exercises(nb):
    assert set(LABELS) <= set(coding_exercises(nb))


def define(nb, label, source):
    return with_definition(nb, label, textwrap.dedent(source))


ALTERNATIVES = {
    "ch04-ex-projector": """
        def projector_weights(patterns):
            return np.linalg.pinv(np.asarray(patterns, dtype=float)) @ np.asarray(patterns, dtype=float)
    """,
    "ch04-ex-kernel-step": """
        import scipy.linalg as sla
        def kernel_step(patterns, kernel, state):
            x = np.asarray(patterns, float)
            c = sla.cho_factor(kernel(x, x))
            h = x.T @ sla.cho_solve(c, kernel(x, np.atleast_2d(state)).ravel())
            return np.where(h == 0, state, np.sign(h))
    """,
    "ch04-ex-sdm-kernel": """
        from scipy.special import comb
        def sdm_kernel_closed_form(d, n, m, r):
            total = 0.0
            for a in range(0, d + 1):
                for b in range(0, min(r - a, r - d + a) + 1):
                    if b <= n - d:
                        total += comb(d, a, exact=True) * comb(n - d, b, exact=True)
            return total * m / 2.0**n
    """,
}


@pytest.mark.parametrize("label", LABELS)
def test_alternative_correct_answers_pass(nb, label, capsys):
    namespace = define(nb, label, ALTERNATIVES[label])
    run_check(nb, label, namespace, hidden=True)
    assert "Correct:" in capsys.readouterr().out


WRONG = [
    (
        "ch04-ex-projector",
        """
        def projector_weights(patterns):
            x = np.asarray(patterns, float)
            return x.T @ x / x.shape[1]
     """,
        "Hebbian",
    ),
    (
        "ch04-ex-projector",
        """
        def projector_weights(patterns):
            x = np.asarray(patterns, float)
            w = x.T @ np.linalg.solve(x @ x.T, x)
            np.fill_diagonal(w, 0)
            return w
     """,
        "fixed points",
    ),
    (
        "ch04-ex-projector",
        """
        def projector_weights(patterns):
            x = np.asarray(patterns, float)
            w = x.T @ np.linalg.solve(x @ x.T, x)
     """,
        "return",
    ),
    (
        "ch04-ex-kernel-step",
        """
        def kernel_step(patterns, kernel, state):
            x = np.asarray(patterns, float)
            h = x.T @ kernel(x, np.atleast_2d(state)).ravel()
            return np.where(h >= 0, 1, -1)
     """,
        "without K",
    ),
    (
        "ch04-ex-kernel-step",
        """
        def kernel_step(patterns, kernel, state):
            x = np.asarray(patterns, float)
            h = x.T @ np.linalg.solve(kernel(x, x), kernel(x, np.atleast_2d(state)).ravel())
            return h
     """,
        "only -1 and",
    ),
    (
        "ch04-ex-sdm-kernel",
        """
        import math
        def sdm_kernel_closed_form(d, n, m, r):
            return sum(math.comb(d, a) * math.comb(n - d, b) for a in range(d + 1)
                       for b in range(n - d + 1) if a + b <= r and d - a + b <= r)
     """,
        "multiply by the density",
    ),
    (
        "ch04-ex-sdm-kernel",
        """
        import math
        def sdm_kernel_closed_form(d, n, m, r):
            p = sum(math.comb(n, k) for k in range(r + 1)) / 2**n
            return m * p * p
     """,
        "d=0",
    ),
]


@pytest.mark.parametrize(
    "label, source, hint", WRONG, ids=[f"{w[0]}-{i}" for i, w in enumerate(WRONG)]
)
def test_typical_wrong_answers_fail_helpfully(nb, label, source, hint):
    namespace = define(nb, label, source)
    with pytest.raises(ExerciseFailure, match=hint):
        run_check(nb, label, namespace)


def test_checks_report_correct_on_success(capsys):
    import numpy as np

    def good(patterns):
        x = np.asarray(patterns, float)
        return x.T @ np.linalg.solve(x @ x.T, x)

    assert ch04.check_projector_weights(good) is None
    assert capsys.readouterr().out.startswith("Correct:")
