"""Pins of shared/requirements.txt (the layer), pyproject.toml and requirements-dev.lock agree."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _project() -> dict[str, list[str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {"runtime": project["dependencies"], "dev": project["optional-dependencies"]["dev"]}


def _layer() -> list[str]:
    return [
        line.strip()
        for line in (ROOT / "shared" / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]


def _name(pin: str) -> tuple[str, str]:
    name, version = re.sub(r"\[.*\]", "", pin).split("==")
    return name.strip().lower().replace("_", "-"), version.strip()


def test_given_layer_requirements_when_compared_with_pyproject_then_identical():
    assert sorted(_layer()) == sorted(_project()["runtime"])


def test_given_pyproject_pins_when_compared_with_lock_then_every_pin_is_locked():
    lock = dict(
        _name(line)
        for line in (ROOT / "requirements-dev.lock").read_text().splitlines()
        if "==" in line and not line.lstrip().startswith("#")
    )
    project = _project()
    for pin in project["runtime"] + project["dev"] + _layer():
        name, version = _name(pin)
        assert lock.get(name) == version, pin
