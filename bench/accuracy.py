"""Spoken command and FAQ accuracy per engine and condition, and decision latency."""

from __future__ import annotations

import logging
import random
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from bench.audio import NOISE_KINDS, PIPER_PREFIX, Voice, speak
from bench.streams import (
    Condition,
    Fed,
    Outcome,
    SpokenCase,
    Timed,
    assign,
    blocks_round_robin,
    feed,
    prepare_noise,
    score_utterances,
)
from bench.text_eval import CommandCase, FaqCase
from coach.content.model import IntentName
from coach.core.intents import Intent
from coach.core.understanding import Understanding
from coach.hearing.asr.base import Recognizer
from coach.session.policy import ANSWERS, Evidence, weigh
from coach.settings.session import ConversationSettings

__all__ = [
    "HELDOUT_VOICES",
    "VOICES",
    "AccuracyResult",
    "all_conditions",
    "command_cases",
    "faq_cases",
    "percentile",
    "run_accuracy",
    "shipped_destructive",
    "wrong_commands",
]

_LOGGER = logging.getLogger(__name__)

VOICES = tuple(
    Voice(name, wpm)
    for name in ("en-us", "en-gb", "en-us+f3", "en-us+m7", f"{PIPER_PREFIX}joe")
    for wpm in (150, 175)
)
"""Speakers of the spoken test set: four espeak-ng voices and Piper's natural "joe" voice,
at two rates each."""
HELDOUT_VOICES = (Voice("en-gb-x-rp", 165), Voice(f"{PIPER_PREFIX}joe", 190))
"""Speakers of the held-out spoken set: an espeak-ng voice the bench never tuned on, and the
one natural voice this machine has, at a rate never tuned on."""
SNRS = (10.0, 5.0, 20.0)


def all_conditions() -> list[Condition]:
    """Clean, then every noise kind at every SNR, the targets' SNRs first (10 dB, 5 dB):
    a slow engine whose budget runs out early is still measured where it matters."""
    return [Condition(None, None)] + [Condition(k, s) for s in SNRS for k in NOISE_KINDS]


def command_cases(commands: Sequence[CommandCase], count: int, seed: int = 3,
                  voices: Sequence[Voice] = VOICES) -> list[SpokenCase]:
    """`count` held-out commands covering every intent (round-robin over intents), each
    with one of `voices`; order shuffled so a budget cut keeps the mix."""
    rng = random.Random(seed)
    by_intent: dict[str, list[CommandCase]] = defaultdict(list)
    for case in commands:
        by_intent[case.intent].append(case)
    for group in by_intent.values():
        rng.shuffle(group)
    chosen: list[CommandCase] = []
    depth = 0
    while len(chosen) < count and depth < max(len(g) for g in by_intent.values()):
        for intent in sorted(by_intent):
            group = by_intent[intent]
            if depth < len(group) and len(chosen) < count:
                chosen.append(group[depth])
        depth += 1
    rng.shuffle(chosen)
    return [
        SpokenCase(case.text, voices[index % len(voices)], case.intent, dict(case.slots))
        for index, case in enumerate(chosen)
    ]


def faq_cases(questions: Sequence[FaqCase], count: int, seed: int = 5,
              voices: Sequence[Voice] = VOICES) -> list[SpokenCase]:
    """`count` questions in random order, each with one of `voices`."""
    rng = random.Random(seed)
    chosen = list(questions)
    rng.shuffle(chosen)
    return [
        SpokenCase(q.text, voices[index % len(voices)], "question", ids=q.ids)
        for index, q in enumerate(chosen[:count])
    ]


