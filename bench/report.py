"""results.json, the accuracy-vs-SNR plot and RESULTS.md (targets beside measured values)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.audio import NOISE_KINDS

__all__ = ["Row", "false_trigger_rate", "target_rows", "write_outputs"]

_LOGGER = logging.getLogger(__name__)

SNR_AXIS = (20.0, 10.0, 5.0)
COMMAND_TARGETS = (
    ("clean", "clean", 0.95),
    ("music@10dB", "10 dB music", 0.92),
    ("pink@10dB", "10 dB pink noise", 0.90),
    ("babble@10dB", "10 dB chatter", 0.80),
    ("babble@5dB", "5 dB chatter", 0.60),
    ("music@5dB", "5 dB music", 0.85),
    ("pink@5dB", "5 dB pink noise", 0.85),
)
"""Spoken commands: condition key, how it reads, the least accuracy (issues 12 and 13)."""
FAQ_TARGETS = (("clean", "clean", 0.85), ("music@10dB", "10 dB music", 0.75))
"""Spoken FAQ questions, likewise."""
LATENCY_P95_MS = 500
"""Decision latency, p95 (issue 13)."""
CPU_SHARE_PERCENT = 40
"""Listening CPU, percent of one core (issue 13)."""
CLEAN_X = 30.0
"""Where "clean" sits on the plot's SNR axis."""


@dataclass(frozen=True)
class Row:
    """One target and what was measured for it."""

    target: str
    measured: float | None
    shown: str
    passed: bool | None
    """None: not measured."""


def _get(data: Any, *path: str | int) -> Any:
    for key in path:
        in_mapping = isinstance(data, Mapping) and key in data
        in_list = isinstance(data, list) and isinstance(key, int) and key < len(data)
        if in_mapping or in_list:
            data = data[key]
        else:
            return None
    return data


def _row(target: str, value: Any, ok: Callable[[float], bool], fmt: str,
         n: Any = None) -> Row:
    if not isinstance(value, (int, float)):
        return Row(target, None, "not measured", None)
    shown = fmt.format(value) + (f" (n={n})" if n is not None else "")
    return Row(target, float(value), shown, ok(float(value)))


def false_trigger_rate(
    sources: Sequence[Mapping[str, Any]], key: str = "triggers"
) -> tuple[float | None, float]:
    """Triggers per 10 min over all non-command sources except the coach's own voice
    (`key` "wake_word_triggers": only those the wake-word mode would act on)."""
    chosen = [s for s in sources if not str(s.get("source", "")).startswith("coach's own")]
    seconds = sum(float(s.get("audio_seconds") or 0.0) for s in chosen)
    triggers = sum(int(s.get(key) or 0) for s in chosen)
    return (triggers * 600 / seconds if seconds else None), seconds


