"""The HTTP API through Starlette's TestClient (and once through a real uvicorn process)."""

import gzip
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlmodel import func, select
from starlette.testclient import TestClient

from engine import db
from engine.api.keys import create_api_key, has_api_key, revoke_api_key, workspace_for_key
from engine.errors import Forbidden
from engine.models import ApiKey, Audience, AudienceMember, BehaviorEvent, Customer, CustomerTag, Role, User, Workspace
from engine.services import events as ev
from engine.settings import PROJECT_ROOT, get_settings
from engine.shared import trigger_index as index
from engine.status import ActivityStatus
from tests import factories as f
from tests.conftest import RECEIPT_TOKEN
from tests.engine.api.conftest import KEY, Tenant
from tests.engine.channels.helpers import free_port
from tests.engine.services.test_events import event_flow


def _count(model: Any, *where: Any) -> int:
    with db.read_session() as s:
        return s.exec(select(func.count()).select_from(model).where(*where)).one()


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    def set_(**values: Any) -> None:
        for k, v in values.items():
            monkeypatch.setenv(k.upper(), str(v))
        get_settings.cache_clear()

    yield set_
    get_settings.cache_clear()


# ---------------------------------------------------------------- keys, auth


def test_api_keys_are_hashed_created_by_admins_and_revocable(client: TestClient, tenant: Tenant) -> None:
    with db.write_session() as s:
        admin = s.get(User, tenant.admin_id)
        marketer = f.user(s, s.get(Workspace, tenant.workspace_id), Role.MARKETER)
        with pytest.raises(Forbidden):
            create_api_key(session=s, actor=marketer, name="Mine")
        created = create_api_key(session=s, actor=admin, name="Shop")
        assert created.key.startswith("amk_") and len(created.key) > 40
        stored = s.get(ApiKey, created.id).key_hash
        assert created.key not in stored and len(stored) == 64
        assert workspace_for_key(session=s, key=created.key) == tenant.workspace_id
        assert workspace_for_key(session=s, key=KEY) == tenant.workspace_id  # keys live side by side
    auth = {"Authorization": f"Bearer {created.key}"}
    event = {"qaid": "k1", "name": "login"}
    assert client.post("/api/v1/events", json=event, headers=auth).status_code == 202
    with db.read_session() as s:
        assert s.get(ApiKey, created.id).last_used_at is not None  # the events API records the use
    with db.write_session() as s:
        revoke_api_key(session=s, actor=s.get(User, tenant.admin_id), key_id=created.id)
        assert has_api_key(session=s, workspace_id=tenant.workspace_id) is True  # the installed key remains
    refused = client.post("/api/v1/events", json=event, headers=auth)
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_api_key"
    assert client.post("/api/v1/events", json=event, headers=tenant.auth).status_code == 202


@pytest.mark.parametrize("headers, code", [
    ({}, "missing_api_key"),
    ({"Authorization": "Basic abc"}, "invalid_authorization"),
    ({"Authorization": "Bearer "}, "invalid_authorization"),
    ({"Authorization": "Bearer amk_wrong_key_0123456789abcdef"}, "invalid_api_key"),
    ({"Authorization": "Bearer short"}, "invalid_api_key"),
])
def test_events_need_a_valid_key(client: TestClient, headers: dict[str, str], code: str) -> None:
    response = client.post("/api/v1/events", json={"qaid": "a", "name": "login"}, headers=headers)
    assert response.status_code == 401
    assert response.json()["error"] == code and response.json()["message"]
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert _count(BehaviorEvent) == 0


# ---------------------------------------------------------------- events


def test_single_event_list_and_batch(client: TestClient, tenant: Tenant) -> None:
    one = client.post("/api/v1/events", json={"qaid": "u1", "name": "login", "properties": {"platform": "ios"}},
                      headers=tenant.auth)
    assert one.status_code == 202
    assert one.json() == {"accepted": 1, "customers_created": 1, "triggering": 0}
    listed = client.post("/api/v1/events", json=[{"qaid": "u1", "name": "browse_h5"}], headers=tenant.auth)
    assert listed.status_code == 202 and listed.json()["customers_created"] == 0
    batch = [{"qaid": f"u{i % 50}", "name": "browse_h5", "occurred_at": "2026-01-01T00:00:00Z"} for i in range(1000)]
    response = client.post("/api/v1/events", json={"events": batch}, headers=tenant.auth)
    assert response.status_code == 202
    assert response.json() == {"accepted": 1000, "customers_created": 49, "triggering": 0}
    assert _count(BehaviorEvent, BehaviorEvent.workspace_id == tenant.workspace_id) == 1002
    assert _count(Customer, Customer.workspace_id == tenant.workspace_id) == 50


