"""PKCS#12 (.p12/.pfx) key stores."""

from keystores.backends.pkcs12.store import Pkcs12Store

__all__ = ["Pkcs12Store"]
