"""Text -> one decision: a command, a FAQ question, a pain report, or nothing.

Order of the decision, and why:

1. An exact command phrase wins ("what's next" is phrased like a question but is a
   command).
2. A first-person report of pain now ("ouch my back hurts", "I felt something pop")
   is `pain`, so the player stops at once; a question about pain ("why does my lower
   back hurt when I squat") is not a report and goes to the FAQ.
3. A sentence phrased as a question goes to the FAQ when an entry matches.
4. Otherwise the better of the fuzzy command and the FAQ entry, if either is accepted.
5. Otherwise, when the recogniser wrote several sentences, the one decision they make
   between them: a request in a sentence of its own beside talk that is not one ("Okay,
   it's eased off. Let's keep going."). Sentences that ask for different things decide
   nothing: acting on either would be a guess.
6. Otherwise, with a sentence-meaning model attached, the meaning whose nearest example
   is close enough and clearly closer than any other (core/meaning.py): everyday words no
   template foresaw. Its score is the similarity, below an exact phrase's 1.0, so a
   destructive command found this way is asked about before it acts. The same model may
   also overrule the FAQ entry of step 3 or 4 when it is surer of another one.

When none of these decides, `guess` names the command the sentence is nearest to, on
weaker evidence, for the coach to ask about ("Did you mean: ...?") rather than act on.

Pure: no I/O, no device or speech library.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from coach.content.model import CommandSet, FaqEntry, IntentName
from coach.core.faq import FaqIndex, FaqMatch
from coach.core.intents import Intent, IntentMatcher
from coach.core.meaning import Example, Meaning, MeaningLookup, closest_meaning, unique_examples
from coach.core.textnorm import is_question, match_form, sentences
from coach.settings.understanding import UnderstandingSettings

__all__ = ["PAIN", "QUESTION", "Understanding"]

_LOGGER = logging.getLogger(__name__)

QUESTION = IntentName.QUESTION.value
"""Intent name for FAQ questions; slot `id` holds the entry id."""
PAIN = IntentName.PAIN.value
"""Intent name for pain reports."""
START_ROUTINE = IntentName.START_ROUTINE.value
_ANSWERS = frozenset({IntentName.YES.value, IntentName.NO.value})
_NOT_GUESSED = _ANSWERS | {PAIN, QUESTION}
"""Meanings `guess` never names: an answer or a pain report is not asked about, and a FAQ
answer is no command a yes carries out."""


class Understanding:
    """One decision per sentence from the command templates and the FAQ."""

    def __init__(
        self,
        commands: CommandSet,
        faq: Sequence[FaqEntry],
        settings: UnderstandingSettings | None = None,
        meanings: MeaningLookup | None = None,
    ) -> None:
        """`meanings`: closeness to the examples' meanings (see `examples`); None for
        templates and FAQ phrasings alone."""
        self._settings = settings or UnderstandingSettings()
        self._meanings = meanings
        self._commands = commands
        self.matcher = IntentMatcher(commands)
        self.faq = FaqIndex(faq, commands.fillers)
        self._barge_in = frozenset(spec.name for spec in commands.intents if spec.barge_in)
        self._destructive = frozenset(
            spec.name for spec in commands.intents if spec.destructive)
        self._not_alone = {
            spec.name: frozenset(match_form(word) for word in spec.not_alone_over_coach)
            for spec in commands.intents
            if spec.not_alone_over_coach
        }
        self._last_heard: tuple[str, Intent] | None = None
        self._faq_phrasings: dict[str, str] | None = None
        """FAQ phrasing (spoken form) -> its entry's id, made on first use."""

    @property
    def barge_in_intents(self) -> frozenset[str]:
        """Intents that may interrupt the coach while it speaks (commands.yaml `barge_in`)."""
        return self._barge_in

    @property
    def destructive_intents(self) -> frozenset[str]:
        """Intents that lose the user's place (commands.yaml `destructive`)."""
        return self._destructive

    @property
    def not_alone_over_coach(self) -> Mapping[str, frozenset[str]]:
        """Intent -> words or phrases (match form) that never act alone over the coach's voice."""
        return self._not_alone

    def is_lone_word(self, intent: Intent, residual: str) -> bool:
        """Whether what decides `intent` is only a word that never acts alone over the coach's
        voice (commands.yaml `not_alone_over_coach`), with carrier words around it or not:
        the coach's own "Keep your standing leg straight" came back as "Let's ready.", which
        is "ready" with "let's" in front. `residual`: the heard words the coach did not say."""
        lone = self._not_alone.get(intent.name or "")
        if not lone:
            return False
        for text in (residual, intent.text):
            words = text.split()
            stretches = {" ".join(words)} | {
                " ".join(words[span.start:span.end])
                for span in self.matcher.carriers.spans(words) if not span.aside
            }
            if stretches & lone:
                return True
        return False

    def unknown_value(self, text: str) -> Intent | None:
        """`text` as an intent whose open slot (commands.yaml `open_slot`) holds words the
        coach does not know ("start the yoga routine"); None when it is not one."""
        for spec in self._commands.intents:
            if spec.open_slot:
                value = self.matcher.unknown_value(text, spec.name, spec.open_slot)
                if value is not None:
                    return Intent(spec.name, {spec.open_slot: value}, 0.0, value)
        return None

    def too_long(self, text: str) -> bool:
        """Whether `text` has more words than the coach takes in at once."""
        return len(text.split()) > self._settings.max_words

    def interpret(self, text: str) -> Intent:
        """The decision for one sentence; Intent(None, ...) when it is not for the coach
        (nor when it is `too_long`)."""
        return self._decide(text, with_model=True)

    def _decide(self, text: str, *, with_model: bool) -> Intent:
        """`interpret`, or with `with_model` False what the words say by the templates and
        the FAQ alone (steps 1 to 5), without the sentence-meaning model's cost."""
        if self.too_long(text):
            return Intent(None)
        command = self.matcher.match(text)
        words = command.text.split()
        if not words:
            return command
        if command.score >= 1.0 and command.name != PAIN:
            return command
        question = is_question(self.matcher.carriers.unframed(words))
        if not question and self.matcher.mentions(text, PAIN):
            score = max(command.score, self._settings.pain_report_score)
            return Intent(PAIN, {}, score, command.text)
        if not question and command.name == PAIN:
            # Only like a pain phrase ("touch" for "ouch"): its own score, so that over the
            # coach's voice, where a surely heard report acts, a look-alike of the coach's own
            # words does not ("don't arch your lower back" heard as "... touch ...").
            return command
        answer = self.faq.best(text)
        if self._answers(answer, command, question):
            chosen = _question(answer, command.text)
            return self._reconsidered(text, chosen) if with_model else chosen
        if command.name is not None:
            return command
        by_sentence = self._by_sentence(text, with_model=with_model)
        if by_sentence is not None:
            return by_sentence
        if not with_model:
            return Intent(None, {}, max(command.score, answer.score), command.text)
        by_meaning = self._by_meaning(text, command.text)
        if by_meaning is not None:
            return by_meaning
        return Intent(None, {}, max(command.score, answer.score), command.text)

    def guess(self, text: str) -> Intent | None:
        """The command a sentence the coach did not understand most likely asks for, to be
        asked about and never acted on unasked; None when it is near nothing, near two
        meanings alike, or not understood for another reason (too long, a question).

        Never a pain report (pain is acted on from the words alone, not guessed), an answer,
        or a FAQ entry: only commands, which a yes can carry out.
        """
        settings = self._settings
        if self._meanings is None or self.too_long(text):
            return None
        key = self.matcher.normalise(text)
        words = key.split()
        if len(words) < settings.guess_min_words or is_question(
                self.matcher.carriers.unframed(words)):
            return None
        if self.interpret(text).name is not None:
            return None
        ranked = [(meaning, score) for meaning, score in self._meanings.closest(text)
                  if meaning.intent not in _NOT_GUESSED]
        found = closest_meaning(ranked, settings.guess_threshold, settings.guess_margin)
        if found is None:
            return None
        meaning, score = found
        _LOGGER.debug("%r: perhaps %s (%.2f)", text, meaning, score)
        return Intent(meaning.intent, meaning.slot_dict(), score, key)

    def use_meanings(self, meanings: MeaningLookup | None) -> None:
        """Attach (or, with None, detach) the sentence-meaning lookup of step 6."""
        self._meanings = meanings

    def _by_sentence(self, text: str, *, with_model: bool) -> Intent | None:
        """The one decision among the sentences of `text` (None: one sentence, none, or
        sentences asking for different things)."""
        parts = sentences(text)
        if not 2 <= len(parts) <= self._settings.max_sentences:
            return None
        if self._meanings is not None and with_model:
            self._meanings.prepare([*parts, text])
        decided = (self._decide(part, with_model=with_model) for part in parts)
        # Beside other talk only a command said word for word counts: "I need to pick up.
        # Brocer in after this." (groceries, heard in two) is "pick it up" only fuzzily.
        found = [intent for intent in decided if intent.name is not None
                 and (intent.score >= 1.0 or intent.name in (QUESTION, PAIN))]
        # a yes or no beside a request acknowledges it ("Yeah, do it. Stop the workout.")
        requests = [intent for intent in found if intent.name not in _ANSWERS]
        found = requests or found
        if len({(intent.name, tuple(sorted(intent.slots.items()))) for intent in found}) != 1:
            return None
        best = max(found, key=lambda intent: intent.score)
        _LOGGER.debug("%r: one request among its sentences: %s", text, best)
        return Intent(best.name, best.slots,
                      min(best.score, self._settings.sentence_max_score), best.text)

    def _by_meaning(self, text: str, key: str) -> Intent | None:
        settings = self._settings
        words = len(key.split())
        if self._meanings is None or words < settings.meaning_min_words:
            return None
        short = words <= settings.meaning_short_words
        threshold = settings.meaning_short_threshold if short else settings.meaning_threshold
        found = closest_meaning(self._meanings.closest(text), threshold, settings.meaning_margin)
        if found is None:
            return None
        meaning, score = found
        _LOGGER.debug("%r means %s by its nearest example (%.2f)", text, meaning, score)
        return Intent(meaning.intent, meaning.slot_dict(), min(score, settings.meaning_max_score),
                      key)

    def _reconsidered(self, text: str, chosen: Intent) -> Intent:
        """The FAQ entry the model is sure of, where the word overlap found another.

        Word overlap picks the entry sharing the most words; a question asked in other words
        ("which lifts are the worst for my back") can share more with a neighbouring entry.
        A verbatim phrasing (1.0), the going-on rule's among them, is never reconsidered, nor
        is the red-flag entry: nothing may trade the advice to stop for a softer answer.
        """
        settings = self._settings
        if (self._meanings is None or chosen.score >= 1.0
                or chosen.slots.get("id") == self.faq.going_on_id
                or len(chosen.text.split()) < settings.meaning_min_words):
            return chosen
        found = closest_meaning(self._meanings.closest(text),
                                settings.meaning_question_threshold,
                                settings.meaning_question_margin)
        if found is None or found[0].intent != QUESTION or found[0].slot_dict() == chosen.slots:
            return chosen
        meaning, score = found
        _LOGGER.debug("%r: the model prefers %s (%.2f) to %s", text, meaning, score, chosen)
        return Intent(QUESTION, meaning.slot_dict(), min(score, settings.meaning_max_score),
                      chosen.text)

    def examples(self) -> list[Example]:
        """Every sentence the templates and the FAQ phrasings spell out, with its meaning:
        what a sentence-meaning lookup compares a new sentence with."""
        commands = (
            Example(text, Meaning.of(intent, slots))
            for text, intent, slots in self.matcher.examples()
        )
        questions = (
            Example(text, Meaning.of(QUESTION, {"id": entry.id}))
            for entry, text in self.faq.spoken_questions()
        )
        return unique_examples([*commands, *questions])

    def _answers(self, answer: FaqMatch, command: Intent, question: bool) -> bool:
        """Whether the FAQ entry, rather than the command, is the decision."""
        if answer.entry is None:
            return False
        if question:
            return True
        # Statements reach the FAQ less often than chatter does: ask for more.
        if answer.score < self._settings.statement_faq_threshold:
            return False
        return command.name is None or answer.score > command.score

    def is_complete(self, text: str) -> bool:
        """Whether `text` is already a whole command, exactly as the templates say it.

        A recogniser may then decide at the first short pause instead of waiting for the
        full trailing silence. Not with carrier words around it: "can you stop" may go on
        "by the store".
        """
        intent = self.matcher.match(text)
        return intent.name is not None and intent.score >= 1.0 and not intent.carried

    def keeps_meaning(self, heard: str, phrase: str) -> bool:
        """Whether a recogniser's second look may put `phrase` (a grammar phrase, or a whole
        command among its other readings of the audio) in place of its own words `heard`.

        When the words mean nothing to the coach, any phrase may: that is what the second
        look is for, and it may also correct words that read like another command ("Quiet."
        is fuzzily "quit", and was "quieter"). But it never turns words that mean something
        into a consequence they do not suggest: a command that loses the user's place
        (commands.yaml `destructive`, or another routine) or a pain report ("How come my
        lower back pain." must not become "i popped my lower back"); and a question about
        going on despite pain keeps its red-flag answer.
        """
        said = self._heard_meaning(heard)  # by the words alone: the model costs ~50 ms
        if said.name is None:
            return True
        name, slots = self._phrase_meaning(phrase)
        red_flags = self.faq.going_on_id
        if said.name == QUESTION and said.slots.get("id") == red_flags:
            return name == QUESTION and slots.get("id") == red_flags
        if name == said.name:
            return name == QUESTION or slots == dict(said.slots)
        return name not in self._destructive and name != PAIN

    def _heard_meaning(self, heard: str) -> Intent:
        """What `heard` means by the words alone, remembered for the phrases one second look
        tries."""
        last = self._last_heard
        if last is not None and last[0] == heard:
            return last[1]
        said = self._decide(heard, with_model=False)
        self._last_heard = (heard, said)
        return said

    def _phrase_meaning(self, phrase: str) -> tuple[str | None, dict[str, str]]:
        """The intent and slots of a grammar phrase (`phrases`), known from where it came
        from where possible rather than worked out again."""
        command = self.matcher.exact(phrase)  # an exact command phrase wins (`interpret`)
        if command is not None:
            return command.name, dict(command.slots)
        if self._faq_phrasings is None:
            self._faq_phrasings = {text: entry.id for entry, text in self.faq.spoken_questions()}
        entry_id = self._faq_phrasings.get(phrase)
        if entry_id is not None:
            return QUESTION, {"id": entry_id}
        found = self._decide(phrase, with_model=False)
        return found.name, dict(found.slots)

    def phrases(self) -> list[str]:
        """The recogniser's grammar: command phrases and FAQ phrasings, no duplicates.

        The first ones are one short phrase per meaning: an open-vocabulary recogniser
        (Whisper) is primed with the head of this list.
        """
        return list(dict.fromkeys(
            [*self.leading_phrases(), *self.matcher.phrases(), *self.faq.phrases()]
        ))

    def barge_in_phrases(self) -> list[str]:
        """The few short phrases that may interrupt the coach while it speaks."""
        limit = self._settings.barge_in_words
        return [
            phrase
            for phrase in self.matcher.phrases()
            if len(phrase.split()) <= limit and self.matcher.match(phrase).name in self._barge_in
        ]

    def leading_phrases(self) -> list[str]:
        """The first (canonical) phrase of each intent, and of each routine to start."""
        leaders: list[str] = []
        for spec in self._commands.intents:
            phrases = self.matcher.phrases_of(spec.name)
            if spec.name != START_ROUTINE:
                leaders.extend(phrases[:1])
                continue
            routines: set[str] = set()
            wanted = set(self._commands.slots.get("routine", {}).values())
            for phrase in phrases:
                routine = self.matcher.match(phrase).slots.get("routine", "")
                if routine not in routines:
                    routines.add(routine)
                    leaders.append(phrase)
                if routines >= wanted:
                    break
        return leaders


def _question(answer: FaqMatch, text: str) -> Intent:
    entry_id = answer.entry.id if answer.entry is not None else ""
    return Intent(QUESTION, {"id": entry_id}, answer.score, text)
