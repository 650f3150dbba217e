"""Root conftest: the real-audio fixtures are available to every test, and every coach the
tests start (in this process or a child) keeps its sentence vectors in one folder of the
checkout, so the sentence-meaning model encodes each example once, not once per test."""

import os
from pathlib import Path

pytest_plugins = ["tests.audio_fixtures"]

TEST_CACHE = Path(__file__).resolve().parent / ".cache" / "tests"


def pytest_configure() -> None:
    os.environ["XDG_CACHE_HOME"] = str(TEST_CACHE)
