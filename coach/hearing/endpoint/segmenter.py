"""The utterance segmenter: frames the audio, classifies each frame and cuts utterances out of
the stream with exact sample positions, telling the recogniser what happens as events."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from coach.hearing.asr.base import SAMPLE_RATE, Pcm
from coach.hearing.endpoint.frames import FrameClassifier, frame_dbfs, make_classifier
from coach.hearing.endpoint.machine import (
    ChatterGate,
    CloseReason,
    Decision,
    EndpointStateMachine,
    Opened,
    Paused,
    Quieted,
)
from coach.settings.hearing import EndpointSettings

__all__ = [
    "Segment",
    "SegmenterEvent",
    "SpeechAudio",
    "SpeechEnded",
    "SpeechPaused",
    "SpeechQuieted",
    "SpeechStarted",
    "UtteranceSegmenter",
]


@dataclass(frozen=True)
class Segment:
    """A closed utterance with exact sample positions in the stream."""

    start: int
    """First voiced sample (from the start of the stream)."""
    end: int
    """One past the last sample."""
    closed_at: int
    """Samples consumed when it closed."""
    reason: CloseReason
    audio: Pcm
    """Audio from `audio_start` (pre-roll included) to `end`."""
    audio_start: int
    sample_rate: int = SAMPLE_RATE

    @property
    def start_s(self) -> float:
        return self.start / self.sample_rate

    @property
    def end_s(self) -> float:
        return self.end / self.sample_rate

    @property
    def closed_at_s(self) -> float:
        return self.closed_at / self.sample_rate


@dataclass(frozen=True)
class SpeechStarted:
    """An utterance opened at sample `start`; `audio` runs from there to the current position."""

    start: int
    audio: Pcm


@dataclass(frozen=True)
class SpeechAudio:
    """More audio of the open utterance (for streaming decoders)."""

    audio: Pcm


@dataclass(frozen=True)
class SpeechPaused:
    """The open utterance has a short trailing silence: a moment to try an early decision."""

    position: int


@dataclass(frozen=True)
class SpeechQuieted:
    """The open utterance has just fallen silent: a moment to decode ahead of a pause."""

    position: int


@dataclass(frozen=True)
class SpeechEnded:
    """The utterance closed."""

    segment: Segment


SegmenterEvent = SpeechStarted | SpeechAudio | SpeechQuieted | SpeechPaused | SpeechEnded


class UtteranceSegmenter:
    """Cuts a stream of int16 audio into utterances."""

    def __init__(
        self, classifier: FrameClassifier | None = None, settings: EndpointSettings | None = None
    ) -> None:
        self.classifier = classifier if classifier is not None else make_classifier()
        base = settings or EndpointSettings()
        if base.frame_samples != self.classifier.frame_samples:
            base = _with_frame(base, self.classifier.frame_samples)
        self.settings = base
        self._machine = EndpointStateMachine(base)
        self._gate = ChatterGate(base)
        self._pending = np.zeros(0, np.int16)  # audio not yet a whole frame
        self._kept = np.zeros(0, np.int16)  # audio from sample `_kept_from` to the frame position
        self._kept_from = 0
        self._open_start: int | None = None
        self._onset = 0
        self._consumed = 0
        self._origin = 0  # stream sample of the state machine's frame 0 (moves on flush)

    @property
    def position(self) -> int:
        """Samples consumed (including a partial frame)."""
        return self._consumed

    @property
    def is_open(self) -> bool:
        return self._open_start is not None

    @property
    def open_start(self) -> int | None:
        """First sample of the open utterance's audio (pre-roll included); None when closed."""
        return self._open_start

    @property
    def voiced_end(self) -> int:
        """One past the last voiced sample of the open utterance (its end if it closes now)."""
        size = self.settings.frame_samples
        return self._origin + (self._machine.last_voiced_frame + 1) * size

    def open_audio(self) -> Pcm:
        """Audio of the open utterance so far (empty when none is open)."""
        if self._open_start is None:
            return np.zeros(0, np.int16)
        return self._kept[self._open_start - self._kept_from :]

    def push(self, pcm: Pcm) -> list[SegmenterEvent]:
        """Take audio; return what happened in it."""
        self._pending = np.concatenate([self._pending, np.asarray(pcm, np.int16)])
        self._consumed += len(pcm)
        size = self.settings.frame_samples
        events: list[SegmenterEvent] = []
        whole = len(self._pending) - len(self._pending) % size
        for begin in range(0, whole, size):
            events.extend(self._push_frame(self._pending[begin : begin + size]))
        self._pending = self._pending[whole:]
        return _merge_audio(events)

    def flush(self) -> list[SegmenterEvent]:
        """End of stream: close the open utterance, if any. Audio pushed later goes on from here."""
        events: list[SegmenterEvent] = []
        if self._open_start is not None and len(self._pending):
            events.append(SpeechAudio(self._pending))
        self._kept = np.concatenate([self._kept, self._pending])
        self._pending = np.zeros(0, np.int16)
        voiced_to_end = self._machine.last_voiced_frame + 1 == self._machine.frames_seen
        stream_end = self._kept_from + len(self._kept)
        for decision in self._machine.close(CloseReason.FLUSH):
            # speech running into the end of the stream keeps the partial frame too
            events.append(self._apply(decision, stream_end if voiced_to_end else None))
        self._restart(stream_end)
        return events

    def _restart(self, origin: int) -> None:
        """A flushed stream may go on: frames count again from `origin`."""
        self._machine = EndpointStateMachine(self.settings)
        self._origin = origin
        self._kept = np.zeros(0, np.int16)
        self._kept_from = origin
        self.classifier.reset()

    def close_now(self) -> list[SegmenterEvent]:
        """Early decision: close the open utterance at its last voiced frame."""
        return [self._apply(d) for d in self._machine.close(CloseReason.EARLY)]

    @property
    def _frame_position(self) -> int:
        return self._origin + self._machine.frames_seen * self.settings.frame_samples

    @property
    def chatter_db(self) -> float | None:
        """Level of the room's chatter (dBFS), or None when there is none."""
        return self._gate.chatter_db

    def _push_frame(self, frame: Pcm) -> list[SegmenterEvent]:
        probability = self._gate.weigh(self.classifier(frame), frame_dbfs(frame))
        self._kept = np.concatenate([self._kept, frame])
        was_open = self._open_start is not None
        events = [self._apply(d) for d in self._machine.step(probability)]
        if was_open:
            events.insert(0, SpeechAudio(frame))
        if self._open_start is None:
            self._trim_to_pre_roll()
        return events

    def _apply(self, decision: Decision, end_sample: int | None = None) -> SegmenterEvent:
        size = self.settings.frame_samples
        if isinstance(decision, Opened):
            self._open_start = self._origin + decision.start_frame * size
            self._onset = self._origin + decision.onset_frame * size
            return SpeechStarted(self._open_start, self.open_audio())
        if isinstance(decision, Paused):
            return SpeechPaused(self._frame_position)
        if isinstance(decision, Quieted):
            return SpeechQuieted(self._frame_position)
        start = self._open_start if self._open_start is not None else 0
        end = end_sample if end_sample is not None else self._origin + decision.end_frame * size
        segment = Segment(
            start=max(start, min(self._onset, end)),
            end=end,
            closed_at=self._kept_from + len(self._kept),
            reason=decision.reason,
            audio_start=start,
            audio=self._kept[max(0, start - self._kept_from) : end - self._kept_from].copy(),
            sample_rate=self.settings.sample_rate,
        )
        self._open_start = None
        return SpeechEnded(segment)

    def _trim_to_pre_roll(self) -> None:
        keep = int(self.settings.pre_roll_ms * self.settings.sample_rate / 1000)
        keep += 2 * self.settings.frame_samples  # the frames that open an utterance
        keep += int(self.settings.start_ms * self.settings.sample_rate / 1000)
        excess = len(self._kept) - keep
        if excess > 0:
            self._kept = self._kept[excess:]
            self._kept_from += excess


def _with_frame(settings: EndpointSettings, frame_samples: int) -> EndpointSettings:
    return replace(settings, frame_samples=frame_samples)


def _merge_audio(events: list[SegmenterEvent]) -> list[SegmenterEvent]:
    """Join runs of SpeechAudio so consumers get few large chunks."""
    merged: list[SegmenterEvent] = []
    run: list[Pcm] = []
    for event in events:
        if isinstance(event, SpeechAudio):
            run.append(event.audio)
            continue
        if run:
            merged.append(SpeechAudio(np.concatenate(run)))
            run = []
        merged.append(event)
    if run:
        merged.append(SpeechAudio(np.concatenate(run)))
    return merged
