"""The coach as users judge it: accuracy in noise, false triggers, latency, timing, cost.

    python -m bench.run [--quick] [--engines whisper,pocketsphinx] [--out bench/out]

Writes bench/out/results.json, bench/out/accuracy_vs_snr.png and bench/RESULTS.md.
The full run takes under 15 minutes on 2 cores: the 10-minute real-clock routine runs in a
background thread while the accuracy benches run, and every accuracy bench stops feeding
audio when its time budget is spent (the number of utterances measured is reported).
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import multiprocessing.queues
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.accuracy import (
    HELDOUT_VOICES,
    AccuracyResult,
    all_conditions,
    command_cases,
    faq_cases,
    run_accuracy,
)
from bench.audio import RATE, write_wav
from bench.barge_in import (
    BARGE_IN_ASKED,
    barge_in_audio,
    cancel_echo,
    cancel_echo_ducked,
    run_barge_in,
)
from bench.false_triggers import (
    coach_voice_audio,
    count_triggers,
    echo_judge,
    noise_sources,
    recordings,
    unrelated_speech,
)
from bench.report import write_outputs
from bench.streams import Clocked, Condition, SpokenCase, build_block
from bench.text_eval import DATA, load_everyday, load_heldout
from bench.timing import run_drift
from coach.content.loader import load_content
from coach.content.model import Content
from coach.core.intents import Intent
from coach.core.understanding import Understanding
from coach.hearing.aec import EchoCanceller
from coach.hearing.asr.base import Transcript
from coach.hearing.asr.select import make_recognizer
from coach.session.understand import build_understanding
from coach.session.wiring import enhanced
from coach.settings import Settings

__all__ = ["Plan", "main"]

_LOGGER = logging.getLogger("bench.run")

ROOT = Path(__file__).resolve().parent.parent
ENGINES = ("whisper", "pocketsphinx")
BUDGET_SHARE = {"whisper": 1.3, "pocketsphinx": 0.5}
"""Share of each accuracy budget per engine: the default engine gets the larger sample."""


@dataclass(frozen=True)
class Plan:
    """How much of everything to measure (sizes and time budgets, seconds)."""

    commands: int
    command_budget: float
    faq: int
    faq_budget: float
    unrelated_budget: float
    recordings_budget: float
    noise_seconds: float
    noise_budget: float
    coach_voice_seconds: float
    coach_voice_budget: float
    drift_seconds: float
    scaled_seconds: float
    scale: float
    time_left_questions: int
    device_commands: int
    device_gap: float
    cpu_seconds: float
    startup_runs: int
    tts_runs: int
    barge_in_seconds: float
    barge_in_budget: float
    heldout_budget: float
    """The spoken set never tuned on (phrasings and voices), default engine only."""


FULL = Plan(commands=72, command_budget=390, faq=65, faq_budget=100, unrelated_budget=50,
            recordings_budget=15, noise_seconds=60, noise_budget=15, coach_voice_seconds=420,
            coach_voice_budget=35, drift_seconds=600, scaled_seconds=1800, scale=10.0,
            time_left_questions=12, device_commands=10, device_gap=7.0, cpu_seconds=60,
            startup_runs=3, tts_runs=7, barge_in_seconds=240, barge_in_budget=100,
            heldout_budget=240)
QUICK = Plan(commands=24, command_budget=35, faq=12, faq_budget=12, unrelated_budget=8,
             recordings_budget=8, noise_seconds=15, noise_budget=5, coach_voice_seconds=90,
             coach_voice_budget=12, drift_seconds=60, scaled_seconds=300, scale=10.0,
             time_left_questions=4, device_commands=4, device_gap=8.0, cpu_seconds=15,
             startup_runs=1, tts_runs=3, barge_in_seconds=90, barge_in_budget=10,
             heldout_budget=20)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a subset, a few minutes")
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--no-device", action="store_true", help="skip the PulseAudio path")
    parser.add_argument("--enhance", choices=("default", "none", "deepfilter", "rnnoise"),
                        default="default",
                        help="speech enhancement before the recogniser (default: the coach's)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    for noisy in ("faster_whisper", "numba", "ctranslate2"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # It lists every grammar phrase it drops, thousands of them, at each load.
    logging.getLogger("coach.hearing.asr.pocketsphinx").setLevel(logging.ERROR)
    plan = QUICK if args.quick else FULL
    enhance = (Settings().audio.enhance if args.enhance == "default"
               else None if args.enhance == "none" else args.enhance)
    results = run_all(plan, [e for e in args.engines.split(",") if e], not args.no_device,
                      enhance)
    results["mode"] = "quick" if args.quick else "full"
    write_outputs(results, args.out, ROOT / "bench" / "RESULTS.md")
    _LOGGER.info("wrote %s and %s", args.out / "results.json", ROOT / "bench" / "RESULTS.md")
    return 0


class _Background:
    """A function run in a thread; its result (or error) collected later."""

    def __init__(self, name: str, work: Callable[[], object]) -> None:
        self.value: object = None
        self.error: str | None = None
        self._work = work
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self.value = self._work()
        except Exception as exc:
            _LOGGER.exception("background bench failed")
            self.error = repr(exc)

    def result(self, timeout: float) -> object:
        self._thread.join(timeout)
        if self._thread.is_alive():
            return {"error": f"did not finish within {timeout:.0f} s"}
        return self.value if self.error is None else {"error": self.error}


def run_all(plan: Plan, engines: Sequence[str], device: bool,
            enhance: str | None = None) -> dict[str, object]:
    """Every measurement; `enhance`: the denoiser in front of the recogniser (None: none)."""
    started = time.monotonic()
    content, errors = load_content([ROOT / "routines"])
    if errors:
        _LOGGER.warning("content errors: %s", errors)
    understanding = build_understanding(content, Settings())  # with the meaning model
    commands, unrelated, questions = load_heldout()
    drift = _Background("bench-drift", lambda: run_drift(
        content, plan.drift_seconds, 1.0, "real clock").summary())
    scaled = _Background("bench-scaled", lambda: run_drift(
        content, plan.scaled_seconds, plan.scale, f"clock x{plan.scale:g}",
        plan.time_left_questions).summary())
    results: dict[str, object] = {"engines": {}, "plan": plan.__dict__, "enhance": enhance}
    if device:
        from bench.device import DEVICE_COMMANDS, run_device_bench

        results["device"] = run_device_bench(
            engines[0], DEVICE_COMMANDS[: plan.device_commands], plan.device_gap,
            enhance).summary()
    cases = command_cases(commands, plan.commands)
    spoken_faq = faq_cases(questions, plan.faq)
    vosk_model = _english_vosk_model()
    results["vosk"] = {"measured": vosk_model is not None, "model": str(vosk_model),
                       "reason": None if vosk_model else "no English Vosk model on this machine"}
    if vosk_model is not None and "vosk" not in engines:
        engines = [*engines, "vosk"]
    heldout_commands, _, heldout_faq = load_everyday(DATA / HELDOUT_SET)
    inputs = _Inputs(plan, content, understanding, tuple(cases), tuple(spoken_faq),
                     tuple(unrelated), enhance,
                     tuple(command_cases(heldout_commands, len(heldout_commands),
                                         voices=HELDOUT_VOICES)),
                     tuple(faq_cases(heldout_faq, len(heldout_faq), voices=HELDOUT_VOICES)))
    engine_results: dict[str, object] = {}
    for engine in engines:
        model = vosk_model if engine == "vosk" else None
        tasks = TASKS if engine == engines[0] else TASKS[:-1]  # held out: the default only
        engine_results[engine] = _engine_tasks(engine, model, inputs, tasks)
    results["engines"] = engine_results
    # alone, after the engines: beside them, each recogniser would slow the other
    results["cost"] = _cost(plan, engines, commands_wav(command_cases(commands, 12), unrelated),
                            enhance)
    results["tts"] = _tts(plan.tts_runs)
    results["drift_scaled"] = scaled.result(timeout=900)
    results["drift_real"] = drift.result(timeout=900)
    results["wall_seconds"] = round(time.monotonic() - started, 1)
    return results


Report = Callable[[str, object], None]
TASKS = ("commands", "faq", "false_triggers", "barge_in", "heldout")
HELDOUT_SET = "everyday_heldout.yaml"
"""Phrasings never tuned on (tests/data/README.md), spoken by `HELDOUT_VOICES`: the figure
users will meet. Only its figures are kept, never its misses."""
HELDOUT_COMMAND_CONDITIONS = (Condition(None, None), Condition("music", 10.0),
                              Condition("babble", 10.0))
HELDOUT_FAQ_CONDITIONS = (Condition(None, None), Condition("music", 10.0))
FAQ_CONDITIONS = (Condition(None, None), Condition("music", 10.0))
BARGE_IN_LEVEL_DB = 6.0
"""The user's commands over the coach's voice: this much louder (nearer the microphone)."""


@dataclass(frozen=True)
class _Inputs:
    """What every engine task needs (sent to the forked child as is)."""

    plan: Plan
    content: Content
    understanding: Understanding
    cases: tuple[SpokenCase, ...]
    faq: tuple[SpokenCase, ...]
    unrelated: tuple[str, ...]
    enhance: str | None = None
    heldout_cases: tuple[SpokenCase, ...] = ()
    heldout_faq: tuple[SpokenCase, ...] = ()


def _task_budget(task: str, plan: Plan, share: float) -> float:
    if task == "commands":
        return plan.command_budget * share
    if task == "faq":
        return plan.faq_budget * share
    if task == "barge_in":
        return plan.barge_in_budget * share
    if task == "heldout":
        return plan.heldout_budget * share
    return share * (plan.unrelated_budget + plan.recordings_budget + 3 * plan.noise_budget
                    + plan.coach_voice_budget)


def _engine_tasks(engine: str, model: Path | None, inputs: _Inputs,
                  tasks: Sequence[str] = TASKS) -> dict[str, object]:
    """Each task of one engine in its own forked child, killed if it overruns.

    A decoder call cannot be interrupted (PocketSphinx has taken minutes on one utterance
    of babble), so budgets are enforced by killing the process; snapshots sent after every
    block keep what was measured.
    """
    out: dict[str, object] = {}
    incomplete: list[str] = []
    share = BUDGET_SHARE.get(engine, 1.0)
    for task in tasks:
        allowed = _task_budget(task, inputs.plan, share) * 1.1 + 30
        finished = _run_child(engine, task, model, inputs, allowed, out)
        if not finished:
            _LOGGER.warning("%s %s: overran its budget; stopped", engine, task)
            incomplete.append(f"{task}: stopped after {allowed:.0f} s (a decode call blocked)")
    if incomplete:
        out["incomplete"] = incomplete
    return out


def _run_child(engine: str, task: str, model: Path | None, inputs: _Inputs, allowed: float,
               out: dict[str, object]) -> bool:
    context = multiprocessing.get_context("fork")
    messages: multiprocessing.queues.Queue[tuple[str, object]] = context.Queue()
    child = context.Process(target=_task_child, args=(messages, engine, task, model, inputs),
                            name=f"bench-{engine}-{task}")
    deadline = time.monotonic() + allowed
    child.start()
    finished = False
    while time.monotonic() < deadline:
        try:
            key, value = messages.get(timeout=1.0)
        except queue.Empty:
            if not child.is_alive():
                break
            continue
        if key == "done":
            finished = True
            break
        out[key] = value
    if not finished:
        child.kill()
    child.join(timeout=10)
    return finished


def _task_child(messages: multiprocessing.queues.Queue[tuple[str, object]], engine: str,
                task: str, model: Path | None, inputs: _Inputs) -> None:
    def report(key: str, value: object) -> None:
        messages.put((key, value))

    try:
        _task(report, engine, task, model, inputs)
    except Exception as exc:
        _LOGGER.exception("%s %s failed", engine, task)
        report(f"{task}_error", repr(exc))
    report("done", None)


def _task(report: Report, engine: str, task: str, model: Path | None, inputs: _Inputs) -> None:
    began = time.perf_counter()
    understanding = inputs.understanding  # built as `coach` builds it (make_listener)
    raw = make_recognizer(engine, model, understanding.phrases(),
                          is_complete=understanding.is_complete,
                          keeps_meaning=understanding.keeps_meaning)
    recognizer = Clocked(enhanced(raw, inputs.enhance) if inputs.enhance else raw)
    report("load_seconds", round(time.perf_counter() - began, 2))
    budget = _task_budget(task, inputs.plan, BUDGET_SHARE.get(engine, 1.0))
    _LOGGER.info("engine %s: %s", engine, task)
    if task == "false_triggers":
        _false_triggers(report, recognizer, inputs.plan, inputs.content, inputs.understanding,
                        inputs.unrelated, BUDGET_SHARE.get(engine, 1.0))
        return
    if task == "barge_in":
        voice = coach_voice_audio(inputs.content, "warm-up", inputs.plan.barge_in_seconds)
        judge = echo_judge(voice, understanding, tail=0.35)
        mixed = barge_in_audio(voice, BARGE_IN_LEVEL_DB)
        report(task, run_barge_in(recognizer, mixed, judge, budget / 4).summary())
        asked = barge_in_audio(voice, BARGE_IN_LEVEL_DB, said=BARGE_IN_ASKED)
        for key, audio, cancel in (("barge_in_aec", mixed, cancel_echo),
                                   ("barge_in_aec_ducked", mixed, cancel_echo_ducked),
                                   ("barge_in_asked", asked, cancel_echo_ducked)):
            recognizer.rebase()
            cleaned = cancel(audio, EchoCanceller())
            levels = cleaned.levels.user_spoke if cleaned.levels else None
            judge = echo_judge(voice, understanding, tail=0.35, user_spoke=levels)
            report(key, run_barge_in(recognizer, cleaned, judge, budget / 4).summary())
        return
    if task == "heldout":
        _heldout(report, recognizer, inputs, budget)
        return
    cases = inputs.cases if task == "commands" else inputs.faq
    conditions = all_conditions() if task == "commands" else list(FAQ_CONDITIONS)
    result = run_accuracy(engine, recognizer, inputs.understanding, cases, conditions,
                          inputs.unrelated, budget,
                          progress=lambda r: report(task, r.summary()))
    report(task, result.summary())


def _heldout(report: Report, recognizer: Clocked, inputs: _Inputs, budget: float) -> None:
    """The spoken set never tuned on: figures only (its misses are never shown)."""
    for key, cases, conditions, share in (
        ("heldout_commands", inputs.heldout_cases, HELDOUT_COMMAND_CONDITIONS, 0.7),
        ("heldout_faq", inputs.heldout_faq, HELDOUT_FAQ_CONDITIONS, 0.3),
    ):
        recognizer.rebase()

        def hidden(result: AccuracyResult, key: str = key) -> None:
            result.misses.clear()
            result.wrong_commands.pop("examples", None)
            report(key, result.summary())

        hidden(run_accuracy("heldout", recognizer, inputs.understanding, cases, conditions,
                            inputs.unrelated, budget * share, progress=hidden))


def _false_triggers(
    report: Report,
    recognizer: Clocked,
    plan: Plan,
    content: Content,
    understanding: Understanding,
    unrelated: Sequence[str],
    share: float,
) -> None:
    def decide(t: Transcript) -> Intent:
        return understanding.interpret(t.text)

    sources = {"espeak unrelated sentences": (unrelated_speech(unrelated), plan.unrelated_budget),
               "pocketsphinx-testdata recordings": (recordings(), plan.recordings_budget)}
    for name, pcm in noise_sources(plan.noise_seconds, unrelated).items():
        sources[name] = (pcm, plan.noise_budget)
    found: list[dict[str, object]] = []
    for name, (pcm, budget) in sources.items():
        if len(pcm):
            recognizer.rebase()
            found.append(count_triggers(name, recognizer, pcm, decide, budget * share).summary())
            report("false_triggers", list(found))
    voice = coach_voice_audio(content, "warm-up", plan.coach_voice_seconds)
    judge = echo_judge(voice, understanding, tail=0.35)
    recognizer.rebase()
    found.append(count_triggers(f"coach's own voice ({voice.routine})", recognizer, voice.pcm,
                                judge, plan.coach_voice_budget * share,
                                raw=decide).summary())
    report("false_triggers", list(found))


def commands_wav(cases: Sequence[SpokenCase], sentences: Sequence[str]) -> Path:
    """A WAV of clean commands with silence between, for the listening-cost probe."""
    block = build_block(cases, Condition(None, None), sentences, seed=0)
    silence = np.zeros(3 * RATE, np.int16)
    path = Path(tempfile.mkdtemp(prefix="bench-cost-")) / "commands.wav"
    write_wav(path, np.concatenate([block.pcm, silence]))
    return path


def _probe(engine: str, wav: Path | None, seconds: float,
           enhance: str | None = None) -> dict[str, object]:
    command = [sys.executable, "-m", "bench.probe", "--engine", engine,
               "--spawned", repr(time.time())]
    if enhance:
        command += ["--enhance", enhance]
    if wav is not None:
        command += ["--wav", str(wav), "--seconds", str(seconds)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True,
                          timeout=seconds + 120, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        return {"engine": engine, "error": done.stderr.strip()[-400:]}
    report: dict[str, object] = json.loads(lines[-1])
    return report


def _cost(plan: Plan, engines: Sequence[str], wav: Path,
          enhance: str | None = None) -> dict[str, object]:
    out: dict[str, object] = {}
    for engine in engines:
        starts = [_probe(engine, None, 0, enhance) for _ in range(plan.startup_runs)]
        times = [float(str(s["startup_seconds"])) for s in starts if "startup_seconds" in s]
        listening = _probe(engine, wav, plan.cpu_seconds, enhance)
        out[engine] = {"startup_seconds_median": statistics.median(times) if times else None,
                       "startup_runs": times, "listening": listening}
    return out


def _tts(runs: int) -> dict[str, object]:
    """Synthesis time of a reply: uncached (new text) vs cached (said before), medians."""
    from coach.voice.espeak import TtsUnavailableError
    from coach.voice.tts import Pyttsx3Synth

    try:
        synth = Pyttsx3Synth()
        synth.synthesize("warming up the voice", RATE)
        uncached, cached = [], []
        for index in range(runs):
            text = f"{index + 12} seconds of squats, about {index + 2} minutes left."
            began = time.perf_counter()
            synth.synthesize(text, RATE)
            uncached.append(time.perf_counter() - began)
            began = time.perf_counter()
            synth.synthesize(text, RATE)
            cached.append(time.perf_counter() - began)
    except TtsUnavailableError as exc:
        return {"error": str(exc)}
    return {"uncached_ms_median": round(1000 * statistics.median(uncached), 2),
            "cached_ms_median": round(1000 * statistics.median(cached), 4), "runs": runs}


def _english_vosk_model() -> Path | None:
    """An installed English Vosk model, if any (repository models/ or the user's data dir)."""
    from platformdirs import user_data_dir

    from coach.hearing.asr.select import is_english_vosk_model

    places = [ROOT / "models", Path(user_data_dir("coach")) / "models"]
    for place in places:
        if place.is_dir():
            for candidate in sorted(place.iterdir()):
                if candidate.is_dir() and is_english_vosk_model(candidate):
                    return candidate
    return None


if __name__ == "__main__":
    raise SystemExit(main())
