"""Fuzz test (issue #15): every public function survives bad input.

Each public function of every module in ``test_api.MODULES`` is called with one bad argument
at a time (NaN, +-inf, 0, negatives, huge sizes and integers, wrong dtypes and shapes, empty and
read-only arrays, spoiled fields of result tuples passed back in).  A call passes if it raises a
clear ``ValueError``/``TypeError`` (or an exception its entry lists in ``raises=``), or returns
a finite result without changing its inputs.  It fails on a crash, a hang (``TIMEOUT`` seconds
per call), any other exception, an unclear message (numpy/scipy/Python internals, see
``UNCLEAR``), NaN/inf in the result, a modified input, or a bad value that must be refused
(a string or complex number for a number, a bool array, NaN, ...) being accepted.

How to add a module (format of the table)
-----------------------------------------
Add ``FUZZ["<module>"] = {"<function>": Call(...), ...}`` with one ``Call`` per *function* in
the module's ``__all__`` (classes and constants need no entry; ``test_every_public_function_
has_a_fuzz_entry`` checks this).  A ``Call`` gives a *valid* value for each argument you pass,
by parameter name, wrapped in a spec that knows how to spoil it::

    FUZZ["hopfield"] = {
        "simulate": Call(
            patterns=PM1(lambda: _pm1(3, 20)),      # arrays of +-1
            initial_states=PM1(lambda: _pm1(2, 20)),
            n_steps=Int(5, low=0),                  # low/high: values outside must be refused
            update=Opt("sync", ["sync", "async"]),  # string options
            rng=Rng(),                              # a fresh default_rng(0) per call
        ),
    }

Specs: ``Int``, ``Float`` (``low``/``high`` bounds, ``optional=True`` if ``None`` is
accepted, ``inf_ok``/``nan_ok``), ``Arr`` (real array), ``IntArr``, ``PM1``, ``Rng``, ``Opt``,
``Bool``, ``Fn`` (callable), ``Obj`` (e.g. a result tuple passed back in: its array and number
fields are spoiled one at a time), ``Same`` (passed unchanged, never spoiled).  A value may be a
zero-argument callable: it is called afresh in the worker for every case (use it for arrays and
fitted models; keep them small, every call should take milliseconds).  ``Call`` options:
``finite=False`` (result may hold NaN/inf) or ``finite=("field", ...)`` (fields that may),
``raises=(SomeError,)`` (documented exceptions), ``timeout=`` (seconds, default ``TIMEOUT``),
``cases={"label": lambda kw: {**kw, "x": ...}}`` (hand-written bad calls; each must raise or
return finite output) and ``must_raise={...}`` (same, but the call must be refused).  A
var-positional parameter (``def f(*results)``) is given by its name with a list value.

The cases run in a worker subprocess, one per test process for all modules (replaced after a
crash or hang, going on at the next case), so a segmentation fault fails the test with the case
that caused it.  Run modules by hand with ``python tests/test_fuzz.py <module> ...`` (prints
every case and its outcome).
"""

from __future__ import annotations

import ast
import atexit
import copy
import dataclasses
import importlib
import inspect
import json
import math
import os
import re
import selectors
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = float(os.environ.get("MEMLAB_FUZZ_TIMEOUT", "5"))  # seconds per call
FIRST_TIMEOUT = 120.0  # the valid call of each function (numba may load or compile)
MEMORY_LIMIT = 4 * 2**30  # address space of a worker: an attempt to allocate more fails fast

# Messages of errors that escaped from numpy, scipy, numba or Python instead of a check.
UNCLEAR = re.compile(
    "|".join(
        [
            r"could not be broadcast",
            r"must have different signs",
            r"math domain error",
            r"[Cc]annot cast",
            r"invalid literal",
            r"unsupported operand",
            r"not supported between instances",
            r"object of type .* has no len",
            r"'NoneType' object",
            r"not subscriptable",
            r"only integer scalar",
            r"can't multiply",
            r"object is not callable",
            r"object is not iterable",
            r"No implementation of function",
            r"[Nn]on-precise type",
            r"nopython",
            r"unhashable",
            r"read-only",
            r"ufunc",
            r"setting an array element",
            r"truth value of an array",
            r"could not convert",
            r"branch continuation",
            r"takes \d+ positional argument",
            r"unexpected keyword argument",
            r"missing \d+ required",
            r"array must not contain infs or NaNs",
            r"Maximum allowed size exceeded",
            r"negative dimensions",
            r"bad operand type",
            r"must be real number, not",
            r"an integer is required",
            r"cannot be interpreted as an integer",
            r"matmul: Input operand",
            r"shapes .* not aligned",
            r"size-\d+ arrays? can be converted",
            r"too many indices",
            r"[Ii]nput contains NaN",
        ]
    )
)


# --------------------------------------------------------------------------------------------
# Specs: a valid value and the ways to spoil it.  A bad value is (label, value, must_raise).
# --------------------------------------------------------------------------------------------

MUST, ANY, OK = "must", "any", "ok"  # must be refused / refused or finite / must succeed


class Spec:
    def __init__(self, value, *, optional=False):
        self.value = value
        self.optional = optional

    def make(self):
        return self.value() if callable(self.value) else self.value

    def bad(self):
        """List of (label, transform(valid) -> bad value, expectation)."""
        out = [("None", lambda v: None, OK if self.optional else MUST)]
        return out if not self.optional else []


class Same(Spec):
    def bad(self):
        return []


def _out_of(value, low, high):
    if isinstance(value, complex) or not isinstance(value, (int, float)):
        return False
    return (low is not None and value < low) or (high is not None and value > high)


class Int(Spec):
    def __init__(self, value, *, low=None, high=None, optional=False):
        super().__init__(value, optional=optional)
        self.low, self.high = low, high

    def bad(self):
        out = super().bad()
        for label, value in [("zero", 0), ("-1", -1), ("10**12", 10**12), ("2**64", 2**64)]:
            out.append(
                (label, lambda v, x=value: x, MUST if _out_of(value, self.low, self.high) else ANY)
            )
        out += [
            ("1.5", lambda v: 1.5, MUST),
            ("nan", lambda v: math.nan, MUST),
            ("str", lambda v: str(v), MUST),
            ("bool", lambda v: True, MUST),
            ("complex", lambda v: 1j, MUST),
            ("float", lambda v: float(v), ANY),
            ("np.int64", lambda v: np.int64(v), OK),
        ]
        return out


class Float(Spec):
    def __init__(self, value, *, low=None, high=None, optional=False, inf_ok=False, nan_ok=False):
        super().__init__(value, optional=optional)
        self.low, self.high, self.inf_ok, self.nan_ok = low, high, inf_ok, nan_ok

    def bad(self):
        out = super().bad()
        out.append(("nan", lambda v: math.nan, ANY if self.nan_ok else MUST))
        for label, value in [("inf", math.inf), ("-inf", -math.inf)]:
            out.append((label, lambda v, x=value: x, ANY if self.inf_ok else MUST))
        for label, value in [
            ("zero", 0.0),
            ("-1", -1.0),
            ("1e300", 1e300),
            ("-1e300", -1e300),
            ("1e-300", 1e-300),
            ("1e30", 1e30),
        ]:
            out.append(
                (label, lambda v, x=value: x, MUST if _out_of(value, self.low, self.high) else ANY)
            )
        out += [
            ("str", lambda v: str(v), MUST),
            ("bool", lambda v: True, MUST),
            ("complex", lambda v: 1j, MUST),
            ("array", lambda v: np.array([v, v]), ANY),
            ("np.float32", lambda v: np.float32(v), ANY),
        ]
        return out


def _first(a, value):
    b = np.array(a, dtype=np.result_type(a, np.asarray(value)), copy=True)
    b.flat[0] = value
    return b


def _array_bad(nan=MUST, inf=MUST):
    return [
        ("nan", lambda a: _first(a, np.nan), nan),
        ("inf", lambda a: _first(a, np.inf), inf),
        ("-inf", lambda a: _first(a, -np.inf), inf),
        ("1e300", lambda a: np.full(a.shape, 1e300), ANY),
        ("empty", lambda a: a[:0], ANY),
        ("empty-last", lambda a: a[..., :0], ANY),
        ("extra-dim", lambda a: a[None], ANY),
        ("scalar", lambda a: a.ravel()[0], ANY),
        ("short", lambda a: a[..., :-1], ANY),
        ("float32", lambda a: a.astype(np.float32), ANY),
        ("complex", lambda a: a.astype(complex), MUST),
        ("str", lambda a: a.astype(str), MUST),
        ("object", lambda a: a.astype(object), MUST),
        ("bool", lambda a: a != 0, MUST),
        ("list", lambda a: a.tolist(), ANY),
        ("non-contiguous", lambda a: np.repeat(a, 2, axis=-1)[..., ::2], OK),
    ]


class Arr(Spec):
    """A real (float) array."""

    def __init__(self, value, *, optional=False, nan_ok=False, inf_ok=False):
        super().__init__(value, optional=optional)
        self.nan_ok, self.inf_ok = nan_ok, inf_ok

    def bad(self):
        return super().bad() + [
            (label, t, e)
            for label, t, e in _array_bad(
                ANY if self.nan_ok else MUST, ANY if self.inf_ok else MUST
            )
        ]


