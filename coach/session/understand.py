"""The session's understanding: templates and FAQ phrasings, plus the sentence-meaning model
for everyday words no template foresaw (when it is installed and not turned off)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path

from coach.content.model import Content
from coach.core.understanding import Understanding
from coach.settings import Settings

__all__ = ["attach_meanings", "build_understanding", "first_start_notice"]

_LOGGER = logging.getLogger(__name__)


ANNOUNCE_FROM = 500
"""Encoding this many sentences takes long enough (seconds; thousands on a first start take
about a minute on a small computer) to say why the coach is not ready yet."""


def first_start_notice(count: int) -> None:
    """Say on stderr why this start is slow, when it is: the sentence vectors of the
    coach's own phrasings are made once and kept."""
    if count >= ANNOUNCE_FROM:
        print(f"coach: getting ready to understand everyday words: learning {count} "
              "phrasings, once (up to a minute)...", file=sys.stderr, flush=True)


def build_understanding(
    content: Content, settings: Settings, cache_dir: Path | None = None,
    announce: Callable[[int], None] | None = first_start_notice,
) -> Understanding:
    """Understanding for these settings. `cache_dir`: where sentence vectors are kept
    (None: the user's cache folder); `announce` is told how many must be made first.

    Without the model's files the coach still understands the templates and the FAQ
    phrasings, and says once (a warning) how to install the rest.
    """
    understanding = Understanding(content.commands, content.faq, settings.understanding)
    if settings.understanding.meanings:
        problem = attach_meanings(understanding, cache_dir, announce)
        if problem is not None:
            _LOGGER.warning("%s Until then the coach understands only its own phrasings.",
                            problem)
    return understanding


def attach_meanings(understanding: Understanding, cache_dir: Path | None = None,
                    announce: Callable[[int], None] | None = None) -> str | None:
    """Give `understanding` the sentence-meaning model over its own examples; the reason it
    could not (what to do), or None. `announce`: as for `build_understanding`."""
    from coach.meaning.files import MeaningModelError, find_model_files

    try:
        from coach.meaning.cache import default_cache_dir
        from coach.meaning.encoder import SentenceEncoder
        from coach.meaning.index import MeaningIndex

        encoder = SentenceEncoder(find_model_files())
        index = MeaningIndex(encoder, understanding.examples(), cache_dir or default_cache_dir(),
                             announce)
    except MeaningModelError as error:
        return str(error)
    understanding.use_meanings(index)
    return None
