"""Bouncy Castle's BKS and UBER key stores."""

from keystores.backends.bks.store import BksStore, UberStore

__all__ = ["BksStore", "UberStore"]
