"""Echo cancellation: the coach's own voice taken out of the microphone before recognition.

The coach knows its speaker's output sample for sample. `OutputTimeline` keeps the last few
seconds of it on the session clock (the player writes every block it sends, silence too);
`EchoCanceller` runs libspeexdsp's adaptive filter over each microphone block with the output
that was playing when that block was heard, so what the user says over the coach reaches the
recogniser with the coach's voice mostly removed (barge-in). The text-level `EchoFilter`
still judges whatever is left.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import threading
from collections import deque
from typing import Any

import numpy as np
import numpy.typing as npt

from coach.errors import CoachError
from coach.hearing.asr.base import SAMPLE_RATE, Pcm
from coach.hearing.doubletalk import DoubleTalk
from coach.hearing.endpoint import frame_dbfs
from coach.settings.hearing import AecSettings, DoubleTalkSettings

__all__ = ["AecUnavailableError", "EchoCanceller", "EchoDelay", "LiveEchoCancel",
           "OutputTimeline"]

_LOGGER = logging.getLogger(__name__)

_INSTALL_HINT = ("echo cancellation needs libspeexdsp (Debian and Ubuntu: "
                 "apt-get install libspeexdsp1; scripts/setup installs it)")


class AecUnavailableError(CoachError, RuntimeError):
    """libspeexdsp cannot be loaded; the message says how to install it."""


class OutputTimeline:
    """The speaker's recent output at 16 kHz, readable at any session time. Thread-safe.

    Blocks at the speaker's rate are resampled as one continuous stream (soxr, band-limited:
    the microphone hears no aliases, so neither may the reference). Output sample m (at the
    speaker's rate) is heard at `anchor + m / rate`. The output stream is continuous (silence
    is written too), so the anchor is set once, from the first block's reported time, and
    moved only when the median of the last blocks' times disagrees by more than
    `timeline_resync_s`
    (the stream restarted or skipped). When callbacks merely come at other times, the sound
    has not moved: through PulseAudio their timing once shifted by 20 ms for good, and moving
    the reference with it cost the echo filter 15 s of re-adapting. Smaller real changes are
    the measured echo delay's to follow (`EchoDelay`).
    The resampler's few samples of delay are part of the echo delay `EchoDelay` measures.
    """

    def __init__(self, settings: AecSettings | None = None) -> None:
        settings = settings or AecSettings()
        self.keep_s = settings.timeline_keep_s
        self.resync_s = settings.timeline_resync_s
        self._lock = threading.Lock()
        self._rate = 0
        self._resampler: Any = None
        self._ring = np.zeros(round(self.keep_s * SAMPLE_RATE), np.float32)
        self._input = 0
        """Samples written since the stream began, at the speaker's rate."""
        self._written = 0
        """The same at 16 kHz: samples in the ring so far."""
        self._anchor: float | None = None
        self._estimates: deque[float] = deque(maxlen=settings.timeline_blocks)
        """The anchor as the last blocks' reported times put it."""
        self._closed = False

    def close(self) -> None:
        """Keep nothing more, and let the resampler go now (soxr reports one still alive
        at the interpreter's exit as a leak; a listening thread may outlive the session)."""
        with self._lock:
            self._closed = True
            self._resampler = None

    def write(self, samples: npt.NDArray[np.int16], rate: int, heard_at: float) -> None:
        """One block of output, the first sample heard at `heard_at` (session seconds)."""
        block = np.asarray(samples, np.float32).reshape(-1)
        with self._lock:
            if self._closed:
                return
            if rate != self._rate:
                import soxr

                self._rate = rate
                self._resampler = (None if rate == SAMPLE_RATE else
                                   soxr.ResampleStream(rate, SAMPLE_RATE, 1, dtype="float32"))
                self._ring[:] = 0.0
                self._input = self._written = 0
                self._anchor = None
                self._estimates.clear()
            self._estimates.append(heard_at - self._input / rate)
            estimate = float(np.median(self._estimates))
            if self._anchor is None or abs(estimate - self._anchor) > self.resync_s:
                if self._anchor is not None:
                    _LOGGER.debug("output timeline moved %+.0f ms",
                                  1000 * (estimate - self._anchor))
                self._anchor = estimate
            self._input += len(block)
            if self._resampler is not None:
                block = self._resampler.resample_chunk(block)
            block = block[-len(self._ring) :]
            start = self._written % len(self._ring)
            first = min(len(block), len(self._ring) - start)
            self._ring[start : start + first] = block[:first]
            self._ring[: len(block) - first] = block[first:]
            self._written += len(block)

    def read(self, start: float, count: int) -> Pcm:
        """`count` samples (16 kHz) of what was heard from session time `start` (zeros
        where nothing was written, or it is too old)."""
        with self._lock:
            if self._anchor is None:
                return np.zeros(count, np.int16)
            positions = (start - self._anchor) * SAMPLE_RATE + np.arange(count)
            oldest = max(0, self._written - len(self._ring))
            inside = (positions >= oldest) & (positions <= self._written - 1)
            out = np.zeros(count, np.float32)
            if inside.any():
                index = np.floor(positions[inside]).astype(np.int64)
                frac = positions[inside] - index
                ring = self._ring
                here = ring[index % len(ring)]
                after = ring[np.minimum(index + 1, self._written - 1) % len(ring)]
                out[inside] = here + frac * (after - here)
        result: Pcm = np.clip(np.round(out), -32768, 32767).astype(np.int16)
        return result


