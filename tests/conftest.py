"""Shared fixtures and the test run's organisation.

- Markers (registered in pyproject.toml): ``notebooks`` for nbval's items (every cell of
  ``chapters/*.ipynb``, marked here), ``browser`` (needs Chromium), ``assignments`` (needs
  nbgrader), ``slow``. ``make test-fast`` deselects all four.
- pytest-xdist (``make test`` runs ``-n auto --dist loadgroup``): a notebook's cells depend on
  each other, so all items of one notebook form one ``xdist_group`` and run in order in one
  worker; test files mark their own groups (one per chapter's assignment, one for the book).
- :func:`require_tool`: a test that needs a tool that is missing skips with a message saying how
  to install it; under ``make test`` (``MEMLAB_REQUIRE_ALL=1``) it fails with that message.
- ``book_build``: the strictly built book (from stored notebook outputs).
"""

from __future__ import annotations

import os
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


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Mark nbval's items ``notebooks`` and keep each notebook in one xdist worker.

    tryfirst: pytest-xdist reads the ``xdist_group`` marks in its own hook of the same name.
    """
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.notebooks)
            item.add_marker(pytest.mark.xdist_group(f"notebook-{item.path.stem}"))


@pytest.fixture(scope="session")
def book_build():
    """Build the book with ``-n -W --keep-going`` from the notebooks' stored outputs.

    nbval already re-executes every chapter and compares it with the stored outputs, so
    the build here renders exactly what is committed (``execute_notebooks: off``) and
    checks that Sphinx has nothing to warn about. Tests using this fixture belong to the
    ``xdist_group("book")``, so that one worker builds once.
    """
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    config["execute"]["execute_notebooks"] = "off"
    TEST_BUILD.mkdir(parents=True, exist_ok=True)
    test_config = TEST_BUILD / "_config_test.yml"
    test_config.write_text(yaml.safe_dump(config))
    jb = Path(sys.executable).with_name("jupyter-book")
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