class IntArr(Spec):
    """An integer array (indices, counters, integer observations)."""

    def bad(self):
        return super().bad() + [
            ("-1", lambda a: _first(a, -1), ANY),
            ("10**9", lambda a: _first(a, 10**9), ANY),
            ("2**62", lambda a: _first(a, 2**62), ANY),
            ("+0.5", lambda a: a + 0.5, MUST),
            ("nan", lambda a: _first(a.astype(float), np.nan), MUST),
            ("empty", lambda a: a[:0], ANY),
            ("extra-dim", lambda a: a[None], ANY),
            ("short", lambda a: a[..., :-1], ANY),
            ("complex", lambda a: a.astype(complex), MUST),
            ("str", lambda a: a.astype(str), MUST),
            ("object", lambda a: a.astype(object), MUST),
            ("bool", lambda a: a != 0, MUST),
            ("uint8", lambda a: np.abs(a).astype(np.uint8), ANY),
        ]


class PM1(Spec):
    """An array of +-1 values."""

    def bad(self):
        return super().bad() + [
            ("zero", lambda a: _first(a, 0), MUST),
            ("2", lambda a: _first(a, 2), MUST),
            ("nan", lambda a: _first(a.astype(float), np.nan), MUST),
            ("0.5", lambda a: _first(a.astype(float), 0.5), MUST),
            ("empty", lambda a: a[:0], ANY),
            ("empty-last", lambda a: a[..., :0], ANY),
            ("extra-dim", lambda a: a[None], ANY),
            ("short", lambda a: a[..., :-1], ANY),
            ("float", lambda a: a.astype(float), ANY),
            ("complex", lambda a: a.astype(complex), MUST),
            ("str", lambda a: a.astype(str), MUST),
            ("object", lambda a: a.astype(object), MUST),
            ("bool", lambda a: a > 0, MUST),
            ("list", lambda a: np.asarray(a).tolist(), ANY),
        ]


class Rng(Spec):
    def __init__(self, *, optional=False):
        super().__init__(lambda: np.random.default_rng(0), optional=optional)

    def bad(self):
        return super().bad() + [
            ("seed", lambda v: 0, MUST),
            ("RandomState", lambda v: np.random.RandomState(0), MUST),
        ]


class Opt(Spec):
    def __init__(self, value, options=(), *, optional=False):
        super().__init__(value, optional=optional)

    def bad(self):
        return super().bad() + [
            ("bogus", lambda v: "bogus", MUST),
            ("upper", lambda v: str(v).upper() if str(v).upper() != v else "X" + v, MUST),
            ("int", lambda v: 1, MUST),
            ("list", lambda v: [v], MUST),
        ]


class Bool(Spec):
    def bad(self):
        return super().bad() + [
            ("str", lambda v: "yes", MUST),
            ("int", lambda v: 2, MUST),
            ("array", lambda v: np.array([True, False]), MUST),
        ]


class Fn(Spec):
    """A callable argument (its valid value is given as is, not called)."""

    def make(self):
        return self.value

    def bad(self):
        return super().bad() + [
            ("int", lambda v: 3, MUST),
            ("str", lambda v: "f", MUST),
        ]


class Obj(Spec):
    """An object such as a NamedTuple result passed back in; its fields are spoiled."""

    def bad(self):
        out = super().bad() + [
            ("str", lambda v: "model", MUST),
            ("int", lambda v: 3, MUST),
            ("tuple", lambda v: tuple(v) if isinstance(v, tuple) else (v,), ANY),
        ]
        valid = self.make()
        if not hasattr(valid, "_fields"):
            return out
        for name in valid._fields:
            field = getattr(valid, name)
            if isinstance(field, np.ndarray) and field.dtype.kind in "iuf":
                kinds = IntArr(field).bad() if field.dtype.kind in "iu" else Arr(field).bad()
                for label, t, e in kinds:
                    if label == "None":
                        continue
                    out.append(
                        (
                            f".{name}={label}",
                            lambda v, n=name, t=t: v._replace(**{n: t(getattr(v, n))}),
                            e,
                        )
                    )
            elif isinstance(field, (float, np.floating)) and not isinstance(field, bool):
                for label, value in [
                    ("nan", math.nan),
                    ("inf", math.inf),
                    ("zero", 0.0),
                    ("-1", -1.0),
                    ("str", "1"),
                ]:
                    e = MUST if label == "str" else ANY
                    out.append(
                        (f".{name}={label}", lambda v, n=name, x=value: v._replace(**{n: x}), e)
                    )
            elif isinstance(field, (int, np.integer)) and not isinstance(field, bool):
                for label, value in [("-1", -1), ("10**12", 10**12), ("float", 1.5)]:
                    out.append(
                        (f".{name}={label}", lambda v, n=name, x=value: v._replace(**{n: x}), ANY)
                    )
        return out


class Call:
    def __init__(
        self,
        *,
        finite=True,
        raises=(),
        timeout=None,
        cases=None,
        must_raise=None,
        volatile=(),
        **specs,
    ):
        self.finite = finite
        self.volatile = tuple(volatile)
        self.raises = tuple(raises)
        self.timeout = timeout
        self.cases = cases or {}
        self.must_raise = must_raise or {}
        self.specs = specs

    def valid(self):
        return {name: spec.make() for name, spec in self.specs.items()}


# --------------------------------------------------------------------------------------------
# Small valid inputs shared by the entries.
# --------------------------------------------------------------------------------------------


def _pm1(*shape, seed=0):
    return np.where(np.random.default_rng(seed).random(shape) < 0.5, -1, 1).astype(np.int8)


