"""jwtcookie reads its cookie the way browsers build the Cookie header.

A browser sends ``name=value`` pairs joined by ``; `` (RFC 6265 §5.4) and never puts a ``;``
inside a value, so ``find_cookie(header, name)`` splits on every ``;``. A parser that reads
quoted strings (werkzeug's) lets a planted ``a="`` swallow the cookies after it, the user's
own among them; splitting on ``;`` means no planted byte can hide one of our values.
"""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from werkzeug.http import parse_cookie

from jwtcookie._request.cookies import find_cookie

NAME = "access_token"

token_chars = st.sampled_from("abcXYZ0189-_.~!#$%&'()*+/:<>?@[]^`{|}")
names = st.one_of(
    st.sampled_from([NAME, "__Host-access_token", "access_tokenx", "Access_Token", "a", "z"]),
    st.text(token_chars, min_size=1, max_size=5),
)
# What a browser may store as a value: anything but `;`, control characters and the blanks
# it trims off both ends. Quotes, `=`, `\` and non-ASCII included.
value_chars = st.characters(blacklist_characters=";", blacklist_categories=("Cc",))
values = st.text(value_chars, max_size=12).map(lambda value: value.strip(" \t"))
browser_pairs = st.lists(st.tuples(names, values), max_size=8)


@settings(max_examples=2000, deadline=None)
@given(pairs=browser_pairs)
@example(pairs=[(NAME, "X"), ("a", '"'), (NAME, "REAL"), ("z", '"')])
@example(pairs=[("a", '"\\'), (NAME, "REAL"), ("z", '\\""')])
def test_every_value_the_browser_sends_under_our_name_is_read_in_order(
    pairs: list[tuple[str, str]],
) -> None:
    header = "; ".join(f"{name}={value}" for name, value in pairs)
    assert find_cookie(header, NAME) == [value for name, value in pairs if name == NAME]


@settings(max_examples=500, deadline=None)
@given(pairs=st.lists(st.tuples(names, st.text(token_chars, max_size=12)), max_size=8))
def test_ordinary_headers_are_read_as_werkzeug_reads_them(pairs: list[tuple[str, str]]) -> None:
    """Without quotes or blanks in values, the split agrees with a full cookie parser."""
    header = "; ".join(f"{name}={value}" for name, value in pairs)
    assert find_cookie(header, NAME) == parse_cookie(header).getlist(NAME)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("access_token=abc", ["abc"]),
        ("theme=dark; access_token=abc; _ga=1", ["abc"]),
        ("access_token = abc ", ["abc"]),
        ("access_token=\tabc\t;x=1", ["abc"]),
        ("access_token=", [""]),
        ("access_token", []),  # no `=`: a browser's nameless cookie whose value is that text
        ("access_token=a; access_token=b", ["a", "b"]),
        ("access_tokens=abc", []),
        ("xaccess_token=abc", []),
        ("access_token=a b", ["a b"]),
        ("access_token=a=b", ["a=b"]),
        (";;access_token=abc;;", ["abc"]),
        ('access_token="a;b"', ['"a']),
        ('a="; access_token=REAL; z="', ["REAL"]),
        ('access_token=X; a="; access_token=REAL; z="', ["X", "REAL"]),
        ("tracker=\xff; access_token=abc", ["abc"]),  # not UTF-8: unrelated, still read
        ("other=x", []),
        ("", []),
    ],
)
def test_find_cookie_examples(header: str, expected: list[str]) -> None:
    assert find_cookie(header, NAME) == expected
