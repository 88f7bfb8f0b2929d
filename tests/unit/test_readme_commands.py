"""Every runner command in the README runs as written on a fresh clone.

The README's shell blocks are read as a newcomer would copy them: continuation lines joined,
comments dropped. Each command starting with ``.venv/bin/python -m emulator`` must be accepted
by the runner's own argument parser, and every input file it names must exist in the clone.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from emulator.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
PREFIX = ".venv/bin/python -m emulator"
FILE_OPTIONS = (
    "customers",
    "campaigns",
    "orders",
    "events",
    "responses",
    "preferences",
    "policy",
)


def readme_commands(text: str) -> list[str]:
    """The commands of the README's ``bash``/``sh`` blocks that start with :data:`PREFIX`."""
    commands = []
    for block in re.findall(r"```(?:bash|sh|shell)\n(.*?)```", text, flags=re.DOTALL):
        joined = re.sub(r"\\\n\s*", " ", block)
        commands += [line.strip() for line in joined.splitlines() if line.startswith(PREFIX)]
    return commands


COMMANDS = readme_commands((ROOT / "README.md").read_text(encoding="utf-8"))


def test_given_the_readme_when_read_then_it_shows_runner_commands():
    assert len(COMMANDS) >= 4
    assert any(" simulate " in c for c in COMMANDS)
    assert any(" dry-run " in c for c in COMMANDS)


def missing_files(command: str) -> list[str]:
    """The input files ``command`` names that are not in the clone (SystemExit: not valid)."""
    argv = shlex.split(command, comments=True)[len(PREFIX.split()) :]
    args = build_parser().parse_args(argv)  # argparse exits on anything it cannot read
    named = [getattr(args, name, None) for name in FILE_OPTIONS]
    return [str(path) for path in named if path is not None and not (ROOT / path).is_file()]


@pytest.mark.parametrize("command", COMMANDS)
def test_given_a_readme_runner_command_when_parsed_then_it_is_valid_and_its_files_exist(command):
    # Given a command as the README writes it, when the runner's parser reads it,
    # then it is valid and every input file it names is in the clone
    assert missing_files(command) == [], command


def test_given_placeholders_when_checked_then_they_are_caught():
    # Given the kind of synopsis the README used to show
    block = (
        "```bash\n"
        f"{PREFIX} simulate --customers customers.jsonl \\\n"
        "    --campaigns campaigns.json --start 2027-03-01 --days 1 --out o\n"
        f"{PREFIX} demo [--out DIR]\n"
        "```\n"
    )
    simulate, demo = readme_commands(block)
    # When checked, then files missing from the clone and [optional] groups are caught
    assert missing_files(simulate) == ["customers.jsonl", "campaigns.json"]
    with pytest.raises(SystemExit):
        missing_files(demo)
