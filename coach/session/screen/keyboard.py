"""Typed lines read key by key, for a typed session under the dashboard.

The terminal's own echo would scribble over the dashboard, so the terminal goes into cbreak
mode (no echo, keys as they come, Ctrl-C still interrupts) and the line being typed is shown
by the dashboard instead. The terminal's settings are put back however the session ends.
"""

from __future__ import annotations

import codecs
import os
import queue
import termios
import threading
import tty
from collections.abc import Callable
from types import TracebackType
from typing import Any

from coach.session.inputs import EndOfInput, Input, Typed

__all__ = ["KeyboardLines"]

_ENTER = ("\r", "\n")
_ERASE = ("\x7f", "\x08")
_END = "\x04"  # Ctrl-D
_CLEAR = "\x15"  # Ctrl-U
_ESCAPE = "\x1b"
_LONGEST_LINE = 200
"""Characters kept in a typed line; more are ignored (nobody types a paragraph mid-set)."""


class KeyboardLines:
    """Reads the terminal on `fd` key by key; each finished line goes on `inputs`, Ctrl-D on an
    empty line ends input. For a `with` block."""

    def __init__(self, fd: int, inputs: queue.Queue[Input]) -> None:
        self._fd = fd
        self._inputs = inputs
        self._changed: Callable[[], None] = lambda: None
        self._line: list[str] = []
        self._lock = threading.Lock()
        self._saved: list[Any] | None = None
        self._in_escape = False

    def on_change(self, changed: Callable[[], None]) -> None:
        """Call `changed()` after every key."""
        self._changed = changed

    def current(self) -> str:
        """The line typed so far."""
        with self._lock:
            return "".join(self._line)

    def __enter__(self) -> KeyboardLines:
        self._saved = termios.tcgetattr(self._fd)
        tty.setcbreak(self._fd)
        threading.Thread(target=self._read, name="coach-keyboard", daemon=True).start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._saved is not None:
            termios.tcsetattr(self._fd, termios.TCSADRAIN, self._saved)

    def feed(self, text: str) -> None:
        """Take these keys as typed."""
        for char in text:
            self._key(char)
        self._changed()

    def _read(self) -> None:
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        while True:
            try:
                data = os.read(self._fd, 64)
            except OSError:
                data = b""
            if not data:
                self._inputs.put(EndOfInput())
                return
            self.feed(decoder.decode(data))

    def _key(self, char: str) -> None:
        if self._in_escape:
            # an arrow or function key: ESC [ ... ends with a letter or ~
            self._in_escape = not (char.isalpha() or char == "~")
            return
        with self._lock:
            if char == _ESCAPE:
                self._in_escape = True
            elif char in _ENTER:
                line = "".join(self._line).strip()
                self._line.clear()
                if line:
                    self._inputs.put(Typed(line))
            elif char in _ERASE:
                if self._line:
                    self._line.pop()
            elif char == _CLEAR:
                self._line.clear()
            elif char == _END:
                if not self._line:
                    self._inputs.put(EndOfInput())
            elif char.isprintable() and len(self._line) < _LONGEST_LINE:
                self._line.append(char)
