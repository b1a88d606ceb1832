"""Segment's HTTP tracking API on the events API (real database, real redis-server for the trigger index and the
rate limit, Starlette's TestClient): calls, write keys, gzip, messageId dedupe across retries, traits, anonymousId
attribution, rate limits with Retry-After, the flow editor's name rule, one error shape, and the OpenAPI document."""

import base64
import gzip
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import func, select
from starlette.testclient import TestClient

from engine import clock, db
from engine.api.app import create_app, openapi_document
from engine.api.keys import set_api_key
from engine.components.behavior_event import EVENT_NAME
from engine.models import AnonymousEvent, AnonymousLink, BehaviorEvent, Customer, EventMessage, User
from engine.services import events as ev
from engine.services import segment
from engine.settings import get_settings
from engine.shared.customers import get_customer
from engine.status import ActivityStatus
from tests import factories as f
from tests.databases import use_database
from tests.engine.api.conftest import KEY, Tenant
from tests.engine.services.test_events import event_flow
from tests.engine.services.test_invalid_input_properties import JSON, readable

NOW = datetime(2026, 6, 1, 12, 0, 30, tzinfo=UTC)


def basic(key: str = KEY) -> dict[str, str]:
    """What Segment's SDKs send: the write key as the basic auth user, no password."""
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


def sdk_batch(messages: list[dict[str, Any]], *, sent_at: datetime | None = None) -> dict[str, Any]:
    """A body as analytics-python's consumer posts it (segment/analytics/request.py): batch, sentAt, writeKey, and
    messages with context, integrations, messageId and timestamp."""
    stamped = []
    for m in messages:
        stamped.append({"context": {"library": {"name": "analytics-python", "version": "2.3"}}, "integrations": {},
                        "messageId": str(uuid.uuid4()), "timestamp": (sent_at or NOW).isoformat(), **m})
    return {"batch": stamped, "sentAt": (sent_at or NOW).isoformat(), "writeKey": KEY}


def _count(model: Any, *where: Any) -> int:
    with db.read_session() as s:
        return s.exec(select(func.count()).select_from(model).where(*where)).one()


def _events() -> list[tuple[str, str, dict[str, Any], datetime]]:
    with db.read_session() as s:
        return [(qaid, e.name, e.properties, e.occurred_at) for e, qaid in s.exec(
            select(BehaviorEvent, Customer.qaid).join(Customer, Customer.id == BehaviorEvent.customer_id)
            .order_by(BehaviorEvent.id)).all()]


