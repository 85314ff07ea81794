"""Build student and nbgrader versions of the chapters from the executed chapter notebooks.

Usage (``make assignments`` runs this)::

    python -m memlab.exercises.build [--chapters chapters] [--out _build/assignments]

writes

- ``<out>/student/NN_topic.ipynb``: the chapter with every solution removed (coding solutions and
  the dropdowns of pen-and-paper exercises), the stubs in place, and the check cells and the cells
  that use an answer tagged ``raises-exception`` with their outputs cleared, so the notebook runs
  top to bottom while exercises are unfinished. Prose, figures and all other outputs stay.
- ``<out>/nbgrader/source/chNN/NN_topic.ipynb``: an nbgrader source notebook. Each coding
  solution becomes a solution cell whose function body sits between ``### BEGIN SOLUTION`` and
  ``### END SOLUTION``; each check becomes a locked, autograded test cell, followed by the same
  check with ``hidden=True`` between ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS``.
  ``<out>/nbgrader/nbgrader_config.py`` sets the course directory up for
  ``nbgrader generate_assignment chNN`` and ``nbgrader autograde chNN``.

The chapters mark their exercises with cell tags (see ``CONTRIBUTING.md``): ``exercise-stub``,
``exercise-solution``, ``exercise-check``, ``exercise-uses-answer``, and the metadata key
``exercise`` with the exercise label. Nothing here is maintained by hand: edit the chapter.
"""

from __future__ import annotations

import argparse
import ast
import copy
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

STUB, SOLUTION, CHECK, USES = (
    "exercise-stub",
    "exercise-solution",
    "exercise-check",
    "exercise-uses-answer",
)
RAISES = "raises-exception"

_SOLUTION_BLOCK = re.compile(
    r"^(?P<fence>`{3,})\{solution\}[^\n]*\n.*?^(?P=fence)[ \t]*(?:\n|\Z)", re.M | re.S
)
_SOLUTION_START = re.compile(r"^`{3,}\{solution-start\}\s*(\S+)", re.M)
_SOLUTION_END = re.compile(r"^`{3,}\{solution-end\}", re.M)
_CHECK_CALL = re.compile(r"^(?P<call>\w+\.check_\w+\((?P<args>.*)\))\s*$", re.M)


class ConventionError(ValueError):
    """A chapter does not follow the exercise convention of CONTRIBUTING.md."""


@dataclass
class CodingExercise:
    """The cells of one coding exercise, by index into the notebook's cells."""

    label: str
    stub: int | None = None
    solutions: list[int] = field(default_factory=list)
    checks: list[int] = field(default_factory=list)
    uses: list[int] = field(default_factory=list)
    start: int | None = None  # the solution-start Markdown cell
    end: int | None = None  # the solution-end Markdown cell
    function: str = ""


def _tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def coding_exercises(nb) -> dict[str, CodingExercise]:
    """Collect the coding exercises of a chapter and check that they follow the convention."""
    exercises: dict[str, CodingExercise] = {}
    open_label = None
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            start = _SOLUTION_START.search(cell.source)
            if start:
                open_label = start.group(1)
                exercises.setdefault(open_label, CodingExercise(open_label)).start = index
            if _SOLUTION_END.search(cell.source):
                if open_label is None:
                    raise ConventionError(f"cell {index}: solution-end without solution-start")
                exercises[open_label].end = index
                open_label = None
            continue
        tags = set(_tags(cell))
        role = tags & {STUB, SOLUTION, CHECK, USES}
        if not role:
            if open_label is not None and cell.cell_type == "code":
                raise ConventionError(
                    f"cell {index}: a code cell inside the solution of {open_label} must be "
                    f"tagged {SOLUTION!r}"
                )
            continue
        if len(role) > 1:
            raise ConventionError(f"cell {index} has more than one exercise tag: {sorted(role)}")
        label = cell.metadata.get("exercise")
        if not label:
            raise ConventionError(f"cell {index} is tagged {role.pop()} but has no 'exercise' key")
        ex = exercises.setdefault(label, CodingExercise(label))
        (role,) = role
        if role == SOLUTION and open_label != label:
            raise ConventionError(f"cell {index}: solution of {label} outside its solution block")
        if role == STUB:
            ex.stub = index
        elif role == SOLUTION:
            ex.solutions.append(index)
        elif role == CHECK:
            ex.checks.append(index)
        else:
            ex.uses.append(index)
    for ex in exercises.values():
        missing = [
            what
            for what, ok in [
                ("a stub", ex.stub is not None),
                ("a solution cell", bool(ex.solutions)),
                ("a check cell", bool(ex.checks)),
                ("solution-start/end", ex.start is not None and ex.end is not None),
            ]
            if not ok
        ]
        if missing:
            raise ConventionError(f"exercise {ex.label} lacks " + ", ".join(missing))
        if not ex.stub < ex.start < min(ex.solutions) <= max(ex.solutions) < ex.end:
            raise ConventionError(f"exercise {ex.label}: expected stub, then the solution block")
        stub = _single_function(nb.cells[ex.stub].source, ex.label, "stub")
        ex.function = stub.name
        if not raises_not_implemented(stub):
            raise ConventionError(
                f"the stub of {ex.label} must only raise NotImplementedError (after its docstring)"
            )
        if len(ex.solutions) != 1:
            raise ConventionError(f"exercise {ex.label}: put the solution in one code cell")
        solution = _single_function(nb.cells[ex.solutions[0]].source, ex.label, "solution")
        if solution.name != ex.function:
            raise ConventionError(
                f"exercise {ex.label}: the stub defines {ex.function}, the solution {solution.name}"
            )
        if ast.dump(solution.args) != ast.dump(stub.args):
            raise ConventionError(
                f"exercise {ex.label}: the stub and the solution of {ex.function} must have the "
                f"same signature ({ast.unparse(stub.args)} against {ast.unparse(solution.args)})"
            )
        for index in ex.checks:
            if not _CHECK_CALL.search(nb.cells[index].source):
                raise ConventionError(
                    f"exercise {ex.label}: the check cell must call chNN.check_<name>(...) on a "
                    "line of its own"
                )
    return exercises


