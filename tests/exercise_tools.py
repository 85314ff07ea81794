"""Run a chapter's exercise cells outside the notebook: its setup, a stub or solution, a check."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import nbformat

from memlab.exercises.build import coding_exercises, hidden_calls

matplotlib.use("Agg")


def load(path: Path):
    return nbformat.read(path, as_version=4)


def setup_namespace(nb) -> dict:
    """Execute the chapter's setup cell (the first code cell) in a fresh namespace."""
    setup = next(cell for cell in nb.cells if cell.cell_type == "code")
    namespace: dict = {"__name__": "__exercise__"}
    exec(compile(setup.source, "<setup>", "exec"), namespace)
    return namespace


def cell_source(nb, label: str, role: str) -> str:
    ex = coding_exercises(nb)[label]
    index = {"stub": ex.stub, "solution": ex.solutions[0]}[role]
    return nb.cells[index].source


def run_check(nb, label: str, namespace: dict, *, hidden: bool = False) -> None:
    """Execute the exercise's check cell(s) in ``namespace`` (optionally the hidden variant)."""
    ex = coding_exercises(nb)[label]
    for index in ex.checks:
        source = nb.cells[index].source
        if hidden:
            source += "\n" + "\n".join(hidden_calls(source))
        exec(compile(source, f"<check {label}>", "exec"), namespace)


def with_definition(nb, label: str, source: str) -> dict:
    """A namespace with the chapter's setup and ``source`` (a stub, solution or alternative)."""
    namespace = setup_namespace(nb)
    exec(compile(source, f"<answer {label}>", "exec"), namespace)
    return namespace
