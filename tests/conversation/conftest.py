"""The conversation tests talk to the real stack (action server, Rasa with the trained models —
French and English —, the dev-mode webhook) through signed webhook posts, as Messenger would, and
read what reached the stand-in Graph API. One stack for the whole folder per operator adapter (a
start costs ≈ 30 s)."""

from __future__ import annotations

import pytest
from e2e_helpers import running_stack
from journey_helpers import Chat


@pytest.fixture(scope="session", params=["embedded", "tmf"])
def chat_stack(request, tmp_path_factory):
    """Every conversation is played twice: with the embedded operator simulator, and with the
    assistant talking TM Forum to the local operator stub (OPERATOR_BACKEND=tmf)."""
    # Many conversations buy on the same demo line in one day: the daily limits are tested
    # elsewhere (tests/purchases) and must not couple these tests to each other.
    env = {"MOBILIS_DAILY_PURCHASE_COUNT": "1000", "MOBILIS_DAILY_PURCHASE_XPF": "10000000"}
    # English journeys (visitors) need the English model's server beside the French one.
    folder = tmp_path_factory.mktemp("conversation")
    with running_stack(folder, env=env, operator=request.param, english=True) as client:
        yield client


@pytest.fixture(scope="session")
def chat(chat_stack) -> Chat:
    return Chat(chat_stack)
