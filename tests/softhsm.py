"""Throw-away SoftHSM2 tokens for tests (keystores-independent; wraps softhsm/mktoken).

Use from any test file:

    from softhsm import softhsm, softhsm_token  # noqa: F401  (pytest fixtures)

    def test_x(softhsm_token):                   # one shared token per session
        run(["keystores", "list", softhsm_token.uri, "--password", softhsm_token.password], env=softhsm_token.env)

    def test_y(softhsm):                         # a fresh token of your own
        token = softhsm.make_token("mine")

`softhsm` sets SOFTHSM2_CONF and KEYSTORES_PKCS11_MODULE in os.environ for the session (and restores them), so
in-process code finds the tokens; subprocesses get them from `.env`. SoftHSM reads its token list when the module
is initialised: keystores' pkcs11 backend re-initialises when a token is missing and none of its sessions is
open, so tokens made mid-session are found by later opens. Tests skip when softhsm2-util is absent.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

MKTOKEN = Path(__file__).resolve().parents[1] / "softhsm" / "mktoken"


@dataclass(frozen=True)
class SoftHsmToken:
    """One initialised token: its label, PINs, module and the URI/env/password source to reach it."""

    label: str
    pin: str
    so_pin: str
    module: str
    conf: Path
    folder: Path

    @property
    def uri(self) -> str:
        """`pkcs11:token=LABEL?module-path=MODULE` (RFC 7512, label percent-encoded)."""
        return f"pkcs11:token={quote(self.label, safe='')}?module-path={self.module}"

    @property
    def pin_file(self) -> Path:
        return self.folder / "pin"

    @property
    def password(self) -> str:
        """The user PIN as a keystores secret SOURCE (`--password file:...`)."""
        return f"file:{self.pin_file}"

    @property
    def env(self) -> dict[str, str]:
        """os.environ plus what a subprocess needs to see this token."""
        return {**os.environ, "SOFTHSM2_CONF": str(self.conf), "KEYSTORES_PKCS11_MODULE": self.module}

    def tool(self, *args: str, login: bool = True) -> subprocess.CompletedProcess[str]:
        """Run pkcs11-tool (OpenSC) on this token: the independent judge of what is on it."""
        argv = ["pkcs11-tool", "--module", self.module, "--token-label", self.label, *args]
        if login:
            argv += ["--login", "--pin", self.pin]
        return subprocess.run(argv, capture_output=True, text=True, env=self.env, check=False)

    def objects(self) -> list[dict[str, str]]:
        """`pkcs11-tool -O` as one dict per object: {"type": "Certificate"|"Private Key"|..., "label", "ID", ...}."""
        done = self.tool("-O")
        if done.returncode != 0:
            raise RuntimeError(f"pkcs11-tool -O failed: {done.stderr.strip()}")
        objects: list[dict[str, str]] = []
        for line in done.stdout.splitlines():
            if " Object;" in line and not line.startswith(" "):
                objects.append({"type": line.split(" Object;")[0]})
            elif objects and ":" in line:
                name, _, value = line.strip().partition(":")
                objects[-1].setdefault(name.strip(), value.strip())
        return objects


class SoftHsm:
    """One SoftHSM2 folder + config; makes tokens in it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.conf = folder / "softhsm2.conf"
        exports = self._mktoken("keystores-test")
        self.module = exports["KEYSTORES_PKCS11_MODULE"]
        self.pin = (folder / "pin").read_text().strip()
        self.so_pin = (folder / "so-pin").read_text().strip()
        self._first = SoftHsmToken("keystores-test", self.pin, self.so_pin, self.module, self.conf, folder)

    def _mktoken(self, *labels: str) -> dict[str, str]:
        argv = [str(MKTOKEN), "--dir", str(self.folder)]
        for label in labels:
            argv += ["--label", label]
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"softhsm/mktoken failed: {done.stderr.strip()}")
        return {k: v.strip("'") for k, _, v in (line[len("export "):].partition("=")
                                                for line in done.stdout.splitlines() if line.startswith("export "))}

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "SOFTHSM2_CONF": str(self.conf), "KEYSTORES_PKCS11_MODULE": self.module}

    def make_token(self, label: str | None = None) -> SoftHsmToken:
        """A new, empty token (label defaults to a unique one); the same PINs as every token of this folder."""
        label = label or f"t-{uuid.uuid4().hex[:12]}"
        self._mktoken(label)
        return SoftHsmToken(label, self.pin, self.so_pin, self.module, self.conf, self.folder)

    @property
    def shared(self) -> SoftHsmToken:
        return self._first


def softhsm_missing() -> str | None:
    """Why SoftHSM tests cannot run here, or None."""
    if shutil.which("softhsm2-util") is None:
        return "softhsm2-util is not installed (apt install softhsm2)"
    return None


@pytest.fixture(scope="session")
def softhsm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SoftHsm]:
    """A session's SoftHSM2 folder; SOFTHSM2_CONF and KEYSTORES_PKCS11_MODULE are set while it lives."""
    reason = softhsm_missing()
    if reason:
        pytest.skip(reason)
    hsm = SoftHsm(tmp_path_factory.mktemp("softhsm"))
    saved = {k: os.environ.get(k) for k in ("SOFTHSM2_CONF", "KEYSTORES_PKCS11_MODULE")}
    os.environ["SOFTHSM2_CONF"] = str(hsm.conf)
    os.environ["KEYSTORES_PKCS11_MODULE"] = hsm.module
    yield hsm
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def softhsm_token(softhsm: SoftHsm) -> SoftHsmToken:
    """The session's shared token "keystores-test" (tests that need it empty make their own)."""
    return softhsm.shared
