"""Alert actions: the "Mes alertes" menu and its chips, and "Stop alertes".

The line is the sender's linked one (LinkedLineAction); which alert and which threshold come only
from the chips' payloads (`reading.payload_entity`), never from typed text.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import reading, turns
from actions.consultation import LinkedLineAction
from bot import clock
from bot.services.alerts import menu
from bot.services.dialogue.context import Topic
from bot.services.replies import Reply


class AlertAction(LinkedLineAction):
    """Abstract: the menu's topic, and the sender's PSID for the service."""

    def parameters(self, tracker: Tracker) -> dict[str, Any]:
        return {"psid": tracker.sender_id}

    def topic(self, params: dict[str, Any]) -> Topic:
        return Topic("manage_alerts", {})

    def retry_payload(self, params: dict[str, Any]) -> str:
        return "/manage_alerts"  # after linking, or to try again: the menu, where each chip is


class ActionManageAlerts(AlertAction):
    action_name = "action_manage_alerts"
    intent = "/manage_alerts"

    def answer(self, session, line, **params: Any) -> Reply:
        return menu.menu_reply(session, params["psid"], line)


class ActionAlertOn(AlertAction):
    action_name = "action_alert_on"
    intent = "/alert_on"

    def parameters(self, tracker: Tracker) -> dict[str, Any]:
        return {
            "psid": tracker.sender_id,
            "kind": reading.payload_entity(tracker, "alert_kind"),
            "threshold": reading.payload_entity(tracker, "alert_threshold"),
        }

    def answer(self, session, line, **params: Any) -> Reply:
        return menu.turn_on(session, params["psid"], line, params["kind"], params["threshold"], clock.utcnow())


class ActionAlertOff(AlertAction):
    action_name = "action_alert_off"
    intent = "/alert_off"

    def parameters(self, tracker: Tracker) -> dict[str, Any]:
        return {"psid": tracker.sender_id, "kind": reading.payload_entity(tracker, "alert_kind")}

    def answer(self, session, line, **params: Any) -> Reply:
        return menu.turn_off(session, params["psid"], line, params["kind"])


class ActionAlertsNight(AlertAction):
    action_name = "action_alerts_night"
    intent = "/alerts_night"

    def parameters(self, tracker: Tracker) -> dict[str, Any]:
        return {"psid": tracker.sender_id, "night": reading.payload_entity(tracker, "alert_night")}

    def answer(self, session, line, **params: Any) -> Reply:
        return menu.set_night(session, params["psid"], line, params["night"], clock.utcnow())


class ActionStopAlerts(Action):
    """ "Stop alertes": every alert off at once (no line needed: it only ever removes)."""

    def name(self) -> str:
        return "action_stop_alerts"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        return await turns.run_turn(
            self.name(), dispatcher, tracker, lambda session: menu.stop_reply(session, tracker.sender_id)
        )
