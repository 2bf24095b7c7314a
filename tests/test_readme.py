"""The README's promises: its program is valid, its commands exist."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from motionprog.cli.app import app
from motionprog.lang import check_source

from conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def test_readme_programs_check_without_diagnostics():
    blocks = re.findall(r"```mprog\n(.*?)```", README, flags=re.S)
    assert blocks, "the README shows at least one program"
    for block in blocks:
        assert check_source(block, "README.md") == []


def test_every_command_in_the_readme_table_exists():
    commands = set(re.findall(r"^\| `motionprog ([a-z-]+)", README, flags=re.M))
    assert {"run", "check", "convert", "view"} <= commands
    for command in commands:
        result = CliRunner().invoke(app, [command, "--help"])
        assert result.exit_code == 0, (command, result.output)


def test_quickstart_example_exists():
    quickstart = re.search(r"motionprog run (\S+\.mprog)", README)
    assert quickstart and (REPO / quickstart.group(1)).is_file()
