"""What the assistant holds about a PSID, and erasing it (right of access / erasure).

Conversation tables belong to the channel (bot/db/messaging.py) and, if Rasa's SQL tracker store
shares the database, to Rasa (`events`). They are reached through plain SQL after checking that
the table and column exist, so this module keeps working whatever is deployed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, inspect, select, text, update
from sqlalchemy.orm import Session

from bot.db import handoff as h
from bot.db.alerts import Alert, AlertProfile, AlertSubscription
from bot.db.base import changed_rows
from bot.db.identity import Consent, LinkChallenge, MessengerLink, SmsOutbox
from bot.db.purchasing import PaymentSession, PurchaseQuote
from bot.db.suspension import LineSuspension
from bot.services.alerts.texts import alert_summary
from bot.services.dialogue.context import Question, QuestionKind
from bot.services.i18n import N_, _
from bot.services.identity import linked_accounts
from bot.services.identity.linking import get_linked_line
from bot.services.identity.phone import mask_number
from bot.services.language import preference as languages
from bot.services.privacy.consent import latest_consent, legal_urls
from bot.services.replies import Button, QuickReply, Reply

NOUMEA = ZoneInfo("Pacific/Noumea")
ERASE_PAYLOAD = "/erase_my_data"
CONFIRM_ERASE_PAYLOAD = "/confirm_erase_data"
CANCEL_PAYLOAD = "/cancel_erase_data"
UNLINK_PAYLOAD = "/unlink_line"

# (table, PSID column, kind). "queue" rows still being processed are scrubbed, not deleted, so the
# worker handling this very request does not lose its row.
CONVERSATION_TABLES = (
    ("inbound_events", "sender_id", "queue"),
    ("outbound_messages", "recipient_id", "log"),
    ("dialogue_contexts", "psid", "log"),  # what the assistant last asked (may hold a quote token)
    ("insight_turns", "psid", "log"),  # what the assistant did with each message (review queue, ratings)
    ("events", "sender_id", "log"),  # Rasa SQLTrackerStore, only if it shares our database
)
OPEN_STATUSES = ("pending", "processing")


@dataclass(frozen=True)
class ErasureResult:
    counts: dict[str, int] = field(default_factory=dict)  # table → rows deleted, scrubbed or pseudonymised

    def reply(self) -> Reply:
        return Reply(text=_(ERASED_MESSAGE))


# What the user is told, exactly: what went, what stays and why (docs: README, Privacy).
ERASED_MESSAGE = N_(
    "C'est fait. J'ai effacé : la liaison avec votre ligne, votre accord aux conditions, vos demandes "
    "de code, vos alertes, la langue choisie, l'historique de notre conversation (y compris dans ma mémoire "
    "de dialogue) et vos échanges "
    "avec nos conseillers enregistrés ici.\n"
    "J'ai gardé, sans plus aucun lien avec votre compte Messenger : vos achats (ligne, produit, montant, "
    "date) et les suspensions de ligne, que l'OPT-NC doit conserver pour sa comptabilité et la sécurité "
    "de la ligne, ainsi que des compteurs anti-fraude anonymes, effacés sous 24 h.\n"
    "La conversation reste affichée dans votre application Messenger : vous pouvez l'y supprimer. "
    "Si vous m'écrivez à nouveau, je vous redemanderai votre accord."
)
# Accounting rows keep their line and amounts but no longer say who asked on Messenger.
PSEUDONYM = "effacé"


def personal_data_summary(session: Session, psid: str) -> Reply:
    lines = [_("Voici ce que je conserve pour ce compte Messenger :")]
    line = get_linked_line(session, psid)
    link = session.scalar(select(MessengerLink).where(MessengerLink.psid == psid))
    if line is not None and link is not None:
        lines.append(
            _("• Ligne reliée : {number} (depuis le {date})").format(
                number=mask_number(line.msisdn), date=_date(link.linked_at)
            )
        )
        lines.append(
            _("• Comptes Messenger ayant accès à cette ligne : {count}").format(
                count=linked_accounts.count_for_line(session, line.id)
            )
        )
    else:
        lines.append(_("• Aucune ligne reliée."))
    consent = latest_consent(session, psid)
    if consent is not None:
        lines.append(
            _("• Conditions d'utilisation acceptées : version {version}, le {date} à {time}").format(
                version=consent.cgu_version, date=_date(consent.accepted_at), time=_time(consent.accepted_at)
            )
        )
    else:
        lines.append(_("• Conditions d'utilisation : pas encore acceptées."))
    challenges = session.scalar(select(func.count(LinkChallenge.id)).where(LinkChallenge.psid == psid))
    if challenges:
        lines.append(
            _("• Demandes de code de liaison récentes : {count} (le code lui-même n'est jamais conservé)").format(
                count=challenges
            )
        )
    lines.append(_("• Messages de notre conversation conservés : {count}").format(count=_count_messages(session, psid)))
    alerts = alert_summary(session, psid)
    lines.append(
        _("• Alertes demandées : {alerts}").format(alerts=alerts) if alerts else _("• Alertes : aucune demandée.")
    )
    language = languages.summary(session, psid)
    lines.append(
        _("• Langue de nos échanges : {language}").format(language=language)
        if language
        else _("• Langue de nos échanges : français.")
    )
    lines.append(
        _(
            "Les informations de votre ligne (offre, solde, consommations) restent dans le système "
            "de l'OPT-NC : je les consulte seulement quand vous me le demandez."
        )
    )
    quick = [QuickReply(_("Effacer mes données"), ERASE_PAYLOAD)]
    if line is not None:
        quick.append(QuickReply(_("Comptes liés"), linked_accounts.LIST_PAYLOAD))
        quick.append(QuickReply(_("Délier ma ligne"), UNLINK_PAYLOAD))
    return Reply(
        text="\n".join(lines),
        quick_replies=quick,
        buttons=[Button(title=_("Données personnelles"), url=legal_urls()[1])],
    )


def erase_confirmation_reply() -> Reply:
    return Reply(
        text=_(
            "Je vais effacer votre liaison de ligne, votre accord aux conditions et l'historique de "
            "notre conversation. Vos informations de ligne chez l'OPT-NC ne sont pas touchées. "
            "Confirmez-vous ?"
        ),
        quick_replies=[QuickReply(_("Oui, effacer"), CONFIRM_ERASE_PAYLOAD), QuickReply(_("Annuler"), CANCEL_PAYLOAD)],
        asks=Question(QuestionKind.ERASE_CONFIRMATION),
    )


def erase_personal_data(session: Session, psid: str) -> ErasureResult:
    """Erase everything tied to this PSID in our database (Rasa's tracker: the webhook, after the turn).

    Deleted: link, consents, code requests, conversation (inbound/outbound messages, dialogue
    context), hand-off records (escalations, their messages, thread state), alerts (choices and
    those detected or sent), the language of the conversation, the SMS outbox of the linked line
    (development only). Pseudonymised
    (the PSID replaced, the row kept for accounting and the line's security): purchase summaries,
    payment sessions, line suspensions. Hashed
    security counters (link_events/link_lockouts) are kept until they expire (24 h at most):
    erasing must not be a way to reset a lockout.
    """
    line = get_linked_line(session, psid)
    counts = {
        "messenger_links": changed_rows(session.execute(delete(MessengerLink).where(MessengerLink.psid == psid))),
        "consents": changed_rows(session.execute(delete(Consent).where(Consent.psid == psid))),
        "link_challenges": changed_rows(session.execute(delete(LinkChallenge).where(LinkChallenge.psid == psid))),
        "escalation_messages": changed_rows(
            session.execute(delete(h.EscalationMessage).where(h.EscalationMessage.psid == psid))
        ),
        "thread_states": changed_rows(session.execute(delete(h.ThreadState).where(h.ThreadState.psid == psid))),
        "escalations": changed_rows(session.execute(delete(h.Escalation).where(h.Escalation.psid == psid))),
    }
    counts["conversation_languages"] = languages.forget(session, psid)
    for alert_table in (AlertSubscription, AlertProfile, Alert):  # what they asked to be told, and what was
        counts[alert_table.__tablename__] = changed_rows(
            session.execute(delete(alert_table).where(alert_table.psid == psid))
        )
    if line is not None:
        counts["sms_outbox"] = changed_rows(session.execute(delete(SmsOutbox).where(SmsOutbox.msisdn == line.msisdn)))
    for model in (PurchaseQuote, PaymentSession, LineSuspension):
        counts[model.__tablename__] = changed_rows(
            session.execute(
                update(model)
                .where(model.psid == psid)
                .values(psid=PSEUDONYM)
                .execution_options(synchronize_session=False)
            )
        )
    tables = _existing_columns(session)
    for table, column, kind in CONVERSATION_TABLES:
        if column not in tables.get(table, set()):
            continue
        params = {"psid": psid}
        if kind == "queue" and {"status", "raw_json", "text"} <= tables[table]:
            scrubbed = changed_rows(
                session.execute(
                    text(
                        f"UPDATE {table} SET text = NULL, raw_json = '{{}}', replies_json = NULL "
                        f"WHERE {column} = :psid AND status IN ('pending', 'processing')"
                    ),
                    params,
                )
            )
            deleted = changed_rows(
                session.execute(
                    text(f"DELETE FROM {table} WHERE {column} = :psid AND status NOT IN ('pending', 'processing')"),
                    params,
                )
            )
            counts[table] = scrubbed + deleted
        else:
            counts[table] = changed_rows(session.execute(text(f"DELETE FROM {table} WHERE {column} = :psid"), params))
    session.flush()
    return ErasureResult(counts=counts)


def _count_messages(session: Session, psid: str) -> int:
    if "sender_id" not in _existing_columns(session).get("inbound_events", set()):
        return 0
    return int(
        session.execute(
            text("SELECT COUNT(*) FROM inbound_events WHERE sender_id = :psid"), {"psid": psid}
        ).scalar_one()
    )


def _existing_columns(session: Session) -> dict[str, set[str]]:
    inspector = inspect(session.connection())
    names = {t for t, _, _ in CONVERSATION_TABLES} & set(inspector.get_table_names())
    return {name: {c["name"] for c in inspector.get_columns(name)} for name in names}


def _date(value: datetime) -> str:
    return value.astimezone(NOUMEA).strftime("%d/%m/%Y")


def _time(value: datetime) -> str:
    return value.astimezone(NOUMEA).strftime("%H:%M")
