"""What every `coach models` handler shares: the catalog and folders, errors, exit codes."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from coach.store.catalog import Catalog, load_catalog
from coach.store.errors import DestinationError, ModelError
from coach.store.lookup import Located, ModelPlaces, locate_vosk_model

__all__ = [
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_PROBLEM",
    "ModelsContext",
    "build_context",
    "error",
    "guarded",
    "human_size",
    "locate",
    "note",
]

EXIT_OK = 0
EXIT_PROBLEM = 1
EXIT_INTERRUPTED = 130


@dataclass(frozen=True)
class ModelsContext:
    """What every handler needs, built once from the flags and the environment."""

    catalog: Catalog
    places: ModelPlaces
    model_flag: str | Path | None
    """`coach models path --model`, else the main `coach --model`, else None."""


def build_context(args: argparse.Namespace) -> ModelsContext:
    """The catalog (`--catalog` or the shipped one), the real folders and the model flag."""
    catalog_file: Path | None = getattr(args, "catalog", None)
    flag = getattr(args, "model_flag", None) or getattr(args, "model", None)
    return ModelsContext(load_catalog(catalog_file), ModelPlaces.default(), flag)


def locate(context: ModelsContext) -> Located | None:
    """The Vosk model the coach would use, and why."""
    return locate_vosk_model(context.model_flag, os.environ, context.places, context.catalog)


def guarded(run: Callable[[], int]) -> int:
    """Run a handler; a ModelError or Ctrl-C becomes a message and an exit code."""
    try:
        return run()
    except DestinationError as exc:  # the folder given must change: a usage error
        error(str(exc))
        return exc.exit_code
    except ModelError as exc:
        error(str(exc))
        return EXIT_PROBLEM
    except KeyboardInterrupt:
        error("interrupted; run the same command again to resume")
        return EXIT_INTERRUPTED


def error(message: str) -> None:
    """Print an error on stderr."""
    print(f"coach models: {message}", file=sys.stderr)


def note(message: str) -> None:
    """Print a remark on stderr (stdout stays for what scripts read)."""
    print(message, file=sys.stderr)


def human_size(size: int) -> str:
    """Bytes in kB, MB or GB with one decimal (decimal units, as download sizes are given)."""
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} B"

