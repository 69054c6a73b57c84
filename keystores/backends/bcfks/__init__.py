"""Bouncy Castle's FIPS key store BCFKS."""

from keystores.formats import lazy_classes

__all__ = ["BcfksStore"]
# on first use: detection imports this package for its record (format.py) and must not load the store
__getattr__ = lazy_classes(__name__, BcfksStore="store")
