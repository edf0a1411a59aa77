"""RFC 8785 (JSON Canonicalization Scheme) serialization, exact and fast.

orjson with sorted keys already writes RFC 8785 for strings, integers, booleans and null, and
for objects whose keys sort the same in code-point and UTF-16 order. It differs on floats
(``1.0`` vs ``1``, ``1e-6`` vs ``0.000001``), on NaN/Infinity (orjson writes ``null``), on
integers beyond 2**53 (RFC 8785 refuses them; ``OPT_STRICT_INTEGER`` makes orjson refuse them
too) and on keys beyond U+FFFF. A survey of the value's containers (snapshots are few nodes
holding long strings, so this is cheap) says which of those cases occur: floats are handed to
orjson as pre-formatted ECMAScript text, and only a key beyond U+FFFF takes the slow path that
orders keys by UTF-16 code units.
"""

from __future__ import annotations

import math
from typing import Any

import orjson

from sigilctl.errors import CanonicalizationError
from sigilctl.nesting import MAX_NESTING, too_deep_message

_INT_LIMIT = 2**53 - 1
# STRICT_INTEGER makes orjson refuse integers beyond ±(2**53-1), as RFC 8785 does.
_OPTIONS = (
    orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_STRICT_INTEGER
)
_FLOATS = 1
_WIDE_KEYS = 2


_SCALARS = frozenset((str, int, bool, type(None)))
_OTHER = 4  # a subclass or a foreign type: let the exact path judge it


def _orjson_writes_es(number: float) -> bool:
    """True when orjson's text for ``number`` is already ECMAScript's (most floats are).

    A non-integral float whose repr has no exponent lies in [1e-4, 1e16), where ECMAScript
    writes the same shortest round-trip digits without an exponent too; orjson's own text is
    compared as well, so no assumption about its formatter is needed.
    """
    if number.is_integer():
        return False
    text = repr(number)
    return "e" not in text and "n" not in text and orjson.dumps(number) == text.encode()


def _survey(value: Any) -> int:
    """Which cases orjson alone would get wrong: floats (1), keys beyond U+FFFF (2), other (4).

    Strings are the bulk of a snapshot and never need a look, so they are not even pushed.
    Containers are taken level by level, so nesting beyond MAX_NESTING is refused here, before
    any recursive step (ours or orjson's) can meet it.
    """
    found = 0
    level = [value]
    depth = 0
    while level:
        below: list[Any] = []
        for item in level:
            kind = type(item)
            if kind is dict:
                if depth >= MAX_NESTING:
                    raise _too_deep()
                try:
                    ascii_keys = "".join(item).isascii()
                except TypeError:  # a key that is not a string
                    found |= _OTHER
                    ascii_keys = True
                if not ascii_keys and any(key and max(key) > "\uffff" for key in item):
                    found |= _WIDE_KEYS
                below.extend([v for v in item.values() if type(v) is not str])
            elif kind is list or kind is tuple:
                if depth >= MAX_NESTING:
                    raise _too_deep()
                below.extend([v for v in item if type(v) is not str])
            elif kind is float:
                if not _orjson_writes_es(item):
                    found |= _FLOATS
            elif kind not in _SCALARS:
                found |= _OTHER
        level = below
        depth += 1
    return found


def _too_deep() -> CanonicalizationError:
    return CanonicalizationError(f"value cannot be canonicalized: {too_deep_message()}")


def _refuse(value: object) -> Any:
    raise CanonicalizationError(
        f"value of type {type(value).__name__} is not JSON (only objects, arrays, strings, "
        "numbers, booleans and null can be canonicalized)"
    )


