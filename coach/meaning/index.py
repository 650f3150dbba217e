"""The closeness of a new sentence to each meaning: its best match among the examples."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from coach.core.meaning import Example, Meaning
from coach.meaning.cache import VectorCache
from coach.meaning.encoder import SentenceEncoder

__all__ = ["MeaningIndex"]

_REMEMBERED = 32
"""Sentences whose closeness is kept: one decision asks about the same sentence more than
once (the FAQ's second look, then the meaning of the whole), and a sentence is heard again
when it is repeated."""


class MeaningIndex:
    """Implements core.meaning.MeaningLookup over a fixed set of examples."""

    def __init__(
        self,
        encoder: SentenceEncoder,
        examples: Sequence[Example],
        cache_dir: Path | None = None,
        announce: Callable[[int], None] | None = None,
    ) -> None:
        """`cache_dir`: where sentence vectors are kept; None encodes every example now.
        `announce` is told how many examples must be encoded (not kept yet), before they are."""
        self._encoder = encoder
        self._recent: OrderedDict[str, list[tuple[Meaning, float]]] = OrderedDict()
        meanings = sorted({example.meaning for example in examples})
        self._meanings = meanings
        number = {meaning: index for index, meaning in enumerate(meanings)}
        self._owner: npt.NDArray[np.intp] = np.array(
            [number[example.meaning] for example in examples], dtype=np.intp
        )
        texts = [example.text for example in examples]
        if cache_dir is None:
            if announce is not None:
                announce(len(texts))
            self._vectors = encoder.encode(texts)
        else:
            cache = VectorCache(cache_dir, encoder.files.identity(), encoder.width)
            self._vectors = cache.vectors(texts, encoder.encode, announce)

    @property
    def size(self) -> int:
        """How many examples."""
        return int(self._vectors.shape[0])

    def closest(self, text: str) -> list[tuple[Meaning, float]]:
        """Each meaning with the similarity of its nearest example, best first."""
        if not text.strip() or not self._meanings:
            return []
        if text not in self._recent:
            self.prepare([text])
        self._recent.move_to_end(text)
        return self._recent[text]

    def prepare(self, texts: Sequence[str]) -> None:
        """Rank several sentences with one run of the encoder (see MeaningLookup)."""
        new = list(dict.fromkeys(
            text for text in texts if text.strip() and text not in self._recent
        ))
        if not new:
            return
        for text, vector in zip(new, self._encoder.encode(new), strict=True):
            self._recent[text] = self._ranked(vector)
        while len(self._recent) > max(_REMEMBERED, len(new)):
            self._recent.popitem(last=False)

    def _ranked(self, vector: npt.NDArray[np.float32]) -> list[tuple[Meaning, float]]:
        similarity = self._vectors @ vector
        best = np.full(len(self._meanings), -1.0, dtype=np.float32)
        np.maximum.at(best, self._owner, similarity)
        order = np.argsort(-best, kind="stable")
        return [(self._meanings[index], float(best[index])) for index in order]
