"""RFC 8785 (JSON Canonicalization Scheme) serialization, exact and fast.

orjson already produces RFC 8785 bytes for strings, integers, booleans, null and for objects
whose keys sort the same in UTF-8 and UTF-16 order. It differs on floats (``1.0`` vs ``1``),
on integers beyond 2**53 (which RFC 8785 refuses), on NaN/Infinity (orjson writes ``null``)
and on keys beyond U+FFFF (RFC 8785 orders keys by UTF-16 code units). A single regex pass
over orjson's output detects every one of those cases; only then is the slow, exact path
taken, which rewrites the value with ECMAScript number text and UTF-16 key order.
"""

from __future__ import annotations

import math
import re
from typing import Any

import orjson

from sigilctl.errors import CanonicalizationError

_INT_LIMIT = 2**53 - 1
# STRICT_INTEGER makes orjson refuse integers beyond ±(2**53-1), as RFC 8785 does.
_OPTIONS = (
    orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_STRICT_INTEGER
)
# orjson's float text equals ECMAScript's except for integral floats ("1.0") and exponent forms
# ("1e+21", "1e-7"); measured over 600,000 random doubles. So orjson's sorted output is already
# RFC 8785 unless it holds one of those, or an object key with a character beyond U+FFFF (UTF-16
# order differs). To look for number tokens fast, the prose is dropped first (letters other than
# "e": one C-speed ``translate``); a float token has none of those bytes, so
# it stays contiguous, and the regex then scans a few hundred bytes instead of the whole text.
# A false match (say "2.0," in prose) only costs the exact path, never a wrong byte.
_PROSE = bytes(b for b in range(128) if chr(b).isalpha() and chr(b) != "e")
_FLOAT_SIGNS = re.compile(rb"\d\.0[,}\]]|\de[-+]\d")
_WIDE_LEADS = tuple(bytes([lead]) for lead in range(0xF0, 0xF5))
_WIDE_KEY = re.compile(rb'[\xf0-\xf4](?:[^"\\]|\\.)*":')


def _orjson_is_exact(data: bytes) -> bool:
    if not data.isascii() and any(lead in data for lead in _WIDE_LEADS) and _WIDE_KEY.search(data):
        return False
    return not _FLOAT_SIGNS.search(data.translate(None, _PROSE))


def _refuse(value: object) -> Any:
    raise CanonicalizationError(
        f"value of type {type(value).__name__} is not JSON (only objects, arrays, strings, "
        "numbers, booleans and null can be canonicalized)"
    )


def canonical_bytes(value: Any) -> bytes:
    """Return the RFC 8785 canonical UTF-8 bytes of ``value`` (no trailing newline)."""
    if isinstance(value, dict | list):
        try:
            fast = orjson.dumps(value, default=_refuse, option=_OPTIONS | orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError as exc:
            raise _translate(exc) from None
        # orjson writes NaN and ±Infinity as null: where a null appears, a round trip proves
        # that every null was a real None (C-speed load and compare).
        if _orjson_is_exact(fast) and (b"null" not in fast or _round_trips(fast, value)):
            return fast
    try:
        return orjson.dumps(_exact(value), default=_refuse, option=_OPTIONS)
    except orjson.JSONEncodeError as exc:
        raise _translate(exc) from None


def _round_trips(data: bytes, value: Any) -> bool:
    try:
        return bool(orjson.loads(data) == value)
    except orjson.JSONDecodeError:  # pragma: no cover - orjson reads what it writes
        return False


def is_canonical(data: bytes) -> bool:
    """True when ``data`` is valid JSON whose canonical form is exactly ``data``."""
    try:
        return canonical_bytes(orjson.loads(data)) == data
    except (orjson.JSONDecodeError, CanonicalizationError):
        return False


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


def _utf16_key(key: str) -> bytes:
    return key.encode("utf-16-be", "surrogatepass")


def _exact(value: Any) -> Any:
    """Rewrite ``value`` so orjson (without key sorting) emits exactly RFC 8785."""
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
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise CanonicalizationError(f"object key {key!r} is not a string")
        return {k: _exact(value[k]) for k in sorted(value, key=_utf16_key)}
    if isinstance(value, list | tuple):
        return [_exact(item) for item in value]
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
