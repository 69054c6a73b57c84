"""Cryptography below the formats: DER encoding (der), key derivation (kdf), cipher objects by name (ciphers) and
password-based encryption schemes with bounded parameters (pbe). Code that only weak or obsolete schemes need
lives apart in crypto/decrepit/, as cryptography keeps its hazmat/decrepit. Nothing here knows a store format's
layout or imports backends, pki, ops or the CLI."""
