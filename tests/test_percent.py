"""keystores.percent is urllib.parse's quote and unquote_to_bytes, without importing urllib.parse (issue 15)."""

from __future__ import annotations

import urllib.parse

from hypothesis import example, given
from hypothesis import strategies as st

from keystores import percent

# Escapes and their near misses, beside any text: hex digits of both cases, a lone %, %% and signs int() accepts
_ESCAPE_LIKE = st.sampled_from(["%", "%%", "%2", "%2f", "%2F", "%zz", "%+1", "% 1", "%1_", "%-1", "%0x", "%e9",
                                "%C3%A9", "%ff%FE", "%%41", "%4", "%G1", "%a"])
_TEXT = st.lists(st.one_of(st.text(), _ESCAPE_LIKE), max_size=8).map("".join)
# The safe sets keystores passes (pkcs11/uri.py) and urllib's default, and any others
_SAFE = st.one_of(st.sampled_from(["/", "-._~!$'()*+,=:@/", "/-._~", "", "é%;?"]), st.text(max_size=6))


def _outcome(function, *args):
    try:
        return "value", function(*args)
    except Exception as exc:  # the same exception, of the same type, with the same message
        return type(exc), str(exc)


@given(_TEXT)
@example("pkcs11:token=My%20Token;object=a%2fb;id=%01%FF%zz%")
@example("\udcff%41")
@example("")
def test_unquote_to_bytes_is_urllibs(text: str) -> None:
    assert _outcome(percent.unquote_to_bytes, text) == _outcome(urllib.parse.unquote_to_bytes, text)


@given(_TEXT, _SAFE)
@example("My Token/é;?&=", "-._~!$'()*+,=:@/")
@example("\udcff", "/")
@example("", "/")
def test_quote_is_urllibs(text: str, safe: str) -> None:
    assert _outcome(percent.quote, text, safe) == _outcome(urllib.parse.quote, text, safe)


def test_the_default_safe_is_urllibs() -> None:
    assert percent.quote("/a b/%") == urllib.parse.quote("/a b/%") == "/a%20b/%25"


@given(_TEXT)
@example(" token=My Token ")
@example("\udcff")
@example(" pin-value%3D1234")
def test_the_uri_parts_without_an_escape_decode_as_unquote_to_bytes_decodes_them(text: str) -> None:
    """pkcs11/uri.py's _decode and secrets.is_pin_part skip keystores.percent where no '%' is (a token command's
    start-up): what they give, or raise, is what unquote_to_bytes of the stripped part gives."""
    from keystores.backends.pkcs11.uri import _decode
    from keystores.secrets import is_pin_part

    assert _outcome(_decode, text) == _outcome(urllib.parse.unquote_to_bytes, text.strip())
    assert _outcome(is_pin_part, text) == _outcome(
        lambda t: urllib.parse.unquote_to_bytes(t.strip()).decode("utf-8", "replace").strip().lower()
        .startswith("pin"), text)
