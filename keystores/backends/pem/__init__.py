"""PEM and DER files as key stores."""

from keystores.backends.pem.store import PemStore

__all__ = ["PemStore"]
