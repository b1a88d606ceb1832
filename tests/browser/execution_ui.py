"""What the execution browser tests share: activities arranged through the services on the live stack's database
(tests/browser/live.py), behaviour events sent to its API, the execution view as the engine computes it, and
reads of the numbers the canvas draws (`#exec-<node>` with data-* attributes)."""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, col, select

from engine import db
from engine.demo_customers import DEMO_API_KEY
from engine.models import Activity, Customer, ExecutionRecord, Schedule, User
from engine.services import activities as svc
from engine.services.activities import ActivityInput
from engine.services.audiences import create_static_audience
from engine.services.execution import ExecutionView, execution_view
from tests.browser.live import LiveStack, live_stack


def module_stack(*, receipt_delay: float = 0.5, settings: dict[str, str] | None = None) -> Any:
    """The `stack` fixture of a browser test file on the live engine: one running stack (tests/browser/live.py) per
    file, and this process's sessions on its database. `stack = module_stack(...)` at the file's top level."""
    from tests.browser.conftest import WEB_DIR

    @pytest.fixture(scope="module")
    def stack(tmp_path_factory: pytest.TempPathFactory, redis_server: str) -> Iterator[LiveStack]:
        with live_stack(tmp_path_factory.mktemp("live"), Path(WEB_DIR), redis_server, receipt_delay=receipt_delay,
                        settings=settings) as running, live_db():
            yield running

    return stack


@contextmanager
def live_db() -> Iterator[None]:
    """Sessions of this process on the live stack's database (DATABASE_URL as live_stack set it)."""
    db.reset_engine()
    try:
        yield
    finally:
        db.reset_engine()


def actor(session: Session, username: str) -> User:
    return session.exec(select(User).where(User.username == username)).one()


def node(nid: str, type_: str, x: int, y: int = 0, **config: Any) -> dict[str, Any]:
    return {"id": nid, "type": type_, "config": config, "position": {"x": x, "y": y}}


def edge(source: str, target: str, branch: str = "out") -> dict[str, str]:
    return {"source": source, "branch": branch, "target": target}


def customers(count: int, offset: int = 0) -> list[Customer]:
    with db.read_session() as session:
        return list(session.exec(select(Customer).order_by(col(Customer.id)).offset(offset).limit(count)).all())


def audience_of(name: str, people: list[Customer], username: str = "marketer") -> int:
    with db.write_session() as session:
        ws = actor(session, username).workspace_id
        return int(create_static_audience(session=session, workspace_id=ws, name=name,
                                          customer_ids=[int(c.id) for c in people]).id)  # type: ignore[arg-type]


def publish(name: str, flow: dict[str, Any], *, username: str = "marketer", public: bool = False,
            schedule: Schedule = Schedule.ONCE, **fields: Any) -> int:
    """A new activity of `username` on `flow`, published now (In Progress); returns its id."""
    with db.write_session() as session:
        user = actor(session, username)
        created = svc.create_activity(session=session, actor=user, flow=flow,
                                      data=ActivityInput(name=name, schedule=schedule, **fields))
        created.is_public = public
        session.add(created)
        svc.publish(session=session, actor=user, activity_id=int(created.id))  # type: ignore[arg-type]
        return int(created.id)  # type: ignore[arg-type]


def rounds(activity_id: int) -> list[ExecutionRecord]:
    with db.read_session() as session:
        return list(session.exec(select(ExecutionRecord).where(ExecutionRecord.activity_id == activity_id)
                                 .order_by(col(ExecutionRecord.number))).all())


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def view(username: str, activity_id: int, **kw: Any) -> ExecutionView:
    with db.read_session() as session:
        return execution_view(session=session, actor=actor(session, username), activity_id=activity_id, **kw)


def activity(activity_id: int) -> Activity:
    with db.read_session() as session:
        found = session.get(Activity, activity_id)
        assert found is not None
        return found


def send_events(stack: LiveStack, qaids: list[str], name: str) -> None:
    """Behaviour events through the engine's HTTP API, as a customer's app would send them."""
    response = httpx.post(f"http://127.0.0.1:{stack.env['API_PORT']}/api/v1/events",
                          headers={"Authorization": f"Bearer {DEMO_API_KEY}"},
                          json={"events": [{"qaid": q, "name": name} for q in qaids]}, timeout=30)
    assert response.status_code < 300, response.text


def exec_bar(page: Page, node_id: str):  # noqa: ANN201 — a Locator
    return page.locator(f"#exec-{node_id}")


def expect_numbers(page: Page, expected: ExecutionView) -> None:
    """Every component's numbers on the canvas are the engine's (data-* attributes and the shown values)."""
    for nid, data in expected.nodes.items():
        bar = exec_bar(page, nid)
        for key, value in data.values:
            expect(bar).to_have_attribute(f"data-{key}", str(value))
            if key != "winner":
                expect(bar.locator(f'[data-item="{key}"] .fc-exec-value')).to_have_text(f"{value:,}")
