"""Docs are tested: every command has help, and the CLI reference matches the commands."""

from __future__ import annotations

import pytest

from scripts.cli_reference import COMMANDS, reference
from sigilctl.cli import app
from tests.helpers import REPO


def test_every_command_sigilctl_lists_is_in_the_reference(cli: object) -> None:
    """What `sigilctl --help` lists (the user's view), in its order, is what the reference
    documents; and every command registered on the app is listed."""
    listing = cli("--help").stdout.split("Commands:")[1]  # type: ignore[operator]
    listed = [line.split()[0] for line in listing.splitlines() if line.strip()]
    assert listed == list(COMMANDS)
    registered = {command.name for command in app.registered_commands}
    registered |= {group.name for group in app.registered_groups}
    assert registered == set(listed)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(cli: object, command: str) -> None:
    result = cli(command, "--help")  # type: ignore[operator]
    assert result.code == 0
    assert "Usage: sigilctl " + command in result.stdout
    assert "--help" in result.stdout


def test_cli_reference_is_current(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    assert (REPO / "docs/cli.md").read_text() == reference(), (
        "docs/cli.md is out of date: run python scripts/cli_reference.py"
    )


def test_readme_names_the_two_commands() -> None:
    readme = (REPO / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme
    ci = (REPO / ".ci/run").read_text()
    assert "make test" in ci