def _single_function(source: str, label: str, what: str) -> ast.FunctionDef:
    tree = ast.parse(source)
    functions = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
    others = [
        node
        for node in tree.body
        if not isinstance(node, (ast.FunctionDef, ast.Import, ast.ImportFrom))
    ]
    if len(functions) != 1 or others:
        raise ConventionError(
            f"the {what} cell of {label} must define exactly one function (imports allowed)"
        )
    return functions[0]


def _body_without_docstring(func: ast.FunctionDef) -> list[ast.stmt]:
    body = func.body
    if (
        body
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    ):
        body = body[1:]
    return body


def raises_not_implemented(func: ast.FunctionDef) -> bool:
    """Whether the function's body, after its docstring, is ``raise NotImplementedError(...)``."""
    body = _body_without_docstring(func)
    if len(body) != 1 or not isinstance(body[0], ast.Raise):
        return False
    exc = body[0].exc
    if isinstance(exc, ast.Call):
        exc = exc.func
    return isinstance(exc, ast.Name) and exc.id == "NotImplementedError"


def strip_pen_and_paper_solutions(markdown: str) -> str:
    """Remove every ```{solution} block from a Markdown cell."""
    return _SOLUTION_BLOCK.sub("", markdown).rstrip() + "\n"


def solution_region(source: str) -> str:
    """Wrap the body of the (single) function in nbgrader's solution markers.

    The signature and the docstring stay visible to the student; nbgrader replaces the region
    between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` by ``raise NotImplementedError()``.
    """
    tree = ast.parse(source)
    (func,) = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
    body = _body_without_docstring(func)
    if not body:
        raise ConventionError(f"the solution of {func.name} has no body besides its docstring")
    lines = source.splitlines()
    first, last = body[0].lineno - 1, func.end_lineno
    indent = re.match(r"\s*", lines[first]).group(0)
    new = (
        lines[:first]
        + [f"{indent}### BEGIN SOLUTION"]
        + lines[first:last]
        + [f"{indent}### END SOLUTION"]
        + lines[last:]
    )
    return "\n".join(new)


def hidden_calls(check_source: str) -> list[str]:
    """The check calls of a check cell, each with ``hidden=True`` added (nbgrader's hidden
    tests)."""
    return [
        m.group("call")[:-1] + (", " if m.group("args").strip() else "") + "hidden=True)"
        for m in _CHECK_CALL.finditer(check_source)
    ]


def _clear(cell) -> None:
    if cell.cell_type == "code":
        cell.outputs = []
        cell.execution_count = None


def _add_tag(cell, tag: str) -> None:
    tags = cell.metadata.setdefault("tags", [])
    if tag not in tags:
        tags.append(tag)


def _banner(kind: str, chapter: str) -> nbformat.NotebookNode:
    text = {
        "student": (
            f"**Student version of `{chapter}`.** The solutions are removed. Fill in each "
            "function that raises `NotImplementedError` and run the check cell after it: it "
            "tells you what is right or what to fix. Cells that need an answer are tagged "
            "`raises-exception`, so the notebook still runs top to bottom before you are done."
        ),
        "nbgrader": (
            f"**nbgrader source version of `{chapter}`**, generated by "
            "`python -m memlab.exercises.build`; do not edit by hand, edit the chapter."
        ),
    }[kind]
    return nbformat.v4.new_markdown_cell(text)


def _remaining_cells(nb, exercises):
    """Cells that stay in every version: everything except the solution blocks."""
    drop = set()
    for ex in exercises.values():
        drop.update(range(ex.start, ex.end + 1))
    return [(i, cell) for i, cell in enumerate(nb.cells) if i not in drop]


