"""Pictures, stickers, voice notes and files reach Rasa as the `/attachment` intent message."""

from __future__ import annotations

import pytest
from channel_helpers import PAGE_ID, entry, page_body, signed_post, wait_idle

from bot.channel.events import ATTACHMENT_INTENT

ATTACHMENTS = {
    "image": {"url": "https://scontent.example/photo.jpg"},
    "sticker": {"url": "https://scontent.example/like.png", "sticker_id": 369239263222822},
    "audio": {"url": "https://cdn.example/voice.mp4"},
    "file": {"url": "https://cdn.example/facture.pdf"},
}


@pytest.mark.parametrize("kind", sorted(ATTACHMENTS))
def test_attachment_goes_to_rasa_as_intent(ops_app, fake_rasa, standin, kind):
    app = ops_app()
    psid = f"att-{kind}"
    item = {
        "sender": {"id": psid},
        "recipient": {"id": PAGE_ID},
        "timestamp": 1700000000500,
        "message": {"mid": f"mid.att.{kind}", "attachments": [{"type": kind, "payload": ATTACHMENTS[kind]}]},
    }
    if kind == "sticker":
        item["message"]["sticker_id"] = ATTACHMENTS[kind]["sticker_id"]
    assert signed_post(app.test_client(), page_body(entry(item))).status_code == 200
    wait_idle(app)
    assert fake_rasa.texts(psid) == [ATTACHMENT_INTENT] == ["/attachment"]
    assert standin.messages(psid), "Rasa's answer was sent back"
