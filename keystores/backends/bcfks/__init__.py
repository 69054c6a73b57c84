"""Bouncy Castle's FIPS key store BCFKS."""

from keystores.backends.bcfks.store import BcfksStore

__all__ = ["BcfksStore"]
