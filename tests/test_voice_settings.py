"""The voice's knobs keep the values the code had before they moved to coach.settings.voice."""

from __future__ import annotations

import ast
import dataclasses
import inspect

import coach.settings.voice as voice_settings
from coach.settings.voice import (
    PlaybackSettings,
    SynthSettings,
    TextSpeakerSettings,
    VoiceSettings,
)


def test_defaults_are_the_tuned_values() -> None:
    assert dataclasses.astuple(VoiceSettings()) == (165, 1.0, None, "pyttsx3")
    assert SynthSettings() == SynthSettings(
        attempts=3, timeout_seconds=30.0, cache_size=256, trim_threshold=0.02,
        trim_margin_seconds=0.02,
    )
    assert PlaybackSettings() == PlaybackSettings(
        block_seconds=0.01, latency_seconds=0.05, poll_seconds=0.005, watch_seconds=0.5,
        stall_seconds=1.0,
    )
    assert TextSpeakerSettings().min_line_seconds == 0.4


def test_every_knob_has_a_docstring() -> None:
    tree = ast.parse(inspect.getsource(voice_settings))
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        body = node.body
        for index, item in enumerate(body):
            if isinstance(item, ast.AnnAssign):
                after = body[index + 1] if index + 1 < len(body) else None
                documented = isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
                assert documented, f"{node.name}.{ast.unparse(item.target)} has no docstring"
