"""Identity and privacy replies in English for visitors (French unchanged outside `speaking("en")`)."""

from identity_helpers import link_by_sms

from bot.services.i18n import speaking
from bot.services.identity import linking
from bot.services.identity.link_results import LinkOutcome
from bot.services.privacy import consent
from bot.services.privacy import erasure as privacy

PSID = "psid-visitor"


def test_asking_the_number_in_english():
    with speaking("en"):
        reply = linking.ask_number_reply()
    assert reply.text.startswith("To check your line, send me your Mobilis number (6 digits")
    assert linking.ask_number_reply().text.startswith("Pour consulter votre ligne, indiquez votre numéro Mobilis")


def test_code_sent_in_english(session, clock, lines, outbox):
    with speaking("en"):
        result = linking.start_linking(session, PSID, "79 12 34", now=clock.now, gateway=outbox)
    assert result.outcome == LinkOutcome.CODE_SENT
    assert "a 6-digit code has just been texted to it" in result.message
    with speaking("en"):
        wrong = linking.verify_code(session, PSID, "000000", now=clock.now)
    assert wrong.message == "That code is wrong. You have 2 tries left."


def test_consent_intro_in_english_says_the_terms_are_in_french():
    with speaking("en"):
        reply = consent.consent_intro_reply()
    assert reply.text.startswith("Hello! I'm Mobilis Assistant, an automated assistant (a bot) from OPT-NC.")
    assert "in French" in reply.text
    assert [b.title for b in reply.buttons] == ["Terms (in French)", "Personal data (FR)"]
    assert [q.title for q in reply.quick_replies] == ["I accept", "Later"]
    french = consent.consent_intro_reply()
    assert french.text.startswith("Bonjour ! Je suis Mobilis Assistant")
    assert [b.url for b in french.buttons] == [b.url for b in reply.buttons]  # same documents
    assert all(len(b.title) <= 20 for b in reply.buttons)


def test_personal_data_summary_in_english(session, clock, lines, outbox):
    consent.record_consent(session, PSID, now=clock.now)
    link_by_sms(session, PSID, "791234", clock, outbox)
    with speaking("en"):
        reply = privacy.personal_data_summary(session, PSID)
    assert reply.text.startswith("Here is what I keep for this Messenger account:")
    assert "• Linked line: 79****" in reply.text
    assert f"version {consent.CGU_VERSION}, on 02/03/2026 at 12:00" in reply.text
    assert [q.title for q in reply.quick_replies] == ["Erase my data", "Linked accounts", "Unlink my line"]
    french = privacy.personal_data_summary(session, PSID)
    assert f"version {consent.CGU_VERSION}, le 02/03/2026 à 12:00" in french.text
