"""bench.load_trace: a request's stamps (client and server) become its stages, in order, and the
collector's pauses count only inside the request's lifetime."""

from __future__ import annotations

from bench.load_trace import STAGES, breakdown, report


def test_stamps_become_stages_and_pauses_count_inside_the_request() -> None:
    server = [
        {"q": "refund", "arrive": 1.001, "handler": 1.002, "start": 1.010, "encode_start": 1.012,
         "encode_end": 1.030, "end": 1.035, "resumed": 1.040, "sent": 1.041, "cpu": 24.0, "lang": "en",
         "encoded": "refund", "thread": 1},
        {"q": "late", "arrive": 1.020, "handler": 1.021, "start": 1.036, "encode_start": 1.037,
         "encode_end": 1.050, "end": 1.055, "resumed": 1.056, "sent": 1.057, "thread": 1},
        {"q": "never answered", "arrive": 1.03},  # the server stopped before it was answered
    ]
    client = [["refund", 1.000, 1.043], ["late", 1.019, 1.058], ["never answered", 1.029, 9.0]]
    pauses = [(1.031, 1.033, 0), (2.0, 2.5, 2)]
    rows = {r["q"]: r for r in breakdown(server, client, pauses)}

    assert set(rows) == {"refund", "late"}
    refund = rows["refund"]
    expected = [1, 1, 8, 2, 18, 5, 5, 1, 2]
    assert [round(refund[s]) for s in STAGES] == expected
    assert round(refund["total"]) == sum(expected) == 43
    assert round(refund["gc"]) == 2 and refund["cpu"] == 24.0
    assert refund["ahead"] == 0 and rows["late"]["ahead"] == 1  # "refund" was still being answered
    text = report(list(rows.values()), pauses)
    assert "2 requests traced" in text and "refund" in text


def test_a_request_knows_the_encoder_pass_that_encoded_it() -> None:
    """The encode stage splits into waiting for a pass and the pass, with how many queries
    shared it (a pass of the same text outside the stage is another request's)."""
    server = [{"q": "refund", "arrive": 1.001, "handler": 1.002, "start": 1.010, "encode_start": 1.012,
               "encode_end": 1.030, "end": 1.035, "resumed": 1.040, "sent": 1.041, "encoded": "refund x"}]
    client = [["refund", 1.000, 1.043]]
    passes = [(0.5, 0.6, ["refund x"]), (1.013, 1.016, ["other"]), (1.016, 1.029, ["a", "refund x", "b", "a"])]
    row = breakdown(server, client, [], passes)[0]
    assert (round(row["pass wait"]), round(row["in pass"]), row["per pass"]) == (4, 13, 3)
    assert "per pass" in report([row], [])
