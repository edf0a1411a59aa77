"""RFC 8785 canonical JSON: exact against the rfc8785 package, and refusals are clear."""

from __future__ import annotations

import math

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from sigilctl.canonical import canonical_bytes, es_number, is_canonical
from sigilctl.errors import CanonicalizationError
from sigilctl.nesting import MAX_NESTING

SAFE_INT = 2**53 - 1
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-SAFE_INT, max_value=SAFE_INT)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=6) | st.dictionaries(st.text(), children, max_size=6)
    ),
    max_leaves=40,
)


@settings(max_examples=600, deadline=None)
@given(json_values)
def test_matches_the_rfc8785_oracle(value: object) -> None:
    assert canonical_bytes(value) == rfc8785.dumps(value)


@settings(max_examples=300, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_numbers_use_ecmascript_form(number: float) -> None:
    assert es_number(number).encode() == rfc8785.dumps(number)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1.0, b"1"),
        (-0.0, b"0"),
        (1e21, b"1e+21"),
        (1e20, b"100000000000000000000"),
        (1e-7, b"1e-7"),
        (0.000001, b"0.000001"),
        (5e-324, b"5e-324"),
        ({"b": 1, "a": [1.5, True, None]}, b'{"a":[1.5,true,null],"b":1}'),
        # U+10000 sorts before U+FFFF in UTF-16 code units (a surrogate pair starts with 0xD800).
        ({"\uffff": 1, "\U00010000": 2}, '{"\U00010000":2,"\uffff":1}'.encode()),
        ("\u2028\x1f", b'"\xe2\x80\xa8\\u001f"'),
    ],
)
def test_known_values(value: object, expected: bytes) -> None:
    assert canonical_bytes(value) == expected


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, {"x": [math.nan]}])
def test_non_finite_numbers_are_refused(bad: object) -> None:
    with pytest.raises(CanonicalizationError, match="non-finite"):
        canonical_bytes(bad)


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        (2**53, "outside the range"),
        ({"a": -(2**60)}, "outside the range"),
        ({1: "x"}, "not a string"),
        ({"a": object()}, "not JSON"),
        ("\ud800", "surrogate"),
    ],
)
def test_unrepresentable_values_are_refused(bad: object, words: str) -> None:
    with pytest.raises(CanonicalizationError, match=words):
        canonical_bytes(bad)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b'{"a":1,"b":[0.1,1e+21,1e-7,0]}', True),
        (b'{"a":1.0}', False),
        (b'{"b":1,"a":2}', False),
        (b'{"a": 1}', False),
        (b'{"a":1,"a":2}', False),
        ('{"\U0001f600":1,"\uffff":2}'.encode(), True),
        ('{"\uffff":2,"\U0001f600":1}'.encode(), False),
        # 2**53 as a double: canonical_bytes(2.0**53) writes exactly this (issue: verify flagged it)
        (b'{"x":9007199254740992}', True),
        (b"-18446744073709552000", True),  # -(2.0**64) in ECMAScript form
        (b"-18446744073709551616", False),  # the same double, not in its shortest form
        # no double holds this integer: reading and writing it back gives other bytes
        (b'{"x":9007199254740993}', False),
        (b"9007199254740992.0", False),
        (b"1" + b"0" * 400, False),
        ('{"t":0.7,"s":"caf\u00e9"}'.encode(), False),
        (b'{"s":"\\u00e9"}', False),
        (b"[1.5]", True),
        (b"3", True),
        (b"not json", False),
        (rfc8785.dumps({"k": [1.0, -0.0, 5e-324, 1e300, "\u2028"], "z": {"y": None}}), True),
    ],
)
def test_is_canonical(data: bytes, expected: bool) -> None:
    assert is_canonical(data) is expected


# Whole-number doubles from 2**53 up to 2**64 and beyond: the range orjson reads back as int.
wide_whole_floats = st.integers(min_value=53, max_value=70).flatmap(
    lambda e: st.integers(min_value=2**e, max_value=2 ** (e + 1)).map(float)
)
canonicalizable = st.recursive(
    json_scalars | wide_whole_floats | wide_whole_floats.map(lambda f: -f),
    lambda children: (
        st.lists(children, max_size=6)
        | st.dictionaries(
            st.text() | st.sampled_from(["\U0001f600", "\uffff"]), children, max_size=6
        )
    ),
    max_leaves=40,
)


@settings(max_examples=600, deadline=None)
@given(canonicalizable)
def test_what_canonical_bytes_writes_is_canonical(value: object) -> None:
    """is_canonical(canonical_bytes(x)) for every value canonical_bytes accepts."""
    assert is_canonical(canonical_bytes(value))


@pytest.mark.parametrize("number", [2.0**53, 2.0**63, 2.0**64, 1.8e19, 2.0**64 + 2**12, -(2.0**60)])
def test_whole_doubles_beyond_2_53_round_trip(number: float) -> None:
    data = canonical_bytes({"n": number})
    assert data == rfc8785.dumps({"n": number})
    assert is_canonical(data)


def nested(depth: int, leaf: object = 1.5) -> object:
    value: object = leaf
    for i in range(depth):
        value = [value] if i % 2 else {"\U0001f600": value}
    return value


@pytest.mark.parametrize("leaf", [1.5, 1, "text"])
def test_nesting_up_to_the_limit_is_canonicalized(leaf: object) -> None:
    data = canonical_bytes(nested(MAX_NESTING, leaf))
    assert is_canonical(data)


@pytest.mark.parametrize("depth", [MAX_NESTING + 1, 500, 5000])
@pytest.mark.parametrize("leaf", [1.5, 1, "text", object()])
def test_deeper_nesting_is_a_clear_refusal(depth: int, leaf: object) -> None:
    """Deep values (with a float, a wide key or a foreign type) never raise RecursionError."""
    with pytest.raises(CanonicalizationError, match=f"deeper than {MAX_NESTING} levels"):
        canonical_bytes(nested(depth, leaf))


def test_deep_json_text_is_not_canonical() -> None:
    assert is_canonical(b"[" * 500 + b"]" * 500) is False
