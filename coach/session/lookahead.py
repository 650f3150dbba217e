"""Synthesising ahead: when a routine starts, every line it will say is made in the
background in the order it comes, so each starts at once when due (the routine's timeline
is known in advance; only replies are made on the spot)."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterable, Mapping

from coach.content.model import Routine
from coach.core.player import Say
from coach.core.timeline import timeline
from coach.session.events import SessionEvent, StateEvent

__all__ = ["LookAhead"]

_LOGGER = logging.getLogger(__name__)


class LookAhead:
    """A session event sink: at each routine's start, `prewarm` its lines in a thread."""

    def __init__(self, prewarm: Callable[[Iterable[str]], None],
                 routines: Mapping[str, Routine], phrases: Mapping[str, str]) -> None:
        self._prewarm = prewarm
        self._routines = routines
        self._phrases = phrases
        self._started: str | None = None
        self._work: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._run, name="coach-lookahead", daemon=True).start()

    def __call__(self, event: SessionEvent) -> None:
        if not isinstance(event, StateEvent):
            return
        if event.state != "intro" or event.routine is None:
            if event.state in ("idle", "finished"):
                self._started = None
            return
        if event.routine != self._started:
            self._started = event.routine
            self._work.put(event.routine)

    def lines(self, routine_id: str) -> list[str]:
        """A routine's lines in the order they are said, each once."""
        routine = self._routines.get(routine_id)
        if routine is None:
            return []
        texts = (out.text for out in timeline(routine, self._phrases) if isinstance(out, Say))
        return list(dict.fromkeys(texts))

    def _run(self) -> None:
        while True:
            routine = self._work.get()
            try:
                self._prewarm(self.lines(routine))
            except Exception:  # a line made late is still made when said
                _LOGGER.exception("synthesising %s ahead failed", routine)
