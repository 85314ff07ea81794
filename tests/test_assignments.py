"""The assignment builder, the instructors' course commands, and grading with nbgrader.

Without executing anything:

- every chapter follows the exercise convention (the builder's parser accepts it);
- the student notebook has no solution, keeps prose and figures, is plain Jupyter Markdown (no
  MyST directive or role left, a heading per exercise), and guards (``raises-exception``) exactly
  the check cells and the cells that use an answer;
- the builder's pieces (solution regions, pen-and-paper solutions, MyST to Markdown, convention
  errors); the course commands' refusals and file naming (``collect``);
- instructors.md agrees with the chapters; every coding exercise has a typical mistake in
  test_exercises.ANSWERS; hidden cases and references are left out of the built package, the
  stored visible cases are what the hidden modules compute, and without the hidden package the
  visible checks work and ``hidden=True`` says why it cannot.

With nbgrader (marker ``assignments``), one course directory per chapter, each chapter executed
once: ``generate_assignment``, then ``autograde`` of two submissions:

- ``stubs``: the released notebook as it is, graded as a course grades it (the chapter's
  simulations and figures skipped, :mod:`memlab.exercises.grading`): the setup, the cells that
  only define things, the stubs and the checks run. Each of the skipped cells is a cell of the
  chapter itself, which nbval executes with the answers in place, and no unguarded cell needs an
  answer (``builder.unguarded_uses``, checked without executing anything): so the chapter is
  executed once per run, and Run All of the student notebook fails only in the guarded cells.
  From its outputs: every executed guarded cell fails with ``NotImplementedError``, no check
  passes without an answer, every cell that is not skipped ran; the stubs score zero.
- ``solved``: the released notebook with our solutions, graded the same way: full marks, every
  check (visible and hidden) prints its ``Correct:`` line, and no skipped cell ran.

The released notebook keeps the figures and the stubs' messages and has no instructors' banner.
``test_course_end_to_end_with_two_students`` runs the instructors' path of instructors.md on
Chapter 1: course, release, collect, autograde, export, with one student who answers correctly
in another style than ours and one who makes typical mistakes.
"""

from __future__ import annotations

import ast
import copy
import fcntl
import functools
import importlib.util
import re
import shutil
import sys
import time
from pathlib import Path
from typing import NamedTuple

import nbformat
import pytest
from conftest import CHAPTERS, TEST_BUILD, require_tool

from memlab.exercises import ExerciseFailure
from memlab.exercises import build as builder
from memlab.exercises import course as course_cli

HAVE_NBGRADER = importlib.util.find_spec("nbgrader") is not None
COURSE_ID = builder.DEFAULT_COURSE_ID
HOW_TO_GET_NBGRADER = (
    "nbgrader is not installed: `make setup` (or .venv/bin/pip install -r requirements/dev.txt) "
    "installs it"
)


def _outputs_with_images(nb) -> int:
    return sum(
        any("image/png" in out.get("data", {}) for out in cell.get("outputs", []))
        for cell in nb.cells
        if cell.cell_type == "code"
    )


def _tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _exercise_labels(nb) -> list[str]:
    return re.findall(
        r"\{exercise\}[^\n]*\n:label: (\S+)",
        "\n".join(cell.source for cell in nb.cells if cell.cell_type == "markdown"),
    )


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_follows_the_exercise_convention(path):
    nb = nbformat.read(path, as_version=4)
    exercises = builder.coding_exercises(nb)
    assert exercises, f"{path.name} has no coding exercise"
    labels = _exercise_labels(nb)
    assert len(labels) >= 3, f"{path.name}: fewer than three exercises"
    assert set(exercises) <= set(labels), "a coding exercise without an {exercise} block"
    # the student notebook's Run All fails only in guarded cells (grading skips the rest, and
    # nbval runs them in the chapter, where the answers exist)
    problems = builder.unguarded_uses(nb)
    assert not problems, "\n".join(problems)