class _Speex:
    """The few functions of libspeexdsp's echo canceller, through ctypes.

    The library itself, not the PyPI `speexdsp` wrapper: that one must be compiled (swig, a
    C++ compiler) and its generated loader imports `imp`, which Python 3.12 no longer has.
    """

    SET_SAMPLING_RATE = 24  # SPEEX_ECHO_SET_SAMPLING_RATE in speex_echo.h

    def __init__(self) -> None:
        name = ctypes.util.find_library("speexdsp")
        if name is None:
            raise AecUnavailableError(_INSTALL_HINT)
        try:
            lib = ctypes.CDLL(name)
        except OSError as exc:
            raise AecUnavailableError(f"{exc}; {_INSTALL_HINT}") from exc
        lib.speex_echo_state_init.restype = ctypes.c_void_p
        lib.speex_echo_state_init.argtypes = [ctypes.c_int, ctypes.c_int]
        lib.speex_echo_ctl.restype = ctypes.c_int
        lib.speex_echo_ctl.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
        samples = ctypes.POINTER(ctypes.c_int16)
        lib.speex_echo_cancellation.restype = None
        lib.speex_echo_cancellation.argtypes = [ctypes.c_void_p, samples, samples, samples]
        lib.speex_echo_state_destroy.restype = None
        lib.speex_echo_state_destroy.argtypes = [ctypes.c_void_p]
        self.lib = lib


