"""Reading and checking the FAQ files (faq/*.yml): entries, and each problem with its file and line.

Used at run time by the FAQ service (an entry whose file breaks keeps its last good version) and by
the editors' check (`./mobilis faq-check`, bot.tools.faq_check). An entry without its English
translation (`answer_en`, `questions_en`) is a warning, never a problem. Messages are in French:
the people who edit the FAQ are not developers. The YAML is read as a node tree (PyYAML's composer)
rather than plain values, so that every field keeps its line.
"""

from __future__ import annotations

import difflib
import os
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml

from bot.config import PROJECT_ROOT
from bot.services.replies import BUTTON_TEXT_LIMIT, BUTTON_TITLE_LIMIT, TEMPLATE_BUTTON_LIMIT, TEXT_LIMIT, Button, cut

DEFAULT_FAQ_DIR = PROJECT_ROOT / "faq"
FAQ_SUFFIXES = (".yml", ".yaml")

MIN_QUESTIONS = 6


@dataclass(frozen=True)
class FaqEntry:
    id: str
    category: str
    title: str  # ≤ 20 characters: the chip when the assistant offers several entries
    questions: tuple[str, ...]
    answer: str
    buttons: tuple[Button, ...]
    reviewed: date
    source: str  # resolved path of the YAML file
    line: int  # line of the entry's first field, for messages to editors
    answer_en: str | None = None  # optional English answer (English conversations)
    questions_en: tuple[str, ...] = ()  # optional English questions: training data only
    title_en: str | None = None  # optional English chip title (≤ 20 characters)


def default_title(entry_id: str) -> str:
    """ "code_puk" → "Code puk", for an entry without `title` (cut to a chip's 20 characters)."""
    text = entry_id.replace("_", " ").strip().capitalize()
    return cut(text, BUTTON_TITLE_LIMIT)


def normalise_question(text: str) -> str:
    """Lowercase, accents stripped, punctuation ignored, spaces collapsed.

    Two questions equal after this are the same training example for the model (its tokenizer
    ignores case, punctuation and, with our featurizers, most accent differences).
    """
    decomposed = unicodedata.normalize("NFKD", text.lower())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w]+", " ", bare).split())


def faq_files(faq_dir: Path) -> list[Path]:
    """The FAQ YAML files of a folder, in a stable order (README and others ignored)."""
    if not faq_dir.is_dir():
        return []
    return sorted(p for p in faq_dir.iterdir() if p.is_file() and p.suffix in FAQ_SUFFIXES)


FIELDS = (
    "id",
    "category",
    "title",
    "questions",
    "answer",
    "buttons",
    "reviewed",
    "answer_en",
    "questions_en",
    "title_en",
)
REQUIRED = ("id", "category", "questions", "answer", "reviewed")
BUTTON_FIELDS = ("title", "url")
ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
URL_RE = re.compile(r"^https://[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+(:\d+)?([/?#][^\s]*)?$")
# Rasa reads [text](entity) and {"entity": ...} inside examples as annotations.
ANNOTATION_CHARS = set("[]{}")

