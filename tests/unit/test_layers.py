"""The layer package imports only downward (shared/lifecycle, bottom first).

A module may import from its own layer and from the layers listed before it; only ``store``
touches the PynamoDB models. A new package must be placed in ``LAYERS`` to be allowed.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "shared" / "lifecycle"
LAYERS = [
    "core",
    "rules",
    "messages",
    "pages",
    "store",
    "occasions",
    "campaigns",
    "pipeline",
    "features",
    "api",
]


def _modules() -> list[Path]:
    return sorted(p for p in ROOT.rglob("*.py") if p.relative_to(ROOT).parts[0] in LAYERS)


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
    return [(line, name) for line, name in found if name.startswith("lifecycle.")]


def test_given_every_top_level_package_when_listed_then_it_has_a_layer():
    packages = {p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert packages <= set(LAYERS), f"place {sorted(packages - set(LAYERS))} in LAYERS"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_given_a_layer_module_when_its_imports_are_read_then_none_points_upward(path: Path):
    own = LAYERS.index(path.relative_to(ROOT).parts[0])
    upward = []
    for line, name in _imports(path):
        target = name.split(".")[1]
        if target in LAYERS and LAYERS.index(target) > own:
            upward.append(f"line {line}: {name}")
        if name == "lifecycle.store.models" and LAYERS[own] != "store":
            upward.append(f"line {line}: only store/ imports the PynamoDB models")
    assert not upward, upward
