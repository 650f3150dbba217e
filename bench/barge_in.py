"""Barge-in: commands the user speaks while the coach is speaking.

The coach's own voice is the warm-up timeline as the project's TTS says it (as for the
own-voice false triggers), heard through a simulated room (`room_echo`: 20 ms of delay and a
decaying reverberant tail); into the longer lines, 0.4 s after each starts, a user's command
is mixed, `level_db` louder than the coach's voice (the user is nearer the microphone than
the speaker). Run as it is, and through `EchoCanceller` given the coach's output.
Right = a transcript overlapping the command's span that `EchoFilter`, told the true voice
windows, lets act with the expected intent. Also counted: decisions acted on anywhere else
(the coach's own words).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from bench.audio import RATE, Voice, normalise_speech, speak, to_int16
from bench.false_triggers import CoachVoiceAudio
from bench.streams import CHUNK_SECONDS, MATCH_AFTER, MATCH_BEFORE, Fed, feed
from coach.core.intents import Intent
from coach.hearing.aec import EchoCanceller
from coach.hearing.asr.base import Pcm, Recognizer, Transcript
from coach.hearing.doubletalk import FRAME, DoubleTalk
from coach.settings.hearing import DoubleTalkSettings
from coach.settings.voice import PlaybackSettings
from coach.voice.playback import apply_gain, duck_gain

__all__ = ["BARGE_IN_ASKED", "BARGE_IN_SAID", "BargeInAudio", "BargeInResult", "barge_in_audio",
           "cancel_echo", "cancel_echo_ducked", "room_echo", "run_barge_in"]

_LOGGER = logging.getLogger(__name__)

BARGE_IN_SAID = (
    ("stop", "stop"), ("pause", "pause"), ("next", "next"), ("hold on", "pause"),
    ("skip this one", "next"), ("ouch my back", "pain"),
)
"""(what the user says, the intent it must trigger): the barge-in intents, several phrasings."""
BARGE_IN_ASKED = (
    ("what's next", "whats_next"), ("how much time is left", "time_left"),
    ("why does my lower back hurt when I squat", "question"), ("what can I say", "help"),
    ("give me a form tip", "form"), ("help", "help"),
)
"""Questions and requests for help said over the coach: intents that act over its voice only
when the canceller's levels show a second voice."""
_VOICES = (Voice("en-us", 150), Voice("en-gb", 175), Voice("en-us+f3", 160),
           Voice("en-us+m7", 150))
_MIN_LINE_S = 1.6
"""Only lines at least this long get a command spoken over them."""
_INTO_LINE_S = 0.4
DUCK_LATENCY_S = 0.08
"""From the end of the microphone block that shows the user's voice to the lowered voice
being heard: the microphone's and the speaker's buffers (30 + 50 ms)."""


@dataclass(frozen=True)
class Spoken:
    """One command mixed into the coach's voice."""

    text: str
    intent: str
    start: float
    end: float


@dataclass(frozen=True)
class BargeInAudio:
    pcm: Pcm
    commands: tuple[Spoken, ...]
    level_db: float
    played: Pcm
    """What the coach's speaker played, sample-aligned with `pcm` (the canceller's reference)."""
    levels: DoubleTalk | None = None
    """The canceller's levels, when `pcm` is its output: whether the user spoke (as live)."""
    ducked_at: tuple[float | None, ...] = ()
    """Per command, when the coach's voice was first lowered during it (ducked runs)."""
    ducks: int = 0
    """How often the coach's voice was lowered in all (ducked runs)."""
    user: Pcm = field(default_factory=lambda: np.zeros(0, np.int16))
    """The user's commands alone, as mixed into `pcm` (the mix before cancelling)."""


def room_echo(pcm: Pcm, delay_s: float = 0.02, rt60_s: float = 0.25, seed: int = 7) -> Pcm:
    """`pcm` as a microphone across a room hears it: delayed, with a reverberant tail
    (exponentially decaying noise, 10 dB under the direct sound at its start), at the
    original level."""
    response = _room_response(delay_s, rt60_s, seed)
    heard = np.convolve(pcm.astype(np.float64), response)[: len(pcm)]
    return to_int16(heard * _room_gain(pcm, heard))


