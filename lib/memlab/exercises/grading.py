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
- cell timeouts of 10 minutes.

This module imports nbgrader: only the instructors' environment needs it.
"""

from __future__ import annotations

from nbgrader.preprocessors import ClearOutput, Execute, NbGraderPreprocessor

from .build import GRADING_KEY, SKIP_EXECUTION

__all__ = ["SkipChapterCells", "configure"]


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


def configure(c, *, skip_chapter_cells: bool = True, timeout: int = 600) -> None:
    """Apply the book's nbgrader settings to the configuration ``c`` (see the module's text).

    ``skip_chapter_cells=False`` grades by running every cell of the submitted notebook.
    """
    from nbgrader.converters.autograde import Autograde
    from nbgrader.converters.generate_assignment import GenerateAssignment

    c.ClearSolutions.code_stub = {"python": ""}
    c.ExecutePreprocessor.timeout = timeout
    c.Execute.timeout = timeout
    c.GenerateAssignment.preprocessors = [
        p
        for p in GenerateAssignment.class_traits()["preprocessors"].default()
        if p is not ClearOutput
    ]
    steps = list(Autograde.class_traits()["autograde_preprocessors"].default())
    if skip_chapter_cells:
        steps.insert(steps.index(Execute), SkipChapterCells)
    c.Autograde.autograde_preprocessors = steps
