"""Checks for the coding exercises of Chapter 1 (Hopfield networks and their capacity)."""

from __future__ import annotations

import functools
from contextlib import contextmanager

import numpy as np

from .. import hopfield as hf
from ._common import (
    as_array,
    fail,
    hidden_module,
    load_cases,
    passed,
    require,
    signs,
    unpack,
)


def _cases(hidden: bool) -> list[dict]:
    """The visible cases (stored with the package), and with ``hidden`` the grader's."""
    cases = load_cases("ch01_async")
    if hidden:
        cases += hidden_module("ch01").hidden_cases()
    return cases


def check_async_sweep(async_sweep, *, hidden: bool = False) -> None:
    """Check ``async_sweep(weights, state, order) -> (new_state, energies)``.

    The energies must be :math:`E_k = -\\tfrac12 \\mathbf s_k^\\top W \\mathbf s_k` after each of
    the ``len(order)`` updates, never increase, and the final state must be the asynchronous
    sweep in the given order (a neuron with zero field keeps its state: the third visible case
    has exact zero fields). The visible cases, with the outcomes of the correct sweep and of the
    typical mistakes, are stored in ``data/ch01_async.json``; the reference sweep lives with the
    hidden cases, which only the grader has.
    """
    for case in _cases(hidden):
        patterns = np.array([signs(p) for p in case["patterns"]])
        n_neurons = patterns.shape[1]
        weights = hf.hebbian_weights(patterns)
        state = signs(case["state"])
        order = np.array(case["order"])
        outcome = {key: signs(value) for key, value in case["outcomes"].items()}
        state_before = state.copy()
        new_state, energies = unpack(
            async_sweep(weights, state, order), 2, "async_sweep(weights, state, order)"
        )
        require(
            np.array_equal(state, state_before),
            "async_sweep changed the `state` array it was given: work on a copy "
            "(state.copy()) so the caller's state stays as it was.",
        )
        new_state = as_array(new_state, "the new state", shape=(n_neurons,))
        energies = as_array(energies, "the energies", shape=(len(order),))
        if np.any(new_state == 0):
            fail(
                "your new state contains 0: np.sign(h) is 0 when the field h_i is exactly 0, "
                "and the rule is to keep the neuron's state then."
            )
        require(
            np.all(np.isin(new_state, (-1, 1))),
            "the new state contains values other than -1 and +1: set each neuron to the sign "
            "of its field (and keep it when the field is exactly 0).",
        )
        expected = outcome["expected"]
        same = np.array_equal(new_state, expected)
        # specific diagnoses first: they explain an energy increase better than its sign
        if not same and np.array_equal(new_state, outcome["stale"]):
            fail(
                "your sweep computes every field from the old state (all fields first, then the "
                "updates: a synchronous step): in an asynchronous sweep each field h_i must use "
                "the neurons already updated, so compute h_i inside the loop."
            )
        for at_zero, what in [("+1", "to +1"), ("-1", "to -1"), ("flip", "to the opposite sign")]:
            if not same and np.array_equal(new_state, outcome[at_zero]):
                fail(
                    f"where a neuron's field is exactly 0 you set it {what}: the rule is to "
                    "keep its state when h_i = 0 (np.sign(0) is 0, and h >= 0 sends ties to +1)."
                )
        steps_up = np.flatnonzero(np.diff(energies) > 1e-9)
        if steps_up.size:
            k = int(steps_up[0]) + 1
            fail(
                f"your energy increases at step {k} (from {energies[k - 1]:.3f} to "
                f"{energies[k]:.3f}): check the sign of the field and that each neuron is set "
                "to sign(h_i), not -sign(h_i)."
            )
        final_energy = -0.5 * new_state @ weights @ new_state
        require(
            np.isclose(energies[-1], final_energy, rtol=1e-9, atol=1e-9),
            f"your last energy is {energies[-1]:.4f}, but -1/2 s^T W s of the state you return "
            f"is {final_energy:.4f}: record the energy after each update, E = -1/2 s^T W s.",
        )
        if same:
            reference = np.asarray(case["energies"])
            off = np.flatnonzero(~np.isclose(energies, reference, rtol=1e-9, atol=1e-9))
            if off.size:
                k = int(off[0])
                if np.allclose(energies[1:], reference[:-1], rtol=1e-9, atol=1e-9):
                    fail(
                        "your energies are those *before* each update (each equals the correct "
                        "one of the step before): record the energy after each update, "
                        "E = -1/2 s^T W s."
                    )
                fail(
                    f"your energy after update {k + 1} is {energies[k]:.4f}, expected "
                    f"{reference[k]:.4f}: record the energy after each update, E = -1/2 s^T W s."
                )
        if not same:
            wrong = np.flatnonzero(new_state != expected)
            fail(
                f"after the sweep {wrong.size} neuron(s) have the wrong sign (the first is neuron "
                f"{int(wrong[0])}: yours {int(new_state[wrong[0]]):+d}, expected "
                f"{int(expected[wrong[0]]):+d}): visit the neurons in the given `order` (a neuron "
                "may appear twice, or not at all), and use the current state for each field."
            )
    return passed("the energy never increases and the sweep matches the asynchronous update.")


