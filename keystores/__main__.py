from keystores.cli.main import main

main()
