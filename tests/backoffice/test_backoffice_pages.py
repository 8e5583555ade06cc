"""The back office through Flask's test client: logins, CSRF, roles, the review queue writing
faq/*.yml (a copy), the dashboard and its Prometheus gauges."""

from __future__ import annotations

import re
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot import clock
from bot.backoffice.app import create_app
from bot.config import Settings
from bot.db.base import session_factory
from bot.db.insights import TurnRecord
from bot.services.assistance import faq_source
from bot.services.insights.turns import Reading, TurnFacts, record
from bot.services.staff import accounts

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "un mot de passe long"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def faq_dir(tmp_path):
    target = tmp_path / "faq"
    shutil.copytree(ROOT / "faq", target)
    return target


@pytest.fixture
def app(db_url, faq_dir):
    settings = Settings.from_env(
        {"MOBILIS_DEV_MODE": "1", "DATABASE_URL": db_url, "MOBILIS_FAQ_DIR": str(faq_dir), "METRICS_TOKEN": "scrape"}
    )
    sessions = session_factory(db_url)
    with sessions() as db:
        for name, role in (("eve", accounts.EDITOR), ("otto", accounts.OPERATOR)):
            accounts.create_account(db, name, PASSWORD, role, clock.utcnow())
        for minutes, text in enumerate(["g pa de reseau a kone 79 12 34", "pas de réseau à Koné", "wifi du paquebot"]):
            facts = TurnFacts(
                f"p{minutes}",
                clock.utcnow() - timedelta(minutes=10 - minutes),
                "fr",
                "typed",
                text,
                Reading("nlu_fallback", 0.3),
                None,
                [{"text": "Je n'ai pas bien compris"}],
                700,
            )
            record(db, facts)
        db.commit()
    flask_app = create_app(settings, sessions)
    flask_app.config["SESSION_COOKIE_SECURE"] = False  # the test client speaks plain http
    return flask_app


def token(client, path="/login"):
    return TOKEN.search(client.get(path).get_data(as_text=True)).group(1)


def login(client, name, password=PASSWORD):
    return client.post("/login", data={"username": name, "password": password, "csrf_token": token(client)})


def open_ids(app):
    with app.extensions["mobilis_backoffice_sessions"]() as db:
        return [r.id for r in db.scalars(select(TurnRecord).where(TurnRecord.review_status == "open"))]


