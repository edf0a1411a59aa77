"""YAML for governance files: the safe loader only, no aliases, no duplicate keys, bounded size
and nesting.

Aliases are refused outright rather than bounded: a brief never needs them, and refusing them
makes "billion laughs" style expansion impossible by construction. Nesting is counted while the
document is composed (PyYAML's composer recurses once per level), so a hostile depth is refused
before it can exhaust the stack.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from sigilctl.errors import InputError
from sigilctl.nesting import MAX_NESTING


class _YamlRefusal(Exception):
    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


class _GovernanceLoader(yaml.SafeLoader):
    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise _YamlRefusal(
                f"YAML aliases ('*{event.anchor}') are not allowed", event.start_mark.line + 1
            )
        if not self.check_event(yaml.SequenceStartEvent, yaml.MappingStartEvent):
            return super().compose_node(parent, index)
        if self._depth >= MAX_NESTING:
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise _YamlRefusal(
                f"lists and mappings nest deeper than {MAX_NESTING} levels (the limit)",
                event.start_mark.line + 1,
            )
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, str):
                if key in seen:
                    raise _YamlRefusal(f"duplicate key '{key}'", key_node.start_mark.line + 1)
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_yaml_file(path: Path, *, limit: int) -> Any:
    """Parse one YAML document from ``path``; every failure is one sentence naming the file."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(f"{path} cannot be read: {exc.strerror}") from None
    if size > limit:
        raise InputError(f"{path} is {size} bytes, over the {limit}-byte limit for a brief")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path} is not valid UTF-8 (byte {exc.start})") from None
    try:
        return yaml.load(text, Loader=_GovernanceLoader)  # noqa: S506 - a SafeLoader subclass
    except _YamlRefusal as exc:
        raise InputError(f"{path}: line {exc.line}: {exc.message}") from None
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else "?"
        problem = exc.problem or "invalid YAML"
        if isinstance(exc, yaml.constructor.ConstructorError):
            problem += " (only plain YAML is allowed: no language-specific tags)"
        raise InputError(f"{path}: line {line}: malformed YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: malformed YAML: {exc}") from None
