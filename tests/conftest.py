"""Shared fixtures and the test run's organisation.

- Markers (registered in pyproject.toml): ``notebooks`` for nbval's items (every cell of
  ``chapters/*.ipynb``, marked here), ``browser`` (needs Chromium), ``assignments`` (needs
  nbgrader), ``slow``. ``make test-fast`` deselects all four.
- pytest-xdist (``make test`` runs ``-n auto``): tests that depend on each other form one work
  unit (:func:`work_unit`), which one worker runs in order; the units go out largest first.
- :func:`require_tool`: a test that needs a tool that is missing skips with a message saying how
  to install it; under ``make test`` (``MEMLAB_REQUIRE_ALL=1``) it fails with that message.
- ``book_build``: the strictly built book (from stored notebook outputs).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
TEST_BUILD = ROOT / "_build" / "test"
REQUIRE_ALL = os.environ.get("MEMLAB_REQUIRE_ALL", "") not in ("", "0")


def require_tool(found: bool, message: str) -> None:
    """Skip (fail under ``MEMLAB_REQUIRE_ALL=1``, as ``make test`` sets) unless ``found``.

    ``message`` says what is missing and how to install it.
    """
    if found:
        return
    if REQUIRE_ALL:
        pytest.fail(message + " (MEMLAB_REQUIRE_ALL=1: every test must run)", pytrace=False)
    pytest.skip(message)


def pytest_collection_modifyitems(config, items):
    """Mark nbval's items (the cells of the chapter notebooks) ``notebooks``."""
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.notebooks)


def work_unit(nodeid: str) -> str:
    """The pytest-xdist work unit of a test: one worker runs a unit's tests, in order.

    - the cells of one notebook (nbval runs them in one kernel, each needs the ones before);
    - test_book_build.py (one book build and one browser for all its tests);
    - the tests of test_assignments.py for one chapter (one nbgrader run of the chapter);
    - any other test on its own.

    (pytest-xdist's own ``--dist loadgroup`` with ``xdist_group`` marks does not group tests
    under pytest 9.2: pytest-dev/pytest-xdist#1386.)
    """
    path = nodeid.split("::", 1)[0]
    if path.endswith(".ipynb") or path.endswith("test_book_build.py"):
        return path
    chapter = re.search(r"\[(\d\d_\w+)\.ipynb\]$", nodeid)
    if path.endswith("test_assignments.py") and chapter:
        return f"{path}::{chapter.group(1)}"
    return nodeid


LONGEST_UNITS = ("tests/test_book_build.py", "chapters/03_dmft.ipynb")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """``-n N`` (``--dist load``): schedule by :func:`work_unit`, the largest units first.

    Largest means :data:`LONGEST_UNITS` first, then by number of tests (xdist's order).
    """
    if config.getvalue("dist") not in ("load", "loadgroup"):
        return None
    from xdist.scheduler import LoadScopeScheduling

    class WorkUnitScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

        def _assign_work_unit(self, node) -> None:
            # The longest units first, so that neither worker is left with one at the end:
            # the book build and browser test (about 45 s, few tests, so xdist's own order,
            # by number of tests, would start it late) and Chapter 3 (the longest chapter).
            for scope in reversed(LONGEST_UNITS):
                if scope in self.workqueue:
                    self.workqueue.move_to_end(scope, last=False)
            super()._assign_work_unit(node)

    return WorkUnitScheduling(config, log)


@pytest.fixture(scope="session")
def book_build():
    """Build the book with ``-n -W --keep-going`` from the notebooks' stored outputs.

    nbval already re-executes every chapter and compares it with the stored outputs, so
    the build here renders exactly what is committed (``execute_notebooks: off``) and
    checks that Sphinx has nothing to warn about. All tests using it are in one xdist work
    unit, so one worker builds once.
    """
    jb = Path(sys.executable).with_name("jupyter-book")
    require_tool(
        jb.exists(),
        f"jupyter-book is not installed ({jb} not found): `make setup` (or .venv/bin/pip install "
        "-r requirements/dev.txt) installs it",
    )
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    config["execute"]["execute_notebooks"] = "off"
    TEST_BUILD.mkdir(parents=True, exist_ok=True)
    test_config = TEST_BUILD / "_config_test.yml"
    test_config.write_text(yaml.safe_dump(config))
    proc = subprocess.run(
        [
            str(jb),
            "build",
            str(ROOT),
            "--config",
            str(test_config),
            "--path-output",
            str(TEST_BUILD),
            "--all",
            "-n",
            "-W",
            "--keep-going",
            "--builder",
            "html",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return proc, TEST_BUILD / "_build" / "html"
