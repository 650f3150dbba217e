"""The voice as users hear it, per engine (pyttsx3, Piper): how soon each line starts after
it is due, the clock's counts and "Go!" on their second, how soon `stop` is silent, and the
CPU spent speaking.

    python -m bench.voice [--seconds 150] [--out bench/out]

Writes bench/out/voice.json and bench/VOICE.md. Real: a private PulseAudio server (the same
as the tests': tests.support.pulse) gives the speaker; the coach's real speaker plays through
it on the real clock, with its lines made ahead (coach.session.lookahead) as in a session.
Each line's start is the speaker's own playback event (device latency included), against
the moment the line was due on the session clock. Replies (typed questions during the
routine) are made on the spot and reported apart.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import queue
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import numpy as np

from bench.timing import long_routine
from coach.content.loader import default_routine_dir, load_content
from coach.core.intents import Intent
from coach.core.understanding import Understanding
from coach.session.coach import Coach
from coach.session.events import SaidEvent, SessionEvent, fan_out
from coach.session.inputs import Input, Typed
from coach.session.lookahead import LookAhead
from coach.session.loop import run_loop
from coach.settings import Settings
from coach.settings.voice import TTS_ENGINES, VoiceSettings

__all__ = ["main"]

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ("what's next", "how much time is left", "form", "what's next")
_CLOCK_KINDS = ("count", "start", "rep")


def _ms(values: Sequence[float]) -> dict[str, object]:
    if not values:
        return {"n": 0}
    array = np.asarray(values, np.float64) * 1000.0
    return {"n": len(values), "p50_ms": round(float(np.percentile(array, 50)), 1),
            "p95_ms": round(float(np.percentile(array, 95)), 1),
            "max_ms": round(float(array.max()), 1)}


def _cpu() -> float:
    times = os.times()
    return times.user + times.system


def run_engine(engine: str, seconds: float) -> dict[str, object]:
    from coach.voice.choose import make_synth
    from coach.voice.playback import PlaybackEvent
    from coach.voice.speaker import SoundDeviceSpeaker

    content, _ = load_content([default_routine_dir()])
    routine = long_routine(content, seconds)
    content = dataclasses.replace(content, routines={**content.routines, routine.id: routine})
    settings = Settings()
    synth = make_synth(VoiceSettings(tts=engine), settings.synth)
    voice = SoundDeviceSpeaker(synth, playback=settings.playback)
    epoch = time.monotonic()

    def clock() -> float:
        return time.monotonic() - epoch

    starts: dict[str, list[float]] = {}
    stops: list[float] = []

    def heard(event: PlaybackEvent) -> None:
        if event.playing:
            starts.setdefault(event.label, []).append(event.at - epoch)
        else:
            stops.append(event.at - epoch)

    voice.add_playback_listener(heard)
    voice.prewarm(("3", "2", "1"))
    said: list[SaidEvent] = []

    def keep(event: SessionEvent) -> None:
        if isinstance(event, SaidEvent):
            said.append(event)

    ahead = LookAhead(voice.prewarm, content.routines, content.phrases)
    coach = Coach(content, Understanding(content.commands, content.faq), voice,
                  fan_out(keep, ahead))
    inputs: queue.Queue[Input] = queue.Queue()

    def ask() -> None:
        for index, question in enumerate(QUESTIONS):
            time.sleep(seconds / (len(QUESTIONS) + 1) + (7.0 if index == 0 else 0.0))
            inputs.put(Typed(question))

    cpu_before, wall_before = _cpu(), time.monotonic()
    coach.act(Intent("start_routine", {"routine": routine.id}, 1.0), clock())
    threading.Thread(target=ask, daemon=True).start()
    run_loop(coach, inputs, clock, until_finished=True)
    time.sleep(3.0)
    cpu = (_cpu() - cpu_before) / (time.monotonic() - wall_before)
    stop_ms = _stop_latency(voice, content.phrases["pain"])
    voice.close()

    late: dict[str, list[float]] = {"ahead": [], "clock": [], "reply": [], "reply_free": []}
    for event in said:
        heard_at = [at for at in starts.get(event.text, []) if at >= event.at - 0.05]
        if not heard_at:
            continue  # cut off before it started (a later line took its place)
        delay = heard_at[0] - event.at
        if event.kind in _CLOCK_KINDS:
            late["clock"].append(delay)
        if event.kind in ("reply", "answer"):
            late["reply"].append(delay)
            # a reply waits for the line being said to end: from then on it is the voice's
            ended = [at for at in stops if at <= heard_at[0] + 0.001]
            free = max([event.at, *ended])
            late["reply_free"].append(heard_at[0] - free)
        elif event.kind != "intro":
            late["ahead"].append(delay)
    return {"engine": engine, "routine_seconds": round(seconds, 1),
            "lines_said": len(said),
            "first_sound_routine_lines": _ms(late["ahead"]),
            "first_sound_clock_lines": _ms(late["clock"]),
            "first_sound_replies": _ms(late["reply"]),
            "first_sound_replies_once_free": _ms(late["reply_free"]),
            "stop_silent": _ms(stop_ms),
            "cpu_percent_of_a_core": round(100.0 * cpu, 1),
            "synth_in_use": getattr(synth, "name", engine)}


def _stop_latency(voice: object, text: str, tries: int = 5) -> list[float]:
    """Seconds from stop() to the speaker's stop event, mid-way through a long line."""
    from coach.voice.playback import PlaybackEvent

    ended: queue.Queue[float] = queue.Queue()

    def on(event: PlaybackEvent) -> None:
        if not event.playing:
            ended.put(event.at)

    voice.add_playback_listener(on)  # type: ignore[attr-defined]
    delays: list[float] = []
    for _ in range(tries):
        voice.say(text, interrupt=True)  # type: ignore[attr-defined]
        time.sleep(1.0)
        while not ended.empty():
            ended.get_nowait()
        asked = time.monotonic()
        voice.stop()  # type: ignore[attr-defined]
        try:
            delays.append(ended.get(timeout=2.0) - asked)
        except queue.Empty:
            continue
        time.sleep(0.3)
    return delays


