"""Knobs of hearing: endpointing, the decision policy, the engines, microphone and echo.

Each knob once, with its unit; what measurements chose the values is in docs/tuning/hearing.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

__all__ = [
    "AecSettings",
    "DecisionSettings",
    "DoubleTalkSettings",
    "EndpointSettings",
    "EnergyVadSettings",
    "HallucinationSettings",
    "HearingSettings",
    "MicrophoneSettings",
    "PocketSphinxSettings",
    "RescoreSettings",
    "VoskSettings",
    "WhisperSettings",
]


@dataclass(frozen=True)
class EndpointSettings:
    """How utterances are cut out of the stream."""

    sample_rate: int = 16_000
    """Sample rate of the audio (hertz)."""
    frame_samples: int = 512
    """Samples per VAD frame (Silero's window: 32 ms at 16 kHz)."""
    speech_threshold: float = 0.5
    """A frame with a speech probability at or above this is voice."""
    silence_threshold: float = 0.35
    """Inside an utterance, a frame below this is silence (lower than `speech_threshold`: a
    weak syllable does not end an utterance)."""
    start_ms: float = 90.0
    """Voice needed before an utterance opens (milliseconds)."""
    end_silence_ms: float = 300.0
    """Trailing silence that closes a short utterance (milliseconds)."""
    long_end_silence_ms: float = 500.0
    """Trailing silence that closes an utterance whose voice has lasted `long_after_s`: a
    question gets more time for a pause mid-sentence than a command (milliseconds)."""
    long_after_s: float = 2.0
    """From this long (seconds, pre-roll included) an utterance is a long one."""
    max_utterance_s: float = 4.0
    """Hard cap on an utterance's length (seconds), so music or chatter can't keep one open."""
    pre_roll_ms: float = 200.0
    """Audio kept before the first voiced frame (milliseconds), so soft onsets are not cut."""
    pause_ms: float = 160.0
    """Trailing silence after which an early decision may be tried (milliseconds)."""
    look_ms: float = 64.0
    """Trailing silence after which a recogniser may start decoding, ahead of the pause:
    the decode then runs while the pause is being waited for (milliseconds)."""
    chatter_gate: bool = True
    """In chatter, only speech clearly louder than the room's voices counts (see ChatterGate)."""
    chatter_window_s: float = 6.0
    """How far back the room's voices are measured (seconds)."""
    chatter_fraction: float = 0.6
    """Share of those frames the VAD must call voice for the room to count as chatter."""
    chatter_quantile: float = 25.0
    """The chatter's level: this percentile of the voiced frames' levels (the user's own
    words, louder and fewer, barely move it)."""
    chatter_quiet_quantile: float = 5.0
    """The room's quietest recent moments: this percentile of the recent frames' levels."""
    chatter_gap_db: float = 15.0
    """A room whose quietest recent moments fall this far below its voices is not chatter
    (dB)."""
    chatter_gap_s: float = 3.0
    """How recent those quietest moments must be (seconds)."""
    chatter_open_db: float = 7.5
    """In chatter, a frame opens an utterance only this far above the chatter's level (dB)."""
    chatter_hold_db: float = 5.0
    """In chatter, an open utterance goes on only while frames stay this far above it (dB)."""
    chatter_hold_s: float = 0.4
    """... and only this soon after a frame loud enough to open one (seconds): chatter between
    the two levels alone, once the user has stopped, must not hold the utterance open."""

    def frames(self, milliseconds: float) -> int:
        """Milliseconds -> whole frames (at least one)."""
        frame_ms = 1000.0 * self.frame_samples / self.sample_rate
        return max(1, math.ceil(milliseconds / frame_ms - 1e-9))


@dataclass(frozen=True)
class EnergyVadSettings:
    """The energy detector that stands in for Silero VAD when it can't load."""

    margin_db: float = 12.0
    """A frame is voice this far above the tracked noise floor (dB)."""
    min_level_dbfs: float = -50.0
    """Quieter frames are never voice (dBFS)."""
    start_floor_dbfs: float = -70.0
    """Noise floor assumed before any audio (dBFS)."""
    fall_rate: float = 0.3
    """Share of the gap the floor moves per frame towards a quieter frame (falls fast)."""
    rise_rate: float = 0.01
    """Share of the gap the floor moves per frame towards a louder frame (rises slowly, so
    speech barely lifts it while continuous noise does)."""


@dataclass(frozen=True)
class RescoreSettings:
    """How many phrases the second look tries and when one wins."""

    candidates: int = 6
    """Phrases scored against the audio, at most."""
    margin: float = 3.0
    """A phrase wins if its log-probability is at most this far (nats) below the transcript's."""
    question_margin: float = 10.0
    """The same for a phrase asking a question that is not a whole command (a FAQ phrasing):
    a question is long, and a few words garbled in it cost more nats than a short command's
    slip, while its answer loses nothing the user was doing."""
    min_word_logprob: float = -6.5
    """Least log-probability per word (nats) a phrase needs to win at all: the second look
    corrects a slip, it does not force a phrase onto audio that supports none (a greeting
    in chatter made "help", a mishearing in noise "abort the workout")."""
    min_length_ratio: float = 0.6
    max_length_ratio: float = 1.6
    """A phrase's letters against the transcript's: a fragment ("next" for "next week we
    travel") or a padded phrase would explain too little or too much of the audio."""
    min_similarity: float = 40.0
    """Character similarity (0..100) a phrase needs with the transcript to be tried."""
    hypotheses: int = 5
    """Width of the beam search whose readings are tried, if whole commands, when no
    look-alike phrase wins (below 2: off)."""
    min_letters: int = 4
    """Shorter transcripts ("go", "lol") are too little audio to tell phrases apart."""


@dataclass(frozen=True)
class HallucinationSettings:
    """When a decoded transcript is rejected as invented rather than heard."""

    no_speech_threshold: float = 0.6
    """Reject when no_speech_prob is above this and avg_logprob is below `logprob_threshold`."""
    logprob_threshold: float = -1.0
    """See `no_speech_threshold` (mean log-probability per token)."""
    logprob_floor: float = -1.5
    """Reject any transcript whose avg_logprob is below this."""
    compression_ratio_threshold: float = 2.4
    """Reject repetitive text (gzip ratio above this): a decoder looping on noise."""


@dataclass(frozen=True)
class DecisionSettings:
    """When an utterance is decided: early at a pause, at checks of an open one, second look."""

    open_checks_s: tuple[float, ...] = (2.0, 2.75, 3.5)
    """Lengths of a still-open utterance at which it is decoded to see if it is already a whole
    command (seconds): music or chatter may never leave the silence that closes it. Not
    earlier: a longer command would still be being said."""
    min_voice_s: float = 0.2
    """Shorter utterances are not decoded: a decoder invents words for a syllable's fragment."""
    look_ahead_max_s: float = 3.0
    """Open utterances up to this long are decoded as soon as they fall quiet, so the decode
    runs while the pause that allows an early decision is awaited (seconds)."""
    early_second_look: bool = True
    """Whether a grammar phrase from the second look may close an utterance at a pause, as
    the decoder's own words of a whole command do."""
    rescore: RescoreSettings | None = field(default_factory=RescoreSettings)
    """Second look at transcripts that are not commands (None: off)."""
    hallucination: HallucinationSettings = field(default_factory=HallucinationSettings)
    """What is rejected as invented."""


@dataclass(frozen=True)
class WhisperSettings:
    """How Whisper decodes."""

    window_seconds: float | None = 6.0
    """Encoder window (seconds); None uses faster-whisper's transcribe() with its 30 s window.
    It must hold the longest utterance (the endpointer's cap plus pre-roll)."""
    cpu_threads: int = 2
    """Threads of the CTranslate2 model (the machine has two cores)."""
    compute_type: str = "int8"
    """CTranslate2 weight type: int8 is fastest on a CPU."""
    beam_size: int = 1
    """Hypotheses kept while decoding (1: greedy; wider was no better)."""
    max_tokens: int = 48
    """Longest transcript (tokens); a command never needs more, a hallucination loop is cut."""
    tokens_per_second: float = 6.0
    base_tokens: int = 6
    """A transcript gets at most `base_tokens` + `tokens_per_second` per second of audio (and
    never more than `max_tokens`): fast speech is about 4 tokens a second, so a longer text is
    Whisper looping ("Come again. Come again. ..."), which also costs decode time."""
    prompt_max_words: int = 40
    """Distinct grammar words in the initial prompt, at most (the prompt topic comes after)."""


@dataclass(frozen=True)
class VoskSettings:
    """How Vosk's own endpointing is bounded and its results judged."""

    max_utterance_s: float = 6.0
    """Hard cap on an utterance (seconds), so continuous noise can't keep one open."""
    min_confidence: float = 0.5
    """Results with a word less confident than this (0..1) are dropped."""


@dataclass(frozen=True)
class PocketSphinxSettings:
    """How PocketSphinx decodes."""

    tail_s: float = 0.3
    """Silence added after each utterance: the models expect a silent tail (seconds)."""
    fillers: bool = False
    """A loop of filler words beside the grammar to absorb other speech (off: it made decoding
    10-30x slower and swallowed real commands)."""
    streaming: bool = False
    """Feed audio as it arrives (live CMN starts cold and cost accuracy) instead of decoding
    each closed utterance whole."""


@dataclass(frozen=True)
class MicrophoneSettings:
    """The live input stream."""

    block_s: float = 0.03
    """Audio per callback block (seconds)."""
    stall_s: float = 2.0
    """No audio for this long means the device is gone (seconds)."""
    clock_window_s: float = 30.0
    """Block arrival times this recent place the stream on the session clock (seconds): older
    ones would let the sound card's clock drift build up."""


@dataclass(frozen=True)
class AecSettings:
    """Echo cancellation: the speaker's output taken out of the microphone signal."""

    timeline_keep_s: float = 4.0
    """Speaker output kept for reference (seconds)."""
    timeline_resync_s: float = 0.2
    """The output timeline's anchor moves only when block times disagree by more (seconds):
    callback timing shifts without the sound moving, and moving it costs re-adapting."""
    timeline_blocks: int = 25
    """Output blocks whose reported times give the anchor (their median)."""
    frame_samples: int = 160
    """Samples per filter frame (10 ms at 16 kHz); the cleaned audio lags one frame."""
    filter_tail_s: float = 0.2
    """Length of echo the adaptive filter spans after the reference (seconds)."""
    delay_window_s: float = 2.0
    """Microphone audio kept and correlated with the output to measure the echo delay
    (seconds)."""
    delay_search_s: float = 1.0
    """Echo delays searched either side of the reported timing (seconds)."""
    delay_every_s: float = 0.5
    """How often the echo delay is measured (seconds of microphone audio)."""
    delay_min_peak: float = 0.03
    """Height the whitened correlation's peak needs (1.0 for the output alone, delayed; the
    room, noise and the user's voice lower it)."""
    delay_settle_s: float = 0.015
    """Smaller changes of the measured delay are left to the filter to follow (seconds)."""
    delay_min_output_std: float = 100.0
    """Quieter speaker output (standard deviation, int16 units) is too quiet to measure by."""
    delay_min_mic_std: float = 30.0
    """Quieter microphone audio (standard deviation, int16 units) is too quiet to measure by."""
    reference_margin_s: float = 0.03
    """The reference is taken this much earlier than the measured delay puts it, so the echo
    always comes after its reference, as the causal filter needs (seconds)."""
    reference_resync_s: float = 0.025
    """The reference is moved when the clocks disagree by more than this (seconds); moving
    it costs the filter its adaptation, so not for jitter."""


@dataclass(frozen=True)
class DoubleTalkSettings:
    """Thresholds of the double-talk judgement (dB; levels relative to full scale)."""

    voice_dbfs: float = -55.0
    """Quieter frames hold nobody's voice."""
    coach_dbfs: float = -50.0
    """The speaker's output louder than this: the coach is audible."""
    working_db: float = 15.0
    """The filter works when it removes at least this much (median) of the coach's voice."""
    margin_db: float = 10.0
    """A frame holds the user's voice when this much less than usual was removed from it."""
    most_removed_db: float = 15.0
    """Nor when more than this was removed, however deep the filter usually goes: a user at
    the microphone is not that far below the coach's echo, and a frame with so much removed
    is the echo itself (a deep usual removal would otherwise make the margin a loose bar)."""
    added_db: float = 6.0
    """Nor when the canceller's output is this much louder than its input: that frame holds
    the filter's own echo estimate (the speaker's signal ahead of its echo, or the filter
    adapting), not a voice."""
    user_s: float = 0.12
    """This much of the user's voice in an utterance means the user spoke (seconds)..."""
    user_share: float = 0.3
    """...when it is also at least this share of the utterance's voiced frames: what a user
    says over the coach is mostly their voice, while a filter slipping on the coach's voice
    leaves a few scattered frames of it in a long utterance (0 to 1)."""
    usual_s: float = 20.0
    """The usual removal is measured over the coach's voice in this span before the end
    (seconds)."""
    recent_s: float = 2.0
    """The removal is measured over this span just before an utterance too, and the lower of
    the two counts: a filter that lost the echo there (its reference slipped, the echo path
    changed) cannot tell the user from the coach, however well it usually does (seconds)."""
    keep_s: float = 30.0
    """Levels kept (seconds)."""
    duck_onset_s: float = 0.04
    """This much of the user's voice over the coach's, within `duck_window_s`, lowers the
    coach's voice (seconds): a few frames, so it is lowered within ~150 ms of them starting."""
    duck_window_s: float = 0.08
    """The latest audio in which that voice is looked for (seconds)."""
    duck_hold_s: float = 0.6
    """The coach's voice comes back up after this long without the user's (seconds): a
    cough or a grunt ducks it only for a moment."""
    usual_every_s: float = 0.5
    """How often the usual removal is measured again while listening live (seconds)."""


@dataclass(frozen=True)
class HearingSettings:
    """Every knob of hearing, one group per part."""

    endpoint: EndpointSettings = field(default_factory=EndpointSettings)
    energy_vad: EnergyVadSettings = field(default_factory=EnergyVadSettings)
    decision: DecisionSettings = field(default_factory=DecisionSettings)
    whisper: WhisperSettings = field(default_factory=WhisperSettings)
    vosk: VoskSettings = field(default_factory=VoskSettings)
    pocketsphinx: PocketSphinxSettings = field(default_factory=PocketSphinxSettings)
    microphone: MicrophoneSettings = field(default_factory=MicrophoneSettings)
    aec: AecSettings = field(default_factory=AecSettings)
    double_talk: DoubleTalkSettings = field(default_factory=DoubleTalkSettings)
