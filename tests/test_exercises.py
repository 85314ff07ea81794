"""Every coding exercise of the book, checked from one table.

For every coding exercise the assignment builder finds in the chapters:

- our solution passes its check cell, the visible and the hidden cases (one ``Correct:`` line per
  check call and run), and the stub makes the check cell raise ``NotImplementedError``;
- the check cell hands the exercise's own function to a check of its chapter's module.

From the table ``ANSWERS``: alternative correct answers pass the visible and the hidden cases, and
typical wrong answers fail with an ``ExerciseFailure`` whose message names the mistake.

Every answer runs as a student's would: the chapter's setup cell, the answer, then the exercise's
check cell(s) as written in the chapter, all in one namespace. (nbgrader's grading of the same
cells is tested in test_assignments.py.)
"""

from __future__ import annotations

import ast
import functools
import re
import textwrap
from typing import NamedTuple

import matplotlib
import nbformat
import numpy as np
import pytest
from conftest import CHAPTERS

from memlab.exercises import ExerciseFailure
from memlab.exercises.build import coding_exercises, hidden_calls

matplotlib.use("Agg")


@functools.cache
def notebook(path):
    return nbformat.read(path, as_version=4)


@functools.cache
def exercises(path):
    return coding_exercises(notebook(path))


CHAPTER_OF = {label: path for path in CHAPTERS for label in exercises(path)}


def exercise(label: str):
    path = CHAPTER_OF[label]
    return notebook(path), exercises(path)[label]


def attempt(label: str, answer: str, calls: str = "visible") -> None:
    """Run the chapter's setup cell, ``answer``, and the exercise's check cell(s), as a student.

    ``calls``: "visible" runs the check cell as the chapter has it; "both" adds its hidden calls
    after the visible ones, as nbgrader's autograded test cell does; "hidden" replaces the visible
    calls by the hidden ones.
    """
    nb, ex = exercise(label)
    setup = next(cell for cell in nb.cells if cell.cell_type == "code")
    namespace: dict = {"__name__": "__exercise__"}
    exec(compile(setup.source, f"<setup of {label}>", "exec"), namespace)
    exec(compile(textwrap.dedent(answer), f"<answer to {label}>", "exec"), namespace)
    for index in ex.checks:
        check = nb.cells[index].source
        hidden = "\n".join(hidden_calls(check))
        if calls == "hidden":
            tree = ast.parse(check)
            tree.body = [node for node in tree.body if not _is_check_call(node)]
            check = ast.unparse(tree) + "\n" + hidden
        elif calls == "both":
            check += "\n" + hidden
        else:
            assert calls == "visible", calls
        exec(compile(check, f"<check of {label}>", "exec"), namespace)


def _is_check_call(node) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Attribute)
        and node.value.func.attr.startswith("check_")
    )


def check_calls(label: str) -> list[ast.Call]:
    """The ``chNN.check_<name>(...)`` calls of the exercise's check cell(s)."""
    nb, ex = exercise(label)
    return [
        node.value
        for index in ex.checks
        for node in ast.parse(nb.cells[index].source).body
        if _is_check_call(node)
    ]


# Checks that run simulations of several seconds (a capacity sweep, DMFT solves).
SLOW_LABELS = {"ch01-ex-async-capacity", "ch03-ex-readout"}


def by_label(labels):
    return [
        pytest.param(label, id=label, marks=[pytest.mark.slow] if label in SLOW_LABELS else [])
        for label in labels
    ]


def test_every_slow_label_is_an_exercise():
    assert SLOW_LABELS <= set(CHAPTER_OF)


@pytest.mark.parametrize("label", by_label(CHAPTER_OF))
def test_solution_passes_visible_and_hidden_checks(label, capsys):
    nb, ex = exercise(label)
    attempt(label, nb.cells[ex.solutions[0]].source, "both")
    out = capsys.readouterr().out
    assert out.count("Correct:") == 2 * len(check_calls(label)), out


@pytest.mark.parametrize("label", CHAPTER_OF)
def test_stub_makes_the_check_raise_not_implemented(label):
    nb, ex = exercise(label)
    with pytest.raises(NotImplementedError):
        attempt(label, nb.cells[ex.stub].source)


@pytest.mark.parametrize("label", CHAPTER_OF)
def test_check_cell_hands_the_exercise_function_to_its_chapter_check(label):
    _, ex = exercise(label)
    module = f"ch{CHAPTER_OF[label].name[:2]}"
    calls = check_calls(label)
    assert calls, f"{label}: no check_<name>(...) call in the check cell"
    for call in calls:
        assert isinstance(call.func.value, ast.Name) and call.func.value.id == module, (
            f"{label}: the check cell calls {ast.unparse(call.func)}, not a check of {module}"
        )
        assert [ast.unparse(arg) for arg in call.args] == [ex.function], (
            f"{label}: {ast.unparse(call)} does not check the exercise's function {ex.function}"
        )
        module_obj = __import__(f"memlab.exercises.{module}", fromlist=["_"])
        assert callable(getattr(module_obj, call.func.attr, None)), (
            f"{label}: memlab.exercises.{module} has no {call.func.attr}"
        )


# --- alternative correct answers and typical mistakes -------------------------------------------


