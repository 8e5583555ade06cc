"""Eligibility from the catalogue file, parsing of amounts and volumes, preselection."""

from __future__ import annotations

import pytest
from purchase_helpers import (
    EMMA_TOURISM,
    GEORGES_HORAIRE,
    JEAN_EXPIRED,
    LEA_DATA,
    MARIE_FORFAIT,
    MARIE_LIBERTE,
    PAUL_BLOQUE,
    line_of,
)

from bot.db.account import PlanFamily
from bot.db.purchasing import PaymentSource, ProductType
from bot.services.dialogue.quantities import product_ask
from bot.services.i18n import speaking
from bot.services.purchasing.catalogue import load_catalogue
from bot.services.purchasing.offers import offers_for_line, preselect

LINES_BY_FAMILY = {
    PlanFamily.LIBERTE: JEAN_EXPIRED,
    PlanFamily.TOURISM_CARD: EMMA_TOURISM,
    PlanFamily.FORFAIT_BLOQUE: PAUL_BLOQUE,
    PlanFamily.FORFAIT_M: MARIE_FORFAIT,
    PlanFamily.FORFAIT_HORAIRE: GEORGES_HORAIRE,
    PlanFamily.DATA_SEUL: LEA_DATA,
}


@pytest.mark.parametrize("family", list(PlanFamily))
def test_each_family_sees_exactly_what_the_catalogue_file_allows(demo_session, family):
    catalogue = load_catalogue()
    rules = catalogue.eligibility[family.value]
    expected = {(p.code, rules[p.type.value]) for p in catalogue.products if p.type.value in rules}
    line = line_of(demo_session, LINES_BY_FAMILY[family])
    assert line.plan_family == family
    got = {(o.product.code, o.payment_source.value) for o in offers_for_line(demo_session, line)}
    assert got == expected and got


def test_payment_sources_follow_the_product_type(demo_session):
    offers = offers_for_line(demo_session, line_of(demo_session, MARIE_LIBERTE))
    assert {o.product.type: o.payment_source for o in offers} == {
        ProductType.RL: PaymentSource.CARD,
        ProductType.IMD: PaymentSource.CREDIT,
    }
    offers = offers_for_line(demo_session, line_of(demo_session, MARIE_FORFAIT))
    assert {o.payment_source for o in offers} == {PaymentSource.BILL}


def test_offers_are_ordered_by_type_then_price(demo_session):
    codes = [o.product.code for o in offers_for_line(demo_session, line_of(demo_session, MARIE_LIBERTE))]
    assert codes == ["RL_1000", "RL_3000", "RL_5000", "IMD_200MO", "IMD_1GO", "IMD_5GO"]


@pytest.mark.parametrize(
    "text, ptype, amount, volume",
    [
        ("recharge 3000", ProductType.RL, 3000, None),
        ("recharge 3 000 F", ProductType.RL, 3000, None),
        ("Recharge de 3\u202f000 XPF", ProductType.RL, 3000, None),
        ("recharge de 7 F", ProductType.RL, 7, None),
        ("imd 1go", ProductType.IMD, None, 1024),
        ("pass 500 mo", None, None, 500),
        ("pass internet 1 go", None, None, 1024),
        ("top up 5 go", ProductType.TOPUP, None, 5120),
        ("top up 5go", ProductType.TOPUP, None, 5120),
        ("un TOP-UP de 1,5 Go", ProductType.TOPUP, None, 1536),
        ("recharge 1000 pour le 79 12 34", ProductType.RL, 1000, None),
        ("je veux acheter", None, None, None),
    ],
)
def test_product_ask(text, ptype, amount, volume):
    request = product_ask(text)
    assert (request.kind, request.amount_xpf, request.data_mb) == (ptype, amount, volume)


def test_generic_data_words_mean_data_not_a_type():
    assert product_ask("pass internet").wants_data and product_ask("pass internet").kind is None
    assert not product_ask("recharge 1000").wants_data


@pytest.mark.parametrize(
    "msisdn, text, code",
    [
        (MARIE_LIBERTE, "recharge 3000", "RL_3000"),
        (MARIE_LIBERTE, "recharge 3 000 F", "RL_3000"),
        (MARIE_LIBERTE, "recharge 1050", "RL_1000"),  # the credit it gives names it too
        (MARIE_LIBERTE, "imd 1go", "IMD_1GO"),
        (MARIE_LIBERTE, "pass 200 mo", "IMD_200MO"),
        (MARIE_LIBERTE, "pass internet 1 go", "IMD_1GO"),
        (MARIE_FORFAIT, "top up 5 go", "TOPUP_5GO"),
        (MARIE_FORFAIT, "pass internet 1 go", "TOPUP_1GO"),  # generic data words fit the line's TOP UP
    ],
)
def test_preselection_names_one_product(demo_session, msisdn, text, code):
    chosen = preselect(offers_for_line(demo_session, line_of(demo_session, msisdn)), product_ask(text))
    assert chosen.chosen is not None and chosen.chosen.product.code == code and chosen.problem is None


@pytest.mark.parametrize(
    "msisdn, text, problem, choices",
    [
        (MARIE_LIBERTE, "recharge de 7 F", "amount", ["RL_1000", "RL_3000", "RL_5000"]),
        (MARIE_LIBERTE, "pass 500 mo", "volume", ["IMD_200MO", "IMD_1GO", "IMD_5GO"]),
        (MARIE_FORFAIT, "imd 1 go", "type", ["TOPUP_1GO", "TOPUP_5GO", "TOPUP_20GO"]),
        (PAUL_BLOQUE, "pass 1 go", "data", ["RL_1000", "RL_3000", "RL_5000"]),
    ],
)
def test_impossible_requests_give_the_valid_choices(demo_session, msisdn, text, problem, choices):
    chosen = preselect(offers_for_line(demo_session, line_of(demo_session, msisdn)), product_ask(text))
    assert chosen.chosen is None and chosen.problem == problem
    assert [o.product.code for o in chosen.choices] == choices


@pytest.mark.parametrize(
    "msisdn, text, code",
    [
        (MARIE_LIBERTE, "top up 1000", "RL_1000"),  # an Australian's top up: credit
        (MARIE_LIBERTE, "top up 1gb", "IMD_1GO"),  # … or data, when it names a volume
        (MARIE_FORFAIT, "top up 5 go", "TOPUP_5GO"),  # a line with TOP UP packs: those
    ],
)
def test_in_english_a_top_up_is_a_recharge_where_no_top_up_pack_is_sold(demo_session, msisdn, text, code):
    offers = offers_for_line(demo_session, line_of(demo_session, msisdn))
    with speaking("en"):
        chosen = preselect(offers, product_ask(text))
    assert chosen.chosen is not None and chosen.chosen.product.code == code
    if msisdn == MARIE_LIBERTE:  # in French, TOP UP is a product the line cannot buy
        assert preselect(offers, product_ask(text)).problem == "type"


def test_an_ambiguous_amount_lists_the_matches(demo_session):
    chosen = preselect(offers_for_line(demo_session, line_of(demo_session, MARIE_LIBERTE)), product_ask("1000"))
    assert chosen.chosen is None and chosen.problem is None
    assert {o.product.code for o in chosen.choices} == {"RL_1000", "IMD_1GO"}


def test_a_type_alone_lists_that_type(demo_session):
    chosen = preselect(offers_for_line(demo_session, line_of(demo_session, MARIE_LIBERTE)), product_ask("recharge"))
    assert chosen.chosen is None and [o.product.type for o in chosen.choices] == [ProductType.RL] * 3
