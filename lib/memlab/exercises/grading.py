"""nbgrader settings for the book's course directories (loaded by their ``nbgrader_config.py``).

:func:`configure` sets, on nbgrader's configuration object ``c``:

- ``ClearSolutions.code_stub = ""``: the builder puts each solution after the chapter's stub
  (:func:`memlab.exercises.build.stub_with_solution`), so the released cell is the stub itself,
  with its ``NotImplementedError("Exercise: ...")`` message;
- ``generate_assignment`` without ``ClearOutput``: the released notebook keeps the chapter's
  figures and printed results (the builder has already cleared the exercise cells' outputs);
- ``autograde`` with :class:`SkipChapterCells` before execution: the cells the builder marked
  ``{"memlab": {"grading": "skip"}}`` (the chapter's simulations and figures, and the cells that
  only use an answer) are not run, so grading one submission costs the setup cell, the cells a
  student added, the answers and the checks, not the whole chapter;
- ``autograde`` with :class:`RestoreHiddenTests` before nbgrader's ``OverwriteCells``: no false
  "checksum has changed" warning for test cells with hidden tests;
- cell timeouts of 10 minutes, and 60 s (not nbclient's 4 s) for a cell's last output.

This module imports nbgrader: only the instructors' environment needs it.
"""

from __future__ import annotations

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import ClearOutput, Execute, NbGraderPreprocessor, OverwriteCells

from .build import GRADING_KEY, SKIP_EXECUTION

__all__ = ["RestoreHiddenTests", "SkipChapterCells", "configure"]


class SkipChapterCells(NbGraderPreprocessor):
    """Tag the cells an answer does not need ``skip-execution``; untag every other cell.

    A cell is skipped when the builder marked it and it is not one of nbgrader's cells (answers
    and tests always run). The tag is removed from every other cell, so a submission cannot skip
    a test cell by tagging it (nbclient honours the tag for any cell).
    """

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        tags = [t for t in cell.metadata.get("tags", []) if t != SKIP_EXECUTION]
        nbgrader = cell.metadata.get("nbgrader", {})
        marked = cell.metadata.get(GRADING_KEY, {}).get("grading") == "skip"
        if marked and not (nbgrader.get("grade") or nbgrader.get("solution")):
            tags.append(SKIP_EXECUTION)
        if tags or "tags" in cell.metadata:
            cell.metadata["tags"] = tags
        return cell, resources


def _without_hidden_tests(source: str) -> str:
    """A test cell's source as released: the hidden-test region removed (as ClearHiddenTests)."""
    kept, hidden = [], False
    for line in source.split("\n"):
        if "BEGIN HIDDEN TESTS" in line:
            hidden = True
        elif "END HIDDEN TESTS" in line:
            hidden = False
        elif not hidden:
            kept.append(line)
    return "\n".join(kept).strip()


class RestoreHiddenTests(NbGraderPreprocessor):
    """Before nbgrader's OverwriteCells: put the hidden tests back into unchanged test cells.

    nbgrader compares a locked test cell's checksum with the source's, which includes the hidden
    tests that the release removed: every test cell with hidden tests is reported as changed
    ("Attribute 'checksum' for cell ... has changed!") for every student, although nothing was
    edited. A cell whose text is exactly the released one gets the source's text back here, so
    the warning is left for cells a student did change (nbgrader restores those anyway).
    """

    def preprocess(self, nb, resources):
        self._info = resources["nbgrader"]
        with Gradebook(self._info["db_url"]) as self._gradebook:
            return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or not (meta.get("grade") and meta.get("locked")):
            return cell, resources
        try:
            source = self._gradebook.find_source_cell(
                meta["grade_id"], self._info["notebook"], self._info["assignment"]
            ).source
        except (MissingEntry, KeyError):
            return cell, resources
        if cell.source.strip() == _without_hidden_tests(source):
            cell.source = source
        return cell, resources


def configure(c, *, skip_chapter_cells: bool = True, timeout: int = 600) -> None:
    """Apply the book's nbgrader settings to the configuration ``c`` (see the module's text).

    ``skip_chapter_cells=False`` grades by running every cell of the submitted notebook.
    """
    from nbgrader.converters.autograde import Autograde
    from nbgrader.converters.generate_assignment import GenerateAssignment

    c.ClearSolutions.code_stub = {"python": ""}
    c.ExecutePreprocessor.timeout = timeout
    c.Execute.timeout = timeout
    # nbclient waits 4 s for a cell's last output after its reply, then fails the cell: on a
    # loaded machine that fails correct submissions at random
    c.Execute.iopub_timeout = 60
    c.GenerateAssignment.preprocessors = [
        p
        for p in GenerateAssignment.class_traits()["preprocessors"].default()
        if p is not ClearOutput
    ]
    steps = list(Autograde.class_traits()["autograde_preprocessors"].default())
    if skip_chapter_cells:
        steps.insert(steps.index(Execute), SkipChapterCells)
    c.Autograde.autograde_preprocessors = steps
    sanitize = list(Autograde.class_traits()["sanitize_preprocessors"].default())
    sanitize.insert(sanitize.index(OverwriteCells), RestoreHiddenTests)
    c.Autograde.sanitize_preprocessors = sanitize
