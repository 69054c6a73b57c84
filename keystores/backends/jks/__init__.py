"""Java key stores: JKS and JCEKS."""

from keystores.backends.jks.store import JceksStore, JksStore

__all__ = ["JceksStore", "JksStore"]
