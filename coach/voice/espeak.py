"""pyttsx3 (espeak-ng) driven from one worker thread, synthesising text to a WAV read back as PCM.

pyttsx3 2.99 on Linux (espeak-ng driver) would play through `aplay` itself, blocking and
unstoppable, so here it only writes WAV files. pyttsx3 must be created and driven on one
thread, and espeak-ng initialises once per process: one worker thread per process owns the
engine, and `synthesize` hands it requests.
"""

from __future__ import annotations

import atexit
import concurrent.futures
import logging
import queue
import shutil
import sys
import tempfile
import threading
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from coach.errors import CoachError
from coach.settings.voice import SynthSettings, VoiceSettings
from coach.voice.playback import Pcm

__all__ = [
    "TtsTimeoutError",
    "TtsUnavailableError",
    "UnknownVoiceError",
    "resolve_voice",
    "synthesize",
]

_LOGGER = logging.getLogger(__name__)

_ESPEAK_HINT = "apt-get install espeak-ng libespeak-ng1"


class TtsUnavailableError(CoachError, RuntimeError):
    """The speech synthesiser cannot run on this machine; the message says what to install."""


class TtsTimeoutError(TtsUnavailableError, TimeoutError):
    """espeak-ng did not answer in time."""


class UnknownVoiceError(CoachError, ValueError):
    """The configured voice is not one espeak-ng has."""


def synthesize(text: str, voice: VoiceSettings, synth: SynthSettings) -> Pcm:
    """`text` as mono int16 PCM at espeak-ng's rate, untrimmed (blocks until done).

    Raises TtsUnavailableError when espeak-ng is missing or stuck, UnknownVoiceError for a
    voice espeak-ng does not have.
    """
    return _engine_worker().synthesize(text, voice, synth)


@dataclass(frozen=True)
class _Request:
    text: str
    settings: VoiceSettings
    synth: SynthSettings
    result: concurrent.futures.Future[Pcm]


class _EngineWorker:
    """The one thread that creates and drives pyttsx3."""

    def __init__(self) -> None:
        self._requests: queue.SimpleQueue[_Request] = queue.SimpleQueue()
        # espeak-ng writes the WAV from a thread of its own. Leaving the process while it
        # writes (Ctrl-C) must not pull the folder away under it: its callback would print a
        # traceback. So the folder goes at exit, once the utterance in hand is done.
        self._workdir = Path(tempfile.mkdtemp(prefix="coach-tts-"))
        self._busy = threading.Lock()
        atexit.register(self._remove_workdir)
        self._thread = threading.Thread(target=self._run, name="coach-tts", daemon=True)
        self._thread.start()

    def _remove_workdir(self) -> None:
        # Held from here on: no new utterance starts in a folder that is gone.
        if self._busy.acquire(timeout=_EXIT_WAIT_SECONDS):
            shutil.rmtree(self._workdir, ignore_errors=True)

    def synthesize(self, text: str, settings: VoiceSettings, synth: SynthSettings) -> Pcm:
        result: concurrent.futures.Future[Pcm] = concurrent.futures.Future()
        self._requests.put(_Request(text, settings, synth, result))
        try:
            return result.result(timeout=synth.timeout_seconds)
        except concurrent.futures.TimeoutError as exc:
            raise TtsTimeoutError(_no_answer_message(text, synth.timeout_seconds)) from exc

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
        wav_path = self._workdir / "utterance.wav"
        while True:
            request = self._requests.get()
            finished.clear()
            with self._busy:
                try:
                    pcm = _synthesize_with(engine, voices, request, wav_path, finished)
                except Exception as exc:
                    request.result.set_exception(exc)
                    continue
            request.result.set_result(pcm)

    def _fail_forever(self, error: Exception) -> None:
        while True:
            self._requests.get().result.set_exception(error)


_EXIT_WAIT_SECONDS = 2.0
"""How long leaving waits for an utterance being written (a long one takes about a second)."""

_worker: _EngineWorker | None = None
_worker_lock = threading.Lock()


def _engine_worker() -> _EngineWorker:
    global _worker
    with _worker_lock:
        if _worker is None:
            _worker = _EngineWorker()
        return _worker


def _no_answer_message(text: str, seconds: float) -> str:
    return (
        f"espeak-ng gave no audio for {text!r} within {seconds:g} s; check that "
        f"`espeak-ng hello` speaks, or reinstall it: {_ESPEAK_HINT}"
    )


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


def resolve_voice(wanted: str, voices: dict[str, str]) -> str:
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
    raise UnknownVoiceError(
        f"no voice {wanted!r}; `espeak-ng --voices=en` lists the English ones"
    )


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
        driver.setProperty("voice", resolve_voice(settings.voice, voices))
    driver.setProperty("rate", settings.rate)
    # No espeak-ng volume: setting it makes later rate changes ineffective (seen with
    # espeak-ng 1.51); volume is a gain on the PCM instead (`_apply_volume`).
    for _attempt in range(request.synth.attempts):
        finished.clear()
        wav_path.unlink(missing_ok=True)
        engine.save_to_file(request.text, str(wav_path))
        engine.runAndWait()
        if not finished.wait(request.synth.timeout_seconds) or not wav_path.exists():
            raise TtsUnavailableError(_no_audio_message(request.text))
        _wait_until_espeak_idle()
        pcm = _read_wav(wav_path)
        # Under load the driver has been seen to report "finished" over a WAV with no
        # frames yet: a cue that says nothing is worse than one synthesised twice.
        if len(pcm.samples) or not request.text.strip():
            return _apply_volume(pcm, settings.volume)
        _LOGGER.debug("empty synthesis of %r; retrying", request.text)
    raise TtsUnavailableError(_no_audio_message(request.text))


def _no_audio_message(text: str) -> str:
    return (
        f"espeak-ng wrote no audio for {text!r}; check that `espeak-ng hello` speaks, "
        f"or reinstall it: {_ESPEAK_HINT}"
    )


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
            raise TtsUnavailableError(
                f"{path}: espeak-ng wrote {8 * wav.getsampwidth()}-bit audio, expected 16-bit; "
                f"reinstall it: {_ESPEAK_HINT}"
            )
        frames = wav.readframes(wav.getnframes())
        channels = wav.getnchannels()
        rate = wav.getframerate()
    samples = np.frombuffer(frames, dtype="<i2").astype(np.int16)
    if channels > 1:
        samples = samples.reshape(-1, channels)[:, 0].copy()
    return Pcm(samples, rate)
