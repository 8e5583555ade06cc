"""The intent of a typed message in context, when the context decides it.

Called by the Rasa pipeline's last component (nlu/components/context_resolver.py) with the NLU's
own reading; returns None when the NLU's reading stands. In order:
1. frustration and insults, or the same message a third time in a row → a human;
2. an answer to the question just asked: a number, a code, a product (price, volume, name,
   "le deuxième"), one of the meanings offered, or yes / no to a consequential question
   (judge: only an unambiguous yes confirms; an unclear reply is asked again);
3. a short follow-up of the topic just shown ("et en internet ?", "et le mois dernier ?").
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field, replace
from typing import Any

from bot.services.dialogue.context import CONFIRMATIONS, Context, Question, QuestionKind, Topic
from bot.services.dialogue.judge import Verdict, decision_words, judge
from bot.services.dialogue.payloads import parse_payload
from bot.services.dialogue.quantities import (
    HistoryFilter,
    facet,
    find_code,
    history_filter,
    is_follow_up,
    mentions_phone,
    ordinal,
    product_ask,
)
from bot.services.dialogue.words import has_question_mark, normalise, phrase_in, squash, tokens
from bot.services.fr_format import MB_PER_GB
from bot.services.identity.phone import InvalidNumber, find_number_in_text

UNCLEAR_ANSWER = "unclear_answer"  # intent: ask the consequential question again, with its buttons
# Readings of a message that is a reply to the question rather than a new request.
REPLY_INTENTS = frozenset(
    {
        "affirm",
        "deny",
        "confirm_purchase",
        "cancel_purchase",
        "thanks",
        "nlu_fallback",
        "accept_terms",
        "decline_terms",
        "greet",
        "goodbye",
    }
)
SOCIAL_INTENTS = frozenset({"affirm", "deny", "thanks", "greet", "goodbye", "accept_terms", "decline_terms"})
CONFIDENT = 0.8
REPLY_MAX_WORDS = 4
ANSWER_MAX_WORDS = 8  # a longer message is a new request, not an answer to "which one?"
NUMBER_MAX_WORDS = 6  # besides the digits: "mon numero c'est le 79 12 34 svp"
REPEAT_SIMILARITY = 0.85

# Directed at the assistant, not swearing about a phone ("putain mon tel marche pas" is a question).
_INSULTS = {
    squash(w)
    for w in (
        "connard",
        "connasse",
        "debile",
        "abruti",
        "abrutie",
        "cretin",
        "imbecile",
        "bouffon",
        "fdp",
        "ntm",
        "encule",
        "batard",
        "useless",
    )
}
_FRUSTRATION = tuple(
    " ".join(squash(w) for w in p.split())
    for p in (
        # "tu" in front: "je comprends rien a ma conso" is a question, "tu comprends rien" is not.
        "tu comprends rien",
        "tu comprend rien",
        "tu compren rien",
        "t comprends rien",
        "tu captes rien",
        "tu capte rien",
        "tu piges rien",
        "tu pige rien",
        "vous comprenez rien",
        "comprends rien a rien",
        "sers a rien",
        "sert a rien",
        "c est nul",
        "c nul",
        "cest nul",
        "t es nul",
        "tes nul",
        "t nul",
        "es nul",
        "t es nulle",
        "trop nul",
        "vraiment nul",
        "t es con",
        "tes con",
        "tu es con",
        "t es bete",
        "tu es bete",
        "t es idiot",
        "tu es idiot",
        "t es stupide",
        "tu es stupide",
        "t es inutile",
        "tu es inutile",
        "bot de merde",
        "robot de merde",
        "bot inutile",
        "robot inutile",
        "ta gueule",
        "ferme la",
        "ras le bol",
        "j en ai marre",
        "jen ai marre",
        "marre de toi",
        "me saoule",
        "me soule",
        "tu m enerves",
        "n importe quoi",
        "nimporte quoi",
        "aucune aide",
        "ca m aide pas",
        "ca aide pas",
    )
)
# Asking for a person in words the model may not know yet.
_PERSON = tuple(
    " ".join(squash(w) for w in p.split())
    for p in (
        "vraie personne",
        "vrai personne",
        "vrai conseiller",
        "vraie conseillere",
        "vrai humain",
        "un humain",
        "une personne humaine",
        "etre humain",
        "personne physique",
        "quelqu un de reel",
    )
)
# "tu es un vrai humain ?" asks what the assistant is (bot_challenge), it does not ask for one.
_ABOUT_THE_BOT = tuple(
    " ".join(squash(w) for w in p.split())
    for p in (
        "tu es",
        "t es",
        "tes",
        "es tu",
        "etes vous",
        "vous etes",
        "t un",
        "c un",
        "c est un",
        "cest un",
        "y a un",
        "il y a un",
        "derriere",
    )
)


def _asks_for_a_person(text: str, nlu_intent: str | None) -> bool:
    words = tokens(text)
    if nlu_intent == "bot_challenge" or not any(phrase_in(words, p) for p in _PERSON):
        return False
    return not (has_question_mark(text) and any(phrase_in(words, p) for p in _ABOUT_THE_BOT))


@dataclass(frozen=True)
class Resolution:
    intent: str
    entities: dict[str, str] = field(default_factory=dict)
    reason: str = ""


def resolve(
    text: str | None, parse: dict[str, Any] | None, context: Context, recent: list[str] | None = None
) -> Resolution | None:
    """The intent the context gives `text`, or None to keep the NLU's reading (`parse`)."""
    if text is None or not text.strip():
        return None
    nlu_intent, confidence = _top_intent(parse)
    if _frustrated(text):
        return Resolution("human", {"handoff_reason": "frustration"}, "frustration")
    if _asks_for_a_person(text, nlu_intent):
        return Resolution("human", {"handoff_reason": "request"}, "person")
    if _repeated(text, recent or [], nlu_intent):
        return Resolution("human", {"handoff_reason": "repeated"}, "repeated")
    if context.question is not None:
        answer = _answer(text, context.question, nlu_intent, confidence)
        if answer is not None:
            return answer
    if _gibberish(text):
        return Resolution("nlu_fallback", reason="gibberish")
    if context.topic is not None:
        return _follow_up(text, context.topic)
    return None


