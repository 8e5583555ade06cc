"""The rule that blends DIET's reading with the linear n-gram model's (nlu/components/blending.py)."""

import pytest

from nlu.components.blending import blend


def test_the_blend_is_a_weighted_mean_and_a_label_ranked_by_one_side_only_counts_zero_on_the_other():
    ranking = blend({"buy": 1.0}, {"faq": 0.8, "buy": 0.2}, first_weight=0.3)

    assert ranking == [("faq", pytest.approx(0.56)), ("buy", pytest.approx(0.44))]


def test_with_equal_weights_the_surer_reader_wins_a_disagreement():
    diet_sure = blend({"show_usage": 0.99, "faq": 0.01}, {"faq": 0.6, "show_usage": 0.4}, 0.5)
    linear_sure = blend({"show_usage": 0.6, "faq": 0.4}, {"faq": 0.99, "show_usage": 0.01}, 0.5)

    assert diet_sure[0] == ("show_usage", pytest.approx(0.695))
    assert linear_sure[0] == ("faq", pytest.approx(0.695))


def test_ties_are_broken_by_name_so_the_reading_never_depends_on_dict_order():
    assert blend({"b": 0.5, "a": 0.5}, {}, 1.0) == [("a", 0.5), ("b", 0.5)]
