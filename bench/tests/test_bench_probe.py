"""The cost probe's peak memory is its own process's, whoever started it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from bench.probe import peak_rss_mb

ROOT = Path(__file__).resolve().parents[2]

_CHILD = ("import numpy as np; from bench.probe import peak_rss_mb; "
          "held = np.ones({mb} * 2**20 // 8); print(peak_rss_mb())")


def _child_peak(mb: int) -> float:
    done = subprocess.run([sys.executable, "-c", _CHILD.format(mb=mb)], cwd=ROOT,
                          capture_output=True, text=True, check=True, timeout=60)
    return float(done.stdout.strip().splitlines()[-1])


def test_a_probe_started_by_a_large_process_reports_its_own_peak() -> None:
    parent = np.ones(400 * 2**20 // 8)  # the bench holds the engines' audio: 400 MB touched
    assert peak_rss_mb() >= 400
    small, large = _child_peak(10), _child_peak(200)
    assert small < 150  # not the parent's 400 MB (ru_maxrss would say over 400)
    assert large >= 200 > small  # and what the child itself holds does count
    del parent


def test_the_peak_falls_back_when_proc_cannot_be_read(tmp_path: Path) -> None:
    assert peak_rss_mb(tmp_path / "missing") > 0
