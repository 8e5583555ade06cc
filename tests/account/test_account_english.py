"""Account answers in English for visitors (bot/locale/en/account.po), on the demo data (today =
15/03/2026, now = 12:00 Nouméa); outside `speaking("en")` the French is unchanged."""

from __future__ import annotations

from sqlalchemy import select

from bot.db.account import Line, Notification
from bot.db.identity import MessengerLink
from bot.services.account import consultation as c
from bot.services.account import history
from bot.services.account.line_suspension import (
    QR_1000,
    QR_AGENCY,
    QR_HUMAN,
    cancel_reply,
    failed_reply,
    lost_phone_reply,
    suspend_linked_line,
)
from bot.services.i18n import _, speaking
from bot.services.replies import QUICK_REPLY_TITLE_LIMIT

MARIE = "psid-marie"


def line(session, msisdn) -> Line:
    return session.scalar(select(Line).where(Line.msisdn == msisdn))


def titles(reply) -> list[str]:
    return [_(q.title) for q in reply.quick_replies]  # as the renderers send them


def test_prepaid_balance_in_english_and_french(demo_session, demo_now):
    marie = line(demo_session, "791234")
    with speaking("en"):
        english = c.balance_reply(demo_session, marie, demo_now)
    assert english.text == (
        "Balance of line 79 12 34, Liberté prepaid:\n"
        "• Credit: 2,340 XPF, valid until 23 Jul 2026\n"
        "• SMS: 64, valid until 23 Jul 2026\n"
        "• Data: 612 MB (Data pass 1 GB), valid until 19 Mar 2026"
    )
    assert c.balance_reply(demo_session, marie, demo_now).text.startswith(
        "Solde de la ligne 79 12 34 (prépayé Liberté) :\n• Crédit : 2 340 F, valable jusqu'au 23/07/2026"
    )


def test_credit_warnings_in_english(demo_session, demo_now):
    with speaking("en"):
        expiring = c.balance_reply(demo_session, line(demo_session, "797878"), demo_now).text
        expired = c.balance_reply(demo_session, line(demo_session, "771020"), demo_now).text
        low_data = c.balance_reply(demo_session, line(demo_session, "951177"), demo_now, facet="data")
    assert expiring.endswith("Please note: your credit expires in 5 days, on 20 Mar 2026. Top up to keep it.")
    assert "• SMS: 4, expired on 9 Mar 2026" in expired
    assert "Your credit of 320 XPF expired on 9 Mar 2026. A Recharge Liberté brings it back." in expired
    assert low_data.text.splitlines()[0] == "Data left on line 95 11 77:"
    assert low_data.text.endswith("Data almost used up: only 450 MB left (Tourism Card 25 GB).")
    with speaking("en"):
        assert titles(low_data)[:2] == ["My whole balance", "Buy data"]


def test_offer_and_forfait_usage_in_english(demo_session, demo_now):
    m = line(demo_session, "874512")
    with speaking("en"):
        offer = c.offer_reply(demo_session, m, demo_now).text
        usage = c.usage_reply(demo_session, m, demo_now).text
        tourist = c.offer_reply(demo_session, line(demo_session, "951177"), demo_now).text
    assert offer.splitlines()[:3] == [
        "Your line 87 45 12: Plan M 10 GB — M plan (forfait M).",
        "Price: 3,000 XPF per month.",
        "Includes: 2 h of calls, unlimited SMS, 10 GB of data every month.",
    ]
    assert "Includes: 2,000 XPF credit, 25 GB of data, valid for 90 days." in tourist
    assert usage.splitlines()[:5] == [
        "Usage for line 87 45 12, 3 Mar 2026 to 2 Apr 2026:",
        "• Calls: 1 h 12 min of 2 h",
        "• SMS: 86 (unlimited)",
        "• Data: 9.6 GB of 10 GB, 410 MB left",
        "• TOP UP 1 GB: 1 GB left",
    ]
    assert "Out-of-plan: 2,965 XPF in total" in usage
    assert c.usage_reply(demo_session, m, demo_now).text.splitlines()[0] == (
        "Consommation de la ligne 87 45 12 du 03/03/2026 au 02/04/2026 :"
    )


def test_prepaid_usage_of_last_month_in_english(demo_session, demo_now):
    marie = line(demo_session, "791234")
    with speaking("en"):
        month = c.usage_reply(demo_session, marie, demo_now, months_back=1).text
        data = c.usage_reply(demo_session, marie, demo_now, facet="data").text
    assert month.splitlines()[0] == "Your usage in February 2026 (line 79 12 34):"
    assert data.splitlines()[0] == "Data usage over the last 30 days (line 79 12 34):"
    french = c.usage_reply(demo_session, marie, demo_now, months_back=1).text
    assert french.splitlines()[0] == "Vos consommations de février 2026 (ligne 79 12 34) :"