@pytest.fixture
def fixed_clock() -> Iterator[list[datetime]]:
    now = [NOW]
    clock.set_clock(lambda: now[0])
    yield now
    clock.set_clock(None)


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    def set_(**values: Any) -> None:
        for k, v in values.items():
            monkeypatch.setenv(k.upper(), str(v))
        get_settings.cache_clear()

    yield set_
    get_settings.cache_clear()


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    """The API's one error shape: {"error": code, "message": words, "errors"?: [...]}."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == code and isinstance(body["message"], str) and body["message"]
    assert set(body) <= {"error", "message", "errors"}
    return body


# ---------------------------------------------------------------- calls


def test_track_identify_page_screen_and_batch(client: TestClient, tenant: Tenant, fixed_clock: Any) -> None:
    ok = client.post("/v1/identify", headers=basic(), json={
        "userId": "u-1", "traits": {"email": "ann@example.com", "phone": "+86 138-0013-8000", "firstName": "Ann",
                                    "lastName": "Lee", "plan": "gold", "age": 31}})
    assert ok.status_code == 200 and ok.json() == {"success": True}
    with db.read_session() as s:
        ann = get_customer(session=s, workspace_id=tenant.workspace_id, qaid="u-1")
        assert (ann.email, ann.phone, ann.name) == ("ann@example.com", "+8613800138000", "Ann Lee")
        assert ann.attributes == {"firstName": "Ann", "lastName": "Lee", "plan": "gold", "age": 31}
    again = client.post("/v1/identify", headers=basic(), json={"userId": "u-1", "traits": {"plan": "platinum",
                                                                                            "name": "Ann L."}})
    assert again.status_code == 200
    with db.read_session() as s:
        ann = get_customer(session=s, workspace_id=tenant.workspace_id, qaid="u-1")
        assert ann.name == "Ann L." and ann.email == "ann@example.com"  # upserted: absent traits keep their value
        assert ann.attributes["plan"] == "platinum" and ann.attributes["age"] == 31

    track = client.post("/v1/track", headers=basic(), json={"userId": "u-1", "event": "add_to_cart",
                                                             "properties": {"sku": "S1"},
                                                             "timestamp": "2026-06-01T11:00:00Z"})
    assert track.status_code == 200 and track.json() == {"success": True}
    assert client.post("/v1/page", headers=basic(), json={"userId": "u-1", "name": "Home", "category": "Shop",
                                                           "properties": {"url": "/"}}).status_code == 200
    assert client.post("/v1/screen", headers=basic(), json={"userId": 7, "name": "Cart"}).status_code == 200
    batch = client.post("/v1/batch", headers=basic(), json=sdk_batch([
        {"type": "identify", "userId": "u-2", "traits": {"email": "bo@example.com"}},
        {"type": "track", "userId": "u-2", "event": "purchase", "properties": {"amount": 9.5}},
        {"type": "group", "userId": "u-2", "groupId": "acme", "traits": {"name": "Acme"}},
        {"type": "alias", "userId": "u-2", "previousId": "old"},
    ]))
    assert batch.status_code == 200 and batch.json() == {"success": True}
    assert [(q, n, p) for q, n, p, _ in _events()] == [
        ("u-1", "add_to_cart", {"sku": "S1"}), ("u-1", "page", {"url": "/", "name": "Home", "category": "Shop"}),
        ("7", "screen", {"name": "Cart"}), ("u-2", "purchase", {"amount": 9.5})]
    assert _events()[0][3] == datetime(2026, 6, 1, 11, 0, tzinfo=UTC)
    with db.read_session() as s:
        assert get_customer(session=s, workspace_id=tenant.workspace_id, qaid="u-2").email == "bo@example.com"


def test_device_clock_skew_is_corrected_by_sent_at(client: TestClient, tenant: Tenant, fixed_clock: Any) -> None:
    """No `timestamp`: the device's originalTimestamp, moved by how far its clock (sentAt) is from ours."""
    device_now = NOW + timedelta(hours=3)  # a phone three hours ahead
    body = {"batch": [{"type": "track", "userId": "u", "event": "login",
                       "originalTimestamp": (device_now - timedelta(minutes=5)).isoformat()}],
            "sentAt": device_now.isoformat()}
    assert client.post("/v1/batch", headers=basic(), json=body).status_code == 200
    assert _events()[0][3] == NOW - timedelta(minutes=5)


def test_a_triggering_track_reaches_the_entry_hook(client: TestClient, tenant: Tenant, redis_url: str) -> None:
    with db.write_session() as s:
        f.activity(s, s.get(User, tenant.admin_id), status=ActivityStatus.IN_PROGRESS, flow=event_flow("add_to_cart"))
    calls: list[tuple[int, list[Any]]] = []
    unregister = ev.register_entry_hook(lambda ws, evs: calls.append((ws, evs)))
    try:
        response = client.post("/v1/batch", headers=basic(), json=sdk_batch([
            {"type": "track", "userId": "buyer", "event": "add_to_cart", "properties": {"sku": "S1"}},
            {"type": "track", "userId": "buyer", "event": "login"}]))
    finally:
        unregister()
    assert response.status_code == 200
    assert [[name for _, name, _, _ in evs] for _, evs in calls] == [["add_to_cart"]]


# ---------------------------------------------------------------- write keys


