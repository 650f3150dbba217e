"""Text-to-speech: the Speaker protocol, pyttsx3 synthesis to PCM, and a text printer.

pyttsx3 2.99 on Linux (espeak-ng driver) would play through `aplay` itself, blocking and
unstoppable. So pyttsx3 only synthesises, to a WAV file that we read back to PCM, and
`coach.voice.playback` plays it: interruptible, with exact durations, and cached so a
repeated cue ("3", "Rest") starts at once. pyttsx3 must be created and driven on one thread,
and espeak-ng initialises once per process: one worker thread per process owns the engine.
"""

from __future__ import annotations

import collections
import concurrent.futures
import logging
import queue
import sys
import tempfile
import threading
import wave
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TextIO

import numpy as np
import numpy.typing as npt

from coach.voice.playback import OutputTap, Pcm, PcmPlayer, PlaybackEvent, PlaybackListener

__all__ = [
    "Pyttsx3Synth",
    "SoundDeviceSpeaker",
    "Speaker",
    "TextSpeaker",
    "TtsUnavailableError",
    "VoiceSettings",
]

_LOGGER = logging.getLogger(__name__)

_SYNTH_ATTEMPTS = 3
_SYNTH_TIMEOUT = 30.0
_CACHE_SIZE = 256
_TRIM_THRESHOLD = 0.02
"""Samples below this fraction of the peak count as silence when trimming."""
_TRIM_MARGIN_SECONDS = 0.02
"""Silence kept before and after speech, so the onset and the final consonant survive."""
_ESPEAK_HINT = "apt-get install espeak-ng libespeak-ng1"
PREWARM_PHRASES = ("3", "2", "1", "Rest", "Halfway", "10 seconds")
"""Cues said often enough to synthesise at start-up."""


@dataclass(frozen=True)
class VoiceSettings:
    """How the coach's voice sounds."""

    rate: int = 165
    """Speaking rate (words per minute)."""
    volume: float = 1.0
    """Loudness, 0..1."""
    voice: str | None = None
    """Voice id ("gmw/en-us", "en-us") or name substring ("America"); None = default."""


class TtsUnavailableError(RuntimeError):
    """The speech synthesiser cannot run on this machine."""


class Speaker(Protocol):
    """Says text aloud (or shows it); knows when it is audible."""

    def say(self, text: str) -> float:
        """Start saying `text` without blocking; return its duration (seconds)."""
        ...

    def stop(self) -> None:
        """Fall silent within 100 ms and drop anything queued."""
        ...

    def is_speaking(self) -> bool: ...

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until silent; False on timeout."""
        ...

    def close(self) -> None: ...

    def duration(self, text: str) -> float:
        """How long saying `text` takes (seconds)."""
        ...

    @property
    def playing_until(self) -> float:
        """Time (on the speaker's clock) until which the speaker may be heard."""
        ...

    def add_playback_listener(self, listener: PlaybackListener) -> None:
        """Be told when an utterance starts and stops being heard."""
        ...


@dataclass(frozen=True)
class _Request:
    text: str
    settings: VoiceSettings
    result: concurrent.futures.Future[Pcm]


class _EngineWorker:
    """The one thread that creates and drives pyttsx3."""

    def __init__(self) -> None:
        self._requests: queue.SimpleQueue[_Request] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="coach-tts", daemon=True)
        self._thread.start()

    def synthesize(self, text: str, settings: VoiceSettings) -> Pcm:
        result: concurrent.futures.Future[Pcm] = concurrent.futures.Future()
        self._requests.put(_Request(text, settings, result))
        return result.result(timeout=_SYNTH_TIMEOUT)

    def _run(self) -> None:
        try:
            engine = _create_engine()
        except TtsUnavailableError as exc:
            self._fail_forever(exc)
            return
        voices = _voice_ids(engine)
        # espeak-ng synthesises on its own thread: runAndWait can return before the WAV is
        # written (pyttsx3 issue #219); "finished-utterance" comes after it is.
        finished = threading.Event()
        engine.connect("finished-utterance", lambda **_event: finished.set())
        with tempfile.TemporaryDirectory(prefix="coach-tts-") as workdir:
            wav_path = Path(workdir) / "utterance.wav"
            while True:
                request = self._requests.get()
                finished.clear()
                try:
                    pcm = _synthesize_with(engine, voices, request, wav_path, finished)
                except Exception as exc:
                    request.result.set_exception(exc)
                else:
                    request.result.set_result(pcm)

    def _fail_forever(self, error: Exception) -> None:
        while True:
            self._requests.get().result.set_exception(error)


_worker: _EngineWorker | None = None
_worker_lock = threading.Lock()


def _engine_worker() -> _EngineWorker:
    global _worker
    with _worker_lock:
        if _worker is None:
            _worker = _EngineWorker()
        return _worker


