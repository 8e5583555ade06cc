"""Logs carry a correlation id and never a phone number, a one-time code, a token or the secret."""

from __future__ import annotations

import logging
import re

import pytest
from channel_helpers import APP_SECRET, PAGE_TOKEN, entry, page_body, signed_post, text_event, wait_idle

from bot import logmask
from bot.logmask import mask

PHONE_FORMS = ["79 12 34", "+687 79.12.34", "00687 791234", "791234", "87-65-43"]
FORBIDDEN = [
    re.compile(r"(?<!\d)(?:79|87)[\s.\-]?\d\d[\s.\-]?\d\d(?!\d)"),
    re.compile(r"(?<!\d)123456(?!\d)"),
    re.compile(re.escape(PAGE_TOKEN)),
    re.compile("EAA[A-Za-z0-9]{8,}"),
    re.compile(re.escape(APP_SECRET)),
]


@pytest.fixture
def masked_logs(caplog):
    logmask.install_filters(secrets=(APP_SECRET, PAGE_TOKEN))
    caplog.set_level(logging.DEBUG)
    yield caplog
    logmask.uninstall()


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("appelez le 79 12 34 svp", "appelez le 79**** svp"),
        ("numéro +687 79.12.34.", "numéro 79****."),
        ("ligne 791234", "ligne 79****"),
        ("Mobilis : votre code est 123456", "Mobilis : votre code est ******"),
        ("GET /x?access_token=EAAabc123456789&x=1", "GET /x?access_token=***&x=1"),
        ("token EAAZZZZZZZZZZZZ9 vu", "token EAA*** vu"),
        ("postgresql://mobilis:hunter22@db/mobilis", "postgresql://mobilis:***@db/mobilis"),
        ("psid 1234567890123456 at 1700000000001, event 42", "psid 1234567890123456 at 1700000000001, event 42"),
        ('"GET /payments/pay/HvWE4dq5SMmHxnsDIDpdvULG HTTP/1.1" 303', '"GET /payments/pay/*** HTTP/1.1" 303'),
        ("http://127.0.0.1:8080/dev/pay/Ab-_0123456789xyz?x=1", "http://127.0.0.1:8080/dev/pay/***?x=1"),
    ],
)
def test_mask(raw, expected):
    assert mask(raw) == expected


def test_a_realistic_flow_leaks_nothing(ops_app, fake_rasa, masked_logs):
    app = ops_app()
    client = app.test_client()
    sms = "Mobilis : votre code est 123456"
    fake_rasa.reply = lambda sender, text: [{"text": f"Un code a été envoyé au {text}"}]
    for i, phone in enumerate(PHONE_FORMS):
        signed_post(
            client, page_body(entry(text_event("u-log", f"mon numéro {phone}", f"mid.l{i}", ts=1700000000100 + i)))
        )
    wait_idle(app)
    log = logging.getLogger("bot.channel.test")
    log.info("SMS sent: %s", sms)  # what a careless SMS gateway log line would look like
    log.debug("calling https://graph.facebook.com/v26.0/me/messages?access_token=%s", PAGE_TOKEN)
    log.warning("signature computed with %s", APP_SECRET)
    try:
        raise ValueError(f"boom for 79 12 34 with {PAGE_TOKEN}")
    except ValueError:
        log.exception("failure while texting %s", "+687 791234")
    formatter = logging.Formatter("%(message)s")
    lines = [formatter.format(record) for record in masked_logs.records]
    text = "\n".join(lines) + masked_logs.text
    for pattern in FORBIDDEN:
        assert not pattern.search(text), pattern.pattern
    # The sensitive lines were produced, then masked (so the test can fail):
    assert "access_token=***" in text and "79****" in text and "******" in text and "Traceback" in text
    # Worker records carry the event's correlation id, and the webhook ties it to the mid.
    worker = [r for r in masked_logs.records if r.threadName.startswith("mobilis-event")]
    assert worker and all(re.fullmatch(r"ev\d+", r.correlation_id) for r in worker)
    assert any(re.match(r"ev\d+ <- mid:mid\.l0", r.getMessage()) for r in masked_logs.records)


def test_configure_formats_lines_with_the_correlation_id(capsys):
    root = logging.getLogger()
    level = root.level
    try:
        logmask.configure(level="INFO", fmt="json", secrets=(APP_SECRET,))
        with logmask.correlation("ev7"):
            logging.getLogger("bot.x").info("code 654321 for %s", APP_SECRET)
        err = capsys.readouterr().err
        assert '"cid": "ev7"' in err and "******" in err and APP_SECRET not in err and "654321" not in err
    finally:
        for handler in [h for h in root.handlers if getattr(h, "_mobilis", False)]:
            root.removeHandler(handler)
        root.setLevel(level)
        logmask.uninstall()


def test_action_server_installs_the_masking_at_import():
    """`python -m rasa_sdk --actions actions` imports the package: its records are masked."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    code = (
        "import logging, actions; logging.basicConfig(level='INFO'); "
        "logging.getLogger('rasa_sdk.executor').info('code 123456 pour le +687 79 12 34')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root), "DATABASE_URL": "sqlite://"},
    )
    assert result.returncode == 0, result.stderr
    assert "code ****** pour le 79****" in result.stderr
    assert "123456" not in result.stderr and "+687" not in result.stderr


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("code 482 913 tapé", "code ****** tapé"),
        ("code 482-913", "code ******"),
        ("numero 791 234", "numero ******"),
        ("79-12-34", "79****"),
        ("ligne 79 12 34", "ligne 79****"),
        ("+687 79.12.34", "79****"),
        # not personal data: amounts, dates, times, long ids
        ("recharge 1 000 F", "recharge 1 000 F"),
        ("solde 100 000 F", "solde 100 000 F"),
        ("plafond 100 000 XPF/jour", "plafond 100 000 XPF/jour"),
        ("le 02/12/2026 à 12:30", "le 02/12/2026 à 12:30"),
        ("event 1234567", "event 1234567"),
    ],
)
def test_codes_and_numbers_typed_in_groups_are_masked(raw, expected):
    assert mask(raw) == expected


def test_every_secret_setting_is_masked(monkeypatch):
    """The process-wide masking reads every secret setting declared in bot/config.py."""
    from bot.config import SECRET_DEV_VALUES
    from bot.logmask import install_filters

    values = {name: f"value-of-{name.lower()}-0123456789" for name in SECRET_DEV_VALUES}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    install_filters()
    try:
        record = logging.getLogRecordFactory()("x", logging.INFO, __file__, 1, " ".join(values.values()), (), None)
        leaked = [name for name, value in values.items() if value in record.getMessage()]
        assert leaked == []
    finally:
        for name in values:
            monkeypatch.delenv(name)
        install_filters()
