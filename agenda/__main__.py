"""`python -m agenda` does what the `summit` command does."""

from agenda.cli import main

main()
