"""Nobody gets in through the back doors of the real processes (action server, Rasa, webhook as
started by bot.ops.launcher): Rasa's HTTP API needs RASA_API_TOKEN, only the webhook (internal token)
may speak to Rasa as a PSID, the action server listens on loopback and refuses calls without the
internal token. Each refusal is checked beside the same call with the right credential, so a
test cannot pass because the call itself was malformed."""

from __future__ import annotations

import json

import requests

from bot.internal_auth import HEADER, RASA_CHANNEL_PATH

LINE = "791234"  # a demo line; its balance must not leak
BALANCE_WORDS = "Solde de la ligne"


def linked_psid(stack, name: str) -> str:
    """A subscriber who accepted the CGU and linked LINE: what an intruder would impersonate."""
    return stack.subscriber(f"backdoor-{name}", LINE)


def tracker(stack, psid: str, token: str | None) -> requests.Response:
    params = {"token": token} if token is not None else None
    return requests.get(f"{stack.rasa_url}/conversations/{psid}/tracker", params=params, timeout=10)


def test_rasa_tracker_is_not_readable_without_the_api_token(stack):
    psid = linked_psid(stack, "tracker")
    stack.exchange(psid, "mon solde")  # the conversation exists and holds a typed text
    assert "mon solde" in stack.tracker_user_texts(psid)
    assert tracker(stack, psid, None).status_code == 401
    assert tracker(stack, psid, "wrong-token").status_code == 401
    assert "mon solde" not in tracker(stack, psid, None).text


def test_rasa_model_cannot_be_replaced_without_the_api_token(stack):
    status = requests.get(f"{stack.rasa_url}/status", params={"token": stack.rasa_token}, timeout=10)
    model_id = status.json()["model_id"]
    for params in (None, {"token": "wrong-token"}):
        response = requests.put(
            f"{stack.rasa_url}/model", params=params, timeout=10, json={"model_file": "/tmp/evil.tar.gz"}
        )
        assert response.status_code == 401
    assert requests.get(f"{stack.rasa_url}/status", timeout=10).status_code == 401
    after = requests.get(f"{stack.rasa_url}/status", params={"token": stack.rasa_token}, timeout=10)
    assert after.json()["model_id"] == model_id


def test_nobody_but_the_webhook_speaks_to_rasa_as_a_user(stack):
    psid = linked_psid(stack, "impersonation")
    body = {"sender": psid, "message": "mon solde"}
    stock = requests.post(f"{stack.rasa_url}/webhooks/rest/webhook", json=body, timeout=30)
    assert stock.status_code == 404  # Rasa's open REST channel is not served
    for headers in ({}, {HEADER: "wrong-token"}, {HEADER: ""}):
        response = requests.post(f"{stack.rasa_url}{RASA_CHANNEL_PATH}", json=body, headers=headers, timeout=30)
        assert response.status_code == 403, headers
        assert BALANCE_WORDS not in response.text
    assert stack.tracker_user_texts(psid) == []  # Rasa never saw the message
    answered = requests.post(
        f"{stack.rasa_url}{RASA_CHANNEL_PATH}", json=body, headers={HEADER: stack.internal_token}, timeout=30
    )
    assert answered.status_code == 200 and BALANCE_WORDS in answered.text


def action_call(psid: str) -> dict:
    """What Rasa posts to the action server to run action_show_balance for `psid`."""
    return {
        "next_action": "action_show_balance",
        "sender_id": psid,
        "version": "3.6.2",
        "domain": {},
        "tracker": {
            "sender_id": psid,
            "slots": {},
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
            "latest_message": {
                "text": "mon solde",
                "intent": {"name": "show_balance", "confidence": 1.0},
                "entities": [],
                "intent_ranking": [],
            },
        },
    }


def test_the_action_server_refuses_direct_calls(stack):
    psid = linked_psid(stack, "actions")
    for headers in ({}, {HEADER: "wrong-token"}):
        response = requests.post(f"{stack.actions_url}/webhook", json=action_call(psid), headers=headers, timeout=30)
        assert response.status_code == 403, headers
        assert BALANCE_WORDS not in response.text
    listing = requests.get(f"{stack.actions_url}/actions", timeout=10)
    assert listing.status_code == 403
    assert requests.get(f"{stack.actions_url}/health", timeout=10).status_code == 200  # liveness stays open
    with_token = requests.post(
        f"{stack.actions_url}/webhook", json=action_call(psid), headers={HEADER: stack.internal_token}, timeout=30
    )
    assert with_token.status_code == 200
    assert BALANCE_WORDS in json.dumps(with_token.json(), ensure_ascii=False)


def listening_addresses(port: int) -> set[str]:
    """Local addresses (hex, as in /proc/net/tcp*) of the sockets listening on `port`."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as file:
                rows = file.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            address, hex_port = fields[1].rsplit(":", 1)
            if int(hex_port, 16) == port and fields[3] == "0A":  # 0A: LISTEN
                found.add(address)
    return found


def test_the_action_server_and_rasa_listen_on_loopback_only(stack):
    loopback = {"0100007F", "00000000000000000000000001000000"}  # 127.0.0.1, ::1
    for url in (stack.actions_url, stack.rasa_url):
        port = int(url.rsplit(":", 1)[1])
        addresses = listening_addresses(port)
        assert addresses and addresses <= loopback, (url, addresses)
