"""`coach models list|download|install|verify|path`: the speech-model chores.

The main CLI calls `register(subparsers)`; each subcommand stores its handler as
`args.handler`, a function `(args) -> int` (the exit code). Handlers turn flags into plain values
and call `coach.store`; no Namespace goes further.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from coach.cli.models.commands import cmd_download, cmd_install, cmd_path, cmd_verify
from coach.cli.models.listing import cmd_list
from coach.store.lookup import ENV_VAR

__all__ = ["register"]


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

