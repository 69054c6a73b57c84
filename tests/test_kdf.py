"""keystores.crypto.kdf: the PKCS#12 KDF by libcrypto (through ctypes) and by the Python loop gives the published
known answers, what `openssl kdf ... PKCS12KDF` gives, and the same bytes as each other; without the library the
Python loop does the work (issue 15: receive derives the MAC key twice)."""

from __future__ import annotations

import random
import subprocess
import sys

import pytest

from keystores.crypto import kdf, libcrypto

# The vectors OpenSSL's test/recipes/30-test_evp_data/evpkdf_pkcs12.txt and Bouncy Castle's PKCS12 tests carry:
# (password, salt, purpose, iterations, size, hash, expected)
KNOWN = [
    ("smeg", "0A58CF64530D823F", 1, 1, 24, "sha1", "8AAAE6297B6CB04642AB5B077851284EB7128F1A2A7FBCA3"),
    ("smeg", "0A58CF64530D823F", 2, 1, 8, "sha1", "79993DFE048D3B76"),
    ("queeg", "1682C0FC5B3F7EC5", 1, 1000, 24, "sha1", "483DD6E919D7DE2E8E648BA8F862F3FBFBDC2BCB2C02957F"),
]


@pytest.fixture(params=["libcrypto", "python"])
def derive(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    if request.param == "libcrypto":
        assert libcrypto.library() is not None, "hashlib's libcrypto is not found: the fast path is never taken"

        def by_library(*args: object) -> bytes:
            derived = kdf._by_libcrypto(*args)  # type: ignore[arg-type]
            assert derived is not None
            return derived

        return by_library
    return kdf.pkcs12_kdf_python


@pytest.mark.parametrize(("password", "salt", "purpose", "iterations", "size", "hash_name", "expected"), KNOWN)
def test_the_published_known_answers(derive, password: str, salt: str, purpose: int, iterations: int, size: int,  # type: ignore[no-untyped-def]
                                     hash_name: str, expected: str) -> None:
    got = derive(kdf.bmp_password(password), bytes.fromhex(salt), purpose, iterations, size, hash_name)
    assert got.hex().upper() == expected


@pytest.mark.parametrize(("hash_name", "openssl_name", "purpose", "iterations", "size"),
                         [("sha1", "SHA1", 1, 2048, 24), ("sha256", "SHA256", 3, 10000, 32),
                          ("sha256", "SHA256", 1, 7, 70), ("sha512", "SHA512", 3, 3, 130),
                          ("sha384", "SHA384", 2, 5, 16),
                          ("md5", "MD5", 3, 2, 16)])
def test_what_openssl_kdf_gives(derive, hash_name: str, openssl_name: str, purpose: int, iterations: int,  # type: ignore[no-untyped-def]
                                size: int) -> None:
    password, salt = kdf.bmp_password("pässword"), bytes(range(1, 21))
    done = subprocess.run(["openssl", "kdf", "-keylen", str(size), "-kdfopt", f"digest:{openssl_name}", "-kdfopt",
                           f"hexpass:{password.hex()}", "-kdfopt", f"hexsalt:{salt.hex()}", "-kdfopt",
                           f"iter:{iterations}", "-kdfopt", f"id:{purpose}", "PKCS12KDF"],
                          capture_output=True, text=True, check=True)
    assert derive(password, salt, purpose, iterations, size, hash_name) == bytes.fromhex(
        done.stdout.strip().replace(":", ""))


def test_libcrypto_and_python_agree_on_random_inputs() -> None:
    """Every digest the KDF takes, empty passwords (OpenSSL's NULL) and salts, keys longer than a digest, one
    iteration and none (as one), seeded."""
    seeded = random.Random(7292)
    for hash_name in kdf._BLOCK:
        for _ in range(6):
            password = seeded.choice([b"", b"\x00\x00", kdf.bmp_password("x" * seeded.randrange(40)),
                                      seeded.randbytes(seeded.randrange(1, 200))])
            salt = seeded.choice([b"", seeded.randbytes(seeded.randrange(1, 70))])
            args = (password, salt, seeded.choice([1, 2, 3]), seeded.choice([0, 1, 2, 17, 1000]),
                    seeded.randrange(1, 200), hash_name)
            by_library = kdf._by_libcrypto(*args)
            if by_library is None:  # OpenSSL refuses an empty password with an empty salt (nothing to allocate),
                # and a digest this libcrypto lacks (SM3 without its provider): Python's alone
                assert (not password and not salt) or hash_name == "sm3", args
                continue
            assert by_library == kdf.pkcs12_kdf_python(*args), args
    assert kdf.pkcs12_kdf(b"", b"", 3, 5, 20, "sha1") == kdf.pkcs12_kdf_python(b"", b"", 3, 5, 20, "sha1")


def test_without_the_library_the_python_loop_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(libcrypto, "_LOADED", [None])
    password, salt, purpose, iterations, size, hash_name, expected = KNOWN[2]
    assert kdf.pkcs12_kdf(kdf.bmp_password(password), bytes.fromhex(salt), purpose, iterations, size,
                          hash_name).hex().upper() == expected
    assert kdf._by_libcrypto(b"", b"", 1, 1, 8, "sha1") is None


def test_a_digest_libcrypto_does_not_know_goes_to_python(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kdf, "_DIGESTS", {"sha256": None})
    args = (kdf.bmp_password("pw"), b"salt", 3, 10, 32, "sha256")
    assert kdf._by_libcrypto(*args) is None
    assert kdf.pkcs12_kdf(*args) == kdf.pkcs12_kdf_python(*args)


def test_importing_the_kdf_loads_no_ctypes() -> None:
    """ctypes (keystores.crypto.lean_ctypes, its C module) is loaded when a derivation is first asked for, not by
    commands that derive nothing."""
    probe = "import sys\nimport keystores.crypto.kdf\nprint('_ctypes' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_only_an_already_loaded_libcrypto_is_used() -> None:
    """A libcrypto the interpreter has not loaded is never loaded for the KDF (RTLD_NOLOAD): no second OpenSSL in
    the process. Here hashlib runs on its built-in hashes (no _hashlib), so no libcrypto is loaded: the Python loop
    answers."""
    probe = ("import sys\nsys.modules['_hashlib'] = None\nfrom keystores.crypto import kdf, libcrypto\n"
             "print(libcrypto.library(), kdf.pkcs12_kdf(b'\\x00a\\x00\\x00', b'salt', 3, 10, 20).hex())")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    library, derived = done.stdout.split()
    assert library == "None"
    assert bytes.fromhex(derived) == kdf.pkcs12_kdf(b"\x00a\x00\x00", b"salt", 3, 10, 20)


# --- PBKDF1's loop by libcrypto (EVP_BytesToKey): PBES1 and NSS's legacy PBE ("compat" NSS databases) ---------------
# David Ireland's PBKDF1 example (di-mgt.com.au/cryptoKDFs.html, also in PyCryptodome's tests): "password", salt
# 78578E5A5D63CB06, 1,000 SHA-1 rounds, first 16 bytes DC19847E05C64D2FAF10EBFB4A3D2A20; the 4 bytes after them,
# and the NSS legacy key and IV below, are this module's own answers, held on both paths.
PBKDF1_KNOWN = ("DC19847E05C64D2FAF10EBFB4A3D2A20", "B4E35EFE")
NSS_LEGACY_KNOWN = ("4440e48caf9f07bbc80678cd8b94b78da953d895e6a50430", "68541dd82eebb72c")


@pytest.fixture(params=["libcrypto", "python"])
def pbkdf1_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each path of keystores.crypto.decrepit.kdf.pbkdf1: libcrypto's must answer (no silent fallback), Python's is
    forced by taking libcrypto away."""
    from keystores.crypto.decrepit import kdf as decrepit

    if request.param == "libcrypto":
        assert libcrypto.library() is not None, "hashlib's libcrypto is not found: the fast path is never taken"
        monkeypatch.setattr(decrepit, "pbkdf1_python", lambda *args: pytest.fail("the Python loop ran"))
    else:
        monkeypatch.setattr(libcrypto, "_LOADED", [None])
    return str(request.param)


def test_pbkdf1_gives_the_published_answer(pbkdf1_path: str) -> None:
    from keystores.crypto.decrepit.kdf import pbkdf1

    derived = pbkdf1(b"password", bytes.fromhex("78578E5A5D63CB06"), 1000, "sha1").hex().upper()
    assert (derived[:32], derived[32:]) == PBKDF1_KNOWN


def test_nss_legacy_key_and_iv_are_the_known_ones(pbkdf1_path: str) -> None:
    """What the NSS "compat" profile encrypts under (10,000 rounds, a database with a password): pk12util reading
    what we wrote is tests/test_nss.py's test_pk12util_exports_our_keys_and_openssl_reads_them[compat]."""
    from keystores.backends.nss.crypto import _legacy_3des_key_iv

    key, iv = _legacy_3des_key_iv(bytes(range(20)), bytes(range(100, 120)), 10_000)
    assert (key.hex(), iv.hex()) == NSS_LEGACY_KNOWN


def test_pbkdf1_libcrypto_and_python_agree_on_random_inputs() -> None:
    from keystores.crypto.decrepit.kdf import pbkdf1_python

    seeded = random.Random(8018)
    for hash_name in ("md5", "sha1"):
        for _ in range(12):
            password, salt = seeded.randbytes(seeded.randrange(0, 90)), seeded.randbytes(seeded.choice([0, 8, 20]))
            iterations = seeded.choice([0, 1, 2, 3, 1000, 10_000])
            by_library = kdf.iterated_digest(password + salt, iterations, hash_name)
            if not password + salt:
                assert by_library is None  # nothing to hash: the Python loop answers
                continue
            assert by_library == pbkdf1_python(password, salt, iterations, hash_name), (password, salt, iterations)
    assert kdf.iterated_digest(b"data", 5, "sha256") is None  # no one-block cipher for 32 bytes: Python's


def test_pbkdf1_without_an_already_loaded_libcrypto_is_python_s() -> None:
    probe = ("import sys\nsys.modules['_hashlib'] = None\nfrom keystores.crypto import libcrypto\n"
             "from keystores.crypto.decrepit.kdf import pbkdf1\n"
             "print(libcrypto.library(), pbkdf1(b'password', bytes.fromhex('78578E5A5D63CB06'), 1000, 'sha1').hex())")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    library, derived = done.stdout.split()
    assert library == "None" and derived.upper() == "".join(PBKDF1_KNOWN)


@pytest.mark.parametrize("password", ["", "changeit", "pässword", "密码", "emoji \U0001f511 key", "\x00nul", "\uffff",
                                      "a" * 300])
def test_bmp_password_is_the_utf_16_be_codecs(password: str) -> None:
    """bmp_password encodes by codecs.utf_16_be_encode, the function the utf-16-be codec calls (start-up: the
    codec's module is not imported): the same bytes, and the same refusal of a lone surrogate."""
    assert kdf.bmp_password(password) == password.encode("utf-16-be") + b"\x00\x00"
    with pytest.raises(UnicodeEncodeError) as ours:
        kdf.bmp_password(password + "\ud800")
    with pytest.raises(UnicodeEncodeError) as codec:
        (password + "\ud800").encode("utf-16-be")
    assert str(ours.value) == str(codec.value)
