"""PEM against openssl, interleaved: `keystores list` on a CA bundle vs `openssl storeutl -certs` (both parse every
certificate), and on an encrypted key + chain vs `openssl pkey` decrypting the same key; and the start-up of `list`
on the small PEM/DER files users list (issue 15 item 2) against `python -c pass`, goal 2.5x: among them a key with
the chain a public CA issues (server-ca.pem: AIA, CRL distribution points, policies, an SCT list). Start-up is
measured as bench_core measures it (harness: the wheel install's console script, CPU beside wall, the cheap jobs
in more rounds), each file also against its floor (pem_key_floor where a key is decrypted, else the launcher's).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (
    DER_CHILDREN,
    FLOOR_WHAT,
    FLOORS,
    LEAN_CTYPES,
    command_rows,
    measure_runs,
    startup_note,
    startup_row,
    user_install,
)

PASSWORD_ENV = {"BENCH_PW": "bench-password"}
CAS = 300


def _make_files(folder: Path) -> tuple[Path, Path]:
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    from keystores.model import TRUST_ALL, Entry, EntryKind
    from keystores.store import open_store

    now = dt.datetime.now(dt.UTC)

    def cert(key, subject: str, issuer: str, issuer_key) -> x509.Certificate:
        return (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
                .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now).not_valid_after(now + dt.timedelta(days=30))
                .sign(issuer_key, hashes.SHA256()))

    bundle = folder / "cas.pem"
    with open_store(bundle, create=True) as store:
        for i in range(CAS):
            key = ec.generate_private_key(ec.SECP256R1())
            store.add(Entry(f"CA {i:03d}", EntryKind.TRUSTED_CERT, chain=(cert(key, f"CA {i:03d}", f"CA {i:03d}",
                                                                               key),), trust=TRUST_ALL))
    server = folder / "server.pem"
    root_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    root = cert(root_key, "Root", "Root", root_key)
    leaf = cert(leaf_key, "server", "Root", root_key)
    with open_store(server, create=True, password=PASSWORD_ENV["BENCH_PW"]) as store:
        store.add(Entry("server", EntryKind.KEY_PAIR, chain=(leaf, root), key=leaf_key))
    _small_files(folder, leaf, leaf_key)
    _public_ca_chain(folder)
    return bundle, server


def _small_files(folder: Path, leaf, leaf_key) -> None:  # type: ignore[no-untyped-def]
    """The other small files users list: a DER certificate, a key in OpenSSL's traditional encrypted form (DEK-Info)
    with its certificate, an encrypted PKCS#8 key alone."""
    from cryptography.hazmat.primitives import serialization

    encryption = serialization.BestAvailableEncryption(PASSWORD_ENV["BENCH_PW"].encode())
    (folder / "server.der").write_bytes(leaf.public_bytes(serialization.Encoding.DER))
    (folder / "traditional.pem").write_bytes(
        leaf_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, encryption)
        + leaf.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        leaf_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption))


# A Signed Certificate Timestamp list as public CAs embed one (the extnValue of badssl.com's certificate in the
# cryptography-vectors package, x509/badssl-sct.pem): two SCTs' worth of bytes a listing reads past.
_SCT_LIST = bytes.fromhex(
    "047a0078007600a7ce4a4e6207e0addee5fdaa4b1f86768767b5d002a55d47310e7e670a95eab2000001586fffceb40000040300473045"
    "022100b803ad34f6fc0f2cff84a086e5d7cf5af00a07626a7fb3a64464f195a448451102202f618d531b6f4ab80a67b207e18f6dadd104"
    "4a5eb389ef7c60c26853f93d1f6d")


