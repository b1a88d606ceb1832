"""The consent endpoints over HTTP: POST /api/v1/consent (API key; one item, a list or {"consents": [...]}; all or
nothing with every problem named), GET/POST /u/{code} (an email's unsubscribe link: no login, opts out of email,
a small page; an altered code changes nothing), and both in the OpenAPI document."""

from sqlmodel import select
from starlette.testclient import TestClient

from engine import db
from engine.components.unsubscribe import unsubscribe_code
from engine.models import ConsentChange, Customer, CustomerConsent
from tests.engine.api.conftest import Tenant


def current() -> list[tuple[str, str, str, str]]:
    with db.read_session() as s:
        return sorted((q, r.channel, r.status, r.source) for r, q in s.exec(
            select(CustomerConsent, Customer.qaid).join(Customer, Customer.id == CustomerConsent.customer_id)))


def test_the_api_sets_consent_all_or_nothing(client: TestClient, tenant: Tenant) -> None:
    assert client.post("/api/v1/consent", json={"qaid": "u1", "channel": "email", "status": "opted_out"}).status_code \
        == 401
    bad = client.post("/api/v1/consent", headers=tenant.auth, json={"consents": [
        {"qaid": "u1", "channel": "email", "status": "opted_out"},
        {"qaid": "u2", "channel": "email", "status": "nope"},
        {"qaid": "u3", "channel": "email", "status": "opted_out", "extra": 1}]})
    assert bad.status_code == 422
    assert [(e["index"], e["field"]) for e in bad.json()["errors"]] == [(1, "status"), (2, "extra")]
    wrong_channel = client.post("/api/v1/consent", headers=tenant.auth, json=[
        {"qaid": "u1", "channel": "email", "status": "opted_out"},
        {"qaid": "u1", "channel": "fax", "status": "opted_out"}])
    assert wrong_channel.status_code == 422
    assert "Item 1: Unknown channel 'fax'" in wrong_channel.json()["message"]
    assert current() == []

    one = client.post("/api/v1/consent", headers=tenant.auth, json={"qaid": "u1", "channel": "email",
                                                                   "status": "opted_out"})
    assert one.status_code == 200 and one.json() == {"changed": 1, "unchanged": 0, "customers_created": 1}
    many = client.post("/api/v1/consent", headers=tenant.auth, json={"consents": [
        {"qaid": "u1", "channel": "email", "status": "opted_out"},
        {"qaid": 7, "channel": "text_sms", "status": "opted_in"}]})
    assert many.json() == {"changed": 1, "unchanged": 1, "customers_created": 1}
    assert current() == [("7", "text_sms", "opted_in", "api"), ("u1", "email", "opted_out", "api")]


def test_the_unsubscribe_link_opts_out_of_email_without_login(client: TestClient, tenant: Tenant) -> None:
    with db.write_session() as s:
        customer = Customer(workspace_id=tenant.workspace_id, qaid="reader", email="r@shop.example")
        s.add(customer)
        s.flush()
        cid = int(customer.id)  # type: ignore[arg-type]
    code = unsubscribe_code(cid, 42)
    altered = code[:-6] + ("A" if code[-6] != "A" else "B") + code[-5:]
    refused = client.get(f"/u/{altered}")
    assert refused.status_code == 404 and "not valid" in refused.text
    assert client.get("/u/123").status_code == 404
    assert current() == []

    page = client.get(f"/u/{code}")
    assert page.status_code == 200 and "You are unsubscribed" in page.text
    assert current() == [("reader", "email", "opted_out", "unsubscribe_link")]
    assert client.post(f"/u/{code}").status_code == 200  # one-click, and again: nothing more recorded
    with db.read_session() as s:
        notes = [c.note for c in s.exec(select(ConsentChange))]
    assert notes == ["round 42"]


def test_the_openapi_document_describes_them(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    assert set(doc["paths"]["/u/{code}"]) == {"get", "post"}
    post = doc["paths"]["/api/v1/consent"]["post"]
    assert post["security"] == [{"apiKey": []}]
    schemas = doc["components"]["schemas"]
    assert {"ConsentItem", "ConsentBatch", "ConsentApplied"} <= set(schemas)
    assert schemas["ConsentItem"]["properties"]["status"]["enum"] == ["opted_in", "opted_out", "unknown"]
