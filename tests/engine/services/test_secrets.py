"""Secret fields stay secret: stored apart and encrypted, never in a flow anyone reads, dropped on copy and on
templates (the copy must set its own), set only through the write-only path."""

import json
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from engine import secrets as engine_secrets
from engine.components.push_kafka import _options
from engine.components.registry import get_component
from engine.components.secret import SecretRef
from engine.errors import Forbidden, Invalid, NotFound
from engine.flow import templates
from engine.flow.validate import validate_flow
from engine.models import Role, SecretValue
from engine.services import activities as svc
from engine.services import secrets as secret_service
from engine.services import versions
from engine.services.activities import ActivityInput
from tests import factories as f

SIGNING = "sign-me-9f3a7c"
TOKEN = "Bearer tok-5d1e88"
API_KEY = "key-77ab01"


def webhook_flow(secret: object = SIGNING, auth: object = TOKEN) -> dict:
    flow = f.valid_flow()
    flow["nodes"][1] = {"id": "n2", "type": "webhook", "position": {"x": 200, "y": 0},
                        "config": {"url": "https://crm.example.com/in", "secret": secret,
                                   "headers": {"Authorization": auth, "X-Api-Key": API_KEY, "X-Source": "qa"}}}
    return flow


def leaks(value: object) -> list[str]:
    dumped = json.dumps(value, default=str)
    return [s for s in (SIGNING, TOKEN, API_KEY) if s in dumped]


@pytest.fixture
def ws(session: Session):
    return f.workspace(session)


@pytest.fixture
def alice(session: Session, ws):
    return f.user(session, ws, Role.MARKETER, name="alice")


def _public_webhook_activity(session: Session, owner) -> int:
    activity = svc.create_activity(session=session, actor=owner, data=ActivityInput(name="CRM push"),
                                   flow=webhook_flow(), is_public=True)
    svc.publish(session=session, actor=owner, activity_id=activity.id)
    return int(activity.id)


def test_a_manager_reading_versions_sees_markers_never_the_values(session: Session, ws, alice) -> None:
    activity_id = _public_webhook_activity(session, alice)
    manager = f.user(session, ws, Role.MANAGER)
    rows = versions.list_versions(session=session, actor=manager, activity_id=activity_id)
    flow = versions.view_version(session=session, actor=manager, version_id=rows[0].id)
    assert leaks(flow) == []
    config = flow["nodes"][1]["config"]
    assert set(config["secret"]) == {"$secret"} and set(config["headers"]["Authorization"]) == {"$secret"}
    assert config["headers"]["X-Source"] == "qa"  # an ordinary header is not a secret
    assert leaks(svc.current_flow(session=session, activity=session.get(svc.Activity, activity_id))) == []
    assert validate_flow(flow) == []  # stored markers are a configured component


def test_another_marketer_copying_a_public_activity_gets_no_secret(session: Session, ws, alice) -> None:
    activity_id = _public_webhook_activity(session, alice)
    bob = f.user(session, ws, Role.MARKETER, name="bob")
    copy = svc.copy_activity(session=session, actor=bob, activity_id=activity_id)
    flow = svc.current_flow(session=session, activity=copy)
    config = flow["nodes"][1]["config"]
    assert leaks(flow) == []
    assert config["secret"] == {"$secret": None} and config["headers"]["Authorization"] == {"$secret": None}
    assert config["headers"]["X-Source"] == "qa"
    messages = [p.message for p in validate_flow(flow)]
    assert any("Signing secret" in m or "secret: not copied" in m for m in messages), messages
    with pytest.raises(Invalid, match="not copied with the activity: set your own"):
        svc.publish(session=session, actor=bob, activity_id=copy.id)
    # Bob owns no secret of Alice's: none of the copy's markers names one, and there is no row for the copy
    assert session.exec(select(SecretValue).where(SecretValue.activity_id == copy.id)).all() == []


def test_a_copy_cannot_borrow_the_original_s_secret_by_naming_it(session: Session, ws, alice) -> None:
    activity_id = _public_webhook_activity(session, alice)
    stolen = versions.view_version(session=session, actor=alice, version_id=versions.list_versions(
        session=session, actor=alice, activity_id=activity_id)[0].id)["nodes"][1]["config"]["secret"]
    bob = f.user(session, ws, Role.MARKETER, name="bob")
    copy = svc.copy_activity(session=session, actor=bob, activity_id=activity_id)
    svc.save_draft(session=session, actor=bob, activity_id=copy.id, flow=webhook_flow(secret=stolen, auth=""))
    config = svc.current_flow(session=session, activity=copy)["nodes"][1]["config"]
    assert config["secret"] == {"$secret": None}  # another activity's secret: treated as not copied


