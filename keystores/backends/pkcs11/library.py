"""python-pkcs11, imported without loading its helper modules before they are used.

Where python-pkcs11 falls short: its `__init__` (0.10.1) runs `from pkcs11.util import dh, dsa, ec, rsa, x509`,
and those load asn1crypto (algos, keys, x509) and with it `inspect`: about 25 ms of the ~40 ms `import pkcs11`
costs, on every token command, which uses none of them (keystores reads keys and certificates with its own
code). bench/bench_core.py's token rows measure it against `python -c pass` (issue 15 item 2).

`import_pkcs11()` puts a module for each of those five into sys.modules that the standard library's
importlib.util.LazyLoader executes on its first attribute access, then imports pkcs11: its `from pkcs11.util import
...` binds the waiting modules, and anything that uses them (pkcs11.constants' EC parameters, a caller of
`pkcs11.util.rsa`) loads the real one then. Any surprise (a helper module moved, pkcs11 already imported) leaves the
ordinary import: the library loads as its authors wrote it. tests/test_pkcs11_lean.py fails when python-pkcs11
stops honouring this (a release that imports more eagerly) and checks that the helpers still work when used.
"""

from __future__ import annotations

import sys
from types import ModuleType

# python-pkcs11's helper modules its __init__ imports eagerly; each pulls in asn1crypto.
DEFERRED = ("pkcs11.util.dh", "pkcs11.util.dsa", "pkcs11.util.ec", "pkcs11.util.rsa", "pkcs11.util.x509")


def import_pkcs11() -> ModuleType:
    """The `pkcs11` module, its helper modules (DEFERRED) loaded on first use; ImportError when it is missing."""
    if "pkcs11" not in sys.modules:
        try:
            _defer_helpers()
        except Exception:  # whatever went wrong, the ordinary import follows
            for name in ("pkcs11.util", *DEFERRED):
                sys.modules.pop(name, None)
    import pkcs11

    # An ordinary import binds each submodule on its package; what was found in sys.modules was not bound.
    util = sys.modules.get("pkcs11.util")
    if util is not None and "util" not in vars(pkcs11):
        pkcs11.util = util  # type: ignore[attr-defined]
    return pkcs11


def _defer_helpers() -> None:
    """pkcs11.util and each of DEFERRED put in sys.modules as modules that load on first attribute access, found
    without importing pkcs11 itself; the helpers are set as attributes of pkcs11.util already, so that `from
    pkcs11.util import dh` binds one without touching it (which would load it). Nothing is put there when any of
    them is not where it was (a later python-pkcs11)."""
    import importlib.util
    from importlib.machinery import PathFinder

    package = PathFinder.find_spec("pkcs11")
    found = PathFinder.find_spec("pkcs11.util", package.submodule_search_locations) if package else None
    if found is None or not found.submodule_search_locations:
        return
    specs = [found, *(PathFinder.find_spec(name, found.submodule_search_locations) for name in DEFERRED)]
    if any(spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module") for spec in specs):
        return
    modules = []
    for spec in specs:
        assert spec is not None and spec.loader is not None
        spec.loader = importlib.util.LazyLoader(spec.loader)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        modules.append(module)
    util = modules[0]
    for name, module in zip(DEFERRED, modules[1:], strict=True):
        setattr(util, name.rpartition(".")[2], module)
    for spec, module in zip(specs, modules, strict=True):  # (module.__spec__ would load it)
        sys.modules[spec.name] = module  # type: ignore[union-attr]
