"""The journey table (journeys.yml) played on the real stack: what each subscriber sees, turn by
turn, and what the conversation changed (purchases, suspensions, links, consent, hand-offs)."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
import yaml

JOURNEYS = yaml.safe_load((Path(__file__).parent / "journeys.yml").read_text(encoding="utf-8"))
COUNTED = ("purchases", "suspensions", "handoffs")
STATES = ("linked", "consented", "suspended")


def fold(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold().replace("’", "'")


def test_the_table_is_big_enough_and_well_formed():
    assert len(JOURNEYS) >= 40
    names = [j["name"] for j in JOURNEYS]
    assert len(set(names)) == len(names)
    for journey in JOURNEYS:
        assert 1 <= len(journey["turns"]) <= 8, journey["name"]
        assert set(journey.get("effects", {})) <= set(COUNTED + STATES), journey["name"]
        for turn in journey["turns"]:  # YAML reads a bare yes / no / on as a boolean
            assert not isinstance(turn.get("say"), bool), (journey["name"], turn)


@pytest.mark.parametrize("journey", JOURNEYS, ids=[j["name"] for j in JOURNEYS])
def test_journey(chat, journey):
    chat.reset_demo()
    user = str(journey["user"])
    line = str(journey.get("line") or user)
    if user == "new":
        psid = chat.new_user("journey")
    elif user == "consented":
        psid = chat.consented_user(prefix="journey")
    else:
        psid = chat.consented_user(user, prefix="journey")
    before = chat.effects(psid, line)
    seen = None
    transcript = []
    for number, turn in enumerate(journey["turns"], 1):
        if "say" in turn:
            said = str(turn["say"])
            seen = chat.say(psid, said)
        elif "tap" in turn:
            said = f"[{turn['tap']}]"
            seen = chat.tap(psid, seen, turn["tap"])
        else:
            code = chat.code_sent_to(str(turn["code"]))
            said = {"spaced": f"{code[:3]} {code[3:]}", "dashed": f"{code[:3]}-{code[3:]}"}.get(
                turn.get("format"), code
            )
            seen = chat.say(psid, said)
        transcript.append(f"> {said}\n{seen.text}\n  chips: {seen.chip_titles}")
        where = f"turn {number} of « {journey['name']} »\n" + "\n".join(transcript)
        for wanted in turn.get("expect", []):
            assert fold(str(wanted)) in fold(seen.text), f"missing « {wanted} » at {where}"
        for unwanted in turn.get("absent", []):
            assert fold(str(unwanted)) not in fold(seen.text), f"unexpected « {unwanted} » at {where}"
        for chip in turn.get("chips", []):
            assert chip in seen.chip_titles, f"no chip « {chip} » at {where}"
    after = chat.effects(psid, line)
    for name, value in journey.get("effects", {}).items():
        got = after[name] - before[name] if name in COUNTED else after[name]
        assert got == value, f"{name}: {got} instead of {value} after « {journey['name']} »\n" + "\n".join(transcript)
