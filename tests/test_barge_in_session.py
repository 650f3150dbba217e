"""Full barge-in in the session: a request said over the coach acts and cuts its line short;
its own voice, or what the levels say is the coach alone, never acts."""

from __future__ import annotations

import pytest

from coach.core.echo import EchoFilter
from coach.session.inputs import Heard
from tests.test_app import FakeVoice, make_coach, shipped

LINE = "Keep your chest lifted and your shoulders back."


class StoppableVoice(FakeVoice):
    """Speaks until stopped; counts the stops."""

    def __init__(self) -> None:
        super().__init__()
        self.stops = 0
        self.speaking = True

    def stop(self) -> None:
        self.stops += 1
        super().stop()


def over_the_coach(heard: str, user_spoke: bool | None) -> tuple[StoppableVoice, list[dict]]:
    echo = EchoFilter(shipped()[1])
    echo.spoke(LINE, 10.0, 13.0)
    voice = StoppableVoice()
    coach, events = make_coach(voice=voice, echo=echo)
    coach.heard(Heard(heard, 11.0, 12.2, 12.6, user_spoke=user_spoke))
    return voice, [e for e in events if e["type"] == "heard"]


@pytest.mark.parametrize(("heard", "intent"), [
    ("how much time is left", "time_left"),
    ("what's next", "whats_next"),
    ("why does my lower back hurt when I squat", "question"),
    ("what can I say", "help"),
    ("keep your chest pause", "pause"),
])
def test_a_second_voice_is_understood_like_speech_in_silence(heard: str, intent: str) -> None:
    voice, events = over_the_coach(heard, user_spoke=True)
    assert events[0]["intent"] == intent and events[0]["over_coach"] is True
    assert voice.stops == 1  # the line is cut short for the request


def test_when_the_levels_cannot_tell_barge_in_commands_and_whole_sentences_act() -> None:
    voice, events = over_the_coach("what's next", user_spoke=None)  # short: may be its echo
    assert events[0]["intent"] is None and voice.stops == 0
    voice, events = over_the_coach("keep your chest pause", user_spoke=None)
    assert events[0]["intent"] == "pause" and voice.stops == 1
    # four words and more, none of them the coach's: a second voice asked
    voice, events = over_the_coach("how much time is left", user_spoke=None)
    assert events[0]["intent"] == "time_left" and voice.stops == 1


def test_the_coachs_own_words_never_act_nor_stop_it() -> None:
    for user_spoke in (True, None, False):
        voice, events = over_the_coach("keep your chest lifted", user_spoke)
        assert events[0]["intent"] is None and voice.stops == 0
    voice, events = over_the_coach("keep your chest pause", user_spoke=False)
    assert events[0]["intent"] is None and voice.stops == 0
