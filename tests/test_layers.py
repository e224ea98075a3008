"""The package layers stack capture -> models -> inference -> app: imports only point down,
no two product files import each other (directly or in a circle), and only app/ imports Qt.

Parses the source with ``ast`` (function-level imports count too), so the check holds for
code paths the other tests never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("capture", "models", "inference", "app")  # each may import only those before it
RANK = {name: i for i, name in enumerate(LAYERS)}


def _modules() -> dict[str, Path]:
    """``package.module`` -> file, for every product module."""
    out = {}
    for pkg in LAYERS:
        for f in sorted((ROOT / pkg).rglob("*.py")):
            rel = f.relative_to(ROOT).with_suffix("")
            parts = list(rel.parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = f
    return out


def _imports(name: str, path: Path) -> list[str]:
    """Absolute names (``package.module``, without the ``sonolive.`` prefix) ``path`` imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_pkg = path.name == "__init__.py"
    here = name.split(".") if is_pkg else name.split(".")[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name.removeprefix("sonolive.") for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
                if node.module is None:  # from . import x
                    found += [".".join(filter(None, (mod, a.name))) for a in node.names]
                    continue
            else:
                mod = node.module or ""
            found.append(mod.removeprefix("sonolive."))
            found += [f"{mod.removeprefix('sonolive.')}.{a.name}" for a in node.names]
    return found


def _graph() -> dict[str, set[str]]:
    mods = _modules()
    return {
        name: {imp for imp in _imports(name, path) if imp in mods and imp != name}
        for name, path in mods.items()
    }


def test_imports_only_point_down_the_layers():
    upward = [
        f"{a} -> {b}"
        for a, deps in _graph().items()
        for b in deps
        if RANK[b.split(".")[0]] > RANK[a.split(".")[0]]
    ]
    assert not upward, "imports that point up the layers:\n" + "\n".join(sorted(upward))


def test_no_circle_between_product_files():
    graph = _graph()
    circles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the path, 2: done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                circles.append(path[path.index(dep) :] + [dep])
            elif dep not in state:
                visit(dep, path + [dep])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert not circles, "import circles:\n" + "\n".join(" -> ".join(c) for c in circles)


@pytest.mark.parametrize("layer", ["capture", "models", "inference"])
def test_only_app_imports_qt(layer):
    qt = [
        name
        for name, path in _modules().items()
        if name.startswith(layer + ".") or name == layer
        for imp in _imports(name, path)
        if imp.split(".")[0] in {"PySide6", "PyQt5", "PyQt6", "shiboken6"}
    ]
    assert not qt, f"{layer}/ must stay free of Qt: {qt}"


def test_the_check_sees_an_upward_import(tmp_path):
    """The parser resolves relative imports, so an upward one cannot slip through."""
    f = tmp_path / "x.py"
    f.write_text("from ..inference.segmenter import Segmenter\nfrom . import card\n")
    assert _imports("models.x", f)[:2] == ["inference.segmenter", "inference.segmenter.Segmenter"]
    assert "models.card" in _imports("models.x", f)
    # the absolute and package-level spellings of the same upward arrow
    f.write_text("import sonolive.inference.pipeline\nfrom .. import inference\n")
    assert _imports("models.x", f) == ["inference.pipeline", "inference"]
