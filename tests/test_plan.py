"""Routine -> timed segments and lines: structure, the clock lines, and lines that never overlap."""

from __future__ import annotations

import math
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path

import pytest
import yaml
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from coach.content.model import Cue, Exercise, IntentName, Routine, Side
from coach.core.plan import (
    GUESS_PHRASE_PREFIX,
    REQUIRED_PHRASES,
    Line,
    Priority,
    Segment,
    SegmentKind,
    clock_phrases,
    describe_next,
    dose,
    plan_routine,
)
from coach.core.spoken import estimate_seconds
from coach.settings.session import PlanSettings

PHRASES_PATH = Path(__file__).resolve().parents[1] / "routines" / "phrases.yaml"

Speech = Callable[[str], float]
CLOCK_KINDS = ("count", "rep")
MILLISECOND = 0.001
GAP = PlanSettings().gap_s
CUE_SLACK = PlanSettings().cue_slack_s
COUNTDOWN_FROM = PlanSettings().countdown_from
"""Offsets are stored to the millisecond, rounded up."""


def speech_seconds(text: str) -> float:
    """Deterministic speech length: 0.4 s per word."""
    return 0.4 * len(text.split())


@pytest.fixture(scope="module")
def phrases() -> dict[str, str]:
    with PHRASES_PATH.open(encoding="utf-8") as stream:
        data = yaml.safe_load(stream)
    return {str(key): str(value) for key, value in data.items()}


def routine_of(*exercises: Exercise) -> Routine:
    return Routine("r", "Test", (), "Go steady.", "Done.", exercises)


def exercise_segments(segments: tuple[Segment, ...]) -> list[Segment]:
    return [s for s in segments if s.kind is SegmentKind.EXERCISE]


def texts(segment: Segment, kind: str) -> list[tuple[float, str]]:
    """(offset, text) of the lines of one kind; offsets to the millisecond, as they are placed."""
    return [(round(line.offset, 3), line.text) for line in segment.lines if line.kind == kind]


# --- structure ------------------------------------------------------------------------


def test_phrases_file_has_exactly_the_required_phrases(phrases: dict[str, str]) -> None:
    guesses = {key for key in phrases if key.startswith(GUESS_PHRASE_PREFIX)}
    assert set(REQUIRED_PHRASES) == set(phrases) - guesses
    assert len(REQUIRED_PHRASES) == len(set(REQUIRED_PHRASES))
    # a guess line for every command a yes can carry out, and the answer to a no
    named = {key.removeprefix(GUESS_PHRASE_PREFIX) for key in guesses}
    commands = {name.value for name in IntentName} - {"yes", "no", "pain", "question"}
    assert named == commands | {"no"}


def test_required_phrases_follow_the_player() -> None:
    # Said by the app around the player: volume, speed and follow-up questions.
    assert {"louder", "quieter", "speed_fixed", "more_hint"} <= set(REQUIRED_PHRASES)
    # next / previous / repeat say the start line of where they land, nothing of their own.
    assert not {"skipping_to", "going_back", "repeating"} & set(REQUIRED_PHRASES)


def test_segments_follow_the_routine(phrases: dict[str, str]) -> None:
    routine = routine_of(
        Exercise("squats", 20.0, rest_after=10.0),
        Exercise("leg swings", 15.0, sides=(Side.RIGHT, Side.LEFT), rest_after=0.0),
        Exercise("bridges", 24.0, reps=8, tempo=3.0, rest_after=30.0),
    )
    segments = plan_routine(routine, phrases, speech_seconds)
    assert [(s.kind, s.seconds, s.step, s.side) for s in segments[1:]] == [
        (SegmentKind.EXERCISE, 20.0, 1, None),
        (SegmentKind.REST, 10.0, 2, None),
        (SegmentKind.EXERCISE, 15.0, 2, Side.RIGHT),
        (SegmentKind.EXERCISE, 15.0, 2, Side.LEFT),
        (SegmentKind.EXERCISE, 24.0, 3, None),
    ]
    assert sum(s.seconds for s in segments[1:]) == routine.total_seconds


