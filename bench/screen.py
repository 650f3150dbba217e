"""The screen as users meet it: how soon a change shows on the web page, what the page's
server costs when nothing happens, and whether announcements keep time with a page open.

    python -m bench.screen [--drift-seconds 240] [--idle-seconds 60] [--out bench/out]

Writes bench/out/screen.json and bench/SCREEN.md. Everything is real: `coach run ... --web`
processes, Debian's chromium (headless, through selenium) showing the page, the wall clock.

- Event to page: the page records, for every update, the wall-clock time from the change in
  the session (the server stamps it as the change arrives from the session's thread) to the
  page having drawn it. A typed session driven through a routine, and a WAV session in real
  time (Whisper decoding in the same process, as in a hands-free session).
- Idle CPU: a typed session with no routine, measured from /proc over a minute: without the
  page, with the server and no page, with a page open.
- Drift: the real-clock drift bench (bench.timing) with and without the page open.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

import numpy as np

from bench.audio import RATE, Voice, speak, write_wav
from bench.timing import run_drift
from coach.content.loader import default_routine_dir, load_content
from coach.session.screen.model import ScreenModel
from coach.session.screen.web import WebScreen
from coach.settings.screen import WebSettings
from tests.support.browser import COACH, chromium, coach_session

__all__ = ["main"]

ROOT = Path(__file__).resolve().parent.parent

TYPED_SCRIPT: tuple[tuple[float, str], ...] = (
    (0.0, "start the warm-up"), (3.0, "skip"), (4.0, "what's next"), (3.0, "pause"),
    (3.0, "resume"), (4.0, "how much time is left"), (3.0, "skip"), (5.0, "form"),
    (4.0, "pause"), (2.0, "resume"), (6.0, "skip"), (4.0, "what's next"), (6.0, "skip"),
    (5.0, "pause"), (2.0, "resume"), (8.0, "stop"), (2.0, "yes"), (3.0, "start the core"),
    (6.0, "skip"), (5.0, "stop"), (2.0, "yes"),
)
"""(seconds after the previous line, line typed): a routine driven through its changes."""

SPOKEN_SCRIPT: tuple[tuple[float, str], ...] = (
    (1.0, "start the warm-up"), (26.0, "what's next"), (6.0, "pause"), (5.0, "resume"),
    (6.0, "skip"), (8.0, "how much time is left"), (8.0, "stop"), (3.0, "yes"),
)
"""(seconds after the previous request began, request): the WAV session's user."""


def _summary(values: Sequence[float]) -> dict[str, object]:
    if not values:
        return {"n": 0}
    array = np.asarray(values, np.float64)
    return {"n": len(values), "p50_ms": round(float(np.percentile(array, 50)), 1),
            "p95_ms": round(float(np.percentile(array, 95)), 1),
            "max_ms": round(float(array.max()), 1)}


def page_latency_typed() -> dict[str, object]:
    with coach_session("--text", "--silent") as session, chromium(412, 915) as driver:
        driver.get(session.url)
        time.sleep(2.0)
        for delay, line in TYPED_SCRIPT:
            time.sleep(delay)
            session.type(line)
        time.sleep(3.0)
        latencies: list[float] = driver.execute_script("return window.coachLatencies")
    return _summary(latencies[1:])  # the first is the page's own first load


def page_latency_wav(workdir: Path) -> dict[str, object]:
    voice = Voice("en-us+m3", 160)
    parts: list[tuple[float, np.ndarray]] = []
    at = 0.0
    for delay, words in SPOKEN_SCRIPT:
        at += delay
        parts.append((at, speak(words, voice)))
    audio = np.zeros(int((at + 8.0) * RATE), np.int16)
    for start, pcm in parts:
        first = int(start * RATE)
        audio[first:first + len(pcm)] = pcm[: len(audio) - first]
    wav = workdir / "screen-session.wav"
    write_wav(wav, audio)
    with coach_session("--input", str(wav), before=("--engine", "whisper")) as session, \
            chromium(1280, 800) as driver:
        driver.get(session.url)
        while session.process.poll() is None:
            time.sleep(0.5)
            latencies: list[float] = driver.execute_script("return window.coachLatencies")
    return _summary(latencies[1:])


def screenshots(folder: Path) -> list[Path]:
    """The page mid-exercise, at a phone's size and a laptop's, as PNG files."""
    folder.mkdir(parents=True, exist_ok=True)
    saved: list[Path] = []
    for name, (width, height) in {"page-phone": (412, 915), "page-laptop": (1280, 800)}.items():
        with coach_session("--text", "--silent") as session, chromium(width, height) as driver:
            driver.get(session.url)
            for line in ("start the warm-up", "skip"):
                time.sleep(1.0)
                session.type(line)
            time.sleep(13.0)
            session.type("what's next")
            time.sleep(1.5)
            path = folder / f"{name}.png"
            driver.save_screenshot(str(path))
            saved.append(path)
    return saved


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime


