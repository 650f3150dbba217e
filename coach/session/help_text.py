"""README's "Things you can say", made from the same data as the spoken help.

The spoken help (phrases.yaml `help_idle`, `help_running`, `help_paused`, `help_stopped`)
lists, after "You can say:", what fits each moment; the README shows those lines and, from
commands.yaml, the first phrase of every other intent. `python -m coach.session.help_text`
rewrites that paragraph of README.md; tests/test_help.py fails when it is out of date.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from coach.content.model import Content, IntentName
from coach.core.spoken import join_words
from coach.core.understanding import Understanding

__all__ = ["BEGIN", "END", "HELP_KEYS", "help_items", "readme_paragraph", "update_readme"]

HELP_KEYS = {"help_idle": "Before a routine", "help_running": "During a routine",
             "help_paused": "When paused", "help_stopped": "After a stop"}
"""The spoken help lines, by the moment they fit."""
BEGIN = "<!-- things-you-can-say: made by python -m coach.session.help_text -->"
END = "<!-- /things-you-can-say -->"
_LEAD = "You can say:"
_NOT_LISTED = (IntentName.QUESTION, IntentName.YES, IntentName.NO)
"""A question is any question; yes and no only answer the coach's own questions."""


def help_items(line: str) -> list[str]:
    """The things to say in a help line: after "You can say:", up to the first full stop,
    separated by commas (a last "or" dropped)."""
    if not line.startswith(_LEAD):
        return []
    listed = line[len(_LEAD):].split(".", 1)[0]
    items = (re.sub(r"^or ", "", item.strip()) for item in listed.split(","))
    return [item for item in items if item]


def readme_paragraph(content: Content) -> str:
    """The README's "Things you can say" paragraph (Markdown), between its markers."""
    names = join_words([routine.name.lower() for routine in content.routines.values()])
    understanding = Understanding(content.commands, content.faq)
    lines = [BEGIN, "Things you can say (\"help\" says the line that fits the moment):", ""]
    listed: set[str] = set()
    for key, moment in HELP_KEYS.items():
        text = " ".join(content.phrases[key].format(routines=names).split())
        lines.append(f"- {moment}: {text}")
        listed |= {understanding.interpret(item).name or "" for item in help_items(text)}
    others = [phrase for phrase in understanding.leading_phrases()
              if (name := understanding.interpret(phrase).name) not in listed
              and name not in _NOT_LISTED]
    lines.append(f"- Also understood: {', '.join(others)}. When the coach asks "
                 f"(\"{content.phrases['confirm_stop']}\"), say yes or no.")
    return "\n".join([*lines, END])


def update_readme(readme: Path, content: Content) -> bool:
    """Rewrite the paragraph in `readme`; True when it changed."""
    text = readme.read_text(encoding="utf-8")
    begin, end = text.index(BEGIN), text.index(END) + len(END)
    new = text[:begin] + readme_paragraph(content) + text[end:]
    if new != text:
        readme.write_text(new, encoding="utf-8")
    return new != text


def main() -> int:
    from coach.content.loader import default_routine_dir, load_content

    content, problems = load_content([default_routine_dir()])
    if problems:
        print("\n".join(str(problem) for problem in problems), file=sys.stderr)
        return 1
    readme = Path(__file__).resolve().parents[2] / "README.md"
    print("README.md updated" if update_readme(readme, content) else "README.md is current")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
