"""The session's understanding: templates and FAQ phrasings, plus the sentence-meaning model
for everyday words no template foresaw (when it is installed and not turned off)."""

from __future__ import annotations

import logging
from pathlib import Path

from coach.content.model import Content
from coach.core.understanding import Understanding
from coach.settings import Settings

__all__ = ["attach_meanings", "build_understanding"]

_LOGGER = logging.getLogger(__name__)


def build_understanding(
    content: Content, settings: Settings, cache_dir: Path | None = None
) -> Understanding:
    """Understanding for these settings. `cache_dir`: where sentence vectors are kept
    (None: the user's cache folder).

    Without the model's files the coach still understands the templates and the FAQ
    phrasings, and says once (a warning) how to install the rest.
    """
    understanding = Understanding(content.commands, content.faq, settings.understanding)
    if settings.understanding.meanings:
        problem = attach_meanings(understanding, cache_dir)
        if problem is not None:
            _LOGGER.warning("%s Until then the coach understands only its own phrasings.",
                            problem)
    return understanding


def attach_meanings(understanding: Understanding, cache_dir: Path | None = None) -> str | None:
    """Give `understanding` the sentence-meaning model over its own examples; the reason it
    could not (what to do), or None."""
    from coach.meaning.files import MeaningModelError, find_model_files

    try:
        from coach.meaning.cache import default_cache_dir
        from coach.meaning.encoder import SentenceEncoder
        from coach.meaning.index import MeaningIndex

        encoder = SentenceEncoder(find_model_files())
        index = MeaningIndex(encoder, understanding.examples(), cache_dir or default_cache_dir())
    except MeaningModelError as error:
        return str(error)
    understanding.use_meanings(index)
    return None
