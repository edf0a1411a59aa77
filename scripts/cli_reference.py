"""Write docs/cli.md from the commands' own --help (tests/test_docs.py keeps it current).

Usage: python scripts/cli_reference.py [--check]
"""

from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET = REPO / "docs" / "cli.md"


def _order() -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
    """The commands in the order of ``sigilctl --help`` (groups after the commands), and each
    group's subcommands (from typer's public click conversion)."""
    import typer

    from sigilctl.cli import COMMANDS as REGISTERED
    from sigilctl.cli import GROUPS

    names = [name for name, _function, _summary in REGISTERED]
    subcommands: dict[str, tuple[str, ...]] = {}
    for group, app, _line in GROUPS:
        names.append(group)
        command = typer.main.get_command(app)
        subcommands[group] = tuple(sorted(getattr(command, "commands", {})))
    return tuple(names), subcommands


# Every command, in the order of `sigilctl --help`; a group's subcommands get their own
# sections after the group's.
COMMANDS, SUBCOMMANDS = _order()


def help_text(*args: str) -> str:
    from sigilctl.cli import run_cli

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = run_cli([*args, "--help"])
    if code != 0:
        raise SystemExit(f"sigilctl {' '.join(args)} --help exited {code}")
    return buffer.getvalue().rstrip() + "\n"


def reference() -> str:
    parts = [
        "# Command reference\n",
        "Generated from each command's `--help` by `python scripts/cli_reference.py`; a test "
        "fails when it is out of date.\n",
        "## sigilctl\n",
        "```\n" + help_text() + "```\n",
    ]
    for command in COMMANDS:
        parts.append(f"## sigilctl {command}\n")
        parts.append("```\n" + help_text(command) + "```\n")
        for sub in SUBCOMMANDS.get(command, ()):
            parts.append(f"## sigilctl {command} {sub}\n")
            parts.append("```\n" + help_text(command, sub) + "```\n")
    return "\n".join(parts)


def main() -> int:
    text = reference()
    if "--check" in sys.argv[1:]:
        current = TARGET.read_text() if TARGET.exists() else ""
        if current != text:
            print("docs/cli.md is out of date: run python scripts/cli_reference.py")
            return 1
        return 0
    TARGET.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