def test_unguarded_uses_finds_every_way_to_need_an_answer():
    v4 = nbformat.v4

    def notebook(*later, uses=None):
        cells = [v4.new_code_cell("import numpy as np"), *_exercise_notebook()]
        for source in later:
            cells.append(v4.new_code_cell(source))
        if uses is not None:
            cells[uses].metadata.update(tags=[builder.USES], exercise="x")
        return v4.new_notebook(cells=cells)

    assert builder.unguarded_uses(notebook("y = np.ones(3)")) == []
    assert builder.unguarded_uses(notebook("print(f())"))  # calls the stub
    assert builder.unguarded_uses(notebook("def g():\n    return f() + 1", "g()"))
    helper = notebook("print(math.pi)")  # only the removed solution cell imports math
    helper.cells[3].source = "import math\n\n\n" + helper.cells[3].source
    assert builder.unguarded_uses(helper)
    # guarded: the using cell, and a cell reading what it computed
    assert builder.unguarded_uses(notebook("z = f()", uses=6)) == []
    assert builder.unguarded_uses(notebook("z = f()", "print(z)", uses=6))
    # bound again by a plain cell: answered
    assert builder.unguarded_uses(notebook("def f():\n    return 0", "print(f())")) == []


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
    guarded = [c for c in student.cells if builder.RAISES in _tags(c)]
    checks_and_uses = [c for c in student.cells if {builder.CHECK, builder.USES} & set(_tags(c))]
    assert guarded == checks_and_uses
    assert len(guarded) == sum(len(ex.checks) + len(ex.uses) for ex in exercises.values())
    assert all(not c.outputs for c in guarded)
    # plain Jupyter Markdown: no MyST directive or role, a heading per exercise
    markdown = "\n".join(c.source for c in student.cells if c.cell_type == "markdown")
    leftovers = re.findall(r"^(?:`{3,}|:{3,})\{[\w:-]+\}.*$|\{[\w:-]+\}`[^`]*`", markdown, re.M)
    assert not leftovers, f"MyST left in the student notebook: {leftovers[:5]}"
    assert markdown.count("### Exercise: ") == len(_exercise_labels(nb))
    # every figure outside the exercises survives
    exercise_cells = {i for ex in exercises.values() for i in [*ex.solutions, *ex.checks, *ex.uses]}
    kept_nb = nbformat.v4.new_notebook(
        cells=[c for i, c in enumerate(nb.cells) if i not in exercise_cells]
    )
    assert _outputs_with_images(student) == _outputs_with_images(kept_nb) > 0


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


def _exercise_notebook(
    stub_source="def f():\n    raise NotImplementedError",
    solution="def f():\n    return 1",
    tagged=True,
):
    v4 = nbformat.v4
    stub = v4.new_code_cell(stub_source)
    stub.metadata.update(tags=["exercise-stub"], exercise="x")
    start = v4.new_markdown_cell("```{solution-start} x\n:class: dropdown\n```")
    sol = v4.new_code_cell(solution)
    if tagged:
        sol.metadata.update(tags=["exercise-solution"], exercise="x")
    end = v4.new_markdown_cell("```{solution-end}\n```")
    check = v4.new_code_cell("from memlab.exercises import ch01\nch01.check_f(f)")
    check.metadata.update(tags=["exercise-check"], exercise="x")
    return [stub, start, sol, end, check]


def test_builder_rejects_a_chapter_that_breaks_the_convention():
    v4 = nbformat.v4
    ok = v4.new_notebook(cells=_exercise_notebook())
    assert list(builder.coding_exercises(ok)) == ["x"]
    no_check = v4.new_notebook(cells=_exercise_notebook()[:4])
    with pytest.raises(builder.ConventionError, match="lacks a check cell"):
        builder.coding_exercises(no_check)
    untagged = v4.new_notebook(cells=_exercise_notebook(tagged=False))
    with pytest.raises(builder.ConventionError, match="must be tagged"):
        builder.coding_exercises(untagged)
    for stub in (
        "def f():\n    return 0",
        "def f():\n    x = 1\n    raise NotImplementedError('Exercise')",
        "def f():\n    raise ValueError('not NotImplementedError')",
    ):
        nb = v4.new_notebook(cells=_exercise_notebook(stub_source=stub))
        with pytest.raises(builder.ConventionError, match="must only raise NotImplementedError"):
            builder.coding_exercises(nb)
    other_signature = v4.new_notebook(
        cells=_exercise_notebook(solution="def f(x=1):\n    return x")
    )
    with pytest.raises(builder.ConventionError, match="same signature"):
        builder.coding_exercises(other_signature)


# --- nbgrader: one course per chapter, executed once ---------------------------------------------


class Graded(NamedTuple):
    """One chapter's nbgrader run: scores and autograded notebooks of both submissions."""

    scores: dict  # student -> (score, max_score)
    student: nbformat.NotebookNode  # the student notebook, built with the nbgrader version
    released: nbformat.NotebookNode
    autograded: dict  # student -> executed notebook
    seconds: dict  # student -> wall-clock seconds of its autograde


def _succeeded(result: dict, what: str) -> None:
    assert result["success"], (
        f"nbgrader {what} failed:\n{result.get('log', '')[-3000:]}{result.get('error', '')[-3000:]}"
    )


def _nbgrader_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def solved_submission(released, chapter):
    """The released notebook with our solutions in place of the stubs, as a student hands it in."""
    solutions = {
        f"{ex.label}-solution": chapter.cells[ex.solutions[0]].source
        for ex in builder.coding_exercises(chapter).values()
    }
    nb = copy.deepcopy(released)
    for cell in nb.cells:
        grade_id = _nbgrader_meta(cell).get("grade_id")
        if grade_id in solutions:
            cell.source = solutions[grade_id]
    return nb


