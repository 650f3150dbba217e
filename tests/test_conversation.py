"""The conversation rules through the Coach (typed and heard input, a fake clock): never a
silent failure for speech meant for the coach, no destructive misfire, help that fits the
moment, and the not-a-doctor line marked as given only once it was said."""

from __future__ import annotations

import json
from collections.abc import Sequence

from coach.core.echo import EchoFilter
from coach.core.intents import Intent
from coach.core.meaning import Meaning
from coach.core.understanding import Understanding
from coach.session.coach import Coach
from coach.session.inputs import Heard
from coach.session.policy import Conversation, Evidence, is_meant, weigh
from coach.settings.session import ConversationSettings
from tests.test_app import FakeVoice, make_coach, said, shipped

SAY_AGAIN = "Sorry, say that again?"
NO_ANSWER = "I don't have an answer to that."
LOUD, QUIET = 30.0, 5.0
"""Utterance levels over the room (dB): near and loud, and the room's chatter."""


def heard(text: str, at: float, level: float | None = LOUD, heard_as: str = "",
          user_spoke: bool | None = None) -> Heard:
    return Heard(text, at - 1.0, at - 0.2, at, heard_as, user_spoke, level)


def states(events: list[dict]) -> list[str]:
    return [str(e["state"]) for e in events if e["type"] == "state"]


# --- never a silent failure -------------------------------------------------------------


def test_typed_gibberish_gets_say_again_once_in_a_row() -> None:
    coach, events = make_coach()
    coach.typed("banana telephone purple", 0.0)
    coach.typed("the yellow submarine", 1.0)
    assert said(events) == [SAY_AGAIN]
    coach.typed("list the routines", 2.0)  # understood: the next failure is told again
    coach.typed("banana telephone purple", 3.0)
    assert said(events)[-1] == SAY_AGAIN and said(events).count(SAY_AGAIN) == 2


class NearestMeaning:
    """A sentence-meaning lookup that finds every sentence near one meaning (a fake of the
    model, which tests/test_meaning.py runs for real)."""

    def __init__(self, meaning: Meaning, similarity: float) -> None:
        self.ranked = [(meaning, similarity), (Meaning("pause"), 0.3)]

    def closest(self, text: str) -> list[tuple[Meaning, float]]:
        return self.ranked

    def prepare(self, texts: Sequence[str]) -> None:
        pass


def guessing_coach(meaning: Meaning, similarity: float) -> tuple[Coach, list[dict]]:
    content, _ = shipped()
    understanding = Understanding(content.commands, content.faq,
                                  meanings=NearestMeaning(meaning, similarity))
    events: list[dict] = []
    coach = Coach(content, understanding, None,
                  lambda event: events.append(json.loads(event.to_json())))
    return coach, events


def test_a_near_miss_is_asked_about_and_yes_carries_it_out() -> None:
    coach, events = guessing_coach(Meaning("next"), 0.7)
    coach.typed("start the core", 0.0)
    coach.tick(20.0)
    before = coach.player.segment
    coach.typed("this one is not for me give me something else", 20.0)
    assert said(events)[-1] == "Did you mean: skip to the next exercise?"
    assert coach.player.segment is before  # asked, not acted on
    coach.typed("yes", 22.0)
    assert coach.player.segment is not before


def test_a_request_framed_as_a_question_is_asked_about_not_refused() -> None:
    coach, events = guessing_coach(Meaning("previous"), 0.74)
    coach.typed("can we head back to the earlier one", 0.0)
    assert said(events) == ["Did you mean: go back to the previous exercise?"]
    coach.typed("what is the capital of france", 1.0)  # a question is still a question
    assert said(events)[-1].startswith(NO_ANSWER)


def test_no_to_a_guess_changes_nothing_and_says_how_to_go_on() -> None:
    coach, events = guessing_coach(Meaning.of("start_routine", {"routine": "squat"}), 0.7)
    coach.typed("i fancy some squatting today", 0.0)
    assert said(events)[-1] == "Did you mean: start the neutral-spine squat?"
    coach.typed("no", 1.0)
    assert said(events)[-1].startswith("Okay. Say it another way")
    assert states(events) == []


def test_far_from_every_command_is_still_say_again() -> None:
    coach, events = guessing_coach(Meaning("next"), 0.4)
    coach.typed("this one is not for me give me something else", 0.0)
    assert said(events) == [SAY_AGAIN]


def test_the_rooms_chatter_is_never_asked_about() -> None:
    coach, events = guessing_coach(Meaning("next"), 0.7)
    coach.heard(heard("this one is not for me give me something else", 1.0, level=QUIET))
    assert said(events) == []


