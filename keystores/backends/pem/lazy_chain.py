"""lazy_read.py's chain building: a key pair's chain over the file's other certificates, built as read.py builds it
(keystores.pki.chain.build_chain over certificates read from their DER), and the checks that decline a file whose
names or keys only cryptography's reading compares as read.py does. Apart from lazy_read.py: a file holding a key and
its certificate alone (`list pair.pem`), or certificates alone, builds no chain (start-up, issue 15)."""

from __future__ import annotations

from keystores.backends.pem.lazy_read import _elements, _NotHere
from keystores.crypto.der import DerError, read

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    from keystores.backends.pem.lazy_read import _Held
    from keystores.backends.pem.store import PemStore


def _nearest(certificates: list[_Held], subject: bytes, position: int) -> list[_Held]:
    """The certificates whose subject is `subject` (as encoded), in read.py's order of preference: those after
    `position` (where writers put a key pair's own chain), then those before it, nearest first."""
    same = [c for c in certificates if c.subject == subject]
    after = [c for c in same if c.position >= position]
    return after + [c for c in reversed(same) if c.position < position]


def _chain(store: PemStore, leaf: _Held, certificates: list[_Held]) -> tuple[tuple[_Held, ...], str | None]:
    """The leaf's chain as read.py builds it (keystores.pki.chain.build_chain: issuer name AND signature, the
    candidates after the leaf first), with build_chain itself over certificates read from their DER; and the
    note read.py adds when the signature budget ran out. _NotHere where the names or keys of the file are not in
    forms for which that gives read.py's answer."""
    if not _names_agree([name for held in certificates for name in (held.issuer, held.subject)]):
        raise _NotHere
    if leaf.issuer not in {held.subject for held in certificates}:
        return (leaf,), None  # no candidate issuer at all (a chain the file does not hold)
    from keystores.limits import VerificationBudget
    from keystores.pki.chain import build_chain

    if not all(held.shown for held in certificates):
        # Chains are built here over certificates keystores.pki.shown reads (its usual forms, with the extensions
        # public CAs write, SCT lists included); one cryptography decodes in another form is chained by read.py
        raise _NotHere
    listed = {held.position: _listed_type()(held) for held in certificates}

    def issuers(cert: Any) -> Iterator[Any]:
        for held in _nearest(certificates, cert.held.issuer, leaf.position):
            yield listed[held.position]

    verifications = VerificationBudget()
    chain = build_chain(listed[leaf.position], issuers, verifications)
    return tuple(cert.held for cert in chain), verifications.note(store.location)


_LISTED: list[type] = []  # the class, made once (functools.cache's import is start-up a listing does not need)


def _listed_type() -> type:
    """EncodedCertificate (names, key, signature and its hash read from the DER, as keystores.pki.chain compares and
    verifies them) that knows its block; _NotHere for what read.py would answer by cryptography's decoding: a
    signature algorithm not read here, an encoding cryptography's parser refuses."""
    if _LISTED:
        return _LISTED[0]
    from keystores.pki.encoded import EncodedCertificate

    class Listed(EncodedCertificate):
        def __init__(self, held: _Held) -> None:
            super().__init__(held.block.der)
            self.held = held
            try:
                if (self.issuer_der, self.subject_der) != (held.issuer, held.subject) or not self.signature:
                    raise _NotHere
            except ValueError:  # DerError: not minimal DER, which cryptography refuses
                raise _NotHere from None

        @property
        def signature_hash_name(self) -> str | None:
            name = super().signature_hash_name
            if name is None:
                raise _NotHere  # RSA-PSS, Ed25519 ...: verified on cryptography's decoding, in read.py
            return name

    _LISTED.append(Listed)
    return Listed


_STRING_TAGS = frozenset({0x12, 0x13, 0x14, 0x16, 0x1A})  # Numeric, Printable, T61, IA5, VisibleString


def _names_agree(names: list[bytes]) -> bool:
    """Whether two of `names` are equal as cryptography's x509.Name compares them (read.py's chains) only where
    their DER is equal (keystores.pki.chain's comparison of certificates read from their DER)."""
    compared: dict[tuple[frozenset[tuple[bytes, str]], ...], bytes] = {}
    return all(compared.setdefault(_as_compared(name), name) == name for name in set(names))


def _as_compared(name: bytes) -> tuple[frozenset[tuple[bytes, str]], ...]:
    """A Name as x509.Name compares it: its RDNs in order, each the set of its (OID, text value); _NotHere for a
    value whose text only cryptography reads (another string type, or one outside ASCII but a UTF8String)."""
    try:
        tag, start, end = read(name)
        if tag != 0x30 or end != len(name):
            raise _NotHere
        rdns = []
        for rdn_tag, rdn_start, rdn_end in _elements(name, start, end):
            attributes = set()
            for pair_tag, pair_start, pair_end in _elements(name, rdn_start, rdn_end):
                (oid_tag, oid_start, oid_end), (value_tag, value_start, value_end) = _elements(name, pair_start,
                                                                                               pair_end)
                value = name[value_start:value_end]
                if rdn_tag != 0x31 or pair_tag != 0x30 or oid_tag != 0x06 \
                        or not (value_tag == 0x0C or (value_tag in _STRING_TAGS and value.isascii())):
                    raise _NotHere
                attributes.add((name[oid_start:oid_end], value.decode("utf-8")))
            rdns.append(frozenset(attributes))
    except (DerError, ValueError):  # a pair that is not two elements; UnicodeDecodeError
        raise _NotHere from None
    return tuple(rdns)
