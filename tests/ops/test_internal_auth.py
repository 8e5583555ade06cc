"""Secrets and internal credentials: production refuses development values and missing tokens,
the action server does not start without its token, and every deployment file keeps Rasa's API
and the action server closed (the processes themselves: tests/e2e/test_e2e_back_doors.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.channel.app import create_app
from bot.config import SECRET_DEV_VALUES, ConfigError, Settings, check_secrets, secret
from bot.internal_auth import token_matches
from bot.ops.launcher import internal_tokens, rasa_api_args

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "FB_APP_SECRET": "real-app-secret",
    "FB_VERIFY_TOKEN": "real-verify",
    "FB_PAGE_ACCESS_TOKEN": "EAAreal",
    "MOBILIS_INTERNAL_TOKEN": "a" * 64,
    "RASA_API_TOKEN": "b" * 64,
}


def test_the_webhook_does_not_start_in_production_without_the_internal_tokens():
    assert Settings.from_env(PRODUCTION).internal_token == "a" * 64
    for name in ("MOBILIS_INTERNAL_TOKEN", "RASA_API_TOKEN"):
        missing = {k: v for k, v in PRODUCTION.items() if k != name}
        settings = Settings.from_env(missing)  # one-off tools (profile, migrations) need no token
        with pytest.raises(ConfigError, match=name):
            create_app(settings, start_worker=False)


@pytest.mark.parametrize("name", sorted(SECRET_DEV_VALUES))
def test_production_refuses_the_development_value_of_every_secret(name):
    env = {**PRODUCTION, name: SECRET_DEV_VALUES[name]}
    with pytest.raises(ConfigError, match=name):
        check_secrets(env)
    with pytest.raises(ConfigError, match=name):
        secret(name, env, required=False)
    with pytest.raises(ConfigError, match=name):
        Settings.from_env(env)


def test_development_mode_has_harmless_defaults():
    env = {"MOBILIS_DEV_MODE": "1"}
    assert secret("MOBILIS_INTERNAL_TOKEN", env) == SECRET_DEV_VALUES["MOBILIS_INTERNAL_TOKEN"]
    assert secret("SMS_GATEWAY_TOKEN", {**env, "SMS_GATEWAY_TOKEN": "x"}) == "x"
    assert secret("SMS_GATEWAY_TOKEN", {}, required=False) == ""


def test_token_comparison():
    assert token_matches("abc", "abc")
    assert not token_matches("abd", "abc")
    assert not token_matches("", "")
    assert not token_matches(None, "abc")


def test_the_launcher_makes_unguessable_tokens_for_each_start(monkeypatch):
    monkeypatch.delenv("MOBILIS_INTERNAL_TOKEN", raising=False)
    monkeypatch.delenv("RASA_API_TOKEN", raising=False)
    first, second = internal_tokens({}), internal_tokens({})
    assert first["MOBILIS_INTERNAL_TOKEN"] != second["MOBILIS_INTERNAL_TOKEN"]
    assert len(first["RASA_API_TOKEN"]) >= 32 and first["RASA_API_TOKEN"] not in SECRET_DEV_VALUES.values()
    assert internal_tokens({"RASA_API_TOKEN": "-starts-with-a-dash"})["RASA_API_TOKEN"] == "-starts-with-a-dash"
    assert rasa_api_args({"RASA_API_TOKEN": "-x"}) == ["--enable-api", "--auth-token=-x"]


def test_the_action_server_does_not_start_in_production_without_its_token():
    env = {k: v for k, v in os.environ.items() if k not in ("MOBILIS_DEV_MODE", "MOBILIS_INTERNAL_TOKEN")}
    env["PYTHONPATH"] = str(ROOT)
    result = subprocess.run(
        [sys.executable, "-m", "actions.server", "--port", "1"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "MOBILIS_INTERNAL_TOKEN must be set" in result.stderr


def test_deployment_files_keep_the_back_doors_closed():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    rasa = [s for name, s in services.items() if name.startswith("rasa-")]
    assert rasa and all(any(arg.startswith("--auth-token=") for arg in s["command"]) for s in rasa)
    assert services["actions"]["networks"] == ["actions"]
    assert compose["networks"]["actions"].get("internal") is True
    on_actions_network = {name for name, s in services.items() if "actions" in (s.get("networks") or [])}
    assert on_actions_network <= {"actions", "postgres"} | {name for name in services if name.startswith("rasa-")}
    assert "actions.server" in services["actions"]["command"]
    credentials = yaml.safe_load((ROOT / "nlu" / "credentials.yml").read_text())
    assert list(credentials) == ["nlu.channels.internal_rest.InternalRestInput"]  # no open `rest` channel
    for endpoints in ("endpoints.yml", "endpoints.production.yml"):
        action = yaml.safe_load((ROOT / "nlu" / endpoints).read_text())["action_endpoint"]
        assert action["headers"] == {"X-Mobilis-Token": "${MOBILIS_INTERNAL_TOKEN}"}
