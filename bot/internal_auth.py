"""How our own processes recognise each other.

Only the webhook may speak to Rasa as a PSID, and only Rasa may run actions: both hops carry the
shared MOBILIS_INTERNAL_TOKEN in a header, checked before anything else (Rasa's custom channel
nlu/channels/internal_rest.py, the action server actions/server.py). Rasa's own HTTP API
(tracker, model, status) is protected by RASA_API_TOKEN (`rasa run --enable-api --auth-token`).
`./mobilis run` and `./mobilis prod-local` generate both tokens for each start when they are unset;
production sets them (bot/config/secrets.py refuses the development values).
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from bot.config import Settings, get_settings

HEADER = "X-Mobilis-Token"
RASA_CHANNEL = "mobilis"  # Rasa serves the channel at /webhooks/<name>/webhook
RASA_CHANNEL_PATH = f"/webhooks/{RASA_CHANNEL}/webhook"
INTERNAL_TOKEN = "MOBILIS_INTERNAL_TOKEN"
RASA_API_TOKEN = "RASA_API_TOKEN"


def internal_token(env: Mapping[str, str] | None = None) -> str:
    """Read once at a process's start: outside development mode, a missing or development token
    stops the process (ConfigError) instead of letting everyone in."""
    settings = get_settings() if env is None else Settings.from_env(env)
    settings.require(INTERNAL_TOKEN)
    return settings.internal_token


def token_matches(presented: str | None, expected: str) -> bool:
    """Constant-time comparison of a header value with the expected token."""
    if not presented or not expected:
        return False
    return hmac.compare_digest(presented.encode(), expected.encode())
