"""IBM MQ Advanced Message Security (AMS): policies as data, keystore.conf, the doctor, and a rehearsal of
protect/unprotect with the same keys.

Modules: `policy` (parse setmqspl / SET POLICY / dspmqspl / DISPLAY POLICY, validate, render), `conf`
(keystore.conf), `dnmatch` (AMS's DN rules and the nearest-certificate explanations), `doctor` (`ams check`),
`rehearse` (RFC 5652 SignedData/EnvelopedData), `identity` (RACDCERT MAP, SSLPEER, CHLAUTH SSLPEERMAP).
The rules each module applies are IBM's, as collected in /work/shared/specs/mq-identity.md; each docstring names
the IBM page it follows.
"""
