"""The alert settings are answered by the webhook before Rasa: their buttons (and the two chip labels
typed as they are) never reach the NLU; everything else still does. The line is always the sender's
own linked line, the CGU must be accepted, and a typed payload changes nothing."""

from __future__ import annotations

import pytest
from channel_helpers import dev_server as dev_server
from channel_helpers import entry, page_body, postback_event, quick_reply_event, signed_post, text_event, wait_idle
from channel_helpers import fake_rasa as fake_rasa
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from bot import clock
from bot.channel import alert_settings
from bot.channel.alert_settings import AlertSettingsGate
from bot.channel.inbox import ClaimedEvent, Inbox
from bot.db.alerts import AlertKind, AlertSubscription
from bot.db.identity import MessengerLink
from bot.services.privacy.consent import record_consent

MARIE = "791234"


@pytest.fixture(autouse=True)
def demo_day(demo_now, monkeypatch):
    monkeypatch.setattr(clock, "utcnow", lambda: demo_now)  # the demo lines' own day


@pytest.fixture
def sessions(demo_engine):
    return sessionmaker(bind=demo_engine, expire_on_commit=False)


@pytest.fixture
def subscriber(sessions, linked, demo_now):
    """A PSID that accepted the CGU and linked Marie's Liberté line."""

    def make(psid: str, *, consent: bool = True, link: bool = True) -> str:
        with sessions() as session:
            if consent:
                record_consent(session, psid, now=demo_now)
                session.commit()
        if link:
            linked(psid, MARIE)
        return psid

    return make


class Conversation:
    def __init__(self, server, psid):
        self.server, self.psid, self.count = server, psid, 0

    def _post(self, event) -> list[dict]:
        before = len(self.server.store.sent_to(self.psid))
        app = self.server.app
        assert signed_post(app.test_client(), page_body(entry(event))).status_code == 200
        wait_idle(app)
        return [s["message"] for s in self.server.store.sent_to(self.psid)[before:] if "message" in s]

    def tap(self, title: str, payload: str) -> list[dict]:
        self.count += 1
        return self._post(quick_reply_event(self.psid, title, payload, f"{self.psid}-{self.count}"))

    def menu(self, payload: str) -> list[dict]:
        self.count += 1
        return self._post(postback_event(self.psid, payload, ts=1700000000000 + self.count, title="Mes alertes"))

    def say(self, text: str) -> list[dict]:
        self.count += 1
        return self._post(text_event(self.psid, text, f"{self.psid}-{self.count}", ts=1700000000000 + self.count))


def chips(message: dict) -> list[tuple[str, str]]:
    return [(q["title"], q["payload"]) for q in message.get("quick_replies", [])]


def wanted(sessions, psid) -> list[tuple[AlertKind, int | None]]:
    with sessions() as session:
        rows = session.scalars(select(AlertSubscription).where(AlertSubscription.psid == psid)).all()
        return [(r.kind, r.threshold) for r in rows]


def test_the_menu_and_its_chips_are_answered_without_rasa(dev_server, fake_rasa, sessions, subscriber):
    chat = Conversation(dev_server, subscriber("gate-1"))
    [menu] = chat.menu("/manage_alerts")
    assert menu["text"].startswith("Vos alertes pour la ligne …34 :")
    assert ("+ Crédit bas", '/alert_on{"alert_kind":"low_credit"}') in chips(menu)
    [asked] = chat.tap("+ Crédit bas", '/alert_on{"alert_kind":"low_credit"}')
    assert asked["text"] == "Crédit bas : À partir de quel montant ?"
    [done] = chat.tap("200 F", '/alert_on{"alert_kind":"low_credit","alert_threshold":"200"}')
    assert done["text"].startswith("C'est noté : je vous préviens quand votre crédit passe sous 200 F.")
    assert wanted(sessions, "gate-1") == [(AlertKind.LOW_CREDIT, 200)]
    [night] = chat.tap("Aussi la nuit", '/alerts_night{"alert_night":"on"}')
    assert "La nuit (21 h – 7 h) : oui" in night["text"]
    [off] = chat.tap("− Crédit bas", '/alert_off{"alert_kind":"low_credit"}')
    assert off["text"].startswith("C'est fait : plus d'alerte")
    assert wanted(sessions, "gate-1") == []
    with fake_rasa.lock:
        assert [b for b in fake_rasa.received if b["sender"] == "gate-1"] == []  # Rasa never asked


