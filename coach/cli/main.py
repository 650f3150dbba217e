"""Command line: the only place that reads flags and builds settings."""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TypeVar

from coach import __version__
from coach.cli.signals import EXIT_INTERRUPTED, EXIT_TERMINATED, Terminated, stopped_by_signals
from coach.content.model import Content, Routine
from coach.errors import CoachError
from coach.settings import Settings
from coach.settings.file import apply_overrides, read_settings_file
from coach.settings.voice import TTS_ENGINES

if TYPE_CHECKING:
    from coach.session.screen.screens import ScreenChoice

__all__ = ["main", "run"]

_LOGGER = logging.getLogger(__name__)

_V = TypeVar("_V")

SETTINGS_ENV = "COACH_SETTINGS"
"""Path of the settings file, in place of the one in the user's config folder."""
ROUTINES_ENV = "COACH_ROUTINES"
"""Extra routine folders, separated by the OS path separator."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    handler = getattr(args, "handler", None) or _run
    with stopped_by_signals():
        return _handled(handler, args)


def run() -> NoReturn:
    """The `coach` command: `main` with the process's arguments, then exit with its status.

    After Ctrl-C or SIGTERM a speech engine's thread may still be inside a decode: tearing
    its native objects down under it, as the interpreter's own teardown would, aborts the
    process ("terminate called without an active exception"). Everything of the coach's is
    closed by then, so the exit handlers run and the process leaves without that teardown.
    """
    status = main()
    if status in (EXIT_INTERRUPTED, EXIT_TERMINATED):
        atexit._run_exitfuncs()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        os._exit(status)
    raise SystemExit(status)


def _handled(handler: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """The handler's exit status; a signal, a reader gone or a CoachError as a status too."""
    try:
        result: int = handler(args)
    except KeyboardInterrupt:
        print("\nStopped.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Terminated:
        print("\nStopped.", file=sys.stderr)
        return EXIT_TERMINATED
    except BrokenPipeError:
        # The reader went away (`coach play ... | head`): nothing left to say, and Python's
        # own flush at exit must not complain either.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except CoachError as exc:
        # Every error a user can act on: its message says what to do; no traceback.
        print(f"coach: {exc}", file=sys.stderr)
        return exc.exit_code
    return result


class UsageError(CoachError):
    """A flag, argument or path on the command line the user must change."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


# --- parser -----------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="coach",
        description="Offline, hands-free voice coach. With no command: a hands-free session.",
    )
    parser.add_argument("--version", action="version", version=f"coach {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("--routines", action="append", type=Path, default=[], metavar="DIR",
                        help=f"extra routine folder (repeatable; also ${ROUTINES_ENV})")
    _add_listen_options(parser)
    _add_voice_options(parser)
    _add_screen_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="a coaching session (microphone, typed, or a WAV file)")
    run.add_argument("--text", action="store_true", help="type commands instead of speaking")
    run.add_argument("--input", type=Path, metavar="F.wav", help="a WAV file is the microphone")
    run.add_argument("--json", action="store_true", help="print events as JSON lines")
    run.add_argument("--silent", action="store_true", help="print what the coach says; no audio")
    _add_screen_options(run, after_command=True)
    run.set_defaults(handler=_run)

    sub.add_parser("list", help="the routines").set_defaults(handler=_list)
    show = sub.add_parser("show", help="one routine's steps and total time")
    show.add_argument("routine")
    show.set_defaults(handler=_show)

    play = sub.add_parser("play", help="read a routine aloud")
    play.add_argument("routine")
    play.add_argument("--dry-run", action="store_true", help="print the timeline at once")
    play.add_argument("--json", action="store_true", help="events as JSON lines")
    play.add_argument("--silent", action="store_true", help="print, in real time, without audio")
    play.set_defaults(handler=_play)

    ask = sub.add_parser("ask", help="answer a question about lower-back pain")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true")
    ask.set_defaults(handler=_ask)

    intent = sub.add_parser("intent", help="what a sentence means to the coach")
    intent.add_argument("text")
    intent.add_argument("--json", action="store_true")
    intent.set_defaults(handler=_intent)

    listen = sub.add_parser("listen", help="transcribe and interpret a WAV file")
    listen.add_argument("--input", type=Path, required=True, metavar="F.wav")
    listen.add_argument("--json", action="store_true")
    listen.set_defaults(handler=_listen)

    check = sub.add_parser("check", help="validate routine YAML files")
    check.add_argument("paths", nargs="*", type=Path, metavar="PATH")
    check.set_defaults(handler=_check)

    history = sub.add_parser("history", help="past workouts, from the workout log")
    what = history.add_mutually_exclusive_group()
    what.add_argument("--export", choices=("csv", "json"), help="print every workout as CSV "
                      "or JSON")
    what.add_argument("--forget", action="store_true", help="delete the workout log")
    what.add_argument("--plot", type=Path, metavar="FILE.png",
                      help="write a plot of minutes per week (pain reports marked)")
    history.add_argument("--yes", action="store_true", help="with --forget: do not ask")
    history.set_defaults(handler=_history)

    sub.add_parser("devices", help="audio devices").set_defaults(handler=_devices)
    sub.add_parser("doctor", help="what works on this machine, and how to fix what doesn't") \
        .set_defaults(handler=_doctor)

    from coach.cli.models import register

    register(sub)
    return parser


def _add_listen_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("listening")
    group.add_argument("--engine", choices=("vosk", "whisper", "pocketsphinx"),
                       help="speech recogniser (default: Vosk if a model is found, else built-in)")
    group.add_argument("--model", type=Path, metavar="DIR", help="Vosk model folder")
    group.add_argument("--mic", metavar="DEVICE", help="microphone name or index")
    group.add_argument("--wake-word", metavar="WORD",
                       help='act only on sentences starting with WORD (e.g. "coach")')
    group.add_argument("--no-echo-cancel", dest="echo_cancel", action="store_false",
                       help="do not take the coach's own voice out of the microphone signal "
                       "(then commands said over it are rarely heard)")
    enhance = group.add_mutually_exclusive_group()
    enhance.add_argument("--enhance", choices=("deepfilter", "rnnoise"),
                         help="take the room's noise out of the microphone signal before "
                         "it is heard (default: as the settings file says)")
    enhance.add_argument("--no-enhance", dest="enhance", action="store_const", const="",
                         help="hear the microphone signal as it is")


def _add_voice_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("voice")
    group.add_argument("--speaker", metavar="DEVICE", help="output device name or index")
    group.add_argument("--rate", type=int, help="words per minute (default 165)")
    group.add_argument("--volume", type=float, help="0.0 to 1.0 (default 1.0)")
    group.add_argument("--voice", help="TTS voice id or part of its name")
    group.add_argument("--tts", choices=TTS_ENGINES,
                       help="the voice's engine: piper (natural) or pyttsx3 (espeak-ng); "
                       "remembered in the settings file")


def _add_screen_options(parser: argparse.ArgumentParser, after_command: bool = False) -> None:
    """--web, --web-host, --web-port, --plain: before the command (a hands-free session) or
    after `run`. After it they keep no default of their own, so one given before stands."""
    unset = argparse.SUPPRESS if after_command else None
    group = parser.add_argument_group("screen")
    group.add_argument("--web", action="store_true", default=unset or False,
                       help="serve a live page of the session (big countdown and buttons; "
                       "the address is printed)")
    group.add_argument("--web-host", metavar="HOST", default=unset,
                       help="address for the page (default 127.0.0.1, this machine only; "
                       "0.0.0.0 opens it to the network, guarded by a token in its address)")
    group.add_argument("--web-port", type=int, metavar="N", default=unset,
                       help="port for the page (default 8765; 0 for any free port)")
    group.add_argument("--plain", action="store_true", default=unset or False,
                       help="print lines instead of the terminal dashboard")
    group.add_argument("--no-log", dest="no_log", action="store_true", default=unset or False,
                       help="do not write this session to the workout log")


def screen_choice(args: argparse.Namespace, settings: Settings) -> ScreenChoice:
    """What the session shows, from the flags and the settings file."""
    from coach.session.screen.screens import ScreenChoice

    return ScreenChoice(as_json=getattr(args, "json", False),
                        plain=getattr(args, "plain", False)
                        or not settings.screen.dashboard.enabled,
                        web=getattr(args, "web", False) or settings.screen.web.enabled)


def _enhance(flag: str | None, configured: str | None) -> str | None:
    """--enhance NAME, --no-enhance ("") or, without either, the settings file's choice."""
    if flag is None:
        return configured
    return flag or None


def _device(value: str | None) -> str | int | None:
    if value is None:
        return None
    return int(value) if value.isdigit() else value


def build_settings(args: argparse.Namespace) -> Settings:
    """The settings tree: defaults, then the settings file, then the flags given."""
    from coach.content.loader import default_routine_dir

    extra = [Path(p) for p in os.environ.get(ROUTINES_ENV, "").split(os.pathsep) if p]
    path = settings_file()
    base = apply_overrides(Settings(), read_settings_file(path), path)
    tts = getattr(args, "tts", None)
    if tts is not None and tts != base.voice.tts:
        from coach.settings.remember import remember

        remember(path, "voice", "tts", tts)
        print(f"coach: speaking with {tts} from now on (saved in {path}).", file=sys.stderr)
    voice = replace(base.voice, rate=_given(args.rate, base.voice.rate),
                    volume=_given(args.volume, base.voice.volume),
                    voice=_given(args.voice, base.voice.voice), tts=_given(tts, base.voice.tts))
    if voice.tts not in TTS_ENGINES:
        raise UsageError(f"{path}: voice.tts must be one of {', '.join(TTS_ENGINES)}, "
                         f"not {voice.tts!r}")
    if not 0.0 <= voice.volume <= 1.0:
        raise UsageError("--volume must be between 0.0 and 1.0")
    if not 80 <= voice.rate <= 400:
        raise UsageError("--rate must be between 80 and 400 words per minute")
    audio = replace(base.audio, input_device=_given(_device(args.mic), base.audio.input_device),
                    output_device=_given(_device(args.speaker), base.audio.output_device),
                    echo_cancel=base.audio.echo_cancel and getattr(args, "echo_cancel", True),
                    enhance=_enhance(getattr(args, "enhance", None), base.audio.enhance))
    web = replace(base.screen.web,
                  host=_given(getattr(args, "web_host", None), base.screen.web.host),
                  port=_given(getattr(args, "web_port", None), base.screen.web.port))
    if not 0 <= web.port <= 65535:
        raise UsageError("--web-port must be between 0 and 65535")
    return replace(
        base,
        screen=replace(base.screen, web=web),
        log=replace(base.log, enabled=base.log.enabled and not getattr(args, "no_log", False)),
        routine_dirs=(default_routine_dir(), *base.routine_dirs, *extra, *args.routines),
        engine=_given(args.engine, base.engine),
        model=_given(args.model, base.model),
        wake_word=_given(args.wake_word, base.wake_word),
        voice=voice,
        audio=audio,
    )


def settings_file() -> Path:
    """The settings file: $COACH_SETTINGS, else settings.toml in the user's config folder."""
    named = os.environ.get(SETTINGS_ENV)
    if named:
        return Path(named)
    from platformdirs import user_config_dir

    return Path(user_config_dir("coach")) / "settings.toml"


def _given(flag: _V | None, current: _V) -> _V:
    return current if flag is None else flag


# --- handlers ---------------------------------------------------------------------------


def _load(settings: Settings, quiet: bool = False) -> Content:
    from coach.content.loader import load_content

    content, errors = load_content(settings.routine_dirs)
    if errors and not quiet:
        for error in errors:
            print(error, file=sys.stderr)
    return content


def _print_json(value: object) -> None:
    print(json.dumps(value, ensure_ascii=False), flush=True)


def _list(args: argparse.Namespace) -> int:
    from coach.core.spoken import say_seconds

    content = _load(build_settings(args))
    for routine in content.routines.values():
        line = f"{routine.id:<10} {routine.name} ({say_seconds(routine.total_seconds)})"
        print(f"{line}: {routine.description}" if routine.description else line)
    return 0


def _find_routine(content: Content, name: str) -> Routine:
    spoken = content.commands.slots.get("routine", {})
    wanted = name if name in content.routines else spoken.get(name.lower().strip())
    if wanted is None or wanted not in content.routines:
        known = ", ".join(content.routines)
        raise UsageError(f"no routine called {name!r}. Known routines: {known}")
    return content.routines[wanted]


def _show(args: argparse.Namespace) -> int:
    from coach.core.plan import dose
    from coach.core.spoken import say_seconds

    content = _load(build_settings(args))
    routine = _find_routine(content, args.routine)
    print(f"{routine.name} ({routine.id}): {say_seconds(routine.total_seconds)}")
    if routine.description:
        print(routine.description)
    for number, exercise in enumerate(routine.exercises, start=1):
        rest = f", then rest {say_seconds(exercise.rest_after)}" if exercise.rest_after else ""
        if number == len(routine.exercises):
            rest = ""
        print(f"  {number}. {exercise.name}: {dose(content.phrases, exercise)}{rest}")
        for cue in exercise.cues:
            when = f"at {cue.at:g}s" if cue.at is not None else "cue"
            print(f"       {when}: {cue.text}")
    return 0


def _play(args: argparse.Namespace) -> int:
    from coach.session.play import play_routine

    settings = build_settings(args)
    content = _load(settings)
    routine = _find_routine(content, args.routine)
    return play_routine(content, routine, settings, dry_run=args.dry_run, as_json=args.json,
                        silent=args.silent)


def _ask(args: argparse.Namespace) -> int:
    from coach.core.understanding import QUESTION
    from coach.session.understand import build_understanding

    settings = build_settings(args)
    _check_length(args.question, settings)
    content = _load(settings, quiet=True)
    understanding = build_understanding(content, settings)
    # The entry the coach would answer with when asked aloud (the meaning model included);
    # a sentence it takes for something else still gets the FAQ's closest entry, if any.
    intent = understanding.interpret(args.question)
    entries = {entry.id: entry for entry in content.faq}
    if intent.name == QUESTION:
        entry, score = entries.get(intent.slots.get("id", "")), intent.score
    else:
        match = understanding.faq.best(args.question)
        entry, score = match.entry, match.score
    if args.json:
        _print_json({"answer": entry.answer if entry else None, "id": entry.id if entry else None,
                     "score": round(score, 3)})
    elif entry is None:
        print(content.phrases["no_answer"])
    else:
        print(entry.answer)
        print(f"\nMore: {entry.details}")
    return 0


def _check_length(text: str, settings: Settings) -> None:
    words, most = len(text.split()), settings.understanding.max_words
    if words > most:
        raise UsageError(f"that is {words} words; the coach takes in up to {most} at a time: "
                         "ask one thing")


def _intent(args: argparse.Namespace) -> int:
    from coach.session.understand import build_understanding

    settings = build_settings(args)
    _check_length(args.text, settings)
    content = _load(settings, quiet=True)
    intent = build_understanding(content, settings).interpret(args.text)
    if args.json:
        _print_json({"intent": intent.name, "slots": dict(intent.slots),
                     "score": round(intent.score, 3)})
    else:
        slots = " ".join(f"{k}={v}" for k, v in intent.slots.items())
        print(f"{intent.name or '(not understood)'} {slots}".rstrip()
              + f"  [score {intent.score:.2f}]")
    return 0


def _check(args: argparse.Namespace) -> int:
    from coach.content.loader import check_paths

    # no paths: every folder the coach would load (shipped, $COACH_ROUTINES, --routines)
    paths = list(args.paths) or list(build_settings(args).routine_dirs)
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise UsageError(f"no such file or folder: {', '.join(map(str, missing))}", 1)
    problems = check_paths(paths)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s) found.", file=sys.stderr)
        return 1
    print(f"OK: {', '.join(map(str, paths))}")
    return 0


