"""Dependencies run one way: atlas <- layers <- front doors (app.py, cli/); only front doors
import streamlit.

Each .py file under atlas/ and layers/ is parsed and every import in it is checked:
top-level and inside functions, ``import x``, ``from x import y``, relative imports
(resolved against the file's package) and ``importlib.import_module("x")`` /
``__import__("x")`` with a literal name. A failure lists each offending file:line.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: package folder -> top-level modules it must never import.
FORBIDDEN: dict[str, frozenset[str]] = {
    "atlas": frozenset({"layers", "streamlit", "cli", "app", "front"}),
    "layers": frozenset({"streamlit", "cli", "app", "front"}),
}


def imported_modules(path: Path, root: Path = ROOT) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) for every import in the file at ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = list(path.relative_to(root).parts[:-1])  # atlas/readers/acled.py -> atlas.readers
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: stays inside its own package
                base = package[: len(package) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            yield node.lineno, module
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            arg = node.args[0]
            if name in {"import_module", "__import__"} and isinstance(arg, ast.Constant):
                if isinstance(arg.value, str) and not arg.value.startswith("."):
                    yield node.lineno, arg.value


def violations(package: str, root: Path = ROOT) -> list[str]:
    """``file:line imports X`` for each forbidden import under ``package``/."""
    banned = FORBIDDEN[package]
    found = []
    for path in sorted((root / package).rglob("*.py")):
        for line, module in imported_modules(path, root):
            if module.split(".", 1)[0] in banned:
                found.append(f"{path.relative_to(root)}:{line} imports {module}")
    return sorted(set(found))


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_run_one_way(package: str) -> None:
    bad = violations(package)
    assert not bad, (
        f"{package}/ must not import {', '.join(sorted(FORBIDDEN[package]))}:\n" + "\n".join(bad)
    )


def test_checker_sees_every_import_form(tmp_path: Path) -> None:
    """Nested, from- and importlib imports are caught; relative ones stay in their package."""
    pkg = tmp_path / "atlas" / "sub"
    pkg.mkdir(parents=True)
    (tmp_path / "atlas" / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "mod.py").write_text(
        "import os\n"
        "def f():\n"
        "    import streamlit as st\n"
        "    from layers.export import export\n"
        "    from .. import layers  # atlas.layers, not the top-level package\n"
        "    from cli import main\n"
        "    importlib.import_module('layers.style')\n"
        "import app\n"
    )
    assert violations("atlas", root=tmp_path) == [
        "atlas/sub/mod.py:3 imports streamlit",
        "atlas/sub/mod.py:4 imports layers.export",
        "atlas/sub/mod.py:6 imports cli",
        "atlas/sub/mod.py:7 imports layers.style",
        "atlas/sub/mod.py:8 imports app",
    ]
