"""The bottom layer of certificate knowledge, usable by backends, ops and the CLI alike: names (dn), chains and
issuer checks (chain), certificate facts and tolerant decoding (certificates, undecoded), the `list` columns read
straight from DER (columns), dates (when), request/certificate building that works with token keys too
(builder), and keys as PKCS#11 attributes both ways, the mapping the NSS and PKCS#11 backends share
(key_attributes). Nothing here imports backends, ops or the CLI."""