def test_an_out_of_scope_question_gets_the_polite_no_answer() -> None:
    coach, events = make_coach()
    coach.typed("what is the capital of france", 0.0)
    coach.typed("what is the capital of spain", 1.0)  # each question gets its answer
    assert [line[:len(NO_ANSWER)] for line in said(events)] == [NO_ANSWER, NO_ANSWER]


def test_hands_free_near_and_loud_gets_say_again_the_room_does_not() -> None:
    coach, events = make_coach()
    coach.heard(heard("banana telephone purple", 1.0, level=QUIET))  # chatter, music
    coach.heard(heard("banana telephone purple", 2.0, level=None))  # level unknown
    assert said(events) == []
    coach.heard(heard("banana telephone purple", 3.0, level=LOUD))
    assert said(events) == [SAY_AGAIN]
    heard_events = [e for e in events if e["type"] == "heard"]
    assert heard_events[-1]["level_db"] == LOUD  # the level is in the JSON line


def test_over_the_coachs_voice_only_the_cancellers_levels_make_it_meant() -> None:
    _content, understanding = shipped()
    echo = EchoFilter(understanding)
    coach, events = make_coach(echo=echo)
    echo.spoke("Rest 20 seconds. Next up: dead bug.", 0.0, 5.0)
    coach.heard(heard("banana telephone purple", 2.0))  # loud, but over its own voice
    assert said(events) == []
    coach.heard(heard("next up", 2.5, user_spoke=True))  # the coach's own words
    assert said(events) == []
    coach.heard(heard("banana telephone purple", 3.0, user_spoke=True))
    assert said(events) == [SAY_AGAIN]


def test_the_coachs_own_line_with_a_word_misheard_gets_no_say_again() -> None:
    """Soak: the coach's "Next up: side plank, right side." came back as "Next up. Nice side,
    right side." with the levels saying a second voice, and it asked itself to say it again."""
    _content, understanding = shipped()
    echo = EchoFilter(understanding)
    coach, events = make_coach(echo=echo)
    echo.spoke("Next up: side plank, right side.", 0.0, 2.5)
    coach.heard(heard("Next up. Nice side, right side.", 2.4, user_spoke=True))
    assert said(events) == []
    coach.heard(heard("banana side purple telephone", 2.5, user_spoke=True))  # mostly not
    assert said(events) == [SAY_AGAIN]


def test_after_the_wake_word_even_a_quiet_request_is_meant() -> None:
    coach, events = make_coach(wake_word="coach")
    coach.heard(heard("banana telephone purple", 1.0, level=QUIET))  # no wake word: ignored
    assert [e for e in events if e["type"] == "heard"] == []
    coach.heard(heard("coach banana telephone purple", 2.0, level=QUIET))
    assert said(events) == [SAY_AGAIN]


def test_is_meant_rules() -> None:
    knobs = ConversationSettings(meant_level_db=15.0)

    def meant(**kwargs: object) -> bool:
        args: dict[str, object] = {"woken": False, "waiting": False, "level_db": None,
                                   "over_coach": False, "user_spoke": None}
        return is_meant(**{**args, **kwargs}, knobs=knobs)  # type: ignore[arg-type]

    assert meant(level_db=15.0) and not meant(level_db=14.9) and not meant()
    assert meant(woken=True) and meant(waiting=True)
    assert not meant(woken=True, over_coach=True)
    assert meant(woken=True, over_coach=True, user_spoke=True)
    assert not meant(level_db=40.0, over_coach=True, user_spoke=False)
    # every word heard was the coach's own: nothing of the user's to misunderstand
    assert not meant(level_db=40.0, over_coach=True, user_spoke=True, coach_words_only=True)


# --- no destructive misfire -------------------------------------------------------------


def test_a_surely_heard_stop_acts_at_once() -> None:
    coach, events = make_coach()
    coach.typed("start the core", 0.0)
    coach.heard(heard("stop the workout", 20.0))
    assert states(events)[-1] == "idle"


def test_a_stop_only_the_second_look_heard_asks_first_and_yes_stops() -> None:
    coach, events = make_coach()
    coach.typed("start the core", 0.0)
    # the recogniser's own words meant nothing; a look-alike phrase was put in their place
    coach.heard(heard("stop the workout", 20.0, heard_as="stopped a work clap"))
    assert said(events)[-1] == "Stop the workout?"
    assert states(events)[-1] != "idle"
    coach.tick(22.0)  # the clock keeps running while it waits
    assert coach.player.state.value in ("intro", "exercise", "rest")
    coach.heard(heard("yeah", 23.0, level=QUIET))  # waiting for an answer: meant
    assert states(events)[-1] == "idle"


