"""Parsing of webhook bodies into events (pure)."""

from __future__ import annotations

from channel_helpers import PAGE_ID, entry, page_body, postback_event, quick_reply_event, text_event

from bot.channel.events import ATTACHMENT_INTENT, parse_webhook


def kinds(body):
    return [(e.channel, e.kind, e.text) for e in parse_webhook(body).events]


def test_every_entry_and_both_channels_are_read():
    body = page_body(
        entry(text_event("a", "un", "m1"), standby=[text_event("b", "deux", "m2")]),
        entry(text_event("c", "trois", "m3")),
    )
    assert kinds(body) == [("messaging", "text", "un"), ("standby", "text", "deux"), ("messaging", "text", "trois")]


def test_only_messaging_events_are_answerable():
    result = parse_webhook(page_body(entry(text_event("a", "un", "m1"), standby=[text_event("b", "deux", "m2")])))
    assert [e.answerable for e in result.events] == [True, False]


def test_quick_reply_wins_over_text_and_postback_uses_payload():
    body = page_body(entry(quick_reply_event("a", "Mon offre", "/show_offer", "m1"), postback_event("a", "/help")))
    assert kinds(body) == [("messaging", "quick_reply", "/show_offer"), ("messaging", "postback", "/help")]


def test_dedup_keys():
    message, postback = parse_webhook(
        page_body(entry(text_event("a", "x", "mid.42"), postback_event("a", "/help", ts=77)))
    ).events
    assert message.dedup_key == "mid:mid.42"
    assert postback.dedup_key.startswith("pb:a:77:")
    other_payload = parse_webhook(page_body(entry(postback_event("a", "/other", ts=77)))).events[0]
    assert other_payload.dedup_key != postback.dedup_key


def test_attachments_of_every_type_become_the_attachment_intent():
    for kind in ("image", "audio", "video", "file", "sticker", "fallback"):
        item = {
            "sender": {"id": "a"},
            "recipient": {"id": PAGE_ID},
            "timestamp": 1,
            "message": {"mid": f"m.{kind}", "attachments": [{"type": kind, "payload": {}}]},
        }
        [event] = parse_webhook(page_body(entry(item))).events
        assert (event.kind, event.text) == ("attachment", ATTACHMENT_INTENT)


def test_echo_delivery_read_and_unknown_are_ignored_with_reasons():
    echo = {"sender": {"id": PAGE_ID}, "recipient": {"id": "a"}, "message": {"mid": "e", "is_echo": True, "text": "x"}}
    delivery = {"sender": {"id": "a"}, "recipient": {"id": PAGE_ID}, "delivery": {"watermark": 1}}
    read = {"sender": {"id": "a"}, "recipient": {"id": PAGE_ID}, "read": {"watermark": 1}}
    reaction = {"sender": {"id": "a"}, "recipient": {"id": PAGE_ID}, "reaction": {"reaction": "love"}}
    result = parse_webhook(page_body(entry(echo, delivery, read, reaction)))
    assert result.events == []
    assert result.ignored == {"echo": 1, "delivery": 1, "read": 1, "unsupported": 1}


def test_standby_postback_without_payload_is_kept_without_text():
    item = {"sender": {"id": "a"}, "recipient": {"id": PAGE_ID}, "timestamp": 5, "postback": {"title": "Oui"}}
    [event] = parse_webhook(page_body(entry(standby=[item]))).events
    assert (event.channel, event.kind, event.text, event.answerable) == ("standby", "postback", None, False)


def test_thread_control_kinds():
    items = [
        {"sender": {"id": "a"}, "recipient": {"id": PAGE_ID}, "timestamp": i, kind: {"metadata": "m"}}
        for i, kind in enumerate(["pass_thread_control", "take_thread_control", "request_thread_control"])
    ]
    result = parse_webhook(page_body(entry(*items)))
    assert [e.kind for e in result.events] == ["pass_thread_control", "take_thread_control", "request_thread_control"]
    assert not any(e.answerable for e in result.events)


def test_non_page_and_garbage_bodies_yield_nothing():
    assert parse_webhook({"object": "user", "entry": []}).events == []
    assert parse_webhook([1, 2]).events == []
    assert parse_webhook({"object": "page", "entry": [None, {"messaging": ["x", None]}]}).events == []
