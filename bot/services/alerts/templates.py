"""Utility message templates of the alerts (data/alert_templates.yml): load and check them against
Meta's rules, the Graph requests that create and send them, and their approval state.

Shapes (Messenger Platform, "Send a utility message"): created with
POST /{page-id}/message_templates {name, language, category: "UTILITY", components: [BODY with
{{n}} and example.body_text, BUTTONS of POSTBACK]}; sent through the Send API with
messaging_type "UTILITY" and message.template {name, language.code, components: [body parameters]}.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import PROJECT_ROOT
from bot.db.alerts import AlertKind, AlertTemplate
from bot.services.replies import BUTTON_TITLE_LIMIT, PAYLOAD_LIMIT, TEMPLATE_BUTTON_LIMIT

DEFAULT_PATH = PROJECT_ROOT / "data" / "alert_templates.yml"
APPROVED = "APPROVED"
NAME = re.compile(r"^[a-z0-9_]{1,512}$")
VARIABLE = re.compile(r"\{\{(\d+)\}\}")
BODY_LIMIT = 1024  # characters (WhatsApp's published limit; Meta publishes none for Messenger)
PARAMS = {"amount", "threshold", "line", "label", "until", "percent", "remaining"}


class TemplateFileError(ValueError):
    def __init__(self, path: Path | str, problems: list[str]):
        self.problems = problems
        super().__init__(f"{path}: modèles d'alerte invalides\n" + "\n".join(f"  - {p}" for p in problems))


@dataclass(frozen=True)
class TemplateSpec:
    kind: AlertKind
    name: str
    language: str
    body: str
    params: tuple[str, ...]
    examples: tuple[str, ...]
    buttons: tuple[tuple[str, str], ...]  # (title, payload)

    def create_request(self) -> dict[str, Any]:
        """POST /{page-id}/message_templates."""
        return {
            "name": self.name,
            "language": self.language,
            "category": "UTILITY",
            "components": [
                {"type": "BODY", "text": self.body, "example": {"body_text": [list(self.examples)]}},
                {
                    "type": "BUTTONS",
                    "buttons": [{"type": "POSTBACK", "text": t, "payload": p} for t, p in self.buttons],
                },
            ],
        }

    def message(self, values: dict[str, str]) -> dict[str, Any]:
        """The Send API `message` of this template filled with `values` (by parameter name)."""
        parameters = [{"type": "text", "text": values[name]} for name in self.params]
        return {
            "template": {
                "name": self.name,
                "language": {"code": self.language},
                "components": [{"type": "body", "parameters": parameters}],
            }
        }


def _problems(where: str, entry: dict[str, Any]) -> list[str]:
    found = []
    body, params, examples = str(entry.get("body", "")), entry.get("params") or [], entry.get("examples") or []
    if entry.get("kind") not in {k.value for k in AlertKind}:
        found.append(f"{where}: « kind » inconnu ({entry.get('kind')!r})")
    if not NAME.match(str(entry.get("name", ""))):
        found.append(f"{where}: « name » : minuscules, chiffres et _ seulement")
    numbers = [int(n) for n in VARIABLE.findall(body)]
    if numbers != list(range(1, len(numbers) + 1)):
        found.append(f"{where}: les variables doivent être {{{{1}}}}, {{{{2}}}}… dans l'ordre (lu : {numbers})")
    if re.match(r"\s*\{\{\d+\}\}", body) or re.search(r"\{\{\d+\}\}\s*$", body):
        found.append(f"{where}: le texte ne doit ni commencer ni finir par une variable")
    if not (len(numbers) == len(params) == len(examples)):
        found.append(f"{where}: autant de « params » et d'« examples » que de variables ({len(numbers)})")
    if unknown := set(params) - PARAMS:
        found.append(f"{where}: paramètres inconnus {sorted(unknown)} (connus : {sorted(PARAMS)})")
    if not body or len(body) > BODY_LIMIT:
        found.append(f"{where}: « body » de 1 à {BODY_LIMIT} caractères")
    buttons = entry.get("buttons") or []
    if len(buttons) > TEMPLATE_BUTTON_LIMIT:
        found.append(f"{where}: au plus {TEMPLATE_BUTTON_LIMIT} boutons")
    for b in buttons:
        if not str(b.get("title", "")) or len(str(b.get("title"))) > BUTTON_TITLE_LIMIT:
            found.append(f"{where}: titre de bouton de 1 à {BUTTON_TITLE_LIMIT} caractères ({b.get('title')!r})")
        if not str(b.get("payload", "")).startswith("/") or len(str(b.get("payload"))) > PAYLOAD_LIMIT:
            found.append(f"{where}: « payload » de bouton : une intention (/…) ({b.get('payload')!r})")
    return found


def load_templates(path: Path | str | None = None) -> dict[AlertKind, TemplateSpec]:
    """Every template of the file, by alert kind; TemplateFileError lists every problem at once."""
    path = Path(path or DEFAULT_PATH)
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    entries = data.get("templates") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise TemplateFileError(path, ["« templates » doit être une liste non vide"])
    problems: list[str] = []
    specs: dict[AlertKind, TemplateSpec] = {}
    for i, entry in enumerate(entries):
        where = f"templates[{i}]"
        if not isinstance(entry, dict):
            problems.append(f"{where}: doit être un bloc clé: valeur")
            continue
        found = _problems(where, entry)
        problems += found
        if found:
            continue
        kind = AlertKind(entry["kind"])
        if kind in specs:
            problems.append(f"{where}: deux modèles pour « {kind.value} »")
        specs[kind] = TemplateSpec(
            kind=kind,
            name=entry["name"],
            language=str(entry.get("language") or "fr"),
            body=entry["body"],
            params=tuple(entry["params"]),
            examples=tuple(str(e) for e in entry["examples"]),
            buttons=tuple((str(b["title"]), str(b["payload"])) for b in entry.get("buttons") or []),
        )
    if problems:
        raise TemplateFileError(path, problems)
    return specs


# ------------------------------------------------------------------------- approval state


def approved(session: Session, spec: TemplateSpec) -> bool:
    row = session.get(AlertTemplate, (spec.name, spec.language))
    return row is not None and row.status == APPROVED


def record_status(
    session: Session,
    name: str,
    language: str,
    status: str,
    now: datetime,
    remote_id: str | None = None,
    reason: str | None = None,
) -> None:
    """What Meta says of a template (the sync command's answer, or the status webhook) (flushed)."""
    row = session.get(AlertTemplate, (name, language))
    if row is None:
        row = AlertTemplate(name=name, language=language)
        session.add(row)
    row.status, row.reason, row.updated_at = status.upper(), reason, now
    if remote_id:
        row.remote_id = remote_id
    session.flush()


def update_known(
    session: Session, status: str, now: datetime, reason: str | None, *, remote_id: str, name: str, language: str
) -> bool:
    """A status Meta sent for one of our templates (found by id, else by name and language)
    (flushed). False when it is not one the sync command created."""
    row = session.scalar(select(AlertTemplate).where(AlertTemplate.remote_id == remote_id)) if remote_id else None
    row = row or session.get(AlertTemplate, (name, language))
    if row is None:
        return False
    row.status, row.reason, row.updated_at = status.upper(), reason, now
    session.flush()
    return True