def _engine_rows(engine: str, data: Mapping[str, Any]) -> list[Row]:
    cond = _get(data, "commands", "conditions") or {}

    def acc(key: str, target: str, minimum: float) -> Row:
        return _row(f"{engine}: {target}", _get(cond, key, "accuracy"),
                    lambda v: v >= minimum, "{:.0%}", _get(cond, key, "n"))

    rows = [acc(key, f"commands, {what} >= {minimum:.0%}", minimum)
             for key, what, minimum in COMMAND_TARGETS]
    faq = _get(data, "faq", "conditions") or {}
    rows += [_row(f"{engine}: FAQ, {what} >= {minimum:.0%}", _get(faq, key, "accuracy"),
                  _at_least(minimum), "{:.0%}", _get(faq, key, "n"))
             for key, what, minimum in FAQ_TARGETS]
    rows += _heldout_rows(engine, data)
    sources = _get(data, "false_triggers") or []
    rate, seconds = false_trigger_rate(sources)
    rows.append(_row(f"{engine}: false triggers <= 1 per 10 min", rate, lambda v: v <= 1.0,
                     "{:.2f} per 10 min" + f" ({seconds / 60:.1f} min of audio)"))
    if any("wake_word_triggers" in s for s in sources):
        wake_rate, _ = false_trigger_rate(sources, "wake_word_triggers")
        rows.append(_row(f"{engine}: false triggers with --wake-word coach <= 1 per 10 min",
                         wake_rate, lambda v: v <= 1.0, "{:.2f} per 10 min"))
    own = [s for s in sources if str(s.get("source", "")).startswith("coach's own")]
    rows.append(_row(f"{engine}: triggers from the coach's own voice = 0",
                     _get(own, 0, "triggers"), lambda v: v == 0,
                     "{:.0f}" + f" ({float(_get(own, 0, 'audio_seconds') or 0) / 60:.1f} min)"))
    wrong = _get(data, "commands", "wrong_commands") or {}
    shown = f" of {wrong.get('n')} ({wrong.get('decided')} decided, the rest asked first)"
    rows.append(_row(f"{engine}: wrong-command actions < 0.5%", wrong.get("acted_share"),
                     lambda v: v < 0.005, "{:.1%}" + shown))
    rows.append(_row(f"{engine}: destructive wrong-command actions = 0",
                     wrong.get("destructive_acted"), lambda v: v == 0,
                     "{:.0f}" + f" ({wrong.get('destructive_decided')} decided)"))
    rows.append(_row(f"{engine}: decision latency p95 <= {LATENCY_P95_MS} ms",
                     _ms(_get(data, "commands", "decision_latency_p95")),
                     lambda v: v <= LATENCY_P95_MS, "{:.0f} ms"))
    for key, what, how in (
        ("barge_in", "commands", "as heard"), ("barge_in_aec", "commands", "echo cancelled"),
        ("barge_in_aec_ducked", "commands", "echo cancelled, ducked"),
        ("barge_in_asked", "questions and help", "echo cancelled, ducked"),
    ):
        barge = _get(data, key) or {}
        if barge:
            # no target: barge-in is kept "if it can be done reliably"; this says how reliably
            rows.append(Row(f"{engine}: barge-in, {what} over the coach's voice "
                            f"(+{barge.get('level_db'):g} dB, {how}), measured only",
                            barge.get("accuracy"),
                            f"{barge.get('right')}/{barge.get('commands')}, "
                            f"{barge.get('acted_elsewhere')} acted on its own words", None))
    return rows


def _at_least(minimum: float) -> Callable[[float], bool]:
    return lambda value: value >= minimum


def _heldout_rows(engine: str, data: Mapping[str, Any]) -> list[Row]:
    """The spoken set never tuned on, against the same targets."""
    rows: list[Row] = []
    for task, targets in (("heldout_commands", COMMAND_TARGETS), ("heldout_faq", FAQ_TARGETS)):
        conditions = _get(data, task, "conditions") or {}
        what = "commands" if task == "heldout_commands" else "FAQ"
        rows += [_row(f"{engine}, held out: {what}, {label} >= {minimum:.0%}",
                      _get(conditions, key, "accuracy"), _at_least(minimum),
                      "{:.0%}", _get(conditions, key, "n"))
                 for key, label, minimum in targets if key in conditions]
    return rows


def _ms(seconds: Any) -> float | None:
    return 1000 * float(seconds) if isinstance(seconds, (int, float)) else None


def target_rows(results: Mapping[str, Any]) -> list[Row]:
    """Every target with its measured value, engine by engine, then the shared ones."""
    rows: list[Row] = []
    for engine, data in (results.get("engines") or {}).items():
        rows += _engine_rows(engine, data)
    device = results.get("device") or {}
    rows.append(_row(f"reply starts <= 800 ms after speech, p95 ({device.get('engine')})",
                     _ms(device.get("reply_latency_p95")), lambda v: v <= 800,
                     "{:.0f} ms", f"{device.get('replied')}/{device.get('commands')}"))
    rows.append(_row("announcement drift <= 20 ms (real clock, max)",
                     _get(results, "drift_real", "drift_ms_max"), lambda v: v <= 20,
                     "{:.1f} ms", _get(results, "drift_real", "announcements")))
    for engine, cost in (results.get("cost") or {}).items():
        share = _get(cost, "listening", "cpu_share")
        rows.append(_row(f"{engine}: listening CPU <= {CPU_SHARE_PERCENT}% of one core",
                         None if share is None else 100 * share,
                         lambda v: v <= CPU_SHARE_PERCENT, "{:.1f}%"))
        rows.append(_row(f"{engine}: peak memory <= 400 MB",
                         _get(cost, "listening", "peak_rss_mb"), lambda v: v <= 400,
                         "{:.0f} MB"))
        rows.append(_row(f"{engine}: start-up to listening <= 3 s",
                         _get(cost, "startup_seconds_median"), lambda v: v <= 3.0, "{:.2f} s"))
    return rows