def test_write_key_as_basic_user_body_write_key_or_bearer(client: TestClient, tenant: Tenant) -> None:
    track = {"userId": "u", "event": "login"}
    assert client.post("/v1/track", headers=basic(), json=track).status_code == 200
    assert client.post("/v1/track", json={**track, "writeKey": KEY}).status_code == 200
    assert client.post("/v1/track", headers={"Authorization": f"Bearer {KEY}"}, json=track).status_code == 200
    assert _count(BehaviorEvent) == 3

    missing = assert_error(client.post("/v1/track", json=track), 401, "missing_api_key")
    assert "basic auth" in missing["message"]
    wrong = client.post("/v1/track", headers=basic("amk_wrong_key_0123456789abcdef"), json=track)
    assert_error(wrong, 401, "invalid_api_key")
    assert wrong.headers["www-authenticate"].startswith("Basic")
    assert_error(client.post("/v1/track", json={**track, "writeKey": "nope"}), 401, "invalid_api_key")
    assert_error(client.post("/v1/track", headers={"Authorization": "Basic !!!"}, json=track), 401,
                 "invalid_authorization")
    assert _count(BehaviorEvent) == 3


# ---------------------------------------------------------------- gzip


def test_gzip_bodies(client: TestClient, tenant: Tenant, settings_env: Any) -> None:
    body = gzip.compress(json.dumps(sdk_batch([{"type": "track", "userId": "g", "event": "login"}] * 3)).encode())
    headers = {**basic(), "Content-Encoding": "gzip", "Content-Type": "application/json"}
    assert client.post("/v1/batch", headers=headers, content=body).status_code == 200
    own = gzip.compress(json.dumps({"events": [{"qaid": "g", "name": "browse_h5"}]}).encode())
    response = client.post("/api/v1/events", content=own, headers={"Authorization": f"Bearer {KEY}",
                                                                   "Content-Encoding": "gzip"})
    assert response.status_code == 202 and response.json()["accepted"] == 1
    assert _count(BehaviorEvent) == 4

    assert_error(client.post("/v1/batch", headers=headers, content=b"not gzip at all"), 400, "invalid_gzip")
    assert_error(client.post("/v1/batch", headers=headers, content=body[:-12]), 400, "invalid_gzip")
    assert_error(client.post("/v1/batch", headers={**basic(), "Content-Encoding": "br"}, content=b"{}"), 415,
                 "unsupported_encoding")
    settings_env(api_max_body_bytes=10_000)
    bomb = gzip.compress(b'{"batch": [' + b" " * 1_000_000 + b"]}")
    assert len(bomb) < 10_000
    assert_error(client.post("/v1/batch", headers=headers, content=bomb), 413, "payload_too_large")
    assert _count(BehaviorEvent) == 4


# ---------------------------------------------------------------- messageId


def test_message_id_dedupe_across_retries(client: TestClient, tenant: Tenant) -> None:
    body = sdk_batch([{"type": "track", "userId": "r", "event": "purchase"},
                      {"type": "identify", "userId": "r", "traits": {"plan": "a"}},
                      {"type": "track", "userId": "r", "event": "login"}])
    first = client.post("/v1/batch", headers=basic(), json=body)
    retry = client.post("/v1/batch", headers={**basic(), "X-Retry-Count": "1"}, json=body)  # as the SDK retries
    assert first.status_code == retry.status_code == 200 and retry.json() == {"success": True}
    assert [n for _, n, _, _ in _events()] == ["purchase", "login"]
    # a retry mixing seen and new messages stores only the new; an id repeated within a batch is stored once
    again = {**body, "batch": [body["batch"][0], {**body["batch"][2], "messageId": "new-1", "event": "logout"},
                               {**body["batch"][2], "messageId": "new-1", "event": "logout"}]}
    assert client.post("/v1/batch", headers=basic(), json=again).status_code == 200
    assert [n for _, n, _, _ in _events()] == ["purchase", "login", "logout"]
    assert _count(EventMessage, EventMessage.workspace_id == tenant.workspace_id) == 4
    # messages without a messageId are never deduplicated
    plain = {"userId": "r", "event": "login"}
    assert client.post("/v1/track", headers=basic(), json=plain).status_code == 200
    assert client.post("/v1/track", headers=basic(), json=plain).status_code == 200
    assert _count(BehaviorEvent) == 5


