"""Assistance, hand-off and alerts in English (visitors): the main replies inside `speaking("en")`,
the FAQ's optional `answer_en` (or the French answer introduced in English), the agent's summary in
French naming the conversation's language; and the French replies unchanged outside."""

from __future__ import annotations

import json
from datetime import time

from assistance_helpers import AGENCIES_CSV, nc
from sqlalchemy import select

from bot.db import handoff as h
from bot.db.account import Line
from bot.db.alerts import Alert, AlertKind
from bot.db.identity import MessengerLink
from bot.services.alerts import menu
from bot.services.alerts.texts import alert_reply
from bot.services.assistance import contact, faq
from bot.services.assistance.agencies import agencies_reply, load_agencies
from bot.services.assistance.faq_source import check_dir
from bot.services.handoff import escalations, texts
from bot.services.i18n import speaking
from bot.services.language import preference

MONDAY_10H = nc(2026, 11, 23, 10)  # the 1000 is open
FRIDAY_16H = nc(2026, 11, 27, 16)  # closed until Monday 7:30


def titles(reply) -> list[str]:
    return [q.title for q in reply.quick_replies]


def test_contact_1000_in_english_and_french_unchanged():
    french = contact.contact_1000_reply(FRIDAY_16H)
    with speaking("en"):
        english = contact.contact_1000_reply(FRIDAY_16H)
    assert english.text.startswith(
        "Mobilis customer service: call 1000, Monday to Friday, 7:30am to 3:45pm (free from a Mobilis line)."
    )
    assert "The 1000 is closed right now: it reopens on Monday at 7:30am." in english.text
    assert [b.title for b in english.buttons] == ["Online help", "Book appointment"]
    assert titles(english) == ["Find a branch", "Another question"]
    assert french.text.startswith("Service client Mobilis : appelez le 1000, du lundi au vendredi de 7h30 à 15h45 ")
    assert "il rouvre lundi à 7h30." in french.text
    assert contact.contact_1000_reply(FRIDAY_16H) == french
    assert contact.HOURS_1000 == "du lundi au vendredi de 7h30 à 15h45"


def test_agency_in_english():
    agencies = load_agencies(AGENCIES_CSV)
    with speaking("en"):
        reply = agencies_reply("Koné", MONDAY_10H, agencies)
    assert reply.text.startswith("OPT branch Koné: 23 avenue de Koniambo, 98859 Koné.\nPhone: +687 20 22 50.")
    assert "• Monday: 7:45am–3pm" in reply.text and "• Sunday: closed" in reply.text
    assert reply.text.endswith("Hours from OPT's public data, public holidays not included.")
    [card] = reply.cards
    assert card.subtitle.startswith("Open · closes at 3pm\nTelecom adviser:")
    assert [b.title for b in card.buttons] == ["Call 20 22 50", "Directions"]
    assert titles(reply) == ["Book appointment", "Call 1000"]
    french = agencies_reply("Koné", MONDAY_10H, agencies)
    assert "• Lundi : 7h45–15h" in french.text and french.cards[0].subtitle.startswith("Ouvert · ferme à 15h")
    with speaking("en"):
        nothing = agencies_reply("Xyzzy", MONDAY_10H, agencies)
    assert nothing.text.startswith("I found no OPT branch for “Xyzzy”.")


FAQ = """\
- id: code_puk
  category: sim
  title: Code PUK
  title_en: PUK code
  questions:
{questions}
  questions_en:
    - where is my puk code
    - puk code
    - what is a puk
    - phone asks for a puk
    - lost my puk
    - puk pls
  answer: Le code PUK (8 chiffres) est sur le support de votre carte SIM.
  answer_en: The PUK code (8 digits) is on your SIM card holder.
  buttons:
    - title: Aide en ligne
      url: https://www.opt.nc/assistance/aide-reclamation-mobile
  reviewed: 2026-11-27
- id: code_pin
  category: sim
  title: Code PIN
  questions:
{other}
  answer: Le code PIN par défaut est 0000.
  reviewed: 2026-11-27
"""


def _faq(write_faq):
    questions = "\n".join(f"    - question puk numero {i}" for i in range(1, 7))
    other = "\n".join(f"    - question pin numero {i}" for i in range(1, 7))
    write_faq("sim.yml", FAQ.format(questions=questions, other=other))
    return write_faq.folder


def test_faq_serves_answer_en_in_english(write_faq):
    folder = _faq(write_faq)
    result = check_dir(folder)
    assert result.problems == []
    entry = result.entries["code_puk"]
    assert entry.questions_en[:2] == ("where is my puk code", "puk code") and len(entry.questions_en) == 6
    assert entry.answer_en == "The PUK code (8 digits) is on your SIM card holder."
    with speaking("en"):
        reply = faq.answer_reply("code_puk", folder)
    assert reply.text == "The PUK code (8 digits) is on your SIM card holder."
    assert [b.title for b in reply.buttons] == ["Online help"]
    assert titles(reply) == ["Another question", "Call 1000"]
    french = faq.answer_reply("code_puk", folder)
    assert french.text == "Le code PUK (8 chiffres) est sur le support de votre carte SIM."
    assert [b.title for b in french.buttons] == ["Aide en ligne"]
    assert titles(french) == ["Autre question", "Appeler le 1000"]


def test_faq_without_answer_en_says_it_is_french_only(write_faq):
    folder = _faq(write_faq)
    with speaking("en"):
        reply = faq.answer_reply("code_pin", folder)
        unknown = faq.unknown_reply()
    assert reply.text == "This answer is only available in French for now:\nLe code PIN par défaut est 0000."
    assert unknown.text.startswith("I couldn't find an answer to that question.")
    assert faq.answer_reply("code_pin", folder).text == "Le code PIN par défaut est 0000."


