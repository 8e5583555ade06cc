from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from bot.db.account import Offer, PlanFamily
from bot.db.purchasing import PaymentSource, Product, ProductEligibility, ProductType
from bot.services.purchasing import catalogue as cat

REAL = yaml.safe_load(cat.DEFAULT_PATH.read_text(encoding="utf-8"))


def write(tmp_path: Path, data) -> Path:
    path = tmp_path / "catalogue.yml"
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def fresh() -> dict:
    return yaml.safe_load(cat.DEFAULT_PATH.read_text(encoding="utf-8"))


def problems_of(tmp_path, data) -> list[str]:
    with pytest.raises(cat.CatalogueError) as err:
        cat.load_catalogue(write(tmp_path, data))
    return err.value.problems


# ------------------------------------------------------------------------- the real file


def test_real_file_has_the_public_figures():
    c = cat.load_catalogue()
    products = {p.code: p for p in c.products}
    rl = products["RL_1000"]
    assert (rl.type, rl.price_xpf, rl.credit_xpf, rl.sms, rl.validity_days) == (ProductType.RL, 1000, 1050, 10, 120)
    assert (products["RL_3000"].credit_xpf, products["RL_3000"].validity_days) == (3150, 150)
    assert (products["RL_5000"].credit_xpf, products["RL_5000"].sms, products["RL_5000"].validity_days) == (
        5250,
        50,
        180,
    )
    offers = {o.code: o for o in c.offers}
    assert (offers["KIT_LIBERTE"].price_xpf, offers["KIT_LIBERTE"].credit_xpf, offers["KIT_LIBERTE"].validity_days) == (
        6000,
        3000,
        90,
    )
    assert (offers["BLOQUE_5000"].credit_xpf, offers["BLOQUE_5000"].sms) == (5300, 100)
    m = offers["M_10GO"]
    assert (m.price_xpf, m.data_mb, m.voice_seconds, m.sms_unlimited) == (3000, 10240, 7200, True)
    assert offers["M_100GO"].voice_unlimited and offers["M_100GO"].voice_seconds is None
    assert offers["IM4G_25GO"].price_xpf == 4558
    assert {o.plan_family for o in c.offers} == set(PlanFamily)


def test_non_public_figures_are_marked_as_samples():
    c = cat.load_catalogue()
    assert all(p.is_sample for p in c.products if p.type in (ProductType.IMD, ProductType.TOPUP))
    assert not any(p.is_sample for p in c.products if p.type == ProductType.RL)
    assert all(o.is_sample for o in c.offers if o.plan_family == PlanFamily.FORFAIT_HORAIRE)
    header = cat.DEFAULT_PATH.read_text(encoding="utf-8")[:1500]
    assert "SAMPLE" in header and "OPT-NC" in header


def test_eligibility_rules():
    e = cat.load_catalogue().eligibility
    assert e["liberte"] == {"RL": "card", "IMD": "credit"}
    assert e["tourism_card"] == {"RL": "card", "IMD": "credit"}
    assert e["forfait_bloque"] == {"RL": "card"}
    for family in ("forfait_m", "forfait_horaire", "data_seul"):
        assert e[family] == {"TOPUP": "bill"}


def test_documents_are_https_buttons_within_messenger_limits():
    docs = cat.load_catalogue().documents
    assert [d.code for d in docs] == ["cgu", "cgv", "privacy"]
    assert all(d.url.startswith("https://www.opt.nc/") and len(d.title) <= 20 for d in docs)


# ------------------------------------------------------------------------------ errors


def test_missing_file(tmp_path):
    with pytest.raises(cat.CatalogueError, match="introuvable"):
        cat.load_catalogue(tmp_path / "nope.yml")


def test_unreadable_yaml(tmp_path):
    assert "YAML illisible" in problems_of(tmp_path, "offers: [unclosed")[0]


def test_not_a_mapping(tmp_path):
    assert "sections" in problems_of(tmp_path, "- just\n- a list\n")[0]


def test_every_problem_is_reported_with_its_place(tmp_path):
    data = fresh()
    data["products"][0]["price"] = -5
    data["products"][1]["type"] = "XYZ"
    data["products"][2]["prix"] = 10
    data["offers"][0]["family"] = "prepaye"
    data["eligibility"]["liberte"]["IMD"] = "cash"
    problems = problems_of(tmp_path, data)
    text = "\n".join(problems)
    assert "products[0] (RL_1000): « price » doit être un nombre entier ≥ 1 (lu : -5)" in problems
    assert "products[1] (RL_3000): type « XYZ » inconnu" in text
    assert "products[2] (RL_5000): clé inconnue « prix »" in text
    assert "offers[0] (KIT_LIBERTE): famille « prepaye » inconnue" in text
    assert "eligibility.liberte: paiement « cash » inconnu" in text