def test_a_retry_after_a_crash_before_the_commit_is_stored(tenant: Tenant) -> None:
    """The messageId is recorded in the transaction that stores its events: a request that dies before its commit
    leaves no trace, so the SDK's retry is stored; one that committed makes the retry a duplicate."""
    messages, sent_at = segment.parse({"batch": [{"type": "track", "userId": "c", "event": "purchase",
                                                  "messageId": "m-1"}]}, kind="batch", max_batch=10)

    class Crash(Exception):
        pass

    with pytest.raises(Crash):
        with db.write_session() as s:
            result = segment.ingest(session=s, workspace_id=tenant.workspace_id, messages=messages,
                                    batch_sent_at=sent_at)
            assert result.stored == 1
            raise Crash  # the process dies before the commit
    assert _count(EventMessage) == 0 and _count(BehaviorEvent) == 0
    with db.write_session() as s:
        assert segment.ingest(session=s, workspace_id=tenant.workspace_id, messages=messages).stored == 1
    with db.write_session() as s:  # committed, then the answer was lost: the retry is a duplicate
        result = segment.ingest(session=s, workspace_id=tenant.workspace_id, messages=messages)
        assert (result.stored, result.duplicates) == (0, 1)
    assert _count(BehaviorEvent) == 1


def test_old_message_ids_and_waiting_events_are_purged(tenant: Tenant, fixed_clock: list[datetime]) -> None:
    messages, _ = segment.parse({"batch": [
        {"type": "track", "userId": "p", "event": "login", "messageId": "old"},
        {"type": "track", "anonymousId": "anon-p", "event": "login"}]}, kind="batch", max_batch=10)
    with db.write_session() as s:
        segment.ingest(session=s, workspace_id=tenant.workspace_id, messages=messages)
    with db.write_session() as s:
        assert segment.purge_expired(s, NOW + timedelta(hours=23)) == (0, 0)
        assert segment.purge_expired(s, NOW + timedelta(hours=25)) == (1, 0)
        assert segment.purge_expired(s, NOW + timedelta(days=31)) == (0, 1)
    fixed_clock[0] = NOW + timedelta(hours=25)
    with db.write_session() as s:  # forgotten: a message that old is stored again
        assert segment.ingest(session=s, workspace_id=tenant.workspace_id, messages=messages[:1]).stored == 1


# ---------------------------------------------------------------- anonymousId


def test_anonymous_events_are_attributed_once_identified(client: TestClient, tenant: Tenant,
                                                         fixed_clock: list[datetime]) -> None:
    anon = "7f3b1c2e-anon"
    early = client.post("/v1/batch", headers=basic(), json=sdk_batch([
        {"type": "page", "anonymousId": anon, "name": "Home"},
        {"type": "track", "anonymousId": anon, "event": "add_to_cart", "properties": {"sku": "S9"}},
        {"type": "track", "anonymousId": "someone-else", "event": "login"}]))
    assert early.status_code == 200
    assert _events() == [] and _count(Customer) == 0  # nobody to attribute them to yet
    assert _count(AnonymousEvent) == 3

    fixed_clock[0] = NOW + timedelta(minutes=5)
    identify = client.post("/v1/identify", headers=basic(), json={"userId": "shopper", "anonymousId": anon,
                                                                  "traits": {"email": "s@example.com"}})
    assert identify.status_code == 200
    assert [(q, n, t) for q, n, _, t in _events()] == [("shopper", "page", NOW), ("shopper", "add_to_cart", NOW)]
    assert _count(AnonymousEvent) == 1  # someone-else still waits

    later = client.post("/v1/track", headers=basic(), json={"anonymousId": anon, "event": "purchase"})
    assert later.status_code == 200
    assert _events()[-1][:2] == ("shopper", "purchase")  # the link holds for later anonymous calls
    with db.read_session() as s:
        link = s.get(AnonymousLink, (tenant.workspace_id, anon))
        assert link is not None
        assert link.customer_id == get_customer(session=s, workspace_id=tenant.workspace_id, qaid="shopper").id

    # the device changes hands: the latest userId sent with the anonymousId takes its later events
    client.post("/v1/track", headers=basic(), json={"userId": "other", "anonymousId": anon, "event": "login"})
    client.post("/v1/track", headers=basic(), json={"anonymousId": anon, "event": "logout"})
    assert _events()[-1][:2] == ("other", "logout")


