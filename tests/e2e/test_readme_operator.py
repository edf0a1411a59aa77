"""Observation 9: the README is true for a new user in a fresh shell."""

from __future__ import annotations

import re

from tests.helpers import REPO

README = (REPO / "README.md").read_text()


def test_the_readme_says_how_to_reach_sigilctl_in_a_fresh_shell() -> None:
    daily = README.split("## Daily use")[1].split("```console")[0]
    assert "source .venv/bin/activate" in daily and ".venv/bin/sigilctl" in daily


def test_the_readme_states_what_a_slow_langfuse_adds() -> None:
    assert "never slows a run down" not in README
    assert re.search(r"adds at most a bound \(2 s by\s+default\)", README)


def test_the_readme_does_not_claim_make_demo_needs_no_network() -> None:
    assert "no key and no network" not in README
    assert "no network beyond installing the packages" in README


def test_the_readme_shows_the_operator_commands() -> None:
    for command in ("sigilctl jobs", "sigilctl check", "run --all -j", "--latest"):
        assert command in README, command
