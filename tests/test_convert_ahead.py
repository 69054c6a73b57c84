"""A transfer into a PKCS#12 file starts its write's derivations once the destination is open (issue 15,
bench/bench_core.py "convert one.p12 -> PKCS#12"): ops.transfer's fill tells the destination how many keys it will
seal anew (expect_write), and pkcs12/write.WriteAhead derives them, the certificates part's and the MAC's on a worker
while the source's keys are opened and the entries added; at the write, the writer's thread takes its share of what
the worker has not begun (WriteAhead.take_share). What is written is what it was: the same derivations at the same
counts, each with a fresh salt."""

from __future__ import annotations

import _thread
import subprocess
import threading
from pathlib import Path

import pytest
from helpers import threads_left, warned_of
from test_keys_ahead import two_cores  # noqa: F401 - the fixture, shared
from test_signing_ahead import _counted

from keystores.backends.pkcs12 import write as p12_write
from keystores.backends.pkcs12.store import PROFILES
from keystores.crypto import kdf, pbe
from keystores.ops import lifecycle as lc
from keystores.ops import transfer
from keystores.store import open_store

PW = "Convert ahead pw1"


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "src.p12"
    lc.selfsign(path, "me", "CN=me", key_spec="ec:p256", password=PW)
    return path


@pytest.mark.parametrize("profile", ["modern", "compat"])
@pytest.mark.usefixtures("two_cores")
def test_convert_into_a_new_pkcs12_writes_with_what_it_derived_ahead(source: Path, tmp_path: Path, profile: str,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The write takes the derivations started at the hint (one key, the certificates, the MAC), derives none of
    its own, and the file opens (with openssl too) with the key and certificate of the source."""
    made: list[p12_write.WriteAhead] = []
    real_init, real_laid_out = p12_write.WriteAhead.__init__, p12_write._laid_out
    used: list[object] = []

    def init(self, password, write_profile, new_keys):
        assert new_keys == 1
        made.append(self)
        real_init(self, password, write_profile, new_keys)

    def laid_out(*args, **kwargs):
        used.append(args[-1] if len(args) == 12 else kwargs.get("ahead"))
        return real_laid_out(*args, **kwargs)

    monkeypatch.setattr(p12_write.WriteAhead, "__init__", init)
    monkeypatch.setattr(p12_write, "_laid_out", laid_out)
    before = _thread._count()
    dest = tmp_path / "dest.p12"
    with warned_of(profile):
        transfer.convert(source, dest, password=PW, dest_password=PW, profile=profile)
    assert len(made) == 1 and used == [made[0]]
    assert threads_left(before) == 0
    with open_store(source, password=PW) as old, open_store(dest, password=PW) as new:
        assert new.get("me").chain_der() == old.get("me").chain_der()
        assert new.get("me").held_pkcs8() == old.get("me").held_pkcs8()
    done = subprocess.run(["openssl", "pkcs12", "-in", str(dest), "-passin", f"pass:{PW}", "-noout", "-legacy"]
                          if profile == "compat" else
                          ["openssl", "pkcs12", "-in", str(dest), "-passin", f"pass:{PW}", "-noout"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("cores", [1, 2])
def test_convert_into_a_new_pkcs12_derives_what_it_did_each_with_a_fresh_salt(
        source: Path, tmp_path: Path, cores: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The write's 3 derivations at the profile's 10,000 (the key bag's and the certificates' PBKDF2, the MAC's
    PKCS#12 KDF), with ahead as without, each salt its own."""
    from keystores.crypto import kdf_pool, pbkdf2

    monkeypatch.setattr(pbkdf2, "usable_cores", lambda: cores)
    monkeypatch.setattr(kdf_pool, "usable_cores", lambda: cores)
    with open_store(source, password=PW) as opened:  # (read before counting: the write's derivations only)
        opened.get("me").held_pkcs8()
        runs = _counted(monkeypatch)
        transfer.convert(opened, tmp_path / "a.p12", dest_password=PW)
    assert sorted((which, iterations) for which, _, iterations in runs) == [
        ("pbkdf2", 10_000), ("pbkdf2", 10_000), ("pkcs12", 10_000)]
    assert len({salt for _, salt, _ in runs}) == 3
    with open_store(tmp_path / "a.p12", password=PW) as written:
        assert written.get("me").held_pkcs8() is not None


@pytest.mark.parametrize("profile", ["modern", "compat"])
@pytest.mark.usefixtures("two_cores")
def test_the_writer_takes_what_the_worker_has_not_begun_from_the_last(profile: str,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """While the worker is held in its first key's first derivation, take_share(1, True) derives the MAC's, the
    certificates' and the rest of that key's on the calling thread, from the last, leaves the begun one to the
    worker and the second key (not used) alone; every result decrypts what it encrypted."""
    main = threading.get_ident()
    release, begun = threading.Event(), threading.Event()
    on_main: list[bytes] = []
    real_pbkdf2, real_kdf = pbe.pbkdf2_hmac, pbe.pkcs12_kdf

    def held_pbkdf2(hash_name, password, salt, iterations, length):
        if threading.get_ident() == main:
            on_main.append(salt)
        else:
            begun.set()
            assert release.wait(10)
        return real_pbkdf2(hash_name, password, salt, iterations, length)

    def held_kdf(password, salt, purpose_id, iterations, size, hash_name="sha1"):
        if threading.get_ident() == main:
            on_main.append(salt)
        else:
            begun.set()
            assert release.wait(10)
        return real_kdf(password, salt, purpose_id, iterations, size, hash_name)

    monkeypatch.setattr(pbe, "pbkdf2_hmac", held_pbkdf2)
    monkeypatch.setattr(pbe, "pkcs12_kdf", held_kdf)
    before = _thread._count()
    ahead = p12_write.WriteAhead(PW, PROFILES[profile], 2)
    try:
        assert begun.wait(10)
        ahead.take_share(1, True)
        # modern: the certificates' PBKDF2; compat (its PBE derives a key and an IV): the certificates' two and the
        # key's second (the MAC's is mac._mac_key's KDF, not counted here)
        assert len(on_main) == (3 if profile == "compat" else 1)
        assert ahead.keys[0]._derived is not None and all(  # the first key's first: the worker's, begun
            job._claim.locked() for job in ahead._key_jobs[0])
        assert not any(job._claim.locked() for job in ahead._key_jobs[1])  # the second key: nobody's yet
        release.set()
        salt, key = ahead.mac.result()
        assert key == kdf.pkcs12_kdf(kdf.bmp_password(PW), salt, 3, PROFILES[profile].mac_iterations, len(key),
                                     PROFILES[profile].mac_hash)
        for sealer in (ahead.keys[0], ahead.certificates):
            alg, ciphertext = sealer.encrypt(b"sixteen bytes!!!" * 4)
            assert pbe.decrypt_with(alg, ciphertext, PW) == b"sixteen bytes!!!" * 4
    finally:
        release.set()
        ahead.close()
    assert threads_left(before) == 0
