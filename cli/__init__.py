"""The keystores command line (installed as keystores.cli): parse, resolve secrets, call one operation, render."""

from keystores.cli.module_finder import install

install()  # keystores' modules found ~20 us faster each from here on (cli/module_finder.py says how and why)