def test_a_stop_heard_at_the_rooms_level_asks_first() -> None:
    # the room's chatter holds "that's it" and "let's do the warm up" too: at the level of
    # the room's own voices a command that loses the user's place may be someone else's
    coach, events = make_coach()
    coach.typed("start the core", 0.0)
    coach.heard(heard("that's it", 20.0, level=QUIET))
    assert said(events)[-1] == "Stop the workout?"
    assert states(events)[-1] != "idle"
    coach.heard(heard("let's do the warm up", 30.0, level=QUIET))
    assert said(events)[-1] == "Start the dynamic warm-up instead?"
    assert coach.player.routine is not None and coach.player.routine.id == "core"
    coach.heard(heard("yes", 31.0, level=QUIET))  # the user answers: now it acts
    assert coach.player.routine is not None and coach.player.routine.id == "warm-up"
    # near and loud, or after the wake word, it acts at once
    coach.heard(heard("stop the workout", 40.0, level=LOUD))
    assert states(events)[-1] == "idle"


def test_a_stop_over_the_coachs_voice_stops_the_line_and_asks_first() -> None:
    """Soak: the coach's own "10 seconds." came back as "That's it." while the canceller's
    levels wrongly showed a second voice, and it stopped the workout."""
    _content, understanding = shipped()
    echo = EchoFilter(understanding)
    voice = FakeVoice()
    coach, events = make_coach(voice, echo=echo)
    coach.typed("start the core", 0.0)
    echo.spoke("Keep your head and shoulders relaxed on the floor.", 19.0, 22.0)
    voice.speaking = True
    coach.heard(heard("that's it", 21.0, user_spoke=True))
    assert not voice.speaking  # the line was cut off at once
    assert said(events)[-1] == "Stop the workout?"
    assert "idle" not in states(events)
    coach.heard(heard("yes", 24.0))
    assert states(events)[-1] == "idle"


def test_no_keeps_the_workout_and_says_so() -> None:
    coach, events = make_coach()
    coach.typed("start the core", 0.0)
    coach.typed("sop", 20.0)  # a typo that only looks like stop
    assert said(events)[-1] == "Stop the workout?"
    coach.typed("no", 21.0)
    assert said(events)[-1] == "Okay, carrying on."
    coach.typed("yes", 22.0)  # nothing is waiting any more
    assert "idle" not in states(events)


def test_the_question_expires() -> None:
    coach, events = make_coach(talk=ConversationSettings(confirm_timeout_s=6.0))
    coach.typed("start the core", 0.0)
    coach.typed("sop", 20.0)
    coach.typed("yes", 26.5)
    assert "idle" not in states(events)


def test_saying_it_again_is_as_good_as_yes() -> None:
    coach, events = make_coach()
    coach.typed("start the core", 0.0)
    coach.typed("sop", 20.0)
    coach.typed("sop", 21.0)
    assert states(events)[-1] == "idle"


def test_another_request_instead_of_an_answer_is_carried_out() -> None:
    coach, events = make_coach()
    coach.typed("start the core", 0.0)
    coach.typed("sop", 20.0)
    coach.typed("pause", 21.0)
    coach.typed("yes", 22.0)  # the question was dropped for the pause
    assert states(events)[-1] == "paused"


def test_the_second_look_never_turns_other_words_into_a_destructive_command() -> None:
    coach, events = make_coach()
    coach.typed("start the core", 0.0)
    coach.heard(heard("stop the workout", 20.0, heard_as="next one"))
    assert "idle" not in states(events)
    assert said(events)[-1] == SAY_AGAIN  # meant for the coach, not understood: say again


def test_starting_another_routine_on_weak_evidence_asks() -> None:
    coach, events = make_coach()
    coach.typed("start the core", 0.0)
    coach.heard(heard("start the cool down", 20.0, heard_as="star the cool town"))
    assert said(events)[-1].startswith("Start the cool-down")
    coach.typed("yes", 21.0)
    assert [e["routine"] for e in events if e["type"] == "state"][-1] == "cool-down"


def test_destructive_commands_with_nothing_running_need_no_question() -> None:
    coach, events = make_coach()
    coach.heard(heard("start the core", 1.0, heard_as="star the core"))
    assert states(events)[0] == "intro"  # nothing was under way: nothing to lose


def test_with_a_wake_word_the_answer_needs_none() -> None:
    coach, events = make_coach(wake_word="coach")
    coach.typed("start the core", 0.0)
    coach.heard(heard("coach stop the workout", 20.0, heard_as="coach stopped a work clap"))
    assert said(events)[-1] == "Stop the workout?"
    coach.heard(heard("yes", 21.0, level=QUIET))
    assert states(events)[-1] == "idle"


