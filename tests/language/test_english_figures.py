"""Visitors name positions, months and days in English; French readings are unchanged."""

from __future__ import annotations

import pytest

from bot.services.dialogue.quantities import HistoryFilter, facet, history_filter, is_follow_up, ordinal


@pytest.mark.parametrize(
    "text, position",
    [("the first one", 1), ("second", 2), ("3rd pls", 3), ("the last one", -1), ("number 2", 2), ("le deuxième", 2)],
)
def test_positions_in_english(text, position):
    assert ordinal(text) == position


@pytest.mark.parametrize(
    "text, expected",
    [
        ("my top ups last month", HistoryFilter("TOPUP", months_back=1)),
        ("purchases this month", HistoryFilter(months_back=0)),
        ("what did i buy 2 months ago", HistoryFilter(months_back=2)),
        ("data pass i bought yesterday", HistoryFilter("IMD", days_back=1)),
        ("recharges in october", HistoryFilter("RL", month=10)),
        ("my purchases in may", HistoryFilter(month=5)),
        ("may i see my purchases", HistoryFilter()),  # "may" the verb is no month
        ("what i bought on friday", HistoryFilter(weekday=4)),
        ("mes recharges du mois dernier", HistoryFilter("RL", months_back=1)),
        ("mon pass de lundi", HistoryFilter("IMD", weekday=0)),
    ],
)
def test_purchase_history_filters_in_english(text, expected):
    assert history_filter(text) == expected


@pytest.mark.parametrize(
    "text, part",
    [("and data?", "data"), ("what about my calls", "voice"), ("how many texts", "sms"), ("in october", None)],
)
def test_english_follow_ups_of_a_balance(text, part):
    assert is_follow_up(text) and facet(text) == part


@pytest.mark.parametrize("text", ["how do i top up my phone with a card", "can you tell me my plan details"])
def test_longer_english_questions_are_not_follow_ups(text):
    assert not is_follow_up(text)
