"""What a card's execution data looks like, without a browser: the engine's values in the seed's order with
labels, readable numbers, zeros muted, the raw numbers as data attributes, and the header's round label."""

from engine.services.execution import ExecutionView, node_execution
from marketing_app.states.execution import display, record_label


def test_a_send_shows_failed_succeeded_no_receipt_sent_entered_with_its_raw_numbers() -> None:
    node = node_execution({"id": "sms", "type": "text_sms"},
                          {"entered": 12_345, "failed": 0, "success": 12_000, "pending": 45, "sent": 12_045,
                           "not_sent": 300, "stopped": 30})
    shown = display(node)
    assert [(i["label"], i["value"], i["tone"]) for i in shown["items"]] == [
        ("Failed", "0", "zero"), ("Succeeded", "12,000", "green"), ("No receipt", "45", "amber"),
        ("Sent", "12,045", "blue"), ("Entered", "12,345", "gray")]
    assert shown["attrs"] == {"failed": 0, "success": 12_000, "sent": 12_045, "entered": 12_345, "pending": 45,
                              "not_sent": 300, "stopped": 30, "opted_out": 0}
    shown_sum = sum(int(i["value"].replace(",", "")) for i in shown["items"] if i["key"] in ("failed", "success",
                                                                                             "pending"))
    assert shown_sum == 12_045  # the card's own numbers add up to its Sent
    assert "45 sent, no receipt yet" in shown["title"] and "300 not sent (no address)" in shown["title"]
    assert "30 stopped" in shown["title"]
    assert shown["title"].endswith("Click for the action analysis.") and not shown["trigger"]


def test_a_trigger_and_an_ab_test() -> None:
    trigger = display(node_execution({"id": "t", "type": "behavior_event"}, {"entered": 5, "passed": 5}))
    assert [i["label"] for i in trigger["items"]] == ["Met", "Entered"] and trigger["trigger"]
    assert trigger["title"].endswith("Click for the Incoming Users.")
    ab = {"id": "ab", "type": "ab_test", "config": {"groups": [{"name": "Short subject"}, {"name": ""}]}}
    assert display(node_execution(ab, {"entered": 10, "winner": 2, "targets_achieved": 3}))["items"][0]["value"] \
        == "Group 2"
    first = display(node_execution(ab, {"entered": 10, "winner": 1, "targets_achieved": 3}))
    assert [(i["label"], i["value"]) for i in first["items"]] == [("Winner", "Short subject"), ("Targets", "3"),
                                                                  ("Inflows", "10")]
    assert display(node_execution(ab, {"entered": 10}))["items"][0]["value"] == "—"


def test_the_round_label_names_the_version_it_ran_when_another_is_shown() -> None:
    view = ExecutionView(activity_id=1, version_id=3, version_number=3, record_id=9, record_number=4,
                         record_status="in_progress", record_status_label="In Progress", record_version_number=2)
    assert record_label(view) == "Round #4 · In Progress · ran V2"
    assert record_label(view.model_copy(update={"record_version_number": 3})) == "Round #4 · In Progress"
    assert record_label(ExecutionView(activity_id=1, version_id=3, version_number=3)) == ""


def test_a_send_with_opted_out_customers_shows_them_beside_failed() -> None:
    node = node_execution({"id": "sms", "type": "text_sms"},
                          {"entered": 10, "failed": 1, "success": 6, "pending": 0, "sent": 7, "opted_out": 3})
    shown = display(node)
    assert [(i["key"], i["label"], i["value"]) for i in shown["items"]] == [
        ("failed", "Failed", "1"), ("opted_out", "Opted out", "3"), ("success", "Succeeded", "6"),
        ("sent", "Sent", "7"), ("entered", "Entered", "10")]
    assert shown["attrs"]["opted_out"] == 3
    assert "3 opted out of the channel (not sent)" in shown["title"]


def test_exits_and_the_holdout_show_on_the_cards_once_there_are_any() -> None:
    trigger = display(node_execution({"id": "t", "type": "behavior_event"},
                                     {"entered": 40, "passed": 30, "held_out": 10}))
    assert [(i["key"], i["value"]) for i in trigger["items"]] == [("held_out", "10"), ("met", "30"),
                                                                  ("entered", "40")]
    assert "10 held out of every touch" in trigger["title"]
    wait = display(node_execution({"id": "w", "type": "wait_until"}, {"entered": 20, "parked": 20, "passed": 16,
                                                                      "exited": 4}))
    assert [(i["key"], i["label"], i["value"], i["tone"]) for i in wait["items"]] == [
        ("exited", "Exited", "4", "purple"), ("met", "Met", "16", "teal"), ("entered", "Entered", "20", "gray")]
    sms = display(node_execution({"id": "sms", "type": "text_sms"},
                                 {"entered": 16, "exited": 1, "success": 15, "sent": 15}))
    assert [i["key"] for i in sms["items"]] == ["failed", "exited", "success", "sent", "entered"]  # all receipts in
    plain = display(node_execution({"id": "w", "type": "wait_until"}, {"entered": 5, "passed": 5}))
    assert [i["key"] for i in plain["items"]] == ["met", "entered"]  # no rule used: the seed's card
