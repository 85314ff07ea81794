"""Tests for the Chapter 5 exercise checks (memlab.exercises.ch05).

That our solutions pass and the stubs raise NotImplementedError is tested for every chapter in
tests/test_exercises.py; here: the check cells, alternative correct answers, typical mistakes.
"""

from __future__ import annotations

import nbformat
import numpy as np
import pytest
from conftest import ROOT

from memlab.exercises import ExerciseFailure, ch05

NOTEBOOK = ROOT / "chapters" / "05_plasticity.ipynb"


EXERCISES = {
    "ch05-ex-oja": ("oja_step", ch05.check_oja_step),
    "ch05-ex-invariant": ("invariant_update", ch05.check_invariant_update),
    "ch05-ex-clamp": ("clamped_change", ch05.check_clamped_change),
}


def test_check_cells_call_the_checks():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    for exercise, (name, check) in EXERCISES.items():
        cells = [
            c.source
            for c in nb.cells
            if c.metadata.get("exercise") == exercise
            and "exercise-check" in c.metadata.get("tags", [])
        ]
        assert cells == [f"ch05.{check.__name__}({name})"]


# ---------------------------------------------------------------------------
# alternative correct answers pass
# ---------------------------------------------------------------------------


def oja_in_place(w, x, eta):
    """Modifies w in place and returns it, with the update written out component-wise."""
    y = float(np.dot(w, x))
    for j in range(len(w)):
        w[j] = w[j] + eta * (y * x[j] - y * y * w[j])
    return w


def oja_as_list(w, x, eta):
    y = sum(wi * xi for wi, xi in zip(w, x))
    return [wi + eta * y * xi - eta * y**2 * wi for wi, xi in zip(w, x)]


def invariant_with_phi(w, x, m_bar, eta, kappa):
    y = np.dot(x, w)
    phi = y * (y * y - kappa * m_bar * m_bar)
    return phi * eta * np.asarray(x)


def clamp_piecewise(u, n_pre, params):
    area = n_pre * params.tau_g
    if u <= params.theta_minus:
        return 0
    if u <= params.theta_plus:
        return -params.a_ltd * (u - params.theta_minus) * area
    return (params.a_ltp * (u - params.theta_plus) - params.a_ltd * (u - params.theta_minus)) * area


@pytest.mark.parametrize(
    "answer,check",
    [
        (oja_in_place, ch05.check_oja_step),
        (oja_as_list, ch05.check_oja_step),
        (invariant_with_phi, ch05.check_invariant_update),
        (clamp_piecewise, ch05.check_clamped_change),
    ],
)
def test_alternative_correct_answers_pass(answer, check, capsys):
    check(answer)
    check(answer, hidden=True)
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and all(line.startswith("Correct:") for line in out)


# ---------------------------------------------------------------------------
# typical wrong answers fail with a helpful message
# ---------------------------------------------------------------------------


def oja_plain_hebb(w, x, eta):
    return w + eta * (w @ x) * x


def oja_linear_decay(w, x, eta):
    y = w @ x
    return w + eta * y * (x - w)


def oja_returns_change(w, x, eta):
    y = w @ x
    return eta * y * (x - y * w)


def oja_updates_y_late(w, x, eta):
    y = w @ x
    w = w + eta * y * x
    y = w @ x
    return w - eta * y * y * w


def oja_no_return(w, x, eta):
    y = w @ x
    w = w + eta * y * (x - y * w)


def invariant_heterosynaptic(w, x, m_bar, eta, kappa):
    y = w @ x
    return eta * (x * y**3 - kappa * m_bar**2 * y * w)


def invariant_linear_m(w, x, m_bar, eta, kappa):
    y = w @ x
    return eta * x * (y**3 - kappa * m_bar * y)


def invariant_new_weights(w, x, m_bar, eta, kappa):
    y = w @ x
    return w + eta * x * (y**3 - kappa * m_bar**2 * y)


def clamp_no_ltd_above(u, n_pre, params):
    if u > params.theta_plus:
        return params.a_ltp * (u - params.theta_plus) * n_pre * params.tau_g
    return -params.a_ltd * max(u - params.theta_minus, 0.0) * n_pre * params.tau_g


def clamp_forgets_tau(u, n_pre, params):
    return (
        params.a_ltp * max(u - params.theta_plus, 0.0)
        - params.a_ltd * max(u - params.theta_minus, 0.0)
    ) * n_pre


def clamp_unrectified_ltd(u, n_pre, params):
    return (
        (params.a_ltp * max(u - params.theta_plus, 0.0) - params.a_ltd * (u - params.theta_minus))
        * n_pre
        * params.tau_g
    )


@pytest.mark.parametrize(
    "answer,check,message",
    [
        (oja_plain_hebb, ch05.check_oja_step, "decay term"),
        (oja_linear_decay, ch05.check_oja_step, "y\\*\\*2 \\* w"),
        (oja_returns_change, ch05.check_oja_step, "return the new weights"),
        (oja_updates_y_late, ch05.check_oja_step, "before the update"),
        (oja_no_return, ch05.check_oja_step, "forget the `return`"),
        (invariant_heterosynaptic, ch05.check_invariant_update, "not parallel to the presynaptic"),
        (invariant_linear_m, ch05.check_invariant_update, "m_bar\\*\\*2"),
        (invariant_new_weights, ch05.check_invariant_update, "return the change"),
        (clamp_no_ltd_above, ch05.check_clamped_change, "does not switch off"),
        (clamp_forgets_tau, ch05.check_clamped_change, "factor tau_g"),
        (clamp_unrectified_ltd, ch05.check_clamped_change, "exactly 0"),
    ],
)
def test_typical_wrong_answers_fail_helpfully(answer, check, message):
    with pytest.raises(ExerciseFailure, match=message):
        check(answer)