def test_intro_is_whole_seconds_with_a_second_to_spare(phrases: dict[str, str]) -> None:
    routine = routine_of(Exercise("squats", 20.0))
    intro = plan_routine(routine, phrases, speech_seconds)[0]
    (line,) = intro.lines
    assert intro.kind is SegmentKind.INTRO
    expected = "Test: 1 exercise, under a minute. Go steady. First up: squats, 20 seconds."
    assert line.text == expected
    assert intro.seconds == math.ceil(speech_seconds(line.text) + 1.0) == 7.0


def test_intro_says_the_first_set_up_line_after_its_text(phrases: dict[str, str]) -> None:
    routine = routine_of(Exercise("squats", 20.0, how="Feet wide, toes out."))
    intro, squats = plan_routine(routine, phrases, speech_seconds)
    text = "Test: 1 exercise, under a minute. Go steady. First up: squats, 20 seconds."
    # The text is 13 words (0 - 5.2 s), the set-up line 4 words (5.5 - 7.1 s).
    assert [(line.text, line.kind, line.priority) for line in intro.lines] == [
        (text, "intro", Priority.TRANSITION),
        ("Feet wide, toes out.", "how", Priority.TRANSITION),
    ]
    assert texts(intro, "intro") == [(0.0, text)]
    assert texts(intro, "how") == [(5.5, "Feet wide, toes out.")]
    assert intro.seconds == math.ceil(5.2 + GAP + 1.6 + 1.0) == 9.0
    assert texts(squats, "how") == []


def test_intro_length_counts_the_set_up_line(phrases: dict[str, str]) -> None:
    bare = plan_routine(routine_of(Exercise("squats", 20.0)), phrases, speech_seconds)[0]
    # 13 words: 5.2 s.
    long_how = "Stand with your feet a little wider than your hips, toes turned out."
    routine = routine_of(Exercise("squats", 20.0, how=long_how))
    intro = plan_routine(routine, phrases, speech_seconds)[0]
    assert bare.seconds == 7.0  # ceil(5.2 + 1)
    assert intro.seconds == math.ceil(5.2 + GAP + 5.2 + 1.0) == 12.0


def test_lines_are_sorted_by_offset(phrases: dict[str, str]) -> None:
    exercise = Exercise(
        "squats", 40.0, how="Feet wide.", cues=(Cue("Late cue.", at=30.0), Cue("Free cue."))
    )
    for segment in plan_routine(routine_of(exercise), phrases, speech_seconds):
        offsets = [line.offset for line in segment.lines]
        assert offsets == sorted(offsets)


# --- what is said ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exercise", "expected_dose", "expected_preview"),
    [
        (Exercise("squats", 45.0), "45 seconds", "squats, 45 seconds"),
        (Exercise("plank", 90.0), "1 minute 30 seconds", "plank, 1 minute 30 seconds"),
        (
            Exercise("leg swings", 30.0, sides=(Side.LEFT, Side.RIGHT)),
            "30 seconds each side",
            "leg swings, 30 seconds each side, left side first",
        ),
        (Exercise("bridges", 24.0, reps=8, tempo=3.0), "8 reps", "bridges, 8 reps"),
        (
            Exercise("lunges", 24.0, reps=6, tempo=4.0, sides=(Side.RIGHT, Side.LEFT)),
            "6 reps each side",
            "lunges, 6 reps each side, right side first",
        ),
    ],
)
def test_dose_and_preview(
    exercise: Exercise, expected_dose: str, expected_preview: str, phrases: dict[str, str]
) -> None:
    assert dose(phrases, exercise) == expected_dose
    assert describe_next(phrases, exercise) == expected_preview


