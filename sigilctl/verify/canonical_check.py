"""Is a snapshot's byte string RFC 8785 canonical? The same answer as ``canonical.is_canonical``,
sooner: verify asks it of every snapshot of every run.
"""

from __future__ import annotations

from typing import Any

import orjson

from sigilctl.canonical import es_number, is_canonical
from sigilctl.errors import CanonicalizationError

_INT_LIMIT = 2**53 - 1


def is_canonical_snapshot(data: bytes) -> bool:
    """``canonical.is_canonical``, with a shortcut for values orjson writes almost exactly.

    Without integers beyond ±(2**53-1) and object keys beyond U+FFFF, RFC 8785 is orjson's
    key-sorted output once floats are written as ECMAScript numbers; a walk over the parsed
    value proves that far faster than the byte scan of the general path (snapshots are mostly
    long strings). Anything else takes the general path.
    """
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        return False
    stack = [value]
    floats = False
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is dict:
            for key in item:
                if not key.isascii() and any(ord(c) > 0xFFFF for c in key):
                    return is_canonical(data)
            stack.extend(item.values())
        elif kind is list:
            stack.extend(item)
        elif kind is float:
            floats = True
        elif kind is int and not -_INT_LIMIT <= item <= _INT_LIMIT:
            return is_canonical(data)
    try:
        exact = _es_floats(value) if floats else value
        return orjson.dumps(exact, option=orjson.OPT_SORT_KEYS) == data
    except (orjson.JSONEncodeError, CanonicalizationError):
        return False


def _es_floats(value: Any) -> Any:
    kind = type(value)
    if kind is float:
        return orjson.Fragment(es_number(value).encode("ascii"))
    if kind is dict:
        return {key: _es_floats(item) for key, item in value.items()}
    if kind is list:
        return [_es_floats(item) for item in value]
    return value
