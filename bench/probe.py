"""Run in a fresh process: load an engine, listen to a WAV at real-time pace, report cost.

    python -m bench.probe --engine whisper --wav F.wav --seconds 60 --spawned EPOCH

Prints one JSON line: start-up time (process spawn to first audio accepted), CPU share of one
core while listening (process CPU time / wall time), peak resident memory (VmHWM).
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = ["main", "peak_rss_mb"]

_CHUNK_SECONDS = 0.1
_GIVE_UP_LAG_SECONDS = 20.0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.probe")
    parser.add_argument("--engine", required=True)
    parser.add_argument("--wav", type=Path)
    parser.add_argument("--seconds", type=float, default=0.0)
    parser.add_argument("--spawned", type=float, required=True, help="time.time() at spawn")
    parser.add_argument("--routines", type=Path, default=Path("routines"))
    parser.add_argument("--enhance", help="speech enhancement before the recogniser")
    args = parser.parse_args(argv)

    from coach.content.loader import load_content
    from coach.hearing.asr.select import make_recognizer
    from coach.session.understand import build_understanding
    from coach.settings import Settings

    content, _errors = load_content([args.routines])
    understanding = build_understanding(content, Settings())
    recognizer = make_recognizer(args.engine, None, understanding.phrases(),
                                 is_complete=understanding.is_complete,
                                 keeps_meaning=understanding.keeps_meaning)
    if args.enhance:
        from coach.session.wiring import enhanced

        recognizer = enhanced(recognizer, args.enhance)
    step = round(recognizer.sample_rate * _CHUNK_SECONDS)
    recognizer.accept(np.zeros(step, np.int16))
    startup = time.time() - args.spawned
    report: dict[str, object] = {"engine": args.engine, "startup_seconds": round(startup, 3)}
    if args.wav is not None and args.seconds > 0:
        report.update(_listen(recognizer, args.wav, args.seconds, step))
    report["peak_rss_mb"] = round(peak_rss_mb(), 1)
    print(json.dumps(report), flush=True)
    return 0


def peak_rss_mb(status: Path = Path("/proc/self/status")) -> float:
    """This process's peak resident memory (MB): the kernel's high-water mark of its own
    memory. Not ru_maxrss: Linux keeps that across exec, so a process started by a large
    one (the bench, which holds every engine's audio) reports its parent's size."""
    try:
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _listen(recognizer: object, wav: Path, seconds: float, step: int) -> dict[str, object]:
    from bench.audio import RATE, read_wav_16k

    total = round(seconds * RATE)
    pcm = np.resize(read_wav_16k(wav), total)  # the commands again and again, for `seconds`
    accept = recognizer.accept  # type: ignore[attr-defined]
    heard = 0
    cpu_start, wall_start = time.process_time(), time.monotonic()
    fed = 0
    for offset in range(0, total, step):
        heard += len(accept(pcm[offset : offset + step]))
        fed = offset + step
        due = wall_start + fed / RATE
        lag = time.monotonic() - due
        if lag > _GIVE_UP_LAG_SECONDS:
            break  # slower than real time: the share is 100% and the wait would be endless
        time.sleep(max(0.0, -lag))
    cpu, wall = time.process_time() - cpu_start, time.monotonic() - wall_start
    audio = fed / RATE
    # CPU seconds per second of audio: the share of a core listening takes. When the engine
    # is slower than real time this exceeds cpu / wall (it cannot keep up on one core).
    return {"listen_seconds": round(wall, 2), "audio_seconds": round(audio, 2),
            "kept_up": wall <= audio + 1.0, "cpu_share": round(cpu / audio, 4) if audio else None,
            "cpu_per_wall": round(cpu / wall, 4), "utterances_heard": heard}


if __name__ == "__main__":
    raise SystemExit(main())
