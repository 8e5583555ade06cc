"""Fast checks of the benchmark's pure helpers (scripts/bench.py): percentiles, turn cutting, tables."""

from __future__ import annotations

import bench
import bench_report
import pytest


def test_percentile_interpolates_like_numpy():
    values = [10, 20, 30, 40]
    assert bench.percentile(values, 50) == pytest.approx(25.0)
    assert bench.percentile(values, 0) == 10
    assert bench.percentile(values, 100) == 40
    assert bench.percentile(list(range(1, 101)), 99) == pytest.approx(99.01)
    assert bench.percentile([7], 95) == 7
    assert bench.percentile([], 50) is None


def test_percentile_does_not_depend_on_order():
    assert bench.percentile([5, 1, 4, 2, 3], 50) == 3


def test_summary_and_ratio():
    s = bench.summary([1.0, 2.0, 3.0])
    assert (s["n"], s["p50"], s["max"]) == (3, 2.0, 3.0)
    assert bench_report.ratio(30.0, 20.0) == pytest.approx(1.5)
    assert bench_report.ratio(None, 1.0) is None and bench_report.ratio(1.0, 0) is None


def _send(kind, t, action=None, text="x"):
    return {"kind": kind, "t": t, "action": action, "message": None if action else {"text": text}}


def test_turns_are_cut_on_typing_on():
    sends = [
        _send("sender_action", 1, "typing_on"),
        _send("message", 2),
        _send("message", 3),
        _send("sender_action", 4, "typing_on"),
        _send("message", 5),
    ]
    turns = bench.segment_turns(sends)
    assert [len(t) for t in turns] == [3, 2]
    assert turns[1][-1]["t"] == 5


def test_a_message_before_any_typing_on_is_its_own_turn():
    turns = bench.segment_turns([_send("message", 1), _send("sender_action", 2, "typing_on"), _send("message", 3)])
    assert [len(t) for t in turns] == [1, 2]


def test_signature_is_hmac_sha256_of_raw_body():
    from bot.channel.signature import signature_is_valid

    body = b'{"object":"page","entry":[]}'
    assert signature_is_valid(bench.APP_SECRET, body, bench.sign(body))
    assert not signature_is_valid("other-secret", body, bench.sign(body))


def test_alternation_puts_each_path_first_equally():
    order = bench.alternation(4)
    assert order[:4] == ["ours", "bare", "bare", "ours"]
    assert sorted(order) == ["bare"] * 4 + ["ours"] * 4


def test_alternation_balances_positions_with_more_paths():
    paths = ("ours", "bare", "v:x")
    order = bench.alternation(6, paths)
    positions = {p: [i % 3 for i, q in enumerate(order) if q == p] for p in paths}
    assert all(len(v) == 6 for v in positions.values())
    assert len({sum(v) for v in positions.values()}) == 1  # same mean position for every path


def test_markdown_table_and_formats():
    table = bench_report.markdown_table(["a", "b"], [["1", "2"]])
    assert table.splitlines() == ["| a | b |", "|---|---|", "| 1 | 2 |"]
    assert (
        bench_report.fmt_ms(None) == "–"
        and bench_report.fmt_ms(12.34) == "12.3"
        and bench_report.fmt_ms(123.4) == "123"
    )
    assert bench_report.fmt_ratio(1.234) == "1.23"


def test_scripted_chip_is_taken_from_the_previous_answer():
    previous = [("Recharge 3000", '/choose_product{"product":"RL_3000"}'), ("Annuler", "/cancel_purchase")]
    assert bench.step_message(("pick", "/choose_product", None), previous) == previous[0]
    assert bench.step_message(("pick", "/confirm_purchase", None), previous) is None
    assert bench.step_message("solde", previous) == ("solde", None)


def test_quick_replies_are_found_in_messages_and_rasa_replies():
    messages = [
        {"text": "t", "quick_replies": [{"content_type": "text", "title": "Oui", "payload": "/affirm"}]},
        {
            "attachment": {
                "type": "template",
                "payload": {
                    "template_type": "button",
                    "text": "x",
                    "buttons": [{"type": "postback", "title": "B", "payload": "/b"}],
                },
            }
        },
    ]
    assert bench.quick_replies_of_messages(messages) == [("Oui", "/affirm"), ("B", "/b")]
    assert bench.quick_replies_of_rasa([{"text": "t", "buttons": [{"title": "Oui", "payload": "/affirm"}]}]) == [
        ("Oui", "/affirm")
    ]
