"""memlab -- numerical core of the executable textbook
*Memory and Learning in Neural Networks*.

Submodules are imported explicitly, e.g. ``from memlab import hopfield``.
"""

__version__ = "0.1.0"
