"""Clean OPT-NC's open-data list of agencies into data/agences.csv (re-runnable).

Usage: python -m bot.tools.agencies_clean [source.csv] [output.csv]
Defaults: /work/shared/data/opt-nc-agences/agences.csv → data/agences.csv; also copies the
source's LICENSE (MIT, © OPT Nouvelle-Calédonie) to data/agences.LICENSE next to the output.

What it does, and why:
- keeps only customer sites (type Agence or Annexe); drops postal sorting centres (Cdc/Ctc),
  closed sites (FERMEE anywhere in the name, site or hours) and the non-telecom desks listed in
  NOT_FOR_SUBSCRIBERS (accounting vault, stamp counter): none of them serves a Mobilis customer;
- names "Agence de NOUMEA SUD N'GEA" → "Nouméa Sud N'Géa", with the commune split out and
  written the French way (Koné, Païta, Maré, Île des Pins…; Tontouta belongs to Païta);
- phones "202250" → "+687 20 22 50" (short numbers such as 1016 kept as is);
- hours `LU : 07:45-12:00/12:00-15:00` → one column per day, contiguous ranges merged
  ("07:45-15:00"), several ranges separated by a space, "" when closed (`00:00-00:00` or empty);
- `hours_incomplete=true` when the source gives no weekday hours at all (some Nouméa agencies
  list only Saturday, some list nothing): the bot then says "horaires à confirmer auprès du
  1000" instead of "fermé";
- 0/1 flags → true/false; provenance kept per row (source object id, global id, last edit).
The script prints what it dropped and flagged, so a new snapshot can be reviewed quickly.
"""

from __future__ import annotations

import csv
import re
import sys
import unicodedata
from pathlib import Path
from typing import Any

from bot.config import PROJECT_ROOT

DEFAULT_SOURCE = Path("/work/shared/data/opt-nc-agences/agences.csv")
DEFAULT_OUTPUT = PROJECT_ROOT / "data" / "agences.csv"
SOURCE_NAME = "OPT-NC open data, agences.csv (snapshot 2021, MIT licence, © OPT Nouvelle-Calédonie)"

PROVENANCE = """\
{output} is derived from {source},
cleaned by bot/tools/agencies_clean.py (closed sites, postal sorting centres and non-telecom desks
removed; names, phones and opening hours normalised; provenance columns source_*).
The original licence follows, unchanged.

"""
KEEP_TYPES = {"Agence", "Annexe"}
NOT_FOR_SUBSCRIBERS = {
    "AGENCE COMPTABLE - CAVEAU": "agence comptable interne, sans accueil du public",
    "Agence philatélique": "guichet philatélique (timbres), pas de service télécom",
}
DAYS = ("LU", "MA", "ME", "JE", "VE", "SA", "DI")
DAY_COLUMNS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
FLAGS = (
    "has_conseiller_telecom",
    "has_conseiller_polyvalent",
    "has_conseiller_financier",
    "has_conseiller_postal",
    "has_dab_interne",
    "has_dab_externe",
)
COLUMNS = (
    "id",
    "name",
    "kind",
    "commune",
    "address",
    "postcode",
    "town",
    "province",
    "phone",
    *DAY_COLUMNS,
    "hours_incomplete",
    "business_only",
    *FLAGS,
    "notes",
    "source_object_id",
    "source_global_id",
    "source_last_edited",
)

