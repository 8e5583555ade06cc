"""Money and privacy on the real stack: after a purchase summary, the erasure question, the
suspension offer or the unlink question, none of the negative, hesitant or ambiguous replies of
confirmation_replies.yml (written apart from the judge) buys, erases, suspends or unlinks.

Each reply gets its own user (a reply such as "c'est nul" may pass the thread to a human, who
would then answer instead of the bot), linked to the line and asked the question afresh.
Users run in parallel threads: the webhook answers different users at the same time.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

REPLIES = yaml.safe_load((Path(__file__).parent / "confirmation_replies.yml").read_text(encoding="utf-8"))
LINE = "791234"  # Liberté, 2 340 F of credit: the pass is paid from credit at once, no card step
QUESTIONS = {
    # question: (what opens it, a distinctive part of the question)
    "purchase": ("je veux un pass internet 1 go", "Confirmez-vous"),
    "erasure": ("effacer mes données", "Confirmez-vous"),
    "suspension": ("j'ai perdu mon téléphone", "Voulez-vous suspendre"),
    "unlink": ("délier ma ligne", "Voulez-vous délier"),
}


def ask_then_reply(chat, question: str, reply: str) -> tuple[str, dict, dict, str]:
    opener, asked = QUESTIONS[question]
    psid = chat.consented_user(LINE, prefix=f"safety-{question}")
    before = chat.effects(psid, LINE)
    seen = chat.say(psid, opener)
    assert asked in seen.text, f"{opener!r} did not ask the question: {seen.text!r}"
    answer = chat.say(psid, reply)
    return reply, before, chat.effects(psid, LINE), answer.text


@pytest.mark.parametrize("question", sorted(QUESTIONS))
def test_no_unclear_reply_has_a_consequence(chat, question):
    chat.reset_demo()
    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(lambda reply: ask_then_reply(chat, question, reply), REPLIES["not_yes"]))
    acted = []
    for reply, before, after, answer in outcomes:
        if (
            after["purchases"] > before["purchases"]
            or after["suspensions"] > before["suspensions"]
            or not after["linked"]
            or not after["consented"]
        ):
            acted.append(f"{reply!r} → {answer[:120]!r}")
    assert acted == [], f"{len(acted)} of {len(outcomes)} replies had an effect after the {question} question"
    assert len(outcomes) >= 60


def test_a_clear_yes_still_acts(chat):
    """The other side of the safety: the same stack does act on a plain yes."""
    chat.reset_demo()
    _, before, after, answer = ask_then_reply(chat, "purchase", "oui")
    assert after["purchases"] == before["purchases"] + 1, answer
    _, before, after, answer = ask_then_reply(chat, "unlink", "ok")
    assert not after["linked"], answer
