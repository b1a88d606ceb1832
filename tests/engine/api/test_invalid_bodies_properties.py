"""Random behaviour-event bodies (hypothesis): a batch with one bad event is refused whole, with the index, field
and a message a person can act on; any body at all gets a 4xx answer, never a server error; nothing is saved."""

import json
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlmodel import func, select
from starlette.testclient import TestClient

from engine import db
from engine.models import BehaviorEvent, Customer
from engine.services.events import NAME_MAX
from tests.engine.api.conftest import Tenant
from tests.engine.services.test_invalid_input_properties import JSON, readable


def valid_event(i: int) -> dict[str, Any]:
    return {"qaid": f"Q{i}", "name": "add_to_cart", "properties": {"amount": i}}


BREAKS: dict[str, Any] = {
    "no qaid": lambda e: {k: v for k, v in e.items() if k != "qaid"},
    "blank qaid": lambda e: {**e, "qaid": "   "},
    "qaid not text": lambda e: {**e, "qaid": [1, 2]},
    "long qaid": lambda e: {**e, "qaid": "Q" * 500},
    "no name": lambda e: {k: v for k, v in e.items() if k != "name"},
    "name not text": lambda e: {**e, "name": 42},
    "long name": lambda e: {**e, "name": "n" * (NAME_MAX + 1)},
    "control characters": lambda e: {**e, "name": "add\x00cart"},
    "properties not an object": lambda e: {**e, "properties": ["a"]},
    "huge properties": lambda e: {**e, "properties": {"blob": "x" * 20_000}},
    "bad time": lambda e: {**e, "occurred_at": "yesterday-ish"},
    "unknown field": lambda e: {**e, "customer": "Q1"},
    "not an object": lambda e: "add_to_cart",
}


def _counts() -> tuple[int, int]:
    with db.read_session() as s:
        return (s.exec(select(func.count()).select_from(BehaviorEvent)).one(),
                s.exec(select(func.count()).select_from(Customer)).one())


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(size=st.integers(1, 20), where=st.integers(0, 19), broken=st.sampled_from(sorted(BREAKS)))
def test_an_event_batch_with_one_bad_event_is_refused_whole(client: TestClient, tenant: Tenant, size: int,
                                                            where: int, broken: str) -> None:
    events = [valid_event(i) for i in range(size)]
    index = where % size
    events[index] = BREAKS[broken](events[index])
    before = _counts()
    response = client.post("/api/v1/events", json={"events": events}, headers=tenant.auth)
    assert response.status_code == 422, (broken, response.text)
    body = response.json()
    assert body["error"] == "invalid_events" and readable(body["message"])
    assert [e["index"] for e in body["errors"]] == [index] and all(readable(e["message"]) for e in body["errors"])
    assert _counts() == before


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(value=JSON | st.fixed_dictionaries({"events": JSON}) | st.binary(max_size=40))
@example(value={"{'": None})  # found by a full run: the message names the unknown field `{'` as sent
def test_any_body_gets_an_answer_never_a_server_error(client: TestClient, tenant: Tenant, value: Any) -> None:
    before = _counts()
    content = value if isinstance(value, bytes) else json.dumps(value).encode()
    response = client.post("/api/v1/events", content=content, headers={**tenant.auth,
                                                                         "Content-Type": "application/json"})
    assert response.status_code < 500, response.text
    if response.status_code == 202:  # arbitrary JSON can happen to be a valid event
        return
    sent = content.decode(errors="replace")  # a field name the message echoes may carry any text
    assert 400 <= response.status_code < 500 and readable(response.json()["message"], sent=sent)
    assert _counts() == before
