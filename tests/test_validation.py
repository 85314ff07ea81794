"""The shared validation layer: every checker accepts what it promises and names what is wrong."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from memlab import _validation as v


def test_generator_is_required():
    rng = np.random.default_rng(0)
    assert v.check_generator(rng) is rng
    for bad in (0, None, np.random.RandomState(0)):
        with pytest.raises(TypeError, match=r"rng must be a numpy.random.Generator"):
            v.check_generator(bad)


@pytest.mark.parametrize(
    "value, error, message",
    [
        (True, TypeError, "got a boolean"),
        (1.5, TypeError, "must be an integer"),
        ("3", TypeError, "must be an integer"),
        (0, ValueError, "must be an integer >= 1; got 0"),
    ],
)
def test_positive_int_refuses(value, error, message):
    with pytest.raises(error, match=message):
        v.check_positive_int(value, "n")


def test_integers_of_any_kind_are_accepted():
    assert v.check_positive_int(np.int16(3), "n") == 3
    assert v.check_nonneg_int(np.array(0), "n") == 0


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_floats_must_be_finite(value):
    with pytest.raises(ValueError, match="must be finite"):
        v.check_finite_float(value, "x")


def test_fraction_bounds_open_and_closed():
    assert v.check_fraction(1.0, "f") == 1.0
    with pytest.raises(ValueError, match=r"must lie in \(0.0, 1.0\); got 1.0"):
        v.check_fraction(1.0, "f", closed_low=False, closed_high=False)


def test_option_names_the_choices():
    assert v.check_option("sync", "update", ("sync", "async")) == "sync"
    with pytest.raises(ValueError, match=r"update must be one of 'sync', 'async'; got 1"):
        v.check_option(1, "update", ("sync", "async"))


def test_real_array_refuses_wrong_kinds():
    for bad in ([True, False], ["a"], [1j]):
        with pytest.raises(TypeError, match="must be an array of real numbers"):
            v.check_real_array(bad, "x")


def test_real_array_reports_dimension_shape_emptiness_finiteness_and_bounds():
    with pytest.raises(ValueError, match=r"1-dimensional array; got 2 dimension"):
        v.check_real_array(np.zeros((2, 2)), "x", ndim=1)
    with pytest.raises(ValueError, match=r"must have shape \(any, 3\); got shape \(2, 2\)"):
        v.check_real_array(np.zeros((2, 2)), "x", shape=(None, 3))
    with pytest.raises(ValueError, match=r"must have shape \(4,\)"):
        v.check_real_array(np.zeros(3), "x", shape=(4,))
    with pytest.raises(ValueError, match="must not be empty"):
        v.check_real_array([], "x")
    assert v.check_real_array([], "x", allow_empty=True).shape == (0,)
    with pytest.raises(ValueError, match=r"must be finite; found nan at index \(1, 0\)"):
        v.check_real_array([[0.0], [np.nan]], "x")
    with pytest.raises(ValueError, match=r"must be finite and >= 0; found -1.0 at index 2"):
        v.check_real_array([0, 1, -1], "x", low=0.0)
    assert v.check_real_array([np.inf], "x", finite=False)[0] == np.inf


def test_real_array_copies_only_when_asked():
    a = np.arange(3.0)
    assert v.check_real_array(a, "a") is a
    b = v.check_real_array(a, "a", copy=True)
    b[0] = 7.0
    assert a[0] == 0.0
    read_only = np.arange(3.0)
    read_only.flags.writeable = False
    assert v.check_real_array(read_only, "r", copy=True).flags.writeable


@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, min_side=1)))
def test_real_array_accepts_exactly_the_finite_arrays(arr):
    if np.all(np.isfinite(arr)):
        out = v.check_real_array(arr, "x")
        assert out.dtype == np.float64 and out.flags.c_contiguous
        np.testing.assert_array_equal(out, arr)
    else:
        with pytest.raises(ValueError, match="must be finite"):
            v.check_real_array(arr, "x")


@given(hnp.arrays(np.int64, st.integers(1, 30), elements=st.sampled_from([-1, 1, 0, 2])))
def test_pm1_array_accepts_exactly_plus_minus_one(arr):
    if np.all(np.abs(arr) == 1):
        out = v.check_pm1_array(arr, "s")
        assert out.dtype == np.int8
        np.testing.assert_array_equal(out, arr)
    else:
        with pytest.raises(ValueError, match=r"must contain only -1 and \+1"):
            v.check_pm1_array(arr, "s")


def test_theory_order_is_one_or_even():
    assert v.check_theory_order(1) == 1
    assert v.check_theory_order(4) == 4
    with pytest.raises(ValueError, match="covers n = 1 and even n; got odd n=3"):
        v.check_theory_order(3, "the DMFT")


def test_nonneg_float_array_allows_empty_and_refuses_negatives():
    assert v.check_nonneg_float_array([], "alpha").size == 0
    with pytest.raises(ValueError, match="alpha must be finite and >= 0"):
        v.check_nonneg_float_array([0.1, -0.2], "alpha")


def test_bool_refuses_integers():
    assert v.check_bool(np.bool_(True), "flag") is True
    with pytest.raises(TypeError, match="flag must be True or False; got 1"):
        v.check_bool(1, "flag")