def test_weigh() -> None:
    stop = Intent("stop", {}, 1.0)
    assert weigh(stop, stop, 0.9) is Evidence.STRONG
    assert weigh(stop, Intent("stop", {}, 0.85), 0.9) is Evidence.WEAK
    assert weigh(stop, Intent(None, {}, 0.5), 0.9) is Evidence.WEAK
    assert weigh(stop, Intent("next", {}, 1.0), 0.9) is Evidence.CONFLICT
    core = Intent("start_routine", {"routine": "core"}, 1.0)
    assert weigh(core, Intent("start_routine", {"routine": "squat"}, 1.0), 0.9) is Evidence.WEAK


def test_say_again_not_twice_in_a_row_and_reset_by_understanding() -> None:
    talk = Conversation()
    assert talk.may_say_again() and not talk.may_say_again()
    talk.understood()
    assert talk.may_say_again()


# --- help that fits the moment ----------------------------------------------------------


def test_help_fits_the_moment() -> None:
    coach, events = make_coach()
    coach.typed("what can i say", 0.0)
    coach.typed("start the core", 1.0)
    coach.typed("help", 20.0)
    coach.typed("pause", 21.0)
    coach.typed("help", 22.0)
    helps = [line for line in said(events) if line.startswith("You can say:")]
    assert helps[0].startswith("You can say: start the warm-up") and "I have" in helps[0]
    assert helps[1].startswith("You can say: pause, skip")
    assert helps[2].startswith("You can say: resume")


# --- the not-a-doctor line ----------------------------------------------------------------


def test_disclaimer_is_marked_when_said_before_the_first_answer() -> None:
    marked: list[float] = []
    coach, events = make_coach(disclaimer=True, disclaimer_said=lambda: marked.append(1.0))
    coach.typed("help", 0.0)
    assert marked == []  # not said yet: not marked
    coach.typed("why does my lower back hurt when i squat", 1.0)
    coach.typed("start the core", 5.0)
    kinds = [e["kind"] for e in events if e["type"] == "said"]
    assert kinds[:3] == ["reply", "disclaimer", "answer"] and kinds.count("disclaimer") == 1
    assert marked == [1.0]


def test_disclaimer_is_said_over_a_speaking_voice() -> None:
    voice = FakeVoice()
    voice.speaking = True
    coach, _events = make_coach(voice, disclaimer=True)
    coach.typed("start the core", 0.0)
    assert voice.said[0][0].startswith("I'm a coach, not a doctor")


def test_over_the_coachs_voice_an_answer_counts_only_while_a_question_waits() -> None:
    _content, understanding = shipped()
    echo = EchoFilter(understanding)
    coach, events = make_coach(echo=echo)
    coach.typed("start the core", 0.0)
    echo.spoke("Keep your ribs down and breathe out.", 19.0, 22.0)
    coach.heard(heard("do it", 20.0, user_spoke=True))  # nothing asked: the coach's own
    answered = [e for e in events if e["type"] == "heard"][-1]
    assert answered["intent"] is None and said(events)[-1] not in (SAY_AGAIN, NO_ANSWER)
    coach.heard(heard("stop the workout", 30.0, heard_as="stopped a work clap"))
    assert said(events)[-1] == "Stop the workout?"
    echo.spoke("Keep your ribs down and breathe out.", 30.5, 33.5)
    coach.heard(heard("yes", 32.0, user_spoke=True))  # asked: the answer stands
    assert states(events)[-1] == "idle"


def test_a_phrase_standing_in_for_words_over_the_coach_needs_a_yes_to_lose_the_place() -> None:
    """The levels showed a second voice; the recogniser's own words meant nothing and the
    second look put a routine's start in their place: that is weak evidence, so it asks."""
    _content, understanding = shipped()
    echo = EchoFilter(understanding)
    coach, events = make_coach(echo=echo)
    coach.typed("start the core", 0.0)
    echo.spoke("Keep your ribs down and breathe out.", 19.0, 22.0)
    coach.heard(heard("i'd like to do stretching", 20.0,
                      heard_as="don't let it go down so let it go", user_spoke=True))
    assert said(events)[-1] == "Start the cool-down stretches instead?"
    assert coach.player.routine is not None and coach.player.routine.id == "core"


def test_a_routine_start_over_the_closing_line_starts_it() -> None:
    _content, understanding = shipped()
    echo = EchoFilter(understanding)
    coach, events = make_coach(echo=echo)
    echo.spoke("Core done. Great work.", 0.0, 3.0)
    coach.heard(heard("Start the squat.", 2.5))  # the levels cannot tell: user_spoke None
    assert states(events)[:1] == ["intro"]
    started = next(e for e in events if e["type"] == "heard")
    assert started["intent"] == "start_routine" and started["over_coach"] is True
    # once it runs, the same words over its voice are not enough to switch routine
    echo.spoke("Squats. Feet shoulder width apart.", 3.0, 6.0)
    coach.heard(heard("Start the core.", 5.5))
    assert states(events)[:1] == ["intro"] and len(states(events)) == 1
