"""One settings object: every environment variable is declared once (bot/config/settings.py), read
there only, and .env.example is exactly what the declarations generate."""

from __future__ import annotations

import ast
from dataclasses import fields
from pathlib import Path

import pytest

from bot.config import SECRET_DEV_VALUES, ConfigError, Settings
from bot.config.env_example import render
from bot.config.settings import ELSEWHERE

ROOT = Path(__file__).resolve().parents[2]
# Process orchestrators hand their own environment on to the processes they start (and generate
# the internal tokens when unset): they read it as the children will, not as settings.
ORCHESTRATORS = {"bot/ops/launcher.py", "bot/ops/topology.py"}


def _environment_reads(tree: ast.AST) -> list[int]:
    """Lines reading the process environment: os.environ / os.getenv / environ in any form."""
    lines = []
    for node in ast.walk(tree):
        reads_attribute = isinstance(node, ast.Attribute) and node.attr in {"environ", "getenv", "environb"}
        imports_name = isinstance(node, ast.ImportFrom) and node.module == "os"
        if reads_attribute or (imports_name and any(alias.name in {"environ", "getenv"} for alias in node.names)):
            lines.append(node.lineno)
    return lines


def runtime_modules() -> list[Path]:
    return [
        *ROOT.glob("bot/**/*.py"),
        *ROOT.glob("actions/*.py"),
        *ROOT.glob("nlu/**/*.py"),
        ROOT / "webhook.py",
        ROOT / "deploy/gunicorn.conf.py",
    ]


def test_only_the_settings_module_reads_the_environment():
    readers = {}
    for path in runtime_modules():
        relative = str(path.relative_to(ROOT))
        if relative.startswith(("bot/config/", "bot/devtools/", "bot/tools/")) or relative in ORCHESTRATORS:
            continue  # development and one-off tools take command-line flags
        lines = _environment_reads(ast.parse(path.read_text(encoding="utf-8")))
        if lines:
            readers[relative] = lines
    assert readers == {}, f"read these through bot.config.get_settings(): {readers}"


def test_the_scan_sees_every_form_of_read():
    for source in ("import os\nos.environ.get('X')", "import os\nos.getenv('X')", "from os import environ"):
        assert _environment_reads(ast.parse(source)), source
    assert not _environment_reads(ast.parse("from bot.config import get_settings\nget_settings().redis_url"))


def test_env_example_is_generated_from_the_declarations():
    committed = (ROOT / ".env.example").read_text(encoding="utf-8")
    assert committed == render(), "run: python -m bot.config.env_example > .env.example"


def test_each_variable_is_declared_once_and_every_secret_is_a_setting():
    names = [spec.metadata["env"] for spec in fields(Settings) if "env" in spec.metadata]
    names += [variable.name for variable in ELSEWHERE]
    assert len(names) == len(set(names))
    assert set(SECRET_DEV_VALUES) <= set(names)
    secret_fields = {spec.metadata["env"] for spec in fields(Settings) if spec.metadata.get("secret")}
    assert secret_fields == set(SECRET_DEV_VALUES) - {"METRICS_TOKEN"}  # an unset metrics token: /metrics open


def test_values_are_typed_and_checked():
    settings = Settings.from_env(
        {"WEBHOOK_WORKERS": "8", "READYZ_TIMEOUT_SECONDS": "0.5", "MOBILIS_DEV_MODE": "yes", "RASA_URL": "http://r:1/"}
    )
    assert (settings.webhook_workers, settings.readyz_timeout_seconds, settings.dev_mode) == (8, 0.5, True)
    assert settings.rasa_url == "http://r:1" and settings.claim_lease_seconds is None
    assert Settings.from_env({"REDIS_URL": "redis://127.0.0.1"}).claim_lease_seconds == 30.0
    assert Settings.from_env({"WEBHOOK_WORKERS": ""}).webhook_workers == 4  # empty means unset
    with pytest.raises(ConfigError, match="WEBHOOK_WORKERS must be an integer"):
        Settings.from_env({"WEBHOOK_WORKERS": "four"})
    with pytest.raises(ConfigError, match="LINK_REVALIDATE_DAYS must be at least 1"):
        Settings.from_env({"LINK_REVALIDATE_DAYS": "0"})
    with pytest.raises(ConfigError, match="SMS_GATEWAY must be one of"):
        Settings.from_env({"SMS_GATEWAY": "pigeon"})


def test_secrets_are_required_by_the_process_that_needs_them():
    settings = Settings.from_env({})  # production: loading works without the webhook's secrets...
    assert settings.fb_app_secret == ""
    with pytest.raises(ConfigError, match="FB_APP_SECRET must be set"):
        settings.require("FB_APP_SECRET")  # ...the webhook's start refuses it
    with pytest.raises(ConfigError, match="development value"):
        Settings.from_env({"FB_APP_SECRET": SECRET_DEV_VALUES["FB_APP_SECRET"]})
    assert Settings.from_env({"MOBILIS_DEV_MODE": "1"}).fb_app_secret == SECRET_DEV_VALUES["FB_APP_SECRET"]
