"""The judge of consequential answers: only an unambiguous yes is a yes.

`confirmation_replies.yml` was written apart from the judge (by someone who did not read it):
every `not_yes` reply must never be a yes, whatever the question; every `yes` reply must be one.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.services.dialogue.context import CONFIRMATIONS, Question, QuestionKind
from bot.services.dialogue.judge import Verdict, decision_words, judge
from bot.services.dialogue.resolver import confirmation_verdict

REPLIES = yaml.safe_load((Path(__file__).parent / "confirmation_replies.yml").read_text(encoding="utf-8"))
QUESTIONS = [
    Question(QuestionKind.PURCHASE_CONFIRMATION, {"quote": "t", "price": 1000, "data_mb": 1024}),
    Question(QuestionKind.ERASE_CONFIRMATION),
    Question(QuestionKind.SUSPEND_CONFIRMATION),
    Question(QuestionKind.UNLINK_CONFIRMATION),
]


def test_the_reply_file_is_big_enough():
    assert len(set(REPLIES["not_yes"])) >= 60
    assert len(set(REPLIES["yes"])) >= 20


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: q.kind)
def test_no_negative_hesitant_or_ambiguous_reply_is_a_yes(question):
    wrongly_yes = [r for r in REPLIES["not_yes"] if confirmation_verdict(r, question) == Verdict.YES]
    assert wrongly_yes == []


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: q.kind)
def test_clear_agreements_are_a_yes(question):
    missed = [r for r in REPLIES["yes"] if confirmation_verdict(r, question) != Verdict.YES]
    assert missed == []


@pytest.mark.parametrize(
    "text",
    [
        "non",
        "nan merci",
        "annule",
        "ok annule",
        "pas maintenant",
        "je ne confirme pas",
        "je confirme pas",
        "jconfirme pas",
        "laisse tomber",
        "non non non",
        "plus tard",
        "oui je veux pas",
        "👎",
        "❌ non",
    ],
)
def test_refusals_cancel(text):
    assert judge(text) == Verdict.NO


@pytest.mark.parametrize(
    "text",
    [
        "oui ?",
        "ok mais pas maintenant",
        "si tu veux",
        "peut-être",
        "ouais bof",
        "jsp",
        "attends",
        "oui mais c'est combien ?",
        "non je confirme",
        "oui pour ma soeur",
        "je sais pas trop",
        "🤔",
        "",
        "/confirm_purchase",
        "confirm_purchase",
        '/confirm_purchase{"quote":"x"}',
        "oui le 5000",
    ],
)
def test_everything_else_is_unclear(text):
    assert judge(text, allowed_numbers=["1000"]) == Verdict.UNCLEAR


def test_the_question_s_own_figures_and_verbs_may_be_repeated():
    purchase = QUESTIONS[0]
    assert confirmation_verdict("oui le pass 1 go", purchase) == Verdict.YES
    assert confirmation_verdict("oui les 1000 F", purchase) == Verdict.YES
    assert confirmation_verdict("oui les 3000 F", purchase) == Verdict.UNCLEAR
    assert confirmation_verdict("oui efface tout", Question(QuestionKind.ERASE_CONFIRMATION)) == Verdict.YES
    assert confirmation_verdict("suspends la", Question(QuestionKind.SUSPEND_CONFIRMATION)) == Verdict.YES
    # the verbs of another question do not make a yes
    assert confirmation_verdict("suspends la", purchase) == Verdict.UNCLEAR


def test_a_refusal_reading_of_the_nlu_vetoes_a_yes():
    assert judge("ok", nlu_intent="deny") == Verdict.UNCLEAR
    assert judge("ok", nlu_intent="affirm") == Verdict.YES


def test_accepting_the_conditions_in_words():
    consent = Question(QuestionKind.CONSENT)
    assert confirmation_verdict("j'accepte les conditions d'utilisation", consent) == Verdict.YES
    assert confirmation_verdict("ok pour les cgu", consent) == Verdict.YES
    assert confirmation_verdict("les cgu", consent) == Verdict.UNCLEAR  # wants to read them
    assert confirmation_verdict("j'accepte pas les conditions", consent) == Verdict.NO


def test_every_consequential_question_has_its_yes_and_no_intents():
    assert set(CONFIRMATIONS) == {
        QuestionKind.PURCHASE_CONFIRMATION,
        QuestionKind.ERASE_CONFIRMATION,
        QuestionKind.SUSPEND_CONFIRMATION,
        QuestionKind.UNLINK_CONFIRMATION,
        QuestionKind.REVOKE_CONFIRMATION,
        QuestionKind.CONSENT,
    }


@pytest.mark.parametrize(
    "text, expected",
    [
        ("oui", True),
        ("bof", True),
        ("annule", True),
        ("ou est l'agence de kone", False),
        ("c'est quoi mon solde", False),
    ],
)
def test_decision_words(text, expected):
    assert decision_words(text) is expected
