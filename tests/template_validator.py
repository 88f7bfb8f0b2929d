"""Load ``scripts/validate_template.py`` (not a package) for the template tests."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def load_validator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "validate_template", ROOT / "scripts" / "validate_template.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
