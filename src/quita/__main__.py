from quita.cli import main

main()
