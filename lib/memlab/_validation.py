"""Shared input-validation helpers for :mod:`memlab`.

Every helper either returns a normalised value or raises ``TypeError`` (wrong
kind of object) / ``ValueError`` (right kind, wrong value) with a message that
states both what was received and what is expected.  They are private to the
package (no API stability promise) but are reused by every public module so
that error messages are uniform.
"""

from __future__ import annotations

import math
import numbers
import os

import numpy as np

__all__ = [
    "check_generator",
    "check_int",
    "check_positive_int",
    "check_nonneg_int",
    "check_finite_float",
    "check_positive_float",
    "check_nonneg_float",
    "check_fraction",
    "check_bool",
    "check_option",
    "check_real_array",
    "check_pm1_array",
    "check_nonneg_float_array",
    "check_theory_order",
    "check_patterns",
    "check_states",
    "check_cue_index",
    "check_int_array",
    "check_callable",
    "check_size",
    "check_finite_result",
]


def _describe(value) -> str:
    """Short description of ``value`` for error messages."""
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} (type {type(value).__name__})"


def check_generator(rng, name: str = "rng") -> np.random.Generator:
    """Require a :class:`numpy.random.Generator`.

    Legacy ``RandomState`` objects, integer seeds and ``None`` are refused so
    that every random draw in the library is reproducible from one Generator.
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"{name} must be a numpy.random.Generator (e.g. "
            f"np.random.default_rng(seed)); got {_describe(rng)}"
        )
    return rng


def check_int(value, name: str) -> int:
    """Require an integral scalar (Python int or NumPy integer, not bool)."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be an integer; got a boolean {value!r}")
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer; got {_describe(value)}")
    return int(value)


def check_positive_int(value, name: str, minimum: int = 1) -> int:
    """Require an integer ``>= minimum`` (default 1)."""
    value = check_int(value, name)
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value}")
    return value


def check_nonneg_int(value, name: str) -> int:
    """Require an integer ``>= 0``."""
    return check_positive_int(value, name, minimum=0)


def check_finite_float(value, name: str) -> float:
    """Require a finite real scalar; returns it as ``float``."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a real number; got a boolean {value!r}")
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number; got {_describe(value)}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite; got {value}")
    return value


def check_positive_float(value, name: str) -> float:
    """Require a finite real scalar ``> 0``."""
    value = check_finite_float(value, name)
    if value <= 0:
        raise ValueError(f"{name} must be > 0; got {value}")
    return value


def check_nonneg_float(value, name: str) -> float:
    """Require a finite real scalar ``>= 0``."""
    value = check_finite_float(value, name)
    if value < 0:
        raise ValueError(f"{name} must be >= 0; got {value}")
    return value


def check_fraction(
    value,
    name: str,
    low: float = 0.0,
    high: float = 1.0,
    *,
    closed_low: bool = True,
    closed_high: bool = True,
) -> float:
    """Require a finite real scalar in an interval (closed by default)."""
    value = check_finite_float(value, name)
    ok_low = value >= low if closed_low else value > low
    ok_high = value <= high if closed_high else value < high
    if not (ok_low and ok_high):
        lb = "[" if closed_low else "("
        rb = "]" if closed_high else ")"
        raise ValueError(f"{name} must lie in {lb}{low}, {high}{rb}; got {value}")
    return value


def check_pm1_array(values, name: str, ndims=(1, 2)) -> np.ndarray:
    """Require an array whose entries are exactly -1 or +1.

    Parameters
    ----------
    values : array_like
        Integer or floating array.  Booleans, complex numbers and objects are
        refused with ``TypeError``.
    name : str
        Name used in error messages.
    ndims : tuple of int
        Allowed numbers of dimensions.

    Returns
    -------
    numpy.ndarray
        C-contiguous ``int8`` copy (or view, if already ``int8`` contiguous).
    """
    arr = np.asarray(values)
    if arr.dtype == np.bool_ or not (
        np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
    ):
        raise TypeError(
            f"{name} must be an integer or float array of -1/+1 values; got dtype {arr.dtype}"
        )
    if arr.ndim not in ndims:
        allowed = " or ".join(str(d) for d in ndims)
        raise ValueError(
            f"{name} must be a {allowed}-dimensional array; got {arr.ndim} "
            f"dimension(s) with shape {arr.shape}"
        )
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty; got shape {arr.shape}")
    bad = (arr != 1) & (arr != -1)
    if bad.any():
        index = tuple(int(i) for i in np.unravel_index(np.argmax(bad), arr.shape))
        shown = index[0] if len(index) == 1 else index
        raise ValueError(
            f"{name} must contain only -1 and +1; found value {arr[index].item()!r} "
            f"at index {shown}"
        )
    out = np.ascontiguousarray(arr, dtype=np.int8)
    return out if out.flags.writeable else out.copy()


def check_bool(value, name: str) -> bool:
    """Require ``True`` or ``False`` (a Python or NumPy boolean, not an integer)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False; got {_describe(value)}")
    return bool(value)