def hearing_rows(tts: str, seconds: float) -> dict[str, object]:
    """The hearing benches that depend on the coach's voice, with this voice: its own voice
    read back into the microphone (never to act), and commands said over it through the
    echo canceller with ducking (as bench.run's barge-in rows; Whisper tiny.en)."""
    from bench.barge_in import barge_in_audio, cancel_echo_ducked, run_barge_in
    from bench.false_triggers import coach_voice_audio, count_triggers, echo_judge
    from bench.run import BARGE_IN_LEVEL_DB
    from bench.streams import Clocked
    from coach.hearing.aec import EchoCanceller
    from coach.hearing.asr.base import Transcript
    from coach.hearing.asr.select import make_recognizer
    from coach.session.understand import build_understanding

    content, _ = load_content([default_routine_dir()])
    understanding = build_understanding(content, Settings())
    recognizer = Clocked(make_recognizer("whisper", None, understanding.phrases(),
                                         is_complete=understanding.is_complete,
                                         keeps_meaning=understanding.keeps_meaning))

    def decide(transcript: Transcript) -> Intent:
        return understanding.interpret(transcript.text)

    voice = coach_voice_audio(content, "warm-up", seconds, tts=tts)
    own = count_triggers(f"coach's own voice ({tts})", recognizer, voice.pcm,
                         echo_judge(voice, understanding, tail=0.35), 10 * seconds,
                         raw=decide).summary()
    recognizer.rebase()
    cleaned = cancel_echo_ducked(barge_in_audio(voice, BARGE_IN_LEVEL_DB), EchoCanceller())
    levels = cleaned.levels.user_spoke if cleaned.levels else None
    judge = echo_judge(voice, understanding, tail=0.35, user_spoke=levels)
    barge = run_barge_in(recognizer, cleaned, judge, 10 * seconds).summary()
    return {"tts": tts, "own_voice": own, "barge_in_aec_ducked": barge}