# Communes of New Caledonia written the French way; keys are accent-free, upper case.
COMMUNES = {
    "BELEP": "Bélep",
    "BOULOUPARIS": "Boulouparis",
    "BOURAIL": "Bourail",
    "CANALA": "Canala",
    "DUMBEA": "Dumbéa",
    "FARINO": "Farino",
    "HIENGHENE": "Hienghène",
    "HOUAILOU": "Houaïlou",
    "L ILE DES PINS": "Île des Pins",
    "ILE DES PINS": "Île des Pins",
    "KAALA GOMEN": "Kaala-Gomen",
    "KONE": "Koné",
    "KOUAOUA": "Kouaoua",
    "KOUMAC": "Koumac",
    "LA FOA": "La Foa",
    "LIFOU": "Lifou",
    "MARE": "Maré",
    "MOINDOU": "Moindou",
    "MONT DORE": "Mont-Dore",
    "LE MONT DORE": "Mont-Dore",
    "NOUMEA": "Nouméa",
    "OUEGOA": "Ouégoa",
    "OUVEA": "Ouvéa",
    "PAITA": "Païta",
    "POINDIMIE": "Poindimié",
    "PONERIHOUEN": "Ponérihouen",
    "POUEBO": "Pouébo",
    "POUEMBOUT": "Pouembout",
    "POUM": "Poum",
    "POYA": "Poya",
    "SARRAMEA": "Sarraméa",
    "THIO": "Thio",
    "TOUHO": "Touho",
    "VOH": "Voh",
    "YATE": "Yaté",
}
# Places that are not communes themselves (the site keeps its own name).
PLACE_COMMUNE = {"TONTOUTA": "Païta"}
# Words whose accents or case the upper-case source lost.
WORDS = {
    "WE": "Wé",
    "CHEPENEHE": "Chépénéhé",
    "NEPOUI": "Népoui",
    "FAYAOUE": "Fayaoué",
    "COULEE": "Coulée",
    "FRANCAIS": "Français",
    "VALLEE": "Vallée",
    "RIVIERE": "Rivière",
    "SALEE": "Salée",
    "N'GEA": "N'Géa",
    "AEROPORT": "Aéroport",
    "ILE": "Île",
    "ALLEE": "allée",
    "PRINCIPALE": "principale",
    "JOSE": "José",
    "N°1": "n°1",
    "PIE": "pie",
}
SMALL_WORDS = {"de", "des", "du", "la", "le", "les", "d", "l", "et", "sur"}
STREET_WORDS = {
    "rue",
    "avenue",
    "route",
    "impasse",
    "allée",
    "lot",
    "village",
    "territoriale",
    "corniche",
    "boulevard",
    "promenade",
    "quai",
    "place",
    "chemin",
}
PROVINCES = {"SUD": "Sud", "NORD": "Nord", "ILES": "Îles"}
RANGE_RE = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


def plain(text: str) -> str:
    """Upper case, accents and punctuation removed (apostrophes and hyphens become spaces)."""
    decomposed = unicodedata.normalize("NFKD", text.upper())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^A-Z0-9]+", " ", bare).split())


def slug(text: str) -> str:
    return plain(text).lower().replace(" ", "-")


def nice_word(word: str, first: bool, street: bool) -> str:
    """One source word in French casing; words with digits or mixed case are left alone."""
    if word.upper() in WORDS:
        value = WORDS[word.upper()]
        return value[0].upper() + value[1:] if first else value
    if any(ch.isdigit() for ch in word) or not word.isupper():
        low = word.lower()
        if not any(ch.isdigit() for ch in word) and (low in SMALL_WORDS or low in STREET_WORDS):
            return word if first else low
        return word
    low = word.lower()
    if not first and (low in SMALL_WORDS or (street and low in STREET_WORDS)):
        return low
    # Hyphenated and apostrophe words: Mont-Dore, N'Géa.
    return re.sub(r"[^\W\d_]+", lambda m: m.group(0).capitalize(), low)


def nice(text: str, street: bool = False) -> str:
    words = text.split()
    return " ".join(nice_word(w, i == 0, street) for i, w in enumerate(words))


def split_commune(site: str, town: str) -> tuple[str, str]:
    """Site → (commune, display name).

    'MONT-DORE LA COULEE' → ('Mont-Dore', 'Mont-Dore La Coulée'); 'TONTOUTA AEROPORT' →
    ('Païta', 'Tontouta Aéroport'); a site without a known commune takes the town's.
    """
    key = plain(site)
    for prefix in sorted(COMMUNES, key=len, reverse=True):
        if key == prefix or key.startswith(prefix + " "):
            wanted, seen, rest = len(prefix.split()), 0, []
            for token in site.split():  # keep the original tokens (apostrophes: N'GEA)
                if seen < wanted:
                    seen += len(plain(token).split())
                else:
                    rest.append(token)
            commune = COMMUNES[prefix]
            return commune, " ".join([commune, nice(" ".join(rest))]).strip()
    for place, commune in PLACE_COMMUNE.items():
        if key == place or key.startswith(place + " "):
            return commune, nice(site)
    return COMMUNES.get(plain(town), nice(town)), nice(site)


def phone(raw: str) -> str:
    digits = re.sub(r"\D", "", raw or "")
    if len(digits) == 6:
        return f"+687 {digits[0:2]} {digits[2:4]} {digits[4:6]}"
    return digits  # short number (1016) or empty


