"""An nbgrader course for the book, one command per step (``make course``, ``make release``, ...).

Usage (each ``make`` target runs one of these; see instructors.md)::

    python -m memlab.exercises.course new DIR [--course-id ID] [--chapter NN] [--chapters chapters]
    python -m memlab.exercises.course release DIR NN
    python -m memlab.exercises.course collect DIR NN FROM
    python -m memlab.exercises.course autograde DIR NN [--student ID]
    python -m memlab.exercises.course feedback DIR NN
    python -m memlab.exercises.course export DIR

- ``new``: the course directory ``DIR`` (outside the repository's ``_build``, which ``make clean``
  deletes): ``source/chNN/`` for every chapter (regenerated from the chapters each time),
  ``student/`` (plain notebooks, for a course without nbgrader) and ``nbgrader_config.py``, which
  is written only if it does not exist (an existing one, course id included, is never touched).
- ``release``: ``nbgrader generate_assignment``: ``release/chNN/NN_topic.ipynb`` for the students.
- ``collect``: copies the students' notebooks from ``FROM`` (``FROM/<student>.ipynb`` or
  ``FROM/<student>/<any name>.ipynb``) to ``submitted/<student>/chNN/NN_topic.ipynb``, the path and
  file name nbgrader needs. (With nbgrader's exchange on a JupyterHub, ``nbgrader collect`` does
  this instead.)
- ``autograde``: ``nbgrader autograde`` of every collected submission (or one), printing the score
  and the time of each.
- ``feedback``: ``nbgrader generate_feedback``: ``feedback/<student>/chNN/NN_topic.html``.
- ``export``: ``nbgrader export``: ``DIR/grades.csv``.

nbgrader runs the ``alembic`` command of its environment when it creates the gradebook: this
module puts the running Python's ``bin`` directory on ``PATH`` first, so it works from any shell.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
import warnings
from pathlib import Path

from . import build as builder

__all__ = ["new", "release", "collect", "autograde", "feedback", "export", "main"]

REPO = Path(__file__).resolve().parents[3]
_STUDENT_ID = re.compile(r"^[A-Za-z0-9][\w.@+-]*$")


class CourseError(RuntimeError):
    """A course command cannot proceed; the message says why and what to do."""


def _assignment(chapter: str | int) -> str:
    text = str(chapter)
    m = re.fullmatch(r"(?:ch)?(\d{1,2})", text)
    if not m:
        raise CourseError(f"a chapter is given by its number (01, 7 or ch07), not {text!r}")
    return f"ch{int(m.group(1)):02d}"


def with_environment_on_path() -> None:
    scripts = str(Path(sys.executable).parent)
    if scripts not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = scripts + os.pathsep + os.environ.get("PATH", "")


def _course(course: Path) -> Path:
    course = Path(course).expanduser().resolve()
    if not (course / "nbgrader_config.py").exists():
        raise CourseError(f"{course} is not a course directory: run `make course DIR={course}`")
    return course


def api(course: Path, *, run_every_cell: bool = False):
    """nbgrader's Python API on the course directory, configured by its nbgrader_config.py.

    ``run_every_cell``: autograde runs every cell of a submission, the chapter's simulations too
    (by default it skips them: :mod:`memlab.exercises.grading`).
    """
    from nbgrader.apps import NbGraderAPI
    from traitlets.config.loader import PyFileConfigLoader

    with_environment_on_path()
    # nbgrader's own use of SQLAlchemy (its command line hides these)
    warnings.filterwarnings("ignore", message="Object of type <Submitted")
    course = _course(course)
    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    config.CourseDirectory.root = str(course)
    if run_every_cell:
        from .grading import configure

        configure(config, skip_chapter_cells=False)
    return NbGraderAPI(config=config)


def _check(result: dict, what: str) -> dict:
    if not result.get("success"):
        raise CourseError(
            f"nbgrader {what} failed:\n{result.get('log', '')}{result.get('error', '')}"
        )
    return result


def new(
    course: Path,
    *,
    course_id: str | None = None,
    chapters: Path = REPO / "chapters",
    only: list[str] | None = None,
) -> list[Path]:
    """Create or refresh the course directory; return the source notebooks written."""
    course = Path(course).expanduser().resolve()
    build_dir = (REPO / "_build").resolve()
    if course == build_dir or build_dir in course.parents:
        raise CourseError(
            f"{course} is inside {build_dir}, which `make clean` deletes with the gradebook and "
            "the submissions: choose a directory outside _build"
        )
    paths = builder.chapter_paths(chapters)
    if only:
        wanted = {_assignment(c) for c in only}
        paths = [p for p in paths if builder.assignment_name(p) in wanted]
        missing = wanted - {builder.assignment_name(p) for p in paths}
        if missing:
            raise CourseError(f"no chapter for {sorted(missing)} in {chapters}")
    config = course / "nbgrader_config.py"
    existed = config.exists()
    builder.write_config(course, course_id)
    written = []
    for path in paths:
        written.append(builder.build_chapter(path, course, course=course)[1])
    text = config.read_text()
    if existed:
        print(f"kept the existing {config}")
        current = re.search(r"course_id\s*=\s*['\"]([^'\"]+)", text)
        if course_id and (current is None or current.group(1) != course_id):
            print(
                f"  note: it sets course_id to {current.group(1) if current else '(nothing)'}, "
                f"not {course_id}: edit it by hand if you mean to change it"
            )
    else:
        print(f"wrote {config}")
    if builder.CONFIG_HOOK not in text:
        print(
            f"  warning: {config} does not call memlab's configure(c); add\n"
            f"    {builder.CONFIG_HOOK}\n    configure(c)\n"
            "  or the released stubs lose their messages and grading reruns whole chapters"
        )
    for path in written:
        print(path)
    return written


def release(course: Path, chapter, *, force: bool = False) -> Path:
    """``nbgrader generate_assignment chNN``; return the released directory."""
    name = _assignment(chapter)
    course = _course(course)
    if not (course / "source" / name).is_dir():
        raise CourseError(f"no source/{name} in {course}: run `make course DIR={course}` first")
    _check(api(course).generate_assignment(name, force=force), f"generate_assignment {name}")
    out = course / "release" / name
    print(f"released: {out} (hand out the notebook in it)")
    return out


def _notebook_name(course: Path, name: str) -> str:
    notebooks = sorted((course / "source" / name).glob("*.ipynb"))
    if len(notebooks) != 1:
        raise CourseError(f"source/{name} should hold one notebook, it holds {len(notebooks)}")
    return notebooks[0].name


def collect(course: Path, chapter, source: Path) -> dict[str, Path]:
    """Copy the submissions in ``source`` to ``submitted/<student>/chNN/NN_topic.ipynb``.

    ``source/<student>.ipynb`` or ``source/<student>/<one notebook>.ipynb``; the student id is the
    file or directory name (letters, digits, ``_ . @ + -``).
    """
    name = _assignment(chapter)
    course = _course(course)
    target_name = _notebook_name(course, name)
    found: dict[str, Path] = {}
    for entry in sorted(Path(source).expanduser().iterdir()):
        if entry.is_file() and entry.suffix == ".ipynb":
            found[entry.stem] = entry
        elif entry.is_dir() and not entry.name.startswith("."):
            notebooks = [
                p for p in sorted(entry.glob("*.ipynb")) if ".ipynb_checkpoints" not in p.parts
            ]
            if len(notebooks) != 1:
                raise CourseError(f"{entry} should hold one notebook, it holds {len(notebooks)}")
            found[entry.name] = notebooks[0]
    copied = {}
    for student, path in found.items():
        if not _STUDENT_ID.match(student):
            raise CourseError(
                f"{path}: {student!r} is not usable as a student id (letters, digits, _ . @ + -)"
            )
        target = course / "submitted" / student / name / target_name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        copied[student] = target
        print(f"{path} -> {target}")
    if not copied:
        raise CourseError(f"no notebook in {source}")
    return copied


def autograde(
    course: Path, chapter, *, student: str | None = None, run_every_cell: bool = False
) -> dict:
    """``nbgrader autograde`` of every submission (or one); ``student -> (score, max, seconds)``."""
    from nbgrader.api import Gradebook

    name = _assignment(chapter)
    course = _course(course)
    students = (
        [student]
        if student
        else sorted(p.parent.name for p in (course / "submitted").glob(f"*/{name}"))
    )
    if not students:
        raise CourseError(f"no submission in {course / 'submitted'}/*/{name}: run collect first")
    nbgrader = api(course, run_every_cell=run_every_cell)
    results = {}
    for who in students:
        start, cpu = time.perf_counter(), _cpu_seconds()
        result = _check(
            nbgrader.autograde(name, who, force=True, create=True), f"autograde of {who}"
        )
        seconds, cpu = time.perf_counter() - start, _cpu_seconds() - cpu
        for line in result.get("log", "").splitlines():
            if "has changed" in line or "does not exist in the database" in line:
                print(f"{who}: {line.strip()}")  # a test cell the student edited or deleted
        with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
            sub = gradebook.find_submission(name, who)
            results[who] = (sub.score, sub.max_score, seconds)
        print(
            f"{who}: {results[who][0]:g}/{results[who][1]:g} "
            f"({seconds:.0f} s, {cpu:.0f} s of CPU with the kernel)"
        )
    return results


def _cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the kernels that graded)."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def feedback(course: Path, chapter) -> Path:
    """``nbgrader generate_feedback chNN``: one HTML page per student in ``feedback/``."""
    name = _assignment(chapter)
    course = _course(course)
    nbgrader = api(course)
    for who in sorted(p.parent.name for p in (course / "autograded").glob(f"*/{name}")):
        _check(nbgrader.generate_feedback(name, who, force=True), f"generate_feedback {who}")
    print(f"feedback: {course / 'feedback'}/<student>/{name}/")
    return course / "feedback"


def export(course: Path) -> Path:
    """``nbgrader export``: every grade of the gradebook in ``grades.csv``."""
    course = _course(course)
    with_environment_on_path()
    nbgrader = shutil.which("nbgrader")
    if nbgrader is None:
        raise CourseError("nbgrader is not installed: make setup installs it into .venv")
    subprocess.run([nbgrader, "export"], cwd=course, check=True)
    print(f"grades: {course / 'grades.csv'}")
    return course / "grades.csv"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m memlab.exercises.course")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("new", help="create or refresh the course directory")
    p.add_argument("dir", type=Path)
    p.add_argument("--course-id")
    p.add_argument("--chapters", type=Path, default=REPO / "chapters")
    p.add_argument("--chapter", action="append", help="only this chapter (repeatable)")
    p = sub.add_parser("release", help="nbgrader generate_assignment")
    p.add_argument("dir", type=Path)
    p.add_argument("chapter")
    p.add_argument("--force", action="store_true", help="regenerate an existing release")
    p = sub.add_parser("collect", help="copy submissions into submitted/")
    p.add_argument("dir", type=Path)
    p.add_argument("chapter")
    p.add_argument("source", type=Path)
    p = sub.add_parser("autograde", help="nbgrader autograde every submission")
    p.add_argument("dir", type=Path)
    p.add_argument("chapter")
    p.add_argument("--student")
    p = sub.add_parser("feedback", help="nbgrader generate_feedback")
    p.add_argument("dir", type=Path)
    p.add_argument("chapter")
    p = sub.add_parser("export", help="nbgrader export: grades.csv")
    p.add_argument("dir", type=Path)
    args = parser.parse_args(argv)
    try:
        if args.command == "new":
            new(args.dir, course_id=args.course_id, chapters=args.chapters, only=args.chapter)
        elif args.command == "release":
            release(args.dir, args.chapter, force=args.force)
        elif args.command == "collect":
            collect(args.dir, args.chapter, args.source)
        elif args.command == "autograde":
            autograde(args.dir, args.chapter, student=args.student)
        elif args.command == "feedback":
            feedback(args.dir, args.chapter)
        else:
            export(args.dir)
    except CourseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
