"""The import rules of docs/architecture.md fail lint: each floor may use only its libraries.

ruff reads the rules from pyproject.toml and from the ruff.toml of each floor that may use more;
a file is checked under the rules of the folder it would live in (``--stdin-filename``).
"""

from __future__ import annotations

import subprocess
import sys
import tomllib

import pytest

from tests.helpers import REPO

RUFF = [sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise"]
FLOORS = {  # folder -> what it may import beyond the core floor
    "sigilctl/cli": {"typer", "click", "rich", "sigilctl.cli"},
    "sigilctl/observability": {"langfuse", "opentelemetry"},
    "sigilctl/providers": {"openai"},
    "sigilctl/service": {
        "fastapi", "starlette", "uvicorn", "celery", "kombu", "redis", "prometheus_client",
    },
    "sigilctl/index": {"psycopg", "psycopg_pool"},
}  # fmt: skip
CORE_BANNED = {
    "typer", "click", "rich", "sigilctl.cli", "langfuse", "opentelemetry", "openai", "fastapi",
    "starlette", "uvicorn", "celery", "kombu", "redis", "prometheus_client", "psycopg",
    "psycopg_pool",
}  # fmt: skip


def banned_in(path: str, module: str) -> bool:
    """Does lint refuse ``import module`` in a file at ``path``?"""
    source = f"import {module}\n" if "." not in module else f"from {module} import x\n"
    proc = subprocess.run(
        [*RUFF, "--stdin-filename", path, "-"],
        input=source,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    return "TID251" in proc.stdout


@pytest.mark.parametrize("module", sorted(CORE_BANNED))
def test_the_core_floor_imports_no_ui_sdk_or_server_library(module: str) -> None:
    assert banned_in("sigilctl/runner.py", module)


@pytest.mark.parametrize(("floor", "allowed"), sorted(FLOORS.items()))
def test_each_floor_may_use_its_own_libraries_and_nothing_else(
    floor: str, allowed: set[str]
) -> None:
    path = f"{floor}/new_module.py"
    for module in sorted(CORE_BANNED):
        assert banned_in(path, module) == (module not in allowed), (floor, module)


def test_floor_configs_repeat_the_root_list_minus_their_own_libraries() -> None:
    """A floor's ruff.toml replaces the root's list: it must not silently drop a rule."""
    root = tomllib.loads((REPO / "pyproject.toml").read_text())
    banned = root["tool"]["ruff"]["lint"]["flake8-tidy-imports"]["banned-api"]
    for config in sorted(REPO.glob("sigilctl/**/ruff.toml")):
        floor = config.parent.relative_to(REPO).as_posix()
        local = tomllib.loads(config.read_text())["lint"]["flake8-tidy-imports"]["banned-api"]
        dropped = set(banned) - set(local)
        assert dropped <= FLOORS.get(floor, set()) | {
            name for name in banned if name.split(".")[0] in FLOORS.get(floor, set())
        }, (floor, dropped)
        assert set(local) <= set(banned), floor
