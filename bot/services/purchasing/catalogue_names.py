"""Names that come from data, in the language of the turn.

Offers, products, documents and the operator's balance names are data: the database and the
operator keep them in French, and the translation is looked up in data/catalogue.yml (`name_en`,
`description_en`, `title_en`, `label_en`, `url_en`, `names_en` for English) when the reply is
written. A text the catalogue does not translate is shown as it is, as the FAQ does.
"""

from __future__ import annotations

import logging

from bot.services.i18n import FRENCH, current_language
from bot.services.purchasing.catalogue import CatalogueError, DocumentSpec, load_catalogue

log = logging.getLogger(__name__)


def shown(text: str) -> str:
    """`text` (a name or description kept in French) as the turn's language shows it."""
    language = current_language()
    if not text or language == FRENCH:
        return text
    try:
        translations = load_catalogue().translations.get(language, {})
    except CatalogueError:
        log.exception("catalogue unreadable: names stay in French")
        return text
    return translations.get(text.strip(), text)


def document_url(document: DocumentSpec) -> str:
    """The document's address in the turn's language, where OPT publishes one."""
    return document.urls.get(current_language(), document.url)


def documents_in_french(documents: list[DocumentSpec]) -> bool:
    """Does a speaker of another language get some of these documents in French only?"""
    language = current_language()
    return language != FRENCH and any(language not in d.urls for d in documents)
