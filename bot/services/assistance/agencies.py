"""OPT agencies: search by commune or name, opening hours in New Caledonia time, reply cards.

Data: data/agences.csv, produced by bot/tools/agencies_clean.py from OPT-NC's open data (2021
snapshot, MIT). Some agencies have no weekday hours in the source (`hours_incomplete`): for
them, a day without hours is "à confirmer auprès du 1000", never "fermé". Public holidays are
not modelled. Search is tolerant to case, accents and small typos (stdlib difflib).
"""

from __future__ import annotations

import csv
import functools
import json
import os
import re
import threading
import unicodedata
from dataclasses import dataclass
from datetime import datetime, time
from difflib import SequenceMatcher, get_close_matches
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote_plus

from bot.clock import now_or
from bot.config import PROJECT_ROOT, get_settings
from bot.services.assistance.contact import (
    DAY_NAMES,
    PAYLOAD_APPOINTMENT,
    PAYLOAD_CONTACT_1000,
    PAYLOAD_FIND_AGENCY,
    hhmm,
)
from bot.services.fr_format import to_noumea
from bot.services.i18n import N_, _
from bot.services.replies import (
    BUTTON_TITLE_LIMIT,
    ELEMENT_TEXT_LIMIT,
    GENERIC_ELEMENT_LIMIT,
    Button,
    Card,
    QuickReply,
    Reply,
    cut,
)

DEFAULT_CSV = PROJECT_ROOT / "data" / "agences.csv"
DAY_COLUMNS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TO_CONFIRM = N_("à confirmer auprès du 1000")
POPULAR_COMMUNES = ("Nouméa", "Dumbéa", "Mont-Dore", "Païta", "Koné", "Lifou")

# Words that say "agency" or "when" but never which one.
STOPWORDS = {
    "a",
    "agence",
    "agences",
    "annexe",
    "opt",
    "poste",
    "bureau",
    "de",
    "du",
    "des",
    "la",
    "le",
    "les",
    "au",
    "aux",
    "en",
    "et",
    "ou",
    "est",
    "sur",
    "dans",
    "pour",
    "pres",
    "quel",
    "quelle",
    "quels",
    "quelles",
    "horaire",
    "horaires",
    "ouvert",
    "ouverte",
    "ouverture",
    "ouvre",
    "ferme",
    "fermee",
    "adresse",
    "mobilis",
    "trouver",
    "cherche",
    "plus",
    "proche",
    "svp",
    "stp",
    "mon",
    "ma",
    "mes",
    "je",
    "il",
    "qu",
    "que",
    "aujourd",
    "hui",
    "demain",
    "heure",
    "heures",
    "numero",
    "telephone",
    "tel",
    "l",
    "d",
    "c",
    "y",
    "t",
    "ya",
    "vers",
}
# Extra words people use for some agencies (by agency id).
ALIASES = {
    "noumea-agence-principale": "centre ville centreville",
    "agence-entreprises": "entreprise professionnel professionnels pro pros",
    "tontouta-aeroport": "aeroport la tontouta",
}


@dataclass(frozen=True)
class Agency:
    id: str
    name: str
    kind: str  # "Agence" or "Annexe"
    commune: str
    address: str
    postcode: str
    town: str
    phone: str  # "+687 20 22 50", a short number ("1016") or ""
    hours: tuple[tuple[tuple[time, time], ...], ...]  # 7 days, Monday first; () = closed
    hours_incomplete: bool  # the source gives no weekday hours: unknown ≠ closed
    business_only: bool
    has_conseiller_telecom: bool
    has_conseiller_polyvalent: bool
    has_conseiller_financier: bool
    has_dab: bool  # cash machine inside or outside
    notes: str = ""

    @property
    def tel_url(self) -> str | None:
        digits = re.sub(r"\D", "", self.phone)
        return f"tel:+{digits}" if self.phone.startswith("+") else None


def _parse_day(text: str) -> tuple[tuple[time, time], ...]:
    spans = []
    for part in text.split():
        start, _sep, end = part.partition("-")
        spans.append((time.fromisoformat(start), _end_time(end)))
    return tuple(spans)


