"""What keystores.backends.pkcs12.structure hands to asn1crypto: a PKCS#12 file's layers in any form but the plain DER
structure.py reads itself (BER's indefinite lengths and constructed strings, an unknown content type or bag, damage),
read into the same values (Pfx, Part, Bag), with what is wrong named in asn1crypto's words. tests/test_pkcs12_lean.py
holds the two readers to the same result. A module of its own: a file in plain DER (keytool's, OpenSSL's, this
package's) loads none of it.
"""

from __future__ import annotations

from keystores.backends.pkcs12.structure import (
    FRIENDLY_NAME,
    JAVA_TRUST,
    LOCAL_KEY_ID,
    PBMAC1,
    SHROUDED_KEY_BAG,
    Bag,
    Mac,
    Part,
    Pfx,
)
from keystores.crypto import der

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def _pfx_by_asn1crypto(data: bytes, location: str) -> Pfx:
    from asn1crypto import pkcs12

    from keystores.errors import CorruptStore

    try:
        pfx = pkcs12.Pfx.load(data, strict=True)
        version = pfx["version"].native
    except (ValueError, TypeError, OverflowError) as exc:
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CorruptStore(f"not a readable PKCS#12 file ({text[:160]})", store=location) from exc
    auth_safe = pfx["auth_safe"]
    content_type = auth_safe["content_type"].native
    if version != "v3" or content_type != "data":
        return Pfx(3 if version == "v3" else version, content_type, None, None)  # refused by read.py, naming them
    content = auth_safe["content"].parsed if hasattr(auth_safe["content"], "parsed") else auth_safe["content"]
    safe = content.native if content is not None else b""
    mac_data = pfx["mac_data"]
    mac = None
    if isinstance(mac_data, pkcs12.MacData):
        digest_algorithm = mac_data["mac"]["digest_algorithm"]
        algorithm = digest_algorithm["algorithm"].dotted
        parameters = digest_algorithm["parameters"].dump() if algorithm == PBMAC1 else b""
        mac = Mac(algorithm, parameters, mac_data["mac"]["digest"].native, mac_data["mac_salt"].native,
                  mac_data["iterations"].native)
    return Pfx(3, content_type, safe, mac)


def _parts_by_asn1crypto(data: bytes) -> list[Part]:
    from asn1crypto import pkcs12

    parts = []
    for info in pkcs12.AuthenticatedSafe.load(data, strict=True):
        kind = info["content_type"].native
        if kind == "data":
            parts.append(Part(kind, data=info["content"].native))
        elif kind == "encrypted_data":
            eci = info["content"]["encrypted_content_info"]
            parts.append(Part(kind, data=eci["encrypted_content"].native or b"",
                              algorithm=eci["content_encryption_algorithm"].dump()))
        else:
            parts.append(Part(kind))
    return parts


def _bags_by_asn1crypto(data: bytes) -> list[Bag]:
    from asn1crypto import pkcs12

    bags = []
    for bag in pkcs12.SafeContents.load(data, strict=True):
        kind = bag["bag_id"].native
        name, key_id, trust = _asn1crypto_attributes(bag["bag_attributes"])
        value = bag["bag_value"]
        value_der, ignored = b"", False
        if kind == "cert_bag":
            ignored = value["cert_id"].native != "x509"  # SDSI certificates: never seen in the wild
            value_der = b"" if ignored else _certificate(value["cert_value"])
        elif kind == "secret_bag":
            secret_value = value["secret_value"].native
            ignored = value["secret_type_id"].dotted != SHROUDED_KEY_BAG  # only Java's shrouded secret keys are known
            value_der = b"" if ignored else secret_value
        elif kind == "crl_bag":
            ignored = True
        elif kind in ("key_bag", "pkcs8_shrouded_key_bag", "safe_contents"):
            value_der = value.untag().dump()
        bags.append(Bag(kind, bag["bag_id"].dotted, value_der, name, key_id, trust, ignored))
    return bags


def _certificate(cert_value: Any) -> bytes:
    """The certificate's bytes as the file holds them (asn1crypto's dump re-encodes some, changing the fingerprint
    openssl shows), checked to be a certificate as asn1crypto parses it."""
    raw = bytes(cert_value)
    parsed = cert_value.parsed
    try:
        whole = der.read(raw)[2] == len(raw)
    except der.DerError:
        whole = False
    return raw if whole else parsed.dump()  # type: ignore[no-any-return]


def _asn1crypto_attributes(attributes: Any) -> tuple[str | None, bytes | None, list[str] | None]:
    """(friendlyName, localKeyId, Java trust OIDs or None) of one bag."""
    name = key_id = trust = None
    if attributes is None or not hasattr(attributes, "__iter__"):
        return name, key_id, trust
    for attribute in attributes:
        oid = attribute["type"].dotted
        values = attribute["values"]
        if not len(values):
            continue
        if oid == FRIENDLY_NAME:
            name = values[0].native
        elif oid == LOCAL_KEY_ID:
            key_id = values[0].native
        elif oid == JAVA_TRUST:
            trust = [v.dotted for v in values]
    return name, key_id, trust
