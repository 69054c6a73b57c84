"""The keystores command line (installed as keystores.cli): parse, resolve secrets, call one operation, render."""
