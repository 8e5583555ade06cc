"""The channel with the hand-off: control passed after the reply, standby silence, control back."""

from __future__ import annotations

from datetime import timedelta

from channel_helpers import entry, page_body, quick_reply_event, signed_post, text_event, wait_idle
from handoff_helpers import (
    FRIDAY_16H,
    INBOX_APP_ID,
    MONDAY_10H,
    OUR_APP_ID,
    PAGE_ID,
    Clock,
    FakePort,
    control_event,
    escalations,
    handoff_action,
    inbound,
    owner,
    texts,
)

from bot.db import handoff as h
from bot.db import messaging as m
from bot.services.handoff import escalations as service
from bot.services.language import preference


def ask_for_human(app, sessions, fake_rasa, psid="u1", now=MONDAY_10H):
    fake_rasa.reply = handoff_action(sessions, now)
    signed_post(app.test_client(), page_body(entry(text_event(psid, "un conseiller svp", f"mid.ask.{psid}"))))
    wait_idle(app)


def test_in_hours_reply_is_sent_then_thread_passed_to_inbox(make_app, sessions, fake_rasa, standin):
    app = make_app()
    ask_for_human(app, sessions, fake_rasa)
    [reply] = standin.messages("u1")
    assert "conseiller" in reply["message"]["text"]
    [call] = standin.calls
    assert call["path"] == f"{PAGE_ID}/pass_thread_control"
    assert str(call["body"]["target_app_id"]) == INBOX_APP_ID
    assert "user_request" in call["body"]["metadata"] and "show_balance, nlu_fallback" in call["body"]["metadata"]
    # Messenger refuses sends from an app that gave the thread away: the reply must come first.
    assert reply["seq"] < call["seq"]
    assert owner(sessions, "u1") == h.INBOX
    assert [e.status for e in escalations(sessions, "u1")] == [h.WITH_AGENT]


def test_standby_messages_are_stored_and_never_answered(make_app, sessions, fake_rasa, standin):
    app = make_app()
    ask_for_human(app, sessions, fake_rasa)
    sends_before, rasa_before = len(standin.sends), len(fake_rasa.received)
    standby = [
        text_event("u1", "Vous êtes là ?", "mid.sb1", ts=1700000000100),
        quick_reply_event("u1", "Mon offre", "/show_offer", "mid.sb2"),
    ]
    assert signed_post(app.test_client(), page_body(entry(standby=standby))).status_code == 200
    wait_idle(app)
    assert len(standin.sends) == sends_before and len(fake_rasa.received) == rasa_before
    rows = [r for r in inbound(sessions, "u1") if r.channel == "standby"]
    assert [(r.status, r.text) for r in rows] == [(m.STORED, "Vous êtes là ?"), (m.STORED, "/show_offer")]
    assert owner(sessions, "u1") == h.INBOX
    with sessions() as session:
        lines = service.transcript(session, "u1")
    assert ("user", "Vous êtes là ?", "standby") in [(x["author"], x["text"], x.get("channel")) for x in lines]


def test_pass_back_to_our_app_greets_and_resumes(make_app, sessions, fake_rasa, standin):
    app = make_app()
    ask_for_human(app, sessions, fake_rasa)
    before = len(standin.messages("u1"))
    back = control_event("u1", "pass_thread_control", OUR_APP_ID, INBOX_APP_ID, ts=1700000000200)
    client = app.test_client()
    assert signed_post(client, page_body(entry(back))).status_code == 200
    assert signed_post(client, page_body(entry(back))).status_code == 200  # redelivered: handled once
    wait_idle(app)
    welcome = standin.messages("u1")[before:]
    assert len(welcome) == 1 and "je reprends la conversation" in welcome[0]["message"]["text"]
    assert owner(sessions, "u1") == h.BOT
    [escalation] = escalations(sessions, "u1")
    assert (escalation.status, escalation.closed_by) == (h.CLOSED, "returned")
    [row] = [r for r in inbound(sessions, "u1") if r.kind == "pass_thread_control"]
    assert row.status == m.DONE
    # The bot answers again, without greeting twice.
    signed_post(client, page_body(entry(text_event("u1", "mon solde", "mid.after"))))
    wait_idle(app)
    assert texts(standin.messages("u1")[before + 1 :]) == ["écho : mon solde"]


