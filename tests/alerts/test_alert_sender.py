"""Alerts sent through a stand-in Graph API that checks utility templates as Facebook does: a
normal message within 24 hours of the user's last message, an approved template outside, nothing
without one; quiet hours, the daily cap, a user who blocked the Page, a template paused by Meta,
and a sender that died half-way."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from channel_helpers import fast_graph
from channel_helpers import standin as standin
from sqlalchemy import select, update
from sqlalchemy.orm import sessionmaker

from bot.channel.alert_sender import AlertSender, record_template_statuses
from bot.channel.alert_templates import sync_templates
from bot.channel.events import parse_webhook
from bot.config import Settings
from bot.db import messaging as m
from bot.db.alerts import Alert, AlertKind, AlertState, AlertSubscription, AlertTemplate
from bot.services.alerts.subscriptions import Choice, subscribe
from bot.services.alerts.templates import load_templates

PAUL_BLOQUE = "781515"  # 95 F of credit
NOON = datetime(2026, 3, 16, 1, 0, tzinfo=UTC)  # 12:00 in Nouméa, the day after the demo's "today"


@pytest.fixture
def graph(standin):
    client = fast_graph(standin.url, attempts=1)
    yield client
    client.close()


@pytest.fixture
def sessions(demo_engine):
    return sessionmaker(bind=demo_engine, expire_on_commit=False)


@pytest.fixture
def sender(sessions, graph):
    settings = Settings.from_env({"ALERTS_SCAN_MINUTES": "15", "ALERTS_DAILY_CAP": "3"})
    return AlertSender(sessions, graph, settings)


@pytest.fixture
def paul(demo_session, demo_now, linked):
    """Paul asked for low-credit alerts; his 95 F are below 500 F."""
    line = linked("paul", PAUL_BLOQUE)
    subscribe(demo_session, "paul", line, Choice(AlertKind.LOW_CREDIT, 500), demo_now)
    demo_session.commit()
    return line


def wrote_at(session, psid: str, when: datetime) -> None:
    session.add(
        m.InboundEvent(
            dedup_key=f"mid.{psid}.{when.timestamp()}",
            channel="messaging",
            kind="message",
            sender_id=psid,
            raw_json="{}",
            status="done",
            received_at=when,
        )
    )
    session.commit()


def states(session, psid: str) -> list[tuple[str, str | None]]:
    session.expire_all()
    return [
        (a.state.value, a.reason) for a in session.scalars(select(Alert).where(Alert.psid == psid).order_by(Alert.id))
    ]


def test_within_the_window_the_alert_is_a_normal_message_with_its_next_steps(demo_session, sender, standin, paul):
    wrote_at(demo_session, "paul", NOON - timedelta(hours=2))
    assert sender.scan(NOON) == 1
    assert sender.send_due(NOON) == 1
    [sent] = standin.sent_to("paul")
    assert sent["messaging_type"] == "UPDATE"
    assert sent["message"]["text"] == "Alerte crédit : il reste 95 F sur votre ligne …15 (votre seuil : 500 F)."
    assert [q["title"] for q in sent["message"]["quick_replies"]] == ["Recharger", "Mes alertes", "Stop alertes"]
    assert states(demo_session, "paul") == [("sent", None)]
    assert sender.scan(NOON) == 0 and sender.send_due(NOON) == 0  # the same crossing is never told twice


def test_a_visitor_who_chose_english_reads_the_alert_in_english(demo_session, sender, standin, paul):
    from bot.services.language import preference

    preference.choose(demo_session, "paul", "en", NOON)
    wrote_at(demo_session, "paul", NOON - timedelta(hours=2))
    assert sender.scan(NOON) == 1 and sender.send_due(NOON) == 1
    [sent] = standin.sent_to("paul")
    assert "95 XPF" in sent["message"]["text"] and "Alerte" not in sent["message"]["text"]


def test_outside_the_window_only_an_approved_utility_template(demo_session, sessions, graph, sender, standin, paul):
    sender.scan(NOON)
    assert sender.send_due(NOON) == 0  # no template on the Page yet: not sent, never another way
    assert standin.sent_to("paul") == [] and states(demo_session, "paul") == [("suppressed", "template")]

    lines = sync_templates(graph, sessions, "me", list(load_templates().values()), NOON)
    assert all("créé, APPROVED" in line for line in lines) and len(lines) == len(load_templates())
    assert all(
        "déjà présent" in line for line in sync_templates(graph, sessions, "me", list(load_templates().values()))
    )
    demo_session.execute(update(Alert).values(rearmed_at=NOON))  # Paul recharged, then went under again
    demo_session.commit()
    sender.scan(NOON + timedelta(hours=1))
    assert sender.send_due(NOON + timedelta(hours=1)) == 1
    [sent] = standin.sent_to("paul")
    assert sent["messaging_type"] == "UTILITY"
    template = sent["message"]["template"]
    assert template["name"] == "mobilis_alerte_credit_v1" and template["language"] == {"code": "fr"}
    assert [p["text"] for p in template["components"][0]["parameters"]] == ["95 F", "…15", "500 F"]


def test_the_stand_in_refuses_a_template_send_facebook_would_refuse(graph, sessions, standin):
    from bot.channel.graph import GraphError

    sync_templates(graph, sessions, "me", list(load_templates().values()), NOON)
    spec = load_templates()[AlertKind.LOW_CREDIT]
    message = spec.message({"amount": "95 F", "line": "…15", "threshold": "500 F"})
    message["template"]["components"][0]["parameters"].pop()
    with pytest.raises(GraphError, match="Number of parameters"):
        graph.send_message("paul", message, "UTILITY")
    unknown = spec.message({"amount": "95 F", "line": "…15", "threshold": "500 F"})
    unknown["template"]["name"] = "not_on_the_page"
    with pytest.raises(GraphError, match="does not exist"):
        graph.send_message("paul", unknown, "UTILITY")


def test_a_template_meta_paused_is_not_used(demo_session, sessions, graph, sender, standin, paul):
    sync_templates(graph, sessions, "me", list(load_templates().values()), NOON)
    remote = demo_session.get(AlertTemplate, ("mobilis_alerte_credit_v1", "fr")).remote_id
    body = {
        "object": "page",
        "entry": [
            {
                "id": "page",
                "time": 1,
                "changes": [
                    {
                        "field": "message_template_status_update",
                        "value": {"event": "PAUSED", "message_template_id": int(remote), "reason": "NONE"},
                    }
                ],
            }
        ],
    }
    assert record_template_statuses(sessions, parse_webhook(body).template_statuses, NOON) == 1
    sender.scan(NOON)
    sender.send_due(NOON)
    assert standin.sent_to("paul") == [] and states(demo_session, "paul") == [("suppressed", "template")]


def test_quiet_hours_hold_the_alert_until_seven_in_noumea(demo_session, sender, standin, paul):
    evening = datetime(2026, 3, 16, 11, 30, tzinfo=UTC)  # 22:30 in Nouméa
    wrote_at(demo_session, "paul", evening - timedelta(hours=1))
    sender.scan(evening)
    assert sender.send_due(evening) == 0 and states(demo_session, "paul") == [("pending", None)]
    assert sender.send_due(evening + timedelta(hours=3)) == 0  # 01:30: still night
    morning = datetime(2026, 3, 16, 20, 0, tzinfo=UTC)  # 07:00 the next day in Nouméa
    assert sender.send_due(morning) == 1 and len(standin.sent_to("paul")) == 1


def test_the_daily_cap_and_a_user_who_blocked_the_page(demo_session, sender, standin, paul):
    wrote_at(demo_session, "paul", NOON - timedelta(hours=1))
    for i in range(3):
        demo_session.add(_sent(paul, f"old-{i}", NOON - timedelta(hours=2)))
    demo_session.commit()
    sender.scan(NOON)
    assert sender.send_due(NOON) == 0 and states(demo_session, "paul")[-1] == ("suppressed", "cap")

    demo_session.execute(update(Alert).values(rearmed_at=NOON))
    demo_session.commit()
    tomorrow = NOON + timedelta(days=1)
    wrote_at(demo_session, "paul", tomorrow - timedelta(hours=1))
    sender.scan(tomorrow)
    standin.fail_next(551, subcode=1545041)
    assert sender.send_due(tomorrow) == 0
    assert states(demo_session, "paul")[-1] == ("failed", "unavailable")
    assert demo_session.scalars(select(AlertSubscription).where(AlertSubscription.psid == "paul")).all() == []


def _sent(line, key: str, at: datetime) -> Alert:
    return Alert(
        key=key,
        psid="paul",
        line_id=line.id,
        kind=AlertKind.EXPIRY,
        scope="x",
        threshold=3,
        generation=1,
        params=json.dumps({}),
        state=AlertState.SENT,
        detected_at=at,
        send_after=at,
        sent_at=at,
        rearmed_at=at,
    )


def test_detected_then_a_crash_before_sending_is_sent_once_by_the_next_process(
    demo_session, sessions, graph, standin, paul
):
    settings = Settings.from_env({})
    wrote_at(demo_session, "paul", NOON - timedelta(hours=1))
    AlertSender(sessions, graph, settings).scan(NOON)  # this process dies here
    restarted = AlertSender(sessions, graph, settings)
    assert restarted.send_due(NOON) == 1 and restarted.send_due(NOON) == 0
    assert len(standin.sent_to("paul")) == 1


def test_an_alert_left_sending_by_a_dead_sender_is_not_sent_again(demo_session, sender, standin, paul):
    sender.scan(NOON)
    demo_session.execute(update(Alert).values(state=AlertState.SENDING, claimed_at=NOON))
    demo_session.commit()
    assert sender.send_due(NOON + timedelta(minutes=11)) == 0
    assert standin.sent_to("paul") == [] and states(demo_session, "paul") == [("suppressed", "interrupted")]


def test_a_purchase_within_24_hours_of_an_alert_is_counted_once(demo_session, sender, standin, paul):
    from prometheus_client import REGISTRY

    from bot.db.purchasing import PaymentSource, Product, ProductType, Purchase, PurchaseStatus

    def counted() -> float:
        return REGISTRY.get_sample_value("mobilis_alerts_followed_by_purchase_total", {"kind": "low_credit"}) or 0.0

    wrote_at(demo_session, "paul", NOON - timedelta(hours=1))
    sender.scan(NOON)
    sender.send_due(NOON)
    before = counted()
    recharge = demo_session.scalar(select(Product).where(Product.type == ProductType.RL))
    demo_session.add(
        Purchase(
            line_id=paul.id,
            product_id=recharge.id,
            product_type=ProductType.RL,
            price_xpf=recharge.price_xpf,
            payment_source=PaymentSource.CARD,
            status=PurchaseStatus.SUCCEEDED,
            created_at=NOON + timedelta(hours=3),
        )
    )
    demo_session.commit()
    sender.send_due(NOON + timedelta(hours=4))
    sender.send_due(NOON + timedelta(hours=5))
    assert counted() == before + 1