def _create_engine() -> Any:
    try:
        import pyttsx3

        engine = pyttsx3.init()
    except ImportError as exc:
        raise TtsUnavailableError(f"pyttsx3 is not installed: pip install pyttsx3 ({exc})") from exc
    except (OSError, RuntimeError) as exc:
        raise TtsUnavailableError(f"espeak-ng is missing: {_ESPEAK_HINT} ({exc})") from exc
    _silence_driver_print()
    return engine


def _silence_driver_print() -> None:
    # The espeak driver prints "Audio saved to ..." on stdout for every file; shadow `print`
    # in that module only (a global redirect of sys.stdout would swallow other threads' output).
    driver = sys.modules.get("pyttsx3.drivers.espeak")
    if driver is not None:
        driver.print = _discard  # type: ignore[attr-defined]


def _discard(*_args: object, **_kwargs: object) -> None:
    return None


def _voice_ids(engine: Any) -> dict[str, str]:
    """Voice id -> name, as espeak-ng lists them."""
    return {str(voice.id): str(voice.name) for voice in engine.getProperty("voices")}


def _resolve_voice(wanted: str, voices: dict[str, str]) -> str:
    """A voice id for an id, an id without its family ("en-us"), or a name substring."""
    needle = wanted.lower()
    for matches in (
        lambda vid, _name: vid == needle,
        lambda vid, _name: vid.rsplit("/", 1)[-1] == needle,
        lambda _vid, name: needle in name.lower(),
    ):
        found = sorted(vid for vid, name in voices.items() if matches(vid, name))
        if found:
            return found[0]
    raise ValueError(f"no voice {wanted!r}; `espeak-ng --voices=en` lists the English ones")


def _synthesize_with(
    engine: Any,
    voices: dict[str, str],
    request: _Request,
    wav_path: Path,
    finished: threading.Event,
) -> Pcm:
    settings = request.settings
    # Straight to the driver: pyttsx3 queues engine.setProperty behind commands that
    # espeak-ng's callback thread also pumps, and the rate then lands on the wrong utterance.
    driver = engine.proxy._driver
    if settings.voice is not None:
        driver.setProperty("voice", _resolve_voice(settings.voice, voices))
    driver.setProperty("rate", settings.rate)
    # No espeak-ng volume: setting it makes later rate changes ineffective (seen with
    # espeak-ng 1.51); volume is a gain on the PCM instead (`_apply_volume`).
    for _attempt in range(_SYNTH_ATTEMPTS):
        finished.clear()
        wav_path.unlink(missing_ok=True)
        engine.save_to_file(request.text, str(wav_path))
        engine.runAndWait()
        if not finished.wait(_SYNTH_TIMEOUT) or not wav_path.exists():
            raise TtsUnavailableError(f"espeak-ng wrote no audio for {request.text!r}")
        _wait_until_espeak_idle()
        pcm = _read_wav(wav_path)
        # Under load the driver has been seen to report "finished" over a WAV with no
        # frames yet: a cue that says nothing is worse than one synthesised twice.
        if len(pcm.samples) or not request.text.strip():
            return _apply_volume(pcm, settings.volume)
        _LOGGER.debug("empty synthesis of %r; retrying", request.text)
    raise TtsUnavailableError(f"espeak-ng wrote no audio for {request.text!r}")


def _apply_volume(pcm: Pcm, volume: float) -> Pcm:
    gain = min(1.0, max(0.0, volume))
    if gain == 1.0:
        return pcm
    return Pcm((pcm.samples.astype(np.float32) * gain).astype(np.int16), pcm.rate)


def _wait_until_espeak_idle() -> None:
    # Parameters set while espeak-ng's thread is still winding down an utterance are lost
    # (the next one keeps the old rate), so the next request waits for it to be idle.
    from pyttsx3.drivers import _espeak

    _espeak.Synchronize()


def _read_wav(path: Path) -> Pcm:
    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != 2:
            raise TtsUnavailableError(f"{path}: expected 16-bit audio")
        frames = wav.readframes(wav.getnframes())
        channels = wav.getnchannels()
        rate = wav.getframerate()
    samples = np.frombuffer(frames, dtype="<i2").astype(np.int16)
    if channels > 1:
        samples = samples.reshape(-1, channels)[:, 0].copy()
    return Pcm(samples, rate)


def trim_silence(pcm: Pcm) -> Pcm:
    """Cut leading and trailing silence, keeping a short margin, so a cue starts at once."""
    magnitude = np.abs(pcm.samples.astype(np.int32))
    if magnitude.size == 0 or magnitude.max() == 0:
        return pcm
    loud = np.flatnonzero(magnitude >= magnitude.max() * _TRIM_THRESHOLD)
    margin = int(pcm.rate * _TRIM_MARGIN_SECONDS)
    start = max(0, int(loud[0]) - margin)
    end = min(len(pcm.samples), int(loud[-1]) + 1 + margin)
    return Pcm(pcm.samples[start:end].copy(), pcm.rate)


def resample(pcm: Pcm, rate: int) -> Pcm:
    """`pcm` at `rate` (soxr, high quality)."""
    if pcm.rate == rate:
        return pcm
    import soxr

    samples: npt.NDArray[np.int16] = soxr.resample(pcm.samples, pcm.rate, rate)
    return Pcm(np.asarray(samples, dtype=np.int16), rate)


