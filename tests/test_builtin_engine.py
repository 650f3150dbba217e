"""The built-in engine end to end: speech -> Whisper tiny.en -> the intent layer.

Every intent is understood from real synthesised speech (two voices, phrasings beyond the
canonical ones), and real human non-command speech from Debian's pocketsphinx-testdata, as
well as unrelated sentences, triggers nothing.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest

from coach.content.loader import load_content
from coach.core.understanding import Understanding
from coach.hearing.asr.base import Recognizer
from coach.hearing.wavsource import read_wav
from coach.session.wiring import build_recognizer
from coach.settings import Settings
from tests.speech_fixtures import Pcm, espeak_available, silence, speak

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not espeak_available(), reason="needs espeak-ng: scripts/setup"),
]

ROUTINES = Path(__file__).resolve().parent.parent / "routines"
TESTDATA = Path("/usr/share/pocketsphinx/test/data")

SPOKEN_COMMANDS = [  # (words, voice, intent, slots)
    ("start the warm up", "en-us", "start_routine", {"routine": "warm-up"}),
    ("let's do the core workout", "en-gb", "start_routine", {"routine": "core"}),
    ("begin the cool down", "en-us+f3", "start_routine", {"routine": "cool-down"}),
    ("start the hip hinge", "en-us", "start_routine", {"routine": "hip-hinge"}),
    ("start the squat routine", "en-us", "start_routine", {"routine": "squat"}),
    ("pause", "en-gb", "pause", {}),
    ("resume", "en-us", "resume", {}),
    ("next exercise", "en-us+f3", "next", {}),
    ("go back", "en-us", "previous", {}),
    ("do that one again", "en-gb", "restart", {}),
    ("say that again", "en-us", "repeat", {}),
    ("how much time is left", "en-us+f3", "time_left", {}),
    ("what's next", "en-us", "whats_next", {}),
    ("stop the workout", "en-gb", "stop", {}),
    ("help", "en-us", "help", {}),
    ("what routines do you have", "en-us+f3", "list_routines", {}),
    ("how do I do this right", "en-us", "form", {}),
    ("ouch my back hurts", "en-gb", "pain", {}),
    ("tell me more", "en-us", "more", {}),
]

UNRELATED = [
    ("did you watch the game last night", "en-us"),
    ("I need to pick up groceries after this", "en-gb"),
    ("can you pass me that water bottle", "en-us+f3"),
    ("my phone battery is almost dead", "en-us"),
]


@cache
def understanding() -> Understanding:
    content, errors = load_content([ROUTINES])
    assert not errors
    return Understanding(content.commands, content.faq)


@pytest.fixture(scope="module")
def recognizer() -> Recognizer:
    return build_recognizer(Settings(routine_dirs=(ROUTINES,), engine="whisper"), understanding())


def decisions(recognizer: Recognizer, audio: Pcm) -> list[tuple[str, str | None, dict]]:
    """Every utterance in `audio` with the coach's decision about it."""
    audio = np.concatenate([silence(0.3), audio, silence(1.0)])
    found = []
    for offset in range(0, len(audio), 1600):
        found.extend(recognizer.accept(audio[offset : offset + 1600]))
    found.extend(recognizer.flush())
    results = []
    for transcript in found:
        intent = understanding().interpret(transcript.text)
        results.append((transcript.text, intent.name, intent.slots))
    return results


@pytest.mark.parametrize(("words", "voice", "intent", "slots"), SPOKEN_COMMANDS)
def test_every_intent_is_understood_from_speech(
    recognizer: Recognizer, words: str, voice: str, intent: str, slots: dict
) -> None:
    got = decisions(recognizer, speak(words, voice=voice))
    assert [(name, found_slots) for _, name, found_slots in got] == [(intent, slots)], got


def test_a_spoken_question_is_answered(recognizer: Recognizer) -> None:
    got = decisions(recognizer, speak("why does my lower back hurt when I squat"))
    assert len(got) == 1 and got[0][1] == "question", got


@pytest.mark.parametrize(("words", "voice"), UNRELATED)
def test_unrelated_sentences_trigger_nothing(
    recognizer: Recognizer, words: str, voice: str
) -> None:
    got = decisions(recognizer, speak(words, voice=voice))
    assert [name for _, name, _ in got if name is not None] == [], got


@pytest.mark.skipif(not TESTDATA.is_dir(), reason="needs pocketsphinx-testdata: scripts/setup")
def test_real_human_recordings_trigger_nothing(recognizer: Recognizer) -> None:
    recordings = [np.fromfile(TESTDATA / "numbers.raw", np.int16)]
    recordings += [read_wav(path) for path in sorted((TESTDATA / "librivox").glob("*.wav"))]
    recordings += [read_wav(path) for path in sorted((TESTDATA / "cards").glob("*.wav"))]
    heard = []
    for audio in recordings:
        heard.extend(decisions(recognizer, audio))
    assert len(heard) >= len(recordings)  # it did hear speech ...
    triggered = [item for item in heard if item[1] is not None]
    assert triggered == []  # ... and none of it was a command
