"""Old import path of the model lookup, kept until the session and `coach doctor` import
`coach.store.lookup` and `coach.store.errors`; delete it then."""

from __future__ import annotations

from coach.store.errors import ModelError
from coach.store.lookup import find_vosk_model

__all__ = ["ModelError", "find_vosk_model"]
