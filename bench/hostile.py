"""Hostile input, measured: how long each takes to be handled and how much memory the whole
`coach` process peaks at while handling it.

    python -m bench.hostile [--out bench/out]

Hostile WAV files (those of tests/test_wav_hostile.py) through `coach listen` and `coach run`.
Routine files: the hostile folder of the tests (tests/data/hostile/routines) plus a few made
here (a 1 MB file, a folder of 600 files), each through `coach check FILE` and the folder
through `coach --routines DIR play good --dry-run`: wall time and peak RSS of the process
(`/usr/bin/time`). Text: typed lines of every size up to 10 KB, answered by a typed session
in this process with the sentence-meaning model attached (time per line, the worst of
several), and `coach intent` on the longest (process time and peak RSS).

Writes bench/out/hostile.json and bench/HOSTILE.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from coach.content.limits import LIMITS
from coach.content.loader import default_routine_dir, load_content
from coach.core.understanding import Understanding
from coach.session.coach import Coach
from coach.session.understand import attach_meanings
from coach.settings.understanding import UnderstandingSettings

__all__ = ["main"]

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = ROOT / "tests" / "data" / "hostile" / "routines"
_WORDS = ("my", "back", "hurts", "when", "i", "squat", "and", "the", "time", "left", "pause",
          "resume", "what", "is", "next", "how", "long", "please", "coach", "start", "warm",
          "up", "why", "does", "lower", "it", ".", "?", ",")
_TIME_LIMIT_S = 2.0
_MEMORY_LIMIT_MB = 300.0


def _measured(args: Sequence[str]) -> dict[str, object]:
    """Run `coach ARGS`; wall seconds, peak RSS (MB), exit code, whether a traceback showed."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as timing:
        started = time.perf_counter()
        result = subprocess.run(
            ["/usr/bin/time", "-f", "%M", "-o", timing.name, sys.executable, "-m", "coach",
             *args],
            capture_output=True, text=True, timeout=300, check=False,
            env={**os.environ, "XDG_STATE_HOME": tempfile.mkdtemp(prefix="bench-state-")},
        )
        seconds = time.perf_counter() - started
        peak_kb = int(Path(timing.name).read_text().split()[-1])
    return {"seconds": round(seconds, 3), "peak_mb": round(peak_kb / 1024, 1),
            "exit": result.returncode,
            "traceback": "Traceback" in result.stdout + result.stderr}


def _made_files(folder: Path) -> list[Path]:
    big = folder / "one-megabyte.yaml"
    big.write_text("id: big\nname: Big\n# " + "x" * LIMITS.file_bytes + "\n", encoding="utf-8")
    many = folder / "many"
    many.mkdir()
    for index in range(600):
        (many / f"r{index:04d}.yaml").write_text(
            f"id: r{index:04d}\nname: R\nexercises:\n  - {{name: x, seconds: 5}}\n",
            encoding="utf-8")
    return [big, many]


def wav_inputs() -> list[dict[str, object]]:
    """The hostile WAV files of the tests, each through `coach listen` and `coach run`."""
    from tests.test_wav_hostile import HOSTILE as HOSTILE_WAVS
    from tests.test_wav_hostile import make

    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="bench-hostile-wav-") as folder:
        for name, (content, _says) in sorted(HOSTILE_WAVS.items()):
            path = make(Path(folder), name, content)
            for command in ("listen", "run"):
                rows.append({"input": f"{command} --input {name}",
                             **_measured([command, "--input", str(path), "--json"])})
    return rows


def routine_inputs() -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="bench-hostile-") as folder:
        paths = sorted(HOSTILE.iterdir()) + _made_files(Path(folder))
        for path in paths:
            rows.append({"input": f"check {path.name}", **_measured(["check", str(path)])})
        rows.append({"input": "play good --dry-run beside every hostile file",
                     **_measured(["--routines", str(HOSTILE), "play", "good", "--dry-run"])})
    return rows


def _lines(seed: int) -> dict[str, str]:
    rng = random.Random(seed)
    most = UnderstandingSettings().max_words

    def salad(words: int) -> str:
        return " ".join(rng.choice(_WORDS) for _ in range(words))

    lines = {f"{words} words of command words": salad(words) for words in (3, 10, 30, most)}
    lines[f"{most + 1} words"] = salad(most + 1)
    lines["6 KB line"] = salad(2000)[:6000]
    lines["10 KB line"] = salad(3000)[:10000]
    lines["10 KB of one word"] = "a" * 10000
    lines["10 KB of punctuation"] = "?!. " * 2500
    return lines


