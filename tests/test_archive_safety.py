"""Hostile and damaged model archives, and unusable models folders, through the real CLI.

Every archive is built here, small: a "bomb" is a few megabytes of zeros, and the catalog
written for each test declares the sizes it checks. Each refusal must be one line on stderr,
no traceback, the right exit code, and no model or temporary folder left behind.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import re
import resource
import signal
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coach.store.archive import extract_archive
from coach.store.archive_limits import ExtractLimits, UnpackBudget
from coach.store.destination import destination_error
from coach.store.errors import ArchiveError

COACH = Path(sys.executable).parent / "coach"
NAME = "vosk-model-tiny-test-0.1"
EXIT_PROBLEM = 1
EXIT_USAGE = 2

MODEL_FILES = {
    "am/final.mdl": os.urandom(20_000),
    "conf/model.conf": b"--min-active=200\n--max-active=3000\n",
    "graph/HCLr.fst": os.urandom(8_000),
    "graph/Gr.fst": os.urandom(4_000),
}
"""Just enough for `is_vosk_model_dir`; random bytes, so nothing packs suspiciously well."""


def model_zip(path: Path, extra: dict[str, bytes] | None = None,
              method: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", method) as bundle:
        for name, data in {**MODEL_FILES, **(extra or {})}.items():
            bundle.writestr(f"{NAME}/{name}", data)
    return path


def model_tar_gz(path: Path) -> Path:
    with tarfile.open(path, "w:gz") as bundle:
        for name, data in MODEL_FILES.items():
            info = tarfile.TarInfo(f"{NAME}/{name}")
            info.size = len(data)
            bundle.addfile(info, io.BytesIO(data))
    return path


def data_offset(archive: Path, member: str) -> tuple[int, int]:
    """Where a zip member's packed bytes start in the file, and how many there are."""
    with zipfile.ZipFile(archive) as bundle:
        info = bundle.getinfo(f"{NAME}/{member}")
    header = archive.read_bytes()[info.header_offset:info.header_offset + 30]
    name_length = int.from_bytes(header[26:28], "little")
    extra_length = int.from_bytes(header[28:30], "little")
    return info.header_offset + 30 + name_length + extra_length, info.compress_size


def overwrite(archive: Path, offset: int, data: bytes) -> Path:
    content = bytearray(archive.read_bytes())
    content[offset:offset + len(data)] = data
    archive.write_bytes(bytes(content))
    return archive


@dataclass(frozen=True)
class Result:
    code: int
    stderr: str


class World:
    """A private HOME for the CLI, and a catalog written for the archive under test."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.dest = tmp_path / "models"
        self.env = {
            **os.environ,
            "XDG_DATA_HOME": str(tmp_path / "xdg-data"),
            "XDG_CONFIG_HOME": str(tmp_path / "xdg-config"),
            "XDG_STATE_HOME": str(tmp_path / "xdg-state"),
        }

    def archive(self, suffix: str = ".zip") -> Path:
        return self.tmp_path / f"{NAME}{suffix}"

    def catalog(self, archive: Path, unpacked_size: int | None = None) -> Path:
        data = archive.read_bytes()
        unpacked = f"    unpacked_size: {unpacked_size}\n" if unpacked_size else ""
        path = self.tmp_path / "catalog.yaml"
        path.write_text(
            f"default: {NAME}\n"
            "models:\n"
            f"  - name: {NAME}\n"
            "    language: en-us\n"
            "    engine: vosk\n"
            "    license: Apache-2.0\n"
            "    source: download\n"
            f"    url: http://127.0.0.1:9/{archive.name}\n"
            f"    size: {len(data)}\n"
            f"    sha256: {hashlib.sha256(data).hexdigest()}\n"
            f"    folder: {NAME}\n"
            f"{unpacked}"
        )
        return path

    def install(self, archive: Path, *flags: str, unpacked_size: int | None = None,
                dest: Path | None = None, max_file_bytes: int | None = None) -> Result:
        """`coach models install ARCHIVE`, checked against a catalog made for it;
        `max_file_bytes` makes every larger write fail, as on a full disk."""
        catalog = self.catalog(archive, unpacked_size)
        argv = [str(COACH), "models", "--catalog", str(catalog), "install", str(archive),
                "--dest", str(dest or self.dest), *flags]
        limit = (lambda: _limit_file_size(max_file_bytes)) if max_file_bytes else None
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False,
                              env=self.env, preexec_fn=limit)
        return Result(done.returncode, done.stderr)

    def assert_nothing_installed(self) -> None:
        left = sorted(path.name for path in self.dest.iterdir()) if self.dest.exists() else []
        assert left == [], f"left behind in the models folder: {left}"


def _limit_file_size(max_bytes: int) -> None:
    """In the child: writes past `max_bytes` fail with EFBIG instead of killing it."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