def test_start_lines_name_the_exercise_side_and_dose(phrases: dict[str, str]) -> None:
    routine = routine_of(
        Exercise("squats", 20.0),
        Exercise("leg swings", 15.0, sides=(Side.LEFT, Side.RIGHT)),
        Exercise("plank", 90.0),
        Exercise("bridges", 24.0, reps=8, tempo=3.0),
        Exercise("lunges", 24.0, reps=6, tempo=4.0, sides=(Side.RIGHT, Side.LEFT)),
    )
    starts = [
        (line.offset, line.text, line.priority)
        for segment in exercise_segments(plan_routine(routine, phrases))
        for line in segment.lines
        if line.kind == "start"
    ]
    # The dose is this side's: "15 seconds", never "15 seconds each side".
    assert starts == [
        (0.0, "Go! Squats, 20 seconds.", Priority.TRANSITION),
        (0.0, "Go! Leg swings, left side, 15 seconds.", Priority.TRANSITION),
        (0.0, "Switch sides: right side. Go!", Priority.TRANSITION),
        (0.0, "Go! Plank, 1 minute 30 seconds.", Priority.TRANSITION),
        (0.0, "Go! Bridges, 8 reps.", Priority.TRANSITION),
        (0.0, "Go! Lunges, right side, 6 reps.", Priority.TRANSITION),
        (0.0, "Switch sides: left side. Go!", Priority.TRANSITION),
    ]


def test_how_without_a_rest_is_said_once_right_after_the_start(phrases: dict[str, str]) -> None:
    routine = routine_of(
        Exercise("squats", 20.0, rest_after=0.0),
        Exercise("leg swings", 20.0, sides=(Side.LEFT, Side.RIGHT), how="Hold the wall."),
    )
    _, left, right = exercise_segments(plan_routine(routine, phrases, speech_seconds))
    # "Go! Leg swings, left side, 20 seconds." is 7 words: 0 - 2.8 s, then the gap.
    assert texts(left, "how") == [(3.1, "Hold the wall.")]
    assert [line.priority for line in left.lines if line.kind == "how"] == [Priority.TRANSITION]
    assert texts(right, "how") == []


def test_how_after_a_rest_with_room_is_said_in_the_rest(phrases: dict[str, str]) -> None:
    routine = routine_of(
        Exercise("squats", 20.0, rest_after=15.0),
        Exercise("lunges", 20.0, how="Step long, torso upright."),
    )
    segments = plan_routine(routine, phrases, speech_seconds)
    rest, lunges = segments[2], segments[3]
    preview = "Rest 15 seconds. Next up: lunges, 20 seconds."  # 8 words: 3.2 s
    assert [(round(line.offset, 3), line.text, line.kind) for line in rest.lines] == [
        (0.0, preview, "rest"),
        (3.5, "Step long, torso upright.", "how"),
        (12.0, "3", "count"),
        (13.0, "2", "count"),
        (14.0, "1", "count"),
    ]
    assert texts(lunges, "how") == []


@pytest.mark.parametrize(
    ("rest_seconds", "in_rest"),
    [
        # The preview ends at 3.2 s; the 4-word set-up line runs 3.5 - 5.1 s and must end by
        # the rest's length less the countdown and a gap: 8.4 s leaves 5.1 s.
        (9.0, True),
        (8.0, False),
        (6.0, False),  # no room for the countdown either: the last 3.3 s stay clear
        (5.5, True),  # no countdown at all: free up to the rest's end
        (5.0, False),  # ... but it must end inside the rest
    ],
)
def test_how_goes_in_the_rest_only_when_it_ends_before_the_countdown(
    rest_seconds: float, in_rest: bool, phrases: dict[str, str]
) -> None:
    how = "Step long, torso upright."
    routine = routine_of(
        Exercise("squats", 20.0, rest_after=rest_seconds), Exercise("lunges", 20.0, how=how)
    )
    segments = plan_routine(routine, phrases, speech_seconds)
    rest, lunges = segments[2], segments[3]
    in_exercise = [(1.9, how)]  # after "Go! Lunges, 20 seconds.": 0 - 1.6 s and the gap
    assert texts(rest, "how") == ([(3.5, how)] if in_rest else [])
    assert texts(lunges, "how") == ([] if in_rest else in_exercise)


