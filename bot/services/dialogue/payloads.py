"""Quick-reply and postback payloads: `/intent` or `/intent{"entity": "value"}` (Rasa's syntax).

Only the webhook's real quick replies and postbacks reach Rasa in this form: a user typing
"/confirm_purchase" has the slash removed before Rasa sees it (bot.channel.processing).
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_VALUE_LEN = 300
_PAYLOAD = re.compile(r"^/(\w+)(\{.*\})?$", re.S)


def payload(intent: str, entities: dict[str, Any] | None = None) -> str:
    """ "/choose_product{"product":"RL_3000"}"; empty entity values are left out."""
    entities = {k: v for k, v in (entities or {}).items() if v not in (None, "")}
    return f"/{intent}" + (json.dumps(entities, ensure_ascii=False, separators=(",", ":")) if entities else "")


def parse_payload(text: str | None) -> tuple[str, dict[str, Any]] | None:
    """`/show_purchases{"month":"9"}` → ("show_purchases", {"month": "9"}); None if not a payload."""
    match = _PAYLOAD.match((text or "").strip())
    if not match:
        return None
    entities: dict[str, Any] = {}
    if match.group(2):
        try:
            raw = json.loads(match.group(2))
        except ValueError:
            return None
        if not isinstance(raw, dict):
            return None
        # ints stay ints (`{"page": 1}`), like the entities Rasa makes from a payload
        entities = {
            str(k): v
            for k, v in raw.items()
            if isinstance(v, (str, int)) and not isinstance(v, bool) and len(str(v)) <= MAX_VALUE_LEN
        }
    return match.group(1), entities