METHOD = (
    "Method, in short:",
    "",
    "- Spoken set: held-out sentences of tests/data (commands covering every intent; FAQ "
    "questions), read by espeak-ng voices en-us, en-gb, en-us+f3, en-us+m7 and Piper's natural "
    "en_US \"joe\" voice, each at 150 and 175 wpm; FAQ questions clean and in 10 dB music; "
    "normalised to -23 dBFS over the active span, 0.4 s lead and 1.6 s tail (in noise, each "
    "block of 3 starts with 6 s of the noise alone: a gym's noise is there before anyone "
    "speaks), fed in 30 ms chunks (the live microphone's block) to the engine made by "
    "`make_recognizer` with `Understanding.phrases()` and "
    "`Understanding.is_complete` and `Understanding.keeps_meaning`, as `coach` makes it; "
    "decided by "
    "`Understanding.interpret`. Right = the expected intent and slots (FAQ: entry id) decided "
    "and no other command.",
    "- Held out (the figure users will meet): the commands and FAQ questions of "
    "tests/data/everyday_heldout.yaml (everyday phrasings never tuned on), read by an "
    "espeak-ng voice never tuned on (en-gb-x-rp, 165 wpm) and Piper's joe at a rate never "
    "tuned on (190 wpm): commands clean, in 10 dB music and 10 dB chatter; FAQ clean and in "
    "10 dB music; default engine only; figures only, its misses are never printed.",
    "- SNR = speech power over the utterance's active span (first to last sample above 300) / "
    "noise power over the same span. Noise: babble (5 espeak voices reading unrelated "
    "sentences), music-like (chords + kick/hi-hat pulses at 120 bpm), pink (1/f).",
    "- Every accuracy bench has a wall-time budget: conditions are interleaved block by block "
    "and n (utterances measured) is shown; the slower the engine, the smaller n.",
    "- Decision latency = when the decision would be out had the audio arrived in real time "
    "(30 ms chunks, each taken once it has arrived and the engine is done with the ones "
    "before: decode and backlog) - true end of speech; split into audio (`Transcript.at` - "
    "end) and decode with backlog.",
    "- False triggers: any decision naming an intent (command, question or pain) on audio with "
    "no command in it. The coach's own voice: the warm-up timeline synthesised with the "
    "project's TTS at its times, judged by `EchoFilter` told the true voice windows.",
    "- Barge-in: into each coach line of 1.6 s or more (the own-voice audio above), 0.4 s "
    "after it starts, a user's stop, pause, next or pain report (espeak-ng voices) is mixed "
    "6 dB louder than the coach's voice, which reaches the microphone through a simulated room "
    "(20 ms delay, 0.25 s reverberant tail); right = the `EchoFilter` lets the expected intent "
    "act on a transcript overlapping it. Measured as heard, after `EchoCanceller` "
    "(speexdsp) given the coach's output, and as live with the coach's voice lowered while "
    "the canceller's levels show the user talking over it (ducked); a second set puts "
    "questions and requests for help (what's next, how much time is left, a FAQ question, "
    "what can I say, a form tip, help) over the coach the same way.",
    "- Reply latency: PulseAudio virtual mic fed in real time, hands-free `coach run` on it, "
    "sink monitor recorded with parec; end of speech to first sample above 200.",
    "- Drift: `run_loop` with a voice that timestamps say(), against the pure `timeline()` of "
    "the same routine; the scaled run divides run_loop's queue waits by the scale (run_loop "
    "takes them in clock seconds). Both run in threads beside the engine benchmarks, so "
    "timing is measured under load.",
    "- Cost: fresh processes (`python -m bench.probe`), run after the engine benchmarks, not "
    "beside them (two recognisers on 2 cores would slow both, and the engines' latencies with "
    "them): start-up = spawn to first accept(); CPU = process CPU time / wall time while fed "
    "commands and silence at real-time pace; peak memory = the process's own high-water "
    "mark (VmHWM; ru_maxrss carries the spawning bench's size across exec).",
)


def _verdict(row: Row) -> str:
    return "n/a" if row.passed is None else ("pass" if row.passed else "MISS")