TAG = "tag:yaml.org,2002:"
TYPE_NAMES = {
    "str": "du texte",
    "int": "un nombre",
    "float": "un nombre",
    "bool": "oui/non (true/false, yes/no…)",
    "null": "une valeur vide",
    "timestamp": "une date",
    "seq": "une liste",
    "map": "un bloc de champs",
}


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass
class CheckResult:
    entries: dict[str, FaqEntry] = field(default_factory=dict)  # valid entries only
    problems: list[Problem] = field(default_factory=list)
    # Reported but harmless (the FAQ works): today, entries without their English translation.
    warnings: list[Problem] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    files_with_problems: set[str] = field(default_factory=set)  # resolved paths
    question_count: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def _display(path: Path) -> str:
    """Path as editors typed it: relative to the current folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.SequenceNode):
        return TYPE_NAMES["seq"]
    if isinstance(node, yaml.MappingNode):
        return TYPE_NAMES["map"]
    short = node.tag.replace(TAG, "")
    return TYPE_NAMES.get(short, short)


# How the checks report a problem: (line, message in French for the editor).
Report = Callable[[int, str], None]
# A mapping's fields: name → (key node, value node), kept for line numbers.
Fields = dict[str, tuple[yaml.Node, yaml.Node]]


def _is_text(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == TAG + "str"


def _mapping(node: yaml.MappingNode, report: Report, allowed: tuple[str, ...], what: str) -> Fields:
    """Keys → (key node, value node); reports unknown and repeated keys."""
    fields: Fields = {}
    for key_node, value_node in node.value:
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
        if not isinstance(key, str):
            report(_line(key_node), f"Nom de champ invalide dans {what}.")
            continue
        if key in fields:
            report(
                _line(key_node),
                f"Champ « {key} » présent deux fois dans {what} "
                f"(déjà ligne {_line(fields[key][0])}) : gardez-en un seul.",
            )
            continue
        if key not in allowed:
            guess = difflib.get_close_matches(key, allowed, n=1)
            hint = f" Vouliez-vous dire « {guess[0]} » ?" if guess else ""
            report(
                _line(key_node), f"Champ inconnu « {key} » dans {what} (champs permis : {', '.join(allowed)}).{hint}"
            )
            continue
        fields[key] = (key_node, value_node)
    return fields


def _text(fields: Fields, name: str, report: Report, label: str) -> str | None:
    """A required or optional text field; None (and a problem) when absent or not text."""
    node = fields[name][1]
    if isinstance(node, yaml.ScalarNode) and node.tag == TAG + "null":
        report(_line(node), f"{label} est vide.")
        return None
    if not _is_text(node):
        quote = " Mettez la valeur entre guillemets." if isinstance(node, yaml.ScalarNode) else ""
        report(_line(node), f"{label} doit être du texte, pas {_kind(node)}.{quote}")
        return None
    value = str(node.value).strip()
    if not value:
        report(_line(node), f"{label} est vide.")
        return None
    return value


def _check_buttons(node: yaml.Node, report: Report) -> list[Button] | None:
    if not isinstance(node, yaml.SequenceNode):
        report(_line(node), f"« buttons » doit être une liste (lignes « - title: … »), pas {_kind(node)}.")
        return None
    ok = True
    if len(node.value) > TEMPLATE_BUTTON_LIMIT:
        report(_line(node), f"{len(node.value)} boutons : {TEMPLATE_BUTTON_LIMIT} au maximum (limite de Messenger).")
        ok = False
    buttons = []
    for item in node.value:
        if not isinstance(item, yaml.MappingNode):
            report(_line(item), f"Un bouton doit avoir « title » et « url », pas {_kind(item)}.")
            ok = False
            continue
        fields = _mapping(item, report, BUTTON_FIELDS, "ce bouton")
        missing = [k for k in BUTTON_FIELDS if k not in fields]
        for key in missing:
            report(_line(item), f"Bouton sans « {key} ».")
        if missing:
            ok = False
            continue
        title = _text(fields, "title", report, "Le titre du bouton")
        url = _text(fields, "url", report, "Le lien du bouton")
        if title is not None and len(title) > BUTTON_TITLE_LIMIT:
            report(
                _line(fields["title"][1]),
                f"Titre de bouton « {title} » trop long : {len(title)} caractères "
                f"pour {BUTTON_TITLE_LIMIT} au maximum.",
            )
            title = None
        if url is not None and not URL_RE.match(url):
            report(
                _line(fields["url"][1]),
                f"Lien « {url} » invalide : il doit commencer par "
                "https:// suivi d'un nom de site, sans espace (ex. https://www.opt.nc/rdv).",
            )
            url = None
        if title is None or url is None:
            ok = False
            continue
        buttons.append(Button(title=title, url=url))
    return buttons if ok else None


def _check_date(node: yaml.Node, report: Report) -> date | None:
    raw = node.value if isinstance(node, yaml.ScalarNode) else None
    if isinstance(raw, str) and DATE_RE.match(raw.strip()):
        try:
            return date.fromisoformat(raw.strip())
        except ValueError:
            report(_line(node), f"Date « {raw} » impossible (mois 01-12, jour existant).")
            return None
    shown = raw if isinstance(raw, str) else _kind(node)
    report(_line(node), f"Date de relecture « {shown} » invalide : format attendu AAAA-MM-JJ (ex. 2026-11-27).")
    return None


# How each list of questions should be written, for the "too few questions" message.
QUESTION_STYLE = {
    "questions": "formulées comme les abonnés les tapent (sans accents, abréviations, fautes courantes)",
    "questions_en": "en anglais, formulées comme les visiteurs les tapent (abréviations, fautes courantes)",
}


def _check_questions(qnode: yaml.Node, report: Report, name: str, minimum: int) -> tuple[list[tuple[str, int]], bool]:
    """A list of questions (`questions`, or the optional English `questions_en`, same rules): (text,
    line) of each good one, and whether the list is valid."""
    questions: list[tuple[str, int]] = []
    if not isinstance(qnode, yaml.SequenceNode):
        report(_line(qnode), f"« {name} » doit être une liste (une ligne « - … » par question), pas {_kind(qnode)}.")
        return questions, False
    valid = True
    seen: dict[str, int] = {}
    for item in qnode.value:
        if not _is_text(item):
            report(_line(item), f"Question : il faut du texte, pas {_kind(item)}. Mettez-la entre guillemets.")
            valid = False
            continue
        text = " ".join(item.value.split())
        norm = normalise_question(text)
        if not norm:
            report(_line(item), "Question vide.")
            valid = False
        elif ANNOTATION_CHARS & set(text):
            report(
                _line(item),
                f"Question « {text} » : les caractères [ ] {{ }} sont réservés (annotations du modèle), retirez-les.",
            )
            valid = False
        elif norm in seen:
            report(_line(item), f"Question « {text} » répétée dans la même entrée (déjà ligne {seen[norm]}).")
            valid = False
        else:
            seen[norm] = _line(item)
            questions.append((text, _line(item)))
    if len(qnode.value) < minimum:
        report(
            _line(qnode),
            f"Seulement {len(qnode.value)} question(s) dans « {name} » : il en faut au "
            f"moins {minimum}, {QUESTION_STYLE[name]}.",
        )
        valid = False
    return questions, valid


def _check_answer(fields: Fields, name: str, report: Report, label: str, with_buttons: bool) -> str | None:
    """`answer` or `answer_en`: text within Messenger's limit (shorter under buttons)."""
    answer = _text(fields, name, report, label)
    limit = BUTTON_TEXT_LIMIT if with_buttons else TEXT_LIMIT
    if answer is not None and len(answer) > limit:
        why = " quand il y a des boutons" if with_buttons else ""
        report(
            _line(fields[name][1]),
            f"Réponse trop longue : {len(answer)} caractères pour {limit} au maximum{why} (limite de Messenger).",
        )
        return None
    return answer


