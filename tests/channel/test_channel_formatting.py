"""Rasa replies → Messenger messages within Messenger's limits (pure functions)."""

from __future__ import annotations

from bot.channel import formatting as f
from bot.devtools.graph_standin import validate_message


def valid(messages):
    problems = [validate_message(msg) for msg in messages]
    assert problems == [None] * len(messages), problems
    return messages


# ---- text ----


def test_short_text_is_one_message():
    assert f.messages_from_rasa([{"text": "Bonjour !"}]) == [{"text": "Bonjour !"}]


def test_long_text_split_on_paragraphs_first():
    first, second = "A" * 1500, "B" * 1500
    pieces = f.split_text(first + "\n\n" + second)
    assert pieces == [first, second]


def test_long_text_split_on_sentences_then_words():
    sentence = "Votre forfait comprend des appels illimités. "  # 45 chars
    text = sentence * 60  # 2700 chars, no newline
    pieces = f.split_text(text)
    assert len(pieces) == 2 and all(len(p) <= 2000 for p in pieces)
    assert pieces[0].endswith("illimités.")
    assert " ".join(pieces) == text.strip()
    words = ("mot " * 700).strip()  # no sentence end at all
    pieces = f.split_text(words)
    assert all(len(p) <= 2000 for p in pieces) and all(not p.endswith("mo") for p in pieces)
    assert " ".join(pieces) == words


def test_one_huge_word_is_hard_cut():
    pieces = f.split_text("x" * 4500)
    assert [len(p) for p in pieces] == [2000, 2000, 500]


def test_every_piece_of_a_long_reply_is_within_limit():
    text = "Ligne 1 de votre relevé : 1 050 F.\n" * 150
    messages = valid(f.messages_from_rasa([{"text": text}]))
    assert len(messages) >= 3 and all(len(m["text"]) <= 2000 for m in messages)
    assert "".join(m["text"] for m in messages).replace("\n", "") == text.replace("\n", "")


def test_empty_text_gives_no_message():
    assert f.messages_from_rasa([{"text": ""}, {"text": "   "}]) == []


# ---- quick replies ----


def test_payload_buttons_become_quick_replies_on_the_text():
    reply = {"text": "Que voulez-vous ?", "buttons": [{"title": "Mon offre", "payload": "/show_offer"}]}
    assert f.messages_from_rasa([reply]) == [
        {
            "text": "Que voulez-vous ?",
            "quick_replies": [{"content_type": "text", "title": "Mon offre", "payload": "/show_offer"}],
        }
    ]


def test_fifteen_buttons_become_thirteen_quick_replies_with_short_titles():
    buttons = [{"title": f"Option numéro {i} très détaillée", "payload": f"/opt{i}"} for i in range(15)]
    [message] = valid(f.messages_from_rasa([{"text": "Choisissez", "buttons": buttons}]))
    chips = message["quick_replies"]
    assert len(chips) == 13
    assert all(len(c["title"]) <= 20 for c in chips)
    assert chips[0]["title"] == "Option numéro 0 trè…" and chips[12]["payload"] == "/opt12"


def test_quick_replies_hang_on_last_piece_of_long_text():
    reply = {"text": "phrase. " * 400, "buttons": [{"title": "Oui", "payload": "/affirm"}]}
    messages = valid(f.messages_from_rasa([reply]))
    assert len(messages) == 2
    assert "quick_replies" not in messages[0] and messages[1]["quick_replies"][0]["payload"] == "/affirm"


def test_buttons_without_text_get_a_french_prompt():
    [message] = f.messages_from_rasa([{"buttons": [{"title": "Oui", "payload": "/affirm"}]}])
    assert message["text"] == f.DEFAULT_CHOICE_TEXT


def test_rasa_quick_replies_key_is_honoured():
    reply = {"text": "Autre chose ?", "quick_replies": [{"title": "Non merci", "payload": "/deny"}]}
    [message] = f.messages_from_rasa([reply])
    assert message["quick_replies"] == [{"content_type": "text", "title": "Non merci", "payload": "/deny"}]


def test_cut_keeps_limit_and_marks_the_cut():
    assert f.cut("Recharger mon compte Mobilis", 20) == "Recharger mon compt…"
    assert len(f.cut("x" * 50, 20)) == 20
    assert f.cut("Court", 20) == "Court"


# ---- button templates ----


def test_url_buttons_become_a_button_template():
    reply = {
        "text": "Vos documents :",
        "buttons": [{"title": "Voir ma facture", "url": "https://opt.nc/f"}, {"title": "Aide", "payload": "/help"}],
    }
    [message] = valid(f.messages_from_rasa([reply]))
    payload = message["attachment"]["payload"]
    assert payload["template_type"] == "button" and payload["text"] == "Vos documents :"
    assert payload["buttons"] == [
        {"type": "web_url", "url": "https://opt.nc/f", "title": "Voir ma facture"},
        {"type": "postback", "title": "Aide", "payload": "/help"},
    ]


