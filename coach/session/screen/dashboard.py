"""The terminal dashboard: rich's Live on the alternate screen, drawn from the ScreenModel.

A thread redraws it at once on every event and a few times a second for the countdown;
the session's loop only updates the model, so drawing never delays an announcement.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from types import TracebackType

from rich.align import Align
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from coach.session.screen.bigtext import big, width
from coach.session.screen.model import ScreenModel, Snapshot
from coach.settings.screen import DashboardSettings

__all__ = ["Dashboard", "clock_text", "render"]

_IDLE_HINT = 'Say "start the warm-up", or "help".'
_TYPED_IDLE_HINT = 'Type "start the warm-up", or "help".'


def clock_text(seconds: float) -> str:
    """A countdown as shown: whole seconds rounded up; m:ss from a minute."""
    whole = max(0, math.ceil(seconds - 1e-6))
    if whole < 60:
        return str(whole)
    return f"{whole // 60}:{whole % 60:02d}"


def render(snap: Snapshot, *, columns: int, url: str | None = None,
           typing: str | None = None, level_floor_db: float = -60.0,
           qr: str | None = None) -> RenderableType:
    """The whole dashboard for one snapshot, `columns` wide. `typing`: the line being typed,
    in a typed session (None when the session listens instead); `qr`: the page's address as
    a QR code, to show under it."""
    parts: list[RenderableType] = [_heading(snap, columns), Text()]
    parts.extend(_middle(snap, columns, typed=typing is not None))
    parts.append(Text())
    parts.append(_conversation(snap))
    parts.append(_input_line(snap, typing, level_floor_db))
    title = Text.assemble(("coach", "bold"), "  ", (snap.engine, "dim"))
    subtitle = Text(url, style="dim") if url else None
    panel = Panel(Group(*parts), title=title, subtitle=subtitle, border_style="blue",
                  padding=(0, 2))
    if qr is None:
        return panel
    scan = Text("Scan to open the page on a phone:", style="bold")
    return Group(panel, scan, Text(qr, no_wrap=True))


def _heading(snap: Snapshot, columns: int) -> RenderableType:
    if snap.routine is None:
        label = "Done. Nice work." if snap.state == "finished" else "Ready"
        return Text(label, style="bold cyan")
    where = f"exercise {snap.step} of {snap.steps}" if snap.step else ""
    name = Text.assemble((snap.routine.upper(), "bold cyan"), "  ", (where, "cyan"))
    left = Text(_left_in_routine(snap), style="cyan")
    if name.cell_len + left.cell_len + 2 > columns:  # too narrow for one line: two
        return Group(name, left)
    grid = Table.grid(expand=True)
    grid.add_column(ratio=1)
    grid.add_column(justify="right")
    grid.add_row(name, left)
    return grid


def _left_in_routine(snap: Snapshot) -> str:
    if snap.routine_left is None:
        return ""
    return f"{clock_text(snap.routine_left)} left in the routine"


def _middle(snap: Snapshot, columns: int, typed: bool) -> list[RenderableType]:
    if snap.routine is None or snap.remaining is None:
        hint = _TYPED_IDLE_HINT if typed else _IDLE_HINT
        return [Align.center(Text(hint, style="bold"))]
    paused = snap.state == "paused"
    title = Text(snap.title.upper(), style="bold yellow" if paused else "bold white")
    if snap.dose:
        title.append(f"   {snap.dose}", style="white")
    if paused:
        title.append("   PAUSED", style="bold black on yellow")
    count = clock_text(snap.remaining)
    style = "yellow" if paused else "bold green"
    if width(count) + 6 <= columns:
        # one block, centred as a whole: each row centred alone would shift the glyphs
        digits: RenderableType = Text("\n".join(big(count)), style=style, no_wrap=True)
    else:
        digits = Text(count, style=style)
    bars = Table.grid(padding=(0, 1), expand=True)
    bars.add_column(width=9)
    bars.add_column(ratio=1)
    bars.add_row("exercise", _bar(snap.remaining, snap.segment_seconds, "green"))
    bars.add_row("routine", _bar(snap.routine_left, snap.routine_seconds, "cyan"))
    upcoming = Text.assemble(("Next: ", "bold"), snap.upcoming or "the end: last exercise")
    return [title, Text(), Align.center(digits), Text(), bars, upcoming]


def _bar(left: float | None, total: float | None, colour: str) -> ProgressBar:
    total = total or 1.0
    done = total - (left if left is not None else total)
    return ProgressBar(total=total, completed=max(0.0, done), complete_style=colour,
                       finished_style=colour)


def _conversation(snap: Snapshot) -> RenderableType:
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold", width=7)
    grid.add_column(ratio=1)
    grid.add_row("Coach", Text(snap.said or "-", style="white"))
    if snap.heard is None:
        grid.add_row("Heard", Text("-", style="dim"))
    else:
        style = "green" if snap.heard.understood else "red"
        grid.add_row("Heard", Text.assemble(f"\"{snap.heard.text}\"  → ",
                                            (snap.heard.outcome, style)))
    if snap.notice:
        grid.add_row("", Text(snap.notice, style="dim"))
    return grid


def _input_line(snap: Snapshot, typing: str | None, floor_db: float) -> RenderableType:
    if typing is not None:
        return Text.assemble(("> ", "bold magenta"), typing, ("█", "magenta"))
    if snap.level_db is None:
        return Text("○ not listening", style="dim")
    share = min(1.0, max(0.0, (snap.level_db - floor_db) / -floor_db))
    cells = 20
    lit = round(share * cells)
    return Text.assemble(("● listening  ", "bold green"), ("▮" * lit, "green"),
                         ("▯" * (cells - lit), "dim"), f"  {snap.level_db:5.0f} dB")


class Dashboard:
    """The live dashboard on the terminal's alternate screen, for a `with` block."""

    def __init__(
        self,
        model: ScreenModel,
        knobs: DashboardSettings,
        *,
        url: str | None = None,
        typing: Callable[[], str] | None = None,
        console: Console | None = None,
        qr: Callable[[], str | None] | None = None,
    ) -> None:
        """`typing`: the line being typed now, in a typed session; `qr`: the page's QR code
        while it should be shown (None once a page is open)."""
        self._model = model
        self._knobs = knobs
        self._url = url
        self._typing = typing
        self._qr = qr
        self._console = console or Console()
        self._live = Live(console=self._console, screen=True, auto_refresh=False,
                          redirect_stdout=False, redirect_stderr=False)
        self._wake = threading.Event()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._redraw, name="coach-dashboard",
                                        daemon=True)
        model.subscribe(self._changed)

    def refresh(self) -> None:
        """Redraw at once (a key was typed)."""
        self._wake.set()

    def __enter__(self) -> Dashboard:
        self._live.start()
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._done.set()
        self._wake.set()
        self._thread.join(timeout=1.0)
        self._live.stop()

    def _changed(self, level_only: bool) -> None:
        if not level_only:  # the meter moves with the next tick
            self._wake.set()

    def _redraw(self) -> None:
        while not self._done.is_set():
            typing = self._typing() if self._typing is not None else None
            view = render(self._model.snapshot(), columns=self._console.size.width - 6,
                          url=self._url, typing=typing,
                          level_floor_db=self._knobs.level_floor_db,
                          qr=self._qr() if self._qr is not None else None)
            self._live.update(view, refresh=True)
            self._wake.wait(self._knobs.tick_s)
            self._wake.clear()
