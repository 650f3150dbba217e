"""The screen's model and the dashboard's drawing, from a real player's events on a clock the
test moves (no terminal, no server)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from rich.console import Console

from coach.content.loader import default_routine_dir, load_content
from coach.content.model import Exercise, Routine, Side
from coach.core.player import Output, Player
from coach.session.events import HeardEvent, InfoEvent, SaidEvent, event_of
from coach.session.screen.bigtext import GLYPH_ROWS, big
from coach.session.screen.dashboard import clock_text, render
from coach.session.screen.model import NOT_CAUGHT, ScreenModel, labels_of

PHRASES_PATH = Path(__file__).resolve().parent.parent / "routines" / "phrases.yaml"


@pytest.fixture(scope="module")
def phrases() -> dict[str, str]:
    with PHRASES_PATH.open(encoding="utf-8") as stream:
        return {str(k): str(v) for k, v in yaml.safe_load(stream).items()}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def routine() -> Routine:
    return Routine("mini", "Mini", (), "Short one.", "Done.", (
        Exercise("squats", 20.0, rest_after=10.0),
        Exercise("leg swings", 15.0, sides=(Side.LEFT, Side.RIGHT)),
    ))


def feed(player_out: list[Output], model: ScreenModel) -> None:
    for output in player_out:
        model(event_of(output))


def test_the_countdown_runs_from_each_state_change_and_stops_while_paused(
        phrases: dict[str, str]) -> None:
    clock = Clock()
    model = ScreenModel("typed", clock)
    player = Player({"mini": routine()}, phrases, lambda text: 0.4 * len(text.split()))
    assert model.snapshot().routine is None
    feed(player.handle("start_routine", {"routine": "mini"}, 0.0), model)
    intro = model.snapshot()
    assert (intro.state, intro.title, intro.step, intro.steps) == ("intro", "Get ready", 1, 2)
    assert intro.upcoming is not None and intro.upcoming.startswith("squats")
    # into the first exercise: its title, its dose, the next one
    end_of_intro = intro.remaining
    assert end_of_intro is not None
    clock.now = end_of_intro
    feed(player.tick(clock.now), model)
    clock.now += 5.0
    snap = model.snapshot()
    assert (snap.state, snap.title, snap.dose) == ("exercise", "squats", "20 seconds")
    assert snap.remaining == pytest.approx(15.0)
    assert snap.upcoming == "leg swings, 15 seconds each side, left side first"
    assert snap.routine_left == pytest.approx(15.0 + 10.0 + 30.0)
    # paused: the clock stands still however long the pause
    feed(player.handle("pause", {}, clock.now), model)
    clock.now += 60.0
    paused = model.snapshot()
    assert (paused.state, paused.running, paused.remaining) == ("paused", False,
                                                                pytest.approx(15.0))
    feed(player.handle("resume", {}, clock.now), model)
    clock.now += 3.0
    assert model.snapshot().remaining == pytest.approx(12.0)
    # the rest names what comes; the second side of an exercise is named by its side
    clock.now += 12.0
    feed(player.tick(clock.now), model)
    rest = model.snapshot()
    assert (rest.state, rest.title, rest.remaining) == ("rest", "Rest", pytest.approx(10.0))
    assert rest.upcoming is not None and rest.upcoming.startswith("leg swings")
    clock.now += 10.0
    feed(player.tick(clock.now), model)
    left = model.snapshot()
    assert (left.title, left.upcoming) == ("leg swings, left side", "leg swings, right side")
    clock.now += 15.0
    feed(player.tick(clock.now), model)
    assert model.snapshot().upcoming is None  # the last one
    clock.now += 15.0
    feed(player.tick(clock.now), model)
    done = model.snapshot()
    assert (done.state, done.routine, done.remaining) == ("finished", None, None)


def test_what_was_heard_said_and_noticed_is_kept() -> None:
    content, _ = load_content([default_routine_dir()])
    model = ScreenModel("whisper tiny.en", Clock(), labels_of(content.commands))
    changes: list[bool] = []
    model.subscribe(changes.append)
    model(HeardEvent(1.0, "start the core", "start_routine", {"routine": "core"}))
    assert model.snapshot().heard is not None
    heard = model.snapshot().heard
    assert heard is not None and (heard.outcome, heard.understood) == ("start the core", True)
    model(HeardEvent(1.5, "skip", "next"))
    heard = model.snapshot().heard
    assert heard is not None and heard.outcome == "next"  # no shown_as: its name
    model(HeardEvent(2.0, "banana phone", None))
    heard = model.snapshot().heard
    assert heard is not None and (heard.outcome, heard.understood) == (NOT_CAUGHT, False)
    model(SaidEvent(2.0, "Sorry, say that again?", "not_understood"))
    model(InfoEvent("Microphone lost"))
    model.level(-31.5)
    snap = model.snapshot()
    assert (snap.said, snap.notice, snap.level_db) == ("Sorry, say that again?",
                                                       "Microphone lost", -31.5)
    assert changes == [False, False, False, False, False, True]


@pytest.mark.parametrize(("seconds", "text"), [
    (0.0, "0"), (0.2, "1"), (9.0, "9"), (59.01, "1:00"), (60.0, "1:00"), (61.5, "1:02"),
    (605.0, "10:05"), (-3.0, "0"),
])
def test_clock_text_rounds_up_to_the_second(seconds: float, text: str) -> None:
    assert clock_text(seconds) == text


def test_big_digits_are_five_rows_of_blocks() -> None:
    rows = big("1:05")
    assert len(rows) == GLYPH_ROWS
    assert len({len(row) for row in rows}) == 1
    assert all(set(row) <= {"█", " "} for row in rows)


def draw(model: ScreenModel, columns: int, **kwargs: object) -> str:
    console = Console(record=True, width=columns, color_system=None)
    console.print(render(model.snapshot(), columns=columns - 6, **kwargs))  # type: ignore[arg-type]
    return console.export_text()


def test_the_dashboard_shows_the_exercise_countdown_next_and_what_was_heard(
        phrases: dict[str, str]) -> None:
    clock = Clock()
    model = ScreenModel("whisper tiny.en", clock, {"whats_next": "what's next"})
    player = Player({"mini": routine()}, phrases, lambda text: 0.4 * len(text.split()))
    feed(player.handle("start_routine", {"routine": "mini"}, 0.0), model)
    intro = model.snapshot().remaining
    assert intro is not None
    clock.now = intro
    feed(player.tick(clock.now), model)
    clock.now += 2.5
    model(HeardEvent(clock.now, "what's next", "whats_next"))
    model.level(-30.0)
    screen = draw(model, 90, url="http://127.0.0.1:8765/?token=x")
    assert "MINI" in screen and "exercise 1 of 2" in screen
    assert "SQUATS" in screen and "20 seconds" in screen
    assert big("18")[0].strip() in screen  # 17.5 s left shows 18
    assert "Next: leg swings" in screen
    assert '"what\'s next"  → what\'s next' in screen
    assert "listening" in screen and "-30 dB" in screen
    assert "token=x" in screen
    # a narrow terminal gets the count in plain digits, and still every line
    narrow = draw(model, 24)
    assert "18" in narrow and "█" not in narrow
    typed = draw(model, 90, typing="pau")
    assert "> pau" in typed and "listening" not in typed


def test_the_dashboard_when_nothing_runs() -> None:
    model = ScreenModel("typed", Clock())
    assert 'Type "start the warm-up"' in draw(model, 80, typing="")
    assert 'Say "start the warm-up"' in draw(model, 80)