class EchoCanceller:
    """libspeexdsp's adaptive echo canceller on 16 kHz blocks of any length.

    Blocks are cut into the filter's frames; the output lags the input by one frame (10 ms)
    so that every block comes back at its own length.
    """

    def __init__(self, settings: AecSettings | None = None, rate: int = SAMPLE_RATE) -> None:
        settings = settings or AecSettings()
        self._lib = _Speex().lib
        frame_samples = self.frame_samples = settings.frame_samples
        tail_s = settings.filter_tail_s
        self.delay_s = frame_samples / rate
        filter_length = frame_samples * max(1, round(tail_s * rate / frame_samples))
        self._state = self._lib.speex_echo_state_init(frame_samples, filter_length)
        if not self._state:
            raise AecUnavailableError("libspeexdsp could not make an echo canceller")
        value = ctypes.c_int(rate)
        self._lib.speex_echo_ctl(self._state, _Speex.SET_SAMPLING_RATE, ctypes.byref(value))
        self._near = np.zeros(0, np.int16)
        self._far = np.zeros(0, np.int16)
        self._out = np.zeros(frame_samples, np.int16)

    def __del__(self) -> None:
        state, self._state = getattr(self, "_state", None), None
        if state:
            self._lib.speex_echo_state_destroy(state)

    def process(self, near: Pcm, far: Pcm) -> Pcm:
        """`near` (the microphone) with the echo of `far` (what was playing) removed."""
        if len(near) != len(far):
            raise ValueError("microphone and reference blocks must have the same length")
        self._near = np.concatenate([self._near, near.astype(np.int16)])
        self._far = np.concatenate([self._far, far.astype(np.int16)])
        frames = len(self._near) // self.frame_samples
        done = [self._frame(index) for index in range(frames)]
        used = frames * self.frame_samples
        self._near, self._far = self._near[used:], self._far[used:]
        self._out = np.concatenate([self._out, *done])
        result, self._out = self._out[: len(near)], self._out[len(near) :]
        return result

    def _frame(self, index: int) -> Pcm:
        cut = slice(index * self.frame_samples, (index + 1) * self.frame_samples)
        near = np.ascontiguousarray(self._near[cut])
        far = np.ascontiguousarray(self._far[cut])
        out = np.empty(self.frame_samples, np.int16)
        pointer = ctypes.POINTER(ctypes.c_int16)
        self._lib.speex_echo_cancellation(
            self._state, near.ctypes.data_as(pointer), far.ctypes.data_as(pointer),
            out.ctypes.data_as(pointer))
        return out


class EchoDelay:
    """Where the speaker's output turns up in the microphone signal. Pure.

    Device latencies are reported, not measured, and a virtual or Bluetooth device can be off
    by far more than the filter can span (the echo may even come before its reported time,
    which no causal filter can cancel). So the delay is measured: the lag at which recent
    microphone audio best matches the output (cross-correlation), taken once the match is
    clear and the speaker has been loud enough to tell, and (after the first) once two
    measurements in a row agree.
    """

    def __init__(self, settings: AecSettings | None = None, rate: int = SAMPLE_RATE) -> None:
        self.settings = settings = settings or AecSettings()
        self.rate = rate
        self.settle_s = settings.delay_settle_s
        self.window = round(settings.delay_window_s * rate)
        self.search = round(settings.delay_search_s * rate)
        self.every = round(settings.delay_every_s * rate)
        self.min_peak = settings.delay_min_peak
        self.delay_s = 0.0
        """Echo delay: microphone audio at t holds the output heard at t - delay_s."""
        self.measured = False
        self._since = 0
        self._candidate: float | None = None
        """A new delay measured once; it is taken when the next measurement agrees."""

    def due(self, samples: int) -> bool:
        """Count `samples` of microphone audio; True when a new measurement is due."""
        self._since += samples
        if self._since < self.every:
            return False
        self._since = 0
        return True

    def measure(self, mic: Pcm, output: Pcm) -> float | None:
        """Echo delay (seconds) from the last `window` microphone samples and the output over
        the same span and `search` samples before and after it; None when unclear."""
        near = mic[-self.window :].astype(np.float64)
        far = output.astype(np.float64)
        if len(near) < self.window or len(far) != self.window + 2 * self.search:
            return None
        quiet = (np.std(far) < self.settings.delay_min_output_std
                 or np.std(near) < self.settings.delay_min_mic_std)
        if quiet:
            return None  # the speaker (or the microphone) too quiet to tell
        size = 1 << int(np.ceil(np.log2(len(far) + len(near))))
        spectrum = np.fft.rfft(far, size) * np.conj(np.fft.rfft(near, size))
        spectrum /= np.maximum(np.abs(spectrum), 1e-9)  # phase transform: sharp peaks
        correlation = np.fft.irfft(spectrum, size)[: 2 * self.search + 1]
        best = int(np.argmax(correlation))
        if correlation[best] < self.min_peak:
            return None
        # far[best + k] lines up with near[k]; far starts `search` samples before near
        delay = (self.search - best) / self.rate
        if not self.measured:
            self.delay_s, self.measured = delay, True
        elif abs(delay - self.delay_s) <= self.settle_s:
            self._candidate = None  # small wobbles: the filter follows
        elif self._candidate is not None and abs(delay - self._candidate) <= self.settle_s:
            self.delay_s, self._candidate = delay, None
        else:
            # Moving the reference costs the filter a second or two of re-adapting; a lone
            # outlier (the coach counting "3, 2, 1" correlates at one second) must not.
            self._candidate = delay
        return delay


