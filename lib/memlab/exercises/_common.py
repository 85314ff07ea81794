"""Shared pieces of the exercise checks."""

from __future__ import annotations

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