def canonical_bytes(value: Any) -> bytes:
    """Return the RFC 8785 canonical UTF-8 bytes of ``value`` (no trailing newline)."""
    found = _survey(value)
    try:
        if found & (_WIDE_KEYS | _OTHER):
            return orjson.dumps(_exact(value), default=_refuse, option=_OPTIONS)
        target = _es_floats(value) if found & _FLOATS else value
        return orjson.dumps(target, default=_refuse, option=_OPTIONS | orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError as exc:
        raise _translate(exc) from None


def is_canonical(data: bytes) -> bool:
    """True when ``data`` is valid JSON whose canonical form is exactly ``data``.

    RFC 8785 numbers are IEEE 754 doubles. orjson reads an integral text as a Python int, so a
    whole-number double beyond ±(2**53-1), which canonical_bytes writes without a fraction
    (``2.0**53`` → ``9007199254740992``), comes back as an int that writing refuses. Such
    integers are read again as the doubles they denote; the bytes still have to match exactly,
    so a text no double can hold (``9007199254740993``) is not canonical (docs/determinism.md).
    """
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        return False
    try:
        return canonical_bytes(value) == data
    except CanonicalizationError:
        pass
    try:
        return canonical_bytes(_wide_ints_as_doubles(value, 0)) == data
    except (CanonicalizationError, OverflowError):
        return False


def _wide_ints_as_doubles(value: Any, depth: int) -> Any:
    """``value`` with every integer beyond ±(2**53-1) read as the double it denotes."""
    if depth > MAX_NESTING:
        raise _too_deep()
    kind = type(value)
    if kind is int and not -_INT_LIMIT <= value <= _INT_LIMIT:
        return float(value)  # OverflowError beyond the double range: not canonical
    if kind is dict:
        return {key: _wide_ints_as_doubles(item, depth + 1) for key, item in value.items()}
    if kind is list:
        return [_wide_ints_as_doubles(item, depth + 1) for item in value]
    return value


def _translate(exc: orjson.JSONEncodeError) -> CanonicalizationError:
    cause = exc.__cause__
    if isinstance(cause, CanonicalizationError):
        return cause
    text = str(exc)
    if "surrogates" in text:
        return CanonicalizationError("a string holds a lone surrogate, which is not valid UTF-8")
    if "keys must be str" in text.lower() or "Dict key must be str" in text:
        return CanonicalizationError("an object key is not a string")
    if "Integer exceeds" in text or "53-bit" in text:
        return CanonicalizationError("an integer is outside the range RFC 8785 allows (±2**53)")
    return CanonicalizationError(f"value cannot be canonicalized: {text}")


def _es_floats(value: Any) -> Any:
    """``value`` with every float replaced by its ECMAScript text (keys left for orjson to sort)."""
    if isinstance(value, float):
        return orjson.Fragment(es_number(value).encode("ascii"))
    if isinstance(value, dict):
        return {key: _es_floats(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_es_floats(item) for item in value]
    return value


def _utf16_key(key: str) -> bytes:
    return key.encode("utf-16-be", "surrogatepass")


def _exact(value: Any, depth: int = 0) -> Any:
    """Rewrite ``value`` so orjson (without key sorting) emits exactly RFC 8785.

    Also the path of container subclasses, which the survey does not descend: the depth is
    counted here too.
    """
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        if not -_INT_LIMIT <= value <= _INT_LIMIT:
            raise CanonicalizationError(
                f"integer {value} is outside the range RFC 8785 allows (±(2**53-1)); "
                "write it as a string"
            )
        return value
    if isinstance(value, float):
        return orjson.Fragment(es_number(value).encode("ascii"))
    if isinstance(value, dict | list | tuple) and depth >= MAX_NESTING:
        raise _too_deep()
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise CanonicalizationError(f"object key {key!r} is not a string")
        return {k: _exact(value[k], depth + 1) for k in sorted(value, key=_utf16_key)}
    if isinstance(value, list | tuple):
        return [_exact(item, depth + 1) for item in value]
    return _refuse(value)


def es_number(number: float) -> str:
    """Format a float as ECMAScript Number::toString does (RFC 8785 §3.2.2.3)."""
    if math.isnan(number) or math.isinf(number):
        raise CanonicalizationError(f"non-finite number {number!r} cannot be canonicalized")
    if number == 0:
        return "0"
    sign = "-" if number < 0 else ""
    mantissa, _, exp_text = repr(abs(number)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = whole + fraction
    point = len(whole) + (int(exp_text) if exp_text else 0)
    stripped = digits.lstrip("0")
    point -= len(digits) - len(stripped)
    digits = stripped.rstrip("0")
    k, n = len(digits), point
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * (-n) + digits
    else:
        exponent = n - 1
        exp_sign = "+" if exponent >= 0 else "-"
        head = digits[0] + ("." + digits[1:] if k > 1 else "")
        text = f"{head}e{exp_sign}{abs(exponent)}"
    return sign + text
