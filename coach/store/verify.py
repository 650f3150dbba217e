"""Install manifests and verification: is an installed model still the files it was?

`write_manifest` records every file (size, SHA-256) when a model is installed; `verify_*`
compare a folder with it, or a pip model with the hashes pip recorded.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from coach.store.catalog import ModelEntry, Source
from coach.store.errors import ModelError
from coach.store.lookup import (
    ModelPlaces,
    install_hint,
    installed_path,
    is_vosk_model_dir,
    pip_model_path,
)

__all__ = [
    "MANIFEST_NAME",
    "VerifyReport",
    "file_sha256",
    "verify_installed",
    "verify_model_dir",
    "verify_pip_model",
    "write_manifest",
]

MANIFEST_NAME = ".coach-manifest.json"
"""Written into each model folder at install time: every file with its size and SHA-256."""

_HASH_CHUNK = 1 << 20

def file_sha256(path: Path) -> str:
    """SHA-256 of a file, lowercase hex, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(_HASH_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _model_files(model_dir: Path) -> Iterator[Path]:
    for path in sorted(model_dir.rglob("*")):
        if path.is_file() and path.name != MANIFEST_NAME:
            yield path


def write_manifest(model_dir: Path, name: str, source: str, archive_sha256: str | None) -> Path:
    """Record every file of a freshly installed model so `verify` can check it later."""
    files = {
        path.relative_to(model_dir).as_posix(): {
            "size": path.stat().st_size,
            "sha256": file_sha256(path),
        }
        for path in _model_files(model_dir)
    }
    manifest = {
        "name": name,
        "source": source,
        "archive_sha256": archive_sha256,
        "files": files,
    }
    target = model_dir / MANIFEST_NAME
    target.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return target


@dataclass(frozen=True)
class VerifyReport:
    """Result of checking an installed model against its manifest (or pip's RECORD)."""

    path: Path
    checked: int
    """Files compared."""
    missing: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()
    """Files present but not in the manifest (reported, not an error)."""
    has_manifest: bool = True
    """False when there is nothing to compare against (a model unpacked by hand)."""
    notes: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.missing and not self.changed


def verify_model_dir(model_dir: Path) -> VerifyReport:
    """Compare a model folder with the manifest written when it was installed."""
    manifest_path = model_dir / MANIFEST_NAME
    if not manifest_path.is_file():
        structure = "structure OK" if is_vosk_model_dir(model_dir) else "not a Vosk model"
        note = f"no manifest ({structure}); files were not installed by coach, cannot verify"
        missing = () if is_vosk_model_dir(model_dir) else ("am/final.mdl or conf or graph",)
        return VerifyReport(model_dir, 0, missing=missing, has_manifest=False, notes=(note,))
    expected = _read_manifest_files(manifest_path)
    return _compare(model_dir, expected, file_sha256)


def _read_manifest_files(manifest_path: Path) -> dict[str, tuple[int, str]]:
    try:
        data = json.loads(manifest_path.read_text(encoding="utf-8"))
        return {
            name: (int(info["size"]), str(info["sha256"]))
            for name, info in data["files"].items()
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ModelError(
            f"{manifest_path}: unreadable manifest ({exc}); reinstall the model with --force"
        ) from exc


def _compare(
    model_dir: Path,
    expected: Mapping[str, tuple[int, str]],
    digest_of: Callable[[Path], str],
) -> VerifyReport:
    missing: list[str] = []
    changed: list[str] = []
    for name, (size, digest) in sorted(expected.items()):
        path = model_dir / name
        if not path.is_file():
            missing.append(name)
        elif path.stat().st_size != size or digest_of(path) != digest:
            changed.append(name)
    present = {path.relative_to(model_dir).as_posix() for path in _model_files(model_dir)}
    extra = tuple(sorted(present - set(expected)))
    return VerifyReport(model_dir, len(expected), tuple(missing), tuple(changed), extra)


def verify_pip_model(entry: ModelEntry) -> VerifyReport:
    """Check a pip-installed model against the hashes pip recorded in the package's RECORD."""
    model_dir = pip_model_path(entry)
    if model_dir is None or entry.package is None:
        raise ModelError(f"{entry.name} is not installed; {install_hint(entry)}")
    expected: dict[str, tuple[int, str]] = {}
    for record in importlib.metadata.distribution(entry.package).files or ():
        if record.hash is None or record.hash.mode != "sha256" or record.size is None:
            continue
        absolute = Path(str(record.locate())).resolve()
        if absolute.is_relative_to(model_dir.resolve()):
            name = absolute.relative_to(model_dir.resolve()).as_posix()
            expected[name] = (record.size, record.hash.value)
    if not expected:
        note = "pip recorded no hashes for this package; cannot verify"
        return VerifyReport(model_dir, 0, has_manifest=False, notes=(note,))
    return _compare(model_dir, expected, _record_digest)


def _record_digest(path: Path) -> str:
    # pip's RECORD stores urlsafe base64 without padding, not hex.
    raw = bytes.fromhex(file_sha256(path))
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def verify_installed(entry: ModelEntry, places: ModelPlaces) -> VerifyReport:
    """Verify wherever `entry` is installed; ModelError when it is not installed."""
    if entry.source is Source.PIP:
        return verify_pip_model(entry)
    path = installed_path(entry, places)
    if path is None:
        raise ModelError(f"{entry.name} is not installed; {install_hint(entry)}")
    return verify_model_dir(path)
