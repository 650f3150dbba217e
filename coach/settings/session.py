"""Knobs of a session: the real-clock loop, the speaker, listening, and the routine's timing.

Frozen, with the unit in each name or docstring. What was measured to choose them is in
docs/tuning/session.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["ConversationSettings", "LevelSettings", "ListeningSettings", "LoopSettings",
           "PlanSettings", "SessionSettings", "SpeakerSettings"]


@dataclass(frozen=True)
class LoopSettings:
    """How the real-clock loop waits for the player's next deadline."""

    wake_early_s: float = 0.02
    """Wake this long before a deadline and sleep the rest in small steps (seconds): on a
    busy machine a long wait can overshoot by tens of milliseconds, a short one hardly does."""
    sleep_step_s: float = 0.002
    """Longest single sleep in those last moments before a deadline (seconds)."""
    idle_wait_s: float = 0.5
    """Longest wait for input before the loop looks at the clock again (seconds)."""
    gil_switch_s: float = 0.001
    """Longest another thread may hold the interpreter before the timeline gets it (seconds):
    the listener decodes in a thread of the same process."""


@dataclass(frozen=True)
class SpeakerSettings:
    """Opening, adjusting and finishing the real voice."""

    open_attempts: int = 3
    """Tries at opening the output device before printing instead of speaking."""
    open_retry_s: float = 0.5
    """Wait between those tries (seconds): a busy or just-plugged device often opens a moment
    later."""
    volume_step: float = 0.2
    """How much "louder" / "quieter" change the volume (on the 0.0 to 1.0 scale)."""
    min_volume: float = 0.2
    """The lowest volume "quieter" goes to (0.0 to 1.0), so the coach stays audible."""
    drain_timeout_s: float = 30.0
    """Longest wait for the last words to finish before the program exits (seconds)."""
    drain_poll_s: float = 0.05
    """How often that wait looks whether the voice is still speaking (seconds)."""


@dataclass(frozen=True)
class ListeningSettings:
    """Feeding the recogniser: from a WAV file, or from the microphone's audio thread."""

    chunk_seconds: float = 0.1
    """Audio handed to the recogniser at a time when reading a file (seconds)."""
    reopen_wait_s: float = 2.0
    """Wait between tries at reopening a lost microphone (seconds)."""
    error_pause_s: float = 1.0
    """Pause after an unexpected error in the audio thread before listening again (seconds)."""
    stop_join_s: float = 2.0
    """Longest wait for the audio thread to end when the session stops (seconds)."""
    playback_open_s: float = 600.0
    """Length of the echo window opened when playback starts (seconds); the playback's stop
    event closes it, so it only needs to outlast any one line."""


@dataclass(frozen=True)
class LevelSettings:
    """How loud an utterance was over the room: what tells speech meant for the coach (near
    the microphone, loud) from the room's chatter and music."""

    frame_s: float = 0.02
    """Length of one level measurement (seconds)."""
    floor_window_s: float = 6.0
    """The noise floor is measured over this much audio up to the utterance's end (seconds),
    as the endpointer measures the room."""
    floor_percentile: float = 20.0
    """The floor is this percentile of the frame levels in that window: the room between
    words, not its loudest moments."""
    speech_percentile: float = 90.0
    """The utterance's level is this percentile of its frame levels: its voiced peaks."""
    min_dbfs: float = -70.0
    """Frames quieter than this count as this level (dB full scale): digital silence would
    otherwise make any sound infinitely loud."""
    history_s: float = 30.0
    """Frame levels kept (seconds): the longest utterance plus the floor's window."""


@dataclass(frozen=True)
class ConversationSettings:
    """When the coach answers what it did not understand, and when it asks before acting."""

    meant_level_db: float = 15.0
    """Hands-free without the wake word, an utterance not understood gets the "say that
    again" line only when it was at least this much louder than the room (dB over the
    noise floor): near and loud is meant for the coach, the room's chatter and music not."""
    say_again_coach_share: float = 0.5
    """Over the coach's voice, an utterance not understood with more than this share (0 to 1)
    of its words the coach's own never gets "say that again": it is the coach's own line
    with a word misheard ("Next up: side plank, right side" came back as "Next up. Nice
    side, right side."), whatever the levels say."""
    destructive_min_score: float = 0.9
    """A command that loses the user's place acts at once only when the recogniser's own
    words mean it with at least this score (0..1, 1.0 an exact phrase); below, it asks."""
    confirm_timeout_s: float = 6.0
    """How long a question such as "Stop the workout?" waits for yes or no (seconds)."""


@dataclass(frozen=True)
class PlanSettings:
    """Where the routine planner puts lines inside a segment."""

    gap_s: float = 0.3
    """Silence kept between two lines (seconds)."""
    cue_slack_s: float = 4.0
    """How far a cue may slide later to find a free gap (seconds)."""
    cue_grid_s: float = 0.5
    """Step of the grid of later moments a sliding line tries (seconds)."""
    countdown_from: int = 3
    """The last seconds counted aloud: "3, 2, 1" (seconds)."""
    ten_seconds_min_s: float = 25.0
    """Shortest timed exercise that gets "10 seconds" (seconds)."""
    halfway_min_s: float = 30.0
    """Shortest timed exercise that gets "halfway" (seconds)."""
    intro_pause_s: float = 1.0
    """Silence after the intro (and its set-up line) before the first exercise (seconds)."""
    first_cue_after_s: float = 1.0
    """Free form cues start this long after the exercise's opening lines end (seconds)."""


@dataclass(frozen=True)
class SessionSettings:
    """Every knob of a session."""

    loop: LoopSettings = field(default_factory=LoopSettings)
    speaker: SpeakerSettings = field(default_factory=SpeakerSettings)
    listening: ListeningSettings = field(default_factory=ListeningSettings)
    plan: PlanSettings = field(default_factory=PlanSettings)
    level: LevelSettings = field(default_factory=LevelSettings)
    conversation: ConversationSettings = field(default_factory=ConversationSettings)
