"""Checks for the book's coding exercises, one module per chapter.

Every coding exercise in a chapter has three parts (see ``CONTRIBUTING.md``): a *stub* that raises
``NotImplementedError``, a *solution*, and a *check*. The checks live here, in ``chNN.py``; each is
a function ``check_<name>(answer, *, hidden=False)`` that

- calls the student's function (or inspects the student's result) on its own test cases,
- raises :class:`ExerciseFailure` (an ``AssertionError``, so nbgrader counts it as a failed test)
  with a message that says what is wrong and where to look, e.g. "your energy increases at
  step 12: check the sign of the field",
- lets ``NotImplementedError`` from an unfinished stub through unchanged,
- on success prints a one-line verdict starting ``Correct:`` and returns ``None``.

``hidden=True`` runs additional cases (nbgrader's hidden tests). A check must accept every correct
answer, not only ours: compare behaviour (fixed points, invariants, agreement with ``memlab`` to a
tolerance), never the code or a bit-exact array from one particular implementation.

Import a chapter's checks with ``from memlab.exercises import ch01``.
"""

from ._common import ExerciseFailure, fail, passed, require

__all__ = ["ExerciseFailure", "fail", "passed", "require"]