def test_nothing_but_the_login_page_without_a_login(app):
    client = app.test_client()
    for path in ("/", "/review", "/review/1", "/dashboard"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path
    assert client.get("/healthz").status_code == 200
    assert client.post("/review/1/dismiss", data={}).status_code == 400  # no CSRF token: refused first
    assert client.get("/metrics").status_code == 403


def test_login_needs_the_right_password_and_a_csrf_token(app):
    client = app.test_client()
    refused = login(client, "eve", "wrong password!")
    assert refused.status_code == 401 and "incorrect" in refused.get_data(as_text=True)
    no_token = client.post("/login", data={"username": "eve", "password": PASSWORD})
    assert no_token.status_code == 400
    ok = login(client, "eve")
    assert ok.status_code == 302
    cookie = ok.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert client.get("/review").status_code == 200
    page = client.get("/review")
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store"


def test_after_login_only_pages_of_this_site(app):
    client = app.test_client()
    response = client.post(
        "/login?next=//evil.example/x", data={"username": "eve", "password": PASSWORD, "csrf_token": token(client)}
    )
    assert response.headers["Location"] == "/"


def test_roles(app):
    editor, operator = app.test_client(), app.test_client()
    login(editor, "eve")
    login(operator, "otto")
    assert editor.get("/dashboard").status_code == 403
    assert operator.get("/review").status_code == 403
    assert operator.get("/dashboard").status_code == 200
    assert editor.get("/").headers["Location"].endswith("/review")
    assert operator.get("/").headers["Location"].endswith("/dashboard")
    key = open_ids(app)[0]
    refused = operator.post(f"/review/{key}/dismiss", data={"csrf_token": token(operator, "/dashboard")})
    assert refused.status_code == 403
    assert len(open_ids(app)) == 3


def test_an_editor_adds_a_group_to_a_faq_entry(app, faq_dir):
    client = app.test_client()
    login(client, "eve")
    queue = client.get("/review").get_data(as_text=True)
    assert "12 34" not in queue  # masked
    kone = re.search(r'href="/review/(\d+)">[^<]*Kon', queue).group(1)
    group_page = client.get(f"/review/{kone}").get_data(as_text=True)
    assert "pas de réseau à Koné" in group_page and "Pas compris" in group_page
    assert "g pa de reseau a kone 79****" in group_page and "12 34" not in group_page
    response = client.post(
        f"/review/{kone}/attach",
        data={
            "entry": "pas_de_reseau",
            "questions": "g pa de reseau a kone\npas de reseau a kone",
            "csrf_token": token(client),
        },
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200, body
    assert "+    - g pa de reseau a kone" in body and "./mobilis train" in body
    entry = faq_source.check_dir(faq_dir).entries["pas_de_reseau"]
    assert "g pa de reseau a kone" in entry.questions
    assert len(open_ids(app)) == 1  # the two Koné messages are handled, the paquebot one is left
    assert client.get(f"/review/{kone}").status_code == 404


def test_a_refused_change_says_why_and_keeps_the_group(app, faq_dir):
    client = app.test_client()
    login(client, "eve")
    before = (faq_dir / "reseau.yml").read_text(encoding="utf-8")
    key = open_ids(app)[0]
    existing = faq_source.check_dir(faq_dir).entries["pas_de_reseau"].questions[0]
    response = client.post(
        f"/review/{key}/attach", data={"entry": "pas_de_reseau", "questions": existing, "csrf_token": token(client)}
    )
    assert response.status_code == 422
    assert "La FAQ n'a pas été modifiée" in response.get_data(as_text=True)
    assert (faq_dir / "reseau.yml").read_text(encoding="utf-8") == before
    assert len(open_ids(app)) == 3


def test_an_editor_dismisses_a_group(app):
    client = app.test_client()
    login(client, "eve")
    paquebot = re.search(r'href="/review/(\d+)">wifi du paquebot', client.get("/review").get_data(as_text=True))
    response = client.post(f"/review/{paquebot.group(1)}/dismiss", data={"csrf_token": token(client)})
    assert response.status_code == 302
    assert len(open_ids(app)) == 2


def test_the_dashboard_and_its_gauges(app):
    client = app.test_client()
    login(client, "otto")
    page = client.get("/dashboard").get_data(as_text=True)
    assert re.search(r'id="conversations">Conversations<b>3</b>', page)
    assert re.search(r'id="fallback-rate">Messages pas compris<b>100 %</b>', page)
    assert client.get("/dashboard?period=7d").status_code == 200
    assert client.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 403
    scraped = client.get("/metrics", headers={"Authorization": "Bearer scrape"}).get_data(as_text=True)
    assert 'mobilis_conversations{outcome="contained",window="24h"} 3.0' in scraped
    assert 'mobilis_fallback_ratio{window="7d"} 1.0' in scraped
    assert 'mobilis_chat_purchases{stage="paid",window="24h"} 0.0' in scraped


def test_logout(app):
    client = app.test_client()
    login(client, "eve")
    assert client.post("/logout", data={"csrf_token": token(client, "/review")}).status_code == 302
    assert client.get("/review").status_code == 302


def test_an_editor_drafts_a_new_entry_from_a_group(app, faq_dir):
    client = app.test_client()
    login(client, "eve")
    paquebot = re.search(r'href="/review/(\d+)">wifi du paquebot', client.get("/review").get_data(as_text=True))
    questions = "wifi du paquebot\nwifi bateau\ninternet sur le bateau\nwifi croisiere\ncapter en mer\nreseau en mer"
    form = {
        "category": "reseau",
        "entry_id": "wifi_bateau",
        "title": "Wifi à bord",
        "questions": questions,
        "answer": "En mer, loin des côtes, le réseau Mobilis ne porte plus.",
        "csrf_token": token(client),
    }
    too_few = client.post(f"/review/{paquebot.group(1)}/new-entry", data={**form, "questions": "wifi du paquebot"})
    assert too_few.status_code == 422 and "wifi_bateau" not in faq_source.check_dir(faq_dir).entries
    response = client.post(f"/review/{paquebot.group(1)}/new-entry", data=form)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "+- id: wifi_bateau" in response.get_data(as_text=True)
    assert list(faq_source.check_dir(faq_dir).entries["wifi_bateau"].questions) == questions.splitlines()
    assert len(open_ids(app)) == 2
