"""Cryptography below the formats: DER encoding (der), key derivation (kdf; kdf_pool runs derivations on every
core), and password-based encryption schemes with bounded parameters, with the cipher objects their parameters name
(pbe). Code that only weak or obsolete
schemes need lives apart in crypto/decrepit/, as cryptography keeps its hazmat/decrepit. Nothing here knows a store
format's layout or imports backends, pki, ops or the CLI."""
