"""Number parsing: every accepted shape gives the 6 national digits; rejections explain why."""

import pytest

from bot.services.identity.phone import (
    InvalidNumber,
    find_number_in_text,
    format_number,
    mask_number,
    parse_mobilis_number,
)


@pytest.mark.parametrize(
    "text",
    [
        "79 12 34",
        "791234",
        "+687 79.12.34",
        "00687791234",
        "687 791234",
        "79-12-34",
        " +687791234 ",
        "00 687 79 12 34",
        "79.12.34",
        "79\u00a012\u00a034",
    ],
)
def test_accepted_forms(text):
    assert parse_mobilis_number(text) == "791234"


@pytest.mark.parametrize("first", "5789")
def test_every_mobile_prefix(first):
    assert parse_mobilis_number(f"{first}1 22 33") == f"{first}12233"


@pytest.mark.parametrize(
    "text,reason",
    [
        ("", "empty"),
        ("   ", "empty"),
        ("79 12 3a", "format"),
        ("abc", "format"),
        ("+33 6 12 34 56 78", "foreign"),
        ("0033612345678", "foreign"),
        ("79123", "length"),
        ("7912345", "length"),
        ("+687 79 12 3", "length"),
        ("25 12 34", "landline"),  # fixed line, Nouméa
        ("35 12 34", "landline"),
        ("+687 41 12 34", "landline"),
        ("61 12 34", "not_mobile"),
        ("01 12 34", "not_mobile"),
    ],
)
def test_rejected_forms(text, reason):
    with pytest.raises(InvalidNumber) as exc:
        parse_mobilis_number(text)
    assert exc.value.reason == reason
    assert exc.value.message and exc.value.message == str(exc.value)


def test_landline_message_is_french_and_helpful():
    with pytest.raises(InvalidNumber) as exc:
        parse_mobilis_number("25 12 34")
    assert "fixe" in exc.value.message and "5, 7, 8 ou 9" in exc.value.message


@pytest.mark.parametrize(
    "text,expected",
    [
        ("mon num c 79 12 34", "791234"),
        ("c'est le +687 88.11.11 merci", "881111"),
        ("Mon numéro: 00687 51-22-33.", "512233"),
        ("791234", "791234"),
        ("j'ai payé 1 050 F à 10 h 30 pour le 97 65 43", "976543"),
    ],
)
def test_find_number_in_text(text, expected):
    assert find_number_in_text(text) == expected


@pytest.mark.parametrize("text", ["bonjour", "j'ai payé 1 050 F", "le 12/03 à 10 h", "depuis le 12.03.26", ""])
def test_find_number_in_text_none(text):
    assert find_number_in_text(text) is None


def test_find_number_in_text_explains_a_landline():
    with pytest.raises(InvalidNumber) as exc:
        find_number_in_text("mon fixe c'est le 25 12 34")
    assert exc.value.reason == "landline"
    with pytest.raises(InvalidNumber):
        find_number_in_text("mon numéro français +33 6 12 34 56 78")


def test_format_and_mask():
    assert format_number("791234") == "79 12 34"
    assert mask_number("791234") == "79****"
