"""The library's API contract, checked over every public module's ``__all__``.

- every public function has a numpy-style docstring with Parameters (if it takes any) and
  Returns sections;
- a random generator is always passed by keyword (``rng`` is keyword-only);
- results with several parts are NamedTuples, not bare tuples;
- no module imports another module's private names (the private shared layers
  ``_validation``, ``_threads`` and ``_common`` are the only private imports);
- the package imports and builds assignments under ``python -OO`` (docstrings stripped).
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import subprocess
import sys
import typing
from pathlib import Path

import pytest

LIB = Path(__file__).resolve().parents[1] / "lib" / "memlab"
MODULES = [
    "hopfield",
    "dense",
    "dmft",
    "kernel",
    "plasticity",
    "local_learning",
    "surprise",
    "images",
    "populations",
    "glm_fitting",
    "landscape",
]
SHARED_PRIVATE = {"memlab._validation", "memlab._threads", "memlab._common"}


def public_functions():
    for name in MODULES:
        module = importlib.import_module(f"memlab.{name}")
        for attr in module.__all__:
            obj = getattr(module, attr)
            if inspect.isfunction(obj):
                yield pytest.param(obj, id=f"{name}.{attr}")


def public_classes():
    for name in MODULES:
        module = importlib.import_module(f"memlab.{name}")
        for attr in module.__all__:
            obj = getattr(module, attr)
            if inspect.isclass(obj):
                yield pytest.param(obj, id=f"{name}.{attr}")


PUBLIC_FUNCTIONS = list(public_functions())
PUBLIC_CLASSES = list(public_classes())


def _section(doc: str, title: str) -> bool:
    return re.search(rf"^\s*{title}\s*\n\s*-{{{len(title)}}}\s*$", doc, re.MULTILINE) is not None


def test_every_module_declares_its_public_names():
    for name in MODULES:
        module = importlib.import_module(f"memlab.{name}")
        assert module.__all__, f"memlab.{name} has an empty __all__"
        for attr in module.__all__:
            assert hasattr(module, attr), f"memlab.{name}.__all__ names missing {attr!r}"


@pytest.mark.parametrize("function", PUBLIC_FUNCTIONS)
def test_public_function_has_numpy_docstring(function):
    doc = inspect.getdoc(function) or ""
    assert doc.strip(), f"{function.__qualname__} has no docstring"
    if inspect.signature(function).parameters:
        assert _section(doc, "Parameters"), f"{function.__qualname__}: no 'Parameters' section"
    assert _section(doc, "Returns") or _section(doc, "Yields"), (
        f"{function.__qualname__}: no 'Returns' section"
    )


@pytest.mark.parametrize("function", PUBLIC_FUNCTIONS)
def test_rng_is_keyword_only(function):
    parameters = inspect.signature(function).parameters
    for name, parameter in parameters.items():
        if name == "rng" or name.endswith("_rng"):
            assert parameter.kind is inspect.Parameter.KEYWORD_ONLY, (
                f"{function.__qualname__}: '{name}' must be keyword-only (def f(..., *, rng))"
            )


@pytest.mark.parametrize("function", PUBLIC_FUNCTIONS)
def test_no_bare_tuple_results(function):
    annotation = inspect.signature(function).return_annotation
    text = annotation if isinstance(annotation, str) else repr(annotation)
    assert not re.match(r"^(typing\.)?[Tt]uple\b", text.strip()), (
        f"{function.__qualname__} is annotated to return a bare tuple ({text}); return a NamedTuple"
    )
    if isinstance(annotation, type) and issubclass(annotation, tuple):
        assert hasattr(annotation, "_fields"), f"{function.__qualname__} returns a plain tuple"


@pytest.mark.parametrize("cls", PUBLIC_CLASSES)
def test_public_class_is_documented(cls):
    assert (inspect.getdoc(cls) or "").strip(), f"{cls.__qualname__} has no docstring"
    if issubclass(cls, tuple):
        assert hasattr(cls, "_fields"), f"{cls.__qualname__} is a tuple but not a NamedTuple"


def _private_imports(path: Path) -> list[str]:
    found = []
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:  # relative import: resolve against the package
                module = "memlab." + module if module else "memlab"
            if not module.startswith("memlab") or module in SHARED_PRIVATE:
                continue
            for alias in node.names:
                full = f"{module}.{alias.name}"
                if alias.name.startswith("_") and full not in SHARED_PRIVATE:
                    found.append(f"from {module} import {alias.name}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "memlab" and any(p.startswith("_") for p in parts[1:]):
                    if alias.name not in SHARED_PRIVATE:
                        found.append(f"import {alias.name}")
    return found


def test_no_module_imports_another_modules_private_names():
    offences = {}
    for path in sorted(LIB.rglob("*.py")):
        found = _private_imports(path)
        if found:
            offences[str(path.relative_to(LIB))] = found
    assert not offences, f"private names imported across modules: {offences}"


def test_private_import_detector_finds_offences(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from memlab.dense import _double_factorial\n"
        "from memlab import _kernel_kernels\n"
        "from memlab._validation import check_int\n"
    )
    assert _private_imports(bad) == [
        "from memlab.dense import _double_factorial",
        "from memlab import _kernel_kernels",
    ]


@pytest.mark.slow
def test_package_imports_without_docstrings(tmp_path):
    """``python -OO`` strips docstrings; nothing may depend on them at import or build time.

    Runs what ``make assignments`` runs (the builder's command line) on every chapter.
    """
    modules = ", ".join(f"memlab.{m}" for m in MODULES)
    chapters = str(LIB.parents[1] / "chapters")
    code = (
        f"import {modules}, memlab.exercises.build as b\n"
        f"b.main(['--chapters', {chapters!r}, '--out', {str(tmp_path)!r}])\n"
    )
    proc = subprocess.run(
        [sys.executable, "-OO", "-c", code], capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert sorted(p.name for p in (tmp_path / "student").glob("*.ipynb")) == sorted(
        p.name for p in Path(chapters).glob("*.ipynb")
    )


def test_namedtuple_helper_is_what_the_checks_assume():
    class Pair(typing.NamedTuple):
        a: int
        b: int

    assert hasattr(Pair, "_fields") and issubclass(Pair, tuple)