def public_ca_chain() -> tuple[object, list[object]]:
    """(the leaf's key, [leaf, issuing CA, root]) as a public CA issues them: RSA-2048 root and issuing CA, an EC
    P-256 leaf, with the extensions public CAs write (authority information access, CRL distribution points,
    certificate policies with a CPS, key identifiers, key usage, basic constraints; the leaf's SAN, EKU and SCT
    list)."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

    when = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    keys = [ec.generate_private_key(ec.SECP256R1()), rsa.generate_private_key(65537, 2048),
            rsa.generate_private_key(65537, 2048)]
    names = [x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
                        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example Trust Services"),
                        x509.NameAttribute(NameOID.COMMON_NAME, common)])
             for common in ("www.example.com", "Example TLS Issuing CA G2", "Example Root CA")]
    certificates: list[x509.Certificate] = []
    for depth in (2, 1, 0):
        issuer = min(depth + 1, 2)
        ca = depth > 0
        builder = (x509.CertificateBuilder().subject_name(names[depth]).issuer_name(names[issuer])
                   .public_key(keys[depth].public_key()).serial_number(0x1234567890ABCDEF + depth)
                   .not_valid_before(when).not_valid_after(when + dt.timedelta(days=3650 if ca else 90))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if depth == 1 else None), critical=True)
                   .add_extension(x509.KeyUsage(not ca, False, not ca, False, False, ca, ca, False, False),
                                  critical=True)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(keys[depth].public_key()),
                                  critical=False))
        if depth < 2:
            builder = (builder
                       .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(keys[issuer].public_key()),
                                      critical=False)
                       .add_extension(x509.AuthorityInformationAccess([
                           x509.AccessDescription(AuthorityInformationAccessOID.OCSP,
                                                  x509.UniformResourceIdentifier("http://ocsp.example.com")),
                           x509.AccessDescription(AuthorityInformationAccessOID.CA_ISSUERS,
                                                  x509.UniformResourceIdentifier("http://crt.example.com/ca.crt"))]),
                           critical=False)
                       .add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
                           [x509.UniformResourceIdentifier("http://crl.example.com/ca.crl")], None, None, None)]),
                           critical=False)
                       .add_extension(x509.CertificatePolicies([
                           x509.PolicyInformation(x509.ObjectIdentifier("2.23.140.1.2.2"), None),
                           x509.PolicyInformation(x509.ObjectIdentifier("1.3.6.1.4.1.44947.1.1.1"),
                                                  ["https://www.example.com/cps"])]), critical=False))
        if depth == 0:
            builder = (builder
                       .add_extension(x509.SubjectAlternativeName([x509.DNSName("www.example.com"),
                                                                   x509.DNSName("example.com")]), critical=False)
                       .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                                             ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
                       .add_extension(x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2"),
                                                                 _SCT_LIST), critical=False))
        certificates.insert(0, builder.sign(keys[issuer], hashes.SHA256()))
    return keys[0], certificates


def _public_ca_chain(folder: Path) -> None:
    """server-ca.pem: an encrypted key with the chain public_ca_chain makes, as `keystores convert` writes it."""
    from keystores.model import Entry, EntryKind
    from keystores.store import open_store

    key, chain = public_ca_chain()
    with open_store(folder / "server-ca.pem", create=True, password=PASSWORD_ENV["BENCH_PW"]) as store:
        store.add(Entry("server", EntryKind.KEY_PAIR, chain=tuple(chain), key=key))


def pem_key_floor(path: Path, password_variable: str) -> str:
    """The name of the floor (made for `path`) of listing a PEM file that holds an encrypted private key, the least
    any tool must do, the cheapest way: the launcher; the file read and each block's base64 decoded (binascii); the
    key's one derivation at the file's own parameters (PBES2: PBKDF2-HMAC with its PRF and count; OpenSSL's
    traditional DEK-Info form: EVP_BytesToKey, MD5) by _hashlib; and its AES-CBC decryption by the interpreter's
    libcrypto through ctypes, as the NSS floor decrypts (harness.nss_floor on the nss branch): Python has no cipher of
    its own, and cryptography's compiled module costs more to load. It fails unless the password in
    `password_variable` (as the command is given it) opens the key: the decryption's padding is checked, the PKCS#8
    or SEC1 SEQUENCE it gives is looked at. Held to this rather than to the 1-derivation floor, whose PBKDF2 alone
    leaves out the base64 and the AES every tool pays (keystores decrypts through that same libcrypto; it also
    checks the key's public point and the certificates, which this leaves out: stricter than it needs)."""
    name = f"PEM key floor ({path.name})"
    FLOORS[name] = (
        "import binascii, _hashlib, os\n" + LEAN_CTYPES +
        f"text = open({str(path)!r}, 'rb').read()\n"
        "blocks = {}  # the body of each block (after its headers, if any): its label's\n"
        "for part in text.split(b'-----BEGIN ')[1:]:\n"
        "    label, _, rest = part.partition(b'-----END')[0].partition(b'-----')\n"
        "    headers, _, body = rest.rpartition(b'\\n\\n') if b'DEK-Info' in rest else (b'', b'', rest)\n"
        "    blocks.setdefault(label, []).append((headers, binascii.a2b_base64(body)))\n"
        "(headers, der), = (found for label, found in blocks.items() if label.endswith(b'PRIVATE KEY')).__next__()\n"
        "ders = [der for label, found in blocks.items() if not label.endswith(b'PRIVATE KEY') for _, der in found]\n"
        + DER_CHILDREN +
        f"password = os.environ[{password_variable!r}].encode()\n"
        "if headers:  # Proc-Type: 4,ENCRYPTED / DEK-Info: AES-256-CBC,<iv>: EVP_BytesToKey, one MD5 round\n"
        "    cipher, _, iv_hex = headers.partition(b'DEK-Info: ')[2].partition(b'\\n')[0].partition(b',')\n"
        "    iv = bytes.fromhex(iv_hex.decode())\n"
        "    size = int(cipher.split(b'-')[1]) // 8\n"
        "    key, previous = b'', b''\n"
        "    while len(key) < size:\n"
        "        previous = _hashlib.openssl_md5(previous + password + iv[:8]).digest()\n"
        "        key += previous\n"
        "    key, ciphertext = key[:size], der\n"
        "else:  # SEQ{ SEQ{ PBES2, SEQ{ SEQ{ PBKDF2, SEQ{ salt, count, PRF } }, SEQ{ AES-CBC, iv } } }, ciphertext }\n"
        "    (algorithm, _), (ciphertext, _) = children(children(der)[0][0])\n"
        "    kdf, cipher = (contents for contents, _ in children(children(algorithm)[1][0]))\n"
        "    salt, count, prf = (contents for contents, _ in children(children(kdf)[1][0]))\n"
        "    digest = {b'\\x09': 'sha256', b'\\x0a': 'sha384', b'\\x0b': 'sha512'}[children(prf)[0][0][-1:]]\n"
        "    size = {b'\\x02': 16, b'\\x16': 24, b'\\x2a': 32}[children(cipher)[0][0][-1:]]\n"
        "    iv = children(cipher)[1][0]\n"
        "    key = _hashlib.pbkdf2_hmac(digest, password, salt, int.from_bytes(count, 'big'), size)\n"
        "lib = ctypes.CDLL('libcrypto.so.3', mode=os.RTLD_NOLOAD)\n"
        "p, n = ctypes.c_void_p, ctypes.c_int\n"
        "lib.EVP_CIPHER_CTX_new.restype = lib.EVP_get_cipherbyname.restype = p\n"
        "lib.EVP_get_cipherbyname.argtypes = [ctypes.c_char_p]\n"
        "lib.EVP_DecryptInit_ex.argtypes = [p, p, p, ctypes.c_char_p, ctypes.c_char_p]\n"
        "lib.EVP_DecryptUpdate.argtypes = [p, ctypes.c_char_p, ctypes.POINTER(n), ctypes.c_char_p, n]\n"
        "lib.EVP_DecryptFinal_ex.argtypes = [p, p, ctypes.POINTER(n)]\n"
        "context, out, done, last = lib.EVP_CIPHER_CTX_new(), ctypes.create_string_buffer(len(ciphertext) + 16), "
        "n(), n()\n"
        "lib.EVP_DecryptInit_ex(context, lib.EVP_get_cipherbyname(f'aes-{size * 8}-cbc'.encode()), None, key, iv)\n"
        "lib.EVP_DecryptUpdate(context, out, ctypes.byref(done), ciphertext, len(ciphertext))\n"
        "if (lib.EVP_DecryptFinal_ex(context, ctypes.addressof(out) + done.value, ctypes.byref(last)) != 1\n"
        "        or out.raw[:1] != b'\\x30' or not all(d[:1] == b'\\x30' for d in ders)):\n"
        "    raise SystemExit('PEM key floor: the password does not open the key')\n")
    FLOOR_WHAT[name] = ("the launcher + the file's base64 (binascii) + its key's one derivation at the file's own "
                        "count (_hashlib) + the key's AES-CBC (libcrypto through ctypes)")
    return name


STARTUP = {"list server.pem (encrypted key + chain)": "server.pem",
           "list server-ca.pem (encrypted key + public CA's chain)": "server-ca.pem",
           "list server.der (a DER certificate)": "server.der",
           "list traditional.pem (DEK-Info key + certificate)": "traditional.pem",
           "list key.pem (encrypted key alone)": "key.pem"}


# (rounds of every job, rounds of the start-up jobs and their baselines) by quick; the 300-CA bundle and openssl's
# jobs, which are not start-up rows, run in the first number of rounds only
ROUNDS = {True: (5, 13), False: (11, 31)}


def main(quick: bool) -> list[str]:
    install = user_install()
    ours = install.keystores
    with tempfile.TemporaryDirectory() as tmp:
        bundle, server = _make_files(Path(tmp))
        commands = {name: [*ours, "list", str(Path(tmp) / file), "--password", "env:BENCH_PW"]
                    for name, file in STARTUP.items()}
        # a DER certificate needs no password-based key; the others decrypt one (pem_key_floor)
        floor_of = {name: "console-script floor" if file.endswith(".der") else
                    pem_key_floor(Path(tmp) / file, "BENCH_PW") for name, file in STARTUP.items()}
        jobs = {
            "python": install.pass_(),
            **{floor: install.floor(floor) for floor in dict.fromkeys(floor_of.values())},
            "ours bundle": [*ours, "list", str(bundle)],
            "openssl bundle": ["openssl", "storeutl", "-noout", "-certs", str(bundle)],
            "openssl server": ["openssl", "pkey", "-in", str(server), "-passin", "env:BENCH_PW", "-noout"],
            **commands,
        }
        rounds, cheap_rounds = ROUNDS[quick]
        runs = measure_runs(jobs, rounds, {**os.environ, **PASSWORD_ENV}, warmup=1,
                            repeatable=set(jobs) - {"ours bundle", "openssl bundle", "openssl server"},
                            cheap_rounds=cheap_rounds)
    server_name = next(iter(STARTUP))
    return [
        startup_row(f"list, {CAS}-CA PEM bundle", runs, "ours bundle", "openssl bundle", "openssl storeutl -certs"),
        startup_row("list, encrypted key + chain PEM", runs, server_name, "openssl server", "openssl pkey"),
        startup_note(install),
        *command_rows(install, runs, commands, floor_of),
    ]


if __name__ == "__main__":
    for line in main(quick="--quick" in sys.argv):
        print(line)
