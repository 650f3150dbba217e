"""Utterance segmentation: voice activity per frame -> utterances with exact sample positions.

Layers, so the logic is testable without a model:
- `machine`: `EndpointStateMachine` and `ChatterGate`, pure: one speech probability per frame
  in, open/close decisions out.
- `frames`: what gives each frame its probability (`SileroClassifier`, or `EnergyClassifier`
  when Silero can't load) and `frame_dbfs`.
- `segmenter`: `UtteranceSegmenter` frames the audio, asks the classifier and cuts the audio,
  reporting `SpeechStarted`, `SpeechQuieted`, `SpeechPaused` and `SpeechEnded` events.
"""

from coach.hearing.asr.base import IsComplete
from coach.hearing.endpoint.frames import (
    EnergyClassifier,
    FrameClassifier,
    SileroClassifier,
    frame_dbfs,
    make_classifier,
)
from coach.hearing.endpoint.machine import (
    ChatterGate,
    Closed,
    CloseReason,
    Decision,
    EndpointStateMachine,
    Opened,
    Paused,
    Quieted,
)
from coach.hearing.endpoint.segmenter import (
    Segment,
    SegmenterEvent,
    SpeechAudio,
    SpeechEnded,
    SpeechPaused,
    SpeechQuieted,
    SpeechStarted,
    UtteranceSegmenter,
)
from coach.settings.hearing import EndpointSettings

__all__ = [
    "ChatterGate",
    "CloseReason",
    "Closed",
    "Decision",
    "EndpointSettings",
    "EndpointStateMachine",
    "EnergyClassifier",
    "FrameClassifier",
    "IsComplete",
    "Opened",
    "Paused",
    "Quieted",
    "Segment",
    "SegmenterEvent",
    "SileroClassifier",
    "SpeechAudio",
    "SpeechEnded",
    "SpeechPaused",
    "SpeechQuieted",
    "SpeechStarted",
    "UtteranceSegmenter",
    "frame_dbfs",
    "make_classifier",
]
