"""docker-compose.yml cannot run here (no Docker engine): check its wiring statically instead —
the same services as the local topology, health checks, restart policies, and every variable the
Rasa endpoints need actually given to the Rasa containers."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
LONG_RUNNING = ["postgres", "redis", "actions", "rasa-1", "rasa-2", "webhook"]


def endpoint_variables(name: str) -> set[str]:
    lines = [line.split("#", 1)[0] for line in (ROOT / "nlu" / name).read_text().splitlines()]
    return set(re.findall(r"\$\{(\w+)\}", "\n".join(lines)))


def test_every_long_running_service_has_a_health_check_and_a_restart_policy():
    for name in LONG_RUNNING:
        assert "healthcheck" in SERVICES[name], name
        assert SERVICES[name]["restart"] == "unless-stopped", name
    assert SERVICES["migrate"]["restart"] == "no"


def test_rasa_servers_share_postgres_tracker_and_redis_lock_store():
    needed = endpoint_variables("endpoints.production.yml")
    assert {"TRACKER_DB_HOST", "LOCK_STORE_REDIS_HOST", "ACTION_ENDPOINT_URL"} <= needed
    for name in ("rasa-1", "rasa-2"):
        rasa = SERVICES[name]
        assert rasa["image"] == "rasa/rasa:3.6.21-full"
        assert "nlu/endpoints.production.yml" in rasa["command"]
        assert needed <= set(rasa["environment"]), needed - set(rasa["environment"])
    urls = SERVICES["webhook"]["environment"]["RASA_URL"].split(",")
    assert urls == ["http://rasa-1:5005", "http://rasa-2:5005"]


def test_rasa_containers_can_import_the_pipeline_s_own_components():
    config = yaml.safe_load((ROOT / "nlu" / "config.yml").read_text(encoding="utf-8"))
    custom = [step["name"] for step in config["pipeline"] if "." in step["name"]]
    assert custom, "the pipeline has no custom component any more: drop this test"
    for name in ("rasa-1", "rasa-2"):
        rasa = SERVICES[name]
        assert rasa["environment"]["PYTHONPATH"] == "/app"
        mounted = {volume.split(":")[1] for volume in rasa["volumes"]}
        for component in custom:
            assert f"/app/{component.split('.')[0]}" in mounted, component
        assert "/app/bot" in mounted  # the components import bot.services.dialogue


def test_webhook_runs_gunicorn_with_redis_and_postgres():
    webhook = SERVICES["webhook"]
    assert webhook["command"][:3] == ["gunicorn", "-c", "deploy/gunicorn.conf.py"]
    env = webhook["environment"]
    assert env["DATABASE_URL"].startswith("postgresql+psycopg2://") and env["REDIS_URL"].startswith("redis://")
    assert env["MOBILIS_DEV_MODE"] == "0"


def test_env_example_documents_the_production_variables():
    documented = set(re.findall(r"^(\w+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    assert endpoint_variables("endpoints.production.yml") <= documented
    assert {"REDIS_URL", "WEB_CONCURRENCY", "WEBHOOK_CLAIM_LEASE_SECONDS", "WEBHOOK_RETRY_WINDOW_SECONDS"} <= documented
