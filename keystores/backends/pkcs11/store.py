"""PKCS#11 tokens (HSMs, smart cards, SoftHSM2) as a store, addressed by RFC 7512 URIs.

    pkcs11:token=LABEL?module-path=/usr/lib/softhsm/libsofthsm2.so     (or module=..., or $KEYSTORES_PKCS11_MODULE)

How objects become entries (the Java SunPKCS11 / NSS convention):
- a private key, its public key and certificate(s) share CKA_ID (and CKA_LABEL): one KEY_PAIR entry whose key is
  a KeyRef (a token Signer inside) for a sensitive or non-extractable key, or the plain key when the token lets
  it out. The chain is the certificate plus issuers found on the token by name.
- a private key without a certificate yet is a KEY_PAIR with an empty chain; its public key is entry.public_key.
- a certificate without a key is a TRUSTED_CERT when trusted: CKA_TRUSTED, or CKA_CERTIFICATE_CATEGORY "authority"
  (what we write: a user session may not set CKA_TRUSTED); else a CERTIFICATE (kind "certificate"), issuer
  certificates serving a key pair's chain included, as pkcs11-tool -O lists every certificate object.
- labels that repeat are shown as "label (2)", "label (3)" (keystores.pki.labels) so every entry has its own
  label; the numbering follows (label, CKA_ID) order, and is never written to the token.
- secret keys, data objects and public keys without their private key are not entries; a note says they exist.
The user PIN is the store password; one login attempt per open. Writes go to the token at once (PKCS#11 has
no transactions): save() does nothing, each add() removes what it created if it fails half-way, and a store
left by an error or an interrupt (its `with` block ending in an exception) destroys every object it created since
it was opened, so that a failed command leaves the token as it was and a rerun works. New objects
get CKA_ID = SHA-1 of the modulus/point; replace=True never destroys a private key (remove() does).
Open options: module=PATH.
"""

from __future__ import annotations

import contextlib
import functools

from keystores.backends.base import BaseStore
from keystores.backends.pkcs11.objects import _attribute_mapper, _Cert, _gone_errors, _Group
from keystores.backends.pkcs11.read import Pkcs11Reading
from keystores.backends.pkcs11.tokens import (
    describe_error,
    find_token,
    load_module,
    resolve_module,
    session_closed,
    session_opened,
)
from keystores.backends.pkcs11.uri import Pkcs11Uri
from keystores.errors import (
    Hint,
    KeystoreError,
    PasswordRequired,
    WrongPassword,
)
from keystores.model import Capabilities, Protection, ProtectionPart

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar

    from keystores.model import Entry, KeyRef, KeySpec