def _run(args: argparse.Namespace) -> int:
    settings = build_settings(args)
    content = _load(settings)
    choice = screen_choice(args, settings)
    silent = getattr(args, "silent", False)
    if getattr(args, "input", None) is not None:
        from coach.session.wav_file import run_file

        return run_file(content, settings, args.input, choice=choice)
    from coach.session.typed import run_typed

    if getattr(args, "text", False):
        return run_typed(content, settings, choice=choice, silent=silent)
    from coach.session.hands_free import run_hands_free

    return run_hands_free(
        content, settings, choice=choice, silent=silent,
        typed_instead=lambda: run_typed(content, settings, choice=choice, silent=silent),
    )


def _listen(args: argparse.Namespace) -> int:
    from coach.session.wav_file import listen_file

    settings = build_settings(args)
    return listen_file(_load(settings, quiet=True), settings, args.input, as_json=args.json)


def _history(args: argparse.Namespace) -> int:
    from coach.cli.history import forget, print_history, write_export, write_plot
    from coach.session.logbook import log_path
    from coach.store.workout_log import WorkoutLog

    path = log_path()
    log = WorkoutLog(path)
    try:
        if args.forget:
            forget(log, path, ask=not args.yes and sys.stdin.isatty())
        elif args.export:
            write_export(log, args.export)
        elif args.plot:
            write_plot(log, args.plot)
        else:
            print_history(log, path)
    finally:
        log.close()
    return 0


def _devices(args: argparse.Namespace) -> int:
    from coach.cli.doctor import print_devices

    return print_devices()


def _doctor(args: argparse.Namespace) -> int:
    from coach.cli.doctor import run_doctor

    return run_doctor(build_settings(args))


if __name__ == "__main__":
    raise SystemExit(main())
