"""RFC 7512 URI parsing: what selects a token, and what is refused (PINs, slot numbers)."""

from __future__ import annotations

import pytest

from keystores.backends.pkcs11.uri import Pkcs11Uri
from keystores.errors import UsageError


def test_path_and_query_attributes_are_percent_decoded():
    uri = Pkcs11Uri.parse("pkcs11:token=My%20HSM;object=srv%3Bkey;type=private;id=%01%ab"
                          "?module-path=/usr/lib/softhsm/libsofthsm2.so")
    assert (uri.token, uri.object, uri.type, uri.id) == ("My HSM", "srv;key", "private", b"\x01\xab")
    assert uri.module_path == "/usr/lib/softhsm/libsofthsm2.so"


def test_serial_and_unknown_attributes_are_kept():
    uri = Pkcs11Uri.parse("pkcs11:serial=abc123;x-vendor=1")
    assert uri.serial == "abc123" and uri.token is None
    assert uri.other == {"x-vendor": "1"}


def test_format_round_trips():
    uri = Pkcs11Uri(token="two words;x", object="a/b", id=b"\x00\xff", module_path="/m.so")
    assert Pkcs11Uri.parse(uri.format()) == uri


@pytest.mark.parametrize("text", ["pkcs11:token=a?pin-value=1234", "pkcs11:token=a?pin-source=file:/tmp/pin"])
def test_a_pin_in_the_uri_is_refused_without_echoing_it(text):
    with pytest.raises(UsageError) as info:
        Pkcs11Uri.parse(text)
    assert "password=keystores.secret(" in str(info.value)  # the keyword in Python, the option in the CLI:
    assert "--password env:VAR" in info.value.rendered("option")  # what render.error_line prints
    assert "1234" not in str(info.value) and "/tmp/pin" not in str(info.value)


def test_slot_numbers_are_refused():
    with pytest.raises(UsageError, match="never by slot-id"):
        Pkcs11Uri.parse("pkcs11:slot-id=3")


@pytest.mark.parametrize("text", ["token=a", "pkcs11:token", "pkcs11:type=weird", "pkcs11:token=a;token=b"])
def test_malformed_uris_are_usage_errors(text):
    with pytest.raises(UsageError):
        Pkcs11Uri.parse(text)
