from a21import.cli import main

main()