class Answer(NamedTuple):
    """A student's answer to an exercise, and what its check must say.

    ``mistake`` is None for a correct answer, which must pass, or the text the failure message
    must contain. ``calls`` (see :func:`attempt`): which check calls run. A correct answer passes
    "both" the visible and the hidden calls, unless that takes long (then "visible"); a mistake
    is caught by the "visible" calls, which the student sees, or is a case for the "hidden" ones.
    """

    label: str
    name: str
    source: str
    mistake: str | None = None
    calls: str = ""  # "": "both" for a correct answer, "visible" for a mistake

    @property
    def runs(self) -> str:
        return self.calls or ("both" if self.mistake is None else "visible")


ANSWERS = [
    # --- Chapter 1 ---
    Answer(
        "ch01-ex-async",
        "from-scratch",
        """
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
        """,
    ),
    Answer(
        "ch01-ex-async",
        "synchronous",
        """
        def async_sweep(weights, state, order):
            h = weights @ state
            s = np.where(h != 0, np.sign(h), state)
            return s, [-0.5 * s @ weights @ s] * len(order)
        """,
        mistake="synchronous",
    ),
    Answer(
        "ch01-ex-async",
        "wrong-sign",
        """
        def async_sweep(weights, state, order):
            s = state.astype(float).copy()
            energies = []
            for i in order:
                h = weights[i] @ s
                if h != 0:
                    s[i] = -np.sign(h)
                energies.append(-0.5 * s @ weights @ s)
            return s, np.array(energies)
        """,
        mistake="energy increases at step",
    ),
    Answer(
        "ch01-ex-async",
        "in-place",
        """
        def async_sweep(weights, state, order):
            energies = []
            for i in order:
                h = weights[i] @ state
                if h != 0:
                    state[i] = np.sign(h)
                energies.append(-0.5 * state @ weights @ state)
            return state, energies
        """,
        mistake="work on a copy",
    ),
    Answer(
        "ch01-ex-async",
        "fields-computed-once",
        """
        def async_sweep(weights, state, order):
            s = state.astype(float).copy()
            h = weights @ s
            energies = []
            for i in order:
                if h[i] != 0:
                    s[i] = np.sign(h[i])
                energies.append(-0.5 * s @ weights @ s)
            return s, energies
        """,
        mistake="compute h_i inside the loop",
    ),
    Answer(
        "ch01-ex-async",
        "ties-to-plus",
        """
        def async_sweep(weights, state, order):
            s = state.astype(float).copy()
            energies = []
            for i in order:
                s[i] = 1 if weights[i] @ s >= 0 else -1
                energies.append(-0.5 * s @ weights @ s)
            return s, energies
        """,
        mistake="keep its state when h_i = 0",
    ),
    Answer(
        "ch01-ex-async",
        "sign-of-zero",
        """
        def async_sweep(weights, state, order):
            s = state.astype(float).copy()
            energies = []
            for i in order:
                s[i] = np.sign(weights[i] @ s)
                energies.append(-0.5 * s @ weights @ s)
            return s, energies
        """,
        mistake="np.sign(h) is 0",
    ),
    Answer(
        "ch01-ex-async",
        "energy-before-update",
        """
        def async_sweep(weights, state, order):
            s = state.astype(float).copy()
            energies = []
            for i in order:
                energies.append(-0.5 * s @ weights @ s)
                h = weights[i] @ s
                if h != 0:
                    s[i] = np.sign(h)
            return s, energies
        """,
        mistake="record the energy after each update",
    ),
    Answer(
        "ch01-ex-async-capacity",
        "ignores-update",
        """
        def capacity_estimate(n_neurons, update, seed=0):
            loads = np.round(np.arange(0.08, 0.2001, 0.01), 3)
            final = hf.final_overlap_sweep(
                n_neurons, loads, n_trials=24, rng=np.random.default_rng(seed), n_steps=40,
                progress=False,
            )
            return hf.crossing_load(loads, (final > 0.9).mean(axis=1), level=0.5)
        """,
        mistake="ignores `update`",
    ),
    Answer(
        "ch01-ex-async-capacity",
        "constant",
        """
        def capacity_estimate(n_neurons, update, seed=0):
            return 0.16
        """,
        mistake="ignores `update`",
    ),
    Answer(
        "ch01-ex-async-capacity",
        "interpolated-finer-grid",
        """
        def capacity_estimate(n_neurons, update, seed=0):
            # interpolate the fraction of retrieving trials on a finer grid, with more trials
            loads = np.linspace(0.1, 0.2, 21)
            final = hf.final_overlap_sweep(
                n_neurons, loads, n_trials=32, rng=np.random.default_rng(seed + 11),
                n_steps=50, update=update, progress=False,
            )
            frac = (final > 0.9).mean(axis=1)
            k = int(np.argmax(frac < 0.5))
            return float(np.interp(0.5, [frac[k], frac[k - 1]], [loads[k], loads[k - 1]]))
        """,
        calls="visible",  # the hidden calls repeat long simulations
    ),
    Answer(
        "ch01-ex-async-capacity",
        "pattern-count",
        """
        def capacity_estimate(n_neurons, update, seed=0):
            return 160
        """,
        mistake="number of patterns",
    ),
    # --- Chapter 2 ---
    Answer(
        "ch02-ex-field",
        "vectorised",
        """
        def dense_difference(patterns, state, i, n):
            xi = patterns.astype(float)
            m = xi @ state - xi[:, i] * state[i]
            return np.sum((m + xi[:, i]) ** (n + 1) - (m - xi[:, i]) ** (n + 1))
        """,
    ),
    Answer(
        "ch02-ex-field",
        "with-self-term",
        """
        def dense_difference(patterns, state, i, n):
            xi = patterns.astype(np.int64)
            m = xi @ state.astype(np.int64)
            return int(np.sum((m + xi[:, i]) ** (n + 1) - (m - xi[:, i]) ** (n + 1)))
        """,
        mistake="include neuron i itself",
    ),
    Answer(
        "ch02-ex-gain",
        "loop-over-results",
        """
        def capacity_versus_gain(n, gains):
            alpha_c, limits = [], []
            for gain in gains:
                result = dense.critical_capacity(n, g=float(gain))
                alpha_c.append(result.alpha_c)
                limits.append(result.limit)
            return alpha_c, tuple(limits)
        """,
    ),
    Answer(
        "ch02-ex-gain",
        "ignores-n",
        """
        def capacity_versus_gain(n, gains):
            results = [dense.critical_capacity(1, float(gain)) for gain in gains]
            return np.array([r.alpha_c for r in results]), [r.limit for r in results]
        """,
        mistake="use dense.critical_capacity(n, g).alpha_c",
    ),
    Answer(
        "ch02-ex-gain",
        "no-limits",
        """
        def capacity_versus_gain(n, gains):
            results = [dense.critical_capacity(n, float(gain)) for gain in gains]
            return np.array([r.alpha_c for r in results]), [None for r in results]
        """,
        mistake="the branch ends by",
    ),
    # --- Chapter 3 ---
    Answer(
        "ch03-ex-readout",
        "other-seed-and-samples",
        """
        def readout_time(alpha, init_overlap, tolerance=0.01):
            sol = dmft.solve(
                1, 1.5, alpha, 0.25, 40, init_overlap, 3000, rng=np.random.default_rng(123)
            )
            m_bar = sol.overlaps / np.sqrt(np.diag(sol.c_phi))
            near = np.flatnonzero(m_bar >= m_bar.max() - tolerance)
            return 0.25 * near[0], m_bar.max()
        """,
        calls="visible",  # the hidden calls repeat long simulations
    ),
    Answer(
        "ch03-ex-readout",
        "index-not-time",
        """
        def readout_time(alpha, init_overlap, tolerance=0.01):
            sol = dmft.solve(
                1, 1.5, alpha, 0.25, 40, init_overlap, 2000, rng=np.random.default_rng(0)
            )
            k = int(np.argmax(sol.m_bar >= sol.m_bar.max() - tolerance))
            return k, float(sol.m_bar.max())
        """,
        mistake="step index",
    ),
    Answer(
        "ch03-ex-readout",
        "argmax-not-first-within-tolerance",
        """
        def readout_time(alpha, init_overlap, tolerance=0.01):
            sol = dmft.solve(
                1, 1.5, alpha, 0.25, 40, init_overlap, 2000, rng=np.random.default_rng(0)
            )
            return 0.25 * int(np.argmax(sol.m_bar)), float(sol.m_bar.max())
        """,
        mistake="time of the maximum",
    ),
    Answer(
        "ch03-ex-first-step",
        "monte-carlo",
        """
        def first_step(n, alpha, init_overlap, dt):
            r = np.random.default_rng(5)
            u, v = r.standard_normal((2, 400_000))
            x0 = 1.5 * init_overlap + 1.5 * np.sqrt(1 - init_overlap**2) * u
            m0, c0 = np.mean(np.tanh(x0)), np.mean(np.tanh(x0) ** 2)
            if n == 1:
                c_eta, f = 1.5**2 * c0, 1.5 * np.sqrt(alpha)
            else:
                c_eta, f = 1.5**2 * np.prod(np.arange(1, 2 * n, 2)) * c0**n, 0.0
            x1 = (1 - dt) * x0 + dt * (
                1.5 / np.sqrt(alpha) * m0**n + np.sqrt(c_eta) * v + f * np.tanh(x0)
            )
            return np.mean(np.tanh(x1)), np.mean(np.tanh(x1) ** 2)
        """,
    ),
    Answer(
        "ch03-ex-first-step",
        "no-self-coupling",
        """
        def first_step(n, alpha, init_overlap, dt):
            u, w = np.polynomial.hermite_e.hermegauss(60)
            w = w / w.sum()
            x0 = 1.5 * init_overlap + 1.5 * np.sqrt(1 - init_overlap**2) * u
            m0, c0 = w @ np.tanh(x0), w @ np.tanh(x0) ** 2
            c_eta = 1.5**2 * np.prod(np.arange(1, 2 * n, 2)) * c0**n
            drift = (1 - dt) * x0 + dt * 1.5 / np.sqrt(alpha) * m0**n
            phi1 = np.tanh(drift[:, None] + dt * np.sqrt(c_eta) * u[None, :])
            ww = w[:, None] * w[None, :]
            return float(np.sum(ww * phi1)), float(np.sum(ww * phi1**2))
        """,
        mistake="self-coupling",
    ),
    Answer(
        "ch03-ex-isserlis",
        "monte-carlo-free-closed-forms",
        """
        def gaussian_moment(p, q, a, b, c):
            from itertools import permutations

            # brute force: average the product of covariances over all pairings
            labels = ["u"] * p + ["v"] * q
            cov = {("u", "u"): a, ("v", "v"): b, ("u", "v"): c, ("v", "u"): c}

            def pairings(items):
                if not items:
                    yield 1.0
                    return
                first, rest = items[0], items[1:]
                for k in range(len(rest)):
                    for tail in pairings(rest[:k] + rest[k + 1 :]):
                        yield cov[first, rest[k]] * tail

            return sum(pairings(labels)) if (p + q) % 2 == 0 else 0.0
        """,
    ),
    Answer(
        "ch03-ex-isserlis",
        "no-factorial",
        """
        from math import comb

        def gaussian_moment(p, q, a, b, c):
            def dfact(k):
                return 1 if k <= 0 else (k - 1) * dfact(k - 2)

            return sum(
                comb(p, j) * comb(q, j) * c**j * dfact(p - j) * a ** ((p - j) // 2)
                * dfact(q - j) * b ** ((q - j) // 2)
                for j in range(min(p, q) + 1)
                if (p - j) % 2 == 0 and (q - j) % 2 == 0
            )
        """,
        mistake="Count the pairings",
    ),
    # --- Chapter 4 ---
    Answer(
        "ch04-ex-projector",
        "pseudo-inverse",
        """
        def projector_weights(patterns):
            x = np.asarray(patterns, dtype=float)
            return np.linalg.pinv(x) @ x
        """,
    ),
    Answer(
        "ch04-ex-projector",
        "hebbian",
        """
        def projector_weights(patterns):
            x = np.asarray(patterns, float)
            return x.T @ x / x.shape[1]
        """,
        mistake="Hebbian",
    ),
    Answer(
        "ch04-ex-projector",
        "zero-diagonal",
        """
        def projector_weights(patterns):
            x = np.asarray(patterns, float)
            w = x.T @ np.linalg.solve(x @ x.T, x)
            np.fill_diagonal(w, 0)
            return w
        """,
        mistake="fixed points",
    ),
    Answer(
        "ch04-ex-projector",
        "no-return",
        """
        def projector_weights(patterns):
            x = np.asarray(patterns, float)
            w = x.T @ np.linalg.solve(x @ x.T, x)
        """,
        mistake="return",
    ),
    Answer(
        "ch04-ex-basin",
        "newton",
        """
        import math

        def predicted_basin_radius(length_scale):
            l2 = 2.0 * length_scale**2
            a = 1.5 * l2  # above the root's lower bound l^2, below the root
            for _ in range(200):
                e = math.exp(-a * a / l2)
                a -= (1.0 - e - a) / (2.0 * a / l2 * e - 1.0)
            return a
        """,
    ),
    Answer(
        "ch04-ex-basin",
        "small-l-approximation",
        """
        def predicted_basin_radius(length_scale):
            return 2 * length_scale**2
        """,
        mistake="small-l approximation",
    ),
    Answer(
        "ch04-ex-basin",
        "zero-root",
        """
        def predicted_basin_radius(length_scale):
            return 0.0
        """,
        mistake="expected a*",
    ),
    # --- Chapter 5 ---
    Answer(
        "ch05-ex-oja",
        "in-place-loop",
        """
        def oja_step(w, x, eta):
            # modifies w in place and returns it, the update written out component-wise
            y = float(np.dot(w, x))
            for j in range(len(w)):
                w[j] = w[j] + eta * (y * x[j] - y * y * w[j])
            return w
        """,
    ),
    Answer(
        "ch05-ex-oja",
        "list",
        """
        def oja_step(w, x, eta):
            y = sum(wi * xi for wi, xi in zip(w, x))
            return [wi + eta * y * xi - eta * y**2 * wi for wi, xi in zip(w, x)]
        """,
    ),
    Answer(
        "ch05-ex-oja",
        "plain-hebb",
        """
        def oja_step(w, x, eta):
            return w + eta * (w @ x) * x
        """,
        mistake="decay term",
    ),
    Answer(
        "ch05-ex-oja",
        "linear-decay",
        """
        def oja_step(w, x, eta):
            y = w @ x
            return w + eta * y * (x - w)
        """,
        mistake="y**2 * w",
    ),
    Answer(
        "ch05-ex-oja",
        "returns-change",
        """
        def oja_step(w, x, eta):
            y = w @ x
            return eta * y * (x - y * w)
        """,
        mistake="return the new weights",
    ),
    Answer(
        "ch05-ex-oja",
        "y-after-update",
        """
        def oja_step(w, x, eta):
            y = w @ x
            w = w + eta * y * x
            y = w @ x
            return w - eta * y * y * w
        """,
        mistake="before the update",
    ),
    Answer(
        "ch05-ex-oja",
        "no-return",
        """
        def oja_step(w, x, eta):
            y = w @ x
            w = w + eta * y * (x - y * w)
        """,
        mistake="forget the `return`",
    ),
    Answer(
        "ch05-ex-oja",
        "y-inside-component-loop",
        """
        def oja_step(w, x, eta):
            w = np.array(w, dtype=float)
            for j in range(len(w)):
                y = w @ x
                w[j] += eta * y * (x[j] - y * w[j])
            return w
        """,
        mistake="Compute y = w @ x once",
    ),
    Answer(
        "ch05-ex-oja",
        "opposite-sign",
        """
        def oja_step(w, x, eta):
            y = w @ x
            return w - eta * y * (x - y * w)
        """,
        mistake="opposite direction",
    ),
    Answer(
        "ch05-ex-clamp",
        "piecewise",
        """
        def clamped_change(u, n_pre, params):
            area = n_pre * params.tau_g
            if u <= params.theta_minus:
                return 0
            if u <= params.theta_plus:
                return -params.a_ltd * (u - params.theta_minus) * area
            return (
                params.a_ltp * (u - params.theta_plus) - params.a_ltd * (u - params.theta_minus)
            ) * area
        """,
    ),
    Answer(
        "ch05-ex-clamp",
        "no-ltd-above",
        """
        def clamped_change(u, n_pre, params):
            if u > params.theta_plus:
                return params.a_ltp * (u - params.theta_plus) * n_pre * params.tau_g
            return -params.a_ltd * max(u - params.theta_minus, 0.0) * n_pre * params.tau_g
        """,
        mistake="does not switch off",
    ),
    Answer(
        "ch05-ex-clamp",
        "forgets-tau",
        """
        def clamped_change(u, n_pre, params):
            return (
                params.a_ltp * max(u - params.theta_plus, 0.0)
                - params.a_ltd * max(u - params.theta_minus, 0.0)
            ) * n_pre
        """,
        mistake="factor tau_g",
    ),
    Answer(
        "ch05-ex-clamp",
        "unrectified-ltd",
        """
        def clamped_change(u, n_pre, params):
            return (
                (
                    params.a_ltp * max(u - params.theta_plus, 0.0)
                    - params.a_ltd * (u - params.theta_minus)
                )
                * n_pre
                * params.tau_g
            )
        """,
        mistake="exactly 0",
    ),
    # --- Chapter 6 ---
    Answer(
        "ch06-ex-rls-pass",
        "solve",
        """
        def rls_after_pass(R, f, alpha, w0):
            A = alpha * np.eye(len(w0)) + sum(np.outer(r, r) for r in R)
            return np.linalg.inv(A), np.linalg.solve(A, alpha * w0 + R.T @ f)
        """,
    ),
    Answer(
        "ch06-ex-rls-pass",
        "no-start",
        """
        def rls_after_pass(R, f, alpha, w0):
            P = np.linalg.inv(alpha * np.eye(R.shape[1]) + R.T @ R)
            return P, P @ (R.T @ f)
        """,
        mistake="ignores the starting readout w0",
    ),
    Answer(
        "ch06-ex-rls-pass",
        "start-weight-one",
        """
        def rls_after_pass(R, f, alpha, w0):
            P = np.linalg.inv(alpha * np.eye(R.shape[1]) + R.T @ R)
            return P, P @ (w0 + R.T @ f)
        """,
        mistake="weight of the regulariser alpha I",
    ),
    Answer(
        "ch06-ex-rls-pass",
        "inverse-alpha",
        """
        def rls_after_pass(R, f, alpha, w0):
            P = np.linalg.inv(np.eye(R.shape[1]) / alpha + R.T @ R)
            return P, P @ (w0 / alpha + R.T @ f)
        """,
        mistake="1/alpha as the regulariser",
    ),
    Answer(
        "ch06-ex-rls-pass",
        "no-regulariser",
        """
        def rls_after_pass(R, f, alpha, w0):
            return np.linalg.pinv(R.T @ R), np.linalg.lstsq(R, f, rcond=None)[0]
        """,
        mistake="no regulariser",
    ),
    Answer(
        "ch06-ex-rls-pass",
        "one-value",
        """
        def rls_after_pass(R, f, alpha, w0):
            return np.linalg.inv(alpha * np.eye(R.shape[1]) + R.T @ R)
        """,
        mistake="2 values",
    ),
    Answer(
        "ch06-ex-posterior",
        "via-the-step",
        """
        def posterior_error(P, w, r, f):
            pr = P @ r
            w_new = w - (w @ r - f) * pr / (1.0 + r @ pr)
            return w_new @ r - f
        """,
    ),
    Answer(
        "ch06-ex-posterior",
        "prior-error",
        """
        def posterior_error(P, w, r, f):
            return w @ r - f
        """,
        mistake="before the step",
    ),
    Answer(
        "ch06-ex-posterior",
        "removed-part",
        """
        def posterior_error(P, w, r, f):
            q = r @ P @ r
            return (w @ r - f) * q / (1.0 + q)
        """,
        mistake="removed",
    ),
    Answer(
        "ch06-ex-rmhebb",
        "where",
        """
        def reward_hebbian_update(r, z, z_bar, perf, perf_bar, eta):
            return np.where(perf > perf_bar, eta * (z - z_bar), 0.0) * np.array(r)
        """,
    ),
    Answer(
        "ch06-ex-rmhebb",
        "always-learns",
        """
        def reward_hebbian_update(r, z, z_bar, perf, perf_bar, eta):
            return eta * (z - z_bar) * r
        """,
        mistake="exactly zero",
    ),
    Answer(
        "ch06-ex-rmhebb",
        "no-baseline",
        """
        def reward_hebbian_update(r, z, z_bar, perf, perf_bar, eta):
            return eta * (perf > perf_bar) * z * r
        """,
        mistake="z - z_bar",
    ),
    Answer(
        "ch06-ex-rmhebb",
        "ties-learn",
        """
        def reward_hebbian_update(r, z, z_bar, perf, perf_bar, eta):
            return eta * (perf >= perf_bar) * (z - z_bar) * r
        """,
        mistake="not *better* than usual",
    ),
    Answer(
        "ch06-ex-rmhebb",
        "no-return",
        """
        def reward_hebbian_update(r, z, z_bar, perf, perf_bar, eta):
            pass
        """,
        mistake="return",
    ),
    Answer(
        "ch06-ex-clapp-score",
        "take-the-step",
        """
        def score_change(W, W_pred, x_prev, x, y, eta):
            z, c = np.where(W @ x > 0, W @ x, 0.0), np.where(W @ x_prev > 0, W @ x_prev, 0.0)
            u = z @ W_pred @ c
            if y * u >= 1:
                return 0.0
            return z @ (W_pred + eta * y * np.outer(z, c)) @ c - u
        """,
    ),
    Answer(
        "ch06-ex-clapp-score",
        "no-hinge",
        """
        def score_change(W, W_pred, x_prev, x, y, eta):
            z, c = np.maximum(W @ x, 0), np.maximum(W @ x_prev, 0)
            return eta * y * (z @ z) * (c @ c)
        """,
        mistake="the margin is met, the hinge loss is flat",
    ),
    Answer(
        "ch06-ex-clapp-score",
        "tie-pushes",
        """
        def score_change(W, W_pred, x_prev, x, y, eta):
            z, c = np.maximum(W @ x, 0), np.maximum(W @ x_prev, 0)
            gamma = y if 1 - y * (z @ W_pred @ c) >= 0 else 0.0
            return eta * gamma * (z @ z) * (c @ c)
        """,
        mistake="y u = 1 exactly",
    ),
    Answer(
        "ch06-ex-clapp-score",
        "wrong-sign",
        """
        def score_change(W, W_pred, x_prev, x, y, eta):
            z, c = np.maximum(W @ x, 0), np.maximum(W @ x_prev, 0)
            gamma = -y if 1 - y * (z @ W_pred @ c) > 0 else 0.0
            return eta * gamma * (z @ z) * (c @ c)
        """,
        mistake="wrong sign",
    ),
    Answer(
        "ch06-ex-clapp-score",
        "inputs",
        """
        def score_change(W, W_pred, x_prev, x, y, eta):
            z, c = np.maximum(W @ x, 0), np.maximum(W @ x_prev, 0)
            gamma = y if 1 - y * (z @ W_pred @ c) > 0 else 0.0
            return eta * gamma * (x @ x) * (x_prev @ x_prev)
        """,
        mistake="unit outputs z = relu(W x)",
    ),
    Answer(
        "ch06-ex-clapp-score",
        "no-eta",
        """
        def score_change(W, W_pred, x_prev, x, y, eta):
            z, c = np.maximum(W @ x, 0), np.maximum(W @ x_prev, 0)
            gamma = y if 1 - y * (z @ W_pred @ c) > 0 else 0.0
            return gamma * (z @ z) * (c @ c)
        """,
        mistake="misses the learning rate",
    ),
    Answer(
        "ch06-ex-clapp-score",
        "new-score",
        """
        def score_change(W, W_pred, x_prev, x, y, eta):
            z, c = np.maximum(W @ x, 0), np.maximum(W @ x_prev, 0)
            u = z @ W_pred @ c
            gamma = y if 1 - y * u > 0 else 0.0
            return u + eta * gamma * (z @ z) * (c @ c)
        """,
        mistake="new score",
    ),
    # --- Chapter 7 ---
    Answer(
        "ch07-ex-pf",
        "scipy-logsumexp",
        """
        from scipy.special import logsumexp

        def particle_weights(weights, log_p_particles, log_p_prior, p_change):
            a = np.log(1 - p_change) + np.asarray(log_p_particles)
            b = np.full_like(a, np.log(p_change) + log_p_prior)
            log_w = np.log(weights) + logsumexp(np.stack([a, b]), axis=0)
            return np.exp(log_w - logsumexp(log_w))
        """,
    ),
    Answer(
        "ch07-ex-pf",
        "returns-log-weights",
        """
        def particle_weights(weights, log_p_particles, log_p_prior, p_change):
            log_w = np.log(weights) + np.logaddexp(
                np.log1p(-p_change) + log_p_particles, np.log(p_change) + log_p_prior
            )
            return log_w - np.logaddexp.reduce(log_w)
        """,
        mistake="exponentiate them",
    ),
    Answer(
        "ch07-ex-pf",
        "not-normalised",
        """
        def particle_weights(weights, log_p_particles, log_p_prior, p_change):
            log_w = np.log(weights) + np.logaddexp(
                np.log1p(-p_change) + log_p_particles, np.log(p_change) + log_p_prior
            )
            return np.exp(log_w - log_w.max())
        """,
        mistake="divide by their sum",
    ),
    Answer(
        "ch07-ex-pf",
        "p-change-swapped",
        """
        def particle_weights(weights, log_p_particles, log_p_prior, p_change):
            log_w = np.log(weights) + np.logaddexp(
                np.log(p_change) + log_p_particles, np.log1p(-p_change) + log_p_prior
            )
            w = np.exp(log_w - log_w.max())
            return w / w.sum()
        """,
        mistake="wrong way round",
    ),
    Answer(
        "ch07-ex-pf",
        "forgets-old-weights",
        """
        def particle_weights(weights, log_p_particles, log_p_prior, p_change):
            log_w = np.logaddexp(
                np.log1p(-p_change) + log_p_particles, np.log(p_change) + log_p_prior
            )
            w = np.exp(log_w - log_w.max())
            return w / w.sum()
        """,
        mistake="multiply by the old weights",
    ),
    Answer(
        "ch07-ex-pf",
        "in-place",
        """
        def particle_weights(weights, log_p_particles, log_p_prior, p_change):
            weights *= (1 - p_change) * np.exp(log_p_particles) + p_change * np.exp(log_p_prior)
            weights /= weights.sum()
            return weights
        """,
        mistake="changed the weights it was given",
    ),
    Answer(
        "ch07-ex-pf",
        "naive-exp",
        """
        def particle_weights(weights, log_p_particles, log_p_prior, p_change):
            w = weights * (
                (1 - p_change) * np.exp(log_p_particles) + p_change * np.exp(log_p_prior)
            )
            return w / w.sum()
        """,
        mistake="log-sum-exp",
    ),
    # --- Chapter 8 ---
    Answer(
        "ch08-ex-moments",
        "loop-over-neurons",
        """
        def spike_count_moments(past_counts, p, n_neurons):
            free = n_neurons
            for count in past_counts:
                free -= count
            mean = sum(p for _ in range(int(free)))
            return mean, mean * (1 - p)
        """,
    ),
    Answer(
        "ch08-ex-moments",
        "no-refractoriness",
        """
        def spike_count_moments(past_counts, p, n_neurons):
            return n_neurons * p, n_neurons * p * (1 - p)
        """,
        mistake="free neurons",
    ),
    Answer(
        "ch08-ex-moments",
        "poisson-variance",
        """
        def spike_count_moments(past_counts, p, n_neurons):
            free = n_neurons - np.sum(past_counts)
            return free * p, free * p
        """,
        mistake="(1 - p)",
    ),
    Answer(
        "ch08-ex-gaussian",
        "scipy-norm",
        """
        from scipy.stats import norm

        def gaussian_terms(z, mean, var):
            sd = np.sqrt(var)
            value = norm.logpdf(z, mean, sd).sum()
            d_mean = (z - mean) / var
            return value, -d_mean, d_mean, (d_mean**2 - 1 / var) / 2
        """,
    ),
    Answer(
        "ch08-ex-gaussian",
        "missing-log-variance",
        """
        def gaussian_terms(z, mean, var):
            r = z - mean
            value = np.sum(-0.5 * r**2 / var - 0.5 * np.log(2 * np.pi * var))
            return value, -r / var, r / var, 0.5 * r**2 / var**2
        """,
        mistake="-1/(2 v)",
    ),
    # --- Chapter 10 ---
    Answer(
        "ch10-ex-split",
        "copy-next-to-it",
        """
        def split_neuron(w, a, index, delta):
            a = np.asarray(a, dtype=float)
            half = a[index] / 2
            w_new = np.insert(w, index + 1, w[index], axis=0)
            a_new = np.insert(a, index + 1, half - delta, axis=0)
            a_new[index] = half + delta
            return w_new, a_new
        """,
    ),
    Answer(
        "ch10-ex-split",
        "no-halving",
        """
        def split_neuron(w, a, index, delta):
            w_new = np.concatenate([w, w[index : index + 1]])
            a_new = np.concatenate([a, a[index : index + 1]]).astype(float)
            a_new[index] = a[index] + delta
            a_new[-1] = a[index] - delta
            return w_new, a_new
        """,
        mistake="forget to halve",
    ),
    Answer(
        "ch10-ex-split",
        "in-place",
        """
        def split_neuron(w, a, index, delta):
            a[index] = a[index] / 2
            w_new = np.concatenate([w, w[index : index + 1]])
            a_new = np.concatenate([a, a[index : index + 1]])
            a_new[index] += delta
            a_new[-1] -= delta
            return w_new, a_new
        """,
        mistake="changed the w or a it was given",
    ),
    Answer(
        "ch10-ex-split",
        "same-sign",
        """
        def split_neuron(w, a, index, delta):
            w_new = np.concatenate([w, w[index : index + 1]])
            a_new = np.concatenate([a, a[index : index + 1]]).astype(float)
            a_new[index] = a[index] / 2 + delta
            a_new[-1] = a[index] / 2 + delta
            return w_new, a_new
        """,
        mistake="must add up to a[index]",
    ),
    Answer(
        "ch10-ex-count",
        "closed-form",
        """
        import math

        def count_subspaces(r, m, kind):
            def stirling(n, k):
                return sum(
                    (-1) ** j * math.comb(k, j) * (k - j) ** n for j in range(k + 1)
                ) // math.factorial(k)

            if kind == "global":
                return math.factorial(r) * stirling(m + 1, r + 1)
            return math.factorial(r) * stirling(m, r)
        """,
    ),
    Answer(
        "ch10-ex-count",
        "every-labeling",
        """
        def count_subspaces(r, m, kind):
            return (r + 1) ** m if kind == "global" else r**m
        """,
        mistake="counts every labeling",
    ),
    Answer(
        "ch10-ex-count",
        "zero-type-in-critical",
        """
        import itertools

        def count_subspaces(r, m, kind):
            need = set(range(1, r + 1))
            return sum(need <= set(t) for t in itertools.product(range(r + 1), repeat=m))
        """,
        mistake="no zero-type neurons",
    ),
    # --- Chapter 9 ---
    Answer(
        "ch09-ex-psth",
        "loops-and-sample-variance",
        """
        def psth_loss_and_gradient(probs, target):
            m, t, n = probs.shape
            pbar = probs.mean(axis=0)
            var = probs.var(axis=0, ddof=1)
            loss = np.mean((pbar - target) ** 2 - var / m)
            grad = np.empty_like(probs)
            for k in range(m):
                grad[k] = (
                    2 * (pbar - target) / m - 2 * (probs[k] - pbar) / (m * (m - 1))
                ) / (t * n)
            return loss, grad
        """,
    ),
    Answer(
        "ch09-ex-psth",
        "biased",
        """
        def psth_loss_and_gradient(probs, target):
            m, t, n = probs.shape
            pbar = probs.mean(axis=0)
            return np.mean((pbar - target) ** 2), np.broadcast_to(
                2 * (pbar - target) / (t * n * m), probs.shape
            )
        """,
        mistake="variance correction",
    ),
    Answer(
        "ch09-ex-psth",
        "gradient-without-1-over-m",
        """
        def psth_loss_and_gradient(probs, target):
            m, t, n = probs.shape
            pbar = probs.mean(axis=0)
            dev = probs - pbar
            loss = np.mean((pbar - target) ** 2) - np.sum(dev**2) / (m * (m - 1) * t * n)
            grad = 2 * (pbar - target) / (t * n) - 2 * dev / (m * (m - 1) * t * n)
            return loss, grad
        """,
        mistake="M times too large",
    ),
    Answer(
        "ch09-ex-backward",
        "vectorised-over-lags",
        """
        def backward_through_time(w_rec, probs, g_p, g_z, gamma):
            t_len, n = probs.shape
            lags = w_rec.shape[0]
            padded = np.zeros((t_len + lags, n))
            for t in reversed(range(t_len)):
                future = padded[t + 1 : t + 1 + lags]
                carry = np.einsum("dik,di->k", w_rec, future)
                padded[t] = probs[t] * (1 - probs[t]) * (g_p[t] + gamma * (g_z[t] + carry))
            return padded[:t_len]
        """,
    ),
    Answer(
        "ch09-ex-backward",
        "no-transpose",
        """
        def backward_through_time(w_rec, probs, g_p, g_z, gamma):
            t_len, n = probs.shape
            delta = np.zeros((t_len, n))
            for t in range(t_len - 1, -1, -1):
                carry = sum(
                    w_rec[d - 1] @ delta[t + d]
                    for d in range(1, w_rec.shape[0] + 1)
                    if t + d < t_len
                )
                delta[t] = probs[t] * (1 - probs[t]) * (g_p[t] + gamma * (g_z[t] + carry))
            return delta
        """,
        mistake="transpose",
    ),
    Answer(
        "ch09-ex-backward",
        "one-lag-only",
        """
        def backward_through_time(w_rec, probs, g_p, g_z, gamma):
            t_len, n = probs.shape
            delta = np.zeros((t_len, n))
            for t in range(t_len - 1, -1, -1):
                carry = w_rec[0].T @ delta[t + 1] if t + 1 < t_len else 0.0
                delta[t] = probs[t] * (1 - probs[t]) * (g_p[t] + gamma * (g_z[t] + carry))
            return delta
        """,
        mistake="one bin",
    ),
]


