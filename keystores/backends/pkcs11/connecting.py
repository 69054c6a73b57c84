"""Connecting to a token: the module loaded (dlopen, C_Initialize), the token found, and one login.

Pkcs11Store.__init__ connects through connect(); the login's errors (a wrong or locked PIN, none given, a token
without a user PIN or write-protected) are raised here, as the store raised them.
"""

from __future__ import annotations

from keystores.backends.pkcs11.tokens import describe_error, find_token, load_module, session_opened
from keystores.errors import Hint, KeystoreError, PasswordRequired, WrongPassword

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from keystores.backends.pkcs11.uri import Pkcs11Uri


def connect(module_path: str, uri: Pkcs11Uri, pin: str | None, writable: bool, location: str) -> tuple[Any, Any, Any]:
    """The module loaded (C_Initialize, once per process), the token found, and a session logged in to it."""
    lib = load_module(module_path, store=location)
    token = find_token(lib, module_path, label=uri.token, serial=uri.serial, store=location)
    return lib, token, log_in(token, pin, writable, module_path, location)


def log_in(token: Any, pin: str | None, writable: bool, module_path: str, location: str) -> Any:
    """A session on `token` logged in with `pin`: one C_Login per open, so that a wrong PIN is reported at once and
    never retried (tokens lock the PIN after a few)."""
    from pkcs11 import PKCS11Error, TokenFlag
    from pkcs11 import exceptions as ck

    label = token.label.strip()
    needs_login = bool(token.flags & TokenFlag.LOGIN_REQUIRED)
    if pin is None and (needs_login or writable):
        raise PasswordRequired(f"token '{label}' needs its user PIN", store=location,
                               hint=Hint(": give {}", option="--password SOURCE", keyword="password"))
    mapper = attribute_mapper()
    try:
        session = token.open(rw=writable, user_pin=pin, attribute_mapper=mapper)
    except ck.UserAlreadyLoggedIn:
        # Login state is per process: another store of ours holds it already.
        session = token.open(rw=writable, attribute_mapper=mapper)
    except (ck.PinIncorrect, ck.PinLenRange, ck.PinInvalid) as exc:
        raise WrongPassword(f"wrong user PIN for token '{label}' (one attempt made; tokens lock the PIN after a few "
                            "wrong ones)", store=location) from exc
    except ck.PinLocked as exc:
        raise WrongPassword(f"the user PIN of token '{label}' is locked; the security officer must reset it",
                            store=location) from exc
    except ck.UserPinNotInitialized as exc:
        raise KeystoreError(f"token '{label}' has no user PIN yet; initialise it first", store=location) from exc
    except ck.TokenWriteProtected as exc:
        raise KeystoreError(f"token '{label}' is write-protected", store=location) from exc
    except PKCS11Error as exc:
        raise KeystoreError(f"cannot open a session on token '{label}' ({describe_error(exc)})",
                            store=location) from exc
    session_opened(module_path)
    return session


def attribute_mapper() -> Any:
    """python-pkcs11's mapper plus CKA_CERTIFICATE_CATEGORY, which it does not know."""
    import struct

    from pkcs11 import Attribute
    from pkcs11.attributes import AttributeMapper

    mapper = AttributeMapper()
    ulong = struct.Struct("L")
    mapper.register_handler(Attribute.CERTIFICATE_CATEGORY, ulong.pack, lambda v: ulong.unpack(v)[0])
    return mapper