def student_version(nb, chapter: str = "chapter"):
    """The student notebook: stubs, no solutions, answer-dependent cells guarded."""
    nb = copy.deepcopy(nb)
    exercises = coding_exercises(nb)
    guarded = {i for ex in exercises.values() for i in ex.checks + ex.uses}
    cells = [_banner("student", chapter)]
    for index, cell in _remaining_cells(nb, exercises):
        if cell.cell_type == "markdown":
            cell.source = strip_pen_and_paper_solutions(cell.source)
        elif index in guarded:
            _add_tag(cell, RAISES)
            _clear(cell)
        cells.append(cell)
    nb.cells = cells
    return nb


def nbgrader_version(nb, chapter: str = "chapter", points: int = 1):
    """The nbgrader source notebook: solution regions, visible and hidden tests."""
    nb = copy.deepcopy(nb)
    exercises = coding_exercises(nb)
    by_stub = {ex.stub: ex for ex in exercises.values()}
    checks = {i: ex for ex in exercises.values() for i in ex.checks}
    uses = {i for ex in exercises.values() for i in ex.uses}
    cells = [_banner("nbgrader", chapter)]
    for index, cell in _remaining_cells(nb, exercises):
        if cell.cell_type == "markdown":
            cell.source = strip_pen_and_paper_solutions(cell.source)
        elif index in by_stub:
            ex = by_stub[index]
            solution = copy.deepcopy(nb.cells[ex.solutions[0]])
            solution.source = solution_region(solution.source)
            solution.metadata["nbgrader"] = _nbgrader_meta(f"{ex.label}-solution", solution=True)
            _clear(solution)
            cell = solution
        elif index in checks:
            ex = checks[index]
            source = cell.source.rstrip()
            cell.source = "\n".join(
                [source, "### BEGIN HIDDEN TESTS", *hidden_calls(source), "### END HIDDEN TESTS"]
            )
            points_here = int(cell.metadata.get("points", points))
            cell.metadata["nbgrader"] = _nbgrader_meta(
                f"{ex.label}-check-{ex.checks.index(index)}", grade=True, points=points_here
            )
            _clear(cell)
        elif index in uses:
            _clear(cell)
        cells.append(cell)
    nb.cells = cells
    return nb


def _nbgrader_meta(grade_id: str, *, solution=False, grade=False, points=0) -> dict:
    meta = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": grade,
        "schema_version": 3,
        "solution": solution,
        "task": False,
    }
    if grade:
        meta["points"] = points
    return meta


DESCRIPTION = "Build student and nbgrader versions of the chapters from the executed notebooks."

NBGRADER_CONFIG = """\
# nbgrader course directory for the book's assignments (generated by memlab.exercises.build).
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "memory-and-learning"
c.CourseDirectory.root = "."
c.ExecutePreprocessor.timeout = 600
c.Execute.timeout = 600
c.ClearSolutions.code_stub = {"python": "raise NotImplementedError()"}
"""


def build_chapter(path: Path, out: Path) -> list[Path]:
    """Write the student and nbgrader versions of the chapter at ``path``; return the paths.

    ``out`` receives ``student/NN_topic.ipynb``, ``nbgrader/source/chNN/NN_topic.ipynb`` and
    ``nbgrader/nbgrader_config.py`` (one course directory that can hold several chapters).
    """
    path = Path(path)
    (out / "student").mkdir(parents=True, exist_ok=True)
    (out / "nbgrader" / "source").mkdir(parents=True, exist_ok=True)
    (out / "nbgrader" / "nbgrader_config.py").write_text(NBGRADER_CONFIG)
    nb = nbformat.read(path, as_version=4)
    student = out / "student" / path.name
    nbformat.write(student_version(nb, path.stem), student)
    assignment = out / "nbgrader" / "source" / f"ch{path.name[:2]}"
    assignment.mkdir(parents=True, exist_ok=True)
    source = assignment / path.name
    nbformat.write(nbgrader_version(nb, path.stem), source)
    return [student, source]


def build(chapters: Path, out: Path) -> list[Path]:
    """Write the student and nbgrader versions of every chapter; return the written paths."""
    written = []
    for path in sorted(Path(chapters).glob("[0-9][0-9]_*.ipynb")):
        written += build_chapter(path, out)
    return written


def main(argv=None) -> None:
    # Not __doc__: ``python -OO`` strips docstrings, and the builder must work there too.
    parser = argparse.ArgumentParser(description=DESCRIPTION)
    parser.add_argument("--chapters", type=Path, default=Path("chapters"))
    parser.add_argument("--out", type=Path, default=Path("_build/assignments"))
    args = parser.parse_args(argv)
    written = build(args.chapters, args.out)
    for path in written:
        print(path)
    print(
        f"\nStudent notebooks: {args.out / 'student'}\n"
        f"nbgrader course:   cd {args.out / 'nbgrader'} && nbgrader generate_assignment ch01"
    )


if __name__ == "__main__":
    main()
