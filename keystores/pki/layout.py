"""Where a certificate's fields are in its DER (_Layout: the TBSCertificate walked once, nothing decoded), and the two
readings made of that alone: a certificate's issuer and subject as encoded (certificate_names: what a chain is built
by before any certificate is decoded) and its subject with its key (subject_and_key: what a PEM file's labels and
pairs are made of). keystores.pki.columns serves these names too and reads `list`'s columns over the same layout;
they are a module of their own so that a command that only labels or chains certificates (convert to PEM, a
PKCS#12 file's chains) loads none of columns' readers (~20 KB of bytecode, issue 15).
"""

from __future__ import annotations

from keystores.crypto.der import read


class _Declined(ValueError):
    """A form this reader leaves to cryptography, or a malformed one (as is keystores.crypto.der.DerError)."""


class _Layout:
    """Where a certificate's fields are (offsets into its DER): the TBSCertificate walked once, its field tags
    checked, nothing decoded."""

    __slots__ = ("cert_stop", "issuer", "spki", "subject", "subject_at", "tbs_stop", "validity")

    def __init__(self, der: bytes) -> None:
        tag, cert_start, self.cert_stop = read(der, 0, len(der), minimal=True)
        if tag != 0x30 or self.cert_stop != len(der):
            raise _Declined
        tag, tbs_start, self.tbs_stop = read(der, cert_start, self.cert_stop, minimal=True)
        if tag != 0x30:
            raise _Declined
        tag, _, at = read(der, tbs_start, self.tbs_stop, minimal=True)
        if tag == 0xA0:  # [0] version
            tag, _, at = read(der, at, self.tbs_stop, minimal=True)
        alg_tag, _, issuer_at = read(der, at, self.tbs_stop, minimal=True)
        issuer_tag, _, validity_at = read(der, issuer_at, self.tbs_stop, minimal=True)
        validity_tag, validity_start, validity_stop = read(der, validity_at, self.tbs_stop, minimal=True)
        subject_tag, subject_start, subject_stop = read(der, validity_stop, self.tbs_stop, minimal=True)
        spki_tag, spki_start, spki_stop = read(der, subject_stop, self.tbs_stop, minimal=True)
        if (tag, alg_tag, issuer_tag, validity_tag, subject_tag, spki_tag) != (2, 0x30, 0x30, 0x30, 0x30, 0x30):
            raise _Declined
        self.issuer = (issuer_at, validity_at)  # the whole Name TLV
        self.validity = (validity_start, validity_stop)
        self.subject_at = validity_stop
        self.subject = (subject_start, subject_stop)  # the Name's content
        self.spki = (spki_start, spki_stop)


def subject_and_key(der: bytes) -> tuple[bytes, bytes] | None:
    """(the subject Name's content, the whole SubjectPublicKeyInfo) as encoded in a certificate, without decoding
    the rest (keystores.backends.pem.lazy_read labels and pairs with them). None when the DER is malformed."""
    try:
        layout = _Layout(der)
    except (IndexError, ValueError):  # _Declined, DerError
        return None
    return der[slice(*layout.subject)], der[layout.subject[1]:layout.spki[1]]  # the key's TLV follows the subject


def certificate_names(der: bytes) -> tuple[bytes, bytes] | None:
    """(issuer, subject) of a certificate as they are encoded in it (each Name's whole DER), without decoding the
    rest: what a chain is built by before any certificate is decoded. None when the DER is malformed."""
    try:
        layout = _Layout(der)
    except (IndexError, ValueError):  # _Declined, DerError
        return None
    return der[slice(*layout.issuer)], der[layout.subject_at:layout.subject[1]]
