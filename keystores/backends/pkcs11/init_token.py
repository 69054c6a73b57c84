"""Token administration python-pkcs11 cannot do (C_InitToken), through the optional PyKCS11 (GPL-2.0-or-later).

Only `keystores init-token` imports this, and only it needs `pip install 'keystores[admin]'`; the core never does.
A token is initialised in a free (uninitialised) slot, the way `softhsm2-util --init-token --free` does: an existing
token is never wiped from here.
"""

from __future__ import annotations

from keystores.errors import BackendUnavailable, KeystoreError, StoreExists, TokenNotFound, UsageError


def init_token(module: str, label: str, *, so_pin: str, user_pin: str, store: str | None = None) -> str:
    """Initialise the first free token of `module` as `label`, set its SO and user PINs; returns its serial."""
    try:
        import PyKCS11
    except ImportError as exc:
        raise BackendUnavailable("initialising a token needs PyKCS11 (GPL): pip install 'keystores[admin]'; or "
                                 "use the token's own tool (softhsm2-util --init-token --free ...)",
                                 store=store) from exc
    if not label or len(label.encode()) > 32:
        raise UsageError("a token label is 1 to 32 bytes", store=store)
    lib = PyKCS11.PyKCS11Lib()
    try:
        lib.load(module)
        free = None
        labels = []
        for slot in lib.getSlotList(tokenPresent=True):
            info = lib.getTokenInfo(slot)
            if info.flags & PyKCS11.CKF_TOKEN_INITIALIZED:
                labels.append(info.label.strip(" \x00"))
            elif free is None:
                free = slot
        if label in labels:
            raise StoreExists(f"a token labelled '{label}' exists already; choose another label", store=store)
        if free is None:
            shown = ", ".join(repr(x) for x in labels) or "(none)"
            raise TokenNotFound(f"{module} has no free (uninitialised) token slot; tokens: {shown}", store=store)
        # PKCS#11 labels are 32 bytes padded with blanks (PyKCS11 would pad with NULs, which some tools show).
        lib.initToken(free, so_pin, label + " " * (32 - len(label.encode())))
        # The slot keeps its number until the module is initialised again (SoftHSM then moves the token).
        session = lib.openSession(free, PyKCS11.CKF_SERIAL_SESSION | PyKCS11.CKF_RW_SESSION)
        try:
            session.login(so_pin, PyKCS11.CKU_SO)
            session.initPin(user_pin)
            session.logout()
        finally:
            session.closeSession()
        serial = lib.getTokenInfo(free).serialNumber.strip()
        return serial
    except PyKCS11.PyKCS11Error as exc:
        # PyKCS11Error's text names the CKR_ value; it never contains a PIN.
        raise KeystoreError(f"the module refused to initialise the token ({exc})", store=store) from exc
