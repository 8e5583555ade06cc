"""Consent: stored with version and time, asked again when the CGU version changes."""

from datetime import timedelta

from sqlalchemy import select

from bot.db.identity import Consent
from bot.services.i18n import speaking
from bot.services.privacy import consent


def test_needs_consent_until_recorded(session, clock):
    assert consent.needs_consent(session, "psid-1")
    row = consent.record_consent(session, "psid-1", now=clock.now)
    assert row.cgu_version == consent.CGU_VERSION and row.accepted_at == clock.now
    assert not consent.needs_consent(session, "psid-1")
    assert consent.needs_consent(session, "psid-2")  # per PSID


def test_record_is_idempotent_and_keeps_first_time(session, clock):
    first = consent.record_consent(session, "p", now=clock.now)
    again = consent.record_consent(session, "p", now=clock.now + timedelta(days=1))
    assert again.id == first.id and again.accepted_at == clock.now
    assert len(session.scalars(select(Consent)).all()) == 1


def test_new_cgu_version_asks_again(session, clock, set_env):
    consent.record_consent(session, "p", now=clock.now)
    set_env("MOBILIS_CGU_VERSION", "2026-09")
    assert consent.current_cgu_version() == "2026-09"
    assert consent.needs_consent(session, "p")
    consent.record_consent(session, "p", now=clock.now)
    assert not consent.needs_consent(session, "p")
    assert consent.latest_consent(session, "p").cgu_version == "2026-09"
    # Both acceptances are kept: the history shows which text was accepted when.
    assert sorted(session.scalars(select(Consent.cgu_version)).all()) == [consent.CGU_VERSION, "2026-09"]


def test_explicit_version(session, clock):
    consent.record_consent(session, "p", version="2025-06", now=clock.now)
    assert consent.needs_consent(session, "p")
    assert not consent.needs_consent(session, "p", version="2025-06")


def test_intro_says_bot_warns_and_offers_choice():
    reply = consent.consent_intro_reply()
    assert "robot" in reply.text and "carte bancaire" in reply.text
    assert len(reply.text) <= 640  # button template text limit
    urls = [b.url for b in reply.buttons]
    assert all(u.startswith("https://www.opt.nc/") for u in urls) and len(urls) == 2
    assert all(len(b.title) <= 20 for b in reply.buttons)
    assert [(q.title, q.payload) for q in reply.quick_replies] == [
        ("J'accepte", "/accept_terms"),
        ("Plus tard", "/decline_terms"),
        ("English", "/switch_language"),  # a visitor's "hello" is answered in French first
    ]
    with speaking("en"):
        english = consent.consent_intro_reply()
    assert [q.payload for q in english.quick_replies] == ["/accept_terms", "/decline_terms"]


def test_declined_reply_offers_to_accept_later():
    reply = consent.consent_declined_reply()
    assert reply.quick_replies[0].payload == consent.ACCEPT_PAYLOAD


def test_legal_urls_from_catalogue_or_defaults(tmp_path, monkeypatch):
    import bot.config

    monkeypatch.setattr(bot.config, "PROJECT_ROOT", tmp_path)
    consent.legal_urls.cache_clear()
    try:
        assert consent.legal_urls() == (consent.DEFAULT_CGU_URL, consent.DEFAULT_PRIVACY_URL)
        (tmp_path / "data").mkdir()
        (tmp_path / "data" / "catalogue.yml").write_text(
            "documents:\n  - {code: cgu, url: 'https://www.opt.nc/x-cgu'}\n"
            "  - {code: privacy, url: 'http://insecure.example'}\n",
            encoding="utf-8",
        )
        consent.legal_urls.cache_clear()
        assert consent.legal_urls() == ("https://www.opt.nc/x-cgu", consent.DEFAULT_PRIVACY_URL)
    finally:
        consent.legal_urls.cache_clear()