def autograde(path: Path, root: Path) -> Graded:
    """Build chapter ``path``'s assignment in ``root``, release it, autograde both submissions.

    Both are graded as a course grades (:mod:`memlab.exercises.grading`: the chapter's
    simulations skipped).
    """
    require_tool(HAVE_NBGRADER, HOW_TO_GET_NBGRADER)
    from nbgrader.api import Gradebook

    student_nb, _ = builder.build_chapter(path, root)
    course, assignment = root / "nbgrader", builder.assignment_name(path)
    shutil.copy(_empty_gradebook(root.parent), course / "gradebook.db")
    _succeeded(course_cli.api(course).generate_assignment(assignment, force=True), "release")
    released = nbformat.read(course / "release" / assignment / path.name, as_version=4)
    chapter = nbformat.read(path, as_version=4)
    submissions = {"stubs": released, "solved": solved_submission(released, chapter)}
    seconds = {}
    for student, nb in submissions.items():
        target = course / "submitted" / student / assignment / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, target)
        api = course_cli.api(course)
        start = time.perf_counter()
        _succeeded(api.autograde(assignment, student, force=True), f"autograde of {student}")
        seconds[student] = time.perf_counter() - start
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        scores = {
            student: (
                gradebook.find_submission(assignment, student).score,
                gradebook.find_submission(assignment, student).max_score,
            )
            for student in submissions
        }
    autograded = {
        student: nbformat.read(
            course / "autograded" / student / assignment / path.name, as_version=4
        )
        for student in submissions
    }
    return Graded(scores, nbformat.read(student_nb, as_version=4), released, autograded, seconds)


def _empty_gradebook(tmp: Path) -> Path:
    """An empty gradebook, copied into each chapter's course.

    nbgrader runs the `alembic` command (about 3 s of CPU: it imports nbgrader again) each time
    it creates a gradebook; for an existing one it does not.  So one is made per nbgrader
    version and kept in _build/test for all test processes and runs (``make clean`` removes
    it); a lock lets one pytest-xdist worker make it while the other waits.
    """
    from nbgrader import __version__ as version
    from nbgrader.api import Gradebook

    db = TEST_BUILD / f"empty-gradebook-nbgrader-{version}.db"
    TEST_BUILD.mkdir(parents=True, exist_ok=True)
    with open(TEST_BUILD / "empty-gradebook.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not db.exists():
            course_cli.with_environment_on_path()
            fresh = tmp / "empty-gradebook.db"
            with Gradebook(f"sqlite:///{fresh}", course_id=COURSE_ID):
                pass
            shutil.copy(fresh, db.with_suffix(".tmp"))
            db.with_suffix(".tmp").replace(db)
    return db


_GRADED: dict[Path, Graded | BaseException] = {}


@pytest.fixture
def graded(tmp_path_factory):
    """``graded(path)``: the chapter's nbgrader run, once per test session (and xdist worker)."""

    def get(path: Path) -> Graded:
        if path not in _GRADED:
            try:
                _GRADED[path] = autograde(path, tmp_path_factory.mktemp(f"course-{path.stem}"))
            except BaseException as exc:  # remember a failure: do not run nbgrader twice
                _GRADED[path] = exc
        result = _GRADED[path]
        if isinstance(result, BaseException):
            raise result
        return result

    return get


def chapter_params():
    """One parameter per chapter, id ``NN_topic.ipynb``: conftest.work_unit keeps a chapter's
    tests in one xdist worker, so nbgrader runs once per chapter."""
    marks = [
        pytest.mark.assignments,
        # nbgrader's own use of SQLAlchemy (its command line hides these)
        pytest.mark.filterwarnings("ignore:Object of type <Submitted"),
    ]
    return [pytest.param(path, id=path.name, marks=marks) for path in CHAPTERS]


def check_calls_in(cell) -> int:
    return len(builder.hidden_calls(cell.source.split("### BEGIN HIDDEN TESTS")[0]))


@pytest.mark.parametrize("path", chapter_params())
def test_nbgrader_grades_solutions_full_and_stubs_zero(path, graded):
    result = graded(path)
    text = "".join(c.source for c in result.released.cells)
    assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text
    score, max_score = result.scores["solved"]
    assert max_score > 0 and score == max_score, f"solutions scored {score}/{max_score}"
    score, _ = result.scores["stubs"]
    assert score == 0, f"stubs scored {score}"
    # full marks with the hidden tests in place: each check call printed its verdict twice
    grade_cells = [c for c in result.autograded["solved"].cells if _nbgrader_meta(c).get("grade")]
    assert grade_cells
    for cell in grade_cells:
        assert "### BEGIN HIDDEN TESTS" in cell.source, "nbgrader did not restore the hidden tests"
        out = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
        assert out.count("Correct:") == 2 * check_calls_in(cell), (
            f"{_nbgrader_meta(cell)['grade_id']}: {out!r}"
        )
    # grading ran the setup, the answers and the checks, not the chapter's simulations
    for cell in result.autograded["solved"].cells:
        skipped = cell.get("metadata", {}).get(builder.GRADING_KEY, {}).get("grading") == "skip"
        if cell.cell_type == "code" and skipped:
            assert cell.execution_count is None, f"a skipped cell ran: {cell.source[:80]}"
    print(
        f"{path.name}: autograde of one solved submission {result.seconds['solved']:.1f} s, "
        f"of the stubs {result.seconds['stubs']:.1f} s (wall clock)"
    )


@pytest.mark.parametrize("path", chapter_params())
def test_released_notebook_is_what_students_need(path, graded):
    """No instructors' banner, the figures, the stubs' messages, errors allowed on Run All."""
    result = graded(path)
    released, student = result.released, result.student
    text = "\n".join(c.source for c in released.cells)
    assert "do not edit" not in text and "nbgrader source" not in text
    assert _outputs_with_images(released) == _outputs_with_images(student) > 0
    stubs = [c for c in released.cells if builder.STUB in _tags(c)]
    ours = [c for c in student.cells if builder.STUB in _tags(c)]
    assert [c.source.strip() for c in stubs] == [c.source.strip() for c in ours]
    assert all('NotImplementedError("Exercise' in c.source for c in stubs)
    for cell in released.cells:
        if {builder.CHECK, builder.USES} & set(_tags(cell)):
            assert builder.RAISES in _tags(cell), cell.source


def _defined_names(tree: ast.Module) -> set[str]:
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.FunctionDef):
            names.add(node.name)
    return names


