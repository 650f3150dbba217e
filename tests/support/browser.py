"""A real browser for the web page's tests and the bench: Debian's chromium, headless, driven
by chromedriver through selenium; and a coach session serving the page."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

__all__ = ["CHROMEDRIVER", "CHROMIUM", "Session", "chromium", "coach_session"]

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
COACH = Path(sys.executable).parent / "coach"

_FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    # the machine has no network: without these chromium keeps trying to reach Google
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-quic", "--no-first-run", "--disable-extensions",
)


@contextmanager
def chromium(width: int = 1280, height: int = 800) -> Iterator[webdriver.Chrome]:
    """A headless chromium window of that size (CSS pixels)."""
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        raise RuntimeError("chromium and chromium-driver are not installed: run "
                           "scripts/setup --test")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in _FLAGS:
        options.add_argument(flag)
    profile = tempfile.TemporaryDirectory(prefix="coach-chromium-")
    options.add_argument(f"--user-data-dir={profile.name}")
    options.add_argument(f"--window-size={width},{height}")
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    try:
        driver.set_window_size(width, height)
        yield driver
    finally:
        driver.quit()
        profile.cleanup()


class Session:
    """A `coach run ... --web --json` process: its page's address, its stdin, its events."""

    def __init__(self, process: subprocess.Popen[str], url: str,
                 lines: queue.Queue[str]) -> None:
        self.process = process
        self.url = url
        self._lines = lines
        self.events: list[str] = []

    def type(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def wait_for(self, text: str, timeout: float = 20.0) -> str:
        """The first JSON event line (from the start) that holds `text`."""
        for line in self.events:
            if text in line:
                return line
        while True:
            try:
                line = self._lines.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"no event with {text!r}; had {self.events}") from None
            self.events.append(line)
            if text in line:
                return line


@contextmanager
def coach_session(*args: str, before: tuple[str, ...] = (), host: str = "127.0.0.1",
                  env: dict[str, str] | None = None) -> Iterator[Session]:
    """`coach BEFORE run ARGS --web --json` on any free port, in a fresh user folder; yields
    once the page is served."""
    with tempfile.TemporaryDirectory(prefix="coach-web-") as home:
        child = {**os.environ, "XDG_CONFIG_HOME": f"{home}/config",
                 "XDG_STATE_HOME": f"{home}/state", "XDG_DATA_HOME": f"{home}/data",
                 "COACH_SETTINGS": f"{home}/none.toml", **(env or {})}
        process = subprocess.Popen(
            [str(COACH), *before, "run", *args, "--web", "--web-port", "0", "--web-host", host,
             "--json"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=child)
        lines: queue.Queue[str] = queue.Queue()
        errors: list[str] = []
        url: queue.Queue[str] = queue.Queue()

        def read_out() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                lines.put(line.rstrip("\n"))

        def read_err() -> None:
            assert process.stderr is not None
            for line in process.stderr:
                errors.append(line)
                if line.startswith("Screen: "):
                    url.put(line.split(" ", 1)[1].strip())

        threading.Thread(target=read_out, daemon=True).start()
        threading.Thread(target=read_err, daemon=True).start()
        try:
            try:
                address = url.get(timeout=120)
            except queue.Empty:
                raise AssertionError(f"the page was not served: {''.join(errors)}") from None
            yield Session(process, address, lines)
        finally:
            if process.poll() is None:
                process.terminate()
            process.wait(timeout=20)
            for stream in (process.stdin, process.stdout, process.stderr):
                if stream is not None:
                    stream.close()
