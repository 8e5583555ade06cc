"""Development-only endpoints exist only in development mode; production needs its secrets.

The list of /dev routes is read from a development app, so a route added later is covered too.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from channel_helpers import APP_SECRET, PAGE_TOKEN, VERIFY_TOKEN, make_settings

from bot import devtools
from bot.channel.app import ChannelOptions, create_app
from bot.config import ConfigError, Settings

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = ("FB_APP_SECRET", "FB_VERIFY_TOKEN", "FB_PAGE_ACCESS_TOKEN")
EXPECTED_DEV_PATHS = {  # what the brief lists; the test fails if one of them disappears unnoticed
    "/dev/simulator",
    "/dev/api/sign",
    "/dev/api/messages",
    "/dev/api/reset",
    "/dev/api/demo-lines",
    "/dev/api/link-line",
    "/dev/api/sms-outbox",
    "/dev/api/agent/escalations",
    "/dev/api/agent/reply",
    "/dev/api/agent/release",
    "/dev/api/thread",
    "/dev/pay/<token>",
    "/dev/graph/<version>/me/messages",
    "/dev/graph/<version>/me/messenger_profile",
}


def build(sessions, dev: bool, **env):
    settings = make_settings(dev, **env)
    app = create_app(
        settings, session_factory=sessions, options=ChannelOptions(sweep_interval=None), start_worker=False
    )
    return devtools.install(app) if dev else app


def dev_routes(app) -> list[tuple[str, str]]:
    """(method, concrete path) for every /dev rule, arguments filled with plausible values."""
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/dev"):
            continue
        path = re.sub(r"<(?:([^:<>(]+)(?:\(([^)]*)\))?:)?([^<>]+)>", _argument, rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((method, path))
    return routes


def _argument(match: re.Match) -> str:
    converter, options, name = match.groups()
    if converter == "any":  # <any(a,b):action>: one of the allowed values
        return options.split(",")[0].strip()
    return {"version": "v26.0", "token": "tok_abc123", "page_id": "1234567890"}.get(name, "x")


def test_every_dev_route_is_404_outside_dev_mode(sessions):
    dev_app = build(sessions, dev=True)
    rules = {rule.rule for rule in dev_app.url_map.iter_rules() if rule.rule.startswith("/dev")}
    assert rules >= EXPECTED_DEV_PATHS, EXPECTED_DEV_PATHS - rules
    routes = dev_routes(dev_app)
    assert len(routes) >= len(EXPECTED_DEV_PATHS)

    prod = build(sessions, dev=False).test_client()
    answers = {
        (method, path): prod.open(path, method=method, json={"psid": "u", "text": "x"}).status_code
        for method, path in routes
    }
    assert {key: code for key, code in answers.items() if code != 404} == {}
    # The same concrete paths resolve to a view in development mode (so the 404s are not typos).
    adapter = dev_app.url_map.bind("127.0.0.1")
    for method, path in routes:
        adapter.match(path, method=method)  # raises NotFound / MethodNotAllowed otherwise
    dev = dev_app.test_client()
    assert dev.get("/dev/simulator").status_code == 200
    assert dev.get("/dev/api/demo-lines").status_code != 404


def test_dev_mode_is_off_unless_explicitly_on():
    for value in ("", "0", "false", "no", "off", "dev"):
        assert make_settings(False, MOBILIS_DEV_MODE=value).dev_mode is False
    for value in ("1", "true", "yes", "on"):
        assert make_settings(False, MOBILIS_DEV_MODE=value).dev_mode is True


@pytest.mark.parametrize("missing", REQUIRED)
@pytest.mark.parametrize("how", ["absent", "empty"])
def test_production_refuses_to_start_without_each_secret(missing, how):
    env = {
        "FB_APP_SECRET": APP_SECRET,
        "FB_VERIFY_TOKEN": VERIFY_TOKEN,
        "FB_PAGE_ACCESS_TOKEN": PAGE_TOKEN,
        "MOBILIS_INTERNAL_TOKEN": "internal-token",
        "RASA_API_TOKEN": "rasa-api-token",
    }
    if how == "absent":
        del env[missing]
    else:
        env[missing] = ""
    with pytest.raises(ConfigError, match=missing):
        create_app(Settings.from_env(env), start_worker=False)  # refused before anything starts
    # Development mode may fall back to harmless defaults; production never does.
    assert Settings.from_env({**env, "MOBILIS_DEV_MODE": "1"}).dev_mode is True


def test_webhook_process_exits_without_secrets(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FB_", "MOBILIS_"))}
    env.update(PYTHONPATH=str(ROOT), DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}", WEBHOOK_PORT="1")
    result = subprocess.run(
        [sys.executable, "-c", "import webhook"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "ConfigError" in result.stderr and "FB_APP_SECRET" in result.stderr
