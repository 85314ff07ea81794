"""Structural checks of the committed chapter notebooks (nbval compares their outputs).

nbval passes trivially on a code cell with no stored execution, so these tests make sure
every chapter is committed fully executed, in order, without errors or stderr output.
"""

from __future__ import annotations

import re

import nbformat
import pytest
import yaml
from conftest import CHAPTERS, ROOT


def notebook_problems(nb) -> list[str]:
    """Every reason why a stored notebook is not a complete, clean, in-order execution."""
    problems, counts = [], []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        if cell.execution_count is None:
            problems.append(f"code cell {index} was never executed")
            continue
        counts.append(cell.execution_count)
        for out in cell.outputs:
            if out.output_type == "error":
                problems.append(f"cell {index} stores an error: {out.get('ename')}")
            elif out.output_type == "stream" and out.name == "stderr":
                problems.append(f"cell {index} stores stderr output: {out.text[:200]!r}")
    if counts != list(range(1, len(counts) + 1)):
        problems.append(f"execution counts are not 1..n in order (run top to bottom): {counts}")
    return problems


def test_there_are_chapters():
    assert CHAPTERS, "no notebooks found in chapters/"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_notebook_fully_executed_in_order(path):
    problems = notebook_problems(nbformat.read(path, as_version=4))
    assert not problems, f"{path.name}: " + "; ".join(problems)


def test_notebook_checker_finds_every_kind_of_problem():
    v4 = nbformat.v4
    good = v4.new_code_cell("1 + 1", execution_count=1)
    never_run = v4.new_code_cell("x = 1")
    error = v4.new_code_cell(
        "1 / 0",
        execution_count=2,
        outputs=[v4.new_output("error", ename="ZeroDivisionError", evalue="", traceback=[])],
    )
    stderr = v4.new_code_cell(
        "import warnings",
        execution_count=4,
        outputs=[v4.new_output("stream", name="stderr", text="UserWarning: careful")],
    )
    nb = v4.new_notebook(cells=[good, never_run, error, stderr])
    problems = " | ".join(notebook_problems(nb))
    assert "never executed" in problems
    assert "ZeroDivisionError" in problems
    assert "stderr" in problems
    assert "not 1..n in order" in problems  # counts 1, 2, 4
    assert notebook_problems(v4.new_notebook(cells=[good])) == []


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_colab_install_line_uses_the_configured_repository(path):
    """The repository URL lives in _config.yml; the Colab setup line must match it."""
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    nb = nbformat.read(path, as_version=4)
    sources = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    found = set(re.findall(r"git\+(https://[^\"'\s#@]+)", sources))
    assert found, f"{path.name}: no Colab install line (pip install from git+URL) in the setup cell"
    assert found <= {url, url + ".git"}, (
        f"{path.name}: Colab install points to {found}, config says {url}"
    )