def same_execution_problems(student, executed) -> list[str]:
    """Why executing ``executed`` (autograded stubs) is not executing ``student``, cell by cell.

    Every code cell must be the same, except that a check cell may carry nbgrader's hidden tests
    after its visible calls, and that a stub may be nbgrader's: the same function with the same
    signature and imports, whose body (after the docstring) only raises NotImplementedError.
    """
    problems = []
    ours = [c for c in student.cells if c.cell_type == "code"]
    theirs = [c for c in executed.cells if c.cell_type == "code"]
    if len(ours) != len(theirs):
        return [f"{len(ours)} code cells in the student notebook, {len(theirs)} executed"]
    for k, (a, b) in enumerate(zip(ours, theirs)):
        if builder.STUB in _tags(a):
            ta, tb = ast.parse(a.source), ast.parse(b.source)
            fa, fb = ([n for n in t.body if isinstance(n, ast.FunctionDef)] for t in (ta, tb))
            if not (
                len(fa) == len(fb) == 1
                and fa[0].name == fb[0].name
                and ast.dump(fa[0].args) == ast.dump(fb[0].args)
                and _defined_names(ta) == _defined_names(tb)
                and builder.raises_not_implemented(fa[0])
                and builder.raises_not_implemented(fb[0])
            ):
                problems.append(f"code cell {k}: the stub differs:\n{a.source}\n---\n{b.source}")
        elif builder.CHECK in _tags(a):
            visible = b.source.split("### BEGIN HIDDEN TESTS")[0]
            if visible.rstrip() != a.source.rstrip():
                problems.append(f"code cell {k}: the check differs:\n{a.source}\n---\n{visible}")
        elif a.source != b.source:
            problems.append(f"code cell {k} differs:\n{a.source}\n---\n{b.source}")
    return problems


def test_same_execution_problems_finds_differences():
    cells = _exercise_notebook()
    v4 = nbformat.v4
    setup = v4.new_code_cell("import numpy as np")
    student = builder.student_version(v4.new_notebook(cells=[setup, *cells]))
    assert same_execution_problems(student, student) == []
    for index, source in [
        (0, "import numpy"),  # another setup cell
        (1, "def f(x):\n    raise NotImplementedError()"),  # another signature
        (1, "def f():\n    return 0"),  # a stub that does not raise
        (1, "import math\n\ndef f():\n    raise NotImplementedError()"),  # other imports
        (2, "from memlab.exercises import ch01\nch01.check_g(f)"),  # another check
    ]:
        changed = copy.deepcopy(student)
        [c for c in changed.cells if c.cell_type == "code"][index].source = source
        assert same_execution_problems(student, changed), source
    shorter = copy.deepcopy(student)
    shorter.cells = shorter.cells[:-1]
    assert same_execution_problems(student, shorter)


@pytest.mark.parametrize("path", chapter_params())
def test_student_notebook_runs_with_only_the_expected_failures(path, graded):
    result = graded(path)
    executed = result.autograded["stubs"]
    problems = same_execution_problems(result.student, executed)
    assert not problems, "\n".join(problems)
    failures = []
    for index, cell in enumerate(executed.cells):
        if cell.cell_type != "code":
            continue
        errors = [o for o in cell.outputs if o.output_type == "error"]
        guarded = {builder.CHECK, builder.USES} & set(_tags(cell))
        if errors and not guarded:
            failures.append(f"cell {index} failed: {errors[0].ename}: {errors[0].evalue}")
        if errors and errors[0].ename != "NotImplementedError":
            failures.append(f"cell {index}: {errors[0].ename} instead of NotImplementedError")
        if builder.CHECK in _tags(cell) and not errors:
            failures.append(f"cell {index}: a check passed without an answer")
        skipped = cell.get("metadata", {}).get(builder.GRADING_KEY, {}).get("grading") == "skip"
        if cell.execution_count is None and not skipped:
            failures.append(f"cell {index} was not executed")
        if cell.execution_count is not None and skipped:
            failures.append(f"cell {index} ran although grading skips it")
    assert not failures, "\n".join(failures)


