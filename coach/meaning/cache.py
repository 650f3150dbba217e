"""Sentence vectors kept on disk, by sentence, so each sentence is encoded once per model.

Encoding all the examples takes seconds; a changed routine or FAQ entry then costs only its
own new sentences. One file per model, rewritten whole (atomically) when sentences are added.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from coach.meaning.encoder import Vectors
from coach.settings.folders import default_cache_dir

__all__ = ["VectorCache", "default_cache_dir"]

_LOGGER = logging.getLogger(__name__)

CACHE_VERSION = "1"
"""Bumped when the way vectors are made changes, so old files are not read."""
MAX_ROWS = 100_000
"""A file that grew past this many sentences starts afresh (old content, edited phrasings)."""


class VectorCache:
    """Vectors of sentences for one model, in one file of a folder."""

    def __init__(self, folder: Path, model_identity: str, width: int) -> None:
        digest = hashlib.sha256(f"{CACHE_VERSION}|{model_identity}".encode()).hexdigest()
        self.path = folder / f"sentence-vectors-{digest[:16]}.npz"
        self._width = width

    def vectors(
        self, sentences: Sequence[str], encode: Callable[[Sequence[str]], Vectors],
        announce: Callable[[int], None] | None = None,
    ) -> Vectors:
        """The vectors of `sentences` in order: read where kept, the rest encoded and kept.
        `announce` is told how many must be encoded, before they are."""
        known = self._read()
        missing = [sentence for sentence in dict.fromkeys(sentences) if sentence not in known]
        if missing:
            if announce is not None:
                announce(len(missing))
            _LOGGER.info("Encoding %d sentences (kept in %s)", len(missing), self.path.parent)
            fresh = encode(missing)
            if len(known) + len(missing) > MAX_ROWS:
                known = {}
            known.update(zip(missing, fresh, strict=True))
            self._write(known)
        if not sentences:
            return np.zeros((0, self._width), dtype=np.float32)
        return np.stack([known[sentence] for sentence in sentences]).astype(np.float32)

    def _read(self) -> dict[str, Vectors]:
        try:
            with np.load(self.path, allow_pickle=False) as stored:
                texts, vectors = stored["texts"], stored["vectors"]
        except (OSError, ValueError, KeyError):
            return {}
        if vectors.ndim != 2 or vectors.shape != (len(texts), self._width):
            return {}
        return {str(text): vectors[row] for row, text in enumerate(texts)}

    def _write(self, known: dict[str, Vectors]) -> None:
        partial = self.path.with_name(f"{self.path.stem}.{os.getpid()}.partial")
        texts = np.array(list(known), dtype=str)
        vectors = np.stack(list(known.values())).astype(np.float32)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with partial.open("wb") as stream:
                np.savez(stream, texts=texts, vectors=vectors)
            partial.replace(self.path)
        except OSError as error:  # a read-only home still works, only slower to start
            _LOGGER.warning("Could not keep sentence vectors in %s: %s", self.path.parent, error)
            with contextlib.suppress(OSError):
                partial.unlink()
