"""A one-time code typed in Messenger links the line, yet is stored nowhere in clear: not in our
inbound events (text, raw event), not in Rasa's tracker (the webhook masks it once the turn is
saved). It unlocks a line: anyone reading a database dump must not be able to reuse it."""

from __future__ import annotations

import re
import uuid

from e2e_helpers import all_text, quick_reply_payloads
from sqlalchemy import select

from bot.db import messaging as m
from bot.db.base import session_scope
from bot.services.identity.linking import get_linked_line

LINE = "835050"


def test_a_typed_code_links_the_line_and_is_stored_nowhere(stack):
    psid = f"e2e-code-{uuid.uuid4().hex[:8]}"
    intro = stack.exchange(psid, "je veux relier ma ligne")
    if "/accept_terms" in quick_reply_payloads(intro):
        stack.exchange(psid, "J'accepte", quick_reply="/accept_terms")
    assert "code" in all_text(stack.exchange(psid, f"{LINE[:2]} {LINE[2:4]} {LINE[4:]}")).lower()
    code = re.search(r"\b(\d{6})\b", stack.sms_outbox(LINE)[0]["text"]).group(1)
    typed = f"{code[:3]} {code[3:]}"  # as many people type it
    stack.exchange(psid, typed)
    with session_scope(stack.db_url) as session:
        line = get_linked_line(session, psid)
        assert line is not None and line.msisdn == LINE  # the code worked
        rows = session.execute(
            select(m.InboundEvent.text, m.InboundEvent.raw_json).where(m.InboundEvent.sender_id == psid)
        ).all()
    stored = " ".join(f"{text} {raw}" for text, raw in rows)
    assert "******" in stored
    assert code not in stored and typed not in stored
    tracked = " ".join(t or "" for t in stack.tracker_user_texts(psid))
    assert "******" in tracked and code not in tracked and typed not in tracked