def write_report(results: dict[str, object], path: Path) -> None:
    rows = results["engines"]
    assert isinstance(rows, list)

    def cell(row: dict[str, object], key: str) -> str:
        value = row[key]
        assert isinstance(value, dict)
        return f"{value.get('p50_ms')} / {value.get('p95_ms')} / {value.get('max_ms')} " \
               f"(n={value.get('n')})"

    lines = [
        "# Voice bench", "",
        f"`python -m bench.voice` on {results['date']} ({results['cores']} cores): a "
        f"{results['seconds']:.0f} s routine per engine, spoken through PulseAudio's virtual "
        "speaker on the real clock, lines made ahead; a few typed questions for replies.", "",
        "Milliseconds from a line being due to its first sound (p50 / p95 / max):", "",
        "| engine | routine lines (made ahead; goal p95 <= 300) | counts and Go! | replies "
        "(made on the spot, queued behind the line being said) | replies, from the voice "
        "being free | stop to silence (goal <= 100) | CPU, % of a core |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        assert isinstance(row, dict)
        lines.append(f"| {row['engine']} ({row['synth_in_use']}) | "
                     f"{cell(row, 'first_sound_routine_lines')} | "
                     f"{cell(row, 'first_sound_clock_lines')} | "
                     f"{cell(row, 'first_sound_replies')} | "
                     f"{cell(row, 'first_sound_replies_once_free')} | "
                     f"{cell(row, 'stop_silent')} | "
                     f"{row['cpu_percent_of_a_core']} |")
    hearing = results.get("hearing")
    if isinstance(hearing, list) and hearing:
        lines += [
            "", "## Hearing with each voice", "",
            "Whisper tiny.en on the coach's own warm-up read back into the microphone (echo "
            "rules on; goal 0), and one command said over each long line through the echo "
            "canceller with ducking, 6 dB above the echo (as bench/RESULTS.md's barge-in "
            "rows, which use pyttsx3).", "",
            "| voice | own voice: audio s | acted on (goal 0) | without the echo rules | "
            "commands over the coach: right | acted as another command |",
            "|---|---|---|---|---|---|",
        ]
        for row in hearing:
            own, barge = row["own_voice"], row["barge_in_aec_ducked"]
            lines.append(f"| {row['tts']} | {own['audio_seconds']:.0f} | {own['triggers']} | "
                         f"{own['raw_triggers']} | {barge['right']}/{barge['commands']} | "
                         f"{barge['acted_elsewhere']} |")
    lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.voice", description=__doc__)
    parser.add_argument("--seconds", type=float, default=150.0)
    parser.add_argument("--engines", default=",".join(TTS_ENGINES))
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--report", type=Path, default=ROOT / "bench" / "VOICE.md")
    parser.add_argument("--hearing-seconds", type=float, default=240.0,
                        help="the coach's voice read back, per voice (0: skip)")
    args = parser.parse_args(argv)
    from coach.audio.devices import reload_portaudio
    from tests.support.pulse import start_virtual_audio

    args.out.mkdir(parents=True, exist_ok=True)
    results: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="bench-voice-") as runtime:
        audio = start_virtual_audio(Path(runtime))
        audio.apply_env()
        reload_portaudio()
        try:
            for engine in args.engines.split(","):
                results.append(run_engine(engine, args.seconds))
                print(json.dumps(results[-1]), flush=True)
        finally:
            audio.stop()
    hearing = []
    if args.hearing_seconds > 0:
        for engine in args.engines.split(","):
            hearing.append(hearing_rows(engine, args.hearing_seconds))
            print(json.dumps(hearing[-1]), flush=True)
    report: dict[str, object] = {"date": date.today().isoformat(), "cores": os.cpu_count(),
                                 "seconds": args.seconds, "engines": results,
                                 "hearing": hearing}
    (args.out / "voice.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    write_report(report, args.report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
