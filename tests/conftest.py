"""Shared fixtures: the strictly built book (from stored notebook outputs)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
TEST_BUILD = ROOT / "_build" / "test"


@pytest.fixture(scope="session")
def book_build():
    """Build the book with ``-n -W --keep-going`` from the notebooks' stored outputs.

    nbval already re-executes every chapter and compares it with the stored outputs, so
    the build here renders exactly what is committed (``execute_notebooks: off``) and
    checks that Sphinx has nothing to warn about.
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
