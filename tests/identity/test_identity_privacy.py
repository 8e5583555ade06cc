"""Right of access (what we hold) and erasure for a PSID."""

import pytest
from identity_helpers import last_code, link_by_sms
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from bot.db.all_models import Base
from bot.db.identity import Consent, LinkChallenge, MessengerLink
from bot.db.messaging import InboundEvent, OutboundMessage
from bot.services.identity import linking
from bot.services.identity.link_results import LinkOutcome
from bot.services.privacy import consent
from bot.services.privacy import erasure as privacy

PSID = "psid-alice"
OTHER = "psid-bob"


def add_conversation(session, psid, n, status="done"):
    for i in range(n):
        session.add(
            InboundEvent(
                dedup_key=f"mid:{psid}:{status}:{i}",
                channel="messaging",
                kind="message",
                sender_id=psid,
                text=f"bonjour {i}",
                raw_json='{"text": "bonjour"}',
                status=status,
            )
        )
        session.add(
            OutboundMessage(recipient_id=psid, kind="message", payload_json='{"text": "Bonjour !"}', status="sent")
        )
    session.flush()


def test_summary_when_nothing_is_held(session):
    reply = privacy.personal_data_summary(session, PSID)
    assert "Aucune ligne reliée" in reply.text and "pas encore acceptées" in reply.text
    assert "conservés : 0" in reply.text
    assert [q.payload for q in reply.quick_replies] == [privacy.ERASE_PAYLOAD]
    assert reply.buttons[0].url.startswith("https://")


def test_summary_lists_link_consent_and_messages(session, clock, lines, outbox):
    consent.record_consent(session, PSID, now=clock.now)
    link_by_sms(session, PSID, "791234", clock, outbox)
    add_conversation(session, PSID, 3)
    add_conversation(session, OTHER, 2)
    reply = privacy.personal_data_summary(session, PSID)
    assert "Ligne reliée : 79****" in reply.text
    assert "791234" not in reply.text and "79 12 34" not in reply.text
    assert f"version {consent.CGU_VERSION}, le 02/03/2026 à 12:00" in reply.text  # Nouméa time
    assert "conservés : 3" in reply.text
    assert "jamais conservé" in reply.text  # the code itself
    assert "Comptes Messenger ayant accès à cette ligne : 1" in reply.text
    assert [q.payload for q in reply.quick_replies] == [
        privacy.ERASE_PAYLOAD,
        "/linked_accounts",
        privacy.UNLINK_PAYLOAD,
    ]
    assert all(len(q.title) <= 20 for q in reply.quick_replies) and len(reply.text) <= 640


def test_erase_removes_everything_about_the_psid_only(session, clock, lines, outbox):
    for psid, number in ((PSID, "791234"), (OTHER, "881111")):
        consent.record_consent(session, psid, now=clock.now)
        link_by_sms(session, psid, number, clock, outbox)
        add_conversation(session, psid, 2)
    add_conversation(session, PSID, 1, status="processing")  # the erase request itself
    clock.advance(seconds=61)
    linking.start_linking(session, PSID, "791235", now=clock.now, gateway=outbox)

    result = privacy.erase_personal_data(session, PSID)
    assert result.counts["messenger_links"] == 1 and result.counts["consents"] == 1
    assert result.counts["link_challenges"] == 2
    assert result.counts["inbound_events"] == 3 and result.counts["outbound_messages"] == 3
    assert "effacé" in result.reply().text

    assert linking.get_linked_line(session, PSID) is None
    assert consent.needs_consent(session, PSID)
    assert session.scalar(select(func.count()).select_from(LinkChallenge).where(LinkChallenge.psid == PSID)) == 0
    # The row being processed stays (the worker still owns it) but holds no content any more.
    [kept] = session.scalars(select(InboundEvent).where(InboundEvent.sender_id == PSID)).all()
    assert kept.status == "processing" and kept.text is None and kept.raw_json == "{}"
    assert (
        session.scalar(select(func.count()).select_from(OutboundMessage).where(OutboundMessage.recipient_id == PSID))
        == 0
    )
    # The other user is untouched.
    assert linking.get_linked_line(session, OTHER).msisdn == "881111"
    assert not consent.needs_consent(session, OTHER)
    assert session.scalar(select(func.count()).select_from(InboundEvent).where(InboundEvent.sender_id == OTHER)) == 2
    # And the pending code for 791235 is gone.
    assert (
        linking.verify_code(session, PSID, last_code(session, "791235"), now=clock.now).outcome
        == LinkOutcome.NO_CHALLENGE
    )


def test_erase_does_not_reset_a_lockout(session, clock, lines, outbox):
    for _ in range(3):
        linking.start_linking(session, PSID, "771111", now=clock.now, gateway=outbox)
        for _ in range(3):
            result = linking.verify_code(session, PSID, "000000", now=clock.now)
        clock.advance(seconds=61)
    assert result.outcome == LinkOutcome.LOCKED
    privacy.erase_personal_data(session, PSID)
    assert linking.start_linking(session, PSID, "791234", now=clock.now, gateway=outbox).outcome == LinkOutcome.LOCKED


def test_erase_reaches_a_rasa_tracker_store_in_the_same_database(session):
    session.execute(text("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255), data TEXT)"))
    session.execute(
        text("INSERT INTO events (sender_id, data) VALUES (:a, 'x'), (:a, 'y'), (:b, 'z')"), {"a": PSID, "b": OTHER}
    )
    assert privacy.erase_personal_data(session, PSID).counts["events"] == 2
    assert session.execute(text("SELECT sender_id FROM events")).scalars().all() == [OTHER]


@pytest.fixture
def identity_only_session():
    """A database without the channel's tables (not deployed yet, or elsewhere)."""
    engine = create_engine("sqlite://")
    wanted = [t for t in Base.metadata.sorted_tables if t.name not in {"inbound_events", "outbound_messages"}]
    Base.metadata.create_all(engine, tables=wanted)
    with Session(engine) as s:
        yield s
    engine.dispose()


def test_privacy_works_without_conversation_tables(identity_only_session, clock):
    s = identity_only_session
    consent.record_consent(s, PSID, now=clock.now)
    assert "conservés : 0" in privacy.personal_data_summary(s, PSID).text
    result = privacy.erase_personal_data(s, PSID)
    assert {k: v for k, v in result.counts.items() if v} == {"consents": 1}
    assert "inbound_events" not in result.counts  # the conversation tables are not there
    assert s.scalar(select(Consent)) is None and s.scalar(select(MessengerLink)) is None


def test_erase_confirmation_reply():
    reply = privacy.erase_confirmation_reply()
    assert [q.payload for q in reply.quick_replies] == [privacy.CONFIRM_ERASE_PAYLOAD, privacy.CANCEL_PAYLOAD]


def test_erase_removes_the_review_queue_items_and_ratings_of_the_psid_only(session):
    from datetime import UTC, datetime

    from bot.db.insights import TurnRecord
    from bot.services.insights.turns import Reading, TurnFacts, record

    def turn(psid):
        facts = TurnFacts(
            psid,
            datetime.now(UTC),
            "fr",
            "typed",
            "zorglub 79 12 34",
            Reading("nlu_fallback", 0.2),
            None,
            [{"text": "?"}],
            100,
        )
        return record(session, facts)

    turn(PSID), turn(PSID), turn(OTHER)
    assert privacy.erase_personal_data(session, PSID).counts["insight_turns"] == 2
    assert session.scalars(select(TurnRecord.psid)).all() == [OTHER]
