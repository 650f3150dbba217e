"""The terminal dashboard in a real terminal: tmux runs a typed session, send-keys types,
capture-pane reads the screen."""

from __future__ import annotations

import re
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.terminal import Terminal

COACH = Path(sys.executable).parent / "coach"

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    assert shutil.which("tmux"), "tmux is not installed: run scripts/setup --test"
    # COLUMNS and LINES would fix the width (pytest exports them); a terminal has neither
    env = (f"-u COLUMNS -u LINES XDG_STATE_HOME={tmp_path}/state "
           f"XDG_CONFIG_HOME={tmp_path}/config COACH_SETTINGS={tmp_path}/none.toml")
    command = (f"env {env} {COACH} run --text --silent 2>{tmp_path}/stderr; echo EXITED $?; "
               "stty -a; sleep 120")
    term = Terminal(command, 100, 34)
    try:
        yield term
    finally:
        term.close()


def left_in_routine(screen: str) -> int:
    found = re.search(r"(\d+):(\d\d) left in the routine", screen)
    assert found, screen
    return int(found[1]) * 60 + int(found[2])


def test_the_dashboard_counts_down_shows_what_is_next_resizes_and_leaves_the_terminal_sane(
        terminal: Terminal) -> None:
    terminal.wait_for(lambda s: 'Type "start the warm-up"' in s)
    assert "typed" in terminal.screen()  # the engine in use, in the frame's title
    terminal.type("start the warm-up")
    terminal.wait_for(lambda s: "GET READY" in s and "exercise 1 of 5" in s)
    terminal.type("skip")
    screen = terminal.wait_for(lambda s: "MARCHING IN PLACE" in s)
    assert "Next: leg swings" in screen
    assert '"skip"  → next' in screen
    assert "██" in screen  # the big countdown
    first = left_in_routine(screen)
    time.sleep(2.2)
    assert left_in_routine(terminal.screen()) < first

    # what is typed shows in the dashboard (the terminal's own echo is off)
    terminal.keys("-l", "paus")
    terminal.wait_for(lambda s: "> paus" in s)
    terminal.keys("-l", "e")
    terminal.keys("Enter")
    paused = terminal.wait_for(lambda s: "PAUSED" in s)
    assert '"pause"  → pause' in paused

    terminal.resize(60, 30)
    # the whole frame, redrawn at the new size: its corners within 60 columns
    narrow = terminal.wait_for(lambda s: s.splitlines()[0].rstrip().endswith("╮"))
    assert "MARCHING IN PLACE" in narrow
    assert any(line.rstrip().endswith("╯") for line in narrow.splitlines())

    terminal.keys("C-c")
    after = terminal.wait_for(lambda s: "EXITED" in s)
    assert "EXITED 130" in after
    flags = after.split()
    assert "icanon" in flags and "echo" in flags  # the terminal is as it was
    assert "MARCHING IN PLACE" not in after  # the alternate screen is gone


def test_on_the_network_the_dashboard_shows_the_qr_code_until_a_phone_opens_the_page(
        tmp_path: Path) -> None:
    import threading
    import urllib.request

    env = (f"-u COLUMNS -u LINES XDG_STATE_HOME={tmp_path}/state "
           f"XDG_CONFIG_HOME={tmp_path}/config COACH_SETTINGS={tmp_path}/none.toml")
    command = (f"env {env} {COACH} run --text --silent --web --web-host 0.0.0.0 "
               f"--web-port 0 2>{tmp_path}/stderr; sleep 60")
    term = Terminal(command, 100, 60)
    try:
        screen = term.wait_for(lambda s: "Scan to open the page on a phone" in s)
        assert "▄" in screen or "▀" in screen  # the code, in half blocks
        url = next(line.split(" ", 1)[1] for line in
                   (tmp_path / "stderr").read_text().splitlines() if line.startswith("Screen: "))
        local = url.replace(url.split("//")[1].split(":")[0], "127.0.0.1", 1)
        events = local.replace("/?", "/events?")
        opened = threading.Event()

        def phone() -> None:
            with urllib.request.urlopen(events, timeout=30) as stream:
                stream.readline()
                opened.set()
                time.sleep(5)

        threading.Thread(target=phone, daemon=True).start()
        assert opened.wait(15)
        term.wait_for(lambda s: "Scan to open" not in s)  # a page is open: the code goes
    finally:
        term.close()
