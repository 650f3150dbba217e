"""`python -m coach`."""

from coach.cli.main import run

run()
