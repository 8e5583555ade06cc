"""The operator-editable catalogue (data/catalogue.yml): load, validate, sync into the database.

Prices change, so they live in the YAML file, never in code. Loading checks the whole file and
reports every problem at once, with its place in the file, so an operator can fix it in one go.
Syncing is an idempotent upsert: products and offers are never deleted (purchases and lines
refer to them), only deactivated when they disappear from the file.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import PROJECT_ROOT
from bot.db.account import Offer, PlanFamily
from bot.db.purchasing import PaymentSource, Product, ProductEligibility, ProductType
from bot.services.i18n import FRENCH, LANGUAGES
from bot.services.replies import BUTTON_TITLE_LIMIT

DEFAULT_PATH = PROJECT_ROOT / "data" / "catalogue.yml"
UNLIMITED = "unlimited"

FAMILIES = {f.value for f in PlanFamily}
TYPES = {t.value for t in ProductType}
PAYMENTS = {p.value for p in PaymentSource}
TRANSLATED = [language for language in LANGUAGES if language != FRENCH]  # name_en, description_en…


def localized(*keys: str) -> set[str]:
    """The keys that translate `keys`: localized("name") == {"name_en"}."""
    return {f"{key}_{language}" for key in keys for language in TRANSLATED}


class CatalogueError(ValueError):
    """The catalogue file is unusable; `problems` lists every issue found."""

    def __init__(self, path: Path | str, problems: list[str]):
        self.path = str(path)
        self.problems = problems
        super().__init__(f"{path}: catalogue invalide\n" + "\n".join(f"  - {p}" for p in problems))


@dataclass(frozen=True)
class OfferSpec:
    code: str
    name: str
    plan_family: PlanFamily
    price_xpf: int
    recurring: bool = True
    credit_xpf: int | None = None
    voice_seconds: int | None = None
    sms: int | None = None
    data_mb: int | None = None
    voice_unlimited: bool = False
    sms_unlimited: bool = False
    data_unlimited: bool = False
    validity_days: int | None = None
    description: str = ""
    url: str | None = None
    is_sample: bool = False


@dataclass(frozen=True)
class ProductSpec:
    code: str
    type: ProductType
    name: str
    price_xpf: int
    credit_xpf: int = 0
    sms: int = 0
    data_mb: int = 0
    validity_days: int | None = None
    description: str = ""
    is_sample: bool = False


@dataclass(frozen=True)
class DocumentSpec:
    code: str
    title: str  # button title (≤ 20 characters)
    label: str
    url: str
    to_confirm: bool = False
    urls: dict[str, str] = field(default_factory=dict)  # language -> its version, where OPT publishes one


@dataclass(frozen=True)
class Catalogue:
    offers: list[OfferSpec]
    products: list[ProductSpec]
    eligibility: dict[str, dict[str, str]]  # family -> {product type -> payment source}
    documents: list[DocumentSpec]
    # language -> {French text: its translation} (names, descriptions, document titles, the operator's
    # balance names): the database and the operator keep the French, the translation is chosen when
    # shown (catalogue_names).
    translations: dict[str, dict[str, str]] = field(default_factory=dict)
    untranslated: list[str] = field(default_factory=list)  # where a translation is missing


@dataclass
class SyncReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deactivated: list[str] = field(default_factory=list)
    eligibility_rows: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deactivated)


# ---------------------------------------------------------------------------------- parsing


Entry = dict[str, Any]  # a block of the YAML file, as yaml.safe_load gives it
Spec = OfferSpec | ProductSpec | DocumentSpec
Row = TypeVar("Row", Offer, Product)


class _Reader:
    """Collects problems instead of stopping at the first one."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.translations: dict[str, dict[str, str]] = {language: {} for language in TRANSLATED}
        self.untranslated: list[str] = []

    def fail(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    def text(self, entry: Entry, key: str, where: str, required: bool = True) -> str | None:
        value = entry.get(key)
        if value is None:
            if required:
                self.fail(where, f"« {key} » manquant")
            return None
        if not isinstance(value, str) or not value.strip():
            self.fail(where, f"« {key} » doit être un texte non vide")
            return None
        return value.strip()

    def integer(self, entry: Entry, key: str, where: str, required: bool = False, minimum: int = 0) -> int | None:
        value = entry.get(key)
        if value is None:
            if required:
                self.fail(where, f"« {key} » manquant")
            return None
        # bool is an int in Python: reject `price: yes` explicitly.
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.fail(where, f"« {key} » doit être un nombre entier ≥ {minimum} (lu : {value!r})")
            return None
        return value

    def quantity(self, entry: Entry, key: str, where: str) -> tuple[int | None, bool]:
        """An included quantity: a positive integer or "unlimited"."""
        if entry.get(key) == UNLIMITED:
            return None, True
        return self.integer(entry, key, where, minimum=1), False

    def flag(self, entry: Entry, key: str, where: str, default: bool) -> bool:
        value = entry.get(key, default)
        if not isinstance(value, bool):
            self.fail(where, f"« {key} » doit valoir true ou false")
            return default
        return value

    def url(self, entry: Entry, key: str, where: str, required: bool) -> str | None:
        value = self.text(entry, key, where, required)
        if value is not None and not value.startswith("https://"):
            self.fail(where, f"« {key} » doit commencer par https:// (lu : {value})")
        return value

    def translations_of(self, entry: Entry, key: str, french: str | None, where: str, limit: int = 0) -> None:
        """Record the translations of `french` given under `key`_<language> (name_en); note missing ones."""
        if french is None:
            return
        for language in TRANSLATED:
            translated = self.text(entry, f"{key}_{language}", where, required=False)
            if translated is None:
                self.untranslated.append(f"{where}: « {key}_{language} » manquant")
                continue
            if limit and len(translated) > limit:
                self.fail(where, f"« {key}_{language} » dépasse {limit} caractères (limite Messenger)")
            self.translated(language, french, translated, where)

    def translated(self, language: str, french: str, text: str, where: str) -> None:
        known = self.translations[language].setdefault(french, text)
        if known != text:
            self.fail(where, f"« {french} » a déjà une autre traduction (« {known} »)")

    def known_keys(self, entry: Entry, allowed: set[str], where: str) -> None:
        for key in sorted(set(entry) - allowed):
            self.fail(where, f"clé inconnue « {key} » (autorisées : {', '.join(sorted(allowed))})")


OFFER_KEYS = {
    "code",
    "name",
    "family",
    "price",
    "recurring",
    "credit",
    "voice_min",
    "sms",
    "data_mo",
    "validity_days",
    "description",
    "url",
    "sample",
    *localized("name", "description"),
}
PRODUCT_KEYS = {
    "code",
    "type",
    "name",
    "price",
    "credit",
    "sms",
    "data_mo",
    "validity_days",
    "description",
    "sample",
    *localized("name", "description"),
}
DOCUMENT_KEYS = {"code", "title", "label", "url", "to_confirm", *localized("title", "label", "url")}


def _items(r: _Reader, data: Entry, section: str) -> list[tuple[str, Entry]]:
    items = data.get(section)
    if not isinstance(items, list) or not items:
        r.fail(section, "doit être une liste non vide")
        return []
    out = []
    for i, entry in enumerate(items):
        where = f"{section}[{i}]"
        if not isinstance(entry, dict):
            r.fail(where, "doit être un bloc clé: valeur")
            continue
        if isinstance(entry.get("code"), str):
            where += f" ({entry['code']})"
        out.append((where, entry))
    return out


def _parse_offer(r: _Reader, where: str, e: Entry) -> OfferSpec | None:
    r.known_keys(e, OFFER_KEYS, where)
    code, name = r.text(e, "code", where), r.text(e, "name", where)
    family = r.text(e, "family", where)
    if family is not None and family not in FAMILIES:
        r.fail(where, f"famille « {family} » inconnue (attendu : {', '.join(sorted(FAMILIES))})")
    price = r.integer(e, "price", where, required=True, minimum=1)
    voice_min, voice_unl = r.quantity(e, "voice_min", where)
    sms, sms_unl = r.quantity(e, "sms", where)
    data_mb, data_unl = r.quantity(e, "data_mo", where)
    recurring = r.flag(e, "recurring", where, True)
    credit_xpf = r.integer(e, "credit", where, minimum=1)
    validity_days = r.integer(e, "validity_days", where, minimum=1)
    description = r.text(e, "description", where, required=False) or ""
    url = r.url(e, "url", where, required=False)
    is_sample = r.flag(e, "sample", where, False)
    r.translations_of(e, "name", name, where)
    r.translations_of(e, "description", description or None, where)
    if code is None or name is None or family not in FAMILIES or price is None:
        return None
    return OfferSpec(
        code=code,
        name=name,
        plan_family=PlanFamily(family),
        price_xpf=price,
        voice_seconds=voice_min * 60 if voice_min else None,
        sms=sms,
        data_mb=data_mb,
        voice_unlimited=voice_unl,
        sms_unlimited=sms_unl,
        data_unlimited=data_unl,
        recurring=recurring,
        credit_xpf=credit_xpf,
        validity_days=validity_days,
        description=description,
        url=url,
        is_sample=is_sample,
    )


def _parse_product(r: _Reader, where: str, e: Entry) -> ProductSpec | None:
    r.known_keys(e, PRODUCT_KEYS, where)
    code, name, ptype = r.text(e, "code", where), r.text(e, "name", where), r.text(e, "type", where)
    if ptype is not None and ptype not in TYPES:
        r.fail(where, f"type « {ptype} » inconnu (attendu : {', '.join(sorted(TYPES))})")
    price = r.integer(e, "price", where, required=True, minimum=1)
    credit = r.integer(e, "credit", where) or 0
    sms = r.integer(e, "sms", where) or 0
    data_mb = r.integer(e, "data_mo", where) or 0
    if not (credit or sms or data_mb):
        r.fail(where, "un produit doit apporter du crédit, des SMS ou de l'Internet")
    validity = r.integer(e, "validity_days", where, required=True, minimum=1)
    description = r.text(e, "description", where, required=False) or ""
    sample = r.flag(e, "sample", where, False)
    r.translations_of(e, "name", name, where)
    r.translations_of(e, "description", description or None, where)
    if code is None or name is None or ptype not in TYPES or price is None:
        return None
    return ProductSpec(code, ProductType(ptype), name, price, credit, sms, data_mb, validity, description, sample)


def _parse_eligibility(r: _Reader, data: Entry) -> dict[str, dict[str, str]]:
    raw = data.get("eligibility")
    if not isinstance(raw, dict):
        r.fail("eligibility", "doit associer chaque famille à {type: paiement}")
        return {}
    out: dict[str, dict[str, str]] = {}
    for family, rules in raw.items():
        where = f"eligibility.{family}"
        if family not in FAMILIES:
            r.fail(where, f"famille inconnue (attendu : {', '.join(sorted(FAMILIES))})")
            continue
        if not isinstance(rules, dict):
            r.fail(where, "doit être {TYPE: paiement}, par exemple {RL: card}")
            continue
        for ptype, payment in rules.items():
            if ptype not in TYPES:
                r.fail(where, f"type de produit « {ptype} » inconnu")
            elif payment not in PAYMENTS:
                r.fail(where, f"paiement « {payment} » inconnu (attendu : {', '.join(sorted(PAYMENTS))})")
            else:
                out.setdefault(family, {})[ptype] = payment
    for family in sorted(FAMILIES - set(raw)):
        r.fail("eligibility", f"famille « {family} » absente (mettre {{}} si elle ne peut rien acheter)")
    return out


def _parse_document(r: _Reader, where: str, e: Entry) -> DocumentSpec | None:
    r.known_keys(e, DOCUMENT_KEYS, where)
    code, title, label = r.text(e, "code", where), r.text(e, "title", where), r.text(e, "label", where)
    url = r.url(e, "url", where, required=True)
    if title and len(title) > BUTTON_TITLE_LIMIT:
        r.fail(where, f"« title » dépasse {BUTTON_TITLE_LIMIT} caractères (limite Messenger)")
    to_confirm = r.flag(e, "to_confirm", where, False)
    urls = {language: u for language in TRANSLATED if (u := r.url(e, f"url_{language}", where, required=False))}
    r.translations_of(e, "title", title, where, limit=BUTTON_TITLE_LIMIT)
    r.translations_of(e, "label", label, where)
    if code is None or title is None or label is None or url is None:
        return None
    return DocumentSpec(code, title, label, url, to_confirm, urls)


def _parse_names(r: _Reader, data: Entry) -> None:
    """`names_<language>`: the names the operator gives to balances ("SMS offerts": "Bonus texts")."""
    for language in TRANSLATED:
        section = f"names_{language}"
        names = data.get(section) or {}
        if not isinstance(names, dict):
            r.fail(section, "doit associer un nom français à sa traduction")
            continue
        for french, text in names.items():
            if not isinstance(french, str) or not isinstance(text, str) or not text.strip():
                r.fail(f"{section}.{french}", "doit être un texte non vide")
            else:
                r.translated(language, french.strip(), text.strip(), f"{section}.{french}")


def _duplicates(r: _Reader, section: str, codes: list[str]) -> None:
    seen: set[str] = set()
    for code in codes:
        if code in seen:
            r.fail(section, f"code « {code} » en double")
        seen.add(code)


def parse_catalogue(data: object, path: Path | str = "<catalogue>") -> Catalogue:
    """Validate already-parsed YAML; raise CatalogueError listing every problem."""
    r = _Reader()
    if not isinstance(data, dict):
        raise CatalogueError(path, ["le fichier doit contenir les sections offers, products, eligibility, documents"])
    if data.get("version") != 1:
        r.fail("version", "doit valoir 1")
    offers = [o for w, e in _items(r, data, "offers") if (o := _parse_offer(r, w, e))]
    products = [p for w, e in _items(r, data, "products") if (p := _parse_product(r, w, e))]
    documents = [d for w, e in _items(r, data, "documents") if (d := _parse_document(r, w, e))]
    eligibility = _parse_eligibility(r, data)
    _parse_names(r, data)
    _duplicates(r, "offers", [o.code for o in offers])
    _duplicates(r, "products", [p.code for p in products])
    _duplicates(r, "documents", [d.code for d in documents])
    present = {o.plan_family for o in offers}
    for family in sorted(FAMILIES - present):
        r.fail("offers", f"aucune offre pour la famille « {family} »")
    if r.problems:
        raise CatalogueError(path, r.problems)
    return Catalogue(offers, products, eligibility, documents, r.translations, r.untranslated)


_cache: dict[str, tuple[float, Catalogue]] = {}


def load_catalogue(path: Path | str | None = None) -> Catalogue:
    """Read and validate the catalogue file (cached until the file changes)."""
    path = Path(path or DEFAULT_PATH)
    try:
        mtime = path.stat().st_mtime
        cached = _cache.get(str(path))
        if cached and cached[0] == mtime:
            return cached[1]
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CatalogueError(path, ["fichier introuvable"]) from None
    except yaml.YAMLError as exc:
        raise CatalogueError(path, [f"YAML illisible : {exc}"]) from None
    catalogue = parse_catalogue(data, path)
    _cache[str(path)] = (mtime, catalogue)
    return catalogue


# ------------------------------------------------------------------------------------- sync


def _upsert(
    session: Session, model: type[Row], key: str, specs: Sequence[Spec], report: SyncReport, prefix: str
) -> dict[str, Row]:
    """Create or update rows from specs by natural key; deactivate rows missing from the file."""
    existing = {getattr(row, key): row for row in session.scalars(select(model))}
    for spec in specs:
        values = {f.name: getattr(spec, f.name) for f in fields(spec)}
        values["active"] = True
        row = existing.get(values[key])
        if row is None:
            row = model(**values)
            session.add(row)
            existing[values[key]] = row
            report.created.append(f"{prefix}:{values[key]}")
        elif any(getattr(row, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(row, k, v)
            report.updated.append(f"{prefix}:{values[key]}")
    wanted = {getattr(s, key) for s in specs}
    for code, row in existing.items():
        if code not in wanted and row.active:
            row.active = False
            report.deactivated.append(f"{prefix}:{code}")
    return existing


def sync_catalogue(session: Session, catalogue: Catalogue | None = None) -> SyncReport:
    """Make the offers/products/product_eligibility tables match the catalogue. Idempotent:
    a second call with the same catalogue changes nothing. The caller commits."""
    catalogue = catalogue or load_catalogue()
    report = SyncReport()
    _upsert(session, Offer, "code", catalogue.offers, report, "offer")
    products = _upsert(session, Product, "code", catalogue.products, report, "product")
    session.flush()  # product ids are needed for eligibility rows

    wanted: dict[tuple[int, str], str] = {}
    for spec in catalogue.products:
        for family, rules in catalogue.eligibility.items():
            if spec.type in rules:
                wanted[(products[spec.code].id, family)] = rules[spec.type]
    for row in session.scalars(select(ProductEligibility)):
        payment = wanted.pop((row.product_id, row.plan_family.value), None)
        if payment is None:
            session.delete(row)
        elif row.payment_source != payment:
            row.payment_source = PaymentSource(payment)
    for (product_id, family), payment in wanted.items():
        session.add(
            ProductEligibility(
                product_id=product_id, plan_family=PlanFamily(family), payment_source=PaymentSource(payment)
            )
        )
    session.flush()
    report.eligibility_rows = len(session.scalars(select(ProductEligibility)).all())
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Vérifie data/catalogue.yml et le charge en base.")
    parser.add_argument("--file", default=None, help="autre fichier catalogue")
    parser.add_argument("--check", action="store_true", help="vérifier seulement, sans toucher à la base")
    args = parser.parse_args(argv)
    try:
        catalogue = load_catalogue(args.file)
    except CatalogueError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"Catalogue valide : {len(catalogue.offers)} offres, {len(catalogue.products)} produits.")
    for missing in catalogue.untranslated:  # shown in French instead: a warning, not an error
        print(f"Attention, traduction manquante : {missing}")
    if args.check:
        return 0
    from bot.db.base import session_scope
    from bot.db.migrate import database_url

    with session_scope(database_url()) as session:
        report = sync_catalogue(session, catalogue)
    print(
        f"Créés : {len(report.created)}, modifiés : {len(report.updated)}, "
        f"désactivés : {len(report.deactivated)}, règles d'éligibilité : {report.eligibility_rows}."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