def test_identified_anonymous_events_can_trigger(client: TestClient, tenant: Tenant, redis_url: str) -> None:
    with db.write_session() as s:
        f.activity(s, s.get(User, tenant.admin_id), status=ActivityStatus.IN_PROGRESS, flow=event_flow("add_to_cart"))
    client.post("/v1/track", headers=basic(), json={"anonymousId": "a-1", "event": "add_to_cart"})
    calls: list[tuple[int, list[Any]]] = []
    unregister = ev.register_entry_hook(lambda ws, evs: calls.append((ws, evs)))
    try:
        client.post("/v1/identify", headers=basic(), json={"userId": "late", "anonymousId": "a-1"})
    finally:
        unregister()
    with db.read_session() as s:
        late = get_customer(session=s, workspace_id=tenant.workspace_id, qaid="late")
    assert [[(cid, name) for cid, name, _, _ in evs] for _, evs in calls] == [[(late.id, "add_to_cart")]]


# ---------------------------------------------------------------- rate limits


def test_rate_limit_answers_429_with_retry_after(client: TestClient, tenant: Tenant, redis_url: str,
                                                 settings_env: Any, fixed_clock: list[datetime]) -> None:
    settings_env(api_rate_limit=3, api_rate_window_s=60)
    track = {"userId": "u", "event": "login"}
    assert [client.post("/v1/track", headers=basic(), json=track).status_code for _ in range(3)] == [200] * 3
    refused = client.post("/v1/track", headers=basic(), json=track)
    body = assert_error(refused, 429, "rate_limited")
    assert refused.headers["retry-after"] == "30"  # the clock is 30 s into its minute
    assert "retry after 30 s" in body["message"]
    own = client.post("/api/v1/events", headers={"Authorization": f"Bearer {KEY}"}, json={"qaid": "u", "name": "x"})
    assert_error(own, 429, "rate_limited")  # one budget per key, whichever endpoint
    with db.write_session() as s:  # another workspace's key has its own budget
        other = f.workspace(s)
        set_api_key(session=s, workspace_id=other.id, key="amk_other_key_0123456789abcdef")
    assert client.post("/v1/track", headers=basic("amk_other_key_0123456789abcdef"), json=track).status_code == 200
    assert _count(BehaviorEvent) == 4

    fixed_clock[0] = NOW + timedelta(seconds=30)  # the next window
    assert client.post("/v1/track", headers=basic(), json=track).status_code == 200
    settings_env(api_rate_limit=0)  # 0: no limit
    assert all(client.post("/v1/track", headers=basic(), json=track).status_code == 200 for _ in range(5))


def test_two_api_processes_share_one_budget(tenant: Tenant, redis_url: str, settings_env: Any,
                                            fixed_clock: Any) -> None:
    """Counted in Redis, not in the process: two apps (as two uvicorn workers would be) draw on one budget."""
    settings_env(api_rate_limit=4, api_rate_window_s=60)
    with TestClient(create_app()) as one, TestClient(create_app()) as two:
        answers = [(one if i % 2 else two).post("/v1/track", headers=basic(), json={"userId": "u", "event": "x"})
                   .status_code for i in range(6)]
    assert answers == [200, 200, 200, 200, 429, 429]


