"""A long WAV file through `coach run --input F.wav --json`: peak memory and speed.

The file is mostly quiet room (faint noise) with a few spoken commands (espeak-ng) every
ten minutes, built in a temporary folder block by block. The command runs under
/usr/bin/time, which gives the process's peak resident memory and wall time.

    python -m bench.wav_soak [--minutes 60] [--format int16-16k|float-48k-stereo]
                             [--engine whisper] [--label after]

Prints one JSON line and adds (or replaces) the matching row of bench/WAV.md.
"""

from __future__ import annotations

import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import numpy.typing as npt

from bench.audio import RATE, speak

__all__ = ["FORMATS", "main", "soak"]

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "WAV.md"
CYCLE_S = 600.0
"""The spoken script repeats every this many seconds of audio."""
SCRIPT = (  # (second within the cycle, words)
    (5.0, "start the core"),
    (60.0, "pause"),
    (70.0, "how much time is left"),
    (80.0, "resume"),
    (300.0, "stop"),
)
ROOM_NOISE = 3e-4
"""Standard deviation of the quiet room's noise (full scale 1.0): not digital silence."""
_BLOCK_S = 10.0


@dataclass(frozen=True)
class FileFormat:
    """How the soak file is encoded."""

    rate: int
    """Sample rate (hertz)."""
    channels: int
    float32: bool
    """32-bit float samples; else 16-bit PCM."""

    def encode(self, mono: npt.NDArray[np.float32]) -> bytes:
        """Mono audio in [-1, 1] at 16 kHz -> this format's bytes (resampled, channels copied)."""
        if self.rate != RATE:
            import soxr

            mono = soxr.resample(mono, RATE, self.rate).astype(np.float32)
        frames = np.repeat(mono[:, None], self.channels, axis=1)
        if self.float32:
            return bytes(frames.astype("<f4").tobytes())
        return bytes(np.clip(np.rint(frames * 32768.0), -32768, 32767).astype("<i2").tobytes())

    def header(self, data_bytes: int) -> bytes:
        width = 4 if self.float32 else 2
        fmt = struct.pack("<HHIIHH", 3 if self.float32 else 1, self.channels, self.rate,
                          self.rate * self.channels * width, self.channels * width, width * 8)
        body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
        body += b"data" + struct.pack("<I", data_bytes)
        return b"RIFF" + struct.pack("<I", len(body) + data_bytes) + body


FORMATS = {
    "int16-16k": FileFormat(RATE, 1, float32=False),
    "float-48k-stereo": FileFormat(48_000, 2, float32=True),
}


def _blocks(seconds: float) -> Iterator[npt.NDArray[np.float32]]:
    """The soak audio at 16 kHz mono, `_BLOCK_S` at a time, never the whole of it at once."""
    rng = np.random.default_rng(7)
    spoken = [(int(at * RATE), speak(words).astype(np.float32) / 32768.0) for at, words in SCRIPT]
    block, cycle, total = int(_BLOCK_S * RATE), int(CYCLE_S * RATE), int(seconds * RATE)
    for begin in range(0, total, block):
        audio = (rng.standard_normal(min(block, total - begin)) * ROOM_NOISE).astype(np.float32)
        for offset, pcm in spoken:
            _overlay(audio, begin, pcm, begin // cycle * cycle + offset)
        yield audio


def _overlay(audio: npt.NDArray[np.float32], begin: int, pcm: npt.NDArray[np.float32],
             start: int) -> None:
    """Add `pcm`, which starts at sample `start`, to the part of it `audio` (at `begin`) holds."""
    low, high = max(start, begin), min(start + len(pcm), begin + len(audio))
    if low < high:
        audio[low - begin : high - begin] += pcm[low - start : high - start]


def build_file(path: Path, seconds: float, file_format: FileFormat) -> None:
    """Write the soak WAV in `_BLOCK_S` blocks; the header's sizes are patched at the end."""
    with path.open("wb") as out:
        out.write(file_format.header(0))
        written = sum(_write(out, file_format.encode(block)) for block in _blocks(seconds))
        out.seek(0)
        out.write(file_format.header(written))


def _write(out: BinaryIO, data: bytes) -> int:
    out.write(data)
    return len(data)


def soak(seconds: float, file_format: FileFormat, engine: str | None) -> dict[str, object]:
    """Peak RSS (MB), wall time (s) and speed of one `coach run --input` over a new file."""
    with tempfile.TemporaryDirectory(prefix="bench-wav-") as folder:
        wav, timing = Path(folder) / "soak.wav", Path(folder) / "time.txt"
        build_file(wav, seconds, file_format)
        engine_flags = ["--engine", engine] if engine else []
        command = ["/usr/bin/time", "-f", "%M %e", "-o", str(timing), sys.executable, "-m",
                   "coach", *engine_flags, "run", "--input", str(wav), "--json"]
        # a fresh state folder: the user's first-run marker stays untouched
        env = {**os.environ, "XDG_STATE_HOME": str(Path(folder) / "state")}
        result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT,
                                check=False)
        peak_kb, wall_s = timing.read_text().split()[-2:]
    events = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    heard = sum(1 for event in events if event.get("type") == "heard")
    commands = len(SCRIPT) * int(np.ceil(seconds / CYCLE_S))
    return {"exit": result.returncode, "peak_rss_mb": round(int(peak_kb) / 1024.0, 1),
            "wall_s": float(wall_s), "real_time_ratio": round(float(wall_s) / seconds, 4),
            "heard": heard, "commands": commands, "stderr": result.stderr.strip()[-500:]}


