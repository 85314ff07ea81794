"""Style: ruff's lint and format checks over the library, tests, benchmarks and chapters.

The configuration is ruff's own: ``[tool.ruff]`` in pyproject.toml (100 columns) and
chapters/ruff.toml (79 columns for chapter code, which the HTML book shows without a scroll bar).
``ruff check --fix`` and ``ruff format`` repair most findings.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, require_tool

RUFF = Path(sys.executable).with_name("ruff")
PATHS = ["lib", "tests", "benchmarks", "chapters"]
COMMANDS = {"lint": ["check", "--no-fix"], "format": ["format", "--check"]}


def ruff(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    require_tool(
        RUFF.exists(),
        f"ruff is not installed ({RUFF} not found): `make setup` (or .venv/bin/pip install -r "
        "requirements/dev.txt) installs it",
    )
    return subprocess.run(
        [str(RUFF), *args, "--no-cache"], cwd=cwd, capture_output=True, text=True, timeout=300
    )


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("command", COMMANDS)
def test_ruff(command, path):
    proc = ruff(*COMMANDS[command], path)
    assert proc.returncode == 0, (
        f"ruff {' '.join(COMMANDS[command])} {path}:\n{proc.stdout[-6000:]}{proc.stderr[-2000:]}"
    )


def test_ruff_finds_what_it_should(tmp_path):
    """The checks can fail: chapter code gets 79 columns, and unused imports are reported."""
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    chapters = tmp_path / "chapters"
    chapters.mkdir()
    (chapters / "ruff.toml").write_text((ROOT / "chapters" / "ruff.toml").read_text())
    line = "x = " + " + ".join(["1"] * 22)  # 89 columns: too long in a chapter only
    assert 79 < len(line) <= 100
    (chapters / "bad.py").write_text(f"import os\n\n{line}\n")
    (tmp_path / "fine.py").write_text(f"{line}\n")
    lint = ruff("check", "--no-fix", ".", cwd=tmp_path)
    assert lint.returncode == 1, lint.stdout
    assert "F401" in lint.stdout and "E501" in lint.stdout, lint.stdout
    assert "fine.py" not in lint.stdout, lint.stdout
    fmt = ruff("format", "--check", ".", cwd=tmp_path)
    assert fmt.returncode == 1 and "bad.py" in fmt.stdout, fmt.stdout
    assert "fine.py" not in fmt.stdout, fmt.stdout
