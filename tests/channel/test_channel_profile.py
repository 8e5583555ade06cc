"""Messenger profile command (bot/channel/profile.py) against the stand-in Messenger Profile API."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import yaml
from channel_helpers import APP_SECRET, PAGE_TOKEN, VERIFY_TOKEN, fast_graph
from pymessenger.bot import Bot

from bot.channel import profile
from bot.channel.conversation_language import SWITCH_PAYLOAD
from bot.channel.graph import GraphError
from bot.services.alerts.menu import SETTINGS_INTENTS

ROOT = Path(__file__).resolve().parents[2]
PROOF = Bot(PAGE_TOKEN, app_secret=APP_SECRET).auth_args["appsecret_proof"]


def profile_posts(standin):
    return [body for method, body in standin.profile_requests if method == "POST"]


def run_command(standin, tmp_path, **env):
    """`python -m bot.channel.profile` as an operator runs it, against the stand-in."""
    values = {k: v for k, v in os.environ.items() if not k.startswith(("FB_", "MOBILIS_", "GRAPH_"))}
    values.update(
        FB_APP_SECRET=APP_SECRET,
        FB_VERIFY_TOKEN=VERIFY_TOKEN,
        FB_PAGE_ACCESS_TOKEN=PAGE_TOKEN,
        GRAPH_API_URL=standin.url,
        DATABASE_URL=f"sqlite:///{tmp_path / 'unused.db'}",
        LOG_LEVEL="DEBUG",
        PYTHONPATH=str(ROOT),
    )  # DEBUG: urllib3 prints its request lines
    values.update(env)
    return subprocess.run(
        [sys.executable, "-m", "bot.channel.profile"], cwd=ROOT, env=values, capture_output=True, text=True, timeout=60
    )


# ---- the profile itself ----


def domain_intents() -> set[str]:
    domain = yaml.safe_load((ROOT / "nlu" / "domain.yml").read_text(encoding="utf-8"))
    return set(domain["intents"])


def test_every_payload_is_an_intent_of_the_domain_or_answered_by_the_webhook():
    menu = profile.PROFILE["persistent_menu"][0]["call_to_actions"]
    breakers = profile.PROFILE["ice_breakers"][0]["call_to_actions"]
    payloads = [profile.PROFILE["get_started"]["payload"]]
    payloads += [i["payload"] for i in menu if i["type"] == "postback"] + [q["payload"] for q in breakers]
    # answered by the webhook itself: alert settings (alert_settings.py), the language (conversation_language.py)
    intents = domain_intents() | SETTINGS_INTENTS | {SWITCH_PAYLOAD.lstrip("/")}
    assert {"/show_balance", "/buy", "/help", "/contact_1000", "/get_started", "/manage_alerts"} <= set(payloads)
    for payload in payloads:
        assert payload.startswith("/") and payload[1:] in intents, payload


def test_profile_respects_messenger_limits_and_speaks_french():
    [greeting] = profile.PROFILE["greeting"]
    assert greeting["locale"] == "default" and len(greeting["text"]) <= 160 and "Bonjour" in greeting["text"]
    [menu] = profile.PROFILE["persistent_menu"]
    assert menu["locale"] == "default" and menu["composer_input_disabled"] is False
    assert 1 <= len(menu["call_to_actions"]) <= 20
    assert all(len(i["title"]) <= 30 and "call_to_actions" not in i for i in menu["call_to_actions"])  # flat
    assert [i["url"] for i in menu["call_to_actions"] if i["type"] == "web_url"] == ["https://www.opt.nc"]
    [breakers] = profile.PROFILE["ice_breakers"]
    assert breakers["locale"] == "default" and 1 <= len(breakers["call_to_actions"]) <= 4
    assert all(q["question"].endswith("?") for q in breakers["call_to_actions"])


# ---- idempotent synchronisation ----


def test_first_run_posts_every_field_and_second_run_posts_nothing(standin):
    graph = fast_graph(standin.url)
    assert profile.sync_profile(graph) == list(profile.FIELDS)
    [posted] = profile_posts(standin)
    assert posted == profile.PROFILE and standin.profile == profile.PROFILE
    assert profile.sync_profile(graph) == []
    assert len(profile_posts(standin)) == 1  # the second run only read
    assert [method for method, _ in standin.profile_requests] == ["GET", "POST", "GET"]
    assert standin.profile_requests[0][1] == list(profile.FIELDS)


def test_only_the_changed_field_is_posted_again(standin):
    graph = fast_graph(standin.url)
    profile.sync_profile(graph)
    standin.profile["greeting"] = [{"locale": "default", "text": "Ancien message d'accueil"}]
    assert profile.sync_profile(graph) == ["greeting"]
    assert profile_posts(standin)[-1] == {"greeting": profile.PROFILE["greeting"]}
    wanted = copy.deepcopy(profile.PROFILE)
    wanted["persistent_menu"][0]["call_to_actions"][0]["title"] = "Mon crédit"
    assert profile.sync_profile(graph, wanted) == ["persistent_menu"]
    assert standin.profile["persistent_menu"][0]["call_to_actions"][0]["title"] == "Mon crédit"


def test_facebook_defaults_and_locale_order_do_not_count_as_changes(standin):
    graph = fast_graph(standin.url)
    profile.sync_profile(graph)
    standin.profile["persistent_menu"][0]["call_to_actions"][-1]["webview_height_ratio"] = "full"
    standin.profile["greeting"].insert(0, {"locale": "en_US", "text": "Hello"})
    wanted = copy.deepcopy(profile.PROFILE)
    wanted["greeting"] = [
        {"locale": "default", "text": profile.PROFILE["greeting"][0]["text"]},
        {"locale": "en_US", "text": "Hello"},
    ]
    assert profile.sync_profile(graph, wanted) == []


def test_a_menu_without_get_started_is_refused_like_facebook_does(standin):
    graph = fast_graph(standin.url)
    with pytest.raises(GraphError) as caught:
        graph.post("me/messenger_profile", {"persistent_menu": profile.PROFILE["persistent_menu"]})
    assert caught.value.code == 100 and "Get Started" in str(caught.value)
    # Get Started removed while the menu stays: refused too; menu first, then Get Started: fine.
    profile.sync_profile(graph)
    with pytest.raises(GraphError):
        graph.delete("me/messenger_profile", {"fields": ["get_started"]})
    graph.delete("me/messenger_profile", {"fields": ["persistent_menu", "ice_breakers"]})
    graph.delete("me/messenger_profile", {"fields": ["get_started"]})
    assert set(standin.profile) == {"greeting"}
    assert profile.sync_profile(graph) == ["get_started", "persistent_menu", "ice_breakers"]


@pytest.mark.parametrize(
    "body",
    [
        {"greeting": [{"locale": "default", "text": "x" * 161}]},
        {"greeting": [{"locale": "fr_FR", "text": "Bonjour"}]},  # no default locale
        {
            "get_started": {"payload": "/get_started"},
            "persistent_menu": [
                {
                    "locale": "default",
                    "call_to_actions": [
                        {"type": "postback", "title": f"Choix {i}", "payload": "/help"} for i in range(21)
                    ],
                }
            ],
        },
        {
            "get_started": {"payload": "/get_started"},
            "persistent_menu": [
                {
                    "locale": "default",
                    "call_to_actions": [
                        {"type": "postback", "title": "Un titre bien trop long pour Messenger", "payload": "/help"}
                    ],
                }
            ],
        },
        {
            "get_started": {"payload": "/get_started"},
            "persistent_menu": [
                {"locale": "default", "call_to_actions": [{"type": "nested", "title": "Plus", "call_to_actions": []}]}
            ],
        },
        {
            "ice_breakers": [
                {
                    "locale": "default",
                    "call_to_actions": [{"question": f"Question {i} ?", "payload": "/help"} for i in range(5)],
                }
            ]
        },
        {
            "ice_breakers": [
                {"question": "Old format ?", "payload": "/help"},
                {"locale": "default", "call_to_actions": [{"question": "New ?", "payload": "/help"}]},
            ]
        },
        {"unknown_field": True},
    ],
)
def test_standin_refuses_what_facebook_refuses(standin, body):
    with pytest.raises(GraphError) as caught:
        fast_graph(standin.url).post("me/messenger_profile", body)
    assert caught.value.code == 100
    assert standin.profile == {}


def test_standin_get_returns_facebooks_shape(standin):
    url = f"{standin.url}/v26.0/me/messenger_profile"
    empty = requests.get(url, params={"fields": "greeting", "access_token": PAGE_TOKEN}, timeout=5).json()
    assert empty == {"data": []}
    profile.sync_profile(fast_graph(standin.url))
    data = requests.get(url, params={"fields": "greeting,get_started", "access_token": PAGE_TOKEN}, timeout=5).json()
    assert data == {"data": [{"greeting": profile.PROFILE["greeting"], "get_started": profile.PROFILE["get_started"]}]}
    assert (
        requests.get(url, params={"fields": "greeting", "access_token": "wrong"}, timeout=5).json()["error"]["code"]
        == 190
    )


# ---- the command ----


def test_command_first_run_then_nothing_to_change(standin, tmp_path):
    first = run_command(standin, tmp_path)
    assert first.returncode == 0, first.stderr
    assert (
        "Profil Messenger mis à jour : bouton Démarrer, message d'accueil, menu persistant, questions d'amorce."
        in first.stdout
    )
    second = run_command(standin, tmp_path)
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "Profil Messenger à jour : rien à changer."
    assert len(profile_posts(standin)) == 1
    for output in (first.stdout, first.stderr, second.stdout, second.stderr):
        assert PAGE_TOKEN not in output and PROOF not in output and APP_SECRET not in output
    assert "access_token=***" in first.stderr  # urllib3's request lines were logged, masked


@pytest.mark.parametrize(
    "failure, expected",
    [
        (dict(code=190, http_status=401), "jeton d'accès de la page refusé"),
        (dict(code=100), "requête refusée par l'API Graph (code 100)"),
        (dict(code=2, http_status=500, count=10), "API Graph indisponible"),
    ],
)
def test_command_reports_graph_errors_in_french_with_a_non_zero_exit(standin, tmp_path, failure, expected):
    standin.fail_next(endpoint="messenger_profile", **failure)
    result = run_command(standin, tmp_path)
    assert result.returncode == 1
    assert "Échec de la mise à jour du profil Messenger" in result.stderr and expected in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert PAGE_TOKEN not in result.stderr + result.stdout and PROOF not in result.stderr + result.stdout
    assert profile_posts(standin) == [] and standin.profile == {}


def test_command_refuses_to_run_without_the_page_token(standin, tmp_path):
    result = run_command(standin, tmp_path, FB_PAGE_ACCESS_TOKEN="")
    assert result.returncode == 2 and "Configuration incomplète" in result.stderr
    assert standin.profile_requests == []


def test_failure_message_never_carries_the_url():
    exc = GraphError(f"https://graph.facebook.com/v26.0/me?access_token={PAGE_TOKEN}", code=100, http_status=400)
    assert PAGE_TOKEN not in profile.failure_message(exc) and "code 100" in profile.failure_message(exc)
