"""The first-run disclaimer: said at a user's first hands-free session, then never again."""

from __future__ import annotations

import logging
from pathlib import Path

__all__ = ["DisclaimerMarker"]

_LOGGER = logging.getLogger(__name__)


class DisclaimerMarker:
    """A file whose existence says the not-a-doctor disclaimer was given to this user."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def first_session(self) -> bool:
        """True once per user (per marker file): the disclaimer is due; marks it given.

        A marker that cannot be written is logged and ignored: the disclaimer then comes
        again next time, which is the safe side.
        """
        if self.path.exists():
            return False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.touch()
        except OSError:
            _LOGGER.debug("cannot write %s", self.path)
        return True
