"""The screens of one session, chosen once: printed lines or the terminal dashboard, and the
web page when asked. Every mode (typed, hands-free, a WAV file) opens them the same way."""

from __future__ import annotations

import io
import queue
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from coach.content.model import CommandSet
from coach.session.events import SessionEvent
from coach.session.inputs import Input
from coach.session.printer import EventPrinter
from coach.session.screen.model import ScreenModel, labels_of
from coach.settings.screen import ScreenSettings

if TYPE_CHECKING:
    from coach.session.screen.web import WebScreen

__all__ = ["ScreenChoice", "Screens"]


@dataclass(frozen=True)
class ScreenChoice:
    """What the user asked for on the command line."""

    as_json: bool = False
    """Events as JSON lines (no dashboard)."""
    plain: bool = False
    """Printed lines instead of the dashboard."""
    web: bool = False
    """Serve the web page."""


class Screens:
    """Where a session's events go: the printer or the dashboard, and the web page's model.

    It is the session's event sink. `shown()` opens the screens for the session's length.
    """

    def __init__(self, knobs: ScreenSettings, choice: ScreenChoice, engine: str,
                 clock: Callable[[], float], commands: CommandSet) -> None:
        """`commands`: how the screen names each intent heard (their `shown_as`)."""
        self._knobs = knobs
        self._choice = choice
        self.model = ScreenModel(engine, clock, labels_of(commands))
        self.dashboard = (knobs.dashboard.enabled and not choice.plain and not choice.as_json
                          and sys.stdout.isatty())
        self._printer = None if self.dashboard else EventPrinter(choice.as_json)

    def __call__(self, event: SessionEvent) -> None:
        self.model(event)
        if self._printer is not None:
            self._printer(event)

    def level(self, level_db: float) -> None:
        """The microphone's level (dBFS), for the meter."""
        self.model.level(level_db)

    @contextmanager
    def shown(self, press: Callable[[str], None],
              typed: queue.Queue[Input] | None = None,
              history_png: Callable[[], bytes] | None = None) -> Iterator[None]:
        """The screens, open for a `with` block. `press(action)` takes the web page's
        buttons; `typed`: where a typed session's lines go (read key by key under the
        dashboard, so its echo does not break the screen); `history_png`: the workout log's
        plot for the page."""
        with ExitStack() as stack:
            url, web = None, None
            if self._choice.web:
                url, web = self._serve(press, stack, history_png)
            if typed is not None and self.dashboard and sys.stdin.isatty():
                from coach.session.screen.keyboard import KeyboardLines

                keyboard = stack.enter_context(KeyboardLines(sys.stdin.fileno(), typed))
                typing: Callable[[], str] | None = keyboard.current
            else:
                keyboard, typing = None, None
                if typed is not None:
                    _read_lines_in_background(typed)
            if self.dashboard:
                from coach.session.screen.dashboard import Dashboard

                qr = None
                if web is not None and url is not None and not self._on_this_machine():
                    code = qr_text(url)
                    page = web

                    def qr() -> str | None:  # until a phone has the page open
                        return code if page.pages == 0 else None

                dashboard = stack.enter_context(Dashboard(self.model, self._knobs.dashboard,
                                                          url=url, typing=typing, qr=qr))
                if keyboard is not None:
                    keyboard.on_change(dashboard.refresh)
            yield

    def _on_this_machine(self) -> bool:
        from coach.session.screen.web import is_loopback

        return is_loopback(self._knobs.web.host)

    def _serve(self, press: Callable[[str], None], stack: ExitStack,
               history_png: Callable[[], bytes] | None) -> tuple[str, WebScreen]:
        from coach.session.screen.web import WebScreen

        web = WebScreen(self.model, press, self._knobs.web, history_png)
        url = web.start()
        stack.callback(web.stop)
        print(f"Screen: {url}", file=sys.stderr)
        if not self._on_this_machine():
            print("Open it on a phone on this network (scan the code). Anyone with this "
                  "address can see and control the session.", file=sys.stderr)
            print(qr_text(url), file=sys.stderr)
        return url, web


def qr_text(url: str) -> str:
    """`url` as a QR code in block characters, for a terminal."""
    import segno

    out = io.StringIO()
    segno.make(url).terminal(out=out, compact=True, border=2)
    return out.getvalue()


def _read_lines_in_background(inputs: queue.Queue[Input]) -> None:
    import threading

    from coach.session.inputs import EndOfInput, Typed

    def read() -> None:
        for line in sys.stdin:
            if line.strip():
                inputs.put(Typed(line.strip()))
        inputs.put(EndOfInput())

    threading.Thread(target=read, name="coach-stdin", daemon=True).start()
