"""Downloader tests against a local HTTP server serving archives built here.

The server (127.0.0.1, port 0, one thread) follows a per-test script: serve these bytes, cut
the first response short, ignore Range headers. Nothing leaves the machine.
"""

from __future__ import annotations

import hashlib
import http.server
import io
import os
import socket
import stat
import tarfile
import threading
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from coach.errors import CoachError
from coach.store.archive import ExtractLimits
from coach.store.catalog import Engine, ModelEntry, Source
from coach.store.errors import (
    ArchiveError,
    CatalogError,
    ChecksumError,
    DownloadError,
    IncompleteDownloadError,
    ModelError,
    OfflineError,
)
from coach.store.fetch import partial_path
from coach.store.install import download_model, install_from_file
from coach.store.lookup import is_vosk_model_dir
from coach.store.verify import MANIFEST_NAME, verify_model_dir

MODEL_NAME = "vosk-model-test-0.1"
ARCHIVE_PATH = f"/models/{MODEL_NAME}.zip"
SERVER_TIMEOUT = 10.0


def write_fake_model(root: Path) -> Path:
    """A structurally valid (not loadable) Vosk model folder with incompressible files."""
    files = {
        "am/final.mdl": os.urandom(300_000),
        "conf/model.conf": b"--min-active=200\n--max-active=3000\n",
        "conf/mfcc.conf": b"--use-energy=false\n",
        "graph/HCLr.fst": os.urandom(120_000),
        "graph/Gr.fst": os.urandom(80_000),
        "graph/phones/word_boundary.int": b"1 nonword\n",
        "ivector/final.ie": os.urandom(50_000),
        "README": b"fake model for tests\n",
    }
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def zip_folder(folder: Path, archive: Path) -> bytes:
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        for path in sorted(folder.rglob("*")):
            bundle.write(path, path.relative_to(folder.parent).as_posix())
    return archive.read_bytes()


def tar_folder(folder: Path, archive: Path) -> bytes:
    with tarfile.open(archive, "w:gz") as bundle:
        bundle.add(folder, arcname=folder.name)
    return archive.read_bytes()


@pytest.fixture(scope="module")
def model_zip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    base = tmp_path_factory.mktemp("archive")
    folder = write_fake_model(base / MODEL_NAME)
    return zip_folder(folder, base / f"{MODEL_NAME}.zip")


def entry_for(url: str, data: bytes, *, sha256: str | None = None,
              size: int | None = None) -> ModelEntry:
    return ModelEntry(
        name=MODEL_NAME,
        language="en-us",
        engine=Engine.VOSK,
        license="Apache-2.0",
        source=Source.DOWNLOAD,
        url=url,
        size=len(data) if size is None else size,
        sha256=sha256 or hashlib.sha256(data).hexdigest(),
        folder=MODEL_NAME,
    )


@dataclass
class ServerScript:
    """What the test server does; reset for every test."""

    files: dict[str, bytes] = field(default_factory=dict)
    cut_first_response_at: int | None = None
    """Send only this many body bytes on the first GET, then close the connection."""
    ignore_range: bool = False
    range_headers: list[str | None] = field(default_factory=list)


class ScriptedServer(http.server.ThreadingHTTPServer):
    script = ServerScript()


