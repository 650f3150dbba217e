"""The microphone: sounddevice input, resampled to 16 kHz mono int16, with recovery.

PortAudio calls our callback on its own thread; we only copy the block into a queue
there. A reader thread (owned by the caller) pulls blocks with `read()`. When the device
disappears the stream reports an error or stops calling back: `read()` raises
`MicrophoneLost`, and `reopen()` tries again later, so the workout keeps its place.
"""

from __future__ import annotations

import logging
import queue
import time
from typing import Any

import numpy as np
import numpy.typing as npt

from coach.audio.alsa import route_alsa_messages_to_log
from coach.audio.c_stderr import c_library_lines_to_log
from coach.audio.devices import (
    PORTAUDIO_LOCK,
    AudioDevice,
    choose_device,
    portaudio_generation,
    query_devices,
    reload_portaudio,
)
from coach.errors import CoachError
from coach.settings.hearing import MicrophoneSettings

__all__ = [
    "InputDevice",
    "Microphone",
    "MicrophoneLost",
    "NoMicrophoneError",
    "list_input_devices",
]

_LOGGER = logging.getLogger(__name__)

TARGET_RATE = 16000

NO_MIC_HINT = (
    "plug in a microphone, then run `coach devices` to see it (choose one with --mic NAME), "
    "or type commands instead with `coach run --text`"
)


class NoMicrophoneError(CoachError, RuntimeError):
    """There is no usable input device; the message says what to do."""


class MicrophoneLost(RuntimeError):
    """The input device stopped delivering audio."""


InputDevice = AudioDevice
"""A microphone as PortAudio lists it."""


def _sounddevice() -> Any:
    route_alsa_messages_to_log()  # before PortAudio starts probing devices through ALSA
    try:
        import sounddevice
    except OSError as exc:  # raised when libportaudio2 is missing
        raise NoMicrophoneError(f"PortAudio not found ({exc}): apt-get install libportaudio2") \
            from exc
    return sounddevice


def list_input_devices() -> list[InputDevice]:
    """Input devices, for `coach devices` and `coach doctor`."""
    return query_devices(_sounddevice(), "input")


def resolve_input_device(device: str | int | None) -> InputDevice:
    devices = list_input_devices()
    if not devices:
        raise NoMicrophoneError(f"no microphone found: {NO_MIC_HINT}")
    found = choose_device(devices, device)
    if found is None:
        names = "; ".join(f"{d.index}: {d.name}" for d in devices)
        raise NoMicrophoneError(f"no microphone {device!r} (have {names}); {NO_MIC_HINT}")
    return found


class Microphone:
    """A started input stream delivering 16 kHz mono int16 blocks."""

    def __init__(
        self, device: str | int | None = None, settings: MicrophoneSettings | None = None
    ) -> None:
        self._wanted = device
        self.settings = settings or MicrophoneSettings()
        self._blocks: queue.Queue[tuple[float, npt.NDArray[np.int16]] | BaseException] = (
            queue.Queue()
        )
        self.arrived_at = 0.0
        """time.monotonic() when the block last returned by read() came from the device
        (the listener may read it later, when it was busy decoding)."""
        self._stream: Any = None
        self._generation = portaudio_generation()
        self._resampler: Any = None
        self.device: InputDevice | None = None
        self.open()

    def open(self) -> None:
        """Open the device (again). Raises NoMicrophoneError if it is not there."""
        import soxr

        sd = _sounddevice()
        self.device = resolve_input_device(self._wanted)
        rate = self._device_rate(sd, self.device)
        self._resampler = None
        if rate != TARGET_RATE:
            self._resampler = soxr.ResampleStream(rate, TARGET_RATE, 1, dtype="float32")
        try:
            self._stream = sd.InputStream(
                samplerate=rate, blocksize=int(rate * self.settings.block_s),
                device=self.device.index, channels=1, dtype="float32", callback=self._on_block,
            )
            self._stream.start()
            self._generation = portaudio_generation()
        except sd.PortAudioError as exc:
            raise NoMicrophoneError(f"cannot open {self.device.name!r}: {exc}; {NO_MIC_HINT}") \
                from exc
        _LOGGER.info("listening on %r at %d Hz", self.device.name, rate)

    @staticmethod
    def _device_rate(sd: Any, device: InputDevice) -> int:
        """16 kHz when the device takes it (no resampling), else its own rate."""
        try:
            sd.check_input_settings(device=device.index, samplerate=TARGET_RATE, channels=1)
            return TARGET_RATE
        except Exception:  # PortAudio says "Invalid sample rate" in several ways
            return device.default_rate

    def _on_block(self, indata: Any, frames: int, _time: Any, status: Any) -> None:
        if status and status.input_overflow:
            _LOGGER.debug("microphone overflow")
        mono = np.asarray(indata[:, 0], dtype=np.float32)
        resampler = self._resampler  # close() may let it go meanwhile
        if resampler is not None:
            mono = resampler.resample_chunk(mono)
        samples = (np.clip(mono, -1.0, 1.0) * 32767).astype(np.int16)
        self._blocks.put((time.monotonic(), samples))

    def read(self, timeout: float | None = None) -> npt.NDArray[np.int16]:
        """The next block; MicrophoneLost if the device went quiet for `timeout` seconds
        (None: `MicrophoneSettings.stall_s`)."""
        if timeout is None:
            timeout = self.settings.stall_s
        try:
            block = self._blocks.get(timeout=timeout)
        except queue.Empty:
            raise MicrophoneLost("the microphone stopped sending audio") from None
        if isinstance(block, BaseException):
            raise MicrophoneLost(str(block)) from block
        self.arrived_at, samples = block
        return samples

    def drop_queued(self) -> int:
        """Forget the audio that came before the listener was ready; how many blocks.

        The stream opens first, so that a missing microphone is told at once; until the
        recogniser is loaded (seconds, the first time much longer) its blocks queue up, and
        working through them would make every reply after them late. A device error queued
        meanwhile is kept."""
        dropped, error = 0, None
        while True:
            try:
                block = self._blocks.get_nowait()
            except queue.Empty:
                break
            if isinstance(block, BaseException):
                error = block
            else:
                dropped += 1
        if error is not None:
            self._blocks.put(error)
        return dropped

    def reopen(self, attempts: int = 1, wait: float = 1.0) -> bool:
        """Close and try to open the device again; True once it works."""
        self.close()
        for attempt in range(attempts):
            try:
                # the speaker may be recovering at the same time; the loss was told already
                with PORTAUDIO_LOCK, c_library_lines_to_log(_LOGGER):
                    reload_portaudio()  # PortAudio lists devices once; a replugged mic is new
                    self.open()
                return True
            except (NoMicrophoneError, RuntimeError) as exc:
                _LOGGER.info("microphone still missing (%s), attempt %d", exc, attempt + 1)
                time.sleep(wait)
        return False

    def close(self) -> None:
        """Stop the stream and free the resampler (soxr reports one still alive at the
        interpreter's exit as a leak)."""
        if self._stream is not None:
            # Re-initialising PortAudio (for the speaker) closed the stream already: its
            # handle must not be used again.
            if self._generation == portaudio_generation():
                try:
                    self._stream.abort()
                    self._stream.close()
                except Exception:  # a vanished device may fail to close; nothing to keep
                    _LOGGER.debug("closing the microphone failed", exc_info=True)
            self._stream = None
        self._resampler = None
