"""What only the grader may see: hidden test cases and reference implementations, per chapter.

This package is excluded from the built package (``pyproject.toml``: a ``pip install`` of memlab
does not contain it), so students cannot import the reference answers or read the hidden
cases. The repository's editable install has it: the book, the tests and nbgrader's grading
(``hidden=True`` in a check) use it. ``memlab.exercises._common.hidden_module`` loads it and
fails with a clear message where it is missing. See "Hidden tests" in ``CONTRIBUTING.md``.
"""
