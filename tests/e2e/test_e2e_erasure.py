""""Effacer mes données" on the real stack also erases Rasa's copy of the conversation (the
embedded default's in-memory tracker store; the SQL store of production:
tests/production/test_topology.py)."""
from __future__ import annotations

from e2e_helpers import all_text


def test_erasing_my_data_erases_the_rasa_tracker(stack):
    psid = stack.subscriber("erase-tracker", "791234")
    stack.exchange(psid, "il me reste combien de credit")
    assert "il me reste combien de credit" in stack.tracker_user_texts(psid)
    assert "Confirmez-vous" in all_text(stack.exchange(psid, "effacer mes données"))
    stack.exchange(psid, "oui")
    assert stack.tracker_user_texts(psid) == []