def test_too_large_batches_and_bodies_are_413(client: TestClient, tenant: Tenant, settings_env: Any) -> None:
    batch = [{"qaid": "u", "name": "login"}] * 1001
    response = client.post("/api/v1/events", json={"events": batch}, headers=tenant.auth)
    assert response.status_code == 413
    assert response.json()["error"] == "batch_too_large" and "1,000" in response.json()["message"]
    settings_env(api_max_body_bytes=500)
    big = {"qaid": "u", "name": "login", "properties": {"x": "y" * 600}}
    response = client.post("/api/v1/events", json=big, headers=tenant.auth)
    assert response.status_code == 413 and response.json()["error"] == "payload_too_large"

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds while streaming
        yield b'{"qaid": "u", "name": "login", "properties": {"x": "'
        for _ in range(10):
            yield b"y" * 100
        yield b'"}}'

    response = client.post("/api/v1/events", content=chunks(), headers=tenant.auth)
    assert response.status_code == 413
    assert _count(BehaviorEvent) == 0


def test_bad_bodies_are_400_or_422_and_store_nothing(client: TestClient, tenant: Tenant) -> None:
    response = client.post("/api/v1/events", content=b"{not json", headers=tenant.auth)
    assert response.status_code == 400 and response.json()["error"] == "invalid_json"
    response = client.post("/api/v1/events", content=b"", headers=tenant.auth)
    assert response.status_code == 400
    response = client.post("/api/v1/events", json={"events": [
        {"qaid": "ok", "name": "login"}, {"qaid": "", "name": "login"}, {"qaid": "x", "name": "y", "props": {}}]},
        headers=tenant.auth)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid_events" and body["message"].startswith("No events were accepted")
    assert [(e["index"], e["field"]) for e in body["errors"]] == [(1, "qaid"), (2, "props")]
    response = client.post("/api/v1/events", json={"events": [], "extra": 1}, headers=tenant.auth)
    assert response.status_code == 422 and "extra" in response.json()["message"]
    response = client.post("/api/v1/events", json="login", headers=tenant.auth)
    assert response.status_code == 422
    assert _count(BehaviorEvent) == 0 and _count(Customer) == 0


def test_event_reaches_the_entry_hook_of_a_running_activity(client: TestClient, tenant: Tenant,
                                                            redis_url: str) -> None:
    with db.write_session() as s:
        owner = s.get(User, tenant.admin_id)
        activity = f.activity(s, owner, status=ActivityStatus.IN_PROGRESS, flow=event_flow("add_to_cart"))
        activity_id = activity.id
    calls: list[tuple[int, list[Any]]] = []
    unregister = ev.register_entry_hook(lambda ws, events: calls.append((ws, events)))
    try:
        response = client.post("/api/v1/events", json={"events": [
            {"qaid": "buyer", "name": "add_to_cart", "properties": {"sku": "S1"}}, {"qaid": "buyer", "name": "login"}]},
            headers=tenant.auth)
    finally:
        unregister()
    assert response.status_code == 202 and response.json()["triggering"] == 1
    assert len(calls) == 1 and calls[0][0] == tenant.workspace_id
    assert [(name, props) for _, name, props, _ in calls[0][1]] == [("add_to_cart", {"sku": "S1"})]
    with db.read_session() as s:
        assert index.event_triggers(session=s, workspace_id=tenant.workspace_id) == {"add_to_cart": [activity_id]}


# ---------------------------------------------------------------- audiences


