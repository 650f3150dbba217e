"""Knobs of the screen: the terminal dashboard and the web page."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["DashboardSettings", "ScreenSettings", "WebSettings"]


@dataclass(frozen=True)
class DashboardSettings:
    """The terminal dashboard."""

    enabled: bool = True
    """Show it when stdout is a terminal (and not --json); False prints lines, as --plain."""
    tick_s: float = 0.25
    """Longest time between two redraws (seconds): the countdown moves once a second, so a
    quarter of a second keeps it on time; an event redraws at once."""
    level_floor_db: float = -60.0
    """The microphone meter's empty end (dBFS)."""


@dataclass(frozen=True)
class WebSettings:
    """The web page served beside a session."""

    enabled: bool = False
    """Serve it without being asked (--web)."""
    host: str = "127.0.0.1"
    """Address to listen on: loopback keeps it on this machine; 0.0.0.0 opens it to the
    local network (the URL's token still guards every request)."""
    port: int = 8765
    """Port to listen on; 0 takes any free one."""
    keepalive_s: float = 15.0
    """A comment line on an idle event stream this often (seconds), so proxies and phones
    that drop silent connections keep it."""
    level_every_s: float = 0.3
    """Longest rate of microphone-level updates sent to the page (seconds between two): the
    meter needs no more, and idle pages stay cheap."""
    client_queue: int = 64
    """Updates held for a slow page before the oldest are dropped (each carries the whole
    screen, so only the newest matters)."""
    stop_wait_s: float = 3.0
    """Longest wait for the server to close when the session ends (seconds)."""


@dataclass(frozen=True)
class ScreenSettings:
    """The dashboard and the web page."""

    dashboard: DashboardSettings = field(default_factory=DashboardSettings)
    web: WebSettings = field(default_factory=WebSettings)
