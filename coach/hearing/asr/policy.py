"""When an utterance is decided, and as what: the engine-neutral decision policy.

A recogniser that decodes whole utterances cut by `UtteranceSegmenter` hands the segmenter's
events here. The policy decodes the open utterance as it falls quiet, closes it early at a
pause when the decoder already heard a whole command, checks an utterance that noise keeps
open a few times, and gives transcripts the coach would not understand a second look: grammar
phrases that read like them, then the decoder's runners-up, scored against the same audio.
It needs only `UtteranceDecoder` from the engine, so any engine that can decode, score a text
and list alternatives can use it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from coach.content.recognizer import RecognizerWords
from coach.core.rescore import PhraseShortlist, choose_phrase
from coach.core.textnorm import is_question, match_form, normalise_text
from coach.core.transcripts import Decoded, is_hallucination, looks_like_no_speech
from coach.hearing.asr.base import SAMPLE_RATE, IsComplete, KeepsMeaning, Pcm
from coach.hearing.endpoint import (
    CloseReason,
    Segment,
    SegmenterEvent,
    SpeechEnded,
    SpeechPaused,
    SpeechQuieted,
    SpeechStarted,
    UtteranceSegmenter,
)
from coach.settings.hearing import DecisionSettings

__all__ = ["Decided", "DecisionPolicy", "DecisionStats", "UtteranceDecoder"]

_LOGGER = logging.getLogger(__name__)


class UtteranceDecoder(Protocol):
    """What the policy needs from an engine."""

    def decode(self, pcm: Pcm, prompt: str | None = None) -> Decoded:
        """The engine's words for a whole utterance; `prompt` is a text hint (may be None)."""
        ...

    def score(self, decoded: Decoded, texts: Sequence[str]) -> list[float] | None:
        """Total log-probability of each text given the audio `decoded` came from; None when
        the engine cannot score."""
        ...

    def alternatives(self, decoded: Decoded, prompt: str | None, count: int) -> list[str]:
        """The engine's `count` best readings of the same audio, best first ([] if none)."""
        ...


@dataclass(frozen=True)
class Decided:
    """An utterance decided: where it was, and what was heard in it."""

    segment: Segment
    decoded: Decoded


@dataclass
class DecisionStats:
    """Timings and counts, for the bench and the log."""

    decode_seconds: list[float] = field(default_factory=list)
    """Wall-clock time of each decode."""
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


