"""Build student and nbgrader versions of the chapters from the executed chapter notebooks.

Usage (``make assignments`` runs this; ``make course`` runs :mod:`memlab.exercises.course`)::

    python -m memlab.exercises.build [--chapters chapters] [--out _build/assignments]

writes

- ``<out>/student/NN_topic.ipynb``: the chapter with every solution removed (coding solutions and
  the dropdowns of pen-and-paper exercises), the stubs in place, and the check cells and the cells
  that use an answer tagged ``raises-exception`` with their outputs cleared, so the notebook runs
  top to bottom while exercises are unfinished. Prose, figures and all other outputs stay. The
  Markdown is plain Jupyter Markdown (:func:`plain_markdown`): a heading per exercise,
  admonitions as block quotes, equation numbers, citations as text.
- ``<out>/nbgrader/source/chNN/NN_topic.ipynb``: an nbgrader source notebook, in the same plain
  Markdown. Each stub cell holds the stub and, between ``### BEGIN SOLUTION`` and
  ``### END SOLUTION``, the solution, so that the released notebook keeps the stub with its
  "Exercise: ..." message; each check becomes a locked, autograded test cell (tagged
  ``raises-exception``), followed by the same check with ``hidden=True`` between
  ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS``. The chapter's other code cells that
  compute something (simulations, figures) carry ``{"memlab": {"grading": "skip"}}``: grading
  (:mod:`memlab.exercises.grading`) does not run them.
  ``<out>/nbgrader/nbgrader_config.py`` (written only if it does not exist) sets the course
  directory up for ``nbgrader generate_assignment chNN`` and ``nbgrader autograde chNN``.

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
SKIP_EXECUTION = "skip-execution"
GRADING_KEY = "memlab"

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


# --- MyST to plain Jupyter Markdown ---------------------------------------------------------------

_DIRECTIVE = re.compile(r"^(?P<fence>`{3,}|:{3,})\{(?P<name>[\w:-]+)\}[ \t]*(?P<arg>.*?)[ \t]*$")
_ROLE = re.compile(r"\{(?P<role>[\w:-]+)\}`(?P<content>[^`]*)`")
_EQ_LABEL = re.compile(r"^(?P<close>[ \t]*\$\$)[ \t]*\((?P<label>[\w:.-]+)\)[ \t]*$", re.M)
_TARGET = re.compile(r"^\([\w:.-]+\)=[ \t]*\n", re.M)
_EXPLICIT = re.compile(r"^(?P<text>.*?)\s*<(?P<target>[^<>]+)>$", re.S)


@dataclass
class MarkdownContext:
    """What the conversion of one chapter to plain Markdown needs to know.

    ``equations``: equation label -> its number in the chapter (the book numbers them the same
    way, in order of appearance); ``titles``: exercise or section label -> its title;
    ``citations``: bibliography key -> "Author et al. (year)"; ``difficulty``: exercise label ->
    its stars (shown in the heading).
    """

    equations: dict = field(default_factory=dict)
    titles: dict = field(default_factory=dict)
    citations: dict = field(default_factory=dict)
    difficulty: dict = field(default_factory=dict)


def _bib_citations(bib: Path) -> dict:
    """``key -> (authors, year)`` from a BibTeX file: "Hopfield", "Amit et al.", "A and B"."""
    entries = {}
    if not bib.exists():
        return entries
    for m in re.finditer(r"@\w+\s*\{\s*([^,\s]+)\s*,(.*?)(?=^@|\Z)", bib.read_text(), re.S | re.M):
        key, body = m.group(1), m.group(2)
        author = re.search(r"\bauthor\s*=\s*[{\"](.*?)[}\"]\s*,?\s*$", body, re.M | re.S)
        year = re.search(r"\byear\s*=\s*[{\"]?(\d{4})", body)
        names = []
        if author:
            for name in re.split(r"\s+and\s+", author.group(1)):
                name = name.strip().strip("{}")
                names.append(name.split(",")[0].strip() if "," in name else name.split()[-1])
        names = [n.replace("{", "").replace("}", "") for n in names if n]
        if len(names) > 2:
            who = f"{names[0]} et al."
        elif len(names) == 2:
            who = f"{names[0]} and {names[1]}"
        else:
            who = names[0] if names else key
        entries[key] = (who, year.group(1) if year else "n.d.")
    return entries


def markdown_context(nb, bib: Path | None = None, difficulty: dict | None = None):
    """Collect equation numbers, titles and citations for :func:`plain_markdown`."""
    ctx = MarkdownContext(difficulty=dict(difficulty or {}))
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    for m in _EQ_LABEL.finditer(text):
        ctx.equations.setdefault(m.group("label"), len(ctx.equations) + 1)
    for m in re.finditer(r"^(`{3,}|:{3,})\{exercise\}[ \t]*(.*)\n:label:[ \t]*(\S+)", text, re.M):
        ctx.titles[m.group(3)] = m.group(2).strip()
    for m in re.finditer(r"^\(([\w:.-]+)\)=[ \t]*\n#+[ \t]*(.+)$", text, re.M):
        ctx.titles[m.group(1)] = m.group(2).strip()
    if bib is not None:
        ctx.citations = _bib_citations(Path(bib))
    return ctx


def _cite(role: str, keys: str, ctx: MarkdownContext) -> str:
    found = [ctx.citations.get(k.strip(), (k.strip(), "")) for k in keys.split(",") if k.strip()]
    if role in ("cite:t", "cite:ts"):
        return "; ".join(f"{who} ({year})" if year else who for who, year in found)
    return "(" + "; ".join(f"{who} {year}".strip() for who, year in found) + ")"


def _role(m: re.Match, ctx: MarkdownContext) -> str:
    role, content = m.group("role"), m.group("content")
    if role == "eq":
        number = ctx.equations.get(content.strip())
        return f"({number})" if number else f"({content})"
    if role == "math":
        return f"${content}$"
    if role.startswith("cite"):
        return _cite(role, content, ctx)
    explicit = _EXPLICIT.match(content)
    if explicit:
        return explicit.group("text")
    if role in ("ref", "numref", "doc"):
        title = ctx.titles.get(content.strip())
        if title:
            return f"“{_strip_stars(title)}”"
        if role == "doc":
            return Path(content).name
    return content


def _strip_stars(title: str) -> str:
    return re.sub(r"\s*\(?[★☆]+\)?\s*$", "", title).strip()


def _quote(text: str) -> str:
    return "\n".join("> " + line if line.strip() else ">" for line in text.strip("\n").split("\n"))


def _convert_blocks(lines: list[str], ctx: MarkdownContext) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(lines):
        m = _DIRECTIVE.match(lines[i])
        if not m:
            out.append(lines[i])
            i += 1
            continue
        fence = m.group("fence")
        close = re.compile(rf"^{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        j = i + 1
        while j < len(lines) and not close.match(lines[j]):
            j += 1
        body = lines[i + 1 : j]
        options = {}
        while body and re.match(r"^:[\w-]+:", body[0]):
            key, _, value = body.pop(0)[1:].partition(":")
            options[key] = value.strip()
        out += _render(m.group("name"), m.group("arg"), options, body, ctx)
        i = j + 1
    return out


def _render(name, arg, options, body, ctx) -> list[str]:
    inner = "\n".join(_convert_blocks(body, ctx)).strip("\n")
    if name in ("solution", "solution-start", "solution-end"):
        return []
    if name == "exercise":
        label = options.get("label", "")
        stars = ctx.difficulty.get(label, "")
        title = arg.strip()
        if stars and not re.search(r"[★☆]", title):
            title = f"{title} ({stars})"
        return [f"### Exercise: {title}", "", inner, ""]
    if name == "math":
        number = ctx.equations.get(options.get("label", ""))
        tag = f" \\tag{{{number}}}" if number else ""
        return ["$$", inner + tag, "$$"]
    if name in ("code-block", "code", "sourcecode", "code-cell"):
        return [f"```{arg}", "\n".join(body), "```"]
    if name == "figure" or name == "image":
        alt = options.get("alt", inner.split("\n")[0] if inner else "")
        return [f"![{alt}]({arg})", "", inner] if name == "figure" else [f"![{alt}]({arg})"]
    title = arg.strip() if name == "admonition" else (arg.strip() or name.capitalize())
    text = f"**{title}**\n\n{inner}" if inner else f"**{title}**"
    return [_quote(text), ""]


def plain_markdown(markdown: str, ctx: MarkdownContext | None = None) -> str:
    """MyST Markdown as plain Jupyter Markdown (what JupyterLab, Colab and nbviewer render).

    ``{exercise}`` blocks become a heading "### Exercise: title (stars)", admonitions a block
    quote under a bold title, numbered equations ``$$ … $$ (label)`` get ``\\tag{n}`` and
    ``{eq}`label``` becomes "(n)", citations "(Author year)", cross-references the title they
    point to; solutions are dropped. ``$…$`` and ``$$…$$`` stay as they are.
    """
    ctx = ctx or MarkdownContext()
    text = _TARGET.sub("", markdown)

    def tag(m: re.Match) -> str:
        number = ctx.equations.get(m.group("label"))
        return f"\\tag{{{number}}}\n{m.group('close').strip()}" if number else m.group("close")

    text = _EQ_LABEL.sub(tag, text)
    text = "\n".join(_convert_blocks(text.split("\n"), ctx))
    text = _ROLE.sub(lambda m: _role(m, ctx), text)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n") + "\n"


def _clear(cell) -> None:
    if cell.cell_type == "code":
        cell.outputs = []
        cell.execution_count = None


def _add_tag(cell, tag: str) -> None:
    tags = cell.metadata.setdefault("tags", [])
    if tag not in tags:
        tags.append(tag)


def _banner(chapter: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_markdown_cell(
        f"**Student version of *{chapter}*.** The solutions are removed. Fill in each function "
        "that raises `NotImplementedError` and run the check cell after it: it tells you what is "
        "right or what to fix. The checks and the cells that need an answer may raise an error "
        "until you are done; *Run All* carries on past them."
    )


def _remaining_cells(nb, exercises):
    """Cells that stay in every version: everything except the solution blocks."""
    drop = set()
    for ex in exercises.values():
        drop.update(range(ex.start, ex.end + 1))
    return [(i, cell) for i, cell in enumerate(nb.cells) if i not in drop]


class _Names(ast.NodeVisitor):
    """Names a cell reads anywhere, and names it binds at the notebook's top level."""

    def __init__(self):
        self.loaded, self.bound, self._depth = set(), set(), 0

    def visit_Name(self, node):
        if isinstance(node.ctx, ast.Load):
            self.loaded.add(node.id)
        elif self._depth == 0:
            self.bound.add(node.id)

    def _scope(self, node):
        if self._depth == 0 and not isinstance(node, ast.Lambda):
            self.bound.add(node.name)
        self._depth += 1
        self.generic_visit(node)
        self._depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = visit_Lambda = _scope

    def visit_Import(self, node):
        self.bound.update((a.asname or a.name).split(".")[0] for a in node.names)

    visit_ImportFrom = visit_Import


