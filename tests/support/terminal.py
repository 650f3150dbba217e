"""A real terminal for tests: tmux on a private server, send-keys to type, capture-pane to
read the screen."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Callable

__all__ = ["Terminal"]


class Terminal:
    """A tmux session on its own server, `columns` x `rows`."""

    def __init__(self, command: str, columns: int, rows: int) -> None:
        self._socket = f"coach-test-{uuid.uuid4().hex[:8]}"
        self._tmux("new-session", "-d", "-s", "t", "-x", str(columns), "-y", str(rows), command)

    def _tmux(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self._socket, *args], capture_output=True,
                              text=True, timeout=10, check=True)
        return done.stdout

    def keys(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", "t", *keys)

    def type(self, line: str) -> None:
        self.keys("-l", line)
        self.keys("Enter")

    def screen(self) -> str:
        return self._tmux("capture-pane", "-t", "t", "-p")

    def resize(self, columns: int, rows: int) -> None:
        self._tmux("resize-window", "-t", "t", "-x", str(columns), "-y", str(rows))

    def wait_for(self, check: Callable[[str], bool], timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            shown = self.screen()
            if check(shown):
                return shown
            if time.monotonic() > deadline:
                raise AssertionError(f"the terminal never showed it; it shows:\n{shown}")
            time.sleep(0.2)

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self._socket, "kill-server"], capture_output=True,
                       timeout=10, check=False)
