"""Bouncy Castle's BKS and UBER key stores."""

from keystores.backends.bks.store import BksStore
from keystores.backends.bks.uber import UberStore

__all__ = ["BksStore", "UberStore"]
