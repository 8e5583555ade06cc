"""Stand-in for the Graph API (development and tests only): records what the bot "sent".

It validates Send API requests roughly like Facebook (recipient, messaging_type, Messenger limits)
and answers like it: `{"recipient_id", "message_id"}` or a Graph error object (code 100 for a bad
parameter, 190 for a wrong token). Tests can queue failures with `store.fail_next(...)`
(`endpoint="messenger_profile"` for the Messenger Profile API, the Send API otherwise).

The Messenger Profile API (GET/POST/DELETE me/messenger_profile) keeps the page's profile in
`store.profile`, with Facebook's main rules: greeting ≤ 160 chars, a "default" locale in each
localised list, a flat persistent menu of ≤ 20 items (titles ≤ 30 chars) that needs a Get Started
button, ≤ 4 ice breakers per locale.

Two ways to use it: mounted in the dev webhook at /dev/graph (blueprint), or standalone with
`create_standin_app()` served on 127.0.0.1 by tests.
"""

from __future__ import annotations

import copy
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request
from flask.typing import ResponseReturnValue

from bot import clock
from bot.devtools.graph_standin_templates import TemplateRegistry, add_template_routes
from bot.services import replies as limits

SENDER_ACTIONS = {"typing_on", "typing_off", "mark_seen"}
MESSAGING_TYPES = {"RESPONSE", "UPDATE", "MESSAGE_TAG"}
THREAD_CONTROL = "pass_thread_control,take_thread_control,release_thread_control,request_thread_control"


