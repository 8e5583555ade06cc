"""Messenger Profile of the page: Get Started button, greeting, persistent menu, ice breakers.

    python -m bot.channel.profile      # GRAPH_API_URL (the webhook's stand-in in dev mode)

Idempotent: the current profile is read first (GET me/messenger_profile?fields=...) and only the
fields that differ are posted, in one request, so a second run changes nothing. Every payload is a
Rasa intent message (the webhook sends postback payloads to Rasa as the text), e.g. "/get_started".

Note (Facebook's rules): when both are set, ice breakers take precedence over the Get Started
button on the welcome screen; the persistent menu needs a Get Started button.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from bot.channel.graph import GraphClient, GraphError, TokenError, TransientGraphError

log = logging.getLogger(__name__)

GET_STARTED_PAYLOAD = "/get_started"
FIELDS = ("get_started", "greeting", "persistent_menu", "ice_breakers")
FIELD_LABELS = {
    "get_started": "bouton Démarrer",
    "greeting": "message d'accueil",
    "persistent_menu": "menu persistant",
    "ice_breakers": "questions d'amorce",
}


def _postback(title: str, payload: str) -> dict[str, Any]:
    return {"type": "postback", "title": title, "payload": payload}


PROFILE: dict[str, Any] = {
    "get_started": {"payload": GET_STARTED_PAYLOAD},
    "greeting": [
        {
            "locale": "default",
            "text": "Bonjour {{user_first_name}} ! Je suis l'assistant virtuel Mobilis (OPT-NC) : "
            "offre, consommation, recharges, achats de passes. Un conseiller reste joignable.",
        },
    ],
    "persistent_menu": [
        {
            "locale": "default",
            "composer_input_disabled": False,
            "call_to_actions": [
                _postback("Mon solde", "/show_balance"),
                _postback("Ma consommation", "/show_usage"),
                _postback("Acheter (recharge, pass)", "/buy"),
                _postback("Mon offre", "/show_offer"),
                _postback("Mes alertes", "/manage_alerts"),
                _postback("Aide", "/help"),
                _postback("Contacter le 1000", "/contact_1000"),
                _postback("English / Français", "/switch_language"),
                {"type": "web_url", "title": "Site opt.nc", "url": "https://www.opt.nc"},
            ],
        },
    ],
    "ice_breakers": [
        {
            "locale": "default",
            "call_to_actions": [
                {"question": "Combien me reste-t-il de crédit ?", "payload": "/show_balance"},
                {"question": "Comment acheter un pass internet ?", "payload": "/buy"},
                {"question": "Quelle est mon offre ?", "payload": "/show_offer"},
                {"question": "Comment joindre un conseiller ?", "payload": "/contact_1000"},
            ],
        },
    ],
}


def current_profile(graph: GraphClient, fields: tuple[str, ...] = FIELDS) -> dict[str, Any]:
    """The page's profile as Facebook holds it: `{"data": [{...}]}`, or `{"data": []}` if empty."""
    data = graph.get("me/messenger_profile", {"fields": ",".join(fields)}).get("data") or []
    return data[0] if data and isinstance(data[0], dict) else {}


def differing_fields(current: dict[str, Any], wanted: dict[str, Any]) -> list[str]:
    return [name for name in wanted if not _matches(current.get(name), wanted[name])]


def _matches(have: Any, want: Any) -> bool:
    """`have` holds everything `want` sets. Facebook may add defaults (e.g. webview_height_ratio)
    and need not keep the order of localised lists, so this is not plain equality."""
    if isinstance(want, dict):
        return isinstance(have, dict) and all(_matches(have.get(k), v) for k, v in want.items())
    if isinstance(want, list):
        if not isinstance(have, list) or len(have) != len(want):
            return False
        if all(isinstance(i, dict) and "locale" in i for i in want + have):
            have, want = (sorted(x, key=lambda i: str(i["locale"])) for x in (have, want))
        return all(_matches(h, w) for h, w in zip(have, want))
    return bool(have == want)


def sync_profile(graph: GraphClient, profile: dict[str, Any] | None = None) -> list[str]:
    """Post the fields of `profile` that differ from the page's; returns their names (in order)."""
    wanted = profile or PROFILE
    changed = differing_fields(current_profile(graph, tuple(wanted)), wanted)
    if changed:
        # One request: a new persistent menu and the Get Started button it needs go together.
        graph.post("me/messenger_profile", {name: wanted[name] for name in changed})
    return changed


def push_profile(graph: GraphClient, profile: dict[str, Any] | None = None) -> dict[str, Any]:
    """Post the whole profile without reading it first (kept for callers that want to force it)."""
    return graph.post("me/messenger_profile", profile or PROFILE)


def summary(changed: list[str]) -> str:
    if not changed:
        return "Profil Messenger à jour : rien à changer."
    return "Profil Messenger mis à jour : " + ", ".join(FIELD_LABELS.get(f, f) for f in changed) + "."


def failure_message(exc: GraphError) -> str:
    """French, for the operator; never the URL (it holds the token), only Graph's code."""
    if isinstance(exc, TokenError):
        cause = "jeton d'accès de la page refusé (FB_PAGE_ACCESS_TOKEN à renouveler)"
    elif isinstance(exc, TransientGraphError):
        cause = "API Graph indisponible ou limite de débit atteinte, réessayez plus tard"
    else:
        cause = "requête refusée par l'API Graph"
    detail = (
        f"code {exc.code}" if exc.code is not None else (f"HTTP {exc.http_status}" if exc.http_status else "sans code")
    )
    return f"Échec de la mise à jour du profil Messenger : {cause} ({detail})."


def main(argv: list[str] | None = None) -> int:
    from bot import logmask
    from bot.channel.graph import graph_base_url, graph_client_from_settings
    from bot.config import ConfigError, get_settings

    try:
        settings = get_settings()
        settings.require("FB_PAGE_ACCESS_TOKEN", "FB_APP_SECRET")
    except ConfigError as exc:
        print(f"Configuration incomplète : {exc}", file=sys.stderr)
        return 2
    logmask.configure()  # masks the token in urllib3's debug lines, like the webhook
    # 3 attempts (waits 1 s then 2 s): an operator at a terminal would rather re-run than wait.
    graph = graph_client_from_settings(settings, graph_base_url(settings), attempts=3)
    try:
        changed = sync_profile(graph)
    except GraphError as exc:
        log.error("messenger profile update failed: %s", exc)
        print(failure_message(exc), file=sys.stderr)
        return 1
    finally:
        graph.close()
    print(summary(changed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