def check_option(value, name: str, options) -> str:
    """Require one of the strings in ``options`` (a mode such as ``"sync"``)."""
    options = tuple(options)
    if not isinstance(value, str) or value not in options:
        allowed = ", ".join(repr(o) for o in options)
        raise ValueError(f"{name} must be one of {allowed}; got {_describe(value)}")
    return value


def _check_layout(arr: np.ndarray, name: str, ndim, shape, allow_empty: bool) -> None:
    """Require ``arr.ndim`` in ``ndim``, ``arr.shape`` matching ``shape`` (None: any), non-empty."""
    if ndim is not None:
        ndims = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in ndims:
            allowed = " or ".join(str(d) for d in ndims)
            raise ValueError(
                f"{name} must be a {allowed}-dimensional array; got {arr.ndim} "
                f"dimension(s) with shape {arr.shape}"
            )
    if shape is not None:
        shape = tuple(shape)
        if arr.ndim != len(shape) or any(
            want is not None and got != want for got, want in zip(arr.shape, shape)
        ):
            dims = ["any" if d is None else str(d) for d in shape]
            shown = "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"
            raise ValueError(f"{name} must have shape {shown}; got shape {arr.shape}")
    if arr.size == 0 and not allow_empty:
        raise ValueError(f"{name} must not be empty; got shape {arr.shape}")


def check_real_array(
    values,
    name: str,
    *,
    ndim=None,
    shape=None,
    allow_empty: bool = False,
    finite: bool = True,
    low: float | None = None,
    copy: bool = False,
) -> np.ndarray:
    """Require a real (integer or float, not boolean) array; return it as ``float64``.

    Parameters
    ----------
    values : array_like
        The input.  Booleans, complex numbers, strings and objects raise ``TypeError``.
    name : str
        Name used in error messages.
    ndim : int or tuple of int, optional
        Allowed numbers of dimensions (any if ``None``).
    shape : tuple, optional
        Required shape; an entry ``None`` matches any length along that axis.
    allow_empty : bool
        Accept arrays with no elements (refused by default).
    finite : bool
        Refuse NaN and infinite entries (default).
    low : float, optional
        Refuse entries below ``low``.
    copy : bool
        Always return a fresh array (the caller may then write into it); otherwise a
        C-contiguous ``float64`` view is returned when the input already is one.

    Returns
    -------
    numpy.ndarray
        C-contiguous ``float64`` array.
    """
    arr = np.asarray(values)
    if arr.dtype == np.bool_ or not (
        np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
    ):
        raise TypeError(
            f"{name} must be an array of real numbers (integer or float); got dtype {arr.dtype}"
        )
    _check_layout(arr, name, ndim, shape, allow_empty)
    arr = np.array(arr, dtype=np.float64, order="C", copy=True if copy else None)
    if not arr.flags.writeable:
        # A read-only input (e.g. a memory-mapped file) would make numba compile a second,
        # read-only version of every kernel; a writable copy costs less.
        arr = arr.copy()
    want = "finite" if low is None else f"finite and >= {low:g}"
    if finite and not np.all(np.isfinite(arr)):
        index = tuple(int(i) for i in np.unravel_index(np.argmax(~np.isfinite(arr)), arr.shape))
        raise ValueError(f"{name} must be {want}; found {arr[index]} at index {_index(index)}")
    if low is not None and np.any(arr < low):
        index = tuple(int(i) for i in np.unravel_index(np.argmax(arr < low), arr.shape))
        raise ValueError(f"{name} must be {want}; found {arr[index]} at index {_index(index)}")
    return arr


def check_int_array(
    values,
    name: str,
    *,
    ndim=None,
    shape=None,
    allow_empty: bool = False,
    low: int | None = None,
    high: int | None = None,
) -> np.ndarray:
    """Require an integer (not boolean) array with entries in ``[low, high]``; return ``int64``.

    Integral floats are refused too (``TypeError``): indices and counts must be integers.
    """
    arr = np.asarray(values)
    if arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must be an array of integers; got dtype {arr.dtype}")
    _check_layout(arr, name, ndim, shape, allow_empty)
    if arr.dtype == np.uint64 and arr.size and int(arr.max()) > np.iinfo(np.int64).max:
        raise ValueError(f"{name} has entries too large for int64; found {int(arr.max())}")
    out = np.array(arr, dtype=np.int64, order="C", copy=True)
    for bound, bad, word in ((low, out < (low or 0), ">="), (high, out > (high or 0), "<=")):
        if bound is not None and out.size and np.any(bad):
            index = tuple(int(i) for i in np.unravel_index(np.argmax(bad), out.shape))
            raise ValueError(
                f"{name} must have entries {word} {bound}; found {out[index]} at index "
                f"{_index(index)}"
            )
    return out


