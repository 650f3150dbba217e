"""Download progress: the protocol `fetch` reports to, a silent one and a rich bar on stderr."""

from __future__ import annotations

from types import TracebackType
from typing import Protocol

__all__ = ["NullProgress", "Progress", "RichProgress"]


class Progress(Protocol):
    """Receives download progress; `start` is called again after a resume."""

    def start(self, total: int | None, completed: int) -> None: ...

    def advance(self, size: int) -> None: ...

    def stop(self) -> None: ...


class NullProgress:
    """Progress that shows nothing."""

    def start(self, total: int | None, completed: int) -> None:
        """Ignore."""

    def advance(self, size: int) -> None:
        """Ignore."""

    def stop(self) -> None:
        """Ignore."""


class RichProgress:
    """A rich progress bar on stderr: bytes, speed, time left."""

    def __init__(self, description: str) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )
        from rich.progress import Progress as _RichBar

        self._bar = _RichBar(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
        )
        self._task = self._bar.add_task(description, total=None, start=False)
        self._running = False

    def start(self, total: int | None, completed: int) -> None:
        if not self._running:
            self._bar.start()
            self._bar.start_task(self._task)
            self._running = True
        self._bar.update(self._task, total=total, completed=completed)

    def advance(self, size: int) -> None:
        self._bar.advance(self._task, size)

    def stop(self) -> None:
        if self._running:
            self._bar.stop()
            self._running = False

    def __enter__(self) -> RichProgress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
