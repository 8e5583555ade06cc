"""The rules of the alerts without any I/O: which alerts a plan offers, opting in and out, when and
how an alert may go (quiet hours in Nouméa, daily cap, 24-hour window, approved template), and the
template file checked against Meta's rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.db.account import Line, PlanFamily
from bot.db.alerts import Alert, AlertKind, AlertState, AlertSubscription
from bot.services.alerts import delivery
from bot.services.alerts.delivery import Circumstances, Route, Skip
from bot.services.alerts.subscriptions import Choice, kinds_for, stop_all, subscribe, unsubscribe
from bot.services.alerts.templates import TemplateFileError, load_templates

NOUMEA_NOON = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)  # 12:00 in Nouméa (UTC+11)


def line_of(family: PlanFamily) -> Line:
    return Line(id=1, msisdn="791234", plan_family=family)


@pytest.mark.parametrize(
    "family, expected",
    [
        (PlanFamily.LIBERTE, ["low_credit", "data_usage", "expiry", "card_purchase"]),
        (PlanFamily.FORFAIT_BLOQUE, ["low_credit", "data_usage", "expiry", "card_purchase"]),
        (PlanFamily.FORFAIT_M, ["data_usage", "expiry", "out_of_plan"]),
        (PlanFamily.FORFAIT_HORAIRE, ["data_usage", "expiry", "out_of_plan"]),
        (PlanFamily.DATA_SEUL, ["data_usage", "expiry"]),
    ],
)
def test_each_plan_is_offered_the_alerts_that_make_sense_for_it(family, expected):
    assert [k.value for k in kinds_for(line_of(family))] == expected


def test_opting_in_out_and_stop_everything(demo_session, demo_now, linked):
    line = linked("opt", "791234")
    assert subscribe(demo_session, "opt", line, Choice(AlertKind.LOW_CREDIT, None), demo_now).threshold == 500
    assert subscribe(demo_session, "opt", line, Choice(AlertKind.LOW_CREDIT, 200), demo_now).threshold == 200
    with pytest.raises(ValueError):
        subscribe(demo_session, "opt", line, Choice(AlertKind.LOW_CREDIT, 123), demo_now)  # not offered
    with pytest.raises(ValueError):
        subscribe(demo_session, "opt", line, Choice(AlertKind.OUT_OF_PLAN, 1000), demo_now)  # not for Liberté
    subscribe(demo_session, "opt", line, Choice(AlertKind.EXPIRY, None), demo_now)
    demo_session.add(_alert("opt", line, AlertKind.EXPIRY, AlertState.PENDING, demo_now))
    demo_session.add(_alert("opt", line, AlertKind.LOW_CREDIT, AlertState.SENT, demo_now))
    assert unsubscribe(demo_session, "opt", AlertKind.EXPIRY) and not unsubscribe(demo_session, "opt", AlertKind.EXPIRY)
    assert [a.kind for a in demo_session.scalars(select(Alert))] == [AlertKind.LOW_CREDIT]  # the unsent one dropped
    assert stop_all(demo_session, "opt") == 1
    assert demo_session.scalars(select(AlertSubscription)).all() == []


def _alert(psid, line, kind, state, now) -> Alert:
    return Alert(
        key=f"{psid}:{kind.value}:{state.value}",
        psid=psid,
        line_id=line.id,
        kind=kind,
        scope="credit",
        threshold=500,
        generation=1,
        params="{}",
        state=state,
        detected_at=now,
        send_after=now,
    )


def circumstances(**changes) -> Circumstances:
    base = dict(subscribed=True, night_ok=False, sent_today=0, daily_cap=3, last_seen=None, template_approved=True)
    return Circumstances(**{**base, **changes})


ALERT = Alert(kind=AlertKind.LOW_CREDIT, rearmed_at=None)


def test_within_the_window_a_message_outside_only_an_approved_template():
    recent = NOUMEA_NOON - timedelta(hours=23)
    assert delivery.decide(ALERT, NOUMEA_NOON, circumstances(last_seen=recent)).route == Route.MESSAGE
    old = NOUMEA_NOON - timedelta(hours=25)
    assert delivery.decide(ALERT, NOUMEA_NOON, circumstances(last_seen=old)).route == Route.TEMPLATE
    refused = delivery.decide(ALERT, NOUMEA_NOON, circumstances(last_seen=old, template_approved=False))
    assert (refused.route, refused.reason) == (Route.SKIP, Skip.TEMPLATE)


@pytest.mark.parametrize(
    "local_hour, minute, waits_until_local",
    [(20, 59, None), (21, 0, (1, 7)), (23, 30, (1, 7)), (3, 0, (0, 7)), (6, 59, (0, 7)), (7, 0, None)],
)
def test_quiet_hours_in_noumea_hold_an_alert_until_seven(local_hour, minute, waits_until_local):
    now = datetime(2026, 12, 4, local_hour, minute, tzinfo=delivery.NOUMEA).astimezone(UTC)
    decision = delivery.decide(ALERT, now, circumstances())
    if waits_until_local is None:
        assert decision.route == Route.TEMPLATE
        return
    days, hour = waits_until_local
    assert decision.route == Route.LATER
    expected = datetime(2026, 12, 4 + days, hour, 0, tzinfo=delivery.NOUMEA)
    assert decision.send_after == expected
    assert delivery.decide(ALERT, now, circumstances(night_ok=True)).route == Route.TEMPLATE  # the user said so


def test_opt_out_resolved_and_the_daily_cap_suppress():
    assert delivery.decide(ALERT, NOUMEA_NOON, circumstances(subscribed=False)).reason == Skip.OPT_OUT
    rearmed = Alert(kind=AlertKind.LOW_CREDIT, rearmed_at=NOUMEA_NOON)
    assert delivery.decide(rearmed, NOUMEA_NOON, circumstances()).reason == Skip.RESOLVED
    assert delivery.decide(ALERT, NOUMEA_NOON, circumstances(sent_today=3)).reason == Skip.CAP


def test_the_template_file_follows_metas_rules(tmp_path):
    specs = load_templates()
    assert set(specs) == set(AlertKind)  # one template per alert
    request = specs[AlertKind.LOW_CREDIT].create_request()
    assert request["category"] == "UTILITY" and request["components"][0]["example"] == {
        "body_text": [["350 F", "…34", "500 F"]]
    }
    broken = tmp_path / "t.yml"
    broken.write_text(
        "templates:\n"
        "  - {kind: low_credit, name: Bad-Name, language: fr, body: '{{1}} reste sur {{3}}',"
        " params: [amount], examples: [1], buttons: [{title: Un titre bien trop long ici, payload: buy}]}\n",
        encoding="utf-8",
    )
    with pytest.raises(TemplateFileError) as error:
        load_templates(broken)
    problems = "\n".join(error.value.problems)
    for expected in ("name", "dans l'ordre", "commencer ni finir", "autant de", "titre de bouton", "payload"):
        assert expected in problems, expected
