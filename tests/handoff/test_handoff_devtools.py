"""The simulator's Page Inbox stand-in (agent endpoints) and SMS outbox endpoint, served for real."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import requests
from handoff_helpers import FakePort, escalations, owner

from bot.db import handoff as h
from bot.db.identity import SmsOutbox
from bot.services.handoff import escalations as service


def open_escalation(sessions, psid="dev-psid-0002"):
    """An escalation in hours, control with the inbox (now: the dev server's clock is real)."""
    with sessions() as session:
        service.request_handoff(
            session,
            psid,
            "misunderstanding",
            ["nlu_fallback", "nlu_fallback"],
            datetime(2026, 3, 16, 0, 0, tzinfo=UTC),
            FakePort(),
        )
        session.commit()


def wait_for(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


def test_agent_lists_replies_and_releases(dev_server, sessions):
    url, psid = dev_server.url, "dev-psid-0002"
    open_escalation(sessions, psid)
    data = requests.get(f"{url}/dev/api/agent/escalations", timeout=5).json()
    [item] = data["escalations"]
    assert (item["psid"], item["status"], item["owner"]) == (psid, h.WITH_AGENT, h.INBOX)
    assert "misunderstanding" in item["summary"] and item["reason_label"] == "incompréhensions répétées"
    assert requests.get(f"{url}/dev/api/thread", params={"psid": psid}, timeout=5).json()["owner"] == "inbox"

    answer = requests.post(
        f"{url}/dev/api/agent/reply", json={"psid": psid, "text": "Bonjour, ici Léa du 1000."}, timeout=5
    )
    assert answer.status_code == 200 and answer.json()["ok"]
    [sent] = dev_server.store.messages(psid)
    assert (sent["messaging_type"], sent["tag"], sent["message"]) == (
        "MESSAGE_TAG",
        "HUMAN_AGENT",
        {"text": "Bonjour, ici Léa du 1000."},
    )
    transcript = requests.get(f"{url}/dev/api/agent/escalations", timeout=5).json()["escalations"][0]["transcript"]
    assert [(line["author"], line["text"]) for line in transcript] == [("agent", "Bonjour, ici Léa du 1000.")]

    released = requests.post(f"{url}/dev/api/agent/release", json={"psid": psid}, timeout=5)
    assert released.json() == {"ok": True, "psid": psid, "webhook_status": 200}
    wait_for(lambda: len(dev_server.store.messages(psid)) == 2)
    assert "je reprends la conversation" in dev_server.store.messages(psid)[-1]["message"]["text"]
    assert owner(sessions, psid) == h.BOT
    assert escalations(sessions, psid)[0].closed_by == "returned"
    assert requests.get(f"{url}/dev/api/agent/escalations", timeout=5).json() == {"escalations": []}


def test_agent_reply_refused_without_escalation_or_text(dev_server, sessions):
    url = dev_server.url
    nobody = requests.post(f"{url}/dev/api/agent/reply", json={"psid": "nobody", "text": "hé"}, timeout=5)
    assert nobody.status_code == 404
    assert requests.post(f"{url}/dev/api/agent/reply", json={"psid": "x"}, timeout=5).status_code == 400
    assert requests.post(f"{url}/dev/api/agent/release", json={}, timeout=5).status_code == 400
    assert dev_server.store.sends == []


def test_sms_outbox_endpoint_newest_first_and_filtered(dev_server, sessions):
    start = datetime(2026, 3, 16, 0, 0, tzinfo=UTC)
    with sessions() as session:
        session.add_all(
            [
                SmsOutbox(msisdn="791234", text="code 111111", created_at=start),
                SmsOutbox(msisdn="871234", text="code 222222", created_at=start + timedelta(seconds=1)),
                SmsOutbox(msisdn="791234", text="code 333333", created_at=start + timedelta(seconds=2)),
            ]
        )
        session.commit()
    data = requests.get(f"{dev_server.url}/dev/api/sms-outbox", params={"msisdn": "791234"}, timeout=5).json()
    assert [m["text"] for m in data["messages"]] == ["code 333333", "code 111111"]
    assert set(data["messages"][0]) == {"id", "msisdn", "text", "created_at"}
    everything = requests.get(f"{dev_server.url}/dev/api/sms-outbox", timeout=5).json()["messages"]
    assert [m["msisdn"] for m in everything] == ["791234", "871234", "791234"]


def test_simulator_page_has_agent_and_sms_panels(dev_server):
    html = requests.get(f"{dev_server.url}/dev/simulator", timeout=5).text
    for testid in (
        "agent-panel",
        "agent-reply-input",
        "agent-send",
        "agent-release",
        "sms-outbox",
        "escalation-item",
        "sms-item",
    ):
        assert f'"{testid}"' in html


def test_dev_endpoints_are_404_outside_dev_mode(make_app):
    client = make_app(dev=False).test_client()
    assert client.get("/dev/api/sms-outbox").status_code == 404
    assert client.get("/dev/api/agent/escalations").status_code == 404
    assert client.post("/dev/api/agent/reply", json={"psid": "u", "text": "x"}).status_code == 404
    assert client.post("/dev/api/agent/release", json={"psid": "u"}).status_code == 404
    assert client.get("/dev/api/thread", query_string={"psid": "u"}).status_code == 404


def test_dev_endpoints_refuse_proxied_requests(make_app):
    client = make_app(dev=True).test_client()
    assert client.get("/dev/api/sms-outbox", headers={"X-Forwarded-For": "1.2.3.4"}).status_code == 404
    assert client.get("/dev/api/sms-outbox").status_code == 200
