"""Shared pieces of the exercise checks."""

from __future__ import annotations

import functools
import inspect
import os
import re

import numpy as np


class ExerciseFailure(AssertionError):
    """The student's answer is wrong; the message says what to fix."""


def fail(message: str) -> None:
    """Raise :class:`ExerciseFailure` with a helpful ``message``."""
    raise ExerciseFailure(message)


def require(condition: bool, message: str) -> None:
    """Fail with ``message`` unless ``condition`` holds."""
    if not bool(condition):
        fail(message)


def passed(message: str) -> None:
    """Print the verdict of a successful check (and return nothing, so a notebook shows only it)."""
    print(f"Correct: {message}")


# Messages of errors that a wrong *kind* of answer causes inside a check (numpy, Python).
_WRONG_KIND = re.compile(
    r"could not be broadcast|setting an array element|truth value of an array|"
    r"unsupported operand|not supported between|has no len|not subscriptable|"
    r"could not convert|only (?:integer scalar|length-1) arrays|object is not iterable|"
    r"cannot unpack|too many values to unpack|not enough values to unpack|shapes .* not aligned|"
    r"mismatch in its core dimension|Cannot cast"
)


def guard_checks(namespace: dict) -> None:
    """Give every ``check_*`` function of a chapter module a verdict for the wrong kind of answer.

    Call ``guard_checks(globals())`` at the end of ``chNN.py``.  An answer that is not a
    function (``check_f(f(x))`` instead of ``check_f(f)``), or a function whose result has the
    wrong type or shape (a list of lists, a tuple instead of an array, ...), then fails with an
    :class:`ExerciseFailure` that says so, instead of a numpy or Python error from inside the
    check.  Errors raised in the student's own code pass through unchanged.
    """
    for name, func in list(namespace.items()):
        if name.startswith("check_") and inspect.isfunction(func):
            if not getattr(func, "_guarded", False):
                namespace[name] = _guarded(func)


def _guarded(check):
    @functools.wraps(check)
    def wrapper(answer, *args, **kwargs):
        try:
            return check(answer, *args, **kwargs)
        except (TypeError, ValueError, IndexError) as exc:
            if isinstance(exc, TypeError) and not callable(answer) and "not callable" in str(exc):
                raise ExerciseFailure(
                    f"pass your function itself, e.g. {check.__name__}(f), not the result of "
                    f"calling it; got a {type(answer).__name__}"
                ) from None
            if _raised_in_check(exc) and _WRONG_KIND.search(str(exc)):
                raise ExerciseFailure(
                    f"your function's result could not be used ({type(exc).__name__}: {exc}); "
                    "check the type and shape it returns against the exercise's description"
                ) from None
            raise

    wrapper._guarded = True
    return wrapper


def _raised_in_check(exc: BaseException) -> bool:
    """Whether ``exc`` came from memlab's own code (a check), not from the student's function.

    The innermost frame outside installed packages (numpy, scipy) decides.
    """
    memlab_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    tb, files = exc.__traceback__, []
    while tb is not None:
        files.append(os.path.abspath(tb.tb_frame.f_code.co_filename))
        tb = tb.tb_next
    for name in reversed(files):
        if name.startswith(memlab_dir):
            return True
        if "site-packages" not in name:
            return False
    return True


def as_array(value, name: str, *, shape=None, dtype=float) -> np.ndarray:
    """Convert a student's return value to an array, failing helpfully if that is impossible."""
    if value is None:
        fail(f"{name} is None: did you forget the `return` statement?")
    try:
        arr = np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as exc:
        fail(f"{name} could not be read as an array of numbers ({exc}).")
    if shape is not None and arr.shape != tuple(shape):
        fail(f"{name} has shape {arr.shape}, expected {tuple(shape)}.")
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        fail(f"{name} contains NaN or infinite values.")
    return arr


def unpack(value, n: int, name: str) -> tuple:
    """Check that a student's function returned an ``n``-tuple."""
    if not isinstance(value, (tuple, list)) or len(value) != n:
        kind = type(value).__name__
        fail(f"{name} should return {n} values (a tuple), but it returned a {kind}.")
    return tuple(value)


HIDDEN_MISSING = (
    "The hidden tests of {chapter} are not installed here: they run when your course grades the "
    "assignment (nbgrader), from the instructors' copy of the book's repository."
)


def hidden_module(chapter: str):
    """``memlab.exercises.hidden.<chapter>``: the grader's cases and reference implementations.

    The package ``memlab.exercises.hidden`` is left out of the built package (``pyproject.toml``),
    so students who ``pip install memlab`` cannot import it; the repository's editable install
    (the book, the tests and nbgrader's grading) has it. Without it, fail with a clear message.
    """
    import importlib

    try:
        return importlib.import_module(f"memlab.exercises.hidden.{chapter}")
    except ModuleNotFoundError as exc:
        if exc.name is not None and not exc.name.startswith("memlab.exercises.hidden"):
            raise
        fail(HIDDEN_MISSING.format(chapter=chapter))


def load_cases(name: str):
    """Visible test cases stored with the package: ``memlab/exercises/data/<name>.json``."""
    import json
    from importlib.resources import files

    return json.loads(files("memlab.exercises").joinpath("data", f"{name}.json").read_text())


def signs(text: str) -> np.ndarray:
    """A +-1 vector from a string of '+' and '-' (how the stored cases write states)."""
    return np.where(np.frombuffer(text.encode(), dtype=np.uint8) == ord("+"), 1, -1).astype(np.int8)


def sign_text(values) -> str:
    """The inverse of :func:`signs`."""
    return "".join("+" if v > 0 else "-" for v in np.asarray(values).ravel())