def test_copying_a_version_and_a_template_drop_the_secrets(session: Session, alice, monkeypatch) -> None:
    activity_id = _public_webhook_activity(session, alice)
    v1 = versions.list_versions(session=session, actor=alice, activity_id=activity_id)[0]
    copy = versions.copy_version(session=session, actor=alice, version_id=v1.id)
    assert svc.current_flow(session=session, activity=copy)["nodes"][1]["config"]["secret"] == {"$secret": None}
    template = templates.Template(key="crm_push", name="CRM push", description="", flow=webhook_flow())
    monkeypatch.setitem(templates.BY_KEY, template.key, template)
    made = svc.create_from_template(session=session, actor=alice, data=ActivityInput(name="From template"),
                                    template_key="crm_push")
    flow = svc.current_flow(session=session, activity=made)
    assert leaks(flow) == [] and flow["nodes"][1]["config"]["headers"]["Authorization"] == {"$secret": None}
    for preset in templates.TEMPLATES:  # the shipped templates carry no secret value at all
        assert secret_service.drop(preset.flow) == secret_service.drop(secret_service.drop(preset.flow))


def test_the_stored_row_is_encrypted(session: Session, alice, database: str) -> None:
    activity_id = _public_webhook_activity(session, alice)
    session.commit()
    raw = session.execute(text("SELECT field, ciphertext FROM secretvalue WHERE activity_id = :a"),
                          {"a": activity_id}).all()
    assert sorted(field for field, _ in raw) == ["headers.Authorization", "headers.X-Api-Key", "secret"]
    for _, blob in raw:
        assert not any(s.encode() in bytes(blob) for s in (SIGNING, TOKEN, API_KEY))
    assert sorted(engine_secrets.decrypt(blob) for _, blob in raw) == sorted([SIGNING, TOKEN, API_KEY])
    if database.startswith("sqlite"):  # nowhere in the database's files either (main file and write-ahead log)
        path = Path(database.split("///", 1)[1])
        files = b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
        assert files and not any(s.encode() in files for s in (SIGNING, TOKEN, API_KEY))


def test_set_secret_is_write_only_and_checked(session: Session, ws, alice) -> None:
    activity = svc.create_activity(session=session, actor=alice, data=ActivityInput(name="A"),
                                   flow=webhook_flow(secret="", auth=""))
    session.commit()
    ref = secret_service.set_secret(session=session, actor=alice, activity_id=activity.id, node_id="n2",
                                    node_type="webhook", path="secret", value="fresh-secret-1")
    assert set(ref) == {"$secret"} and "fresh-secret-1" not in json.dumps(ref)
    session.commit()  # the channel reads it in its own session
    assert engine_secrets.reveal(SecretRef(id=ref["$secret"])) == "fresh-secret-1"
    with pytest.raises(Invalid, match="At least 8"):
        secret_service.set_secret(session=session, actor=alice, activity_id=activity.id, node_id="n2",
                                  node_type="webhook", path="secret", value="short")
    with pytest.raises(Invalid, match="not a secret field"):
        secret_service.set_secret(session=session, actor=alice, activity_id=activity.id, node_id="n2",
                                  node_type="webhook", path="url", value="https://elsewhere.example")
    with pytest.raises((Forbidden, NotFound)):
        secret_service.set_secret(session=session, actor=f.user(session, ws, Role.MANAGER),
                                  activity_id=activity.id, node_id="n2", node_type="webhook", path="secret",
                                  value="manager-secret")


def test_deleting_an_activity_deletes_its_secrets(session: Session, alice) -> None:
    activity = svc.create_activity(session=session, actor=alice, data=ActivityInput(name="A"), flow=webhook_flow())
    assert session.exec(select(SecretValue).where(SecretValue.activity_id == activity.id)).all()
    svc.delete_activity(session=session, actor=alice, activity_id=activity.id)
    assert session.exec(select(SecretValue)).all() == []


def test_kafka_sasl_password_is_a_secret_resolved_only_for_the_producer() -> None:
    kafka = get_component("push_kafka")
    config = {"bootstrap_servers": "k1:9093", "topic": "buyers", "security_protocol": "SASL_SSL",
              "sasl_username": "svc", "sasl_password": {"$secret": None}}
    assert kafka.validate(config) == ["sasl_password: not copied with the activity: set your own"]
    config["sasl_password"] = "kafka-pass-1"
    options = _options(kafka.parse(config))
    assert "kafka-pass-1" not in json.dumps(options, default=str)
    assert engine_secrets.revealed(options["kafka_config"])["sasl.password"] == "kafka-pass-1"
    assert kafka.validate({**config, "sasl_password": None}) == ["sasl_password: required with SASL"]
