"""FAQ answers read from faq/*.yml at run time.

The trained model only picks WHICH entry a question is about (Rasa retrieval intent `faq/<id>`);
the answer text always comes from the YAML files here, so an editor's fix to an answer is live as
soon as the file is saved: `load_faq()` re-reads the folder whenever a file's mtime/size changes.
Reading and validation (with the line numbers editors need) live in faq_source; this module keeps the
last good version of an entry when an edit breaks it, so a typo never takes an answer offline.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from bot.config import get_settings
from bot.services.assistance import faq_source
from bot.services.assistance.contact import EMAIL_1000, HELP_URL, PAYLOAD_CONTACT_1000, PAYLOAD_HELP, hours_1000
from bot.services.assistance.faq_source import DEFAULT_FAQ_DIR, FaqEntry
from bot.services.i18n import ENGLISH, N_, _, current_language
from bot.services.replies import Button, QuickReply, Reply

log = logging.getLogger(__name__)

# Payloads are Rasa intent messages (see docs/contracts.md, "Conventions").
NEXT_STEPS = (
    QuickReply(N_("Autre question"), PAYLOAD_HELP),
    QuickReply(N_("Appeler le 1000"), PAYLOAD_CONTACT_1000),
)
# Button titles the FAQ files use (faq/*.yml): English conversations show them in English.
FAQ_BUTTON_TITLES = (N_("Site opt.nc"), N_("Aide en ligne"), N_("Prendre rendez-vous"))
# Said before the French answer of an entry that has no `answer_en` yet.
FRENCH_ONLY = N_("Cette réponse n'est disponible qu'en français pour le moment :")


def next_steps() -> list[QuickReply]:
    return [QuickReply(_(q.title), q.payload) for q in NEXT_STEPS]


def _signature(faq_dir: Path) -> tuple[tuple[str, int, int], ...]:
    sig = []
    for path in faq_source.faq_files(faq_dir):
        try:
            st = path.stat()
        except FileNotFoundError:  # removed between listing and stat
            continue
        sig.append((path.name, st.st_mtime_ns, st.st_size))
    return tuple(sig)


@dataclass
class _Loaded:
    signature: tuple[tuple[str, int, int], ...]
    entries: dict[str, FaqEntry]


_cache: dict[Path, _Loaded] = {}
_lock = threading.Lock()


def _resolve_dir(faq_dir: str | os.PathLike[str] | None) -> Path:
    return Path(faq_dir or get_settings().faq_dir or DEFAULT_FAQ_DIR).resolve()


def load_faq(faq_dir: str | os.PathLike[str] | None = None) -> dict[str, FaqEntry]:
    """All valid FAQ entries by id, re-read when any file of the folder changed.

    Cheap when nothing changed (one stat per file). Entries whose file now has a problem keep
    their previous good version; problems are logged (run `python -m bot.tools.faq_check` to see them).
    """
    directory = _resolve_dir(faq_dir)
    signature = _signature(directory)
    with _lock:
        cached = _cache.get(directory)
        if cached is not None and cached.signature == signature:
            return cached.entries
        result = faq_source.check_dir(directory)
        entries = dict(result.entries)
        if cached is not None:
            for entry_id, old in cached.entries.items():
                if entry_id not in entries and old.source in result.files_with_problems:
                    entries[entry_id] = old
        for problem in result.problems:
            log.warning("FAQ: %s", problem)
        log.info("FAQ loaded: %d entries from %s", len(entries), directory)
        _cache[directory] = _Loaded(signature, entries)
        return entries


def titles(faq_dir: str | os.PathLike[str] | None = None) -> dict[str, str]:
    """Entry id → its chip title in the turn's language (the French one where `title_en` is missing)."""
    english = current_language() == ENGLISH
    return {key: (e.title_en if english and e.title_en else e.title) for key, e in load_faq(faq_dir).items()}


def entry_key(entry_id: str) -> str:
    """Accept `code_puk` as well as the response selector's key `faq/code_puk`."""
    return entry_id.split("/", 1)[1] if entry_id.startswith("faq/") else entry_id


def answer_reply(entry_id: str, faq_dir: str | os.PathLike[str] | None = None) -> Reply:
    """The answer of one FAQ entry, with its link buttons and two next-step quick replies."""
    entry = load_faq(faq_dir).get(entry_key(entry_id))
    if entry is None:
        log.warning("FAQ: no entry %r, answering with unknown_reply", entry_id)
        return unknown_reply()
    return Reply(text=answer_text(entry), buttons=_buttons(entry), quick_replies=next_steps())


def answer_text(entry: FaqEntry) -> str:
    """The answer in the turn's language: `answer_en` in English, or the French answer introduced
    by a line saying it exists in French only."""
    if current_language() != ENGLISH:
        return entry.answer
    if entry.answer_en:
        return entry.answer_en
    return _(FRENCH_ONLY) + "\n" + entry.answer


def _buttons(entry: FaqEntry) -> list[Button]:
    """The entry's link buttons; a title the catalogs know ("Aide en ligne") follows the language."""
    return [Button(_(b.title), url=b.url, payload=b.payload) for b in entry.buttons]


def unknown_reply() -> Reply:
    """What to say when no FAQ entry fits: rephrase, web help or a human at the 1000."""
    text = _(
        "Je n'ai pas trouvé de réponse à cette question. Vous pouvez la reformuler avec "
        "d'autres mots, consulter l'aide en ligne, ou joindre un conseiller au 1000 (appel "
        "gratuit depuis une ligne Mobilis, {hours}) ou par "
        "e-mail à {email}."
    ).format(hours=hours_1000(), email=EMAIL_1000)
    return Reply(
        text=text,
        buttons=[Button(_("Aide en ligne"), url=HELP_URL)],
        quick_replies=next_steps(),
    )
