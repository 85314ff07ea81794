"""Small pixel images, drawn in code, to store in associative memories.

The images are built from simple geometry on a grid, so they are identical on every machine
(no fonts, no downloads). Pixels are +1 (ink) or -1 (background).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._validation import check_positive_int

__all__ = ["PixelPatterns", "pixel_patterns", "PIXEL_PATTERN_NAMES"]

PIXEL_PATTERN_NAMES = ("ring", "cross", "triangle", "checker", "stripes")


class PixelPatterns(NamedTuple):
    """Result of :func:`pixel_patterns`.

    Attributes
    ----------
    patterns : numpy.ndarray of int8, shape (len(names), size * size)
        ``patterns[mu].reshape(size, size)`` is image ``mu``; pixels are +1 (ink) or -1.
    names : list of str
        The name of each image, in the order of the rows.
    """

    patterns: np.ndarray
    names: list[str]


def pixel_patterns(size: int = 16, names=PIXEL_PATTERN_NAMES) -> PixelPatterns:
    """Binary images of simple shapes, flattened to ±1 patterns.

    Each shape covers roughly half of the pixels, so that the patterns are close to unbiased
    and only weakly correlated with each other.

    Parameters
    ----------
    size : int
        Side length of the square images, at least 8; the patterns have ``N = size**2`` pixels.
    names : sequence of str
        Which shapes, from ``PIXEL_PATTERN_NAMES``.

    Returns
    -------
    PixelPatterns
        ``(patterns, names)``: the ``int8`` patterns of shape ``(len(names), size * size)``
        and the list of their names.
    """
    size = check_positive_int(size, "size", minimum=8)
    unknown = [n for n in names if n not in PIXEL_PATTERN_NAMES]
    if unknown:
        raise ValueError(f"unknown image name(s) {unknown}; choose from {PIXEL_PATTERN_NAMES}")
    if len(names) == 0:
        raise ValueError("names must list at least one image")
    c = (size - 1) / 2
    y, x = np.mgrid[0:size, 0:size].astype(float)
    r = np.hypot(x - c, y - c)
    shapes = {
        # an annulus whose area is about half the image
        "ring": (r >= 0.22 * size) & (r <= 0.5 * size),
        # a thick plus sign
        "cross": (np.abs(x - c) < 0.2 * size) | (np.abs(y - c) < 0.2 * size),
        # lower-left triangle
        "triangle": x <= y,
        # 4 x 4 checkerboard
        "checker": ((x // (size / 4)).astype(int) + (y // (size / 4)).astype(int)) % 2 == 0,
        # diagonal stripes
        "stripes": ((x + y) // (size / 4)).astype(int) % 2 == 0,
    }
    out = np.stack([np.where(shapes[n], 1, -1).astype(np.int8).ravel() for n in names])
    return PixelPatterns(out, list(names))