@pytest.mark.parametrize("seconds", [6.0, 7.0, 10.0, 24.0, 25.0, 29.0, 30.0, 45.0, 120.0])
def test_timed_exercise_clock_lines(seconds: float, phrases: dict[str, str]) -> None:
    (segment,) = exercise_segments(
        plan_routine(routine_of(Exercise("squats", seconds)), phrases, speech_seconds)
    )
    assert texts(segment, "count") == [(seconds - 3, "3"), (seconds - 2, "2"), (seconds - 1, "1")]
    assert all(
        line.priority is Priority.COUNTDOWN for line in segment.lines if line.kind == "count"
    )
    assert texts(segment, "ten") == ([(seconds - 10, "10 seconds.")] if seconds >= 25 else [])
    assert texts(segment, "halfway") == ([(seconds / 2, "Halfway.")] if seconds >= 30 else [])


@pytest.mark.parametrize("seconds", [1.0, 3.0, 5.0, 5.9])
def test_too_short_for_a_countdown(seconds: float, phrases: dict[str, str]) -> None:
    (segment,) = exercise_segments(
        plan_routine(routine_of(Exercise("jumps", seconds)), phrases, speech_seconds)
    )
    assert [line.kind for line in segment.lines] == ["start"]


def test_counted_exercise_counts_reps_not_seconds(phrases: dict[str, str]) -> None:
    exercise = Exercise("bridges", 20.0, reps=5, tempo=4.0)
    (segment,) = exercise_segments(plan_routine(routine_of(exercise), phrases, speech_seconds))
    assert texts(segment, "rep") == [(4.0, "2"), (8.0, "3"), (12.0, "4"), (16.0, "Last one.")]
    assert texts(segment, "count") == texts(segment, "halfway") == texts(segment, "ten") == []


def test_rest_previews_the_next_exercise_and_counts_down(phrases: dict[str, str]) -> None:
    routine = routine_of(
        Exercise("squats", 20.0, rest_after=15.0),
        Exercise("leg swings", 30.0, sides=(Side.LEFT, Side.RIGHT)),
    )
    rest = plan_routine(routine, phrases, speech_seconds)[2]
    assert rest.kind is SegmentKind.REST
    assert [(line.offset, line.text, line.kind) for line in rest.lines] == [
        (
            0.0,
            "Rest 15 seconds. Next up: leg swings, 30 seconds each side, left side first.",
            "rest",
        ),
        (12.0, "3", "count"),
        (13.0, "2", "count"),
        (14.0, "1", "count"),
    ]


def test_short_rest_keeps_the_preview_and_drops_the_whole_countdown(
    phrases: dict[str, str],
) -> None:
    routine = routine_of(Exercise("squats", 20.0, rest_after=6.0), Exercise("lunges", 20.0))
    rest = plan_routine(routine, phrases, speech_seconds)[2]
    # The preview runs 0 - 3.2 s: no room for "3" at 3.0, so no "2" or "1" either.
    assert [line.kind for line in rest.lines] == ["rest"]


def test_no_rest_after_the_last_exercise(phrases: dict[str, str]) -> None:
    routine = routine_of(Exercise("squats", 20.0, rest_after=30.0))
    assert [s.kind for s in plan_routine(routine, phrases)] == [
        SegmentKind.INTRO,
        SegmentKind.EXERCISE,
    ]


# --- cues -----------------------------------------------------------------------------


def test_fixed_cue_slides_past_the_start_line(phrases: dict[str, str]) -> None:
    exercise = Exercise("leg swings", 12.0, sides=(Side.LEFT,), cues=(Cue("Stand tall.", at=2.0),))
    (segment,) = exercise_segments(plan_routine(routine_of(exercise), phrases, speech_seconds))
    # "Go! Leg swings, left side, 12 seconds." ends at 2.8: the first free moment is 2.8 + GAP.
    assert texts(segment, "cue") == [(3.1, "Stand tall.")]


