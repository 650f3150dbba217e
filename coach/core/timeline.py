"""A whole routine on a virtual clock: everything it says, with nobody interrupting."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from coach.content.model import IntentName, Routine
from coach.core.player import Output, Player
from coach.core.spoken import estimate_seconds

__all__ = ["timeline"]


def timeline(
    routine: Routine,
    phrases: Mapping[str, str],
    speech_seconds: Callable[[str], float] = estimate_seconds,
    start: float = 0.0,
) -> list[Output]:
    """Everything a routine says, on a virtual clock, with nobody interrupting."""
    player = Player({routine.id: routine}, phrases, speech_seconds)
    out = player.handle(IntentName.START_ROUTINE, {"routine": routine.id}, start)
    deadline = player.next_deadline()
    while deadline is not None:
        out.extend(player.tick(deadline))
        deadline = player.next_deadline()
    return out