@pytest.mark.parametrize(
    "mutate, expected",
    [
        (lambda d: d["products"][0].pop("price"), "« price » manquant"),
        (lambda d: d["products"][0].update(price=True), "« price » doit être un nombre entier"),
        (lambda d: d["products"][0].update(price="1000"), "« price » doit être un nombre entier"),
        (lambda d: d["products"][0].pop("validity_days"), "« validity_days » manquant"),
        (lambda d: d["products"][0].update(credit=0, sms=0, data_mo=0), "doit apporter du crédit"),
        (lambda d: d["products"].append(dict(d["products"][0])), "code « RL_1000 » en double"),
        (lambda d: d["offers"][0].update(sms="beaucoup"), "« sms » doit être un nombre entier"),
        (lambda d: d["offers"][0].update(url="http://www.opt.nc"), "doit commencer par https://"),
        (lambda d: d["offers"][0].update(sample="oui"), "« sample » doit valoir true ou false"),
        (
            lambda d: d.update(offers=[o for o in d["offers"] if o["family"] != "data_seul"]),
            "aucune offre pour la famille « data_seul »",
        ),
        (lambda d: d["eligibility"].pop("forfait_m"), "famille « forfait_m » absente"),
        (lambda d: d["eligibility"].update(prepaye={"RL": "card"}), "eligibility.prepaye: famille inconnue"),
        (lambda d: d["eligibility"].update(liberte={"RECHARGE": "card"}), "type de produit « RECHARGE » inconnu"),
        (lambda d: d["documents"][2].update(title="Protection des données personnelles"), "dépasse 20 caractères"),
        (lambda d: d.update(documents=[]), "documents: doit être une liste non vide"),
        (lambda d: d.update(version=2), "version: doit valoir 1"),
    ],
)
def test_each_rule(tmp_path, mutate, expected):
    data = fresh()
    mutate(data)
    assert any(expected in p for p in problems_of(tmp_path, data)), expected


def test_error_message_names_the_file(tmp_path):
    data = fresh()
    data["version"] = 3
    path = write(tmp_path, data)
    with pytest.raises(cat.CatalogueError) as err:
        cat.load_catalogue(path)
    assert str(path) in str(err.value) and "catalogue invalide" in str(err.value)


def test_cli_check(tmp_path, capsys):
    assert cat.main(["--check"]) == 0
    assert "Catalogue valide" in capsys.readouterr().out
    bad = fresh()
    bad["products"][0]["price"] = 0
    assert cat.main(["--check", "--file", str(write(tmp_path, bad))]) == 1
    assert "price" in capsys.readouterr().err


# -------------------------------------------------------------------------------- sync


def test_sync_creates_rows_and_is_idempotent(session):
    first = cat.sync_catalogue(session)
    assert len(first.created) == len(REAL["offers"]) + len(REAL["products"])
    session.commit()
    second = cat.sync_catalogue(session)
    assert not second.changed and second.eligibility_rows == first.eligibility_rows == 24
    rl = session.scalar(select(Product).where(Product.code == "RL_1000"))
    assert (rl.type, rl.price_xpf, rl.credit_xpf, rl.is_sample, rl.active) == (ProductType.RL, 1000, 1050, False, True)


def test_sync_writes_eligibility_with_payment_source(session):
    cat.sync_catalogue(session)
    rows = session.execute(
        select(Product.code, ProductEligibility.plan_family, ProductEligibility.payment_source).join(
            ProductEligibility.product
        )
    ).all()
    by_family: dict = {}
    for code, family, payment in rows:
        by_family.setdefault(family, {})[code] = payment
    assert by_family[PlanFamily.LIBERTE]["IMD_1GO"] == PaymentSource.CREDIT
    assert by_family[PlanFamily.LIBERTE]["RL_3000"] == PaymentSource.CARD
    assert set(by_family[PlanFamily.FORFAIT_BLOQUE]) == {"RL_1000", "RL_3000", "RL_5000"}
    assert set(by_family[PlanFamily.FORFAIT_M]) == {"TOPUP_1GO", "TOPUP_5GO", "TOPUP_20GO"}
    assert set(by_family[PlanFamily.DATA_SEUL].values()) == {PaymentSource.BILL}


