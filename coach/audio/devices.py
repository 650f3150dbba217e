"""Choosing an audio device by index, exact name or part of its name. Shared by mic and speaker."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar

__all__ = [
    "PORTAUDIO_LOCK",
    "AudioDevice",
    "choose_device",
    "portaudio_generation",
    "query_devices",
    "reload_portaudio",
]

PORTAUDIO_LOCK = threading.RLock()
"""Held while PortAudio is re-initialised or a stream is (re)opened: the microphone and the
speaker recover on threads of their own, and PortAudio must not be torn down under an open."""

_generation = 0
"""How often PortAudio was re-initialised: streams opened before a re-initialisation are
already closed, and their handles must not be used again."""


@dataclass(frozen=True)
class AudioDevice:
    """A microphone or speaker as PortAudio lists it."""

    index: int
    name: str
    host_api: str
    channels: int
    """Maximum channels in the listed direction."""
    default_rate: int
    """Default sample rate (hertz)."""
    is_default: bool


def query_devices(sd: Any, direction: Literal["input", "output"]) -> list[AudioDevice]:
    """The devices that can record (input) or play (output), from the sounddevice module."""
    try:
        default_index = int(sd.default.device[0 if direction == "input" else 1])
    except (TypeError, ValueError, IndexError):
        default_index = -1
    host_apis = sd.query_hostapis()
    channels_key = f"max_{direction}_channels"
    return [
        AudioDevice(
            index=int(info["index"]),
            name=str(info["name"]),
            host_api=str(host_apis[info["hostapi"]]["name"]),
            channels=int(info[channels_key]),
            default_rate=int(info["default_samplerate"]),
            is_default=int(info["index"]) == default_index,
        )
        for info in sd.query_devices()
        if info[channels_key] > 0
    ]


class _Device(Protocol):
    @property
    def index(self) -> int: ...

    @property
    def name(self) -> str: ...

    @property
    def is_default(self) -> bool: ...


DeviceT = TypeVar("DeviceT", bound=_Device)


def choose_device(devices: Sequence[DeviceT], wanted: str | int | None) -> DeviceT | None:
    """The wanted device (None: the default, else the first), or None when nothing matches."""
    if not devices:
        return None
    if wanted is None:
        return next((d for d in devices if d.is_default), devices[0])
    if isinstance(wanted, int):
        found = [d for d in devices if d.index == wanted]
    else:
        found = [d for d in devices if d.name == wanted] or [
            d for d in devices if wanted.lower() in d.name.lower()
        ]
    return found[0] if found else None


def reload_portaudio() -> None:
    """Re-initialise PortAudio so it lists devices again.

    PortAudio lists devices once; call this after setting PULSE_SERVER (see
    tests.support.pulse) or plugging a device in. It closes every open stream.
    """
    import sounddevice  # loaded already by the microphone or speaker that asks

    global _generation
    with PORTAUDIO_LOCK:
        sounddevice._terminate()
        sounddevice._initialize()
        _generation += 1


def portaudio_generation() -> int:
    """Changes with every `reload_portaudio`: a stream opened under another generation was
    closed by it (aborting it again would touch freed memory)."""
    return _generation