def check_callable(value, name: str):
    """Require a callable (a function, a lambda, an object with ``__call__``)."""
    if not callable(value):
        raise TypeError(f"{name} must be callable (a function); got {_describe(value)}")
    return value


def _machine_bytes() -> int:
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):  # pragma: no cover - not POSIX
        return 64 * 2**30


def check_size(shape, what: str, itemsize: int = 8, *, copies: float = 1.0) -> None:
    """Refuse up front an allocation larger than the machine's memory, naming its size.

    Parameters
    ----------
    shape : int or tuple of int
        Shape (or number of elements) of the array about to be allocated.
    what : str
        What the array is, for the message (e.g. ``"the trajectory (n_steps + 1, B, P)"``).
    itemsize : int
        Bytes per element.
    copies : float
        Number of arrays of this size the computation holds at once.
    """
    dims = (shape,) if isinstance(shape, numbers.Real) else tuple(shape)
    n_bytes = float(itemsize) * float(copies)
    for d in dims:
        n_bytes *= float(d) if d < 1e300 else math.inf
    limit = _machine_bytes()
    if n_bytes > limit:
        shown = ", ".join(f"{d:.3g}" if isinstance(d, float) else str(d) for d in dims)
        raise ValueError(
            f"{what} would need {n_bytes / 2**30:.3g} GiB of memory (shape ({shown})), more "
            f"than this machine's {limit / 2**30:.3g} GiB; use smaller sizes"
        )


def check_finite_result(value, what: str, hint: str = "") -> None:
    """Raise ``ValueError`` if a computed result holds NaN or inf (overflow, divergence).

    ``hint`` says which inputs to make smaller.
    """
    arr = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(
            f"{what} is not finite (overflow or divergence)" + (f": {hint}" if hint else "")
        )


def _index(index: tuple):
    return index[0] if len(index) == 1 else index


def check_nonneg_float_array(values, name: str) -> np.ndarray:
    """Require a real array of finite values ``>= 0``; returns ``float64``."""
    return check_real_array(values, name, allow_empty=True, low=0.0)


def check_theory_order(n, theory: str = "the mean-field theory", maximum: int = 64) -> int:
    """Interaction order covered by the large-N theories: ``n = 1`` or an even ``n <= maximum``.

    Beyond ``maximum`` (64) the factor :math:`(2n-1)!!` of the noise variance exceeds 1e100
    and no load has a retrieval solution the solvers could resolve.
    """
    n = check_positive_int(n, "n (interaction order)", minimum=1)
    if n > maximum:
        raise ValueError(f"{theory} is implemented for n <= {maximum}; got n={n}")
    if n > 1 and n % 2 == 1:
        raise ValueError(
            f"{theory} covers n = 1 and even n; got odd n={n}: odd n > 1 has an input "
            f"variance that grows with N, so there is no N-independent theory"
        )
    return n


# --- shared by the model modules (hopfield, dense) ---


def check_patterns(patterns) -> np.ndarray:
    shape = np.shape(patterns)
    if len(shape) == 2:
        if shape[0] < 1:
            raise ValueError(
                f"patterns must contain at least one pattern (P >= 1, shape (P, N)); "
                f"got shape {shape}"
            )
        if shape[1] < 2:
            raise ValueError(
                f"patterns must have at least 2 neurons (N >= 2, shape (P, N)); got shape {shape}"
            )
    return check_pm1_array(patterns, "patterns", ndims=(2,))


def check_states(states, n_neurons: int, name: str) -> np.ndarray:
    s = check_pm1_array(states, name, ndims=(1, 2))
    if s.shape[-1] != n_neurons:
        raise ValueError(
            f"{name} has {s.shape[-1]} neurons (last axis, shape {s.shape}) but "
            f"patterns have N={n_neurons}; expected the last axis to equal N"
        )
    return s


def check_cue_index(cue_index, n_patterns: int, batch: int | None) -> np.ndarray:
    """Return cue indices as an int64 array of length ``batch`` (1 if single)."""
    arr = np.asarray(cue_index)
    if arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(
            f"cue_index must be an integer (or an integer array of length B); "
            f"got {cue_index!r} with dtype {arr.dtype}"
        )
    if arr.ndim == 0:
        arr = np.full(1 if batch is None else batch, int(arr), dtype=np.int64)
    elif batch is None:
        raise ValueError(
            f"cue_index must be a single integer for a single initial state of "
            f"shape (N,); got an array of shape {arr.shape}"
        )
    elif arr.shape != (batch,):
        raise ValueError(
            f"cue_index must be an integer or an integer array of shape (B,)="
            f"({batch},); got shape {arr.shape}"
        )
    arr = arr.astype(np.int64)
    bad = (arr < 0) | (arr >= n_patterns)
    if bad.any():
        raise ValueError(
            f"cue_index must lie in [0, P-1] = [0, {n_patterns - 1}]; found "
            f"{int(arr[np.argmax(bad)])}"
        )
    return arr