Questions = list[tuple[str, int]]  # (text, line)


def _check_entry(
    node: yaml.Node, path: Path, report: Report, warn: Report
) -> tuple[FaqEntry | None, Questions, Questions]:
    """One entry; returns the entry (None if invalid), its questions and its English questions."""
    if not isinstance(node, yaml.MappingNode):
        report(_line(node), f"Chaque entrée doit être un bloc de champs commençant par « - id: … », pas {_kind(node)}.")
        return None, [], []
    start = _line(node)
    fields = _mapping(node, report, FIELDS, "cette entrée")
    _warn_untranslated(fields, start, _entry_id_hint(node), warn)
    valid = True
    for name in REQUIRED:
        if name not in fields:
            report(
                start,
                f"Champ obligatoire manquant : « {name} »"
                + {
                    "id": " (identifiant unique, ex. code_puk).",
                    "category": " (le nom du fichier sans .yml).",
                    "questions": " (liste des façons de poser la question).",
                    "answer": " (la réponse envoyée à l'abonné).",
                    "reviewed": " (date de dernière relecture, AAAA-MM-JJ).",
                }[name],
            )
            valid = False

    entry_id = category = answer = None
    if "id" in fields:
        entry_id = _text(fields, "id", report, "L'identifiant « id »")
        if entry_id is not None and not ID_RE.match(entry_id):
            report(
                _line(fields["id"][1]),
                f"Identifiant « {entry_id} » invalide : minuscules "
                "sans accents, chiffres et « _ », en commençant par une lettre "
                "(ex. code_puk).",
            )
            entry_id = None
    if "category" in fields:
        category = _text(fields, "category", report, "La catégorie")
        if category is not None and category != path.stem:
            report(
                _line(fields["category"][1]),
                f"Catégorie « {category} » différente du nom "
                f"du fichier « {path.stem} » : une catégorie par fichier, nommé "
                "<catégorie>.yml.",
            )
            category = None

    questions: list[tuple[str, int]] = []
    if "questions" in fields:
        questions, ok = _check_questions(fields["questions"][1], report, "questions", MIN_QUESTIONS)
        valid = valid and ok
    # English questions (optional, same rules): training data for the English model only; never shown.
    questions_en: Questions = []
    if "questions_en" in fields:
        questions_en, ok = _check_questions(fields["questions_en"][1], report, "questions_en", MIN_QUESTIONS)
        valid = valid and ok

    title = title_en = None
    for name, label in (("title", "Le titre « title »"), ("title_en", "Le titre anglais « title_en »")):
        if name not in fields:
            continue
        text = _text(fields, name, report, label)
        if text is not None and len(text) > BUTTON_TITLE_LIMIT:
            report(
                _line(fields[name][1]),
                f"Titre « {text} » trop long : {len(text)} caractères pour "
                f"{BUTTON_TITLE_LIMIT} au maximum (il s'affiche sur un bouton de Messenger).",
            )
            valid = False
        title, title_en = (text, title_en) if name == "title" else (title, text)

    buttons: list[Button] | None = []
    if "buttons" in fields:
        buttons = _check_buttons(fields["buttons"][1], report)
    if "answer" in fields:
        answer = _check_answer(fields, "answer", report, "La réponse « answer »", bool(buttons))
    # The English answer (optional): served when the conversation is in English.
    answer_en = None
    if "answer_en" in fields:
        answer_en = _check_answer(fields, "answer_en", report, "La réponse anglaise « answer_en »", bool(buttons))
        valid = valid and answer_en is not None
    reviewed = _check_date(fields["reviewed"][1], report) if "reviewed" in fields else None

    if not valid or entry_id is None or category is None or answer is None or reviewed is None or buttons is None:
        return None, questions, questions_en
    entry = FaqEntry(
        id=entry_id,
        category=category,
        title=title or default_title(entry_id),
        questions=tuple(q for q, _ in questions),
        answer=answer,
        buttons=tuple(buttons),
        reviewed=reviewed,
        source=str(path.resolve()),
        line=start,
        answer_en=answer_en,
        questions_en=tuple(q for q, _ in questions_en),
        title_en=title_en,
    )
    return entry, questions, questions_en


