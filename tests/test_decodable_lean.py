"""check_decodable (keystores.backends.base) judges a chain still held as DER from its bytes: a certificate
keystores.pki.shown reads is one cryptography decodes fully, so writing it
into a .kdb, an NSS database or a token imports no cryptography.x509 to find nothing (issue 15: ~30 ms of an import
into a .kdb). Where shown declines, the chain is decoded as before.

Held to decoding's verdicts: over every certificate of the cryptography-vectors x509/ folder, the certificates of the
shared GSKit CMS vectors, certificates cryptography refuses in part (DSA with NULL parameters, a duplicated
extension, an unknown key type) and seeded damaged copies of all of them, read_shown never answers where
decoding finds a problem, and check_decodable on a .kdb says the same (the same CapabilityError text, or nothing)
for an entry whose chain is held as DER as for the same entry decoded. And in a user's install, importing a
certificate into a .kdb, JKS or PKCS#12 loads no cryptography.x509.
"""

from __future__ import annotations

import random
import warnings
from pathlib import Path

import pytest
from test_shown import _damaged, build, vector_certificates
from test_store_lean import _as_user, installed, stores  # noqa: F401 - fixtures

from keystores.errors import CapabilityError
from keystores.lazy_entries import LazyEntry
from keystores.model import Entry, EntryKind
from keystores.pki.certificates import decode_certificate
from keystores.pki.shown import read_shown
from keystores.pki.undecoded import problem_of
from keystores.store import open_store

SHARED_CMS = Path(__file__).resolve().parent.parent.parent / "shared" / "vectors" / "cms"
CMS_PASSWORDS = {"kse": "password", "lchudinov_tls-examples": "password", "alexandrezanetti_claro": "senha",
                 "robert0714_vagrant_ihs_liberty_sticky-session": "1qaz2wsx"}
PASSWORD = "decodable-1"
DAMAGED_ROUNDS = 6


def _shared_cms_certificates() -> list[bytes]:
    found = []
    for folder, password in CMS_PASSWORDS.items():
        for path in sorted((SHARED_CMS / folder).rglob("*.kdb")):
            with open_store(path, password=password) as store:
                for entry in store.entries():
                    found.extend(entry.chain_der())
    return found


def _refused_in_part() -> list[bytes]:
    """Certificates cryptography decodes only in part, which shown must decline: a duplicated extension, and a
    self-signed one whose subject key is on secp256k1 signed with a hash shown does not read."""
    from cryptography import x509

    usage = x509.BasicConstraints(ca=True, path_length=None)
    der = build([(usage, False)])
    extension = der[der.index(bytes.fromhex("0603551d13")) - 2 :]
    extension = extension[: extension[1] + 2]
    start = der.index(extension)
    doubled = der[:start] + extension + der[start:]  # lengths now wrong: damage, declined too
    return [doubled, build(key="k1"), build(hash_name="sha224")]


@pytest.fixture(scope="module")
def corpus() -> list[bytes]:
    ders = [der for _, der in vector_certificates()]
    if SHARED_CMS.is_dir():
        ders += _shared_cms_certificates()
    ders += _refused_in_part()
    rng = random.Random(15)
    damaged = [_damaged(der, rng) for der in ders if decodes_fully(der) for _ in range(DAMAGED_ROUNDS)]
    return ders + damaged


def decodes_fully(der: bytes) -> bool:
    """What check_decodable takes for a certificate cryptography decodes fully."""
    return read_shown(der) is not None


def _problem(der: bytes) -> str | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return problem_of(decode_certificate(der))


def test_decodes_fully_only_where_decoding_finds_no_problem(corpus: list[bytes]) -> None:
    if len(corpus) < 100:
        pytest.skip("cryptography_vectors is not installed")
    answered = [der for der in corpus if decodes_fully(der)]
    wrong = [der.hex() for der in answered if _problem(der) is not None]
    assert not wrong
    refused = sum(_problem(der) is not None for der in corpus)
    assert len(answered) > 1000 and refused > 100, (len(answered), refused)  # both verdicts are exercised


def _verdict(store: object, entry: Entry) -> str | None:
    try:
        store.check_decodable(entry)  # type: ignore[attr-defined]
    except CapabilityError as exc:
        return str(exc)
    return None


def test_check_decodable_says_what_decoding_the_chain_says(corpus: list[bytes], tmp_path: Path) -> None:
    """A certificate entry and a two-certificate chain, held as DER (LazyEntry, as the backends read them) and
    decoded: the same CapabilityError text or none, on a .kdb (which cannot store undecoded entries)."""
    rng = random.Random(6)
    sample = corpus if len(corpus) < 1500 else rng.sample(corpus, 1500)
    with open_store(tmp_path / "d.kdb", password=PASSWORD, create=True) as store:
        assert not store.capabilities.undecoded_entries
        for index, der in enumerate(sample):
            chain = (der, sample[index - 1])

            def decoded(chain: tuple[bytes, ...] = chain) -> tuple[object, ...]:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    return tuple(decode_certificate(item) for item in chain)

            held = LazyEntry.lazy({"chain": decoded}, leaf_der=der, chain_der=chain, label="x",
                                  kind=EntryKind.CERTIFICATE)
            assert held.undecoded_chain == chain
            reference = Entry("x", EntryKind.CERTIFICATE, chain=decoded())
            assert _verdict(store, held) == _verdict(store, reference), der.hex()


@pytest.mark.parametrize("name", ["s.kdb", "s.jks", "s.p12"])
def test_importing_a_certificate_decodes_none(installed: str, stores: dict[str, str], name: str,  # noqa: F811
                                               tmp_path: Path) -> None:
    """extra.pem is in the form shown reads: nothing needs it decoded to write it."""
    copy = tmp_path / name
    copy.write_bytes(Path(stores[name]).read_bytes())
    args = ["import", stores["extra"], str(copy), "--label", "extra"]
    if name == "s.kdb":
        (tmp_path / "s.sth").write_bytes(Path(stores["s.kdb"]).with_suffix(".sth").read_bytes())
    else:
        args += ["--dest-password", "env:LEAN_PW"]
    modules, _ = _as_user(installed, args)
    assert "cryptography.x509" not in modules
    assert "keystores.ops.describe" not in modules  # nothing skipped: no certificate to describe
    assert "keystores.pki.undecoded" not in modules  # nothing to decode
    with open_store(copy, password=PASSWORD_OF_STORES) as store:
        assert store.get("extra").chain_der() == (_pem_der(stores["extra"]),)


PASSWORD_OF_STORES = "lean-store-1"  # test_store_lean's


def _pem_der(path: str) -> bytes:
    import base64

    body = Path(path).read_text().split("-----")[2]
    return base64.b64decode("".join(body.split()))
