from datetime import UTC, date, datetime

import pytest

from bot.services import fr_format as f


@pytest.mark.parametrize(
    "amount, text",
    [
        (0, "0 F"),
        (50, "50 F"),
        (999, "999 F"),
        (1050, "1 050 F"),
        (10918, "10 918 F"),
        (1234567, "1 234 567 F"),
        (-1125, "-1 125 F"),
    ],
)
def test_xpf_groups_thousands_with_a_plain_space(amount, text):
    assert f.xpf(amount) == text


def test_xpf_uses_u0020_not_a_no_break_space():
    assert "\u00a0" not in f.xpf(1050) and "\u202f" not in f.xpf(1050)


def test_date_fr_on_dates_and_on_utc_datetimes_shown_in_noumea():
    assert f.date_fr(date(2026, 12, 12)) == "12/12/2026"
    # 13:30 UTC on 11 Dec is 00:30 on 12 Dec in Nouméa (UTC+11): the day shown must be the 12th.
    assert f.date_fr(datetime(2026, 12, 11, 13, 30, tzinfo=UTC)) == "12/12/2026"
    assert f.date_fr(datetime(2026, 12, 11, 12, 59, tzinfo=UTC)) == "11/12/2026"


def test_naive_datetimes_are_taken_as_utc():
    assert f.datetime_fr(datetime(2026, 3, 15, 1, 5)) == "15/03/2026 à 12:05"


def test_datetime_fr_in_noumea_time():
    assert f.datetime_fr(datetime(2026, 3, 15, 3, 5, tzinfo=UTC)) == "15/03/2026 à 14:05"
    assert f.short_date_fr(datetime(2026, 3, 15, 3, 5, tzinfo=UTC)) == "15/03"


@pytest.mark.parametrize(
    "mb, text",
    [
        (0, "0 Mo"),
        (500, "500 Mo"),
        (1000, "1 000 Mo"),
        (1023, "1 023 Mo"),
        (1024, "1 Go"),
        (1536, "1,5 Go"),
        (9830, "9,6 Go"),
        (10240, "10 Go"),
        (25600, "25 Go"),
        (102400, "100 Go"),
        (1048576, "1 024 Go"),
    ],
)
def test_data_volume(mb, text):
    assert f.data_volume(mb) == text


@pytest.mark.parametrize(
    "seconds, text",
    [
        (0, "0 s"),
        (30, "30 s"),
        (60, "1 min"),
        (750, "12 min 30 s"),
        (2700, "45 min"),
        (3600, "1 h"),
        (3900, "1 h 05 min"),
        (3930, "1 h 05 min"),
        (4320, "1 h 12 min"),
        (36000, "10 h"),
    ],
)
def test_voice_duration(seconds, text):
    assert f.voice_duration(seconds) == text


@pytest.mark.parametrize(
    "raw, text",
    [
        ("791234", "79 12 34"),
        ("+687791234", "79 12 34"),
        ("687 79 12 34", "79 12 34"),
    ],
)
def test_msisdn_fr(raw, text):
    assert f.msisdn_fr(raw) == text


def test_small_french_helpers():
    assert f.month_fr(11, 2025) == "novembre 2025"
    assert f.month_fr(2) == "février"
    assert [f.days_left_fr(d) for d in (0, 1, 5)] == ["aujourd'hui", "demain", "dans 5 jours"]
    assert f.plural(1, "jour") == "1 jour" and f.plural(2, "jour") == "2 jours" and f.plural(0, "jour") == "0 jour"
    assert f.family_fr("forfait_m") == "forfait M"
