"""The assignment builder: student notebooks and nbgrader source notebooks from the chapters.

- every chapter follows the exercise convention (the builder's parser accepts it);
- the student notebook has no solution, keeps prose and figures, and executes top to bottom with
  only the guarded cells failing, each with NotImplementedError;
- nbgrader generates every assignment, and autogrades a copy filled with our solutions at full
  marks and the released stubs at zero.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import CHAPTERS, ROOT
from nbclient import NotebookClient

from memlab.exercises import build as builder

BIN = Path(sys.executable).parent


def _outputs_with_images(nb) -> int:
    return sum(
        any("image/png" in out.get("data", {}) for out in cell.get("outputs", []))
        for cell in nb.cells
        if cell.cell_type == "code"
    )


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_follows_the_exercise_convention(path):
    nb = nbformat.read(path, as_version=4)
    exercises = builder.coding_exercises(nb)
    assert exercises
    labels = re.findall(
        r"\{exercise\}[^\n]*\n:label: (\S+)",
        "\n".join(cell.source for cell in nb.cells if cell.cell_type == "markdown"),
    )
    assert len(labels) >= 3, f"{path.name}: fewer than three exercises"
    assert set(exercises) <= set(labels), "a coding exercise without an {exercise} block"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_student_version_hides_solutions_and_keeps_the_rest(path):
    nb = nbformat.read(path, as_version=4)
    exercises = builder.coding_exercises(nb)
    student = builder.student_version(nb, path.stem)
    text = "\n".join(cell.source for cell in student.cells)
    assert "{solution" not in text
    for ex in exercises.values():
        solution = nb.cells[ex.solutions[0]].source
        assert solution not in text, f"the solution of {ex.label} leaked"
        assert nb.cells[ex.stub].source in text, f"the stub of {ex.label} is missing"
    guarded = [c for c in student.cells if "raises-exception" in c.metadata.get("tags", [])]
    assert len(guarded) == sum(len(ex.checks) + len(ex.uses) for ex in exercises.values())
    assert all(not c.outputs for c in guarded)
    # every figure outside the exercises survives
    exercise_cells = {i for ex in exercises.values() for i in [*ex.solutions, *ex.checks, *ex.uses]}
    kept_nb = nbformat.v4.new_notebook(
        cells=[c for i, c in enumerate(nb.cells) if i not in exercise_cells]
    )
    assert _outputs_with_images(student) == _outputs_with_images(kept_nb) > 0


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_student_notebook_runs_with_only_the_expected_failures(path):
    student = builder.student_version(nbformat.read(path, as_version=4), path.stem)
    NotebookClient(
        student,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(ROOT / "chapters")}},
    ).execute()
    failures = []
    for index, cell in enumerate(student.cells):
        if cell.cell_type != "code":
            continue
        errors = [o for o in cell.outputs if o.output_type == "error"]
        guarded = "raises-exception" in cell.metadata.get("tags", [])
        if errors and not guarded:
            failures.append(f"cell {index} failed: {errors[0].ename}: {errors[0].evalue}")
        if errors and errors[0].ename != "NotImplementedError":
            failures.append(f"cell {index}: {errors[0].ename} instead of NotImplementedError")
        if guarded and "exercise-check" in cell.metadata.get("tags", []) and not errors:
            failures.append(f"cell {index}: a check passed without an answer")
    assert not failures, "\n".join(failures)


def test_solution_region_keeps_signature_and_docstring():
    source = 'def f(x):\n    """Doc."""\n    y = x + 1\n    return y\n'
    region = builder.solution_region(source)
    assert region.splitlines() == [
        "def f(x):",
        '    """Doc."""',
        "    ### BEGIN SOLUTION",
        "    y = x + 1",
        "    return y",
        "    ### END SOLUTION",
    ]


def test_pen_and_paper_solutions_are_removed_with_either_fence():
    md = (
        "```{exercise} A\n:label: a\n\nQ\n```\n\n```{solution} a\n:class: dropdown\n\nS\n```\n"
        "\n````{solution} b\n:class: dropdown\n\n```python\ncode\n```\n````\nafter\n"
    )
    out = builder.strip_pen_and_paper_solutions(md)
    assert "{solution" not in out and "code" not in out and "Q" in out and "after" in out


def test_builder_rejects_a_chapter_that_breaks_the_convention():
    v4 = nbformat.v4
    stub = v4.new_code_cell("def f():\n    raise NotImplementedError")
    stub.metadata.update(tags=["exercise-stub"], exercise="x")
    start = v4.new_markdown_cell("```{solution-start} x\n:class: dropdown\n```")
    solution = v4.new_code_cell("def f():\n    return 1")
    solution.metadata.update(tags=["exercise-solution"], exercise="x")
    end = v4.new_markdown_cell("```{solution-end}\n```")
    check = v4.new_code_cell("from memlab.exercises import ch01\nch01.check_f(f)")
    check.metadata.update(tags=["exercise-check"], exercise="x")
    ok = v4.new_notebook(cells=[stub, start, solution, end, check])
    assert list(builder.coding_exercises(ok)) == ["x"]
    no_check = v4.new_notebook(cells=[stub, start, solution, end])
    with pytest.raises(builder.ConventionError, match="lacks a check cell"):
        builder.coding_exercises(no_check)
    untagged = v4.new_notebook(
        cells=[stub, start, v4.new_code_cell("def f():\n    return 1"), end, check]
    )
    with pytest.raises(builder.ConventionError, match="must be tagged"):
        builder.coding_exercises(untagged)


# --- nbgrader ------------------------------------------------------------------------------------


def _nbgrader(args, cwd):
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    proc = subprocess.run(
        [str(BIN / "nbgrader"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    if not (BIN / "nbgrader").exists():
        pytest.fail("nbgrader is not installed: make test installs requirements-instructor.txt")
    out = tmp_path_factory.mktemp("assignments")
    builder.build(ROOT / "chapters", out)
    return out / "nbgrader"


def test_nbgrader_generates_and_autogrades_solutions_full_and_stubs_zero(course):
    assignments = sorted(p.name for p in (course / "source").iterdir())
    assert assignments == sorted(f"ch{p.name[:2]}" for p in CHAPTERS)
    for assignment in assignments:
        _nbgrader(["generate_assignment", assignment, "--force"], course)
        (released,) = (course / "release" / assignment).glob("*.ipynb")
        (source,) = (course / "source" / assignment).glob("*.ipynb")
        release_nb = json.loads(released.read_text())
        text = "".join("".join(c["source"]) for c in release_nb["cells"])
        assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text
        solutions = {
            c["metadata"]["nbgrader"]["grade_id"]: c["source"]
            for c in json.loads(source.read_text())["cells"]
            if c["metadata"].get("nbgrader", {}).get("solution")
        }
        for student, fill in (("solved", True), ("stubs", False)):
            nb = json.loads(released.read_text())
            for cell in nb["cells"]:
                grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
                if fill and grade_id in solutions:
                    cell["source"] = solutions[grade_id]
            target = course / "submitted" / student / assignment / released.name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(nb))
        _nbgrader(["autograde", assignment, "--create", "--force"], course)
    _nbgrader(["export", "--to", "grades.csv"], course)
    rows = [line.split(",") for line in (course / "grades.csv").read_text().splitlines()]
    header, rows = rows[0], rows[1:]
    col = {name: header.index(name) for name in ("assignment", "student_id", "score", "max_score")}
    scores = {
        (r[col["assignment"]], r[col["student_id"]]): (
            float(r[col["score"]]),
            float(r[col["max_score"]]),
        )
        for r in rows
    }
    for assignment in assignments:
        score, max_score = scores[(assignment, "solved")]
        assert max_score > 0 and score == max_score, (
            f"{assignment}: solutions scored {score}/{max_score}"
        )
        score, _ = scores[(assignment, "stubs")]
        assert score == 0, f"{assignment}: stubs scored {score}"
    shutil.rmtree(course / "autograded", ignore_errors=True)
