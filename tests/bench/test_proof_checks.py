"""The proof's checks catch what they are there for: a lost message, one sent twice, two
arriving out of order, an answer missing, and a target not met turning the run red."""

import math

from bench.proof_checks import (
    Row,
    all_met,
    answered_sid,
    at_least,
    at_most,
    duplicated,
    lost,
    match_answers,
    out_of_order,
    percentile,
    table,
)


def test_a_lost_message_is_caught():
    assert lost(["a", "b", "c"], ["c", "a"]) == ["b"]
    assert lost(["a", "b"], ["b", "a"]) == []


def test_a_message_sent_twice_is_caught():
    assert duplicated(["a", "b"], ["a", "b", "a"]) == ["a"]
    assert duplicated(["a", "a"], ["a", "a"]) == []  # the same words queued twice, sent twice
    assert duplicated(["a"], []) == []  # lost, not duplicated


def test_an_out_of_order_pair_is_caught_per_phone():
    queued = {"+1": ["m1", "m2", "m3"], "+2": ["n1", "n2"]}
    in_order = [("+1", "m1"), ("+2", "n1"), ("+1", "m2"), ("+2", "n2"), ("+1", "m3")]
    assert out_of_order(queued, in_order) == []
    swapped = [("+1", "m2"), ("+1", "m1"), ("+2", "n1"), ("+1", "m3"), ("+2", "n2")]
    assert out_of_order(queued, swapped) == [("+1", "m1", "m2")]
    # another phone's messages interleaved in any way are no disorder
    assert out_of_order(queued, [("+2", "n1"), ("+1", "m1"), ("+1", "m2"), ("+2", "n2")]) == []


def test_a_reply_key_names_the_message_it_answers():
    assert answered_sid("reply:SM1") == "SM1"
    assert answered_sid("reply:SM1#2") == "SM1"
    assert answered_sid("appointment:7:booking_confirmation") is None


def test_a_booking_confirmation_answers_the_yes_that_booked():
    inbound = [("+1", "SM1"), ("+1", "SM2"), ("+2", "SM3"), ("+1", "SM4")]
    answers, left = match_answers(inbound, ["reply:SM1", "reply:SM3", "reply:SM4"], ["+1"])
    assert left == []
    assert answers["SM2"].startswith("confirmation:+1")


def test_a_message_without_an_answer_is_caught():
    inbound = [("+1", "SM1"), ("+1", "SM2"), ("+2", "SM3")]
    _, left = match_answers(inbound, ["reply:SM1#1", "reply:SM1#2"], ["+2"])
    assert left == ["SM2"]  # the other phone's confirmation answers nothing of +1


def test_percentiles_are_nearest_rank():
    values = [float(n) for n in range(1, 101)]
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile([3.0], 0.95) == 3.0
    assert math.isnan(percentile([], 0.5))


def test_nothing_measured_meets_no_target():
    assert at_most(0.0, 0.0) and not at_most(1.0, 0.0) and not at_most(math.nan, 1.0)
    assert at_least(5.0, 5.0) and not at_least(4.9, 5.0) and not at_least(math.nan, 0.0)


def test_one_target_not_met_makes_the_run_fail_and_shows_in_the_table():
    rows = [
        Row("load", "lost", "0", "0", True),
        Row("load", "workers' RSS", "", "80 MB"),
        Row("faults", "duplicated", "0", "1", False),
    ]
    assert not all_met(rows)
    assert all_met(rows[:2])
    shown = table(rows).splitlines()
    assert len(shown) == 2 + len(rows)
    assert shown[-1] == "| faults | duplicated | 0 | 1 | NOT MET |"
    assert shown[2].endswith("| met |")
