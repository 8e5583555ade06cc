"""bot.tools.agencies_clean: what is dropped, how names, phones and hours are normalised."""

from __future__ import annotations

import csv

import pytest
from assistance_helpers import AGENCIES_CSV, SOURCE_CSV

from bot.tools.agencies_clean import clean_file, clean_rows, parse_hours, phone

WEEK = "LU : {0}\nMA : {0}\nME : {0}\nJE : {0}\nVE : {0}\nSA : \nDI :"


def row(description="Agence de KONE", type_="Agence", commune="KONE", horaires=None, **extra):
    base = {
        "object_id": "1012",
        "description": description,
        "type": type_,
        "commune": commune,
        "province": "NORD",
        "adresse": "23 AVENUE DE KONIAMBO",
        "code_postal": "98859",
        "ville": "KONE",
        "tel": "202250",
        "horaires": WEEK.format("07:45-12:00/12:00-15:00") if horaires is None else horaires,
        "has_dab_interne": "1",
        "has_dab_externe": "1",
        "has_conseiller_financier": "1",
        "has_conseiller_telecom": "1",
        "has_conseiller_polyvalent": "0",
        "has_conseiller_postal": "0",
        "global_id": "{G}",
        "last_edited_date": "2021/07/05",
    }
    base.update(extra)
    return base


def test_drops_closed_sorting_centres_and_keeps_agence_and_annexe():
    rows = [
        row(),
        row("Agence de NOUMEA MONTRAVEL - FERMEE", "Annexe", "NOUMEA MONTRAVEL - FERMEE"),
        row("Agence de POUM", "Agence", "POUM", horaires="LU : FERMEE\nMA :"),
        row("Centre de Distribution du Courrier", "Cdc", "Centre de Distribution du Courrier"),
        row("Centre de Traitement Postal", "Ctc", "Centre de Traitement Postal"),
        row("Agence de LIFOU MOU", "Annexe", "LIFOU MOU", ville="LIFOU"),
    ]
    kept, log = clean_rows(rows)
    assert [r["name"] for r in kept] == ["Koné", "Lifou Mou"]
    assert [r["kind"] for r in kept] == ["Agence", "Annexe"]
    assert sum("retirée" in line for line in log) == 4


def test_names_communes_and_accents():
    cases = {
        ("Agence de KONE", "KONE"): ("Koné", "Koné"),
        ("Agence de DUMBEA KOUTIO", "DUMBEA"): ("Dumbéa Koutio", "Dumbéa"),
        ("Agence de PAITA", "PAITA"): ("Païta", "Païta"),
        ("Agence de MARE TADINE", "TADINE"): ("Maré Tadine", "Maré"),
        ("Agence de LIFOU WE", "WE"): ("Lifou Wé", "Lifou"),
        ("Agence de POYA NEPOUI", "POYA"): ("Poya Népoui", "Poya"),
        ("Agence de MONT-DORE PONT DES FRANCAIS", "MONT-DORE"): ("Mont-Dore Pont des Français", "Mont-Dore"),
        ("Agence de NOUMEA SUD N'GEA", "NOUMÉA"): ("Nouméa Sud N'Géa", "Nouméa"),
        ("Agence de L'ILE DES PINS VAO", "ILE DES PINS"): ("Île des Pins Vao", "Île des Pins"),
        ("Agence de TONTOUTA AEROPORT", "TONTOUTA"): ("Tontouta Aéroport", "Païta"),
    }
    for (description, ville), (name, commune) in cases.items():
        kept, _ = clean_rows([row(description, ville=ville)])
        assert (kept[0]["name"], kept[0]["commune"]) == (name, commune), description


def test_phone_format():
    assert phone("202250") == "+687 20 22 50"
    assert phone("44 36 30") == "+687 44 36 30"
    assert phone("1016") == "1016"
    assert phone("") == ""


def test_hours_parsing():
    hours, warnings = parse_hours(
        "LU : 07:45-12:00/12:00-15:00\nMA : 08:15-11:30/12:15-15:00\nME : 00:00-00:00\n"
        "JE : /13:30-14:30\nVE : 08:00-11:00/10:30-12:00\nSA : \nDI :"
    )
    assert hours["LU"] == [("07:45", "15:00")]  # contiguous ranges merged
    assert hours["MA"] == [("08:15", "11:30"), ("12:15", "15:00")]
    assert hours["ME"] == []  # 00:00-00:00 means closed
    assert hours["JE"] == [("13:30", "14:30")]  # empty first range ignored
    assert hours["VE"] == [("08:00", "12:00")]  # overlapping ranges merged
    assert hours["SA"] == hours["DI"] == []
    assert warnings == []
    _, warnings = parse_hours("LU : 7h45-12h")
    assert warnings


def test_flags_booleans_and_incomplete_hours():
    saturday_only = "LU : \nMA : \nME : \nJE : \nVE : \nSA : 07:45-11:00\nDI :"
    kept, log = clean_rows(
        [
            row(),
            row(
                "Agence de NOUMEA MAGENTA",
                "Agence",
                "NOUMEA MAGENTA",
                horaires=saturday_only,
                ville="NOUMÉA",
                has_conseiller_telecom="0",
            ),
            row(
                "Agence de KAALA-GOMEN OUACO",
                "Annexe",
                "KAALA-GOMEN OUACO",
                horaires="LU : \nMA : \nDI :",
                ville="KAALA-GOMEN",
            ),
        ]
    )
    by_name = {r["name"]: r for r in kept}
    kone, magenta, ouaco = by_name["Koné"], by_name["Nouméa Magenta"], by_name["Kaala-Gomen Ouaco"]
    assert (kone["mon"], kone["sat"], kone["hours_incomplete"]) == ("07:45-15:00", "", "false")
    assert kone["has_conseiller_telecom"] == "true" and kone["has_conseiller_postal"] == "false"
    assert (magenta["sat"], magenta["hours_incomplete"]) == ("07:45-11:00", "true")
    assert magenta["has_conseiller_telecom"] == "false"
    assert ouaco["hours_incomplete"] == "true" and "aucun horaire" in ouaco["notes"]
    assert sum("horaires à confirmer" in line for line in log) == 2
    assert kone["source_object_id"] == "1012"  # provenance kept


@pytest.mark.skipif(not SOURCE_CSV.exists(), reason="shared source data not available")
def test_real_source_is_cleaned_and_committed_copy_is_in_sync(tmp_path):
    out = tmp_path / "agences.csv"
    clean_file(SOURCE_CSV, out)
    assert out.read_bytes() == AGENCIES_CSV.read_bytes(), "re-run: python -m bot.tools.agencies_clean"
    assert (
        (tmp_path / "agences.LICENSE")
        .read_text(encoding="utf-8")
        .endswith(SOURCE_CSV.with_name("LICENSE").read_text(encoding="utf-8"))
    )
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert not any("FERM" in r["name"].upper() for r in rows)
    assert {r["kind"] for r in rows} == {"Agence", "Annexe"}
    assert all(r["phone"].startswith("+687 ") or r["phone"] in {"", "1016"} for r in rows)
    incomplete = {r["name"] for r in rows if r["hours_incomplete"] == "true"}
    assert {"Nouméa Belle Vie", "Nouméa Magenta", "Nouméa Agence principale"} <= incomplete


def test_licence_travels_with_the_data():
    licence = AGENCIES_CSV.with_suffix(".LICENSE").read_text(encoding="utf-8")
    assert "MIT License" in licence and "OPT Nouvelle Caledonie" in licence
    assert "bot/tools/agencies_clean.py" in licence