def _markdown(results: Mapping[str, Any]) -> str:
    lines = [
        "# Benchmark results",
        "",
        f"Mode: {results.get('mode')}; speech enhancement: "
        f"{results.get('enhance') or 'none'}; wall time {results.get('wall_seconds')} s. "
        "Produced by `python -m bench.run` (`scripts/bench`); raw figures in "
        "bench/out/results.json, plot in bench/out/accuracy_vs_snr.png.",
        "",
        *METHOD,
        "",
        "| target | measured | verdict |",
        "|---|---|---|",
    ]
    lines += [f"| {r.target} | {r.shown} | {_verdict(r)} |" for r in target_rows(results)]
    lines += ["", "## Other figures", ""]
    lines += _other_figures(results)
    lines += ["", "## Accuracy per condition", ""]
    lines += _condition_table(results)
    lines += ["", "## Accuracy per voice family", ""]
    lines += _family_table(results)
    return "\n".join(lines) + "\n"


def _fmt(value: Any, unit: str = "", scale: float = 1.0, digits: int = 0) -> str:
    if not isinstance(value, (int, float)):
        return "n/a"
    return f"{value * scale:.{digits}f}{unit}"


def _other_figures(results: Mapping[str, Any]) -> list[str]:
    out = []
    vosk = results.get("vosk") or {}
    if not vosk.get("measured"):
        out.append(f"- vosk: not measured ({vosk.get('reason')}).")
    for engine, data in (results.get("engines") or {}).items():
        commands = data.get("commands") or {}
        out.append(
            f"- {engine}: real-time factor {_fmt(commands.get('rtf'), digits=3)} "
            f"({_fmt(commands.get('audio_seconds'), ' s')} of audio); latency p50/p95: "
            f"audio (`at` - end) {_fmt(commands.get('latency_audio_p50'), ' ms', 1000)}/"
            f"{_fmt(commands.get('latency_audio_p95'), ' ms', 1000)}, decode and backlog "
            f"{_fmt(commands.get('decode_delay_p50'), ' ms', 1000)}/"
            f"{_fmt(commands.get('decode_delay_p95'), ' ms', 1000)}, decision "
            f"{_fmt(commands.get('decision_latency_p50'), ' ms', 1000)}/"
            f"{_fmt(commands.get('decision_latency_p95'), ' ms', 1000)} (clean only "
            f"{_fmt(commands.get('decision_latency_clean_p50'), ' ms', 1000)}/"
            f"{_fmt(commands.get('decision_latency_clean_p95'), ' ms', 1000)}); model load "
            f"{_fmt(data.get('load_seconds'), ' s', digits=2)}."
        )
        by_condition = commands.get("decision_latency_by_condition") or {}
        if by_condition:
            out.append("  - decision latency p50/p95 per condition: " + ", ".join(
                f"{key} {_fmt(value.get('p50'), '', 1000)}/{_fmt(value.get('p95'), ' ms', 1000)}"
                for key, value in by_condition.items()) + ".")
        for problem in data.get("incomplete") or []:
            out.append(f"  - {engine} INCOMPLETE: {problem}; figures are what was measured "
                       "before the stop.")
        for source in data.get("false_triggers") or []:
            raw = source.get("raw_triggers")
            extra = "" if raw is None else f", {raw} without the echo filter"
            out.append(f"  - {source['source']}: {source['triggers']} triggers in "
                       f"{_fmt(source.get('audio_seconds'), ' s')}{extra}"
                       f" {source.get('examples') or ''}")
    device = results.get("device") or {}
    out.append(f"- device path ({device.get('engine')}): reply latency p50 "
               f"{_fmt(device.get('reply_latency_p50'), ' ms', 1000)}, replies "
               f"{device.get('replied')}/{device.get('commands')}, `coach` start-up to Ready "
               f"{_fmt(device.get('startup_seconds'), ' s', digits=2)}"
               f"{'; error: ' + str(device.get('error')) if device.get('error') else ''}.")
    for key in ("drift_real", "drift_scaled"):
        drift = results.get(key) or {}
        out.append(f"- drift, {drift.get('label', key)}: {drift.get('announcements')} "
                   f"announcements over {drift.get('routine_seconds')} s, wall p50/p95/max "
                   f"{drift.get('drift_ms_p50')}/{drift.get('drift_ms_p95')}/"
                   f"{drift.get('drift_ms_max')} ms; time-left answers "
                   f"{drift.get('time_left_questions')}, error mean/max "
                   f"{drift.get('time_left_error_s_mean')}/{drift.get('time_left_error_s_max')} s"
                   f"{'; error: ' + str(drift.get('error')) if drift.get('error') else ''}.")
    tts = results.get("tts") or {}
    out.append(f"- TTS synthesis of a reply: uncached {tts.get('uncached_ms_median')} ms, "
               f"cached {tts.get('cached_ms_median')} ms (medians of {tts.get('runs')}).")
    for engine, cost in (results.get("cost") or {}).items():
        listening = cost.get("listening") or {}
        problem = listening.get("error")
        out.append(f"- {engine} cost: start-up runs {cost.get('startup_runs')} s; listening to "
                   f"{listening.get('audio_seconds')} s of audio at real-time pace took "
                   f"{listening.get('listen_seconds')} s (kept up: {listening.get('kept_up')}): "
                   "CPU per audio second "
                   f"{_fmt(listening.get('cpu_share'), '%', 100, 1)}, peak RSS "
                   f"{listening.get('peak_rss_mb')} MB"
                   f"{'; error: ' + str(problem) if problem else ''}.")
    return out


