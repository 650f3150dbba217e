"""Choosing a device by index, exact name or part of its name."""

from __future__ import annotations

from dataclasses import dataclass

from coach.audio.devices import choose_device


@dataclass(frozen=True)
class Dev:
    index: int
    name: str
    is_default: bool = False


DEVICES = [Dev(0, "HDA Intel PCH"), Dev(3, "USB Audio Device", True), Dev(5, "pulse")]


def test_default_then_first() -> None:
    assert choose_device(DEVICES, None) == DEVICES[1]
    assert choose_device([Dev(1, "a"), Dev(2, "b")], None) == Dev(1, "a")
    assert choose_device([], None) is None


def test_by_index_exact_name_or_part_of_it() -> None:
    assert choose_device(DEVICES, 5) == DEVICES[2]
    assert choose_device(DEVICES, "pulse") == DEVICES[2]
    assert choose_device(DEVICES, "usb") == DEVICES[1]
    assert choose_device(DEVICES, "bluetooth") is None
    assert choose_device(DEVICES, 9) is None