# --- the instructors' path, end to end ------------------------------------------------------------

E2E_CHAPTER = CHAPTERS[0]


def _answers(label_to_name: dict[str, str]) -> dict[str, str]:
    """Function name -> source, from test_exercises.ANSWERS (``label -> answer name``)."""
    import textwrap

    from test_exercises import ANSWERS, exercise

    sources = {}
    for label, name in label_to_name.items():
        (answer,) = [a for a in ANSWERS if (a.label, a.name) == (label, name)]
        sources[exercise(label)[1].function] = textwrap.dedent(answer.source).strip() + "\n"
    return sources


def _hand_in(released, answers: dict[str, str]):
    nb = copy.deepcopy(released)
    for cell in nb.cells:
        if builder.STUB in _tags(cell):
            name = ast.parse(cell.source).body[-1].name
            cell.source = answers.get(name, cell.source)
    return nb


@pytest.mark.assignments
@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Object of type <Submitted")
def test_course_end_to_end_with_two_students(tmp_path, capsys):
    """make course, release, collect, autograde, export, as instructors.md says, on Chapter 1.

    alice answers correctly in her own style (test_exercises.ANSWERS), bob makes typical
    mistakes: full marks and zero, with bob's autograded notebook saying what is wrong.
    """
    require_tool(HAVE_NBGRADER, HOW_TO_GET_NBGRADER)
    import csv

    course = tmp_path / "course"
    number = E2E_CHAPTER.name[:2]
    course_cli.new(course, course_id="e2e-101", only=[number])
    (course / "nbgrader_config.py").write_text(
        (course / "nbgrader_config.py").read_text() + "# edited by the instructor\n"
    )
    course_cli.new(course, course_id="another-id", only=[number])  # refresh: config kept
    config = (course / "nbgrader_config.py").read_text()
    assert 'course_id = "e2e-101"' in config and config.endswith("# edited by the instructor\n")
    shutil.copy(_empty_gradebook(tmp_path), course / "gradebook.db")
    released = nbformat.read(course_cli.release(course, number) / E2E_CHAPTER.name, as_version=4)
    inbox = tmp_path / "inbox"
    (inbox / "bob").mkdir(parents=True)
    students = {
        "alice": _answers(
            {"ch01-ex-async": "from-scratch", "ch01-ex-async-capacity": "interpolated-finer-grid"}
        ),
        "bob": _answers(
            {"ch01-ex-async": "synchronous", "ch01-ex-async-capacity": "ignores-update"}
        ),
    }
    nbformat.write(_hand_in(released, students["alice"]), inbox / "alice.ipynb")
    nbformat.write(_hand_in(released, students["bob"]), inbox / "bob" / "my answers.ipynb")
    copied = course_cli.collect(course, number, inbox)
    assert {who: p.relative_to(course) for who, p in copied.items()} == {
        who: Path("submitted", who, f"ch{number}", E2E_CHAPTER.name) for who in students
    }
    results = course_cli.autograde(course, number)
    printed = capsys.readouterr().out
    assert "has changed" not in printed, printed  # no false checksum warning
    grades = course_cli.export(course)
    capsys.readouterr()
    rows = {row["student_id"]: row for row in csv.DictReader(grades.open())}
    assert {who: float(rows[who]["score"]) for who in students} == {"alice": 2.0, "bob": 0.0}
    assert all(float(rows[who]["max_score"]) == 2.0 for who in students)
    bob = nbformat.read(course / "autograded" / "bob" / f"ch{number}" / E2E_CHAPTER.name, 4)
    errors = " ".join(
        o.get("evalue", "") for c in bob.cells for o in c.get("outputs", []) if "evalue" in o
    )
    assert "synchronous step" in errors and "ignores `update`" in errors, errors
    with capsys.disabled():
        for who, (score, max_score, seconds) in results.items():
            print(f"\n{who}: {score:g}/{max_score:g}, autograde {seconds:.1f} s (wall clock)")


def test_course_refuses_a_directory_inside_build(tmp_path):
    with pytest.raises(course_cli.CourseError, match="make clean"):
        course_cli.new(course_cli.REPO / "_build" / "my-course", only=["01"])


def test_collect_names_submissions_as_nbgrader_needs_them(tmp_path):
    course = tmp_path / "course"
    number = E2E_CHAPTER.name[:2]
    course_cli.new(course, only=[number])
    inbox = tmp_path / "inbox"
    (inbox / "s2").mkdir(parents=True)
    v4 = nbformat.v4
    nbformat.write(v4.new_notebook(), inbox / "s1.ipynb")
    nbformat.write(v4.new_notebook(), inbox / "s2" / "whatever.ipynb")
    copied = course_cli.collect(course, number, inbox)
    assert sorted(copied) == ["s1", "s2"]
    assert copied["s2"] == course / "submitted" / "s2" / f"ch{number}" / E2E_CHAPTER.name
    nbformat.write(v4.new_notebook(), inbox / "no good.ipynb")
    with pytest.raises(course_cli.CourseError, match="student id"):
        course_cli.collect(course, number, inbox)


