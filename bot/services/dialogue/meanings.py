"""Ask instead of guessing: the two or three likely meanings of a message the NLU is unsure of.

Read from the NLU's own ranking (intents, and the FAQ entries of the response selector) when the
confidence is low or the best readings are close; each meaning becomes a quick reply, plus
"Autre chose". Typed answers to that question ("le 2", "mon solde") are read by the resolver.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.services.dialogue.context import Question, QuestionKind
from bot.services.dialogue.payloads import payload
from bot.services.i18n import N_

MAX_MEANINGS = 3
MIN_INTENT_CONFIDENCE = 0.12  # below this a reading is noise, not a meaning worth offering
MIN_FAQ_CONFIDENCE = 0.15
# An FAQ answer is given outright only when its entry is clearly ahead of the next one.
FAQ_SURE_CONFIDENCE = 0.5
FAQ_AMBIGUITY = 0.15
OTHER_PAYLOAD = "/none_of_these"

# Chip titles (≤ 20 characters) of the intents worth offering; social and payload-only intents
# ("oui", "merci", a code) are never offered as a meaning. Marked only: the renderers translate
# chip titles when they send them (the question keeps the French titles).
INTENT_TITLES = {
    "show_offer": N_("Mon offre"),
    "show_balance": N_("Mon solde"),
    "show_usage": N_("Ma conso"),
    "show_purchases": N_("Mes achats"),
    "show_notifications": N_("Mes notifications"),
    "show_documents": N_("Documents (CGU)"),
    "buy": N_("Acheter"),
    "link_line": N_("Relier ma ligne"),
    "unlink_line": N_("Délier ma ligne"),
    "switch_line": N_("Changer de ligne"),
    "resend_code": N_("Renvoyer le code"),
    "my_data": N_("Mes données"),
    "erase_data": N_("Effacer mes données"),
    "lost_phone": N_("Téléphone perdu"),
    "find_agency": N_("Agences"),
    "contact_1000": N_("Appeler le 1000"),
    "appointment": N_("Rendez-vous"),
    "human": N_("Un conseiller"),
    "help": N_("Ce que je sais faire"),
    "bot_challenge": N_("Qui êtes-vous ?"),
}


@dataclass(frozen=True)
class Meaning:
    title: str
    payload: str


def likely_meanings(parse: dict[str, Any] | None, faq_titles: dict[str, str]) -> list[Meaning]:
    """Up to three meanings, best first: intents of the ranking (an FAQ reading is replaced by
    its best entries), each above a floor of confidence."""
    ranking = (parse or {}).get("intent_ranking") or []
    meanings: list[Meaning] = []
    for item in ranking:
        name, confidence = _name_confidence(item)
        if confidence < MIN_INTENT_CONFIDENCE:
            continue
        if name == "faq":
            meanings += faq_meanings(parse, faq_titles, limit=2)
        elif name in INTENT_TITLES:
            meanings.append(Meaning(INTENT_TITLES[name], f"/{name}"))
    unique: dict[str, Meaning] = {}
    for meaning in meanings:
        unique.setdefault(meaning.payload, meaning)
    return list(unique.values())[:MAX_MEANINGS]


def faq_meanings(parse: dict[str, Any] | None, faq_titles: dict[str, str], limit: int = MAX_MEANINGS) -> list[Meaning]:
    """The FAQ entries the response selector ranks best, above a floor of confidence."""
    out = []
    for key, confidence in faq_ranking(parse):
        if confidence >= MIN_FAQ_CONFIDENCE and key in faq_titles:
            out.append(Meaning(faq_titles[key], payload("faq", {"faq_key": key})))
    return out[:limit]


def faq_is_clear(parse: dict[str, Any] | None) -> bool:
    """True when the best FAQ entry is sure and clearly ahead: answer it without asking."""
    ranking = faq_ranking(parse)
    if not ranking:
        return True  # nothing to compare: the action answers what the selector picked
    best = ranking[0][1]
    second = ranking[1][1] if len(ranking) > 1 else 0.0
    return best >= FAQ_SURE_CONFIDENCE and best - second >= FAQ_AMBIGUITY


def faq_ranking(parse: dict[str, Any] | None) -> list[tuple[str, float]]:
    """[(entry id, confidence)] from the response selector, best first."""
    try:
        ranking = (parse or {})["response_selector"]["faq"]["ranking"]
    except (KeyError, TypeError):
        return []
    out = []
    for item in ranking or []:
        if not isinstance(item, dict):
            continue
        key = item.get("intent_response_key")
        confidence = item.get("confidence")
        if isinstance(key, str) and isinstance(confidence, (int, float)):
            out.append((key.split("/", 1)[-1], float(confidence)))
    return sorted(out, key=lambda kv: -kv[1])


def meanings_question(meanings: list[Meaning]) -> Question:
    return Question(
        QuestionKind.DISAMBIGUATION, {"options": [{"title": m.title, "payload": m.payload} for m in meanings]}
    )


def _name_confidence(item: Any) -> tuple[str, float]:
    if not isinstance(item, dict):
        return "", 0.0
    name = item.get("name")
    confidence = item.get("confidence")
    return (name if isinstance(name, str) else "", float(confidence) if isinstance(confidence, (int, float)) else 0.0)
