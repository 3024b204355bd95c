"""The JSON nesting check finds the depth a JSON reader would meet, and strips padding as rstrip."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cci_uploader.formats import limits
from cci_uploader.formats.base import FormatError

# The straightforward way: cut out every string, keep the brackets.
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(rb"[^\[\]{}]+")

# Strings full of what could fool a bracket counter.
_TRICKY = st.text(alphabet=st.sampled_from(list('ab"\\[]{}\n\0é')), max_size=12)
_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | _TRICKY,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TRICKY, inner, max_size=4),
    max_leaves=40,
)


def _depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


@given(_VALUES, st.booleans())
def test_brackets_are_those_outside_strings(value: object, ascii_only: bool) -> None:
    raw = json.dumps(value, ensure_ascii=ascii_only).encode("utf-8")
    assert limits._brackets(raw) == _NOT_BRACKET.sub(b"", _STRING.sub(b"", raw))


@given(_VALUES)
def test_refuses_exactly_what_nests_too_deep(value: object) -> None:
    wrapped = value
    for _ in range(limits.MAX_NESTING - 2):
        wrapped = [wrapped]
    raw = json.dumps(wrapped).encode("utf-8")
    if _depth(wrapped) > limits.MAX_NESTING:
        with pytest.raises(FormatError, match="nested"):
            limits.check_json(raw, Path("x.emd"))
    else:
        limits.check_json(raw, Path("x.emd"))


@given(st.lists(st.sampled_from([b"a", b"\0", b"{"]), max_size=40).map(b"".join))
def test_strip_nul_is_rstrip(raw: bytes) -> None:
    assert limits.strip_nul(raw) == raw.rstrip(b"\0")


@pytest.mark.parametrize(
    "raw", [b"", b"\0", b"{}\0\0", b"{}\0a\0", b"\0\0{}", b'{"a": 1}' + bytes(60_000)]
)
def test_strip_nul_cases(raw: bytes) -> None:
    assert limits.strip_nul(raw) == raw.rstrip(b"\0")