_TABLE_HEAD = ("| code | audio | engine | peak RSS (MB) | wall (s) | wall / audio length "
               "| heard / spoken |\n|---|---|---|---|---|---|---|\n")
_INTRO = """# A long WAV file as the microphone: memory and speed

`python -m bench.wav_soak --minutes M --format F [--engine E] --label L` builds M minutes of
faint room noise with five espeak-ng commands every ten minutes ("start the core", "pause",
"how much time is left", "resume", "stop"), then runs `coach run --input F.wav --json`
under `/usr/bin/time` (peak resident memory, wall time). "before": the reader that decoded
the whole file into memory; "after": the streaming reader (blocks, resampled per block);
"after, int8 copy": the same, with Whisper loading its int8 copy.
The machine: 2 cores, shared with other work while measuring, so wall times are rough.

"""


def write_row(label: str, minutes: float, name: str, engine: str,
              result: dict[str, object]) -> None:
    """Add this run's row to bench/WAV.md, replacing a row with the same code, audio, engine."""
    audio = f"{minutes:g} min {name}"
    row = (f"| {label} | {audio} | {engine} | {result['peak_rss_mb']} | {result['wall_s']} "
           f"| {result['real_time_ratio']} | {result['heard']} / {result['commands']} |")
    rows = [line for line in _table_rows() if line.split("|")[1:4] != row.split("|")[1:4]]
    notes = _notes()
    RESULTS.write_text(_INTRO + _TABLE_HEAD + "\n".join([*rows, row]) + "\n" + notes)


def _table_rows() -> list[str]:
    if not RESULTS.exists():
        return []
    lines = RESULTS.read_text().splitlines()
    return [line for line in lines if line.startswith("| ") and not line.startswith("| code")]


def _notes() -> str:
    """Whatever follows the table in bench/WAV.md (hand-written notes), kept as it is."""
    if not RESULTS.exists():
        return ""
    text = RESULTS.read_text()
    after_table = text.split(_TABLE_HEAD, 1)[-1].splitlines(keepends=True)
    rest = [line for line in after_table if not line.startswith("| ")]
    return "".join(rest)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.wav_soak", description=__doc__)
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--format", choices=sorted(FORMATS), default="int16-16k")
    parser.add_argument("--engine", default="whisper", help="speech engine (coach --engine)")
    parser.add_argument("--label", default="after", help="the code measured, e.g. before")
    parser.add_argument("--no-write", action="store_true", help="print only; leave WAV.md")
    args = parser.parse_args(argv)
    result = soak(args.minutes * 60.0, FORMATS[args.format], args.engine)
    print(json.dumps({"label": args.label, "minutes": args.minutes, "format": args.format,
                      "engine": args.engine, **result}))
    if not args.no_write and result["exit"] == 0:
        write_row(args.label, args.minutes, args.format, args.engine, result)
    return 0 if result["exit"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