def test_more_than_three_buttons_split_into_several_templates():
    buttons = [{"title": f"Lien {i}", "url": f"https://opt.nc/{i}"} for i in range(7)]
    messages = valid(f.messages_from_rasa([{"text": "Liens utiles", "buttons": buttons}]))
    templates = [m["attachment"]["payload"] for m in messages]
    assert [len(t["buttons"]) for t in templates] == [3, 3, 1]
    assert templates[0]["text"] == "Liens utiles" and templates[1]["text"] == f.MORE_CHOICES_TEXT


def test_button_template_text_over_640_goes_first_as_text():
    text = "Information importante sur votre ligne. " * 30  # ~1200 chars
    messages = valid(f.messages_from_rasa([{"text": text, "buttons": [{"title": "Site", "url": "https://opt.nc"}]}]))
    assert "text" in messages[0] and "attachment" in messages[-1]
    assert len(messages[-1]["attachment"]["payload"]["text"]) <= 640
    rebuilt = " ".join([m["text"] for m in messages[:-1]] + [messages[-1]["attachment"]["payload"]["text"]])
    assert rebuilt == text.strip()


# ---- custom payloads, images ----


def generic(n_elements, n_buttons=1, title="T"):
    return {
        "attachment": {
            "type": "template",
            "payload": {
                "template_type": "generic",
                "elements": [
                    {
                        "title": title * 100,
                        "subtitle": "S" * 100,
                        "image_url": "https://opt.nc/i.png",
                        "buttons": [
                            {"type": "postback", "title": f"Acheter le pass numéro {b}", "payload": f"/buy{b}"}
                            for b in range(n_buttons)
                        ],
                    }
                    for _ in range(n_elements)
                ],
            },
        }
    }


def test_generic_template_trimmed_to_messenger_limits():
    [message] = valid(f.messages_from_rasa([{"custom": generic(12, n_buttons=5)}]))
    elements = message["attachment"]["payload"]["elements"]
    assert len(elements) == 10
    assert all(len(e["title"]) <= 80 and len(e["subtitle"]) <= 80 for e in elements)
    assert all(len(e["buttons"]) == 3 and all(len(b["title"]) <= 20 for b in e["buttons"]) for e in elements)
    assert elements[0]["image_url"] == "https://opt.nc/i.png"


def test_custom_passes_through_untouched_when_within_limits():
    custom = {
        "attachment": {
            "type": "template",
            "payload": {
                "template_type": "generic",
                "elements": [
                    {
                        "title": "Pass 1 Go",
                        "subtitle": "1 050 F · 7 jours",
                        "buttons": [{"type": "postback", "title": "Acheter", "payload": '/buy{"id":1}'}],
                    }
                ],
            },
        }
    }
    assert f.messages_from_rasa([{"custom": custom}]) == [custom]


def test_custom_button_template_with_five_buttons_is_split():
    custom = {
        "attachment": {
            "type": "template",
            "payload": {
                "template_type": "button",
                "text": "Choix",
                "buttons": [{"type": "postback", "title": f"B{i}", "payload": f"/b{i}"} for i in range(5)],
            },
        }
    }
    messages = valid(f.messages_from_rasa([{"custom": custom}]))
    assert [len(m["attachment"]["payload"]["buttons"]) for m in messages] == [3, 2]


def test_custom_quick_replies_limited():
    custom = {"text": "Choix", "quick_replies": [{"content_type": "text", "title": "x" * 30, "payload": "/p"}] * 20}
    [message] = valid(f.messages_from_rasa([{"custom": custom}]))
    assert len(message["quick_replies"]) == 13 and len(message["quick_replies"][0]["title"]) == 20


def test_unusable_custom_is_dropped():
    assert f.messages_from_rasa([{"custom": "texte"}, {"custom": {"foo": 1}}]) == []


def test_image_becomes_image_attachment_and_carries_the_chips():
    reply = {"text": "Voici", "image": "https://opt.nc/carte.png", "buttons": [{"title": "OK", "payload": "/ok"}]}
    messages = valid(f.messages_from_rasa([reply]))
    assert messages[0] == {"text": "Voici"}
    assert messages[1]["attachment"] == {
        "type": "image",
        "payload": {"url": "https://opt.nc/carte.png", "is_reusable": True},
    }
    assert messages[1]["quick_replies"][0]["payload"] == "/ok"


def test_order_of_several_replies_is_kept():
    replies = [{"text": "un"}, {"image": "https://opt.nc/a.png"}, {"text": "trois"}]
    messages = f.messages_from_rasa(replies)
    assert [m.get("text") or m["attachment"]["type"] for m in messages] == ["un", "image", "trois"]