class Pkcs11Store(Pkcs11Reading, BaseStore):
    """One token, logged in with the store password as user PIN; see the module docstring for the mapping.

    Opened writable it is a write.WritablePkcs11Store, which adds the writing half (write.Pkcs11Writing): a
    read-only open (list, show, export) loads no writing code (bench/bench_core.py's token rows). Opened read-only,
    every change is refused as the writing half refuses it, and check_entry is the writing half's."""

    format: ClassVar[str] = "pkcs11"
    capabilities: ClassVar[Capabilities] = Capabilities(private_keys=True, extractable_keys=False,
                                                        secret_keys=False, trust=True, key_generation=True,
                                                        pin=True, bare_keys=True, transactional=False)

    def __new__(cls, location: str, **options: Any) -> Pkcs11Store:
        if options.get("writable") and cls is Pkcs11Store:
            from keystores.backends.pkcs11.write import WritablePkcs11Store

            cls = WritablePkcs11Store
        return super().__new__(cls)

    def __init__(self, location: str, *, password: str | None, writable: bool = False, create: bool = False,
                 module: str | None = None, profile: str = "modern") -> None:
        """`create` changes nothing: a token is initialised by `keystores token init`, never by opening it."""
        super().__init__(location, writable=writable, profile=profile)
        self.uri = Pkcs11Uri.parse(location)
        self.module_path = resolve_module(self.uri.module_path, self.uri.module_name, module, store=location)
        self._lib = load_module(self.module_path, store=location)
        self._session: Any = None
        self._made: list[Any] = []  # objects created since open, destroyed again if the command fails
        self._groups: dict[str, _Group] = {}
        self._chain_only_certs: list[_Cert] = []
        # What _scan read of each object, by handle, so that a scan after each added entry reads only the new
        # objects; forgotten when we change or destroy an object (a handle names one object while it exists).
        self._read: dict[int, Any] = {}
        self._listed: dict[Any, list[Any]] = {}  # the objects of the last listing, by class (see _scan)
        self._token = find_token(self._lib, self.module_path, label=self.uri.token, serial=self.uri.serial,
                                 store=location)
        self.token_label = self._token.label.strip()
        self._pin = password
        self._login(password)
        try:
            self._scan()
        except BaseException:
            self.close()
            raise

    @functools.cached_property
    def _mechanisms(self) -> set[Any]:
        """What the token can do (C_GetMechanismList, made into python-pkcs11's Mechanism enum), read when a key is
        made or used there: a listing, an export, an import of a certificate and a delete need none of it."""
        return self._token.slot.get_mechanisms()

    # --- session -------------------------------------------------------------------------------------------
    def _login(self, pin: str | None) -> None:
        from pkcs11 import PKCS11Error, TokenFlag
        from pkcs11 import exceptions as ck

        needs_login = bool(self._token.flags & TokenFlag.LOGIN_REQUIRED)
        if pin is None and (needs_login or self.writable):
            raise PasswordRequired(f"token '{self.token_label}' needs its user PIN", store=self.location,
                                   hint=Hint(": give {}", option="--password SOURCE", keyword="password"))
        mapper = _attribute_mapper()
        try:
            # One C_Login per open: a wrong PIN is reported at once, never retried (tokens lock after a few).
            self._session = self._token.open(rw=self.writable, user_pin=pin, attribute_mapper=mapper)
        except ck.UserAlreadyLoggedIn:
            # Login state is per process: another store of ours holds it already.
            self._session = self._token.open(rw=self.writable, attribute_mapper=mapper)
        except (ck.PinIncorrect, ck.PinLenRange, ck.PinInvalid) as exc:
            raise WrongPassword(f"wrong user PIN for token '{self.token_label}' (one attempt made; tokens lock "
                                "the PIN after a few wrong ones)", store=self.location) from exc
        except ck.PinLocked as exc:
            raise WrongPassword(f"the user PIN of token '{self.token_label}' is locked; the security officer "
                                "must reset it", store=self.location) from exc
        except ck.UserPinNotInitialized as exc:
            raise KeystoreError(f"token '{self.token_label}' has no user PIN yet; initialise it first",
                                store=self.location) from exc
        except ck.TokenWriteProtected as exc:
            raise KeystoreError(f"token '{self.token_label}' is write-protected", store=self.location) from exc
        except PKCS11Error as exc:
            raise KeystoreError(f"cannot open a session on token '{self.token_label}' ({describe_error(exc)})",
                                store=self.location) from exc
        session_opened(self.module_path)

    def close(self) -> None:
        if self._session is not None:
            with contextlib.suppress(Exception):
                self._session.close()
            self._session = None
            session_closed(self.module_path)
        super().close()

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            if exc_type is not None and self._session is not None:
                self._roll_back()
        finally:
            super().__exit__(exc_type, exc, tb)

    def _roll_back(self) -> None:
        """Destroy what this store created since it was opened (the command failed: it must change nothing)."""
        import warnings

        from pkcs11 import PKCS11Error

        made, self._made = self._made, []
        left = 0
        for obj in reversed(made):
            try:
                obj.destroy()
            except PKCS11Error as exc:
                left += not isinstance(exc, _gone_errors())
        if left:
            warnings.warn(f"{self.location}: {left} object(s) this command created could not be removed from "
                          f"token '{self.token_label}'", stacklevel=2)

    # --- opened read-only (a writable open is a WritablePkcs11Store, whose writing half comes first) -----------
    def check_entry(self, entry: Entry) -> None:
        from keystores.backends.pkcs11.write import Pkcs11Writing

        Pkcs11Writing.check_entry(self, entry)  # type: ignore[arg-type]

    def generate_key(self, label: str, spec: KeySpec) -> KeyRef:
        self._require_writable()
        raise AssertionError("a token store opened writable is a WritablePkcs11Store")

    def set_password(self, new_password: str) -> None:
        self._require_writable()
        raise AssertionError("a token store opened writable is a WritablePkcs11Store")

    def save(self) -> None:
        """Nothing to do: every change was written to the token when it was made."""

    def _write(self) -> None:
        """Never called: see save()."""

    def protection(self) -> Protection:
        token = self._token
        return self._protection({
            "token": ProtectionPart(f"{self.token_label} ({token.manufacturer_id.strip()} {token.model.strip()})"),
            "keys": ProtectionPart("held on the token; sensitive keys are used there and never exported")})

