"""False triggers: decisions made on audio that holds no command for the coach.

Sources: unrelated sentences (espeak-ng), real human recordings (pocketsphinx-testdata),
noise alone, and the coach's own voice reading a routine (judged through the echo filter,
which is told the true windows of that voice, as the live session tells it).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bench.accuracy import VOICES
from bench.audio import (
    NOISE_KINDS,
    RATE,
    SPEECH_DBFS,
    Pcm,
    make_noise,
    normalise_speech,
    read_raw,
    read_wav_16k,
    speak,
)
from bench.streams import CHUNK_SECONDS
from coach.content.model import Content
from coach.core.echo import EchoFilter, Interpreter
from coach.core.intents import Intent
from coach.core.player import Say
from coach.core.timeline import timeline
from coach.hearing.asr.base import Recognizer, Transcript
from coach.session.policy import ANSWERS
from coach.settings.understanding import EchoSettings

__all__ = [
    "TESTDATA",
    "CoachVoiceAudio",
    "TriggerResult",
    "coach_voice_audio",
    "count_triggers",
    "noise_alone",
    "recordings",
    "unrelated_speech",
]

_LOGGER = logging.getLogger(__name__)

TESTDATA = Path("/usr/share/pocketsphinx/test/data")
GAP_SECONDS = 1.5
WAKE_WORD = "coach"
NOISE_ALONE_DBFS = SPEECH_DBFS - 5.0
"""Noise alone at the loudest level of the accuracy bench (5 dB below the speech)."""


@dataclass
class TriggerResult:
    """Decisions on one non-command source."""

    source: str
    audio_seconds: float = 0.0
    triggers: int = 0
    examples: list[str] = field(default_factory=list)
    raw_triggers: int | None = None
    """For the coach's own voice: decisions without the echo filter."""
    wake_word_triggers: int = 0
    """Of `triggers`, those that began with the wake word (what `--wake-word coach` lets act)."""

    @property
    def per_hour(self) -> float | None:
        return self.triggers * 3600 / self.audio_seconds if self.audio_seconds else None

    def summary(self) -> dict[str, object]:
        return {
            "source": self.source,
            "audio_seconds": round(self.audio_seconds, 1),
            "triggers": self.triggers,
            "per_hour": None if self.per_hour is None else round(self.per_hour, 1),
            "per_10_min": None if self.per_hour is None else round(self.per_hour / 6, 2),
            "raw_triggers": self.raw_triggers,
            "wake_word_triggers": self.wake_word_triggers,
            "examples": self.examples[:10],
        }


def _gapped(parts: Sequence[Pcm]) -> Pcm:
    gap = np.zeros(round(GAP_SECONDS * RATE), np.int16)
    out: list[Pcm] = [gap]
    for part in parts:
        out.extend([part, gap])
    return np.concatenate(out)


def unrelated_speech(sentences: Sequence[str]) -> Pcm:
    """Unrelated sentences read by the bench voices, one after another."""
    return _gapped(
        [normalise_speech(speak(s, VOICES[i % len(VOICES)])) for i, s in enumerate(sentences)]
    )


def recordings(folder: Path = TESTDATA) -> Pcm:
    """Every human recording in pocketsphinx-testdata (*.raw, librivox/, cards/)."""
    parts = [read_raw(p) for p in sorted(folder.glob("*.raw"))]
    parts += [read_wav_16k(p) for p in sorted(folder.glob("librivox/*.wav"))]
    parts += [read_wav_16k(p) for p in sorted(folder.glob("cards/*.wav"))]
    return _gapped(parts) if parts else np.zeros(0, np.int16)


def noise_alone(kind: str, seconds: float, sentences: Sequence[str]) -> Pcm:
    noise = make_noise(kind, round(seconds * RATE), sentences, seed=77)
    scaled = noise * 32768 * 10 ** (NOISE_ALONE_DBFS / 20)
    return np.clip(np.round(scaled), -32768, 32767).astype(np.int16)


@dataclass(frozen=True)
class CoachVoiceAudio:
    """A routine as the microphone hears the coach read it, with its true voice windows."""

    pcm: Pcm
    windows: tuple[tuple[str, float, float], ...]
    """(text, start, end) of every line, seconds."""
    routine: str