def test_audience_import(client: TestClient, tenant: Tenant, settings_env: Any) -> None:
    csv_text = "qaid,name,tag:level\nA1,Ann,gold\nA2,Bob,silver\n"
    response = client.post("/api/v1/audiences/import", params={"name": "From API"}, content=csv_text,
                           headers={**tenant.auth, "Content-Type": "text/csv"})
    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "From API" and body["members"] == 2 and body["customers_created"] == 2
    assert _count(AudienceMember, AudienceMember.audience_id == body["audience_id"]) == 2
    with db.read_session() as s:
        assert s.get(Audience, body["audience_id"]).source == "API import"
    assert _count(CustomerTag) == 2

    again = client.post("/api/v1/audiences/import?name=From%20API", content=csv_text, headers=tenant.auth)
    assert again.status_code == 409 and again.json()["error"] == "conflict"
    bad = client.post("/api/v1/audiences/import?name=Bad", headers=tenant.auth,
                      content="qaid,email\nB1,nope\nB2,b@example.com\n,c@example.com\n")
    assert bad.status_code == 422 and bad.json()["error"] == "invalid_csv"
    assert [e["line"] for e in bad.json()["errors"]] == [2, 4]
    unnamed = client.post("/api/v1/audiences/import", content=csv_text, headers=tenant.auth)
    assert unnamed.status_code == 422 and unnamed.json()["error"] == "invalid_name"
    latin = client.post("/api/v1/audiences/import?name=L", content="qaid,name\nA,\xe9\n".encode("latin-1"),
                        headers=tenant.auth)
    assert latin.status_code == 422 and "UTF-8" in latin.json()["message"]
    upload = client.post("/api/v1/audiences/import?name=Upload", headers=tenant.auth,
                         files={"file": ("list.csv", b"qaid\nA1\nA2\n", "text/csv")})
    assert upload.status_code == 201 and upload.json()["members"] == 2
    no_file = client.post("/api/v1/audiences/import?name=NoFile", headers=tenant.auth, data={"other": "x"},
                          files={"x": ("a.csv", b"qaid\nA1\n", "text/csv")})
    assert no_file.status_code == 422
    assert client.post("/api/v1/audiences/import?name=X", content=csv_text).status_code == 401
    settings_env(api_max_csv_bytes=20)
    big = client.post("/api/v1/audiences/import?name=Big", content=csv_text, headers=tenant.auth)
    assert big.status_code == 413
    assert _count(Audience) == 2


# ---------------------------------------------------------------- receipts


SIMULATOR_RECEIPTS = {"receipts": [
    {"id": "5:n2:9", "provider_id": "p-1", "channel": "text_sms", "customer_id": 9, "status": "delivered",
     "reason": None, "at": "2026-05-01T00:00:00+00:00"},
    {"id": "5:n2:10", "provider_id": "p-2", "channel": "text_sms", "customer_id": 10, "status": "failed",
     "reason": "Number does not exist", "at": "2026-05-01T00:00:00+00:00"},
]}


def test_receipts_without_and_with_a_hook(client: TestClient) -> None:
    client.headers["Authorization"] = f"Bearer {RECEIPT_TOKEN}"  # the tests' token (tests/conftest.py)
    response = client.post("/api/v1/receipts", json=SIMULATOR_RECEIPTS)
    assert response.status_code == 202 and response.json() == {"accepted": 2, "stored": False}
    got: list[list[ev.Receipt]] = []
    unregister = ev.register_receipt_hook(got.append)
    try:
        response = client.post("/api/v1/receipts", json=[{"message_id": "7:n1:3", "status": "delivered"}])
        assert response.status_code == 202 and response.json() == {"accepted": 1, "stored": True}
        bad = client.post("/api/v1/receipts", json=[{"message_id": "7-n1-3", "status": "delivered"}])
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "message_id"
        too_many = client.post("/api/v1/receipts", json=[{"message_id": "7:n1:3", "status": "delivered"}] * 1001)
        assert too_many.status_code == 413
    finally:
        unregister()
    assert got == [[ev.Receipt("7:n1:3", 7, "n1", 3, "delivered")]]


