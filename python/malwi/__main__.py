"""`python -m malwi` is the `malwi` command."""

from malwi.cli import run

run()
