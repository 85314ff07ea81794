"""Checks for the coding exercises of Chapter 10 (symmetries of the loss landscape)."""

from __future__ import annotations

import functools
import numbers

import numpy as np

from memlab import landscape as ls

from ._common import as_array, fail, hidden_module, passed, require, unpack


@functools.cache
def _critical_case(seed: int, n_out: int, teacher_width: int):
    """A width-2 critical point (non-zero loss) of a tanh network, with its data."""
    for attempt in range(8):
        gen = np.random.default_rng([10, seed, n_out, teacher_width, attempt])
        data = ls.teacher_data(40, 2, teacher_width, rng=gen, n_out=None if n_out == 1 else n_out)
        fits = ls.train_students(data.x, data.y, 2, 6, rng=gen, lr=0.3, n_steps=1500, gtol=1e-10)
        ok = np.flatnonzero(fits.converged)
        if ok.size:
            break
    best = ok[np.argmin(fits.loss[ok])]
    a = fits.a[best][:, 0] if n_out == 1 else fits.a[best]
    return data.x, data.y, fits.w[best], a


def check_split(split_neuron, *, hidden: bool = False) -> None:
    """Check ``split_neuron(w, a, index, delta) -> (w_new, a_new)``.

    The split network must have one more neuron, compute the same function as ``(w, a)``,
    contain two copies of neuron ``index`` whose outgoing weights are ``a/2 + delta`` and
    ``a/2 - delta``, leave the inputs unchanged, and (for a critical ``(w, a)``) be critical.
    With several outputs ``delta`` is a multiple of ``a[index]``: other directions keep the
    function but not criticality when the loss is non-zero (Chapter 10, section 2).
    """
    cases = [(0, 1, 4, 0, 0.0), (1, 1, 4, 1, 0.3)]
    if hidden:
        cases += hidden_module("ch10").split_cases()
    for seed, n_out, teacher_width, index, delta in cases:
        x, y, w, a = _critical_case(seed, n_out, teacher_width)
        if n_out > 1:
            delta = delta * a[index]
        w_in, a_in = w.copy(), a.copy()
        out = unpack(split_neuron(w_in, a_in, index, delta), 2, "split_neuron")
        require(
            np.array_equal(w_in, w) and np.array_equal(a_in, a),
            "split_neuron changed the w or a it was given: build new arrays "
            "(np.concatenate does) instead of writing into the inputs.",
        )
        w_new = as_array(out[0], "w_new")
        a_new = as_array(out[1], "a_new")
        m = w.shape[0]
        require(
            w_new.shape == (m + 1, w.shape[1]),
            f"w_new has shape {w_new.shape}; splitting one of {m} neurons gives "
            f"{m + 1} neurons, shape {(m + 1, w.shape[1])}.",
        )
        require(
            a_new.shape == (m + 1,) + a.shape[1:],
            f"a_new has shape {a_new.shape}; expected {(m + 1,) + a.shape[1:]} "
            "(one row of outgoing weights per neuron, as in a).",
        )
        copies = np.flatnonzero(np.all(w_new == w[index], axis=1))
        require(
            copies.size == 2,
            f"w_new has {copies.size} rows equal to w[{index}]; the split network needs "
            "exactly two copies of the incoming weights of neuron index.",
        )
        before = ls.forward(w, a, x)
        after = ls.forward(w_new, a_new, x)
        if not np.allclose(after, before, atol=1e-10):
            total = a_new[copies].sum(axis=0)
            if np.allclose(total, 2 * a[index]):
                fail(
                    "your network computes a different function: the two copies' outgoing "
                    "weights add up to 2 a[index]. Did you forget to halve a[index]?"
                )
            fail(
                "your network computes a different function from (w, a): the other neurons "
                "must be kept unchanged, and the two copies' outgoing weights must add up to "
                "a[index]."
            )
        diff = a_new[copies[0]] - a_new[copies[1]]
        if not (np.allclose(diff, 2 * delta) or np.allclose(diff, -2 * delta)):
            fail(
                f"with delta = {delta} the two copies' outgoing weights differ by {diff}; "
                "one copy should get a/2 + delta and the other a/2 - delta (difference "
                "2 delta)."
            )
        g = ls.gradient(w_new, a_new, x, y)
        g_norm = float(np.sqrt(np.sum(g.w**2) + np.sum(g.a**2)))
        require(
            g_norm < 1e-8,
            f"the split network is not critical (gradient norm {g_norm:.1e}): "
            "check that the copies have exactly the incoming weights w[index].",
        )
    return passed(
        "same function, two copies with outgoing weights a/2 +- delta, and still critical."
    )


def check_count_subspaces(count_subspaces, *, hidden: bool = False) -> None:
    """Check ``count_subspaces(r, m, kind)`` against T(r, m) and G(r, m)."""
    cases = [(r, m) for r in (1, 2, 3) for m in range(r, r + 4)]
    if hidden:
        cases += hidden_module("ch10").count_cases()
    for r, m in cases:
        for kind, closed in (
            ("global", ls.count_global_min_subspaces),
            ("critical", ls.count_critical_subspaces),
        ):
            got = count_subspaces(r, m, kind)
            if got is None:
                fail("count_subspaces returned None: did you forget the `return` statement?")
            if not isinstance(got, numbers.Integral) and not (
                isinstance(got, float) and got.is_integer()
            ):
                fail(f"count_subspaces({r}, {m}, {kind!r}) returned {got!r}, not an integer.")
            expected = closed(r, m)
            if got == expected:
                continue
            low = 0 if kind == "global" else 1
            if got == (r + 1 - low) ** m:
                fail(
                    f"count_subspaces({r}, {m}, {kind!r}) = {got} counts every labeling: "
                    f"keep only those that use every reduced neuron 1..{r} at least once."
                )
            if kind == "critical" and got == ls.count_global_min_subspaces(r, m):
                fail(
                    f"count_subspaces({r}, {m}, 'critical') = {got} equals the global count: "
                    "critical subspaces have no zero-type neurons (label 0)."
                )
            if kind == "global" and got == ls.count_critical_subspaces(r, m):
                fail(
                    f"count_subspaces({r}, {m}, 'global') = {got} leaves out the zero-type "
                    "neurons: label 0 is allowed for global minima."
                )
            fail(f"count_subspaces({r}, {m}, {kind!r}) = {got}; expected {expected}.")
    return passed("your counts equal T(r, m) = r! S(m+1, r+1) and G(r, m) = r! S(m, r).")


# every check gives a verdict for an answer of the wrong kind (see _common.guard_checks)
from ._common import guard_checks  # noqa: E402

guard_checks(globals())