class Pyttsx3Synth:
    """Text -> Pcm with pyttsx3 (espeak-ng), trimmed, resampled, cached (LRU)."""

    def __init__(self, settings: VoiceSettings | None = None, cache_size: int = _CACHE_SIZE):
        self.settings = settings or VoiceSettings()
        """Voice for new syntheses; replace it to change the voice (the cache keys on it)."""
        self._cache: collections.OrderedDict[tuple[str, VoiceSettings, int | None], Pcm] = (
            collections.OrderedDict()
        )
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def synthesize(self, text: str, rate: int | None = None) -> Pcm:
        """`text` as mono int16 PCM, at `rate` if given (else espeak-ng's own rate).

        Raises TtsUnavailableError (saying what to install) when espeak-ng is missing.
        """
        key = (text, self.settings, rate)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return cached
        pcm = trim_silence(_engine_worker().synthesize(text, self.settings))
        if rate is not None:
            pcm = resample(pcm, rate)
        with self._lock:
            self._cache[key] = pcm
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return pcm

    def prewarm(self, texts: Iterable[str] = PREWARM_PHRASES, rate: int | None = None) -> None:
        """Synthesise phrases now so they start at once later."""
        for text in texts:
            self.synthesize(text, rate)


class SoundDeviceSpeaker:
    """Speaks through an audio output device; interruptible; exact durations."""

    def __init__(
        self,
        synth: Pyttsx3Synth,
        device: str | int | None = None,
        player: PcmPlayer | None = None,
    ) -> None:
        """Raises NoOutputDeviceError when there is no usable output device."""
        self.synth = synth
        self.player = player or PcmPlayer(device)

    def add_output_tap(self, tap: OutputTap) -> None:
        """See every block the speaker plays (for echo cancellation)."""
        self.player.add_output_tap(tap)

    def say(self, text: str, *, interrupt: bool = False) -> float:
        """Queue `text` (or, with `interrupt`, cut in at once); return its duration (s).

        Returns at once for a cached phrase; an uncached one is synthesised first (~10 ms).
        """
        pcm = self.synth.synthesize(text, self.player.rate)
        self.player.play(pcm, label=text, interrupt=interrupt)
        return pcm.duration

    def duration(self, text: str) -> float:
        return self.synth.synthesize(text, self.player.rate).duration

    def prewarm(self, texts: Iterable[str] = PREWARM_PHRASES) -> None:
        self.synth.prewarm(texts, self.player.rate)

    def stop(self) -> None:
        self.player.stop()

    def is_speaking(self) -> bool:
        return self.player.is_playing()

    def wait(self, timeout: float | None = None) -> bool:
        return self.player.wait(timeout)

    def close(self) -> None:
        self.player.close()

    @property
    def playing_until(self) -> float:
        """time.monotonic() until which the speaker may be heard (device latency included)."""
        return self.player.playing_until

    def add_playback_listener(self, listener: PlaybackListener) -> None:
        self.player.add_listener(listener)


class TextSpeaker:
    """Prints `[mm:ss] text` instead of speaking; for --text mode and tests.

    Durations are estimated from words and the speaking rate; `is_speaking` is true for
    that long on `clock`, so the rest of the coach behaves as with a voice. The text is out
    as soon as it is printed, so `wait` never blocks.
    """

    def __init__(
        self,
        stream: TextIO,
        clock: Callable[[], float],
        settings: VoiceSettings | None = None,
    ) -> None:
        self._stream = stream
        self._clock = clock
        self._settings = settings or VoiceSettings()
        self._until = 0.0
        self._listeners: list[PlaybackListener] = []

    def say(self, text: str) -> float:
        now = self._clock()
        seconds = self.duration(text)
        self._stream.write(f"[{_mmss(now)}] {text}\n")
        self._stream.flush()
        self._until = max(self._until, now) + seconds
        self._notify(PlaybackEvent(True, now, text))
        self._notify(PlaybackEvent(False, self._until, text))
        return seconds

    def duration(self, text: str) -> float:
        words = max(1, len(text.split()))
        return round(max(_MIN_TEXT_SECONDS, words * 60.0 / self._settings.rate), 3)

    def stop(self) -> None:
        self._until = min(self._until, self._clock())

    def is_speaking(self) -> bool:
        return self._clock() < self._until

    def wait(self, timeout: float | None = None) -> bool:
        return True

    def close(self) -> None:
        self._stream.flush()

    @property
    def playing_until(self) -> float:
        return self._until

    def add_playback_listener(self, listener: PlaybackListener) -> None:
        self._listeners.append(listener)

    def _notify(self, event: PlaybackEvent) -> None:
        for listener in self._listeners:
            listener(event)


_MIN_TEXT_SECONDS = 0.4


def _mmss(seconds: float) -> str:
    whole = max(0, int(seconds))
    return f"{whole // 60:02d}:{whole % 60:02d}"