def test_release_gives_control_back_too(make_app, sessions, fake_rasa, standin):
    app = make_app()
    ask_for_human(app, sessions, fake_rasa)
    release = {
        "sender": {"id": "u1"},
        "recipient": {"id": PAGE_ID},
        "timestamp": 1700000000300,
        "release_thread_control": {"new_owner_app_id": None, "metadata": "done"},
    }
    signed_post(app.test_client(), page_body(entry(release)))
    wait_idle(app)
    assert "je reprends" in standin.messages("u1")[-1]["message"]["text"]
    assert escalations(sessions, "u1")[0].closed_by == "released"


def test_pass_to_another_app_is_only_recorded(make_app, sessions, fake_rasa, standin):
    app = make_app()
    ask_for_human(app, sessions, fake_rasa)
    sends = len(standin.sends)
    other = control_event("u1", "pass_thread_control", "777", INBOX_APP_ID)
    signed_post(app.test_client(), page_body(entry(other)))
    wait_idle(app)
    assert len(standin.sends) == sends and owner(sessions, "u1") == h.INBOX
    assert [r.status for r in inbound(sessions, "u1") if r.kind == "pass_thread_control"] == [m.STORED]


def test_message_on_messaging_while_with_agent_means_control_is_back(make_app, sessions, fake_rasa, standin):
    app = make_app()
    ask_for_human(app, sessions, fake_rasa)
    before = len(standin.messages("u1"))
    signed_post(app.test_client(), page_body(entry(text_event("u1", "mon solde", "mid.back"))))
    wait_idle(app)
    sent = texts(standin.messages("u1")[before:])
    assert len(sent) == 2 and "je reprends la conversation" in sent[0] and sent[1] == "écho : mon solde"
    assert escalations(sessions, "u1")[0].closed_by == "user_message"
    assert fake_rasa.texts("u1")[-1] == "mon solde"


def test_take_by_inbox_silences_the_bot(make_app, sessions, fake_rasa, standin):
    app = make_app()
    taken = control_event("u5", "take_thread_control", INBOX_APP_ID, OUR_APP_ID)
    signed_post(app.test_client(), page_body(entry(taken)))
    wait_idle(app)
    assert owner(sessions, "u5") == h.INBOX and standin.sends == [] and fake_rasa.received == []


def test_out_of_hours_next_text_is_the_message_left(make_app, sessions, fake_rasa, standin):
    app = make_app(clock=Clock(FRIDAY_16H + timedelta(minutes=1)))
    ask_for_human(app, sessions, fake_rasa, now=FRIDAY_16H)
    assert standin.calls == []  # nothing passed out of hours
    assert "lundi à 7h30" in standin.messages("u1")[-1]["message"]["text"]
    rasa_before = len(fake_rasa.received)
    signed_post(app.test_client(), page_body(entry(text_event("u1", "Ma carte SIM ne marche plus", "mid.left"))))
    wait_idle(app)
    assert len(fake_rasa.received) == rasa_before  # kept for the agents, not sent to Rasa
    assert "message est enregistré" in standin.messages("u1")[-1]["message"]["text"]
    [escalation] = escalations(sessions, "u1")
    assert (escalation.status, escalation.user_message) == (h.WAITING_HOURS, "Ma carte SIM ne marche plus")
    # Afterwards the bot answers as usual.
    signed_post(app.test_client(), page_body(entry(text_event("u1", "mon solde", "mid.next"))))
    wait_idle(app)
    assert fake_rasa.texts("u1")[-1] == "mon solde"


