"""Mozilla NSS "sql:" databases (cert9.db + key4.db): the store (store.py) and the parts it is built from."""

from keystores.backends.nss.store import NssStore

__all__ = ["NssStore"]