def _names(source: str) -> _Names:
    names = _Names()
    try:
        names.visit(ast.parse(source))
    except SyntaxError:  # IPython magics: no names we can see
        pass
    return names


def unguarded_uses(nb) -> list[str]:
    """Cells of the student notebook that need an answer but are not guarded.

    A name is *unanswered* in the student notebook when only a stub, a removed solution cell or a
    guarded cell (a check, or a cell tagged as using an answer) binds it: calling it raises
    ``NotImplementedError``, or it is not defined at all. Every other code cell that reads an
    unanswered name, directly or inside a function it defines, fails on Run All of the student
    notebook without being guarded; this returns one line per such cell (empty: none). A plain
    cell that binds the name again makes it answered again.
    """
    exercises = coding_exercises(nb)
    kept = {i for i, _ in _remaining_cells(nb, exercises)}
    stubs = {ex.stub for ex in exercises.values()}
    guarded = {i for ex in exercises.values() for i in ex.checks + ex.uses}
    unanswered: set[str] = set()
    problems = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        names = _names(cell.source)
        if index not in kept or index in stubs or index in guarded:
            unanswered |= names.bound
            continue
        needs = names.loaded & unanswered
        if needs:
            problems.append(
                f"cell {index} uses {sorted(needs)}, which the student notebook defines only "
                "with an answer: tag the cell exercise-uses-answer (or move it into the solution)"
            )
        unanswered -= names.bound
    return problems


