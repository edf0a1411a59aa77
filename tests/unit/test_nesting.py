"""One nesting limit, applied where values come in: YAML, JSON read back, canonical JSON."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from sigilctl.canonical import canonical_bytes
from sigilctl.errors import CanonicalizationError, InputError
from sigilctl.nesting import MAX_NESTING, NestingError, check_nesting, loads
from sigilctl.safe_yaml import load_yaml_file


def lists(depth: int) -> object:
    value: object = "leaf"
    for _ in range(depth):
        value = [value]
    return value


def test_the_limit_is_exact_and_shared(tmp_path: Path) -> None:
    at_limit, beyond = lists(MAX_NESTING), lists(MAX_NESTING + 1)
    check_nesting(at_limit)
    assert loads(orjson.dumps(at_limit)) == at_limit
    assert canonical_bytes(at_limit) == orjson.dumps(at_limit)
    with pytest.raises(NestingError):
        check_nesting(beyond)
    with pytest.raises(NestingError):
        loads(orjson.dumps(beyond))
    with pytest.raises(CanonicalizationError):
        canonical_bytes(beyond)
    brief = tmp_path / "brief.yaml"
    brief.write_text(orjson.dumps(at_limit).decode())  # JSON is YAML
    assert load_yaml_file(brief, limit=10**6) == at_limit
    brief.write_text(orjson.dumps(beyond).decode())
    with pytest.raises(InputError, match=f"{brief}: line 1: .* deeper than {MAX_NESTING}"):
        load_yaml_file(brief, limit=10**6)


def test_wide_values_cost_no_depth() -> None:
    check_nesting({"a": ["x"] * 100_000, "b": {str(i): i for i in range(10_000)}})
