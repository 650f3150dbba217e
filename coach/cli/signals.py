"""Ctrl-C and SIGTERM end every mode the same way.

Each raises an exception in the main thread, so every `with` block and `finally` runs on
the way out (the terminal restored, the speaker and microphone closed, the workout log
closed); the CLI then prints one line and exits with 128 + the signal's number, what shells
and supervisors read as "ended by that signal" (0 would claim the session or the routine
ran to its end).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

__all__ = ["EXIT_INTERRUPTED", "EXIT_TERMINATED", "Terminated", "stopped_by_signals"]

EXIT_INTERRUPTED = 128 + signal.SIGINT
"""Exit status after Ctrl-C (130)."""
EXIT_TERMINATED = 128 + signal.SIGTERM
"""Exit status after SIGTERM (143)."""


class Terminated(BaseException):
    """SIGTERM arrived. A BaseException, as KeyboardInterrupt is: no `except Exception`
    meant for a device's or a library's errors may swallow it."""


@contextmanager
def stopped_by_signals() -> Iterator[None]:
    """For a `with` block: Ctrl-C raises KeyboardInterrupt and SIGTERM `Terminated`, once.

    A second signal while the session winds down is ignored: the clean-up is bounded by
    timeouts, and cut off half way it would leave the terminal in the dashboard's mode.
    The previous handlers come back at the end. Off the main thread (where Python allows
    no handler) the block runs as it is.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    stopping = False

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        if stopping:
            return
        stopping = True
        if signum == signal.SIGTERM:
            raise Terminated
        raise KeyboardInterrupt

    previous = {number: signal.signal(number, stop) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            if handler is not None:  # None: set outside Python; nothing to put back
                signal.signal(number, handler)