def assert_one_line_refusal(result: Result, code: int, *needles: str) -> None:
    assert result.code == code, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0]


# --- damaged archives ------------------------------------------------------------------------

def test_a_good_archive_installs(world: World) -> None:
    result = world.install(model_zip(world.archive()), unpacked_size=100_000)

    assert result.code == 0, result.stderr
    assert sorted(path.name for path in world.dest.iterdir()) == [NAME]


def test_corrupt_deflate_data_is_a_damaged_zip(world: World) -> None:
    archive = model_zip(world.archive())
    offset, length = data_offset(archive, "am/final.mdl")
    overwrite(archive, offset, b"\xff" * length)  # block type 3 does not exist

    result = world.install(archive)

    assert_one_line_refusal(result, EXIT_PROBLEM, "damaged zip",
                            f"download it again with `coach models download {NAME}`")
    world.assert_nothing_installed()


def test_crc_mismatch_is_a_damaged_zip(world: World) -> None:
    archive = model_zip(world.archive(), method=zipfile.ZIP_STORED)
    offset, _ = data_offset(archive, "am/final.mdl")
    overwrite(archive, offset + 100, bytes([archive.read_bytes()[offset + 100] ^ 0xFF]))

    result = world.install(archive)

    assert_one_line_refusal(result, EXIT_PROBLEM, "damaged zip", "CRC",
                            f"coach models download {NAME}")
    world.assert_nothing_installed()


@pytest.mark.parametrize("suffix", [".zip", ".tar.gz"])
def test_truncated_archive_is_refused(world: World, suffix: str) -> None:
    archive = world.archive(suffix)
    (model_zip if suffix == ".zip" else model_tar_gz)(archive)
    archive.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])

    result = world.install(archive, "--no-checksum")

    assert_one_line_refusal(result, EXIT_PROBLEM, "download it again")
    world.assert_nothing_installed()


# --- bombs and oversize archives -------------------------------------------------------------

def test_zip_bomb_is_refused_for_its_ratio(world: World) -> None:
    archive = model_zip(world.archive(), {"graph/HCLG.fst": bytes(4 * 1024**2)})

    result = world.install(archive)  # no catalog size: only the ratio can catch it

    assert_one_line_refusal(result, EXIT_PROBLEM, "times its packed size", "zip bomb")
    world.assert_nothing_installed()


def test_archive_over_the_catalogs_unpacked_size_is_refused(world: World) -> None:
    archive = model_zip(world.archive())

    result = world.install(archive, unpacked_size=30_000)

    assert_one_line_refusal(result, EXIT_PROBLEM, "more than the 30,000",
                            f"the catalog's unpacked_size of {NAME}")
    world.assert_nothing_installed()


def test_archive_with_too_many_members_is_refused(world: World) -> None:
    limit = ExtractLimits().max_files
    archive = model_zip(world.archive(), {f"junk/{index}": b"" for index in range(limit)})

    result = world.install(archive)

    assert_one_line_refusal(result, EXIT_PROBLEM, f"more than {limit:,} entries")
    world.assert_nothing_installed()


# --- the models folder ----------------------------------------------------------------------

def test_dest_that_is_a_file_is_a_usage_error(world: World) -> None:
    a_file = world.tmp_path / "a-file"
    a_file.write_text("not a folder")

    result = world.install(model_zip(world.archive()), dest=a_file)

    assert_one_line_refusal(result, EXIT_USAGE, f"cannot use {a_file}", "a file is in the way",
                            "--dest")
    assert a_file.read_text() == "not a folder"


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="no /proc here")
@pytest.mark.parametrize("dest", ["/proc/coach-test/models", "/proc/self"])
def test_dest_under_proc_is_a_usage_error(world: World, dest: str) -> None:
    result = world.install(model_zip(world.archive()), dest=Path(dest))

    assert_one_line_refusal(result, EXIT_USAGE, f"cannot use {dest}", "/proc", "--dest")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_dest_that_is_not_writable_is_a_usage_error(world: World) -> None:
    world.dest.mkdir()
    world.dest.chmod(0o555)
    try:
        result = world.install(model_zip(world.archive()))
    finally:
        world.dest.chmod(0o755)

    assert_one_line_refusal(result, EXIT_USAGE, "not writable", "--dest")