def idle_cpu(seconds: float, web: bool, page: bool) -> float:
    """A typed session with nothing running: CPU as a share of one core (%)."""
    if not web:
        with tempfile.TemporaryDirectory() as home:
            env = {**os.environ, "XDG_STATE_HOME": home, "XDG_DATA_HOME": home,
                   "COACH_SETTINGS": f"{home}/x.toml"}
            process = subprocess.Popen([str(COACH), "run", "--text", "--silent"],
                                       stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL, env=env)
            try:
                time.sleep(15.0)  # loaded and settled
                return _measure(process.pid, seconds)
            finally:
                process.kill()
                process.wait()
    with coach_session("--text", "--silent") as session:
        if not page:
            time.sleep(5.0)
            return _measure(session.process.pid, seconds)
        with chromium(412, 915) as driver:
            driver.get(session.url)
            time.sleep(5.0)
            return _measure(session.process.pid, seconds)


def _measure(pid: int, seconds: float) -> float:
    before, start = _cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    used, spent = _cpu_seconds(pid) - before, time.monotonic() - start
    return round(100.0 * used / spent, 2)


def drift_with_page(seconds: float, page: bool) -> dict[str, object]:
    content, _ = load_content((default_routine_dir(),))
    if not page:
        return run_drift(content, seconds, 1.0, "real clock, no page").summary()
    session_clock: list[Callable[[], float]] = [lambda: 0.0]
    model = ScreenModel("bench", lambda: session_clock[0]())
    web = WebScreen(model, lambda action: None, WebSettings(port=0))
    url = web.start()
    try:
        with chromium(412, 915) as driver:
            driver.get(url)
            time.sleep(2.0)
            result = run_drift(content, seconds, 1.0, "real clock, page open", screen=model,
                               on_clock=lambda clock: session_clock.__setitem__(0, clock))
            shown = len(driver.execute_script("return window.coachLatencies"))
    finally:
        web.stop()
    summary = result.summary()
    summary["page_updates"] = shown
    return summary


def write_report(results: dict[str, object], path: Path) -> None:
    latency = results["latency"]
    cpu = results["idle_cpu_percent"]
    drift = results["drift"]
    assert isinstance(latency, dict) and isinstance(cpu, dict) and isinstance(drift, dict)

    def row(name: str, values: dict[str, object]) -> str:
        return (f"| {name} | {values.get('n')} | {values.get('p50_ms')} | "
                f"{values.get('p95_ms')} | {values.get('max_ms')} |")

    def drift_row(name: str, values: dict[str, object]) -> str:
        return (f"| {name} | {values.get('announcements')} | {values.get('drift_ms_p50')} | "
                f"{values.get('drift_ms_p95')} | {values.get('drift_ms_max')} |")

    lines = [
        "# Screen bench", "",
        f"`python -m bench.screen` on {results['date']} ({results['cores']} cores). "
        "Real `coach run --web` processes, headless chromium showing the page, wall clock.",
        "", "## Event to page update (goal: p95 <= 200 ms)", "",
        "| session | updates | p50 ms | p95 ms | max ms |", "|---|---|---|---|---|",
        row("typed, driven through two routines", latency["typed"]),
        row("WAV in real time, Whisper decoding in-process", latency["wav"]),
        "", "## Idle CPU of a typed session, nothing running (goal: web server < 1% of a core)",
        "",
        "| setup | CPU, % of one core |", "|---|---|",
        f"| no page | {cpu['no_web']} |",
        f"| page served, none open | {cpu['web_no_page']} |",
        f"| page served and open | {cpu['web_page']} |",
        "", "The server's own share is the difference from the first row.", "",
        f"## Announcement drift on the real clock, {results['drift_seconds']} s routine "
        "(goal: unchanged with the page open)", "",
        "| run | announcements | p50 ms | p95 ms | max ms |", "|---|---|---|---|---|",
        drift_row("no page", drift["no_page"]),
        drift_row(f"page open ({drift['page'].get('page_updates')} page updates)",
                  drift["page"]),
        "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.screen", description=__doc__)
    parser.add_argument("--drift-seconds", type=float, default=240.0)
    parser.add_argument("--idle-seconds", type=float, default=60.0)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--report", type=Path, default=ROOT / "bench" / "SCREEN.md")
    parser.add_argument("--screenshots", type=Path, metavar="DIR",
                        help="only take the page's screenshots (docs/screen) and stop")
    args = parser.parse_args(argv)
    if args.screenshots is not None:
        for path in screenshots(args.screenshots):
            print(path)
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-screen-") as work:
        latency = {"typed": page_latency_typed(), "wav": page_latency_wav(Path(work))}
    print("latency", latency, flush=True)
    cpu = {"no_web": idle_cpu(args.idle_seconds, web=False, page=False),
           "web_no_page": idle_cpu(args.idle_seconds, web=True, page=False),
           "web_page": idle_cpu(args.idle_seconds, web=True, page=True)}
    print("idle cpu", cpu, flush=True)
    drift = {"no_page": drift_with_page(args.drift_seconds, page=False),
             "page": drift_with_page(args.drift_seconds, page=True)}
    print("drift", drift, flush=True)
    results: dict[str, object] = {"date": date.today().isoformat(), "cores": os.cpu_count(),
                                  "drift_seconds": args.drift_seconds, "latency": latency,
                                  "idle_cpu_percent": cpu, "drift": drift}
    (args.out / "screen.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    write_report(results, args.report)
    return 0


if __name__ == "__main__":
    threading.current_thread().name = "bench-screen"
    sys.exit(main())
