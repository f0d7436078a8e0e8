"""`python -m generator` is `tapml`."""

from .cli import main

main(prog_name="tapml")
