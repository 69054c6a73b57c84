"""The contract every backend passes. A backend's test file subclasses `BackendContract` and provides the
`opener` fixture: opener(create=False, writable=False) -> an open KeyStore on the same location each time.

Tests are gated on capabilities, never on backend names.
"""

from __future__ import annotations

import pytest
from helpers import UNKNOWN_KEY_ALGORITHM, key_pair_entry, same_key, trusted_entry, undecodable_certificate

from keystores.backends.memory import MemoryStore
from keystores.errors import CapabilityError, EntriesRefused, EntryExists, EntryNotFound
from keystores.model import TRUST_ALL, Entry, EntryKind, SecretKey
from keystores.ops.describe import entry_data, entry_row
from keystores.ops.transfer import copy_entries
from keystores.pki.certificates import decode_certificate


class BackendContract:
    """Subclass and define the `opener` fixture."""

    def _fill(self, opener, *entries: Entry) -> None:
        with opener(create=True, writable=True) as store:
            for entry in entries:
                store.add(entry)

    def test_round_trip_keys_and_trusted_certs(self, opener):
        store0 = opener(create=True, writable=True)
        caps = store0.capabilities
        store0.close()
        entries = [trusted_entry("root ca")]
        if caps.private_keys:
            entries += [key_pair_entry("server1", index=1), key_pair_entry("server2", index=2, use_ec=True)]
        self._fill(opener, *entries)
        with opener() as store:
            labels = {label.lower() for label in store.labels()}
            assert labels == {e.label.lower() for e in entries}
            for original in entries:
                got = store.get(original.label)
                assert got.kind is original.kind
                assert got.chain[0] == original.chain[0]
                if original.kind is EntryKind.KEY_PAIR:
                    assert same_key(got.key if not hasattr(got.key, "public_key") or hasattr(got.key, "private_bytes")
                                    else got.key.public_key, original.key)
                    assert len(got.chain) == len(original.chain)
                else:
                    assert got.trust is not None

    def test_missing_label_lists_existing(self, opener):
        self._fill(opener, trusted_entry("root ca"))
        with opener() as store, pytest.raises(EntryNotFound) as info:
            store.get("nope")
        assert "root ca" in str(info.value)

    def test_duplicate_label_refused_unless_replace(self, opener):
        self._fill(opener, trusted_entry("root ca"))
        with opener(writable=True) as store:
            with pytest.raises(EntryExists):
                store.add(trusted_entry("root ca", index=1))
            store.add(trusted_entry("root ca", index=1), replace=True)
        with opener() as store:
            assert store.get("root ca").chain[0] == trusted_entry("x", index=1).chain[0]

    def test_remove_and_rename(self, opener):
        self._fill(opener, trusted_entry("one"), trusted_entry("two", index=1))
        with opener(writable=True) as store:
            store.remove("one")
            store.rename("two", "three")
        with opener() as store:
            assert [label.lower() for label in store.labels()] == ["three"]

    def test_failure_inside_context_writes_nothing(self, opener):
        self._fill(opener, trusted_entry("one"))
        with pytest.raises(RuntimeError), opener(writable=True) as store:
            store.remove("one")
            raise RuntimeError("boom")
        with opener() as store:
            assert [label.lower() for label in store.labels()] == ["one"]

    def test_secret_keys_follow_capability(self, opener):
        secret = Entry(label="aes", kind=EntryKind.SECRET_KEY, secret=SecretKey("AES", bytes(range(32))))
        with opener(create=True, writable=True) as store:
            if not store.capabilities.secret_keys:
                with pytest.raises(CapabilityError):
                    store.add(secret)
                return
            store.add(secret)
        with opener() as store:
            assert store.get("aes").secret.value == bytes(range(32))

    def test_default_flag_follows_capability(self, opener):
        with opener(create=True, writable=True) as store:
            if not store.capabilities.default_flag or not store.capabilities.private_keys:
                pytest.skip("format has no default flag")
            store.add(key_pair_entry("a", index=1, default=True))
            store.add(key_pair_entry("b", index=2, default=True))
        with opener() as store:
            assert [e.label for e in store.entries() if e.default] == ["b"]

    def test_decrypter_opens_rsa_key_transport(self, opener):
        """store.decrypter(label) decrypts PKCS#1 v1.5 key transport with the entry's RSA key wherever it lives (on
        the token for PKCS#11); an EC key or a certificate alone is refused by name."""
        from cryptography.hazmat.primitives.asymmetric import padding

        from keystores.errors import KeystoreError

        store0 = opener(create=True, writable=True)
        caps = store0.capabilities
        store0.close()
        entries = [trusted_entry("root ca")]
        if caps.private_keys:
            entries += [key_pair_entry("server1", index=1), key_pair_entry("server2", index=2, use_ec=True)]
        self._fill(opener, *entries)
        with opener() as store:
            with pytest.raises(KeystoreError):
                store.decrypter("root ca")
            if not caps.private_keys:
                return
            decrypter = store.decrypter("server1")
            wrapped = decrypter.public_key.encrypt(b"content key 0123456789abcdef012", padding.PKCS1v15())
            assert decrypter.decrypt(wrapped) == b"content key 0123456789abcdef012"
            with pytest.raises(KeystoreError):
                store.decrypter("server2")

    # --- entries are independent (issue 11) ------------------------------------------------------------------
    @staticmethod
    def _odd_entry() -> Entry:
        """A trusted certificate cryptography cannot fully decode (a key algorithm no library knows)."""
        return Entry(label="odd", kind=EntryKind.TRUSTED_CERT, chain=(decode_certificate(undecodable_certificate()),),
                     trust=TRUST_ALL)

    def test_undecodable_certificate_lists_shows_and_round_trips_byte_for_byte(self, opener):
        store = opener(create=True, writable=True)
        with store:
            store.add(trusted_entry("root ca"))
            if not store.capabilities.undecoded_entries:
                with pytest.raises(CapabilityError) as info:
                    store.add(self._odd_entry())
                assert info.value.label == "odd" and "cannot be decoded" in info.value.reason
                return
            store.add(self._odd_entry())
        with opener() as store:
            odd = next(e for e in store.entries() if e.label.lower() == "odd")
            assert odd.chain[0].public_bytes() == undecodable_certificate()
            shown = entry_data(odd, detail=True)
            assert shown["problem"] and UNKNOWN_KEY_ALGORITHM in shown["problem"]
            assert shown["key_type"] == UNKNOWN_KEY_ALGORITHM and shown["subject"] == "O=keystores tests,CN=odd 0"
            assert shown["serial"] and shown["not_after"] and shown["chain"][0]["problem"] == shown["problem"]
            assert entry_row(odd)["subject"] == "O=keystores tests,CN=odd 0"
            root = next(e for e in store.entries() if e.label.lower() == "root ca")
            assert entry_data(root)["problem"] is None

    def test_transfer_names_what_cannot_go_and_skip_unreadable_writes_the_rest(self, opener):
        source = MemoryStore.open("memory")
        source.add(trusted_entry("root ca"))
        source.add(self._odd_entry())
        with opener(create=True, writable=True) as dest:
            if dest.capabilities.undecoded_entries:
                assert sorted(copy_entries(source, dest)) == ["odd", "root ca"]
                carried = True
            else:
                with pytest.raises(EntriesRefused) as info:
                    copy_entries(source, dest)
                assert [label for label, _ in info.value.refused] == ["odd"] and len(dest) == 0
                left_out: list[tuple[str, str]] = []
                assert copy_entries(source, dest, skip_unreadable=True, left_out=left_out) == ["root ca"]
                assert [label for label, _ in left_out] == ["odd"]
                carried = False
        with opener() as store:
            labels = sorted(label.lower() for label in store.labels())
            assert labels == (["odd", "root ca"] if carried else ["root ca"])
            if carried:
                assert store.get("odd").chain[0].public_bytes() == undecodable_certificate()
