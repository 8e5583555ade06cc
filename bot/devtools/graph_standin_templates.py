"""The stand-in Graph API's utility message templates (development and tests only).

POST /{page-id}/message_templates creates a Page-owned template, checked with the rules Meta
publishes (name in a-z0-9_, category UTILITY, a BODY whose {{n}} run 1, 2, … with one example each
and neither start nor end the text, POSTBACK / URL / PHONE_NUMBER buttons, at most 3) and approved at
once, as Meta approves Page-owned templates within seconds; GET lists them (?name= filters). A send
with messaging_type "UTILITY" must name an approved template in its language, with one text
parameter per variable. `TemplateRegistry.set_status` plays Meta pausing or rejecting one.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Callable
from typing import Any

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

NAME = re.compile(r"^[a-z0-9_]{1,512}$")
VARIABLE = re.compile(r"\{\{(\d+)\}\}")
BUTTON_TYPES = {"POSTBACK", "URL", "PHONE_NUMBER"}


def _create_problem(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "(#100) The request body must be a JSON object"
    if not NAME.match(str(body.get("name", ""))):
        return "(#100) Param name must be lowercase letters, digits and underscores"
    if body.get("category") != "UTILITY":
        return "(#100) Param category must be UTILITY"
    if not body.get("language"):
        return "(#100) Param language is required"
    components: list[Any] = body["components"] if isinstance(body.get("components"), list) else []
    bodies = [c for c in components if isinstance(c, dict) and c.get("type") == "BODY"]
    if len(bodies) != 1 or not isinstance(bodies[0].get("text"), str):
        return "(#100) A template needs one BODY component with a text"
    text = bodies[0]["text"]
    numbers = [int(n) for n in VARIABLE.findall(text)]
    if numbers != list(range(1, len(numbers) + 1)):
        return "(#100) INCORRECT_PARAMS: variables must be {{1}}, {{2}}… in order"
    if re.match(r"\s*\{\{\d+\}\}", text) or re.search(r"\{\{\d+\}\}\s*$", text):
        return "(#100) A template cannot start or end with a parameter"
    examples = ((bodies[0].get("example") or {}).get("body_text") or [[]])[0]
    if numbers and len(examples) != len(numbers):
        return "(#100) TEMPLATE_VARIABLES_MISSING_SAMPLE_VALUES"
    for component in components:
        if isinstance(component, dict) and component.get("type") == "BUTTONS":
            buttons = component.get("buttons") or []
            if len(buttons) > 3 or any(b.get("type") not in BUTTON_TYPES for b in buttons):
                return "(#100) Buttons: at most 3, of type POSTBACK, URL or PHONE_NUMBER"
    return None


class TemplateRegistry:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(900000001)
        self.templates: dict[tuple[str, str], dict[str, Any]] = {}  # (name, language) → template

    def create(self, body: Any) -> tuple[dict[str, Any] | None, str | None]:
        problem = _create_problem(body)
        if problem:
            return None, problem
        with self._lock:
            key = (body["name"], body["language"])
            if key in self.templates:
                return None, "(#100) A template with this name and language already exists"
            template = {**body, "id": str(next(self._ids)), "status": "APPROVED"}
            self.templates[key] = template
        return template, None

    def listing(self, name: str | None) -> list[dict[str, Any]]:
        with self._lock:
            found = [t for t in self.templates.values() if name in (None, t["name"])]
        return [{k: t[k] for k in ("id", "name", "language", "status", "category", "components")} for t in found]

    def set_status(self, name: str, language: str, status: str) -> dict[str, Any]:
        with self._lock:
            template = self.templates[(name, language)]
            template["status"] = status
            return dict(template)

    def render(self, message: dict[str, Any]) -> dict[str, Any]:
        """What the user sees of a valid UTILITY message: the body filled in, and its buttons."""
        template = message["template"]
        with self._lock:
            known = self.templates[(template["name"], template["language"]["code"])]
        text = next(c["text"] for c in known["components"] if c.get("type") == "BODY")
        values = [
            p["text"] for c in template.get("components") or [] if c.get("type") == "body" for p in c["parameters"]
        ]
        text = VARIABLE.sub(lambda m: values[int(m.group(1)) - 1], text)
        buttons = [b for c in known["components"] if c.get("type") == "BUTTONS" for b in c.get("buttons") or []]
        return {
            "text": text,
            "buttons": [{"type": "postback", "title": b["text"], "payload": b.get("payload", "")} for b in buttons],
        }

    def send_problem(self, message: Any) -> str | None:
        """Why Meta would refuse this UTILITY message, or None."""
        template = message.get("template") if isinstance(message, dict) else None
        if not isinstance(template, dict) or "attachment" in message:
            return "(#100) A UTILITY message is message.template {name, language, components}"
        language = (template.get("language") or {}).get("code", "")
        with self._lock:
            known = self.templates.get((str(template.get("name")), str(language)))
        if known is None:
            return "(#100) Template name does not exist in this language"
        if known["status"] != "APPROVED":
            return f"(#100) Template is {known['status']}, not APPROVED"
        text = next(c["text"] for c in known["components"] if c.get("type") == "BODY")
        expected = len(VARIABLE.findall(text))
        parts = [c for c in template.get("components") or [] if isinstance(c, dict) and c.get("type") == "body"]
        parameters = parts[0].get("parameters") or [] if parts else []
        if len(parameters) != expected:
            return f"(#100) Number of parameters ({len(parameters)}) does not match the template ({expected})"
        if any(p.get("type") != "text" or not str(p.get("text") or "").strip() for p in parameters):
            return "(#100) Each body parameter is a non-empty text"
        return None


def add_template_routes(
    bp: Blueprint,
    registry: TemplateRegistry,
    check_token: Callable[[], ResponseReturnValue | None],
    error: Callable[[str], ResponseReturnValue],
) -> None:
    @bp.route("/<version>/<page_id>/message_templates", methods=["GET", "POST"])
    def message_templates(version: str, page_id: str) -> ResponseReturnValue:
        failure = check_token()
        if failure:
            return failure
        if request.method == "GET":
            return jsonify({"data": registry.listing(request.args.get("name"))})
        template, problem = registry.create(request.get_json(silent=True))
        if template is None:
            return error(problem or "(#100) refused")
        return jsonify({"id": template["id"], "status": template["status"], "category": "UTILITY"})
