"""GET /metrics: counters and histograms move when the webhook and the worker do their work."""

from __future__ import annotations

import contextlib

from channel_helpers import entry, page_body, signed_post, text_event, wait_idle
from prometheus_client import REGISTRY

from bot.channel import metrics
from bot.channel.graph import GraphError, OutsideWindow, TransientGraphError


def value(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_turn_moves_in_out_and_latency_metrics(ops_app, fake_rasa):
    app = ops_app()
    client = app.test_client()
    before = {
        "in": value("mobilis_messages_in_total", kind="text"),
        "out": value("mobilis_messages_out_total", kind="message"),
        "typing": value("mobilis_messages_out_total", kind="sender_action"),
        "turns": value("mobilis_turn_seconds_count"),
        "acks": value("mobilis_webhook_ack_seconds_count"),
        "dup": value("mobilis_messages_duplicate_total"),
    }
    body = page_body(entry(text_event("m1", "bonjour", "mid.m1")))
    assert signed_post(client, body).status_code == 200
    assert signed_post(client, body).status_code == 200  # Meta's redelivery: counted as duplicate
    wait_idle(app)
    assert value("mobilis_messages_in_total", kind="text") == before["in"] + 2
    assert value("mobilis_messages_duplicate_total") == before["dup"] + 1
    assert value("mobilis_messages_out_total", kind="message") == before["out"] + 1
    assert value("mobilis_messages_out_total", kind="sender_action") == before["typing"] + 1
    assert value("mobilis_turn_seconds_count") == before["turns"] + 1
    assert value("mobilis_webhook_ack_seconds_count") == before["acks"] + 2
    scraped = client.get("/metrics")
    assert scraped.status_code == 200 and scraped.mimetype == "text/plain"
    text = scraped.get_data(as_text=True)
    for name in (
        "mobilis_messages_in_total",
        "mobilis_send_errors_total",
        "mobilis_rasa_errors_total",
        "mobilis_turn_seconds_bucket",
        "mobilis_webhook_ack_seconds_bucket",
        "mobilis_handoffs_total",
    ):
        assert name in text


def test_rasa_errors_and_send_errors_are_counted(ops_app, standin, closed_port_url):
    app = ops_app(rasa_url=closed_port_url)
    rasa_before = value("mobilis_rasa_errors_total")
    permanent_before = value("mobilis_send_errors_total", kind="permanent")
    standin.fail_next(code=100, count=1)  # the typing indicator is refused (bad parameter)
    signed_post(app.test_client(), page_body(entry(text_event("m2", "allo", "mid.m2"))))
    wait_idle(app)
    assert value("mobilis_rasa_errors_total") == rasa_before + 1
    assert value("mobilis_send_errors_total", kind="permanent") == permanent_before + 1
    assert standin.messages("m2"), "the apology still went out"


def test_error_kinds():
    assert metrics.error_kind(TransientGraphError("x", code=613)) == "rate_limit"
    assert metrics.error_kind(TransientGraphError("x", code=2)) == "transient"
    assert metrics.error_kind(OutsideWindow("x", code=10, subcode=2018278)) == "window"
    assert metrics.error_kind(GraphError("x", code=100)) == "permanent"


def test_metrics_token_when_set(ops_app):
    client = ops_app(start_worker=False, METRICS_TOKEN="scrape-me-please").test_client()
    assert client.get("/metrics").status_code == 403
    ok = client.get("/metrics", headers={"Authorization": "Bearer scrape-me-please"})
    assert ok.status_code == 200


def test_handoff_passes_are_counted():
    class Fake:
        def __init__(self, fail):
            self.fail = fail

        def pass_thread_control(self, psid, metadata):
            if self.fail:
                raise RuntimeError("refused")

    passed, failed = value("mobilis_handoffs_total", result="passed"), value("mobilis_handoffs_total", result="failed")
    metrics.CountingThreadControl(Fake(False)).pass_thread_control("p", "résumé")
    with contextlib.suppress(RuntimeError):
        metrics.CountingThreadControl(Fake(True)).pass_thread_control("p", "résumé")
    assert value("mobilis_handoffs_total", result="passed") == passed + 1
    assert value("mobilis_handoffs_total", result="failed") == failed + 1
