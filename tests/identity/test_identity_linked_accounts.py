"""The line's holder sees the Messenger accounts linked to it and removes the others; nobody else
may; removing needs an unambiguous yes; the removed account is told why at its next request."""

from __future__ import annotations

from sqlalchemy import select
from test_identity_link_safety import link_by_code

from bot.db.identity import MessengerLink
from bot.services.dialogue.context import QuestionKind
from bot.services.dialogue.payloads import parse_payload
from bot.services.identity import linked_accounts, linking
from bot.services.privacy import erasure as privacy


def link_ids(reply) -> list[str]:
    return [parse_payload(q.payload)[1]["link"] for q in reply.quick_replies if q.payload.startswith("/revoke_account")]


def test_the_holder_lists_and_removes_another_account(session, clock, lines, outbox):
    link_by_code(session, "alice", "791234", clock.now, outbox)
    clock.advance(minutes=5)
    link_by_code(session, "intruder", "791234", clock.now, outbox)
    listing = linked_accounts.accounts_reply(session, "alice", clock.now)
    assert "Compte n°1 : ce compte-ci" in listing.text and "Compte n°2 : relié le" in listing.text
    assert "intruder" not in listing.text  # another person's Messenger id is never shown
    [other] = link_ids(listing)
    assert "Comptes Messenger ayant accès à cette ligne : 2" in privacy.personal_data_summary(session, "alice").text

    question = linked_accounts.revoke_question(session, "alice", other, clock.now)
    assert question.asks.kind == QuestionKind.REVOKE_CONFIRMATION and question.asks.data == {"link": other}
    assert linking.get_linked_line(session, "intruder", clock.now) is not None  # asking changes nothing
    done = linked_accounts.revoke(session, "alice", other, clock.now)
    assert "n'a plus accès" in done.text
    assert linking.get_linked_line(session, "intruder", clock.now) is None
    assert linking.link_problem(session, "intruder", clock.now)[0] == "revoked"
    assert linking.get_linked_line(session, "alice", clock.now).msisdn == "791234"
    assert link_ids(linked_accounts.accounts_reply(session, "alice", clock.now)) == []
    # A new code on the line gives access again (the holder is told by SMS once more).
    clock.advance(minutes=5)
    link_by_code(session, "intruder", "791234", clock.now, outbox)
    assert linking.get_linked_line(session, "intruder", clock.now).msisdn == "791234"


def test_only_an_account_of_the_line_may_remove_its_accounts(session, clock, lines, outbox):
    link_by_code(session, "alice", "791234", clock.now, outbox)
    clock.advance(minutes=5)
    link_by_code(session, "bob", "881111", clock.now, outbox)
    alice_link = str(session.scalar(select(MessengerLink.id).where(MessengerLink.psid == "alice")))
    for who, link in (("bob", alice_link), ("nobody", alice_link), ("alice", alice_link), ("alice", "x")):
        linked_accounts.revoke(session, who, link, clock.now)
    assert linking.get_linked_line(session, "alice", clock.now).msisdn == "791234"