def _end_time(text: str) -> time:
    return time.max if text == "24:00" else time.fromisoformat(text)


def _row_to_agency(row: dict[str, str]) -> Agency:
    def yes(name: str) -> bool:
        return bool(row.get(name, "").strip().lower() == "true")

    return Agency(
        id=row["id"],
        name=row["name"],
        kind=row["kind"],
        commune=row["commune"],
        address=row["address"],
        postcode=row["postcode"],
        town=row["town"],
        phone=row["phone"],
        hours=tuple(_parse_day(row[col]) for col in DAY_COLUMNS),
        hours_incomplete=yes("hours_incomplete"),
        business_only=yes("business_only"),
        has_conseiller_telecom=yes("has_conseiller_telecom"),
        has_conseiller_polyvalent=yes("has_conseiller_polyvalent"),
        has_conseiller_financier=yes("has_conseiller_financier"),
        has_dab=yes("has_dab_interne") or yes("has_dab_externe"),
        notes=row.get("notes", ""),
    )


_cache: dict[Path, tuple[tuple[int, int], list[Agency]]] = {}
_lock = threading.Lock()


def load_agencies(path: str | os.PathLike[str] | None = None) -> list[Agency]:
    """Agencies from the cleaned CSV, re-read when the file changes."""
    csv_path = Path(path or get_settings().agencies_csv or DEFAULT_CSV).resolve()
    st = csv_path.stat()
    signature = (st.st_mtime_ns, st.st_size)
    with _lock:
        cached = _cache.get(csv_path)
        if cached and cached[0] == signature:
            return cached[1]
        with open(csv_path, encoding="utf-8", newline="") as fh:
            agencies = [_row_to_agency(row) for row in csv.DictReader(fh)]
        _cache[csv_path] = (signature, agencies)
        return agencies


# --- search -------------------------------------------------------------------------------


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^a-z0-9]+", " ", bare).split())


def _tokens(text: str) -> list[str]:
    return [t for t in _plain(text).split() if len(t) > 1 and t not in STOPWORDS]


@dataclass(frozen=True)
class _Index:
    tokens: frozenset[str]
    specific: frozenset[str]  # tokens that are not the commune's (site name, aliases)


@lru_cache(maxsize=1024)
def _index(agency: Agency) -> _Index:
    commune = set(_tokens(agency.commune)) | {_plain(agency.commune).replace(" ", "")}
    own = set(_tokens(agency.name)) | set(_tokens(ALIASES.get(agency.id, "")))
    own.add(_plain(agency.name).replace(" ", ""))
    return _Index(frozenset(commune | own), frozenset(own - commune))


def _similarity(query: str, token: str) -> float:
    if query == token:
        return 1.0
    if len(query) >= 3 and token.startswith(query):
        return 0.9  # "noum", "dumb": typed the start of the word
    if len(query) >= 4 and len(token) >= 4:
        ratio = SequenceMatcher(None, query, token).ratio()
        if ratio >= 0.8:  # one or two letters wrong: "nouma", "bourial"
            return 0.9 * ratio
    return 0.0


def _score(query_tokens: list[str], agency: Agency) -> float:
    index = _index(agency)
    total, specific = 0.0, False
    for qt in query_tokens:
        best, token = max(((_similarity(qt, t), t) for t in index.tokens), default=(0.0, ""))
        total += best
        specific = specific or (best > 0 and token in index.specific)
    if agency.business_only and not specific:
        return 0.0  # the business agency only when asked for ("agence entreprises")
    return total / len(query_tokens)


def search(query: str, agencies: list[Agency] | None = None) -> list[Agency]:
    """Agencies matching a commune or an agency name, best first (empty list if none).

    Every word of the query counts: "dumbea koutio" gives Koutio only, "dumbea" all three.
    """
    agencies = load_agencies() if agencies is None else agencies
    query_tokens = _tokens(query)
    if not query_tokens:
        return []
    scored = [(_score(query_tokens, a), a) for a in agencies]
    scored = [(s, a) for s, a in scored if s > 0]
    if not scored:
        return []
    best = max(s for s, _ in scored)
    kept = [(s, a) for s, a in scored if s >= best - 0.05]
    kept.sort(key=lambda sa: (-round(sa[0], 2), sa[1].hours_incomplete, sa[1].kind != "Agence", _plain(sa[1].name)))
    return [a for _, a in kept]