def test_cue_fits_a_gap_between_rep_counts_narrower_than_the_grid(
    phrases: dict[str, str],
) -> None:
    cue = Cue("Push your hips back, not your knees.", at=4.1)  # 7 words: 2.8 s
    exercise = Exercise("hip hinge", 16.0, reps=4, tempo=4.0, cues=(cue,))
    (segment,) = exercise_segments(plan_routine(routine_of(exercise), phrases, speech_seconds))
    # "2" is said 4.0 - 4.4; "3" at 8.0. Only offsets 4.7 - 4.9 fit, between grid steps.
    assert texts(segment, "cue") == [(4.7, cue.text)]


def test_fixed_cue_that_cannot_fit_is_dropped_not_squeezed(phrases: dict[str, str]) -> None:
    cue = Cue("Keep your chest up and your back flat.", at=4.0)  # 3.2 s
    exercise = Exercise("squats", 10.0, cues=(cue,))
    (segment,) = exercise_segments(plan_routine(routine_of(exercise), phrases, speech_seconds))
    assert texts(segment, "cue") == []
    assert [line.kind for line in segment.lines] == ["start", "count", "count", "count"]


def test_free_cues_spread_over_the_gaps(phrases: dict[str, str]) -> None:
    cues = (Cue("One."), Cue("Two."), Cue("Three."))
    exercise = Exercise("squats", 60.0, cues=cues)
    (segment,) = exercise_segments(plan_routine(routine_of(exercise), phrases, speech_seconds))
    placed = texts(segment, "cue")
    assert [text for _, text in placed] == ["One.", "Two.", "Three."]
    gaps = [b - a for (a, _), (b, _) in pairwise(placed)]
    assert min(gaps) > 10.0  # spread out, not bunched after the start


# --- random routines ------------------------------------------------------------------

NAMES = ("squats", "leg swings", "hip circles", "single leg bridge", "bodyweight good mornings")
CUE_TEXTS = (
    "Breathe.",
    "Keep your chest lifted.",
    "Push through your heels and keep your knees soft.",
    "Don't let your lower back arch as your leg lifts.",
)
SHORT_CUES = ("Breathe.", "Chest up.", "Knees soft.", "Heels down.", "Keep breathing steadily.")
HOWS = ("", "Feet hip-width apart.", "Lie on your back, knees bent, feet flat and hip-width apart.")


@st.composite
def exercises(draw: st.DrawFn, min_seconds: int = 6, free_cues_only: bool = False) -> Exercise:
    counted = not free_cues_only and draw(st.booleans())
    reps = draw(st.integers(2, 15)) if counted else None
    tempo = draw(st.sampled_from((3.0, 4.0, 5.0, 6.0))) if counted else None
    seconds = reps * tempo if reps and tempo else float(draw(st.integers(min_seconds, 120)))
    if free_cues_only:
        cue_list = [
            Cue(t) for t in draw(st.lists(st.sampled_from(SHORT_CUES), min_size=1, max_size=3))
        ]
    else:
        cue_list = [
            Cue(text, at=draw(st.none() | st.floats(0.0, seconds)))
            for text in draw(st.lists(st.sampled_from(CUE_TEXTS), max_size=5))
        ]
    return Exercise(
        draw(st.sampled_from(NAMES)),
        seconds=seconds,
        reps=reps,
        tempo=tempo,
        sides=draw(st.sampled_from(((), (Side.LEFT, Side.RIGHT), (Side.RIGHT, Side.LEFT)))),
        how=draw(st.sampled_from(HOWS)),
        cues=tuple(cue_list),
        rest_after=float(draw(st.sampled_from((0, 6, 10, 15, 30)))),
    )


def random_routines(
    min_seconds: int = 6, free_cues_only: bool = False
) -> st.SearchStrategy[Routine]:
    items = st.lists(exercises(min_seconds, free_cues_only), min_size=1, max_size=4)
    return items.map(lambda chosen: routine_of(*chosen))


