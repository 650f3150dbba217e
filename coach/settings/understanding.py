"""Knobs of understanding: the combined decision and the echo judge. Frozen, with units.

What each value was measured against is in docs/tuning/understanding.md.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["EchoSettings", "UnderstandingSettings"]


@dataclass(frozen=True)
class UnderstandingSettings:
    """Knobs of the combined decision (command, pain report, FAQ question)."""

    pain_report_score: float = 0.9
    """Score (0 to 1) given to a pain report found inside a longer sentence."""
    statement_faq_threshold: float = 0.6
    """Lowest FAQ score (0 to 1) for a sentence not phrased as a question: statements reach
    the FAQ less often than chatter does."""
    max_words: int = 50
    """Longest text understood (words). A request to a coach is a sentence or two; longer
    is other people's talk or pasted text, and the work of understanding grows with it."""
    max_sentences: int = 4
    """Most sentences looked at one by one for the one request among them: more in one
    breath is talk, and each sentence costs a look of its own."""
    barge_in_words: int = 3
    """Longest barge-in phrase (words): short phrases are what people shout over speech."""
    meanings: bool = True
    """Whether a sentence no template or FAQ phrasing matches goes to the sentence-meaning
    model (when its files are installed)."""
    meaning_min_words: int = 3
    """Fewest words (fillers left out) for a sentence to go to the sentence-meaning model:
    the templates spell out the short commands, and a short phrase they lack is more often
    an exclamation ("let's go") or a recogniser's guess at noise than a request."""
    meaning_threshold: float = 0.75
    """Lowest similarity (cosine, 0..1) of a sentence to its nearest example for that
    example's meaning to count."""
    meaning_short_words: int = 4
    """Sentences of at most this many words need `meaning_short_threshold`: few words are
    near many short commands ("let it go" and "let's go")."""
    meaning_short_threshold: float = 0.8
    """Lowest similarity for a short sentence's meaning to count."""
    meaning_margin: float = 0.04
    """How much closer (cosine) the best meaning must be than the runner-up: near two
    meanings alike is a guess."""
    meaning_question_threshold: float = 0.8
    """Lowest similarity for the model to overrule the FAQ entry word overlap chose."""
    meaning_question_margin: float = 0.05
    """How much closer the model's entry must be than its runner-up to overrule."""
    meaning_max_score: float = 0.85
    """Highest score a meaning found this way gets: below an exact phrase's 1.0 and below
    the score at which a destructive command acts without asking."""
    guess_threshold: float = 0.55
    """Lowest similarity of a sentence the coach did not understand to its nearest
    example for the coach to ask whether that was meant ("Did you mean: skip to the next
    exercise?") instead of "say that again": asking costs one yes, acting on it nothing."""
    guess_margin: float = 0.04
    """How much closer the guessed meaning must be than the runner-up."""
    guess_min_words: int = 2
    """Fewest words (fillers left out) a sentence needs for a guess."""
    sentence_max_score: float = 0.85
    """Highest score of a request found in a sentence of its own beside other talk: other
    talk around it is weaker evidence, so a destructive one is asked about first."""


@dataclass(frozen=True)
class EchoSettings:
    """Knobs of the echo judge, which never lets the coach act on its own voice."""

    tail_seconds: float = 0.35
    """How long after the coach stops speaking its own echo may still arrive (room echo and
    device latency)."""
    lead_seconds: float = 0.25
    """How far before playback reported a line audible its first words may be heard: the
    microphone's and the speaker's clocks may disagree by a block or two."""
    word_slack_seconds: float = 1.0
    """How long (seconds) after the coach said a word of its line (placed by its share of
    the line's letters) an utterance may begin for that word in it to be the coach's echo:
    the placing's error, the recogniser's segment edges and the room's echo. Later, the
    word is the user's own answer to the line: "resume" right after "Say resume to carry
    on where you left off."."""
    breath_seconds: float = 0.5
    """A pause between two of the coach's lines short enough to speak over neither: lines
    closer than this count as one span of speech."""
    min_barge_in_score: float = 0.9
    """Lowest intent score (0 to 1) for a barge-in command to act over the coach's voice
    when the echo canceller's levels cannot tell whether the user spoke."""
    min_destructive_barge_in_score: float = 1.0
    """Lowest intent score for a command that loses the user's place (commands.yaml
    `destructive`) to act over the coach's voice, asking first, when the levels cannot
    tell: 1.0, a phrase heard word for word. A reading that makes up for a mishearing
    ("top" read as "stop") over the coach is as likely its own word misheard."""
    min_second_voice_score: float = 0.0
    """Lowest intent score (0 to 1) for any intent to act over the coach's voice when the
    levels show a second voice (0: the understanding's own thresholds, as in silence)."""
    seconds_per_word: float = 0.5
    """When the levels cannot tell, an utterance whose voice lasted longer than this per
    word heard, plus `spare_seconds`, is a short guess at a long stretch of the coach's
    voice ("Do it." for two seconds of it), not the user's words: it does not act. People
    say a word in well under half a second, out of breath too."""
    spare_seconds: float = 0.75
    """What a drawn-out word or a breath around it may add to that (seconds)."""
    memory_lines: int = 32
    """How many of the coach's recent lines are remembered."""
    near_copy_edits: int = 0
    """A heard word this many letter edits from the coach's word at the same place beside a
    word both share is the coach's word misheard, not the user's: "then stop halfway up"
    came back as "Let's top halfway up", whose "top" must not read as "stop" (0: only
    the same words count as the coach's). Off until a live barge-in failure with it on is
    understood (docs/tuning/understanding.md)."""
    near_copy_min_letters: int = 3
    """Shorter words are never taken for a near copy (one letter turns "up" into "us")."""
    user_share: float = 0.25
    """At most this share (0 to 1) of an utterance's words may be the coach's for it to count
    as the user's own (a word like "back" or "your" is said by both)."""
    user_sentence_words: int = 4
    """When the levels cannot tell, a sentence of at least this many words that are not the
    coach's, surely understood (`min_barge_in_score`), is the user's, whatever it asks: the
    coach's voice misheard comes back as its own words or a short guess ("Let's go."), not
    as a different sentence this long."""