def _normal(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


FUZZ: dict[str, dict[str, Call]] = {}

# ---- hopfield -------------------------------------------------------------------------------
_P = lambda: _pm1(3, 24)  # noqa: E731
_S = lambda: _pm1(2, 24, seed=1)  # noqa: E731

FUZZ["hopfield"] = {
    "random_patterns": Call(
        n_patterns=Int(3, low=1),
        n_neurons=Int(10, low=2),
        rng=Rng(),
        bias=Float(0.0, low=-1, high=1),
    ),
    "flip_bits": Call(states=PM1(_S), fraction=Float(0.1, low=0, high=1), rng=Rng()),
    "hebbian_weights": Call(patterns=PM1(_P)),
    "overlaps": Call(patterns=PM1(_P), states=PM1(_S)),
    "energy": Call(patterns=PM1(_P), states=PM1(_S)),
    "simulate": Call(
        patterns=PM1(_P),
        initial_states=PM1(_S),
        n_steps=Int(3, low=0),
        update=Opt("sync"),
        rng=Rng(optional=True),
    ),
    "retrieval_overlap": Call(alpha=Float(0.05, low=0), finite=False),  # NaN beyond alpha_c
    "critical_capacity": Call(),
    "one_step_error_probability": Call(alpha=Float(0.05, low=0)),
    "final_overlap_sweep": Call(
        n_neurons=Int(30, low=2),
        alphas=Arr(lambda: np.array([0.05, 0.1])),
        n_trials=Int(2, low=1),
        rng=Rng(),
        n_steps=Int(3, low=0),
        update=Opt("sync"),
        cue_flip_fraction=Float(0.1, low=0, high=1),
        bias=Float(0.0),
        progress=Bool(False),
    ),
    "async_energy_trace": Call(
        patterns=PM1(_P),
        initial_state=PM1(lambda: _pm1(24, seed=2)),
        n_sweeps=Int(2, low=0),
        rng=Rng(),
    ),
    "final_period": Call(patterns=PM1(_P), states=PM1(_S)),
    "crossing_load": Call(
        finite=False,
        loads=Arr(lambda: np.array([0.05, 0.1, 0.15, 0.2])),
        values=Arr(lambda: np.array([0.9, 0.7, 0.4, 0.1])),
        level=Float(0.5),
    ),
}

# ---- dense ----------------------------------------------------------------------------------
_X = lambda: 0.8 * _normal(2, 24, seed=3)  # noqa: E731
_ALPHA = 3 / 24**2  # P = alpha N^n patterns for n = 2

FUZZ["dense"] = {
    "binary_field": Call(patterns=PM1(_P), states=PM1(_S), n=Int(2, low=1)),
    "binary_update": Call(patterns=PM1(_P), states=PM1(_S), n=Int(2, low=1), n_steps=Int(2, low=0)),
    "critical_capacity": Call(
        n=Int(2, low=1), g=Float(1.5, low=1e-300), finite=("alpha_stable", "m_bar_stable")
    ),
    "energy": Call(
        patterns=PM1(_P), states=Arr(_X), n=Int(2, low=1), g=Float(1.5), alpha=Float(_ALPHA)
    ),
    "fixed_point": Call(n=Int(2, low=1), g=Float(1.5), alpha=Float(0.05)),
    "fixed_point_fraction": Call(
        n_patterns=Int(3, low=1),
        n_neurons=Int(24, low=2),
        n=Int(2, low=1),
        n_test=Int(2, low=1),
        rng=Rng(),
    ),
    "input_variance": Call(
        patterns=PM1(_P), states=Arr(_X), n=Int(2, low=1), g=Float(1.5), alpha=Float(_ALPHA)
    ),
    "max_stable_load": Call(
        n_neurons=Int(12, low=2),
        n=Int(2, low=1),
        rng=Rng(),
        n_test=Int(2, low=1),
        points_per_octave=Int(1, low=1),
    ),
    "retrieval_curve": Call(
        n=Int(2, low=1), g=Float(1.5), alphas=Arr(lambda: np.array([0.0, 0.05, 1.0])), finite=False
    ),
    "simulate": Call(
        patterns=PM1(_P),
        initial_states=Arr(_X),
        n=Int(2, low=1),
        g=Float(1.5),
        alpha=Float(_ALPHA),
        dt=Float(0.5),
        n_steps=Int(3, low=0),
        cue_index=Same(None),
    ),
}

# ---- dmft -----------------------------------------------------------------------------------
_DMFT = dict(
    n=Int(1, low=1),
    g=Float(1.5),
    alpha=Float(0.1),
    dt=Float(0.5),
    n_steps=Int(3, low=1),
    n_samples=Int(100, low=100),
    rng=Rng(),
)
FUZZ["dmft"] = {
    "solve": Call(
        **_DMFT,
        init_overlap=Float(0.5, low=0, high=1),
        method=Opt("forward"),
        damping=Float(0.0, low=0, high=1),
        tol=Float(1e-9),
        max_iter=Int(5, low=1),
        response=Opt("recursion"),
        volatile=("wall_time",),
        timeout=20,
    ),
    "transient_recovery_curve": Call(
        **_DMFT,
        init_overlaps=Arr(lambda: np.array([0.2, 0.8])),
        timeout=20,
        finite=("m_bar_max_se", "t_opt_se", "t_opt_last_se"),  # NaN for n_repeats = 1
    ),
    "solve_many": Call(
        **_DMFT,
        init_overlaps=Arr(lambda: np.array([0.2, 0.8])),
        n_repeats=Int(1, low=1),
        timeout=20,
        volatile=("wall_time",),
    ),
}

# ---- kernel ---------------------------------------------------------------------------------


def _kernel_model(binary=True):
    from memlab import kernel as km

    if binary:
        return km.fit(_pm1(4, 16, seed=4).astype(float), km.polynomial_kernel(3))
    x = km.spherical_patterns(5, 10, rng=np.random.default_rng(5))
    return km.fit(x, km.rbf_kernel(1.0))


def _sdm_addresses():
    return _pm1(30, 16, seed=6)


FUZZ["kernel"] = {
    "linear_kernel": Call(scale=Float(1.0, optional=True)),
    "polynomial_kernel": Call(
        degree=Int(3, low=1), offset=Float(0.0), scale=Float(None, optional=True)
    ),
    "dot_product_kernel": Call(
        coefficients=Arr(lambda: np.array([0.0, 1.0, 0.5])),
        scale=Float(None, optional=True),
        name=Same("p"),
    ),
    "exponential_kernel": Call(beta=Float(1.0), scale=Float(None, optional=True)),
    "rbf_kernel": Call(length_scale=Float(1.0, low=1e-300)),
    "sdm_kernel": Call(addresses=Arr(_sdm_addresses), radius=Int(6, optional=True)),
    "custom_kernel": Call(
        function=Fn(lambda a, b: np.asarray(a) @ np.asarray(b).T), name=Same("c")
    ),
    "gram_matrix": Call(
        kernel=Obj(lambda: __import__("memlab.kernel").kernel.rbf_kernel(1.0)),
        patterns=Arr(lambda: _normal(4, 6)),
    ),
    "fit": Call(
        patterns=Arr(lambda: _pm1(4, 16, seed=4)),
        kernel=Obj(lambda: __import__("memlab.kernel").kernel.polynomial_kernel(3)),
        method=Opt("interpolation"),
        targets=Same(None),
        self_input=Bool(True),
    ),
    "fields": Call(model=Obj(_kernel_model), states=Arr(lambda: _pm1(2, 16, seed=7) * 1.0)),
    "recall": Call(
        model=Obj(lambda: _kernel_model(False)),
        cues=Arr(lambda: _kernel_model(False).patterns[:2] + 0.05),
        n_steps=Int(3, low=0),
    ),
    "flip_cues": Call(patterns=PM1(lambda: _pm1(3, 16)), n_flips=Int(2, low=0), rng=Rng()),
    "retrieved_fraction": Call(
        model=Obj(_kernel_model),
        n_flips=Int(1, low=0),
        rng=Rng(),
        n_steps=Int(3, low=0),
        n_cues=Int(2, low=1, optional=True),
    ),
    "linear_weights": Call(
        model=Obj(
            lambda: __import__("memlab.kernel").kernel.fit(
                _pm1(4, 16, seed=4), __import__("memlab.kernel").kernel.linear_kernel()
            )
        )
    ),
    "svm_coefficients": Call(
        gram=Arr(lambda: (lambda x: x @ x.T)(_pm1(4, 16, seed=4).astype(float))),
        labels=PM1(lambda: np.array([1, -1, 1, -1])),
    ),
    "fixed_point_jacobians": Call(
        model=Obj(lambda: _kernel_model(False)),
        indices=IntArr(lambda: np.array([0, 1]), optional=True),
    ),
    "spherical_patterns": Call(n_patterns=Int(3, low=1), n_neurons=Int(8, low=1), rng=Rng()),
    "random_addresses": Call(n_addresses=Int(5, low=1), n_neurons=Int(8, low=1), rng=Rng()),
    "sdm_write": Call(
        addresses=PM1(_sdm_addresses),
        radius=Int(6, low=0),
        patterns=PM1(lambda: _pm1(3, 16, seed=8)),
        targets=PM1(lambda: _pm1(3, 16, seed=9), optional=True),
    ),
    "sdm_read": Call(
        addresses=PM1(_sdm_addresses),
        radius=Int(6, low=0),
        counters=IntArr(lambda: np.random.default_rng(1).integers(-3, 4, (30, 16))),
        cues=PM1(lambda: _pm1(2, 16, seed=8)),
        threshold=Bool(True),
    ),
    "sdm_expected_kernel": Call(
        distance=IntArr(lambda: np.array([0, 3, 8])),
        n_neurons=Int(16, low=1),
        n_addresses=Int(30, low=1),
        radius=Int(6, low=0),
    ),
    "sdm_shared_locations": Call(
        addresses=PM1(_sdm_addresses),
        radius=Int(6, low=0),
        states=PM1(lambda: _pm1(2, 16, seed=8)),
        partners=PM1(lambda: _pm1(2, 16, seed=9)),
    ),
    "cap_probability": Call(overlap=Float(0.5, low=-1, high=1), n_neurons=Int(16, low=2)),
    "separation_capacity": Call(
        n_neurons=Int(8, low=2),
        overlap=Float(0.5, low=-1, high=1),
        rng=Rng(),
        max_patterns=Int(200, low=1),
        chunk=Int(64, low=1),
    ),
    "separation_capacity_median": Call(
        n_neurons=Int(16, low=2), overlap=Float(0.5, low=-1, high=1)
    ),
    "rbf_basin_radius": Call(  # inf when there is no finite root (documented)
        length_scale=Float(0.3, low=1e-300), pattern_norm=Float(1.0), finite=False
    ),
    "basin_radius": Call(
        model=Obj(lambda: _kernel_model(False)),
        indices=IntArr(lambda: np.array([0, 1])),
        directions=Arr(lambda: _normal(2, 10, seed=26)),
        max_radius=Float(0.5, low=1e-300),
        n_steps=Int(5, low=0),
        tol=Float(1e-3),
        n_bisect=Int(4, low=0),
    ),
}

# ---- plasticity -----------------------------------------------------------------------------
_SRC = lambda: _normal(200, 2, seed=10)  # noqa: E731
_MIXED = lambda: _normal(200, 2, seed=10) @ np.array([[1.0, 0.3], [0.2, 1.0]])  # noqa: E731
_W0 = lambda: np.array([0.3, 0.4])  # noqa: E731
_RULE = dict(
    x=Arr(_MIXED),
    w0=Arr(_W0),
    eta=Float(1e-3),
    record_every=Int(10, low=1),
    max_norm=Float(1e6),
    on_divergence=Opt("raise"),
)


def _plasticity(name):
    return getattr(importlib.import_module("memlab.plasticity"), name)


FUZZ["plasticity"] = {
    "sources": Call(
        kind=Opt("laplace"), n_samples=Int(50, low=1), n_sources=Int(2, low=1), rng=Rng()
    ),
    "mix": Call(s=Arr(_SRC), mixing=Arr(lambda: np.array([[1.0, 0.3], [0.2, 1.0]]))),
    "random_mixing": Call(n=Int(2, low=1), rng=Rng(), max_condition=Float(100.0)),
    "demixing_directions": Call(mixing=Arr(lambda: np.array([[1.0, 0.3], [0.2, 1.0]]))),
    "principal_component": Call(x=Arr(_MIXED)),
    "source_correlations": Call(w=Arr(_W0), x=Arr(_MIXED), s=Arr(_SRC)),
    "hebb": Call(**_RULE, raises=(lambda: _plasticity("DivergenceError"),)),
    "oja": Call(**_RULE, raises=(lambda: _plasticity("DivergenceError"),)),
    "bcm": Call(
        **_RULE,
        threshold_rate=Float(0.01),
        m0=Float(None, optional=True),
        raises=(lambda: _plasticity("DivergenceError"),),
    ),
    "normalised_hebbian": Call(
        **_RULE, power=Int(3), raises=(lambda: _plasticity("DivergenceError"),)
    ),
    "heterosynaptic": Call(**_RULE, power=Int(3), raises=(lambda: _plasticity("DivergenceError"),)),
    "correlation_invariant": Call(
        **_RULE,
        power=Int(3),
        kappa=Float(6.0),
        threshold_rate=Float(0.01),
        m0=Float(None, optional=True),
        raises=(lambda: _plasticity("DivergenceError"),),
    ),
    "fixed_point_scale": Call(moment=Float(3.0), power=Int(3), kappa=Float(6.0)),
    "dendritic_voltage": Call(
        duration=Float(20.0),
        distance=Float(100.0),
        post_times=Arr(lambda: np.array([5.0])),
        pre_times=Arr(lambda: np.array([3.0])),
        dt=Float(0.1),
        rest=Float(-70.0),
        bap_amplitude=Float(100.0),
        length_constant=Float(150.0),
        bap_width=Float(1.0),
        broadening_length=Float(100.0),
        epsp_amplitude=Float(2.0),
        epsp_tau=Float(5.0),
        plateau_amplitude=Float(0.0),
        plateau_duration=Float(20.0),
    ),
    "voltage_rule": Call(
        voltage=Arr(lambda: -70.0 + 30.0 * np.sin(np.arange(200) / 20.0)),
        pre_times=Arr(lambda: np.array([3.0, 9.0])),
        dt=Float(0.1),
        params=Same(None),
        u0=Float(None, optional=True),
    ),
    "multi_start": Call(
        rule=Opt("invariant"),
        x=Arr(_MIXED),
        s=Arr(_SRC),
        n_starts=Int(2, low=1),
        eta=Float(1e-3),
        rng=Rng(),
        power=Int(3),
        kappa=Float(6.0),
        threshold=Float(0.99),
        record_every=Int(100, low=1),
        raises=(lambda: _plasticity("DivergenceError"),),
        timeout=20,
        finite=("trajectories",),  # NaN after a (flagged) divergence
    ),
    "gated_voltage_rule": Call(
        voltage=Arr(lambda: -70.0 + 30.0 * np.sin(np.arange(200) / 20.0)),
        pre_times=Arr(lambda: np.array([3.0, 9.0])),
        dt=Float(0.1),
        params=Same(None),
        u0=Float(None, optional=True),
    ),
    "gated_clamped_weight_change": Call(u=Float(-40.0), n_pre=Float(2.0), params=Same(None)),
    "stdp_window": Call(
        distance=Float(100.0),
        delays=Arr(lambda: np.array([-10.0, 10.0])),
        n_pairings=Int(1, low=1),
        frequency=Float(1.0),
        dt=Float(0.5),
        plateau_amplitude=Float(0.0),
        params=Same(None),
        timeout=20,
    ),
    "clamped_weight_change": Call(u=Float(-40.0), glutamate_integral=Float(2.0), params=Same(None)),
    "pairing_protocol": Call(
        distance=Float(100.0),
        n_pairings=Int(2, low=1),
        frequency=Float(1.0),
        delay=Float(10.0),
        dt=Float(0.5),
        plateau_amplitude=Float(0.0),
        params=Same(None),
        timeout=20,
    ),
}

# ---- local_learning -------------------------------------------------------------------------


def _divergence():
    return importlib.import_module("memlab.plasticity").DivergenceError


def _ll():
    return importlib.import_module("memlab.local_learning")


def _res():
    return _ll().make_reservoir(40, rng=np.random.default_rng(11))


def _target():
    return _ll().sine_target(0.02, 0.001)


def _trained():
    return _ll().train_force(_res(), _target(), 0.04, rng=np.random.default_rng(12))


def _stream():
    ll = _ll()
    protos = ll.object_prototypes(rng=np.random.default_rng(13), n_objects=3, dim=8, n_signal=3)
    return ll.object_stream(protos, 60, rng=np.random.default_rng(14))


def _clapp_w():
    return _ll().init_clapp(8, 4, rng=np.random.default_rng(15))


_H = lambda: _normal(4, 8, seed=16) * 0.3  # noqa: E731
_HP = lambda: _normal(4, 4, seed=17) * 0.1  # noqa: E731
_XV = lambda: _normal(8, seed=18)  # noqa: E731
_XP = lambda: _normal(8, seed=19)  # noqa: E731

FUZZ["local_learning"] = {
    "make_reservoir": Call(
        n_units=Int(20, low=1),
        rng=Rng(),
        p_connect=Float(0.1),
        gain=Float(1.5),
        tau=Float(0.05),
        dt=Float(0.001),
    ),
    "periodic_target": Call(
        period=Float(0.02), dt=Float(0.001), rng=Rng(), n_harmonics=Int(3, low=1)
    ),
    "sine_target": Call(period=Float(0.02), dt=Float(0.001), amplitude=Float(1.0)),
    "bump_backbone": Call(
        period=Float(0.02), dt=Float(0.001), n_wm=Int(5, low=1), width=Float(None, optional=True)
    ),
    "backbone_input": Call(
        bump=Arr(lambda: _ll().bump_backbone(0.02, 0.001, n_wm=5)),
        n_units=Int(20, low=1),
        rng=Rng(),
        p_connect=Float(0.1),
        scale=Float(1.0),
    ),
    "rls_update": Call(
        p_matrix=Arr(lambda: np.eye(6)),
        w_out=Arr(lambda: np.zeros(6)),
        rates=Arr(lambda: _normal(6, seed=20)),
        target=Float(0.5),
        must_raise={"p_matrix=-I": lambda kw: {**kw, "p_matrix": -np.eye(6)}},
    ),
    "reward_modulated_update": Call(
        rates=Arr(lambda: _normal(6, seed=20)),
        z=Float(0.3),
        z_bar=Float(0.1),
        performance=Float(-0.2),
        performance_bar=Float(-0.3),
        eta=Float(1e-3),
    ),
    "learning_rate": Call(
        t=Arr(lambda: np.array([0.0, 1.0, 10.0])), eta0=Float(5e-4), tau_eta=Float(20.0)
    ),
    "train_force": Call(
        res=Obj(_res),
        target=Arr(_target),
        duration=Float(0.04),
        rng=Rng(),
        backbone=Same(None),
        alpha=Float(1.0),
        update_every=Int(2, low=1),
        state_noise=Float(0.0),
        initial_states=Arr(lambda: np.zeros(40), optional=True),
        raises=(_divergence,),
    ),
    "train_reward_hebbian": Call(
        raises=(_divergence,),
        res=Obj(_res),
        target=Arr(_target),
        duration=Float(0.04),
        rng=Rng(),
        eta0=Float(5e-4),
        tau_eta=Float(20.0),
        tau_avg=Float(0.005),
        state_noise=Float(0.05),
        expl_noise=Float(0.5),
    ),
    "free_run": Call(
        raises=(_divergence,),
        res=Obj(_res),
        run=Obj(_trained),
        target=Arr(_target),
        duration=Float(0.04),
    ),
    "nmse": Call(
        output=Arr(lambda: np.sin(np.arange(20.0))), target=Arr(lambda: np.cos(np.arange(20.0)))
    ),
    "test_error": Call(
        raises=(_divergence,),
        res=Obj(_res),
        run=Obj(_trained),
        target=Arr(_target),
        n_periods=Int(2, low=1),
    ),
    "object_prototypes": Call(
        rng=Rng(),
        n_objects=Int(3, low=1),
        dim=Int(8, low=1),
        n_signal=Int(3, low=1),
        proto_std=Float(0.7),
    ),
    "object_stream": Call(
        prototypes=Arr(lambda: _normal(3, 8, seed=21)),
        n_steps=Int(30, low=1),
        rng=Rng(),
        p_saccade=Float(0.5, low=0, high=1),
        signal_noise=Float(0.3),
        nuisance_noise=Float(1.5),
    ),
    "clapp_score": Call(w=Arr(_H), w_pred=Arr(_HP), x_prev=Arr(_XP), x=Arr(_XV)),
    "clapp_loss": Call(w=Arr(_H), w_pred=Arr(_HP), x_prev=Arr(_XP), x=Arr(_XV), y=Int(1)),
    "clapp_update": Call(w=Arr(_H), w_pred=Arr(_HP), x_prev=Arr(_XP), x=Arr(_XV), y=Int(1)),
    "init_clapp": Call(dim=Int(8, low=1), n_hidden=Int(4, low=1), rng=Rng(), pred_scale=Float(0.1)),
    "train_clapp": Call(
        raises=(_divergence,),
        w=Arr(lambda: _clapp_w().w),
        w_pred=Arr(lambda: _clapp_w().w_pred),
        stream=Obj(_stream),
        eta=Float(2e-3),
    ),
    "train_clapp_two_layers": Call(
        raises=(_divergence,),
        layer1=Obj(_clapp_w),
        layer2=Obj(lambda: _ll().init_clapp(4, 3, rng=np.random.default_rng(16))),
        stream=Obj(_stream),
        eta=Float(2e-3),
        backprop=Bool(False),
        labels2=PM1(lambda: np.where(np.arange(60) % 3 == 0, -1, 1), optional=True),
    ),
    "encode": Call(w=Arr(_H), x=Arr(lambda: _normal(5, 8, seed=22))),
    "decoding_accuracy": Call(
        features_train=Arr(lambda: _normal(12, 3, seed=23)),
        labels_train=IntArr(lambda: np.arange(12) % 3),
        features_test=Arr(lambda: _normal(6, 3, seed=24)),
        labels_test=IntArr(lambda: np.arange(6) % 3),
    ),
}

# ---- surprise -------------------------------------------------------------------------------
_OBS = lambda: _normal(30, seed=25)  # noqa: E731


def _comparison(sigma, seed=1):
    return importlib.import_module("memlab.surprise").compare_learners(
        "gaussian",
        [(sigma, 0.1)],
        ["VarSMiLe"],
        n_steps=60,
        tune_seeds=(0,),
        eval_seeds=(seed,),
        n_grid=3,
        n_refine=0,
    )


_GAUSS = dict(observations=Arr(_OBS), sigma=Float(1.0), mu0=Float(0.0), sigma0=Float(1.0))

FUZZ["surprise"] = {
    "gaussian_task": Call(
        n_steps=Int(20, low=1),
        sigma=Float(0.5),
        p_change=Float(0.1),
        rng=Rng(),
        mu0=Float(0.0),
        sigma0=Float(1.0),
    ),
    "categorical_task": Call(
        n_steps=Int(20, low=1),
        n_categories=Int(3, low=2),
        concentration=Float(1.0),
        p_change=Float(0.1),
        rng=Rng(),
    ),
    "surprise_gamma": Call(
        log_surprise=Arr(lambda: np.array([-1.0, 0.0, 2.0]), inf_ok=True),
        m=Float(0.1, low=0, inf_ok=True),
        must_raise={
            "(-inf, inf)": lambda kw: {**kw, "log_surprise": -np.inf, "m": np.inf},
            "(inf, 0)": lambda kw: {**kw, "log_surprise": np.inf, "m": 0.0},
        },
    ),
    "exact_bayes": Call(**_GAUSS, p_change=Float(0.1), tol=Float(1e-16)),
    "exact_bayes_belief": Call(**_GAUSS, p_change=Float(0.1), tol=Float(1e-16)),
    "message_passing": Call(**_GAUSS, p_change=Float(0.1), n_messages=Int(5, low=1)),
    "particle_filter": Call(**_GAUSS, p_change=Float(0.1), n_particles=Int(10, low=1), rng=Rng()),
    "var_smile": Call(
        **_GAUSS,
        m=Float(0.1, low=0, inf_ok=True),
        must_raise={"m='0.1'": lambda kw: {**kw, "m": "0.1"}},
        cases={"y=1e200": lambda kw: {**kw, "observations": np.full(5, 1e200)}},
    ),
    "smile": Call(**_GAUSS, m=Float(0.1, low=0, inf_ok=True)),
    "stratified_resampling": Call(
        **_GAUSS, p_change=Float(0.1), n_messages=Int(5, low=1), rng=Rng()
    ),
    "combine_comparisons": Call(
        results=Same(lambda: [_comparison(1.0), _comparison(2.0)]),
        finite=False,
        must_raise={
            "no results": lambda kw: {"results": []},
            "not a Comparison": lambda kw: {"results": [3]},
            "other seeds": lambda kw: {"results": [_comparison(1.0), _comparison(2.0, seed=2)]},
        },
    ),
    "published_name": Call(task=Opt("gaussian"), algorithm=Same("VarSMiLe")),
    "compare_learners": Call(
        task=Opt("gaussian"),
        cells=Same([(1.0, 0.1)]),
        algorithms=Same(["VarSMiLe"]),
        n_steps=Int(100, low=1),
        tune_seeds=Same((0,)),
        eval_seeds=Same((1,)),
        n_grid=Int(3, low=3),
        n_refine=Int(0, low=0),
        progress=Bool(False),
        timeout=30,
        finite=False,
        must_raise={
            "overlapping seeds": lambda kw: {**kw, "eval_seeds": (0,)},
            "empty seeds": lambda kw: {**kw, "tune_seeds": ()},
            "bad algorithm": lambda kw: {**kw, "algorithms": ["nonsense"]},
            "bad cell": lambda kw: {**kw, "cells": [(-1.0, 0.1)]},
        },
    ),
    "leaky_integrator": Call(
        observations=IntArr(lambda: np.arange(20) % 3),
        omega=Float(0.7),
        n_categories=Int(3, low=2),
        concentration=Float(1.0, optional=True),
    ),
    "nassar": Call(**_GAUSS, hazard=Float(0.1), variant=Opt("nas12")),
    "grid_filter": Call(
        **_GAUSS, p_change=Float(0.1), n_grid=Int(401, low=2), half_width=Float(8.0)
    ),
    "mean_squared_error": Call(
        estimates=Arr(lambda: np.array([0.1, 0.2, 0.4])),
        truth=Arr(lambda: np.array([0.0, 0.3, 0.5])),
    ),
    "published_mse": Call(
        task=Opt("gaussian"), algorithm=Opt("bayesfilter"), raises=(FileNotFoundError,)
    ),
}

# ---- images ---------------------------------------------------------------------------------
FUZZ["images"] = {
    "pixel_patterns": Call(size=Int(8, low=1)),
}


def _glm_params():
    from memlab import glm_fitting

    return glm_fitting.random_params(2, 1, 1, rng=np.random.default_rng(0), bias=-1.0)


def _glm_spikes():
    return (np.random.default_rng(1).random((3, 4, 2)) < 0.4).astype(np.uint8)


def _glm_stimulus():
    return np.linspace(-1.0, 1.0, 4)[:, None]


_GLM_STATS = dict(
    data_psth=Arr(lambda: np.full((4, 2), 0.3)),
    data_cov=Arr(lambda: np.array([[0.2, 0.05], [0.05, 0.2]])),
)

FUZZ["glm_fitting"] = {
    "zero_params": Call(n_neurons=Int(2, low=1), n_inputs=Int(1, low=1), n_lags=Int(1, low=1)),
    "random_params": Call(
        n_neurons=Int(2, low=1),
        n_inputs=Int(1, low=1),
        n_lags=Int(1, low=1),
        rng=Rng(),
        bias=Float(-2.0),
        scale=Float(0.5, low=0.0),
    ),
    "hidden_network": Call(
        n_recorded=Int(2, low=1),
        n_hidden=Int(3, low=1),
        n_steps=Int(5, low=2),
        rng=Rng(),
        n_inputs=Int(1, low=1),
        coupling=Float(5.0),
        hidden_bias=Float(-3.0),
        hidden_to_recorded=Float(2.0),
        recorded_bias=Float(-3.0),
        hidden_input=Float(1.0),
    ),
    "lagged_stimulus": Call(stimulus=Arr(_glm_stimulus), n_lags=Int(1, low=0)),
    "simulate": Call(
        params=Obj(_glm_params), stimulus=Arr(_glm_stimulus), n_trials=Int(3, low=1), rng=Rng()
    ),
    "psth": Call(spikes=Arr(lambda: _glm_spikes().astype(float))),
    "noise_covariance": Call(spikes=IntArr(_glm_spikes)),
    "negative_log_likelihood": Call(
        params=Obj(_glm_params), spikes=IntArr(_glm_spikes), stimulus=Arr(_glm_stimulus)
    ),
    "standard_errors": Call(
        params=Obj(_glm_params), spikes=IntArr(_glm_spikes), stimulus=Arr(_glm_stimulus)
    ),
    "psth_loss": Call(
        model_psth=Arr(lambda: np.full((4, 2), 0.2)), data_psth=Arr(lambda: np.full((4, 2), 0.3))
    ),
    "noise_correlation_loss": Call(
        model_cov=Arr(lambda: np.eye(2) * 0.2), data_cov=Arr(lambda: np.eye(2) * 0.1)
    ),
    "sample_and_measure": Call(
        params=Obj(_glm_params),
        stimulus=Arr(_glm_stimulus),
        **_GLM_STATS,
        n_trials=Int(3, low=2),
        rng=Rng(),
        mu_psth=Float(1.0, low=0.0),
        mu_nc=Float(1.0, low=0.0),
        gamma=Float(1.0, low=0.0, high=10.0),
        backend=Opt("numba"),
    ),
    "expected_loss": Call(
        params=Obj(_glm_params),
        stimulus=Arr(lambda: _glm_stimulus()[:2]),
        data_psth=Arr(lambda: np.full((2, 2), 0.3)),
        data_cov=Arr(lambda: np.array([[0.2, 0.05], [0.05, 0.2]])),
        n_trials=Int(2, low=2),
        mu_psth=Float(1.0, low=0.0),
        mu_nc=Float(1.0, low=0.0),
    ),
    "fit": Call(
        spikes=IntArr(_glm_spikes),
        stimulus=Arr(_glm_stimulus),
        n_lags=Int(1, low=1),
        rng=Rng(),
        mu_psth=Float(1.0, low=0.0),
        mu_nc=Float(1.0, low=0.0),
        n_sample_trials=Int(3, low=2),
        n_steps=Int(3, low=1),
        learning_rate=Float(0.01, low=1e-300, high=10.0),
        gamma=Float(1.0, low=0.0, high=10.0),
        l2=Float(1e-4, low=0.0),
        average=Float(0.5, low=0.0, high=1.0),
    ),
    "free_run_stats": Call(
        params=Obj(_glm_params),
        stimulus=Arr(_glm_stimulus),
        spikes=IntArr(_glm_spikes),
        n_trials=Int(3, low=2),
        rng=Rng(),
    ),
}

# ---- landscape ------------------------------------------------------------------------------
_LW = lambda: _normal(3, 2)  # noqa: E731
_LA = lambda: _normal(3, seed=1)  # noqa: E731
_LX = lambda: _normal(20, 2, seed=2)  # noqa: E731
_LY = lambda: _normal(20, seed=3)  # noqa: E731
_LNET = dict(w=Arr(_LW), a=Arr(_LA), x=Arr(_LX), y=Arr(_LY))
_LBATCH = dict(
    w=Arr(lambda: _normal(2, 3, 2)),
    a=Arr(lambda: _normal(2, 3, 1, seed=1)),
    x=Arr(_LX),
    y=Arr(_LY),
)

FUZZ["landscape"] = {
    "forward": Call(w=Arr(_LW), a=Arr(_LA), x=Arr(_LX), activation=Opt("tanh")),
    "loss": Call(raises=(FloatingPointError,), **_LNET, activation=Opt("tanh")),
    "gradient": Call(raises=(FloatingPointError,), **_LNET, activation=Opt("tanh")),
    "hessian": Call(raises=(FloatingPointError,), **_LNET, activation=Opt("tanh")),
    "pack": Call(w=Arr(_LW), a=Arr(_LA)),
    "unpack": Call(
        theta=Arr(lambda: _normal(9)),
        width=Int(3, low=1),
        n_in=Int(2, low=1),
        n_out=Int(1, low=1, optional=True),
    ),
    "permute_neurons": Call(w=Arr(_LW), a=Arr(_LA), order=IntArr(lambda: np.array([2, 0, 1]))),
    "teacher_data": Call(
        n_samples=Int(10, low=1),
        n_in=Int(2, low=1),
        width=Int(2, low=1),
        rng=Rng(),
        n_out=Int(1, low=1, optional=True),
        activation=Opt("tanh"),
    ),
    "random_students": Call(
        n_students=Int(2, low=1),
        width=Int(3, low=1),
        n_in=Int(2, low=1),
        rng=Rng(),
        n_out=Int(1, low=1),
        scale=Float(1.0, low=1e-300),
    ),
    "gradient_descent": Call(
        raises=(FloatingPointError,),
        **_LBATCH,
        lr=Float(0.1, low=1e-300),
        n_steps=Int(5, low=0),
        record_every=Int(1, low=1),
        activation=Opt("tanh"),
    ),
    "polish": Call(
        raises=(FloatingPointError,),
        **_LBATCH,
        gtol=Float(1e-10, low=1e-300),
        max_iter=Int(3, low=1),
        activation=Opt("tanh"),
    ),
    "train_students": Call(
        raises=(FloatingPointError,),
        x=Arr(_LX),
        y=Arr(_LY),
        width=Int(2, low=1),
        n_students=Int(2, low=1),
        rng=Rng(),
        lr=Float(0.1, low=1e-300),
        n_steps=Int(5, low=0),
        gtol=Float(1e-10, low=1e-300),
        scale=Float(1.0, low=1e-300),
        activation=Opt("tanh"),
    ),
    "duplicate_neuron": Call(w=Arr(_LW), a=Arr(_LA), index=Int(1, low=0, high=2), delta=Float(0.5)),
    "antisymmetric_directions": Call(
        width=Int(3, low=1), n_in=Int(2, low=1), n_out=Int(1, low=1), i=Int(0), j=Int(2)
    ),
    "hessian_inertia": Call(h=Arr(lambda: np.diag([-1.0, 0.0, 2.0])), tol=Float(1e-7, low=1e-300)),
    "stirling2": Call(n=Int(5, low=0), k=Int(2, low=0)),
    "count_global_min_subspaces": Call(r=Int(2, low=1), m=Int(4, low=1)),
    "count_critical_subspaces": Call(r=Int(2, low=1), m=Int(4, low=1)),
    "enumerate_subspaces": Call(r=Int(2, low=1), m=Int(3, low=1), kind=Opt("global")),
    "subspace_dimension": Call(
        labels=IntArr(lambda: np.array([0, 1, 2, 2])), n_in=Int(2, low=1), n_out=Int(1, low=1)
    ),
    "expansion_subspace": Call(
        w=Arr(lambda: _normal(2, 2)),
        a=Arr(lambda: _normal(2, seed=1)),
        labels=IntArr(lambda: np.array([0, 1, 2, 2])),
    ),
    "count_permutation_points": Call(n=Int(4, low=2), order=Int(1, low=1)),
    "enumerate_permutation_points": Call(n=Int(4, low=2), order=Int(1, low=1)),
    "expansion_path": Call(
        w=Arr(lambda: _normal(1, 2)),
        a=Arr(lambda: _normal(1, seed=1)),
        w_extra=Arr(lambda: _normal(2, seed=2)),
        index=Int(0, low=0, high=0),
        n_points=Int(3, low=2),
    ),
    "string_method": Call(
        raises=(FloatingPointError,),
        start=Arr(lambda: _normal(6)),
        end=Arr(lambda: _normal(6, seed=1)),
        x=Arr(_LX),
        y=Arr(_LY),
        width=Int(2, low=1),
        n_images=Int(3, low=3),
        n_steps=Int(2, low=0),
        step=Float(0.1, low=1e-300),
        activation=Opt("tanh"),
    ),
    "newton_critical_point": Call(
        raises=(FloatingPointError,),
        **_LNET,
        gtol=Float(1e-12, low=1e-300),
        max_iter=Int(2, low=1),
        activation=Opt("tanh"),
    ),
}


# ---- populations ----------------------------------------------------------------------------
def _pop_circuit():
    from memlab import populations

    return populations.winner_take_all(6)


def _pop_spikes():
    spikes = np.zeros((60, 3, 2), dtype=bool)
    spikes[::20, :, 0] = True
    spikes[5::30, :, 1] = True
    return spikes


def _pop_observation():
    from memlab import populations

    return populations.observe(_pop_spikes(), 8)


def _pop_latent():
    return np.full((60, 3), 0.5)


FUZZ["populations"] = {
    "make_circuit": Call(
        sizes=IntArr(lambda: np.array([5, 6])),
        coupling=Arr(lambda: np.array([[1.0, -1.0], [-1.0, 1.0]])),
        bias=Arr(lambda: np.array([-3.0, -3.0])),
        refractory=Int(2, low=0),
        tau_syn=Float(5.0, low=0.0),
        delay=Int(1, low=0),
        dt=Float(1.0, low=0.0),
    ),
    "winner_take_all": Call(
        n_per_pop=Int(10, low=1),
        n_pop=Int(3, low=1),
        self_coupling=Float(25.0),
        cross_coupling=Float(-20.0),
        bias=Float(-3.0),
    ),
    "input_potential": Call(
        counts=Arr(lambda: np.ones((20, 3))),
        circuit=Obj(_pop_circuit),
        inputs=Arr(lambda: np.zeros((20, 3)), optional=True),
    ),
    "firing_probability": Call(h=Arr(lambda: np.array([-3.0, 0.0])), dt=Float(1.0, low=0.0)),
    "simulate_micro": Call(
        circuit=Obj(_pop_circuit),
        n_steps=Int(20, low=1),
        rng=Rng(),
        inputs=Arr(lambda: np.zeros((20, 3)), optional=True),
        n_record=Int(2, low=0),
    ),
    "simulate_meso": Call(
        circuit=Obj(_pop_circuit),
        n_steps=Int(20, low=1),
        rng=Rng(),
        inputs=Arr(lambda: np.zeros((20, 3)), optional=True),
    ),
    "observe": Call(
        spikes=Same(_pop_spikes),
        refractory=Int(8, low=0),
        must_raise={
            "no spikes": lambda kw: {**kw, "spikes": np.zeros((60, 3, 2), dtype=bool)},
            "value 2": lambda kw: {**kw, "spikes": kw["spikes"] * 2},
            "floats": lambda kw: {**kw, "spikes": kw["spikes"] * 0.5},
            "2-d": lambda kw: {**kw, "spikes": kw["spikes"][:, :, 0]},
            "empty": lambda kw: {**kw, "spikes": kw["spikes"][:0]},
            "refractory violated": lambda kw: {**kw, "refractory": 25},
        },
    ),
    "empirical_latent": Call(
        observation=Obj(_pop_observation), circuit=Obj(_pop_circuit), smooth=Float(2.0, low=0.0)
    ),
    "joint_log_likelihood": Call(
        latent=Arr(_pop_latent),
        observation=Obj(_pop_observation),
        circuit=Obj(_pop_circuit),
        inputs=Arr(lambda: np.zeros((60, 3)), optional=True),
    ),
    "map_latent": Call(
        observation=Obj(_pop_observation),
        circuit=Obj(_pop_circuit),
        init=Arr(_pop_latent, optional=True),
        max_iter=Int(5, low=1),
    ),
    "fit_parameters": Call(
        latent=Arr(_pop_latent),
        observation=Obj(_pop_observation),
        circuit=Obj(_pop_circuit),
        max_iter=Int(5, low=1),
    ),
    "fit_neulvm": Call(
        observation=Obj(_pop_observation),
        circuit=Obj(_pop_circuit),
        n_iter=Int(1, low=0),
        smooth=Float(2.0, low=0.0),
    ),
    "fit_neulvm_particle": Call(
        observation=Obj(_pop_observation),
        circuit=Obj(_pop_circuit),
        rng=Rng(),
        n_iter=Int(1, low=0),
        n_particles=Int(4, low=2),
        lag=Int(3, low=0),
    ),
    "dwell_times": Call(
        counts=Arr(lambda: np.tile([[3.0, 0.0], [0.0, 3.0]], (50, 1))),
        sizes=Arr(lambda: np.array([5.0, 5.0])),
        smooth=Float(2.0, low=0.0),
        min_dwell=Int(2, low=1),
        dt=Float(1.0, low=0.0),
    ),
}


# --------------------------------------------------------------------------------------------
# Functions whose failures are known and tolerated (reported, not failed): shrink to nothing.
# --------------------------------------------------------------------------------------------
KNOWN: dict[str, str] = {}


# --------------------------------------------------------------------------------------------
# The worker (runs in a subprocess: python tests/test_fuzz.py <module> [first case])
# --------------------------------------------------------------------------------------------


def _cases(module: str):
    """Deterministic list of (case id, function name, label, expectation, build)."""
    out = []
    for fname, call in FUZZ[module].items():

        def base(call=call):
            return call.valid()

        out.append((f"{fname}:valid", fname, "valid", OK, base))
        out.append((f"{fname}:read-only", fname, "read-only", "same", base))
        for pname, spec in call.specs.items():
            for label, transform, expect in spec.bad():

                def build(call=call, pname=pname, transform=transform):
                    kw = call.valid()
                    kw[pname] = transform(kw[pname])
                    return kw

                out.append((f"{fname}:{pname}={label}", fname, f"{pname}={label}", expect, build))
        for label, make in call.cases.items():
            out.append(
                (
                    f"{fname}:{label}",
                    fname,
                    label,
                    ANY,
                    lambda call=call, make=make: make(call.valid()),
                )
            )
        for label, make in call.must_raise.items():
            out.append(
                (
                    f"{fname}:{label}",
                    fname,
                    label,
                    MUST,
                    lambda call=call, make=make: make(call.valid()),
                )
            )
    return out


def _read_only(value):
    if isinstance(value, np.ndarray):
        value = value.copy()
        value.flags.writeable = False
        return value
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return type(value)(*(_read_only(v) for v in value))
    return value


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape or a.dtype != b.dtype:
            return False
        if a.dtype.kind in "fc":
            return bool(np.array_equal(a, b, equal_nan=True))
        return bool(np.array_equal(a, b))
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        return type(a) is type(b) and all(
            _same(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a)
        )
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if callable(a):
        return a is b
    try:
        return bool(a == b)
    except Exception:
        return False


def _drop(value, fields):
    """``value`` with the named NamedTuple fields (timings, say) set to None, in lists too."""
    if fields and isinstance(value, tuple) and hasattr(value, "_fields"):
        return value._replace(**{f: None for f in fields})
    if fields and isinstance(value, list):
        return [_drop(v, fields) for v in value]
    return value


def _nonfinite(value, path="result", skip=()):
    """Path of the first NaN/inf in ``value`` (None if all finite)."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "fc" and not np.all(np.isfinite(value)):
            return f"{path} (array with {int(np.sum(~np.isfinite(value)))} non-finite)"
        return None
    if isinstance(value, (float, np.floating, complex)):
        return None if np.isfinite(value) else f"{path} = {value}"
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        for name in value._fields:
            if name not in skip:
                bad = _nonfinite(getattr(value, name), f"{path}.{name}", skip)
                if bad:
                    return bad
        return None
    if isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            bad = _nonfinite(v, f"{path}[{i}]", skip)
            if bad:
                return bad
    if isinstance(value, dict):
        for k, v in value.items():
            bad = _nonfinite(v, f"{path}[{k!r}]", skip)
            if bad:
                return bad
    return None


def _snapshot(kw):
    return {
        k: copy.deepcopy(v)
        for k, v in kw.items()
        if not isinstance(v, (np.random.Generator, np.random.RandomState))
    }


def _run_case(module, fname, call, label, expect, build, baseline):
    func = getattr(importlib.import_module(f"memlab.{module}"), fname)
    kw = build()
    if expect == "same":
        kw = {k: _read_only(v) for k, v in kw.items()}
    before = _snapshot(kw)
    raises = tuple(r if isinstance(r, type) else r() for r in call.raises)
    star = [
        p.name
        for p in inspect.signature(func).parameters.values()
        if p.kind is inspect.Parameter.VAR_POSITIONAL and p.name in kw
    ]
    args = list(kw[star[0]]) if star else []  # e.g. combine_comparisons(*results)
    kwargs = {k: v for k, v in kw.items() if not star or k != star[0]}
    try:
        result = func(*args, **kwargs)
    except (ValueError, TypeError) + raises as exc:
        msg = f"{type(exc).__name__}: {exc}"
        if expect in (OK, "same"):
            return f"FAIL raised {msg[:300]}", None
        if UNCLEAR.search(str(exc)) and not isinstance(exc, raises):
            return f"FAIL unclear message {msg[:300]}", None
        return f"ok {msg[:160]}", None
    except BaseException as exc:  # noqa: BLE001 - any other exception is the failure
        return f"FAIL {type(exc).__name__}: {str(exc)[:300]}", None
    mutated = [k for k, v in before.items() if not _same(kw[k], v)]
    if mutated:
        return f"FAIL modified its input(s) {mutated}", result
    if expect == MUST:
        return "FAIL accepted (must be refused)", result
    if call.finite is not False:
        skip = call.finite if isinstance(call.finite, tuple) else ()
        bad = _nonfinite(result, skip=skip)
        if bad:
            return f"FAIL non-finite {bad}", result
    if (
        expect == "same"
        and baseline is not None
        and not _same(_drop(result, call.volatile), _drop(baseline[0], call.volatile))
    ):
        return "FAIL read-only inputs gave a different result", result
    return "ok returned", result


def worker(module: str, start: int = 0) -> None:
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    except (ImportError, ValueError, OSError):
        pass
    import warnings

    warnings.simplefilter("ignore")
    cases = _cases(module)
    baselines = {}
    for index in range(start, len(cases)):
        case_id, fname, label, expect, build = cases[index]
        call = FUZZ[module][fname]
        print(f"S {index}", flush=True)
        t0 = time.perf_counter()
        try:
            verdict, result = _run_case(
                module, fname, call, label, expect, build, baselines.get(fname)
            )
        except BaseException as exc:  # noqa: BLE001 - building the case failed
            verdict, result = f"FAIL building the case: {type(exc).__name__}: {exc}", None
        if label == "valid" and verdict.startswith("ok"):
            baselines[fname] = (result,)
        seconds = time.perf_counter() - t0
        print("R " + json.dumps([index, case_id, verdict, round(seconds, 3)]), flush=True)
    print("DONE", flush=True)


def _timeout(module, case_id):
    fname = case_id.split(":", 1)[0]
    call = FUZZ[module][fname]
    if case_id.endswith(":valid"):
        return max(FIRST_TIMEOUT, call.timeout or 0)
    return call.timeout or TIMEOUT


class _Server:
    """One worker process that runs module after module (``python test_fuzz.py --serve``).

    It reads ``module start`` lines on stdin and answers as :func:`worker` does.  Importing the
    library takes a worker about 1.4 s of CPU, so one process for all modules instead of one per
    module saves most of the fuzz test's time; after a crash or a hang it is replaced.  Its
    stderr goes to a file (a pipe nobody reads could fill up and block it).
    """

    def __init__(self, argv=None):
        self.argv = argv or [sys.executable, __file__, "--serve"]
        self.proc = None
        self.stderr = None

    def get(self):
        if self.proc is None or self.proc.poll() is not None:
            self.close()
            env = dict(
                os.environ,
                NUMBA_NUM_THREADS="1",
                OMP_NUM_THREADS="1",
                OPENBLAS_NUM_THREADS="1",
                MKL_NUM_THREADS="1",
                PYTHONWARNINGS="ignore",
            )
            self.stderr = tempfile.TemporaryFile()
            self.proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self.stderr,
                env=env,
                cwd=ROOT,
                start_new_session=True,
            )
        return self.proc

    def error_tail(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read().decode(errors="replace")[-600:]

    def close(self):
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait()
            for stream in (self.proc.stdin, self.proc.stdout):
                stream.close()
            self.stderr.close()
        self.proc = None


_SERVER = _Server()
atexit.register(_SERVER.close)


def run_module(module: str, echo=False, server=None):
    """Run every case of ``module`` in the worker process; returns {case id: (verdict, seconds)}.

    A case that crashes the worker or hangs (no result within its timeout) fails; the worker is
    replaced and the module goes on at the next case.  ``server``: default the shared worker.
    """
    server = server or _SERVER
    cases = _cases(module)
    results = {}
    start = 0
    while start < len(cases):
        proc = server.get()
        proc.stdin.write(f"{module} {start}\n".encode())
        proc.stdin.flush()
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        buffer = b""
        current = None
        deadline = time.monotonic() + FIRST_TIMEOUT
        next_start = None
        while True:
            remaining = deadline - time.monotonic()
            events = sel.select(timeout=max(remaining, 0)) if remaining > 0 else []
            if not events:
                server.close()
                if current is None:
                    results["<start>"] = ("FAIL worker did not start", 0.0)
                    next_start = len(cases)
                else:
                    cid = cases[current][0]
                    results[cid] = (
                        f"FAIL hang: no result after {_timeout(module, cid):g} s",
                        _timeout(module, cid),
                    )
                    next_start = current + 1
                break
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                proc.wait()
                err = server.error_tail()
                server.close()
                if current is not None:
                    cid = cases[current][0]
                    results[cid] = (f"FAIL crash (exit code {proc.returncode}): {err}", 0.0)
                    next_start = current + 1
                else:
                    results.setdefault("<start>", (f"FAIL worker exited: {err}", 0.0))
                    next_start = len(cases)
                break
            buffer += chunk
            done = False
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                text = line.decode(errors="replace")
                if text.startswith("S "):
                    current = int(text[2:])
                    deadline = time.monotonic() + _timeout(module, cases[current][0])
                elif text.startswith("R "):
                    index, cid, verdict, seconds = json.loads(text[2:])
                    results[cid] = (verdict, seconds)
                    if echo:
                        print(f"{cid}: {verdict} ({seconds:.3f} s)", flush=True)
                    current = None
                    deadline = time.monotonic() + 60.0
                elif text == "DONE":
                    done = True
            if done:
                next_start = len(cases)
                break
        sel.close()
        if echo and next_start < len(cases) and current is not None:
            print(f"{cases[current][0]}: {results[cases[current][0]][0]}", flush=True)
        start = next_start
    return results


def serve() -> None:
    """The worker process of :class:`_Server`: ``module start`` lines in, results out."""
    for line in sys.stdin:
        module, start = line.split()
        worker(module, int(start))


# --------------------------------------------------------------------------------------------
# The tests
# --------------------------------------------------------------------------------------------


def _api_modules():
    tree = ast.parse((ROOT / "tests" / "test_api.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "MODULES" for t in node.targets
        ):
            return list(ast.literal_eval(node.value))
    raise AssertionError("tests/test_api.py defines no MODULES list")


def _public_functions(module):
    mod = importlib.import_module(f"memlab.{module}")
    return [n for n in mod.__all__ if inspect.isfunction(getattr(mod, n))]


def test_every_public_function_has_a_fuzz_entry():
    missing = []
    for module in _api_modules():
        entries = FUZZ.get(module, {})
        missing += [f"{module}.{n}" for n in _public_functions(module) if n not in entries]
    assert not missing, (
        "public functions without an entry in tests/test_fuzz.py FUZZ (see the format note at "
        f"the top of that file): {missing}"
    )


def test_fuzz_entries_name_real_parameters():
    wrong = []
    for module, entries in FUZZ.items():
        mod = importlib.import_module(f"memlab.{module}")
        for fname, call in entries.items():
            func = getattr(mod, fname, None)
            if func is None:
                wrong.append(f"{module}.{fname}: no such function")
                continue
            params = inspect.signature(func).parameters
            wrong += [
                f"{module}.{fname}: no parameter {p!r}" for p in call.specs if p not in params
            ]
    assert not wrong, wrong


_SELFTEST_WORKER = """
import os, sys, time
sys.path.insert(0, {tests!r})
import test_fuzz as tf

tf.FUZZ["images"] = tf.selftest_entries(
    crash=lambda kw: os._exit(3), hang=lambda kw: time.sleep(60)
)
tf.serve()
"""


def selftest_entries(crash, hang):
    """A fuzz table for memlab.images whose cases crash the worker, hang, then pass."""
    return {
        "pixel_patterns": Call(
            size=Int(8, low=1),
            timeout=2.0,
            cases={"crash": crash, "hang": hang, "fine": lambda kw: kw},
        )
    }


def test_worker_reports_a_crash_and_a_hang_and_goes_on(tmp_path, monkeypatch):
    script = tmp_path / "worker.py"
    script.write_text(_SELFTEST_WORKER.format(tests=str(ROOT / "tests")))
    monkeypatch.setitem(FUZZ, "images", selftest_entries(crash=None, hang=None))
    server = _Server([sys.executable, str(script)])
    try:
        results = run_module("images", server=server)
    finally:
        server.close()
    verdicts = {cid.split(":", 1)[1]: v for cid, (v, _) in results.items()}
    assert verdicts["crash"].startswith("FAIL crash (exit code 3)"), verdicts
    assert verdicts["hang"].startswith("FAIL hang: no result after 2 s"), verdicts
    assert verdicts["fine"].startswith("ok"), verdicts  # the replaced worker went on
    assert verdicts["valid"].startswith("ok"), verdicts
    assert len(results) == len(_cases("images"))


# about 30 s of CPU for all modules (2026-12-02), so not marked slow
@pytest.mark.parametrize("module", sorted(FUZZ))
def test_fuzz(module):
    results = run_module(module)
    failures = {cid: v for cid, (v, _) in results.items() if v.startswith("FAIL")}
    known = {c: v for c, v in failures.items() if f"{module}.{c.split(':')[0]}" in KNOWN}
    new = {c: v for c, v in failures.items() if c not in known}
    assert len(results) == len(_cases(module)), "some cases did not report"
    assert not new, f"{len(new)} of {len(results)} fuzz cases of memlab.{module} failed:\n" + (
        "\n".join(f"  {c}: {v}" for c, v in sorted(new.items()))
    )


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve"]:
        serve()
    else:
        for name in sys.argv[1:] or sorted(FUZZ):
            t0 = time.perf_counter()
            res = run_module(name, echo=True)
            n_fail = sum(v.startswith("FAIL") for v, _ in res.values())
            print(
                f"== {name}: {len(res)} cases, {n_fail} failed, {time.perf_counter() - t0:.1f} s",
                flush=True,
            )


# --------------------------------------------------------------------------------------------
# Exercise checks (memlab.exercises.chNN): an answer of the wrong kind gets a verdict
# --------------------------------------------------------------------------------------------


def _exercise_checks():
    import pkgutil

    import memlab.exercises as ex

    for info in pkgutil.iter_modules(ex.__path__):
        if re.fullmatch(r"ch\d\d", info.name):
            mod = importlib.import_module(f"memlab.exercises.{info.name}")
            for name, func in inspect.getmembers(mod, inspect.isfunction):
                if name.startswith("check_") and func.__module__ == mod.__name__:
                    yield pytest.param(func, id=f"{info.name}.{name}")


WRONG_ANSWERS = {
    "not a function": 3,
    "returns a list": lambda *args, **kwargs: [[0.0, 1.0], [1.0]],
    "returns None": lambda *args, **kwargs: None,
}


@pytest.mark.parametrize("check", list(_exercise_checks()))
def test_exercise_check_gives_a_verdict_for_a_wrong_kind_of_answer(check, capsys):
    from memlab.exercises import ExerciseFailure

    for label, answer in WRONG_ANSWERS.items():
        try:
            check(answer)
        except ExerciseFailure:
            continue
        except Exception as exc:  # noqa: BLE001 - anything else is the failure
            pytest.fail(f"{label}: {type(exc).__name__}: {exc} (expected ExerciseFailure)")
        pytest.fail(f"{label}: the check passed a wrong answer")