def _room_response(delay_s: float = 0.02, rt60_s: float = 0.25, seed: int = 7,
                   ) -> npt.NDArray[np.float64]:
    rng = np.random.default_rng(seed)
    length = round(rt60_s * RATE)
    decay = np.exp(-6.9 * np.arange(length) / length)  # -60 dB over rt60
    response = 0.3 * rng.standard_normal(length) * decay / np.sqrt(length / 8)
    response[0] = 1.0
    return np.concatenate([np.zeros(round(delay_s * RATE)), response])


def _room_gain(pcm: Pcm, heard: npt.NDArray[np.float64]) -> float:
    """The gain that brings the room's `heard` back to the level of `pcm`."""
    power = float(np.mean(pcm.astype(np.float64) ** 2))
    return float(np.sqrt(power / max(float(np.mean(heard**2)), 1e-9)))


def cancel_echo(audio: BargeInAudio, canceller: EchoCanceller) -> BargeInAudio:
    """The mix with the coach's echo cancelled, in microphone-sized blocks."""
    step = round(CHUNK_SECONDS * RATE)
    levels = DoubleTalk(DoubleTalkSettings(keep_s=len(audio.pcm) / RATE + 1.0))
    parts = []
    for i in range(0, len(audio.pcm), step):
        mic, far = audio.pcm[i : i + step], audio.played[i : i + step]
        parts.append(canceller.process(mic, far))
        levels.observe(mic, far, parts[-1], i / RATE, lag=canceller.frame_samples)
    lag = round(canceller.delay_s * RATE)  # the canceller's output comes one frame late
    cleaned = np.concatenate([*parts, np.zeros(lag, np.int16)])[lag:]
    return replace(audio, pcm=cleaned, levels=levels)


def cancel_echo_ducked(audio: BargeInAudio, canceller: EchoCanceller,
                       playback: PlaybackSettings | None = None) -> BargeInAudio:
    """As live: the coach's voice lowered while the canceller's levels show the user talking
    over it (`DoubleTalk.talking_over`), `DUCK_LATENCY_S` after the block that showed it, ramped
    as the player ramps it; the room's echo is of what was really played. `ducked_at` holds,
    per command, when the voice was first lowered (None: never)."""
    playback = playback or PlaybackSettings()
    step = round(CHUNK_SECONDS * RATE)
    response = _room_response()
    heard = np.convolve(audio.played, response)[: len(audio.played)]
    gain_of_room = _room_gain(audio.played, heard)
    levels = DoubleTalk(DoubleTalkSettings(keep_s=len(audio.pcm) / RATE + 1.0))
    user = audio.user.astype(np.float64)
    played = audio.played.copy()
    tail = np.zeros(len(response) - 1)
    gain, targets = 1.0, [(0, 1.0)]
    starts: list[float] = []
    """When the voice began to be lowered, each time."""
    parts = []
    for i in range(0, len(played), step):
        block = played[i : i + step]
        for j in range(0, len(block), FRAME):  # the player's small blocks
            target = [t for at, t in targets if at <= i + j][-1]
            if target < 1.0 and gain == 1.0:
                starts.append((i + j) / RATE)
            gain = apply_gain(block[j : j + FRAME], gain, target, playback, RATE)
        echo = np.convolve(block.astype(np.float64), response)
        echo[: len(tail)] += tail
        tail = echo[len(block):].copy()
        mic = to_int16(echo[: len(block)] * gain_of_room + user[i : i + step])
        parts.append(canceller.process(mic, block))
        levels.observe(mic, block, parts[-1], i / RATE, lag=canceller.frame_samples)
        wanted = duck_gain(playback) if levels.talking_over() else 1.0
        if wanted != targets[-1][1]:
            targets.append((i + len(block) + round(DUCK_LATENCY_S * RATE), wanted))
    lag = round(canceller.delay_s * RATE)
    cleaned = np.concatenate([*parts, np.zeros(lag, np.int16)])[lag:]
    ducked_at = tuple(next((at for at in starts if c.start <= at < c.end), None)
                      for c in audio.commands)
    return replace(audio, pcm=cleaned, played=played, levels=levels, ducked_at=ducked_at,
                   ducks=len(starts))