def communes(agencies: list[Agency] | None = None) -> list[str]:
    agencies = load_agencies() if agencies is None else agencies
    return sorted({a.commune for a in agencies}, key=_plain)


def closest_communes(query: str, agencies: list[Agency] | None = None, n: int = 3) -> list[str]:
    """Communes whose name looks like the query (or one of its words), for "did you mean"."""
    names = {_plain(c): c for c in communes(agencies)}
    found: list[str] = []
    for candidate in [_plain(query), *_tokens(query)]:
        for key in get_close_matches(candidate, names, n=n, cutoff=0.6):
            if names[key] not in found:
                found.append(names[key])
    return found[:n]


# --- opening hours ------------------------------------------------------------------------


def _local(at: datetime | None) -> datetime:
    return to_noumea(now_or(at))


def is_open(agency: Agency, at: datetime | None = None) -> bool | None:
    """Open at this instant? None when the source does not say (hours to confirm)."""
    local = _local(at)
    spans = agency.hours[local.weekday()]
    if not spans and agency.hours_incomplete:
        return None
    now = local.time()
    return any(start <= now < end for start, end in spans)


def _spans_text(spans: tuple[tuple[time, time], ...]) -> str:
    return ", ".join(f"{hhmm(s)}–{hhmm(e) if e != time.max else _('24h')}" for s, e in spans)


def hours_today(agency: Agency, at: datetime | None = None) -> str:
    """ "7h45–15h", "7h45–11h15, 12h15–15h", "fermé" or "à confirmer auprès du 1000"."""
    spans = agency.hours[_local(at).weekday()]
    if spans:
        return _spans_text(spans)
    return _(TO_CONFIRM) if agency.hours_incomplete else _("fermé")


def week_hours(agency: Agency) -> list[tuple[str, str]]:
    """[("Lundi", "7h45–15h"), …, ("Dimanche", "fermé")]."""
    result = []
    for name, spans in zip(DAY_NAMES, agency.hours):
        text = _spans_text(spans) if spans else (_(TO_CONFIRM) if agency.hours_incomplete else _("fermé"))
        result.append((_(name).capitalize(), text))
    return result


def status_text(agency: Agency, at: datetime | None = None) -> str:
    """Short status for a card: open and until when, or when it opens next."""
    local = _local(at)
    state = is_open(agency, local)
    if state is None:
        return _("Horaires à confirmer auprès du 1000")
    now = local.time()
    if state:
        end = next(e for s, e in agency.hours[local.weekday()] if s <= now < e)
        return _("Ouvert · ferme à {time}").format(time=hhmm(end))
    for offset in range(8):
        day = (local.weekday() + offset) % 7
        spans = agency.hours[day]
        if not spans and agency.hours_incomplete:
            break  # unknown day: do not guess further
        for start, _end in spans:
            if offset == 1:
                return _("Fermé · ouvre demain à {time}").format(time=hhmm(start))
            if offset:
                return _("Fermé · ouvre {day} à {time}").format(day=_(DAY_NAMES[day]), time=hhmm(start))
            if start > now:
                return _("Fermé · ouvre à {time}").format(time=hhmm(start))
    if agency.hours_incomplete:
        return _("Fermé · autres horaires à confirmer (1000)")
    return _("Fermé")


# --- replies --------------------------------------------------------------------------------


def _find_payload(query: str) -> str:
    return PAYLOAD_FIND_AGENCY + json.dumps({"agency_query": query}, ensure_ascii=False)


def _maps_url(agency: Agency) -> str:
    street = "" if agency.address.lower().startswith("lot") else agency.address
    where = " ".join(p for p in ("OPT", agency.name, street, agency.postcode, agency.commune) if p)
    return "https://www.google.com/maps/search/?api=1&query=" + quote_plus(where + ", Nouvelle-Calédonie")