def test_dest_without_room_for_the_model_is_a_usage_error(world: World) -> None:
    result = world.install(model_zip(world.archive()), unpacked_size=10**18)

    assert_one_line_refusal(result, EXIT_USAGE, "not enough space", "--dest")
    world.assert_nothing_installed()


@pytest.mark.skipif(sys.platform != "linux", reason="needs RLIMIT_FSIZE and SIGXFSZ")
def test_write_failing_while_unpacking_is_a_usage_error_and_leaves_nothing(world: World) -> None:
    archive = model_zip(world.archive())

    result = world.install(archive, max_file_bytes=10_000)  # am/final.mdl is 20,000 bytes

    assert_one_line_refusal(result, EXIT_USAGE, f"cannot use {world.dest}", "File too large",
                            "--dest")
    world.assert_nothing_installed()


def test_full_disk_says_so() -> None:
    error = destination_error(Path("/models"), OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)))

    assert str(error) == ("no space left in /models; free some space or choose another folder "
                          "(--dest DIR). Nothing was installed")
    assert error.exit_code == EXIT_USAGE


# --- the rules, one by one -------------------------------------------------------------------

def test_one_entry_packed_too_well_is_refused_even_when_the_whole_archive_is_not(
    tmp_path: Path,
) -> None:
    archive = model_zip(tmp_path / "a.zip", {"graph/HCLG.fst": bytes(2 * 1024**2),
                                            "ivector/final.ie": os.urandom(200_000)})
    dest = tmp_path / "out"
    dest.mkdir()

    with pytest.raises(ArchiveError, match=re.escape(f"'{NAME}/graph/HCLG.fst' unpacks")):
        extract_archive(archive, dest)


def test_tar_bomb_is_stopped_while_unpacking(tmp_path: Path) -> None:
    archive = tmp_path / "bomb.tar.gz"
    with tarfile.open(archive, "w:gz") as bundle:
        info = tarfile.TarInfo("m/zeros")
        info.size = 4 * 1024**2
        bundle.addfile(info, io.BytesIO(bytes(info.size)))
    dest = tmp_path / "out"
    dest.mkdir()

    with pytest.raises(ArchiveError, match="the archive unpacks to more than 100 times"):
        extract_archive(archive, dest)

    assert (dest / "m" / "zeros").stat().st_size < info.size


def test_more_bytes_than_an_entry_declares_stop_the_unpacking() -> None:
    budget = UnpackBudget(ExtractLimits(), archive_bytes=1_000)
    budget.add_bytes("m/a", written=10, chunk=10, declared=10, compressed=None)

    with pytest.raises(ArchiveError, match="more bytes come out than the 10 its header"):
        budget.add_bytes("m/a", written=11, chunk=1, declared=10, compressed=None)


def test_small_files_are_never_refused_for_their_ratio() -> None:
    budget = UnpackBudget(ExtractLimits(), archive_bytes=100)

    budget.check_declared("conf/model.conf", 50_000, compressed=20)


def test_catalog_size_only_ever_lowers_the_cap() -> None:
    limits = ExtractLimits(max_total_bytes=1_000)

    assert limits.within(None, "x") is limits
    assert limits.within(5_000, "x") is limits
    assert limits.within(500, "the catalog").max_total_bytes == 500


# --- fuzz --------------------------------------------------------------------------------------

FUZZ_LIMITS = ExtractLimits(max_total_bytes=200_000, max_file_bytes=100_000, max_files=50)


def _seed_archives() -> list[bytes]:
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        return [
            model_zip(base / "deflated.zip").read_bytes(),
            model_zip(base / "stored.zip", method=zipfile.ZIP_STORED).read_bytes(),
            model_zip(base / "bzip2.zip", method=zipfile.ZIP_BZIP2).read_bytes(),
            model_tar_gz(base / "model.tar.gz").read_bytes(),
        ]


SEEDS = _seed_archives()


@st.composite
def damaged_archives(draw: st.DrawFn) -> bytes:
    """A seed archive with bytes overwritten, cut short, or random bytes altogether."""
    if draw(st.booleans()) and draw(st.booleans()):
        return draw(st.binary(max_size=2_000))
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 8))):
        at = draw(st.integers(0, len(data) - 1))
        data[at:at + 4] = draw(st.binary(min_size=1, max_size=4))
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return bytes(data)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged_archives())
def test_damaged_archives_raise_only_archive_errors(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        archive = Path(folder) / "fuzzed.bin"
        archive.write_bytes(data)
        dest = Path(folder) / "out"
        dest.mkdir()
        try:
            extract_archive(archive, dest, FUZZ_LIMITS)
        except ArchiveError as exc:
            assert "\n" not in str(exc)
