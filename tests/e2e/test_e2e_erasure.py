""" "Effacer mes données" on the real stack erases every store: Rasa's copy of the conversation (the
embedded default's in-memory tracker store; the SQL store of production: tests/production/
test_topology.py) and every table of our database, except what the reply says is kept (purchases
and suspensions, pseudonymised; hashed anti-fraud counters; the operator's own line records)."""

from __future__ import annotations

from datetime import UTC, datetime

from e2e_helpers import all_text
from sqlalchemy import JSON, String, Text, create_engine, func, pool, select

from bot.db.account import Line
from bot.db.all_models import Base
from bot.db.base import session_scope
from bot.db.purchasing import Purchase
from bot.db.suspension import LineSuspension
from bot.services.handoff import escalations as handoff
from bot.services.privacy.erasure import PSEUDONYM

# A line no other end-to-end test uses (this one suspends it), and phrasings nobody else types:
# the scan below looks at every row of the shared test database.
LINE, SPACED = "771020", "77 10 20"
TYPED = [
    "combien il me reste de credit ce soir",
    "je voudrais une recharge de 1000 francs",
    "on m'a volé mon portable au marché",
    "effacer toutes mes données maintenant",
]
# The operator's own records of the line are not the Messenger user's data, and a purchase keeps
# its line (its reference names it): the documented exceptions.
OPERATOR_COLUMNS = {("lines", "msisdn"), ("notifications", "body"), ("purchases", "reference")}


class NoThreadControl:
    """The hand-off's port, for an escalation recorded beside the conversation."""

    def pass_thread_control(self, psid, metadata):
        pass

    def take_thread_control(self, psid, metadata):
        pass


def leftovers(db_url: str, needles: list[str]) -> list[tuple[str, str, str]]:
    """(table, column, needle) for every text-like cell of every table that contains a needle."""
    found = []
    engine = create_engine(db_url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            for table in Base.metadata.sorted_tables:
                for column in table.columns:
                    if (
                        not isinstance(column.type, (String, Text, JSON))
                        or (table.name, column.name) in OPERATOR_COLUMNS
                    ):
                        continue
                    for needle in needles:
                        hits = connection.execute(
                            select(func.count())
                            .select_from(table)
                            .where(func.lower(column.cast(Text)).contains(needle.lower()))
                        ).scalar_one()
                        if hits:
                            found.append((table.name, column.name, needle))
    finally:
        engine.dispose()
    return found


def test_erasing_my_data_erases_every_store(stack):
    psid = stack.subscriber("erase-everything", LINE)
    stack.exchange(psid, TYPED[0])
    assert TYPED[0] in stack.tracker_user_texts(psid)
    assert "Récapitulatif" in all_text(stack.exchange(psid, TYPED[1]))
    stack.exchange(psid, "oui")
    open_hours = datetime(2026, 12, 1, 22, 0, tzinfo=UTC)  # Wednesday 9:00 in Nouméa
    with session_scope(stack.db_url) as session:
        handoff.request_handoff(session, psid, "user_request", ["human"], open_hours, NoThreadControl())
        handoff.record_agent_message(session, psid, "Bonjour, je regarde votre ligne", open_hours)
        handoff.on_control_returned(session, psid, open_hours)
    assert "suspendre" in all_text(stack.exchange(psid, TYPED[2]))
    assert "est suspendue" in all_text(stack.exchange(psid, "oui suspends la"))
    with session_scope(stack.db_url) as session:
        line_id = session.scalar(select(Line.id).where(Line.msisdn == LINE))
        purchases = session.scalar(select(func.count(Purchase.id)).where(Purchase.line_id == line_id))
    needles = [psid, LINE, SPACED, *TYPED, "je regarde votre ligne"]
    assert leftovers(stack.db_url, needles)  # the scan sees what the conversation stored

    assert "Confirmez-vous" in all_text(stack.exchange(psid, TYPED[3]))
    answer = all_text(stack.exchange(psid, "oui"))
    assert "C'est fait" in answer and "achats" in answer

    left = leftovers(stack.db_url, needles)
    assert left == [], left
    assert stack.tracker_user_texts(psid) == []
    with session_scope(stack.db_url) as session:  # kept for accounting and the line's security
        assert session.scalar(select(func.count(Purchase.id)).where(Purchase.line_id == line_id)) == purchases
        kept = session.scalars(select(LineSuspension.psid).where(LineSuspension.line_id == line_id)).all()
        assert kept and set(kept) == {PSEUDONYM}
