"""What a typed message means right after a question, or after a consultation."""

from __future__ import annotations

import pytest

from bot.services.dialogue.context import Context, Question, QuestionKind, Topic
from bot.services.dialogue.resolver import UNCLEAR_ANSWER, resolve


def nlu(intent: str, confidence: float = 0.9) -> dict:
    return {"intent": {"name": intent, "confidence": confidence}}


def asked(kind: str, **data) -> Context:
    return Context(question=Question(kind, data))


def shown(intent: str, **filters) -> Context:
    return Context(topic=Topic(intent, filters))


PURCHASE = asked(QuestionKind.PURCHASE_CONFIRMATION, quote="tok", price=1000, credit=None, data_mb=1024)
OPTIONS = [
    {
        "code": "RL_1000",
        "type": "RL",
        "price": 1000,
        "credit": 1000,
        "data_mb": None,
        "title": "Recharge Liberté 1 000",
    },
    {
        "code": "RL_3000",
        "type": "RL",
        "price": 3000,
        "credit": 3000,
        "data_mb": None,
        "title": "Recharge Liberté 3 000",
    },
    {"code": "IMD_1GO", "type": "IMD", "price": 1000, "credit": None, "data_mb": 1024, "title": "Pass Internet 1 Go"},
    {"code": "IMD_5GO", "type": "IMD", "price": 2500, "credit": None, "data_mb": 5120, "title": "Pass Internet 5 Go"},
]


# ------------------------------------------------------------------ consequential questions


@pytest.mark.parametrize(
    "text, nlu_intent, expected",
    [
        ("oui", "affirm", "confirm_purchase"),
        ("👍", "affirm", "confirm_purchase"),
        ("je ne confirme pas", "confirm_purchase", "cancel_purchase"),  # the NLU once read this as a yes (0.81)
        ("non", "deny", "cancel_purchase"),
        ("attends", "nlu_fallback", UNCLEAR_ANSWER),
        ("c'est combien ?", "faq", UNCLEAR_ANSWER),
        ("/confirm_purchase", "nlu_fallback", UNCLEAR_ANSWER),
    ],
)
def test_answers_to_the_purchase_summary(text, nlu_intent, expected):
    assert resolve(text, nlu(nlu_intent), PURCHASE).intent == expected


def test_a_confident_new_request_is_answered_and_the_purchase_waits():
    assert resolve("mon solde stp", nlu("show_balance", 0.95), PURCHASE) is None
    assert resolve("ou est l'agence de kone", nlu("find_agency", 0.97), PURCHASE) is None


@pytest.mark.parametrize(
    "kind, yes, no",
    [
        (QuestionKind.ERASE_CONFIRMATION, "confirm_erase_data", "cancel_erase_data"),
        (QuestionKind.SUSPEND_CONFIRMATION, "confirm_suspend", "cancel_suspend"),
        (QuestionKind.UNLINK_CONFIRMATION, "confirm_unlink", "cancel_unlink"),
        (QuestionKind.CONSENT, "accept_terms", "decline_terms"),
    ],
)
def test_yes_and_no_to_each_consequential_question(kind, yes, no):
    assert resolve("oui", nlu("affirm"), asked(kind)).intent == yes
    assert resolve("non merci", nlu("deny"), asked(kind)).intent == no
    assert resolve("euh je sais pas", nlu("nlu_fallback", 0.4), asked(kind)).intent == UNCLEAR_ANSWER


# ----------------------------------------------------------------------- other questions


@pytest.mark.parametrize(
    "text, number",
    [
        ("79 12 34", "791234"),
        ("791234", "791234"),
        ("+687 79.12.34", "791234"),
        ("c 79-12-34", "791234"),
        ("00687 791234", "791234"),
        ("mon numero c'est le 79 12 34 svp", "791234"),
    ],
)
def test_any_number_format_alone_answers_the_number_question(text, number):
    result = resolve(text, nlu("nlu_fallback", 0.3), asked(QuestionKind.PHONE_NUMBER))
    assert (result.intent, result.entities) == ("link_line", {"phone_number": number})


def test_a_wrong_number_still_goes_to_linking_which_says_why():
    result = resolve("25 12 34", nlu("nlu_fallback", 0.3), asked(QuestionKind.PHONE_NUMBER))
    assert (result.intent, result.entities) == ("link_line", {})
    assert resolve("je sais pas mon numero", nlu("nlu_fallback", 0.3), asked(QuestionKind.PHONE_NUMBER)) is None


@pytest.mark.parametrize("text", ["482913", "482 913", "482-913", "48 29 13", "le code c 482913"])
def test_six_digits_after_a_code_was_sent_are_the_code(text):
    result = resolve(text, nlu("link_line"), asked(QuestionKind.OTP_CODE))
    assert (result.intent, result.entities) == ("give_code", {"otp_code": "482913"})


def test_a_new_number_after_a_code_was_sent_is_a_number():
    assert resolve("mon numero c'est 79 78 78", nlu("link_line"), asked(QuestionKind.OTP_CODE)) is None


