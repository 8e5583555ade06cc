"""`OPERATOR_BACKEND=tmf ./mobilis run` without an operator address starts the local operator stub
and points every process at it; with an address, the real operator is used and no stub starts."""

from __future__ import annotations

from bot.config import Settings
from bot.ops.launcher import Ports, Stack, operator_stub_env, wants_operator_stub


def test_the_stub_plays_the_operator_only_when_none_is_given():
    assert wants_operator_stub({"OPERATOR_BACKEND": "tmf"})
    assert wants_operator_stub({"OPERATOR_BACKEND": "TMF", "OPERATOR_API_URL": ""})
    assert not wants_operator_stub({"OPERATOR_BACKEND": "tmf", "OPERATOR_API_URL": "https://api.operator.nc"})
    assert not wants_operator_stub({})
    assert not wants_operator_stub({"OPERATOR_BACKEND": "embedded"})


def test_every_process_of_the_stack_talks_tm_forum_to_the_stub(monkeypatch):
    for name in ("OPERATOR_BACKEND", "OPERATOR_API_URL", "OPERATOR_TOKEN_URL"):
        monkeypatch.delenv(name, raising=False)
    stack = Stack(rasa_bin="rasa", model="m.tar.gz", ports=Ports(operator=18090), operator_stub=True)
    env = stack._environment()
    assert env["OPERATOR_API_URL"] == "http://127.0.0.1:18090"
    assert env["OPERATOR_TOKEN_URL"] == "http://127.0.0.1:18090/oauth/token"
    settings = Settings.from_env({**operator_stub_env(18090), "MOBILIS_DEV_MODE": "1"})
    assert settings.operator_backend == "tmf" and settings.operator_client_secret  # the development secret
    plain = Stack(rasa_bin="rasa", model="m.tar.gz")._environment()  # the default: the embedded operator
    assert "OPERATOR_API_URL" not in plain and "OPERATOR_BACKEND" not in plain
