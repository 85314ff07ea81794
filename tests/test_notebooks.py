"""Structural checks of the committed chapter notebooks (nbval compares their outputs).

nbval passes trivially on a code cell with no stored execution, so these tests make sure
every chapter is committed fully executed, in order, without errors or stderr output. Also:
nbval's sanitizers mask only what differs between runs, and how the run is split over workers.
"""

from __future__ import annotations

import configparser
import re

import nbformat
import pytest
import yaml
from conftest import CHAPTERS, LONGEST_UNITS, ROOT, work_unit


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


# --- how nbval compares, and how the run is split -----------------------------------------------


def sanitizers() -> dict[str, tuple[str, str]]:
    parser = configparser.ConfigParser()
    parser.read(ROOT / "tests" / "nbval_sanitize.cfg")
    return {name: (parser[name]["regex"], parser[name]["replace"]) for name in parser.sections()}


def sanitize(text: str) -> str:
    for regex, replace in sanitizers().values():
        text = re.sub(regex, replace, text)
    return text


def test_sanitizers_mask_only_what_differs_between_runs():
    assert sanitize("<function f at 0x7f3a2b1c9d30>") == "<function f at 0xADDRESS>"
    bar = "alpha sweep (N=500):   0%|          | 0/13 [00:00<?, ?it/s]"
    assert sanitize(bar) == "alpha sweep (N=500):   0%|          | 0/13 [CLOCK]"
    assert sanitize("100%|##########| 13/13 [01:02:03<00:00, 4.12it/s]").startswith(
        "100%|##########| 13/13 [CLOCK]"
    )


@pytest.mark.parametrize(
    "text",
    [
        "alpha* = 0.16 (N = 1000), 42 iterations, error below 1e-06, 3.5 s, 2e-08",
        "<Figure size 630x270 with 1 Axes>",  # size and number of axes are part of the result
        "m = [0.98 0.12 -0.05], P = 16, seed 0x1F",
        "0%|          | 0/13",  # a bar's count is compared
        "elapsed: 12 s wall",  # a timing must not be printed at all, not masked
    ],
)
def test_sanitizers_leave_numbers_alone(text):
    assert sanitize(text) == text


def test_every_notebook_item_is_one_work_unit_and_assignments_go_by_chapter():
    assert work_unit("chapters/01_hopfield.ipynb::Cell 3") == "chapters/01_hopfield.ipynb"
    assert work_unit("tests/test_book_build.py::test_every_page_renders") == (
        "tests/test_book_build.py"
    )
    graded = "tests/test_assignments.py::test_nbgrader_grades_x[07_surprise.ipynb]"
    runs = "tests/test_assignments.py::test_student_notebook_runs_y[07_surprise.ipynb]"
    assert work_unit(graded) == work_unit(runs) != work_unit(graded.replace("07_s", "06_s"))
    single = "tests/test_dense.py::test_energy[3]"
    assert work_unit(single) == single


def test_the_units_scheduled_first_exist():
    for unit in LONGEST_UNITS:
        assert (ROOT / unit).exists(), f"{unit} in conftest.LONGEST_UNITS does not exist"
        assert work_unit(f"{unit}::x") == unit


def test_a_missing_tool_skips_or_under_make_test_fails(monkeypatch):
    import conftest

    conftest.require_tool(True, "never shown")
    monkeypatch.setattr(conftest, "REQUIRE_ALL", False)
    with pytest.raises(pytest.skip.Exception, match="install it with X"):
        conftest.require_tool(False, "tool missing: install it with X")
    monkeypatch.setattr(conftest, "REQUIRE_ALL", True)
    with pytest.raises(pytest.fail.Exception, match="install it with X.*MEMLAB_REQUIRE_ALL"):
        conftest.require_tool(False, "tool missing: install it with X")
