"""Bouncy Castle's BKS and UBER key stores."""

from keystores.formats import lazy_classes

__all__ = ["BksStore", "UberStore"]
# on first use: detection imports this package for its record (format.py) and must not load the store
__getattr__ = lazy_classes(__name__, BksStore="store", UberStore="uber")