def _context(nb, ctx):
    return ctx if ctx is not None else markdown_context(nb, _default_bib())


def _default_bib() -> Path | None:
    """``references.bib`` of the repository the package runs from (None when installed)."""
    bib = Path(__file__).resolve().parents[3] / "references.bib"
    return bib if bib.exists() else None


def _chapter_title(nb, fallback: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            m = re.search(r"^#\s+(.+)$", cell.source, re.M)
            if m:
                return m.group(1).strip()
    return fallback


def student_version(nb, chapter: str = "chapter", ctx: MarkdownContext | None = None):
    """The student notebook: stubs, no solutions, answer-dependent cells guarded, plain Markdown."""
    nb = copy.deepcopy(nb)
    exercises = coding_exercises(nb)
    ctx = _context(nb, ctx)
    guarded = {i for ex in exercises.values() for i in ex.checks + ex.uses}
    cells = []
    for index, cell in _remaining_cells(nb, exercises):
        if cell.cell_type == "markdown":
            cell.source = plain_markdown(strip_pen_and_paper_solutions(cell.source), ctx)
        elif index in guarded:
            _add_tag(cell, RAISES)
            _clear(cell)
        cells.append(cell)
    # the banner goes after the title
    first = 1 if cells and cells[0].cell_type == "markdown" else 0
    cells.insert(first, _banner(_chapter_title(nb, chapter)))
    nb.cells = cells
    return nb


def definitions_only(source: str) -> bool:
    """Whether a code cell only imports, defines functions or classes, or assigns literals.

    Such cells are cheap, and a student's answer may use what they define, so grading runs
    them; every other cell of the chapter (a simulation, a figure) it skips.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef)):
            continue
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            try:
                ast.literal_eval(node.value)
                continue
            except ValueError:
                return False
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue
        return False
    return True


def stub_with_solution(stub: str, solution: str) -> str:
    """The nbgrader solution cell: the stub, then the solution in nbgrader's solution region.

    With ``ClearSolutions.code_stub = {"python": ""}`` (:func:`memlab.exercises.grading.configure`)
    the released cell is the chapter's stub, with its "Exercise: ..." message. Run as a whole,
    the cell defines the stub and then the solution under the same name.
    """
    return "\n".join(
        [stub.rstrip(), "### BEGIN SOLUTION", "", "", solution.strip("\n"), "### END SOLUTION"]
    )


def nbgrader_version(
    nb, chapter: str = "chapter", points: int = 1, ctx: MarkdownContext | None = None
):
    """The nbgrader source notebook: solution regions, visible and hidden tests, plain Markdown.

    No banner (nbgrader releases every cell of it to the students): where it comes from is in
    the notebook's metadata ``memlab.generated_from``.
    """
    nb = copy.deepcopy(nb)
    exercises = coding_exercises(nb)
    ctx = _context(nb, ctx)
    by_stub = {ex.stub: ex for ex in exercises.values()}
    checks = {i: ex for ex in exercises.values() for i in ex.checks}
    uses = {i for ex in exercises.values() for i in ex.uses}
    setup = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code"), None)
    cells = []
    for index, cell in _remaining_cells(nb, exercises):
        if cell.cell_type == "markdown":
            cell.source = plain_markdown(strip_pen_and_paper_solutions(cell.source), ctx)
        elif index in by_stub:
            ex = by_stub[index]
            cell.source = stub_with_solution(cell.source, nb.cells[ex.solutions[0]].source)
            cell.metadata["nbgrader"] = _nbgrader_meta(f"{ex.label}-solution", solution=True)
            _clear(cell)
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
            _add_tag(cell, RAISES)
            _clear(cell)
        elif index in uses:
            _add_tag(cell, RAISES)
            cell.metadata[GRADING_KEY] = {"grading": "skip"}
            _clear(cell)
        elif cell.cell_type == "code" and index != setup and not definitions_only(cell.source):
            cell.metadata[GRADING_KEY] = {"grading": "skip"}
        cells.append(cell)
    nb.cells = cells
    nb.metadata[GRADING_KEY] = {
        "generated_from": f"{chapter}.ipynb",
        "note": "generated by python -m memlab.exercises.build; edit the chapter, not this file",
    }
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
DEFAULT_COURSE_ID = "memory-and-learning"
CONFIG_HOOK = "from memlab.exercises.grading import configure"

NBGRADER_CONFIG = """\
# nbgrader course directory for the book's assignments (written by memlab.exercises.build, which
# never overwrites it: edit it freely). configure() sets what the generated notebooks need: the
# stubs keep their "Exercise: ..." message, released notebooks keep their figures, a 10-minute
# cell timeout, and grading runs only the cells an answer needs (see instructors.md).
import os

from memlab.exercises.grading import configure

c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "{course_id}"
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))