def overlaps(a: Line, b: Line, speech: Speech) -> bool:
    """True if `b` starts before `a` has ended plus the gap (or the other way round)."""
    first, second = sorted((a, b), key=lambda line: line.offset)
    return first.offset + speech(first.text) + GAP > second.offset + 1e-6


def forced_lines_fit(segment: Segment, speech: Speech) -> bool:
    """The start line ends (with the gap) before the first counted second: physically possible."""
    start = [line for line in segment.lines if line.kind in ("start", "rest")]
    clock = [line.offset for line in segment.lines if line.kind in CLOCK_KINDS]
    if not start or not clock:
        return True
    return start[0].offset + speech(start[0].text) + GAP <= min(clock) + 1e-6


@settings(max_examples=30, deadline=None, database=None)
@given(routine=random_routines())
def test_random_segments_never_overlap(routine: Routine, phrases: dict[str, str]) -> None:
    segments = plan_routine(routine, phrases, estimate_seconds)
    assume(all(forced_lines_fit(s, estimate_seconds) for s in segments))
    for segment in segments:
        lines = segment.lines
        for index, line in enumerate(lines):
            for other in lines[index + 1 :]:
                assert not overlaps(line, other, estimate_seconds), (segment.kind, line, other)


@settings(max_examples=30, deadline=None, database=None)
@given(routine=random_routines())
def test_random_segments_keep_the_clock(routine: Routine, phrases: dict[str, str]) -> None:
    segments = exercise_segments(plan_routine(routine, phrases, estimate_seconds))
    for segment in segments:
        exercise = routine.exercises[segment.step - 1]
        if exercise.reps is None and exercise.seconds >= 2 * COUNTDOWN_FROM:
            expected = [(exercise.seconds - n, str(n)) for n in (3, 2, 1)]
            assert texts(segment, "count") == expected
        if exercise.reps is not None:
            assert len(texts(segment, "rep")) == exercise.reps - 1


@settings(max_examples=30, deadline=None, database=None)
@given(routine=random_routines())
def test_random_fixed_cues_land_at_or_after_their_second_and_before_the_countdown(
    routine: Routine, phrases: dict[str, str]
) -> None:
    for segment in exercise_segments(plan_routine(routine, phrases, estimate_seconds)):
        exercise = routine.exercises[segment.step - 1]
        free = {cue.text for cue in exercise.cues if cue.at is None}
        for line in segment.lines:
            if line.kind != "cue":
                continue
            end = line.offset + estimate_seconds(line.text)
            assert end <= segment.seconds - COUNTDOWN_FROM - GAP + 1e-6, line
            if line.text in free:
                continue
            wanted = [cue.at for cue in exercise.cues if cue.text == line.text]
            assert any(
                at is not None and at - 1e-6 <= line.offset <= at + CUE_SLACK + MILLISECOND
                for at in wanted
            ), (wanted, line)


@settings(max_examples=30, deadline=None, database=None)
@given(routine=random_routines(min_seconds=40, free_cues_only=True))
def test_random_free_cues_all_placed_when_there_is_plenty_of_room(
    routine: Routine, phrases: dict[str, str]
) -> None:
    for segment in exercise_segments(plan_routine(routine, phrases, estimate_seconds)):
        exercise = routine.exercises[segment.step - 1]
        assert sorted(text for _, text in texts(segment, "cue")) == sorted(
            cue.text for cue in exercise.cues
        )


@settings(max_examples=30, deadline=None, database=None)
@given(
    seconds=st.integers(40, 120),
    at=st.floats(8.0, 25.0),
)
def test_fixed_cue_with_room_is_said_within_the_slack(
    seconds: int, at: float, phrases: dict[str, str]
) -> None:
    exercise = Exercise("squats", float(seconds), how="Feet wide.", cues=(Cue("Chest up.", at),))
    (segment,) = exercise_segments(plan_routine(routine_of(exercise), phrases, estimate_seconds))
    ((offset, _),) = texts(segment, "cue")
    # Offsets are kept to the millisecond, never earlier than wanted beyond float noise.
    assert at - 1e-6 <= offset <= at + CUE_SLACK + MILLISECOND


