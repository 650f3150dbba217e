"""Root conftest: the real-audio fixtures are available to every test, and every coach the
tests start (in this process or a child) keeps its sentence vectors in one folder of the
checkout, filled before the first test: the sentence-meaning model encodes each example
once, not inside some test's start-up."""

import os
import tempfile
from pathlib import Path

pytest_plugins = ["tests.audio_fixtures"]

TEST_CACHE = Path(__file__).resolve().parent / ".cache" / "tests"


def pytest_configure() -> None:
    os.environ["XDG_CACHE_HOME"] = str(TEST_CACHE)
    # the workout log of every session a test runs goes to a folder of this run, never the
    # user's own (nor one an earlier run filled: a pain report there would change what the
    # coach says at a routine's start)
    os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="coach-test-data-")
    # nor the user's settings file (a test that picks a voice would remember it there)
    os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="coach-test-config-")


def pytest_sessionstart() -> None:
    from bench.text_eval import load_shipped
    from coach.core.understanding import Understanding
    from coach.session.understand import attach_meanings

    attach_meanings(Understanding(*load_shipped()))