def test_plain_markdown_of_myst():
    ctx = builder.MarkdownContext(
        equations={"eq-e": 1},
        titles={"ch01-ex-a": "Async (★)"},
        citations={"h82": ("Hopfield", "1982")},
        difficulty={"ch01-ex-b": "★★"},
    )
    md = (
        "(sec-x)=\n# T\n\n$$\nE = 1\n$$ (eq-e)\n\nBy {eq}`eq-e` {cite}`h82`, "
        "see {ref}`ch01-ex-a`.\n\n```{admonition} Question\n:class: tip\nWhy $x$?\n```\n\n"
        "````{exercise} Do it\n:label: ch01-ex-b\n\nWrite\n```python\nf()\n```\n````\n"
    )
    out = builder.plain_markdown(md, ctx)
    assert "\\tag{1}" in out and "By (1) (Hopfield 1982), see “Async”." in out
    assert "> **Question**\n>\n> Why $x$?" in out
    assert "### Exercise: Do it (★★)" in out and "```python\nf()\n```" in out
    assert "{" not in out.replace("\\tag{1}", "")


# --- hidden tests and reference answers stay with the grader ------------------------------------

EXERCISES_DIR = Path(builder.__file__).parent

# Coding exercises whose visible check needs a reference answer: the data file its expectations
# are stored in (exercises/data/<stem>.json) and the keys of a case that hold them (a "." goes
# into a nested dict). The visible module chNN.py must compute none of them itself.
STORED_EXPECTATIONS = {
    "ch01-ex-async": ("ch01_async", ["outcomes.expected", "energies"]),
    "ch03-ex-readout": ("ch03_readout", ["k", "k_max", "best"]),
    "ch03-ex-first-step": ("ch03_first_step", ["m1", "c1"]),
    "ch03-ex-isserlis": ("ch03_isserlis", ["expected"]),
    "ch07-ex-pf": ("ch07_pf", ["expected"]),
    "ch08-ex-moments": ("ch08_moments", ["mean", "variance"]),
    "ch08-ex-gaussian": ("ch08_gaussian", ["value", "d_z", "d_mean", "d_var"]),
    "ch09-ex-psth": ("ch09_psth", ["loss", "grad"]),
    "ch09-ex-backward": ("ch09_backward", ["delta"]),
}
# Coding exercises of those chapters whose visible check needs no reference (bounds, invariants).
NEEDS_NO_REFERENCE = {"ch01-ex-async-capacity": "a range and the sync/async agreement"}
STORED_CHAPTERS = sorted({label[:4] for label in STORED_EXPECTATIONS})
# Module-level helpers a visible module may define besides its check_* functions: none of them
# computes an answer (loading the stored cases, recording the library's calls).
VISIBLE_HELPERS = {"_cases", "_record_updates"}


