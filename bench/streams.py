"""Spoken test sets as one long stream per engine, fed like a microphone, scored per utterance.

Conditions (clean, or a noise kind at an SNR) are interleaved block by block, so a time
budget that runs out early still leaves every condition with a share of the utterances.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from bench.audio import (
    RATE,
    Floats,
    Pcm,
    Voice,
    active_span,
    make_noise,
    mix_at_snr,
    normalise_speech,
    speak,
)
from coach.core.intents import Intent
from coach.hearing.asr.base import Recognizer, Transcript

__all__ = [
    "CHUNK_SECONDS",
    "Clocked",
    "Condition",
    "Fed",
    "Outcome",
    "SpokenCase",
    "Timed",
    "assign",
    "build_block",
    "feed",
    "prepare_noise",
    "score_utterances",
]

_LOGGER = logging.getLogger(__name__)

CHUNK_SECONDS = 0.03
"""Audio handed to the recogniser per call (seconds): the live microphone's block
(`MicrophoneSettings.block_s`), so decision latency is what a user waits. Fed
100 ms at a time, as `coach listen` reads a file, a decision waited 35 ms longer on average
for the chunk it fell in."""
LEAD_SECONDS = 0.4
TAIL_SECONDS = 1.6
"""Noise-only audio after each utterance: room for the endpointer to close it."""
ROOM_SECONDS = 6.0
"""Noise alone at the start of each noisy block: a gym's music or chatter goes on for
minutes before anyone speaks, and the endpointer measures the room over its last 6 s."""
MATCH_BEFORE = 0.2
MATCH_AFTER = 0.4


@dataclass(frozen=True)
class SpokenCase:
    """A sentence to speak and the decision it should produce."""

    text: str
    voice: Voice
    intent: str
    slots: dict[str, str] = field(default_factory=dict)
    ids: tuple[str, ...] = ()
    """For questions: FAQ entries that answer it (slot `id` must be one of them)."""

    def is_right(self, decision: Intent) -> bool:
        if decision.name != self.intent:
            return False
        if self.ids:
            return decision.slots.get("id") in self.ids
        return dict(decision.slots) == self.slots


@dataclass(frozen=True)
class Condition:
    """Clean (kind None) or a noise kind at an SNR."""

    kind: str | None
    snr_db: float | None

    @property
    def key(self) -> str:
        return "clean" if self.kind is None else f"{self.kind}@{self.snr_db:g}dB"


@dataclass(frozen=True)
class Block:
    """Audio of a few utterances in one condition, with where the speech really is."""

    condition: Condition
    cases: tuple[SpokenCase, ...]
    pcm: Pcm
    spans: tuple[tuple[float, float], ...]
    """True (start, end) of each utterance's active speech, seconds from the block start."""


def build_block(
    cases: Sequence[SpokenCase],
    condition: Condition,
    noise_sentences: Sequence[str],
    seed: int,
) -> Block:
    """Each utterance padded with lead and tail, noise mixed at the condition's SNR."""
    clips: list[Pcm] = []
    spans: list[tuple[float, float]] = []
    position = 0
    for index, case in enumerate(cases):
        speech = normalise_speech(speak(case.text, case.voice))
        room = ROOM_SECONDS if index == 0 and condition.kind is not None else 0.0
        lead = np.zeros(round((LEAD_SECONDS + room) * RATE), np.int16)
        tail = np.zeros(round(TAIL_SECONDS * RATE), np.int16)
        clip = np.concatenate([lead, speech, tail])
        first, last = active_span(clip)
        if condition.kind is not None and condition.snr_db is not None:
            noise = _noise_piece(condition.kind, len(clip), noise_sentences, seed + index)
            clip = mix_at_snr(clip, noise, condition.snr_db)
        spans.append(((position + first) / RATE, (position + last) / RATE))
        clips.append(clip)
        position += len(clip)
    pcm = np.concatenate(clips) if clips else np.zeros(0, np.int16)
    return Block(condition, tuple(cases), pcm, tuple(spans))


NOISE_TRACK_SECONDS = 60.0
"""Each noise kind is made once this long; utterances take pieces at varying offsets."""


def _noise_piece(kind: str, samples: int, sentences: Sequence[str], seed: int) -> Floats:
    track = _noise_track(kind, tuple(sentences))
    if samples >= len(track):
        return np.resize(track, samples)
    start = np.random.default_rng(seed).integers(0, len(track) - samples)
    return track[start : start + samples]


def prepare_noise(kinds: Sequence[str], sentences: Sequence[str]) -> None:
    """Make the noise tracks now, so their making is not charged to an engine's budget."""
    for kind in kinds:
        _noise_track(kind, tuple(sentences))


@functools.lru_cache(maxsize=8)
def _noise_track(kind: str, sentences: tuple[str, ...]) -> Floats:
    return make_noise(kind, round(NOISE_TRACK_SECONDS * RATE), sentences, seed=1)