@contextmanager
def _record_updates():
    """The ``update`` arguments of the calls to memlab.hopfield's simulations, meanwhile."""
    used: set[str] = set()
    originals = {name: getattr(hf, name) for name in ("final_overlap_sweep", "simulate")}

    def spy(function, position):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            update = kwargs.get("update", args[position] if len(args) > position else "sync")
            used.add(str(update))
            return function(*args, **kwargs)

        return wrapper

    hf.final_overlap_sweep = spy(originals["final_overlap_sweep"], 99)  # update is keyword-only
    hf.simulate = spy(originals["simulate"], 3)
    try:
        yield used
    finally:
        for name, function in originals.items():
            setattr(hf, name, function)


def check_capacity_estimate(capacity_estimate, *, hidden: bool = False) -> None:
    """Check ``capacity_estimate(n_neurons, update, seed=0) -> alpha*``.

    For N = 1000 the finite-size transition lies near 0.16 (Chapter 1); any estimate from a
    reasonable number of trials falls in [0.13, 0.19], and synchronous and asynchronous dynamics
    (same fixed points) agree within 0.02.  The hidden case repeats the synchronous estimate
    with another seed (it must move by at most 0.02).  Each call is one capacity sweep
    (benchmarks/bench_hopfield.py times it: about a second with the reference answer).
    """
    values, seen = {}, {}
    for update in ("sync", "async"):
        with _record_updates() as used:
            value = capacity_estimate(1000, update)
        seen[update] = used
        if value is None:
            fail("capacity_estimate returned None: did you forget the `return` statement?")
        try:
            values[update] = float(value)
        except (TypeError, ValueError):
            fail(f"capacity_estimate should return one number, the load alpha*, not {value!r}.")
        if not np.isfinite(values[update]):
            fail(
                f"capacity_estimate(1000, {update!r}) is {values[update]}: no load crossed the "
                "level; use loads from about 0.08 to 0.2."
            )
        if values[update] > 1:
            fail(
                f"capacity_estimate(1000, {update!r}) = {values[update]:.3g} looks like a number "
                "of patterns: return the load alpha = P/N."
            )
        require(
            0.13 <= values[update] <= 0.19,
            f"capacity_estimate(1000, {update!r}) = {values[update]:.3f}, but at N = 1000 half "
            "of the trials should still retrieve (m > 0.9) up to alpha of about 0.16: check the "
            "overlap threshold and that you start from the stored pattern.",
        )
    # an estimate that ignores `update`: the library ran with another update than asked for,
    # or (without the library) sync and async give the same number to the last digit
    if seen["async"] and "async" not in seen["async"]:
        fail(
            "capacity_estimate ignores `update`: asked for update='async', it ran "
            f"{sorted(seen['async'])} dynamics. Pass update=update on to the simulation."
        )
    if not seen["async"] and values["sync"] == values["async"]:
        fail(
            "capacity_estimate ignores `update`: synchronous and asynchronous dynamics give "
            f"exactly the same estimate ({values['sync']!r}), which independent trials do not. "
            "Pass update=update on to the simulation."
        )
    require(
        abs(values["sync"] - values["async"]) <= 0.02,
        f"synchronous ({values['sync']:.3f}) and asynchronous ({values['async']:.3f}) estimates "
        "differ by more than 0.02: both updates have the same fixed points.",
    )
    if hidden:
        # another seed, with the cheaper synchronous dynamics (the same estimate)
        other = float(capacity_estimate(1000, "sync", seed=hidden_module("ch01").CAPACITY_SEED))
        require(
            abs(other - values["sync"]) <= 0.02,
            "a different seed changes the estimate by more than 0.02: use more trials.",
        )
    return passed(
        f"alpha*(N = 1000) = {values['sync']:.2f} (synchronous) and {values['async']:.2f} "
        "(asynchronous), as expected near 0.16."
    )


# every check gives a verdict for an answer of the wrong kind (see _common.guard_checks)
from ._common import guard_checks  # noqa: E402

guard_checks(globals())
