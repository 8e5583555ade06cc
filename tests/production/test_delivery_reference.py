"""The reference the delivery tests compare with (production_helpers._match): Rasa's stored
answers plus the webhook's own notices where the product may legitimately send them. A notice
under load ("Un instant…") made CI fail once when the reference ignored it."""

from __future__ import annotations

from production_helpers import APOLOGY_TEXT, SLOW_TEXT, Answer, _match

A, B, C = {"text": "a"}, {"text": "b"}, {"text": "c"}
SLOW, SORRY = {"text": SLOW_TEXT}, {"text": APOLOGY_TEXT}


def test_answers_in_order_match():
    assert _match([A, B, C], [Answer([A, B], False, []), Answer([C], False, [])]) == 0
    assert _match([A, C, B], [Answer([A, B], False, []), Answer([C], False, [])]) is None
    assert _match([A, B], [Answer([A, B], False, []), Answer([C], False, [])]) is None


def test_a_recorded_notice_is_expected_before_its_event_answer():
    answers = [Answer([A], False, []), Answer([B, C], False, [SLOW_TEXT])]
    assert _match([A, SLOW, B, C], answers) == 0
    assert _match([A, B, C], answers) is None  # recorded as sent but never arrived
    assert _match([SLOW, A, B, C], answers) is None  # before the wrong event
    assert _match([A, B, SLOW, C], answers) is None  # after the answer began


def test_an_unrecorded_notice_is_a_defect_unless_the_turn_was_interrupted():
    assert _match([SLOW, A], [Answer([A], False, [])]) is None
    assert _match([SORRY, A], [Answer([A], True, [])]) == 0
    assert _match([SORRY, SLOW, A, B], [Answer([A, B], False, [APOLOGY_TEXT, SLOW_TEXT])]) == 0


def test_a_resumed_turn_may_repeat_the_bubble_in_flight_once():
    assert _match([A, A, B], [Answer([A, B], True, [])]) == 1
    assert _match([A, A, B], [Answer([A, B], False, [])]) is None
