"""`coach models list`: every catalog model, whether and where it is installed, which is in use."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

from coach.cli.models.context import (
    EXIT_OK,
    ModelsContext,
    build_context,
    guarded,
    human_size,
    locate,
    note,
)
from coach.store.catalog import ModelEntry, Source
from coach.store.errors import ModelError
from coach.store.lookup import install_hint, installed_path

__all__ = ["cmd_list"]


@dataclass(frozen=True)
class _Row:
    entry: ModelEntry
    path: Path | None
    in_use: bool
    is_default: bool


def cmd_list(args: argparse.Namespace) -> int:
    """`coach models list`."""
    return guarded(lambda: _list(build_context(args), as_json=bool(args.json)))


def _list(context: ModelsContext, *, as_json: bool) -> int:
    try:
        current = locate(context)
    except ModelError as exc:  # a bad --model should not hide the list
        note(f"note: {exc}")
        current = None
    rows = []
    for entry in context.catalog.entries:
        path = installed_path(entry, context.places)
        in_use = current is not None and path is not None and path == current.path
        rows.append(_Row(entry, path, in_use, entry.name == context.catalog.default))
    if as_json:
        for row in rows:
            print(json.dumps(_row_json(row)))
    else:
        _print_table(rows)
    if current is not None and not any(row.in_use for row in rows):
        note(f"in use: {current.path} (from {current.origin})")
    return EXIT_OK


def _row_json(row: _Row) -> dict[str, object]:
    return {
        "name": row.entry.name,
        "language": row.entry.language,
        "engine": row.entry.engine.value,
        "license": row.entry.license,
        "size": _size_of(row),
        "installed": row.path is not None,
        "path": str(row.path) if row.path else None,
        "in_use": row.in_use,
    }


def _print_table(rows: list[_Row]) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Speech models", title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("name", overflow="fold")
    table.add_column("lang", no_wrap=True)
    table.add_column("size", no_wrap=True, justify="right")
    table.add_column("installed", no_wrap=True)
    table.add_column("where", overflow="fold", min_width=20)
    for row in rows:
        size = _size_of(row)
        table.add_row(
            row.entry.name + (" *" if row.in_use else ""),
            row.entry.language,
            human_size(size) if size else "-",
            "yes" if row.path else "no",
            _where(row),
        )
    console = Console()
    console.print(table)
    console.print("* = the Vosk model the coach would use")


def _where(row: _Row) -> str:
    if row.path is None and row.is_default:
        return "coach models download"
    if row.path is None:
        return install_hint(row.entry)
    if row.entry.source is Source.PIP:
        return f"pip package {row.entry.package}"
    return _tilde(row.path)


def _tilde(path: Path) -> str:
    home = Path.home()
    return f"~/{path.relative_to(home)}" if path.is_relative_to(home) else str(path)


def _size_of(row: _Row) -> int | None:
    """The archive size for downloads; the folder's size for pip models that are installed."""
    if row.entry.size is not None:
        return row.entry.size
    if row.path is None:
        return None
    return sum(path.stat().st_size for path in row.path.rglob("*") if path.is_file())

