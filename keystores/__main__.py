from keystores.cli import entry

entry()