@pytest.mark.parametrize(
    "text, code",
    [
        ("le deuxième", "RL_3000"),
        ("2", "RL_3000"),
        ("la dernière", "IMD_5GO"),
        ("le 1 go", "IMD_1GO"),
        ("5go", "IMD_5GO"),
        ("recharge 3000", "RL_3000"),
        ("2500", "IMD_5GO"),
        ("pass internet 5 go", "IMD_5GO"),
    ],
)
def test_a_price_volume_name_or_ordinal_picks_from_the_product_list(text, code):
    result = resolve(text, nlu("buy"), asked(QuestionKind.PRODUCT_CHOICE, options=OPTIONS))
    assert (result.intent, result.entities) == ("choose_product", {"product": code})


def test_an_ambiguous_pick_is_left_to_the_purchase_flow():
    # 1000 F is both a recharge and a pass: the buy flow lists both again.
    assert resolve("1000", nlu("buy"), asked(QuestionKind.PRODUCT_CHOICE, options=OPTIONS)) is None


def test_a_choice_among_the_likely_meanings():
    options = [
        {"title": "Mon solde", "payload": "/show_balance"},
        {"title": "Code PUK", "payload": '/faq{"faq_key":"code_puk"}'},
    ]
    context = asked(QuestionKind.DISAMBIGUATION, options=options)
    assert resolve("le premier", nlu("nlu_fallback", 0.3), context).intent == "show_balance"
    second = resolve("code puk", nlu("faq", 0.5), context)
    assert (second.intent, second.entities) == ("faq", {"faq_key": "code_puk"})


# ------------------------------------------------------------------------------ follow-ups


@pytest.mark.parametrize(
    "text, intent, entities",
    [
        ("et en internet ?", "show_balance", {"facet": "data"}),
        ("et mes sms ?", "show_balance", {"facet": "sms"}),
        ("et le mois dernier ?", "show_usage", {"period": "m1"}),
    ],
)
def test_follow_ups_of_the_balance(text, intent, entities):
    result = resolve(text, nlu("faq", 0.7), shown("show_balance"))
    assert (result.intent, result.entities) == (intent, entities)


def test_follow_ups_of_the_purchase_history_keep_the_other_filter():
    context = shown("show_purchases", product_type="RL", month="9")
    october = resolve("et en octobre ?", nlu("faq"), context)
    assert october.entities == {"product_type": "RL", "month": "10"}
    passes = resolve("et les pass ?", nlu("faq"), context)
    assert passes.entities == {"product_type": "IMD", "month": "9"}
    last = resolve("et le mois dernier", nlu("faq"), context)
    assert last.entities == {"product_type": "RL", "period": "m1"}


def test_a_long_message_is_not_a_follow_up():
    assert (
        resolve(
            "et sinon vous avez une agence a kone qui ouvre le samedi matin ?",
            nlu("find_agency"),
            shown("show_balance"),
        )
        is None
    )


# ---------------------------------------------------------------------------- a human


@pytest.mark.parametrize(
    "text",
    ["tu comprends rien, je veux un agent", "c'est nul", "t'es nul", "bot de merde", "tu sers a rien", "connard"],
)
def test_frustration_goes_to_a_human(text):
    result = resolve(text, nlu("faq", 0.9), Context())
    assert (result.intent, result.entities) == ("human", {"handoff_reason": "frustration"})


@pytest.mark.parametrize(
    "text", ["je veux un vrai conseiller", "passez moi une vraie personne svp", "je peux parler a un humain ?"]
)
def test_asking_for_a_person_goes_to_a_human(text):
    result = resolve(text, nlu("faq", 0.9), Context())
    assert (result.intent, result.entities) == ("human", {"handoff_reason": "request"})


@pytest.mark.parametrize("text", ["tu es un vrai humain ?", "t'es un humain ?", "y a un humain derriere ?"])
def test_asking_whether_the_assistant_is_a_person_is_not_a_request(text):
    assert resolve(text, nlu("human", 0.6), Context()) is None
    assert resolve(text.rstrip(" ?"), nlu("bot_challenge", 0.6), Context()) is None


@pytest.mark.parametrize("text", ["zzzz", "kkkkk !", "qsdfgh"])
def test_keys_hit_without_words_are_not_understood(text):
    assert resolve(text, nlu("affirm", 0.66), Context()).intent == "nlu_fallback"


@pytest.mark.parametrize("text", ["ok", "slt", "mmm", "jsp", "svp", "79 12 34", "pdf"])
def test_short_words_and_abbreviations_are_not_gibberish(text):
    result = resolve(text, nlu("affirm", 0.66), Context())
    assert result is None or result.intent != "nlu_fallback"


@pytest.mark.parametrize(
    "text", ["putain mon tel marche plus", "je comprends rien a ma consommation", "je capte rien en brousse c normal"]
)
def test_swearing_or_not_understanding_something_is_a_question_not_frustration(text):
    assert resolve(text, nlu("faq", 0.9), Context()) is None


def test_the_same_question_a_third_time_goes_to_a_human():
    recent = ["internet marche pas", "internet marche pas !"]
    result = resolve("internet marche pas", nlu("faq"), Context(), recent)
    assert result.entities == {"handoff_reason": "repeated"}
    assert resolve("internet marche pas", nlu("faq"), Context(), recent[-1:]) is None
    assert resolve("oui", nlu("affirm"), Context(), ["oui", "oui"]) is None
