"""What an editor may read of a message (masked), and messages grouped by similarity."""

from __future__ import annotations

import pytest

from bot.services.insights.grouping import group
from bot.services.insights.masking import EMAIL, NAME, NUMBER, masked


@pytest.mark.parametrize(
    ("typed", "kept", "gone"),
    [
        ("mon numero c 79 12 34 svp", "mon numero c", "12 34"),
        ("le code 482 913 marche pas", "marche pas", "913"),
        ("ecrivez moi a jean.dupont@gmail.com", EMAIL, "dupont"),
        ("ma carte 4970 1012 3456 7890 refusee", NUMBER, "3456"),
        ("je m appelle marie dupont et ma ligne bug", f"je m appelle {NAME} et ma ligne bug", "marie"),
        ("Bonjour Mme Wamytan, mon forfait", NAME, "Wamytan"),
        ("moi c est kevin", NAME, "kevin"),
        ("mon tel +33 6 12 34 56 78", NUMBER, "56 78"),
        ("cordialement Paul", NAME, "Paul"),
    ],
)
def test_numbers_codes_addresses_and_names_are_masked(typed, kept, gone):
    shown = masked(typed)
    assert kept in shown and gone not in shown


def test_what_the_message_is_about_stays():
    assert masked("recharge 3000 svp") == "recharge 3000 svp"
    assert masked("je suis perdu avec mon forfait 100 000 F") == "je suis perdu avec mon forfait 100 000 F"
    assert len(masked("a" * 1000)) == 300


def test_similar_messages_are_grouped_largest_group_first():
    texts = [
        "comment avoir le wifi a bord du bateau",
        "g pa de reseau a kone",
        "pas de réseau à Koné depuis hier",
        "plus de reseau kone",
        "jveux resilier mon abonnement",
        "ya pas de reseau a kone",
        "resilier mon abonement",
    ]
    groups = group(texts, lambda text: text)
    assert groups[0] == [
        "g pa de reseau a kone",
        "pas de réseau à Koné depuis hier",
        "plus de reseau kone",
        "ya pas de reseau a kone",
    ]
    assert ["jveux resilier mon abonnement", "resilier mon abonement"] in groups
    assert ["comment avoir le wifi a bord du bateau"] in groups
    assert sum(len(g) for g in groups) == len(texts)


def test_grouping_is_deterministic_and_handles_empty_texts():
    texts = ["", "?", "😡", "bonjour", "salut"]
    assert group(texts, str) == group(list(texts), str)
    assert sum(len(g) for g in group(texts, str)) == 5
