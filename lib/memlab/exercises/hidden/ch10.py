"""Chapter 10, for the grader only: the hidden cases of the two coding exercises."""

from __future__ import annotations


def split_cases() -> list[tuple]:
    """(seed, n_out, teacher_width, index, delta) for ``check_split``.

    With several outputs ``delta`` is a multiple of ``a[index]`` (the point stays critical only
    then, unless the residual is zero); the last case has ``delta = 0``.
    """
    return [(2, 2, 4, 0, 0.3), (3, 3, 3, 1, -0.7), (4, 2, 4, 1, 0.0)]


def count_cases() -> list[tuple]:
    """(r, m) for ``check_count_subspaces``, beyond the visible r <= 3, m <= r + 3."""
    return [(4, 6), (2, 7), (1, 8)]