def agency_card(agency: Agency, at: datetime | None = None) -> Card:
    advisor = _("Conseiller télécom : oui") if agency.has_conseiller_telecom else _("Conseiller télécom : non")
    head = f"{status_text(agency, at)}\n{advisor}\n"
    subtitle = head + cut(agency.address, max(ELEMENT_TEXT_LIMIT - len(head), 0))
    buttons = []
    if agency.tel_url:
        buttons.append(
            Button(cut(_("Appeler {number}").format(number=agency.phone[5:]), BUTTON_TITLE_LIMIT), url=agency.tel_url)
        )
    buttons.append(Button(_("Itinéraire"), url=_maps_url(agency)))
    return Card(
        title=cut(agency.name, ELEMENT_TEXT_LIMIT), subtitle=cut(subtitle, ELEMENT_TEXT_LIMIT), buttons=tuple(buttons)
    )


def _next_steps() -> list[QuickReply]:
    return [
        QuickReply(_("Prendre rendez-vous"), PAYLOAD_APPOINTMENT),
        QuickReply(_("Appeler le 1000"), PAYLOAD_CONTACT_1000),
    ]


def agencies_reply(query: str, now: datetime | None = None, agencies: list[Agency] | None = None) -> Reply:
    """Cards for the agencies matching `query`, or a helpful answer when none does."""
    agencies = load_agencies() if agencies is None else agencies
    if not _tokens(query):
        return Reply(
            text=_("Dans quelle commune cherchez-vous une agence OPT ?"),
            quick_replies=[QuickReply(c, _find_payload(c)) for c in POPULAR_COMMUNES],
        )
    found = search(query, agencies)
    if not found:
        return _nothing_found(query, agencies)
    shown = found[:GENERIC_ELEMENT_LIMIT]
    if len(found) == 1:
        agency = found[0]
        lines = [
            _("Agence OPT {name} : {address}, {postcode} {town}.").format(
                name=agency.name, address=agency.address, postcode=agency.postcode, town=agency.town
            )
        ]
        if agency.phone:
            lines.append(_("Téléphone : {phone}.").format(phone=agency.phone))
        lines.append(_("Horaires :"))
        lines.extend(_("• {day} : {hours}").format(day=day, hours=text) for day, text in week_hours(agency))
        text = "\n".join(lines)
    elif len(found) > GENERIC_ELEMENT_LIMIT:
        text = _(
            "J'ai trouvé {count} agences OPT pour « {query} » ; voici les {limit} premières, "
            "précisez le quartier pour affiner."
        ).format(count=len(found), query=query.strip(), limit=GENERIC_ELEMENT_LIMIT)
    else:
        text = _("J'ai trouvé {count} agences OPT pour « {query} ».").format(count=len(found), query=query.strip())
    if any(a.hours_incomplete for a in shown):
        text += "\n" + _("Certains horaires manquent dans nos données : à confirmer auprès du 1000.")
    text += "\n" + _("Horaires issus des données publiques de l'OPT, hors jours fériés.")
    return Reply(text=text, cards=[agency_card(a, now) for a in shown], quick_replies=_next_steps())


def _nothing_found(query: str, agencies: list[Agency]) -> Reply:
    suggestions = closest_communes(query, agencies)
    text = _("Je n'ai trouvé aucune agence OPT pour « {query} ».").format(query=query.strip())
    if suggestions:
        names = functools.reduce(lambda a, b: _("{first} ou {second}").format(first=a, second=b), suggestions)
        text += " " + _("Vouliez-vous dire {communes} ?").format(communes=names)
    text += "\n" + _("Communes qui ont une agence : {communes}.").format(communes=", ".join(communes(agencies)))
    quick = [QuickReply(cut(c, 20), _find_payload(c)) for c in suggestions]
    quick.append(QuickReply(_("Appeler le 1000"), PAYLOAD_CONTACT_1000))
    return Reply(text=text, quick_replies=quick)


__all__ = [
    "Agency",
    "agencies_reply",
    "agency_card",
    "closest_communes",
    "communes",
    "hours_today",
    "is_open",
    "load_agencies",
    "search",
    "status_text",
    "week_hours",
]