def test_faq_chip_titles_follow_the_language(write_faq):
    folder = _faq(write_faq)
    with speaking("en"):
        english = faq.titles(folder)
    assert english == {"code_puk": "PUK code", "code_pin": "Code PIN"}  # no title_en: the French one
    assert faq.titles(folder) == {"code_puk": "Code PUK", "code_pin": "Code PIN"}
    warnings = [w.message for w in check_dir(folder).warnings]
    assert any("« code_pin » sans titre anglais (title_en)" in w for w in warnings), warnings
    path = folder / "sim.yml"
    path.write_text(path.read_text(encoding="utf-8").replace("title_en: PUK code", "title_en: " + "P" * 21))
    assert any("trop long : 21 caractères" in p.message for p in check_dir(folder).problems)


def test_faq_check_reports_a_bad_answer_en(write_faq):
    folder = _faq(write_faq)
    path = folder / "sim.yml"
    path.write_text(path.read_text(encoding="utf-8").replace("  answer_en: The PUK", "  answer_en:\n  x: The PUK"))
    problems = [p.message for p in check_dir(folder).problems]
    assert any("answer_en" in m for m in problems), problems


def test_handoff_replies_in_english():
    with speaking("en"):
        passed = texts.passed_reply(h.MISUNDERSTANDING)
        waiting = texts.out_of_hours_reply(h.USER_REQUEST, FRIDAY_16H)
        failed = texts.pass_failed_reply()
    assert passed.text.startswith("Sorry, I can't quite understand your request. I'm putting you in touch")
    assert "(advisers answer Monday to Friday, 7:30am to 3:45pm (Nouméa time))" in passed.text
    assert "they are back on Monday at 7:30am." in waiting.text and titles(waiting) == ["Another question"]
    assert failed.text.endswith("or e-mail 1000@opt.nc.")
    french = texts.passed_reply(h.MISUNDERSTANDING)
    assert french.text.startswith("Je n'arrive pas à bien comprendre votre demande, désolé. Je vous mets en relation")
    assert "ils reprennent lundi à 7h30." in texts.out_of_hours_reply(h.USER_REQUEST, FRIDAY_16H).text


def test_agents_summary_stays_french_and_names_the_language(session):
    with speaking("en"):
        reply = escalations.request_handoff(session, "visitor", h.USER_REQUEST, ["/show_balance"], MONDAY_10H)
    assert reply.text.startswith("I'm putting you in touch with a Mobilis adviser")
    [escalation] = escalations.list_open_escalations(session)
    assert escalation.summary.splitlines()[:3] == [
        f"Assistant Mobilis – escalade n°{escalation.id}",
        "Langue : anglais",
        "Motif : demande à parler à un conseiller (user_request)",
    ]
    escalations.request_handoff(session, "local", h.USER_REQUEST, [], MONDAY_10H)
    local = escalations.active_escalation(session, "local")
    assert local is not None and "Langue" not in local.summary


def test_alerts_in_english(demo_session, demo_now):
    line = demo_session.scalar(select(Line).where(Line.msisdn == "791234"))
    demo_session.add(MessengerLink(psid="visitor", line_id=line.id, linked_at=demo_now, via="test"))
    demo_session.commit()
    with speaking("en"):
        shown = menu.menu_reply(demo_session, "visitor", line)
        asked = menu.turn_on(demo_session, "visitor", line, "low_credit", None, demo_now)
    assert shown.text.startswith("Your alerts for line …34:\n▫️ Low credit: off")
    assert titles(shown)[0] == "+ Low credit" and titles(shown)[-1] == "At night too"
    assert asked.text == "Low credit: below which amount?" and titles(asked)[0] == "500 XPF"
    assert menu.menu_reply(demo_session, "visitor", line).text.startswith("Vos alertes pour la ligne …34 :")

    params = {"label": "Internet du forfait", "remaining": "1,5 Go", "remaining_mb": 1536, "percent": 90}
    alert = Alert(kind=AlertKind.DATA_USAGE, params=json.dumps(params))
    with speaking("en"):
        english = alert_reply(alert, "791234")
    assert english.text == "Data: 90% of “Plan data” on your line …34 is used (left: 1.5 GB)."
    assert titles(english) == ["Buy a pass", "My alerts", "Stop alerts"]
    french = alert_reply(alert, "791234")
    assert french.text == "Internet : « Internet du forfait » de votre ligne …34 est utilisé à 90 % (reste : 1,5 Go)."


def test_hours_follow_the_language():
    with speaking("en"):
        assert [contact.hhmm(t) for t in (time(7, 30), time(12, 0), time(15, 0), time(0, 5))] == [
            "7:30am",
            "12pm",
            "3pm",
            "12:05am",
        ]
    assert contact.hhmm(time(7, 30)) == "7h30"


class _Inbox:
    """Thread control that records what the agents would read."""

    def __init__(self) -> None:
        self.passed: list[tuple[str, str]] = []

    def pass_thread_control(self, psid: str, metadata: str) -> None:
        self.passed.append((psid, metadata))

    def take_thread_control(self, psid: str, metadata: str) -> None:
        pass


def test_requests_passed_at_opening_name_the_remembered_language(session):
    preference.choose(session, "visitor", "en", FRIDAY_16H)
    escalations.request_handoff(session, "visitor", h.USER_REQUEST, [], FRIDAY_16H)  # out of hours, no turn
    inbox = _Inbox()
    assert escalations.pass_waiting_at_opening(session, inbox, nc(2026, 11, 30, 8)) == ["visitor"]
    [(psid, metadata)] = inbox.passed
    assert psid == "visitor" and "\nLangue : anglais\n" in metadata
