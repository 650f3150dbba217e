"""The user's folders coach keeps files in."""

from __future__ import annotations

from pathlib import Path

__all__ = ["default_cache_dir"]


def default_cache_dir() -> Path:
    """The user's cache folder for coach (platformdirs; XDG_CACHE_HOME on Linux)."""
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("coach"))
