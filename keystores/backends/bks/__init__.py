"""Bouncy Castle's own key stores BKS (read and written) and UBER (read), without Java.

Where to look: format.py declares the format (names, extensions, magic bytes) for detection and --type; store.py
holds the format description and BksStore (its MAC, writing); entries.py the entry list BKS and UBER share and
_BcStore, which turns it into entries; uber.py UberStore. What every Bouncy Castle store shares (BCFKS too) is
../bouncycastle.py; the DataOutputStream encodings shared with JKS are ../java_data.py.
"""

from keystores.formats import lazy_classes

__all__ = ["BksStore", "UberStore"]
# on first use: detection imports this package for its record (format.py) and must not load the store
__getattr__ = lazy_classes(__name__, BksStore="store", UberStore="uber")
