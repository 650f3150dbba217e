"""Choosing an audio device by index, exact name or part of its name. Shared by mic and speaker."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

__all__ = ["choose_device"]


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