_VOWELS = frozenset("aeiouy")


def _gibberish(text: str) -> bool:
    """ "zzzz", "kkkkk", "qsdfgh": keys hit without words; the model would still pick an intent.
    ("mmmm" and "hhhh" are hesitations, not keys.)"""
    raw = list(re.findall(r"[a-z]+", normalise(text)))
    if not raw or re.search(r"\d", text):
        return False
    return all(
        (len(w) >= 4 and len(set(w)) == 1 and w[0] not in "mh") or (len(w) >= 5 and not _VOWELS & set(w)) for w in raw
    )


def _top_intent(parse: dict[str, Any] | None) -> tuple[str | None, float]:
    intent = (parse or {}).get("intent") or {}
    name = intent.get("name") if isinstance(intent, dict) else None
    confidence = intent.get("confidence") if isinstance(intent, dict) else None
    return (name if isinstance(name, str) else None, float(confidence) if isinstance(confidence, (int, float)) else 0.0)


# ------------------------------------------------------------------------- a human


def _frustrated(text: str) -> bool:
    words = tokens(text)
    return any(w in _INSULTS for w in words) or any(phrase_in(words, p) for p in _FRUSTRATION)


def _repeated(text: str, recent: list[str], nlu_intent: str | None) -> bool:
    """The same request a third time in a row (the two previous typed messages are alike)."""
    if len(recent) < 2 or nlu_intent in SOCIAL_INTENTS or re.search(r"\d", text):
        return False
    now = normalise(text)
    return all(difflib.SequenceMatcher(None, now, normalise(old)).ratio() >= REPEAT_SIMILARITY for old in recent[-2:])


