"""The settings file: TOML tables onto the frozen settings tree, errors naming file and key."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from coach.settings.file import SettingsFileError, apply_overrides, read_settings_file


@dataclass(frozen=True)
class _Leaf:
    seconds: float = 0.3
    words: int = 3
    name: str | None = None
    on: bool = True
    steps: tuple[float, ...] = (1.0, 2.0)


@dataclass(frozen=True)
class _Root:
    leaf: _Leaf = field(default_factory=_Leaf)
    folder: Path | None = None


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_tables_override_their_branch_and_keep_the_rest(tmp_path: Path) -> None:
    path = _write(tmp_path, 'folder = "~/x"\n[leaf]\nseconds = 1\nname = "joe"\nsteps = [3]\n')
    tree = apply_overrides(_Root(), read_settings_file(path), path)
    assert tree.leaf == _Leaf(seconds=1.0, words=3, name="joe", steps=(3,))
    assert isinstance(tree.leaf.seconds, float)
    assert tree.folder == Path("~/x").expanduser()


def test_no_file_is_no_change(tmp_path: Path) -> None:
    assert read_settings_file(tmp_path / "absent.toml") == {}


def test_the_model_key_read_elsewhere_is_let_through(tmp_path: Path) -> None:
    path = _write(tmp_path, 'vosk_model = "small"\n')
    assert apply_overrides(_Root(), read_settings_file(path), path) == _Root()


@pytest.mark.parametrize(("text", "message"), [
    ("[leaf]\nsecond = 1\n", "unknown setting 'leaf.second' (did you mean 'seconds'?)"),
    ("[leaf]\nwords = 2.5\n", "'leaf.words' must be a whole number, got float"),
    ("[leaf]\nwords = true\n", "'leaf.words' must be a whole number, not true/false"),
    ("leaf = 3\n", "'leaf' must be a table ([leaf])"),
    ("[leaf\n", "the file must be TOML"),
])
def test_mistakes_name_the_file_and_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(SettingsFileError) as raised:
        apply_overrides(_Root(), read_settings_file(path), path)
    assert str(raised.value).startswith(f"{path}: ")
    assert message in str(raised.value)
