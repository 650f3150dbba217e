"""What drives a session: typed lines, utterances the recogniser closed, buttons, the
speaker coming and going, end of input."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["EndOfInput", "Heard", "Input", "Pressed", "SpeakerChanged", "Typed"]


@dataclass(frozen=True)
class Typed:
    """A line typed by the user."""

    text: str


@dataclass(frozen=True)
class Heard:
    """An utterance the recogniser closed."""

    text: str
    start: float
    """Start of speech (seconds of audio)."""
    end: float
    """End of speech (seconds of audio)."""
    at: float
    """Audio consumed when it was decided (seconds)."""
    heard_as: str = ""
    """The recogniser's own words when `text` is a grammar phrase it put in their place."""
    user_spoke: bool | None = None
    """Whether the echo canceller's levels show the user's voice in it (None: can't tell)."""
    level_db: float | None = None
    """How far its voiced peaks stood above the room's floor (dB; None: not measured)."""


@dataclass(frozen=True)
class Pressed:
    """A button on the web page: one of a fixed set of commands, taken as said."""

    action: str
    """The intent's name (pause, resume, next, stop)."""


@dataclass(frozen=True)
class SpeakerChanged:
    """The speaker was lost (nothing the coach says can be heard), or is back."""

    available: bool
    """False: lost; True: back."""
    device: str
    """The speaker's name."""


@dataclass(frozen=True)
class EndOfInput:
    """No more input will come (end of file, or the user closed stdin)."""


Input = Typed | Heard | Pressed | SpeakerChanged | EndOfInput