def test_out_of_hours_button_cancels_the_message_wait(make_app, sessions, fake_rasa, standin):
    app = make_app(clock=Clock(FRIDAY_16H + timedelta(minutes=1)))
    ask_for_human(app, sessions, fake_rasa, now=FRIDAY_16H)
    signed_post(app.test_client(), page_body(entry(quick_reply_event("u1", "Autre question", "/help", "mid.qr"))))
    wait_idle(app)
    assert fake_rasa.texts("u1")[-1] == "/help"
    with sessions() as session:
        assert not service.expects_message(session, "u1", FRIDAY_16H + timedelta(minutes=2))


def test_inactivity_sweep_takes_back_and_greets_at_next_message(make_app, sessions, fake_rasa, standin):
    clock = Clock(MONDAY_10H)
    app = make_app(clock=clock)
    gate = app.extensions["mobilis_handoff"]
    with sessions() as session:  # a hand-off an hour ago (the channel's own rows are timed now)
        service.request_handoff(session, "u1", "user_request", [], MONDAY_10H, FakePort())
        session.commit()
    clock.now = MONDAY_10H + timedelta(minutes=119)
    gate.sweep()
    assert owner(sessions, "u1") == h.INBOX
    clock.now = MONDAY_10H + timedelta(minutes=121)
    gate.sweep()
    assert owner(sessions, "u1") == h.BOT
    assert standin.calls[-1]["path"] == f"{PAGE_ID}/take_thread_control"
    assert standin.messages("u1") == []  # no unsolicited message (24-hour window)
    signed_post(app.test_client(), page_body(entry(text_event("u1", "allo ?", "mid.idle"))))
    wait_idle(app)
    sent = texts(standin.messages("u1"))
    assert len(sent) == 2 and "Aucun conseiller" in sent[0] and sent[1] == "écho : allo ?"


def test_channel_without_handoff_tables_works_as_before(tmp_path, fake_rasa, standin):
    from channel_helpers import fast_graph, fast_rasa, make_settings
    from sqlalchemy.orm import sessionmaker

    from bot.channel.app import ChannelOptions, create_app
    from bot.db.base import Base, make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    Base.metadata.create_all(
        engine, tables=[m.InboundEvent.__table__, m.OutboundMessage.__table__, m.DialogueContext.__table__]
    )
    app = create_app(
        make_settings(GRAPH_API_URL=standin.url, RASA_URL=fake_rasa.url),
        session_factory=sessionmaker(bind=engine, expire_on_commit=False),
        rasa_client=fast_rasa(fake_rasa.url),
        graph_client=fast_graph(standin.url),
        options=ChannelOptions(sweep_interval=None),
    )
    try:
        assert app.extensions["mobilis_handoff"] is None
        signed_post(app.test_client(), page_body(entry(text_event("u1", "bonjour", "mid.old"))))
        wait_idle(app)
        assert texts(standin.messages("u1")) == ["écho : bonjour"]
    finally:
        app.extensions["mobilis_channel"].dispatcher.stop()
        engine.dispose()


def test_the_message_left_for_the_agents_is_thanked_in_the_user_s_language(make_app, sessions, fake_rasa, standin):
    app = make_app(clock=Clock(FRIDAY_16H + timedelta(minutes=1)), RASA_URL_EN=fake_rasa.url)
    with sessions() as session:
        preference.choose(session, "u1", "en", FRIDAY_16H)
        session.commit()
    ask_for_human(app, sessions, fake_rasa, now=FRIDAY_16H)
    # A French message for the agents changes neither the language nor the thanks.
    signed_post(app.test_client(), page_body(entry(text_event("u1", "ma carte sim ne marche plus", "mid.left"))))
    wait_idle(app)
    thanks = standin.messages("u1")[-1]["message"]["text"]
    assert thanks.startswith("Thank you, your message is saved for our advisers. They are back on Monday")
    with sessions() as session:
        assert preference.current(session, "u1") == "en"
