"""Fixtures for the HTTP API tests: a migrated database with a workspace and its key, a TestClient, and a real
redis-server (module-scoped) for the trigger index and the rate limit."""

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from starlette.testclient import TestClient

from engine import db
from engine.api.app import create_app
from engine.api.keys import set_api_key
from engine.models import Role
from tests import factories as f

KEY = "amk_test_key_0123456789abcdef"


@dataclass
class Tenant:
    workspace_id: int
    admin_id: int
    key: str = KEY

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


@pytest.fixture
def tenant(database: str) -> Tenant:
    with db.write_session() as s:
        ws = f.workspace(s)
        admin = f.user(s, ws, Role.ADMIN)
        set_api_key(session=s, workspace_id=ws.id, key=KEY)
        return Tenant(workspace_id=ws.id, admin_id=admin.id)


@pytest.fixture
def client(tenant: Tenant, redis_url: str) -> Iterator[TestClient]:
    """The app on the test's own redis-server (the rate limit counts there, never in a Redis of the machine's)."""
    with TestClient(create_app(), raise_server_exceptions=False) as c:
        yield c


