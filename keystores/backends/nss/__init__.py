"""Mozilla NSS "sql:" databases (cert9.db + key4.db). NssStore (store.py) is assembled from one class per job, the
classes of a read in one module (each module a command loads costs ~0.3 M instructions of its own: issue 15):

- store.py: opening, the reading API, the store's state; its classes Connection (sqlite connections and errors,
  change counters, MAC items), Unlock (the password and passKey), Index (the objects read at open, indexed),
  TrustAndMacs (trust levels as stored) and LazyEntries (entries whose chain, trust and key are read on first
  access); profile_lock.py: a running browser's profile lock
- reading.py: the reads behind LazyEntries (chains, trust and key records with their integrity MAC checks),
  functions of the store imported on first use (a list, rename, delete or trust change needs none)
- transaction.py: a write's classes, ChangeLog (add/remove/rename/trust/password, checked and queued),
  WriteTransaction (the save), SqlWrites (the rows a delete, rename or trust removed changes) and
  WritableNssStore, the NssStore a write opens (a read loads none of it); adding.py: what an add becomes (its
  checks, the objects and MAC items NSS lays out, their PBKDF2 work on every core through
  keystores/crypto/kdf_pool.py), functions of the store imported by the first add (a rename, delete or trust off
  loads none of it); rekey.py: a password change's (every private attribute and MAC made again under the new
  password)
- db.py: the sqlite engine (`_sqlite3`), NSS's attribute numbers and encodings, rows and schema (keys <->
  attributes: keystores.pki.key_attributes, shared with the PKCS#11 backend); crypto.py: NSS's PBE byte for
  byte, macs.py its integrity MACs (loaded where a MAC is checked or made); trust.py: trust levels and
  certutil's letters; modules.py: pkcs11.txt module registration (modutil)
"""

from keystores.formats import lazy_classes

__all__ = ["NssStore"]
# on first use: detection imports this package for its record (format.py) and must not load the store
__getattr__ = lazy_classes(__name__, NssStore="store")
