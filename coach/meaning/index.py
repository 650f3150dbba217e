"""The closeness of a new sentence to each meaning: its best match among the examples."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from coach.core.meaning import Example, Meaning
from coach.meaning.cache import VectorCache
from coach.meaning.encoder import SentenceEncoder

__all__ = ["MeaningIndex"]


class MeaningIndex:
    """Implements core.meaning.MeaningLookup over a fixed set of examples."""

    def __init__(
        self,
        encoder: SentenceEncoder,
        examples: Sequence[Example],
        cache_dir: Path | None = None,
    ) -> None:
        """`cache_dir`: where sentence vectors are kept; None encodes every example now."""
        self._encoder = encoder
        meanings = sorted({example.meaning for example in examples})
        self._meanings = meanings
        number = {meaning: index for index, meaning in enumerate(meanings)}
        self._owner: npt.NDArray[np.intp] = np.array(
            [number[example.meaning] for example in examples], dtype=np.intp
        )
        texts = [example.text for example in examples]
        if cache_dir is None:
            self._vectors = encoder.encode(texts)
        else:
            cache = VectorCache(cache_dir, encoder.files.identity(), encoder.width)
            self._vectors = cache.vectors(texts, encoder.encode)

    @property
    def size(self) -> int:
        """How many examples."""
        return int(self._vectors.shape[0])

    def closest(self, text: str) -> list[tuple[Meaning, float]]:
        """Each meaning with the similarity of its nearest example, best first."""
        if not text.strip() or not self._meanings:
            return []
        similarity = self._vectors @ self._encoder.encode([text])[0]
        best = np.full(len(self._meanings), -1.0, dtype=np.float32)
        np.maximum.at(best, self._owner, similarity)
        order = np.argsort(-best, kind="stable")
        return [(self._meanings[index], float(best[index])) for index in order]