# ------------------------------------------------------------ answers to a question


def _answer(text: str, question: Question, nlu_intent: str | None, confidence: float) -> Resolution | None:
    kind = question.kind
    if kind in CONFIRMATIONS:
        return _confirmation(text, question, nlu_intent, confidence)
    if kind == QuestionKind.PHONE_NUMBER:
        return _phone_number(text)
    if kind == QuestionKind.OTP_CODE:
        return _otp_code(text)
    if kind == QuestionKind.PRODUCT_CHOICE:
        return _product_choice(text, question.data.get("options"))
    if kind == QuestionKind.DISAMBIGUATION:
        return _disambiguation(text, question.data.get("options"))
    return None


def confirmation_verdict(text: str | None, question: Question, nlu_intent: str | None = None) -> Verdict:
    """The judge's verdict on `text` as an answer to this consequential question (also used by
    the actions, which never trust the NLU's reading of a typed confirmation)."""
    confirmation = CONFIRMATIONS[question.kind]
    return judge(
        text,
        act_words=confirmation.verbs,
        object_words=confirmation.nouns,
        allowed_numbers=restated_numbers(question),
        nlu_intent=nlu_intent,
    )


def restated_numbers(question: Question) -> set[str]:
    """Figures that only repeat the question: the quote's price, credit and volume."""
    numbers = set()
    for key in ("price", "credit"):
        if isinstance(question.data.get(key), int):
            numbers.add(str(question.data[key]))
    data_mb = question.data.get("data_mb")
    if isinstance(data_mb, int) and data_mb > 0:
        numbers.add(str(data_mb))
        if data_mb % MB_PER_GB == 0:
            numbers.add(str(data_mb // MB_PER_GB))
    return numbers


def _confirmation(text: str, question: Question, nlu_intent: str | None, confidence: float) -> Resolution | None:
    yes_intent, no_intent = CONFIRMATIONS[question.kind].yes_intent, CONFIRMATIONS[question.kind].no_intent
    verdict = confirmation_verdict(text, question, nlu_intent)
    if verdict == Verdict.YES:
        return Resolution(yes_intent, reason=f"{question.kind}:yes")
    if verdict == Verdict.NO:
        return Resolution(no_intent, reason=f"{question.kind}:no")
    short_question = len(tokens(text)) <= 3 and "?" in text  # "c'est combien ?", "pour quelle ligne ?"
    looks_like_reply = (
        decision_words(text)
        or short_question
        or confidence < CONFIDENT
        or nlu_intent in REPLY_INTENTS
        or nlu_intent in {yes_intent, no_intent}
    )
    # A confident new request ("et mon solde ?") is answered; the question stays open.
    return Resolution(UNCLEAR_ANSWER, reason=f"{question.kind}:unclear") if looks_like_reply else None


def _phone_number(text: str) -> Resolution | None:
    if not re.search(r"\d", text):
        return None
    others = [w for w in tokens(text) if not w.isdigit()]
    if len(others) > NUMBER_MAX_WORDS:
        return None
    try:
        number = find_number_in_text(text)
    except InvalidNumber:
        number = None  # the action says why (landline, foreign number)
    entities = {"phone_number": number} if number else {}
    return Resolution("link_line", entities, "phone_number")


def _otp_code(text: str) -> Resolution | None:
    if len(tokens(text)) > NUMBER_MAX_WORDS + 6 or mentions_phone(text):
        return None  # "mon numero c'est 79 78 78": a new number, the NLU reads it as such
    code = find_code(text, code_expected=True)
    return Resolution("give_code", {"otp_code": code}, "otp_code") if code else None


def _product_choice(text: str, options: Any) -> Resolution | None:
    options = [o for o in options or [] if isinstance(o, dict) and isinstance(o.get("code"), str)]
    if not options or len(tokens(text)) > ANSWER_MAX_WORDS:
        return None
    position = ordinal(text)
    if position is not None and -1 <= position <= len(options) and position != 0:
        return Resolution(
            "choose_product",
            {"product": options[position - 1 if position > 0 else -1]["code"]},
            "product_choice:ordinal",
        )
    ask = product_ask(text)
    if ask.empty:  # a name: "le pass", "la recharge liberte"
        wanted = normalise(text)
        matches = [o for o in options if len(wanted) >= 3 and wanted in normalise(str(o.get("title", "")))]
    else:
        matches = options
        if ask.kind:
            matches = [o for o in matches if o.get("type") == ask.kind]
        elif ask.wants_data:
            matches = [o for o in matches if o.get("type") in {"IMD", "TOPUP"}]
        if ask.data_mb is not None:
            matches = [o for o in matches if o.get("data_mb") == ask.data_mb]
        if ask.amount_xpf is not None:
            matches = [o for o in matches if ask.amount_xpf in (o.get("price"), o.get("credit"))]
    if len(matches) == 1:
        return Resolution("choose_product", {"product": matches[0]["code"]}, "product_choice:match")
    return None


def _disambiguation(text: str, options: Any) -> Resolution | None:
    options = [o for o in options or [] if isinstance(o, dict) and parse_payload(o.get("payload"))]
    if not options or len(tokens(text)) > REPLY_MAX_WORDS:
        return None
    position = ordinal(text)
    chosen = None
    if position is not None and position != 0 and abs(position) <= len(options):
        chosen = options[position - 1 if position > 0 else -1]
    else:
        wanted = normalise(text).strip(" ?!.")
        chosen = next((o for o in options if wanted and wanted == normalise(str(o.get("title", "")))), None)
    parsed = parse_payload(chosen["payload"]) if chosen is not None else None
    if parsed is None:
        return None
    intent, entities = parsed
    return Resolution(intent, {k: str(v) for k, v in entities.items()}, "disambiguation")


# ---------------------------------------------------------------------- follow-ups

HISTORY_WORDS = {squash(w) for w in ("achat", "achats", "achete", "historique", "recharges", "pass")}


def _follow_up(text: str, topic: Topic) -> Resolution | None:
    if not is_follow_up(text):
        return None
    asked = history_filter(text)
    part = facet(text)
    words = set(tokens(text))
    if topic.intent == "show_purchases" or words & HISTORY_WORDS:
        carried = _carried_filter(topic) if topic.intent == "show_purchases" else HistoryFilter()
        if part == "data" and asked.product_type is None:
            asked = replace(asked, product_type="IMD")
        if asked.empty and not words & HISTORY_WORDS:
            return None
        return Resolution("show_purchases", _merge(carried, asked).as_entities(), "follow_up:purchases")
    if topic.intent in {"show_balance", "show_usage"}:
        when = asked.months_back is not None or asked.month is not None
        if part is None and not when:
            return None
        intent = "show_usage" if when or part == "out_of_plan" else topic.intent
        entities = {"facet": part} if part else {}
        if asked.months_back is not None:
            entities["period"] = f"m{asked.months_back}"
        elif asked.month is not None:
            entities["month"] = str(asked.month)
        return Resolution(intent, entities, f"follow_up:{topic.intent}")
    return None


def _carried_filter(topic: Topic) -> HistoryFilter:
    return HistoryFilter.from_entities(topic.filters)


def _merge(carried: HistoryFilter, asked: HistoryFilter) -> HistoryFilter:
    """A new "when" replaces the old one entirely; the product carries over unless a new one is named."""
    when_asked = any(v is not None for v in (asked.month, asked.months_back, asked.days_back, asked.weekday))
    source = asked if when_asked else carried
    return HistoryFilter(
        asked.product_type or carried.product_type, source.month, source.months_back, source.days_back, source.weekday
    )
