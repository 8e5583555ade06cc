"""Every way an editor wrote a FAQ question reaches that FAQ entry through the trained model
(faq/*.yml → bot.tools.faq_export → retrieval intent `faq` + ResponseSelector)."""

from __future__ import annotations

from bot.services.assistance.faq import load_faq


def selected_faq_key(parse: dict) -> str | None:
    if parse["intent"]["name"] != "faq":
        return None
    return parse["response_selector"]["faq"]["response"]["intent_response_key"]


def test_each_faq_question_reaches_its_entry(stack):
    entries = load_faq()
    assert entries, "no FAQ entry loaded"
    misses = []
    for entry_id, entry in entries.items():
        for question in entry.questions:
            got = selected_faq_key(stack.parse(question))
            if got != f"faq/{entry_id}":
                misses.append(f"{entry_id}: {question!r} → {got}")
    assert not misses, "FAQ questions that do not reach their entry:\n" + "\n".join(misses)
