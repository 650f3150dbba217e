"""Two hours of a typed session, faster than real time: random commands every few seconds
on the session clock, every event written to a real workout log (SQLite file). Checks that
the log has every event and measures the process's memory at 10 minutes and at 2 hours.

    python -m bench.log_soak [--hours 2] [--out bench/out]

Prints one JSON line and writes bench/out/log_soak.json and bench/LOG.md.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from coach.content.loader import default_routine_dir, load_content
from coach.core.understanding import Understanding
from coach.session.coach import Coach
from coach.session.events import HeardEvent, SessionEvent, fan_out
from coach.session.history import History
from coach.session.workout_recorder import WorkoutRecorder
from coach.store.workout_log import WorkoutLog

__all__ = ["main"]

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = ("start the warm-up", "start the core", "start the squat", "pause", "resume",
            "skip", "go back", "what's next", "how much time is left", "ouch my back hurts",
            "why does my back hurt when i squat", "stop", "yes", "no", "help",
            "how many workouts have i done this week", "when did my back last hurt")


def _rss_mb() -> float:
    """The process's resident memory now (MB), from /proc."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def soak(hours: float, seed: int = 3) -> dict[str, object]:
    content, _ = load_content([default_routine_dir()])
    heard: dict[str, int] = {"pain": 0, "question": 0}

    def count(event: SessionEvent) -> None:
        if isinstance(event, HeardEvent) and event.intent in heard:
            heard[event.intent] += 1

    with tempfile.TemporaryDirectory(prefix="bench-log-") as folder:
        log = WorkoutLog(Path(folder) / "workouts.sqlite3")
        recorder = WorkoutRecorder(log, lambda at: 1_800_000_000.0 + at)
        coach = Coach(content, Understanding(content.commands, content.faq), None,
                      fan_out(count, recorder), history=History(log, content.phrases))
        chosen = random.Random(seed)
        now, next_command, typed, rss_10min = 0.0, 5.0, 0, None
        while now < hours * 3600.0:
            now += 1.0
            coach.tick(now)
            if now >= next_command:
                coach.typed(chosen.choice(COMMANDS), now)
                typed += 1
                next_command = now + chosen.uniform(3.0, 40.0)
            if rss_10min is None and now >= 600.0:
                rss_10min = _rss_mb()
        recorder.close(now)
        rss_end = _rss_mb()
        pains = log._read("SELECT COUNT(*) FROM pains", ())[0][0]
        questions = log._read("SELECT COUNT(*) FROM questions", ())[0][0]
        workouts = log.workouts()
        size_kb = sum(path.stat().st_size for path in Path(folder).glob("workouts.sqlite3*")
                      ) / 1024.0  # the database and its write-ahead log
        log.close()
    return {"hours": hours, "commands_typed": typed, "workouts": len(workouts),
            "pain_reports": {"heard": heard["pain"], "logged": pains},
            "questions": {"heard": heard["question"], "logged": questions},
            "every_workout_closed": all(w.outcome is not None for w in workouts),
            "rss_mb_at_10_min": round(rss_10min or 0.0, 1), "rss_mb_at_end": round(rss_end, 1),
            "rss_growth_percent": round(100.0 * (rss_end / (rss_10min or rss_end) - 1.0), 1),
            "log_kb": round(size_kb, 1)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.log_soak", description=__doc__)
    parser.add_argument("--hours", type=float, default=2.0)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = parser.parse_args(argv)
    result = soak(args.hours)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "log_soak.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(json.dumps(result))
    pains, questions = result["pain_reports"], result["questions"]
    assert isinstance(pains, dict) and isinstance(questions, dict)
    (ROOT / "bench" / "LOG.md").write_text("\n".join([
        "# Workout log soak", "",
        f"`python -m bench.log_soak`: {result['hours']} hours of a typed session on the "
        "session clock (run faster than real time; the clock ticks every second), a random "
        f"command every 3-40 s ({result['commands_typed']} in all), every event written to "
        "a real SQLite workout log.", "",
        "| measure | value |", "|---|---|",
        f"| workouts logged | {result['workouts']} (all closed: "
        f"{result['every_workout_closed']}) |",
        f"| pain reports heard / logged | {pains['heard']} / {pains['logged']} |",
        f"| questions heard / logged | {questions['heard']} / {questions['logged']} |",
        f"| process memory at 10 min / at the end (MB) | {result['rss_mb_at_10_min']} / "
        f"{result['rss_mb_at_end']} ({result['rss_growth_percent']:+}%) |",
        f"| log on disk (database + write-ahead log) | {result['log_kb']} KB |", "",
        "The kill -9 test (tests/test_workout_log.py) shows a killed session's log intact.",
        "",
    ]), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