class DecisionPolicy:
    """Segmenter events in, decided utterances out."""

    def __init__(
        self,
        decoder: UtteranceDecoder,
        segmenter: UtteranceSegmenter,
        words: RecognizerWords,
        *,
        settings: DecisionSettings | None = None,
        is_complete: IsComplete | None = None,
        keeps_meaning: KeepsMeaning | None = None,
    ) -> None:
        self.decoder = decoder
        self.segmenter = segmenter
        self.words = words
        self.settings = settings or DecisionSettings()
        self.is_complete = is_complete
        self.keeps_meaning = keeps_meaning
        self.stats = DecisionStats()
        self._checks_done = 0
        self._prompt: str | None = None
        self._shortlist: PhraseShortlist | None = None
        self._asking: dict[str, bool] = {}
        """Grammar phrase -> whether it is a question (`_asks`)."""
        self._early: _EarlyLook | None = None
        self._early_closed_end: int | None = None
        """Last voiced sample of the latest utterance closed by an early decision."""
        self._last_look: tuple[Decoded, Decoded | None] | None = None
        """The latest second look: the decode it was for, and its answer."""

    def set_phrases(self, phrases: Sequence[str] | None, prompt: str | None) -> None:
        """The grammar the second look chooses from, and the decoder's prompt."""
        self._prompt = prompt
        rescore = self.settings.rescore
        self._shortlist = PhraseShortlist(phrases, rescore) if phrases and rescore else None
        self._asking = {}

    def handle(self, events: list[SegmenterEvent]) -> list[Decided]:
        """What the segmenter reported; the utterances decided with it."""
        found: list[Decided] = []
        for event in events:
            if isinstance(event, SpeechStarted):
                self._checks_done = 0
                self._early = None
            elif isinstance(event, SpeechQuieted) and self._worth_looking_ahead():
                self._open_decode()  # ready (or nearly) when the pause comes
            elif isinstance(event, SpeechPaused) and self.is_complete is not None:
                found.extend(self._try_early())
            elif isinstance(event, SpeechEnded):
                decided = self.decide_segment(event.segment)
                self._early_closed_end = None
                if decided is not None:
                    found.append(decided)
        if not found and self._check_due():
            found.extend(self._try_early())
        return found

    def decide_segment(self, segment: Segment) -> Decided | None:
        """Decode one closed utterance; None when it is rejected as a hallucination."""
        early, self._early = self._early, None
        if segment.end - segment.start < self.settings.min_voice_s * SAMPLE_RATE:
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
            # only a whole command in the decoder's own words is a new request.
            if self._rejected(heard) or not self._complete(heard.text):
                _LOGGER.debug("tail of an early decision dropped: %r", heard.text)
                return None
            return Decided(segment, heard)
        # Voice that ran into the length cap is noise or chatter (or a long sentence), not a
        # command: forcing a command's words onto it is how chatter would trigger the coach.
        decoded = self._look(heard, second_look=segment.reason is not CloseReason.CAP)
        return None if decoded is None else Decided(segment, decoded)

    def _rejected(self, decoded: Decoded) -> bool:
        return is_hallucination(decoded, self.settings.hallucination, self.words.junk_transcripts)

    def _continues_early_close(self, segment: Segment) -> bool:
        """Whether `segment` is voice that resumed so soon after an early decision that, without
        it, both would have been one utterance (within the closing silence)."""
        if self._early_closed_end is None:
            return False
        gap = segment.start - self._early_closed_end
        return gap < self.segmenter.settings.end_silence_ms * SAMPLE_RATE / 1000

    def _complete(self, text: str) -> bool:
        return self.is_complete is not None and self.is_complete(text)

    def _check_due(self) -> bool:
        """In noise that never falls silent, look at the open utterance a few times anyway."""
        checks = self.settings.open_checks_s
        if self.is_complete is None or not self.segmenter.is_open:
            return False
        if self._checks_done >= len(checks):
            return False
        open_s = len(self.segmenter.open_audio()) / SAMPLE_RATE
        if open_s < checks[self._checks_done]:
            return False
        self._checks_done += 1
        return True

    def _try_early(self) -> list[Decided]:
        """Close the open utterance now if the decoder already heard a whole command, in its
        own words or in those of the second look (`early_second_look`)."""
        decoded = self._open_decode()
        open_s = len(self.segmenter.open_audio()) / SAMPLE_RATE
        # a check now makes the ones already due redundant
        checks = self.settings.open_checks_s
        self._checks_done = max(self._checks_done, sum(c <= open_s for c in checks))
        if self.is_complete is None:
            return []
        if not self.is_complete(decoded.text) and self.settings.early_second_look:
            decoded = self._second_look(decoded) or decoded
        if self._rejected(decoded) or not self.is_complete(decoded.text):
            return []
        self._early = None
        found: list[Decided] = []
        for event in self.segmenter.close_now():
            if isinstance(event, SpeechEnded):
                found.append(Decided(event.segment, decoded))
                self._early_closed_end = event.segment.end
        return found

    def _worth_looking_ahead(self) -> bool:
        """Commands are short: a long open utterance is a question, or noise."""
        open_s = len(self.segmenter.open_audio()) / SAMPLE_RATE
        return self.is_complete is not None and open_s <= self.settings.look_ahead_max_s

    def _open_decode(self) -> Decoded:
        """The decoder's words for the open utterance, reusing the last look if no voice came
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
        _LOGGER.debug("decoded in %.0f ms: %r", 1000 * decoded.seconds, decoded)
        return decoded

    def _look(self, decoded: Decoded, *, second_look: bool = True) -> Decoded | None:
        """What was said: the decoder's text, a grammar phrase the audio supports as well, or
        None when it is rejected as a hallucination."""
        rescored = self._second_look(decoded) if second_look else None
        if rescored is not None:
            return rescored
        if self._rejected(decoded):
            _LOGGER.debug("rejected %r", decoded.text)
            return None
        return decoded

    def _second_look(self, decoded: Decoded) -> Decoded | None:
        """A grammar phrase in place of a transcript the coach would not understand: first
        the phrases that read like it, then the decoder's other readings of the audio.

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
        return not (
            not text
            or text in self.words.junk_transcripts
            or looks_like_no_speech(decoded, settings.hallucination)
            or decoded.compression_ratio > settings.hallucination.compression_ratio_threshold
            or self.is_complete(decoded.text)
        )

    def _try_phrases(self, decoded: Decoded, phrases: list[str]) -> Decoded | None:
        """`decoded` with the phrase the audio supports about as well as the decoder's own
        text in its place, or None. Only phrases that keep what the decoder's words mean are
        tried: the second look corrects a mishearing, it does not overrule words that were
        understood."""
        rescore = self.settings.rescore
        if self.keeps_meaning is not None:
            phrases = [p for p in phrases if self.keeps_meaning(decoded.text, p)]
        if not phrases or rescore is None:
            return None
        scores = self.decoder.score(decoded, [decoded.text, *phrases])
        if scores is None:
            return None
        _LOGGER.debug("second look: %r (%.1f) -> %s", decoded.text, scores[0],
                      list(zip(phrases, scores[1:], strict=True)))
        chosen = choose_phrase(scores[0], scores[1:], rescore,
                               [self._asks(phrase) for phrase in phrases], phrases)
        if chosen is None:
            return None
        return replace(decoded, text=phrases[chosen], heard_as=decoded.text)

    def _asks(self, phrase: str) -> bool:
        """Whether a grammar phrase is a question and not a whole command ("what's next");
        remembered, as telling costs a fuzzy match of the phrase."""
        asks = self._asking.get(phrase)
        if asks is None:
            asks = is_question(match_form(phrase).split()) and not self._complete(phrase)
            self._asking[phrase] = asks
        return asks

    def _runners_up(self, decoded: Decoded) -> list[str]:
        """The decoder's other readings of the audio that are whole commands and could account
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
