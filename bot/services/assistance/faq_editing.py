"""Changes an editor makes to faq/*.yml from the review queue: a question added to an entry, or a
new entry drafted.

The files are edited as text, a few lines at a time, so the diff an editor reviews is exactly
those lines (a YAML dump would reformat the whole file). Every change is checked with the same rules
as `./mobilis faq-check` on a copy of the folder before the real file is written: an invalid
change is refused with the check's messages, and nothing is written. Nothing is trained here:
the model learns the new questions at the next `./mobilis train`.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from bot.services.assistance import faq_source
from bot.services.assistance.faq_source import ANNOTATION_CHARS, ID_RE, faq_files

# Plain YAML scalars that would not read back as the same text: quote them.
_PLAIN_UNSAFE = re.compile(
    r"^[-?:,\[\]{}#&*!|>'\"%@`\s]|: | #|\s$|^(y|n|yes|no|on|off|true|false|null|~|oui|non)$", re.I
)
_NUMBER = re.compile(r"^[-+]?(\d[\d_]*)?(\.\d*)?([eE][-+]?\d+)?$")
# One change at a time (read, check, write): the back office is one process.
_writing = threading.Lock()


class FaqEditError(Exception):
    """The change cannot be made; `problems` says why, in French, for the editor."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class FaqChange:
    path: Path
    diff: str
    warnings: list[str] = field(default_factory=list)


def yaml_text(value: str) -> str:
    """A one-line YAML scalar for `value` (double-quoted when plain would not read back)."""
    if _PLAIN_UNSAFE.search(value) or _NUMBER.match(value):
        return json.dumps(value, ensure_ascii=False)
    return value


def clean_question(text: str) -> str:
    question = " ".join("".join(c for c in text if c not in ANNOTATION_CHARS).split())
    if not question:
        raise FaqEditError(["La question est vide."])
    return question


def add_questions(
    faq_dir: Path, entry_id: str, questions: list[str], today: date, *, english: bool = False
) -> FaqChange:
    """Add `questions` to the entry's `questions` (`questions_en` when english) and date the entry
    as reviewed today."""
    cleaned = [clean_question(q) for q in questions if q.strip()]
    if not cleaned:
        raise FaqEditError(["Aucune question à ajouter."])
    field_name = "questions_en" if english else "questions"
    with _writing:
        return _add_questions(faq_dir, entry_id, cleaned, field_name, today)


def _add_questions(faq_dir: Path, entry_id: str, questions: list[str], field_name: str, today: date) -> FaqChange:
    for path in faq_files(faq_dir):
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        span = _entry_span(lines, entry_id)
        if span is None:
            continue
        start, end = span
        block = _field_line(lines, start, end, field_name)
        if block is None:
            raise FaqEditError([f"L'entrée « {entry_id} » n'a pas de liste « {field_name} »."])
        last, indent = _last_item(lines, block, end)
        added = [f"{indent}- {yaml_text(question)}\n" for question in questions]
        new = [*lines[: last + 1], *added, *lines[last + 1 :]]
        new = _set_reviewed(new, start, end + len(added), today)
        return _write_checked(faq_dir, path, lines, new)
    raise FaqEditError([f"Aucune entrée « {entry_id} » dans la FAQ."])


def add_entry(
    faq_dir: Path,
    category: str,
    entry_id: str,
    title: str,
    questions: list[str],
    answer: str,
    today: date,
) -> FaqChange:
    """Append a new entry to `<category>.yml` (the category must exist)."""
    if not ID_RE.match(entry_id or ""):
        raise FaqEditError(["Identifiant invalide : minuscules sans accents, chiffres et _ (ex. wifi_bateau)."])
    path = next((p for p in faq_files(faq_dir) if p.stem == category), None)
    if path is None:
        raise FaqEditError([f"Catégorie inconnue : « {category} »."])
    answer_lines = [line.rstrip() for line in answer.strip().splitlines()]
    if not any(answer_lines):
        raise FaqEditError(["La réponse est vide."])
    block = [
        "\n",
        f"- id: {entry_id}\n",
        f"  category: {category}\n",
        *([f"  title: {yaml_text(' '.join(title.split()))}\n"] if title.strip() else []),
        "  questions:\n",
        *[f"    - {yaml_text(clean_question(q))}\n" for q in questions if q.strip()],
        "  answer: |\n",
        *[f"    {line}\n" if line else "\n" for line in answer_lines],
        f"  reviewed: {today.isoformat()}\n",
    ]
    with _writing:
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        ending = ["\n"] if lines and not lines[-1].endswith("\n") else []
        return _write_checked(faq_dir, path, lines, [*lines, *ending, *block])


def _entry_span(lines: list[str], entry_id: str) -> tuple[int, int] | None:
    """(first line, last line) of the top-level entry `- id: <entry_id>`."""
    start = next(
        (i for i, line in enumerate(lines) if re.match(rf"^- id:\s*['\"]?{re.escape(entry_id)}['\"]?\s*$", line)), None
    )
    if start is None:
        return None
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("- ")), len(lines)) - 1
    while end > start and not lines[end].strip():
        end -= 1
    return start, end


def _field_line(lines: list[str], start: int, end: int, name: str) -> int | None:
    return next((i for i in range(start, end + 1) if re.match(rf"^  {name}:\s*$", lines[i])), None)


def _last_item(lines: list[str], block: int, end: int) -> tuple[int, str]:
    """The last `- item` line of the list starting after `block`, and its indentation."""
    last, indent = block, "    "
    for i in range(block + 1, end + 1):
        match = re.match(r"^(\s+)- ", lines[i])
        if match and len(match.group(1)) > 2:
            last, indent = i, match.group(1)
        elif lines[i].strip() and not lines[i].startswith("    "):
            break
    return last, indent


def _set_reviewed(lines: list[str], start: int, end: int, today: date) -> list[str]:
    for i in range(start, min(end + 1, len(lines))):
        if re.match(r"^  reviewed:", lines[i]):
            return [*lines[:i], f"  reviewed: {today.isoformat()}\n", *lines[i + 1 :]]
    return lines


def _write_checked(faq_dir: Path, path: Path, old: list[str], new: list[str]) -> FaqChange:
    """Check the folder as it would be, then write the file (atomically) and return the diff."""
    text = "".join(new)
    with tempfile.TemporaryDirectory(prefix="faq-edit-") as scratch:
        copy = Path(scratch) / "faq"
        shutil.copytree(faq_dir, copy)
        (copy / path.name).write_text(text, encoding="utf-8")
        result = faq_source.check_dir(copy)
    if not result.ok:
        raise FaqEditError([f"ligne {p.line} : {p.message}" if p.line else p.message for p in result.problems])
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
    diff = "".join(difflib.unified_diff(old, new, f"a/faq/{path.name}", f"b/faq/{path.name}"))
    return FaqChange(path, diff, [p.message for p in result.warnings if p.file.endswith(path.name)])
