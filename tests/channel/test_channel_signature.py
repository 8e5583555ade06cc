"""X-Hub-Signature-256 and verify-token checks (pure)."""

from __future__ import annotations

import hashlib
import hmac

from bot.channel.signature import sign, signature_is_valid, verify_token_matches


def test_sign_matches_meta_format():
    body = b'{"object":"page"}'
    assert sign("s3cret", body) == "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()


def test_signature_checks():
    body = '{"text":"café"}'.encode()
    good = sign("s3cret", body)
    assert signature_is_valid("s3cret", body, good)
    assert not signature_is_valid("s3cret", body + b" ", good)  # one byte more
    assert not signature_is_valid("other", body, good)
    assert not signature_is_valid("s3cret", body, None)
    assert not signature_is_valid("s3cret", body, "")
    assert not signature_is_valid("s3cret", body, good.replace("sha256=", "sha1="))
    assert not signature_is_valid("s3cret", body, "sha256=é" + good[8:])  # non-ASCII: no TypeError
    assert not signature_is_valid("", body, sign("", body))  # no secret configured: refuse all


def test_verify_token():
    assert verify_token_matches("tok", "tok")
    assert not verify_token_matches("tok", "tok2")
    assert not verify_token_matches("tok", None)
    assert not verify_token_matches("", "")
    assert not verify_token_matches("tok", "tøk")
