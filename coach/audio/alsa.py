"""ALSA's own messages go to the debug log, not to the user's terminal.

PortAudio reaches PulseAudio and sound cards through libasound, which prints a line on
stderr for every buffer underrun and every device it probes ("ALSA lib pcm.c:...: underrun
occurred"): on a busy machine, dozens a minute, over the dashboard and between the coach's
own lines. libasound lets a program take those messages (`snd_lib_error_set_handler`); the
coach takes them into its log, where `-v` shows them.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import threading

__all__ = ["route_alsa_messages_to_log"]

_LOGGER = logging.getLogger("coach.audio.alsa")

# void handler(const char *file, int line, const char *function, int err, const char *fmt, ...)
# The named arguments are all the coach reads; the format's values are left alone.
_Handler = ctypes.CFUNCTYPE(
    None, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p
)
_lock = threading.Lock()
_installed: list[object] = []
"""The handler handed to libasound, kept alive as long as the process."""


def _to_log(file: bytes | None, line: int, function: bytes | None, err: int,
            fmt: bytes | None) -> None:
    _LOGGER.debug("ALSA %s:%d %s: %s (error %d)", _text(file), line, _text(function),
                  _text(fmt), err)


def _text(value: bytes | None) -> str:
    return value.decode("utf-8", "replace") if value else ""


def route_alsa_messages_to_log() -> bool:
    """Take libasound's messages into the log (once per process); False without libasound."""
    with _lock:
        if _installed:
            return True
        name = ctypes.util.find_library("asound")
        if name is None:
            return False
        try:
            library = ctypes.CDLL(name)
            handler = _Handler(_to_log)
            library.snd_lib_error_set_handler(handler)
        except (OSError, AttributeError):
            return False
        _installed.append(handler)
        return True