class Clocked:
    """A recogniser whose transcript times count from the last `rebase()`.

    Engines keep one clock across streams (audio pushed after flush() goes on from there);
    each bench wants times from the start of its own stream.
    """

    def __init__(self, inner: Recognizer) -> None:
        self.inner = inner
        self.name = inner.name
        self.sample_rate = inner.sample_rate
        self._samples = 0
        self._base = 0.0

    def rebase(self) -> None:
        self._base = self._samples / self.sample_rate

    def accept(self, pcm: Pcm) -> list[Transcript]:
        self._samples += len(pcm)
        return [_shifted(t, -self._base) for t in self.inner.accept(pcm)]

    def flush(self) -> list[Transcript]:
        return [_shifted(t, -self._base) for t in self.inner.flush()]

    def set_phrases(self, phrases: Sequence[str] | None) -> None:
        self.inner.set_phrases(phrases)


@dataclass(frozen=True)
class Timed:
    """A transcript and when a real-time run would have had it."""

    transcript: Transcript
    delay: float
    """Seconds from `transcript.at` (its audio position) until the accept() call that
    returned it would have finished, had the audio arrived in real time: the decode, and
    any backlog that earlier decodes left."""


@dataclass
class Fed:
    """What feeding a stream produced."""

    transcripts: list[Timed] = field(default_factory=list)
    audio_seconds: float = 0.0
    compute_seconds: float = 0.0
    busy_until: float = 0.0
    """Stream time at which the recogniser, fed in real time, would be done with the audio
    so far."""


def feed(
    recognizer: Recognizer,
    pcm: Pcm,
    offset: float,
    fed: Fed,
    deadline: float = float("inf"),
) -> bool:
    """Feed `pcm` in chunks as fast as the recogniser takes them; transcripts get `offset`
    added to their times.

    Each one's delay is worked out as if the chunks had arrived in real time: a chunk is
    taken when it has arrived and the recogniser is done with the ones before.
    Stops early (returns False) once time.perf_counter() passes `deadline`.
    """
    step = round(CHUNK_SECONDS * RATE)
    for start in range(0, len(pcm), step):
        if time.perf_counter() > deadline:
            return False
        chunk = pcm[start : start + step]
        began = time.perf_counter()
        found = recognizer.accept(chunk)
        spent = time.perf_counter() - began
        fed.compute_seconds += spent
        fed.audio_seconds += len(chunk) / RATE
        arrived = offset + fed.audio_seconds
        fed.busy_until = max(arrived, fed.busy_until) + spent
        fed.transcripts.extend(
            Timed(shifted, fed.busy_until - shifted.at)
            for shifted in (_shifted(t, offset) for t in found)
        )
    return True


def _shifted(t: Transcript, offset: float) -> Transcript:
    return replace(t, start=t.start + offset, end=t.end + offset, at=t.at + offset)


@dataclass(frozen=True)
class Outcome:
    """How one spoken utterance was decided."""

    case: SpokenCase
    condition: str
    right: bool
    heard: tuple[str, ...]
    """Texts of the transcripts assigned to it."""
    latency: float | None
    """Audio latency: `at` minus the true end of speech (seconds), when right."""
    compute: float | None
    """Seconds from `at` to the decision in a real-time run (decode and backlog), when
    right."""


def assign(
    transcripts: Sequence[Timed], spans: Sequence[tuple[float, float]]
) -> tuple[list[list[Timed]], list[Timed]]:
    """Transcripts per utterance (by overlap with its span), and those overlapping none."""
    per: list[list[Timed]] = [[] for _ in spans]
    stray: list[Timed] = []
    for timed in transcripts:
        t = timed.transcript
        best, best_overlap = -1, 0.0
        for index, (start, end) in enumerate(spans):
            overlap = min(t.end, end + MATCH_AFTER) - max(t.start, start - MATCH_BEFORE)
            if overlap > best_overlap:
                best, best_overlap = index, overlap
        (per[best] if best >= 0 else stray).append(timed)
    return per, stray


def score_utterances(
    cases: Sequence[SpokenCase],
    conditions: Sequence[str],
    spans: Sequence[tuple[float, float]],
    transcripts: Sequence[Timed],
    interpret: Callable[[str], Intent],
) -> tuple[list[Outcome], list[Timed]]:
    """Right means: the expected decision was made and no other command was."""
    per, stray = assign(transcripts, spans)
    outcomes = []
    for case, condition, (_, end), found in zip(cases, conditions, spans, per, strict=True):
        decisions = [(timed, interpret(timed.transcript.text)) for timed in found]
        hits = [timed for timed, d in decisions if case.is_right(d)]
        others = [d for _, d in decisions if d.name is not None and not case.is_right(d)]
        right = bool(hits) and not others
        first = hits[0] if right else None
        outcomes.append(
            Outcome(
                case,
                condition,
                right,
                tuple(timed.transcript.text for timed in found),
                None if first is None else first.transcript.at - end,
                None if first is None else first.delay,
            )
        )
    return outcomes, stray


def blocks_round_robin(
    cases: Sequence[SpokenCase],
    conditions: Sequence[Condition],
    block_size: int,
    noise_sentences: Sequence[str],
) -> Iterator[Block]:
    """Block 1 in every condition, then block 2 in every condition, ..."""
    for number, start in enumerate(range(0, len(cases), block_size)):
        chunk = cases[start : start + block_size]
        for index, condition in enumerate(conditions):
            yield build_block(chunk, condition, noise_sentences, seed=1000 * number + index)