configure(c)
"""


def write_config(course: Path, course_id: str | None = None) -> bool:
    """Write ``course/nbgrader_config.py`` unless it exists; return whether it was written."""
    config = Path(course) / "nbgrader_config.py"
    if config.exists():
        return False
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(NBGRADER_CONFIG.format(course_id=course_id or DEFAULT_COURSE_ID))
    return True


def assignment_name(path: Path) -> str:
    """The nbgrader assignment of chapter ``NN_topic.ipynb``: ``chNN``."""
    return f"ch{Path(path).name[:2]}"


def build_chapter(
    path: Path, out: Path, *, course: Path | None = None, ctx: MarkdownContext | None = None
) -> list[Path]:
    """Write the student and nbgrader versions of the chapter at ``path``; return the paths.

    ``out`` receives ``student/NN_topic.ipynb``; the course directory ``course`` (default
    ``out/nbgrader``) receives ``source/chNN/NN_topic.ipynb`` and, if it has none yet,
    ``nbgrader_config.py``.
    """
    path = Path(path)
    course = Path(course) if course is not None else Path(out) / "nbgrader"
    nb = nbformat.read(path, as_version=4)
    ctx = ctx if ctx is not None else markdown_context(nb, _default_bib())
    (Path(out) / "student").mkdir(parents=True, exist_ok=True)
    student = Path(out) / "student" / path.name
    nbformat.write(student_version(nb, path.stem, ctx), student)
    assignment = course / "source" / assignment_name(path)
    assignment.mkdir(parents=True, exist_ok=True)
    source = assignment / path.name
    nbformat.write(nbgrader_version(nb, path.stem, ctx=ctx), source)
    write_config(course)
    return [student, source]


def chapter_paths(chapters: Path) -> list[Path]:
    """The chapter notebooks ``NN_topic.ipynb`` of a directory, in order."""
    return sorted(Path(chapters).glob("[0-9][0-9]_*.ipynb"))


def build(chapters: Path, out: Path, *, course: Path | None = None) -> list[Path]:
    """Write the student and nbgrader versions of every chapter; return the written paths."""
    written = []
    for path in chapter_paths(chapters):
        written += build_chapter(path, out, course=course)
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
        "For a course directory that survives `make clean`: make course DIR=... (instructors.md)"
    )


if __name__ == "__main__":
    main()
