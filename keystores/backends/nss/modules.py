"""PKCS#11 modules registered with an NSS database: what `modutil -add/-delete/-list` do to pkcs11.txt.

pkcs11.txt holds blocks separated by blank lines; `#` starts a comment; keys are `library=`, `name=`,
`parameters=` and `NSS=`. The internal module's block carries `internal` in its NSS= flags. Writes are atomic,
under the folder lock, and refused while a browser holds the profile.
"""

from __future__ import annotations

import os

from keystores.errors import EntryExists, EntryNotFound, StoreLocked, StoreNotFound, UsageError
from keystores.frozen import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

MECHANISMS = ("RSA", "DSA", "ECC", "DH", "RC2", "RC4", "DES", "RANDOM", "SHA1", "MD5", "MD2", "SSL", "TLS", "AES",
              "Camellia", "SEED", "SHA256", "SHA512")

# What NSS writes when it creates pkcs11.txt itself (NSS 3.87); configdir is the database folder.
_INTERNAL = ("library=\nname=NSS Internal PKCS #11 Module\n"
             "parameters=configdir='{configdir}' certPrefix='' keyPrefix='' secmod='secmod.db' flags= updatedir='' "
             "updateCertPrefix='' updateKeyPrefix='' updateid='' updateTokenDescription='' \n"
             "NSS=Flags=internal,critical trustOrder=75 cipherOrder=100 slotParams=(1={{slotFlags=[ECC,RSA,DSA,DH,"
             "RC2,RC4,DES,RANDOM,SHA1,MD5,MD2,SSL,TLS,AES,Camellia,SEED,SHA256,SHA512] askpw=any timeout=30}})\n")


class Module(Record):
    """One block of pkcs11.txt. A Record, not a dataclass: `keystores nss modules` and `add-module` would import
    dataclasses (and with it inspect) for this class alone (start-up speed; tests/test_nss_modules_lean.py)."""

    __slots__ = ("library", "lines", "name", "nss", "parameters")
    _fields = ("name", "library", "parameters", "nss", "lines")
    _hidden = frozenset({"lines"})

    def __init__(self, name: str, library: str = "", parameters: str = "", nss: str = "",
                 lines: list[str] | None = None) -> None:
        self.name, self.library, self.parameters, self.nss = name, library, parameters, nss
        self.lines = [] if lines is None else lines

    @property
    def internal(self) -> bool:
        return "internal" in self.nss.lower()

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "library": self.library or None, "internal": self.internal,
                "parameters": self.parameters or None, "nss": self.nss or None}


def _folder(location: str) -> str:
    folder = location[4:] if location.startswith("sql:") else location
    if not os.path.isdir(folder):
        raise StoreNotFound("no such folder", store=location)
    if not os.path.exists(os.path.join(folder, "cert9.db")):
        raise StoreNotFound("is not an NSS database (no cert9.db)", store=location)
    return folder


def parse(text: str) -> list[Module]:
    """The module blocks of a pkcs11.txt, in order."""
    modules: list[Module] = []
    block: list[str] = []

    def flush() -> None:
        values: dict[str, str] = {}
        for line in block:
            key, sep, value = line.partition("=")
            if sep:
                values.setdefault(key.strip().lower(), value)
        if values:
            modules.append(Module(name=values.get("name", ""), library=values.get("library", ""),
                                  parameters=values.get("parameters", ""), nss=values.get("nss", ""),
                                  lines=list(block)))
        block.clear()

    for raw in text.splitlines():
        line = raw.rstrip("\r")
        if line.lstrip().startswith("#"):
            continue
        if not line.strip():
            flush()
            continue
        block.append(line)
    flush()
    return modules


def render(modules: list[Module]) -> str:
    return "".join("\n".join(m.lines) + "\n\n" for m in modules)


def list_modules(location: str) -> list[Module]:
    folder = _folder(location)
    path = os.path.join(folder, "pkcs11.txt")
    if not os.path.exists(path):
        return parse(_INTERNAL.format(configdir=f"sql:{folder}"))
    from keystores.fileio import read_bytes

    return parse(read_bytes(path).decode("utf-8", "replace"))


def _edit(location: str, change: Callable[[list[Module]], list[Module]]) -> list[Module]:
    from keystores.backends.nss.profile_lock import browser_lock
    from keystores.fileio import atomic_write, folder_lock

    folder = _folder(location)
    with folder_lock(folder):
        reason = browser_lock(folder)
        if reason:
            raise StoreLocked(f"{reason}; close it before changing its modules", store=location)
        modules = list_modules(location)
        modules = change(modules)
        atomic_write(os.path.join(folder, "pkcs11.txt"), render(modules).encode("utf-8"), private=True)
    return modules


def add_module(location: str, name: str, library: str, *, mechanisms: str | None = None,
               slots: list[int] | None = None) -> Module:
    """Register a PKCS#11 library under `name`, as `modutil -add NAME -libfile LIB [-mechanisms A:B]` does.

    `mechanisms` makes NSS prefer the module for those mechanisms; modutil writes them per slot id, which it learns
    by loading the module. So do we (through python-pkcs11 when installed) unless `slots` is given; when the
    module cannot be loaded here the flags go to slot 0.
    """
    if not name.strip() or "\n" in name or "\n" in library:
        raise UsageError("a module needs a one-line, non-empty name and library path")
    if not os.path.isfile(library):
        raise StoreNotFound("no such PKCS#11 library", store=library)
    lines = [f"library={library}", f"name={name}"]
    if mechanisms:
        chosen = [m.strip() for m in mechanisms.split(":") if m.strip()]
        known = {m.upper(): m for m in MECHANISMS}
        bad = [m for m in chosen if m.upper() not in known]
        if bad:
            raise UsageError(f"unknown mechanism(s) {', '.join(bad)}; known: {':'.join(MECHANISMS)}")
        flags = ",".join(known[m.upper()] for m in chosen)
        if slots is None:
            slots = _module_slots(library)
        params = " ".join(f"0x{slot:08x}=[slotFlags={flags} ]" for slot in (slots or [0]))
        lines.append(f"NSS=slotParams={{{params}}}  ")
    module = Module(name=name, library=library, nss=lines[2][4:] if len(lines) > 2 else "", lines=lines)

    def change(modules: list[Module]) -> list[Module]:
        if any(m.name == name for m in modules):
            raise EntryExists("a module with this name is registered already", store=location, label=name)
        return [*modules, module]

    _edit(location, change)
    return module


def _module_slots(library: str) -> list[int] | None:
    """The slot ids a PKCS#11 library reports, or None when it cannot be loaded in this process. python-pkcs11 is
    imported as the token backend imports it (its helpers, and asn1crypto with them, on first use)."""
    try:
        from keystores.backends.pkcs11.library import import_pkcs11

        pkcs11 = import_pkcs11()
        return [slot.slot_id for slot in pkcs11.lib(library).get_slots()]
    except Exception:  # a native library can fail in many ways; the fallback (slot 0) is fine for all of them
        return None


def remove_module(location: str, name: str) -> None:
    """Unregister the module called `name` (`modutil -delete NAME`); the internal module stays."""

    def change(modules: list[Module]) -> list[Module]:
        found = [m for m in modules if m.name == name]
        if not found:
            raise EntryNotFound(name, [m.name for m in modules], store=location)
        if any(m.internal for m in found):
            raise UsageError("the NSS internal module cannot be removed", store=location, label=name)
        return [m for m in modules if m.name != name]

    _edit(location, change)