# ---------------------------------------------------------------- names and errors


def test_names_no_flow_can_match_are_refused(client: TestClient, tenant: Tenant) -> None:
    own = client.post("/api/v1/events", headers={"Authorization": f"Bearer {KEY}"},
                      json={"events": [{"qaid": "u", "name": "add_to_cart"}, {"qaid": "u", "name": "Order Completed"}]})
    body = assert_error(own, 422, "invalid_events")
    assert [(e["index"], e["field"]) for e in body["errors"]] == [(1, "name")]
    assert "can never trigger a flow" in body["errors"][0]["message"]
    seg = client.post("/v1/batch", headers=basic(), json=sdk_batch([
        {"type": "track", "userId": "u", "event": "add_to_cart"},
        {"type": "track", "userId": "u", "event": "Order Completed"},
        {"type": "track", "userId": "u", "event": "café"}]))
    body = assert_error(seg, 400, "invalid_messages")  # 400: Segment's SDKs do not retry it
    assert [(e["index"], e["field"]) for e in body["errors"]] == [(1, "event"), (2, "event")]
    single = assert_error(client.post("/v1/track", headers=basic(), json={"userId": "u", "event": "a b"}), 400,
                          "invalid_messages")
    assert single["errors"][0]["field"] == "event"
    assert _count(BehaviorEvent) == 0


def test_every_segment_error_has_the_one_shape(client: TestClient, tenant: Tenant) -> None:
    assert_error(client.post("/v1/batch", headers=basic(), content=b"{nope"), 400, "invalid_json")
    cases: list[tuple[Any, str]] = [
        ({"batch": [{"type": "track", "event": "login"}]}, "userId"),  # nobody
        ({"batch": [{"type": "fly", "userId": "u"}]}, "type"),
        ({"batch": [{"userId": "u", "event": "login"}]}, "type"),
        ({"batch": [{"type": "identify", "anonymousId": "a", "traits": {"x": 1}}]}, "userId"),
        ({"batch": [{"type": "identify", "userId": "u", "traits": {"email": "not-an-email"}}]}, "traits"),
        ({"batch": [{"type": "track", "userId": "u", "event": "x", "properties": [1]}]}, "properties"),
        ({"batch": [{"type": "track", "userId": "u", "event": "x", "timestamp": "2999-01-01T00:00:00Z"}]},
         "timestamp"),
        ({"batch": [{"type": "track", "userId": "u" * 65, "event": "x"}]}, "userId"),
        ({"batch": [{"type": "track", "userId": "u", "event": "x", "originalTimestamp": "9999-12-31T00:00:00Z",
                     "sentAt": "0001-01-02T00:00:00Z"}]}, "sentAt"),
        ({"batch": "no"}, "batch"),
        ({}, "batch"),
    ]
    for payload, fld in cases:
        body = assert_error(client.post("/v1/batch", headers=basic(), json=payload), 400, "invalid_messages")
        assert body["errors"][0]["field"] == fld, (payload, body)
        assert body["message"].startswith("No messages were accepted")
    too_many = {"batch": [{"type": "track", "userId": "u", "event": "x"}] * 1001}
    assert_error(client.post("/v1/batch", headers=basic(), json=too_many), 413, "batch_too_large")
    assert_error(client.get("/v1/track"), 405, "method_not_allowed")
    assert _count(BehaviorEvent) == 0 and _count(Customer) == 0