# An entry without its English translation still works: English speakers get the French answer
# (after an English line saying so) and the English model cannot pick it. Said, never a failure.
UNTRANSLATED = {
    "answer_en": "Entrée « {id} » sans traduction anglaise (answer_en) : elle sera servie en français aux anglophones.",
    "questions_en": (
        "Entrée « {id} » sans questions anglaises (questions_en) : le modèle anglais ne la reconnaîtra pas "
        "quand un visiteur pose la question en anglais."
    ),
    "title_en": "Entrée « {id} » sans titre anglais (title_en) : son bouton s'affichera en français aux anglophones.",
}


def _warn_untranslated(fields: Fields, start: int, entry_id: str | None, warn: Report) -> None:
    for name, message in UNTRANSLATED.items():
        if name == "title_en" and "title" not in fields:
            continue  # the title made from the id serves both languages
        if name not in fields:
            warn(start, message.format(id=entry_id or "?"))


def _entry_id_hint(node: yaml.Node) -> str | None:
    """The id of an entry even when the entry is invalid, for cross-entry messages."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if getattr(key, "value", None) == "id" and _is_text(value):
                return str(value.value).strip()
    return None


def check_dir(faq_dir: str | os.PathLike[str] | None = None) -> CheckResult:
    """Check every FAQ file of a folder; collects problems instead of stopping at the first."""
    directory = Path(faq_dir or DEFAULT_FAQ_DIR)
    result = CheckResult(files=faq_files(directory))
    if not directory.is_dir():
        result.problems.append(Problem(_display(directory), 0, "Dossier FAQ introuvable."))
        return result
    ids: dict[str, tuple[str, int]] = {}
    # One table per model (French, English): normalised question → (entry id, file, line).
    seen: dict[str, dict[str, tuple[str, str, int]]] = {"questions": {}, "questions_en": {}}

    for path in result.files:
        shown = _display(path)
        before = len(result.problems)

        def report(line: int, message: str, _shown: str = shown) -> None:
            result.problems.append(Problem(_shown, line, message))

        def warn(line: int, message: str, _shown: str = shown) -> None:
            result.warnings.append(Problem(_shown, line, message))

        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            report(1, f"Le fichier n'est pas en UTF-8 ({exc.reason}) : enregistrez-le en UTF-8.")
            result.files_with_problems.add(str(path.resolve()))
            continue
        try:
            root = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark else 1
            where = ""
            if exc.context and exc.context_mark is not None and exc.context_mark is not mark:
                where = f" ({exc.context}, ligne {exc.context_mark.line + 1})"
            report(
                line,
                f"Syntaxe YAML invalide : {exc.problem or exc.context}{where}. Vérifiez "
                "l'indentation (espaces, jamais de tabulation), les « : » après chaque nom "
                "de champ et les guillemets.",
            )
            result.files_with_problems.add(str(path.resolve()))
            continue
        except yaml.YAMLError as exc:
            report(1, f"Syntaxe YAML invalide : {exc}.")
            result.files_with_problems.add(str(path.resolve()))
            continue

        if root is None:
            report(1, "Fichier vide : il doit contenir une liste d'entrées (« - id: … »).")
        elif not isinstance(root, yaml.SequenceNode):
            report(
                _line(root),
                f"Le fichier doit être une liste d'entrées, chacune commençant par « - id: … », pas {_kind(root)}.",
            )
        else:
            for node in root.value:
                entry, entry_questions, entry_questions_en = _check_entry(node, path, report, warn)
                hint = entry.id if entry else _entry_id_hint(node)
                if hint is not None and ID_RE.match(hint):
                    if hint in ids:
                        first_file, first_line = ids[hint]
                        report(
                            _line(node),
                            f"Identifiant « {hint} » déjà utilisé "
                            f"({first_file} ligne {first_line}) : chaque id doit être unique.",
                        )
                        entry = None
                    else:
                        ids[hint] = (shown, _line(node))
                for name, listed in (("questions", entry_questions), ("questions_en", entry_questions_en)):
                    kind = "Question anglaise" if name == "questions_en" else "Question"
                    for text, line in listed:
                        norm = normalise_question(text)
                        other = seen[name].get(norm)
                        if other is not None and other[0] != hint:
                            report(
                                line,
                                f"{kind} « {text} » déjà utilisée par l'entrée "
                                f"« {other[0]} » ({other[1]} ligne {other[2]}) : une même question "
                                "ne peut mener qu'à une seule réponse.",
                            )
                        elif other is None:
                            seen[name][norm] = (hint or "?", shown, line)
                if entry is not None:
                    result.entries[entry.id] = entry
                    result.question_count += len(entry.questions)
        if len(result.problems) > before:
            result.files_with_problems.add(str(path.resolve()))

    if not result.files:
        result.problems.append(Problem(_display(directory), 0, "Aucun fichier .yml dans le dossier FAQ."))
    return result