def coach_voice_audio(content: Content, routine_id: str, max_seconds: float,
                      tts: str = "pyttsx3") -> CoachVoiceAudio:
    """Synthesise the routine's timeline with the project's TTS (`tts` names the engine),
    each line at its time (queued after the previous one if that is still playing), up to
    `max_seconds`."""
    from coach.settings.voice import SynthSettings, VoiceSettings
    from coach.voice.choose import make_synth

    synth = make_synth(VoiceSettings(tts=tts), SynthSettings())
    routine = content.routines[routine_id]
    lines = [o for o in timeline(routine, content.phrases) if isinstance(o, Say)]
    placed: list[tuple[str, int, Pcm]] = []
    free_at = 0
    for line in lines:
        start = max(round(line.at * RATE), free_at)
        if start / RATE > max_seconds:
            break
        pcm = normalise_speech(synth.synthesize(line.text, RATE).samples)
        placed.append((line.text, start, pcm))
        free_at = start + len(pcm)
    total = free_at + round(2.0 * RATE)
    audio = np.zeros(total, np.int32)
    for _, start, pcm in placed:
        audio[start : start + len(pcm)] += pcm
    windows = tuple((text, start / RATE, (start + len(pcm)) / RATE) for text, start, pcm in placed)
    return CoachVoiceAudio(np.clip(audio, -32768, 32767).astype(np.int16), windows, routine_id)


def count_triggers(
    source: str,
    recognizer: Recognizer,
    pcm: Pcm,
    decide: Callable[[Transcript], Intent],
    budget_seconds: float,
    raw: Callable[[Transcript], Intent] | None = None,
) -> TriggerResult:
    """Feed `pcm` (until the budget is spent) and count decisions that name an intent."""
    result = TriggerResult(source, raw_triggers=0 if raw is not None else None)
    step = round(CHUNK_SECONDS * RATE)
    started = time.perf_counter()
    transcripts: list[Transcript] = []
    for offset in range(0, len(pcm), step):
        if time.perf_counter() - started > budget_seconds:
            _LOGGER.info("%s: budget spent at %.0f s of audio", source, offset / RATE)
            break
        chunk = pcm[offset : offset + step]
        transcripts.extend(recognizer.accept(chunk))
        result.audio_seconds += len(chunk) / RATE
    transcripts.extend(recognizer.flush())
    for transcript in transcripts:
        decision = decide(transcript)
        if decision.name is not None and decision.name not in ANSWERS:  # those do nothing
            result.triggers += 1
            result.wake_word_triggers += starts_with_wake_word(transcript.text)
            result.examples.append(f"{transcript.start:.2f}-{transcript.end:.2f} s "
                                   f"{transcript.text!r} -> {decision.name}{decision.slots}")
        if raw is not None and result.raw_triggers is not None and raw(transcript).name:
            result.raw_triggers += 1
    return result


def starts_with_wake_word(text: str, wake_word: str = WAKE_WORD) -> bool:
    """Whether the coach, run with `--wake-word`, would act on this utterance at all."""
    words = text.lower().split()
    return bool(words) and words[0].strip(",.!?") == wake_word


def echo_judge(audio: CoachVoiceAudio, understanding: Interpreter, tail: float,
               user_spoke: Callable[[float, float], bool | None] | None = None,
               ) -> Callable[[Transcript], Intent]:
    """The echo filter, told exactly when the coach's voice was audible (and, with echo
    cancellation, whether the canceller's levels show the user's voice)."""
    echo = EchoFilter(understanding, EchoSettings(tail_seconds=tail))
    pending = list(audio.windows)

    def decide(transcript: Transcript) -> Intent:
        # Told as it starts playing, like the live session (the filter remembers a few lines).
        while pending and pending[0][1] <= transcript.end:
            text, start, end = pending.pop(0)
            echo.spoke(text, start, end)
        user = user_spoke(transcript.start, transcript.end) if user_spoke else None
        return echo.judge(transcript.text, transcript.start, transcript.end,
                          transcript.heard_as, user).intent

    return decide


def noise_sources(seconds: float, sentences: Sequence[str]) -> dict[str, Pcm]:
    return {f"noise:{kind}": noise_alone(kind, seconds, sentences) for kind in NOISE_KINDS}