def test_purchase_history_in_english(demo_session, demo_now):
    marie = line(demo_session, "791234")
    with speaking("en"):
        first = history.purchases_reply(demo_session, marie, demo_now)
        yesterday = history.purchases_reply(demo_session, marie, demo_now, period="d1")
        thursday = history.purchases_reply(demo_session, marie, demo_now, period="w3")
        wrong = history.purchases_reply(demo_session, marie, demo_now, product_type="forfait", month="13")
        last_month = history.purchases_reply(demo_session, marie, demo_now, product_type="RL", period="m0")
        first_titles = titles(first)
    assert first.text == "Your purchases over the last 3 months: 16 (page 1/2)."
    assert first.cards[0].subtitle == "12 Mar 2026 · 1,000 XPF · credit · successful"
    assert first.cards[0].title == "Data pass 1 GB"  # the catalogue's name_en; the database keeps the French
    assert first_titles[0] == "See more"
    assert yesterday.text == "No purchases yesterday (14 Mar 2026) on line 79 12 34."
    assert thursday.text == "Your purchases on Thursday 12 Mar 2026: 1."
    assert wrong.text.splitlines()[:2] == [
        "I don't know the purchase type “forfait”: here are all your purchases.",
        "I didn't understand the month “13”: here are all your purchases.",
    ]
    assert last_month.text == "No purchases (Recharge Liberté) this month (March 2026) on line 79 12 34."
    assert history.purchases_reply(demo_session, marie, demo_now, period="d1").text == (
        "Aucun achat d'hier (14/03/2026) sur la ligne 79 12 34."
    )


def test_notifications_and_documents_in_english(demo_session, demo_now):
    with speaking("en"):
        notes = c.notifications_reply(demo_session, line(demo_session, "874512"), demo_now).text.splitlines()
        again = c.notifications_reply(demo_session, line(demo_session, "874512"), demo_now).text
        docs = c.documents_reply().text
    assert notes[0] == "You have 2 unread notifications:"
    assert notes[1].startswith("• [New] 11 Mar 2026 — Internet mobile: ")
    assert again.startswith("No new notifications. The latest ones:") and "[New]" not in again
    assert docs.startswith("Mobilis contract documents (in French):")
    assert "• Terms of use of the mobile service" in docs
    assert notes[-1] == "Mobilis writes its notifications in French."
    assert "Mobilis writes" not in c.notifications_reply(demo_session, line(demo_session, "874512"), demo_now).text


def test_lost_phone_and_suspension_in_english(demo_session, demo_now):
    marie = line(demo_session, "791234")
    demo_session.add(MessengerLink(psid=MARIE, line_id=marie.id, linked_at=demo_now, via="test"))
    demo_session.flush()
    with speaking("en"):
        offer = lost_phone_reply(demo_session, MARIE)
        offer_titles = titles(offer)
        done = suspend_linked_line(demo_session, MARIE, now=demo_now)
        fixed_titles = [_(q.title) for q in (QR_AGENCY, QR_1000, QR_HUMAN)]
        failed, cancelled = failed_reply(), cancel_reply()
    assert offer.text.startswith(
        "Sorry about that. So that nobody can use your line, I can suspend it right away (line 79 12 34)."
    )
    assert "report it to the police or gendarmerie with the phone's IMEI number" in offer.text
    assert offer.text.endswith("Do you want to suspend the line now?")
    assert offer_titles == ["Suspend the line", "No thanks"]
    assert done.text.startswith("Done: line 79 12 34 has been suspended since 15 Mar 2026, 12:00.")
    assert fixed_titles == ["Find a branch", "Call 1000", "Talk to a person"]
    assert failed.text.startswith("I couldn't suspend the line for now") and cancelled.text.startswith("OK, I won't")
    note = demo_session.scalar(
        select(Notification).where(Notification.line_id == marie.id).order_by(Notification.id.desc()).limit(1)
    )
    assert note.title == "Line suspended (lost or stolen)"  # written in the language of the turn
    assert cancel_reply().text.startswith("D'accord, je ne suspends pas la ligne.")
    with speaking("en"):
        assert "Monday to Friday, 7:30am to 3:45pm" in lost_phone_reply(demo_session, "psid-nobody").text


def test_english_chip_titles_fit_messenger():
    from babel.messages.pofile import read_po

    from bot.services.i18n import LOCALE_DIR

    chips = {
        "Tout mon solde",
        "Acheter internet",
        "Tous mes achats",
        "Voir plus",
        "Suspendre la ligne",
        "Non merci",
        "Trouver une agence",
        "Appeler le 1000",
        "Un conseiller",
        "Réessayer",
    }
    with (LOCALE_DIR / "en" / "account.po").open("rb") as handle:
        english = {m.id: m.string for m in read_po(handle) if m.id in chips}
    assert set(english) == chips
    assert all(0 < len(title) <= QUICK_REPLY_TITLE_LIMIT for title in english.values()), english
