"""Root conftest: the real-audio fixtures are available to every test."""

pytest_plugins = ["tests.audio_fixtures"]
