"""How deeply a value may nest, and the JSON reader that enforces it.

Briefs, manifests and snapshots are shallow (a brief nests five levels, a manifest four). A
value nested hundreds of levels deep is hostile or broken, and left alone it surfaces as a raw
``RecursionError`` (PyYAML's composer, our own recursive walks) or as an encoder's recursion
error far from the file that caused it. One documented limit, applied where values come in
(YAML, JSON, canonicalization), turns each of those into one sentence naming the file.
"""

from __future__ import annotations

from typing import Any

import orjson

# A container inside MAX_NESTING containers is refused; orjson itself stops at 254 (writing)
# and 1024 (reading), Python's default recursion limit at 1000 frames.
MAX_NESTING = 100


class NestingError(ValueError):
    """A value nests deeper than MAX_NESTING; the message is one sentence without a file name."""


def too_deep_message() -> str:
    return f"it nests deeper than {MAX_NESTING} levels (the limit)"


def check_nesting(value: Any) -> None:
    """Raise NestingError when ``value`` holds a list or dict nested beyond the limit (plain
    lists and dicts, what a JSON or YAML parser returns).

    Walks level by level without recursion, pushing containers only, so long strings and big
    flat lists cost one type check each.
    """
    level = [value] if type(value) is dict or type(value) is list else []
    depth = 0
    while level:
        depth += 1
        if depth > MAX_NESTING:
            raise NestingError(too_deep_message())
        below: list[Any] = []
        for item in level:
            children = item.values() if type(item) is dict else item
            below.extend([c for c in children if type(c) is dict or type(c) is list])
        level = below


def loads(data: bytes | str) -> Any:
    """``orjson.loads`` that also refuses values nested beyond MAX_NESTING.

    Raises ``orjson.JSONDecodeError`` for invalid JSON and NestingError for deep nesting.
    """
    value = orjson.loads(data)
    check_nesting(value)
    return value