class LiveEchoCancel:
    """Echo cancellation for the live microphone: each block against what the speaker
    played when it was heard, shifted by the measured echo delay (`EchoDelay`) less
    `reference_margin_s`, so the echo always comes after its reference, as the causal filter
    needs."""

    def __init__(self, timeline: OutputTimeline, canceller: EchoCanceller,
                 settings: AecSettings | None = None,
                 double_talk: DoubleTalkSettings | None = None) -> None:
        settings = settings or AecSettings()
        self.timeline = timeline
        self.resync_s = settings.reference_resync_s
        self.canceller = canceller
        self.margin_s = settings.reference_margin_s
        self.delay = EchoDelay(settings)
        self._mic = np.zeros(0, np.int16)
        self._history = round(settings.delay_window_s * SAMPLE_RATE)
        self._removed_db: list[float] = []
        self._reference_at: float | None = None
        """Session time of the next reference sample."""
        self._reference_delay = 0.0
        self.double_talk = DoubleTalk(double_talk)

    @property
    def delay_s(self) -> float:
        """How much later than the microphone's audio the cleaned audio comes out."""
        return self.canceller.delay_s

    def __call__(self, block: Pcm, heard_at: float) -> Pcm:
        """`block` (16 kHz), whose first sample was heard at session time `heard_at`."""
        self._mic = np.concatenate([self._mic, block])[-self._history :]
        if self.delay.due(len(block)):
            self._measure(heard_at + len(block) / SAMPLE_RATE)
        # the output heard `margin_s` after the echo's: the echo comes after its reference
        # The reference advances sample for sample with the microphone; it is set again when
        # the measured delay changes, or the clocks disagree by more than the filter's margin
        # (moving it costs the filter its adaptation: not for jitter).
        wanted = heard_at - self.delay.delay_s + self.margin_s
        if (self._reference_at is None or self.delay.delay_s != self._reference_delay
                or abs(wanted - self._reference_at) > self.resync_s):
            self._reference_delay = self.delay.delay_s
            if self._reference_at is not None:
                _LOGGER.debug("echo reference moved %+.0f ms", 1000 * (wanted - self._reference_at))
            self._reference_at = wanted
        far = self.timeline.read(self._reference_at, len(block))
        self._reference_at += len(block) / SAMPLE_RATE
        cleaned = self.canceller.process(block, far)
        self.double_talk.observe(block, far, cleaned, heard_at, lag=self.canceller.frame_samples)
        if _LOGGER.isEnabledFor(logging.DEBUG) and far.any():
            self._removed_db.append(frame_dbfs(block) - frame_dbfs(cleaned))
        return cleaned

    def _measure(self, mic_end: float) -> None:
        window_s = len(self._mic) / SAMPLE_RATE
        search_s = self.delay.search / SAMPLE_RATE
        output = self.timeline.read(mic_end - window_s - search_s,
                                    len(self._mic) + 2 * self.delay.search)
        before = self.delay.delay_s
        found = self.delay.measure(self._mic, output)
        if self._removed_db:
            _LOGGER.debug("echo cancellation: delay %s, %.1f dB removed (median over speech)",
                          "unclear" if found is None else f"{1000 * found:.0f} ms",
                          float(np.median(self._removed_db)))
            self._removed_db.clear()
        if self.delay.delay_s != before:
            _LOGGER.info("echo delay %.0f ms (was %.0f ms)", 1000 * self.delay.delay_s,
                         1000 * before)

