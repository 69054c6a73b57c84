"""Weak-only cryptography, read always and written only where a format or profile leaves no other choice: Java's
key protector, store digest and PBEWithMD5AndTripleDES (java), Twofish for Bouncy Castle's UBER stores (twofish).
Modern code never imports from here; a scheme that is weak in one use and sound in another (the PKCS#12 KDF with
SHA-256) lives in keystores.crypto."""