def typed_lines(repeats: int = 5) -> list[dict[str, object]]:
    """The worst answer time of each kind of line, through a typed session's Coach."""
    content, _ = load_content([default_routine_dir()])
    understanding = Understanding(content.commands, content.faq)
    if attach_meanings(understanding) is not None:
        raise SystemExit("the sentence-meaning model is missing: run scripts/setup")
    coach = Coach(content, understanding, None, lambda _event: None)
    worst: dict[str, float] = {}
    sizes: dict[str, tuple[int, int]] = {}
    clock = 0.0
    for repeat in range(repeats):  # new sentences each time: nothing remembered
        for name, line in _lines(seed=repeat).items():
            started = time.perf_counter()
            coach.typed(line, clock)
            worst[name] = max(worst.get(name, 0.0), time.perf_counter() - started)
            sizes[name] = (len(line.split()), len(line))
            clock += 30.0
    return [{"input": name, "words": sizes[name][0], "chars": sizes[name][1],
             "worst_seconds": round(seconds, 3)} for name, seconds in worst.items()]


def text_process() -> dict[str, object]:
    longest = _lines(seed=0)["10 KB line"]
    return {"input": "coach intent <10 KB line>", **_measured(["intent", longest])}


def _process(row: object) -> str:
    assert isinstance(row, dict)
    return (f"{row['seconds']} s, peak {row['peak_mb']} MB, exit {row['exit']}, "
            f"{'a traceback' if row['traceback'] else 'no traceback'}")


def write_report(results: dict[str, object], path: Path) -> None:
    routines, typed, wavs = results["routines"], results["typed"], results["wavs"]
    assert isinstance(routines, list) and isinstance(typed, list) and isinstance(wavs, list)
    slow = [r for r in routines if float(r["seconds"]) >= _TIME_LIMIT_S]
    big = [r for r in routines if float(r["peak_mb"]) >= _MEMORY_LIMIT_MB]
    tracebacks = [r for r in routines if r["traceback"]]
    lines = [
        "# Hostile input: time and memory per input",
        "",
        "`python -m bench.hostile` (load average when it ran: "
        f"{results['load_average']}; 2 shared cores). Generated; do not edit by hand.",
        "",
        f"- Routine files: {len(routines)} runs of the whole `coach` process; slowest "
        f"{max(float(r['seconds']) for r in routines):.2f} s, largest peak "
        f"{max(float(r['peak_mb']) for r in routines):.0f} MB; "
        f"{len(slow)} at or over {_TIME_LIMIT_S:g} s, {len(big)} at or over "
        f"{_MEMORY_LIMIT_MB:g} MB, {len(tracebacks)} tracebacks.",
        f"- Hostile WAV files: {len(wavs)} runs; slowest "
        f"{max(float(r['seconds']) for r in wavs):.2f} s, largest peak "
        f"{max(float(r['peak_mb']) for r in wavs):.0f} MB; exits "
        f"{sorted({int(r['exit']) for r in wavs})}, "
        f"{sum(1 for r in wavs if r['traceback'])} tracebacks.",
        f"- Typed lines (answer time in a running session, meaning model attached, worst of "
        f"{results['repeats']}): slowest {max(float(r['worst_seconds']) for r in typed):.3f} s.",
        f"- `coach intent` on a 10 KB line (the whole process): {_process(results['intent'])}.",
        "",
        "## Routine files (whole process: start, load, check)",
        "",
        "| input | exit | seconds | peak MB | traceback |",
        "|---|---:|---:|---:|---|",
        *(f"| {r['input']} | {r['exit']} | {r['seconds']} | {r['peak_mb']} | "
          f"{'yes' if r['traceback'] else 'no'} |" for r in routines),
        "",
        "## Hostile WAV files (whole process)",
        "",
        "| input | exit | seconds | peak MB | traceback |",
        "|---|---:|---:|---:|---|",
        *(f"| {r['input']} | {r['exit']} | {r['seconds']} | {r['peak_mb']} | "
          f"{'yes' if r['traceback'] else 'no'} |" for r in wavs),
        "",
        "## Typed lines (in a running session)",
        "",
        "| line | words | chars | worst seconds |",
        "|---|---:|---:|---:|",
        *(f"| {r['input']} | {r['words']} | {r['chars']} | {r['worst_seconds']} |"
          for r in typed),
        "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    typed = typed_lines(args.repeats)
    results: dict[str, object] = {
        "load_average": " ".join(f"{value:.1f}" for value in os.getloadavg()),
        "repeats": args.repeats,
        "typed": typed,
        "intent": text_process(),
        "routines": routine_inputs(),
        "wavs": wav_inputs(),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "hostile.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    write_report(results, ROOT / "bench" / "HOSTILE.md")
    print(json.dumps({"typed_worst_s": max(float(str(r["worst_seconds"])) for r in typed),
                      "intent": results["intent"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