def _condition_table(results: Mapping[str, Any]) -> list[str]:
    engines = results.get("engines") or {}
    keys = ["clean"] + [f"{k}@{s:g}dB" for k in NOISE_KINDS for s in SNR_AXIS]
    out = ["| condition | " + " | ".join(engines) + " |",
           "|---" * (len(engines) + 1) + "|"]
    for key in keys:
        cells = []
        for data in engines.values():
            cell = _get(data, "commands", "conditions", key)
            cells.append("n/a" if cell is None else f"{cell['accuracy']:.0%} ({cell['n']})")
        out.append(f"| {key} | " + " | ".join(cells) + " |")
    return out


def _family_table(results: Mapping[str, Any]) -> list[str]:
    """Each engine's commands and FAQ per condition, one column per voice family, and the
    held-out set likewise (espeak-ng voices are robotic, Piper's natural)."""
    columns: list[tuple[str, str, str]] = []
    for engine, data in (results.get("engines") or {}).items():
        for task in ("commands", "faq", "heldout_commands", "heldout_faq"):
            for family in sorted(_get(data, task, "families") or {}):
                columns.append((engine, task, family))
    if not columns:
        return ["not measured"]
    keys = ["clean"] + [f"{k}@{s:g}dB" for k in NOISE_KINDS for s in SNR_AXIS]
    out = ["| condition | " + " | ".join(f"{e} {t.replace('_', ' ')}, {f}" for e, t, f in columns)
           + " |", "|---" * (len(columns) + 1) + "|"]
    engines = results.get("engines") or {}
    for key in keys:
        cells = [_get(engines, e, t, "families", f, key) for e, t, f in columns]
        if any(cells):
            out.append(f"| {key} | " + " | ".join(
                "" if c is None else f"{c['accuracy']:.0%} ({c['n']})" for c in cells) + " |")
    return out


def plot(results: Mapping[str, Any], path: Path) -> None:
    """Accuracy against SNR, one panel per engine, one line per noise kind."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    engines = results.get("engines") or {}
    figure, axes = plt.subplots(1, max(1, len(engines)), figsize=(5 * max(1, len(engines)), 4),
                                squeeze=False)
    for axis, (engine, data) in zip(axes[0], engines.items(), strict=False):
        conditions = _get(data, "commands", "conditions") or {}
        clean = _get(conditions, "clean", "accuracy")
        for kind in NOISE_KINDS:
            xs, ys = ([CLEAN_X], [clean]) if clean is not None else ([], [])
            for snr in SNR_AXIS:
                value = _get(conditions, f"{kind}@{snr:g}dB", "accuracy")
                if value is not None:
                    xs.append(snr)
                    ys.append(value)
            axis.plot(xs, [100 * y for y in ys], marker="o", label=kind)
        axis.set_title(f"{engine}: spoken commands")
        axis.set_xlabel("SNR (dB, active speech span); 30 = clean")
        axis.set_ylabel("intent + slots right (%)")
        axis.set_ylim(0, 100)
        axis.invert_xaxis()
        axis.grid(alpha=0.3)
        axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def write_outputs(results: Mapping[str, Any], out_dir: Path, markdown: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n",
                                          encoding="utf-8")
    try:
        plot(results, out_dir / "accuracy_vs_snr.png")
    except ImportError:
        _LOGGER.warning("matplotlib missing (pip install 'coach[bench]'): no plot")
    markdown.write_text(_markdown(results), encoding="utf-8")
