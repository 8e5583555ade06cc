"""The monitoring of the production deployment: the Grafana dashboard only queries metrics the
webhook and the back office expose, filters the back office's gauges on the dashboard's `window`
variable, and docker-compose.yml / deploy/prometheus.yml wire Prometheus and Grafana to them.
Static checks of the files only (no network, no Grafana)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "mobilis-assistant.json"
PROMETHEUS = ROOT / "deploy" / "prometheus.yml"
COMPOSE = ROOT / "docker-compose.yml"

# Gauges of the back office (bot/backoffice/metrics.py), each with a label window="24h" | "7d".
WINDOW_GAUGES = {
    "mobilis_conversations",
    "mobilis_containment_ratio",
    "mobilis_handoffs",
    "mobilis_turns",
    "mobilis_fallback_ratio",
    "mobilis_disambiguation_ratio",
    "mobilis_intent_turns",
    "mobilis_faq_answers",
    "mobilis_faq_feedback",
    "mobilis_chat_purchases",
    "mobilis_alerts_sent",
    "mobilis_answer_seconds_median",
}
# Counters and the histogram of the webhook process (bot/channel/metrics.py), without a window.
WEBHOOK_METRICS = {
    "mobilis_turn_seconds_bucket",
    "mobilis_handoffs_total",
    "mobilis_alerts_sent_total",
    "mobilis_messages_in_total",
    "mobilis_send_errors_total",
    "mobilis_rasa_errors_total",
}
KNOWN_METRICS = WINDOW_GAUGES | WEBHOOK_METRICS

METRIC = re.compile(r"mobilis_[a-z_]+")
# A metric name and its label matchers, if any: `name{...}`.
SELECTOR = re.compile(r"(mobilis_[a-z_]+)\s*(\{[^}]*\})?")
WINDOW_FILTER = re.compile(r'\bwindow\s*=\s*"\$window"')


def all_panels(panels: list[dict]) -> list[dict]:
    """The panels, with those nested in collapsed rows."""
    found = []
    for panel in panels:
        found.append(panel)
        found.extend(all_panels(panel.get("panels", [])))
    return found


@pytest.fixture(scope="module")
def dashboard() -> dict:
    return json.loads(DASHBOARD.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def panels(dashboard) -> list[dict]:
    return all_panels(dashboard["panels"])


@pytest.fixture(scope="module")
def exprs(panels) -> list[str]:
    return [target["expr"] for panel in panels for target in panel.get("targets", []) if "expr" in target]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def test_the_dashboard_is_identified_and_has_the_window_variable(dashboard):
    assert dashboard["uid"] == "mobilis-assistant"
    assert dashboard["title"] == "Mobilis Assistant — service"
    assert dashboard["schemaVersion"] == 39
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    window = variables["window"]
    assert [option["value"] for option in window["options"]] == ["24h", "7d"]
    assert window["current"]["value"] == "24h"


def test_every_panel_has_a_title_and_the_prometheus_datasource(panels):
    assert panels
    for panel in panels:
        assert panel.get("title", "").strip(), panel
        assert panel.get("datasource", {}).get("uid") == "prometheus", panel["title"]
        for target in panel.get("targets", []):
            assert target.get("datasource", {}).get("uid", "prometheus") == "prometheus", panel["title"]


def test_panels_show_what_the_operator_asked_for(panels):
    titles = {panel["title"] for panel in panels}
    assert "Taux de résolution sans conseiller" in titles
    kinds = {panel["type"] for panel in panels}
    assert {"stat", "bargauge", "table", "timeseries"} <= kinds


def test_queries_use_only_exposed_metrics(exprs):
    assert exprs
    used = {name for expr in exprs for name in METRIC.findall(expr)}
    assert used <= KNOWN_METRICS, used - KNOWN_METRICS
    assert {"mobilis_containment_ratio", "mobilis_turn_seconds_bucket"} <= used


def test_every_window_gauge_is_filtered_on_the_window_variable(exprs):
    for expr in exprs:
        for name, matchers in SELECTOR.findall(expr):
            if name in WINDOW_GAUGES:
                assert matchers and WINDOW_FILTER.search(matchers), expr
            else:
                assert "window" not in (matchers or ""), expr  # the webhook's metrics have no window


def test_answer_time_quantiles_come_from_the_histogram(exprs):
    quantiles = [expr for expr in exprs if "histogram_quantile" in expr]
    assert any(expr.startswith("histogram_quantile(0.5,") for expr in quantiles)
    assert any(expr.startswith("histogram_quantile(0.95,") for expr in quantiles)
    for expr in quantiles:
        assert "rate(mobilis_turn_seconds_bucket[5m])" in expr


def test_compose_runs_the_back_office_prometheus_and_grafana(compose):
    services = compose["services"]
    assert {"backoffice", "prometheus", "grafana"} <= services.keys()
    assert services["backoffice"]["ports"] == ["127.0.0.1:8070:8070"]  # never on a public interface
    assert all(port.startswith("127.0.0.1:") for port in services["grafana"]["ports"])
    assert "ports" not in services["prometheus"]
    grafana_mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in services["grafana"]["volumes"]}
    assert grafana_mounts["/var/lib/grafana/dashboards"] == "./deploy/grafana/dashboards"
    assert grafana_mounts["/etc/grafana/provisioning"] == "./deploy/grafana/provisioning"
    prometheus_mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in services["prometheus"]["volumes"]}
    assert prometheus_mounts["/etc/prometheus/prometheus.yml"] == "./deploy/prometheus.yml"
    assert prometheus_mounts["/etc/prometheus/metrics_token"] == "./deploy/secrets/metrics_token"
    assert {"promdata", "grafanadata"} <= compose["volumes"].keys()


def test_prometheus_scrapes_the_webhook_and_the_back_office_with_the_token():
    config = yaml.safe_load(PROMETHEUS.read_text(encoding="utf-8"))
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    expected = {"webhook": "webhook:8080", "backoffice": "backoffice:8070"}
    assert expected.keys() <= jobs.keys()
    for name, target in expected.items():
        job = jobs[name]
        assert job.get("metrics_path", "/metrics") == "/metrics"
        assert [target] == [t for static in job["static_configs"] for t in static["targets"]]
        assert job["authorization"] == {"type": "Bearer", "credentials_file": "/etc/prometheus/metrics_token"}


def test_grafana_provisioning_points_at_prometheus_and_the_dashboards_folder():
    provisioning = ROOT / "deploy" / "grafana" / "provisioning"
    datasources = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text(encoding="utf-8"))
    (source,) = datasources["datasources"]
    assert (source["name"], source["uid"], source["url"]) == ("Prometheus", "prometheus", "http://prometheus:9090")
    assert source["isDefault"] is True
    providers = yaml.safe_load((provisioning / "dashboards" / "mobilis.yml").read_text(encoding="utf-8"))
    assert [p["options"]["path"] for p in providers["providers"] if p["type"] == "file"] == [
        "/var/lib/grafana/dashboards"
    ]