class StandinStore:
    """Thread-safe memory of sends (per PSID, with a growing cursor) and other Graph calls."""

    def __init__(self, expected_token: str | None = None):
        self.expected_token = expected_token
        self._lock = threading.Condition()
        self._seq = itertools.count(1)
        self.sends: list[dict[str, Any]] = []
        self.calls: list[dict[str, Any]] = []  # messenger_profile, thread control...
        self._failures: dict[str, deque[tuple[int, Any]]] = {}
        self.request_count = 0  # Send API requests
        self.profile: dict[str, Any] = {}  # the page's Messenger profile, as Facebook keeps it
        self.profile_requests: list[tuple[str, Any]] = []  # (method, fields or body) per profile call
        self.templates = TemplateRegistry()  # utility message templates of the page

    def fail_next(
        self,
        code: int = 1,
        *,
        http_status: int = 400,
        subcode: int | None = None,
        is_transient: bool | None = None,
        count: int = 1,
        raw_body: Any = None,
        endpoint: str = "messages",
    ) -> None:
        """The next `count` requests to `endpoint` ("messages": Send API, or "messenger_profile")
        fail with this Graph error (or raw body)."""
        error = {
            "message": f"(#{code}) stand-in failure",
            "type": "OAuthException",
            "code": code,
            "fbtrace_id": "standin",
        }
        if subcode is not None:
            error["error_subcode"] = subcode
        if is_transient is not None:
            error["is_transient"] = is_transient
        body = raw_body if raw_body is not None else {"error": error}
        with self._lock:
            self._failures.setdefault(endpoint, deque()).extend([(http_status, body)] * count)

    def next_failure(self, endpoint: str = "messages") -> tuple[int, Any] | None:
        with self._lock:
            if endpoint == "messages":
                self.request_count += 1
            queue = self._failures.get(endpoint)
            return queue.popleft() if queue else None

    def record_send(self, payload: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            seq = next(self._seq)
            record = {
                "seq": seq,
                "psid": str(payload["recipient"]["id"]),
                "kind": "sender_action" if "sender_action" in payload else "message",
                "sender_action": payload.get("sender_action"),
                "messaging_type": payload.get("messaging_type"),
                "tag": payload.get("tag"),  # HUMAN_AGENT marks an agent's reply (simulator shows it)
                "message": payload.get("message"),
                # a utility template as the user sees it (the simulator draws it as a card)
                "rendered": self.templates.render(payload["message"])
                if payload.get("messaging_type") == "UTILITY"
                else None,
                "message_id": f"m_standin_{seq}",
                "at": clock.utcnow().isoformat(),
            }
            self.sends.append(record)
            self._lock.notify_all()
            return record

    def record_call(self, path: str, body: Any, method: str = "POST") -> dict[str, Any]:
        with self._lock:
            record = {"seq": next(self._seq), "path": path, "body": body, "method": method}
            self.calls.append(record)
            self._lock.notify_all()
            return record

    # ---- Messenger Profile API ----

    def read_profile(self, fields: list[str]) -> dict[str, Any]:
        """What GET me/messenger_profile?fields=... answers: the set fields, in a one-item list."""
        with self._lock:
            found = {f: copy.deepcopy(self.profile[f]) for f in fields if f in self.profile}
        return {"data": [found] if found else []}

    def update_profile(self, body: Any) -> str | None:
        """POST: validate like Facebook, then store the given fields; the error text or None."""
        if not isinstance(body, dict) or not body:
            return "(#100) The request body must be a non-empty JSON object"
        unknown = sorted(set(body) - set(PROFILE_FIELDS))
        if unknown:
            return f"(#100) Unknown profile field(s): {', '.join(unknown)}"
        with self._lock:
            merged = {**self.profile, **body}
            problem = validate_profile(body, merged)
            self.profile_requests.append(("POST", body))
            if problem is None:
                self.profile = copy.deepcopy(merged)
            return problem

    def delete_profile(self, body: Any) -> str | None:
        fields = body.get("fields") if isinstance(body, dict) else None
        if not isinstance(fields, list) or not fields or not all(f in PROFILE_FIELDS for f in fields):
            return "(#100) param fields must be a non-empty list of profile fields"
        with self._lock:
            self.profile_requests.append(("DELETE", fields))
            remaining = {k: v for k, v in self.profile.items() if k not in fields}
            if "persistent_menu" in remaining and "get_started" not in remaining:
                return "(#100) The persistent menu needs a Get Started button: delete the menu first"
            self.profile = remaining
            return None

    def sent_to(self, psid: str, after: int = 0, kind: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [
                r for r in self.sends if r["psid"] == psid and r["seq"] > after and (kind is None or r["kind"] == kind)
            ]

    def messages(self, psid: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.sends if r["kind"] == "message" and (psid is None or r["psid"] == psid)]

    def reset(self, psid: str | None = None) -> int:
        with self._lock:
            before = len(self.sends)
            self.sends = [r for r in self.sends if psid is not None and r["psid"] != psid]
            if psid is None:
                self.calls.clear()
                self._failures.clear()
            return before - len(self.sends)

    def wait_for(self, predicate: Callable[[StandinStore], bool], timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        with self._lock:
            while not predicate(self):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._lock.wait(remaining)
            return True


def graph_error(message: str, code: int = 100, status: int = 400, subcode: int | None = None) -> tuple[Response, int]:
    error = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "standin"}
    if subcode is not None:
        error["error_subcode"] = subcode
    return jsonify({"error": error}), status


def validate_send(payload: Any) -> str | None:
    """Why Facebook would refuse this Send API body, or None. Deliberately not exhaustive."""
    if not isinstance(payload, dict):
        return "(#100) The request body must be a JSON object"
    if not str((payload.get("recipient") or {}).get("id") or ""):
        return "(#100) The parameter recipient is required"
    if "sender_action" in payload:
        if "message" in payload:
            return "(#100) sender_action cannot be sent with a message"
        if payload["sender_action"] not in SENDER_ACTIONS:
            return "(#100) Param sender_action must be one of typing_on, typing_off, mark_seen"
        return None
    if payload.get("messaging_type") not in MESSAGING_TYPES:
        return "(#100) The parameter messaging_type is required (RESPONSE, UPDATE or MESSAGE_TAG)"
    if payload["messaging_type"] == "MESSAGE_TAG" and not payload.get("tag"):
        return "(#100) A MESSAGE_TAG message needs a tag"
    message = payload.get("message")
    if not isinstance(message, dict):
        return "(#100) The parameter message is required"
    return validate_message(message)


def validate_message(message: dict[str, Any]) -> str | None:
    has_text, attachment = "text" in message, message.get("attachment")
    if has_text == bool(attachment):
        return "(#100) A message must have exactly one of text or attachment"
    if has_text and not (isinstance(message["text"], str) and message["text"].strip()):
        return "(#100) Message text must be a non-empty string"
    if has_text and len(message["text"]) > limits.TEXT_LIMIT:
        return "(#100) Length of param message[text] must be less than or equal to 2000"
    chips = message.get("quick_replies")
    if chips is not None:
        if not isinstance(chips, list) or not 1 <= len(chips) <= limits.QUICK_REPLY_LIMIT:
            return "(#100) param message[quick_replies] must have between 1 and 13 elements"
        for chip in chips:
            if chip.get("content_type") == "text" and not (chip.get("title") and chip.get("payload")):
                return "(#100) A text quick reply needs a title and a payload"
            if len(chip.get("title") or "") > limits.QUICK_REPLY_TITLE_LIMIT:
                return "(#100) Quick reply title over 20 characters"
    if attachment:
        return _validate_attachment(attachment)
    return None


def _validate_attachment(attachment: dict[str, Any]) -> str | None:
    payload = attachment.get("payload") or {}
    if attachment.get("type") != "template":
        return (
            None
            if attachment.get("type") in {"image", "audio", "video", "file"}
            else "(#100) Unsupported attachment type"
        )
    kind = payload.get("template_type")
    if kind == "button":
        if not payload.get("text") or len(payload["text"]) > limits.BUTTON_TEXT_LIMIT:
            return "(#100) Button template text must be 1 to 640 characters"
        return _validate_buttons(payload.get("buttons"), minimum=1)
    if kind == "generic":
        elements = payload.get("elements") or []
        if not 1 <= len(elements) <= limits.GENERIC_ELEMENT_LIMIT:
            return "(#100) Generic template needs 1 to 10 elements"
        for element in elements:
            if not element.get("title") or len(element["title"]) > limits.ELEMENT_TEXT_LIMIT:
                return "(#100) Element title must be 1 to 80 characters"
            if len(element.get("subtitle") or "") > limits.ELEMENT_TEXT_LIMIT:
                return "(#100) Element subtitle over 80 characters"
            problem = _validate_buttons(element.get("buttons") or [], minimum=0)
            if problem:
                return problem
        return None
    return None  # other templates: not checked


def _validate_buttons(buttons: Any, minimum: int) -> str | None:
    if not isinstance(buttons, list) or not minimum <= len(buttons) <= limits.TEMPLATE_BUTTON_LIMIT:
        return "(#100) A template takes 1 to 3 buttons"
    for button in buttons:
        if len(button.get("title") or "") > limits.BUTTON_TITLE_LIMIT:
            return "(#100) Button title over 20 characters"
        if button.get("type") == "web_url" and not button.get("url"):
            return "(#100) A web_url button needs a url"
        if button.get("type") == "postback" and not button.get("payload"):
            return "(#100) A postback button needs a payload"
        if button.get("type") == "phone_number" and not str(button.get("payload") or "").startswith("+"):
            return "(#100) A phone_number button needs a payload in international format (+…)"
    return None


PROFILE_FIELDS = ("get_started", "greeting", "persistent_menu", "ice_breakers", "whitelisted_domains")
GREETING_LIMIT, MENU_ITEM_LIMIT, MENU_TITLE_LIMIT, ICE_BREAKER_LIMIT, PAYLOAD_LIMIT = 160, 20, 30, 4, 1000


def validate_profile(body: dict[str, Any], merged: dict[str, Any]) -> str | None:
    """Why Facebook would refuse this Messenger Profile POST (given the profile after it), or None."""
    if "get_started" in body:
        payload = (body["get_started"] or {}).get("payload") if isinstance(body["get_started"], dict) else None
        if not isinstance(payload, str) or not payload or len(payload) > PAYLOAD_LIMIT:
            return "(#100) get_started.payload must be a string of 1 to 1000 characters"
    if "greeting" in body:
        problem = _localised(body["greeting"], "greeting")
        if problem:
            return problem
        for item in body["greeting"]:
            if not isinstance(item.get("text"), str) or not 1 <= len(item["text"]) <= GREETING_LIMIT:
                return "(#100) greeting text must be 1 to 160 characters"
    if "persistent_menu" in body:
        if "get_started" not in merged:
            return "(#100) You must set a Get Started button to use the persistent menu"
        problem = _localised(body["persistent_menu"], "persistent_menu") or _validate_menu(body["persistent_menu"])
        if problem:
            return problem
    if "ice_breakers" in body:
        problem = _validate_ice_breakers(body["ice_breakers"])
        if problem:
            return problem
    return None


def _localised(items: Any, name: str) -> str | None:
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        return f"(#100) {name} must be a non-empty list of objects"
    locales = [i.get("locale") for i in items]
    if "default" not in locales:
        return f'(#100) {name} needs an item with locale "default"'
    if len(set(locales)) != len(locales):
        return f"(#100) {name}: each locale may appear once"
    return None


def _validate_menu(menus: list[dict[str, Any]]) -> str | None:
    for menu in menus:
        if "composer_input_disabled" in menu and not isinstance(menu["composer_input_disabled"], bool):
            return "(#100) composer_input_disabled must be a boolean"
        items = menu.get("call_to_actions")
        if not isinstance(items, list) or not 1 <= len(items) <= MENU_ITEM_LIMIT:
            return "(#100) persistent_menu call_to_actions must have 1 to 20 items"
        for item in items:
            if not isinstance(item, dict):
                return "(#100) A menu item must be an object"
            if "call_to_actions" in item or item.get("type") == "nested":
                return "(#100) Nested persistent menus are no longer supported"
            title = item.get("title")
            if not isinstance(title, str) or not 1 <= len(title) <= MENU_TITLE_LIMIT:
                return "(#100) Menu item title must be 1 to 30 characters"
            if item.get("type") == "postback":
                if not isinstance(item.get("payload"), str) or not 1 <= len(item["payload"]) <= PAYLOAD_LIMIT:
                    return "(#100) A postback menu item needs a payload (1 to 1000 characters)"
            elif item.get("type") == "web_url":
                if not str(item.get("url") or "").startswith(("https://", "http://")):
                    return "(#100) A web_url menu item needs an http(s) url"
            else:
                return "(#100) Menu item type must be postback or web_url"
    return None


def _validate_ice_breakers(items: Any) -> str | None:
    if not isinstance(items, list) or not items:
        return "(#100) ice_breakers must be a non-empty list"
    new_format = ["call_to_actions" in i for i in items if isinstance(i, dict)]
    if len(new_format) != len(items) or (any(new_format) and not all(new_format)):
        return "(#100) ice_breakers: use either the old or the new (localised) format, not both"
    groups = [i["call_to_actions"] for i in items] if all(new_format) else [items]
    if all(new_format):
        problem = _localised(items, "ice_breakers")
        if problem:
            return problem
    for questions in groups:
        if not isinstance(questions, list) or not 1 <= len(questions) <= ICE_BREAKER_LIMIT:
            return "(#100) A maximum of 4 ice breakers can be set (per locale)"
        for question in questions:
            if not (
                isinstance(question, dict)
                and isinstance(question.get("question"), str)
                and question["question"].strip()
                and isinstance(question.get("payload"), str)
                and question["payload"]
            ):
                return "(#100) Each ice breaker needs a question and a payload"
    return None


def make_standin_blueprint(store: StandinStore, name: str = "graph_standin") -> Blueprint:
    bp = Blueprint(name, __name__)

    def token_error() -> tuple[Response, int] | None:
        token = request.args.get("access_token")
        if not token or (store.expected_token and token != store.expected_token):
            return graph_error("Invalid OAuth access token - Cannot parse access token", code=190)
        return None

    @bp.post("/<version>/me/messages")
    def send_api(version: str) -> ResponseReturnValue:
        failure = token_error()
        if failure:
            return failure
        planned = store.next_failure()
        if planned:
            status, body = planned
            return (jsonify(body), status) if isinstance(body, (dict, list)) else (str(body), status)
        payload = request.get_json(silent=True)
        if isinstance(payload, dict) and payload.get("messaging_type") == "UTILITY":
            problem = store.templates.send_problem(payload.get("message"))
        else:
            problem = validate_send(payload)
        if problem or not isinstance(payload, dict):
            return graph_error(problem or "the body must be a JSON object")
        record = store.record_send(payload)
        body = {"recipient_id": record["psid"]}
        if record["kind"] == "message":
            body["message_id"] = record["message_id"]
        return jsonify(body)

    @bp.route("/<version>/me/messenger_profile", methods=["GET", "POST", "DELETE"])
    def messenger_profile(version: str) -> ResponseReturnValue:
        failure = token_error()
        if failure:
            return failure
        planned = store.next_failure("messenger_profile")
        if planned:
            status, body = planned
            return (jsonify(body), status) if isinstance(body, (dict, list)) else (str(body), status)
        if request.method == "GET":
            fields = [f for f in request.args.get("fields", "").split(",") if f]
            if not fields:
                return graph_error("(#100) The parameter fields is required")
            unknown = [f for f in fields if f not in PROFILE_FIELDS]
            if unknown:
                return graph_error(f"(#100) Invalid field(s): {', '.join(unknown)}")
            store.profile_requests.append(("GET", fields))
            return jsonify(store.read_profile(fields))
        body = request.get_json(silent=True)
        if request.method == "DELETE":
            problem = store.delete_profile(body)
        else:
            problem = store.update_profile(body)
        if problem:
            return graph_error(problem)
        store.record_call("me/messenger_profile", body, method=request.method)
        return jsonify({"result": "success"})

    @bp.post(f"/<version>/<page_id>/<any({THREAD_CONTROL}):action>")
    def thread_control(version: str, page_id: str, action: str) -> ResponseReturnValue:
        failure = token_error()
        if failure:
            return failure
        body = request.get_json(silent=True) or request.form.to_dict()
        if not (body or {}).get("recipient"):
            return graph_error("(#100) The parameter recipient is required")
        store.record_call(f"{page_id}/{action}", body)
        return jsonify({"success": True})

    add_template_routes(bp, store.templates, token_error, graph_error)

    @bp.get("/<version>/<page_id>/thread_owner")
    def thread_owner(version: str, page_id: str) -> ResponseReturnValue:
        return jsonify({"data": [{"thread_owner": {"app_id": "standin-app"}}]})

    return bp


def create_standin_app(store: StandinStore | None = None) -> Flask:
    """Standalone stand-in Graph API; the store is `app.extensions["graph_standin"]`."""
    app = Flask(__name__)
    store = store or StandinStore()
    app.extensions["graph_standin"] = store
    app.register_blueprint(make_standin_blueprint(store))
    return app
