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


def test_there_are_chapters():
    assert CHAPTERS, "no notebooks found in chapters/"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_notebook_fully_executed_in_order(path):
    nb = nbformat.read(path, as_version=4)
    counts = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        assert cell.execution_count is not None, f"{path.name}: code cell {index} was never executed"
        counts.append(cell.execution_count)
        for out in cell.outputs:
            assert out.output_type != "error", f"{path.name}: cell {index} stores an error: {out.get('ename')}"
            if out.output_type == "stream":
                assert out.name != "stderr", f"{path.name}: cell {index} stores stderr output: {out.text[:200]!r}"
    assert counts == list(range(1, len(counts) + 1)), (
        f"{path.name}: execution counts are not 1..n in order (run the notebook top to bottom): {counts}"
    )


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_colab_install_line_uses_the_configured_repository(path):
    """The repository URL lives in _config.yml; the Colab setup line must match it."""
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    nb = nbformat.read(path, as_version=4)
    sources = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    found = set(re.findall(r"git\+(https://[^\"'\s#@]+)", sources))
    assert found <= {url, url + ".git"}, f"{path.name}: Colab install points to {found}, config says {url}"