def test_the_chip_labels_typed_work_other_words_go_to_rasa(dev_server, fake_rasa, sessions, subscriber, linked):
    chat = Conversation(dev_server, subscriber("gate-2"))
    chat.tap("200 F", '/alert_on{"alert_kind":"low_credit","alert_threshold":"200"}')
    [menu] = chat.say("Mes Alertes !")
    assert menu["text"].startswith("Vos alertes pour la ligne …34 :")
    [again] = chat.say("my alerts")  # the English chip's label
    assert again["text"].startswith("Vos alertes pour la ligne …34 :")  # the kept language: French
    [stopped] = chat.say("stop alerte")
    assert stopped["text"].startswith("C'est fait : je ne vous enverrai plus aucune alerte.")
    assert wanted(sessions, "gate-2") == []
    chat.say('/alert_on{"alert_kind":"expiry"}')  # typed: never a button
    chat.say("je veux des alertes quand mon credit est bas")
    assert wanted(sessions, "gate-2") == []
    with fake_rasa.lock:
        assert [b["message"] for b in fake_rasa.received if b["sender"] == "gate-2"] == [
            'alert_on{"alert_kind":"expiry"}',
            "je veux des alertes quand mon credit est bas",
        ]


def test_without_a_linked_line_or_the_cgu_nothing_is_set(dev_server, sessions, subscriber):
    stranger = Conversation(dev_server, subscriber("gate-3", link=False))
    [ask] = stranger.tap("+ Crédit bas", '/alert_on{"alert_kind":"low_credit","alert_threshold":"500"}')
    assert ask["text"].startswith("Pour choisir vos alertes, je dois d'abord vérifier votre ligne")
    assert Inbox(sessions).dialogue_context("gate-3") == {"question": {"kind": "phone_number"}}  # a number next
    newcomer = Conversation(dev_server, subscriber("gate-4", consent=False, link=False))
    intro = newcomer.menu("/manage_alerts")
    assert "merci d'accepter les conditions d'utilisation" in str(intro)  # text and CGU links: a button template
    assert wanted(sessions, "gate-3") == [] and wanted(sessions, "gate-4") == []
    [nothing] = newcomer.tap("Stop alertes", "/stop_alerts")  # only removes: always allowed
    assert nothing["text"].startswith("Vous n'aviez aucune alerte")


def test_a_failure_is_told_with_a_way_to_retry(sessions, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(alert_settings, "settings_reply", broken)
    event = ClaimedEvent(id=1, sender_id="x", kind="quick_reply", text="/manage_alerts", attempts=1)
    reply = AlertSettingsGate(sessions).reply_for(event)
    assert reply is not None and reply.text.startswith("Désolé, je n'arrive pas à modifier vos alertes")
    assert [(q.title, q.payload) for q in reply.quick_replies] == [
        ("Réessayer", "/manage_alerts"),
        ("Un conseiller", "/human"),
    ]


def test_a_line_linked_by_someone_else_is_never_used(sessions, demo_now, subscriber):
    subscriber("owner")
    with sessions() as session:
        assert session.scalar(select(MessengerLink.psid).where(MessengerLink.psid == "intruder")) is None
        record_consent(session, "intruder", now=demo_now)
        session.commit()
    event = ClaimedEvent(
        id=2, sender_id="intruder", kind="quick_reply", text='/alert_on{"alert_kind":"expiry"}', attempts=1
    )
    reply = AlertSettingsGate(sessions, clock=lambda: demo_now).reply_for(event)
    assert reply is not None and reply.text.startswith("Pour choisir vos alertes")
    assert wanted(sessions, "intruder") == []