def _installed_files() -> set[str]:
    """The files under memlab/ that the built package contains (pyproject.toml's rules)."""
    import tomllib

    from setuptools import find_packages

    config = tomllib.loads((course_cli.REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    find = config["packages"]["find"]
    (where,) = find["where"]
    root = course_cli.REPO / where
    packages = find_packages(str(root), exclude=find["exclude"])
    files = set()
    for package in packages:
        folder = root / package.replace(".", "/")
        files |= {str(f.relative_to(root)) for f in folder.glob("*.py")}
    for pattern in config["package-data"]["memlab"]:
        files |= {str(f.relative_to(root)) for f in (root / "memlab").glob(pattern)}
    return files


def test_hidden_package_is_left_out_of_the_built_package():
    """What ``pip install memlab`` installs: every chapter's visible checks and the stored cases
    they load, none of the hidden modules (hidden cases, references)."""
    installed = _installed_files()
    assert "memlab/exercises/ch01.py" in installed
    assert not [f for f in installed if "exercises/hidden" in f], sorted(installed)
    for module in sorted(EXERCISES_DIR.glob("ch[0-9][0-9].py")):
        assert f"memlab/exercises/{module.name}" in installed
        assert (EXERCISES_DIR / "hidden" / module.name).exists(), module.name
    for data in (EXERCISES_DIR / "data").glob("*.json"):
        assert f"memlab/exercises/data/{data.name}" in installed
    for stem, _ in STORED_EXPECTATIONS.values():
        assert f"memlab/exercises/data/{stem}.json" in installed, f"{stem}.json is not stored"


def _same_cases(stored, computed, where="") -> list[str]:
    """Differences between stored and recomputed cases: floats to 1e-10 relative (another CPU's
    libm may differ in the last bits), everything else exactly."""
    if isinstance(stored, dict) and isinstance(computed, dict):
        if stored.keys() != computed.keys():
            return [f"{where}: keys {sorted(stored)} != {sorted(computed)}"]
        return [d for k in stored for d in _same_cases(stored[k], computed[k], f"{where}.{k}")]
    if isinstance(stored, list) and isinstance(computed, list):
        if len(stored) != len(computed):
            return [f"{where}: length {len(stored)} != {len(computed)}"]
        return [
            d
            for i, pair in enumerate(zip(stored, computed))
            for d in _same_cases(*pair, f"{where}[{i}]")
        ]
    if isinstance(stored, float) or isinstance(computed, float):
        if type(stored) is not type(computed) or stored != pytest.approx(
            computed, rel=1e-10, abs=1e-13
        ):
            return [f"{where}: stored {stored!r}, computed {computed!r}"]
        return []
    return (
        []
        if stored == computed and type(stored) is type(computed)
        else [f"{where}: stored {stored!r}, computed {computed!r}"]
    )


@pytest.mark.parametrize("data", sorted((EXERCISES_DIR / "data").glob("*.json")), ids=str)
def test_stored_visible_cases_are_what_the_hidden_module_computes(data):
    """``data/chNN_<name>.json`` is ``hidden.chNN.visible_cases(name)``; rewrite it with
    ``json.dumps(visible_cases(name), indent=0) + "\\n"`` after changing the cases."""
    import importlib
    import json

    chapter, name = data.stem.split("_", 1)
    hidden = importlib.import_module(f"memlab.exercises.hidden.{chapter}")
    computed = json.loads(json.dumps(hidden.visible_cases(name)))
    assert not _same_cases(json.loads(data.read_text()), computed)


def test_every_exercise_of_the_stored_chapters_is_classified():
    from test_exercises import CHAPTER_OF

    labels = {label for label in CHAPTER_OF if label[:4] in STORED_CHAPTERS}
    assert labels == set(STORED_EXPECTATIONS) | set(NEEDS_NO_REFERENCE)


def _shifted(value):
    """A wrong expectation: numbers moved by 1 (step indices by 3), +- strings flipped."""
    if isinstance(value, list):
        return [_shifted(v) for v in value]
    if isinstance(value, str):
        return value.translate(str.maketrans("+-", "-+"))
    if isinstance(value, bool) or value is None:
        raise TypeError(f"cannot shift {value!r}")
    return value + 3 if isinstance(value, int) else value + 1.0


@pytest.mark.parametrize(
    "label",
    [
        pytest.param(label, marks=[pytest.mark.slow] if label == "ch03-ex-readout" else [])
        for label in STORED_EXPECTATIONS
    ],
)
def test_visible_checks_take_their_expectations_from_the_stored_cases(label, monkeypatch):
    """The visible module computes no reference answer: with the stored expectations shifted
    (and no hidden package), our own solution fails the visible check. A check that computed
    the answer itself, from the library or a reference function, would still pass it."""
    import importlib

    from test_exercises import attempt, exercise

    stem, keys = STORED_EXPECTATIONS[label]
    module = importlib.import_module(f"memlab.exercises.{label[:4]}")
    for name in [m.stem for m in (EXERCISES_DIR / "hidden").glob("ch*.py")]:
        monkeypatch.setitem(sys.modules, f"memlab.exercises.hidden.{name}", None)
    load_cases = module.load_cases  # AttributeError: the module does not read stored cases
    loaded = []

    def shifted_cases(name):
        cases = load_cases(name)
        loaded.append(name)
        if name == stem:
            for case in cases:
                for key in keys:
                    *outer, last = key.split(".")
                    inner = functools.reduce(dict.__getitem__, outer, case)
                    inner[last] = _shifted(inner[last])
        return cases

    monkeypatch.setattr(module, "load_cases", shifted_cases)
    nb, ex = exercise(label)
    with pytest.raises(ExerciseFailure):
        attempt(label, nb.cells[ex.solutions[0]].source, "visible")
    assert stem in loaded


@pytest.mark.parametrize("chapter", STORED_CHAPTERS)
def test_visible_modules_define_no_reference_functions(chapter):
    """Besides its checks, a visible module defines only helpers that compute no answer
    (references and typical mistakes belong in hidden/chNN.py)."""
    tree = ast.parse((EXERCISES_DIR / f"{chapter}.py").read_text())
    defined = {
        node.name
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
    } | {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Lambda)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    extra = {name for name in defined if not name.startswith("check_")} - VISIBLE_HELPERS
    assert not extra, f"{chapter}.py defines {sorted(extra)}: move references to hidden/"


def test_checks_without_the_hidden_package_run_visible_cases_and_say_why_not_hidden(
    monkeypatch, capsys
):
    """A student's install: the visible checks work, ``hidden=True`` says it is the grader's."""
    from test_exercises import attempt, exercise

    for name in [m.stem for m in (EXERCISES_DIR / "hidden").glob("ch*.py")]:
        monkeypatch.setitem(sys.modules, f"memlab.exercises.hidden.{name}", None)
    for label in [
        "ch01-ex-async",
        "ch03-ex-readout",
        "ch03-ex-first-step",
        "ch03-ex-isserlis",
        "ch05-ex-oja",
        "ch07-ex-pf",
        "ch08-ex-moments",
        "ch08-ex-gaussian",
        "ch09-ex-psth",
        "ch09-ex-backward",
        "ch10-ex-count",
    ]:
        nb, ex = exercise(label)
        attempt(label, nb.cells[ex.solutions[0]].source, "visible")
        assert "Correct:" in capsys.readouterr().out
        with pytest.raises(ExerciseFailure, match=r"hidden tests of ch\d\d are not installed"):
            attempt(label, nb.cells[ex.solutions[0]].source, "hidden")


def test_instructors_page_agrees_with_the_chapters():
    """One row per exercise, in its chapter; "code" exactly for coding exercises; the stars of
    the exercise's title."""
    text = (course_cli.REPO / "instructors.md").read_text()
    rows = {
        label: (int(chapter), kind.strip(), stars)
        for chapter, label, kind, stars in re.findall(
            r"^\| (\d+) \| \{ref\}`(\S+)` \| ([^|]+) \| ([★]+) \|$", text, re.M
        )
    }
    problems = []
    for path in CHAPTERS:
        nb = nbformat.read(path, as_version=4)
        coding = builder.coding_exercises(nb)
        markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        for title, label in re.findall(r"\{exercise\}[ \t]*([^\n]*)\n:label: (\S+)", markdown):
            if label not in rows:
                problems.append(f"{label} ({path.name}) has no row in instructors.md")
                continue
            chapter, kind, stars = rows[label]
            if chapter != int(path.name[:2]):
                problems.append(f"{label}: listed under chapter {chapter}")
            if (kind == "code") != (label in coding):
                problems.append(f"{label}: listed as {kind!r}")
            in_title = re.search(r"\(([★]+)\)\s*$", title)
            if in_title is None:
                problems.append(f"{label}: no difficulty in its title {title!r} (add ({stars}))")
            elif in_title.group(1) != stars:
                problems.append(f"{label}: {in_title.group(1)} in the title, {stars} in the table")
    assert not problems, "\n".join(problems)


def test_every_coding_exercise_has_a_typical_mistake_in_the_answer_table():
    """CONTRIBUTING.md: one typical mistake per rule the exercise states, in test_exercises.py's
    ANSWERS, rejected by the visible check with the intended message (that test runs them)."""
    from test_exercises import ANSWERS, CHAPTER_OF

    with_mistakes = {a.label for a in ANSWERS if a.mistake is not None and a.runs == "visible"}
    missing = sorted(set(CHAPTER_OF) - with_mistakes)
    assert not missing, f"coding exercises without a typical mistake caught visibly: {missing}"


def test_grading_preprocessors_without_running_nbgrader():
    """What grading runs (SkipChapterCells), the released stub (ClearSolutions with the book's
    code_stub), and the hidden-test region removed as nbgrader's release removes it."""
    require_tool(HAVE_NBGRADER, HOW_TO_GET_NBGRADER)
    from nbgrader.preprocessors import ClearSolutions
    from traitlets.config import Config

    from memlab.exercises import grading

    v4 = nbformat.v4
    chapter = v4.new_code_cell("x = simulate()")
    chapter.metadata[builder.GRADING_KEY] = {"grading": "skip"}
    test = v4.new_code_cell("ch01.check(f)", metadata={"tags": [builder.SKIP_EXECUTION]})
    test.metadata["nbgrader"] = {"grade": True, "locked": True, "grade_id": "t"}
    added = v4.new_code_cell("def helper():\n    return 1")
    skip = grading.SkipChapterCells()
    for cell, skipped in [(chapter, True), (test, False), (added, False)]:
        cell, _ = skip.preprocess_cell(cell, {}, 0)
        assert (builder.SKIP_EXECUTION in _tags(cell)) == skipped, cell.source

    assert builder.definitions_only("import numpy as np\nN = 3\n\ndef f(x):\n    return x")
    assert not builder.definitions_only("x = f(3)")
    assert not builder.definitions_only("plt.show()")

    stub = 'def f(x):\n    """Doc."""\n    raise NotImplementedError("Exercise: f")'
    cell = v4.new_code_cell(builder.stub_with_solution(stub, "def f(x):\n    return x + 1"))
    cell.metadata["nbgrader"] = {"solution": True, "grade": False, "grade_id": "s"}
    namespace: dict = {}
    exec(cell.source, namespace)
    assert namespace["f"](1) == 2  # the source runs the solution
    config = Config()
    grading.configure(config)
    clear = ClearSolutions(config=config)
    clear.preprocess(
        v4.new_notebook(
            cells=[cell],
            metadata={
                "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
            },
        ),
        {},
    )
    assert cell.source.strip() == stub  # the release keeps the stub and its message

    source = (
        "ch01.check(f)\n### BEGIN HIDDEN TESTS\nch01.check(f, hidden=True)\n### END HIDDEN TESTS"
    )
    assert grading._without_hidden_tests(source) == "ch01.check(f)"
