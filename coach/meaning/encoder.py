"""Sentences -> unit vectors whose dot product says how alike their meanings are.

all-MiniLM-L6-v2 as its authors pool it: the mean of the token vectors (padding left out),
scaled to length 1.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from coach.meaning.files import MeaningModelError, MeaningModelFiles

__all__ = ["SentenceEncoder"]

Vectors = npt.NDArray[np.float32]

MAX_TOKENS = 64
"""Longest sentence kept (word pieces): a spoken request is far shorter."""
BATCH = 64
"""Sentences per network run when many are encoded at once (the examples)."""


class SentenceEncoder:
    """Runs the sentence-meaning network on the CPU with ONNX Runtime."""

    def __init__(self, files: MeaningModelFiles, threads: int = 1) -> None:
        """`threads`: ONNX Runtime's threads per run; one keeps the other core for hearing."""
        try:
            import onnxruntime
            from tokenizers import Tokenizer
        except ImportError as error:
            raise MeaningModelError(
                f"The sentence-meaning model needs {error.name}: install it with scripts/setup."
            ) from error
        try:
            self._tokenizer = Tokenizer.from_file(str(files.tokenizer))
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            # The network keeps its weights as int8 and widens them as it runs. Constant
            # folding would keep a float copy of every weight, and the arena the widened
            # ones: four times the model in memory, for a sentence now and then.
            options.enable_cpu_mem_arena = False
            options.enable_mem_pattern = False
            self._session = onnxruntime.InferenceSession(
                str(files.network), options, providers=["CPUExecutionProvider"],
                disabled_optimizers=["ConstantFolding"],
            )
        except Exception as error:  # the libraries raise their own, undocumented kinds
            raise MeaningModelError(
                f"The sentence-meaning model could not be loaded ({error}); reinstall it with "
                "scripts/setup."
            ) from error
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.enable_padding()
        self.files = files

    @property
    def width(self) -> int:
        """Numbers per vector."""
        shape = self._session.get_outputs()[0].shape
        return int(shape[-1])

    def encode(self, sentences: Sequence[str]) -> Vectors:
        """One unit vector per sentence (rows), in order."""
        if not sentences:
            return np.zeros((0, self.width), dtype=np.float32)
        parts = [
            self._encode_batch(sentences[start:start + BATCH])
            for start in range(0, len(sentences), BATCH)
        ]
        return np.concatenate(parts).astype(np.float32, copy=False)

    def _encode_batch(self, sentences: Sequence[str]) -> Vectors:
        encodings = self._tokenizer.encode_batch(list(sentences))
        ids = np.array([encoding.ids for encoding in encodings], dtype=np.int64)
        mask = np.array([encoding.attention_mask for encoding in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        tokens: Vectors = np.asarray(self._session.run(None, feeds)[0], dtype=np.float32)
        weights = mask[..., None].astype(np.float32)
        pooled = (tokens * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1.0)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        unit: Vectors = (pooled / np.maximum(norms, 1e-9)).astype(np.float32)
        return unit
