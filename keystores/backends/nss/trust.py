"""NSS trust: the per-purpose levels stored in trust objects, the letters certutil shows ("CT,C,C"), and the
mapping onto model.Trust. Mirrors lib/pki/pki3hack.c (get_stan_trust, cert_trust_from_stan_trust) and
lib/certdb/certdb.c (CERT_EncodeTrustString).
"""

from __future__ import annotations

from keystores.errors import UsageError
from keystores.frozen import FrozenValue
from keystores.model import Trust

# Trust levels as NSS's CKO_NSS_TRUST objects store them (CKT_NSS + n).
CKT_NSS = 0xCE534350
TRUSTED = CKT_NSS + 1
TRUSTED_DELEGATOR = CKT_NSS + 2
MUST_VERIFY = CKT_NSS + 3
UNKNOWN = CKT_NSS + 5
NOT_TRUSTED = CKT_NSS + 10
VALID_DELEGATOR = CKT_NSS + 11

# PKCS#11 3.2 CKO_TRUST levels, mapped onto the NSS ones (as pk11merge.c does).
PKCS_LEVELS = {0: UNKNOWN, 1: TRUSTED, 2: TRUSTED_DELEGATOR, 3: NOT_TRUSTED, 4: MUST_VERIFY}

# certdb.h flag bits
_TERMINAL, _TRUSTED, _VALID_CA, _TRUSTED_CA, _USER, _CLIENT_CA, _GOVT = 1, 2, 8, 16, 64, 128, 512

PURPOSES = ("server", "client", "email", "code")


class Levels(FrozenValue):
    """One trust object's four levels (NSS's CKT_NSS_* values) and the step-up flag. A FrozenValue, not a
    dataclass: reading an NSS database would otherwise import dataclasses (and inspect), a tenth of listing a
    2,000-certificate database (bench/bench_nss.py)."""

    server: int
    client: int
    email: int
    code: int
    step_up: bool
    trusted_anything: bool  # set any of them, or step-up
    _fields = ("server", "client", "email", "code", "step_up")

    def __init__(self, server: int = MUST_VERIFY, client: int = MUST_VERIFY, email: int = MUST_VERIFY,
                 code: int = MUST_VERIFY, step_up: bool = False) -> None:
        init = object.__setattr__
        init(self, "server", server)
        init(self, "client", client)
        init(self, "email", email)
        init(self, "code", code)
        init(self, "step_up", step_up)
        # Not a field: listing asks it of every entry, and one Levels serves every trust object holding the same.
        init(self, "trusted_anything", step_up or any(v in (TRUSTED, TRUSTED_DELEGATOR, NOT_TRUSTED, VALID_DELEGATOR)
                                                      for v in (server, client, email, code)))


def _flags(level: int) -> int:
    return {TRUSTED: _TERMINAL | _TRUSTED, TRUSTED_DELEGATOR: _VALID_CA | _TRUSTED_CA,
            NOT_TRUSTED: _TERMINAL, VALID_DELEGATOR: _VALID_CA}.get(level, 0)


def _letters(flags: int) -> str:
    out = ""
    if flags & _VALID_CA and not flags & (_TRUSTED_CA | _CLIENT_CA):
        out += "c"
    if flags & _TERMINAL and not flags & _TRUSTED:
        out += "p"
    if flags & _TRUSTED_CA:
        out += "C"
    if flags & _CLIENT_CA:
        out += "T"
    if flags & _TRUSTED:
        out += "P"
    if flags & _USER:
        out += "u"
    if flags & _GOVT:
        out += "G"
    return out


def to_letters(levels: Levels | None, *, user: bool) -> str:
    """What `certutil -L` prints in its Trust Attributes column."""
    levels = levels or Levels()
    ssl = _flags(levels.server)
    client = _flags(levels.client)
    if client & _TRUSTED_CA:
        client = (client & ~_TRUSTED_CA) | _CLIENT_CA
    ssl |= client
    if levels.step_up:
        ssl |= _GOVT
    email, code = _flags(levels.email), _flags(levels.code)
    if user:
        ssl, email, code = ssl | _USER, email | _USER, code | _USER
    return f"{_letters(ssl)},{_letters(email)},{_letters(code)}"


def _parse_column(text: str) -> int:
    flags = 0
    for ch in text:
        bit = {"p": _TERMINAL, "P": _TRUSTED | _TERMINAL, "c": _VALID_CA, "C": _TRUSTED_CA | _VALID_CA,
               "T": _CLIENT_CA | _VALID_CA, "u": _USER, "w": 0, "I": 0, "G": _GOVT}.get(ch)
        if bit is None:
            raise UsageError(f"bad NSS trust letter '{ch}': use p, P, c, C, T, u, w, G (e.g. CT,C,C)")
        flags |= bit
    return flags


def _level(flags: int, *, client: bool) -> int:
    ca = _CLIENT_CA if client else _TRUSTED_CA
    if flags & ca:
        return TRUSTED_DELEGATOR
    if flags & _TRUSTED:
        return TRUSTED
    if flags & _TERMINAL:
        return NOT_TRUSTED
    if flags & _VALID_CA:
        return VALID_DELEGATOR
    return MUST_VERIFY


def from_letters(text: str) -> Levels:
    """Parse certutil's -t argument ("CT,C,C", "P,,", ",,")."""
    columns = text.split(",")
    if len(columns) != 3:
        raise UsageError(f"bad NSS trust '{text}': three comma-separated columns, e.g. CT,C,C")
    ssl, email, code = (_parse_column(c.strip()) for c in columns)
    return Levels(server=_level(ssl, client=False), client=_level(ssl, client=True),
                  email=_level(email, client=False), code=_level(code, client=False),
                  step_up=bool(ssl & _GOVT))


def to_model(levels: Levels | None, *, user: bool) -> Trust | None:
    """model.Trust for an entry: purposes trusted (as CA or as peer), `native` keeping certutil's letters."""
    native = to_letters(levels, user=user)
    good = (TRUSTED, TRUSTED_DELEGATOR)
    if levels is None or not levels.trusted_anything:
        return Trust(False, False, False, False, native=native) if user else None
    return Trust(tls_server=levels.server in good, tls_client=levels.client in good,
                 email=levels.email in good, code_signing=levels.code in good, native=native)


def from_model(trust: Trust | None) -> Levels | None:
    """Levels to store for an entry's trust; None means no trust object (",,", or "u,u,u" for key pairs)."""
    if trust is None:
        return None
    if trust.native and trust.native.count(",") == 2:
        try:
            levels = from_letters(trust.native)
        except UsageError:
            levels = None
        if levels is not None:
            return levels if levels.trusted_anything else None
    if not trust.purposes:
        return None
    ca = TRUSTED_DELEGATOR
    return Levels(server=ca if trust.tls_server else MUST_VERIFY, client=ca if trust.tls_client else MUST_VERIFY,
                  email=ca if trust.email else MUST_VERIFY, code=ca if trust.code_signing else MUST_VERIFY)