class ScriptedHandler(http.server.BaseHTTPRequestHandler):
    server: ScriptedServer

    def do_GET(self) -> None:
        script = self.server.script
        body = script.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        range_header = self.headers.get("Range")
        script.range_headers.append(range_header)
        start = 0
        if range_header and not script.ignore_range:
            start = int(range_header.removeprefix("bytes=").split("-")[0])
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        payload = body[start:]
        if script.cut_first_response_at is not None:
            payload = payload[: script.cut_first_response_at]
            script.cut_first_response_at = None
            self.close_connection = True
        self.wfile.write(payload)
        self.wfile.flush()

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output quiet."""


@dataclass(frozen=True)
class LocalServer:
    base_url: str
    httpd: ScriptedServer

    @property
    def script(self) -> ServerScript:
        return self.httpd.script


@pytest.fixture(scope="module")
def _running_server() -> Iterator[LocalServer]:
    httpd = ScriptedServer(("127.0.0.1", 0), ScriptedHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    host, port = httpd.server_address[:2]
    yield LocalServer(f"http://{host!s}:{port}", httpd)
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=SERVER_TIMEOUT)


@pytest.fixture
def server(_running_server: LocalServer) -> LocalServer:
    _running_server.httpd.script = ServerScript()
    return _running_server


@pytest.fixture
def opener() -> urllib.request.OpenerDirector:
    # No proxies: the test server is on loopback whatever the environment says.
    return urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass
class RecordingProgress:
    totals: list[int | None] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)
    advanced: int = 0
    stopped: bool = False
    interrupt_after: int | None = None
    """Raise KeyboardInterrupt once this many bytes have arrived (a user's Ctrl-C)."""

    def start(self, total: int | None, completed: int) -> None:
        self.totals.append(total)
        self.starts.append(completed)

    def advance(self, size: int) -> None:
        self.advanced += size
        if self.interrupt_after is not None and self.advanced >= self.interrupt_after:
            self.interrupt_after = None
            raise KeyboardInterrupt

    def stop(self) -> None:
        self.stopped = True


def listing(folder: Path) -> list[str]:
    return sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*")) \
        if folder.exists() else []


def serve(server: LocalServer, data: bytes) -> str:
    server.script.files[ARCHIVE_PATH] = data
    return server.base_url + ARCHIVE_PATH


def test_download_installs_model_with_manifest(
    server: LocalServer, opener: urllib.request.OpenerDirector, model_zip: bytes, tmp_path: Path
) -> None:
    entry = entry_for(serve(server, model_zip), model_zip)
    progress = RecordingProgress()
    models_dir = tmp_path / "models"

    path = download_model(entry, models_dir, opener=opener, progress=progress)

    assert path == models_dir / MODEL_NAME
    assert is_vosk_model_dir(path)
    assert sorted(os.listdir(models_dir)) == [MODEL_NAME]  # no partial, no staging left
    assert progress.totals == [len(model_zip)]
    assert progress.advanced == len(model_zip)
    assert progress.stopped
    report = verify_model_dir(path)
    assert report.ok and report.has_manifest
    assert report.checked == 8
    assert stat.S_IMODE(path.stat().st_mode) == 0o755


def test_verify_reports_missing_changed_and_extra_files(
    model_zip: bytes, tmp_path: Path
) -> None:
    archive = tmp_path / f"{MODEL_NAME}.zip"
    archive.write_bytes(model_zip)
    path = install_from_file(archive, tmp_path / "models")

    (path / "graph" / "Gr.fst").unlink()
    (path / "conf" / "model.conf").write_text("--max-active=1\n")
    (path / "notes.txt").write_text("mine\n")
    report = verify_model_dir(path)

    assert not report.ok
    assert report.missing == ("graph/Gr.fst",)
    assert report.changed == ("conf/model.conf",)
    assert report.extra == ("notes.txt",)


def test_truncated_download_resumes_with_range(
    server: LocalServer, opener: urllib.request.OpenerDirector, model_zip: bytes, tmp_path: Path
) -> None:
    entry = entry_for(serve(server, model_zip), model_zip)
    cut = len(model_zip) // 3
    server.script.cut_first_response_at = cut
    models_dir = tmp_path / "models"

    with pytest.raises(IncompleteDownloadError, match="run the same command again"):
        download_model(entry, models_dir, opener=opener, attempts=1)
    partial = partial_path(models_dir, entry)
    assert partial.stat().st_size == cut
    assert not (models_dir / MODEL_NAME).exists()

    progress = RecordingProgress()
    path = download_model(entry, models_dir, opener=opener, progress=progress, attempts=1)

    assert server.script.range_headers == [None, f"bytes={cut}-"]
    assert progress.starts == [cut]
    assert progress.advanced == len(model_zip) - cut
    assert verify_model_dir(path).ok
    assert not partial.exists()


def test_dropped_connection_is_resumed_within_one_call(
    server: LocalServer, opener: urllib.request.OpenerDirector, model_zip: bytes, tmp_path: Path
) -> None:
    entry = entry_for(serve(server, model_zip), model_zip)
    server.script.cut_first_response_at = 1000

    path = download_model(entry, tmp_path / "models", opener=opener, attempts=2)

    assert server.script.range_headers == [None, "bytes=1000-"]
    assert verify_model_dir(path).ok


def test_server_ignoring_range_restarts_from_zero(
    server: LocalServer, opener: urllib.request.OpenerDirector, model_zip: bytes, tmp_path: Path
) -> None:
    entry = entry_for(serve(server, model_zip), model_zip)
    server.script.ignore_range = True
    models_dir = tmp_path / "models"
    partial = partial_path(models_dir, entry)
    partial.parent.mkdir(parents=True)
    partial.write_bytes(b"\xff" * 5000)  # bytes that do not match: appending would corrupt

    path = download_model(entry, models_dir, opener=opener, attempts=1)

    assert server.script.range_headers == ["bytes=5000-"]
    assert verify_model_dir(path).ok


def test_ctrl_c_leaves_a_resumable_partial(
    server: LocalServer, opener: urllib.request.OpenerDirector, model_zip: bytes, tmp_path: Path
) -> None:
    entry = entry_for(serve(server, model_zip), model_zip)
    models_dir = tmp_path / "models"

    with pytest.raises(KeyboardInterrupt):
        download_model(entry, models_dir, opener=opener,
                       progress=RecordingProgress(interrupt_after=100_000))
    kept = partial_path(models_dir, entry).stat().st_size
    assert 0 < kept < len(model_zip)

    path = download_model(entry, models_dir, opener=opener)

    assert server.script.range_headers[-1] == f"bytes={kept}-"
    assert verify_model_dir(path).ok


@pytest.mark.parametrize("flaw", ["sha256", "size"])
def test_bad_checksum_is_rejected_and_nothing_installed(
    server: LocalServer,
    opener: urllib.request.OpenerDirector,
    model_zip: bytes,
    tmp_path: Path,
    flaw: str,
) -> None:
    url = serve(server, model_zip)
    entry = (entry_for(url, model_zip, sha256="0" * 64) if flaw == "sha256"
             else entry_for(url, model_zip[:-10]))
    models_dir = tmp_path / "models"

    with pytest.raises(ChecksumError, match="SHA-256 is" if flaw == "sha256" else "size is"):
        download_model(entry, models_dir, opener=opener)

    assert listing(models_dir) == []


def test_offline_gives_the_clear_message(
    opener: urllib.request.OpenerDirector, model_zip: bytes, tmp_path: Path
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    entry = entry_for(f"http://127.0.0.1:{port}{ARCHIVE_PATH}", model_zip)
    models_dir = tmp_path / "models"

    with pytest.raises(OfflineError) as caught:
        download_model(entry, models_dir, opener=opener, timeout=SERVER_TIMEOUT)

    message = str(caught.value)
    assert "could not reach 127.0.0.1" in message
    assert f"coach models install {MODEL_NAME}.zip" in message
    assert listing(models_dir) == []


def test_http_error_is_reported(
    server: LocalServer, opener: urllib.request.OpenerDirector, model_zip: bytes, tmp_path: Path
) -> None:
    entry = entry_for(server.base_url + "/missing.zip", model_zip)
    with pytest.raises(DownloadError, match="HTTP 404"):
        download_model(entry, tmp_path / "models", opener=opener)


def test_tar_gz_archive_installs(tmp_path: Path) -> None:
    folder = write_fake_model(tmp_path / "src" / MODEL_NAME)
    archive = tmp_path / f"{MODEL_NAME}.tar.gz"
    data = tar_folder(folder, archive)

    path = install_from_file(archive, tmp_path / "models", entry=entry_for("", data))

    assert is_vosk_model_dir(path)
    assert verify_model_dir(path).ok
    assert (path / "am" / "final.mdl").read_bytes() == (folder / "am" / "final.mdl").read_bytes()


def test_existing_install_is_kept_unless_replaced(model_zip: bytes, tmp_path: Path) -> None:
    archive = tmp_path / f"{MODEL_NAME}.zip"
    archive.write_bytes(model_zip)
    models_dir = tmp_path / "models"
    path = install_from_file(archive, models_dir)
    (path / "README").write_text("edited\n")

    with pytest.raises(DownloadError, match="--force"):
        install_from_file(archive, models_dir)
    assert (path / "README").read_text() == "edited\n"

    install_from_file(archive, models_dir, replace=True)
    assert verify_model_dir(path).ok
    assert verify_model_dir(path).extra == ()
    assert sorted(os.listdir(models_dir)) == [MODEL_NAME]


def test_archive_without_a_model_is_rejected(tmp_path: Path) -> None:
    archive = tmp_path / "notes.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("notes/readme.txt", "hello")

    with pytest.raises(ArchiveError, match="holds no Vosk model"):
        install_from_file(archive, tmp_path / "models")
    assert listing(tmp_path / "models") == []


def test_archive_with_the_wrong_folder_is_rejected(model_zip: bytes, tmp_path: Path) -> None:
    archive = tmp_path / f"{MODEL_NAME}.zip"
    archive.write_bytes(model_zip)
    entry = ModelEntry(name="other", language="en", engine=Engine.VOSK, license="x",
                       source=Source.DOWNLOAD, url="http://h/o.zip", folder="other")

    with pytest.raises(ArchiveError, match="expected 'other'"):
        install_from_file(archive, tmp_path / "models", entry=entry)
    assert listing(tmp_path / "models") == []


# --- malicious archives -------------------------------------------------------------------

Member = tuple[zipfile.ZipInfo | str, bytes]
OUTSIDE = "outside-evil.txt"
"""Every escaping archive aims at this file in the test's tmp_path."""
ESCAPE = "m/" + "../" * 5
"""From m/ in the staging folder (tmp/a/b/models/.installing-X/m) up to tmp_path."""


def _zip_with(*members: Member) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        archive = folder / "evil.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
            for info, data in members:
                bundle.writestr(info, data)
        return archive
    return build


def _zip_absolute(folder: Path) -> Path:
    return _zip_with((str(folder / OUTSIDE), b"pwned"))(folder)


def _zip_symlink(name: str, target: str) -> Member:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info, target.encode()


def _tar_with(*members: tarfile.TarInfo) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        archive = folder / "evil.tar.gz"
        with tarfile.open(archive, "w:gz") as bundle:
            for member in members:
                data = io.BytesIO(b"x" * member.size) if member.isreg() else None
                bundle.addfile(member, data)
        return archive
    return build


def _tar_absolute(folder: Path) -> Path:
    return _tar_with(_tar_member(str(folder / OUTSIDE), size=5))(folder)


def _tar_member(name: str, kind: bytes = tarfile.REGTYPE, linkname: str = "",
                size: int = 0) -> tarfile.TarInfo:
    member = tarfile.TarInfo(name)
    member.type = kind
    member.linkname = linkname
    member.size = size if kind == tarfile.REGTYPE else 0
    return member


MALICIOUS: dict[str, tuple[Callable[[Path], Path], str]] = {
    "zip dot-dot": (_zip_with((ESCAPE + OUTSIDE, b"pwned")), "escapes"),
    "zip absolute": (_zip_absolute, "absolute path"),
    "zip symlink": (_zip_with(_zip_symlink("m/link", ESCAPE + OUTSIDE)), "link"),
    "zip backslash": (_zip_with((ESCAPE.replace("/", "\\") + OUTSIDE, b"pwned")), "unsafe path"),
    "zip bomb": (_zip_with(("m/am/final.mdl", bytes(3_000_000))), "unpacks to"),
    "zip too many files": (_zip_with(*[(f"m/f{index}", b"") for index in range(60)]),
                           "more than 50 entries"),
    "tar dot-dot": (_tar_with(_tar_member(ESCAPE + OUTSIDE, size=5)), "escapes"),
    "tar absolute": (_tar_absolute, "absolute path"),
    "tar symlink": (_tar_with(_tar_member("m/link", tarfile.SYMTYPE, ESCAPE + OUTSIDE)), "link"),
    "tar hardlink": (_tar_with(_tar_member("m/link", tarfile.LNKTYPE, "/etc/passwd")), "link"),
    "tar device": (_tar_with(_tar_member("m/dev", tarfile.CHRTYPE)), "special file"),
    "tar big file": (_tar_with(_tar_member("m/am/final.mdl", size=600_000)), "per-file limit"),
    "tar bomb": (_tar_with(*[_tar_member(f"m/f{index}", size=400_000) for index in range(3)]),
                 "unpacks to more than 1,000,000"),
}

SMALL_LIMITS = ExtractLimits(max_total_bytes=1_000_000, max_file_bytes=500_000, max_files=50)


@pytest.mark.parametrize("kind", sorted(MALICIOUS))
def test_malicious_archive_is_rejected_without_writing_outside(
    kind: str, tmp_path: Path
) -> None:
    workspace = tmp_path / "a" / "b"
    workspace.mkdir(parents=True)
    build, reason = MALICIOUS[kind]
    archive = build(tmp_path)
    models_dir = workspace / "models"

    with pytest.raises(ArchiveError, match=reason):
        install_from_file(archive, models_dir, limits=SMALL_LIMITS)

    assert listing(models_dir) == []
    assert listing(tmp_path) == sorted(["a", "a/b", "a/b/models", archive.name])


def test_zip_bomb_with_honest_headers_is_refused_before_unpacking(tmp_path: Path) -> None:
    archive = _zip_with(("m/a", bytes(800_000)), ("m/b", bytes(800_000)))(tmp_path)
    limits = ExtractLimits(max_total_bytes=1_000_000, max_file_bytes=1_000_000, max_files=50)

    with pytest.raises(ArchiveError, match="unpacks to 1,600,000 bytes"):
        install_from_file(archive, tmp_path / "models", limits=limits)


def test_malicious_download_is_deleted(
    server: LocalServer, opener: urllib.request.OpenerDirector, tmp_path: Path
) -> None:
    archive = MALICIOUS["zip dot-dot"][0](tmp_path)
    data = archive.read_bytes()
    entry = entry_for(serve(server, data), data)
    models_dir = tmp_path / "models"

    with pytest.raises(ArchiveError):
        download_model(entry, models_dir, opener=opener)

    assert listing(models_dir) == []
    assert not (tmp_path / OUTSIDE).exists()


def test_manifest_is_not_counted_as_a_model_file(model_zip: bytes, tmp_path: Path) -> None:
    archive = tmp_path / f"{MODEL_NAME}.zip"
    archive.write_bytes(model_zip)
    path = install_from_file(archive, tmp_path / "models")

    assert (path / MANIFEST_NAME).is_file()
    assert MANIFEST_NAME not in verify_model_dir(path).extra


# --- errors a user can act on -------------------------------------------------------------

def test_store_errors_are_coach_errors() -> None:
    for error in (ModelError, CatalogError, DownloadError, OfflineError,
                  IncompleteDownloadError, ChecksumError, ArchiveError):
        assert issubclass(error, CoachError)
    assert issubclass(ArchiveError, ModelError)  # `coach models` catches ModelError


def test_download_into_a_folder_under_a_file_fails_before_the_network(
    server: LocalServer, opener: urllib.request.OpenerDirector, model_zip: bytes, tmp_path: Path
) -> None:
    entry = entry_for(serve(server, model_zip), model_zip)
    blocker = tmp_path / "blocker"
    blocker.write_text("a file")
    progress = RecordingProgress()

    with pytest.raises(DownloadError, match=r"cannot use .* as the models folder"):
        download_model(entry, blocker / "models", opener=opener, progress=progress)

    assert progress.totals == []  # nothing was fetched
    assert blocker.read_text() == "a file"

