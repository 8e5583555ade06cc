"""SMS gateways: the outbox (development) and the HTTP gateway against a local stand-in."""

import json
import logging
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import create_engine

from bot.config import SECRET_DEV_VALUES, ConfigError, Settings
from bot.db.all_models import Base
from bot.services.identity import sms
from bot.services.identity.sms import HttpSmsGateway, OutboxSmsGateway, SmsError, gateway_from_settings, recent_messages

TEXT = "Mobilis Assistant : votre code est 123456. Il expire dans 5 minutes. Ne le communiquez à personne."


class StandIn:
    """A tiny SMS provider on 127.0.0.1: answers `statuses` in order (then 200), records requests."""

    def __init__(self, statuses=(), delay_s=0.0):
        self.statuses = list(statuses)
        self.delay_s = delay_s
        self.requests = []
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                stand_in.requests.append(
                    {
                        "auth": self.headers.get("Authorization"),
                        "type": self.headers.get("Content-Type"),
                        "path": self.path,
                        "json": json.loads(body),
                    }
                )
                if stand_in.delay_s and len(stand_in.requests) == 1:
                    time.sleep(stand_in.delay_s)
                status = stand_in.statuses.pop(0) if stand_in.statuses else 200
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(b'{"ok": true}')
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test): expected

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/sms"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stand_in():
    servers = []

    def start(*statuses, delay_s=0.0):
        server = StandIn(statuses, delay_s)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def gateway(url, **kw):
    kw.setdefault("backoff_s", 0.01)
    return HttpSmsGateway(url, "secret-token", **kw)


def test_http_gateway_posts_json_with_bearer_and_international_number(stand_in, caplog):
    server = stand_in()
    with caplog.at_level(logging.DEBUG):
        gateway(server.url, sender="Mobilis").send("791234", TEXT)
    [req] = server.requests
    assert req["auth"] == "Bearer secret-token" and req["type"] == "application/json"
    assert req["json"] == {"to": "+687791234", "text": TEXT, "from": "Mobilis"}
    assert "123456" not in caplog.text and "791234" not in caplog.text and "79****" in caplog.text


def test_http_gateway_retries_on_5xx(stand_in):
    server = stand_in(503, 500)
    gateway(server.url).send("791234", TEXT)
    assert len(server.requests) == 3


def test_http_gateway_gives_up_after_attempts(stand_in):
    server = stand_in(502, 502, 502, 502)
    with pytest.raises(SmsError):
        gateway(server.url, attempts=3).send("791234", TEXT)
    assert len(server.requests) == 3


def test_http_gateway_does_not_retry_4xx(stand_in):
    server = stand_in(401)
    with pytest.raises(SmsError, match="401"):
        gateway(server.url).send("791234", TEXT)
    assert len(server.requests) == 1


def test_http_gateway_retries_after_timeout(stand_in):
    server = stand_in(delay_s=0.5)  # first request too slow, second one fine
    gateway(server.url, timeout=(1.0, 0.2)).send("791234", TEXT)
    assert len(server.requests) == 2


def test_http_gateway_unreachable(stand_in):
    server = stand_in()
    url = server.url
    server.close()
    with pytest.raises(SmsError):
        gateway(url, attempts=2, timeout=(0.5, 0.5)).send("791234", TEXT)


def test_http_gateway_needs_url():
    with pytest.raises(SmsError):
        HttpSmsGateway.from_settings(Settings.from_env({"SMS_GATEWAY_TOKEN": "real-token"}))


def test_http_gateway_needs_a_real_token_outside_development():
    url = {"SMS_GATEWAY_URL": "http://127.0.0.1:9/x"}
    with pytest.raises(ConfigError, match="SMS_GATEWAY_TOKEN"):
        HttpSmsGateway.from_settings(Settings.from_env(url))
    with pytest.raises(ConfigError, match="development value"):
        HttpSmsGateway.from_settings(
            Settings.from_env({**url, "SMS_GATEWAY_TOKEN": SECRET_DEV_VALUES["SMS_GATEWAY_TOKEN"]})
        )
    assert (
        HttpSmsGateway.from_settings(Settings.from_env({**url, "SMS_GATEWAY_TOKEN": "real-token"})).token
        == "real-token"
    )


def test_outbox_in_session(session, clock):
    out = OutboxSmsGateway(session, clock=lambda: clock.now)
    out.send("791234", "premier")
    clock.advance(seconds=1)
    out.send("881111", "second")
    clock.advance(seconds=1)
    out.send("791234", "troisième")
    assert [m["text"] for m in recent_messages(session)] == ["troisième", "second", "premier"]
    assert [m["text"] for m in recent_messages(session, msisdn="791234", limit=1)] == ["troisième"]
    assert set(recent_messages(session)[0]) == {"id", "msisdn", "text", "created_at"}


def test_outbox_without_session_commits_on_its_own(tmp_path):
    url = f"sqlite:///{tmp_path / 'sms.db'}"
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    OutboxSmsGateway(database_url=url).send("791234", "hors session")
    from sqlalchemy.orm import Session

    with Session(engine) as s:
        assert [m["text"] for m in recent_messages(s)] == ["hors session"]
    engine.dispose()


def test_gateway_from_settings(session, caplog):
    assert isinstance(gateway_from_settings(session, Settings.from_env({"MOBILIS_DEV_MODE": "1"})), OutboxSmsGateway)
    with caplog.at_level(logging.WARNING, logger="bot.services.identity.sms"):
        gateway_from_settings(session, Settings.from_env({}))
    assert "outside development" in caplog.text
    http = gateway_from_settings(
        settings=Settings.from_env(
            {"SMS_GATEWAY": "http", "SMS_GATEWAY_URL": "http://127.0.0.1:9/x", "SMS_GATEWAY_TOKEN": "t"}
        )
    )
    assert isinstance(http, HttpSmsGateway) and http.token == "t"
    with pytest.raises(ConfigError, match="SMS_GATEWAY must be one of"):
        Settings.from_env({"SMS_GATEWAY": "carrier-pigeon"})


def test_purge_outbox(session, clock):
    out = OutboxSmsGateway(session, clock=lambda: clock.now)
    out.send("791234", "vieux")
    clock.advance(hours=2)
    out.send("791234", "récent")
    assert sms.purge_outbox(session, clock.now - timedelta(hours=1)) == 1
    assert [m["text"] for m in recent_messages(session)] == ["récent"]