def how_lines(segments: tuple[Segment, ...], step: int) -> list[tuple[Segment, Line]]:
    """Every set-up line said for exercise `step`, wherever it was placed."""
    return [
        (segment, line)
        for segment in segments
        if segment.step == step
        for line in segment.lines
        if line.kind == "how"
    ]


def rest_before(segments: tuple[Segment, ...], step: int) -> Segment | None:
    rests = [s for s in segments if s.kind is SegmentKind.REST and s.step == step]
    return rests[0] if rests else None


@settings(max_examples=40, deadline=None, database=None)
@given(routine=random_routines())
def test_random_set_up_lines_are_said_once_at_most_and_in_the_first_place_with_room(
    routine: Routine, phrases: dict[str, str]
) -> None:
    segments = plan_routine(routine, phrases, estimate_seconds)
    for index, exercise in enumerate(routine.exercises):
        step = index + 1
        placed = how_lines(segments, step)
        if not exercise.how:
            assert placed == []
            continue
        assert len(placed) <= 1, placed
        assert all(line.text == exercise.how for _, line in placed)
        where = [(segment.kind, segment.side) for segment, _ in placed]
        rest = rest_before(segments, step)
        room = -1.0 if rest is None else room_for_how(rest, exercise.how)
        # Said by the exercise's first side, if its clock leaves a gap.
        first_side = exercise.sides[0] if exercise.sides else None
        in_exercise: tuple[list[tuple[SegmentKind, Side | None]], ...] = (
            [],
            [(SegmentKind.EXERCISE, first_side)],
        )
        if step == 1:
            assert where == [(SegmentKind.INTRO, None)]
        elif room >= MILLISECOND:
            assert where == [(SegmentKind.REST, None)]
        elif room <= -MILLISECOND:
            assert where in in_exercise
        else:  # ends right on the limit: float noise decides, either place is right
            assert where in (*in_exercise, [(SegmentKind.REST, None)])


def how_latest_end(rest: Segment) -> float:
    """Where a set-up line in a rest must have ended: before the countdown's time (kept
    clear even when the preview left no room for the countdown), or the rest's end."""
    if rest.seconds >= 2 * COUNTDOWN_FROM:
        return rest.seconds - COUNTDOWN_FROM - GAP
    return rest.seconds


def room_for_how(rest: Segment, how: str) -> float:
    """Seconds to spare (negative: short) for the set-up line said after the preview."""
    preview = rest.lines[0]
    end = preview.offset + estimate_seconds(preview.text) + GAP + estimate_seconds(how)
    return how_latest_end(rest) - end


@settings(max_examples=40, deadline=None, database=None)
@given(routine=random_routines())
def test_random_set_up_line_in_a_rest_follows_the_preview_and_spares_the_countdown(
    routine: Routine, phrases: dict[str, str]
) -> None:
    for rest in plan_routine(routine, phrases, estimate_seconds):
        if rest.kind is not SegmentKind.REST:
            continue
        preview_end = estimate_seconds(rest.lines[0].text)
        for line in rest.lines:
            if line.kind != "how":
                continue
            assert line.offset == pytest.approx(preview_end + GAP, abs=MILLISECOND)
            end = line.offset + estimate_seconds(line.text)
            assert end <= how_latest_end(rest) + 1e-6, (rest, line)


def test_clock_phrases_are_the_exact_words_the_clock_says(phrases: dict[str, str]) -> None:
    routine = routine_of(Exercise("squats", 45.0), Exercise("plank", 30.0))
    said = {line.text for segment in plan_routine(routine, phrases, speech_seconds)
            for line in segment.lines if line.kind in ("count", "halfway", "ten")}
    assert clock_phrases(phrases) == ("3", "2", "1", "Halfway.", "10 seconds.")
    assert said == set(clock_phrases(phrases))