def percentile(values: Sequence[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


@dataclass
class AccuracyResult:
    """Accuracy per condition, latencies and cost of one engine on one spoken set."""

    engine: str
    per_condition: dict[str, dict[str, float | int]] = field(default_factory=dict)
    per_family: dict[str, dict[str, dict[str, float | int]]] = field(default_factory=dict)
    """Voice family ("espeak", "piper") -> condition -> n, right, accuracy."""
    latency_audio: list[float] = field(default_factory=list)
    latency_decode: list[float] = field(default_factory=list)
    """Seconds from `at` to the decision: decode and backlog in a real-time run."""
    latency_clean: list[float] = field(default_factory=list)
    """Decision latency (audio + decode) of utterances without noise."""
    latency_by_condition: dict[str, list[float]] = field(default_factory=dict)
    """Decision latency (audio + decode) of the right decisions, per condition."""
    audio_seconds: float = 0.0
    compute_seconds: float = 0.0
    stray: int = 0
    misses: list[dict[str, object]] = field(default_factory=list)
    wrong_commands: dict[str, object] = field(default_factory=dict)
    """Commands decided that are not the one said (see `wrong_commands`)."""

    def summary(self) -> dict[str, object]:
        decision = [a + c for a, c in zip(self.latency_audio, self.latency_decode, strict=True)]
        return {
            "engine": self.engine,
            "conditions": self.per_condition,
            "families": self.per_family,
            "audio_seconds": round(self.audio_seconds, 1),
            "compute_seconds": round(self.compute_seconds, 1),
            "rtf": round(self.compute_seconds / self.audio_seconds, 3)
            if self.audio_seconds
            else None,
            "latency_audio_p50": percentile(self.latency_audio, 50),
            "latency_audio_p95": percentile(self.latency_audio, 95),
            "decode_delay_p50": percentile(self.latency_decode, 50),
            "decode_delay_p95": percentile(self.latency_decode, 95),
            "decision_latency_p50": percentile(decision, 50),
            "decision_latency_p95": percentile(decision, 95),
            "decision_latency_clean_p50": percentile(self.latency_clean, 50),
            "decision_latency_clean_p95": percentile(self.latency_clean, 95),
            "decision_latency_by_condition": {
                key: {"p50": percentile(values, 50), "p95": percentile(values, 95)}
                for key, values in self.latency_by_condition.items()
            },
            "stray_transcripts": self.stray,
            "wrong_commands": self.wrong_commands,
            "misses": self.misses[:40],
        }


def run_accuracy(
    engine: str,
    recognizer: Recognizer,
    understanding: Understanding,
    cases: Sequence[SpokenCase],
    conditions: Sequence[Condition],
    noise_sentences: Sequence[str],
    budget_seconds: float,
    block_size: int = 3,
    progress: Callable[[AccuracyResult], None] | None = None,
    destructive: frozenset[str] | None = None,
) -> AccuracyResult:
    """Feed blocks round-robin over conditions until the budget is spent; score.

    `destructive`: the intents commands.yaml flags `destructive`, for the wrong-command row
    (None: the shipped commands.yaml's)."""
    fed = Fed()
    spans: list[tuple[float, float]] = []
    spoken: list[SpokenCase] = []
    keys: list[str] = []
    prepare_noise([c.kind for c in conditions if c.kind is not None], noise_sentences)
    for case in cases:
        speak(case.text, case.voice)  # synthesis is not the engine's time either
    deadline = time.perf_counter() + budget_seconds
    for block in blocks_round_robin(cases, conditions, block_size, noise_sentences):
        offset = fed.audio_seconds
        complete = feed(recognizer, block.pcm, 0.0, fed, deadline)
        for case, (start, end) in zip(block.cases, block.spans, strict=True):
            if offset + end <= fed.audio_seconds:  # spoken in full before the budget ran out
                spans.append((offset + start, offset + end))
                spoken.append(case)
                keys.append(block.condition.key)
        if progress is not None:  # a snapshot, in case a later block never returns
            scored = score_utterances(spoken, keys, spans, fed.transcripts,
                                      understanding.interpret)
            progress(_summarise(engine, scored[0], fed, len(scored[1])))
        if not complete or time.perf_counter() > deadline:
            _LOGGER.info("%s: budget spent after %d utterances", engine, len(spoken))
            break
    fed.transcripts.extend(_flush(recognizer))
    outcomes, stray = score_utterances(
        spoken, keys, spans, fed.transcripts, understanding.interpret
    )
    result = _summarise(engine, outcomes, fed, len(stray))
    result.wrong_commands = wrong_commands(spoken, assign(fed.transcripts, spans)[0],
                                           understanding.interpret,
                                           destructive or shipped_destructive())
    return result


def _flush(recognizer: Recognizer) -> list[Timed]:
    began = time.perf_counter()
    found = recognizer.flush()
    spent = time.perf_counter() - began
    return [Timed(t, spent) for t in found]


def _summarise(engine: str, outcomes: Sequence[Outcome], fed: Fed, stray: int) -> AccuracyResult:
    result = AccuracyResult(engine, audio_seconds=fed.audio_seconds,
                            compute_seconds=fed.compute_seconds, stray=stray)
    grouped: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        grouped[outcome.condition].append(outcome)
        if outcome.right and outcome.latency is not None and outcome.compute is not None:
            result.latency_audio.append(outcome.latency)
            result.latency_decode.append(outcome.compute)
            decision = outcome.latency + outcome.compute
            result.latency_by_condition.setdefault(outcome.condition, []).append(decision)
            if outcome.condition == "clean":
                result.latency_clean.append(decision)
        elif not outcome.right:
            result.misses.append({"condition": outcome.condition, "text": outcome.case.text,
                                  "voice": str(outcome.case.voice), "heard": outcome.heard})
    by_family: dict[str, dict[str, list[Outcome]]] = defaultdict(lambda: defaultdict(list))
    for outcome in outcomes:
        by_family[outcome.case.voice.family][outcome.condition].append(outcome)
    result.per_condition = _counts(grouped)
    result.per_family = {family: _counts(groups) for family, groups in by_family.items()}
    return result


def _counts(grouped: dict[str, list[Outcome]]) -> dict[str, dict[str, float | int]]:
    counts: dict[str, dict[str, float | int]] = {}
    for key, group in grouped.items():
        right = sum(o.right for o in group)
        counts[key] = {"n": len(group), "right": right, "accuracy": right / len(group)}
    return counts


def shipped_destructive() -> frozenset[str]:
    """The intents the shipped commands.yaml flags `destructive`."""
    from coach.content.loader import default_routine_dir, load_content

    content, _ = load_content([default_routine_dir()])
    return frozenset(spec.name for spec in content.commands.intents if spec.destructive)


def wrong_commands(
    cases: Sequence[SpokenCase],
    per_case: Sequence[Sequence[Timed]],
    interpret: Callable[[str], Intent],
    destructive: frozenset[str],
    min_score: float = ConversationSettings().destructive_min_score,
) -> dict[str, object]:
    """Commands decided that are a different command (or routine) than the one said.

    "decided": what the understanding chose; "acted": what the coach would carry out with a
    routine running, where a destructive command on weak evidence is asked about instead
    (coach.session.policy) and yes/no do nothing alone. Counted per utterance.
    """
    decided = acted = destructive_decided = destructive_acted = 0
    examples: list[str] = []
    for case, found in zip(cases, per_case, strict=True):
        wrong = [(timed, interpret(timed.transcript.text)) for timed in found]
        wrong = [(timed, d) for timed, d in wrong if _is_other_command(d, case)]
        acting = [(timed, d) for timed, d in wrong
                  if d.name not in destructive or _strong(timed, d, interpret, min_score)]
        decided += bool(wrong)
        acted += bool(acting)
        destructive_decided += any(d.name in destructive for _, d in wrong)
        destructive_acted += any(d.name in destructive for _, d in acting)
        examples += [f"{case.text!r} -> {timed.transcript.text!r} = {d.name}{d.slots}"
                     for timed, d in acting[:1]]
    return {"n": len(cases), "decided": decided, "acted": acted,
            "destructive_decided": destructive_decided, "destructive_acted": destructive_acted,
            "acted_share": acted / len(cases) if cases else None, "examples": examples[:20]}


def _is_other_command(decision: Intent, case: SpokenCase) -> bool:
    if decision.name in (None, IntentName.QUESTION, *ANSWERS):
        return False
    return not case.is_right(decision)


def _strong(timed: Timed, decision: Intent, interpret: Callable[[str], Intent],
            min_score: float) -> bool:
    """Whether the recogniser's own words (not a second-look phrase) surely mean it."""
    own = interpret(timed.transcript.heard_as or timed.transcript.text)
    return weigh(decision, own, min_score) is Evidence.STRONG