def test_a_database_failure_is_a_503_the_sdks_retry(client: TestClient, tenant: Tenant, tmp_path: Any,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Segment's SDKs retry 5xx and 429 only: a failure on our side must not be a 4xx (the batch would be lost)."""
    use_database(f"sqlite:///{tmp_path / 'not-migrated.db'}", monkeypatch)  # no tables: every query fails
    response = client.post("/v1/batch", headers=basic(), json=sdk_batch([{"type": "track", "userId": "u",
                                                                           "event": "login"}]))
    assert_error(response, 503, "unavailable")


# ---------------------------------------------------------------- OpenAPI


def test_openapi_and_docs_list_every_endpoint(client: TestClient) -> None:
    doc = client.get("/openapi.json")
    assert doc.status_code == 200
    spec = doc.json()
    assert spec == json.loads(json.dumps(openapi_document())) and spec["openapi"].startswith("3.1")
    routes = {(r.path, m.lower()) for r in client.app.routes for m in getattr(r, "methods", ()) if m != "HEAD"}
    listed = {(p, m) for p, methods in spec["paths"].items() for m in methods}
    assert routes == listed and {("/v1/track", "post"), ("/v1/identify", "post"), ("/v1/batch", "post"),
                                 ("/v1/page", "post"), ("/v1/screen", "post"), ("/api/v1/events", "post"),
                                 ("/api/v1/receipts", "post"), ("/api/v1/audiences/import", "post")} <= listed
    schemas = spec["components"]["schemas"]
    # generated from the models that validate: the flow editor's name rule, the batch's message types
    assert schemas["Event"]["properties"]["name"]["pattern"] == EVENT_NAME.pattern
    assert schemas["Track"]["properties"]["event"]["pattern"] == EVENT_NAME.pattern
    assert set(schemas["SegmentBatch"]["properties"]["batch"]["items"]["discriminator"]["mapping"]) == {
        "track", "identify", "page", "screen", "group", "alias"}
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            for status, answer in op["responses"].items():
                if int(status) >= 400:
                    assert answer["content"]["application/json"]["schema"] == {
                        "$ref": "#/components/schemas/ErrorBody"}, (path, method, status)
    assert spec["paths"]["/v1/batch"]["post"]["responses"]["429"]["headers"]["Retry-After"]
    page = client.get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for path, methods in spec["paths"].items():
        for method in methods:
            assert f"{method.upper()} {path}" in page.text
    assert "/openapi.json" in page.text and "ErrorBody" in page.text and "<script" not in page.text



# ---------------------------------------------------------------- any body


MESSAGE = st.fixed_dictionaries({"type": st.sampled_from(["track", "identify", "page", "screen", "group", "alias",
                                                          "other"]) | JSON},
                                optional={"userId": JSON | st.text(max_size=70), "anonymousId": JSON,
                                          "event": JSON | st.sampled_from(["login", "Order Completed", ""]),
                                          "properties": JSON, "traits": JSON, "timestamp": JSON,
                                          "originalTimestamp": JSON, "sentAt": JSON, "messageId": JSON})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(value=JSON | st.fixed_dictionaries({"batch": st.lists(MESSAGE, max_size=4)}, optional={"sentAt": JSON}))
def test_any_segment_body_gets_an_answer_never_a_server_error(client: TestClient, tenant: Tenant,
                                                               value: Any) -> None:
    """200 when it happens to be valid, else a 4xx in the one error shape with readable words, nothing stored."""
    before = (_count(BehaviorEvent), _count(Customer), _count(AnonymousEvent))
    response = client.post("/v1/batch", headers={**basic(), "Content-Type": "application/json"},
                           content=json.dumps(value).encode())  # Infinity included, as some clients write it
    assert response.status_code < 500, response.text
    if response.status_code == 200:
        return
    body = response.json()  # (json=None sends no body at all: invalid_json)
    body = assert_error(response, 400, "invalid_json" if body["error"] == "invalid_json" else "invalid_messages")
    assert readable(body["message"]) and all(readable(e["message"]) for e in body.get("errors", []))
    assert (_count(BehaviorEvent), _count(Customer), _count(AnonymousEvent)) == before
