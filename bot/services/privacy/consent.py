"""Consent to the terms of use (CGU): asked once per CGU version, stored with version and time.

The intro follows CNIL chatbot guidance: say it is a bot, and warn against typing sensitive data.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import now_or
from bot.config import get_settings
from bot.db.identity import Consent
from bot.services.dialogue.context import Question, QuestionKind
from bot.services.i18n import _
from bot.services.language.preference import english_offer
from bot.services.replies import Button, QuickReply, Reply

CGU_VERSION = "2026-01"  # bump (or set MOBILIS_CGU_VERSION) when the CGU change: everyone is asked again
DEFAULT_CGU_URL = "https://www.opt.nc/cgu"
DEFAULT_PRIVACY_URL = "https://www.opt.nc/donnees-personnelles"
ACCEPT_PAYLOAD = "/accept_terms"
DECLINE_PAYLOAD = "/decline_terms"


def current_cgu_version() -> str:
    return get_settings().cgu_version or CGU_VERSION


def needs_consent(session: Session, psid: str, version: str | None = None) -> bool:
    """True until this PSID accepted the current (or given) CGU version."""
    version = version or current_cgu_version()
    found = session.scalar(select(Consent.id).where(Consent.psid == psid, Consent.cgu_version == version).limit(1))
    return found is None


def record_consent(session: Session, psid: str, version: str | None = None, now: datetime | None = None) -> Consent:
    """Idempotent: accepting the same version twice keeps the first acceptance time."""
    version = version or current_cgu_version()
    existing = session.scalar(select(Consent).where(Consent.psid == psid, Consent.cgu_version == version))
    if existing is not None:
        return existing
    consent = Consent(psid=psid, cgu_version=version, accepted_at=now_or(now))
    session.add(consent)
    session.flush()
    return consent


def latest_consent(session: Session, psid: str) -> Consent | None:
    return session.scalar(
        select(Consent).where(Consent.psid == psid).order_by(Consent.accepted_at.desc(), Consent.id.desc()).limit(1)
    )


def consent_intro_reply() -> Reply:
    cgu_url, privacy_url = legal_urls()
    return Reply(
        text=_(
            "Bonjour ! Je suis Mobilis Assistant, un assistant automatique (un robot) de l'OPT-NC. "
            "Je peux vous renseigner sur votre offre, votre solde, vos consommations et vos achats.\n"
            "Ne m'écrivez jamais de données sensibles : numéro de carte bancaire, mot de passe, "
            "code confidentiel. Vous pouvez demander à parler à un conseiller à tout moment.\n"
            "Pour continuer, merci d'accepter les conditions d'utilisation."
        ),
        buttons=[
            Button(title=_("Conditions (CGU)"), url=cgu_url),
            Button(title=_("Données personnelles"), url=privacy_url),
        ],
        quick_replies=[
            QuickReply(title=_("J'accepte"), payload=ACCEPT_PAYLOAD),
            QuickReply(title=_("Plus tard"), payload=DECLINE_PAYLOAD),
            *english_offer(),
        ],
        asks=Question(QuestionKind.CONSENT),
    )


def consent_question() -> Reply:
    """The intro's question alone, asked again (same links and chips)."""
    return replace(consent_intro_reply(), text=_("Pour continuer, acceptez-vous les conditions d'utilisation ?"))


def consent_accepted_reply() -> Reply:
    return Reply(text=_("Merci ! Vous pouvez maintenant me poser vos questions sur votre ligne Mobilis."))


def consent_declined_reply() -> Reply:
    return Reply(
        text=_(
            "Pas de souci. Sans votre accord, je ne peux pas relier votre ligne ni consulter vos "
            "informations. Vous pourrez accepter les conditions à tout moment."
        ),
        quick_replies=[QuickReply(title=_("J'accepte"), payload=ACCEPT_PAYLOAD)],
    )


@lru_cache(maxsize=1)
def legal_urls() -> tuple[str, str]:
    """(CGU URL, personal-data notice URL): the `documents` entries "cgu" and "privacy" of
    data/catalogue.yml when present, else the opt.nc defaults."""
    from bot.config import PROJECT_ROOT

    urls = {"cgu": DEFAULT_CGU_URL, "privacy": DEFAULT_PRIVACY_URL}
    path = PROJECT_ROOT / "data" / "catalogue.yml"
    try:
        import yaml

        documents = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("documents") or []
    except Exception:  # missing or broken catalogue: the consent step must still work
        documents = []
    for doc in documents:
        if not isinstance(doc, dict):
            continue
        url = doc.get("url")
        if doc.get("code") in urls and isinstance(url, str) and url.startswith("https://"):
            urls[doc["code"]] = url
    return urls["cgu"], urls["privacy"]
