"""Webhook authentication: the verification handshake and the X-Hub-Signature-256 check.

pymessenger.utils.validate_hub_signature is not used: it is Python-2 only, SHA-1 and compares with
`==` (timing leak). Everything here compares bytes with hmac.compare_digest.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Hub-Signature-256"
_PREFIX = "sha256="


def sign(app_secret: str, body: bytes) -> str:
    """Header value Meta would send for these exact body bytes."""
    digest = hmac.new(app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return _PREFIX + digest


def signature_is_valid(app_secret: str, body: bytes, header_value: str | None) -> bool:
    """True when header_value is the HMAC-SHA256 of the RAW body (never re-serialised JSON)."""
    if not header_value or not app_secret:
        return False
    expected = sign(app_secret, body).encode("ascii")
    # Encode first: compare_digest refuses non-ASCII str, and a hostile header may contain some.
    return hmac.compare_digest(expected, header_value.strip().encode("utf-8", "replace"))


def verify_token_matches(expected: str, given: str | None) -> bool:
    if not expected or given is None:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8", "replace"))
