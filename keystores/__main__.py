from keystores.cli.main import run

run()
