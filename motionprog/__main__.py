"""`python -m motionprog` runs the command-line interface."""

from motionprog.cli.app import main

main()
