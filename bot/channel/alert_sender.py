"""Alerts, sent by the webhook's periodic sweep: every ALERTS_SCAN_MINUTES the lines of users who
asked for alerts are read through the operator port and new crossings recorded
(bot/services/alerts/detection.py); at every sweep the alerts due are sent, each as the rules of
bot/services/alerts/delivery.py decide: a normal message within 24 hours of the user's last
message ("UPDATE"), an approved utility template outside ("UTILITY"), or not at all, with a metric.

A user Messenger says is unavailable (551: blocked the Page, deleted the account) gets no more
alerts: their subscriptions are removed. Every send is logged like the bot's other messages.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.channel import metrics
from bot.channel.events import TemplateStatus
from bot.channel.graph import GraphClient, GraphError, OutsideWindow, RecipientUnavailable
from bot.channel.handoff_gate import reply_messages
from bot.channel.inbox import Inbox
from bot.channel.outreach import last_seen
from bot.clock import now_or
from bot.config import Settings
from bot.db.account import Line
from bot.db.alerts import Alert, AlertState
from bot.services.alerts import delivery, detection, subscriptions, texts
from bot.services.alerts.delivery import Route, Skip
from bot.services.alerts.templates import TemplateSpec, approved, load_templates, update_known
from bot.services.language import preference
from bot.services.operator.backends import operator_for

log = logging.getLogger(__name__)

UNAVAILABLE, REFUSED = "unavailable", "refused"


class AlertSender:
    def __init__(
        self,
        sessions: Callable[[], Session],
        graph: GraphClient,
        settings: Settings,
        inbox: Inbox | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sessions, self.graph, self.inbox, self.clock = sessions, graph, inbox, clock
        self.scan_seconds = settings.alerts_scan_minutes * 60
        self.daily_cap = settings.alerts_daily_cap
        self.templates = load_templates(settings.alerts_templates_file or None)
        self._last_scan: float | None = None
        self._woken: set[str] = set()  # lines the operator said changed (its usage and top-up events)
        self._lock = threading.Lock()

    def __call__(self) -> None:
        """One sweep: scan when it is time (or the lines the operator said changed), then send."""
        if not self.scan_seconds:
            return
        with self._lock:
            woken, self._woken = self._woken, set()
        if self._last_scan is None or self.clock() - self._last_scan >= self.scan_seconds:
            self._last_scan = self.clock()
            self.scan()
        elif woken:
            self.scan(only=woken)
        self.send_due()

    def wake(self, msisdn: str) -> None:
        """The operator notified a change on this line: read it at the next sweep."""
        with self._lock:
            self._woken.add(msisdn)

    def scan(self, now: datetime | None = None, only: set[str] | None = None) -> int:
        now = now_or(now)
        with self.sessions() as session:
            created = detection.scan(session, operator_for(session), now, only)
        for alert in created:
            metrics.ALERTS_DETECTED.labels(alert.kind.value).inc()
        return len(created)

    def send_due(self, now: datetime | None = None) -> int:
        now = now_or(now)
        with self.sessions() as session:
            delivery.abandon_stale(session, now)
            for alert in delivery.followed_by_a_purchase(session, now):
                metrics.ALERTS_FOLLOWED.labels(alert.kind.value).inc()
            owed = delivery.due(session, now)
        sent = 0
        for alert_id in owed:
            try:
                sent += self._deliver(alert_id, now)
            except Exception:  # one alert that cannot be sent now must not hold up the others
                log.exception("alert %s not sent (left to the stale-claim rule)", alert_id)
        return sent

    def _deliver(self, alert_id: int, now: datetime) -> bool:
        with self.sessions() as session:
            if not delivery.claim(session, alert_id, now):
                return False
            alert = session.get_one(Alert, alert_id)
            spec = self.templates.get(alert.kind)
            seen = last_seen(session, alert.psid)
            ready = spec is not None and approved(session, spec)
            decision = delivery.decide(
                alert,
                now,
                delivery.circumstances(session, alert, now, daily_cap=self.daily_cap, last_seen=seen, approved=ready),
            )
            kind, psid = alert.kind.value, alert.psid
            msisdn = session.get_one(Line, alert.line_id).msisdn
            values = texts.values(alert, msisdn)  # the approved templates are French
            with preference.speaking_to(session, psid):  # a normal message: the user's language
                messages = reply_messages(texts.alert_reply(alert, msisdn))
            if decision.route == Route.LATER and decision.send_after is not None:
                delivery.postpone(session, alert_id, decision.send_after)
                metrics.ALERTS_DEFERRED.labels(kind).inc()
                return False
            if decision.route == Route.SKIP:
                delivery.finish(session, alert_id, AlertState.SUPPRESSED, now, str(decision.reason))
                metrics.ALERTS_SUPPRESSED.labels(kind, str(decision.reason)).inc()
                return False
        route, failure = self._send(psid, decision.route, messages, spec if ready else None, values)
        with self.sessions() as session:
            if failure is None:
                delivery.finish(session, alert_id, AlertState.SENT, now)
                metrics.ALERTS_SENT.labels(kind, route).inc()
                return True
            state = AlertState.SUPPRESSED if failure == Skip.TEMPLATE else AlertState.FAILED
            delivery.finish(session, alert_id, state, now, failure)
            metrics.ALERTS_SUPPRESSED.labels(kind, failure).inc()
            if failure == UNAVAILABLE:  # never write to them again
                subscriptions.stop_all(session, psid)
                session.commit()
        return False

    def _send(
        self,
        psid: str,
        route: Route,
        messages: list[dict[str, Any]],
        spec: TemplateSpec | None,
        values: dict[str, str],
    ) -> tuple[str, str | None]:
        """(the route taken, None) or (…, why it was not sent)."""
        try:
            if route == Route.MESSAGE:
                try:
                    for message in messages:
                        self._send_one(psid, message, "UPDATE")
                    return Route.MESSAGE.value, None
                except OutsideWindow:  # the window closed meanwhile: the template, if there is one
                    if spec is None:
                        return Route.MESSAGE.value, Skip.TEMPLATE.value
            if spec is None:  # decide() routes to TEMPLATE only with an approved one
                return route.value, Skip.TEMPLATE.value
            self._send_one(psid, spec.message(values), "UTILITY")
            return Route.TEMPLATE.value, None
        except RecipientUnavailable:
            return route.value, UNAVAILABLE
        except GraphError as exc:
            log.error("alert not sent: %s", exc)
            return route.value, REFUSED

    def _send_one(self, psid: str, message: dict[str, Any], kind: str) -> None:
        payload = {"recipient": {"id": psid}, "messaging_type": kind, "message": message}
        try:
            result = self.graph.send_message(psid, message, kind)
        except GraphError as exc:
            self._log(psid, payload, "failed", error=exc)
            raise
        self._log(psid, payload, "sent", message_id=result.message_id)

    def _log(self, psid: str, payload: dict[str, Any], status: str, **kwargs: Any) -> None:
        if self.inbox is None:
            return
        try:
            self.inbox.log_outbound(None, psid, payload, status, **kwargs)
        except Exception:  # the trace is a nicety; the message itself went out (or not)
            log.exception("could not log an alert")


def record_template_statuses(
    sessions: Callable[[], Session], statuses: list[TemplateStatus], now: datetime | None = None
) -> int:
    """The webhook's `message_template_status_update` changes, for our templates. How many were ours."""
    now = now_or(now)
    ours = 0
    with sessions() as session:
        for s in statuses:
            known = update_known(
                session, s.status, now, s.reason, remote_id=s.template_id, name=s.name, language=s.language
            )
            if known:
                log.info("alert template %s is now %s", s.name or s.template_id, s.status)
            ours += known
        session.commit()
    return ours
