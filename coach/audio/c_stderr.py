"""What PortAudio prints on the process's stderr while a lost device is looked for again.

PortAudio (Debian's build) writes a few "Expression '...' failed in 'src/hostapi/...'"
lines straight to file descriptor 2 on every failed attempt to open a device, with no hook
to take them; looked for every few seconds, a missing speaker would fill the user's terminal.
While an attempt runs, descriptor 2 points at a pipe; afterwards PortAudio's and ALSA's lines
go to the debug log and anything else written meanwhile (another thread's warning) is passed
on to the real stderr, late by the length of the attempt but not lost.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["c_library_lines_to_log"]

_C_LIBRARY_LINES = ("Expression '", "ALSA lib ")
"""How PortAudio's and libasound's own messages begin."""
_lock = threading.Lock()
"""One redirection at a time: the microphone and the speaker may both be looking."""


@contextmanager
def c_library_lines_to_log(logger: logging.Logger) -> Iterator[None]:
    """Inside the block, C libraries' stderr lines go to `logger` at debug level."""
    with _lock:
        _flush()
        read_end, write_end = os.pipe()
        saved = os.dup(2)
        os.dup2(write_end, 2)
        os.close(write_end)
        try:
            yield
        finally:
            _flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured = _drain(read_end)
            os.close(read_end)
            _pass_on(captured, logger)


def _flush() -> None:
    with contextlib.suppress(AttributeError, ValueError, OSError):  # no stderr, or closed
        sys.stderr.flush()


def _drain(read_end: int) -> bytes:
    os.set_blocking(read_end, False)
    chunks: list[bytes] = []
    while True:
        try:
            chunk = os.read(read_end, 65536)
        except BlockingIOError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def _pass_on(captured: bytes, logger: logging.Logger) -> None:
    others: list[str] = []
    for line in captured.decode("utf-8", "replace").splitlines():
        if line.startswith(_C_LIBRARY_LINES):
            logger.debug("%s", line)
        elif line.strip():
            others.append(line)
    if others:
        os.write(2, ("\n".join(others) + "\n").encode("utf-8", "replace"))
