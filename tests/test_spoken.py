"""How durations and lists are said, and how long speech is estimated to take."""

from __future__ import annotations

from itertools import pairwise

import pytest

from coach.core.spoken import estimate_seconds, join_words, say_about, say_seconds
from coach.settings.text import SpeechTimingSettings

DEFAULT_WPM = SpeechTimingSettings().words_per_minute


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0.0, "0 seconds"),
        (-3.0, "0 seconds"),
        (1.0, "1 second"),
        (0.2, "1 second"),  # a part second left is still a second to go
        (31.2, "32 seconds"),
        (30.0000001, "30 seconds"),  # float noise does not add a second
        (45.0, "45 seconds"),
        (59.5, "1 minute"),
        (60.0, "1 minute"),
        (61.0, "1 minute 1 second"),
        (90.0, "1 minute 30 seconds"),
        (120.0, "2 minutes"),
        (150.0, "2 minutes 30 seconds"),
        (3599.0, "59 minutes 59 seconds"),
    ],
)
def test_say_seconds(seconds: float, expected: str) -> None:
    assert say_seconds(seconds) == expected


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0.0, "under a minute"),
        (59.9, "under a minute"),
        (60.0, "about 1 minute"),
        (89.0, "about 1 minute"),
        (91.0, "about 2 minutes"),
        (212.0, "about 4 minutes"),
        (360.0, "about 6 minutes"),
    ],
)
def test_say_about(seconds: float, expected: str) -> None:
    assert say_about(seconds) == expected


@pytest.mark.parametrize(
    ("items", "conjunction", "expected"),
    [
        ([], "and", ""),
        (["warm-up"], "and", "warm-up"),
        (["warm-up", "core"], "and", "warm-up and core"),
        (["warm-up", "core", "cool-down"], "and", "warm-up, core and cool-down"),
        (["left", "right"], "or", "left or right"),
    ],
)
def test_join_words(items: list[str], conjunction: str, expected: str) -> None:
    assert join_words(items, conjunction) == expected


@pytest.mark.parametrize("text", ["", "   ", "...", "?!"])
def test_nothing_to_say_takes_no_time(text: str) -> None:
    assert estimate_seconds(text) == 0.0


def test_estimate_counts_words_at_the_voice_rate() -> None:
    # 3 words at 165 wpm, no inner pause, plus the fixed 0.25 s start-up.
    assert estimate_seconds("three short words.") == round(3 * 60 / DEFAULT_WPM + 0.25, 2)
    assert estimate_seconds("3") == round(60 / DEFAULT_WPM + 0.25, 2)


def test_estimate_adds_inner_pauses_not_the_final_stop() -> None:
    plain = estimate_seconds("rest now then go")
    assert estimate_seconds("rest now then go.") == plain
    assert estimate_seconds("rest, now. then go") == pytest.approx(plain + 0.3)


def test_estimate_slower_voice_takes_longer() -> None:
    text = "Keep your chest lifted and your shoulders back."
    slower, faster = (SpeechTimingSettings(words_per_minute=wpm) for wpm in (120, 220))
    assert estimate_seconds(text, slower) > estimate_seconds(text) > estimate_seconds(text, faster)


def test_estimate_grows_with_every_word() -> None:
    words = ["push", "through", "your", "heels", "and", "squeeze", "your", "glutes", "at", "top"]
    lengths = [estimate_seconds(" ".join(words[:n])) for n in range(1, len(words) + 1)]
    assert all(a < b for a, b in pairwise(lengths))


def test_estimate_counts_numbers_and_contractions_as_words() -> None:
    assert estimate_seconds("don't stop at 10") == estimate_seconds("do not stop now")
