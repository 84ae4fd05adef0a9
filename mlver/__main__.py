from mlver.cli import main

main()