def test_sync_updates_and_deactivates_without_deleting(session, tmp_path):
    cat.sync_catalogue(session)
    session.commit()
    data = fresh()
    data["products"] = [p for p in data["products"] if p["code"] != "IMD_5GO"]
    data["products"][0]["price"] = 1100
    data["offers"][0]["name"] = "Kit Liberté 2027"
    data["eligibility"]["forfait_bloque"] = {}
    report = cat.sync_catalogue(session, cat.load_catalogue(write(tmp_path, data)))
    assert report.updated == ["offer:KIT_LIBERTE", "product:RL_1000"]
    assert report.deactivated == ["product:IMD_5GO"]
    gone = session.scalar(select(Product).where(Product.code == "IMD_5GO"))
    assert gone is not None and gone.active is False
    assert session.get(Offer, "KIT_LIBERTE").name == "Kit Liberté 2027"
    assert not session.scalars(
        select(ProductEligibility).where(ProductEligibility.plan_family == PlanFamily.FORFAIT_BLOQUE)
    ).all()
    # Back to the real file: the product comes back to life.
    again = cat.sync_catalogue(session)
    assert "product:IMD_5GO" in again.updated and gone.active is True


def test_changing_a_payment_rule_updates_the_row(session, tmp_path):
    cat.sync_catalogue(session)
    data = fresh()
    data["eligibility"]["liberte"]["IMD"] = "card"
    cat.sync_catalogue(session, cat.load_catalogue(write(tmp_path, data)))
    imd = session.scalar(select(Product).where(Product.code == "IMD_1GO"))
    assert session.get(ProductEligibility, (imd.id, PlanFamily.LIBERTE)).payment_source == PaymentSource.CARD


# ------------------------------------------------------------------------------- English


def test_every_name_of_the_real_file_has_its_english():
    c = cat.load_catalogue()
    assert c.untranslated == []
    assert c.translations["en"]["Pass Internet 1 Go"] == "Data pass 1 GB"
    assert c.translations["en"]["SMS offerts"] == "Bonus texts"  # names_en: the operator's balance names


def test_a_missing_english_is_a_warning_not_an_error(tmp_path):
    data = fresh()
    del data["products"][0]["name_en"]
    c = cat.load_catalogue(write(tmp_path, data))
    assert c.untranslated == ["products[0] (RL_1000): « name_en » manquant"]
    assert "Recharge Liberté 1 000" not in c.translations["en"]


def test_one_french_text_may_not_have_two_english_ones(tmp_path):
    data = fresh()
    data["products"][1]["name_en"] = "Something else"
    data["products"][1]["name"] = data["products"][0]["name"]
    data["names_en"] = {"Crédit": "Credit", "SMS offerts": ""}
    problems = problems_of(tmp_path, data)
    assert any("« Recharge Liberté 1 000 » a déjà une autre traduction" in p for p in problems)
    assert "names_en.SMS offerts: doit être un texte non vide" in problems


def test_names_are_shown_in_the_turn_language(tmp_path, monkeypatch):
    from bot.services.i18n import speaking
    from bot.services.purchasing import catalogue_names

    data = fresh()
    data["documents"][0]["url_en"] = "https://www.opt.nc/en/terms"
    data["documents"][0]["title_en"] = "A title too long for a button"
    assert any("« title_en » dépasse 20" in p for p in problems_of(tmp_path, data))
    data["documents"][0]["title_en"] = "Terms"
    path = write(tmp_path, data)
    monkeypatch.setattr(cat, "DEFAULT_PATH", path)
    terms = cat.load_catalogue().documents[0]
    assert catalogue_names.shown("Pass Internet 1 Go") == "Pass Internet 1 Go"  # French by default
    assert catalogue_names.document_url(terms) == terms.url
    with speaking("en"):
        assert catalogue_names.shown("Pass Internet 1 Go") == "Data pass 1 GB"
        assert catalogue_names.shown("Pass du marché") == "Pass du marché"  # unknown: shown as it is
        assert catalogue_names.document_url(terms) == "https://www.opt.nc/en/terms"
        assert catalogue_names.documents_in_french(cat.load_catalogue().documents)  # the other two
        assert not catalogue_names.documents_in_french([terms])