@dataclass
class BargeInResult:
    level_db: float
    commands: int = 0
    right: int = 0
    acted_elsewhere: int = 0
    """Decisions acted on that overlap no command (the coach's own words)."""
    audio_seconds: float = 0.0
    examples: list[str] = field(default_factory=list)
    """What was heard over the commands that were missed."""

    def summary(self) -> dict[str, object]:
        return {"level_db": self.level_db, "commands": self.commands, "right": self.right,
                "accuracy": self.right / self.commands if self.commands else None,
                "acted_elsewhere": self.acted_elsewhere,
                "audio_seconds": round(self.audio_seconds, 1), "examples": self.examples[:8]}


def barge_in_audio(voice: CoachVoiceAudio, level_db: float,
                   said: Sequence[tuple[str, str]] = BARGE_IN_SAID) -> BargeInAudio:
    """The coach's voice through a room with a user's command spoken into each long enough
    line."""
    echo = room_echo(voice.pcm).astype(np.float64)
    mix = echo.copy()
    gain = 10 ** (level_db / 20)
    commands: list[Spoken] = []
    for _, start, end in voice.windows:
        if end - start < _MIN_LINE_S:
            continue
        text, intent = said[len(commands) % len(said)]
        pcm = normalise_speech(speak(text, _VOICES[len(commands) % len(_VOICES)]))
        at = round((start + _INTO_LINE_S) * RATE)
        if at + len(pcm) > len(mix):
            break
        mix[at : at + len(pcm)] += pcm.astype(np.float64) * gain
        commands.append(Spoken(text, intent, at / RATE, (at + len(pcm)) / RATE))
    user = mix - echo
    return BargeInAudio(to_int16(mix), tuple(commands), level_db, voice.pcm, user=to_int16(user))


def run_barge_in(recognizer: Recognizer, audio: BargeInAudio,
                 judge: Callable[[Transcript], Intent], budget_seconds: float) -> BargeInResult:
    """Feed the mix in microphone-sized chunks (until the budget is spent) and score."""
    result = BargeInResult(audio.level_db)
    fed = Fed()
    if not feed(recognizer, audio.pcm, 0.0, fed, time.perf_counter() + budget_seconds):
        _LOGGER.info("barge-in: budget spent at %.0f s of audio", fed.audio_seconds)
    heard = [timed.transcript for timed in fed.transcripts] + recognizer.flush()
    result.audio_seconds = fed.audio_seconds
    score_barge_in(result, audio.commands, [(t, judge(t)) for t in heard])
    return result


def score_barge_in(result: BargeInResult, commands: Sequence[Spoken],
                   decided: Sequence[tuple[Transcript, Intent]]) -> None:
    """Count the commands acted on as said, and decisions acted on outside every command."""
    def overlaps(t: Transcript, c: Spoken) -> bool:
        return t.end > c.start - MATCH_BEFORE and t.start < c.end + MATCH_AFTER

    for command in commands:
        if command.end > result.audio_seconds:
            break  # not fed in full
        result.commands += 1
        mine = [(t, d) for t, d in decided if overlaps(t, command)]
        if any(d.name == command.intent for _, d in mine):
            result.right += 1
        else:
            result.examples.append(f"{command.text!r}: heard " +
                                   repr([t.heard_as or t.text for t, _ in mine]))
    result.acted_elsewhere = sum(
        1 for t, d in decided
        if d.name is not None and not any(overlaps(t, c) for c in commands)
    )