def answer_params(correct: bool):
    return [
        pytest.param(
            a,
            id=f"{a.label}-{a.name}",
            marks=[pytest.mark.slow] if correct and a.label in SLOW_LABELS else [],
        )
        for a in ANSWERS
        if (a.mistake is None) == correct
    ]


def test_answer_table_is_well_formed():
    assert set(a.label for a in ANSWERS) <= set(CHAPTER_OF)
    ids = [(a.label, a.name) for a in ANSWERS]
    assert len(ids) == len(set(ids)), "two answers with the same label and name"
    for a in ANSWERS:
        _, ex = exercise(a.label)
        tree = ast.parse(textwrap.dedent(a.source))
        names = [node.name for node in tree.body if isinstance(node, ast.FunctionDef)]
        assert names == [ex.function], f"{a.label}-{a.name} must define {ex.function} only"


@pytest.mark.parametrize("answer", answer_params(correct=True))
def test_alternative_correct_answer_passes(answer, capsys):
    attempt(answer.label, answer.source, answer.runs)
    out = capsys.readouterr().out
    runs = 2 if answer.runs == "both" else 1
    assert out.count("Correct:") == runs * len(check_calls(answer.label)), out


@pytest.mark.parametrize("answer", answer_params(correct=False))
def test_typical_mistake_fails_with_a_helpful_message(answer):
    with np.errstate(all="ignore"), pytest.raises(ExerciseFailure) as failure:
        attempt(answer.label, answer.source, answer.runs)
    assert re.search(re.escape(answer.mistake), str(failure.value)), (
        f"the message does not mention {answer.mistake!r}: {failure.value}"
    )
