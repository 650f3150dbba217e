"""Command line: argparse, the `models` and `doctor` commands; the only place reading flags."""

from coach.cli.main import main, run

__all__ = ["main", "run"]
