"""jwtcookie's targeted cookie scan reads every header exactly as werkzeug's parser does.

``find_cookie(header, name)`` must equal ``werkzeug.http.parse_cookie(header).getlist(name)``
for any header werkzeug can read. Where werkzeug raises (a header that is not UTF-8 once
read as latin-1 bytes), the scan must not raise: it reads the header undecoded, as
Flask's own ``request.cookies`` does.
"""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from werkzeug.http import parse_cookie
from werkzeug.sansio.http import parse_cookie as parse_raw_cookie

from jwtcookie.cookies import find_cookie

NAME = "access_token"
NAMES = (NAME, "__Host-access_token", "a", "sid")

# Pieces a hostile or merely odd header is made of.
NASTY = [
    " ", "\t", ";", "=", '"', "\\", ",", "\\\"", "\\073", "\x00", "\x7f", "\n", "\r",
    "é", "Ã©", "\xff", "\u2603", "access_token", "access_tokens", "xaccess_token",
    "access_token=", "=access_token", '"access_token"', "__Host-access_token",
]  # fmt: skip

token_chars = st.sampled_from("abcXYZ0189-_.~!#$%&'()*+/:<>?@[]^`{|}")
values = st.one_of(
    st.text(token_chars, max_size=12),
    st.builds(lambda inner: f'"{inner}"', st.text(st.sampled_from('ab;= \\"\t,'), max_size=8)),
    st.text(max_size=6),
)
names = st.one_of(
    st.sampled_from([*NAMES, "access_tokenx", "Access_Token", "x", ""]),
    st.text(max_size=5),
)
blanks = st.text(st.sampled_from(" \t"), max_size=2)


@st.composite
def realistic_segment(draw: st.DrawFn) -> str:
    name, value = draw(names), draw(values)
    equals = draw(st.sampled_from(["=", " = ", "=\t", "", "=="]))
    return f"{draw(blanks)}{name}{equals}{value}{draw(blanks)}"


realistic_headers = st.lists(realistic_segment(), max_size=6).map(";".join)
nasty_headers = st.lists(st.one_of(st.sampled_from(NASTY), st.text(max_size=4)), max_size=12).map(
    "".join
)
latin1_headers = st.text(st.characters(max_codepoint=0xFF), max_size=40)
headers = st.one_of(realistic_headers, nasty_headers, latin1_headers, st.text(max_size=30))


def werkzeug_reading(header: str, name: str) -> list[str] | None:
    """What werkzeug.http.parse_cookie finds, or None when it raises."""
    try:
        return parse_cookie(header).getlist(name)
    except UnicodeError:
        return None


def check(header: str, name: str) -> None:
    expected = werkzeug_reading(header, name)
    found = find_cookie(header, name)
    if expected is None:
        assert found == parse_raw_cookie(header).getlist(name)
    else:
        assert found == expected, (header, name)


@settings(max_examples=3000, deadline=None)
@given(header=headers, name=st.sampled_from(NAMES))
@example(header='access_token="a;b"; access_token=c', name=NAME)
@example(header="access_token=Ã©", name=NAME)
@example(header="access_token=\xff", name=NAME)
@example(header="access_token=\u2603", name=NAME)
def test_find_cookie_reads_every_header_as_werkzeug_does(header: str, name: str) -> None:
    check(header, name)


@settings(max_examples=1000, deadline=None)
@given(prefix=headers, value=st.text(token_chars, min_size=1, max_size=40), suffix=headers)
def test_our_cookie_among_arbitrary_others_is_read_as_werkzeug_does(
    prefix: str, value: str, suffix: str
) -> None:
    check(f"{prefix}; {NAME}={value}; {suffix}", NAME)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("access_token=abc", ["abc"]),
        ("theme=dark; access_token=abc; _ga=1", ["abc"]),
        ("access_token = abc ", ["abc"]),
        ("access_token=\tabc\t;x=1", ["abc"]),
        ("access_token", [""]),
        ("access_token=", [""]),
        ("access_token=a; access_token=b", ["a", "b"]),
        ("access_tokens=abc", []),
        ("xaccess_token=abc", []),
        ("access_token=a b", []),  # junk after the value: werkzeug skips the cookie
        ("access_token=a=b", ["a=b"]),
        (";;access_token=abc;;", ["abc"]),
        ('access_token="a\\"b"', ['a"b']),
        ('access_token="a;b"', ["a;b"]),
        ('access_token="\\073"', [";"]),
        ("other=x", []),
        ("", []),
    ],
)
def test_find_cookie_examples(header: str, expected: list[str]) -> None:
    assert find_cookie(header, NAME) == expected
    assert parse_cookie(header).getlist(NAME) == expected


def test_a_header_werkzeug_cannot_decode_still_yields_our_cookie() -> None:
    # \xff is not UTF-8: werkzeug.http raises, an unrelated cookie must not log anyone out.
    header = "tracker=\xff; access_token=abc"
    assert werkzeug_reading(header, NAME) is None
    assert find_cookie(header, NAME) == ["abc"]
