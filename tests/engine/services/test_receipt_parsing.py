"""Receipts in the form providers send are read without the `Receipt` model (engine/services/events.py
`_well_formed`, a million per large round); whatever that fast reading accepts must be exactly what the model
makes of it, and anything else must still go through the model (its words for every problem)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.services import events
from engine.services.events import PayloadError, _well_formed

TRICKY_IDS = ["12:sms:7", "12::7", "12:sms:", ":sms:7", "12:7", "١٢:sms:7", "12:sms:٧", "12:sms:7\n", "", "12:sms:-7",
              "12:sms:+7", "12:sms:7 ", " 12:sms:7", "12:s:m:s:7", "²:sms:7", "12:sms:7:", "12:sms::7", "0:x:0"]
ids = st.one_of(
    st.builds(lambda r, n, c: f"{r}:{n}:{c}", st.integers(0, 10**12), st.sampled_from(["sms", "n3", "a:b", "x y"]),
              st.integers(0, 10**12)),
    st.sampled_from(TRICKY_IDS),
    st.text(max_size=12), st.integers(), st.none())
statuses = st.one_of(st.sampled_from(["delivered", "failed", "Delivered", " failed ", "FAILED", "ok", "", "success"]),
                     st.none(), st.integers(), st.lists(st.integers(), max_size=1))
reasons = st.one_of(st.none(), st.text(max_size=250), st.integers(), st.just(""))


@st.composite
def receipt(draw: st.DrawFn) -> object:
    if draw(st.integers(0, 20)) == 0:
        return draw(st.one_of(st.none(), st.text(max_size=3), st.lists(st.integers(), max_size=2)))
    item: dict[str, object] = {}
    key = draw(st.sampled_from(["id", "message_id", "both", "none"]))
    if key in ("id", "both"):
        item["id"] = draw(ids)
    if key in ("message_id", "both"):
        item["message_id"] = draw(ids)
    if draw(st.booleans()):
        item["status"] = draw(statuses)
    if draw(st.booleans()):
        item["reason"] = draw(reasons)
    if draw(st.booleans()):
        item["provider_id"] = "sim-0123"  # extra keys are ignored
    return item


def model_reading(items: list[object]) -> list[events.Receipt] | str:
    events_fast = events._well_formed
    try:
        events._well_formed = lambda _items: None  # the model alone
        return events.parse_receipts(items)
    except PayloadError as err:
        return f"refused: {err}"
    finally:
        events._well_formed = events_fast


@settings(max_examples=600, deadline=None)
@given(st.lists(receipt(), min_size=1, max_size=5))
def test_the_fast_reading_accepts_only_what_the_model_reads_the_same_way(items: list[object]) -> None:
    fast = _well_formed(items)
    if fast is not None:
        assert fast == model_reading(items)


@pytest.mark.parametrize("message_id", TRICKY_IDS)
@pytest.mark.parametrize("key", ["id", "message_id"])
@pytest.mark.parametrize("status", ["delivered", "failed", "Failed"])
def test_every_odd_id_is_read_as_the_model_reads_it(message_id: str, key: str, status: str) -> None:
    items = [{key: message_id, "status": status, "reason": None}]
    fast = _well_formed(items)
    if fast is not None:
        assert fast == model_reading(items)
    assert (fast is not None) == (message_id in ("12:sms:7", "12:s:m:s:7", "0:x:0") and status != "Failed")


def test_receipts_as_providers_send_them_take_the_fast_reading() -> None:
    items = [{"id": "12:sms:7", "status": "delivered", "provider_id": "sim-1", "at": "2026-12-07T00:00:00Z"},
             {"message_id": "12:a:b:8", "status": "failed", "reason": "x" * 300}]
    fast = _well_formed(items)
    assert fast == model_reading(items)
    assert fast is not None and [(r.record_id, r.node_id, r.customer_id, r.status) for r in fast] == [
        (12, "sms", 7, "delivered"), (12, "a:b", 8, "failed")]
    assert fast[1].reason == "x" * 200


@pytest.mark.parametrize("bad", [{"id": "12:sms", "status": "delivered"}, {"id": "12:sms:7", "status": "read"},
                                 {"id": 7, "status": "failed"}, "12:sms:7"])
def test_a_bad_receipt_is_refused_with_the_models_words(bad: object) -> None:
    items = [{"id": "12:sms:7", "status": "delivered"}, bad]
    assert _well_formed(items) is None
    with pytest.raises(PayloadError) as refused:
        events.parse_receipts(items)
    assert refused.value.errors and refused.value.errors[0]["index"] == 1
