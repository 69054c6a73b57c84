"""keystores.crypto.key_encoding takes cryptography's serialization objects from the private places cryptography
defines them in (start-up speed). These tests fail loudly when cryptography moves them: each name must be the public
object itself, and importing the module must not import the public package."""

from __future__ import annotations

import subprocess
import sys

from cryptography.hazmat.primitives import serialization

from keystores.crypto import key_encoding as lean


def test_the_private_places_still_hold_cryptographys_objects() -> None:
    assert lean.LEAN, "cryptography moved _serialization or _rust.openssl.keys: keystores.crypto.key_encoding " \
                      "fell back on the public package (slower start-up); find the new places"
    for name in lean.__all__:
        if name != "spki_der":  # keystores' own
            assert getattr(lean, name) is getattr(serialization, name), name


def test_importing_it_imports_no_serialization_package() -> None:
    probe = ("import sys\nimport keystores.crypto.key_encoding as s\nassert s.LEAN\n"
             "print(sorted(m for m in sys.modules if m.startswith('cryptography.hazmat.primitives.serialization')))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
