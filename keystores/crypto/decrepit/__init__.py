"""Code that only weak or obsolete schemes need, kept apart as cryptography keeps its hazmat/decrepit: read always,
written only where a format leaves no other choice (JKS and JCEKS have nothing else to offer).

Here: Java's store digest, JKS key protector and Sun's PBEWithMD5AndTripleDES (java), Twofish for Bouncy Castle's
UBER stores (twofish), RC2 for any key length (rc2), PBKDF1 for PBES1 (kdf). keystores.crypto.pbe imports these
only when a file names such a scheme. A scheme that is weak in one use and sound in another (the PKCS#12 KDF, which
modern files use with SHA-256) lives in keystores.crypto; the weak ciphers cryptography itself provides (3DES, RC4,
Blowfish ...) are taken from its decrepit module by keystores.crypto.pbe.block_cipher."""
