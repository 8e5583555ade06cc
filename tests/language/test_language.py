"""The conversation's language: read from short chat messages as subscribers and visitors type them,
asked for explicitly, remembered per PSID, shown in "mes données" and erased with the rest."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.db.language import ConversationLanguage, LanguageSource
from bot.services.language import detection
from bot.services.language import preference as lang
from bot.services.privacy import erasure


@pytest.mark.parametrize(
    "text",
    [
        "solde stp",
        "c koi mon forfait",
        "g perdu mon code puk",
        "mon tel a ete vole",
        "internet marche pas",
        "je pars en australie jai le roaming ?",
        "Je voudrais recharger 1000 F",
        "bozu",
        "mes recharges du mois dernier",
        "jveux parler a un conseiller",
        "il me reste combien",
        "ok vas y",
        "ok vas-y",
    ],
)
def test_french_as_typed_is_french(text):
    assert detection.language_of(text) == "fr"


@pytest.mark.parametrize(
    "text",
    [
        "how much data do i have left",
        "is there a mobilis shop at la tontouta",
        "my phone was stolen",
        "where can i buy a sim card",
        "i need more data pls",
        "can i get a top up",
        "thx",
        "cheers mate",
        "what plan am i on",
    ],
)
def test_english_as_typed_is_english(text):
    assert detection.language_of(text) == "en"


@pytest.mark.parametrize(
    "text",
    ["ok", "👍", "4g", "20", "?", "top up", "hello", "help", "tourism card", "internet", "/confirm_purchase"],
)
def test_words_both_languages_use_say_nothing(text):
    assert detection.language_of(text) is None  # the conversation keeps its language


@pytest.mark.parametrize(
    "text, language",
    [
        ("English please", "en"),
        ("in english pls", "en"),
        ("do you speak English?", "en"),
        ("anglais svp", "en"),
        ("en anglais", "en"),
        ("Français", "fr"),
        ("en français stp", "fr"),
        ("french please", "fr"),
        ("je parle anglais mais je veux mon solde", None),
        ("english", "en"),
    ],
)
def test_explicit_requests(text, language):
    assert lang.requested(text) == language


def test_detected_language_follows_the_user_a_chosen_one_stays(session, demo_now):
    assert lang.current(session, "v") == "fr"
    assert lang.observe(session, "v", "ok", demo_now) is None
    change = lang.observe(session, "v", "how much data do i have left", demo_now)
    assert change == lang.Change("fr", "en", chosen=False) and lang.current(session, "v") == "en"
    back = lang.observe(session, "v", "merci beaucoup pour votre aide", demo_now)
    assert back == lang.Change("en", "fr", chosen=False)
    assert lang.observe(session, "v", "English please", demo_now) == lang.Change("fr", "en", chosen=True)
    assert lang.observe(session, "v", "je voudrais mon solde", demo_now) is None  # chosen: kept
    assert lang.current(session, "v") == "en"
    assert lang.observe(session, "v", "francais svp", demo_now) == lang.Change("en", "fr", chosen=True)
    row = session.scalar(select(ConversationLanguage).where(ConversationLanguage.psid == "v"))
    assert (row.language, row.source) == ("fr", LanguageSource.CHOSEN)
    with pytest.raises(ValueError):
        lang.choose(session, "v", "de", demo_now)


def test_the_language_is_personal_data(session, demo_now):
    assert "• Langue de nos échanges : français." in erasure.personal_data_summary(session, "w").text
    lang.choose(session, "w", "en", demo_now)
    session.commit()
    assert "• Langue de nos échanges : anglais (choisie par vous)" in erasure.personal_data_summary(session, "w").text
    assert erasure.erase_personal_data(session, "w").counts["conversation_languages"] == 1
    session.commit()
    assert lang.current(session, "w") == "fr" and session.get(ConversationLanguage, "w") is None


def test_longer_messages_the_word_list_does_not_know_go_to_the_detector():
    pytest.importorskip("lingua")  # installed wherever Python ≥ 3.12 (requirements/app.lock)
    assert detection.from_word_list(detection.plain_words("nouvelle journée ensoleillée")) is None
    assert detection.language_of("nouvelle journée ensoleillée") == "fr"
    assert detection.language_of("beautiful sunny weather outside") == "en"


def test_the_kept_language_is_named_in_the_user_s_language(session, demo_now):
    from bot.services.i18n import speaking

    lang.choose(session, "x", "en", demo_now)
    with speaking("en"):
        assert lang.summary(session, "x") == "English (chosen by you)"
    assert lang.summary(session, "x") == "anglais (choisie par vous)"
