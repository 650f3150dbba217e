"""The not-a-doctor disclaimer: said at a user's first session in any mode, then never again.

It is marked as given only once it was really said: a printed or virtual voice when its
said event is out, a real voice when playback of it starts.
"""

from __future__ import annotations

import logging
from pathlib import Path

__all__ = ["DisclaimerMarker"]

_LOGGER = logging.getLogger(__name__)


class DisclaimerMarker:
    """A file whose existence says the not-a-doctor disclaimer was given to this user."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def due(self) -> bool:
        """True until the disclaimer was given to this user (per marker file)."""
        return not self.path.exists()

    def given(self) -> None:
        """The disclaimer was said: mark it.

        A marker that cannot be written is logged and ignored: the disclaimer then comes
        again next time, which is the safe side.
        """
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.touch()
        except OSError:
            _LOGGER.debug("cannot write %s", self.path)