def test_receipts_always_need_the_token(client: TestClient) -> None:
    """No token setting is needed for the check: there is always a token (tests/conftest.py sets one; a machine
    without RECEIPT_CALLBACK_TOKEN generates one: test_receipt_token.py)."""
    missing = client.post("/api/v1/receipts", json=SIMULATOR_RECEIPTS)
    assert missing.status_code == 401 and missing.json()["error"] == "invalid_receipt_token"
    assert missing.headers["www-authenticate"] == "Bearer"
    wrong = client.post("/api/v1/receipts", json=SIMULATOR_RECEIPTS, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_receipt_token"
    workspace_key = client.post("/api/v1/receipts", json=SIMULATOR_RECEIPTS, headers={"Authorization": f"Bearer {KEY}"})
    assert workspace_key.status_code == 401  # a workspace's API key is not a provider's token
    basic = client.post("/api/v1/receipts", json=SIMULATOR_RECEIPTS, headers={"Authorization": "Basic eDp5"})
    assert basic.status_code == 401
    right = client.post("/api/v1/receipts", json=SIMULATOR_RECEIPTS,
                        headers={"Authorization": f"Bearer {RECEIPT_TOKEN}"})
    assert right.status_code == 202 and right.json()["accepted"] == 2


def test_receipt_token_and_failing_hook(client: TestClient, settings_env: Any) -> None:
    settings_env(receipt_callback_token="s3cret-token")
    assert client.post("/api/v1/receipts", json=SIMULATOR_RECEIPTS).status_code == 401
    wrong = client.post("/api/v1/receipts", json=SIMULATOR_RECEIPTS, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_receipt_token"
    good = client.post("/api/v1/receipts", json=SIMULATOR_RECEIPTS, headers={"Authorization": "Bearer s3cret-token"})
    assert good.status_code == 202

    def broken(_receipts: list[ev.Receipt]) -> None:
        raise ConnectionError("redis down")

    unregister = ev.register_receipt_hook(broken)
    try:
        failed = client.post("/api/v1/receipts", json=SIMULATOR_RECEIPTS,
                             headers={"Authorization": "Bearer s3cret-token"})
    finally:
        unregister()
    assert failed.status_code == 503 and failed.json()["error"] == "receipt_handler_failed"


# ---------------------------------------------------------------- misc


def test_health_and_json_404_405(client: TestClient, redis_url: str) -> None:
    health = client.get("/health")
    assert health.status_code == 200 and health.json() == {"status": "ok", "database": "ok", "redis": "ok"}
    missing = client.get("/api/v1/nothing")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    wrong = client.get("/api/v1/events")
    assert wrong.status_code == 405 and wrong.json()["error"] == "method_not_allowed"


def test_health_reports_redis_down(client: TestClient, settings_env: Any) -> None:
    settings_env(redis_url=f"redis://127.0.0.1:{free_port()}/0")
    health = client.get("/health")
    assert health.status_code == 200 and health.json()["redis"] == "unavailable"


def test_real_uvicorn_process(tenant: Tenant, database: str) -> None:
    """`python -m engine.api` serves the same app on a real socket."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database, "API_PORT": str(port),
           "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}
    proc = subprocess.Popen([sys.executable, "-m", "engine.api"], cwd=PROJECT_ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
        else:
            proc.terminate()
            pytest.fail(f"the API did not start: {proc.communicate(timeout=5)[1].decode()[-2000:]}")
        response = httpx.post(f"{base}/api/v1/events", headers=tenant.auth, timeout=5,
                              json={"events": [{"qaid": "real", "name": "login"}] * 3})
        assert response.status_code == 202 and response.json()["accepted"] == 3
        assert httpx.post(f"{base}/api/v1/events", json={"qaid": "a", "name": "b"}, timeout=5).status_code == 401
        # a Segment SDK's request: basic auth with the write key, gzip body, a batch
        body = gzip.compress(json.dumps({"batch": [{"type": "track", "userId": "real", "event": "login",
                                                    "messageId": "m-1"}], "sentAt": "2026-01-01T00:00:00Z"}).encode())
        segment = httpx.post(f"{base}/v1/batch", auth=(tenant.key, ""), content=body, timeout=5,
                             headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})
        assert segment.status_code == 200 and segment.json() == {"success": True}
        assert "/v1/batch" in httpx.get(f"{base}/openapi.json", timeout=5).json()["paths"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert _count(BehaviorEvent, BehaviorEvent.workspace_id == tenant.workspace_id) == 4
