"""Development simulator and its JSON API, with the webhook served for real on 127.0.0.1."""

from __future__ import annotations

import json
import re
import time
from types import SimpleNamespace

import requests
from channel_helpers import fast_rasa, make_settings
from sqlalchemy.orm import sessionmaker

from bot import devtools
from bot.channel.app import create_app
from bot.channel.graph import graph_base_url
from bot.db.base import make_engine


def simulate(url: str, item: dict) -> requests.Response:
    """What the page does: sign the exact bytes, then post those bytes to /webhook."""
    body = json.dumps(
        {"object": "page", "entry": [{"id": "1234567890", "time": 1, "messaging": [item]}]}, ensure_ascii=False
    ).encode("utf-8")
    signed = requests.post(f"{url}/dev/api/sign", data=body, timeout=5).json()
    return requests.post(
        f"{url}/webhook",
        data=body,
        timeout=5,
        headers={"Content-Type": "application/json", signed["header"]: signed["signature"]},
    )


def poll(url: str, psid: str, after: int = 0, want: int = 1, timeout: float = 5.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        data = requests.get(f"{url}/dev/api/messages", params={"psid": psid, "after": after}, timeout=5).json()
        if sum(r["kind"] == "message" for r in data["messages"]) >= want or time.monotonic() > deadline:
            return data
        time.sleep(0.05)


def test_graph_url_defaults_to_own_standin_only_in_dev_mode():
    dev = make_settings(dev=True, PUBLIC_URL="http://127.0.0.1:9999")
    assert graph_base_url(dev) == "http://127.0.0.1:9999/dev/graph"
    explicit = make_settings(dev=True, GRAPH_API_URL="http://127.0.0.1:7777")
    assert graph_base_url(explicit) == "http://127.0.0.1:7777"
    assert graph_base_url(make_settings(dev=False)) == "https://graph.facebook.com"


def test_signed_message_round_trip_through_own_standin(dev_server, fake_rasa):
    item = {
        "sender": {"id": "dev-psid-0001"},
        "recipient": {"id": "1234567890"},
        "timestamp": 5,
        "message": {"mid": "m_sim_1", "text": "Bonjour, où en est ma conso ?"},
    }
    assert simulate(dev_server.url, item).status_code == 200
    data = poll(dev_server.url, "dev-psid-0001")
    kinds = [(r["kind"], r["sender_action"]) for r in data["messages"]]
    assert kinds == [("sender_action", "typing_on"), ("message", None)]
    assert data["messages"][1]["message"] == {
        "text": "écho : Bonjour, où en est ma conso ?",
        "metadata": "mobilis:1:0",
    }  # echoed back by Meta
    assert data["cursor"] == data["messages"][-1]["seq"]
    later = requests.get(
        f"{dev_server.url}/dev/api/messages", params={"psid": "dev-psid-0001", "after": data["cursor"]}, timeout=5
    ).json()
    assert later == {"psid": "dev-psid-0001", "cursor": data["cursor"], "messages": []}


def test_quick_reply_and_get_started_postback_from_simulator(dev_server, fake_rasa):
    simulate(
        dev_server.url,
        {
            "sender": {"id": "p2"},
            "recipient": {"id": "1"},
            "timestamp": 6,
            "postback": {"mid": "m_sim_2", "title": "Démarrer", "payload": "/get_started"},
        },
    )
    poll(dev_server.url, "p2")
    simulate(
        dev_server.url,
        {
            "sender": {"id": "p2"},
            "recipient": {"id": "1"},
            "timestamp": 7,
            "message": {"mid": "m_sim_3", "text": "Mon offre", "quick_reply": {"payload": "/show_offer"}},
        },
    )
    poll(dev_server.url, "p2", want=2)
    assert fake_rasa.texts("p2") == ["/get_started", "/show_offer"]


def test_simulator_page_is_self_contained_with_test_ids(dev_server):
    response = requests.get(f"{dev_server.url}/dev/simulator", timeout=5)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/html")
    html = response.text
    for testid in (
        "persona-select",
        "demo-line-select",
        "link-line-button",
        "reset-button",
        "conversation",
        "quick-replies",
        "get-started",
        "composer-input",
        "send-button",
        "typing-indicator",
    ):
        assert f'data-testid="{testid}"' in html or f'"data-testid": "{testid}"' in html, testid
    assert not re.search(r'<(script|link|img)[^>]+(src|href)="https?://', html)  # no CDN
    assert "dev-psid-0001" in html and "/get_started" in html


def test_reset_clears_the_thread_and_restarts_rasa(dev_server, fake_rasa):
    simulate(
        dev_server.url,
        {
            "sender": {"id": "p3"},
            "recipient": {"id": "1"},
            "timestamp": 8,
            "message": {"mid": "m_sim_4", "text": "salut"},
        },
    )
    poll(dev_server.url, "p3")
    dev_server.app.extensions["mobilis_channel"].dispatcher.wait_idle(5)
    body = requests.post(f"{dev_server.url}/dev/api/reset", json={"psid": "p3"}, timeout=10).json()
    assert body == {"ok": True, "psid": "p3", "cleared": 2, "rasa_restarted": True}
    assert dev_server.store.sent_to("p3") == [] and fake_rasa.texts("p3")[-1] == "/restart"


def test_demo_lines_empty_without_domain_tables(dev_server):
    body = requests.get(f"{dev_server.url}/dev/api/demo-lines", timeout=5).json()
    assert body["lines"] == [] and body["error"]


def test_demo_lines_listed_from_the_demo_database(demo_db_url, fake_rasa):
    sessions = sessionmaker(bind=make_engine(demo_db_url), expire_on_commit=False)
    app = devtools.install(
        create_app(
            make_settings(dev=True), session_factory=sessions, rasa_client=fast_rasa(fake_rasa.url), start_worker=False
        )
    )
    body = app.test_client().get("/dev/api/demo-lines").get_json()
    assert body["lines"] and set(body["lines"][0]) == {"msisdn", "plan_family"}
    assert all(re.fullmatch(r"\d{6}", line["msisdn"]) for line in body["lines"])


def test_link_line_calls_the_identity_service(dev_server, monkeypatch):
    import bot.services.identity.linking as linking

    calls = []

    def fake_link(session, psid, msisdn):
        calls.append((psid, msisdn))
        if msisdn == "000000":
            raise LookupError("no line")
        return SimpleNamespace(id=7)

    monkeypatch.setattr(linking, "link_line_for_dev", fake_link)
    ok = requests.post(f"{dev_server.url}/dev/api/link-line", json={"psid": "p4", "msisdn": "791234"}, timeout=5)
    assert ok.status_code == 200
    assert ok.json() == {"ok": True, "psid": "p4", "msisdn": "791234", "line_id": 7}
    unknown = requests.post(f"{dev_server.url}/dev/api/link-line", json={"psid": "p4", "msisdn": "000000"}, timeout=5)
    assert unknown.status_code == 404 and unknown.json()["ok"] is False
    missing = requests.post(f"{dev_server.url}/dev/api/link-line", json={"psid": "p4"}, timeout=5)
    assert missing.status_code == 400
    assert calls == [("p4", "791234"), ("p4", "000000")]


def test_dev_api_refuses_proxied_requests(dev_server):
    response = requests.post(
        f"{dev_server.url}/dev/api/sign", data=b"{}", timeout=5, headers={"X-Forwarded-For": "203.0.113.7"}
    )
    assert response.status_code == 404
