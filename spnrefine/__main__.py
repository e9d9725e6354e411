from spnrefine.cli import main

main()