def parse_hours(text: str) -> tuple[dict[str, list[tuple[str, str]]], list[str]]:
    """`LU : 07:45-12:00/12:00-15:00` lines → {"LU": [("07:45", "15:00")], …} and warnings."""
    days: dict[str, list[tuple[str, str]]] = {d: [] for d in DAYS}
    warnings: list[str] = []
    for line in (text or "").splitlines():
        if ":" not in line:
            continue
        day, _, ranges = line.partition(":")
        day = day.strip().upper()
        if day not in days:
            warnings.append(f"jour inconnu {day!r}")
            continue
        spans = []
        for part in ranges.split("/"):
            part = part.strip()
            if not part:
                continue
            match = RANGE_RE.match(part)
            if not match:
                warnings.append(f"{day}: plage illisible {part!r}")
                continue
            h1, m1, h2, m2 = (int(x) for x in match.groups())
            start, end = h1 * 60 + m1, h2 * 60 + m2
            if start == end == 0:
                continue  # 00:00-00:00 is how the source says "closed"
            if not (0 <= start < end <= 24 * 60):
                warnings.append(f"{day}: plage incohérente {part!r}")
                continue
            spans.append((start, end))
        merged: list[list[int]] = []
        for start, end in sorted(spans):
            if merged and start <= merged[-1][1]:  # contiguous or overlapping
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        days[day] = [(f"{s // 60:02d}:{s % 60:02d}", f"{e // 60:02d}:{e % 60:02d}") for s, e in merged]
    return days, warnings


def flag(raw: str | None) -> str:
    return "true" if (raw or "").strip() == "1" else "false"


def clean_rows(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    """Source rows → cleaned rows (sorted by commune then name) and a human-readable log."""
    kept, log = [], []
    for row in rows:
        label = (row.get("description") or "").strip()
        everything = " ".join([label, row.get("commune") or "", row.get("horaires") or ""])
        if row.get("type") not in KEEP_TYPES:
            log.append(f"retirée : {label} (type {row.get('type')}, centre postal)")
            continue
        if "FERMEE" in plain(everything).split():
            log.append(f"retirée : {label} (fermée)")
            continue
        if label in NOT_FOR_SUBSCRIBERS:
            log.append(f"retirée : {label} ({NOT_FOR_SUBSCRIBERS[label]})")
            continue

        site = re.sub(r"^Agence\s+(de\s+)?", "", label, flags=re.IGNORECASE).strip()
        business = plain(site) == "ENTREPRISES"
        commune, name = split_commune(site, row.get("ville") or "")
        if business:
            name = "Agence Entreprises"
        hours, warnings = parse_hours(row.get("horaires") or "")
        weekdays_known = any(hours[d] for d in DAYS[:5])
        notes = []
        if not weekdays_known:
            notes.append(
                "horaires de semaine absents de la source" if any(hours.values()) else "aucun horaire dans la source"
            )
        if business:
            notes.append("agence réservée aux professionnels (1016)")
        notes.extend(warnings)
        cleaned = {
            "id": slug(name),
            "name": name,
            "kind": row["type"],
            "commune": commune,
            "address": nice((row.get("adresse") or "").strip(), street=True),
            "postcode": (row.get("code_postal") or "").strip(),
            "town": COMMUNES.get(plain(row.get("ville") or ""), nice(row.get("ville") or "")),
            "province": PROVINCES.get(plain(row.get("province") or ""), ""),
            "phone": phone(row.get("tel") or ""),
            **{col: " ".join(f"{s}-{e}" for s, e in hours[day]) for col, day in zip(DAY_COLUMNS, DAYS)},
            "hours_incomplete": "true" if not weekdays_known else "false",
            "business_only": "true" if business else "false",
            **{name_: flag(row.get(name_)) for name_ in FLAGS},
            "notes": "; ".join(notes),
            "source_object_id": (row.get("object_id") or "").strip(),
            "source_global_id": (row.get("global_id") or "").strip(),
            "source_last_edited": (row.get("last_edited_date") or "").strip(),
        }
        if not weekdays_known:
            log.append(f"horaires à confirmer : {name} ({cleaned['notes']})")
        for warning in warnings:
            log.append(f"avertissement : {name} : {warning}")
        kept.append(cleaned)
    ids = [r["id"] for r in kept]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise ValueError(f"identifiants en double après nettoyage : {sorted(duplicates)}")
    kept.sort(key=lambda r: (plain(r["commune"]), plain(r["name"])))
    return kept, log


def clean_file(source: Path = DEFAULT_SOURCE, output: Path = DEFAULT_OUTPUT) -> list[str]:
    with open(source, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    kept, log = clean_rows(rows)
    output.parent.mkdir(parents=True, exist_ok=True)
    with open(output, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(kept)
    licence = source.parent / "LICENSE"
    if licence.exists():  # MIT: the copyright and permission notice must travel with the data
        output.with_suffix(".LICENSE").write_text(
            PROVENANCE.format(output=output.name, source=SOURCE_NAME) + licence.read_text(encoding="utf-8"),
            encoding="utf-8",
        )
    log.insert(0, f"{len(kept)} agences gardées sur {len(rows)} lignes ({SOURCE_NAME})")
    return log


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    source = Path(args[0]) if args else DEFAULT_SOURCE
    output = Path(args[1]) if len(args) > 1 else DEFAULT_OUTPUT
    for line in clean_file(source, output):
        print(line)
    print(f"→ {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
